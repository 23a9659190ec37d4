import Foundation
import SwiftDL

/// The players' losses.
public enum GANLoss: String, Codable, Sendable, CaseIterable {
    /// The original minimax game: D minimizes `−log D(x) − log(1 − D(G(z)))`, G minimizes
    /// `log(1 − D(G(z)))` (which saturates when D wins).
    case minimax
    /// D's loss as in minimax; G minimizes `−log D(G(z))` (Goodfellow et al.'s practical loss).
    case nonSaturating = "non-saturating"
    /// WGAN-GP (Gulrajani et al. 2017): the critic minimizes `mean D(G(z)) − mean D(x)` plus
    /// `λ·mean((‖∇D(x̂)‖ − 1)²)` at random interpolates `x̂` of real and generated samples; G
    /// minimizes `−mean D(G(z))`.
    case wassersteinGP = "wgan-gp"
    /// The hinge loss (Lim & Ye 2017; Miyato et al. 2018): D minimizes
    /// `mean relu(1 − D(x)) + mean relu(1 + D(G(z)))`, G minimizes `−mean D(G(z))`.
    case hinge

    /// Whether D's output is a score without labels (a critic's value or a hinge margin), not
    /// the logit of a probability.
    public var scoresAreUnbounded: Bool { self == .wassersteinGP || self == .hinge }
}

/// A regularizer added to the game.
public enum GANRegularizer: String, Codable, Sendable, CaseIterable {
    /// None.
    case none
    /// The R1 penalty (Mescheder et al. 2018): D's loss gets `γ/2 · E_real ‖∇ₓD(x)‖²`, with D's
    /// logit as D(x).
    case r1
    /// Consensus optimization (Mescheder, Nowozin, Geiger 2017): every parameter steps along its
    /// own loss's gradient plus `γ·∇L`, `L = ½(‖∇_θ f‖² + ‖∇_φ g‖²)` over both players' own-loss
    /// gradients. Both gradients are taken at the same point (simultaneous by definition).
    case consensus
}

/// How the two players take turns.
public enum GANTrainingMethod: String, Codable, Sendable, CaseIterable {
    /// Both players' gradients from the same point, both updated at once.
    case simultaneous
    /// D is updated first; G's loss and gradient use the updated D.
    case alternating
}

/// The optimizer of one player and its settings (MATLAB's `adamupdate`, `rmspropupdate`,
/// `sgdmupdate`).
public struct OptimizerSettings: Codable, Sendable, Equatable {
    /// The update rule.
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// Adam: `learnRate`, `gradientDecay` (β₁), `squaredGradientDecay` (β₂), `epsilon`.
        case adam
        /// RMSProp: `learnRate`, `squaredGradientDecay`, `epsilon`.
        case rmsprop
        /// Stochastic gradient descent with momentum: `learnRate`, `momentum`.
        case sgdm
    }
    /// The update rule.
    public var kind: Kind
    /// The learning rate.
    public var learnRate: Double
    /// Adam's β₁.
    public var gradientDecay: Double
    /// Adam's β₂, RMSProp's decay.
    public var squaredGradientDecay: Double
    /// The denominator's offset of Adam and RMSProp.
    public var epsilon: Double
    /// SGDM's momentum.
    public var momentum: Double

    /// Settings for `kind`; the decays default to the GAN literature's Adam (β₁ 0.5, β₂ 0.999),
    /// RMSProp's 0.9 when `kind` is `.rmsprop`, and momentum 0.9.
    public init(_ kind: Kind, learnRate: Double, gradientDecay: Double = 0.5, squaredGradientDecay: Double? = nil,
                epsilon: Double = 1e-8, momentum: Double = 0.9) {
        self.kind = kind
        self.learnRate = learnRate
        self.gradientDecay = gradientDecay
        self.squaredGradientDecay = squaredGradientDecay ?? (kind == .rmsprop ? 0.9 : 0.999)
        self.epsilon = epsilon
        self.momentum = momentum
    }

    func validate(player: String) throws {
        guard learnRate.isFinite, learnRate > 0 else {
            throw DLError.invalidArgument("the \(player)'s learning rate must be positive and finite, not \(learnRate)")
        }
        guard (0..<1).contains(gradientDecay), (0..<1).contains(squaredGradientDecay) else {
            throw DLError.invalidArgument("the \(player)'s decay rates must be in [0, 1), not \(gradientDecay) and \(squaredGradientDecay)")
        }
        guard epsilon.isFinite, epsilon > 0 else {
            throw DLError.invalidArgument("the \(player)'s epsilon must be positive, not \(epsilon)")
        }
        guard (0...1).contains(momentum) else {
            throw DLError.invalidArgument("the \(player)'s momentum must be in [0, 1], not \(momentum)")
        }
    }
}

/// How the learning rates change over a run.
public enum LearnRateSchedule: String, Codable, Sendable, CaseIterable {
    /// The optimizers' learning rates throughout.
    case constant
    /// Decreasing linearly from the optimizers' learning rates at the first iteration to 0 after
    /// the last (so the players settle at the end of the run).
    case linear

    /// The factor of the learning rates at `iteration` (from 0) of `iterations`.
    public func scale(iteration: Int, of iterations: Int) -> Double {
        switch self {
        case .constant: 1
        case .linear: Swift.max(0, 1 - Double(iteration) / Double(iterations))
        }
    }
}

/// Top-k training of the generator (Sinha, Zhao, Goyal, Raffel, Odena, "Top-k Training of GANs:
/// Improving GAN Performance by Throwing Away Bad Samples", NeurIPS 2020): in each generator
/// update only the `k` generated samples that the discriminator scores highest contribute to G's
/// loss; the others, which D already judges the worst, are left out of it. `k` starts at the
/// batch size and shrinks by ``decay`` every epoch to at least ``minimumFraction`` of the batch:
/// `k = ⌊max(γ^epoch, ν) · n⌋` with `n` the discriminator's outputs of the batch (the batch size,
/// or the packed groups with PacGAN) and at least 1. The defaults are the paper's γ = 0.99 and
/// ν = 0.5, as in a public PyTorch implementation of it on Mimicry's SNGAN (`decay_rate = 0.99`,
/// `min_topk_rate = 0.5`, the rate 1 during the first epoch, `k = int(rate · N)`).
///
/// The selection needs only D's scores (higher is "more real" for every ``GANLoss``), so it
/// applies to all four losses: G's loss is the mean of its per-sample terms (`softplus(−l)`
/// non-saturating, `−softplus(l)` minimax, `−l` hinge and WGAN-GP) over the kept samples.
public struct GANTopK: Codable, Sendable, Equatable {
    /// The smallest share ν of the batch that G's loss keeps, in (0, 1] (the paper's 0.5).
    public var minimumFraction: Double
    /// The factor γ by which the kept share shrinks every epoch, in (0, 1] (the paper's 0.99; 1
    /// keeps the whole batch throughout).
    public var decay: Double

    /// Top-k training keeping at least `minimumFraction` of the batch, the share shrinking by
    /// `decay` each epoch.
    public init(minimumFraction: Double = 0.5, decay: Double = 0.99) {
        self.minimumFraction = minimumFraction
        self.decay = decay
    }

    /// The share of the batch kept after `epoch` completed epochs: `max(γ^epoch, ν)`.
    public func fraction(epoch: Int) -> Double {
        Swift.max(Foundation.pow(decay, Double(epoch)), minimumFraction)
    }

    /// The number of samples kept of `n` after `epoch` completed epochs: `⌊max(γ^epoch, ν) · n⌋`,
    /// at least 1.
    public func count(of n: Int, epoch: Int) -> Int {
        Swift.max(1, Int((fraction(epoch: epoch) * Double(n)).rounded(.down)))
    }

    /// Checks both values.
    /// - Throws: `DLError.invalidArgument` for a ν or a γ outside (0, 1].
    public func validate() throws {
        guard minimumFraction > 0, minimumFraction <= 1 else {
            throw DLError.invalidArgument("top-k's smallest kept share of the batch must be in (0, 1], not \(minimumFraction)")
        }
        guard decay > 0, decay <= 1 else {
            throw DLError.invalidArgument("top-k's decay per epoch must be in (0, 1], not \(decay)")
        }
    }
}

/// Everything that defines a GAN training run: data, models, game, optimizers, length and seed.
/// Two runs with equal settings compute the same numbers.
public struct GANSettings: Codable, Sendable, Equatable {
    /// The data set: `ring-8`, `grid-25`, `mnist` or `fashion-mnist`.
    public var dataset: GANDataset
    /// The players' architecture.
    public var architecture: GANArchitecture
    /// The side of generated images (28 or 64; 64 enlarges the 28×28 data); ignored for 2-D data.
    public var imageSize: Int
    /// The size of the generator's latent vector.
    public var latentSize: Int
    /// The width of the hidden layers of the MLP architecture.
    public var hiddenSize: Int
    /// Samples per mini-batch.
    public var batchSize: Int
    /// The number of iterations; one iteration is `discriminatorSteps` D updates and one G update.
    public var iterations: Int
    /// Simultaneous or alternating gradient descent.
    public var method: GANTrainingMethod
    /// The players' losses.
    public var loss: GANLoss
    /// A regularizer (R1 or consensus optimization), or none.
    public var regularizer: GANRegularizer
    /// γ of the R1 penalty and of consensus optimization.
    public var gamma: Double
    /// The discriminator updates between two R1 penalties: with `k`, the penalty is added on
    /// every `k`-th update only, multiplied by `k` so that its average weight stays γ (lazy
    /// regularization, Karras et al. 2020, "Analyzing and Improving the Image Quality of
    /// StyleGAN"). 1 adds it on every update; a larger interval spares most of the double
    /// backward passes the penalty costs.
    public var r1Interval: Int
    /// λ of WGAN-GP's gradient penalty.
    public var lambda: Double
    /// The decay `β` of an exponential moving average of the generator's parameters and
    /// batch-norm state, or 0 for none. After iteration `t` the average holds the generators of
    /// iterations 1…t weighted by `βᵗ⁻ᵏ` (bias-corrected, so the initial weights leave no trace),
    /// and the sample pictures and measures use it (Yazıcı et al. 2019, "The Unusual
    /// Effectiveness of Averaging in GAN Training"; 0.999 is usual). The average takes no part
    /// in training.
    public var generatorAverageDecay: Double
    /// D updates per G update (WGAN-GP's `n_critic`).
    public var discriminatorSteps: Int
    /// PacGAN's degree of packing m (Lin et al. 2018): the discriminator judges m samples of a
    /// batch at once, joined along their channels by a ``PackingLayer`` (m = 1: one at a time).
    /// The batch must be a multiple of m; R1 and WGAN-GP penalize the gradient of each packed
    /// input.
    public var packing: Int
    /// The probability that a real sample's label is flipped to "fake" in D's loss (MATLAB's
    /// example uses 0.35).
    public var realLabelFlipProbability: Double
    /// The generator's optimizer.
    public var generatorOptimizer: OptimizerSettings
    /// The discriminator's optimizer.
    public var discriminatorOptimizer: OptimizerSettings
    /// How both learning rates change over the run.
    public var learnRateSchedule: LearnRateSchedule
    /// The seed of every random choice: initial weights, latent vectors, data order, flips.
    public var seed: UInt64
    /// Whether the discriminator's fully connected and convolution layers are spectrally
    /// normalized (SwiftDL's `SpectralNormalizationLayer`, Miyato et al. 2018); its batch normalization
    /// is then left out, as in their SN-GAN.
    public var spectralNormalization: Bool
    /// How the players use the class labels of a conditional GAN (``GANConditioning``), or nil
    /// for an unconditional one. Conditional GANs need labeled images (MNIST, Fashion-MNIST).
    public var conditioning: GANConditioning?
    /// Top-k training of the generator (``GANTopK``), or nil to train G on the whole batch.
    /// It runs in one process only (the kept samples are the whole batch's best, which no
    /// worker sees alone) and not with consensus optimization.
    public var topK: GANTopK?

    /// Settings for `dataset` with the defaults that suit it: for the 2-D mixtures an MLP
    /// (hidden width 64, latent size 16, batch 256) trained for 8,000 iterations by alternating
    /// GD with the non-saturating loss, an R1 penalty of γ = 0.1 and Adam 1e-3 (β₁ 0.5) decaying
    /// linearly to 0 (the modes are 0.01 wide: the players must settle to place samples that
    /// precisely); for images the DCGAN of Radford et al. with Adam 2e-4, β₁ 0.5, batch 64.
    public init(dataset: GANDataset, seed: UInt64 = 1) {
        self.dataset = dataset
        self.seed = seed
        method = .alternating
        loss = .nonSaturating
        regularizer = .none
        gamma = 10
        r1Interval = 1
        lambda = 10
        generatorAverageDecay = 0
        discriminatorSteps = 1
        packing = 1
        realLabelFlipProbability = 0
        imageSize = 28
        learnRateSchedule = .constant
        spectralNormalization = false
        if dataset.isPlanar {
            architecture = .mlp
            latentSize = 16
            hiddenSize = 64
            batchSize = 256
            iterations = 8000
            regularizer = .r1
            gamma = 0.1
            learnRateSchedule = .linear
            generatorOptimizer = OptimizerSettings(.adam, learnRate: 1e-3, gradientDecay: 0.5)
            discriminatorOptimizer = OptimizerSettings(.adam, learnRate: 1e-3, gradientDecay: 0.5)
        } else {
            architecture = .dcgan
            latentSize = 64
            hiddenSize = 256
            batchSize = 64
            iterations = 5000
            generatorOptimizer = OptimizerSettings(.adam, learnRate: 2e-4, gradientDecay: 0.5)
            discriminatorOptimizer = OptimizerSettings(.adam, learnRate: 2e-4, gradientDecay: 0.5)
        }
    }

    /// Decodes settings; those written before ``r1Interval``, ``generatorAverageDecay``,
    /// ``spectralNormalization``, ``conditioning``, ``packing`` and ``topK`` existed decode with
    /// an interval of 1, no average, no spectral normalization, unconditional, unpacked and
    /// without top-k training.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        dataset = try container.decode(GANDataset.self, forKey: .dataset)
        architecture = try container.decode(GANArchitecture.self, forKey: .architecture)
        imageSize = try container.decode(Int.self, forKey: .imageSize)
        latentSize = try container.decode(Int.self, forKey: .latentSize)
        hiddenSize = try container.decode(Int.self, forKey: .hiddenSize)
        batchSize = try container.decode(Int.self, forKey: .batchSize)
        iterations = try container.decode(Int.self, forKey: .iterations)
        method = try container.decode(GANTrainingMethod.self, forKey: .method)
        loss = try container.decode(GANLoss.self, forKey: .loss)
        regularizer = try container.decode(GANRegularizer.self, forKey: .regularizer)
        gamma = try container.decode(Double.self, forKey: .gamma)
        r1Interval = try container.decodeIfPresent(Int.self, forKey: .r1Interval) ?? 1
        lambda = try container.decode(Double.self, forKey: .lambda)
        generatorAverageDecay = try container.decodeIfPresent(Double.self, forKey: .generatorAverageDecay) ?? 0
        discriminatorSteps = try container.decode(Int.self, forKey: .discriminatorSteps)
        packing = try container.decodeIfPresent(Int.self, forKey: .packing) ?? 1
        realLabelFlipProbability = try container.decode(Double.self, forKey: .realLabelFlipProbability)
        generatorOptimizer = try container.decode(OptimizerSettings.self, forKey: .generatorOptimizer)
        discriminatorOptimizer = try container.decode(OptimizerSettings.self, forKey: .discriminatorOptimizer)
        learnRateSchedule = try container.decode(LearnRateSchedule.self, forKey: .learnRateSchedule)
        seed = try container.decode(UInt64.self, forKey: .seed)
        spectralNormalization = try container.decodeIfPresent(Bool.self, forKey: .spectralNormalization) ?? false
        conditioning = try container.decodeIfPresent(GANConditioning.self, forKey: .conditioning)
        topK = try container.decodeIfPresent(GANTopK.self, forKey: .topK)
    }

    /// Checks that the settings fit together.
    /// - Throws: `DLError.invalidArgument` naming the first setting that is out of range or
    ///   does not fit the others.
    public func validate() throws {
        func require(_ condition: Bool, _ message: @autoclosure () -> String) throws {
            guard condition else { throw DLError.invalidArgument(message()) }
        }
        try require(latentSize >= 1, "the latent size must be at least 1, not \(latentSize)")
        try require(hiddenSize >= 1, "the hidden size must be at least 1, not \(hiddenSize)")
        try require(batchSize >= 2, "the batch size must be at least 2, not \(batchSize)")
        try require(iterations >= 1, "the number of iterations must be at least 1, not \(iterations)")
        try require(discriminatorSteps >= 1, "the discriminator steps per iteration must be at least 1, not \(discriminatorSteps)")
        try require(gamma.isFinite && gamma >= 0, "gamma must be finite and non-negative, not \(gamma)")
        try require(packing >= 1, "the packing must be at least 1 sample, not \(packing)")
        try require(batchSize % packing == 0, "the batch size \(batchSize) is not a multiple of the packing \(packing)")
        try require(packing == 1 || conditioning == nil, "packing joins unlabeled samples; a conditional GAN cannot be packed")
        try require(packing == 1 || realLabelFlipProbability == 0,
                    "label flipping flips one sample's label; with packing D has one label per packed group: leave out the flips")
        try require(r1Interval >= 1, "the R1 interval must be at least 1, not \(r1Interval)")
        try require(r1Interval == 1 || regularizer == .r1, "an R1 interval other than 1 needs the r1 regularizer")
        try require(lambda.isFinite && lambda >= 0, "lambda must be finite and non-negative, not \(lambda)")
        try require((0..<1).contains(generatorAverageDecay),
                    "the generator's average decay must be in [0, 1), not \(generatorAverageDecay)")
        try require((0..<1).contains(realLabelFlipProbability),
                    "the label-flip probability must be in [0, 1), not \(realLabelFlipProbability)")
        try require(!(loss.scoresAreUnbounded && realLabelFlipProbability > 0),
                    "label flipping applies to the minimax and non-saturating losses, not to \(loss.rawValue) (it has no labels)")
        try require(!(loss == .wassersteinGP && regularizer == .r1),
                    "wgan-gp has its own gradient penalty; combine R1 with the minimax or non-saturating loss")
        try require(!(regularizer == .consensus && method == .alternating),
                    "consensus optimization takes both gradients at the same point: use --method simultaneous")
        try require(!(regularizer == .consensus && discriminatorSteps != 1),
                    "consensus optimization updates both players together: use 1 discriminator step")
        try require(!(dataset.isPlanar && architecture != .mlp),
                    "the \(dataset.rawValue) data are points in the plane: use the mlp architecture")
        try require(conditioning == nil || dataset.classCount != nil,
                    "a conditional GAN needs labeled images (mnist or fashion-mnist); the \(dataset.rawValue) data are points in the plane without classes")
        try require(dataset.isPlanar || [28, 64].contains(imageSize), "the image size must be 28 or 64, not \(imageSize)")
        try require(!(architecture == .dcgan && imageSize != 28), "the dcgan architecture makes 28x28 images; use --image-size 28")
        try require(!(architecture == .mlp && !dataset.isPlanar && imageSize != 28),
                    "the mlp architecture makes 28x28 images; use --image-size 28")
        try topK?.validate()
        try require(topK == nil || regularizer != .consensus,
                    "top-k training keeps part of G's batch; consensus optimization's penalty takes the whole game's gradients: use one of them")
        try generatorOptimizer.validate(player: "generator")
        try discriminatorOptimizer.validate(player: "discriminator")
    }

    /// A generous estimate of the memory a training step needs, in bytes: the parameters with
    /// their gradients, optimizer state and average (6 copies), and a batch's activations kept
    /// for the backward passes (8 copies of each layer's output).
    var memoryEstimate: Double {
        let h = Double(hiddenSize), latent = Double(latentSize)
        let (firstWidth, otherParameters, activationsPerSample): (Double, Double, Double)
        switch architecture {
        case .mlp where dataset.isPlanar: (firstWidth, otherParameters, activationsPerSample) = (h, 4 * h * h + 10 * h, 12 * h)
        case .mlp: (firstWidth, otherParameters, activationsPerSample) = (256, 600_000, 4_000)
        case .dcgan: (firstWidth, otherParameters, activationsPerSample) = (6272, 300_000, 100_000)
        case .matlab where imageSize == 28: (firstWidth, otherParameters, activationsPerSample) = (12544, 3_000_000, 250_000)
        case .matlab: (firstWidth, otherParameters, activationsPerSample) = (8192, 10_000_000, 1_000_000)
        }
        let parameters = latent * firstWidth + otherParameters
        return 4 * (6 * parameters + 8 * Double(batchSize) * (activationsPerSample + latent))
    }

    /// Checks that the sizes fit the data and the machine.
    /// - Parameters:
    ///   - images: the number of images of the data, or nil for the 2-D data (drawn anew for each batch).
    ///   - memory: the machine's memory in bytes.
    /// - Throws: `DLError.invalidArgument` for a batch larger than the images, or sizes
    ///   whose ``memoryEstimate`` exceeds `memory`.
    func checkSizes(images: Int?, memory: Double) throws {
        if let images {
            guard images > 0 else { throw DLError.invalidArgument("the data hold no images") }
            guard batchSize <= images else {
                throw DLError.invalidArgument("the batch size \(batchSize) is larger than the \(images) images of the data")
            }
        }
        let needed = memoryEstimate
        guard needed <= memory else {
            func gigabytes(_ bytes: Double) -> String { String(format: "%.1f GB", bytes / 1e9) }
            throw DLError.invalidArgument("a batch size of \(batchSize) and a latent size of \(latentSize) need about \(gigabytes(needed)) of memory for \(architecture.rawValue) networks, more than this machine's \(gigabytes(memory))")
        }
    }
}

extension GANSettings {
    /// The seed of the latent vectors a run measures its samples with (the run's seed + 2000),
    /// the same at every iteration so that the measures follow one set of samples.
    public var measuringSeed: UInt64 { seed &+ 2000 }
}
