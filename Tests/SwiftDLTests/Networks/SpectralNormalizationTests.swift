import Foundation
import Testing
@testable import SwiftDL

/// Spectral normalization: its power iterations against matrices of known singular values, one
/// iteration computed by hand as PyTorch's `spectral_norm` does it, its derivatives (also under
/// the R1 and WGAN-GP penalties) against finite differences, and its state in network files.
@Suite struct SpectralNormalizationTests {
    /// A row-major `m`×`n` matrix with the singular values `values` (in decreasing order):
    /// `Q₁·diag(values)·Q₂ᵀ` with Householder reflections `Q₁`, `Q₂` (exactly orthogonal).
    static func matrix(_ m: Int, _ n: Int, singularValues values: [Double]) -> [Double] {
        func reflection(_ size: Int) -> [Double] {
            let a = (0..<size).map { Double($0 % 3) + 0.5 * Double($0) - 1.2 }
            let squared = a.reduce(0) { $0 + $1 * $1 }
            return (0..<size * size).map { k in (k / size == k % size ? 1 : 0) - 2 * a[k / size] * a[k % size] / squared }
        }
        let (left, right) = (reflection(m), reflection(n))
        return (0..<m * n).map { k in
            let (i, j) = (k / n, k % n)
            return values.indices.reduce(0) { $0 + left[i * m + $1] * values[$1] * right[j * n + $1] }
        }
    }

    /// The largest singular value of a row-major `m`×`n` matrix by 2,000 steps of the power
    /// method on `AᵀA` in float64 (converged for the matrices here, whose two largest singular
    /// values differ by a factor of at least 1.5).
    static func largestSingularValue(_ a: [Double], _ m: Int, _ n: Int) -> Double {
        var v = (0..<n).map { 1 + 0.1 * Double($0) }
        var sigma = 0.0
        for _ in 0..<2000 {
            let av = (0..<m).map { i in (0..<n).reduce(0) { $0 + a[i * n + $1] * v[$1] } }
            let atav = (0..<n).map { j in (0..<m).reduce(0) { $0 + a[$1 * n + j] * av[$1] } }
            let length = atav.reduce(0) { $0 + $1 * $1 }.squareRoot()
            v = atav.map { $0 / length }
            sigma = length.squareRoot()
        }
        return sigma
    }

    /// `count` training passes of a one-layer network, keeping its state after each.
    static func train(_ net: inout DLNetwork, _ x: DLArray, passes count: Int) throws {
        for _ in 0..<count { net.state = try net.forward(x).state }
    }

    @Test func oneIterationIsPyTorchs() throws {
        // PyTorch's W (one row per output) is [[2, 1], [0, 1]]; the layer's weights are Wᵀ.
        // From u = [1, 0]: v = Wᵀu/‖·‖ = [2, 1]/√5, u = Wv/‖·‖ = [5, 1]/√26, σ = uᵀWv = √(26/5).
        let x = try DLArray(rows: [[1.0, 0], [0, 1]]).labeled("BC")
        var net = try DLNetwork([SpectralNormalizationLayer(FullyConnectedLayer(outputSize: 2, name: "fc"))])
        try net.initialize(x)
        net.learnables["fc", "Weights"] = try DLArray(rows: [[2.0, 0], [1, 1]])
        net.state["fc", "U"] = DLArray([1.0, 0])
        let (y, state) = try net.forward(x)
        let sigma = (26.0 / 5).squareRoot()
        expectClose(y, try DLArray(rows: [[2 / sigma, 0], [1 / sigma, 1 / sigma]]), tolerance: 1e-15, "output")
        expectClose(state["fc", "U"]!, DLArray([5 / 26.0.squareRoot(), 1 / 26.0.squareRoot()]), tolerance: 1e-15, "u")
        expectClose(state["fc", "V"]!, DLArray([2 / 5.0.squareRoot(), 1 / 5.0.squareRoot()]), tolerance: 1e-15, "v")
        // Inference uses the stored vectors: with u = [1, 0] and v = [0, 1], σ = W₀₁ = 1.
        net.state["fc", "V"] = DLArray([0.0, 1])
        expectClose(try net.predict(x), try DLArray(rows: [[2.0, 0], [1, 1]]), tolerance: 1e-15, "inference")
    }

    @Test func fullyConnectedWeightsReachSpectralNormOne() throws {
        // PyTorch's 5×3 matrix (outputs × inputs) with singular values 4, 2.5, 0.5.
        let values = Self.matrix(5, 3, singularValues: [4, 2.5, 0.5])
        let x = DLArray.randn([2, 3], labels: "BC", seed: 1)
        var net = try DLNetwork([SpectralNormalizationLayer(FullyConnectedLayer(outputSize: 5, name: "fc"))])
        try net.initialize(x, seed: 3)
        net.learnables["fc", "Weights"] = try transpose(DLArray(values, shape: [5, 3]))
        let layer = try #require(net.layers[0] as? SpectralNormalizationLayer)
        let before = try layer.normalizedWeights(mode: .inference).weights
        let initialNorm = Self.largestSingularValue(try transpose(before).scalars(as: Double.self), 5, 3)
        #expect(abs(initialNorm - 1) > 0.05, "random vectors should not already give σ: \(initialNorm)")
        try Self.train(&net, x, passes: 40)
        let trained = try #require(net.layers[0] as? SpectralNormalizationLayer)
        let normalized = try trained.normalizedWeights(mode: .inference).weights
        // σ estimated from the stored vectors: the weights divided by the normalized weights.
        let sigma = net.learnables["fc", "Weights"]!.scalars(as: Double.self)[0] / normalized.scalars(as: Double.self)[0]
        #expect(abs(sigma - 4) < 1e-12, "σ \(sigma)")
        let largest = Self.largestSingularValue(try transpose(normalized).scalars(as: Double.self), 5, 3)
        #expect(abs(largest - 1) < 1e-12, "largest singular value \(largest)")
    }

    @Test func convolutionAndTransposedConvolutionWeights() throws {
        // Convolution [filters 4, channels 2, 2, 2]: a 4×8 matrix with singular values 3, 1, 0.5, 0.2.
        let x = DLArray.randn([2, 2, 5, 5], labels: "BCSS", seed: 2)
        var conv = try DLNetwork([SpectralNormalizationLayer(ConvolutionLayer(kernel: [2, 2], filters: 4, name: "conv"))])
        try conv.initialize(x, seed: 4)
        let weights = try DLArray(Self.matrix(4, 8, singularValues: [3, 1, 0.5, 0.2]), shape: [4, 2, 2, 2])
        conv.learnables["conv", "Weights"] = weights
        conv.learnables["conv", "Bias"] = DLArray([0.1, -0.2, 0.3, 0.0])
        try Self.train(&conv, x, passes: 30)
        let expected = try dlconv(x, weights / 3, conv.learnables["conv", "Bias"]!)
        expectClose(try conv.predict(x), expected, tolerance: 1e-12, "convolution")
        let normalized = try #require(conv.layers[0] as? SpectralNormalizationLayer).normalizedWeights(mode: .inference).weights
        #expect(abs(Self.largestSingularValue(normalized.scalars(as: Double.self), 4, 8) - 1) < 1e-12)

        // Transposed convolution [channels 2, filters 3, 2, 2]: its rows are the filters, so the
        // 3×8 matrix (singular values 2, 0.7, 0.1) is stored with its first two dimensions swapped.
        var transposed = try DLNetwork([
            SpectralNormalizationLayer(TransposedConvolutionLayer(kernel: [2, 2], filters: 3, stride: [2], name: "tconv")),
        ])
        try transposed.initialize(x, seed: 5)
        let rows = try DLArray(Self.matrix(3, 8, singularValues: [2, 0.7, 0.1]), shape: [3, 2, 2, 2])
        let filters = try permute(rows, [1, 0, 2, 3])
        transposed.learnables["tconv", "Weights"] = filters
        try Self.train(&transposed, x, passes: 30)
        let bias = transposed.learnables["tconv", "Bias"]!
        expectClose(try transposed.predict(x), try dltranspconv(x, filters / 2, bias, stride: [2]), tolerance: 1e-12, "transposed")
        #expect(transposed.state["tconv", "U"]!.shape == [3] && transposed.state["tconv", "V"]!.shape == [8])
    }

    @Test func inferenceLeavesTheVectorsAlone() throws {
        let x = DLArray.randn([3, 4], labels: "BC", seed: 6)
        var net = try DLNetwork([SpectralNormalizationLayer(FullyConnectedLayer(outputSize: 3, name: "fc"))])
        try net.initialize(x, seed: 7)
        let start = net.state
        _ = try net.predict(x)
        #expect(net.state["fc", "U"]!.scalars(as: Double.self) == start["fc", "U"]!.scalars(as: Double.self))
        let (_, state) = try net.forward(x)
        #expect(state["fc", "U"]!.scalars(as: Double.self) != start["fc", "U"]!.scalars(as: Double.self))
        #expect(state.learnRateFactors == [0, 0])
        #expect(net.learnables.rows.map(\.parameter) == ["Weights", "Bias"])
    }

    /// A float64 critic: spectrally normalized convolution, leaky ReLU, spectrally normalized
    /// fully connected layer; its vectors after 3 training passes.
    static func critic() throws -> (net: DLNetwork, x: DLArray) {
        let x = DLArray.randn([2, 1, 5, 5], labels: "BCSS", seed: 8)
        var net = try DLNetwork([
            SpectralNormalizationLayer(ConvolutionLayer(kernel: [3, 3], filters: 2, stride: [2], padding: 1, name: "conv")),
            ActivationLayer(.leakyrelu(scale: 0.2)), FlattenLayer(),
            SpectralNormalizationLayer(FullyConnectedLayer(outputSize: 1, name: "fc")),
        ])
        try net.initialize(x, seed: 9)
        net.learnables = net.learnables.mapArrays { $0 + 0.1 }
        try train(&net, x, passes: 3)
        return (net, x)
    }

    /// The critic's output in inference mode for parameters `p` (the learnables, then the input).
    static func output(_ net: DLNetwork, _ p: [DLArray]) throws -> DLArray {
        var net = net
        net.learnables = DLParameterTable(rows: zip(net.learnables.rows, p).map { row, value in
            DLParameterTable.Row(layer: row.layer, parameter: row.parameter, value: value)
        })
        return try net.predict(p.last!)
    }

    @Test func derivativesMatchFiniteDifferences() throws {
        let (net, x) = try Self.critic()
        let point = net.learnables.rows.map(\.value) + [x]
        try expectGradients({ try Self.output(net, $0) }, at: point, orders: 1...2, "critic")
    }

    @Test func derivativesUnderR1AndWGANGPPenalties() throws {
        let (net, x) = try Self.critic()
        let point = net.learnables.rows.map(\.value) + [x]
        // R1: ‖∇ₓD(x)‖²; its gradient with respect to the weights is a second derivative of D.
        let r1 = { (p: [DLArray]) throws -> DLArray in
            let g = try dlgradient(sum(Self.output(net, p)), p.last!, enableHigherDerivatives: true)
            return sum(try g * g)
        }
        try expectGradients(r1, at: point, orders: 1...2, "R1")
        // WGAN-GP: mean((‖∇ₓD(x)‖ − 1)²) per sample.
        let gp = { (p: [DLArray]) throws -> DLArray in
            let g = try dlgradient(sum(Self.output(net, p)), p.last!, enableHigherDerivatives: true)
            let norms = sqrt(try sum(reshape(g * g, [2, -1]), dims: [1]) + 1e-10)
            return mean((norms - 1) ** 2)
        }
        try expectGradients(gp, at: point, orders: 1...1, "WGAN-GP")
    }

    @Test func trainingGradientHoldsTheVectorsConstant() throws {
        // A training pass differentiates W/σ with σ = uᵀWv for the vectors after its power
        // iteration, held constant: the gradient of inference with those vectors stored.
        let (net, x) = try Self.critic()
        let (trainingGradient, state) = try dlfeval({ (net: DLNetwork) in
            let (y, state) = try net.forward(x)
            return (try dlgradient(sum(y * y), net.learnables), state)
        }, net)
        var after = net
        after.state = state
        let inferenceGradient = try dlfeval({ (net: DLNetwork) in
            let y = try net.predict(x)
            return try dlgradient(sum(y * y), net.learnables)
        }, after)
        for (a, b) in zip(trainingGradient.rows, inferenceGradient.rows) {
            expectClose(a.value, b.value, tolerance: 1e-14, "\(a.layer)/\(a.parameter)")
        }
        #expect(state.rows.allSatisfy { !$0.value.isTraced })
    }

    @Test func vectorsAreSavedWithTheNetwork() throws {
        let (net, x) = try Self.critic()
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("swiftdl-sn-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try net.write(to: url)
        var loaded = try DLNetwork(contentsOf: url)
        #expect(loaded.state.rows.map { "\($0.layer)/\($0.parameter)" } == ["conv/U", "conv/V", "fc/U", "fc/V"])
        for (a, b) in zip(loaded.state.rows, net.state.rows) {
            #expect(a.value.scalars(as: Double.self) == b.value.scalars(as: Double.self), "\(a.layer)/\(a.parameter)")
        }
        #expect(try loaded.predict(x).scalars(as: Double.self) == net.predict(x).scalars(as: Double.self))
        let wrapped = try #require(loaded.layers[0] as? SpectralNormalizationLayer)
        #expect(wrapped.powerIterations == 1 && (wrapped.layer as? ConvolutionLayer)?.stride == [2])
        // A training pass after loading continues from the saved vectors, as before saving.
        var original = net
        try Self.train(&original, x, passes: 1)
        try Self.train(&loaded, x, passes: 1)
        #expect(loaded.state["fc", "U"]!.scalars(as: Double.self) == original.state["fc", "U"]!.scalars(as: Double.self))
    }

    @Test func refusesLayersWithoutAWeightMatrix() throws {
        expectError(containing: "BatchNormalizationLayer", "\"bn\"") {
            _ = try SpectralNormalizationLayer(BatchNormalizationLayer(name: "bn"))
        }
        expectError(containing: "at least 1 power iteration") {
            _ = try SpectralNormalizationLayer(FullyConnectedLayer(outputSize: 1), powerIterations: 0)
        }
        #expect(!SpectralNormalizationLayer.canWrap(ActivationLayer(.relu)))
        #expect(SpectralNormalizationLayer.canWrap(ConvolutionLayer(kernel: [3], filters: 2)))
    }
}
