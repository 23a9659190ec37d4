// `gan`: trains a GAN with SwiftDL. With no arguments it trains on the ring of 8 Gaussians
// (embedded, no download) in under a minute and writes its pictures, log and checkpoint to
// gan-output/ring-8. Mistakes (unknown flags or values, missing or damaged data, a checkpoint
// of another model, a directory holding a run or used by another) print one line naming the
// problem and exit with status 2, changing no file. `--workers N` trains data-parallel on N
// threads; started by mpirun (or srun), every process is a worker (build with the trait MPI).
import ArgumentParser
import Foundation
import GANKit
import SwiftDL
import SwiftDLMPI

extension GANDataset: ExpressibleByArgument {}
extension GANArchitecture: ExpressibleByArgument {}
extension GANLoss: ExpressibleByArgument {}
extension GANRegularizer: ExpressibleByArgument {}
extension GANTrainingMethod: ExpressibleByArgument {}
extension OptimizerSettings.Kind: ExpressibleByArgument {}
extension LearnRateSchedule: ExpressibleByArgument {}
extension GANConditioning: ExpressibleByArgument {}

struct GAN: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gan",
        abstract: "Train a generative adversarial network with SwiftDL.",
        discussion: """
            Without options: the ring of 8 Gaussians, an MLP generator and discriminator, alternating \
            gradient descent with the non-saturating loss and an R1 penalty; outputs in gan-output/ring-8. \
            Options left out take the data set's defaults; with --resume they take the checkpoint's settings. \
            Data-parallel: --workers N trains on N threads of this process; started by mpirun or srun, every \
            process is a worker (gan must be built with swift build --traits default,MPI). Each worker computes \
            on its share of every batch; worker 1 prints and writes the files. \
            `gan sample --from RUN_DIR` draws samples from a trained run (gan sample --help); \
            `gan export --from RUN_DIR` writes its generator for PyTorch (gan export --help); \
            `gan measure --from RUN_DIR` measures its samples (gan measure --help).
            """)

    @Option(parsing: .unconditional, help: "The data: ring-8, grid-25, mnist or fashion-mnist (mnist when --data is given).")
    var dataset: GANDataset?
    @Option(parsing: .unconditional, help: "The directory of the IDX files of mnist or fashion-mnist (fashion-mnist: /usr/share/datasets/fashion-mnist by default).")
    var data: String?
    @Option(parsing: .unconditional, help: "The networks: mlp, dcgan or matlab.")
    var arch: GANArchitecture?
    @Option(parsing: .unconditional, help: "The side of generated images: 28, or 64 (matlab architecture).")
    var imageSize: Int?
    @Option(parsing: .unconditional, help: "The losses: minimax, non-saturating, wgan-gp or hinge.")
    var loss: GANLoss?
    @Option(parsing: .unconditional, help: "A regularizer: none, r1 or consensus.")
    var regularizer: GANRegularizer?
    @Option(parsing: .unconditional, help: "Gamma of R1 and consensus optimization (10).")
    var gamma: Double?
    @Option(name: .customLong("r1-interval"), parsing: .unconditional,
            help: "Add the R1 penalty on every n-th discriminator update only, times n (lazy regularization; 1).")
    var r1Interval: Int?
    @Option(name: .customLong("g-average"), parsing: .unconditional,
            help: "Sample from a moving average of the generator's weights with this decay, e.g. 0.999 (0: none).")
    var generatorAverageDecay: Double?
    @Option(name: .customLong("top-k"), parsing: .unconditional,
            help: "Top-k training: G's loss keeps only the samples D scores highest, from the whole batch down to this share of it, e.g. 0.5 (Sinha et al. 2020).")
    var topKFraction: Double?
    @Option(name: .customLong("top-k-decay"), parsing: .unconditional,
            help: "The factor by which top-k's kept share shrinks every epoch, down to --top-k (0.99).")
    var topKDecay: Double?
    @Option(parsing: .unconditional, help: "Lambda of the WGAN-GP gradient penalty (10).")
    var lambda: Double?
    @Option(parsing: .unconditional, help: "simultaneous or alternating gradient descent.")
    var method: GANTrainingMethod?
    @Option(name: .customLong("d-steps"), parsing: .unconditional, help: "Discriminator updates per generator update (n_critic).")
    var discriminatorSteps: Int?
    @Option(name: .customLong("pack"), parsing: .unconditional,
            help: "PacGAN: the discriminator judges this many samples at once, joined along their channels (1).")
    var packing: Int?
    @Option(name: .customLong("flip"), parsing: .unconditional, help: "The probability of flipping a real label in D's loss.")
    var flipProbability: Double?
    @Option(parsing: .unconditional, help: "The number of iterations (generator updates).")
    var iterations: Int?
    @Option(parsing: .unconditional, help: "Samples per mini-batch.")
    var batchSize: Int?
    @Option(parsing: .unconditional, help: "The size of the latent vector.")
    var latentSize: Int?
    @Option(parsing: .unconditional, help: "The hidden width of the 2-D MLPs.")
    var hiddenSize: Int?
    @Option(name: .customLong("g-optimizer"), parsing: .unconditional, help: "The generator's optimizer: adam, rmsprop or sgdm.")
    var generatorOptimizer: OptimizerSettings.Kind?
    @Option(name: .customLong("d-optimizer"), parsing: .unconditional, help: "The discriminator's optimizer: adam, rmsprop or sgdm.")
    var discriminatorOptimizer: OptimizerSettings.Kind?
    @Option(name: .customLong("g-lr"), parsing: .unconditional, help: "The generator's learning rate.")
    var generatorLearnRate: Double?
    @Option(name: .customLong("d-lr"), parsing: .unconditional, help: "The discriminator's learning rate.")
    var discriminatorLearnRate: Double?
    @Option(parsing: .unconditional, help: "Adam's beta1 for both players.")
    var beta1: Double?
    @Option(parsing: .unconditional, help: "Adam's beta2 (RMSProp's decay) for both players.")
    var beta2: Double?
    @Option(parsing: .unconditional, help: "SGDM's momentum for both players.")
    var momentum: Double?
    @Option(name: .customLong("lr-schedule"), parsing: .unconditional, help: "constant, or linear decay to 0 over the run.")
    var learnRateSchedule: LearnRateSchedule?
    @Option(parsing: .unconditional, help: "The seed of every random choice.")
    var seed: UInt64?
    @Option(parsing: .unconditional, help: "The directory for the run's files (gan-output/<dataset>).")
    var output: String?
    @Option(parsing: .unconditional, help: "Iterations between sample pictures and measures (a tenth of the run; when resuming, the run's own).")
    var sampleEvery: Int?
    @Option(parsing: .unconditional, help: "Iterations between checkpoints (a tenth of the run; when resuming, the run's own).")
    var checkpointEvery: Int?
    @Option(parsing: .unconditional, help: "The number of samples the measures use (2500).")
    var measureSamples: Int?
    @Option(parsing: .unconditional, help: "The classifier's weights, for the image measures (Models/mnist-classifier.safetensors, or Models/fashion-mnist-classifier.safetensors for fashion-mnist).")
    var classifier: String?
    @Flag(name: .customLong("spectral-norm"),
          help: "Spectrally normalize the discriminator's fully connected and convolution layers (and leave out its normalization layers).")
    var spectralNormalization = false
    @Flag(name: .customLong("no-accelerate"),
          help: "Evaluate every pass eagerly instead of replaying its cached trace (dlaccelerate); the results are the same.")
    var eager = false
    @Flag(help: "Train a conditional GAN on the images' classes (mnist, fashion-mnist); its samples are drawn per class.")
    var conditional = false
    @Option(parsing: .unconditional,
            help: "How a conditional discriminator uses the class: concatenation (an image-sized extra channel, the default) or projection (Miyato & Koyama); implies --conditional.")
    var conditioning: GANConditioning?
    @Flag(help: "Continue the run in the output directory from its checkpoint.")
    var resume = false
    @Flag(help: "Replace the run in the output directory (without it, a directory holding a run is refused).")
    var overwrite = false
    @Option(parsing: .unconditional, help: "Worker threads that train data-parallel, each on its share of every batch (1; under mpirun every process is a worker).")
    var workers: Int?

    func run() throws {
        try checkSizes()
        if let output, output.isEmpty { throw DLError.invalidArgument("--output must name a directory, not an empty string") }
        if resume && overwrite { throw DLError.invalidArgument("--resume continues the run in the output directory and --overwrite replaces it: give one of them") }
        let dataset = self.dataset ?? (data == nil ? .ring8 : .mnist)
        let directory = URL(fileURLWithPath: output ?? "gan-output/\(dataset.rawValue)")
        let checkpoint = GANRun.checkpointURL(in: directory)
        let base: GANSettings
        var savedIntervals: GANRunIntervals?
        if resume {
            guard FileManager.default.fileExists(atPath: checkpoint.path) else {
                throw DLError.file("cannot resume: there is no checkpoint at \(checkpoint.path)")
            }
            base = try GANTrainer.checkpointSettings(at: checkpoint)
            savedIntervals = try GANTrainer.checkpointIntervals(at: checkpoint)
        } else {
            base = GANSettings(dataset: dataset)
        }
        let settings = try self.settings(over: base)
        if resume {
            let differences = try GANTrainer.modelDifferences(settings, base)
            guard differences.isEmpty else {
                throw DLError.file("\(checkpoint.path) is a checkpoint of another model: \(differences.joined(separator: "; ")) (requested vs saved)")
            }
        }
        try settings.validate()
        let data = try loadData(settings)
        let tenth = max(settings.iterations / 10, 1)
        let stop = GANStopRequest()
        let options = GANRunOptions(
            outputDirectory: directory, sampleInterval: try positive(sampleEvery, "--sample-every") ?? savedIntervals?.sample ?? tenth,
            checkpointInterval: try positive(checkpointEvery, "--checkpoint-every") ?? savedIntervals?.checkpoint ?? tenth,
            classifierURL: settings.dataset.isPlanar ? nil
                : Self.classifierURL(classifier, for: settings.dataset), resume: resume,
            overwrite: overwrite, measureSamples: measureSamples ?? 2500, stopRequest: stop, accelerate: !eager)
        let signals = Self.stopOnSignals(stop)
        defer { signals.forEach { $0.cancel() } }
        let summary: GANRunSummary
        if MPICommunicator.isLaunchedByMPI {
            let communicator = try MPICommunicator.world()
            Self.worker = "worker \(communicator.index) of \(communicator.count): "
            summary = try Self.train(settings, data, options, communicator, describing: describe(settings) + " on \(communicator.count) MPI processes")
            communicator.finalize()
            guard communicator.isFirst else { return }
        } else if let workers, workers > 1 {
            let description = describe(settings) + " on \(workers) threads"
            summary = try spmd(workers: workers) { communicator in
                try Self.train(settings, data, options, communicator, describing: description)
            }[0]
        } else {
            summary = try Self.train(settings, data, options, nil, describing: describe(settings))
        }
        if summary.stoppedEarly {
            let hint = "gan --resume --output \(directory.path)"
            FileHandle.standardError.write(Data("gan: stopped at iteration \(summary.iterations) of \(settings.iterations); wrote \(checkpoint.path); continue with: \(hint)\n".utf8))
            throw ExitCode(130)
        }
        print(String(format: "trained %d iterations in %.1f s (%.1f steps/s)", summary.iterations - summary.resumedFrom,
                     summary.seconds, summary.stepsPerSecond))
        print("final samples: \(summary.measures.summary)")
        print("wrote \(directory.path)/samples.png, training.png, log.jsonl, checkpoint.safetensors, summary.json")
    }

    /// Trains as one worker of `communicator` (or alone), printing the progress on worker 1.
    static func train(_ settings: GANSettings, _ data: GANData, _ options: GANRunOptions, _ communicator: (any DLCommunicator)?,
                      describing description: String) throws -> GANRunSummary {
        let run = try GANRun(settings: settings, data: data, options: options, communicator: communicator)
        var progress = ProgressLine(totalIterations: settings.iterations)
        if run.trainer.workers.isFirst { progress.note("gan: \(description) -> \(options.outputDirectory.path)") }
        return try run.run(progress: &progress)
    }

    /// How the messages of this process name its worker under MPI ("worker 2 of 4: "), or "".
    nonisolated(unsafe) static var worker = ""

    /// Makes SIGINT (Ctrl-C) and SIGTERM ask the run to stop after the iteration under way, with
    /// a checkpoint; a second signal ends the process at once with status 130.
    static func stopOnSignals(_ stop: GANStopRequest) -> [any DispatchSourceSignal] {
        [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if stop.isRequested || source.data > 1 {
                    FileHandle.standardError.write(Data("\ngan: stopped at once; the last checkpoint is kept (continue with --resume)\n".utf8))
                    _exit(130)
                }
                stop.request()
                FileHandle.standardError.write(Data("\ngan: stopping after this iteration to write a checkpoint (press Ctrl-C again to stop at once)\n".utf8))
            }
            source.resume()
            return source
        }
    }

    /// Checks the sizes given on the command line, naming the option.
    func checkSizes() throws {
        for (value, least, flag) in [(batchSize, 2, "--batch-size"), (latentSize, 1, "--latent-size"), (hiddenSize, 1, "--hidden-size"),
                                     (iterations, 1, "--iterations"), (discriminatorSteps, 1, "--d-steps"),
                                     (r1Interval, 1, "--r1-interval"), (packing, 1, "--pack"),
                                     (measureSamples, 2, "--measure-samples")] {
            if let value, value < least { throw DLError.invalidArgument("\(flag) must be at least \(least), not \(value)") }
        }
        if let imageSize, ![28, 64].contains(imageSize) { throw DLError.invalidArgument("--image-size must be 28 or 64, not \(imageSize)") }
        if let workers, workers < 1 { throw DLError.invalidArgument("--workers must be at least 1, not \(workers)") }
        if MPICommunicator.isLaunchedByMPI {
            guard MPICommunicator.isAvailable else {
                throw DLError.invalidArgument("gan was started by an MPI launcher but built without MPI: build it with swift build --traits default,MPI (or run it without mpirun)")
            }
            if let workers, workers > 1 {
                throw DLError.invalidArgument("--workers runs threads in one process; under mpirun every process is a worker: leave --workers out")
            }
        }
    }

    /// `base` with every option given on the command line applied.
    func settings(over base: GANSettings) throws -> GANSettings {
        var s = base
        if let dataset { s.dataset = dataset }
        if let arch { s.architecture = arch }
        if let imageSize { s.imageSize = imageSize }
        if let loss { s.loss = loss }
        if let regularizer { s.regularizer = regularizer }
        if let gamma { s.gamma = gamma }
        if let r1Interval { s.r1Interval = r1Interval }
        if let lambda { s.lambda = lambda }
        if let generatorAverageDecay { s.generatorAverageDecay = generatorAverageDecay }
        if let method { s.method = method }
        if let discriminatorSteps { s.discriminatorSteps = discriminatorSteps }
        if let packing { s.packing = packing }
        if let flipProbability { s.realLabelFlipProbability = flipProbability }
        if let iterations { s.iterations = iterations }
        if let batchSize { s.batchSize = batchSize }
        if let latentSize { s.latentSize = latentSize }
        if let hiddenSize { s.hiddenSize = hiddenSize }
        if let learnRateSchedule { s.learnRateSchedule = learnRateSchedule }
        if let seed { s.seed = seed }
        if spectralNormalization { s.spectralNormalization = true }
        if topKFraction != nil || topKDecay != nil {
            guard topKFraction != nil || s.topK != nil else {
                throw DLError.invalidArgument("--top-k-decay sets how fast top-k training's share shrinks: give --top-k too")
            }
            var topK = s.topK ?? GANTopK()
            if let topKFraction { topK.minimumFraction = topKFraction }
            if let topKDecay { topK.decay = topKDecay }
            s.topK = topK
        }
        if conditional || conditioning != nil { s.conditioning = conditioning ?? s.conditioning ?? .concatenation }
        for (player, kind, rate) in [(\GANSettings.generatorOptimizer, generatorOptimizer, generatorLearnRate),
                                     (\GANSettings.discriminatorOptimizer, discriminatorOptimizer, discriminatorLearnRate)] {
            var o = s[keyPath: player]
            if let kind, kind != o.kind { o = OptimizerSettings(kind, learnRate: o.learnRate) }
            if let rate { o.learnRate = rate }
            if let beta1 { o.gradientDecay = beta1 }
            if let beta2 { o.squaredGradientDecay = beta2 }
            if let momentum { o.momentum = momentum }
            s[keyPath: player] = o
        }
        // Image defaults when an image data set replaces the 2-D default, and the loss's usual
        // settings (WGAN-GP: 5 critic steps, Adam 1e-4 with betas 0.5/0.9) unless given.
        if !resume {
            if !s.dataset.isPlanar && base.dataset.isPlanar {
                var images = GANSettings(dataset: s.dataset, seed: s.seed)
                images.loss = s.loss
                s = try settings(over: images)
            }
            if s.loss == .wassersteinGP {
                // WGAN-GP has its own penalty: the 2-D default R1 gives way unless asked for.
                if regularizer == nil && s.regularizer == .r1 { s.regularizer = .none }
                if discriminatorSteps == nil { s.discriminatorSteps = 5 }
                for player in [\GANSettings.generatorOptimizer, \GANSettings.discriminatorOptimizer] where s[keyPath: player].kind == .adam {
                    if beta2 == nil { s[keyPath: player].squaredGradientDecay = 0.9 }
                }
                if generatorLearnRate == nil { s.generatorOptimizer.learnRate = 1e-4 }
                if discriminatorLearnRate == nil { s.discriminatorOptimizer.learnRate = 1e-4 }
            }
            if s.regularizer == .consensus, method == nil { s.method = .simultaneous }
        }
        return s
    }

    func loadData(_ settings: GANSettings) throws -> GANData { try Self.loadData(settings, from: data) }

    /// The classifier file `path`, or the data set's own in `Models/` when it is nil.
    static func classifierURL(_ path: String?, for dataset: GANDataset) -> URL {
        URL(fileURLWithPath: path ?? "Models/\(dataset.rawValue)-classifier.safetensors")
    }

    /// The data of `settings`: the 2-D mixture, or the images read from the directory `data`
    /// (fashion-mnist: Debian's directory by default).
    static func loadData(_ settings: GANSettings, from data: String?) throws -> GANData {
        if settings.dataset.isPlanar {
            if let data { throw DLError.invalidArgument("--data \(data) was given, but \(settings.dataset.rawValue) is generated, not read") }
            return try GANData(mixtureOf: settings.dataset)
        }
        let directory: String
        if let data {
            directory = data
        } else if settings.dataset == .fashionMNIST {
            directory = MNIST.fashionMNISTDirectory
        } else {
            throw DLError.invalidArgument("mnist needs --data DIR, the directory of its IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz])")
        }
        return try GANData(images: settings.dataset, from: directory, imageSize: settings.imageSize)
    }

    func positive(_ value: Int?, _ flag: String) throws -> Int? {
        if let value, value < 1 { throw DLError.invalidArgument("\(flag) must be at least 1, not \(value)") }
        return value
    }

    func describe(_ s: GANSettings) -> String {
        let regularizer = s.regularizer == .none ? "" : " + \(s.regularizer.rawValue) (gamma \(s.gamma)\(s.r1Interval > 1 ? ", every \(s.r1Interval) D updates" : ""))"
        let average = s.generatorAverageDecay > 0 ? ", samples from the generator's average (decay \(s.generatorAverageDecay))" : ""
        let spectral = (s.spectralNormalization ? ", spectrally normalized D" : "") + (s.packing > 1 ? ", D packing \(s.packing) samples" : "")
        let conditional = s.conditioning.map { ", conditional (\($0.rawValue))" } ?? ""
        let topK = s.topK.map { ", top-k (down to \($0.minimumFraction) of the batch, decay \($0.decay) per epoch)" } ?? ""
        return "\(s.dataset.rawValue), \(s.architecture.rawValue)\(spectral)\(conditional), \(s.method.rawValue) \(s.loss.rawValue)\(regularizer)\(topK), \(s.iterations) iterations of batch \(s.batchSize), seed \(s.seed)\(average)"
    }
}

extension GANSampleFormat: ExpressibleByArgument {}

/// How `gan sample` and `gan measure` draw from a generator: the truncation trick, and
/// discriminator rejection sampling with its calibration.
struct GANDrawingOptions: ParsableArguments {
    @Option(help: "Redraw latent elements outside [-t, t] (the truncation trick); none by default.")
    var truncation: Double?
    @Option(parsing: .unconditional, help: "Discriminator rejection sampling: keep each sample with probability sigmoid(F - gamma), gamma the P-th percentile of F in its batch of 500 (e.g. 95); none by default.")
    var rejection: Double?
    @Option(name: .customLong("calibration-steps"), parsing: .unconditional,
            help: "With --rejection: first fine-tune the discriminator alone against the generator for this many updates with the logistic loss (0: use it as trained).")
    var calibrationSteps = 1000

    /// `sampler`, with its discriminator calibrated on the run's data (`data` reads them for
    /// the run's settings) when rejection sampling is asked for.
    func prepared(_ sampler: GANSampler, data: (GANSettings) throws -> GANData) throws -> GANSampler {
        guard rejection != nil else { return sampler }
        return try sampler.calibratedForRejection(on: data(sampler.settings), steps: calibrationSteps)
    }
}

/// `gan sample --from RUN_DIR`: draws samples from a run's checkpoint (its generator's average
/// when it kept one) and writes them as a grid, as single PNGs or as a safetensors file, or
/// (`--interpolate K`) a picture of paths through the latent space.
struct GANSampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gan sample",
        abstract: "Draw samples from the generator of a trained run.",
        discussion: "Reads RUN_DIR/checkpoint.safetensors (checking its checksums) and writes a grid (RUN_DIR/sample-grid.png), single PNGs (RUN_DIR/samples/sample-00001.png, ...) or a safetensors file (RUN_DIR/samples.safetensors) unless --output names another place. A conditional run draws the same number of samples for every class, class after class: its grid has one row per class. With --interpolate K it draws --count paths (8 by default) of K steps along great-circle arcs between pairs of latent vectors: a grid with one path per row for images, lines over the modes for 2-D points (RUN_DIR/interpolation.png).")

    @Option(name: .customLong("from"), help: "The run's directory (its checkpoint.safetensors).")
    var runDirectory: String
    @Option(help: "The number of samples (64; a conditional run: 10 per class, and a multiple of the number of classes), or of paths with --interpolate (8).")
    var count: Int?
    @Option(help: "The seed of the latent vectors.")
    var seed: UInt64 = 1
    @OptionGroup var drawing: GANDrawingOptions
    @Option(help: "With --rejection: the directory of the IDX files of mnist or fashion-mnist, for the calibration (fashion-mnist: /usr/share/datasets/fashion-mnist by default).")
    var data: String?
    @Option(help: "grid, png (one file per image) or safetensors.")
    var format = GANSampleFormat.grid
    @Option(help: "The file (grid, safetensors) or directory (png) to write.")
    var output: String?
    @Option(help: "Draw paths of this many steps (2...100, both ends included) between pairs of latent vectors, spherically.")
    var interpolate: Int?

    func run() throws {
        let directory = URL(fileURLWithPath: runDirectory)
        if interpolate != nil && format != .grid {
            throw DLError.invalidArgument("--interpolate draws one picture: leave out --format \(format.rawValue)")
        }
        if interpolate != nil && drawing.rejection != nil {
            throw DLError.invalidArgument("--interpolate draws paths between latent vectors, which rejection sampling would break: leave out --rejection")
        }
        let sampler = try drawing.prepared(GANSampler(checkpoint: GANRun.checkpointURL(in: directory))) {
            try GAN.loadData($0, from: data)
        }
        if let interpolate {
            let url = output.map { URL(fileURLWithPath: $0) } ?? directory.appendingPathComponent("interpolation.png")
            print(try sampler.writeInterpolation(paths: count ?? 8, steps: interpolate, seed: seed, truncation: drawing.truncation, to: url))
            return
        }
        let url = output.map { URL(fileURLWithPath: $0) } ?? format.defaultURL(in: directory)
        let count = self.count ?? sampler.classCount.map { 10 * $0 } ?? 64
        print(try sampler.write(format, count: count, seed: seed, truncation: drawing.truncation, rejection: drawing.rejection, to: url))
    }
}

/// `gan export --from RUN_DIR`: writes a run's generator (its average when it kept one) in
/// PyTorch's names and layouts, with latent vectors and outputs to check it against.
struct GANExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gan export",
        abstract: "Write the generator of a trained run as a PyTorch state dict (safetensors).",
        discussion: "Reads RUN_DIR/checkpoint.safetensors (checking its checksums) and writes RUN_DIR/generator.safetensors (or --output FILE), which torch's module.load_state_dict(safetensors.torch.load_file(FILE)) loads into the equivalent module, and beside it generator.check.safetensors: 8 latent vectors (a conditional run's: 10, one per class, with their classes) and the generator's outputs for them. scripts/export_check.py FILE builds the module and compares.")

    @Option(name: .customLong("from"), help: "The run's directory (its checkpoint.safetensors).")
    var runDirectory: String
    @Option(help: "The safetensors file to write (RUN_DIR/generator.safetensors).")
    var output: String?

    func run() throws {
        if let output, output.isEmpty { throw DLError.invalidArgument("--output must name a file, not an empty string") }
        let directory = URL(fileURLWithPath: runDirectory)
        let sampler = try GANSampler(checkpoint: GANRun.checkpointURL(in: directory))
        print(try sampler.export(to: output.map { URL(fileURLWithPath: $0) } ?? directory.appendingPathComponent("generator.safetensors")))
    }
}

/// `gan measure --from RUN_DIR`: measures samples of a run's checkpoint as the run measures
/// them: the modes and high-quality share of 2-D data, the classifier measures of images (and
/// the share drawn for their class, conditional runs), optionally with the truncation trick or
/// more samples.
struct GANMeasureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gan measure",
        abstract: "Measure the samples of a trained run's generator.",
        discussion: "Reads RUN_DIR/checkpoint.safetensors (checking its checksums), draws --samples samples (the run's own number, 2500) from the run's measuring latent vectors (or --seed S) and prints the run's measures for them, as one JSON line with --json. Without --seed, --samples, --truncation and --rejection these are the measures the run logged at the checkpoint's iteration. Images are measured with the data set's classifier against 10,000 of its training images, read as the run read them (--data for mnist).")

    @Option(name: .customLong("from"), help: "The run's directory (its checkpoint.safetensors).")
    var runDirectory: String
    @Option(help: "The number of samples (2500; a conditional run: a multiple of the number of classes).")
    var samples = 2500
    @Option(help: "The seed of the latent vectors (the run's own measuring seed by default).")
    var seed: UInt64?
    @OptionGroup var drawing: GANDrawingOptions
    @Option(help: "The directory of the IDX files of mnist or fashion-mnist (fashion-mnist: /usr/share/datasets/fashion-mnist by default).")
    var data: String?
    @Option(help: "The classifier's weights (Models/mnist-classifier.safetensors, or Models/fashion-mnist-classifier.safetensors for fashion-mnist).")
    var classifier: String?
    @Flag(help: "Print the measures as one line of JSON.")
    var json = false

    func run() throws {
        guard samples >= 2 else { throw DLError.invalidArgument("--samples must be at least 2, not \(samples)") }
        let checkpoint = try GANSampler(checkpoint: GANRun.checkpointURL(in: URL(fileURLWithPath: runDirectory)))
        let settings = checkpoint.settings
        let data = try GAN.loadData(settings, from: self.data)
        let sampler = try drawing.prepared(checkpoint) { _ in data }
        let network = try settings.dataset.isPlanar ? nil
            : DLNetwork(contentsOf: GAN.classifierURL(classifier, for: settings.dataset))
        let measures = try sampler.measures(count: samples, seed: seed ?? settings.measuringSeed, truncation: drawing.truncation,
                                            rejection: drawing.rejection, classifier: network, data: data)
        if json {
            print(try measures.jsonLine(), terminator: "")
        } else {
            let options = (drawing.truncation.map { ", truncation \($0)" } ?? "")
                + (drawing.rejection.map { ", rejection at percentile \($0)" } ?? "")
            print("iteration \(measures.iteration), \(measures.samples) samples\(options): \(measures.summary)")
        }
    }
}

/// Parses and runs (`gan sample …` runs ``GANSampleCommand``, `gan export …`
/// ``GANExportCommand``, `gan measure …` ``GANMeasureCommand``); any mistake is one line on standard error and exit status 2; a run
/// that diverges stops with one line and status 1; a run stopped by a signal exits with status 130.
let subcommands: [String: any ParsableCommand.Type] = ["sample": GANSampleCommand.self, "export": GANExportCommand.self,
                                                       "measure": GANMeasureCommand.self]
let subcommand = CommandLine.arguments.dropFirst().first.flatMap { subcommands[$0] != nil ? $0 : nil }
let commandType: any ParsableCommand.Type = subcommand.flatMap { subcommands[$0] } ?? GAN.self
do {
    var command = subcommand == nil ? try GAN.parseAsRoot() : try commandType.parseAsRoot(Array(CommandLine.arguments.dropFirst(2)))
    try command.run()
} catch let error as DLError {
    FileHandle.standardError.write(Data("gan: error: \(GAN.worker)\(error.message.replacingOccurrences(of: "\n", with: " "))\n".utf8))
    exit(2)
} catch let divergence as GANDivergence {
    FileHandle.standardError.write(Data("\ngan: error: \(GAN.worker)\(divergence)\n".utf8))
    exit(1)
} catch let code as ExitCode {
    exit(code.rawValue)
} catch {
    let code = commandType.exitCode(for: error)
    if code == .success {
        print(commandType.fullMessage(for: error))
        exit(0)
    }
    let message = commandType.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
    FileHandle.standardError.write(Data("gan: error: \(message) (see gan \(subcommand.map { "\($0) " } ?? "")--help)\n".utf8))
    exit(2)
}
