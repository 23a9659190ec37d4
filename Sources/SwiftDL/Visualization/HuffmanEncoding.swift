/// A canonical Huffman code (RFC 1951, 3.2.2) for writing: each symbol's code length and its
/// code with the bits reversed, as ``BitWriter`` writes codes most significant bit first.
struct HuffmanEncoding {
    /// The code length of each symbol; 0 for a symbol without a code.
    let lengths: [UInt8]
    /// The code of each symbol, bits reversed.
    let codes: [UInt32]

    /// The canonical code with the given code lengths.
    init(lengths: [UInt8]) {
        var lengthCounts = [Int](repeating: 0, count: 16)
        for length in lengths where length > 0 { lengthCounts[Int(length)] += 1 }
        var nextCode = [Int](repeating: 0, count: 16)
        var code = 0
        for length in 1...15 {
            code = (code + lengthCounts[length - 1]) << 1
            nextCode[length] = code
        }
        var codes = [UInt32](repeating: 0, count: lengths.count)
        for (symbol, length) in lengths.enumerated() where length > 0 {
            let length = Int(length)
            codes[symbol] = UInt32(nextCode[length]).bitReversed(length)
            nextCode[length] += 1
        }
        self.lengths = lengths
        self.codes = codes
    }

    /// The code that writes symbols with the given frequencies in the fewest bits, with no code
    /// longer than `maxLength` bits. At least two symbols get a code (deflate's decoders expect a
    /// complete code), so a symbol that never occurs may get one too.
    init(frequencies: [Int], maxLength: Int) {
        self.init(lengths: Self.optimalLengths(frequencies: frequencies, maxLength: maxLength))
    }

    /// The number of bits the symbols with these frequencies take.
    func cost(_ frequencies: [Int]) -> Int {
        zip(frequencies, lengths).reduce(0) { $0 + $1.0 * Int($1.1) }
    }

    /// Writes `symbol`'s code.
    @inline(__always)
    func write(_ symbol: Int, to writer: inout BitWriter) {
        writer.write(codes[symbol], bitCount: Int(lengths[symbol]))
    }

    /// Huffman's code lengths, limited to `maxLength` bits: lengths past the limit are cut to
    /// it and the code is then made complete again by lengthening the longest codes below the
    /// limit (as miniz does), and the lengths are handed out by frequency.
    static func optimalLengths(frequencies: [Int], maxLength: Int) -> [UInt8] {
        var weights = frequencies
        var used = weights.indices.filter { weights[$0] > 0 }
        for symbol in weights.indices where used.count < 2 && weights[symbol] == 0 {
            weights[symbol] = 1
            used.append(symbol)
        }
        used.sort { (weights[$0], $0) < (weights[$1], $1) }
        let leafCount = used.count
        // Huffman's tree with two queues: the leaves by weight, then the inner nodes, which are
        // made in order of weight. Nodes 0..<leafCount are the leaves; the last node is the root.
        let nodeCount = 2 * leafCount - 1
        var nodeWeights = used.map { weights[$0] } + [Int](repeating: 0, count: leafCount - 1)
        var parents = [Int](repeating: 0, count: nodeCount)
        var nextLeaf = 0, nextInner = leafCount
        func takeLightest(before end: Int) -> Int {
            if nextLeaf < leafCount && (nextInner >= end || nodeWeights[nextLeaf] <= nodeWeights[nextInner]) {
                nextLeaf += 1
                return nextLeaf - 1
            }
            nextInner += 1
            return nextInner - 1
        }
        for node in leafCount..<nodeCount {
            let first = takeLightest(before: node), second = takeLightest(before: node)
            nodeWeights[node] = nodeWeights[first] + nodeWeights[second]
            parents[first] = node
            parents[second] = node
        }
        var depths = [Int](repeating: 0, count: nodeCount)
        for node in stride(from: nodeCount - 2, through: 0, by: -1) { depths[node] = depths[parents[node]] + 1 }

        var lengthCounts = [Int](repeating: 0, count: maxLength + 1)
        for leaf in 0..<leafCount { lengthCounts[min(depths[leaf], maxLength)] += 1 }
        // Kraft's sum in units of 2^-maxLength; cutting lengths made it more than 1.
        var total = (1...maxLength).reduce(0) { $0 + lengthCounts[$1] << (maxLength - $1) }
        while total > 1 << maxLength {
            lengthCounts[maxLength] -= 1
            for length in stride(from: maxLength - 1, through: 1, by: -1) where lengthCounts[length] > 0 {
                lengthCounts[length] -= 1
                lengthCounts[length + 1] += 2
                break
            }
            total -= 1
        }
        var lengths = [UInt8](repeating: 0, count: frequencies.count)
        var leaf = 0
        for length in stride(from: maxLength, through: 1, by: -1) {
            for _ in 0..<lengthCounts[length] {
                lengths[used[leaf]] = UInt8(length)
                leaf += 1
            }
        }
        return lengths
    }
}

extension UInt32 {
    /// The low `count` bits in reverse order.
    func bitReversed(_ count: Int) -> UInt32 {
        var value = self, reversed: UInt32 = 0
        for _ in 0..<count {
            reversed = reversed << 1 | value & 1
            value >>= 1
        }
        return reversed
    }
}
