import Foundation
import SwiftDL

/// A small convolutional classifier of 28×28 digit images, trained on MNIST. Its trained weights
/// (`Models/mnist-classifier.safetensors`) also serve the GAN metrics: the classifier-based
/// Inception Score, digit coverage and the Fréchet distance of its features.
public enum MNISTClassifier {
    /// The network: three 3×3 convolution blocks (16, 32, 64 filters, batch normalization,
    /// ReLU, 2×2 max pooling after the first two), then a fully connected layer to the 10
    /// classes and softmax. Input `"BCSS"` `[N, 1, 28, 28]`, output `"BC"` `[N, 10]` probabilities.
    public static func makeNetwork(seed: UInt64 = 0) throws -> DLNetwork {
        var net = try DLNetwork([
            ConvolutionLayer(kernel: [3, 3], filters: 16, padding: .same, weightsInitializer: .he, name: "conv1"),
            BatchNormalizationLayer(name: "bn1"), ActivationLayer(.relu, name: "relu1"),
            PoolingLayer(.max, poolSize: [2, 2], stride: [2], name: "pool1"),
            ConvolutionLayer(kernel: [3, 3], filters: 32, padding: .same, weightsInitializer: .he, name: "conv2"),
            BatchNormalizationLayer(name: "bn2"), ActivationLayer(.relu, name: "relu2"),
            PoolingLayer(.max, poolSize: [2, 2], stride: [2], name: "pool2"),
            ConvolutionLayer(kernel: [3, 3], filters: 64, padding: .same, weightsInitializer: .he, name: "conv3"),
            BatchNormalizationLayer(name: "bn3"), ActivationLayer(.relu, name: "relu3"),
            FlattenLayer(name: "flatten"),
            FullyConnectedLayer(outputSize: 10, name: "fc"),
            ActivationLayer(.softmax, name: "softmax"),
        ])
        try net.initialize(DLArray.zeros([1, 1, 28, 28], type: .float32, labels: "BCSS"), seed: seed)
        return net
    }

    /// One epoch's outcome.
    public struct EpochReport: Sendable {
        /// The epoch, from 1.
        public let epoch: Int
        /// The mean training loss over the epoch.
        public let loss: Double
        /// The accuracy on the test images after the epoch.
        public let testAccuracy: Double
        /// Seconds since training started.
        public let elapsed: Double
    }

    /// Trains `net` with Adam on index cross-entropy, reporting after each epoch.
    ///
    /// The learn rate follows MATLAB's piecewise schedule when `learnRateDropPeriod` is given: it
    /// is multiplied by `learnRateDropFactor` after every `learnRateDropPeriod` epochs.
    /// - Throws: ``DLError/invalidArgument(_:)`` for a drop period below 1 or a drop factor
    ///   outside 0...1, and the errors of the operations.
    public static func train(_ net: inout DLNetwork, on train: MNIST, testingOn test: MNIST, epochs: Int,
                             miniBatchSize: Int = 128, learnRate: Double = 1e-3,
                             learnRateDropPeriod: Int? = nil, learnRateDropFactor: Double = 0.1, seed: UInt64 = 0,
                             report: (EpochReport) -> Void) throws {
        if let period = learnRateDropPeriod, period < 1 {
            throw DLError.invalidArgument("the learn-rate drop period must be at least 1 epoch, got \(period)")
        }
        guard (0...1).contains(learnRateDropFactor) else {
            throw DLError.invalidArgument("the learn-rate drop factor must be in 0...1, got \(learnRateDropFactor)")
        }
        let queue = try MinibatchQueue([train.images, train.labelArray], miniBatchSize: miniBatchSize,
                                       partialMiniBatch: .discard, generator: DLRandomGenerator(seed: seed))
        var averageGradient: DLParameterTable?, averageSquaredGradient: DLParameterTable?
        var iteration = 0
        let start = Date()
        for epoch in 1...epochs {
            let drops = learnRateDropPeriod.map { (epoch - 1) / $0 } ?? 0
            let epochLearnRate = learnRate * pow(learnRateDropFactor, Double(drops))
            queue.shuffle()
            var totalLoss = 0.0, batches = 0
            while queue.hasdata {
                let batch = try queue.next()
                iteration += 1
                let (loss, gradients, state) = try dlfeval({ (net: DLNetwork, images: DLArray, labels: DLArray) in
                    let (predictions, state) = try net.forward(images)
                    let loss = try indexcrossentropy(predictions, labels)
                    return (loss, try dlgradient(loss, net.learnables), state)
                }, net, batch[0], batch[1])
                net.state = state
                (net.learnables, averageGradient, averageSquaredGradient) = try adamupdate(
                    net.learnables, gradients, averageGradient, averageSquaredGradient,
                    iteration: iteration, learnRate: epochLearnRate)
                totalLoss += loss.scalar(as: Double.self)
                batches += 1
            }
            report(EpochReport(epoch: epoch, loss: totalLoss / Double(max(batches, 1)),
                               testAccuracy: try accuracy(net, images: test.images, labels: test.labels),
                               elapsed: Date().timeIntervalSince(start)))
        }
    }

    /// The fraction of images whose most probable class is their label (inference mode).
    public static func accuracy(_ net: DLNetwork, images: DLArray, labels: [Int], miniBatchSize: Int = 1000) throws -> Double {
        let predicted = try classify(net, images: images, miniBatchSize: miniBatchSize)
        return Double(zip(predicted, labels).filter { $0 == $1 }.count) / Double(max(labels.count, 1))
    }

    /// The most probable class of each image (inference mode).
    public static func classify(_ net: DLNetwork, images: DLArray, miniBatchSize: Int = 1000) throws -> [Int] {
        var classes: [Int] = []
        var start = 0
        while start < images.shape[0] {
            let end = min(start + miniBatchSize, images.shape[0])
            let probabilities = try net.predict(images[start..<end, ...])
            classes += try max(probabilities, dim: 1).indices.scalars(as: Double.self).map { Int($0) }
            start = end
        }
        return classes
    }
}
