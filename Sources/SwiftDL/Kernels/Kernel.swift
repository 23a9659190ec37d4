/// Pointers to a kernel's input elements, one per input, in the order the kernel was given them.
typealias KernelInputs = UnsafeBufferPointer<UnsafeRawPointer>

/// What a kernel call writes: `count` elements of `dataType`, set to zero first when
/// `startsZeroed` (kernels that accumulate into their output).
struct KernelOutput: Hashable {
    let count: Int
    let dataType: DLDataType
    var startsZeroed = false

    /// The bytes the output takes.
    var byteCount: Int { count * dataType.byteCount }
}

/// A computation of one array's elements from other arrays' elements, described as data.
///
/// A kernel holds everything it needs but the elements themselves (sizes, strides, the function
/// it applies as a type or a closure of Swift values), and it reads its inputs and writes its
/// output only through the pointers ``run(_:_:)`` receives. Eager code calls it once through
/// ``output(reading:_:)``; while ``dlaccelerate(_:)`` captures a function, each call is also
/// recorded, so that the cached plan can run the same kernel again on other buffers.
protocol Kernel {
    /// Writes the output's elements from the inputs' elements.
    func run(_ inputs: KernelInputs, _ output: UnsafeMutableRawPointer)
    /// This kernel's work as closures made where its type is known (see ``KernelReplay``).
    func makeReplay() -> KernelReplay
}

/// A recorded kernel's work, as closures made when the call is recorded, in code specialized
/// for the kernel's type, so that a replay runs the same machine code as the eager call. (Calling
/// a generic kernel such as an elementwise zip through `any Kernel` runs its unspecialized
/// generic code, with a witness-table call per element: the MLP GAN's accelerated step took 4.5x
/// the eager step's time that way.)
struct KernelReplay {
    /// Runs the whole kernel.
    let run: (KernelInputs, UnsafeMutableRawPointer) -> Void
    /// For an ``ElementwiseKernel``: its element count, grain, and a run over some elements.
    let elementwise: (count: Int, grain: Int, run: (KernelInputs, UnsafeMutableRawPointer, Range<Int>) -> Void)?
    /// For a collective (a kernel that exchanges data with the other workers, see
    /// ``WorkerSumKernel``): takes the error of its last run, if it failed. A plan keeps every
    /// collective, used or not, as every worker must call the same collectives in the same order,
    /// and stops with the error.
    var takeCollectiveError: (() -> (any Error)?)? = nil
}

/// A kernel whose output element `i` depends only on element `i` of each input (or on the single
/// element of a one-element input): a chain of them can run block by block, each block through
/// every kernel of the chain while it is in cache (see ``FusedElementwiseStep``).
protocol ElementwiseKernel: Kernel {
    /// The fewest elements per core worth splitting this kernel for.
    var grain: Int { get }
    /// The number of output elements.
    var count: Int { get }
    /// Writes output elements `elements` from the same elements of the inputs (element 0 of a
    /// one-element input).
    func run(_ inputs: KernelInputs, _ output: UnsafeMutableRawPointer, elements: Range<Int>)
}

extension ElementwiseKernel {
    func makeReplay() -> KernelReplay {
        KernelReplay(run: { self.run($0, $1) },
                     elementwise: (count, grain, { self.run($0, $1, elements: $2) }))
    }

    func run(_ inputs: KernelInputs, _ output: UnsafeMutableRawPointer) {
        Parallel.forEachChunk(count: count, grain: grain) { range in
            run(inputs, output, elements: range)
        }
    }
}

/// A kernel whose work is a closure of Swift values (sizes, strides, layouts): for kernels whose
/// work per call dwarfs the closure's allocation. The closure must read and write elements only
/// through the pointers it receives, never through arrays it captured.
struct ClosureKernel: Kernel {
    let body: (KernelInputs, UnsafeMutableRawPointer) -> Void
    func run(_ inputs: KernelInputs, _ output: UnsafeMutableRawPointer) { body(inputs, output) }
}

extension Kernel {
    func makeReplay() -> KernelReplay { KernelReplay(run: { self.run($0, $1) }, elementwise: nil) }

    /// Runs the kernel on `a` into new storage and returns it.
    @inline(__always)
    func output(reading a: DLArray, _ output: KernelOutput) -> Storage {
        let storage = Storage.kernelOutput(output)
        var pointer = UnsafeRawPointer(a.storage.unsafeElements)
        withUnsafeBytes(of: &pointer) { raw in
            execute(raw.bindMemory(to: UnsafeRawPointer.self), storage, output, [a])
        }
        return storage
    }

    /// Runs the kernel on `a` and `b` into new storage and returns it.
    @inline(__always)
    func output(reading a: DLArray, _ b: DLArray, _ output: KernelOutput) -> Storage {
        let storage = Storage.kernelOutput(output)
        var pointers = (UnsafeRawPointer(a.storage.unsafeElements), UnsafeRawPointer(b.storage.unsafeElements))
        withUnsafeBytes(of: &pointers) { raw in
            execute(raw.bindMemory(to: UnsafeRawPointer.self), storage, output, [a, b])
        }
        return storage
    }

    /// Runs the kernel on any number of inputs into new storage and returns it.
    func output(reading inputs: [DLArray], _ output: KernelOutput) -> Storage {
        let storage = Storage.kernelOutput(output)
        let pointers = inputs.map { UnsafeRawPointer($0.storage.unsafeElements) }
        pointers.withUnsafeBufferPointer { execute($0, storage, output, inputs) }
        return storage
    }

    /// Runs the kernel and, while a capture is recording on this thread, records the call.
    @inline(__always)
    private func execute(_ pointers: KernelInputs, _ storage: Storage, _ output: KernelOutput,
                         _ inputs: @autoclosure () -> [DLArray]) {
        guard let capture = KernelCapture.current else {
            run(pointers, storage.unsafeElements)
            return
        }
        capture.depth += 1
        run(pointers, storage.unsafeElements)
        capture.depth -= 1
        if capture.depth == 0 { capture.record(self, inputs: inputs(), output: storage, output) }
    }
}

extension Storage {
    /// Storage for a kernel's output, zeroed when the kernel accumulates.
    static func kernelOutput(_ output: KernelOutput) -> Storage {
        let storage = unchecked(count: output.count, dataType: output.dataType)
        if output.startsZeroed {
            storage.unsafeElements.initializeMemory(as: UInt8.self, repeating: 0, count: output.byteCount)
        }
        return storage
    }
}
