import Foundation

/// A function captured by ``dlaccelerate(_:)`` for one input pattern, as data: the kernel calls of
/// its forward and backward passes in the order they ran, the buffers they use, and the guards
/// on values the function read into Swift. Replaying it runs the same kernels on new inputs with
/// no trace, no closures made and no buffers allocated but the outputs' own.
final class AccelerationPlan: @unchecked Sendable {
    /// Where a value lives when the plan runs.
    enum Place {
        /// Input array `k` of the call.
        case input(Int)
        /// An array that does not depend on the inputs, kept from the capture.
        case constant(Storage)
        /// A buffer of the workspace, reused by values whose lifetimes do not overlap.
        case buffer(Int)
        /// A new storage made for each call: the value is returned.
        case output(KernelOutput)
    }

    /// A recorded kernel's work, held by the plan (``kernels``) and reached from its calls
    /// without reference counting.
    final class KernelWork {
        /// The kernel's whole work.
        let run: (KernelInputs, UnsafeMutableRawPointer) -> Void
        /// An elementwise kernel's work over some elements.
        let runElements: ((KernelInputs, UnsafeMutableRawPointer, Range<Int>) -> Void)?
        /// A collective's error of its last run (see ``KernelReplay/takeCollectiveError``).
        let takeCollectiveError: (() -> (any Error)?)?

        init(_ replay: KernelReplay) {
            (run, runElements, takeCollectiveError) = (replay.run, replay.elementwise?.run, replay.takeCollectiveError)
        }
    }

    /// One kernel call: its kernel's work, the values it reads and the value it writes.
    struct Call {
        /// The kernel's work, owned by the plan's ``kernels``.
        let kernel: Unmanaged<KernelWork>
        /// Where this call's input pointers go in the workspace's pointer table, and where its
        /// input values are in ``inputValues``.
        let tableOffset: Int
        let inputCount: Int
        let output: Int
        /// The bytes of the output set to zero before the call (kernels that accumulate), or 0.
        let zeroedBytes: Int
    }

    /// What the plan does, in order: plain values (indices into the plan's tables), so that
    /// stepping through the plan copies no references.
    enum Step {
        /// Kernel call `k` of ``calls``.
        case call(Int)
        /// Elementwise calls over the same number of elements, run block by block so that each
        /// block goes through every call while it is in cache.
        case fused(Range<Int>, count: Int, grain: Int)
        /// A value the function read into Swift: the call must see the bytes ``checkedBytes``
        /// holds at `bytes`, or the plan does not apply (a branch on a value, say) and the
        /// function runs eagerly.
        case check(value: Int, bytes: Int)
        /// Indices the function read into Swift to validate them: the call's `count` float64
        /// values must keep `rule`, or the function runs eagerly (and throws its error).
        case validate(value: Int, count: Int, rule: IndexRule)
    }

    /// Elements per block of a fused run: a multiple of every vector width, and small enough
    /// that a block of each value of a chain stays in the first-level cache.
    static let blockSize = 2048

    let places: [Place]
    let steps: [Step]
    /// The kernel calls, in the order the steps run them, and their kernels' work.
    let calls: [Call]
    let kernels: [KernelWork]
    /// The values each call reads, at its table offset.
    let inputValues: [Int]
    /// The bytes that ``Step/check(value:bytes:)`` steps compare.
    let checkedBytes: [[UInt8]]
    /// Where each of ``outputs`` comes from on a replay.
    private let outputSources: [OutputSource]
    /// The value of each flattened output array, with the shape and labels to give it.
    let outputs: [(value: Int, shape: [Int], labels: String)]
    /// The values the arguments fill (value, index of the flattened input), and the values
    /// each replay makes new storage for: the places that change from call to call. Constants
    /// and buffers keep their addresses in a workspace.
    let inputSlots: [(value: Int, input: Int)]
    let outputSlots: [(value: Int, specification: KernelOutput)]
    let bufferBytes: [Int]
    let tableSize: Int
    /// Kernel calls in the plan (after dead calls are dropped), and how many of them run fused.
    let callCount: Int
    let fusedCallCount: Int
    /// Calls that take or give an activation channel-blocked, and the reorders inserted for them
    /// (see ``LayoutAssignment``).
    let blockedCallCount: Int
    let reorderCallCount: Int

    /// Where a returned array's storage comes from on a replay.
    private enum OutputSource {
        case input(Int)
        case constant(Storage)
        case made(Int)
    }

    private let lock = NSLock()
    /// Workspaces not in use: one kept at hand, more when several threads replayed at once.
    private var idleWorkspace: Workspace?
    private var moreIdleWorkspaces: [Workspace] = []

    /// The buffers and pointer tables of one running replay.
    final class Workspace {
        let buffers: [UnsafeMutableRawPointer]
        let pointers: UnsafeMutablePointer<UnsafeMutableRawPointer?>
        let table: UnsafeMutablePointer<UnsafeRawPointer>
        let placeCount: Int

        init(bufferBytes: [Int], placeCount: Int, tableSize: Int) {
            buffers = bufferBytes.map { UnsafeMutableRawPointer.allocate(byteCount: max($0, 8), alignment: 64) }
            pointers = .allocate(capacity: max(placeCount, 1))
            pointers.initialize(repeating: nil, count: max(placeCount, 1))
            table = .allocate(capacity: max(tableSize, 1))
            self.placeCount = placeCount
        }

        deinit {
            for buffer in buffers { buffer.deallocate() }
            pointers.deallocate()
            table.deallocate()
        }
    }

    /// The plan of a finished capture whose inputs were `inputs` and whose outputs are `outputs`.
    init(capture: KernelCapture, inputs: [Storage], outputs: [DLArray]) {
        var placeOf: [ObjectIdentifier: Int] = [:]
        var places: [Place] = []
        for (k, input) in inputs.enumerated() where placeOf[ObjectIdentifier(input)] == nil {
            placeOf[ObjectIdentifier(input)] = places.count
            places.append(.input(k))
        }
        func place(of storage: Storage) -> Int {
            if let place = placeOf[ObjectIdentifier(storage)] { return place }
            placeOf[ObjectIdentifier(storage)] = places.count
            places.append(.constant(storage))
            return places.count - 1
        }
        // Values written by calls get a place when written; the others read are constants.
        var program: [PlannedCall] = []
        for (index, call) in capture.calls.enumerated() {
            let inputs = call.inputs.map(place(of:))
            placeOf[ObjectIdentifier(call.output)] = places.count
            places.append(.buffer(-1))
            program.append(PlannedCall(kernel: call.kernel, blocking: call.blocking, inputs: inputs, output: places.count - 1,
                                       specification: call.outputSpecification, origin: index))
        }
        let outputPlaces = outputs.map { place(of: $0.storage.elementOwner) }
        var checkedBytes: [[UInt8]] = []
        let checks = capture.reads.map { read -> (callCount: Int, value: Int, step: Step) in
            let value = place(of: read.storage)
            switch read.check {
            case .sameBytes(let bytes):
                checkedBytes.append(bytes)
                return (read.callCount, value, .check(value: value, bytes: checkedBytes.count - 1))
            case .indices(let rule):
                return (read.callCount, value, .validate(value: value, count: read.storage.count, rule: rule))
            }
        }

        // Drop calls whose values reach no output and no check; keep activations passed between
        // channel-blocking kernels in their blocked layout (which may leave plain values unread).
        let needed = Set(outputPlaces).union(checks.map(\.value))
        program = Self.liveCalls(program, needed: needed)
        program = Self.liveCalls(LayoutAssignment.assign(program, places: &places, plainOnly: needed), needed: needed)

        // Returned values are made fresh for each call; the others share buffers by lifetime.
        var producedBy: [Int: Int] = [:]
        for (index, call) in program.enumerated() { producedBy[call.output] = index }
        for value in outputPlaces {
            if let call = producedBy[value] { places[value] = .output(program[call].specification) }
        }

        // Group consecutive elementwise calls over the same element count into fused runs, but
        // not across a check. A value's lifetime is counted in runs, so no buffer is reused inside
        // a run.
        var units: [[Int]] = []
        var unitOfCall = [Int](repeating: -1, count: program.count)
        var lastElementwiseCount: Int?
        var previousOrigin = -1
        for (index, call) in program.enumerated() {
            if checks.contains(where: { previousOrigin < $0.callCount && $0.callCount <= call.origin }) { lastElementwiseCount = nil }
            previousOrigin = call.origin
            if let kernel = call.kernel.elementwise, !call.specification.startsZeroed {
                if lastElementwiseCount == kernel.count, !units.isEmpty {
                    units[units.count - 1].append(index)
                } else {
                    units.append([index])
                }
                lastElementwiseCount = kernel.count
            } else {
                units.append([index])
                lastElementwiseCount = nil
            }
            unitOfCall[index] = units.count - 1
        }

        // Buffers: each intermediate value takes a free buffer at its producing run and frees
        // it after the last run that reads it (best fit by size). A checked value lives until
        // the run its check comes before (or to the end), so no run before the check reuses it.
        var lastUse: [Int: Int] = [:]
        for (index, call) in program.enumerated() {
            for value in call.inputs { lastUse[value] = max(lastUse[value] ?? -1, unitOfCall[index]) }
        }
        for check in checks {
            let before = units.firstIndex { program[$0[0]].origin >= check.callCount } ?? units.count
            lastUse[check.value] = max(lastUse[check.value] ?? -1, before)
        }
        var bufferBytes: [Int] = []
        var free: [Int] = []
        var releases: [Int: [Int]] = [:]
        for (unit, members) in units.enumerated() {
            for index in members {
                let value = program[index].output
                guard case .buffer = places[value] else { continue }
                let bytes = program[index].specification.byteCount
                let fit = free.filter { bufferBytes[$0] >= bytes }.min { bufferBytes[$0] < bufferBytes[$1] }
                let buffer: Int
                if let fit {
                    buffer = fit
                    free.removeAll { $0 == fit }
                } else if let largest = free.max(by: { bufferBytes[$0] < bufferBytes[$1] }) {
                    buffer = largest
                    bufferBytes[largest] = bytes
                    free.removeAll { $0 == largest }
                } else {
                    buffer = bufferBytes.count
                    bufferBytes.append(bytes)
                }
                places[value] = .buffer(buffer)
                // A value nothing reads (a live call's output is always read) frees at once.
                releases[max(lastUse[value] ?? unit, unit), default: []].append(buffer)
            }
            free += releases.removeValue(forKey: unit) ?? []
        }

        // The steps, with each call's slice of the pointer table.
        var calls: [Call] = []
        var kernels: [KernelWork] = []
        var inputValues: [Int] = []
        func planned(_ index: Int) -> Int {
            let call = program[index]
            kernels.append(KernelWork(call.kernel))
            calls.append(Call(kernel: .passUnretained(kernels[kernels.count - 1]), tableOffset: inputValues.count,
                              inputCount: call.inputs.count, output: call.output,
                              zeroedBytes: call.specification.startsZeroed ? call.specification.byteCount : 0))
            inputValues += call.inputs
            return calls.count - 1
        }
        var steps: [Step] = []
        var fusedCallCount = 0
        var nextCheck = 0
        let orderedChecks = checks.enumerated().sorted { ($0.element.callCount, $0.offset) < ($1.element.callCount, $1.offset) }.map(\.element)
        func emitChecks(upTo callCount: Int) {
            while nextCheck < orderedChecks.count, orderedChecks[nextCheck].callCount <= callCount {
                steps.append(orderedChecks[nextCheck].step)
                nextCheck += 1
            }
        }
        for unit in units {
            emitChecks(upTo: program[unit[0]].origin)
            if unit.count == 1 {
                steps.append(.call(planned(unit[0])))
            } else {
                let elementwise = unit.map { program[$0].kernel.elementwise! }
                let indices = unit.map(planned)
                steps.append(.fused(indices[0] ..< indices[indices.count - 1] + 1, count: elementwise[0].count,
                                    grain: elementwise.map(\.grain).min()!))
                fusedCallCount += unit.count
            }
        }
        emitChecks(upTo: Int.max)

        self.places = places
        self.steps = steps
        self.calls = calls
        self.kernels = kernels
        self.inputValues = inputValues
        self.checkedBytes = checkedBytes
        let planOutputs = zip(outputPlaces, outputs).map { (value: $0, shape: $1.shape, labels: $1.labels) }
        self.outputs = planOutputs
        var inputSlots: [(value: Int, input: Int)] = [], outputSlots: [(value: Int, specification: KernelOutput)] = []
        for (value, place) in places.enumerated() {
            switch place {
            case .input(let k): inputSlots.append((value, k))
            case .output(let specification): outputSlots.append((value, specification))
            case .constant, .buffer: break
            }
        }
        self.inputSlots = inputSlots
        self.outputSlots = outputSlots
        outputSources = planOutputs.map { output in
            switch places[output.value] {
            case .input(let k): .input(k)
            case .constant(let constant): .constant(constant)
            case .output: .made(outputSlots.firstIndex { $0.value == output.value }!)
            case .buffer: preconditionFailure("a returned value was planned into a shared buffer")
            }
        }
        self.bufferBytes = bufferBytes
        self.tableSize = inputValues.count
        self.callCount = program.count
        self.blockedCallCount = program.filter(\.takesBlocked).count
        self.reorderCallCount = program.filter(\.isReorder).count
        self.fusedCallCount = fusedCallCount
    }

    /// The calls of `program` whose values reach `needed`, and the collectives (which every worker
    /// calls, used or not), in order.
    private static func liveCalls(_ program: [PlannedCall], needed: Set<Int>) -> [PlannedCall] {
        var live = needed
        var keep = [Bool](repeating: false, count: program.count)
        for index in program.indices.reversed()
        where live.contains(program[index].output) || program[index].kernel.takeCollectiveError != nil {
            keep[index] = true
            live.formUnion(program[index].inputs)
        }
        return program.indices.filter { keep[$0] }.map { program[$0] }
    }

    /// A check of the plan failed: a value read into Swift differs from the captured one, or
    /// breaks the rule it was validated against.
    struct CheckFailed: Error {
        /// Why, for ``AcceleratedFunction/lastEagerReason``.
        let reason: String
        /// Whether the replay had already exchanged data with the other workers (a collective
        /// kernel ran before the check): running the function again eagerly would then repeat
        /// that exchange on this worker alone.
        var afterCollective = false
    }

    /// Runs the plan on `inputs` (the flattened input arrays, in capture order).
    /// - Throws: ``CheckFailed`` when a value the function branched on differs (saying whether a
    ///   collective had already run); a collective's error (``DLError/communication(_:)``) when
    ///   an exchange with the other workers failed.
    func replay(_ inputs: [DLArray]) throws -> [DLArray] {
        let workspace = takeWorkspace()
        defer { giveBack(workspace) }
        let pointers = workspace.pointers
        for slot in inputSlots { pointers[slot.value] = inputs[slot.input].storage.unsafeElements }
        var made: [Storage] = []
        made.reserveCapacity(outputSlots.count)
        for slot in outputSlots {
            let storage = Storage.unchecked(count: slot.specification.count, dataType: slot.specification.dataType)
            made.append(storage)
            pointers[slot.value] = storage.unsafeElements
        }
        let table = workspace.table
        let (calls, inputValues) = (self.calls, self.inputValues)
        var collectiveRan = false
        /// Fills call `k`'s slice of the pointer table.
        @inline(__always) func fillTable(_ k: Int) {
            let offset = calls[k].tableOffset
            for i in offset ..< offset + calls[k].inputCount { table[i] = UnsafeRawPointer(pointers[inputValues[i]]!) }
        }
        for step in steps {
            switch step {
            case .call(let k):
                let output = pointers[calls[k].output]!
                if calls[k].zeroedBytes > 0 { output.initializeMemory(as: UInt8.self, repeating: 0, count: calls[k].zeroedBytes) }
                fillTable(k)
                let inputs = KernelInputs(start: table + calls[k].tableOffset, count: calls[k].inputCount)
                try calls[k].kernel._withUnsafeGuaranteedRef { kernel in
                    kernel.run(inputs, output)
                    if let takeError = kernel.takeCollectiveError {
                        collectiveRan = true
                        if let error = takeError() { throw error }
                    }
                }
            case .fused(let range, let count, let grain):
                for k in range { fillTable(k) }
                let block = Self.blockSize
                Parallel.forEachChunk(count: count, grain: grain) { chunk in
                    var start = chunk.lowerBound
                    while start < chunk.upperBound {
                        let elements = start ..< min(start + block, chunk.upperBound)
                        for k in range {
                            let (inputs, output) = (KernelInputs(start: table + calls[k].tableOffset, count: calls[k].inputCount),
                                                    pointers[calls[k].output]!)
                            calls[k].kernel._withUnsafeGuaranteedRef { $0.runElements!(inputs, output, elements) }
                        }
                        start += block
                    }
                }
            case .check(let value, let bytes):
                let same = checkedBytes[bytes].withUnsafeBytes { memcmp($0.baseAddress!, pointers[value]!, $0.count) == 0 }
                if !same {
                    throw CheckFailed(reason: "a value the function read into Swift differs from the traced call's",
                                      afterCollective: collectiveRan)
                }
            case .validate(let value, let count, let rule):
                let values = UnsafeBufferPointer(start: pointers[value]!.assumingMemoryBound(to: Double.self), count: count)
                if !values.allSatisfy(rule.admits) {
                    throw CheckFailed(reason: "an index the function validates is not a whole number below \(rule.bound)",
                                      afterCollective: collectiveRan)
                }
            }
        }
        var results: [DLArray] = []
        results.reserveCapacity(outputs.count)
        for (output, source) in zip(outputs, outputSources) {
            let storage: Storage
            switch source {
            case .input(let k): storage = inputs[k].storage.elementOwner
            case .constant(let constant): storage = constant
            case .made(let slot): storage = made[slot]
            }
            results.append(DLArray(storage: storage, shape: output.shape, labels: output.labels))
        }
        return results
    }

    private func takeWorkspace() -> Workspace {
        lock.lock()
        defer { lock.unlock() }
        if let idle = idleWorkspace {
            idleWorkspace = nil
            return idle
        }
        if let idle = moreIdleWorkspaces.popLast() { return idle }
        let workspace = Workspace(bufferBytes: bufferBytes, placeCount: places.count, tableSize: tableSize)
        for (value, place) in places.enumerated() {
            switch place {
            case .constant(let storage): workspace.pointers[value] = storage.unsafeElements
            case .buffer(let buffer): workspace.pointers[value] = buffer >= 0 ? workspace.buffers[buffer] : nil
            case .input, .output: break
            }
        }
        return workspace
    }

    private func giveBack(_ workspace: Workspace) {
        lock.lock()
        if idleWorkspace == nil { idleWorkspace = workspace } else { moreIdleWorkspaces.append(workspace) }
        lock.unlock()
    }
}
