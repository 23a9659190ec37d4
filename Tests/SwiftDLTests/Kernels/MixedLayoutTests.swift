import Testing
@testable import SwiftDL

/// Kernels that take an accelerated plan's activations in different channel layouts: an
/// elementwise pass whose operands are laid out differently, and the batch's sum of a bias
/// gradient over a blocked activation. Each gives the plain computation's bits.
@Suite struct MixedLayoutTests {
    /// Blocks that the layouts' channels take: 8 and 16 as oneDNN's (whole vector transposes),
    /// 4 and 3 (element by element), 24 (both); mixed with each other, element by element.
    static let layouts: [(shape: [Int], blocks: [Int])] = [
        ([2, 16, 13], [8, 16, 4]), ([3, 48, 49], [8, 16, 24, 3]), ([2, 6, 5], [3]), ([1, 32, 300], [16]),
    ]

    /// `2a − b` over every combination of layouts (plain and each block, an input differing
    /// from the output): the output in its layout holds the plain result's elements.
    @Test func elementwisePassTransposesTheOperandsItMixes() {
        for (shape, blocks) in Self.layouts {
            let layout = ChannelLayout(shape, channel: 1)
            let a = (0..<layout.count).map { Float($0 % 97) * 0.37 - 11 }
            let b = (0..<layout.count).map { Float($0 % 89) * 1.13 + 0.5 }
            let expected = zip(a, b).map { 2 * $0 - $1 }
            let choices = [ChannelBlocking.plain] + blocks.map { ChannelBlocking.blocked($0) }
            for aBlocking in choices {
                for bBlocking in choices {
                    for yBlocking in choices where aBlocking != yBlocking || bBlocking != yBlocking {
                        let pass = MixedLayoutElementwise(layout: layout, inputBlockings: [aBlocking, bBlocking],
                                                          outputBlocking: yBlocking)
                        let kernel = ClosureKernel { inputs, output in
                            pass.run(inputs, output) { count, operands, y in
                                for i in 0..<count { y[i] = 2 * operands[0][i] - operands[1][i] }
                            }
                        }
                        let result = output(of: kernel, [reordered(a, layout, aBlocking), reordered(b, layout, bBlocking)],
                                            count: layout.count)
                        expectSameBits(plainOrder(result, layout, yBlocking), expected,
                                       "\(shape), a \(aBlocking), b \(bBlocking), y \(yBlocking)")
                    }
                }
            }
        }
    }

    /// The sum over the batch of an activation `[batch, channels, positions]` (a bias
    /// gradient's first reduction), its input blocked: the plain sums' bits, float32 and
    /// float64, with values whose sums depend on their order.
    @Test func batchSumOfABlockedActivationKeepsThePlainBits() {
        for (shape, blocks) in Self.layouts {
            let layout = ChannelLayout(shape, channel: 1)
            let values: [Double] = (0..<layout.count).map { i in
                let magnitude: Double = i % 7 == 0 ? 0x1p24 : 1
                let sign: Double = i % 3 == 0 ? -1 : 1
                return magnitude * sign + 0.1 * Double(i % 11)
            }
            check(values.map { Float($0) }, layout, blocks)
            check(values, layout, blocks)
        }

        func check<T: DLFloatingElement & BinaryFloatingPoint>(_ x: [T], _ layout: ChannelLayout, _ blocks: [Int]) {
            let plain = DimensionReduction<T>(outer: 1, length: layout.outer, inner: layout.channels * layout.inner,
                                              kind: .sum, channels: layout.channels)
            #expect(plain.blockableOperands.map(\.layout) == [layout])
            let expected = output(of: plain, [x], count: layout.channels * layout.inner)
            for block in blocks {
                let kernel = plain.with([.input(0): .blocked(block)])
                let result = output(of: kernel, [reordered(x, layout, .blocked(block))], count: expected.count)
                expectSameBits(result, expected, "\(T.self) \(layout), block \(block)")
            }
        }
    }
}
