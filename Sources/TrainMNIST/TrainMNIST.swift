import ArgumentParser
import Foundation
import MNISTClassifier
import SwiftDL

/// Trains SwiftDL's MNIST classifier and writes its weights.
@main
struct TrainMNIST: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-mnist",
        abstract: "Train the MNIST digit classifier and write its weights (a safetensors file).")

    @Option(help: "The folder holding the MNIST IDX files (train-images-idx3-ubyte.gz and the rest).")
    var data = "../shared/datasets/mnist"

    @Option(help: "Where to write the trained network.")
    var output = "Models/mnist-classifier.safetensors"

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
        let train = try MNIST.load(directory: data, split: .train)
        let test = try MNIST.load(directory: data, split: .test)
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
}
