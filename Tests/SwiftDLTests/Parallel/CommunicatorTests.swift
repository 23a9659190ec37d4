import Foundation
import Testing
@testable import SwiftDL

/// The collectives of the thread communicator: values, order, and the errors when workers
/// disagree or one fails.
@Suite struct CommunicatorTests {
    @Test func indexAndCount() throws {
        let seen = try spmd(workers: 3) { communicator in [communicator.index, communicator.count] }
        #expect(seen == [[1, 3], [2, 3], [3, 3]])
    }

    @Test func plusSumsEveryArrayOfAContainerOnEveryWorker() throws {
        let results = try spmd(workers: 3) { communicator in
            let w = Double(communicator.index)
            let table = DLParameterTable(rows: [
                .init(layer: "fc", parameter: "Weights", value: try DLArray([w, 2 * w, 3 * w, 4 * w], shape: [2, 2])),
                .init(layer: "fc", parameter: "Bias", value: DLArray([Float(w)]).withLabels("C")),
                .init(layer: "fc", parameter: "Scale", value: DLArray([10 * w, -w, 0.5])),
            ])
            let sum = try communicator.plus(table)
            return sum.rows.map { ($0.value.scalars(as: Double.self), $0.value.dataType, $0.value.shape, $0.value.labels) }
        }
        for result in results {
            #expect(result[0].0 == [6, 12, 18, 24] && result[0].2 == [2, 2])
            #expect(result[1].0 == [6] && result[1].1 == .float32 && result[1].3 == "C")
            #expect(result[2].0 == [60, -6, 1.5] && result[2].1 == .float64)
        }
    }

    @Test func plusAddsInWorkerOrder() throws {
        // ((1e16 + 1) − 1e16) is 0 in float64; any other order gives 1.
        let values = [1e16, 1, -1e16]
        let results = try spmd(workers: 3) { communicator in
            try communicator.plus(DLArray([values[communicator.index - 1]])).scalar(as: Double.self)
        }
        #expect(results == [0, 0, 0])
    }

    @Test func broadcastCopiesTheRootsContainer() throws {
        let results = try spmd(workers: 3) { communicator in
            let w = Double(communicator.index)
            let mine: [DLArray] = [try DLArray([w, w + 0.5], shape: [1, 2], labels: "BC"), DLArray([w > 1]), DLArray([Float(-w)])]
            let theirs = try communicator.broadcast(mine, from: 2)
            return theirs.map { ($0.scalars(as: Double.self), $0.labels, $0.dataType) }
        }
        for result in results {
            #expect(result[0].0 == [2, 2.5] && result[0].1 == "BC")
            #expect(result[1].0 == [1] && result[1].2 == .bool)
            #expect(result[2].0 == [-2] && result[2].2 == .float32)
        }
        let error = try spmd(workers: 2) { communicator in
            errorMessage(DLError.invalidArgument) { _ = try communicator.broadcast(DLArray([1.0]), from: 3) }
        }
        #expect(error.allSatisfy { $0.contains("root must be a worker index in 1...2, got 3") })
    }

    @Test func reduceCombinesFlags() throws {
        let results = try spmd(workers: 3) { communicator in
            let onlySecond = communicator.index == 2
            return [try communicator.reduce(.or, onlySecond), try communicator.reduce(.and, onlySecond),
                    try communicator.reduce(.and, true), try communicator.reduce(.or, false)]
        }
        #expect(results == Array(repeating: [true, false, true, false], count: 3))
    }

    @Test func barrierWaitsForEveryWorker() throws {
        let arrivals = Counter()
        let seen = try spmd(workers: 3) { communicator in
            if communicator.index == 3 { Thread.sleep(forTimeInterval: 0.2) }
            arrivals.increment()
            try communicator.barrier()
            return arrivals.value
        }
        #expect(seen == [3, 3, 3])
    }

    @Test func containersThatDifferBetweenWorkersThrowOnEveryWorker() throws {
        let extraArray = try spmd(workers: 3) { communicator in
            let arrays = Array(repeating: DLArray([1.0, 2.0]), count: communicator.index == 3 ? 3 : 2)
            return errorMessage(DLError.shapeMismatch) { _ = try communicator.plus(arrays) }
        }
        #expect(extraArray.allSatisfy { $0.contains("plus: worker 3 passed 3 arrays against worker 1's 2") })
        let otherShape = try spmd(workers: 2) { communicator in
            let x = try DLArray([1.0, 2.0, 3.0, 4.0], shape: communicator.index == 1 ? [2, 2] : [4, 1])
            return errorMessage(DLError.shapeMismatch) { _ = try communicator.broadcast([x]) }
        }
        #expect(otherShape.allSatisfy { $0.contains("broadcast: worker 2 passed arrays of other shapes or types than worker 1's") })
        let otherType = try spmd(workers: 2) { communicator in
            let x = communicator.index == 1 ? DLArray([1.0, 2.0]) : DLArray([Float(1), 2])
            return errorMessage(DLError.shapeMismatch) { _ = try communicator.plus(x) }
        }
        #expect(otherType.allSatisfy { $0.contains("worker 2 passed arrays of other shapes or types") })
        let moreElements = try spmd(workers: 2) { communicator in
            errorMessage(DLError.shapeMismatch) { _ = try communicator.plus(DLArray.zeros([communicator.index])) }
        }
        #expect(moreElements.allSatisfy { $0.contains("worker 2 passed 2 elements against worker 1's 1") })
        let flags = try spmd(workers: 2) { communicator in
            errorMessage(DLError.unsupportedType) { _ = try communicator.plus(DLArray([true])) }
        }
        #expect(flags.allSatisfy { $0.contains("plus: array 0 is bool") })
    }

    @Test func aFailingWorkerEndsTheCollectivesOfTheOthers() throws {
        struct Broken: Error {}
        let messages = Messages()
        #expect(throws: Broken.self) {
            _ = try spmd(workers: 3) { communicator in
                if communicator.index == 2 { throw Broken() }
                do {
                    _ = try communicator.plus(DLArray([1.0]))
                } catch let error as DLError {
                    messages.append(error.message)
                    throw error
                }
            }
        }
        #expect(messages.all.count == 2)
        #expect(messages.all.allSatisfy { $0.contains("that worker 2 will not join: worker 2 failed: Broken()") })
    }

    @Test func spmdNeedsAWorker() {
        expectError(containing: "spmd: workers must be at least 1, got 0") { _ = try spmd(workers: 0) { _ in 0 } }
    }
}

/// A count that threads increment.
private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}

/// Messages that threads append.
private final class Messages: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [String] = []
    func append(_ message: String) { lock.lock(); messages.append(message); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return messages }
}
