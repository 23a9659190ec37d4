import SwiftDL

/// The workers that train one GAN together, data-parallel, and this worker's part of every
/// global mini-batch.
///
/// Every worker draws the whole global batch one process would draw (real samples, latent
/// vectors, flipped labels, WGAN-GP's interpolation weights) from the same random stream, and
/// keeps its rows ``rows`` of it (the split of SwiftDL's `workerMiniBatchSizes(_:workers:)`); so the
/// workers together train on exactly the batches of one process, and their random streams stay
/// equal. Batch normalization takes its statistics over the global batch
/// (`DLNetwork.synchronizingBatchStatistics(over:)`), each worker's losses are means
/// over its own rows, and gradients and measured values are summed over the workers weighted
/// by their shares (`aggregateGradients(_:factor:over:)`). A parallel run therefore
/// follows the one-process run with the same settings up to the order of float sums.
///
/// Each worker's trainer accelerates its own passes (``GANTrainer/accelerate``): the exchanges of
/// synchronized batch normalization are kernels of the replayed plans, which call this worker's
/// communicator in the order the eager pass does; the gradients are aggregated after the pass.
///
/// One worker (or none) is the one-process trainer: every helper then returns its input, so the
/// computation is the same, bit for bit, as without workers.
public struct GANWorkers: Sendable {
    /// The workers' communicator, or nil for one process.
    public let communicator: (any DLCommunicator)?
    /// This worker's rows of each global mini-batch.
    public let rows: Range<Int>
    /// The global mini-batch size.
    public let batchSize: Int

    /// One process training alone on batches of `batchSize`.
    public static func single(batchSize: Int) -> GANWorkers {
        GANWorkers(communicator: nil, rows: 0..<batchSize, batchSize: batchSize)
    }

    private init(communicator: (any DLCommunicator)?, rows: Range<Int>, batchSize: Int) {
        (self.communicator, self.rows, self.batchSize) = (communicator, rows, batchSize)
    }

    /// Worker `communicator.index`'s part of global mini-batches of `batchSize`.
    /// - Throws: `DLError.invalidArgument` when the batch leaves a worker without a sample.
    public init(communicator: any DLCommunicator, batchSize: Int) throws {
        let sizes = try workerMiniBatchSizes(batchSize, workers: communicator.count)
        guard sizes.allSatisfy({ $0 >= 1 }) else {
            throw DLError.invalidArgument("a batch of \(batchSize) leaves some of the \(communicator.count) workers without a sample: use a batch size of at least \(communicator.count)")
        }
        let start = sizes[..<(communicator.index - 1)].reduce(0, +)
        self.init(communicator: communicator, rows: start..<(start + sizes[communicator.index - 1]), batchSize: batchSize)
    }

    /// Whether there is more than one worker.
    public var isParallel: Bool { (communicator?.count ?? 1) > 1 }

    /// Whether this worker writes the run's files and prints its progress (worker 1).
    public var isFirst: Bool { communicator?.isFirst ?? true }

    /// This worker's share of the global mini-batch.
    public var share: Double { Double(rows.count) / Double(batchSize) }

    /// This worker's rows of `batch`, a global mini-batch (observations along the first dimension).
    func slice(_ batch: DLArray) -> DLArray {
        isParallel ? batch[rows, ...] : batch
    }

    /// `network` with batch statistics over the global mini-batch.
    func synchronized(_ network: DLNetwork) -> DLNetwork {
        guard isParallel, let communicator else { return network }
        return network.synchronizingBatchStatistics(over: communicator)
    }

    /// The gradients of the global mini-batch's losses from this worker's, and the global means
    /// of `values` (losses, scores: means over this worker's rows) in the same fused reduction.
    func aggregate(_ gradients: DLParameterTable, _ values: [Double]) throws -> (DLParameterTable, [Double]) {
        guard isParallel, let communicator else { return (gradients, values) }
        let measured = DLArray(values.map { Float($0) })
        let summed = try aggregateGradients(gradients.flattenedArrays + [measured], factor: share, over: communicator)
        return (gradients.replacingArrays(with: Array(summed.dropLast())), summed.last!.scalars(as: Double.self))
    }

    /// The gradient, with respect to this worker's `input`, of `total` summed over the workers
    /// (a penalty's inner gradient, traced for differentiating again), where `total` is this
    /// worker's sum over its rows. Through synchronized batch normalization the rows of the
    /// other workers contribute; its collective weights each worker's gradient by its share,
    /// so the sum is differentiated divided by the share and the result multiplied back.
    func inputGradient(_ total: DLArray, _ input: DLArray) throws -> DLArray {
        guard isParallel else { return try dlgradient(total, input, enableHigherDerivatives: true) }
        return try dlgradient(total / share, input, enableHigherDerivatives: true) * share
    }

    /// Whether any worker's flag is true (every worker's own, alone).
    func any(_ flag: Bool) throws -> Bool {
        guard isParallel, let communicator else { return flag }
        return try communicator.reduce(.or, flag)
    }
}
