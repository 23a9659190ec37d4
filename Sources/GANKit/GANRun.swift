import Foundation
import MNISTClassifier
import SwiftDL

/// The measures of a generator's samples at one iteration: for 2-D data, the modes captured and
/// the share of high-quality samples (REFERENCE §3); for MNIST digits, the classifier-based
/// Inception Score, digit classes covered and Fréchet distance of the classifier's features.
public struct GANMeasures: Codable, Sendable, Equatable {
    /// The iteration measured.
    public var iteration: Int
    /// The number of samples measured.
    public var samples: Int
    /// 2-D: modes captured (nearest mode of at least one high-quality sample).
    public var modesCaptured: Int?
    /// 2-D: the number of modes.
    public var modeCount: Int?
    /// 2-D: the percentage of samples within 3 standard deviations of their nearest mode.
    public var highQualityPercent: Double?
    /// Images: the classifier-based Inception Score.
    public var inceptionScore: Double?
    /// Images: the digit classes predicted for at least one sample.
    public var classesCovered: Int?
    /// Images: the Fréchet distance between the classifier features of real and generated images.
    public var frechetDistance: Double?
    /// Images: the entropy of the mean class probabilities (nats), the first part of the
    /// Inception Score's logarithm; log 10 ≈ 2.303 when the digits are equally frequent.
    public var classEntropy: Double?
    /// Images: the mean entropy of one sample's class probabilities (nats), subtracted from
    /// ``classEntropy`` in the Inception Score's logarithm; 0 when every sample is unambiguous.
    public var meanConditionalEntropy: Double?

    /// A one-line summary.
    public var summary: String {
        if let modesCaptured, let modeCount, let highQualityPercent {
            return String(format: "modes captured %d/%d, high-quality samples %.1f%%", modesCaptured, modeCount, highQualityPercent)
        }
        if let inceptionScore, let classesCovered, let frechetDistance {
            return String(format: "Inception Score %.2f, digit classes %d/10, Frechet distance %.3f", inceptionScore, classesCovered, frechetDistance)
        }
        return "no measures for these data"
    }
}

/// One line of a run's JSON-lines log: an iteration's losses and scores, or the measures taken at
/// an iteration.
public struct GANLogEntry: Codable, Sendable, Equatable {
    /// The iteration.
    public var iteration: Int
    /// Seconds since the run started (over all its sessions).
    public var seconds: Double
    /// The iteration's losses and scores.
    public var step: GANStepRecord?
    /// Measures of the samples.
    public var measures: GANMeasures?
}

/// Where a run writes, and how often.
public struct GANRunOptions: Sendable {
    /// The directory of the run's files: `log.jsonl`, `checkpoint.safetensors`,
    /// `samples-<iteration>.png` and `samples.png`, `training.png`, `summary.json`.
    public var outputDirectory: URL
    /// Iterations between sample images and measures (the last iteration always has them).
    public var sampleInterval: Int
    /// Iterations between checkpoints (the last iteration always has one).
    public var checkpointInterval: Int
    /// The MNIST classifier's weights, for the image measures of MNIST; nil skips them.
    public var classifierURL: URL?
    /// Continue from the checkpoint in `outputDirectory` instead of starting anew.
    public var resume: Bool
    /// How many samples the measures use (2,500 as in the 2-D literature).
    public var measureSamples: Int

    /// Options with the given directory; the intervals default to a tenth of the run.
    public init(outputDirectory: URL, sampleInterval: Int, checkpointInterval: Int, classifierURL: URL? = nil,
                resume: Bool = false, measureSamples: Int = 2500) {
        self.outputDirectory = outputDirectory
        self.sampleInterval = sampleInterval
        self.checkpointInterval = checkpointInterval
        self.classifierURL = classifierURL
        self.resume = resume
        self.measureSamples = measureSamples
    }
}

/// What a finished run reports (also written as `summary.json`).
public struct GANRunSummary: Codable, Sendable {
    /// The settings.
    public var settings: GANSettings
    /// The iterations done in all.
    public var iterations: Int
    /// The iteration this session started from (0 unless resumed).
    public var resumedFrom: Int
    /// Seconds of training in this session.
    public var seconds: Double
    /// Iterations per second in this session.
    public var stepsPerSecond: Double
    /// The last iteration's losses and scores.
    public var lastStep: GANStepRecord?
    /// The measures of the final samples.
    public var measures: GANMeasures
}

/// A training run with its files: it trains a ``GANTrainer`` for the settings' iterations,
/// shows a progress line, appends every iteration to a JSON-lines log, writes sample images and
/// a plot of the losses and scores at intervals, measures the samples, and writes atomic
/// checkpoints from which `resume` continues exactly (the same numbers as an uninterrupted run;
/// a killed run loses at most the iterations since its last checkpoint).
public final class GANRun {
    /// The trainer, as it stands.
    public private(set) var trainer: GANTrainer
    /// The options.
    public let options: GANRunOptions
    /// The log so far (from the checkpoint on when resumed).
    public private(set) var log: [GANLogEntry] = []
    private let fixedLatents: DLArray
    private let measureLatents: DLArray
    private let classifier: DLNetwork?
    private let realFeatures: FeatureStatistics?
    private var pendingLog: [GANLogEntry] = []
    private var secondsBefore = 0.0

    private var logURL: URL { options.outputDirectory.appendingPathComponent("log.jsonl") }
    /// The checkpoint file of a run directory.
    public static func checkpointURL(in directory: URL) -> URL { directory.appendingPathComponent("checkpoint.safetensors") }

    /// Prepares a run: checks everything first (settings, data, checkpoint, classifier), so
    /// that a mistake changes no file, then creates the output directory.
    /// - Throws: `DLError` naming the problem: settings that do not fit, a missing or damaged
    ///   checkpoint, a checkpoint of another model, an unreadable classifier, a directory that
    ///   cannot be created.
    public init(settings: GANSettings, data: GANData, options: GANRunOptions) throws {
        self.options = options
        guard options.sampleInterval >= 1, options.checkpointInterval >= 1, options.measureSamples >= 2 else {
            throw DLError.invalidArgument("the sample and checkpoint intervals must be at least 1 and the measure samples at least 2")
        }
        let checkpoint = Self.checkpointURL(in: options.outputDirectory)
        if options.resume {
            guard FileManager.default.fileExists(atPath: checkpoint.path) else {
                throw DLError.file("cannot resume: there is no checkpoint at \(checkpoint.path)")
            }
            trainer = try GANTrainer(resumingFrom: checkpoint, settings: settings, data: data)
            guard trainer.iteration <= settings.iterations else {
                throw DLError.invalidArgument("the checkpoint is at iteration \(trainer.iteration), past the \(settings.iterations) iterations asked for")
            }
        } else {
            trainer = try GANTrainer(settings: settings, data: data)
        }
        fixedLatents = trainer.latentVectors(settings.dataset.isPlanar ? 1000 : 64, seed: settings.seed &+ 1000)
        measureLatents = trainer.latentVectors(options.measureSamples, seed: settings.seed &+ 2000)
        if settings.dataset == .mnist, settings.imageSize == 28, let url = options.classifierURL {
            let net = try DLNetwork(contentsOf: url)
            classifier = net
            let real = try data.samples(10000, seed: 0)
            realFeatures = try MNISTClassifier.featureStatistics(net, images: real * 0.5 + 0.5)
        } else {
            classifier = nil
            realFeatures = nil
        }
        if options.resume {
            log = try Self.readLog(logURL, upTo: trainer.iteration)
            secondsBefore = log.last?.seconds ?? 0
        }
        do {
            try FileManager.default.createDirectory(at: options.outputDirectory, withIntermediateDirectories: true)
        } catch {
            throw DLError.file("cannot create the output directory \(options.outputDirectory.path): \(error.localizedDescription)")
        }
        if options.resume {
            try writeAtomically(Data(log.map(Self.line).joined().utf8), to: logURL)
        } else {
            try removeOldOutputs()
            try writeAtomically(Data(), to: logURL)
        }
    }

    /// Trains to the settings' number of iterations and returns the summary.
    /// - Throws: the trainer's and the files' errors.
    @discardableResult
    public func run(progress: inout ProgressLine) throws -> GANRunSummary {
        let settings = trainer.settings
        let start = Date(), startIteration = trainer.iteration
        var last: GANStepRecord?
        var measures = log.last(where: { $0.measures != nil })?.measures
        if startIteration > 0 { progress.note("resuming at iteration \(startIteration) of \(settings.iterations)") }
        while trainer.iteration < settings.iterations {
            let record = try trainer.step()
            last = record
            let elapsed = Date().timeIntervalSince(start)
            append(GANLogEntry(iteration: record.iteration, seconds: secondsBefore + elapsed, step: record))
            let rate = Double(trainer.iteration - startIteration) / Swift.max(elapsed, 1e-9)
            progress.show(record, of: settings.iterations, epoch: epoch, stepsPerSecond: rate)
            let done = trainer.iteration == settings.iterations
            if done || trainer.iteration % options.sampleInterval == 0 {
                let measured = try measure()
                measures = measured
                append(GANLogEntry(iteration: record.iteration, seconds: secondsBefore + Date().timeIntervalSince(start), measures: measured))
                try writePictures()
                try flushLog()
                progress.note("iteration \(record.iteration): \(measured.summary)")
            }
            if done || trainer.iteration % options.checkpointInterval == 0 {
                try flushLog()
                try trainer.writeCheckpoint(to: Self.checkpointURL(in: options.outputDirectory))
            }
        }
        let seconds = Date().timeIntervalSince(start)
        let finalMeasures = try measures ?? measure()
        let summary = GANRunSummary(settings: settings, iterations: trainer.iteration, resumedFrom: startIteration,
                                    seconds: seconds, stepsPerSecond: Double(trainer.iteration - startIteration) / Swift.max(seconds, 1e-9),
                                    lastStep: last ?? log.last(where: { $0.step != nil })?.step, measures: finalMeasures)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try writeAtomically(try encoder.encode(summary), to: options.outputDirectory.appendingPathComponent("summary.json"))
        return summary
    }

    /// The epoch reached (image data), or nil (2-D data, which are unlimited).
    private var epoch: Double? {
        let data = trainer.data
        guard !data.dataset.isPlanar else { return nil }
        return Double(trainer.batchesRead) / Double(data.batchesPerEpoch(batchSize: trainer.settings.batchSize))
    }

    /// Measures the generator's samples from the fixed measuring latents.
    public func measure() throws -> GANMeasures {
        let samples = try trainer.generate(measureLatents)
        var measures = GANMeasures(iteration: trainer.iteration, samples: samples.shape[0])
        if let mixture = trainer.settings.dataset.mixture {
            let coverage = try mixture.modeCoverage(of: samples)
            measures.modesCaptured = coverage.modesCaptured
            measures.modeCount = coverage.modeCount
            measures.highQualityPercent = coverage.highQualityPercent
        } else if let classifier, let realFeatures {
            let scores = try MNISTClassifier.scores(classifier, generated: samples * 0.5 + 0.5, real: realFeatures)
            measures.inceptionScore = scores.inceptionScore
            measures.classesCovered = scores.classesCovered
            measures.frechetDistance = scores.frechetDistance
            measures.classEntropy = scores.classEntropy
            measures.meanConditionalEntropy = scores.meanConditionalEntropy
        }
        return measures
    }

    private func append(_ entry: GANLogEntry) {
        log.append(entry)
        pendingLog.append(entry)
    }

    /// Appends the entries not yet written to the log file.
    private func flushLog() throws {
        guard !pendingLog.isEmpty else { return }
        do {
            let handle = try FileHandle(forWritingTo: logURL)
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(pendingLog.map(Self.line).joined().utf8))
            pendingLog.removeAll()
        } catch {
            throw DLError.file("cannot append to \(logURL.path): \(error.localizedDescription)")
        }
    }

    private static func line(_ entry: GANLogEntry) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: (try? encoder.encode(entry)) ?? Data(), as: UTF8.self) + "\n"
    }

    /// The entries of a log file up to `iteration`; a damaged last line (a write cut short) is
    /// dropped.
    static func readLog(_ url: URL, upTo iteration: Int) throws -> [GANLogEntry] {
        guard let data = FileManager.default.contents(atPath: url.path) else { return [] }
        let decoder = JSONDecoder()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { line in
            try? decoder.decode(GANLogEntry.self, from: Data(line.utf8))
        }.filter { $0.iteration <= iteration }
    }

    /// Removes the sample images of an earlier run in the output directory, so a new run's
    /// directory holds only its own files.
    private func removeOldOutputs() throws {
        let directory = options.outputDirectory
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in names where name.hasPrefix("samples-") && name.hasSuffix(".png") {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
        for name in ["checkpoint.safetensors", "summary.json"] where names.contains(name) {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
    }

    /// Writes the sample picture of this iteration (and `samples.png`) and the training plot.
    private func writePictures() throws {
        let samples = try trainer.generate(fixedLatents)
        let picture = try GANPictures.samples(samples, settings: trainer.settings, iteration: trainer.iteration)
        let name = String(format: "samples-%06d.png", trainer.iteration)
        try picture.writePNG(to: options.outputDirectory.appendingPathComponent(name))
        try picture.writePNG(to: options.outputDirectory.appendingPathComponent("samples.png"))
        try GANPictures.training(log, settings: trainer.settings)
            .writePNG(to: options.outputDirectory.appendingPathComponent("training.png"))
    }
}
