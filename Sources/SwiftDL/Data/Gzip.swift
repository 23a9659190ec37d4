import CZlib

/// Decompression of gzip data (RFC 1952), as IDX files are distributed, with the system's zlib:
/// every member is inflated and its CRC-32 and size checked.
///
/// ```swift
/// let bytes = try Gzip.decompress(compressed)   // what `gunzip` would write
/// ```
public enum Gzip {
    /// Whether `bytes` begin with gzip's magic bytes `1f 8b`: the contents tell whether data is
    /// compressed, not a file name.
    public static func isCompressed(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
    }

    /// The decompressed contents of gzip data: the contents of every member, concatenated, as
    /// `gunzip` writes them.
    ///
    /// - Throws: ``DLError/file(_:)`` for data that does not start with a gzip header, a
    ///   corrupt header (a method other than deflate, reserved flags, a wrong header CRC) or
    ///   deflate stream (zlib's reason is quoted), a CRC-32 or size that does not match the
    ///   contents, data that ends early, or bytes after the last member that are not another
    ///   member. The message says which check failed and where.
    public static func decompress(_ bytes: [UInt8]) throws -> [UInt8] {
        guard isCompressed(bytes) else {
            throw DLError.file(
                "not gzip data: it starts with \(bytes.isEmpty ? "no bytes (it is empty)" : hexBytes(bytes.prefix(2))); gzip data starts with the bytes 1f 8b")
        }
        let inflater = try Inflater()
        var output = [UInt8](repeating: 0, count: expectedSize(of: bytes))
        var written = 0
        try bytes.withUnsafeBufferPointer { input in
            var offset = 0
            repeat {
                guard offset == 0 || (input.count - offset >= 2 && input[offset] == 0x1F && input[offset + 1] == 0x8B)
                else {
                    throw DLError.file(
                        "gzip: \(input.count - offset) bytes after the member that ends at byte offset \(offset) are not another gzip member (they start with \(hexBytes(input[offset...].prefix(2))), a member starts with 1f 8b)")
                }
                offset = try inflater.inflateMember(of: input, at: offset, into: &output, written: &written)
            } while offset < input.count
        }
        output.removeSubrange(written...)
        return output
    }

    /// A capacity guess for the output: the size in the last member's trailer (the size modulo
    /// 2³², so only a hint), bounded by deflate's largest ratio of about 1032 to 1 and by 1 GiB
    /// (a larger output grows the buffer).
    private static func expectedSize(of input: [UInt8]) -> Int {
        guard input.count >= 18 else { return 1 << 16 }
        let stored = input.suffix(4).reversed().reduce(0) { $0 << 8 | Int($1) }
        return max(1 << 16, min(stored, input.count * 1032, 1 << 30))
    }
}

/// A zlib inflate stream that reads gzip members (window bits 15 + 16: gzip only, with the
/// header CRC, data CRC-32 and size checked by zlib).
///
/// zlib keeps the stream's address, so the stream lives in memory of its own, not in a Swift
/// value that may move; it is freed with the inflater.
///
/// Debian 12's zlib 1.2.13 loads MNIST's training images in 1.14 times the time of the
/// inflater SwiftDL had before (`mnist_load_ms` 285 → 326 ms, BENCHMARKS.md): its inner loop
/// copies matches byte by byte. The load happens once per run.
private final class Inflater {
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)

    init() throws {
        stream.initialize(to: z_stream())
        let status = inflateInit2_(stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {  // deinit frees the stream
            throw DLError.file("gzip: zlib could not start inflating (status \(status))")
        }
    }

    /// zlib's message about the last error, after a colon, or nothing.
    private var reason: String { stream.pointee.msg.map { ": " + String(cString: $0) } ?? "" }

    /// Inflates the member that starts at `start` into `output` from index `written` on
    /// (growing `output` as needed, advancing `written`), and returns the offset just after it.
    func inflateMember(of input: UnsafeBufferPointer<UInt8>, at start: Int,
                       into output: inout [UInt8], written: inout Int) throws -> Int {
        inflateReset(stream)
        var offset = start
        let outputStart = written
        while true {
            if written == output.count { output += repeatElement(0, count: max(output.count, 1 << 16)) }
            // zlib counts in 32-bit numbers: larger buffers go in parts. The output has room, so
            // zlib stops only at the member's end, at an error, or for want of input.
            let inputCount = min(input.count - offset, Int(UInt32.max))
            let outputCount = min(output.count - written, Int(UInt32.max))
            stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress! + offset)
            stream.pointee.avail_in = uInt(inputCount)
            let status = output.withUnsafeMutableBufferPointer { buffer in
                stream.pointee.next_out = buffer.baseAddress! + written
                stream.pointee.avail_out = uInt(outputCount)
                return inflate(stream, Z_NO_FLUSH)
            }
            offset += inputCount - Int(stream.pointee.avail_in)
            written += outputCount - Int(stream.pointee.avail_out)
            switch status {
            case Z_STREAM_END:
                return offset
            case Z_OK:
                continue
            case Z_BUF_ERROR where offset == input.count:
                throw DLError.file(
                    "gzip: truncated: the data ends at byte offset \(input.count), inside the member that starts at byte offset \(start) (before the end of its deflate data and its 8-byte trailer, CRC-32 and size)")
            case Z_DATA_ERROR:
                throw dataError(member: start, at: offset, contentCount: written - outputStart)
            default:
                throw DLError.file("gzip: zlib failed with status \(status)\(reason) in the member that starts at byte offset \(start)")
            }
        }
    }

    /// The error for corrupt data found by zlib before byte offset `offset`, in the member that
    /// starts at `member`: the checks of the trailer and header in words of their own, other
    /// problems (a bad block type, Huffman code or distance) in zlib's words.
    private func dataError(member: Int, at offset: Int, contentCount: Int) -> DLError {
        let message = stream.pointee.msg.map { String(cString: $0) } ?? "corrupt data"
        switch message {
        case "incorrect data check":
            return DLError.file(
                "gzip: CRC-32 mismatch: the trailer at byte offset \(offset - 4) does not match the CRC-32 of the \(contentCount) decompressed bytes of the member that starts at byte offset \(member); the data is corrupt")
        case "incorrect length check":
            return DLError.file(
                "gzip: size mismatch: the trailer at byte offset \(offset - 4) does not give the \(contentCount) bytes (modulo 2^32) that the member that starts at byte offset \(member) decompresses to; the data is corrupt")
        case "header crc mismatch":
            return DLError.file(
                "gzip: header CRC mismatch at byte offset \(offset - 2) in the header of the member that starts at byte offset \(member); the header is corrupt")
        case "unknown compression method":
            return DLError.file(
                "gzip: the compression method at byte offset \(member + 2) of the member that starts at byte offset \(member) is not deflate (8)")
        case "unknown header flags set":
            return DLError.file(
                "gzip: reserved flag bits are set in the flags byte at byte offset \(member + 3); the header is corrupt")
        default:
            return DLError.file(
                "gzip: corrupt deflate data in the member that starts at byte offset \(member), found before byte offset \(offset): \(message)")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }
}
