import Foundation
import SwiftDL

/// Discriminator rejection sampling (Azadi et al., ICLR 2019, "Discriminator Rejection
/// Sampling"): a discriminator trained with the logistic loss has the logit
/// `D̃(x) = log p_data(x) / p_g(x)` at its optimum, so keeping a generated sample with a
/// probability proportional to `exp D̃(x)` draws from the data's distribution rather than the
/// generator's. The bound `D̃_M` of the logits is the largest seen so far (over a burn-in of
/// ``GANSampler/rejectionBurnIn`` samples first, then over every candidate), and each candidate
/// is kept with probability `σ(F(x) − γ)`, where
///
///     F(x) = D̃(x) − D̃_M − log(1 − exp(D̃(x) − D̃_M − ε)),   ε = 10⁻⁶,
///
/// and `γ` is the given percentile of `F` over the candidate's batch of 500, the choice of the
/// paper's experiments and of MH-GAN's code (Turner et al. 2019: 95): the higher the
/// percentile, the fewer samples are kept and the more the discriminator's judgement counts.
/// With the hinge or Wasserstein losses the discriminator's output is a score, not a log
/// ratio, and is used as if it were one.
///
/// A discriminator taken from the end of training judges a generator it has been playing
/// against, not the one it would be at its optimum; as the paper does, first fine-tune it alone
/// against the fixed generator with the logistic loss (``calibratedForRejection(on:steps:)``,
/// `gan sample`'s and `gan measure`'s default with `--rejection`), which also makes the output
/// of a hinge or Wasserstein critic a log ratio.
///
/// Everything is drawn from one generator seeded with the seed: the burn-in's latent vectors,
/// then for each batch its latent vectors and one uniform number per candidate; the result
/// depends only on the seed, the percentile, the truncation and the checkpoint. A conditional
/// generator is sampled class by class, each class's candidates judged with their class.
extension GANSampler {
    /// The number of samples whose largest logit starts the bound `D̃_M`.
    public static let rejectionBurnIn = 10_000

    /// `count` samples kept by discriminator rejection sampling, in the order they were drawn
    /// (for a conditional generator, class after class as ``classes(_:)`` gives them).
    /// - Parameters:
    ///   - count: the number of samples to keep.
    ///   - seed: the seed of every random choice.
    ///   - truncation: redraw latent elements outside `[−t, t]` first (see
    ///     ``latentVectors(_:seed:truncation:)``); nil for none.
    ///   - percentile: the percentile of `F` in each batch that `γ` is set to, in `0..<100`
    ///     (95: about one candidate in ten kept).
    /// - Throws: `DLError.invalidArgument` for a count outside `1...maximumCount`, a percentile
    ///   outside `0..<100`, a packing discriminator (it judges several samples at once), or
    ///   when fewer than one candidate in a thousand is kept; the errors of ``classes(_:)``.
    public func rejectionSamples(_ count: Int, seed: UInt64, truncation: Double? = nil, percentile: Double) throws -> DLArray {
        try Self.requireCount(count)
        guard percentile >= 0 && percentile < 100 else {
            throw DLError.invalidArgument("the rejection percentile must be in 0..<100, not \(percentile)")
        }
        try requireSingleSampleDiscriminator()
        _ = try classes(count)   // a conditional count must be a multiple of the number of classes
        var random = DLRandomGenerator(seed: seed)
        let batch = 500
        var bound = -Double.infinity
        var burnedIn = 0
        while burnedIn < Self.rejectionBurnIn {
            let size = Swift.min(batch, Self.rejectionBurnIn - burnedIn)
            let blocks = try classCount.map { try GANConditioning.classBlocks(size, classCount: $0) }
            bound = Swift.max(bound, try logits(of: generate(latents(size, from: &random, truncation: truncation), classes: blocks),
                                                classes: blocks).max()!)
            burnedIn += size
        }
        // One group of rows per class (a single group unconditionally), each filled in turn.
        let groups: [(rows: Int, label: Float?)] = if let classCount {
            (0..<classCount).map { (count / classCount, Float($0)) }
        } else {
            [(count, nil)]
        }
        var kept: [DLArray] = []
        for group in groups {
            let classes = group.label.map { DLArray.full([batch, 1], value: Double($0), type: .float32, labels: "BC") }
            var keptRows = 0, drawn = 0
            while keptRows < group.rows {
                guard drawn <= 1000 * group.rows else {
                    throw DLError.invalidArgument("rejection sampling kept \(keptRows) of \(drawn) samples, fewer than one in a thousand: lower the percentile")
                }
                let z = try latents(batch, from: &random, truncation: truncation)
                let x = try generate(z, classes: classes)
                let logits = try self.logits(of: x, classes: classes)
                bound = Swift.max(bound, logits.max()!)
                let f = logits.map { Self.rejectionF($0, bound: bound) }
                let gamma = Self.percentile(f, percentile)
                let keep = f.indices.filter { random.nextUniform() <= Self.acceptance(f[$0], gamma: gamma) }
                for row in keep.prefix(group.rows - keptRows) { kept.append(x[row..<row + 1, ...]) }
                keptRows += Swift.min(keep.count, group.rows - keptRows)
                drawn += batch
            }
        }
        return try cat(kept, dim: 0).labeled(kept[0].labels)
    }

    /// This sampler with its discriminator fine-tuned for rejection sampling: `steps` updates of
    /// the discriminator alone, with the logistic loss (the non-saturating game's D loss) and no
    /// penalty, at the run's discriminator learning rate held constant, with a fresh optimizer,
    /// on the run's data against this sampler's generator (its average when the run kept one),
    /// whose parameters do not change. The batches and latent vectors come from the run's seed.
    /// - Parameters:
    ///   - data: the run's data.
    ///   - steps: the number of updates (0 returns the sampler unchanged).
    /// - Throws: `DLError.invalidArgument` for a negative number of steps, data that do not fit
    ///   the run, or a packing discriminator; the errors of ``GANTrainer/trainDiscriminator()``.
    public func calibratedForRejection(on data: GANData, steps: Int) throws -> GANSampler {
        guard steps >= 0 else { throw DLError.invalidArgument("the calibration steps must be at least 0, not \(steps)") }
        try requireSingleSampleDiscriminator()
        guard steps > 0 else { return self }
        var calibration = settings
        calibration.loss = .nonSaturating
        calibration.regularizer = .none
        calibration.realLabelFlipProbability = 0
        calibration.learnRateSchedule = .constant
        calibration.topK = nil
        var trainer = try GANTrainer(settings: calibration, data: data)
        trainer.generator = generator
        trainer.discriminator = discriminator
        for _ in 0..<steps { try trainer.trainDiscriminator() }
        var calibrated = self
        calibrated.discriminator = trainer.discriminator
        return calibrated
    }

    /// `F(x)` of a logit under the bound `D̃_M` (at least the logit):
    /// `D̃ − D̃_M − log(1 − exp(D̃ − D̃_M − ε))`, ε = 10⁻⁶.
    static func rejectionF(_ logit: Double, bound: Double) -> Double {
        let delta = logit - bound
        return delta - Foundation.log1p(-Foundation.exp(delta - 1e-6))
    }

    /// The probability of keeping a candidate: `σ(F − γ)`. With `γ = 0` it is
    /// `exp(D̃ − D̃_M)` (to a relative 10⁻⁶), the density ratio's share of its bound.
    static func acceptance(_ f: Double, gamma: Double) -> Double { 1 / (1 + Foundation.exp(gamma - f)) }

    /// The `p`-th percentile of `values`, interpolated linearly between the two nearest ranks
    /// (NumPy's default).
    static func percentile(_ values: [Double], _ p: Double) -> Double {
        let sorted = values.sorted()
        let position = p / 100 * Double(sorted.count - 1)
        let below = Int(position.rounded(.down)), above = Swift.min(below + 1, sorted.count - 1)
        return sorted[below] + (position - Double(below)) * (sorted[above] - sorted[below])
    }

    /// Throws `DLError.invalidArgument` for a packing discriminator, which judges several
    /// samples at once and so gives no logit of one sample.
    private func requireSingleSampleDiscriminator() throws {
        guard settings.packing == 1 else {
            throw DLError.invalidArgument("rejection sampling judges one sample at a time; this run's discriminator judges \(settings.packing) at once (--pack)")
        }
    }

    /// The discriminator's logits of samples `x` (with their classes), in inference mode.
    private func logits(of x: DLArray, classes: DLArray?) throws -> [Double] {
        try discriminator.predict(GANTrainer.inputs(x, classes))[0].scalars(as: Float.self).map(Double.init)
    }
}
