import Testing
@testable import SwiftDL

/// The three traced window products under dlconv and dltranspconv: their values against
/// direct sums, their adjoint identities, and their derivatives of orders 1 and 2.
@Suite struct WindowProductTests {
    /// Layouts with stride, dilation, uneven padding and groups, in 1, 2 and 3 dimensions; the
    /// last two stride along their last dimension (stride phases) with lines long enough to be
    /// moved in chunks, the last as a DCGAN's 4×4 stride-2 layers do, over more than one part.
    static let layouts: [ConvolutionLayout] = [
        ConvolutionLayout(geometry: WindowGeometry(inputSize: [5, 4], kernel: [2, 3], stride: [2, 1], dilation: [1, 2],
                                                   paddingBefore: [1, 0], paddingAfter: [0, 2]),
                          batch: 3, channels: 4, filters: 6, groups: 2),
        ConvolutionLayout(geometry: WindowGeometry(inputSize: [7], kernel: [3], stride: [2], dilation: [1],
                                                   paddingBefore: [1], paddingAfter: [1]),
                          batch: 2, channels: 3, filters: 2, groups: 1),
        ConvolutionLayout(geometry: WindowGeometry(inputSize: [3, 4, 3], kernel: [2, 2, 2], stride: [1, 2, 1],
                                                   dilation: [1, 1, 2], paddingBefore: [0, 1, 1], paddingAfter: [1, 0, 1]),
                          batch: 2, channels: 2, filters: 3, groups: 1),
        ConvolutionLayout(geometry: WindowGeometry(inputSize: [4, 20], kernel: [2, 3], stride: [1, 3], dilation: [1, 2],
                                                   paddingBefore: [1, 2], paddingAfter: [0, 1]),
                          batch: 3, channels: 2, filters: 3, groups: 1),
        ConvolutionLayout(geometry: WindowGeometry(inputSize: [6, 14], kernel: [4, 4], stride: [2, 2], dilation: [1, 1],
                                                   paddingBefore: [1, 1], paddingAfter: [1, 1]),
                          batch: 5, channels: 3, filters: 4, groups: 1),
    ]

    static func operands(_ layout: ConvolutionLayout, seed: UInt64) -> (x: DLArray, w: DLArray, y: DLArray) {
        (DLArray.randn(layout.inputShape, seed: seed), DLArray.randn(layout.filterShape, seed: seed + 1),
         DLArray.randn(layout.outputShape, seed: seed + 2))
    }

    /// The convolution as a direct sum over every output element, window element and channel.
    static func directConvolution(_ x: DLArray, _ w: DLArray, _ layout: ConvolutionLayout) -> [Double] {
        let (xs, ws) = (x.scalars(as: Double.self), w.scalars(as: Double.self))
        let geometry = layout.geometry, rank = geometry.inputSize.count
        let (output, perGroup) = (geometry.outputSize, layout.channels / layout.groups)
        let filtersPerGroup = layout.filters / layout.groups
        let inputStrides = contiguousStrides(geometry.inputSize), outputStrides = contiguousStrides(output)
        var result = [Double](repeating: 0, count: layout.outputShape.reduce(1, *))
        for n in 0..<layout.batch {
            for f in 0..<layout.filters {
                let group = f / filtersPerGroup
                for l in 0..<geometry.positionCount {
                    var total = 0.0
                    for cg in 0..<perGroup {
                        let c = group * perGroup + cg
                        for (k, offsets) in geometry.kernelOffsets.enumerated() {
                            var offset = 0, inside = true
                            for d in 0..<rank {
                                let position = l / outputStrides[d] % output[d]
                                let coordinate = position * geometry.stride[d] + offsets[d] * geometry.dilation[d]
                                    - geometry.paddingBefore[d]
                                if coordinate < 0 || coordinate >= geometry.inputSize[d] { inside = false }
                                offset += coordinate * inputStrides[d]
                            }
                            guard inside else { continue }
                            let planeSize = geometry.inputSize.reduce(1, *)
                            total += xs[(n * layout.channels + c) * planeSize + offset]
                                * ws[(f * perGroup + cg) * geometry.windowCount + k]
                        }
                    }
                    result[(n * layout.filters + f) * geometry.positionCount + l] = total
                }
            }
        }
        return result
    }

    @Test(arguments: 0..<5)
    func valuesAndAdjoints(_ index: Int) throws {
        let layout = Self.layouts[index]
        let (x, w, y) = Self.operands(layout, seed: 10)
        let bias = DLArray.randn([layout.filters], seed: 20)
        let convolved = windowConvolution(x, w, bias, layout: layout)
        let biasPerElement = try bias.reshaped([1, layout.filters] + Array(repeating: 1, count: x.rank - 2))
            .broadcast(to: layout.outputShape)
        expectClose(convolved, try DLArray(Self.directConvolution(x, w, layout), shape: layout.outputShape) + biasPerElement,
                    tolerance: 1e-12)
        // ⟨conv(x, w), y⟩ = ⟨x, convᵀ(y, w)⟩ = ⟨w, correlation(x, y)⟩.
        let reference = try sum(windowConvolution(x, w, nil, layout: layout) * y).scalar(as: Double.self)
        let throughInput = try sum(x * transposedWindowConvolution(y, w, nil, layout: layout)).scalar(as: Double.self)
        let throughFilters = try sum(w * windowCorrelation(x, y, layout: layout)).scalar(as: Double.self)
        #expect(abs(reference - throughInput) < 1e-10 * max(1, abs(reference)))
        #expect(abs(reference - throughFilters) < 1e-10 * max(1, abs(reference)))
        // The transposed convolution's bias adds once per input element.
        let inputBias = DLArray.randn([layout.channels], seed: 21)
        let shifted = transposedWindowConvolution(y, w, inputBias, layout: layout)
        let unshifted = transposedWindowConvolution(y, w, nil, layout: layout)
        expectClose(try shifted - unshifted, try inputBias.reshaped([1, layout.channels] + Array(repeating: 1, count: x.rank - 2))
            .broadcast(to: layout.inputShape), tolerance: 1e-12)
    }

    /// float32 and complex products, whose window lines move in chunks of their own sizes,
    /// agree with float64 ones; a complex product's real part is `P(x, w) − P(xᵢ, wᵢ)`.
    @Test(arguments: 0..<5)
    func otherTypesAgree(_ index: Int) throws {
        let layout = Self.layouts[index]
        let (x, w, y) = Self.operands(layout, seed: 50)
        let (xi, wi, yi) = Self.operands(layout, seed: 60)
        let products: [(DLArray, DLArray, DLArray) -> DLArray] = [
            { x, w, _ in windowConvolution(x, w, nil, layout: layout) },
            { _, w, y in transposedWindowConvolution(y, w, nil, layout: layout) },
            { x, _, y in windowCorrelation(x, y, layout: layout) },
        ]
        for product in products {
            let expected = product(x, w, y)
            let single = product(x.converted(to: .float32), w.converted(to: .float32), y.converted(to: .float32))
            expectClose(single.converted(to: .float64), expected, tolerance: 1e-4, "float32")
            let realPart = try expected - product(xi, wi, yi)
            for type in [DLDataType.float64, .float32] {
                let operands = try [(x, xi), (w, wi), (y, yi)].map { try complex($0.converted(to: type), $1.converted(to: type)) }
                let result = real(product(operands[0], operands[1], operands[2])).converted(to: .float64)
                expectClose(result, realPart, tolerance: type == .float64 ? 1e-10 : 1e-4, "complex \(type)")
            }
        }
    }

    @Test(arguments: [(0, 1), (0, 2), (1, 1), (1, 2), (2, 1), (2, 2), (3, 1), (4, 1)])
    func gradcheckEveryProduct(_ index: Int, order: Int) throws {
        let layout = Self.layouts[index]
        let (x, w, y) = Self.operands(layout, seed: 30)
        let (outputBias, inputBias) = (DLArray.randn([layout.filters], seed: 40), DLArray.randn([layout.channels], seed: 41))
        let convolution = try gradcheck({ (p: [DLArray]) in
            tanh(windowConvolution(p[0], p[1], p[2], layout: layout))
        }, at: [x, w * 0.5, outputBias], order: order)
        #expect(convolution.passed, "\(convolution)")
        let transposed = try gradcheck({ (p: [DLArray]) in
            tanh(transposedWindowConvolution(p[0], p[1], p[2], layout: layout))
        }, at: [y, w * 0.5, inputBias], order: order)
        #expect(transposed.passed, "\(transposed)")
        let correlation = try gradcheck({ (p: [DLArray]) in
            tanh(windowCorrelation(p[0], p[1], layout: layout) * 0.3)
        }, at: [x, y], order: order)
        #expect(correlation.passed, "\(correlation)")
    }

    @Test func complexGradientsConjugate() throws {
        let layout = Self.layouts[0]
        let (x, w, y) = Self.operands(layout, seed: 50)
        let (xi, wi, yi) = Self.operands(layout, seed: 60)
        let result = try gradcheck({ (p: [DLArray]) in
            let convolved = windowConvolution(p[0], p[1], nil, layout: layout)
            let transposed = transposedWindowConvolution(p[2], p[1], nil, layout: layout)
            let correlation = windowCorrelation(p[0], p[2], layout: layout)
            return try sum(convolved * convolved) + sum(transposed * transposed) + sum(correlation * correlation)
        }, at: [try complex(x, xi), try complex(w, wi), try complex(y, yi)], order: 1)
        #expect(result.passed, "\(result)")
    }
}
