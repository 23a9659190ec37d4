import CSwiftDLSupport
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
    /// comparison, an activation, an optimizer update): 16k elements, about 5-15 µs of work at
    /// 0.3–1 ns an element. Through libdispatch a hand-off cost tens of microseconds and the
    /// grain was 128k; with the pool's threads watching for work (``perform(_:_:)``) it costs
    /// about a microsecond, and the MLP GAN step, made of 16k-64k-element operations, ran 1-4%
    /// faster with 16k than with 128k (8k measured no faster; AMD EPYC Zen 4, 2026-12-07).
    /// Chunks never change results: sums are blocked by a fixed size of their own.
    static let elementGrain = 1 << 14

    /// The fewest elements per core worth splitting a loop of transcendental functions for
    /// (exp, log, tanh…, 2–20 ns an element): 8k elements per core.
    static let functionGrain = 1 << 13

    /// Calls `body` on consecutive chunks of `0..<count`, concurrently when there is at least
    /// `grain` work per core; small loops run on the calling thread. The chunks depend only on
    /// `count`, `grain` and the core count, never on timing.
    static func forEachChunk(count: Int, grain: Int = elementGrain, _ body: (Range<Int>) -> Void) {
        let chunks = min(coreCount, count / max(grain, 1))
        if chunks <= 1 {
            body(0..<count)
            return
        }
        perform(chunks) { chunk in body(count * chunk / chunks ..< count * (chunk + 1) / chunks) }
    }

    /// Calls `body(i)` for every `i` in `0..<count` at once, `0` on the calling thread, and
    /// returns when all calls have returned: on the threads of SwiftDL's pool
    /// (`swiftdl_pool_run`), which keep watching for work for a fraction of a millisecond
    /// before they sleep, or through libdispatch when the pool is busy with another thread's
    /// work or the call comes from inside a pool job. Any index may run on any thread (the
    /// calling thread takes those the pool's threads have not claimed, and runs them all while
    /// another program shares its core), so `body(i)` must not depend on which thread runs it.
    ///
    /// The pool is hand-written because libdispatch parks its workers at once, so that each
    /// hand-off waits for the scheduler to wake a thread: with it the MLP GAN step ran at 241-261
    /// steps/s, with the pool at 342-361 (release builds taking turns on an AMD EPYC Zen 4,
    /// 2026-12-07; BENCHMARKS.md). OpenMP, which spins the same way, would bring LLVM's
    /// runtime beside the GNU one that oneDNN is built with.
    static func perform(_ count: Int, _ body: (Int) -> Void) {
        withoutActuallyEscaping(body) { body in
            var work = UncheckedSendable(body)
            let ran = withUnsafeMutablePointer(to: &work) { pointer in
                swiftdl_pool_run(Int32(count), { context, index in
                    context!.assumingMemoryBound(to: UncheckedSendable<(Int) -> Void>.self).pointee.value(Int(index))
                }, pointer)
            }
            if ran == 0 {
                let shared = work
                DispatchQueue.concurrentPerform(iterations: count) { shared.value($0) }
            }
        }
    }
}

extension Parallel {
    /// Runs `body` on each range of `part` elements of `0..<count` (the last one may be shorter),
    /// sharing the ranges among up to ``coreCount`` workers that each take the next range when
    /// they come free, so a worker slowed down by other work on the machine takes fewer. Each
    /// worker makes one `scratch` and hands it to every range it takes.
    ///
    /// `combine` receives the ranges' results one at a time, in the order of the ranges (the
    /// first range's first), each as soon as it and every range before it are done. What is
    /// combined, and in which order, depends only on `count` and `part`, never on which worker
    /// took which range or on timing: partial sums added in `combine` give the same bits however
    /// busy the machine is. Results must not be summed inside `body` or `scratch` across ranges.
    static func share<Scratch, PartResult>(count: Int, part: Int, scratch makeScratch: () -> Scratch,
                                           _ body: (_ range: Range<Int>, _ scratch: Scratch) -> PartResult,
                                           combine: (_ range: Range<Int>, _ result: PartResult) -> Void) {
        let ranges = RangeQueue(count: count, part: max(part, 1))
        let workers = max(1, min(coreCount, ranges.rangeCount))
        if workers == 1 {
            let scratch = makeScratch()
            while let (_, range) = ranges.next() { combine(range, body(range, scratch)) }
            return
        }
        let results = OrderedResults<PartResult>()
        func work() {
            let scratch = makeScratch()
            while let (index, range) = ranges.next() {
                results.finish(index, range, body(range, scratch), combine: combine)
            }
        }
        perform(workers) { _ in work() }
    }

    /// Runs `body` on each range of `part` elements of `0..<count`, shared among the workers as
    /// ``share(count:part:scratch:_:combine:)`` does, for work whose ranges write disjoint outputs
    /// and need no combining.
    static func share<Scratch>(count: Int, part: Int, scratch makeScratch: () -> Scratch,
                               _ body: (_ range: Range<Int>, _ scratch: Scratch) -> Void) {
        share(count: count, part: part, scratch: makeScratch, body, combine: { _, _ in })
    }
}

/// Consecutive ranges of `0..<count`, handed out one at a time, with their indices, to whichever
/// thread asks.
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

    /// The next range not yet taken and its index, or nil.
    func next() -> (index: Int, range: Range<Int>)? {
        lock.withLock {
            let start = taken * part
            guard start < count else { return nil }
            taken += 1
            return (taken - 1, start ..< min(count, start + part))
        }
    }
}

/// The results of numbered ranges, finished in any order and passed on in the ranges' order:
/// a result waits until every range before it has been passed on.
private final class OrderedResults<PartResult>: @unchecked Sendable {
    private let lock = NSLock()
    private var waiting: [Int: (Range<Int>, PartResult)] = [:]
    private var nextIndex = 0

    /// Records range `index`'s result and calls `combine` on every result now due, in order
    /// (one thread at a time: the lock is held meanwhile).
    func finish(_ index: Int, _ range: Range<Int>, _ result: PartResult,
                combine: (Range<Int>, PartResult) -> Void) {
        lock.withLock {
            waiting[index] = (range, result)
            while let (range, result) = waiting.removeValue(forKey: nextIndex) {
                combine(range, result)
                nextIndex += 1
            }
        }
    }
}

/// Wraps a value that is shared across threads in a way the compiler cannot check
/// (each thread touches a disjoint part of the arrays).

struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
