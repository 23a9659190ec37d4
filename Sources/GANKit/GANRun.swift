import Foundation
import MNISTClassifier
import SwiftDL

/// The measures of a generator's samples at one iteration: for 2-D data, the modes captured and
/// the share of high-quality samples (REFERENCE §3); for MNIST digits, the classifier-based
/// Inception Score, classes covered and Fréchet distance of the classifier's features (each
/// data set's own classifier: digits for MNIST, garments for Fashion-MNIST).
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
    /// Images: the classes predicted for at least one sample.
    public var classesCovered: Int?
    /// Images: the Fréchet distance between the classifier features of real and generated images.
    public var frechetDistance: Double?
    /// Images: the entropy of the mean class probabilities (nats), the first part of the
    /// Inception Score's logarithm; log 10 ≈ 2.303 when the digits are equally frequent.
    public var classEntropy: Double?
    /// Images: the mean entropy of one sample's class probabilities (nats), subtracted from
    /// ``classEntropy`` in the Inception Score's logarithm; 0 when every sample is unambiguous.
    public var meanConditionalEntropy: Double?
    /// Conditional images: the percentage of samples that the classifier assigns to the class
    /// they were drawn for (the samples are drawn for every class equally).
    public var classAccuracyPercent: Double?

    /// A one-line summary.
    public var summary: String {
        if let modesCaptured, let modeCount, let highQualityPercent {
            return String(format: "modes captured %d/%d, high-quality samples %.1f%%", modesCaptured, modeCount, highQualityPercent)
        }
        if let inceptionScore, let classesCovered, let frechetDistance {
            let scores = String(format: "Inception Score %.2f, classes %d/10, Frechet distance %.3f", inceptionScore, classesCovered, frechetDistance)
            return scores + (classAccuracyPercent.map { String(format: ", samples of their class %.1f%%", $0) } ?? "")
        }
        return "no measures for these data"
    }
}

extension GANMeasures {
    /// The measures as one line of JSON (keys sorted, ending in a newline), written as the
    /// run's log writes them: numbers that are not finite as the strings "NaN", "Infinity" and
    /// "-Infinity".
    /// - Throws: `EncodingError` if the measures cannot be encoded.
    public func jsonLine() throws -> String { try GANRun.line(self) }

    /// The statistics of the classifier features of 10,000 of the data's real images (drawn with
    /// seed 0), which the Fréchet distance of every run and of `gan measure` compares with.
    /// - Throws: `DLError` when the images do not fit the classifier.
    public static func realFeatures(of data: GANData, classifier: DLNetwork) throws -> FeatureStatistics {
        try MNISTClassifier.featureStatistics(classifier, images: data.samples(10000, seed: 0) * 0.5 + 0.5)
    }

    /// The measures of a generator's samples: for 2-D data, the modes captured and the
    /// high-quality share; for images, given the classifier and the real images' feature
    /// statistics, the Inception Score, the classes covered, the Fréchet distance and, for
    /// samples drawn for given classes, the share classified as their class. Without a
    /// classifier, images get no measures.
    /// - Parameters:
    ///   - samples: `[N, 2]` points, or `[N, 1, side, side]` images in [−1, 1].
    ///   - classes: the classes the samples were drawn for (`[N, 1]` class indices), or nil.
    ///   - iteration: the iteration the samples come from.
    ///   - dataset: the data the generator learned.
    ///   - classifier: the data set's classifier, or nil.
    ///   - realFeatures: the classifier features' statistics of real images, or nil.
    /// - Throws: `DLError` when the samples do not fit the data set or the classifier.
    public init(_ samples: DLArray, drawnFor classes: DLArray?, iteration: Int, dataset: GANDataset,
                classifier: DLNetwork?, realFeatures: FeatureStatistics?) throws {
        self.init(iteration: iteration, samples: samples.shape[0])
        if let mixture = dataset.mixture {
            let coverage = try mixture.modeCoverage(of: samples)
            modesCaptured = coverage.modesCaptured
            modeCount = coverage.modeCount
            highQualityPercent = coverage.highQualityPercent
        } else if let classifier, let realFeatures {
            let scores = try MNISTClassifier.scores(classifier, generated: samples * 0.5 + 0.5, real: realFeatures)
            inceptionScore = scores.inceptionScore
            classesCovered = scores.classesCovered
            frechetDistance = scores.frechetDistance
            classEntropy = scores.classEntropy
            meanConditionalEntropy = scores.meanConditionalEntropy
            if let classes {
                let drawn = classes.scalars(as: Float.self).map { Int($0) }
                let matching = zip(drawn, scores.predictedClasses).filter { $0 == $1 }.count
                classAccuracyPercent = 100 * Double(matching) / Double(drawn.count)
            }
        }
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
    /// The classifier's weights, for the image measures of MNIST and Fashion-MNIST (each data
    /// set's own classifier); nil skips them.
    public var classifierURL: URL?
    /// Continue from the checkpoint in `outputDirectory` instead of starting anew.
    public var resume: Bool
    /// Replace the files of an earlier run in `outputDirectory` (without it, a directory
    /// holding a run is refused unless `resume`).
    public var overwrite: Bool
    /// How many samples the measures use (2,500 as in the 2-D literature).
    public var measureSamples: Int
    /// Asks the run to stop after the current iteration, with a checkpoint.
    public var stopRequest: GANStopRequest?
    /// Whether the trainer runs its passes through `dlaccelerate` (``GANTrainer/accelerate``);
    /// the results are the same either way.
    public var accelerate: Bool

    /// Options with the given directory and intervals.
    public init(outputDirectory: URL, sampleInterval: Int, checkpointInterval: Int, classifierURL: URL? = nil,
                resume: Bool = false, overwrite: Bool = false, measureSamples: Int = 2500, stopRequest: GANStopRequest? = nil,
                accelerate: Bool = true) {
        self.outputDirectory = outputDirectory
        self.sampleInterval = sampleInterval
        self.checkpointInterval = checkpointInterval
        self.classifierURL = classifierURL
        self.resume = resume
        self.overwrite = overwrite
        self.measureSamples = measureSamples
        self.stopRequest = stopRequest
        self.accelerate = accelerate
    }
}

/// A request to stop a run, safe to make from any thread (a signal handler's, for example): the
/// run finishes the iteration under way, writes a checkpoint and returns.
public final class GANStopRequest: @unchecked Sendable {
    private let lock = NSLock()
    private var requested = false

    /// A request not yet made.
    public init() {}

    /// Asks the run to stop.
    public func request() { lock.withLock { requested = true } }

    /// Whether the run was asked to stop.
    public var isRequested: Bool { lock.withLock { requested } }
}

/// Training stopped because a loss or a parameter is no longer finite; the last checkpoint
/// (written before it went wrong) is left as it was.
public struct GANDivergence: Error, CustomStringConvertible {
    /// The iteration whose results are not finite.
    public var iteration: Int
    /// What is not finite.
    public var what: String
    /// The iteration of the last checkpoint, or nil when there is none.
    public var lastCheckpoint: Int?
    /// The checkpoint file.
    public var checkpoint: URL

    /// One line saying what happened and what was kept.
    public var description: String {
        let kept = lastCheckpoint.map { "the last good checkpoint, of iteration \($0), is unchanged at \(checkpoint.path)" }
            ?? "no checkpoint was written"
        return "training diverged at iteration \(iteration): \(what); \(kept) (a smaller learning rate may help)"
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
    /// Whether the run stopped before its last iteration when asked to (``GANStopRequest``),
    /// with a checkpoint to resume from.
    public var stoppedEarly: Bool = false
}

/// A training run with its files: it trains a ``GANTrainer`` for the settings' iterations,
/// shows a progress line, appends every iteration to a JSON-lines log, writes sample images and
/// a plot of the losses and scores at intervals, measures the samples, and writes atomic
/// checkpoints from which `resume` continues exactly (the same numbers as an uninterrupted run;
/// a killed run loses at most the iterations since its last checkpoint).
///
/// Given a communicator, the run is one worker of a data-parallel run (``GANWorkers``): every
/// worker trains, and worker 1 alone checks and locks the output directory, prints the progress,
/// measures, and writes the log, the pictures, the checkpoints and the summary. Every worker
/// reads the checkpoint to resume from, so the output directory must be visible to all of them.
public final class GANRun {
    /// The trainer, as it stands.
    public private(set) var trainer: GANTrainer
    /// The options.
    public let options: GANRunOptions
    /// The log entries kept for the training plot (in bounded memory; the whole log is in
    /// `log.jsonl`).
    public private(set) var history = GANHistory()
    private let fixedLatents: DLArray
    private let measureLatents: DLArray
    /// The classes of the fixed and the measuring samples of a conditional GAN (every class in
    /// turn: one row of the sample picture per class), or nil.
    private let fixedClasses: DLArray?, measureClasses: DLArray?
    private let classifier: DLNetwork?
    private let realFeatures: FeatureStatistics?
    private var pendingLog: [GANLogEntry] = []
    private var secondsBefore = 0.0
    /// The output directory, locked for as long as the run lives.
    private var directory: GANRunDirectory?
    /// The iteration of the last checkpoint written or resumed from.
    private var lastCheckpoint: Int?
    /// The most log entries held before they are appended to the file.
    private static let pendingLimit = 1000

    private var logURL: URL { options.outputDirectory.appendingPathComponent("log.jsonl") }
    /// The checkpoint file of a run directory.
    public static func checkpointURL(in directory: URL) -> URL { directory.appendingPathComponent("checkpoint.safetensors") }

    /// Prepares a run: checks everything first (settings, sizes, data, checkpoint, classifier,
    /// the output directory), so that a mistake changes no file; then creates and locks the
    /// output directory, removes temporary files that kills left there, and starts the log
    /// (a resumed run's log is cut back to its checkpoint).
    /// - Throws: `DLError` naming the problem: settings that do not fit or sizes this machine
    ///   cannot hold, a missing or damaged checkpoint, a checkpoint of another model, an
    ///   unreadable classifier, an output directory that holds a run (without `resume` or
    ///   `overwrite`), is used by another run or cannot be created; with several workers, a
    ///   batch that leaves a worker without a sample.
    public init(settings: GANSettings, data: GANData, options: GANRunOptions, communicator: (any DLCommunicator)? = nil) throws {
        self.options = options
        guard options.sampleInterval >= 1, options.checkpointInterval >= 1, options.measureSamples >= 2 else {
            throw DLError.invalidArgument("the sample and checkpoint intervals must be at least 1 and the measure samples at least 2")
        }
        let first = communicator?.isFirst ?? true
        if first { try GANRunDirectory.check(options.outputDirectory, resume: options.resume, overwrite: options.overwrite) }
        let checkpoint = Self.checkpointURL(in: options.outputDirectory)
        if options.resume {
            guard FileManager.default.fileExists(atPath: checkpoint.path) else {
                throw DLError.file("cannot resume: there is no checkpoint at \(checkpoint.path)")
            }
            trainer = try GANTrainer(resumingFrom: checkpoint, settings: settings, data: data, communicator: communicator)
            guard trainer.iteration <= settings.iterations else {
                throw DLError.invalidArgument("the checkpoint is at iteration \(trainer.iteration), past the \(settings.iterations) iterations asked for")
            }
            lastCheckpoint = trainer.iteration
        } else {
            trainer = try GANTrainer(settings: settings, data: data, communicator: communicator)
        }
        trainer.accelerate = options.accelerate
        let classCount = settings.conditioning == nil ? nil : settings.dataset.classCount
        let fixedCount = classCount.map { 10 * $0 } ?? (settings.dataset.isPlanar ? 1000 : 64)
        fixedLatents = trainer.latentVectors(fixedCount, seed: settings.seed &+ 1000)
        measureLatents = trainer.latentVectors(options.measureSamples, seed: settings.measuringSeed)
        fixedClasses = try classCount.map { try GANConditioning.classBlocks(fixedCount, classCount: $0) }
        measureClasses = try classCount.map { try GANConditioning.classBlocks(options.measureSamples, classCount: $0) }
        if first, !settings.dataset.isPlanar, settings.imageSize == 28, let url = options.classifierURL {
            let net = try DLNetwork(contentsOf: url)
            classifier = net
            realFeatures = try GANMeasures.realFeatures(of: data, classifier: net)
        } else {
            classifier = nil
            realFeatures = nil
        }
        guard first else { return }
        let directory = try GANRunDirectory(claiming: options.outputDirectory)
        self.directory = directory
        directory.removeStaleTemporaryFiles()
        if options.resume {
            try readLog(upTo: trainer.iteration)
            secondsBefore = history.last?.seconds ?? 0
        } else {
            directory.removeRunFiles()
            try writeAtomically(Data(), to: logURL)
        }
    }

    /// Trains to the settings' number of iterations, or until ``GANRunOptions/stopRequest`` is
    /// made on any worker (then with a checkpoint of the last iteration), and returns the
    /// summary (on workers other than worker 1, without measures: ``GANMeasures/samples`` is 0).
    /// - Throws: ``GANDivergence`` as soon as a loss or a parameter is not finite (the log then
    ///   ends with that iteration, the last checkpoint is left as it was); the trainer's and the
    ///   files' errors.
    @discardableResult
    public func run(progress: inout ProgressLine) throws -> GANRunSummary {
        let settings = trainer.settings
        let start = Date(), startIteration = trainer.iteration
        var last: GANStepRecord?
        var measures = history.lastMeasures
        let first = trainer.workers.isFirst
        if startIteration > 0, first { progress.note("resuming at iteration \(startIteration) of \(settings.iterations)") }
        if trainer.resumedWithoutChecksums, first {
            progress.note("the checkpoint has no checksums (it was written by an earlier version): its tensors were read unverified")
        }
        var stoppedEarly = false
        while trainer.iteration < settings.iterations {
            let record = try trainer.step()
            last = record
            let elapsed = Date().timeIntervalSince(start)
            if first { append(GANLogEntry(iteration: record.iteration, seconds: secondsBefore + elapsed, step: record)) }
            if let problem = nonFinite(record) {
                if first { try flushLog() }
                throw GANDivergence(iteration: record.iteration, what: problem, lastCheckpoint: lastCheckpoint,
                                    checkpoint: Self.checkpointURL(in: options.outputDirectory))
            }
            let rate = Double(trainer.iteration - startIteration) / Swift.max(elapsed, 1e-9)
            let done = trainer.iteration == settings.iterations
            // Every worker takes part in the decision to stop, as in every collective.
            stoppedEarly = try !done && trainer.workers.any(options.stopRequest?.isRequested == true)
            if !first {
                if done || stoppedEarly || trainer.iteration % options.checkpointInterval == 0 { lastCheckpoint = trainer.iteration }
                if stoppedEarly { break }
                continue
            }
            progress.show(record, of: settings.iterations, epoch: epoch, stepsPerSecond: rate)
            if done || trainer.iteration % options.sampleInterval == 0 {
                let measured = try measure()
                measures = measured
                append(GANLogEntry(iteration: record.iteration, seconds: secondsBefore + Date().timeIntervalSince(start), measures: measured))
                try writePictures()
                try flushLog()
                progress.note("iteration \(record.iteration): \(measured.summary)")
            }
            if done || stoppedEarly || trainer.iteration % options.checkpointInterval == 0 {
                try flushLog()
                try trainer.writeCheckpoint(to: Self.checkpointURL(in: options.outputDirectory), intervals: intervals)
                lastCheckpoint = trainer.iteration
            } else if pendingLog.count >= Self.pendingLimit {
                try flushLog()
            }
            if stoppedEarly { break }
        }
        let seconds = Date().timeIntervalSince(start)
        let finalMeasures = first ? try measures ?? measure() : GANMeasures(iteration: trainer.iteration, samples: 0)
        var summary = GANRunSummary(settings: settings, iterations: trainer.iteration, resumedFrom: startIteration,
                                    seconds: seconds, stepsPerSecond: Double(trainer.iteration - startIteration) / Swift.max(seconds, 1e-9),
                                    lastStep: last ?? history.lastStep, measures: finalMeasures)
        summary.stoppedEarly = stoppedEarly
        if !stoppedEarly, first {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try writeAtomically(try encoder.encode(summary), to: options.outputDirectory.appendingPathComponent("summary.json"))
        }
        return summary
    }

    /// The run's intervals, stored in its checkpoints for `--resume`.
    private var intervals: GANRunIntervals {
        GANRunIntervals(sample: options.sampleInterval, checkpoint: options.checkpointInterval)
    }

    /// What is not finite after an iteration (a loss, a score, or the first such parameter of
    /// either player), or nil when everything is.
    private func nonFinite(_ record: GANStepRecord) -> String? {
        let values = [("the discriminator's loss", record.discriminatorLoss), ("the generator's loss", record.generatorLoss),
                      ("the discriminator's penalty", record.penalty), ("D(real)", record.realScore), ("D(fake)", record.fakeScore)]
        if let (name, value) = values.first(where: { !$0.1.isFinite }) { return "\(name) is \(value)" }
        for (player, network) in [("generator", trainer.generator), ("discriminator", trainer.discriminator)] {
            for row in network.learnables.rows where !Self.isFinite(row.value) {
                return "the \(player)'s parameter \(row.layer)/\(row.parameter) is not finite"
            }
        }
        return nil
    }

    private static func isFinite(_ array: DLArray) -> Bool {
        switch array.dataType {
        case .float32: array.scalars(as: Float.self).allSatisfy(\.isFinite)
        case .float64: array.scalars(as: Double.self).allSatisfy(\.isFinite)
        default: true
        }
    }

    /// The epoch reached (image data), or nil (2-D data, which are unlimited).
    private var epoch: Double? {
        let data = trainer.data
        guard !data.dataset.isPlanar else { return nil }
        return Double(trainer.batchesRead) / Double(data.batchesPerEpoch(batchSize: trainer.settings.batchSize))
    }

    /// Measures the generator's samples from the fixed measuring latents.
    public func measure() throws -> GANMeasures {
        let samples = try trainer.generate(measureLatents, classes: measureClasses)
        return try GANMeasures(samples, drawnFor: measureClasses, iteration: trainer.iteration,
                               dataset: trainer.settings.dataset, classifier: classifier, realFeatures: realFeatures)
    }

    private func append(_ entry: GANLogEntry) {
        history.append(entry)
        pendingLog.append(entry)
    }

    /// Appends the entries not yet written to the log file.
    private func flushLog() throws {
        guard !pendingLog.isEmpty else { return }
        do {
            let handle = try FileHandle(forWritingTo: logURL)
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(try pendingLog.map(Self.line).joined().utf8))
            pendingLog.removeAll()
        } catch {
            throw DLError.file("cannot append to \(logURL.path): \(error.localizedDescription)")
        }
    }

    /// How the log writes numbers that are not finite: as the strings "NaN", "Infinity" and
    /// "-Infinity", which JSON tools read (a bare NaN is not JSON).
    static let nonFiniteNumbers = (positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")

    /// A log entry (or measures) as one line of JSON, non-finite numbers as strings.
    static func line(_ entry: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: nonFiniteNumbers.positiveInfinity, negativeInfinity: nonFiniteNumbers.negativeInfinity,
            nan: nonFiniteNumbers.nan)
        return String(decoding: try encoder.encode(entry), as: UTF8.self) + "\n"
    }

    /// An entry of the log, or nil for a damaged line.
    static func entry(_ line: Data) -> GANLogEntry? {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: nonFiniteNumbers.positiveInfinity, negativeInfinity: nonFiniteNumbers.negativeInfinity,
            nan: nonFiniteNumbers.nan)
        return try? decoder.decode(GANLogEntry.self, from: line)
    }

    /// Reads the log file up to `iteration` into ``history``, a megabyte at a time, and cuts the
    /// file after that iteration's last entry (a damaged last line, a write cut short, goes too).
    private func readLog(upTo iteration: Int) throws {
        guard let handle = FileHandle(forUpdatingAtPath: logURL.path) else { return }
        defer { try? handle.close() }
        var buffer = Data(), offset: UInt64 = 0, kept: UInt64 = 0
        reading: while true {
            let chunk = (try? handle.read(upToCount: 1 << 20)) ?? nil
            guard let chunk, !chunk.isEmpty else { break }
            buffer.append(chunk)
            var start = buffer.startIndex
            defer { buffer.removeSubrange(buffer.startIndex..<start) }
            while let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[start..<newline]
                offset += UInt64(line.count + 1)
                start = newline + 1
                guard let entry = Self.entry(Data(line)), entry.iteration <= iteration else { break reading }
                history.append(entry)
                kept = offset
            }
        }
        do {
            try handle.truncate(atOffset: kept)
        } catch {
            throw DLError.file("cannot cut \(logURL.path) back to iteration \(iteration): \(error.localizedDescription)")
        }
    }

    /// Writes the sample picture of this iteration (and `samples.png`) and the training plot.
    private func writePictures() throws {
        let samples = try trainer.generate(fixedLatents, classes: fixedClasses)
        let picture = try GANPictures.samples(samples, settings: trainer.settings, iteration: trainer.iteration)
        let name = String(format: "samples-%06d.png", trainer.iteration)
        try picture.writePNG(to: options.outputDirectory.appendingPathComponent(name))
        try picture.writePNG(to: options.outputDirectory.appendingPathComponent("samples.png"))
        try GANPictures.training(history.entries, settings: trainer.settings)
            .writePNG(to: options.outputDirectory.appendingPathComponent("training.png"))
    }
}
