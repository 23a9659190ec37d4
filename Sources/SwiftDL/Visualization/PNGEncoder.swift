import CZlib

/// Encodes 8-bit RGB images as PNG files (ISO/IEC 15948): the signature, an IHDR chunk, one
/// IDAT chunk holding the zlib stream of the filtered rows (compressed by the system's zlib at
/// its default level), and an IEND chunk, each chunk with its CRC-32.
enum PNGEncoder {
    /// The eight bytes every PNG file starts with.
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// The PNG file of an image of `width` × `height` pixels, `pixels` holding three bytes
    /// (red, green, blue) per pixel, row by row from the top.
    static func encode(width: Int, height: Int, pixels: [UInt8]) -> [UInt8] {
        precondition(pixels.count == 3 * width * height, "an RGB image needs 3 bytes per pixel")
        let filtered = PNGRowFilter.filtered(pixels, width: width, height: height, bytesPerPixel: 3)
        let compressed = zlibStream(of: filtered)
        var file = signature
        file.reserveCapacity(signature.count + 3 * 12 + 13 + compressed.count)
        // Bit depth 8, color type 2 (RGB), compression 0, filter method 0, no interlacing.
        appendChunk("IHDR", bigEndian(UInt32(width)) + bigEndian(UInt32(height)) + [8, 2, 0, 0, 0], to: &file)
        appendChunk("IDAT", compressed, to: &file)
        appendChunk("IEND", [], to: &file)
        return file
    }

    /// The zlib stream (RFC 1950) of `data`, compressed at zlib's default level (6).
    ///
    /// Level 6 gives the file sizes of the DEFLATE encoder SwiftDL had before zlib, in 1.3
    /// times its time (`png_write_ms` 12.9 → 16.8 ms, BENCHMARKS.md); levels 1-3 or `Z_RLE`
    /// take about half as long as level 6 but make the sample grids and plots 10-40% larger.
    private static func zlibStream(of data: [UInt8]) -> [UInt8] {
        var compressed = [UInt8](repeating: 0, count: Int(compressBound(uLong(data.count))))
        var count = uLongf(compressed.count)
        let status = compressed.withUnsafeMutableBufferPointer { output in
            data.withUnsafeBufferPointer { input in
                compress2(output.baseAddress, &count, input.baseAddress, uLong(input.count), Z_DEFAULT_COMPRESSION)
            }
        }
        // compressBound leaves room for any input, so only running out of memory can fail.
        precondition(status == Z_OK, "zlib's compress2 failed with status \(status) (out of memory)")
        compressed.removeSubrange(Int(count)...)
        return compressed
    }

    /// Appends a chunk: the data's length, the type, the data, and the CRC-32 of type and data.
    private static func appendChunk(_ type: String, _ data: [UInt8], to file: inout [UInt8]) {
        file += bigEndian(UInt32(data.count))
        let start = file.count
        file += Array(type.utf8)
        file += data
        let crc = file.withUnsafeBufferPointer { crc32(0, $0.baseAddress! + start, uInt($0.count - start)) }
        file += bigEndian(UInt32(crc))
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) }
    }
}
