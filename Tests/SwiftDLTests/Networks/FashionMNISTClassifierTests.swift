import Foundation
import MNISTClassifier
import Testing
@testable import SwiftDL

/// The Fashion-MNIST classifier kept in the repository (made by `swift run -c release
/// train-mnist --dataset fashion-mnist`): the MNIST classifier's network trained on Fashion-MNIST.
@Suite struct FashionMNISTClassifierTests {
    static let weights = DataFixture.repositoryRoot.appendingPathComponent("Models/fashion-mnist-classifier.safetensors")
    /// Whether Debian's dataset-fashion-mnist package is installed (`.ci/run` installs it).
    static let datasetIsAvailable = FileManager.default.fileExists(atPath: MNIST.fashionMNISTDirectory + "/t10k-images-idx3-ubyte.gz")

    @Test func theCommittedWeightsFitTheClassifier() throws {
        let net = try DLNetwork(contentsOf: Self.weights)
        #expect(try net.learnables.rows.map(\.layer) == MNISTClassifier.makeNetwork().learnables.rows.map(\.layer))
        #expect(net.learnables["fc", "Weights"]?.shape == [3136, 10])
    }

    @Test(.enabled(if: datasetIsAvailable,
                   "needs Fashion-MNIST at /usr/share/datasets/fashion-mnist (apt-get install dataset-fashion-mnist)"))
    func theCommittedWeightsClassifyTheTestSplit() throws {
        let net = try DLNetwork(contentsOf: Self.weights)
        let test = try MNIST.loadFashionMNIST(split: .test)
        // The first 1000 test images score 0.918 (this test runs in a debug build).
        let accuracy = try MNISTClassifier.accuracy(net, images: test.images[0..<1000, ...], labels: Array(test.labels[0..<1000]))
        #expect(accuracy >= 0.9, "accuracy \(accuracy)")
    }
}
