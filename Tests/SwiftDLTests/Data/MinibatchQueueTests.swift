import Dispatch
import Foundation
import Testing
@testable import SwiftDL

/// `count` observations of shape 2×3 whose entry (j, k) of observation i is 100i + 10j + k,
/// and their labels i.
private func observations(_ count: Int) throws -> (x: DLArray, y: DLArray) {
    var x: [Double] = []
    for i in 0..<count {
        for j in 0..<2 {
            for k in 0..<3 { x.append(Double(100 * i + 10 * j + k)) }
        }
    }
    return (try DLArray(x, shape: [count, 2, 3]), DLArray((0..<count).map(Double.init)))
}

/// The observation numbers in a mini-batch of `observations(_:)`, read from both outputs,
/// which must agree.
private func ids(_ batch: [DLArray]) -> [Int] {
    let fromX = stride(from: 0, to: batch[0].count, by: 6).map { Int(batch[0].scalars(as: Double.self)[$0]) / 100 }
    let fromY = batch[1].scalars(as: Double.self).map { Int($0) }
    #expect(fromX == fromY, "the outputs hold different observations")
    return fromY
}

/// The observations of every remaining mini-batch of the epoch, batch by batch.
private func drain(_ queue: MinibatchQueue) throws -> [[Int]] {
    var batches: [[Int]] = []
    while queue.hasdata { batches.append(ids(try queue.next())) }
    return batches
}

@Suite struct MinibatchQueueTests {
    @Test func batchSizesAndPartialBatches() throws {
        let (x, y) = try observations(10)
        for background in [false, true] {
            let returning = try MinibatchQueue([x, y], miniBatchSize: 4, dispatchInBackground: background)
            #expect(returning.observationCount == 10 && returning.miniBatchSize == 4)
            let first = try returning.next()
            #expect(first[0].shape == [4, 2, 3] && first[1].shape == [4])
            #expect(first[0].scalars(as: Double.self) == x.scalars(as: Double.self).prefix(24).map { $0 })
            #expect(try drain(returning) == [[4, 5, 6, 7], [8, 9]])
            expectError(containing: "no data left in this epoch", "3 mini-batches of 10 observations", "reset()") {
                _ = try returning.next()
            }
            let discarding = try MinibatchQueue([x, y], miniBatchSize: 4, partialMiniBatch: .discard,
                                                dispatchInBackground: background)
            #expect(try drain(discarding) == [[0, 1, 2, 3], [4, 5, 6, 7]])
            #expect(!discarding.hasdata)
            // Fewer observations than a mini-batch: one partial batch, or none.
            #expect(try drain(try MinibatchQueue([x, y], dispatchInBackground: background)) == [Array(0..<10)])
            #expect(try drain(try MinibatchQueue([x, y], partialMiniBatch: .discard,
                                                 dispatchInBackground: background)).isEmpty)
        }
        // MATLAB's default mini-batch size.
        #expect(try MinibatchQueue([x]).miniBatchSize == 128)
    }

    @Test func everyObservationOncePerEpoch() throws {
        let (x, y) = try observations(103)
        let queue = try MinibatchQueue([x, y], miniBatchSize: 16, generator: DLRandomGenerator(seed: 5))
        var orders: [[Int]] = []
        for _ in 0..<4 {
            queue.shuffle()
            let batches = try drain(queue)
            #expect(batches.map(\.count) == [16, 16, 16, 16, 16, 16, 7])
            let order = batches.flatMap { $0 }
            #expect(order.sorted() == Array(0..<103))
            orders.append(order)
        }
        #expect(Set(orders).count == 4, "each shuffle gives a new order")
        #expect(!orders.contains(Array(0..<103)))
    }

    @Test func sameSeedSameOrder() throws {
        let (x, y) = try observations(50)
        func epochs(seed: UInt64) throws -> [[[Int]]] {
            let queue = try MinibatchQueue([x, y], miniBatchSize: 8, generator: DLRandomGenerator(seed: seed))
            return try (0..<3).map { _ in
                queue.shuffle()
                return try drain(queue)
            }
        }
        let first = try epochs(seed: 11)
        #expect(try epochs(seed: 11) == first)
        #expect(try epochs(seed: 12) != first)
    }

    @Test func resetKeepsTheOrderShuffleDrawsANewOne() throws {
        let (x, y) = try observations(12)
        let queue = try MinibatchQueue([x, y], miniBatchSize: 5, generator: DLRandomGenerator(seed: 3))
        // A new queue gives the observations in their order.
        #expect(try drain(queue) == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9], [10, 11]])
        queue.reset()
        #expect(try drain(queue).flatMap { $0 } == Array(0..<12))
        queue.shuffle()
        let shuffled = try drain(queue)
        // A reset in the middle of an epoch starts it again, in the same order.
        queue.reset()
        #expect(ids(try queue.next()) == shuffled[0])
        queue.reset()
        #expect(try drain(queue) == shuffled)
        queue.shuffle()
        #expect(try drain(queue) != shuffled)
    }

    @Test func shufflesAreUniform() throws {
        // Every permutation of 4 observations is about equally likely: 2400 shuffles give each
        // of the 24 about 100 times (a binomial standard deviation of about 10).
        let (x, y) = try observations(4)
        let queue = try MinibatchQueue([x, y], miniBatchSize: 4, generator: DLRandomGenerator(seed: 8),
                                       dispatchInBackground: false)
        var counts: [[Int]: Int] = [:]
        for _ in 0..<2400 {
            queue.shuffle()
            counts[ids(try queue.next()), default: 0] += 1
        }
        #expect(counts.count == 24)
        #expect(counts.values.allSatisfy { (60...140).contains($0) }, "\(counts.values.sorted())")
    }

    @Test func formatsAndPreprocessing() throws {
        // Images labeled "BCSS" (float32) and unlabeled classes 0, 1, 2, made one-hot by the function.
        let images = DLArray.rand([6, 1, 2, 2], type: .float32, labels: "BCSS", seed: 4)
        let classes = DLArray([2.0, 0, 1, 1, 2, 0])
        let oneHot: MinibatchQueue.MiniBatchFunction = { batch in
            let rows = batch[1].scalars(as: Double.self).map { c in (0..<3).map { Double($0) == c ? 1.0 : 0 } }
            return [batch[0], try DLArray(rows: rows)]
        }
        let queue = try MinibatchQueue([images, classes], miniBatchSize: 4, miniBatchFormat: ["BCSS", "BC"],
                                       miniBatchFcn: oneHot)
        let batch = try queue.next()
        #expect(batch[0].shape == [4, 1, 2, 2] && batch[0].labels == "BCSS" && batch[0].dataType == .float32)
        #expect(batch[0].scalars(as: Float.self) == Array(images.scalars(as: Float.self).prefix(16)))
        #expect(batch[1].labels == "BC" && batch[1].shape == [4, 3])
        #expect(batch[1].scalars(as: Double.self) == [0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 1, 0])
        let last = try queue.next()
        #expect(last[1].shape == [2, 3] && last[1].scalars(as: Double.self) == [0, 0, 1, 1, 0, 0])
        // Without formats the outputs keep their labels; "" removes them.
        let kept = try MinibatchQueue([images, classes], miniBatchSize: 4).next()
        #expect(kept[0].labels == "BCSS" && kept[1].labels == "")
        let stripped = try MinibatchQueue([images, classes], miniBatchSize: 4, miniBatchFormat: ["", "B"]).next()
        #expect(stripped[0].labels == "" && stripped[0].shape == [4, 1, 2, 2] && stripped[1].labels == "B")
        // A format in MATLAB's order permutes into SwiftDL's, as labeled(_:) does: "CB" on 4×3 gives "BC" 3×4.
        let permuted = try MinibatchQueue([images, classes], miniBatchSize: 4, miniBatchFormat: ["BCSS", "CB"],
                                          miniBatchFcn: oneHot).next()
        #expect(permuted[1].labels == "BC" && permuted[1].shape == [3, 4])
    }

    @Test func observationsAlongTheBatchDimension() throws {
        // Sequences labeled "TBC": time 3, 7 observations, 2 channels; entry (t, i, c) is 100i + 10t + c.
        var values: [Double] = []
        for t in 0..<3 {
            for i in 0..<7 {
                for c in 0..<2 { values.append(Double(100 * i + 10 * t + c)) }
            }
        }
        let sequences = try DLArray(values, shape: [3, 7, 2]).withLabels("TBC")
        let targets = DLArray.ones([7, 1], labels: "BC")
        let queue = try MinibatchQueue([sequences, targets], miniBatchSize: 3, generator: DLRandomGenerator(seed: 2))
        queue.shuffle()
        var seen: [Int] = []
        while queue.hasdata {
            let batch = try queue.next()
            let b = batch[0].shape[1]
            #expect(batch[0].labels == "TBC" && batch[0].shape == [3, b, 2])
            #expect(batch[1].labels == "BC" && batch[1].shape == [b, 1])
            let v = batch[0].scalars(as: Double.self)
            let observations = (0..<b).map { Int(v[2 * $0]) / 100 }
            for t in 0..<3 {
                for (j, i) in observations.enumerated() {
                    for c in 0..<2 {
                        let expected = Double(100 * i + 10 * t + c)
                        #expect(v[(t * b + j) * 2 + c] == expected)
                    }
                }
            }
            seen += observations
        }
        #expect(seen.sorted() == Array(0..<7))
    }

    @Test func backgroundPreparationGivesTheSameBatches() throws {
        let (x, y) = try observations(37)
        let scale: MinibatchQueue.MiniBatchFunction = { batch in [batch[0] * 2 + 1, batch[1]] }
        func run(background: Bool) throws -> [[[Double]]] {
            let queue = try MinibatchQueue([x, y], miniBatchSize: 5, generator: DLRandomGenerator(seed: 21),
                                           dispatchInBackground: background, miniBatchFcn: scale)
            #expect(queue.dispatchInBackground == background)
            var batches: [[[Double]]] = []
            func take(_ n: Int) throws {
                for _ in 0..<n where queue.hasdata { batches.append(try queue.next().map { $0.scalars(as: Double.self) }) }
            }
            try take(3)
            queue.shuffle()
            try take(100)
            queue.reset()
            try take(2)
            queue.shuffle()
            queue.shuffle()
            try take(100)
            return batches
        }
        let background = try run(background: true)
        #expect(background.count == 3 + 8 + 2 + 8)
        #expect(try run(background: false) == background)
        #expect(background[0][0] == x.scalars(as: Double.self).prefix(30).map { $0 * 2 + 1 })
    }

    @Test func concurrentCallersShareTheBatches() throws {
        let (x, y) = try observations(400)
        let queue = try MinibatchQueue([x, y], miniBatchSize: 7, generator: DLRandomGenerator(seed: 9))
        queue.shuffle()
        final class Collected: @unchecked Sendable {
            let lock = NSLock()
            var ids: [Int] = []
        }
        let collected = Collected()
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            while let batch = try? queue.next() {
                let observations = batch[1].scalars(as: Double.self).map { Int($0) }
                collected.lock.lock()
                collected.ids += observations
                collected.lock.unlock()
            }
        }
        #expect(collected.ids.sorted() == Array(0..<400))
    }

    @Test func functionErrorsReachTheCaller() throws {
        let (x, y) = try observations(10)
        for background in [false, true] {
            let failing = try MinibatchQueue([x, y], miniBatchSize: 4, dispatchInBackground: background) { batch in
                guard batch[1].scalars(as: Double.self).first != 4 else { throw DLError.invalidArgument("no 4 here") }
                return batch
            }
            #expect(ids(try failing.next()) == [0, 1, 2, 3])
            expectError(containing: "no 4 here") { _ = try failing.next() }
            #expect(ids(try failing.next()) == [8, 9])
            let wrongCount = try MinibatchQueue([x, y], miniBatchFormat: ["BCS", "B"], dispatchInBackground: background) {
                [$0[0]]
            }
            expectError(containing: "miniBatchFormat has 2 formats but miniBatchFcn returned 1 outputs") {
                _ = try wrongCount.next()
            }
            let wrongRank = try MinibatchQueue([x, y], miniBatchFormat: ["BC", "B"], dispatchInBackground: background) {
                $0
            }
            expectError(containing: "output 0 of shape [10, 2, 3] does not fit miniBatchFormat[0] \"BC\"") {
                _ = try wrongRank.next()
            }
        }
    }

    @Test func mistakes() throws {
        let (x, y) = try observations(10)
        expectError(containing: "no input arrays") { _ = try MinibatchQueue([]) }
        expectError(containing: "miniBatchSize must be at least 1, got 0") { _ = try MinibatchQueue([x], miniBatchSize: 0) }
        expectError(containing: "data[1] is a scalar") { _ = try MinibatchQueue([x, DLArray(1.0)]) }
        expectError(containing: "data[0] is labeled \"CSS\" without a batch dimension") {
            _ = try MinibatchQueue([DLArray.zeros([2, 3, 3], labels: "CSS")])
        }
        let message = errorMessage(DLError.shapeMismatch) {
            _ = try MinibatchQueue([x, DLArray.zeros([3, 9], labels: "CB")])
        }
        #expect(message.contains("data[1] of shape [9, 3] has 9 observations (dimension 0), data[0] of shape [10, 2, 3] has 10"),
                "\(message)")
        expectError(containing: "miniBatchFormat has 1 formats for 2 outputs") {
            _ = try MinibatchQueue([x, y], miniBatchFormat: ["BCS"])
        }
        expectError(containing: "miniBatchFormat[0]", "name 2 dimensions but the array has 3") {
            _ = try MinibatchQueue([x, y], miniBatchFormat: ["BC", "B"])
        }
        expectError(containing: "miniBatchFormat[1]", "not one of S") {
            _ = try MinibatchQueue([x, y], miniBatchFormat: ["BCS", "X"])
        }
    }

    @Test func tracedDataGivesPlainBatches() throws {
        let (x, y) = try observations(6)
        let batch = try dlfeval({ (x: DLArray) -> DLArray in
            let queue = try MinibatchQueue([x * 1, y], miniBatchSize: 6, dispatchInBackground: false)
            let batch = try queue.next()[0]
            #expect(!batch.isTraced)
            return batch
        }, x)
        expectClose(batch, x, tolerance: 0)
    }
}
