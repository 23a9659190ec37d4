/// zlib streams (RFC 1950), the compressed data of PNG images: a 2-byte header, the DEFLATE
/// stream, and the Adler-32 checksum of the uncompressed data.
enum Zlib {
    /// The header: CMF 0x78 (DEFLATE with a 32 KiB window) and FLG 0x9C (the default
    /// compression level, no preset dictionary, and check bits that make 0x789C a multiple of 31).
    static let header: [UInt8] = [0x78, 0x9C]

    /// The zlib stream of `data`.
    static func compress(_ data: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var writer = BitWriter(appendingTo: header, capacity: data.count / 4 + 64)
        Deflate.compress(data, into: &writer)
        let checksum = Adler32.checksum(data)
        return writer.bytes + (0..<4).map { UInt8(truncatingIfNeeded: checksum >> (24 - 8 * $0)) }
    }
}

/// The Adler-32 checksum of zlib (RFC 1950, 8.2): two sums modulo 65521, of the bytes plus one
/// and of those running sums, in one 32-bit number.
enum Adler32 {
    /// The Adler-32 of `bytes`.
    static func checksum(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        let modulus: UInt32 = 65521
        // 5552 bytes is the most that can be summed before the sums might pass 2^32.
        let chunk = 5552
        var a: UInt32 = 1, b: UInt32 = 0
        var start = 0
        while start < bytes.count {
            let end = min(start + chunk, bytes.count)
            for index in start..<end {
                a &+= UInt32(bytes[index])
                b &+= a
            }
            a %= modulus
            b %= modulus
            start = end
        }
        return b << 16 | a
    }
}
