import Testing
@testable import SwiftDL

/// The zlib stream of `bytes`, and its DEFLATE data decoded again by SwiftDL's inflater.
private func roundTrip(_ bytes: [UInt8]) throws -> (stream: [UInt8], decoded: [UInt8]) {
    let stream = bytes.withUnsafeBufferPointer { Zlib.compress($0) }
    let (decoded, end) = try Gzip.inflate(Array(stream[2...]))
    #expect(end == stream.count - 6, "the Adler-32 follows the DEFLATE data directly")
    let adler = stream.suffix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    #expect(adler == bytes.withUnsafeBufferPointer { Adler32.checksum($0) })
    return (stream, decoded)
}

/// The type of the first block (0 stored, 1 fixed codes, 2 dynamic codes) of a zlib stream.
private func firstBlockType(_ stream: [UInt8]) -> Int { Int(stream[2] >> 1) & 3 }

/// Text-like data: words from a small vocabulary, chosen at random.
private func words(count: Int, seed: UInt64) -> [UInt8] {
    let vocabulary = ["the", "generator", "discriminator", "loss", "gradient", "step", "of", "a", "and", "mode"]
    var generator = DLRandomGenerator(seed: seed)
    var bytes: [UInt8] = []
    while bytes.count < count {
        bytes += Array(vocabulary[Int(generator.next() % 10)].utf8) + [32]
    }
    return Array(bytes.prefix(count))
}

@Suite struct DeflateTests {
    @Test func zlibHeaderIsValid() throws {
        let (stream, _) = try roundTrip(Array("header".utf8))
        #expect(stream[0] == 0x78 && stream[1] == 0x9C)
        #expect((Int(stream[0]) * 256 + Int(stream[1])) % 31 == 0)
    }

    @Test(arguments: [0, 1, 2, 3, 4, 257, 258, 259, 5000, 70_000, 300_000])
    func roundTripsTextLikeData(count: Int) throws {
        let bytes = words(count: count, seed: UInt64(count))
        #expect(try roundTrip(bytes).decoded == bytes)
    }

    @Test func roundTripsRunsAndPeriodicData() throws {
        let runs = [UInt8](repeating: 0, count: 100_000) + [UInt8](repeating: 7, count: 1000) + [1, 2, 3]
        let periodic = (0..<200_000).map { UInt8(truncatingIfNeeded: ($0 % 1921) * 31) }
        let far = words(count: 40_000, seed: 3) + words(count: 40_000, seed: 3)  // copies 40000 back: too far
        for bytes in [runs, periodic, far] {
            let (stream, decoded) = try roundTrip(bytes)
            #expect(decoded == bytes)
            #expect(stream.count < bytes.count / 2, "\(stream.count) bytes for \(bytes.count)")
        }
    }

    /// Short data is cheapest with the fixed codes, text with codes made for it, noise stored.
    @Test func choosesTheSmallestBlockType() throws {
        let short = try roundTrip(Array("a short line, a short line".utf8))
        #expect(firstBlockType(short.stream) == 1)
        let text = try roundTrip(words(count: 20_000, seed: 1))
        #expect(firstBlockType(text.stream) == 2)
        // Text from ten words compresses to well under half.
        #expect(text.stream.count < 20_000 / 3, "\(text.stream.count)")
    }

    /// Random bytes do not compress: they are stored, at most 5 bytes per 65535 over their size.
    @Test func storesNoise() throws {
        var generator = DLRandomGenerator(seed: 11)
        let noise = (0..<200_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let (stream, decoded) = try roundTrip(noise)
        #expect(decoded == noise)
        #expect(firstBlockType(stream) == 0)
        #expect(stream.count <= noise.count + 2 + 4 + 5 * (noise.count / 65535 + 1) + 5 * (noise.count / Deflate.blockTokens + 1),
                "\(stream.count)")
    }

    @Test func runsCompressAboutAThousandToOne() throws {
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        let (stream, decoded) = try roundTrip(zeros)
        #expect(decoded == zeros)
        // Each copy of 258 bytes takes 2 bits with codes made for the block.
        #expect(stream.count < 1500, "\(stream.count) bytes")
    }

    /// Frequencies that make Huffman's code 19 bits deep (Fibonacci numbers) are cut to 15 bits,
    /// and the code stays complete (Kraft's sum is exactly 1).
    @Test func huffmanCodesAreLimitedAndComplete() throws {
        var fibonacci = [1, 1]
        while fibonacci.count < 20 { fibonacci.append(fibonacci[fibonacci.count - 1] + fibonacci[fibonacci.count - 2]) }
        let frequencies = fibonacci + [0, 0]
        let unlimited = HuffmanEncoding.optimalLengths(frequencies: frequencies, maxLength: 30)
        #expect(unlimited.max() == 19)
        let code = HuffmanEncoding(frequencies: frequencies, maxLength: 15)
        #expect(code.lengths.max() == 15)
        #expect(code.lengths[20] == 0 && code.lengths[21] == 0)
        for lengths in [unlimited, code.lengths] {
            let kraft = lengths.filter { $0 > 0 }.reduce(0.0) { $0 + 1 / Double(1 << Int($1)) }
            #expect(kraft == 1)
        }
        // More frequent symbols never get longer codes.
        let used = frequencies.indices.filter { frequencies[$0] > 0 }
        for a in used { for b in used where frequencies[a] > frequencies[b] { #expect(code.lengths[a] <= code.lengths[b]) } }
        // A single symbol still gets a complete code of two one-bit codes.
        #expect(HuffmanEncoding(frequencies: [0, 0, 9, 0], maxLength: 15).lengths == [1, 0, 1, 0])
    }

    /// Data whose symbol frequencies follow the Fibonacci numbers gets a dynamic block with
    /// 15-bit codes, which decodes.
    @Test func roundTripsDataWithSkewedFrequencies() throws {
        var generator = DLRandomGenerator(seed: 5)
        var pool: [UInt8] = []
        var (a, b) = (1, 1)
        for symbol in 0..<22 {
            pool += [UInt8](repeating: UInt8(symbol * 11), count: a)
            (a, b) = (b, a + b)
        }
        pool.shuffle(using: &generator)
        let (_, decoded) = try roundTrip(pool)
        #expect(decoded == pool)
    }

    @Test func lengthAndDistanceSymbols() {
        // RFC 1951, 3.2.5: length 3 is symbol 257, 11-12 is 265 (1 extra bit), 227-257 is 284
        // (5 extra bits), 258 is 285.
        #expect(Deflate.lengthSymbol(3) == (0, 0, 0))
        #expect(Deflate.lengthSymbol(12) == (8, 1, 1))
        #expect(Deflate.lengthSymbol(257) == (27, 5, 30))
        #expect(Deflate.lengthSymbol(258) == (28, 0, 0))
        // Distance 1 is symbol 0, 5-6 is 4 (1 extra bit), 24577-32768 is 29 (13 extra bits).
        #expect(Deflate.distanceSymbol(1) == (0, 0, 0))
        #expect(Deflate.distanceSymbol(6) == (4, 1, 1))
        #expect(Deflate.distanceSymbol(32768) == (29, 13, 8191))
    }
}
