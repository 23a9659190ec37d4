import Testing
@testable import SwiftDL

/// Training-mode batchnorm composed of differentiable operations, as before the fused kernels:
/// the output, and the gradients of `sum(y · upstream)` in x, scale and offset.
private func composedBatchnorm(_ x: DLArray, _ offset: DLArray, _ scale: DLArray, upstream: DLArray,
                               epsilon: Double = 1e-5) throws -> (DLArray, DLArray, DLArray, DLArray) {
    try dlfeval({ (x: DLArray, offset: DLArray, scale: DLArray) in
        let shape = [1, x.shape[1]] + [Int](repeating: 1, count: x.rank - 2)
        let dims = x.shape.indices.filter { $0 != 1 }
        let (_, centered, variance) = try centeredStatistics(x, over: dims)
        let y = try centered * (reshape(scale, shape) / sqrt(variance + epsilon)) + reshape(offset, shape)
        let (dx, ds, db) = try dlgradient(sum(y * upstream), x, scale, offset)
        return (extractdata(y), dx, ds, db)
    }, x, offset, scale)
}

/// Fused training-mode batchnorm (unlabeled `[N, C, …]`): the output, and the gradients of
/// `sum(y · upstream)` in x, scale and offset.
private func fusedBatchnorm(_ x: DLArray, _ offset: DLArray, _ scale: DLArray, upstream: DLArray,
                            epsilon: Double = 1e-5) throws -> (DLArray, DLArray, DLArray, DLArray) {
    let format = "BC" + String(repeating: "S", count: x.rank - 2)
    let running = (DLArray.zeros([x.shape[1]], type: x.dataType), DLArray.ones([x.shape[1]], type: x.dataType))
    return try dlfeval({ (x: DLArray, offset: DLArray, scale: DLArray) in
        let y = try batchnorm(x, offset, scale, runningMean: running.0, runningVariance: running.1, epsilon: epsilon,
                              dataFormat: format).output
        let (dx, ds, db) = try dlgradient(sum(y * upstream), x, scale, offset)
        return (extractdata(y), dx, ds, db)
    }, x, offset, scale)
}

@Suite struct BatchNormalizationTests {
    /// The fused forward and backward give the composite's values, in float64 to rounding, on
    /// runs shorter than, equal to and longer than a vector (15, 8 and 1 elements) and with a
    /// large mean.
    @Test(arguments: [[4, 3, 3, 5], [5, 2, 2, 4], [7, 3], [3, 2, 40]])
    func matchesComposite(_ shape: [Int]) throws {
        let x = DLArray.randn(shape, seed: 31) * 3 + 50
        let channels = shape[1]
        let offset = DLArray.randn([channels], seed: 32), scale = DLArray.randn([channels], seed: 33) + 1
        let upstream = DLArray.randn(shape, seed: 34)
        let fused = try fusedBatchnorm(x, offset, scale, upstream: upstream)
        let composed = try composedBatchnorm(x, offset, scale, upstream: upstream)
        expectClose(fused.0, composed.0, tolerance: 1e-12, "y \(shape)")
        expectClose(fused.1, composed.1, tolerance: 1e-12, "dx \(shape)")
        expectClose(fused.2, composed.2, tolerance: 1e-12, "dscale \(shape)")
        expectClose(fused.3, composed.3, tolerance: 1e-12, "doffset \(shape)")
    }

    /// Float32 agrees with float64 to float32's precision, also with a mean 100 standard
    /// deviations away from zero (the statistics are taken about a sample of each channel in
    /// float64, so the variance does not cancel away).
    @Test func float32AgreesWithFloat64() throws {
        let shape = [16, 4, 7, 7]
        let x = DLArray.randn(shape, seed: 35) * 0.5 + 50
        let offset = DLArray.randn([4], seed: 36), scale = DLArray.randn([4], seed: 37) + 1
        let upstream = DLArray.randn(shape, seed: 38)
        let wide = try fusedBatchnorm(x, offset, scale, upstream: upstream)
        let narrow = try fusedBatchnorm(x.converted(to: .float32), offset.converted(to: .float32),
                                        scale.converted(to: .float32), upstream: upstream.converted(to: .float32))
        #expect(narrow.0.dataType == .float32 && narrow.1.dataType == .float32)
        // x itself rounds to float32 with error 50·2⁻²⁴ = 3e-6, 6e-6 standard deviations.
        expectClose(narrow.0.converted(to: .float64), wide.0, tolerance: 2e-5, "y")
        expectClose(narrow.1.converted(to: .float64), wide.1, tolerance: 2e-4, "dx")
        expectClose(narrow.2.converted(to: .float64), wide.2, tolerance: 2e-4, "dscale")
        expectClose(narrow.3.converted(to: .float64), wide.3, tolerance: 1e-5, "doffset")
    }

    /// The updated running statistics from the fused statistics, by hand: the mean and the
    /// unbiased variance of each channel, weighted by the decays.
    @Test func runningStatistics() throws {
        let x = DLArray.randn([6, 2, 3, 3], seed: 39) * 2 + 1
        for type in [DLDataType.float64, .float32] {
            let result = try batchnorm(x.converted(to: type), DLArray.zeros([2], type: type), DLArray.ones([2], type: type),
                                       runningMean: DLArray([0.5, -0.5]).converted(to: type),
                                       runningVariance: DLArray([2.0, 3.0]).converted(to: type),
                                       meanDecay: 0.3, varianceDecay: 0.2, dataFormat: "BCSS")
            let values = x.scalars(as: Double.self)
            var means = [Double](), variances = [Double]()
            for c in 0..<2 {
                var channel: [Double] = []
                for n in 0..<6 { channel += values[(n * 2 + c) * 9 ..< (n * 2 + c + 1) * 9] }
                let m: Double = channel.reduce(0, +) / 54
                let squares: [Double] = channel.map { ($0 - m) * ($0 - m) }
                means.append(m)
                variances.append(squares.reduce(0, +) / 53)
            }
            let tolerance = type == .float64 ? 1e-13 : 1e-6
            expectClose(result.runningMean.converted(to: .float64),
                        DLArray([0.3 * means[0] + 0.35, 0.3 * means[1] - 0.35]), tolerance: tolerance, "mean \(type)")
            expectClose(result.runningVariance.converted(to: .float64),
                        DLArray([0.2 * variances[0] + 1.6, 0.2 * variances[1] + 2.4]), tolerance: tolerance, "variance \(type)")
        }
    }

    /// Gradients of order 1 (the fused backward) and 2 (the differentiable closed form, and the
    /// fused backward of the output's own node) against finite differences, through x, offset
    /// and scale, on runs of 15 elements (a vector and a tail) and of 1.
    @Test func gradcheckFirstAndSecondOrder() throws {
        let rm = DLArray.zeros([2]), rv = DLArray.ones([2])
        let image = [DLArray.randn([3, 2, 3, 5], seed: 40) + 2, DLArray([0.3, -0.4]), DLArray([1.2, 0.7])]
        let features = [DLArray.randn([5, 2], seed: 41), DLArray([0.3, -0.4]), DLArray([1.2, -0.7])]
        for (point, format) in [(image, "BCSS"), (features, "BC")] {
            for order in 1...2 {
                let result = try gradcheck({ p in
                    try tanh(batchnorm(p[0], p[1], p[2], runningMean: rm, runningVariance: rv, dataFormat: format).output)
                }, at: point, order: order)
                #expect(result.passed, "\(format) order \(order): \(result)")
            }
        }
    }

    /// Each channel's result has the same bits whichever cores share the channels: this batch
    /// (32 channels of 64×14×14, as the DCGAN generator's) is split across two cores, one
    /// channel alone is not.
    @Test func channelsDoNotDependOnTheSplit() throws {
        let x = DLArray.randn([64, 32, 14, 14], type: .float32, seed: 42)
        let upstream = DLArray.randn([64, 32, 14, 14], type: .float32, seed: 43)
        let (offset, scale) = (DLArray.randn([32], type: .float32, seed: 44), DLArray.randn([32], type: .float32, seed: 45))
        let whole = try fusedBatchnorm(x, offset, scale, upstream: upstream)
        for c in [0, 9, 31] {
            let alone = try fusedBatchnorm(x.slice(dim: 1, range: c..<c + 1), offset.slice(dim: 0, range: c..<c + 1),
                                           scale.slice(dim: 0, range: c..<c + 1),
                                           upstream: upstream.slice(dim: 1, range: c..<c + 1))
            #expect(firstDifference(try whole.0.slice(dim: 1, range: c..<c + 1), alone.0) == nil, "y channel \(c)")
            #expect(firstDifference(try whole.1.slice(dim: 1, range: c..<c + 1), alone.1) == nil, "dx channel \(c)")
            #expect(firstDifference(try whole.2.slice(dim: 0, range: c..<c + 1), alone.2) == nil, "dscale channel \(c)")
        }
    }

    /// In a network in training, batch normalization followed by a ReLU or leaky ReLU layer
    /// runs as one fused operation; its output, gradients and updated state have the bits of
    /// batchnorm and the activation applied one after the other.
    @Test(arguments: [Activation.relu, .leakyrelu(scale: 0.2)])
    func networkFusesTheFollowingActivation(_ activation: Activation) throws {
        let x = DLArray.randn([8, 6, 5, 5], type: .float32, labels: "BCSS", seed: 46)
        let upstream = DLArray.randn([8, 6, 5, 5], type: .float32, seed: 47)
        var net = try DLNetwork([BatchNormalizationLayer(name: "bn"), ActivationLayer(activation, name: "act")])
        try net.initialize(x, seed: 1)
        var learnables = net.learnables
        learnables["bn", "Offset"] = DLArray.randn([6], type: .float32, seed: 48)
        learnables["bn", "Scale"] = DLArray.randn([6], type: .float32, seed: 49)
        net.learnables = learnables
        let (y, dx, gradients, state) = try dlfeval({ (net: DLNetwork, x: DLArray) in
            let (y, state) = try net.forward(x)
            let (dx, gradients) = try dlgradient(sum(y * upstream), x, net.learnables)
            return (extractdata(y), dx, gradients, state)
        }, net, x)
        let (offset, scale) = (net.learnables["bn", "Offset"]!, net.learnables["bn", "Scale"]!)
        let (mean, variance) = (net.state["bn", "TrainedMean"]!, net.state["bn", "TrainedVariance"]!)
        let reference = try dlfeval({ (x: DLArray, offset: DLArray, scale: DLArray) in
            let result = try batchnorm(x, offset, scale, runningMean: mean, runningVariance: variance)
            let y = try activation == .relu ? relu(result.output) : leakyrelu(result.output, scale: 0.2)
            let (dx, doffset, dscale) = try dlgradient(sum(y * upstream), x, offset, scale)
            return (extractdata(y), dx, doffset, dscale, result.runningMean, result.runningVariance)
        }, x, offset, scale)
        #expect(firstDifference(y, reference.0) == nil, "y")
        #expect(firstDifference(dx, reference.1) == nil, "dx")
        #expect(firstDifference(gradients["bn", "Offset"]!, reference.2) == nil, "doffset")
        #expect(firstDifference(gradients["bn", "Scale"]!, reference.3) == nil, "dscale")
        #expect(firstDifference(state["bn", "TrainedMean"]!, reference.4) == nil, "running mean")
        #expect(firstDifference(state["bn", "TrainedVariance"]!, reference.5) == nil, "running variance")
        // ReLU's zeros: some outputs are clipped, so the mask is exercised.
        #expect(y.scalars(as: Float.self).contains { $0 <= 0 })
    }

    /// The fused activation's gradients of order 1 and 2 against finite differences.
    @Test(arguments: [0.0, 0.2])
    func fusedActivationGradcheck(_ slope: Double) throws {
        let (rm, rv) = (DLArray.zeros([2]), DLArray.ones([2]))
        let point = [DLArray.randn([3, 2, 3, 5], seed: 50) + 0.5, DLArray([0.3, -0.4]), DLArray([1.2, 0.7])]
        for order in 1...2 {
            let result = try gradcheck({ p in
                try batchnorm(p[0], p[1], p[2], runningMean: rm, runningVariance: rv, meanDecay: 0.1, varianceDecay: 0.1,
                              epsilon: 1e-5, dataFormat: "BCSS", synchronizedOver: nil, negativeSlope: slope)!.output
            }, at: point, order: order)
            #expect(result.passed, "slope \(slope) order \(order): \(result)")
        }
    }
}
