import Dispatch
import Foundation

/// Splits loops over large arrays across the machine's cores.
enum Parallel {
    /// The number of cores to use: the machine's, or `SWIFTDL_NUM_THREADS` when set (1 runs
    /// every loop on the calling thread, for running several small trainings side by side).
    static let coreCount: Int = {
        if let text = ProcessInfo.processInfo.environment["SWIFTDL_NUM_THREADS"], let count = Int(text), count >= 1 {
            return count
        }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// The fewest elements per core worth splitting a memory-bound loop for (an add, a copy, a
    /// comparison, an optimizer update). Handing a chunk to another core costs tens of
    /// microseconds, more when that core is busy with other work; a 2-D GAN step made of
    /// 16k-element operations ran at 75 steps/s split across 2 cores and at 210 on one. These
    /// loops take about 0.3–1 ns an element, so a chunk needs 128k elements (~50–100 µs).
    static let elementGrain = 1 << 17

    /// The fewest elements per core worth splitting a loop of transcendental functions for
    /// (exp, log, tanh…, 2–20 ns an element): 32k elements per core.
    static let functionGrain = 1 << 15

    /// Calls `body` on consecutive chunks of `0..<count`, concurrently when there is at least
    /// `grain` work per core; small loops run on the calling thread. The chunks depend only on
    /// `count`, `grain` and the core count, never on timing.
    static func forEachChunk(count: Int, grain: Int = elementGrain, _ body: (Range<Int>) -> Void) {
        let chunks = min(coreCount, count / max(grain, 1))
        if chunks <= 1 {
            body(0..<count)
            return
        }
        withoutActuallyEscaping(body) { body in
            let work = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                work.value(count * chunk / chunks ..< count * (chunk + 1) / chunks)
            }
        }
    }
}

extension Parallel {
    /// Shares `0..<count`, in ranges of `part` elements, among up to ``coreCount`` workers:
    /// `body` runs once per worker and takes ranges from `ranges` until it is empty, so a worker
    /// slowed down by other work on the machine takes fewer.
    /// - Returns: each worker's result.
    static func share<Result>(count: Int, part: Int, _ body: (_ ranges: RangeQueue) -> Result) -> [Result] {
        let ranges = RangeQueue(count: count, part: max(part, 1))
        let workers = max(1, min(coreCount, ranges.rangeCount))
        if workers == 1 { return [body(ranges)] }
        var results = [Result?](repeating: nil, count: workers)
        results.withUnsafeMutableBufferPointer { slots in
            withoutActuallyEscaping(body) { body in
                let work = UncheckedSendable((body, slots))
                DispatchQueue.concurrentPerform(iterations: workers) { worker in
                    work.value.1[worker] = work.value.0(ranges)
                }
            }
        }
        return results.map { $0! }
    }
}

/// Consecutive ranges of `0..<count`, handed out one at a time to whichever thread asks.
final class RangeQueue: @unchecked Sendable {
    let count: Int, part: Int
    private let lock = NSLock()
    private var taken = 0

    init(count: Int, part: Int) {
        self.count = count
        self.part = part
    }

    /// The number of ranges in all.
    var rangeCount: Int { (count + part - 1) / part }

    /// The next range not yet taken, or nil.
    func next() -> Range<Int>? {
        lock.withLock {
            let start = taken * part
            guard start < count else { return nil }
            taken += 1
            return start ..< min(count, start + part)
        }
    }
}

/// Wraps a value that is shared across threads in a way the compiler cannot check
/// (each thread touches a disjoint part of the arrays).

struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
