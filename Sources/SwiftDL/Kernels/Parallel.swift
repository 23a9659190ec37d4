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

    /// Calls `body` on consecutive chunks of `0..<count`, concurrently when there is at least
    /// `grain` work per core; small loops run on the calling thread.

    static func forEachChunk(count: Int, grain: Int = 1 << 15, _ body: (Range<Int>) -> Void) {
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

/// Wraps a value that is shared across threads in a way the compiler cannot check
/// (each thread touches a disjoint part of the arrays).

struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
