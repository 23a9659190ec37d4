import SwiftDL

/// The discriminator's and the generator's gradient passes as functions of arrays alone (every
/// array they read is an argument, nothing is captured but the settings), so that
/// `dlaccelerate` can cache their traces and replay them on each step's new batches.
///
/// A trainer evaluates a pass with `dlfeval`, or through its accelerated function when
/// ``GANTrainer/accelerate`` is on and the pass can replay: one process (a data-parallel worker's
/// batch-normalization statistics and penalty gradients are summed over the workers inside the
/// pass), no dropout (its masks are drawn inside the pass) and no consensus optimization (whose
/// one trace holds both players). Conditional players replay too: the class embedding reads the
/// classes into Swift only to check that they are class numbers, a rule the plan checks again
/// on each batch's classes. Both ways run the same kernels in the same order, so they give the
/// same bits.
final class GANPasses: Sendable {
    /// D's pass: its network, the real batch, the generated batch, the real targets, the input
    /// of the penalty's gradient, the two batches' classes (conditional runs), and whether this
    /// update applies R1.
    typealias DiscriminatorPass = AcceleratedFunction<(DLNetwork, DLArray, DLArray, DLArray, DLArray, DLArray?, DLArray?, Bool),
                                                      (DLParameterTable, DLArray, DLArray, DLArray, DLParameterTable)>
    /// G's pass: its network, D's network, the latent batch and its classes (conditional runs).
    typealias GeneratorPass = AcceleratedFunction<(DLNetwork, DLNetwork, DLArray, DLArray?),
                                                  (DLParameterTable, DLArray, DLParameterTable, DLParameterTable)>

    let discriminator: DiscriminatorPass
    let generator: GeneratorPass

    init(settings: GANSettings, workers: GANWorkers) {
        discriminator = dlaccelerate { d, real, fake, targets, penaltyInput, realClasses, fakeClasses, applyR1 in
            var unused = DLRandomGenerator(seed: 0)
            return try GANTrainer.discriminatorPass(d, real: real, fake: fake, targets: targets, penaltyInput: penaltyInput,
                                                    realClasses: realClasses, fakeClasses: fakeClasses, applyR1: applyR1,
                                                    settings: settings, workers: workers, dropout: &unused)
        }
        generator = dlaccelerate { g, d, z, classes in
            var unused = DLRandomGenerator(seed: 0)
            return try GANTrainer.generatorPass(g, d, z: z, classes: classes, settings: settings, workers: workers, dropout: &unused)
        }
    }
}

extension GANTrainer {
    /// D's loss and its gradient with respect to D's learnables, in a trace: D on the real batch
    /// and on the generated batch (a constant), each with its classes when D is conditional, the
    /// loss of ``GANSettings/loss``, and the penalty (WGAN-GP's on `penaltyInput`, the
    /// interpolated batch, with the real classes; R1's on `penaltyInput`, the real batch, when
    /// `applyR1`; both per input of D, a packed group of samples with ``GANSettings/packing``).
    /// Returns the gradients, the loss (penalty included), the penalty, D's two mean scores and
    /// D's new state.
    static func discriminatorPass(_ d: DLNetwork, real: DLArray, fake: DLArray, targets: DLArray, penaltyInput: DLArray,
                                  realClasses: DLArray?, fakeClasses: DLArray?, applyR1: Bool,
                                  settings: GANSettings, workers: GANWorkers,
                                  dropout: inout DLRandomGenerator)
        throws -> (DLParameterTable, DLArray, DLArray, DLArray, DLParameterTable) {
        var d = workers.synchronized(d)
        let realInput = settings.regularizer == .r1 ? penaltyInput : real
        let (realOutputs, s1) = try d.forward(inputs(realInput, realClasses), using: &dropout)
        d.state = s1
        let (fakeOutputs, s2) = try d.forward(inputs(fake, fakeClasses), using: &dropout)
        d.state = s2
        let (realLogits, fakeLogits) = (realOutputs[0], fakeOutputs[0])
        var loss = try discriminatorLoss(settings.loss, realLogits: realLogits, fakeLogits: fakeLogits, targets: targets)
        var penalty = DLArray(0.0)
        switch (settings.loss, settings.regularizer) {
        case (.wassersteinGP, _):
            let (criticOutputs, s3) = try d.forward(inputs(penaltyInput, realClasses), using: &dropout)
            let criticOutput = criticOutputs[0]
            d.state = s3
            let g = try workers.inputGradient(sum(criticOutput), penaltyInput)
            let norms = sqrt(try sum(reshape(g * g, [criticOutput.shape[0], -1]), dims: [1]) + 1e-10)
            penalty = settings.lambda * mean((norms - 1) ** 2)
        case (_, .r1) where applyR1:
            let g = try workers.inputGradient(sum(realLogits), penaltyInput)
            let weight = settings.gamma * Double(settings.r1Interval)
            penalty = try weight / 2 * sum(g * g) / Double(realLogits.shape[0])
        default:
            break
        }
        loss = try loss + penalty
        let gradients = try dlgradient(loss, d.learnables)
        return (gradients, extractdata(loss), extractdata(penalty), try scores(settings.loss, realLogits, fakeLogits), d.state)
    }

    /// G's loss on the latent batch `z` (with its `classes` when the players are conditional)
    /// through D and its gradient with respect to G's learnables, in a trace (D's learnables are
    /// not differentiated). Returns the gradients, the loss, and both players' new state (both
    /// ran in training mode).
    static func generatorPass(_ g: DLNetwork, _ d: DLNetwork, z: DLArray, classes: DLArray?, settings: GANSettings,
                              workers: GANWorkers, dropout: inout DLRandomGenerator)
        throws -> (DLParameterTable, DLArray, DLParameterTable, DLParameterTable) {
        let (fake, generatorState) = try workers.synchronized(g).forward(inputs(z, classes), using: &dropout)
        let (fakeOutputs, discriminatorState) = try workers.synchronized(d).forward(inputs(fake[0], classes), using: &dropout)
        let loss = try generatorLoss(settings.loss, fakeLogits: fakeOutputs[0])
        return (try dlgradient(loss, g.learnables), extractdata(loss), generatorState, discriminatorState)
    }
}
