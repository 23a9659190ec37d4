import Foundation
import SwiftDL

/// What one training iteration measured: the players' losses (of the last discriminator step)
/// and D's mean scores.
public struct GANStepRecord: Codable, Sendable, Equatable {
    /// The iteration, counted from 1.
    public var iteration: Int
    /// The discriminator's loss, its penalty included.
    public var discriminatorLoss: Double
    /// The generator's loss.
    public var generatorLoss: Double
    /// D's mean score of the real batch: the mean of σ(logit) (a probability), or D's mean
    /// value with WGAN-GP and the hinge loss.
    public var realScore: Double
    /// D's mean score of the generated batch, likewise.
    public var fakeScore: Double
    /// The gradient penalty inside the discriminator's loss (R1 or WGAN-GP), or the consensus
    /// term `L`; 0 without a regularizer and on the updates a lazy R1 (``GANSettings/r1Interval``) skips.
    public var penalty: Double
}

/// A GAN in training: both players, their optimizers, the data, and the random state. Each
/// ``step()`` runs one iteration of the game its ``settings`` describe:
///
/// - **alternating**: `discriminatorSteps` updates of D (each on a new real batch, with the
///   generated batch a constant), then one update of G whose loss runs through the updated D;
/// - **simultaneous**: both gradients from the same point, then both updates;
/// - **consensus optimization**: both own-loss gradients from one trace with higher
///   derivatives, then the gradient of `L = ½(‖∇D‖² + ‖∇G‖²)` through them, each player
///   stepping along its gradient plus γ∇L.
///
/// When G is trained, its loss runs through D but only G is differentiated and changed; when D
/// is trained, G's output is a constant. Both players' batch-norm state is carried from every
/// training-mode pass. Everything random comes from one seeded generator, so two trainers with
/// equal settings compute the same numbers, and a trainer restored from a checkpoint continues
/// exactly.
///
/// Given a communicator, the trainer is one of several workers that train the GAN together
/// (``GANWorkers``): each computes on its rows of every global mini-batch, and every worker
/// holds the same networks after each step.
public struct GANTrainer: Sendable {
    /// The run's settings.
    public let settings: GANSettings
    /// The real samples.
    public let data: GANData
    /// The generator.
    public internal(set) var generator: DLNetwork
    /// The discriminator (a critic with WGAN-GP).
    public internal(set) var discriminator: DLNetwork
    /// The exponential moving average of the generator, when the settings ask for one
    /// (``GANSettings/generatorAverageDecay``): the network that ``generate(_:classes:)`` uses.
    public internal(set) var averageGenerator: DLNetwork?
    /// The generator's optimizer and its state.
    public internal(set) var generatorOptimizer: PlayerOptimizer
    /// The discriminator's optimizer and its state.
    public internal(set) var discriminatorOptimizer: PlayerOptimizer
    /// The workers this trainer shares each mini-batch with (one process alone by default).
    public let workers: GANWorkers
    /// The iterations done.
    public internal(set) var iteration = 0
    /// The real mini-batches read so far.
    public internal(set) var batchesRead = 0
    /// The image order of the epoch being read (drawn again from the seed when a new epoch starts).
    private var epochOrder: GANData.EpochOrder?
    /// The source of every random draw after the initial weights.
    var random: DLRandomGenerator
    /// Whether this trainer was restored from a checkpoint without checksums (written by an
    /// earlier version), whose tensors could not be verified.
    public internal(set) var resumedWithoutChecksums = false
    /// Whether the passes run through SwiftDL's `dlaccelerate` (on by default): each pass's trace
    /// is cached and replayed on the next batches, with the same results as evaluating it eagerly.
    /// Every pass replays: the discriminator's and the generator's, consensus optimization's,
    /// those of players with dropout (the masks' random numbers are drawn before the pass and
    /// passed in) and those of data-parallel workers (the collectives of synchronized batch
    /// normalization are part of the replayed plan; the gradients are aggregated after the pass).
    public var accelerate = true
    /// The accelerated passes (shared by copies of this trainer, as their caches may be).
    private let passes: GANPasses

    /// The accelerated passes when this trainer runs them.
    var acceleratedPasses: GANPasses? { accelerate ? passes : nil }

    /// A trainer with freshly initialized networks; with a `communicator`, one of its workers,
    /// training on its rows of every global mini-batch of `settings.batchSize`.
    /// - Throws: `DLError.invalidArgument` when the settings do not fit together, do not
    ///   fit the data (a batch larger than the images, a conditional GAN on images without
    ///   classes), need more memory than the machine has, or leave a worker without a sample
    ///   or with a share of the batch that is not a multiple of the packing, and for consensus
    ///   optimization on several workers.
    public init(settings: GANSettings, data: GANData, communicator: (any DLCommunicator)? = nil) throws {
        try settings.validate()
        workers = try communicator.map { try GANWorkers(communicator: $0, batchSize: settings.batchSize) }
            ?? .single(batchSize: settings.batchSize)
        guard workers.rows.count % settings.packing == 0 else {
            throw DLError.invalidArgument("this worker's \(workers.rows.count) samples of each batch cannot be packed in groups of \(settings.packing): choose a batch size that gives every worker a multiple of \(settings.packing)")
        }
        guard !(workers.isParallel && settings.topK != nil) else {
            throw DLError.invalidArgument("top-k training keeps the samples D scores highest in the whole batch, which no worker sees alone: train in one process")
        }
        guard !(workers.isParallel && settings.regularizer == .consensus) else {
            throw DLError.invalidArgument("consensus optimization runs in one process only: its penalty needs the whole batch's gradient inside the trace")
        }
        guard data.dataset == settings.dataset, data.dataset.isPlanar || data.imageSize == settings.imageSize else {
            throw DLError.invalidArgument("the data (\(data.dataset.rawValue), \(data.imageSize)px) do not match the settings (\(settings.dataset.rawValue), \(settings.imageSize)px)")
        }
        guard settings.conditioning == nil || data.isLabeled else {
            throw DLError.invalidArgument("a conditional GAN needs the class of every image; these \(data.dataset.rawValue) images have none")
        }
        try settings.checkSizes(images: data.dataset.isPlanar ? nil : data.count,
                                memory: Double(ProcessInfo.processInfo.physicalMemory))
        self.settings = settings
        self.data = data
        (generator, discriminator) = try GANArchitecture.networks(for: settings)
        averageGenerator = settings.generatorAverageDecay > 0 ? generator : nil
        generatorOptimizer = PlayerOptimizer(settings.generatorOptimizer)
        discriminatorOptimizer = PlayerOptimizer(settings.discriminatorOptimizer)
        random = DLRandomGenerator(seed: settings.seed &+ 2)
        passes = GANPasses(settings: settings, workers: workers)
    }

    /// `count` latent vectors, `[count, latentSize]` "BC" float32, standard normal, from `seed`
    /// (the fixed vectors of the sample images).
    public func latentVectors(_ count: Int, seed: UInt64) -> DLArray {
        DLArray.randn([count, settings.latentSize], type: .float32, labels: "BC", seed: seed)
    }

    /// The generator's samples for latent vectors `z` (and, for a conditional GAN, the `classes`
    /// to draw, `[N, 1]` "BC" class indices), in inference mode (running batch-norm statistics),
    /// as MATLAB's `predict`; from the generator's moving average when there is one.
    /// - Throws: `DLError.invalidArgument` for classes missing for a conditional generator or
    ///   given to an unconditional one.
    public func generate(_ z: DLArray, classes: DLArray? = nil) throws -> DLArray {
        try Self.requireClasses(classes, settings)
        return try (averageGenerator ?? generator).predict(Self.inputs(z, classes))[0]
    }

    /// Checks that `classes` are given exactly when the settings are conditional.
    static func requireClasses(_ classes: DLArray?, _ settings: GANSettings) throws {
        switch (settings.conditioning, classes) {
        case (.some, nil): throw DLError.invalidArgument("a conditional generator needs the classes of its samples")
        case (nil, .some): throw DLError.invalidArgument("an unconditional generator takes no classes")
        default: break
        }
    }

    /// A network's inputs: the samples or latent vectors, and their classes for a conditional GAN.
    static func inputs(_ x: DLArray, _ classes: DLArray?) -> [DLArray] { classes.map { [x, $0] } ?? [x] }

    // MARK: One iteration

    /// Runs one iteration and returns what it measured.
    /// - Throws: the errors of the operations (a non-finite loss is reported, not thrown).
    @discardableResult
    public mutating func step() throws -> GANStepRecord {
        var record: GANStepRecord
        if settings.regularizer == .consensus {
            record = try consensusStep()
        } else {
            for _ in 0..<(settings.discriminatorSteps - 1) { try trainDiscriminator() }
            let d: (loss: Double, penalty: Double, realScore: Double, fakeScore: Double), generatorLoss: Double
            if settings.method == .alternating {
                d = try trainDiscriminator()
                generatorLoss = try trainGenerator()
            } else {
                let dGradients = try discriminatorGradients(), gGradients = try generatorGradients()
                try discriminatorOptimizer.update(&discriminator, with: dGradients.gradients, learnRateScale: learnRateScale)
                try generatorOptimizer.update(&generator, with: gGradients.gradients, learnRateScale: learnRateScale)
                d = (dGradients.loss, dGradients.penalty, dGradients.realScore, dGradients.fakeScore)
                generatorLoss = gGradients.loss
            }
            record = GANStepRecord(iteration: 0, discriminatorLoss: d.loss, generatorLoss: generatorLoss,
                                   realScore: d.realScore, fakeScore: d.fakeScore, penalty: d.penalty)
        }
        try updateAverageGenerator()
        iteration += 1
        record.iteration = iteration
        return record
    }

    /// Moves the generator's average toward the generator after iteration `t` (from 1): every
    /// learnable parameter and state array becomes `a + w·(g − a)` with `w = (1 − β)/(1 − βᵗ)`,
    /// which keeps the average equal to the bias-corrected exponential moving average (as Adam's
    /// moments are corrected): the generators of iterations 1…t weighted by `βᵗ⁻ᵏ` and
    /// normalized, so the initial weights leave no trace (w = 1 after the first iteration).
    private mutating func updateAverageGenerator() throws {
        guard var average = averageGenerator else { return }
        let decay = settings.generatorAverageDecay
        let weight = (1 - decay) / (1 - Foundation.pow(decay, Double(iteration + 1)))
        func blend(_ averaged: DLParameterTable, _ current: DLParameterTable) throws -> DLParameterTable {
            try averaged.mapRows { row in
                try row.value + weight * (current[row.layer, row.parameter]! - row.value)
            }
        }
        average.learnables = try blend(average.learnables, generator.learnables)
        average.state = try blend(average.state, generator.state)
        averageGenerator = average
    }

    /// One update of the discriminator alone, on a new real batch and a generated batch that is
    /// a constant; the generator's parameters do not change (its batch-norm state does, as it ran
    /// in training mode). Returns D's loss (penalty included), its penalty and its mean scores.
    @discardableResult
    public mutating func trainDiscriminator() throws -> (loss: Double, penalty: Double, realScore: Double, fakeScore: Double) {
        let d = try discriminatorGradients()
        try discriminatorOptimizer.update(&discriminator, with: d.gradients, learnRateScale: learnRateScale)
        return (d.loss, d.penalty, d.realScore, d.fakeScore)
    }

    /// One update of the generator alone: its loss on a new latent batch runs through the
    /// discriminator, whose parameters are constants and do not change. Returns G's loss.
    @discardableResult
    public mutating func trainGenerator() throws -> Double {
        let g = try generatorGradients()
        try generatorOptimizer.update(&generator, with: g.gradients, learnRateScale: learnRateScale)
        return g.loss
    }

    /// The schedule's factor of the learning rates for the current iteration.
    private var learnRateScale: Double {
        settings.learnRateSchedule.scale(iteration: iteration, of: settings.iterations)
    }

    /// The next real batch, and its classes for a conditional GAN.
    private mutating func nextRealBatch() throws -> (samples: DLArray, classes: DLArray?) {
        defer { batchesRead += 1 }
        let samples = try data.batch(batchesRead, size: settings.batchSize, seed: settings.seed, using: &random, order: &epochOrder)
        guard settings.conditioning != nil else { return (workers.slice(samples), nil) }
        let classes = try data.batchClasses(batchesRead, size: settings.batchSize, seed: settings.seed, order: &epochOrder)
        return (workers.slice(samples), workers.slice(classes))
    }

    /// The classes of a generated batch for a conditional GAN, uniform from the random stream
    /// (nil, drawing nothing, for an unconditional one).
    private mutating func nextFakeClasses() throws -> DLArray? {
        guard settings.conditioning != nil, let classCount = settings.dataset.classCount else { return nil }
        let values = (0..<settings.batchSize).map { _ in Float(random.next() % UInt64(classCount)) }
        return workers.slice(try DLArray(values, shape: [settings.batchSize, 1], labels: "BC"))
    }

    private mutating func nextLatentBatch() -> DLArray {
        workers.slice(DLArray.randn([settings.batchSize, settings.latentSize], type: .float32, labels: "BC", using: &random))
    }

    /// The targets of the real batch: 1, or 0 where a label is flipped; with packing, 1 for each
    /// packed group (``GANSettings/validate()`` refuses flips with packing).
    private mutating func realTargets() throws -> DLArray {
        let n = settings.batchSize, p = settings.realLabelFlipProbability
        let values: [Float] = (0..<n).map { _ in p > 0 && random.nextUniform() < p ? 0 : 1 }
        let targets = workers.slice(try DLArray(values, shape: [n, 1], labels: "BC"))
        guard settings.packing > 1 else { return targets }
        return DLArray.ones([targets.shape[0] / settings.packing, 1], type: .float32, labels: "BC")
    }

    /// The generator of a pass's dropout masks: worker 1's (and one process's) from the next
    /// number of the random stream, the other workers' offset by their first row, so that
    /// their masks differ (a worker's masks are not the rows of one process's).
    private mutating func dropoutGenerator() -> DLRandomGenerator {
        DLRandomGenerator(seed: random.next() &+ UInt64(workers.rows.lowerBound))
    }

    /// An array of the shape and labels of this worker's generated batch (zeros), for drawing the
    /// random numbers of D's forward call on a batch that the pass generates.
    private var generatedBatchTemplate: DLArray {
        settings.dataset.isPlanar
            ? DLArray.zeros([workers.rows.count, 2], type: .float32, labels: "BC")
            : DLArray.zeros([workers.rows.count, 1, settings.imageSize, settings.imageSize], type: .float32, labels: "BCSS")
    }

    /// One discriminator gradient at the current point: a new real batch, and a generated batch
    /// that is a constant (G runs in training mode, untraced, and keeps its new batch-norm state).
    /// A conditional D sees the real batch with its classes and the generated batch with the
    /// classes it was drawn for; WGAN-GP's interpolates, with the real batch's classes.
    private mutating func discriminatorGradients() throws
        -> (gradients: DLParameterTable, loss: Double, realScore: Double, fakeScore: Double, penalty: Double) {
        let (real, realClasses) = try nextRealBatch()
        let z = nextLatentBatch()
        let fakeClasses = try nextFakeClasses()
        let (generated, generatorState) = try workers.synchronized(generator).forward(Self.inputs(z, fakeClasses), using: &random)
        let fake = generated[0]
        generator.state = generatorState
        let targets = try realTargets()
        var interpolated = real
        if settings.loss == .wassersteinGP {
            let shape = [settings.batchSize] + Array(repeating: 1, count: real.rank - 1)
            let epsilon = workers.slice(DLArray.rand(shape, type: .float32, using: &random))
            interpolated = try (epsilon * real + (1 - epsilon) * fake).labeled(real.labels)
        }
        var dropout = dropoutGenerator()
        let numbers = try Self.discriminatorRandomNumbers(discriminator, real: real, fake: fake, penaltyInput: interpolated,
                                                          realClasses: realClasses, fakeClasses: fakeClasses,
                                                          settings: settings, using: &dropout)
        let applyR1 = discriminatorOptimizer.step % settings.r1Interval == 0
        let result: (DLParameterTable, DLArray, DLArray, DLArray, DLParameterTable)
        if let passes = acceleratedPasses {
            result = try dlfeval(passes.discriminator, discriminator, real, fake, targets, interpolated, realClasses, fakeClasses,
                                 applyR1, numbers)
        } else {
            let (settings, workers) = (self.settings, self.workers)
            result = try dlfeval({ (d: DLNetwork, real: DLArray, fake: DLArray, targets: DLArray, penaltyInput: DLArray,
                                    realClasses: DLArray?, fakeClasses: DLArray?, numbers: [[DLArray]]) in
                try Self.discriminatorPass(d, real: real, fake: fake, targets: targets, penaltyInput: penaltyInput,
                                           realClasses: realClasses, fakeClasses: fakeClasses, applyR1: applyR1,
                                           randomNumbers: numbers, settings: settings, workers: workers)
            }, discriminator, real, fake, targets, interpolated, realClasses, fakeClasses, numbers)
        }
        discriminator.state = result.4
        let scores = result.3.scalars(as: Double.self)
        let (gradients, measured) = try workers.aggregate(result.0, [result.1.scalar(as: Double.self), scores[0],
                                                                     scores[1], result.2.scalar(as: Double.self)])
        return (gradients, measured[0], measured[1], measured[2], measured[3])
    }

    /// The number of D's outputs on a generated batch that G's loss keeps in this iteration's
    /// update with top-k training (``GANSettings/topK``), or nil without it. The epoch is that of
    /// the real batches read before this iteration, `⌊iteration · discriminatorSteps / batches
    /// per epoch⌋`; the 2-D data, drawn anew for every batch, count each batch as an epoch.
    public var topKCount: Int? {
        guard let topK = settings.topK else { return nil }
        let epoch = iteration * settings.discriminatorSteps / data.batchesPerEpoch(batchSize: settings.batchSize)
        return topK.count(of: settings.batchSize / settings.packing, epoch: epoch)
    }

    /// Top-k training's weights of D's `n` scores of a generated batch sorted from the highest:
    /// `[n, 1]` "BC" float32, 1 for the first `count` and 0 for the others.
    static func topKWeights(count: Int, of n: Int) throws -> DLArray {
        try DLArray((0..<n).map { Float($0 < count ? 1 : 0) }, shape: [n, 1], labels: "BC")
    }

    /// The generator's gradient at the current point: its loss on a new latent batch through D,
    /// whose parameters are constants (D runs in training mode and keeps its new state).
    private mutating func generatorGradients() throws -> (gradients: DLParameterTable, loss: Double) {
        let z = nextLatentBatch()
        let classes = try nextFakeClasses()
        var dropout = dropoutGenerator()
        let numbers = try Self.generatorRandomNumbers(generator, discriminator, z: z, classes: classes,
                                                      sample: generatedBatchTemplate, using: &dropout)
        let weights = try topKCount.map { try Self.topKWeights(count: $0, of: settings.batchSize / settings.packing) }
        let result: (DLParameterTable, DLArray, DLParameterTable, DLParameterTable)
        if let passes = acceleratedPasses {
            result = try dlfeval(passes.generator, generator, discriminator, z, classes, numbers, weights)
        } else {
            let (settings, workers) = (self.settings, self.workers)
            result = try dlfeval({ (g: DLNetwork, d: DLNetwork, z: DLArray, classes: DLArray?, numbers: [[DLArray]], weights: DLArray?) in
                try Self.generatorPass(g, d, z: z, classes: classes, randomNumbers: numbers, topKWeights: weights,
                                       settings: settings, workers: workers)
            }, generator, discriminator, z, classes, numbers, weights)
        }
        generator.state = result.2
        discriminator.state = result.3
        let (gradients, measured) = try workers.aggregate(result.0, [result.1.scalar(as: Double.self)])
        return (gradients, measured[0])
    }

    /// Consensus optimization: both own-loss gradients from one trace, then each player's
    /// direction `∇own + γ∇L` with `L = ½(‖∇_D lossD‖² + ‖∇_G lossG‖²)`.
    private mutating func consensusStep() throws -> GANStepRecord {
        let (real, realClasses) = try nextRealBatch()
        let z = nextLatentBatch()
        let fakeClasses = try nextFakeClasses()
        let targets = try realTargets()
        var dropout = dropoutGenerator()
        let numbers = try Self.generatorRandomNumbers(generator, discriminator, z: z, classes: fakeClasses, real: real,
                                                      realClasses: realClasses, sample: real, using: &dropout)
        let result: (DLParameterTable, DLParameterTable, DLArray, DLArray, DLArray, DLArray, DLParameterTable, DLParameterTable)
        if let passes = acceleratedPasses {
            result = try dlfeval(passes.consensus, generator, discriminator, z, real, targets, realClasses, fakeClasses, numbers)
        } else {
            let settings = self.settings
            result = try dlfeval({ (g: DLNetwork, d: DLNetwork, z: DLArray, real: DLArray, targets: DLArray,
                                    realClasses: DLArray?, fakeClasses: DLArray?, numbers: [[DLArray]]) in
                try Self.consensusPass(g, d, z: z, real: real, targets: targets, realClasses: realClasses,
                                       fakeClasses: fakeClasses, randomNumbers: numbers, settings: settings)
            }, generator, discriminator, z, real, targets, realClasses, fakeClasses, numbers)
        }
        generator.state = result.6
        discriminator.state = result.7
        try discriminatorOptimizer.update(&discriminator, with: result.0, learnRateScale: learnRateScale)
        try generatorOptimizer.update(&generator, with: result.1, learnRateScale: learnRateScale)
        let scores = result.5.scalars(as: Double.self)
        return GANStepRecord(iteration: 0, discriminatorLoss: result.2.scalar(as: Double.self),
                             generatorLoss: result.3.scalar(as: Double.self), realScore: scores[0],
                             fakeScore: scores[1], penalty: result.4.scalar(as: Double.self))
    }

    // MARK: Losses

    /// D's loss from its logits: binary cross-entropy with the (possibly flipped) real targets
    /// and 0 for the generated batch; for WGAN-GP, `mean D(fake) − mean D(real)`; for the hinge
    /// loss, `mean relu(1 − D(real)) + mean relu(1 + D(fake))`.
    static func discriminatorLoss(_ loss: GANLoss, realLogits: DLArray, fakeLogits: DLArray, targets: DLArray) throws -> DLArray {
        switch loss {
        case .minimax, .nonSaturating:
            return try binarycrossentropy(logits: realLogits, targets: targets) + mean(try softplus(fakeLogits))
        case .wassersteinGP:
            return try mean(fakeLogits) - mean(realLogits)
        case .hinge:
            return try mean(relu(1 - realLogits)) + mean(relu(1 + fakeLogits))
        }
    }

    /// G's loss from D's logits of the generated batch: `mean log(1 − σ(l)) = −mean softplus(l)`
    /// (minimax), `−mean log σ(l) = mean softplus(−l)` (non-saturating), `−mean l` (WGAN-GP,
    /// hinge). With top-k training's `topKWeights` (``topKWeights(count:of:)``, `[n, 1]`, 1 for
    /// the first k), the logits are sorted from the highest and the loss is the mean of the
    /// same per-sample terms over the k highest, `Σ wᵢ·term(l₍ᵢ₎) / Σ wᵢ`: the weights keep the
    /// shape fixed whatever k is, and the gradient reaches only the kept samples.
    static func generatorLoss(_ loss: GANLoss, fakeLogits: DLArray, topKWeights: DLArray? = nil) throws -> DLArray {
        guard let weights = topKWeights else { return mean(try generatorTerms(loss, fakeLogits)) }
        let sorted = try sort(fakeLogits, dim: 0, descending: true).values
        return try sum(weights * generatorTerms(loss, sorted)) / sum(weights)
    }

    /// G's per-sample loss terms from D's logits: `−softplus(l)` (minimax), `softplus(−l)`
    /// (non-saturating), `−l` (WGAN-GP, hinge).
    private static func generatorTerms(_ loss: GANLoss, _ logits: DLArray) throws -> DLArray {
        switch loss {
        case .minimax: try -softplus(logits)
        case .nonSaturating: try softplus(-logits)
        case .wassersteinGP, .hinge: -logits
        }
    }

    /// D's mean scores of the two batches, `[real, fake]` (untraced): probabilities σ(logit), or
    /// the values themselves (WGAN-GP's critic, the hinge loss).
    static func scores(_ loss: GANLoss, _ realLogits: DLArray, _ fakeLogits: DLArray) throws -> DLArray {
        let squash: (DLArray) -> DLArray = loss.scoresAreUnbounded ? { $0 } : { sigmoid($0) }
        return try cat([reshape(mean(squash(extractdata(realLogits))), [1]),
                        reshape(mean(squash(extractdata(fakeLogits))), [1])], dim: 0)
    }
}
