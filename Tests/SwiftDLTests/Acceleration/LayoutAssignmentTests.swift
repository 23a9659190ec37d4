import Testing
@testable import SwiftDL

/// The accelerated plan's layout pass: activations passed between oneDNN products stay in
/// oneDNN's blocked layout, and the results keep the eager bits.
@Suite struct LayoutAssignmentTests {
    /// A convolution into a transposed convolution into a convolution, float32 (oneDNN), with
    /// biases, and the gradients of the filters, the biases and the input: the plan passes the
    /// activations between the three products blocked (the transposed convolution adds its bias
    /// to a blocked output), and replays new values with the eager path's bits.
    @Test func blockedActivationsKeepTheEagerBits() throws {
        typealias Results = (DLArray, DLArray, DLArray, DLArray, DLArray, DLArray)
        let function = { (x: DLArray, w1: DLArray, w2: DLArray, w3: DLArray, b2: DLArray) throws -> Results in
            let h = try dlconv(x, w1, DLArray.ones([32], type: .float32), stride: [2], padding: 1)
            let t = try dltranspconv(h, w2, b2, stride: [2], cropping: 1)
            let y = try dlconv(t, w3, DLArray.zeros([16], type: .float32), padding: 1)
            let loss = sum(try y * y)
            let (g1, g2, g3, gb, gx) = try dlgradient(loss, w1, w2, w3, b2, x)
            return (loss, g1, g2, g3, gb, gx)
        }
        let accelerated = dlaccelerate(function)
        for seed in [UInt64(1), 2, 3] {
            let x = DLArray.randn([4, 16, 8, 8], type: .float32, labels: "BCSS", seed: seed)
            let w1 = DLArray.randn([32, 16, 4, 4], type: .float32, seed: seed + 10)
            let w2 = DLArray.randn([32, 16, 4, 4], type: .float32, seed: seed + 20)
            let w3 = DLArray.randn([16, 16, 3, 3], type: .float32, seed: seed + 30)
            let b2 = DLArray.randn([16], type: .float32, seed: seed + 40)
            let a = try dlfeval(accelerated, x, w1, w2, w3, b2)
            let e = try dlfeval(function, x, w1, w2, w3, b2)
            for (name, replayed, eager) in [("loss", a.0, e.0), ("w1", a.1, e.1), ("w2", a.2, e.2), ("w3", a.3, e.3),
                                            ("b2", a.4, e.4), ("x", a.5, e.5)] {
                #expect(firstDifference(replayed, eager) == nil, "\(name), seed \(seed)")
            }
        }
        #expect(accelerated.hitRate == 200.0 / 3, "\(accelerated.lastEagerReason ?? "")")
        // Written blocked: h (by the convolution), t (by the transposed convolution), and the
        // gradients passed between products; read blocked by every product that reads them.
        let counts = try #require(accelerated.lastTraceLayoutCounts)
        #expect(counts.blocked >= 6, "\(counts)")
    }

    /// A small DCGAN-like discriminator, float32: convolutions on oneDNN with batch
    /// normalization and (leaky) ReLUs between them, its learnables' gradients and new state:
    /// the batch norm reads and writes the activations blocked, and the replay keeps the eager
    /// bits, over calls with new values and the state carried on.
    @Test func batchNormalizationBetweenConvolutionsKeepsTheEagerBits() throws {
        var eagerNet = try DLNetwork([
            ConvolutionLayer(kernel: [3, 3], filters: 32, padding: 1, name: "conv1"),
            BatchNormalizationLayer(name: "bn1"), ActivationLayer(.leakyrelu(scale: 0.2)),
            ConvolutionLayer(kernel: [4, 4], filters: 32, stride: [2], padding: 1, name: "conv2"),
            BatchNormalizationLayer(name: "bn2"), ActivationLayer(.relu),
            FlattenLayer(), FullyConnectedLayer(outputSize: 1, name: "fc"),
        ])
        try eagerNet.initialize(DLArray.zeros([1, 16, 8, 8], type: .float32, labels: "BCSS"), seed: 7)
        var acceleratedNet = eagerNet
        let loss = { (net: DLNetwork, x: DLArray) throws -> (DLArray, DLParameterTable, DLParameterTable) in
            let (y, state) = try net.forward(x)
            let value = sum(try y * y)
            return (value, try dlgradient(value, net.learnables), state)
        }
        let accelerated = dlaccelerate(loss)
        for seed in [UInt64(1), 2, 3] {
            let x = DLArray.randn([8, 16, 8, 8], type: .float32, labels: "BCSS", seed: seed)
            let a = try dlfeval(accelerated, acceleratedNet, x), e = try dlfeval(loss, eagerNet, x)
            #expect(firstDifference(a.0, e.0) == nil, "loss, seed \(seed)")
            for (ra, re) in zip(a.1.rows + a.2.rows, e.1.rows + e.2.rows) {
                #expect(firstDifference(ra.value, re.value) == nil, "\(ra.layer)/\(ra.parameter), seed \(seed)")
            }
            acceleratedNet.state = a.2
            eagerNet.state = e.2
        }
        #expect(accelerated.hitRate == 200.0 / 3, "\(accelerated.lastEagerReason ?? "")")
        let counts = try #require(accelerated.lastTraceLayoutCounts)
        #expect(counts.blocked >= 8, "\(counts)")
    }

    /// DCGAN-shaped networks, float32: a discriminator whose first convolution has one input
    /// channel (im2col, plain) and a generator whose last has one filter, with a oneDNN
    /// convolution, batch norms and (leaky) ReLUs between. The plan hands the leaky ReLU a plain
    /// input and takes its output blocked (and its gradient the other way), and the batch
    /// norms a blocked input and a plain output: no reorder is left, and the replay keeps the
    /// eager bits of the loss, every learnable's gradient, the state and the input's gradient.
    @Test func mixedLayoutsLeaveNoReorderAndKeepTheEagerBits() throws {
        var discriminator = try DLNetwork([
            ConvolutionLayer(kernel: [4, 4], filters: 32, stride: [2], padding: 1, name: "conv1"),
            ActivationLayer(.leakyrelu(scale: 0.2)),
            ConvolutionLayer(kernel: [4, 4], filters: 32, stride: [2], padding: 1, name: "conv2"),
            BatchNormalizationLayer(name: "bn"), ActivationLayer(.leakyrelu(scale: 0.2)),
            FlattenLayer(), FullyConnectedLayer(outputSize: 1, name: "fc"),
        ])
        try discriminator.initialize(DLArray.zeros([1, 1, 16, 16], type: .float32, labels: "BCSS"), seed: 7)
        var generator = try DLNetwork([
            BatchNormalizationLayer(name: "bn1"), ActivationLayer(.relu),
            TransposedConvolutionLayer(kernel: [4, 4], filters: 32, stride: [2], cropping: 1, name: "up1"),
            BatchNormalizationLayer(name: "bn2"), ActivationLayer(.relu),
            TransposedConvolutionLayer(kernel: [4, 4], filters: 1, stride: [2], cropping: 1, name: "up2"),
        ])
        try generator.initialize(DLArray.zeros([1, 32, 4, 4], type: .float32, labels: "BCSS"), seed: 8)
        typealias Results = (DLArray, DLParameterTable, DLParameterTable, DLParameterTable, DLParameterTable, DLArray)
        let loss = { (g: DLNetwork, d: DLNetwork, z: DLArray) throws -> Results in
            let (fake, gState) = try g.forward(z)
            let (score, dState) = try d.forward(fake)
            let value = sum(try score * score)
            let (gGradients, dGradients, zGradient) = try dlgradient(value, g.learnables, d.learnables, z)
            return (value, gGradients, dGradients, gState, dState, zGradient)
        }
        let accelerated = dlaccelerate(loss)
        for seed in [UInt64(1), 2, 3] {
            let z = DLArray.randn([8, 32, 4, 4], type: .float32, labels: "BCSS", seed: seed)
            let a = try dlfeval(accelerated, generator, discriminator, z), e = try dlfeval(loss, generator, discriminator, z)
            #expect(firstDifference(a.0, e.0) == nil, "loss, seed \(seed)")
            #expect(firstDifference(a.5, e.5) == nil, "z's gradient, seed \(seed)")
            for (ra, re) in zip(a.1.rows + a.2.rows + a.3.rows + a.4.rows, e.1.rows + e.2.rows + e.3.rows + e.4.rows) {
                #expect(firstDifference(ra.value, re.value) == nil, "\(ra.layer)/\(ra.parameter), seed \(seed)")
            }
            generator.state = a.3
            discriminator.state = a.4
        }
        #expect(accelerated.hitRate == 200.0 / 3, "\(accelerated.lastEagerReason ?? "")")
        let counts = try #require(accelerated.lastTraceLayoutCounts)
        #expect(counts.reorders == 0, "\(counts)")
        #expect(counts.blocked >= 12, "\(counts)")
    }
}
