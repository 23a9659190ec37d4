import Foundation

/// A split of MNIST or of a dataset in its format (Fashion-MNIST): images as a `float32` array
/// labeled `"BCSS"` and their class labels.
///
/// ```swift
/// let train = try MNIST.load(directory: "../shared/datasets/mnist", split: .train)
/// train.images.shape    // [60000, 1, 28, 28], labeled "BCSS", values in [0, 1]
/// train.labels[0..<5]   // [5, 0, 4, 1, 9]
///
/// let fashion = try MNIST.loadFashionMNIST(split: .test)  // from /usr/share/datasets/fashion-mnist
/// ```
public struct MNIST: Sendable {
    /// The training or the test split, stored as `train-…` and `t10k-…` files.
    public enum Split: Sendable {
        /// The training images and labels (`train-images-idx3-ubyte`, `train-labels-idx1-ubyte`).
        case train
        /// The test images and labels (`t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`).
        case test

        /// The prefix of the split's file names.
        var filePrefix: String {
            switch self {
            case .train: "train"
            case .test: "t10k"
            }
        }
    }

    /// Where Debian's `dataset-fashion-mnist` package installs Fashion-MNIST
    /// (`apt-get install dataset-fashion-mnist`), the default directory of
    /// ``loadFashionMNIST(split:directory:)``.
    public static let fashionMNISTDirectory = "/usr/share/datasets/fashion-mnist"

    /// The images: `float32`, shape `[count, 1, rows, columns]` labeled `"BCSS"` (MATLAB's
    /// `"SSCB"`), each pixel's byte divided by 255, so in [0, 1].
    public let images: DLArray
    /// The class of each image, 0...9 for MNIST and Fashion-MNIST.
    public let labels: [Int]

    /// The labels as a `float32` array of shape `[count]` labeled `"B"`: class indices, as
    /// ``indexcrossentropy(_:_:_:weightsFormat:mask:maskFormat:normalizationFactor:reduction:dataFormat:)``
    /// takes them.
    public var labelArray: DLArray {
        DLArray(storage: Storage.make(labels.map(Float.init)), shape: [labels.count], labels: "B")
    }

    /// Reads a split from the IDX files in `directory`: `train-images-idx3-ubyte.gz` and
    /// `train-labels-idx1-ubyte.gz` for training, `t10k-…` for testing, each compressed or not
    /// (the `.gz` name is looked for first).
    ///
    /// - Throws: ``DLError/file(_:)`` when a file is missing (the message names the paths looked
    ///   for) or is not a valid IDX file, and for the errors of ``init(imagesFile:labelsFile:)``.
    public static func load(directory: String, split: Split) throws -> MNIST {
        func path(_ kind: String) throws -> String {
            let base = URL(fileURLWithPath: directory).appendingPathComponent("\(split.filePrefix)-\(kind)").path
            let candidates = [base + ".gz", base]
            guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
                let hint = directory.hasSuffix("fashion-mnist") || directory.hasSuffix("fashion-mnist/")
                    ? "; Fashion-MNIST installs there with `apt-get install dataset-fashion-mnist`" : ""
                throw DLError.file("no such file: \(candidates.joined(separator: " or "))\(hint)")
            }
            return found
        }
        return try MNIST(imagesFile: try path("images-idx3-ubyte"), labelsFile: try path("labels-idx1-ubyte"))
    }

    /// Reads a split of Fashion-MNIST, which has MNIST's format, from `directory` (by default
    /// where Debian's `dataset-fashion-mnist` package installs it).
    ///
    /// - Throws: the errors of ``load(directory:split:)``.
    public static func loadFashionMNIST(split: Split, directory: String = fashionMNISTDirectory) throws -> MNIST {
        try load(directory: directory, split: split)
    }

    /// Reads images and labels from two IDX files, raw or gzip-compressed.
    ///
    /// - Throws: ``DLError/file(_:)`` for the errors of ``IDXFile/read(_:)``, an images file that
    ///   is not three-dimensional (magic number `0x00000803`) or a labels file that is not
    ///   one-dimensional (`0x00000801`), and different numbers of images and labels.
    public init(imagesFile: String, labelsFile: String) throws {
        let images = try IDXFile.read(imagesFile)
        guard images.shape.count == 3 else {
            throw DLError.file(
                "\(imagesFile): expected an IDX images file (magic number 0x00000803: count, rows, columns), found magic number \(hexNumber(images.magic)) with \(images.shape.count) dimensions \(images.shape)")
        }
        let labels = try IDXFile.read(labelsFile)
        guard labels.shape.count == 1 else {
            throw DLError.file(
                "\(labelsFile): expected an IDX labels file (magic number 0x00000801: count), found magic number \(hexNumber(labels.magic)) with \(labels.shape.count) dimensions \(labels.shape)")
        }
        guard images.shape[0] == labels.shape[0] else {
            throw DLError.file(
                "\(imagesFile) holds \(images.shape[0]) images but \(labelsFile) holds \(labels.shape[0]) labels; they must have one label per image")
        }
        let pixels = images.bytes
        let storage = Storage.allocate(count: pixels.count, dataType: .float32)
        let values = storage.pointer(as: Float.self)
        pixels.withUnsafeBufferPointer { source in
            Parallel.forEachChunk(count: source.count) { range in
                for k in range { values[k] = Float(source[k]) / 255 }
            }
        }
        self.images = DLArray(storage: storage, shape: [images.shape[0], 1, images.shape[1], images.shape[2]],
                              labels: "BCSS")
        self.labels = labels.bytes.map(Int.init)
    }
}
