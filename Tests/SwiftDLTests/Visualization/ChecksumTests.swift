import Testing
@testable import SwiftDL

@Suite struct ChecksumTests {
    private func crc(_ text: String) -> UInt32 { Array(text.utf8).withUnsafeBufferPointer { CRC32.checksum($0) } }
    private func adler(_ bytes: [UInt8]) -> UInt32 { bytes.withUnsafeBufferPointer { Adler32.checksum($0) } }

    @Test func crc32OfKnownStrings() {
        #expect(crc("123456789") == 0xCBF4_3926)
        // Every PNG file ends with the IEND chunk, whose CRC (of the type, no data) is AE 42 60 82.
        #expect(crc("IEND") == 0xAE42_6082)
        #expect(crc("") == 0)
    }

    @Test func adler32OfKnownStrings() {
        #expect(adler(Array("Wikipedia".utf8)) == 0x11E6_0398)
        #expect(adler([]) == 1)
        #expect(adler(Array("abc".utf8)) == 0x024D_0127)
    }

    /// Long inputs, where the sums are reduced every 5552 bytes, against the definition reduced
    /// after every byte.
    @Test func adler32OfLongInputMatchesTheDefinition() {
        var generator = DLRandomGenerator(seed: 7)
        for count in [5551, 5552, 5553, 100_000] {
            let bytes = (0..<count).map { k in k % 3 == 0 ? 255 : UInt8.random(in: 0...255, using: &generator) }
            var a: UInt32 = 1, b: UInt32 = 0
            for byte in bytes {
                a = (a + UInt32(byte)) % 65521
                b = (b + a) % 65521
            }
            #expect(adler(bytes) == b << 16 | a, "\(count) bytes")
        }
    }
}
