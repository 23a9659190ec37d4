import Foundation
import SwiftDL

/// The data sets the GAN trainer knows.
public enum GANDataset: String, Codable, Sendable, CaseIterable {
    /// 8 Gaussians on the unit circle (``GaussianMixture2D/ring8``), the embedded default.
    case ring8 = "ring-8"
    /// 25 Gaussians on a 5×5 grid (``GaussianMixture2D/grid25``).
    case grid25 = "grid-25"
    /// MNIST's 60,000 handwritten training digits, read from IDX files.
    case mnist
    /// Fashion-MNIST's 60,000 training images of clothes, read from IDX files.
    case fashionMNIST = "fashion-mnist"

    /// Whether the samples are points in the plane (the mixtures) rather than images.
    public var isPlanar: Bool { mixture != nil }

    /// The mixture of a 2-D data set.
    public var mixture: GaussianMixture2D? {
        switch self {
        case .ring8: .ring8
        case .grid25: .grid25
        case .mnist, .fashionMNIST: nil
        }
    }
}

/// The real samples a GAN learns from: points drawn from a 2-D mixture, or images of a data set
/// in IDX files scaled to [−1, 1] (the range of the generator's tanh), visited in a new random
/// order every epoch.
///
/// Mini-batches are numbered from 0. Batch `k` of an image set depends only on `k` and the seed
/// (the order of each epoch is drawn from a generator seeded by the seed and the epoch), so a
/// resumed run reads the same batches as an uninterrupted one.
public struct GANData: Sendable {
    /// The data set.
    public let dataset: GANDataset
    /// The side of the images the generator makes (28 or 64); 0 for 2-D data.
    public let imageSize: Int
    /// The images (`[count, 1, 28, 28]`, values in [−1, 1]); empty for 2-D data.
    private let pixels: [Float]
    /// The class of each image (0-based); empty for 2-D data and unlabeled images.
    private let classes: [Int]
    private let sourceSide: Int
    /// The number of images (0 for 2-D data, whose samples are unlimited).
    public let count: Int

    /// The 2-D mixture's samples.
    /// - Throws: `DLError.invalidArgument` for an image data set.
    public init(mixtureOf dataset: GANDataset) throws {
        guard dataset.isPlanar else {
            throw DLError.invalidArgument("\(dataset.rawValue) is an image data set; load it with GANData(images:from:imageSize:)")
        }
        self.dataset = dataset
        imageSize = 0
        pixels = []
        classes = []
        sourceSide = 0
        count = 0
    }

    /// The training images of `dataset` from the IDX files in `directory`
    /// (`train-images-idx3-ubyte[.gz]` and its labels file), enlarged to `imageSize` when it is 64.
    /// - Throws: `DLError.file` for missing or damaged files, `DLError.invalidArgument`
    ///   for images that are not 28×28 single-channel or an image size other than 28 or 64.
    public init(images dataset: GANDataset, from directory: String, imageSize: Int = 28) throws {
        guard !dataset.isPlanar else {
            throw DLError.invalidArgument("\(dataset.rawValue) is a 2-D mixture; use GANData(mixtureOf:)")
        }
        guard [28, 64].contains(imageSize) else {
            throw DLError.invalidArgument("the image size must be 28 or 64, not \(imageSize)")
        }
        let split = try MNIST.load(directory: directory, split: .train)
        let shape = split.images.shape
        guard shape.first ?? 0 > 0 else {
            throw DLError.file("\(directory): the training images file (train-images-idx3-ubyte) holds no images")
        }
        guard shape.count == 4, shape[1] == 1, shape[2] == 28, shape[3] == 28 else {
            throw DLError.invalidArgument("\(directory): expected 28x28 single-channel images, found images of shape \(Array(shape.dropFirst()))")
        }
        self.dataset = dataset
        self.imageSize = imageSize
        pixels = split.images.scalars(as: Float.self).map { 2 * $0 - 1 }
        classes = split.labels
        sourceSide = 28
        count = shape[0]
    }

    /// Images already in memory: `[count, 1, S, S]` "BCSS" with values in [−1, 1] and S the
    /// generator's image size, standing for `dataset` (your own images, or a fixed batch for
    /// measuring speed), with their classes (0-based) for a conditional GAN.
    /// - Throws: `DLError.invalidArgument` for a 2-D data set, images of another shape, or
    ///   classes that are not one per image in `0..<dataset.classCount`.
    public init(images: DLArray, as dataset: GANDataset, classes: [Int]? = nil) throws {
        let shape = images.shape
        guard !dataset.isPlanar else {
            throw DLError.invalidArgument("\(dataset.rawValue) is a 2-D mixture; use GANData(mixtureOf:)")
        }
        guard images.labels == "BCSS", shape.count == 4, shape[1] == 1, shape[2] == shape[3], [28, 64].contains(shape[2]), shape[0] > 0 else {
            throw DLError.invalidArgument("GAN images must be \"BCSS\" [N, 1, S, S] with S 28 or 64, got \"\(images.labels)\" \(shape)")
        }
        if let classes, let classCount = dataset.classCount {
            guard classes.count == shape[0], classes.allSatisfy((0..<classCount).contains) else {
                throw DLError.invalidArgument("the images need one class in 0..<\(classCount) each: \(shape[0]) images, \(classes.count) classes")
            }
        }
        self.dataset = dataset
        imageSize = shape[2]
        sourceSide = shape[2]
        pixels = images.scalars(as: Float.self)
        self.classes = classes ?? []
        count = shape[0]
    }

    /// Whether every image has its class (the images of IDX files, or images given with their classes).
    public var isLabeled: Bool { count > 0 && classes.count == count }

    /// The number of full mini-batches in an epoch of an image set.
    public func batchesPerEpoch(batchSize: Int) -> Int { Swift.max(count / batchSize, 1) }

    /// The order of the images in one epoch, kept by the reader of the batches so that it is
    /// drawn once per epoch rather than once per batch.
    public struct EpochOrder: Sendable {
        fileprivate let epoch: Int
        fileprivate let seed: UInt64
        fileprivate let order: [Int]
    }

    /// Mini-batch `index` of `batchSize` samples: `[batchSize, 2]` "BC" points drawn with
    /// `generator` for 2-D data; `[batchSize, 1, S, S]` "BCSS" images for image data (`generator`
    /// is not used: the epoch's order comes from `seed`, and is kept in `order` for the next
    /// batches of the same epoch).
    public func batch(_ index: Int, size batchSize: Int, seed: UInt64,
                      using generator: inout DLRandomGenerator, order: inout EpochOrder?) throws -> DLArray {
        if let mixture = dataset.mixture { return try mixture.sample(count: batchSize, using: &generator) }
        let images = batchImages(index, size: batchSize, seed: seed, order: &order)
        let area = sourceSide * sourceSide
        let values = [Float](unsafeUninitializedCapacity: batchSize * area) { batch, initialized in
            pixels.withUnsafeBufferPointer { pixels in
                for (b, image) in images.enumerated() {
                    (batch.baseAddress! + b * area).initialize(from: pixels.baseAddress! + image * area, count: area)
                }
            }
            initialized = batchSize * area
        }
        let batch = try DLArray(values, shape: [batchSize, 1, sourceSide, sourceSide], labels: "BCSS")
        return imageSize == sourceSide ? batch : try enlarged(batch, to: imageSize)
    }

    /// The classes of the images of mini-batch `index` (see ``batch(_:size:seed:using:order:)``),
    /// `[batchSize, 1]` "BC" float32 class indices.
    /// - Throws: `DLError.invalidArgument` when the images have no classes.
    public func batchClasses(_ index: Int, size batchSize: Int, seed: UInt64, order: inout EpochOrder?) throws -> DLArray {
        guard isLabeled else {
            throw DLError.invalidArgument("the \(dataset.rawValue) images were given without their classes; a conditional GAN needs them")
        }
        let images = batchImages(index, size: batchSize, seed: seed, order: &order)
        return try DLArray(images.map { Float(classes[$0]) }, shape: [batchSize, 1], labels: "BC")
    }

    /// The indices of the images of mini-batch `index`.
    private func batchImages(_ index: Int, size batchSize: Int, seed: UInt64, order: inout EpochOrder?) -> [Int] {
        let perEpoch = batchesPerEpoch(batchSize: batchSize)
        let epoch = index / perEpoch
        let imageOrder: [Int]
        if let kept = order, kept.epoch == epoch, kept.seed == seed, kept.order.count == count {
            imageOrder = kept.order
        } else {
            imageOrder = epochOrder(epoch, seed: seed)
            order = EpochOrder(epoch: epoch, seed: seed, order: imageOrder)
        }
        let start = (index % perEpoch) * batchSize
        return (0..<batchSize).map { imageOrder[(start + $0) % count] }
    }

    /// `count` real samples for measuring: 2-D points from a generator seeded with `seed`, or the
    /// first `count` images.
    public func samples(_ count: Int, seed: UInt64) throws -> DLArray {
        if let mixture = dataset.mixture { return try mixture.sample(count: count, seed: seed) }
        let n = Swift.min(count, self.count), area = sourceSide * sourceSide
        let images = try DLArray(Array(pixels[0..<n * area]), shape: [n, 1, sourceSide, sourceSide], labels: "BCSS")
        return imageSize == sourceSide ? images : try enlarged(images, to: imageSize)
    }

    /// The order of the images in epoch `epoch`: a permutation drawn from a generator seeded
    /// with the run's seed and the epoch.
    private func epochOrder(_ epoch: Int, seed: UInt64) -> [Int] {
        var generator = DLRandomGenerator(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(epoch) &+ 0x5EED)
        var order = Array(0..<count)
        order.shuffle(using: &generator)
        return order
    }
}

/// Images enlarged to `side`×`side` by bilinear interpolation (pixel centers aligned, as
/// MATLAB's `imresize` and PyTorch's `interpolate(align_corners=False)`).
func enlarged(_ images: DLArray, to side: Int) throws -> DLArray {
    let shape = images.shape
    let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
    let source = images.scalars(as: Float.self)
    var result = [Float](repeating: 0, count: n * c * side * side)
    func sampling(_ outputIndex: Int, _ inputSize: Int) -> (Int, Int, Float) {
        let position = Swift.max((Float(outputIndex) + 0.5) * Float(inputSize) / Float(side) - 0.5, 0)
        let low = Swift.min(Int(position), inputSize - 1)
        return (low, Swift.min(low + 1, inputSize - 1), position - Float(low))
    }
    let rows = (0..<side).map { sampling($0, h) }, columns = (0..<side).map { sampling($0, w) }
    for plane in 0..<(n * c) {
        let input = plane * h * w, output = plane * side * side
        for (y, (y0, y1, fy)) in rows.enumerated() {
            for (x, (x0, x1, fx)) in columns.enumerated() {
                let top = source[input + y0 * w + x0] * (1 - fx) + source[input + y0 * w + x1] * fx
                let bottom = source[input + y1 * w + x0] * (1 - fx) + source[input + y1 * w + x1] * fx
                result[output + y * side + x] = top * (1 - fy) + bottom * fy
            }
        }
    }
    return try DLArray(result, shape: [n, c, side, side], labels: "BCSS")
}
