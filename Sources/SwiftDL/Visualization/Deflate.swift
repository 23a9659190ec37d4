/// DEFLATE compression (RFC 1951) in pure Swift.
///
/// LZ77 finds repeated strings through a hash table of 3-byte prefixes with chains of earlier
/// positions (greedy matching, as zlib's fast levels). The tokens are written in blocks of up to
/// ``blockTokens`` tokens, each in whichever of the three block types is smallest: Huffman codes
/// made for the block (dynamic), the fixed codes, or the bytes stored as they are (for data that
/// does not compress, such as noise).
enum Deflate {
    /// The largest distance back that a copy can reach.
    static let windowSize = 1 << 15
    /// The shortest and longest copies.
    static let minMatch = 3, maxMatch = 258
    /// How many earlier positions with the same prefix are tried for each match.
    static let maxChain = 48
    /// A match at least this long is taken without looking further.
    static let niceMatch = 128
    /// The largest number of tokens (literals and copies) in one block.
    static let blockTokens = 1 << 14
    /// The hash table of 3-byte prefixes has 2^hashBits entries.
    static let hashBits = 15

    /// Appends the DEFLATE stream of `input` to `writer`, ending at a byte boundary.
    static func compress(_ input: UnsafeBufferPointer<UInt8>, into writer: inout BitWriter) {
        precondition(input.count < Int(Int32.max), "deflate handles inputs of less than 2 GiB")
        var block = TokenBlock()
        var head = [Int32](repeating: -1, count: 1 << hashBits)
        var previous = [Int32](repeating: -1, count: windowSize)
        var blockStart = 0
        head.withUnsafeMutableBufferPointer { head in
            previous.withUnsafeMutableBufferPointer { previous in
                guard let base = input.baseAddress else { return }
                let count = input.count
                /// Records position `p` (with `p + 3 <= count`) in its prefix's chain and returns
                /// the latest earlier position with the same hash.
                @inline(__always) func insert(_ p: Int) -> Int {
                    let prefix = UInt32(base[p]) | UInt32(base[p + 1]) << 8 | UInt32(base[p + 2]) << 16
                    let hash = Int((prefix &* 0x9E37_79B1) >> (32 - UInt32(hashBits)))
                    let candidate = Int(head[hash])
                    previous[p & (windowSize - 1)] = Int32(truncatingIfNeeded: candidate)
                    head[hash] = Int32(truncatingIfNeeded: p)
                    return candidate
                }
                var position = 0
                while position < count {
                    var bestLength = 0, bestDistance = 0
                    if count - position >= minMatch {
                        let limit = min(maxMatch, count - position)
                        var candidate = insert(position)
                        var chain = maxChain
                        while candidate >= 0 && position - candidate < windowSize && chain > 0 {
                            if bestLength == 0 || base[candidate + bestLength] == base[position + bestLength] {
                                let length = matchLength(base, candidate, position, limit: limit)
                                if length > bestLength {
                                    bestLength = length
                                    bestDistance = position - candidate
                                    if length >= min(limit, niceMatch) { break }
                                }
                            }
                            candidate = Int(previous[candidate & (windowSize - 1)])
                            chain -= 1
                        }
                    }
                    if bestLength >= minMatch {
                        block.appendCopy(length: bestLength, distance: bestDistance)
                        for p in (position + 1)..<min(position + bestLength, count - minMatch + 1) { _ = insert(p) }
                        position += bestLength
                    } else {
                        block.appendLiteral(base[position])
                        position += 1
                    }
                    if block.tokens.count >= blockTokens {
                        block.write(UnsafeBufferPointer(rebasing: input[blockStart..<position]), isFinal: position == count,
                                    to: &writer)
                        block = TokenBlock()
                        blockStart = position
                    }
                }
            }
        }
        if blockStart < input.count || input.isEmpty {
            block.write(UnsafeBufferPointer(rebasing: input[blockStart...]), isFinal: true, to: &writer)
        }
        writer.alignToByte()
    }

    /// The number of equal bytes at `a` and `b` (`a` < `b`), at most `limit` (with
    /// `b + limit` within the input); eight bytes compared at a time.
    @inline(__always)
    private static func matchLength(_ base: UnsafePointer<UInt8>, _ a: Int, _ b: Int, limit: Int) -> Int {
        var length = 0
        while length + 8 <= limit {
            let x = UnsafeRawPointer(base + a + length).loadUnaligned(as: UInt64.self)
            let y = UnsafeRawPointer(base + b + length).loadUnaligned(as: UInt64.self)
            let difference = UInt64(littleEndian: x ^ y)
            if difference != 0 { return length + difference.trailingZeroBitCount >> 3 }
            length += 8
        }
        while length < limit && base[a + length] == base[b + length] { length += 1 }
        return length
    }
}

extension Deflate {
    /// The length symbol (counted from 257) of a copy of `length` bytes, its extra bits and their
    /// value (RFC 1951, 3.2.5).
    @inline(__always)
    static func lengthSymbol(_ length: Int) -> (index: Int, extraBits: Int, extra: Int) {
        if length == Deflate.maxMatch { return (28, 0, 0) }
        let x = length - 3
        if x < 8 { return (x, 0, 0) }
        let log = Int.bitWidth - 1 - x.leadingZeroBitCount
        return (4 * (log - 1) + ((x >> (log - 2)) & 3), log - 2, x & ((1 << (log - 2)) - 1))
    }

    /// The distance symbol of a copy from `distance` bytes back, its extra bits and their value.
    @inline(__always)
    static func distanceSymbol(_ distance: Int) -> (index: Int, extraBits: Int, extra: Int) {
        let x = distance - 1
        if x < 4 { return (x, 0, 0) }
        let log = Int.bitWidth - 1 - x.leadingZeroBitCount
        return (2 * log + ((x >> (log - 1)) & 1), log - 1, x & ((1 << (log - 1)) - 1))
    }
}

/// The tokens of one block and the frequencies of their symbols.
private struct TokenBlock {
    /// A literal byte is its value; a copy is `length << 16 | distance`.
    private(set) var tokens: [UInt32] = []
    /// Frequencies of the literal/length symbols 0...285 and of the distance symbols 0...29.
    private var literalFrequencies = [Int](repeating: 0, count: 286)
    private var distanceFrequencies = [Int](repeating: 0, count: 30)

    init() {
        tokens.reserveCapacity(Deflate.blockTokens)
    }

    mutating func appendLiteral(_ byte: UInt8) {
        tokens.append(UInt32(byte))
        literalFrequencies[Int(byte)] += 1
    }

    mutating func appendCopy(length: Int, distance: Int) {
        tokens.append(UInt32(length << 16 | distance))
        literalFrequencies[257 + Deflate.lengthSymbol(length).index] += 1
        distanceFrequencies[Deflate.distanceSymbol(distance).index] += 1
    }

    /// The extra bits of the length symbols and distance symbols that occur.
    private var extraBitCount: Int {
        let lengths = (8..<28).reduce(0) { $0 + literalFrequencies[257 + $1] * ($1 / 4 - 1) }
        let distances = (4..<30).reduce(0) { $0 + distanceFrequencies[$1] * ($1 / 2 - 1) }
        return lengths + distances
    }

    private static let fixedLiteralCode = HuffmanEncoding(
        lengths: [UInt8](repeating: 8, count: 144) + [UInt8](repeating: 9, count: 112)
            + [UInt8](repeating: 7, count: 24) + [UInt8](repeating: 8, count: 8))
    private static let fixedDistanceCode = HuffmanEncoding(lengths: [UInt8](repeating: 5, count: 30))

    /// Writes the block, whose tokens encode `bytes`, in the smallest of the three block types.
    mutating func write(_ bytes: UnsafeBufferPointer<UInt8>, isFinal: Bool, to writer: inout BitWriter) {
        literalFrequencies[256] += 1  // the end of the block
        let extra = extraBitCount
        let fixedBits = 3 + Self.fixedLiteralCode.cost(literalFrequencies)
            + Self.fixedDistanceCode.cost(distanceFrequencies) + extra
        let dynamic = DynamicHeader(literalFrequencies: literalFrequencies, distanceFrequencies: distanceFrequencies)
        let dynamicBits = 3 + dynamic.bitCount + dynamic.literalCode.cost(literalFrequencies)
            + dynamic.distanceCode.cost(distanceFrequencies) + extra
        // Each stored block of up to 65535 bytes: 3 header bits, up to 7 to the byte boundary,
        // and 4 bytes of length and its complement.
        let storedBlocks = max(1, (bytes.count + 65534) / 65535)
        let storedBits = 8 * bytes.count + storedBlocks * (3 + 7 + 32)
        if storedBits < min(fixedBits, dynamicBits) {
            writeStored(bytes, isFinal: isFinal, to: &writer)
        } else if fixedBits <= dynamicBits {
            writer.write(isFinal ? 0b011 : 0b010, bitCount: 3)
            writeTokens(literalCode: Self.fixedLiteralCode, distanceCode: Self.fixedDistanceCode, to: &writer)
        } else {
            writer.write(isFinal ? 0b101 : 0b100, bitCount: 3)
            dynamic.write(to: &writer)
            writeTokens(literalCode: dynamic.literalCode, distanceCode: dynamic.distanceCode, to: &writer)
        }
    }

    private func writeStored(_ bytes: UnsafeBufferPointer<UInt8>, isFinal: Bool, to writer: inout BitWriter) {
        var start = 0
        repeat {
            let length = min(65535, bytes.count - start)
            let isLast = start + length == bytes.count
            writer.write(isFinal && isLast ? 1 : 0, bitCount: 3)
            writer.alignToByte()
            writer.write(UInt32(length) | UInt32(~UInt16(length)) << 16, bitCount: 32)
            writer.append(UnsafeBufferPointer(rebasing: bytes[start..<(start + length)]))
            start += length
        } while start < bytes.count
    }

    private func writeTokens(literalCode: HuffmanEncoding, distanceCode: HuffmanEncoding, to writer: inout BitWriter) {
        for token in tokens {
            if token < 1 << 16 {
                literalCode.write(Int(token), to: &writer)
                continue
            }
            let length = Deflate.lengthSymbol(Int(token >> 16))
            literalCode.write(257 + length.index, to: &writer)
            if length.extraBits > 0 { writer.write(UInt32(length.extra), bitCount: length.extraBits) }
            let distance = Deflate.distanceSymbol(Int(token & 0xFFFF))
            distanceCode.write(distance.index, to: &writer)
            if distance.extraBits > 0 { writer.write(UInt32(distance.extra), bitCount: distance.extraBits) }
        }
        literalCode.write(256, to: &writer)
    }
}

/// The codes of a dynamic block and its header (RFC 1951, 3.2.7): the literal/length and
/// distance code lengths, run-length encoded with the symbols 0...18 of the code-length code.
private struct DynamicHeader {
    let literalCode: HuffmanEncoding
    let distanceCode: HuffmanEncoding
    private let codeLengthCode: HuffmanEncoding
    /// The number of literal/length and distance code lengths sent, and of code-length code lengths.
    private let literalCount, distanceCount, codeLengthCount: Int
    /// The code-length symbols with their extra bits' value.
    private let runs: [(symbol: Int, extra: Int)]
    /// The header's size in bits.
    let bitCount: Int

    /// The order in which the header lists the code-length code's lengths.
    private static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
    /// The extra bits of the code-length symbols 16, 17 and 18.
    private static let runExtraBits = [16: 2, 17: 3, 18: 7]

    init(literalFrequencies: [Int], distanceFrequencies: [Int]) {
        literalCode = HuffmanEncoding(frequencies: literalFrequencies, maxLength: 15)
        distanceCode = HuffmanEncoding(frequencies: distanceFrequencies, maxLength: 15)
        literalCount = max(257, (literalCode.lengths.lastIndex { $0 > 0 } ?? 0) + 1)
        distanceCount = max(1, (distanceCode.lengths.lastIndex { $0 > 0 } ?? 0) + 1)
        runs = Self.runLengthEncoded(Array(literalCode.lengths[..<literalCount] + distanceCode.lengths[..<distanceCount]))
        var frequencies = [Int](repeating: 0, count: 19)
        for run in runs { frequencies[run.symbol] += 1 }
        let codeLengthCode = HuffmanEncoding(frequencies: frequencies, maxLength: 7)
        self.codeLengthCode = codeLengthCode
        codeLengthCount = max(4, (Self.codeLengthOrder.lastIndex { codeLengthCode.lengths[$0] > 0 } ?? 0) + 1)
        bitCount = 5 + 5 + 4 + 3 * codeLengthCount + codeLengthCode.cost(frequencies)
            + runs.reduce(0) { $0 + (Self.runExtraBits[$1.symbol] ?? 0) }
    }

    /// `lengths` as code-length symbols: 0...15 a length, 16 the previous length 3...6 times,
    /// 17 zero 3...10 times, 18 zero 11...138 times.
    private static func runLengthEncoded(_ lengths: [UInt8]) -> [(symbol: Int, extra: Int)] {
        var runs: [(symbol: Int, extra: Int)] = []
        var start = 0
        while start < lengths.count {
            let value = lengths[start]
            var end = start + 1
            while end < lengths.count && lengths[end] == value { end += 1 }
            var remaining = end - start
            if value == 0 {
                while remaining >= 11 {
                    let n = min(remaining, 138)
                    runs.append((18, n - 11))
                    remaining -= n
                }
                if remaining >= 3 {
                    runs.append((17, remaining - 3))
                    remaining = 0
                }
            } else {
                runs.append((Int(value), 0))
                remaining -= 1
                while remaining >= 3 {
                    let n = min(remaining, 6)
                    runs.append((16, n - 3))
                    remaining -= n
                }
            }
            for _ in 0..<remaining { runs.append((Int(value), 0)) }
            start = end
        }
        return runs
    }

    func write(to writer: inout BitWriter) {
        writer.write(UInt32(literalCount - 257), bitCount: 5)
        writer.write(UInt32(distanceCount - 1), bitCount: 5)
        writer.write(UInt32(codeLengthCount - 4), bitCount: 4)
        for symbol in Self.codeLengthOrder.prefix(codeLengthCount) {
            writer.write(UInt32(codeLengthCode.lengths[symbol]), bitCount: 3)
        }
        for run in runs {
            codeLengthCode.write(run.symbol, to: &writer)
            if let extraBits = Self.runExtraBits[run.symbol] { writer.write(UInt32(run.extra), bitCount: extraBits) }
        }
    }
}
