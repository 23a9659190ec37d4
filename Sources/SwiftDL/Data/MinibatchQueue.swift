import Dispatch
import Foundation

/// What a ``MinibatchQueue`` does with the observations left at the end of an epoch when they
/// are fewer than the mini-batch size (MATLAB's `PartialMiniBatch`).
public enum PartialMiniBatch: Sendable {
    /// The last mini-batch of the epoch holds the observations left (MATLAB's default).
    case `return`
    /// The observations left are skipped: every mini-batch is full.
    case discard
}

/// Mini-batches of in-memory data for a training loop, as MATLAB's `minibatchqueue`: each call
/// of ``next()`` returns the next `miniBatchSize` observations of every input, as arrays with
/// dimension labels, until ``hasdata`` is false; ``shuffle()`` starts an epoch in a new random
/// order and ``reset()`` starts it again in the same order.
///
/// ```swift
/// let train = try MNIST.load(directory: mnistDirectory, split: .train)
/// let queue = try MinibatchQueue([train.images, train.labelArray], miniBatchSize: 128,
///                                generator: DLRandomGenerator(seed: 1))
/// for epoch in 1...epochs {
///     queue.shuffle()
///     while queue.hasdata {
///         let batch = try queue.next()   // [128, 1, 28, 28] "BCSS" and [128] "B"
///         // … dlfeval(modelLoss, net, batch[0], batch[1]) …
///     }
/// }
/// ```
///
/// **Observations.** The observations of an input are along its batch dimension (labeled `B`)
/// or, for an unlabeled input, along its first dimension. Every input has the same number of
/// observations, and a mini-batch takes the same observations from each.
///
/// **Order.** A new queue gives the observations in their order; ``shuffle()`` draws a random
/// permutation from the queue's generator, so the same seed gives the same mini-batches.
///
/// **Preprocessing and labels.** `miniBatchFcn` (MATLAB's `MiniBatchFcn`) receives the
/// mini-batch of every input and returns the outputs (any number of them); without it the
/// outputs are the inputs' mini-batches. `miniBatchFormat` (MATLAB's `MiniBatchFormat`) labels
/// the outputs, one string per output; without it the outputs keep the labels they have.
///
/// **Background preparation.** With `dispatchInBackground` (the default), the queue prepares
/// mini-batch k + 1 (copying its observations and running `miniBatchFcn`) on a background
/// queue while mini-batch k is used. Mini-batches are prepared one at a time, in order, so
/// they are the same with and without it; `miniBatchFcn` should nonetheless be a pure function
/// of its arguments, because a mini-batch prepared before a ``reset()`` or ``shuffle()`` is
/// thrown away. The queue can be used from several threads: each mini-batch goes to one caller.
///
/// The mini-batches are plain values that nothing is recorded for, like the results of
/// ``extractdata(_:)``.
public final class MinibatchQueue: @unchecked Sendable {
    /// A function that turns the mini-batches of the inputs into the outputs (MATLAB's
    /// `MiniBatchFcn`).
    public typealias MiniBatchFunction = @Sendable ([DLArray]) throws -> [DLArray]

    /// The number of observations in a mini-batch (the last one of an epoch may have fewer,
    /// see ``partialMiniBatch``).
    public let miniBatchSize: Int
    /// What happens to the observations left at the end of an epoch.
    public let partialMiniBatch: PartialMiniBatch
    /// The labels given to each output, or nil when the outputs keep their labels.
    public let miniBatchFormat: [String]?
    /// The number of observations of each input.
    public let observationCount: Int
    /// Whether the next mini-batch is prepared on a background queue.
    public let dispatchInBackground: Bool

    private let source: MinibatchSource
    private let worker: DispatchQueue?
    /// The number of mini-batches in an epoch.
    private let batchCount: Int
    /// The size of the mini-batches that a partition takes its slices from (``miniBatchSize``
    /// for a queue that is not a partition).
    private let globalMiniBatchSize: Int
    /// For a partition, the number of workers and this worker's index (see
    /// ``partition(workers:index:)``).
    private let part: (workers: Int, index: Int)?
    /// Guards the properties below.
    private let lock = NSLock()
    private var generator: DLRandomGenerator
    /// The observations in the order of this epoch.
    private var order: [Int]
    /// The index of the mini-batch that ``next()`` returns next.
    private var position = 0
    /// The mini-batch being prepared in the background.
    private var pending: PendingMinibatch?

    /// A queue over `data`.
    ///
    /// - Parameters:
    ///   - data: the inputs, each with one entry per observation along its batch dimension
    ///     (`B`) or, unlabeled, along its first dimension.
    ///   - miniBatchSize: the number of observations per mini-batch; 128 by default, as MATLAB.
    ///   - partialMiniBatch: whether the last, smaller mini-batch of an epoch is returned (the
    ///     default) or discarded.
    ///   - miniBatchFormat: the labels of each output, one string per output with one letter
    ///     per dimension in the output's order (`"BCSS"` for images, `"BC"` for one-hot
    ///     targets), as ``DLArray/labeled(_:)`` takes them; `""` leaves an output unlabeled.
    ///     Nil (the default) keeps the labels the outputs have.
    ///   - generator: the source of the random orders that ``shuffle()`` draws.
    ///   - dispatchInBackground: whether to prepare the next mini-batch on a background queue
    ///     while the current one is used (the default).
    ///   - miniBatchFcn: a function from the mini-batches of the inputs to the outputs, or nil
    ///     for the inputs' mini-batches themselves.
    /// - Throws: ``DLError/invalidArgument(_:)`` for no inputs, a scalar input, a labeled input
    ///   without a `B` dimension, a mini-batch size below 1, or (without `miniBatchFcn`)
    ///   formats that do not fit the inputs; ``DLError/shapeMismatch(_:)`` for inputs with
    ///   different numbers of observations.
    public init(_ data: [DLArray], miniBatchSize: Int = 128, partialMiniBatch: PartialMiniBatch = .return,
                miniBatchFormat: [String]? = nil, generator: DLRandomGenerator = DLRandomGenerator(seed: 0),
                dispatchInBackground: Bool = true, miniBatchFcn: MiniBatchFunction? = nil) throws {
        guard !data.isEmpty else { throw DLError.invalidArgument("minibatchqueue: no input arrays") }
        guard miniBatchSize >= 1 else {
            throw DLError.invalidArgument("minibatchqueue: miniBatchSize must be at least 1, got \(miniBatchSize)")
        }
        var dimensions: [Int] = []
        for (k, x) in data.enumerated() {
            guard x.rank >= 1 else {
                throw DLError.invalidArgument("minibatchqueue: data[\(k)] is a scalar; each input needs an observation dimension")
            }
            if x.labels.isEmpty {
                dimensions.append(0)
            } else if let batch = finddim(x, "B").first {
                dimensions.append(batch)
            } else {
                throw DLError.invalidArgument(
                    "minibatchqueue: data[\(k)] is labeled \"\(x.labels)\" without a batch dimension; label its observation dimension B, or strip its labels to take observations along the first dimension")
            }
        }
        let counts = zip(data, dimensions).map { $0.shape[$1] }
        if let k = counts.firstIndex(where: { $0 != counts[0] }) {
            throw DLError.shapeMismatch(
                "minibatchqueue: data[\(k)] of shape \(data[k].shape) has \(counts[k]) observations (dimension \(dimensions[k])), data[0] of shape \(data[0].shape) has \(counts[0]); every input needs one entry per observation")
        }
        if let formats = miniBatchFormat, miniBatchFcn == nil {
            guard formats.count == data.count else {
                throw DLError.invalidArgument(
                    "minibatchqueue: miniBatchFormat has \(formats.count) formats for \(data.count) outputs; give one per output (\"\" for an unlabeled one)")
            }
            for (k, format) in formats.enumerated() where !format.isEmpty {
                do {
                    try validateLabels(format, rank: data[k].rank)
                } catch let error as DLError {
                    throw DLError.invalidArgument("minibatchqueue: miniBatchFormat[\(k)]: \(error.message)")
                }
            }
        }
        self.miniBatchSize = miniBatchSize
        self.partialMiniBatch = partialMiniBatch
        self.miniBatchFormat = miniBatchFormat
        self.observationCount = counts[0]
        self.dispatchInBackground = dispatchInBackground
        self.generator = generator
        source = MinibatchSource(arrays: data.map(extractdataKeepingLabels), observationDimensions: dimensions,
                                 formats: miniBatchFormat, function: miniBatchFcn)
        worker = dispatchInBackground ? DispatchQueue(label: "SwiftDL.MinibatchQueue", qos: .userInitiated) : nil
        batchCount = partialMiniBatch == .return
            ? (counts[0] + miniBatchSize - 1) / miniBatchSize : counts[0] / miniBatchSize
        order = Array(0..<counts[0])
        globalMiniBatchSize = miniBatchSize
        part = nil
        prepare(0)
    }

    /// The partition of `queue` for worker `index` of `workers`, in the queue's state.
    private init(partitioning queue: MinibatchQueue, workers: Int, index: Int) {
        queue.lock.lock()
        defer { queue.lock.unlock() }
        miniBatchSize = splitEvenly(queue.miniBatchSize, into: workers)[index - 1]
        globalMiniBatchSize = queue.globalMiniBatchSize
        part = (workers, index)
        (partialMiniBatch, miniBatchFormat, observationCount) = (queue.partialMiniBatch, queue.miniBatchFormat, queue.observationCount)
        (dispatchInBackground, source, batchCount) = (queue.dispatchInBackground, queue.source, queue.batchCount)
        (generator, order, position) = (queue.generator, queue.order, queue.position)
        worker = dispatchInBackground ? DispatchQueue(label: "SwiftDL.MinibatchQueue", qos: .userInitiated) : nil
        lock.lock()
        defer { lock.unlock() }
        prepare(position)
    }

    /// Whether another mini-batch is left in this epoch (MATLAB's `hasdata`).
    public var hasdata: Bool {
        lock.lock()
        defer { lock.unlock() }
        return position < batchCount
    }

    /// The next mini-batch of the epoch: one array per output (MATLAB's `next`).
    ///
    /// - Throws: ``DLError/invalidArgument(_:)`` when the epoch has no mini-batch left (see
    ///   ``hasdata``) or the outputs do not fit `miniBatchFormat`, and whatever `miniBatchFcn`
    ///   throws. The mini-batch counts as taken either way.
    public func next() throws -> [DLArray] {
        lock.lock()
        defer { lock.unlock() }
        guard position < batchCount else {
            throw DLError.invalidArgument(
                "minibatchqueue: no data left in this epoch (\(batchCount) mini-batches of \(observationCount) observations); check hasdata, and call reset() or shuffle() to start another epoch")
        }
        let index = position
        position += 1
        let result: Result<[DLArray], any Error>
        if let pending, pending.index == index {
            result = pending.wait()
        } else {
            let source = self.source, observations = self.observations(of: index)
            result = Result { try source.minibatch(observations) }
        }
        prepare(index + 1)
        return try result.get()
    }

    /// Starts the epoch again, in the same order (MATLAB's `reset`).
    public func reset() {
        lock.lock()
        defer { lock.unlock() }
        position = 0
        prepare(0)
    }

    /// Starts the epoch again in a new random order drawn from the queue's generator (MATLAB's
    /// `shuffle`).
    public func shuffle() {
        lock.lock()
        defer { lock.unlock() }
        var order = Array(0..<observationCount)
        for i in stride(from: order.count - 1, to: 0, by: -1) {
            // A uniform index in 0...i: the high word of i + 1 times 64 random bits.
            let j = Int(UInt64(i + 1).multipliedFullWidth(by: generator.next()).high)
            order.swapAt(i, j)
        }
        self.order = order
        position = 0
        prepare(0)
    }

    /// The part of the data that worker `index` of `workers` trains on, as MATLAB's
    /// `partition(mbq, numWorkers, workerIndex)`: a queue whose k-th mini-batch is this
    /// worker's slice of the k-th mini-batch of this queue, the slices sized by
    /// ``workerMiniBatchSizes(_:workers:)`` (a last, partial mini-batch is split the same way).
    ///
    /// The partition starts in this queue's state (order, position and generator), and its
    /// ``shuffle()`` draws the same orders as this queue's would: when every worker partitions
    /// a queue made with the same data and seed, the workers' slices of each mini-batch
    /// together are the mini-batch that one process would train on, in order. (MATLAB splits
    /// the data itself into parts, so its workers' mini-batches differ from one process's.)
    ///
    /// - Throws: ``DLError/invalidArgument(_:)`` for fewer than 1 worker or an index outside
    ///   1…workers.
    public func partition(workers: Int, index: Int) throws -> MinibatchQueue {
        guard workers >= 1 else { throw DLError.invalidArgument("minibatchqueue partition: workers must be at least 1, got \(workers)") }
        guard (1...workers).contains(index) else {
            throw DLError.invalidArgument("minibatchqueue partition: index must be in 1...\(workers), got \(index)")
        }
        return MinibatchQueue(partitioning: self, workers: workers, index: index)
    }

    /// The observations of mini-batch `index` in this epoch's order (for a partition, its
    /// slice of them).
    private func observations(of index: Int) -> [Int] {
        let batch = order[(index * globalMiniBatchSize)..<min((index + 1) * globalMiniBatchSize, observationCount)]
        guard let part else { return Array(batch) }
        let sizes = splitEvenly(batch.count, into: part.workers)
        let start = batch.startIndex + sizes[..<(part.index - 1)].reduce(0, +)
        return Array(batch[start..<(start + sizes[part.index - 1])])
    }

    /// Starts preparing mini-batch `index` in the background, when the queue does that and the
    /// epoch has that mini-batch; a mini-batch being prepared before is no longer wanted.
    /// Called with the lock held.
    private func prepare(_ index: Int) {
        pending = nil
        guard let worker, index < batchCount else { return }
        let job = PendingMinibatch(index: index)
        let source = self.source, observations = self.observations(of: index)
        worker.async { job.fulfill(Result { try source.minibatch(observations) }) }
        pending = job
    }
}

/// The values and labels of `x`, without its trace.
private func extractdataKeepingLabels(_ x: DLArray) -> DLArray {
    extractdata(x).withLabels(x.labels)
}

/// What mini-batches are made of: immutable, and shared with the background queue.
private struct MinibatchSource: Sendable {
    let arrays: [DLArray]
    let observationDimensions: [Int]
    let formats: [String]?
    let function: MinibatchQueue.MiniBatchFunction?

    /// The outputs for the given observations: the inputs' mini-batches, through the function,
    /// labeled with the formats.
    func minibatch(_ observations: [Int]) throws -> [DLArray] {
        var outputs = zip(arrays, observationDimensions).map { gather($0, observations, along: $1) }
        if let function { outputs = try function(outputs) }
        guard let formats else { return outputs }
        guard formats.count == outputs.count else {
            throw DLError.invalidArgument(
                "minibatchqueue: miniBatchFormat has \(formats.count) formats but miniBatchFcn returned \(outputs.count) outputs; give one format per output (\"\" for an unlabeled one)")
        }
        return try zip(formats, outputs).enumerated().map { k, pair in
            let (format, output) = pair
            if format.isEmpty { return stripdims(output) }
            do {
                return try output.labeled(format)
            } catch let error as DLError {
                throw DLError.invalidArgument(
                    "minibatchqueue: output \(k) of shape \(output.shape) does not fit miniBatchFormat[\(k)] \"\(format)\": \(error.message)")
            }
        }
    }

    /// The entries of `x` at `observations` along dimension `dimension`, with `x`'s labels.
    private func gather(_ x: DLArray, _ observations: [Int], along dimension: Int) -> DLArray {
        var shape = x.shape
        shape[dimension] = observations.count
        let (outer, length, inner) = splitAround(x.shape, dimension)
        let rowBytes = inner * x.dataType.byteCount
        let output = Storage.allocate(count: outer * observations.count * inner, dataType: x.dataType)
        let source = x.storage.rawPointer, target = output.rawPointer
        for o in 0..<outer {
            for (j, observation) in observations.enumerated() {
                (target + (o * observations.count + j) * rowBytes)
                    .copyMemory(from: source + (o * length + observation) * rowBytes, byteCount: rowBytes)
            }
        }
        return DLArray(storage: output, shape: shape, labels: x.labels)
    }
}

/// A mini-batch being prepared on the background queue: the queue fulfills it once, and
/// ``wait()`` returns it when it is ready.
private final class PendingMinibatch: @unchecked Sendable {
    /// Which mini-batch of the epoch this is.
    let index: Int
    private let ready = DispatchSemaphore(value: 0)
    /// Written once by the background queue before `ready` is signaled, read after.
    private var result: Result<[DLArray], any Error>?

    init(index: Int) { self.index = index }

    func fulfill(_ result: Result<[DLArray], any Error>) {
        self.result = result
        ready.signal()
    }

    /// The mini-batch, once it is ready; called at most once.
    func wait() -> Result<[DLArray], any Error> {
        ready.wait()
        return result!
    }
}
