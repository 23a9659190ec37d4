import Foundation
import Testing
@testable import SwiftDL

/// An IDX file's bytes: the magic number, the big-endian sizes, the elements.
private func idxBytes(magic: UInt32, shape: [Int], elements: [UInt8]) -> [UInt8] {
    let bigEndian = { (value: UInt32) in (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) } }
    return bigEndian(magic) + shape.flatMap { bigEndian(UInt32($0)) } + elements
}

/// The pixels of the small image file that `make_data.py` compresses: (60n + 7r + 3c) mod 256
/// for image n, row r, column c of 3 images of 4×5.
private let smallPixels: [UInt8] = {
    var pixels: [UInt8] = []
    for n in 0..<3 {
        for r in 0..<4 {
            for c in 0..<5 { pixels.append(UInt8((60 * n + 7 * r + 3 * c) % 256)) }
        }
    }
    return pixels
}()
private let smallImages = idxBytes(magic: 0x0803, shape: [3, 4, 5], elements: smallPixels)
private let smallLabels = idxBytes(magic: 0x0801, shape: [3], elements: [7, 2, 9])

@Suite struct IDXTests {
    @Test func decodesImagesAndLabels() throws {
        let images = try IDXFile.decode(smallImages)
        #expect(images.shape == [3, 4, 5])
        #expect(images.magic == 0x0803)
        #expect(images.bytes == smallPixels)
        #expect(images.bytes[5 * 2 + 4] == 7 * 2 + 3 * 4)                  // image 0, row 2, column 4
        #expect(images.bytes[20 * 2 + 5 * 3 + 1] == (120 + 21 + 3) % 256)  // image 2, row 3, column 1
        let labels = try IDXFile.decode(smallLabels)
        #expect(labels.shape == [3] && labels.bytes == [7, 2, 9] && labels.magic == 0x0801)
    }

    @Test func readsRawAndGzipFilesAlike() throws {
        let fixture = try DataFixture()
        try DataFixture.withTemporaryDirectory { directory in
            let raw = try DataFixture.writeFile(smallImages, named: "images-idx3-ubyte", in: directory)
            let compressed = try DataFixture.writeFile(try fixture.idxGzip("images"), named: "images-idx3-ubyte.gz", in: directory)
            // Compression is recognised by the contents, not the name.
            let misnamedGzip = try DataFixture.writeFile(try fixture.idxGzip("images"), named: "images.raw", in: directory)
            let misnamedRaw = try DataFixture.writeFile(smallImages, named: "images.gz", in: directory)
            let expected = try IDXFile.decode(smallImages)
            for path in [raw, compressed, misnamedGzip, misnamedRaw] {
                #expect(try IDXFile.read(path) == expected, "\(path)")
            }
            let labels = try DataFixture.writeFile(try fixture.idxGzip("labels"), named: "labels-idx1-ubyte.gz", in: directory)
            #expect(try IDXFile.read(labels).bytes == [7, 2, 9])
        }
    }

    @Test func missingOrUnreadableFiles() throws {
        try DataFixture.withTemporaryDirectory { directory in
            let missing = directory.appendingPathComponent("nothing-idx3-ubyte.gz").path
            expectError(containing: "no such file", missing) { _ = try IDXFile.read(missing) }
            expectError(containing: directory.path, "is a directory") { _ = try IDXFile.read(directory.path) }
        }
    }

    @Test func wrongMagicNumbers() {
        expectError(containing: "not an IDX file", "0x01020803", "0x00000803 for images") {
            _ = try IDXFile.decode([1, 2, 8, 3] + Array(smallImages.dropFirst(4)))
        }
        expectError(containing: "not an IDX file", "0x00000800") { _ = try IDXFile.decode([0, 0, 8, 0]) }
        expectError(containing: "element type 0x0d (float32)", "0x00000d01", "unsigned-byte") {
            _ = try IDXFile.decode(idxBytes(magic: 0x0D01, shape: [1], elements: [0, 0, 0, 0]))
        }
        // Messages begin with the source of the data.
        expectError(containing: "my-source", "truncated", "2 bytes") { _ = try IDXFile.decode([0, 0], source: "my-source") }
    }

    @Test func truncatedAndOverlongData() throws {
        expectError(containing: "truncated", "3x4x5 = 60 bytes", "16-byte header", "the file has 59") {
            _ = try IDXFile.decode(Array(smallImages.dropLast()))
        }
        expectError(containing: "too long", "3x4x5 = 60 bytes", "the file has 61") {
            _ = try IDXFile.decode(smallImages + [0])
        }
        expectError(containing: "truncated header", "3 dimensions need a 16-byte header", "has 10 bytes") {
            _ = try IDXFile.decode(Array(smallImages.prefix(10)))
        }
        // Truncated and corrupt gzip files name the path and the failed check.
        let compressed = try DataFixture().idxGzip("images")
        try DataFixture.withTemporaryDirectory { directory in
            let cut = try DataFixture.writeFile(Array(compressed.dropLast(12)), named: "cut.gz", in: directory)
            expectError(containing: cut, "truncated") { _ = try IDXFile.read(cut) }
            var changed = compressed
            changed[changed.count - 6] ^= 0x10
            let corrupt = try DataFixture.writeFile(changed, named: "corrupt.gz", in: directory)
            expectError(containing: corrupt, "CRC-32 mismatch") { _ = try IDXFile.read(corrupt) }
        }
    }

    @Test func mnistFromSmallFiles() throws {
        let fixture = try DataFixture()
        try DataFixture.withTemporaryDirectory { directory in
            try DataFixture.writeFile(try fixture.idxGzip("images"), named: "train-images-idx3-ubyte.gz", in: directory)
            try DataFixture.writeFile(smallLabels, named: "train-labels-idx1-ubyte", in: directory)
            let train = try MNIST.load(directory: directory.path, split: .train)
            #expect(train.images.shape == [3, 1, 4, 5])
            #expect(train.images.labels == "BCSS")
            #expect(train.images.dataType == .float32)
            #expect(train.images.scalars(as: Float.self) == smallPixels.map { Float($0) / 255 })
            #expect(train.labels == [7, 2, 9])
            #expect(train.labelArray.shape == [3] && train.labelArray.labels == "B")
            #expect(train.labelArray.dataType == .float32 && train.labelArray.scalars(as: Float.self) == [7, 2, 9])
            // The label array is what indexcrossentropy takes: uniform predictions over 10 classes give log 10.
            let uniform = DLArray.full([3, 10], value: 0.1, labels: "BC")
            expectClose(try indexcrossentropy(uniform, train.labelArray), DLArray(Foundation.log(10.0)), tolerance: 1e-12)
            // The same directory through the Fashion-MNIST entry point.
            #expect(try MNIST.loadFashionMNIST(split: .train, directory: directory.path).labels == [7, 2, 9])
            // The test split is not there: both names looked for are in the message.
            let prefix = directory.appendingPathComponent("t10k-images-idx3-ubyte").path
            expectError(containing: "no such file", "\(prefix).gz or \(prefix)") {
                _ = try MNIST.load(directory: directory.path, split: .test)
            }
        }
    }

    @Test func mnistFileMistakes() throws {
        try DataFixture.withTemporaryDirectory { directory in
            let images = try DataFixture.writeFile(smallImages, named: "images", in: directory)
            let labels = try DataFixture.writeFile(smallLabels, named: "labels", in: directory)
            let twoLabels = try DataFixture.writeFile(
                idxBytes(magic: 0x0801, shape: [2], elements: [7, 2]), named: "two-labels", in: directory)
            expectError(containing: "\(images) holds 3 images but \(twoLabels) holds 2 labels") {
                _ = try MNIST(imagesFile: images, labelsFile: twoLabels)
            }
            expectError(containing: labels, "expected an IDX images file (magic number 0x00000803",
                        "found magic number 0x00000801 with 1 dimensions [3]") {
                _ = try MNIST(imagesFile: labels, labelsFile: labels)
            }
            expectError(containing: images, "expected an IDX labels file (magic number 0x00000801",
                        "found magic number 0x00000803") {
                _ = try MNIST(imagesFile: images, labelsFile: images)
            }
        }
    }

    @Test func fashionMNISTDefaultDirectory() throws {
        #expect(MNIST.fashionMNISTDirectory == "/usr/share/datasets/fashion-mnist")
        if FileManager.default.fileExists(atPath: MNIST.fashionMNISTDirectory) {
            let test = try MNIST.loadFashionMNIST(split: .test)
            #expect(test.images.shape == [10000, 1, 28, 28] && test.labels.count == 10000)
        } else {
            expectError(containing: "no such file", "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz",
                        "apt-get install dataset-fashion-mnist") { _ = try MNIST.loadFashionMNIST(split: .test) }
        }
    }
}
