import Foundation
import Testing
@testable import SwiftDL

/// The real MNIST files at `../shared/datasets/mnist`, checked against the values Python's gzip
/// module read from them (`Fixtures/make_data.py`).
@Suite(.enabled(if: DataFixture.mnistIsAvailable, "needs MNIST at ../shared/datasets/mnist"))
struct MNISTTests {
    @Test(arguments: [MNIST.Split.train, .test]) func split(_ split: MNIST.Split) throws {
        let name = split == .train ? "train" : "test"
        let reference = try DataFixture().mnist(name)
        let data = try MNIST.load(directory: DataFixture.mnistDirectory, split: split)
        let count = try #require(reference["count"] as? Int)
        #expect(count == (split == .train ? 60000 : 10000))
        #expect(data.images.shape == [count, 1, 28, 28])
        #expect(data.images.labels == "BCSS" && data.images.dataType == .float32)
        #expect(data.labels.count == count)
        #expect(Array(data.labels.prefix(10)) == reference["first_labels"] as? [Int])
        #expect(data.labels.last == reference["last_label"] as? Int)
        let classCounts = (0..<10).map { k in data.labels.count(where: { $0 == k }) }
        #expect(classCounts == reference["class_counts"] as? [Int])

        // Pixels are bytes / 255: the bytes come back exactly.
        let pixels = data.images.scalars(as: Float.self)
        let byteSum = { (range: Range<Int>) in pixels[range].reduce(0) { $0 + Int(($1 * 255).rounded()) } }
        let size = 28 * 28
        #expect(pixels.allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(byteSum(0..<size) == reference["first_image_sum"] as? Int)
        #expect(byteSum((count - 1) * size..<count * size) == reference["last_image_sum"] as? Int)
        let row = try #require(reference["first_image_row_14"] as? [Int])
        #expect(Array(pixels[(14 * 28)..<(15 * 28)]) == row.map { Float($0) / 255 })
        #expect(byteSum(0..<pixels.count) == reference["pixel_sum"] as? Int)
    }

    @Test func firstTrainingLabels() throws {
        let labels = try IDXFile.read("\(DataFixture.mnistDirectory)/train-labels-idx1-ubyte.gz")
        #expect(labels.shape == [60000])
        #expect(Array(labels.bytes.prefix(5)) == [5, 0, 4, 1, 9])
    }
}
