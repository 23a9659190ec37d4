import Testing
@testable import SwiftDL

/// Writes deflate streams bit by bit, to make blocks that Python's zlib never writes (invalid
/// ones), with fixed Huffman codes (RFC 1951, 3.2.6).
private struct DeflateWriter {
    private(set) var bytes: [UInt8] = []
    private var bitCount = 0

    /// Writes `count` bits of `value`, least significant first.
    mutating func bits(_ value: Int, _ count: Int) {
        for k in 0..<count {
            if bitCount % 8 == 0 { bytes.append(0) }
            bytes[bytes.count - 1] |= UInt8((value >> k) & 1) << (bitCount % 8)
            bitCount += 1
        }
    }

    /// Writes a Huffman code, most significant bit first.
    mutating func code(_ code: Int, _ length: Int) {
        for k in stride(from: length - 1, through: 0, by: -1) { bits((code >> k) & 1, 1) }
    }

    /// Starts a fixed-Huffman block.
    mutating func fixedBlock(final: Bool) {
        bits(final ? 1 : 0, 1)
        bits(1, 2)
    }

    /// Writes a literal/length symbol with the fixed code.
    mutating func symbol(_ symbol: Int) {
        switch symbol {
        case 0..<144: code(0x30 + symbol, 8)
        case 144..<256: code(0x190 + symbol - 144, 9)
        case 256..<280: code(symbol - 256, 7)
        default: code(0xC0 + symbol - 280, 8)
        }
    }

    /// Writes a distance symbol with the fixed code.
    mutating func distance(_ symbol: Int) { code(symbol, 5) }
}

@Suite struct GzipTests {
    static let cases = ["empty", "stored", "fixed", "dynamic", "large", "two_members", "header_fields"]

    @Test(arguments: cases) func decompressesWhatPythonCompressed(_ name: String) throws {
        let (input, compressed, _) = try DataFixture().gzipCase(name)
        #expect(Gzip.isCompressed(compressed))
        let output = try Gzip.decompress(compressed)
        #expect(output.count == input.count, "\(name): \(output.count) bytes, expected \(input.count)")
        #expect(output == input, "\(name): the decompressed bytes differ")
    }

    @Test func notGzipData() {
        expectError(containing: "not gzip data", "empty") { _ = try Gzip.decompress([]) }
        expectError(containing: "not gzip data", "68 65", "1f 8b") { _ = try Gzip.decompress(Array("hello".utf8)) }
        #expect(!Gzip.isCompressed(Array("hello".utf8)))
        #expect(!Gzip.isCompressed([0x1F]))
    }

    @Test func corruptHeaders() throws {
        let (_, member, _) = try DataFixture().gzipCase("fixed")
        var method = member
        method[2] = 7
        expectError(containing: "compression method", "byte offset 2", "not deflate (8)") { _ = try Gzip.decompress(method) }
        var flags = member
        flags[3] = 0x20
        expectError(containing: "reserved flag bits", "byte offset 3") { _ = try Gzip.decompress(flags) }
        // The header of this case has an extra field, a name, a comment and a header CRC.
        var header = try DataFixture().gzipCase("header_fields").compressed
        let crcOffset = 10 + 2 + 6 + "name.idx".count + 1 + "a comment".count + 1
        header[crcOffset] ^= 0xFF
        expectError(containing: "header CRC mismatch", "byte offset \(crcOffset)") { _ = try Gzip.decompress(header) }
    }

    @Test func everyTruncationIsReported() throws {
        let fixture = try DataFixture()
        for name in ["fixed", "header_fields", "stored", "dynamic"] {
            let member = try fixture.gzipCase(name).compressed
            // Every cut of the small cases; about 200 cuts of the larger ones.
            let step = max(1, member.count / 200)
            for length in stride(from: 0, to: member.count, by: step) {
                let message = errorMessage(DLError.file) { _ = try Gzip.decompress(Array(member.prefix(length))) }
                let expected = length < 2 ? "not gzip data" : "truncated"
                #expect(message.contains(expected), "\(name) cut to \(length) bytes: \(message)")
            }
        }
        let member = try fixture.gzipCase("dynamic").compressed
        expectError(containing: "truncated", "8-byte trailer") { _ = try Gzip.decompress(Array(member.dropLast(3))) }
        let stored = try fixture.gzipCase("stored").compressed
        expectError(containing: "truncated", "byte offset 5000") { _ = try Gzip.decompress(Array(stored.prefix(5000))) }
    }

    @Test func checksumAndSizeMismatches() throws {
        let fixture = try DataFixture()
        var member = try fixture.gzipCase("dynamic").compressed
        member[member.count - 8] ^= 1
        expectError(containing: "CRC-32 mismatch", "byte offset \(member.count - 8)") { _ = try Gzip.decompress(member) }
        // A changed byte in a stored block is caught only by the CRC.
        var stored = try fixture.gzipCase("stored").compressed
        stored[1000] ^= 0x40
        expectError(containing: "CRC-32 mismatch", "the data is corrupt") { _ = try Gzip.decompress(stored) }
        var size = try fixture.gzipCase("dynamic").compressed
        size[size.count - 4] ^= 1
        expectError(containing: "size mismatch", "byte offset \(size.count - 4)") { _ = try Gzip.decompress(size) }
    }

    @Test func trailingBytesThatAreNotAMember() throws {
        let member = try DataFixture().gzipCase("fixed").compressed
        expectError(containing: "3 bytes after the member that ends at byte offset \(member.count)",
                    "not another gzip member") { _ = try Gzip.decompress(member + Array("xyz".utf8)) }
    }

    /// Corrupt deflate data is reported with zlib's reason and the member it is in.
    @Test func invalidDeflateBlocks() {
        let header: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF]
        func expectCorrupt(_ deflate: [UInt8], _ reason: String) {
            expectError(containing: "gzip: corrupt deflate data in the member that starts at byte offset 0", reason) {
                _ = try Gzip.decompress(header + deflate + Array(repeating: 0, count: 16))
            }
        }
        // Block type 3 is reserved.
        expectCorrupt([0x07], "invalid block type")
        // A stored block whose length's complement is wrong.
        expectCorrupt([0x01, 0x05, 0x00, 0x00, 0x00] + Array(repeating: 0, count: 20), "invalid stored block lengths")
        // A copy from before the start of the data.
        var far = DeflateWriter()
        far.fixedBlock(final: true)
        far.symbol(Int(UInt8(ascii: "a")))
        far.symbol(257)  // length 3
        far.distance(1)  // distance 2, but one byte is written
        far.symbol(256)
        expectCorrupt(far.bytes, "invalid distance too far back")
        // Length symbols 286 and 287 and distance symbols 30 and 31 have fixed codes but no meaning.
        var length = DeflateWriter()
        length.fixedBlock(final: true)
        length.symbol(286)
        expectCorrupt(length.bytes, "invalid literal/length code")
        var distance = DeflateWriter()
        distance.fixedBlock(final: true)
        distance.symbol(Int(UInt8(ascii: "a")))
        distance.symbol(257)
        distance.distance(30)
        expectCorrupt(distance.bytes, "invalid distance code")
        // A dynamic block declaring 287 literal/length codes (at most 286).
        var dynamic = DeflateWriter()
        dynamic.bits(1, 1)
        dynamic.bits(2, 2)
        dynamic.bits(30, 5)
        dynamic.bits(0, 5)
        dynamic.bits(0, 4)
        expectCorrupt(dynamic.bytes, "too many length or distance symbols")
        // A dynamic block whose code-length code is oversubscribed (three codes of one bit).
        var lengths = DeflateWriter()
        lengths.bits(1, 1)
        lengths.bits(2, 2)
        lengths.bits(0, 5)
        lengths.bits(0, 5)
        lengths.bits(0, 4)  // four code-length code lengths: for symbols 16, 17, 18 and 0
        for _ in 0..<3 { lengths.bits(1, 3) }
        lengths.bits(0, 3)
        expectCorrupt(lengths.bytes, "invalid code lengths set")
    }

    @Test func corruptedBytesNeverCrash() throws {
        // Every byte of the deflate data changed in turn: each gives an error, or (in the
        // unused bits of the last byte) the same contents.
        let (input, member, _) = try DataFixture().gzipCase("dynamic")
        var errors = 0
        for offset in 10..<(member.count - 8) {
            var corrupt = member
            corrupt[offset] ^= 0x5A
            do {
                #expect(try Gzip.decompress(corrupt) == input, "byte \(offset) changed")
            } catch let error as DLError {
                #expect(error.message.hasPrefix("gzip: "), "\(error.message)")
                errors += 1
            }
        }
        #expect(errors >= member.count - 18 - 1)
    }
}
