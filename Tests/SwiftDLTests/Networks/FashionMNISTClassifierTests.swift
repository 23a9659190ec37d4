import Foundation
import MNISTClassifier
import Testing
@testable import SwiftDL

/// The Fashion-MNIST classifier kept in the repository (made by `swift run -c release
/// train-mnist --dataset fashion-mnist`): the MNIST classifier's network trained on Fashion-MNIST.
@Suite struct FashionMNISTClassifierTests {
    static let weights = DataFixture.repositoryRoot.appendingPathComponent("Models/fashion-mnist-classifier.safetensors")
    /// The first 200 images and labels of Fashion-MNIST's test split, kept in the repository.
    static let subset = DataFixture.repositoryRoot.appendingPathComponent("Tests/SwiftDLTests/Fixtures/fashion-mnist-test-200").path
    /// Whether Debian's dataset-fashion-mnist package is installed (CI does not have it).
    static let datasetIsAvailable = FileManager.default.fileExists(atPath: MNIST.fashionMNISTDirectory + "/t10k-images-idx3-ubyte.gz")

    @Test func theCommittedWeightsFitTheClassifier() throws {
        let net = try DLNetwork(contentsOf: Self.weights)
        #expect(try net.learnables.rows.map(\.layer) == MNISTClassifier.makeNetwork().learnables.rows.map(\.layer))
        #expect(net.learnables["fc", "Weights"]?.shape == [3136, 10])
    }

    @Test func theCommittedWeightsClassifyTheCommittedTestImages() throws {
        let net = try DLNetwork(contentsOf: Self.weights)
        let test = try MNIST.load(directory: Self.subset, split: .test)
        #expect(test.labels.count == 200)
        // The whole test split scores 90.84%; these 200 images score 0.925 (185 right).
        let accuracy = try MNISTClassifier.accuracy(net, images: test.images, labels: test.labels)
        #expect(accuracy >= 0.9, "accuracy \(accuracy)")
    }

    @Test(.enabled(if: datasetIsAvailable,
                   "needs Fashion-MNIST at /usr/share/datasets/fashion-mnist (apt-get install dataset-fashion-mnist), which CI does not install"))
    func theCommittedWeightsClassifyTheTestSplit() throws {
        let net = try DLNetwork(contentsOf: Self.weights)
        let test = try MNIST.loadFashionMNIST(split: .test)
        // The committed subset is the test split's beginning.
        let subset = try MNIST.load(directory: Self.subset, split: .test)
        #expect(subset.labels == Array(test.labels[0..<200]))
        #expect(firstDifference(subset.images.scalars(as: Float.self), test.images[0..<200, ...].scalars(as: Float.self)) == nil)
        // The first 1000 test images score 0.918 (this test runs in a debug build).
        let accuracy = try MNISTClassifier.accuracy(net, images: test.images[0..<1000, ...], labels: Array(test.labels[0..<1000]))
        #expect(accuracy >= 0.9, "accuracy \(accuracy)")
    }
}
