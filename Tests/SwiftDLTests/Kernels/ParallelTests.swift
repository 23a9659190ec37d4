import Foundation
import Testing
@testable import SwiftDL

/// A flag one thread sets and others read, to stop the busy threads a test starts.
private final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}

/// Work shared among the cores gives the same bits however the cores come free: parts are
/// combined in their order, every index of a pool job runs once whichever thread takes it, and
/// OpenBLAS products keep their thread count while other threads run single-threaded sections.
@Suite struct ParallelTests {
    /// The first parts finish last (they sleep), so a combine in the order the parts finish
    /// would put them last; the combined order and the float sum (whose value depends on the
    /// order of its terms) are those of the parts' order.
    @Test func partsAreCombinedInTheirOrderWhicheverWorkerFinishesFirst() {
        let count = 48
        let terms: [Float] = (0..<count).map { $0 % 3 == 0 ? 1e8 : ($0 % 3 == 1 ? 3.25 : -1e8) }
        var order: [Int] = [], sum: Float = 0
        Parallel.share(count: count, part: 1, scratch: { () }, { range, _ -> Float in
            if range.lowerBound < 4 { usleep(20_000) }
            return terms[range.lowerBound]
        }, combine: { range, term in
            order.append(range.lowerBound)
            sum += term
        })
        #expect(order == Array(0..<count))
        #expect(sum.bitPattern == terms.reduce(0, +).bitPattern)
    }

    @Test func everyPartIsDoneOnceWithOneScratchPerWorker() {
        let lock = NSLock()
        var covered = [Int](repeating: 0, count: 1000), scratches = 0
        Parallel.share(count: 1000, part: 7, scratch: { lock.withLock { scratches += 1 } }) { range, _ in
            lock.withLock { for i in range { covered[i] += 1 } }
        }
        #expect(covered.allSatisfy { $0 == 1 })
        #expect((1...Parallel.coreCount).contains(scratches))
    }

    /// OpenBLAS splits a 33×3000 by 3000×2049 product differently on 1 and 2 threads (its last
    /// bits differ); single-threaded sections on another thread must not change the thread
    /// count of a product under way.
    @Test func aLargeProductKeepsItsBitsWhileOtherThreadsRunSingleThreadedSections() throws {
        let a = DLArray.rand([33, 3000], type: .float32, seed: 1) - 0.5
        let b = DLArray.rand([3000, 2049], type: .float32, seed: 2) - 0.5
        let alone = try mtimes(a, b).scalars(as: Float.self).map(\.bitPattern)
        let stopping = StopFlag()
        let other = Thread {
            while !stopping.isSet {
                _ = BLAS.singleThreaded { usleep(500) }
                usleep(100)
            }
        }
        other.start()
        defer { stopping.set() }
        for run in 1...8 {
            let busy = try mtimes(a, b).scalars(as: Float.self).map(\.bitPattern)
            #expect(firstDifference(busy, alone) == nil, "run \(run): \(firstDifference(busy, alone) ?? "")")
        }
    }

    /// Threads that spin on every core make the pool's threads late, or make the caller run
    /// jobs alone: each index still runs exactly once, and a split product (64 × 784 by
    /// 784 × 256, an MLP layer's, cut in blocks among the cores) keeps the bits it has on a
    /// quiet machine.
    @Test func everyIndexRunsOnceAndProductsKeepTheirBitsWhileOtherThreadsHoldTheCores() throws {
        let a = DLArray.rand([64, 784], type: .float32, seed: 3) - 0.5
        let b = DLArray.rand([784, 256], type: .float32, seed: 4) - 0.5
        let quiet = try mtimes(a, b).scalars(as: Float.self).map(\.bitPattern)
        let stopping = StopFlag()
        for _ in 0..<Parallel.coreCount {
            Thread { while !stopping.isSet {} }.start()
        }
        defer { stopping.set() }
        let lock = NSLock(), indices = 4, jobs = 3000
        var runs = [Int](repeating: 0, count: indices)
        for _ in 0..<jobs {
            Parallel.perform(indices) { index in lock.withLock { runs[index] += 1 } }
        }
        #expect(runs == [Int](repeating: jobs, count: indices))
        for run in 1...20 {
            let busy = try mtimes(a, b).scalars(as: Float.self).map(\.bitPattern)
            #expect(firstDifference(busy, quiet) == nil, "run \(run): \(firstDifference(busy, quiet) ?? "")")
        }
    }
}
