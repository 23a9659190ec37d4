import SwiftDL

/// The discriminator's and the generator's gradient passes, and consensus optimization's pass of
/// both players, as functions of arrays alone (every array they read is an argument, nothing is
/// captured but the settings and the workers), so that `dlaccelerate` can cache their traces and
/// replay them on each step's new batches.
///
/// A trainer evaluates a pass with `dlfeval`, or through its accelerated function when
/// ``GANTrainer/accelerate`` is on. Every pass replays:
/// - dropout takes the uniform numbers of its masks as an argument (drawn before the pass with
///   `DLNetwork.randomNumbers(for:using:)`, in the order the pass's forward calls draw them), so
///   that each replay drops other elements;
/// - a data-parallel worker's collectives inside the pass (synchronized batch-normalization
///   statistics and their gradients) are kernels of the plan, replayed in the same order on every
///   worker; each worker has its own passes, whose plans call its own communicator;
/// - consensus optimization's gradient of the gradients' norm is part of the plan, as any
///   `dlgradient` with `enableHigherDerivatives`;
/// - conditional players: the class embedding reads the classes into Swift only to check that
///   they are class numbers, a rule the plan checks again on each batch's classes.
///
/// Both ways run the same kernels in the same order, so they give the same bits.
final class GANPasses: Sendable {
    /// D's pass: its network, the real batch, the generated batch, the real targets, the input
    /// of the penalty's gradient, the two batches' classes (conditional runs), whether this
    /// update applies R1, and the random numbers of D's forward calls (see
    /// ``GANTrainer/discriminatorRandomNumbers(_:real:fake:penaltyInput:realClasses:fakeClasses:settings:using:)``).
    typealias DiscriminatorPass = AcceleratedFunction<(DLNetwork, DLArray, DLArray, DLArray, DLArray, DLArray?, DLArray?, Bool, [[DLArray]]),
                                                      (DLParameterTable, DLArray, DLArray, DLArray, DLParameterTable)>
    /// G's pass: its network, D's network, the latent batch and its classes (conditional runs),
    /// the random numbers of G's and D's forward calls, and top-k training's weights (see
    /// ``GANTrainer/topKWeights(count:of:)``; nil without top-k). The weights are an argument,
    /// not a slice to `k`, so one trace serves every `k`.
    typealias GeneratorPass = AcceleratedFunction<(DLNetwork, DLNetwork, DLArray, DLArray?, [[DLArray]], DLArray?),
                                                  (DLParameterTable, DLArray, DLParameterTable, DLParameterTable)>
    /// Consensus optimization's pass: G, D, the latent batch, the real batch, the real targets,
    /// the real and generated batches' classes, and the random numbers of G's and D's forward calls.
    typealias ConsensusPass = AcceleratedFunction<(DLNetwork, DLNetwork, DLArray, DLArray, DLArray, DLArray?, DLArray?, [[DLArray]]),
                                                  (DLParameterTable, DLParameterTable, DLArray, DLArray, DLArray, DLArray,
                                                   DLParameterTable, DLParameterTable)>

    let discriminator: DiscriminatorPass
    let generator: GeneratorPass
    let consensus: ConsensusPass

    init(settings: GANSettings, workers: GANWorkers) {
        discriminator = dlaccelerate { d, real, fake, targets, penaltyInput, realClasses, fakeClasses, applyR1, randomNumbers in
            try GANTrainer.discriminatorPass(d, real: real, fake: fake, targets: targets, penaltyInput: penaltyInput,
                                             realClasses: realClasses, fakeClasses: fakeClasses, applyR1: applyR1,
                                             randomNumbers: randomNumbers, settings: settings, workers: workers)
        }
        generator = dlaccelerate { g, d, z, classes, randomNumbers, topKWeights in
            try GANTrainer.generatorPass(g, d, z: z, classes: classes, randomNumbers: randomNumbers, topKWeights: topKWeights,
                                         settings: settings, workers: workers)
        }
        consensus = dlaccelerate { g, d, z, real, targets, realClasses, fakeClasses, randomNumbers in
            try GANTrainer.consensusPass(g, d, z: z, real: real, targets: targets, realClasses: realClasses,
                                         fakeClasses: fakeClasses, randomNumbers: randomNumbers, settings: settings)
        }
    }
}

extension GANTrainer {
    /// The input of D's first forward call in its pass: the penalty's input (the real batch) with
    /// R1, whose gradient is taken with respect to it, else the real batch.
    private static func realInput(real: DLArray, penaltyInput: DLArray, settings: GANSettings) -> DLArray {
        settings.regularizer == .r1 ? penaltyInput : real
    }

    /// The random numbers D's pass takes, drawn from `generator` in the order its forward calls
    /// draw: D on the real batch, on the generated batch, and with WGAN-GP on the penalty's input
    /// (empty arrays when D has no dropout).
    static func discriminatorRandomNumbers(_ d: DLNetwork, real: DLArray, fake: DLArray, penaltyInput: DLArray,
                                           realClasses: DLArray?, fakeClasses: DLArray?, settings: GANSettings,
                                           using generator: inout DLRandomGenerator) throws -> [[DLArray]] {
        var numbers = [try d.randomNumbers(for: inputs(realInput(real: real, penaltyInput: penaltyInput, settings: settings), realClasses),
                                           using: &generator),
                       try d.randomNumbers(for: inputs(fake, fakeClasses), using: &generator)]
        if settings.loss == .wassersteinGP {
            numbers.append(try d.randomNumbers(for: inputs(penaltyInput, realClasses), using: &generator))
        }
        return numbers
    }

    /// D's inputs for the real and the generated batch joined into one batch (real samples
    /// first), when one pass over them gives each sample what a pass over its own batch gives:
    /// D treats samples independently (``DLNetwork/treatsSamplesIndependently``: no batch
    /// normalization, no dropout, no packing) and the two batches' inputs differ only in their
    /// leading batch dimension. Then D's products multiply one batch of twice the rows, and each
    /// weight's gradient comes from one product instead of two added. Nil with R1, whose gradient
    /// with respect to the real batch would otherwise run over the generated rows too, and when
    /// the batches cannot be joined.
    static func jointBatch(_ d: DLNetwork, _ real: [DLArray], _ fake: [DLArray],
                                   settings: GANSettings) throws -> [DLArray]? {
        guard settings.regularizer != .r1, d.treatsSamplesIndependently, real.count == fake.count else { return nil }
        for (r, f) in zip(real, fake) {
            guard r.labels.first == "B", r.labels == f.labels, r.dataType == f.dataType,
                  r.shape.dropFirst() == f.shape.dropFirst() else { return nil }
        }
        return try zip(real, fake).map { try cat([$0, $1], dim: 0) }
    }

    /// D's loss and its gradient with respect to D's learnables, in a trace: D on the real batch
    /// and on the generated batch (a constant), each with its classes when D is conditional, the
    /// loss of ``GANSettings/loss``, and the penalty (WGAN-GP's on `penaltyInput`, the
    /// interpolated batch, with the real classes; R1's on `penaltyInput`, the real batch, when
    /// `applyR1`; both per input of D, a packed group of samples with ``GANSettings/packing``).
    /// D's random layers take `randomNumbers`, one list per forward call. When D treats samples
    /// independently the two batches run as one (``jointBatch(_:_:_:settings:)``): the same
    /// values, up to the rounding of the larger products. Returns the gradients,
    /// the loss (penalty included), the penalty, D's two mean scores and D's new state.
    static func discriminatorPass(_ d: DLNetwork, real: DLArray, fake: DLArray, targets: DLArray, penaltyInput: DLArray,
                                  realClasses: DLArray?, fakeClasses: DLArray?, applyR1: Bool, randomNumbers: [[DLArray]],
                                  settings: GANSettings, workers: GANWorkers)
        throws -> (DLParameterTable, DLArray, DLArray, DLArray, DLParameterTable) {
        var d = workers.synchronized(d)
        let realInput = realInput(real: real, penaltyInput: penaltyInput, settings: settings)
        let (realInputs, fakeInputs) = (inputs(realInput, realClasses), inputs(fake, fakeClasses))
        let (realLogits, fakeLogits): (DLArray, DLArray)
        if let joint = try jointBatch(d, realInputs, fakeInputs, settings: settings) {
            let (outputs, state) = try d.forward(joint, randomNumbers: [])
            d.state = state
            let logits = outputs[0]
            let halves = try split(logits, sizes: [realInput.shape[0], fake.shape[0]], dim: finddim(logits, "B").first ?? 0)
            (realLogits, fakeLogits) = (halves[0], halves[1])
        } else {
            let (realOutputs, s1) = try d.forward(realInputs, randomNumbers: randomNumbers[0])
            d.state = s1
            let (fakeOutputs, s2) = try d.forward(fakeInputs, randomNumbers: randomNumbers[1])
            d.state = s2
            (realLogits, fakeLogits) = (realOutputs[0], fakeOutputs[0])
        }
        var loss = try discriminatorLoss(settings.loss, realLogits: realLogits, fakeLogits: fakeLogits, targets: targets)
        var penalty = DLArray(0.0)
        switch (settings.loss, settings.regularizer) {
        case (.wassersteinGP, _):
            let (criticOutputs, s3) = try d.forward(inputs(penaltyInput, realClasses), randomNumbers: randomNumbers[2])
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

    /// The random numbers G's pass (and consensus optimization's) takes, drawn from `generator`
    /// in the order its forward calls draw: G on the latent batch, D on the generated batch
    /// (whose shape and labels `sample` has; it is read only when D has dropout), and with
    /// `real` (consensus optimization) D on the real batch between them.
    static func generatorRandomNumbers(_ g: DLNetwork, _ d: DLNetwork, z: DLArray, classes: DLArray?, real: DLArray? = nil,
                                       realClasses: DLArray? = nil, sample: @autoclosure () -> DLArray,
                                       using generator: inout DLRandomGenerator) throws -> [[DLArray]] {
        var numbers = [try g.randomNumbers(for: inputs(z, classes), using: &generator)]
        if let real { numbers.append(try d.randomNumbers(for: inputs(real, realClasses), using: &generator)) }
        numbers.append(d.drawsRandomNumbers ? try d.randomNumbers(for: inputs(sample(), classes), using: &generator) : [])
        return numbers
    }

    /// G's loss on the latent batch `z` (with its `classes` when the players are conditional)
    /// through D and its gradient with respect to G's learnables, in a trace (D's learnables are
    /// not differentiated); G's and D's random layers take `randomNumbers[0]` and `[1]`; with
    /// `topKWeights`, the loss keeps only the samples D scores highest (top-k training). Returns
    /// the gradients, the loss, and both players' new state (both ran in training mode).
    static func generatorPass(_ g: DLNetwork, _ d: DLNetwork, z: DLArray, classes: DLArray?, randomNumbers: [[DLArray]],
                              topKWeights: DLArray? = nil, settings: GANSettings, workers: GANWorkers)
        throws -> (DLParameterTable, DLArray, DLParameterTable, DLParameterTable) {
        let (fake, generatorState) = try workers.synchronized(g).forward(inputs(z, classes), randomNumbers: randomNumbers[0])
        let (fakeOutputs, discriminatorState) = try workers.synchronized(d).forward(inputs(fake[0], classes),
                                                                                    randomNumbers: randomNumbers[1])
        let loss = try generatorLoss(settings.loss, fakeLogits: fakeOutputs[0], topKWeights: topKWeights)
        return (try dlgradient(loss, g.learnables), extractdata(loss), generatorState, discriminatorState)
    }

    /// Consensus optimization's pass: both own-loss gradients from one trace with higher
    /// derivatives, then the gradient of `L = ½(‖∇D‖² + ‖∇G‖²)` through them. G runs on the
    /// latent batch, D on the real and on the generated batch (with their classes when
    /// conditional), taking `randomNumbers[0]`, `[1]` and `[2]`. Returns each player's direction
    /// `∇own + γ∇L` (D's, G's), D's and G's losses, `L`, D's two mean scores, and G's and D's new state.
    static func consensusPass(_ g: DLNetwork, _ d: DLNetwork, z: DLArray, real: DLArray, targets: DLArray,
                              realClasses: DLArray?, fakeClasses: DLArray?, randomNumbers: [[DLArray]], settings: GANSettings)
        throws -> (DLParameterTable, DLParameterTable, DLArray, DLArray, DLArray, DLArray, DLParameterTable, DLParameterTable) {
        var d = d
        let (generated, generatorState) = try g.forward(inputs(z, fakeClasses), randomNumbers: randomNumbers[0])
        let (realOutputs, s1) = try d.forward(inputs(real, realClasses), randomNumbers: randomNumbers[1])
        d.state = s1
        let (fakeOutputs, s2) = try d.forward(inputs(generated[0], fakeClasses), randomNumbers: randomNumbers[2])
        d.state = s2
        let (realLogits, fakeLogits) = (realOutputs[0], fakeOutputs[0])
        let lossD = try discriminatorLoss(settings.loss, realLogits: realLogits, fakeLogits: fakeLogits, targets: targets)
        let lossG = try generatorLoss(settings.loss, fakeLogits: fakeLogits)
        let gradientD = try dlgradient(lossD, d.learnables, enableHigherDerivatives: true)
        let gradientG = try dlgradient(lossG, g.learnables, enableHigherDerivatives: true)
        var squaredNorm = DLArray(0.0)
        for row in gradientD.rows + gradientG.rows { squaredNorm = try squaredNorm + sum(row.value * row.value) }
        let consensus = 0.5 * squaredNorm
        let (consensusD, consensusG) = try dlgradient(consensus, d.learnables, g.learnables)
        func direction(_ own: DLParameterTable, _ extra: DLParameterTable) throws -> DLParameterTable {
            try own.mapRows { row in try extractdata(row.value) + settings.gamma * extra[row.layer, row.parameter]! }
        }
        return (try direction(gradientD, consensusD), try direction(gradientG, consensusG),
                extractdata(lossD), extractdata(lossG), extractdata(consensus),
                try scores(settings.loss, realLogits, fakeLogits), generatorState, d.state)
    }
}
