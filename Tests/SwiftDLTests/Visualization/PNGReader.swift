import CZlib

/// A problem found while reading a PNG file back in the tests.
struct PNGReadError: Error, CustomStringConvertible {
    let description: String
}

/// A PNG file read back independently of the encoder: every chunk's CRC-32 checked, the zlib
/// stream's header checked, the stream decompressed by zlib's `uncompress2` (which checks the
/// Adler-32; no bytes may follow it) to exactly the size the rows need, and the rows un-filtered.
struct PNGReader {
    /// The IHDR fields.
    let width, height, bitDepth, colorType, compressionMethod, filterMethod, interlaceMethod: Int
    /// The chunk types in file order.
    let chunkTypes: [String]
    /// The filter type of each row.
    let rowFilters: [UInt8]
    /// The un-filtered pixels, three bytes per pixel, row by row.
    let pixels: [UInt8]
    /// The IDAT chunks' data (the zlib stream).
    let zlibStream: [UInt8]

    init(_ file: [UInt8]) throws {
        guard file.prefix(8) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else {
            throw PNGReadError(description: "no PNG signature")
        }
        func bigEndian(_ offset: Int) -> Int {
            (0..<4).reduce(0) { $0 << 8 | Int(file[offset + $1]) }
        }
        var offset = 8, types: [String] = [], header: [UInt8] = [], stream: [UInt8] = []
        while offset < file.count {
            guard file.count - offset >= 12 else { throw PNGReadError(description: "truncated chunk at \(offset)") }
            let length = bigEndian(offset)
            guard file.count - offset - 12 >= length else { throw PNGReadError(description: "chunk at \(offset) too long") }
            let type = String(decoding: file[(offset + 4)..<(offset + 8)], as: UTF8.self)
            let data = Array(file[(offset + 8)..<(offset + 8 + length)])
            let crc = file.withUnsafeBufferPointer { crc32(0, $0.baseAddress! + offset + 4, uInt(4 + length)) }
            guard UInt32(bigEndian(offset + 8 + length)) == crc else {
                throw PNGReadError(description: "\(type) chunk's CRC does not match")
            }
            types.append(type)
            if type == "IHDR" { header = data }
            if type == "IDAT" { stream += data }
            offset += 12 + length
        }
        guard header.count == 13 else { throw PNGReadError(description: "IHDR has \(header.count) bytes") }
        func headerNumber(_ at: Int) -> Int { (0..<4).reduce(0) { $0 << 8 | Int(header[at + $1]) } }
        width = headerNumber(0)
        height = headerNumber(4)
        (bitDepth, colorType, compressionMethod, filterMethod, interlaceMethod) =
            (Int(header[8]), Int(header[9]), Int(header[10]), Int(header[11]), Int(header[12]))
        chunkTypes = types
        zlibStream = stream

        guard stream.count >= 6, (Int(stream[0]) << 8 | Int(stream[1])) % 31 == 0, stream[0] & 0x0F == 8 else {
            throw PNGReadError(description: "bad zlib header")
        }
        let rowLength = 3 * width
        // One byte more than the rows need, so that a stream holding too much is caught.
        var filtered = [UInt8](repeating: 0, count: height * (rowLength + 1) + 1)
        var filteredCount = uLongf(filtered.count), streamCount = uLong(stream.count)
        let status = filtered.withUnsafeMutableBufferPointer { output in
            stream.withUnsafeBufferPointer { uncompress2(output.baseAddress, &filteredCount, $0.baseAddress, &streamCount) }
        }
        guard status == Z_OK else { throw PNGReadError(description: "zlib's uncompress failed with status \(status)") }
        guard streamCount == stream.count else { throw PNGReadError(description: "bytes after the Adler-32") }
        guard Int(filteredCount) == height * (rowLength + 1) else {
            throw PNGReadError(description: "\(filteredCount) bytes of filtered rows for \(width)x\(height)")
        }
        var pixels = [UInt8](repeating: 0, count: height * rowLength), filters: [UInt8] = []
        for y in 0..<height {
            let filter = filtered[y * (rowLength + 1)]
            filters.append(filter)
            for i in 0..<rowLength {
                let x = filtered[y * (rowLength + 1) + 1 + i]
                let a = i >= 3 ? pixels[y * rowLength + i - 3] : 0
                let b = y > 0 ? pixels[(y - 1) * rowLength + i] : 0
                let c = i >= 3 && y > 0 ? pixels[(y - 1) * rowLength + i - 3] : 0
                let prediction: UInt8
                switch filter {
                case 0: prediction = 0
                case 1: prediction = a
                case 2: prediction = b
                case 4:
                    let p = Int(a) + Int(b) - Int(c)
                    let (pa, pb, pc) = (abs(p - Int(a)), abs(p - Int(b)), abs(p - Int(c)))
                    prediction = pa <= pb && pa <= pc ? a : pb <= pc ? b : c
                default: throw PNGReadError(description: "row \(y) has filter type \(filter), which the encoder never writes")
                }
                pixels[y * rowLength + i] = x &+ prediction
            }
        }
        self.pixels = pixels
        rowFilters = filters
    }
}
