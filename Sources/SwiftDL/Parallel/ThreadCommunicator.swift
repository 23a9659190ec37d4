import Foundation

/// Runs `body` on `workers` threads of this process at once, each with its own
/// ``DLThreadCommunicator``, as MATLAB's `spmd` block runs on the workers of a pool; returns
/// each worker's result, in worker order.
///
/// When a worker throws, the workers waiting in a collective (or entering one later) throw
/// ``DLError/communication(_:)`` naming it, so that no worker waits forever; `spmd` then
/// rethrows the error of the worker that failed first.
///
/// ```swift
/// let sums = try spmd(workers: 2) { communicator in
///     try communicator.plus(DLArray([1.0, Double(communicator.index)]))
/// }
/// // sums[0] and sums[1] are both [2, 3]
/// ```
///
/// - Parameters:
///   - workers: the number of workers, at least 1.
///   - body: the work of one worker; it receives its communicator.
/// - Throws: ``DLError/invalidArgument(_:)`` for fewer than 1 worker, and the first error a
///   worker threw.
public func spmd<Result: Sendable>(workers: Int, _ body: @escaping @Sendable (DLThreadCommunicator) throws -> Result)
    throws -> [Result] {
    guard workers >= 1 else { throw DLError.invalidArgument("spmd: workers must be at least 1, got \(workers)") }
    let group = ThreadGroup(count: workers)
    let outcomes = OutcomeSlots<Result>(count: workers)
    let finished = DispatchGroup()
    for index in 1...workers {
        finished.enter()
        let thread = Thread {
            let communicator = DLThreadCommunicator(group: group, index: index)
            let outcome = Swift.Result { try body(communicator) }
            if case .failure(let error) = outcome {
                group.leave(index, because: "failed: \(error)")
            } else {
                group.leave(index, because: "finished")
            }
            outcomes.set(index - 1, outcome)
            finished.leave()
        }
        thread.stackSize = 16 << 20   // deep traces differentiate recursively
        thread.start()
    }
    finished.wait()
    return try outcomes.results(firstFailure: group.firstFailure)
}

/// A communicator whose workers are threads of one process, made by ``spmd(workers:_:)``:
/// for tests, and for training in parallel on a machine without MPI.
///
/// Collectives are deterministic: sums are taken in worker order, `((x₁ + x₂) + x₃) + …`,
/// by the last worker to arrive, and every worker receives the same bits.
public struct DLThreadCommunicator: DLCommunicator {
    let group: ThreadGroup
    /// This worker's number, from 1.
    public let index: Int
    /// The number of workers.
    public var count: Int { group.count }

    /// Sums the workers' buffers in worker order into every buffer.
    public func sumInPlace(_ buffer: UnsafeMutableRawBufferPointer, elementType: DLDataType) throws {
        try group.collective(index: index, buffer: buffer, kind: "sum of \(elementType)") { buffers in
            switch elementType {
            case .float32: sumIntoFirst(buffers, as: Float.self)
            case .float64: sumIntoFirst(buffers, as: Double.self)
            default: preconditionFailure("sumInPlace takes float32 or float64 elements, got \(elementType)")
            }
            copyFirstToOthers(buffers)
        }
    }

    /// The elementwise maximum of the workers' values in every worker's values.
    public func maximumInPlace(_ values: inout [Int64]) throws {
        try values.withUnsafeMutableBytes { buffer in
            try group.collective(index: index, buffer: buffer, kind: "maximum") { buffers in
                let first = buffers[0].bindMemory(to: Int64.self)
                for other in buffers.dropFirst() {
                    for (k, value) in other.bindMemory(to: Int64.self).enumerated() { first[k] = max(first[k], value) }
                }
                copyFirstToOthers(buffers)
            }
        }
    }

    /// Copies worker `root`'s bytes into every worker's buffer.
    public func broadcastInPlace(_ buffer: UnsafeMutableRawBufferPointer, from root: Int) throws {
        try group.collective(index: index, buffer: buffer, kind: "broadcast from \(root)") { buffers in
            for (k, other) in buffers.enumerated() where k != root - 1 {
                other.copyMemory(from: UnsafeRawBufferPointer(buffers[root - 1]))
            }
        }
    }

    /// Waits until every worker has called it.
    public func barrier() throws {
        try group.collective(index: index, buffer: UnsafeMutableRawBufferPointer(start: nil, count: 0),
                             kind: "barrier") { _ in }
    }
}

/// `buffers[0] ← ((buffers[0] + buffers[1]) + buffers[2]) + …`, elementwise.
private func sumIntoFirst<T: FloatingPoint>(_ buffers: [UnsafeMutableRawBufferPointer], as type: T.Type) {
    let first = buffers[0].bindMemory(to: T.self)
    for other in buffers.dropFirst() {
        let values = other.bindMemory(to: T.self)
        for k in first.indices { first[k] += values[k] }
    }
}

private func copyFirstToOthers(_ buffers: [UnsafeMutableRawBufferPointer]) {
    for other in buffers.dropFirst() { other.copyMemory(from: UnsafeRawBufferPointer(buffers[0])) }
}

/// The meeting point of the threads of one ``spmd(workers:_:)`` call.
///
/// A collective is a rendezvous: each worker posts its buffer and waits; the last to arrive
/// checks that all posted the same kind of collective with buffers of one size, combines the
/// buffers (every other worker is waiting, so their buffers are safe to write), and opens the
/// next round. A worker that leaves (its body returned or threw) fails the collectives that
/// cannot complete any more.
final class ThreadGroup: @unchecked Sendable {
    let count: Int
    private let condition = NSCondition()
    /// Guarded by `condition`: the round being gathered, who has posted in it, and what.
    private var round = 0
    private var posted: [(buffer: UnsafeMutableRawBufferPointer, kind: String)?]
    /// The error of the last completed round, if its posts did not match.
    private var roundError: DLError?
    /// Why workers left the group, by worker index.
    private var departures: [Int: String] = [:]
    /// The first worker that failed, and its error message.
    private(set) var firstFailure: Int?

    init(count: Int) {
        self.count = count
        posted = Array(repeating: nil, count: count)
    }

    func collective(index: Int, buffer: UnsafeMutableRawBufferPointer, kind: String,
                    combine: ([UnsafeMutableRawBufferPointer]) -> Void) throws {
        condition.lock()
        defer { condition.unlock() }
        if let error = departureError(waiting: index, kind: kind) { throw error }
        posted[index - 1] = (buffer, kind)
        let myRound = round
        if posted.allSatisfy({ $0 != nil }) {
            let posts = posted.map { $0! }
            if let k = posts.firstIndex(where: { $0.kind != posts[0].kind || $0.buffer.count != posts[0].buffer.count }) {
                roundError = .communication("""
                    worker \(k + 1) called \(posts[k].kind) on \(posts[k].buffer.count) bytes while worker 1 called \
                    \(posts[0].kind) on \(posts[0].buffer.count) bytes; every worker must call the same collectives \
                    in the same order with arrays of the same structure
                    """)
            } else {
                roundError = nil
                combine(posts.map(\.buffer))
            }
            posted = Array(repeating: nil, count: count)
            round += 1
            condition.broadcast()
        } else {
            while round == myRound {
                if let error = departureError(waiting: index, kind: kind) {
                    posted[index - 1] = nil
                    throw error
                }
                condition.wait()
            }
        }
        if let roundError { throw roundError }
    }

    /// Records that worker `index` left the group, and wakes the workers waiting for it.
    func leave(_ index: Int, because reason: String) {
        condition.lock()
        defer { condition.unlock() }
        departures[index] = reason
        if reason.hasPrefix("failed"), firstFailure == nil { firstFailure = index }
        condition.broadcast()
    }

    /// The error for worker `index` waiting in a collective that a departed worker will not join.
    private func departureError(waiting index: Int, kind: String) -> DLError? {
        guard let (worker, reason) = departures.min(by: { $0.key < $1.key }) else { return nil }
        return .communication("""
            worker \(index) waits in a \(kind) that worker \(worker) will not join: worker \(worker) \(reason)
            """)
    }
}

/// Each worker's result or error, written once by its thread and read after all finished.
private final class OutcomeSlots<Result: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var outcomes: [Swift.Result<Result, any Error>?]

    init(count: Int) { outcomes = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ outcome: Swift.Result<Result, any Error>) {
        lock.lock()
        defer { lock.unlock() }
        outcomes[index] = outcome
    }

    /// The results in worker order, or the error of the worker that failed first (else of
    /// the first worker that failed).
    func results(firstFailure: Int?) throws -> [Result] {
        lock.lock()
        defer { lock.unlock() }
        if let firstFailure, case .failure(let error)? = outcomes[firstFailure - 1] { throw error }
        return try outcomes.map { try $0!.get() }
    }
}
