import Testing
@testable import SwiftDL

/// Uniform numbers in [-1, 1) from a fixed seed (xorshift64*), the same on every machine.
private struct UniformNumbers {
    var state: UInt64

    /// The next number.
    mutating func next() -> Double {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return Double((state &* 0x2545_F491_4F6C_DD1D) >> 11) / Double(1 << 52) - 1
    }

    /// `count` numbers `mean + spread · u`.
    mutating func values<T: BatchNormElement>(_ count: Int, mean: Double, spread: Double) -> [T] {
        (0..<count).map { _ in T(mean + spread * next()) }
    }
}

/// Random operands of the batch-normalization kernels for one layout, in the plain layout: x
/// and dy with nonzero means (so that the shift of the statistics matters), scale and offset.
private struct Operands<T: BatchNormElement> {
    let layout: ChannelLayout
    let x: [T], dy: [T], scale: [T], offset: [T]

    /// Operands of a `[outer, channels, inner]` shape from `seed`.
    init(_ shape: [Int], seed: UInt64) {
        layout = ChannelLayout(shape, channel: 1)
        var numbers = UniformNumbers(state: seed)
        x = numbers.values(layout.count, mean: 5, spread: 3)
        dy = numbers.values(layout.count, mean: 0.3, spread: 1)
        scale = numbers.values(layout.channels, mean: 1, spread: 0.5)
        offset = numbers.values(layout.channels, mean: 0, spread: 0.5)
    }
}

@Suite struct BatchNormBlockingTests {
    static let epsilon = 1e-5
    static let slopes: [Double?] = [nil, 0, 0.2]

    /// `SIMD8.sum()` adds its lanes one after another from lane 0 (from -0), the order the
    /// blocked passes reproduce: 2²⁴ then seven ones, which give 2²⁴ that way (each 1 is half
    /// an ulp, and the tie rounds to even), 2²⁴ + 6 as a tree and 2²⁴ + 8 backwards.
    @Test func simdSumAddsLanesInOrder() {
        let values: [Float] = [0x1p24, 1, 1, 1, 1, 1, 1, 1]
        var sequential = -Float.zero
        for value in values { sequential += value }
        let tree = ((values[0] + values[1]) + (values[2] + values[3])) + ((values[4] + values[5]) + (values[6] + values[7]))
        let backwards = values.reversed().reduce(-Float.zero, +)
        #expect(sequential == 0x1p24 && tree == 0x1p24 + 6 && backwards == 0x1p24 + 8)
        #expect(SIMD8<Float>(values).sum() == sequential)
        #expect(SIMD8<Float>(repeating: -0.0).sum().sign == .minus)
    }

    /// The plain kernels' sums are the documented ones, recomputed here one scalar at a time:
    /// per channel and per run, eight lanes of partial sums in blocks of 512 elements, each
    /// block's lanes added in order into a float64 total, then the tail; the shift the
    /// channel's first element. (The blocked passes are held to the plain ones' bits below.)
    @Test(arguments: [[3, 5, 1], [2, 3, 7], [2, 4, 49], [3, 2, 600], [2, 3, 1100]])
    func plainSumsFollowTheirOrder(_ shape: [Int]) {
        let operands = Operands<Float>(shape, seed: 7)
        let layout = operands.layout
        let (outer, channels, inner) = (layout.outer, layout.channels, layout.inner)
        let count = Double(layout.perChannel)

        /// The sums of `term(o, c, i)` and of `other(o, c, i)` for channel `c`, in the plain order.
        func referenceSums(_ c: Int, _ terms: (Int, Int) -> (Float, Float)) -> (Double, Double) {
            var total = 0.0, other = 0.0
            for o in 0..<outer {
                var runTotal = 0.0, runOther = 0.0, i = 0
                let vectorEnd = inner - inner % 8
                while i < vectorEnd {
                    var lanes = [Float](repeating: 0, count: 8), otherLanes = lanes
                    let end = min(vectorEnd, i + 512)
                    while i < end {
                        let (a, b) = terms(o, i)
                        lanes[i % 8] += a
                        otherLanes[i % 8] += b
                        i += 1
                    }
                    var blockTotal = -Float.zero, blockOther = -Float.zero
                    for lane in 0..<8 {
                        blockTotal += lanes[lane]
                        blockOther += otherLanes[lane]
                    }
                    runTotal += Double(blockTotal)
                    runOther += Double(blockOther)
                }
                var tail = Float.zero, otherTail = Float.zero
                while i < inner {
                    let (a, b) = terms(o, i)
                    tail += a
                    otherTail += b
                    i += 1
                }
                total += runTotal + Double(tail)
                other += runOther + Double(otherTail)
            }
            return (total, other)
        }

        let moments = output(of: ChannelMoments<Float>(layout: layout), [operands.x], count: 2 * channels)
        var expectedMoments = [Float](repeating: 0, count: 2 * channels)
        for c in 0..<channels {
            let shift = operands.x[c * inner]
            let (total, squares) = referenceSums(c) { o, i in
                let d = operands.x[(o * channels + c) * inner + i] - shift
                return (d, d * d)
            }
            let offset = total / count
            expectedMoments[c] = Float(Double(shift) + offset)
            expectedMoments[channels + c] = Float(max(squares / count - offset * offset, 0))
        }
        expectSameBits(moments, expectedMoments, "moments \(shape)")

        let sums = output(of: ChannelGradientSums<Float>(layout: layout, epsilon: Self.epsilon, negativeSlope: nil),
                          [operands.dy, operands.x, moments], count: 2 * channels)
        var expectedSums = [Float](repeating: 0, count: 2 * channels)
        for c in 0..<channels {
            let (total, products) = referenceSums(c) { o, i in
                let at = (o * channels + c) * inner + i
                let g = operands.dy[at]
                return (g, g * (operands.x[at] - moments[c]))
            }
            expectedSums[c] = Float(total)
            expectedSums[channels + c] = Float(products / (Double(moments[channels + c]) + Self.epsilon).squareRoot())
        }
        expectSameBits(sums, expectedSums, "gradient sums \(shape)")
    }

    /// Every kernel gives the plain layout's bits for every combination of its operands'
    /// layouts (plain, blocked by 8 and by 16), in float32 and float64, without an activation
    /// and with a ReLU and a leaky ReLU: runs of 1 position, of fewer than 8, of several blocks
    /// of 512 with a tail, channels of one block and of several.
    @Test(arguments: [[3, 16, 1], [2, 32, 7], [4, 64, 49], [3, 16, 196], [2, 32, 600]])
    func blockedLayoutsGiveThePlainBits(_ shape: [Int]) {
        expectPlainBits(Operands<Float>(shape, seed: 11), blocks: [8, 16])
        expectPlainBits(Operands<Double>(shape, seed: 13), blocks: [8, 16])
    }

    /// Blocks of any size dividing the channels give the plain layout's bits too: blocks that
    /// are not a multiple of eight channels (gathered and scattered one channel at a time), and
    /// channels that are not a multiple of eight.
    @Test(arguments: [([2, 12, 9], [1, 3, 4, 6, 12]), ([2, 48, 13], [24, 48])])
    func anyBlockGivesThePlainBits(_ shape: [Int], _ blocks: [Int]) {
        expectPlainBits(Operands<Float>(shape, seed: 17), blocks: blocks)
        expectPlainBits(Operands<Double>(shape, seed: 19), blocks: blocks)
    }

    /// Runs each kernel on `operands` in the plain layout and in every combination of the
    /// layouts `.plain` and `.blocked(b)`, `b` in `blocks`, and expects the same bits.
    private func expectPlainBits<T: BatchNormElement>(_ operands: Operands<T>, blocks: [Int]) {
        let layout = operands.layout, epsilon = Self.epsilon
        let channels = layout.channels, count = layout.count
        let blockings = [ChannelBlocking.plain] + blocks.map { .blocked($0) }
        let name = "\(T.self) [\(layout.outer), \(channels), \(layout.inner)]"
        let moments = output(of: ChannelMoments<T>(layout: layout), [operands.x], count: 2 * channels)
        for xBlocking in blockings {
            let blocked = output(of: ChannelMoments<T>(layout: layout, xBlocking: xBlocking),
                                 [reordered(operands.x, layout, xBlocking)], count: 2 * channels)
            expectSameBits(blocked, moments, "\(name) moments, x \(xBlocking)")
        }
        for slope in Self.slopes {
            let parameters = [moments, operands.scale, operands.offset]
            let y = output(of: ChannelNormalization<T>(layout: layout, epsilon: epsilon, negativeSlope: slope),
                           [operands.x] + parameters, count: count)
            let sums = output(of: ChannelGradientSums<T>(layout: layout, epsilon: epsilon, negativeSlope: slope),
                              [operands.dy, operands.x] + parameters, count: 2 * channels)
            let dx = output(of: ChannelNormalizationGradient<T>(layout: layout, epsilon: epsilon, negativeSlope: slope),
                            [operands.dy, operands.x] + parameters + [sums], count: count)
            for xBlocking in blockings {
                let x = reordered(operands.x, layout, xBlocking)
                for yBlocking in blockings {
                    let kernel = ChannelNormalization<T>(layout: layout, epsilon: epsilon, negativeSlope: slope,
                                                         xBlocking: xBlocking, yBlocking: yBlocking)
                    expectSameBits(plainOrder(output(of: kernel, [x] + parameters, count: count), layout, yBlocking), y,
                                   "\(name) slope \(String(describing: slope)) normalization, x \(xBlocking), y \(yBlocking)")
                }
                for dyBlocking in blockings {
                    let dy = reordered(operands.dy, layout, dyBlocking)
                    let sumsKernel = ChannelGradientSums<T>(layout: layout, epsilon: epsilon, negativeSlope: slope,
                                                            dyBlocking: dyBlocking, xBlocking: xBlocking)
                    expectSameBits(output(of: sumsKernel, [dy, x] + parameters, count: 2 * channels), sums,
                                   "\(name) slope \(String(describing: slope)) gradient sums, dy \(dyBlocking), x \(xBlocking)")
                    for dxBlocking in blockings {
                        let kernel = ChannelNormalizationGradient<T>(
                            layout: layout, epsilon: epsilon, negativeSlope: slope,
                            dyBlocking: dyBlocking, xBlocking: xBlocking, dxBlocking: dxBlocking)
                        expectSameBits(
                            plainOrder(output(of: kernel, [dy, x] + parameters + [sums], count: count), layout, dxBlocking), dx,
                            "\(name) slope \(String(describing: slope)) input gradient, dy \(dyBlocking), x \(xBlocking), dx \(dxBlocking)")
                    }
                }
            }
        }
    }
}
