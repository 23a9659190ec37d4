import ArgumentParser
import Foundation
import MNISTClassifier
import SwiftDL

/// The data sets the classifier trains on.
enum ClassifierDataset: String, ExpressibleByArgument, CaseIterable {
    case mnist
    case fashionMNIST = "fashion-mnist"

    /// Where the IDX files are by default.
    var directory: String { self == .mnist ? "../shared/datasets/mnist" : MNIST.fashionMNISTDirectory }
    /// Where the weights go by default.
    var output: String { "Models/\(rawValue)-classifier.safetensors" }
}

/// Trains SwiftDL's MNIST classifier, on MNIST or Fashion-MNIST, and writes its weights.
@main
struct TrainMNIST: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-mnist",
        abstract: "Train the MNIST (or Fashion-MNIST) classifier and write its weights (a safetensors file).")

    @Option(help: "The images: mnist or fashion-mnist.")
    var dataset = ClassifierDataset.mnist

    @Option(help: "The folder holding the IDX files (train-images-idx3-ubyte.gz and the rest; by default ../shared/datasets/mnist for mnist, /usr/share/datasets/fashion-mnist for fashion-mnist).")
    var data: String?

    @Option(help: "Where to write the trained network (Models/<dataset>-classifier.safetensors).")
    var output: String?

    @Option(help: "Passes over the training images.")
    var epochs = 6

    @Option(help: "Images per step.")
    var miniBatchSize = 128

    @Option(help: "Adam's learn rate.")
    var learnRate = 1e-3

    @Option(help: "Multiply the learn rate by --learn-rate-drop-factor after every this many epochs (MATLAB's piecewise schedule); 0 keeps it constant.")
    var learnRateDropPeriod = 3

    @Option(help: "The factor of each learn-rate drop.")
    var learnRateDropFactor = 0.1

    @Option(help: "The seed of the initial weights and of the shuffling.")
    var seed: UInt64 = 0

    @Flag(help: "Train nothing: measure the classifier at --output on the test images (accuracy, the images' Inception Score and its entropies, the Fréchet distance between the even and the odd test images): the real data's values beside which GAN samples are measured.")
    var evaluate = false

    func validate() throws {
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
        guard miniBatchSize >= 1 else { throw ValidationError("--mini-batch-size must be at least 1, got \(miniBatchSize)") }
        guard learnRate > 0, learnRate.isFinite else { throw ValidationError("--learn-rate must be positive, got \(learnRate)") }
        guard learnRateDropPeriod >= 0 else {
            throw ValidationError("--learn-rate-drop-period must be 0 (constant) or more, got \(learnRateDropPeriod)")
        }
        guard (0...1).contains(learnRateDropFactor) else {
            throw ValidationError("--learn-rate-drop-factor must be in 0...1, got \(learnRateDropFactor)")
        }
    }

    func run() throws {
        let directory = data ?? dataset.directory, output = self.output ?? dataset.output
        if evaluate { return try Self.evaluate(classifier: output, directory: directory) }
        let train = try MNIST.load(directory: directory, split: .train)
        let test = try MNIST.load(directory: directory, split: .test)
        print("training on \(train.labels.count) images, testing on \(test.labels.count)")
        var net = try MNISTClassifier.makeNetwork(seed: seed)
        try MNISTClassifier.train(&net, on: train, testingOn: test, epochs: epochs, miniBatchSize: miniBatchSize,
                                  learnRate: learnRate, learnRateDropPeriod: learnRateDropPeriod == 0 ? nil : learnRateDropPeriod,
                                  learnRateDropFactor: learnRateDropFactor, seed: seed) { report in
            print(String(format: "epoch %d: loss %.4f, test accuracy %.2f%%, %.0f s",
                         report.epoch, report.loss, 100 * report.testAccuracy, report.elapsed))
        }
        try net.write(to: URL(fileURLWithPath: output))
        print("wrote \(output)")
    }

    /// Prints the measures of the real test images with the classifier at `classifier`.
    static func evaluate(classifier: String, directory: String) throws {
        let net = try DLNetwork(contentsOf: URL(fileURLWithPath: classifier))
        let test = try MNIST.load(directory: directory, split: .test)
        let accuracy = try MNISTClassifier.accuracy(net, images: test.images, labels: test.labels)
        let probabilities = try MNISTClassifier.probabilities(net, images: test.images)
        let parts = try GANMetrics.inceptionScoreParts(probabilities: probabilities)
        // The even and the odd images: MNIST's first 5,000 test images come from other writers
        // than its last 5,000, so the first and second halves differ (FD 0.11, against 0.0026
        // between the even and the odd images).
        let half = test.labels.count / 2, pixels = test.images.count / test.labels.count
        let pairs = try reshape(stripdims(test.images)[0..<2 * half, ...], [half, 2 * pixels])
        let shape = [half] + Array(test.images.shape.dropFirst())
        let even = try reshape(pairs[0..<half, 0..<pixels], shape).labeled(test.images.labels)
        let odd = try reshape(pairs[0..<half, pixels..<2 * pixels], shape).labeled(test.images.labels)
        let first = try MNISTClassifier.featureStatistics(net, images: even)
        let second = try MNISTClassifier.featureStatistics(net, images: odd)
        print(String(format: "%@ on %d test images: accuracy %.2f%%, Inception Score %.2f (H(p(y)) %.3f, E H(p(y|x)) %.3f), Frechet distance between the even and odd images %.4f",
                     classifier, test.labels.count, 100 * accuracy, try GANMetrics.inceptionScore(probabilities: probabilities),
                     parts.classEntropy, parts.meanConditionalEntropy, try GANMetrics.frechetDistance(first, second)))
    }
}
