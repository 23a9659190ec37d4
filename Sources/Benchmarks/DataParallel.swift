import Foundation
import SwiftDL
import SwiftDLMPI

/// A communicator that passes every collective on to another and counts what the calls move:
/// how many all-reduces a training step makes and how many bytes they reduce.
final class CountingCommunicator: DLCommunicator, @unchecked Sendable {
    let base: any DLCommunicator
    private let lock = NSLock()
    private var reductions = 0, reducedBytes = 0

    init(_ base: any DLCommunicator) { self.base = base }

    var index: Int { base.index }
    var count: Int { base.count }

    /// The all-reduces and their bytes since the last call, and starts counting again.
    func takeCounts() -> (reductions: Int, bytes: Int) {
        lock.lock()
        defer { (reductions, reducedBytes) = (0, 0); lock.unlock() }
        return (reductions, reducedBytes)
    }

    func sumInPlace(_ buffer: UnsafeMutableRawBufferPointer, elementType: DLDataType) throws {
        lock.lock()
        reductions += 1
        reducedBytes += buffer.count
        lock.unlock()
        try base.sumInPlace(buffer, elementType: elementType)
    }

    func maximumInPlace(_ values: inout [Int64]) throws {
        lock.lock()
        reductions += 1
        reducedBytes += values.count * MemoryLayout<Int64>.size
        lock.unlock()
        try base.maximumInPlace(&values)
    }

    func broadcastInPlace(_ buffer: UnsafeMutableRawBufferPointer, from root: Int) throws {
        try base.broadcastInPlace(buffer, from: root)
    }

    func barrier() throws { try base.barrier() }
}

/// Worker 1's value, on every worker: the timing loop's decisions (how many calls a run makes)
/// are worker 1's, so that every worker makes the same calls and the collectives pair up.
func agreed(_ value: Double, over communicator: (any DLCommunicator)?) throws -> Double {
    guard let communicator, communicator.count > 1 else { return value }
    return try communicator.broadcast(DLArray([value]), from: 1).scalar(as: Double.self)
}

/// Median microseconds of one in-place all-reduce of `bytes` bytes of float32 over every worker.
func allReduceMicroseconds(bytes: Int, over communicator: any DLCommunicator) throws -> Double {
    var buffer = [Float](repeating: 1, count: max(1, bytes / 4))
    return try buffer.withUnsafeMutableBytes { raw in
        try secondsPerCall(agreeingOver: communicator) {
            try communicator.sumInPlace(raw, elementType: .float32)
        } * 1e6
    }
}
