/// Decompression of gzip data (RFC 1952) whose members hold deflate streams (RFC 1951), in
/// pure Swift: stored, fixed-Huffman and dynamic-Huffman blocks, with each member's CRC-32 and
/// size checked.
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
    ///   corrupt header or deflate stream (an invalid block type or Huffman code, a distance
    ///   reaching before the start of the data), a CRC-32 or size that does not match the
    ///   contents, data that ends early, or bytes after the last member that are not another
    ///   member. The message says which check failed and at which byte offset.
    public static func decompress(_ bytes: [UInt8]) throws -> [UInt8] {
        try bytes.withUnsafeBufferPointer { input in
            var inflater = Inflater(input: input, expectedSize: expectedSize(of: input))
            defer { inflater.deallocate() }
            var offset = 0
            repeat {
                guard offset == 0 || (input.count - offset >= 2 && input[offset] == 0x1F && input[offset + 1] == 0x8B)
                else {
                    throw DLError.file(
                        "gzip: \(input.count - offset) bytes after the member that ends at byte offset \(offset) are not another gzip member (they start with \(hexBytes(input[offset...].prefix(2))), a member starts with 1f 8b)")
                }
                offset = try decompressMember(of: input, at: offset, with: &inflater)
            } while offset < input.count
            return inflater.output.array()
        }
    }

    /// The contents of the raw deflate stream (RFC 1951) at the start of `bytes`, and the offset
    /// of the byte after it; for reading zlib streams (a PNG file's image data), which wrap a
    /// deflate stream in a 2-byte header and an Adler-32 checksum.
    ///
    /// - Throws: ``DLError/file(_:)`` for a corrupt or truncated deflate stream.
    static func inflate(_ bytes: [UInt8]) throws -> (contents: [UInt8], endOffset: Int) {
        try bytes.withUnsafeBufferPointer { input in
            var inflater = Inflater(input: input, expectedSize: 0)
            defer { inflater.deallocate() }
            let end = try inflater.inflate(from: 0)
            return (inflater.output.array(), end)
        }
    }

    /// A capacity guess for the output: the size in the last member's trailer (the size modulo
    /// 2³², so only a hint), bounded by deflate's largest ratio of about 1032 to 1 and by 1 GiB
    /// (a larger output grows the buffer).
    private static func expectedSize(of input: UnsafeBufferPointer<UInt8>) -> Int {
        guard input.count >= 18 else { return 0 }
        let stored = Int(readLittleEndian32(input, at: input.count - 4))
        return min(stored, input.count * 1032, 1 << 30)
    }

    /// Decompresses the member that starts at `start` into the inflater's output, checks its
    /// CRC-32 and size, and returns the offset just after it.
    private static func decompressMember(of input: UnsafeBufferPointer<UInt8>, at start: Int,
                                         with inflater: inout Inflater) throws -> Int {
        let dataStart = try headerEnd(of: input, at: start)
        let outputStart = inflater.output.count
        let dataEnd = try inflater.inflate(from: dataStart)
        guard input.count - dataEnd >= 8 else {
            throw DLError.file(
                "gzip: truncated: the 8-byte trailer (CRC-32 and size) after the deflate data that ends at byte offset \(dataEnd) is missing (the data has \(input.count - dataEnd) bytes left)")
        }
        let contents = UnsafeBufferPointer(rebasing: inflater.output.buffer[outputStart..<inflater.output.count])
        let expectedCRC = readLittleEndian32(input, at: dataEnd)
        let actualCRC = CRC32.checksum(contents)
        guard expectedCRC == actualCRC else {
            throw DLError.file(
                "gzip: CRC-32 mismatch: the trailer at byte offset \(dataEnd) says \(hexNumber(expectedCRC)), the \(contents.count) decompressed bytes have \(hexNumber(actualCRC)); the data is corrupt")
        }
        let expectedSize = readLittleEndian32(input, at: dataEnd + 4)
        guard expectedSize == UInt32(truncatingIfNeeded: contents.count) else {
            throw DLError.file(
                "gzip: size mismatch: the trailer at byte offset \(dataEnd + 4) says \(expectedSize) bytes (modulo 2^32), the deflate data gave \(contents.count); the data is corrupt")
        }
        return dataEnd + 8
    }

    /// Checks the member header at `start` (magic bytes, method, flags, optional fields and
    /// header CRC) and returns the offset of its deflate data.
    private static func headerEnd(of input: UnsafeBufferPointer<UInt8>, at start: Int) throws -> Int {
        func require(_ count: Int, at offset: Int, for field: String) throws {
            guard input.count - offset >= count else {
                throw DLError.file(
                    "gzip: truncated header: the \(field) needs \(count) bytes at byte offset \(offset), the data has \(max(0, input.count - offset))")
            }
        }
        guard input.count - start >= 2, input[start] == 0x1F, input[start + 1] == 0x8B else {
            throw DLError.file(
                "not gzip data: it starts with \(input.isEmpty ? "no bytes (it is empty)" : hexBytes(input.prefix(2))); gzip data starts with the bytes 1f 8b")
        }
        try require(10, at: start, for: "fixed header")
        guard input[start + 2] == 8 else {
            throw DLError.file(
                "gzip: compression method \(input[start + 2]) at byte offset \(start + 2) is not deflate (8)")
        }
        let flags = input[start + 3]
        guard flags & 0xE0 == 0 else {
            throw DLError.file(
                "gzip: reserved flag bits are set in the flags byte \(hexBytes([flags])) at byte offset \(start + 3); the header is corrupt")
        }
        var offset = start + 10
        if flags & 0x04 != 0 {  // FEXTRA: a 2-byte length, then that many bytes
            try require(2, at: offset, for: "extra field length")
            let length = Int(input[offset]) | Int(input[offset + 1]) << 8
            try require(2 + length, at: offset, for: "extra field")
            offset += 2 + length
        }
        for (flag, field) in [(UInt8(0x08), "file name"), (0x10, "comment")] where flags & flag != 0 {
            guard let end = input[offset...].firstIndex(of: 0) else {
                throw DLError.file(
                    "gzip: truncated header: the \(field) that starts at byte offset \(offset) has no terminating zero byte")
            }
            offset = end + 1
        }
        if flags & 0x02 != 0 {  // FHCRC: the low 16 bits of the CRC-32 of the header before it
            try require(2, at: offset, for: "header CRC")
            let stored = UInt16(input[offset]) | UInt16(input[offset + 1]) << 8
            let actual = UInt16(truncatingIfNeeded: CRC32.checksum(UnsafeBufferPointer(rebasing: input[start..<offset])))
            guard stored == actual else {
                throw DLError.file(
                    "gzip: header CRC mismatch at byte offset \(offset): stored \(hexNumber(stored)), the header has \(hexNumber(actual))")
            }
            offset += 2
        }
        return offset
    }
}

/// `bytes` as space-separated hexadecimal pairs, for messages.
func hexBytes(_ bytes: some Collection<UInt8>) -> String {
    bytes.map { byte in
        let digits = String(byte, radix: 16)
        return byte < 16 ? "0" + digits : digits
    }.joined(separator: " ")
}

/// `value` in hexadecimal with all its digits, as `0x00000803`, for messages.
func hexNumber<T: FixedWidthInteger & UnsignedInteger>(_ value: T) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: T.bitWidth / 4 - digits.count) + digits
}

/// The little-endian 32-bit number at `offset` (the caller checked that four bytes are there).
private func readLittleEndian32(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int) -> UInt32 {
    UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
        | UInt32(bytes[offset + 3]) << 24
}

// MARK: - Output

/// A growable byte buffer that decompressed data is written to, with unchecked access for the
/// decoding loop. Its owner calls ``deallocate()``.
private struct OutputBuffer {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var capacity: Int
    /// The number of bytes written.
    var count = 0

    /// A buffer for about `capacity` bytes (with room for the eight bytes that copies may
    /// write past the end).
    init(capacity: Int) {
        self.capacity = max(capacity + 8, 1 << 16)
        base = .allocate(capacity: self.capacity)
    }

    /// The bytes written so far.
    var buffer: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

    /// Makes room for `extra` more bytes.
    @inline(__always)
    mutating func reserve(_ extra: Int) {
        if count + extra > capacity { grow(toHold: count + extra) }
    }

    private mutating func grow(toHold needed: Int) {
        let newCapacity = max(needed, capacity * 2)
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.update(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    /// A Swift array holding the bytes written.
    func array() -> [UInt8] { Array(buffer) }

    func deallocate() { base.deallocate() }
}

// MARK: - Bits

/// Reads a deflate stream's bits, least significant bit of each byte first, through a 64-bit
/// buffer refilled eight bytes at a time.
private struct BitReader {
    let input: UnsafeBufferPointer<UInt8>
    /// The next byte to load into the buffer.
    private(set) var next: Int
    /// The loaded bits; bit 0 is the next bit of the stream.
    private(set) var bits: UInt64 = 0
    /// How many of `bits` are loaded (the bits above may hold part of the next byte).
    private(set) var count = 0

    init(input: UnsafeBufferPointer<UInt8>, at offset: Int) {
        self.input = input
        next = offset
    }

    /// The offset of the byte that holds the next unread bit.
    var byteOffset: Int { (next * 8 - count) / 8 }

    /// Loads bits until at least 56 are loaded or the input ends.
    @inline(__always)
    mutating func refill() {
        if input.count - next >= 8 {
            // Loads eight bytes; the (63 − count) / 8 whole bytes that fit are counted, and the
            // part of a byte above them is loaded again by the next refill.
            let word = UnsafeRawPointer(input.baseAddress! + next).loadUnaligned(as: UInt64.self)
            bits |= UInt64(littleEndian: word) &<< UInt64(count)
            next += (63 - count) >> 3
            count |= 56
        } else {
            while count <= 56 && next < input.count {
                bits |= UInt64(input[next]) &<< UInt64(count)
                next += 1
                count += 8
            }
        }
    }

    /// Drops the next `n` bits (at most `count`).
    @inline(__always)
    mutating func drop(_ n: Int) {
        bits &>>= UInt64(n)
        count -= n
    }

    /// The next `n` bits (`n` ≤ 32) as a number, first bit lowest.
    @inline(__always)
    mutating func read(_ n: Int) throws -> Int {
        if count < n {
            refill()
            guard count >= n else { throw truncated() }
        }
        let value = Int(truncatingIfNeeded: bits & ((1 &<< UInt64(n)) &- 1))
        drop(n)
        return value
    }

    /// Skips to the next byte boundary and returns its offset; the buffer is emptied, so the
    /// caller reads bytes from there.
    mutating func alignToByte() -> Int {
        let offset = (next * 8 - count + 7) / 8
        bits = 0
        count = 0
        next = offset
        return offset
    }

    /// Continues reading whole bytes at `offset`.
    mutating func seek(to offset: Int) {
        bits = 0
        count = 0
        next = offset
    }

    func truncated() -> DLError {
        .file("gzip: truncated: the deflate data ends at byte offset \(input.count) before its last block does")
    }

    /// The error for corrupt deflate data, at the current position.
    func corrupt(_ problem: String) -> DLError {
        .file("gzip: corrupt deflate data: \(problem) at byte offset \(byteOffset)")
    }
}

// MARK: - Huffman codes

/// A canonical Huffman code (RFC 1951, 3.2.2) with a decoding table for codes of up to
/// ``fastBits`` bits, indexed by the next bits of the stream, and for longer codes the number of
/// codes of each length and the symbols in code order.
private struct HuffmanCode {
    /// Codes of up to this many bits are decoded with one table lookup.
    static let fastBits = 10
    static let fastMask = (1 << fastBits) - 1

    /// `1 << fastBits` entries: `symbol << 4 | length`, or 0 when the code is longer or unused.
    let fast: UnsafeMutablePointer<UInt16>
    /// `counts[l]`: the number of codes of length `l`, for `l` in 1...15.
    let counts: UnsafeMutablePointer<UInt16>
    /// The symbols, ordered by code.
    let symbols: UnsafeMutablePointer<UInt16>
    /// What the code is for, in messages.
    let name: StaticString

    /// How `build` found the code lengths.
    enum Completeness { case complete, incomplete, oversubscribed }

    /// Fills the tables for the code with the given code lengths (one per symbol, 0 for an
    /// unused symbol).
    func build(lengths: UnsafeBufferPointer<UInt8>) -> Completeness {
        counts.update(repeating: 0, count: 16)
        for length in lengths { counts[Int(length)] &+= 1 }
        counts[0] = 0
        var left = 1
        for length in 1...15 {
            left = left &<< 1 &- Int(counts[length])
            if left < 0 { return .oversubscribed }
        }
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: 32) { scratch in
            // For each length: where its symbols start in `symbols`, and its next code.
            let offsets = scratch.baseAddress!, nextCode = offsets + 16
            offsets[1] = 0
            nextCode[1] = 0
            for length in 2...15 {
                offsets[length] = offsets[length - 1] &+ Int(counts[length - 1])
                nextCode[length] = (nextCode[length - 1] &+ Int(counts[length - 1])) &<< 1
            }
            fast.update(repeating: 0, count: 1 << Self.fastBits)
            for (symbol, length) in lengths.enumerated() where length != 0 {
                let length = Int(length)
                symbols[offsets[length]] = UInt16(truncatingIfNeeded: symbol)
                offsets[length] &+= 1
                let code = nextCode[length]
                nextCode[length] &+= 1
                guard length <= Self.fastBits else { continue }
                // The stream holds codes most significant bit first: the table index is the
                // code's bits reversed.
                var reversed = UInt32(truncatingIfNeeded: code)
                reversed = (reversed & 0x5555) << 1 | (reversed >> 1) & 0x5555
                reversed = (reversed & 0x3333) << 2 | (reversed >> 2) & 0x3333
                reversed = (reversed & 0x0F0F) << 4 | (reversed >> 4) & 0x0F0F
                reversed = (reversed & 0x00FF) << 8 | (reversed >> 8) & 0x00FF
                let entry = UInt16(truncatingIfNeeded: symbol &<< 4 | length)
                var index = Int(reversed >> (16 - UInt32(length)))
                while index <= Self.fastMask {
                    fast[index] = entry
                    index &+= 1 &<< length
                }
            }
            return left == 0 ? .complete : .incomplete
        }
    }

    /// The next symbol from `reader`.
    @inline(__always)
    func decode(from reader: inout BitReader) throws -> Int {
        if reader.count < 15 { reader.refill() }
        let entry = Int(fast[Int(truncatingIfNeeded: reader.bits) & Self.fastMask])
        let length = entry & 15
        if length != 0 && length <= reader.count {
            reader.drop(length)
            return entry &>> 4
        }
        return try decodeLong(from: &reader)
    }

    /// Decodes a symbol whose code is longer than the table's, one bit at a time (as zlib's
    /// `puff`): codes of each length are consecutive numbers, counted from `first`.
    private func decodeLong(from reader: inout BitReader) throws -> Int {
        var bits = reader.bits
        var value = 0, first = 0, index = 0
        for length in 1...15 {
            guard length <= reader.count else { throw reader.truncated() }
            value |= Int(bits & 1)
            bits >>= 1
            let count = Int(counts[length])
            if value - first < count {
                reader.drop(length)
                return Int(symbols[index + value - first])
            }
            index += count
            first = (first + count) << 1
            value <<= 1
        }
        throw reader.corrupt("an invalid \(name)")
    }

    /// Whether the lengths describe a single code of one bit (the one incomplete code deflate
    /// allows, besides no code at all for distances).
    func isSingleOneBitCode() -> Bool {
        (2...15).allSatisfy { counts[$0] == 0 }
    }
}

// MARK: - Inflating

/// Decodes deflate streams (RFC 1951) into an ``OutputBuffer``. Its tables are allocated once
/// and rebuilt for each block; the owner calls ``deallocate()``.
private struct Inflater {
    private var reader: BitReader
    private(set) var output: OutputBuffer
    private let memory: UnsafeMutablePointer<UInt16>
    private let literals, distances, codeLengths: HuffmanCode
    /// Base lengths and extra bits of length symbols 257...285, then of distance symbols 0...29.
    private let lengthBase, lengthExtra, distanceBase, distanceExtra: UnsafeMutablePointer<UInt16>
    /// Where the current member's output starts: no distance may reach before it.
    private var memberStart = 0

    private static let lengthBases: [UInt16] = [
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    private static let lengthExtras: [UInt16] = [
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    private static let distanceBases: [UInt16] = [
        1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
        4097, 6145, 8193, 12289, 16385, 24577]
    private static let distanceExtras: [UInt16] = [
        0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
    /// The order in which a dynamic block lists the code lengths of the code-length code.
    private static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    init(input: UnsafeBufferPointer<UInt8>, expectedSize: Int) {
        reader = BitReader(input: input, at: 0)
        output = OutputBuffer(capacity: expectedSize)
        let tableSize = (1 << HuffmanCode.fastBits) + 16
        let symbolCounts = [288, 32, 19]
        memory = .allocate(capacity: 3 * tableSize + symbolCounts.reduce(0, +) + 2 * 29 + 2 * 30)
        var cursor = memory
        func take(_ count: Int) -> UnsafeMutablePointer<UInt16> {
            defer { cursor += count }
            return cursor
        }
        func code(_ symbolCount: Int, _ name: StaticString) -> HuffmanCode {
            HuffmanCode(fast: take(1 << HuffmanCode.fastBits), counts: take(16), symbols: take(symbolCount), name: name)
        }
        literals = code(288, "literal/length code")
        distances = code(32, "distance code")
        codeLengths = code(19, "code-length code")
        func constants(_ values: [UInt16]) -> UnsafeMutablePointer<UInt16> {
            let pointer = take(values.count)
            pointer.initialize(from: values, count: values.count)
            return pointer
        }
        lengthBase = constants(Self.lengthBases)
        lengthExtra = constants(Self.lengthExtras)
        distanceBase = constants(Self.distanceBases)
        distanceExtra = constants(Self.distanceExtras)
    }

    func deallocate() {
        memory.deallocate()
        output.deallocate()
    }

    /// Decodes the deflate stream that starts at `offset`, appending to the output, and returns
    /// the offset of the first byte after it.
    mutating func inflate(from offset: Int) throws -> Int {
        reader.seek(to: offset)
        memberStart = output.count
        var isFinal = false
        while !isFinal {
            let header = try reader.read(3)
            isFinal = header & 1 == 1
            switch header >> 1 {
            case 0: try copyStoredBlock()
            case 1:
                buildFixedCodes()
                try decodeHuffmanBlock()
            case 2:
                try readDynamicCodes()
                try decodeHuffmanBlock()
            default: throw reader.corrupt("invalid block type 3 (reserved)")
            }
        }
        return reader.alignToByte()
    }

    /// Copies a stored block: after the byte boundary, its length, the length's complement,
    /// then the bytes.
    private mutating func copyStoredBlock() throws {
        let start = reader.alignToByte()
        let input = reader.input
        guard input.count - start >= 4 else {
            throw DLError.file(
                "gzip: truncated: the stored block's length at byte offset \(start) needs 4 bytes, the data has \(input.count - start)")
        }
        let length = Int(input[start]) | Int(input[start + 1]) << 8
        let complement = Int(input[start + 2]) | Int(input[start + 3]) << 8
        guard length ^ complement == 0xFFFF else {
            throw DLError.file(
                "gzip: corrupt deflate data: the stored block's length \(length) and its complement \(complement) at byte offset \(start) do not match")
        }
        guard input.count - start - 4 >= length else {
            throw DLError.file(
                "gzip: truncated: the stored block at byte offset \(start) holds \(length) bytes, the data has \(input.count - start - 4)")
        }
        output.reserve(length)
        (output.base + output.count).update(from: input.baseAddress! + start + 4, count: length)
        output.count += length
        reader.seek(to: start + 4 + length)
    }

    /// The fixed codes of RFC 1951, 3.2.6.
    private func buildFixedCodes() {
        var lengths = [UInt8](repeating: 8, count: 288)
        for symbol in 144..<256 { lengths[symbol] = 9 }
        for symbol in 256..<280 { lengths[symbol] = 7 }
        _ = lengths.withUnsafeBufferPointer { literals.build(lengths: $0) }
        _ = [UInt8](repeating: 5, count: 32).withUnsafeBufferPointer { distances.build(lengths: $0) }
    }

    /// Reads a dynamic block's header: the code-length code, then the literal/length and
    /// distance code lengths written with it.
    private mutating func readDynamicCodes() throws {
        let literalCount = try reader.read(5) + 257
        let distanceCount = try reader.read(5) + 1
        let codeLengthCount = try reader.read(4) + 4
        guard literalCount <= 286 else { throw reader.corrupt("\(literalCount) literal/length codes (at most 286)") }
        guard distanceCount <= 30 else { throw reader.corrupt("\(distanceCount) distance codes (at most 30)") }
        var lengths = [UInt8](repeating: 0, count: 19)
        for k in 0..<codeLengthCount { lengths[Self.codeLengthOrder[k]] = UInt8(try reader.read(3)) }
        guard lengths.withUnsafeBufferPointer({ codeLengths.build(lengths: $0) }) == .complete else {
            throw reader.corrupt("the code-length code is incomplete or oversubscribed")
        }
        let total = literalCount + distanceCount
        lengths = [UInt8](repeating: 0, count: total)
        var index = 0
        while index < total {
            let symbol = try codeLengths.decode(from: &reader)
            if symbol < 16 {
                lengths[index] = UInt8(symbol)
                index += 1
                continue
            }
            var value: UInt8 = 0, repeats: Int
            switch symbol {
            case 16:
                guard index > 0 else { throw reader.corrupt("a repeat of the previous code length before the first") }
                value = lengths[index - 1]
                repeats = 3 + (try reader.read(2))
            case 17: repeats = 3 + (try reader.read(3))
            default: repeats = 11 + (try reader.read(7))
            }
            guard index + repeats <= total else {
                throw reader.corrupt("code lengths repeated past the \(total) that the block declares")
            }
            for k in index..<(index + repeats) { lengths[k] = value }
            index += repeats
        }
        guard lengths[256] != 0 else { throw reader.corrupt("the literal/length code has no end-of-block code") }
        try lengths.withUnsafeBufferPointer { all in
            let literalLengths = UnsafeBufferPointer(rebasing: all[0..<literalCount])
            let distanceLengths = UnsafeBufferPointer(rebasing: all[literalCount...])
            switch literals.build(lengths: literalLengths) {
            case .complete: break
            case .incomplete where literals.isSingleOneBitCode(): break
            default: throw reader.corrupt("the literal/length code lengths are incomplete or oversubscribed")
            }
            switch distances.build(lengths: distanceLengths) {
            case .complete: break
            case .incomplete where distances.isSingleOneBitCode(): break
            default: throw reader.corrupt("the distance code lengths are incomplete or oversubscribed")
            }
        }
    }

    /// Decodes a block's literals and copies until its end-of-block symbol.
    private mutating func decodeHuffmanBlock() throws {
        // The loop works on local copies of the reader and the output, kept in registers.
        var reader = self.reader, output = self.output
        defer {
            self.reader = reader
            self.output = output
        }
        let literals = self.literals, distances = self.distances
        let lengthBase = self.lengthBase, lengthExtra = self.lengthExtra
        let distanceBase = self.distanceBase, distanceExtra = self.distanceExtra
        while true {
            let symbol = try literals.decode(from: &reader)
            if symbol < 256 {
                output.reserve(1)
                output.base[output.count] = UInt8(truncatingIfNeeded: symbol)
                output.count &+= 1
                continue
            }
            if symbol == 256 { return }
            let lengthSymbol = symbol &- 257
            guard lengthSymbol < 29 else { throw reader.corrupt("invalid length symbol \(symbol)") }
            let length = Int(lengthBase[lengthSymbol]) &+ (try reader.read(Int(lengthExtra[lengthSymbol])))
            let distanceSymbol = try distances.decode(from: &reader)
            guard distanceSymbol < 30 else { throw reader.corrupt("invalid distance symbol \(distanceSymbol)") }
            let distance = Int(distanceBase[distanceSymbol]) &+ (try reader.read(Int(distanceExtra[distanceSymbol])))
            guard distance <= output.count &- memberStart else {
                throw reader.corrupt(
                    "a distance of \(distance) bytes reaches before the start of the data (\(output.count - memberStart) bytes written)")
            }
            // Eight bytes more than the copy, which may write up to seven past its end.
            output.reserve(length &+ 8)
            let target = output.base + output.count
            let source = target - distance
            if distance >= 8 {
                // Eight bytes at a time: each word is read before it can be overwritten.
                var k = 0
                while k < length {
                    (UnsafeMutableRawPointer(target) + k).storeBytes(
                        of: UnsafeRawPointer(source + k).loadUnaligned(as: UInt64.self), as: UInt64.self)
                    k &+= 8
                }
            } else if distance == 1 {
                target.update(repeating: source.pointee, count: length)
            } else {
                for k in 0..<length { target[k] = source[k] }
            }
            output.count &+= length
        }
    }
}

// MARK: - CRC-32

/// The CRC-32 of gzip, zlib and PNG (reflected polynomial 0xEDB88320), eight bytes at a time
/// ("slicing by 8").
enum CRC32 {
    /// Eight tables of 256 entries: table k gives the CRC of a byte followed by k zero bytes.
    private static let tables: [UInt32] = {
        var tables = [UInt32](repeating: 0, count: 8 * 256)
        for n in 0..<256 {
            var c = UInt32(n)
            for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            tables[n] = c
        }
        for k in 1..<8 {
            for n in 0..<256 {
                let previous = tables[(k - 1) * 256 + n]
                tables[k * 256 + n] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
            }
        }
        return tables
    }()

    /// The CRC-32 of `bytes`.
    static func checksum(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        guard var p = bytes.baseAddress else { return 0 }
        var remaining = bytes.count
        var crc: UInt32 = 0xFFFF_FFFF
        tables.withUnsafeBufferPointer { table in
            let t = table.baseAddress!
            while remaining >= 8 {
                let one = UInt32(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt32.self)) ^ crc
                let two = UInt32(littleEndian: UnsafeRawPointer(p + 4).loadUnaligned(as: UInt32.self))
                crc = t[7 * 256 + Int(one & 0xFF)] ^ t[6 * 256 + Int((one >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((one >> 16) & 0xFF)] ^ t[4 * 256 + Int(one >> 24)]
                    ^ t[3 * 256 + Int(two & 0xFF)] ^ t[2 * 256 + Int((two >> 8) & 0xFF)]
                    ^ t[256 + Int((two >> 16) & 0xFF)] ^ t[Int(two >> 24)]
                p += 8
                remaining -= 8
            }
            while remaining > 0 {
                crc = t[Int((crc ^ UInt32(p.pointee)) & 0xFF)] ^ (crc >> 8)
                p += 1
                remaining -= 1
            }
        }
        return ~crc
    }
}
