import Foundation
import Testing
@testable import SwiftDL

@Suite struct DLNetworkTests {
    /// A small CNN: conv, batch norm, ReLU, max pooling, flatten, fully connected, softmax.
    static func classifier() throws -> DLNetwork {
        var net = try DLNetwork([
            ConvolutionLayer(kernel: [3, 3], filters: 2, padding: 1, name: "conv"),
            BatchNormalizationLayer(name: "bn"),
            ActivationLayer(.relu),
            PoolingLayer(.max, poolSize: [2, 2], stride: [2]),
            FlattenLayer(),
            FullyConnectedLayer(outputSize: 3, name: "fc"),
            ActivationLayer(.softmax),
        ])
        try net.initialize(DLArray.zeros([1, 1, 4, 4], type: .float64, labels: "BCSS"), seed: 3)
        return net
    }

    static let images = DLArray.randn([2, 1, 4, 4], labels: "BCSS", seed: 5)

    @Test func learnablesAndStateTables() throws {
        let net = try Self.classifier()
        #expect(net.layers.map(\.name) == ["conv", "bn", "activation_3", "pooling_4", "flatten_5", "fc", "activation_7"])
        let learnables = net.learnables
        #expect(learnables.rows.map { "\($0.layer)/\($0.parameter)" }
            == ["conv/Weights", "conv/Bias", "bn/Offset", "bn/Scale", "fc/Weights", "fc/Bias"])
        #expect(learnables["conv", "Weights"]?.shape == [2, 1, 3, 3])
        #expect(learnables["fc", "Weights"]?.shape == [8, 3])
        #expect(learnables["fc", "Bias"]?.scalars(as: Double.self) == [0, 0, 0])
        #expect(net.state.rows.map(\.parameter) == ["TrainedMean", "TrainedVariance"])
        #expect(net.state.learnRateFactors == [0, 0])
        #expect(net.isInitialized)
    }

    @Test func predictionsAreProbabilities() throws {
        let y = try Self.classifier().predict(Self.images)
        #expect(y.shape == [2, 3] && y.labels == "BC")
        for row in 0..<2 {
            #expect(abs(sum(y[row]).scalar(as: Double.self) - 1) < 1e-12)
        }
    }

    @Test func gradientsOfTheLearnablesTableMatchFiniteDifferences() throws {
        let net = try Self.classifier()
        // dlgradient with respect to the table: the same rows, shapes and types.
        let gradients = try dlfeval({ (net: DLNetwork) in
            let (y, _) = try net.forward(Self.images)
            return try dlgradient(sum(log(y[..., 0])), net.learnables)
        }, net)
        #expect(gradients.rows.map(\.parameter) == net.learnables.rows.map(\.parameter))
        #expect(zip(gradients.rows, net.learnables.rows).allSatisfy { $0.value.shape == $1.value.shape })
        // The whole network, first and second order, through every parameter (training mode:
        // batch statistics depend on the inputs).
        for order in 1...2 {
            let result = try gradcheck({ (net: DLNetwork) in try log(net.forward(Self.images).output) }, at: net, order: order)
            #expect(result.passed, "\(result)")
        }
    }

    @Test func frozenParametersAreNotTracedAndGetZeros() throws {
        var net = try Self.classifier()
        try net.setLearnRateFactor(layer: "conv", parameter: "Weights", 0)
        try net.setLearnRateFactor(layer: "fc", 0.5)
        #expect(try net.learnRateFactor(layer: "conv", parameter: "Weights") == 0)
        #expect(try net.learnRateFactor(layer: "fc", parameter: "Bias") == 0.5)
        #expect(net.learnables.learnRateFactors == [0, 1, 1, 1, 0.5, 0.5])
        let (gradients, traced) = try dlfeval({ (net: DLNetwork) in
            let (y, _) = try net.forward(Self.images)
            let learnables = net.learnables
            return (try dlgradient(sum(y[..., 1]), learnables), learnables.rows.map { $0.value.isTraced })
        }, net)
        #expect(traced == [false, true, true, true, true, true])
        #expect(gradients["conv", "Weights"]!.scalars(as: Double.self).allSatisfy { $0 == 0 })
        #expect(gradients["conv", "Bias"]!.scalars(as: Double.self).contains { $0 != 0 })
        #expect(gradients.learnRateFactors == net.learnRateFactors)
    }

    @Test func batchNormalizationStateIsUpdatedByForwardAndUsedByPredict() throws {
        var net = try Self.classifier()
        let before = net.state
        let (_, state) = try net.forward(Self.images)
        let runningMean = state["bn", "TrainedMean"]!.scalars(as: Double.self)
        #expect(runningMean != before["bn", "TrainedMean"]!.scalars(as: Double.self))
        // Running mean = 0.9·0 + 0.1·(batch mean of the conv output per channel).
        let conv = try dlconv(Self.images, net.learnables["conv", "Weights"]!, net.learnables["conv", "Bias"]!, padding: 1)
        let batchMean = try mean(conv, dims: [0, 2, 3]).scalars(as: Double.self)
        #expect(zip(runningMean, batchMean).allSatisfy { abs($0 - 0.1 * $1) < 1e-12 })
        let predictedBefore = try net.predict(Self.images)
        net.state = state
        let predictedAfter = try net.predict(Self.images)
        #expect(predictedBefore.scalars(as: Double.self) != predictedAfter.scalars(as: Double.self))
    }

    @Test func aGraphWithASkipConnectionAndConcatenation() throws {
        // y = concat(fc1(x), fc1(x) + fc2(fc1(x))) along channels.
        var net = try DLNetwork(
            layers: [
                FullyConnectedLayer(outputSize: 3, name: "fc1"), FullyConnectedLayer(outputSize: 3, name: "fc2"),
                AdditionLayer(name: "add"), ConcatenationLayer(name: "cat"),
            ],
            connections: ["fc1": ["x"], "fc2": ["fc1"], "add": ["fc1", "fc2"], "cat": ["fc1", "add"]],
            inputs: ["x"], outputs: ["cat"])
        let x = DLArray.randn([4, 2], labels: "BC", seed: 9)
        try net.initialize(x, seed: 1)
        let y = try net.predict(x)
        let w1 = net.learnables["fc1", "Weights"]!, w2 = net.learnables["fc2", "Weights"]!
        let h = try fullyconnect(x, w1)
        let expected = try cat([h, h + fullyconnect(h, w2)], dim: 1)
        #expect(y.shape == [4, 6])
        #expect(zip(y.scalars(as: Double.self), expected.scalars(as: Double.self)).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    @Test func dropoutDropsInTrainingOnly() throws {
        var net = try DLNetwork([DropoutLayer(probability: 0.5)])
        let x = DLArray.ones([1000], labels: "C")
        try net.initialize(x)
        #expect(try net.predict(x).scalars(as: Double.self).allSatisfy { $0 == 1 })
        var generator = DLRandomGenerator(seed: 4)
        let (y, _) = try net.forward(x, using: &generator)
        let values = y.scalars(as: Double.self)
        #expect(values.allSatisfy { $0 == 0 || $0 == 2 })
        #expect(abs(Double(values.filter { $0 == 0 }.count) - 500) < 60)
        let (other, _) = try net.forward(x, using: &generator)
        #expect(other.scalars(as: Double.self) != values)
    }

    /// The numbers `randomNumbers(for:using:)` draws, given back to `forward(_:randomNumbers:)`,
    /// give `forward(_:using:)`'s outputs and state bit for bit, for dropout on an input and
    /// behind other layers (whose input shapes an inference run finds).
    @Test func randomNumbersDrawnAheadGiveTheForwardPass() throws {
        var net = try DLNetwork([DropoutLayer(probability: 0.25, name: "in"), FullyConnectedLayer(outputSize: 6, name: "fc1"),
                                 BatchNormalizationLayer(name: "bn"), DropoutLayer(probability: 0, name: "none"),
                                 DropoutLayer(probability: 0.5, name: "hidden"), FullyConnectedLayer(outputSize: 2, name: "fc2")])
        let x = DLArray.randn([5, 3], type: .float32, labels: "BC", seed: 2)
        try net.initialize(x, seed: 1)
        #expect(net.drawsRandomNumbers)
        var generator = DLRandomGenerator(seed: 8), ahead = DLRandomGenerator(seed: 8)
        let (y, state) = try net.forward([x], using: &generator)
        let numbers = try net.randomNumbers(for: [x], using: &ahead)
        #expect(numbers.map(\.shape) == [[5, 3], [5, 6]])          // probability 0 draws nothing
        #expect(generator.next() == ahead.next())
        let (given, givenState) = try net.forward([x], randomNumbers: numbers)
        #expect(firstDifference(given[0], y[0]) == nil)
        for (a, b) in zip(givenState.rows, state.rows) { #expect(firstDifference(a.value, b.value) == nil) }
        // Without random layers: nothing is drawn.
        let plain = try DLNetwork([FullyConnectedLayer(outputSize: 2)])
        #expect(!plain.drawsRandomNumbers)
        #expect(try plain.randomNumbers(for: [x], using: &generator).isEmpty)
        expectError(containing: "DLNetwork.forward: 1 arrays of random numbers for 2 random layers") {
            _ = try net.forward([x], randomNumbers: [numbers[0]])
        }
        expectError(containing: "dropout: the uniform numbers have shape [5, 6], the input [5, 3]") {
            _ = try net.forward([x], randomNumbers: numbers.reversed())
        }
    }

    @Test func projectAndReshapeMakesImages() throws {
        var net = try DLNetwork([ProjectAndReshapeLayer(outputSize: [4, 3, 3]), TransposedConvolutionLayer(kernel: [4, 4], filters: 1, stride: [2], cropping: 1)])
        let z = DLArray.randn([2, 5], type: .float32, labels: "BC", seed: 2)
        try net.initialize(z)
        let y = try net.predict(z)
        #expect(y.shape == [2, 1, 6, 6] && y.labels == "BCSS" && y.dataType == .float32)
    }

    @Test func errors() throws {
        expectError(containing: "at least one layer") { _ = try DLNetwork([]) }
        expectError(containing: "unique") { _ = try DLNetwork([FlattenLayer(name: "a"), FlattenLayer(name: "a")]) }
        expectError(containing: "takes 2 inputs") { _ = try DLNetwork([AdditionLayer()]) }
        expectError(containing: "cycle") {
            _ = try DLNetwork(layers: [FlattenLayer(name: "a"), FlattenLayer(name: "b")],
                              connections: ["a": ["b"], "b": ["a"]], inputs: ["x"], outputs: ["b"])
        }
        expectError(containing: "\"y\", which is neither") {
            _ = try DLNetwork(layers: [FlattenLayer(name: "a")], connections: ["a": ["y"]], inputs: ["x"], outputs: ["a"])
        }
        let uninitialized = try DLNetwork([FullyConnectedLayer(outputSize: 2, name: "fc")])
        expectError(containing: "\"fc\"", "not initialized") { _ = try uninitialized.predict(DLArray.zeros([1, 3], labels: "BC")) }
        var net = try Self.classifier()
        expectError(containing: "no layer \"nope\"") { try net.setLearnRateFactor(layer: "nope", parameter: "Weights", 0) }
        expectError(containing: "no learnable parameter \"Gain\"") { try net.setLearnRateFactor(layer: "conv", parameter: "Gain", 0) }
        expectError(containing: "no dimension labels") { _ = try net.predict(DLArray.zeros([1, 16])) }
        expectError(containing: "takes 1 inputs") { _ = try net.predict([Self.images, Self.images]) }
    }
}

@Suite struct InitializerTests {
    @Test func distributions() {
        var generator = DLRandomGenerator(seed: 1)
        let glorot = Initializer.glorot.make([200, 300], type: .float64, fanIn: 300, fanOut: 200, using: &generator)
        let bound = (6.0 / 500).squareRoot()
        let g = glorot.scalars(as: Double.self)
        #expect(g.allSatisfy { abs($0) <= bound } && g.contains { abs($0) > 0.9 * bound })
        let he = Initializer.he.make([100, 400], type: .float64, fanIn: 400, fanOut: 100, using: &generator).scalars(as: Double.self)
        let variance = he.map { $0 * $0 }.reduce(0, +) / Double(he.count)
        #expect(abs(variance - 2.0 / 400) < 0.1 * 2.0 / 400)
        let normal = Initializer.normal(mean: 0, standardDeviation: 0.02).make([10000], type: .float64, fanIn: 1, fanOut: 1, using: &generator)
        let deviation = (normal.scalars(as: Double.self).map { $0 * $0 }.reduce(0, +) / 10000).squareRoot()
        #expect(abs(deviation - 0.02) < 0.001)
        #expect(Initializer.zeros.make([3], fanIn: 1, fanOut: 1, using: &generator).scalars(as: Double.self) == [0, 0, 0])
        #expect(Initializer.ones.make([2], type: .float32, fanIn: 1, fanOut: 1, using: &generator).dataType == .float32)
    }

    @Test func orthogonalRowsOrColumnsAreOrthonormal() throws {
        var generator = DLRandomGenerator(seed: 2)
        for shape in [[3, 5], [5, 3], [4, 2, 2]] {
            let w = Initializer.orthogonal(gain: 1).make(shape, type: .float64, fanIn: 1, fanOut: 1, using: &generator)
            let m = try reshape(w, [shape[0], -1])
            let gram = shape[0] <= m.shape[1] ? try mtimes(m, transpose(m)) : try mtimes(transpose(m), m)
            let n = gram.shape[0]
            let values = gram.scalars(as: Double.self)
            for i in 0..<n { for j in 0..<n { #expect(abs(values[i * n + j] - (i == j ? 1 : 0)) < 1e-12) } }
        }
    }

    @Test func seededInitializationRepeats() throws {
        let a = try DLNetworkTests.classifier(), b = try DLNetworkTests.classifier()
        #expect(a.learnables["conv", "Weights"]!.scalars(as: Double.self) == b.learnables["conv", "Weights"]!.scalars(as: Double.self))
    }
}
