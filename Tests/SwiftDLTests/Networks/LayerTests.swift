import Testing
@testable import SwiftDL

@Suite struct LayerTests {
    @Test func sequenceClassifierWithEmbeddingAndLSTM() throws {
        var net = try DLNetwork([
            EmbeddingLayer(dimension: 3, numWords: 5, name: "embedding"),
            LSTMLayer(hiddenSize: 2, outputMode: .last, name: "lstm"),
            FullyConnectedLayer(outputSize: 2, name: "fc"),
        ])
        let words = try DLArray([0.0, 4, 2, 1, 3, 3], shape: [3, 2], labels: "TB")
        try net.initialize(words, seed: 1)
        #expect(net.learnables.rows.map { "\($0.layer)/\($0.parameter)" } == [
            "embedding/Weights", "lstm/InputWeights", "lstm/RecurrentWeights", "lstm/Bias", "fc/Weights", "fc/Bias"])
        #expect(net.learnables["lstm", "Bias"]?.scalars(as: Double.self) == [0, 0, 1, 1, 0, 0, 0, 0])
        let y = try net.predict(words)
        #expect(y.shape == [2, 2] && y.labels == "BC")
        // Double precision for the check: the embedding weights start as float32.
        let wide = net.mapArrays { $0.converted(to: .float64) * 30 }
        for order in 1...2 {
            let result = try gradcheck({ (net: DLNetwork) in try net.predict(words) }, at: wide, order: order)
            #expect(result.passed, "\(result)")
        }
    }

    @Test func gruAndSelfAttentionOnASequence() throws {
        var net = try DLNetwork([
            GRULayer(hiddenSize: 4, name: "gru"),
            SelfAttentionLayer(heads: 2, keyChannels: 4, causal: true, name: "attention"),
            LayerNormalizationLayer(name: "norm"),
        ])
        let x = DLArray.randn([3, 2, 2], labels: "TBC", seed: 4)
        try net.initialize(x, seed: 2)
        let y = try net.predict(x)
        #expect(y.shape == [3, 2, 4] && y.labels == "TBC")
        // Causal: the first time step's output does not depend on later inputs.
        var changed = x
        changed[2] = DLArray.randn([2, 2], seed: 9)
        let other = try net.predict(changed)
        #expect(y[0].scalars(as: Double.self) == other[0].scalars(as: Double.self))
        #expect(y[2].scalars(as: Double.self) != other[2].scalars(as: Double.self))
        let result = try gradcheck({ (net: DLNetwork) in try net.predict(x) }, at: net)
        #expect(result.passed, "\(result)")
    }

    @Test func groupAndInstanceNormalizationAndReshape() throws {
        var net = try DLNetwork([
            FullyConnectedLayer(outputSize: 16),
            ReshapeLayer(outputSize: [4, 2, 2], labels: "CSS"),
            GroupNormalizationLayer(groups: 2, name: "group"),
            InstanceNormalizationLayer(name: "instance"),
            PoolingLayer.global(.average),
        ])
        let x = DLArray.randn([3, 5], labels: "BC", seed: 6)
        try net.initialize(x, seed: 3)
        let y = try net.predict(x)
        #expect(y.shape == [3, 4, 1, 1] && y.labels == "BCSS")
        // Instance normalization with unit scale and zero offset leaves each channel's mean 0.
        #expect(y.scalars(as: Double.self).allSatisfy { abs($0) < 1e-6 })
        #expect(net.learnables.rows.map(\.layer).filter { $0 == "group" }.count == 2)
        expectError(containing: "leading batch dimension") {
            var generator = DLRandomGenerator(seed: 0)
            _ = try ReshapeLayer(outputSize: [2], labels: "C").forward([DLArray.zeros([2, 2], labels: "TC")], mode: .inference,
                                                                        using: &generator)
        }
    }
}
