import Foundation
import MNISTClassifier
import SwiftDL

/// A trained generator read back from a run's checkpoint, for drawing samples after training
/// (`gan sample --from RUN_DIR`). It uses the generator's moving average when the run kept one
/// (as the run's own pictures and measures do), in inference mode. A conditional generator
/// draws the same number of samples for every class, class after class, so that a grid of
/// them has one row per class.
public struct GANSampler: Sendable {
    /// The settings of the run that wrote the checkpoint.
    public let settings: GANSettings
    /// The generator: the run's average generator when it kept one, else its generator.
    public let generator: DLNetwork
    /// The run's discriminator (or one calibrated for this generator, see
    /// ``calibratedForRejection(on:steps:)``), which discriminator rejection sampling consults
    /// (``rejectionSamples(_:seed:truncation:percentile:)``).
    public internal(set) var discriminator: DLNetwork
    /// The iterations the run had done when it wrote the checkpoint.
    public let iteration: Int

    /// The most samples one call draws (a guard against a mistyped count).
    public static let maximumCount = 100_000

    /// Reads the generator of the checkpoint at `url`, checking every tensor it reads against
    /// the checksum stored with it.
    /// - Throws: `DLError.file` for a missing file, a file that is not a GAN checkpoint, a
    ///   damaged one (naming the tensor), or one whose generator does not fit its settings.
    public init(checkpoint url: URL) throws {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw DLError.file("there is no checkpoint at \(url.path)")
        }
        let (tensors, metadata) = try SafeTensors.read(from: url)
        _ = try GANTrainer.verifyChecksums(tensors, metadata, url)
        settings = try GANTrainer.decodeSettings(metadata, url)
        iteration = try GANTrainer.checkpointIteration(metadata, url)
        var (generator, discriminator) = try GANArchitecture.networks(for: settings)
        func load(_ network: inout DLNetwork, _ prefix: String) throws {
            func load(_ table: DLParameterTable, _ group: String) throws -> DLParameterTable {
                try table.mapRows { row in
                    let name = "\(prefix)/\(group)/\(row.layer)/\(row.parameter)"
                    guard let value = tensors[name], value.shape == row.value.shape, value.dataType == row.value.dataType else {
                        throw DLError.file("\(url.path): the checkpoint's \(name) is missing or does not fit its settings")
                    }
                    return value
                }
            }
            network.learnables = try load(network.learnables, "learnables")
            network.state = try load(network.state, "state")
        }
        try load(&generator, settings.generatorAverageDecay > 0 ? "averageGenerator" : "generator")
        try load(&discriminator, "discriminator")
        (self.generator, self.discriminator) = (generator, discriminator)
    }

    /// `count` latent vectors, `[count, latentSize]` "BC" float32, standard normal from `seed`
    /// (the same numbers as `DLArray.randn(_:type:labels:seed:)`).
    /// - Parameters:
    ///   - count: the number of vectors.
    ///   - seed: the seed of the random numbers.
    ///   - truncation: with a value `t`, every element outside `[−t, t]` is drawn again until it
    ///     falls inside (the truncation trick of Brock et al. 2019: fewer outlandish samples,
    ///     less variety).
    /// - Throws: `DLError.invalidArgument` for a count outside `1...maximumCount` or a
    ///   truncation that is not positive and finite.
    public func latentVectors(_ count: Int, seed: UInt64, truncation: Double? = nil) throws -> DLArray {
        try Self.requireCount(count)
        var random = DLRandomGenerator(seed: seed)
        return try latents(count, from: &random, truncation: truncation)
    }

    /// Throws `DLError.invalidArgument` for a number of samples outside `1...maximumCount`.
    static func requireCount(_ count: Int) throws {
        guard (1...maximumCount).contains(count) else {
            throw DLError.invalidArgument("the number of samples must be in 1...\(maximumCount), not \(count)")
        }
    }

    /// `count` latent vectors drawn from `random`, as ``latentVectors(_:seed:truncation:)``
    /// draws them.
    func latents(_ count: Int, from random: inout DLRandomGenerator, truncation: Double?) throws -> DLArray {
        if let truncation, !(truncation.isFinite && truncation > 0) {
            throw DLError.invalidArgument("the truncation must be positive and finite, not \(truncation)")
        }
        let values: [Float] = (0..<count * settings.latentSize).map { _ in
            var value = random.nextNormal()
            if let truncation { while Swift.abs(value) > truncation { value = random.nextNormal() } }
            return Float(value)
        }
        return try DLArray(values, shape: [count, settings.latentSize], labels: "BC")
    }

    /// The number of classes a conditional generator draws for, or nil for an unconditional one.
    public var classCount: Int? { settings.conditioning == nil ? nil : settings.dataset.classCount }

    /// The classes of `count` samples of a conditional generator, every class in turn
    /// (``GANConditioning/classBlocks(_:classCount:)``), or nil for an unconditional one.
    /// - Throws: `DLError.invalidArgument` when `count` is not a multiple of the number of classes.
    public func classes(_ count: Int) throws -> DLArray? {
        guard let classCount else { return nil }
        guard count % classCount == 0 else {
            throw DLError.invalidArgument("a conditional run draws the same number of samples for each of its \(classCount) classes: the number of samples must be a multiple of \(classCount), not \(count)")
        }
        return try GANConditioning.classBlocks(count, classCount: classCount)
    }

    /// `count` samples from ``latentVectors(_:seed:truncation:)`` (and, for a conditional
    /// generator, ``classes(_:)``): `[count, 1, side, side]` images in [−1, 1], or `[count, 2]`
    /// points.
    /// - Throws: the errors of ``latentVectors(_:seed:truncation:)`` and ``classes(_:)``.
    /// With a `rejection` percentile the samples are those that discriminator rejection
    /// sampling keeps (``rejectionSamples(_:seed:truncation:percentile:)``).
    public func samples(_ count: Int, seed: UInt64, truncation: Double? = nil, rejection: Double? = nil) throws -> DLArray {
        if let rejection { return try rejectionSamples(count, seed: seed, truncation: truncation, percentile: rejection) }
        return try generate(latentVectors(count, seed: seed, truncation: truncation), classes: classes(count))
    }

    /// The generator's outputs for the latent vectors `z` (`[n, latentSize]` "BC") and, for a
    /// conditional generator, their classes (``classes(_:)``), in inference mode, computed 500
    /// at a time.
    /// - Throws: `DLError` when `z` or `classes` do not fit the generator.
    public func generate(_ z: DLArray, classes: DLArray? = nil) throws -> DLArray {
        let count = z.shape[0]
        var parts: [DLArray] = []
        for start in stride(from: 0, to: count, by: 500) {
            let rows = start..<Swift.min(start + 500, count)
            parts.append(try generator.predict(GANTrainer.inputs(z[rows, ...], classes?[rows, ...]))[0])
        }
        return parts.count == 1 ? parts[0] : try cat(parts, dim: 0).labeled(parts[0].labels)
    }
}

/// How ``GANSampler/write(_:count:seed:truncation:rejection:to:)`` writes samples.
public enum GANSampleFormat: String, Codable, Sendable, CaseIterable {
    /// One picture: an image grid, or a scatter of 2-D points over the modes.
    case grid
    /// One PNG per image sample, `sample-00001.png`, … in a directory.
    case png
    /// The samples as one tensor `samples` in a safetensors file (metadata: iteration, seed,
    /// truncation, rejection percentile), with their classes as a tensor `classes` for a conditional run.
    case safetensors

    /// Where the format writes in a run's directory by default: `sample-grid.png`, `samples/`,
    /// `samples.safetensors`.
    public func defaultURL(in runDirectory: URL) -> URL {
        switch self {
        case .grid: runDirectory.appendingPathComponent("sample-grid.png")
        case .png: runDirectory.appendingPathComponent("samples")
        case .safetensors: runDirectory.appendingPathComponent("samples.safetensors")
        }
    }
}

extension GANSampler {
    /// Draws `count` samples (see ``samples(_:seed:truncation:rejection:)``) and writes them to `url` (a
    /// file, or a directory for `.png`), each file atomically. Returns a line saying what was
    /// written.
    /// - Throws: `DLError.invalidArgument` for single PNGs of 2-D points and the errors of
    ///   ``samples(_:seed:truncation:rejection:)``; `DLError.file` when a file cannot be written.
    @discardableResult
    public func write(_ format: GANSampleFormat, count: Int, seed: UInt64, truncation: Double? = nil, rejection: Double? = nil,
                      to url: URL) throws -> String {
        if format == .png && settings.dataset.isPlanar {
            throw DLError.invalidArgument("the \(settings.dataset.rawValue) samples are points, not images: use the grid or safetensors format")
        }
        let samples = try self.samples(count, seed: seed, truncation: truncation, rejection: rejection)
        switch format {
        case .grid:
            try GANPictures.samples(samples, settings: settings, iteration: iteration).writePNG(to: url)
            return "wrote \(url.path): \(count) samples of iteration \(iteration)"
        case .png:
            do {
                try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            } catch {
                throw DLError.file("cannot create the directory \(url.path): \(error.localizedDescription)")
            }
            for index in 0..<count {
                let image = try imageGrid(samples[index..<index + 1, ...].labeled("BCSS"), columns: 1, valueRange: -1...1, padding: 0)
                try image.writePNG(to: url.appendingPathComponent(String(format: "sample-%05d.png", index + 1)))
            }
            return "wrote \(count) PNGs of iteration \(iteration) to \(url.path)"
        case .safetensors:
            let metadata = ["iteration": "\(iteration)", "seed": "\(seed)", "truncation": truncation.map { "\($0)" } ?? "none",
                            "rejection": rejection.map { "\($0)" } ?? "none"]
            var tensors = ["samples": samples]
            tensors["classes"] = try classes(count)
            try SafeTensors.write(tensors, metadata: metadata, to: url)
            return "wrote \(url.path): samples \(samples.shape) of iteration \(iteration)"
        }
    }
}

extension GANSampler {
    /// The measures of `count` samples (``samples(_:seed:truncation:rejection:)``), as a run takes them
    /// (``GANMeasures/init(_:drawnFor:iteration:dataset:classifier:realFeatures:)``): with the
    /// run's measuring seed (``GANSettings/measuringSeed``), its number of measure samples,
    /// no truncation and no rejection, they are the measures the run logged at the checkpoint's iteration.
    /// - Parameters:
    ///   - count: the number of samples (a multiple of the number of classes for a conditional
    ///     run).
    ///   - seed: the seed of the latent vectors.
    ///   - truncation: redraw latent elements outside `[−t, t]`; nil for none.
    ///   - rejection: keep the samples discriminator rejection sampling keeps at this
    ///     percentile; nil for all.
    ///   - classifier: the data set's classifier (images); nil for 2-D data.
    ///   - data: the run's data, for the real images' features (images) or its modes.
    /// - Throws: `DLError.invalidArgument` for images without a classifier or of a size the
    ///   classifier does not take (only 28×28 images are measured), and the errors of
    ///   ``samples(_:seed:truncation:rejection:)``.
    public func measures(count: Int, seed: UInt64, truncation: Double? = nil, rejection: Double? = nil, classifier: DLNetwork?,
                         data: GANData) throws -> GANMeasures {
        var realFeatures: FeatureStatistics?
        if !settings.dataset.isPlanar {
            guard settings.imageSize == 28 else {
                throw DLError.invalidArgument("the classifier measures 28×28 images; this run's are \(settings.imageSize)×\(settings.imageSize)")
            }
            guard let classifier else {
                throw DLError.invalidArgument("measuring \(settings.dataset.rawValue) images needs its classifier")
            }
            realFeatures = try GANMeasures.realFeatures(of: data, classifier: classifier)
        }
        let samples = try self.samples(count, seed: seed, truncation: truncation, rejection: rejection)
        return try GANMeasures(samples, drawnFor: classes(count), iteration: iteration, dataset: settings.dataset,
                               classifier: classifier, realFeatures: realFeatures)
    }
}

extension GANTrainer {
    /// The iteration stored in a checkpoint's progress record.
    static func checkpointIteration(_ metadata: [String: String], _ url: URL) throws -> Int {
        guard let text = metadata["gan.progress"],
              let progress = try? JSONDecoder().decode(GANProgress.self, from: Data(text.utf8)) else {
            throw DLError.file("\(url.path): the checkpoint's progress record is missing or damaged")
        }
        return progress.iteration
    }
}
