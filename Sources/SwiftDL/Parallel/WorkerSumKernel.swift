import Foundation

/// The sum over the workers of an array's elements, as a kernel: copies its input to its output
/// and sums the output over the workers in place (``DLCommunicator/sumInPlace(_:elementType:)``).
///
/// Being a kernel, the collective is recorded when ``dlaccelerate(_:)`` captures a function and
/// called again, in its place among the other kernels, when the plan replays: a data-parallel
/// worker's pass with synchronized batch normalization replays with the exchange inside it. Every
/// worker's plan calls the same collectives in the same order, as its eager pass does. The plan
/// calls the communicator it was captured with, so a function with collectives is accelerated
/// once per worker (each worker's own ``AcceleratedFunction``).
///
/// A kernel cannot throw: a failed exchange (a worker that left) is kept, and thrown by
/// ``DLCommunicator/workerSum(_:)`` after the eager call or by the plan after the replayed call.
struct WorkerSumKernel: Kernel {
    let communicator: any DLCommunicator
    let byteCount: Int
    let elementType: DLDataType
    /// The error of the last run, if it failed.
    let failure = Failure()

    /// Where a run keeps its error until the caller takes it.
    final class Failure: @unchecked Sendable {
        private let lock = NSLock()
        private var error: (any Error)?

        func keep(_ error: any Error) {
            lock.lock()
            self.error = error
            lock.unlock()
        }

        func take() -> (any Error)? {
            lock.lock()
            defer { lock.unlock() }
            let error = self.error
            self.error = nil
            return error
        }
    }

    func run(_ inputs: KernelInputs, _ output: UnsafeMutableRawPointer) {
        output.copyMemory(from: inputs[0], byteCount: byteCount)
        do {
            try communicator.sumInPlace(UnsafeMutableRawBufferPointer(start: output, count: byteCount), elementType: elementType)
        } catch {
            failure.keep(error)
        }
    }

    func makeReplay() -> KernelReplay {
        let failure = self.failure
        var replay = KernelReplay(run: { self.run($0, $1) }, elementwise: nil)
        replay.takeCollectiveError = { failure.take() }
        return replay
    }
}

extension DLCommunicator {
    /// The sum over the workers of `x` (plain values, `x`'s shape and labels) by a
    /// ``WorkerSumKernel``: the collective of traced computations, which an accelerated function
    /// replays. Every worker passes an array of the same shape and real type (float32 or float64).
    /// - Throws: ``DLError/unsupportedType(_:)`` for complex or bool arrays; ``DLError/communication(_:)``
    ///   when a worker failed.
    func workerSum(_ x: DLArray) throws -> DLArray {
        guard x.dataType == .float32 || x.dataType == .float64 else {
            throw DLError.unsupportedType("workerSum: the workers sum float32 or float64 arrays, not \(x.dataType)")
        }
        let values = extractdata(x)
        let kernel = WorkerSumKernel(communicator: self, byteCount: x.count * x.dataType.byteCount, elementType: x.dataType)
        let output = kernel.output(reading: values, KernelOutput(count: x.count, dataType: x.dataType))
        if let error = kernel.failure.take() { throw error }
        return DLArray(storage: output, shape: x.shape, labels: x.labels)
    }
}
