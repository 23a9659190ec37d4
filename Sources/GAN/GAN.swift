// `gan`: trains a GAN with SwiftDL. With no arguments it trains on the ring of 8 Gaussians
// (embedded, no download) in under a minute and writes its pictures, log and checkpoint to
// gan-output/ring-8. Mistakes (unknown flags or values, missing or damaged data, a checkpoint
// of another model) print one line naming the problem and exit with status 2, changing no file.
import ArgumentParser
import Foundation
import GANKit
import SwiftDL

extension GANDataset: ExpressibleByArgument {}
extension GANArchitecture: ExpressibleByArgument {}
extension GANLoss: ExpressibleByArgument {}
extension GANRegularizer: ExpressibleByArgument {}
extension GANTrainingMethod: ExpressibleByArgument {}
extension OptimizerSettings.Kind: ExpressibleByArgument {}
extension LearnRateSchedule: ExpressibleByArgument {}

struct GAN: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gan",
        abstract: "Train a generative adversarial network with SwiftDL.",
        discussion: """
            Without options: the ring of 8 Gaussians, an MLP generator and discriminator, alternating \
            gradient descent with the non-saturating loss and an R1 penalty; outputs in gan-output/ring-8. \
            Options left out take the data set's defaults; with --resume they take the checkpoint's settings.
            """)

    @Option(help: "The data: ring-8, grid-25, mnist or fashion-mnist (mnist when --data is given).")
    var dataset: GANDataset?
    @Option(help: "The directory of the IDX files of mnist or fashion-mnist (fashion-mnist: /usr/share/datasets/fashion-mnist by default).")
    var data: String?
    @Option(help: "The networks: mlp, dcgan or matlab.")
    var arch: GANArchitecture?
    @Option(help: "The side of generated images: 28, or 64 (matlab architecture).")
    var imageSize: Int?
    @Option(help: "The losses: minimax, non-saturating or wgan-gp.")
    var loss: GANLoss?
    @Option(help: "A regularizer: none, r1 or consensus.")
    var regularizer: GANRegularizer?
    @Option(help: "Gamma of R1 and consensus optimization (10).")
    var gamma: Double?
    @Option(name: .customLong("r1-interval"),
            help: "Add the R1 penalty on every n-th discriminator update only, times n (lazy regularization; 1).")
    var r1Interval: Int?
    @Option(name: .customLong("g-average"),
            help: "Sample from a moving average of the generator's weights with this decay, e.g. 0.999 (0: none).")
    var generatorAverageDecay: Double?
    @Option(help: "Lambda of the WGAN-GP gradient penalty (10).")
    var lambda: Double?
    @Option(help: "simultaneous or alternating gradient descent.")
    var method: GANTrainingMethod?
    @Option(name: .customLong("d-steps"), help: "Discriminator updates per generator update (n_critic).")
    var discriminatorSteps: Int?
    @Option(name: .customLong("flip"), help: "The probability of flipping a real label in D's loss.")
    var flipProbability: Double?
    @Option(help: "The number of iterations (generator updates).")
    var iterations: Int?
    @Option(help: "Samples per mini-batch.")
    var batchSize: Int?
    @Option(help: "The size of the latent vector.")
    var latentSize: Int?
    @Option(help: "The hidden width of the 2-D MLPs.")
    var hiddenSize: Int?
    @Option(name: .customLong("g-optimizer"), help: "The generator's optimizer: adam, rmsprop or sgdm.")
    var generatorOptimizer: OptimizerSettings.Kind?
    @Option(name: .customLong("d-optimizer"), help: "The discriminator's optimizer: adam, rmsprop or sgdm.")
    var discriminatorOptimizer: OptimizerSettings.Kind?
    @Option(name: .customLong("g-lr"), help: "The generator's learning rate.")
    var generatorLearnRate: Double?
    @Option(name: .customLong("d-lr"), help: "The discriminator's learning rate.")
    var discriminatorLearnRate: Double?
    @Option(help: "Adam's beta1 for both players.")
    var beta1: Double?
    @Option(help: "Adam's beta2 (RMSProp's decay) for both players.")
    var beta2: Double?
    @Option(help: "SGDM's momentum for both players.")
    var momentum: Double?
    @Option(name: .customLong("lr-schedule"), help: "constant, or linear decay to 0 over the run.")
    var learnRateSchedule: LearnRateSchedule?
    @Option(help: "The seed of every random choice.")
    var seed: UInt64?
    @Option(help: "The directory for the run's files (gan-output/<dataset>).")
    var output: String?
    @Option(help: "Iterations between sample pictures and measures (a tenth of the run).")
    var sampleEvery: Int?
    @Option(help: "Iterations between checkpoints (a tenth of the run).")
    var checkpointEvery: Int?
    @Option(help: "The MNIST classifier's weights, for the image measures.")
    var classifier = "Models/mnist-classifier.safetensors"
    @Flag(help: "Continue the run in the output directory from its checkpoint.")
    var resume = false

    func run() throws {
        let dataset = self.dataset ?? (data == nil ? .ring8 : .mnist)
        let directory = URL(fileURLWithPath: output ?? "gan-output/\(dataset.rawValue)")
        let checkpoint = GANRun.checkpointURL(in: directory)
        let base: GANSettings
        if resume {
            guard FileManager.default.fileExists(atPath: checkpoint.path) else {
                throw DLError.file("cannot resume: there is no checkpoint at \(checkpoint.path)")
            }
            base = try GANTrainer.checkpointSettings(at: checkpoint)
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
        let options = GANRunOptions(
            outputDirectory: directory, sampleInterval: try positive(sampleEvery, "--sample-every") ?? tenth,
            checkpointInterval: try positive(checkpointEvery, "--checkpoint-every") ?? tenth,
            classifierURL: settings.dataset == .mnist ? URL(fileURLWithPath: classifier) : nil, resume: resume)
        let run = try GANRun(settings: settings, data: data, options: options)
        var progress = ProgressLine(totalIterations: settings.iterations)
        progress.note("gan: \(describe(settings)) -> \(directory.path)")
        let summary = try run.run(progress: &progress)
        print(String(format: "trained %d iterations in %.1f s (%.1f steps/s)", summary.iterations - summary.resumedFrom,
                     summary.seconds, summary.stepsPerSecond))
        print("final samples: \(summary.measures.summary)")
        print("wrote \(directory.path)/samples.png, training.png, log.jsonl, checkpoint.safetensors, summary.json")
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
        if let flipProbability { s.realLabelFlipProbability = flipProbability }
        if let iterations { s.iterations = iterations }
        if let batchSize { s.batchSize = batchSize }
        if let latentSize { s.latentSize = latentSize }
        if let hiddenSize { s.hiddenSize = hiddenSize }
        if let learnRateSchedule { s.learnRateSchedule = learnRateSchedule }
        if let seed { s.seed = seed }
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

    func loadData(_ settings: GANSettings) throws -> GANData {
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
        return "\(s.dataset.rawValue), \(s.architecture.rawValue), \(s.method.rawValue) \(s.loss.rawValue)\(regularizer), \(s.iterations) iterations of batch \(s.batchSize), seed \(s.seed)\(average)"
    }
}

/// Parses and runs; any mistake is one line on standard error and exit status 2.
do {
    var command = try GAN.parseAsRoot()
    try command.run()
} catch let error as DLError {
    FileHandle.standardError.write(Data("gan: error: \(error.message.replacingOccurrences(of: "\n", with: " "))\n".utf8))
    exit(2)
} catch {
    let code = GAN.exitCode(for: error)
    if code == .success {
        print(GAN.fullMessage(for: error))
        exit(0)
    }
    let message = GAN.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
    FileHandle.standardError.write(Data("gan: error: \(message) (see gan --help)\n".utf8))
    exit(2)
}
