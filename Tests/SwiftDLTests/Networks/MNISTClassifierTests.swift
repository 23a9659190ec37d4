import Foundation
import MNISTClassifier
import Testing
@testable import SwiftDL

/// The trained classifier kept in the repository (made by `swift run -c release train-mnist`).
@Suite struct MNISTClassifierTests {
    @Test func theCommittedWeightsFitTheClassifier() throws {
        let net = try DLNetwork(contentsOf: DataFixture.repositoryRoot.appendingPathComponent("Models/mnist-classifier.safetensors"))
        #expect(try net.learnables.rows.map(\.layer) == MNISTClassifier.makeNetwork().learnables.rows.map(\.layer))
        #expect(net.learnables["fc", "Weights"]?.shape == [3136, 10])
    }

    @Test(.enabled(if: DataFixture.mnistIsAvailable, "needs MNIST at ../shared/datasets/mnist"))
    func theCommittedWeightsClassifyTestDigits() throws {
        let net = try DLNetwork(contentsOf: DataFixture.repositoryRoot.appendingPathComponent("Models/mnist-classifier.safetensors"))
        let test = try MNIST.load(directory: DataFixture.mnistDirectory, split: .test)
        // The first 1000 test images (the whole set scores 99.23%; this test runs in a debug build).
        let images = test.images[0..<1000, ...]
        let accuracy = try MNISTClassifier.accuracy(net, images: images, labels: Array(test.labels[0..<1000]))
        #expect(accuracy >= 0.985, "accuracy \(accuracy)")
    }
}
