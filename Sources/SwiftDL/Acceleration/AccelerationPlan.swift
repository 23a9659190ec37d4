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

    /// One kernel call: its kernel, the values it reads and the value it writes. A class, so
    /// that stepping through the plan retains one reference per call, not each of its parts.
    final class Call {
        let kernel: KernelReplay
        let inputs: [Int]
        let output: Int
        let outputSpecification: KernelOutput
        /// Where this call's input pointers go in the workspace's pointer table.
        let tableOffset: Int

        init(kernel: KernelReplay, inputs: [Int], output: Int, outputSpecification: KernelOutput, tableOffset: Int) {
            (self.kernel, self.inputs, self.output) = (kernel, inputs, output)
            (self.outputSpecification, self.tableOffset) = (outputSpecification, tableOffset)
        }
    }

    /// What the plan does, in order.
    enum Step {
        /// One kernel call.
        case call(Call)
        /// Elementwise calls over the same number of elements, run block by block so that each
        /// block goes through every call while it is in cache.
        case fused([Call], count: Int, grain: Int)
        /// A value the function read into Swift: the call must see the same bytes, or the plan
        /// does not apply (a branch on a value, say) and the function runs eagerly.
        case check(value: Int, bytes: [UInt8])
        /// Indices the function read into Swift to validate them: the call's `count` float64
        /// values must keep `rule`, or the function runs eagerly (and throws its error).
        case validate(value: Int, count: Int, rule: IndexRule)
    }

    /// Elements per block of a fused run: a multiple of every vector width, and small enough
    /// that a block of each value of a chain stays in the first-level cache.
    static let blockSize = 2048

    let places: [Place]
    let steps: [Step]
    /// The value of each flattened output array, with the shape and labels to give it.
    let outputs: [(value: Int, shape: [Int], labels: String)]
    /// The values the arguments fill (value, index of the flattened input), and the values
    /// each replay makes new storage for: the places that change from call to call. Constants
    /// and buffers keep their addresses in a workspace.
    let inputSlots: [(value: Int, input: Int)]
    let outputSlots: [(value: Int, specification: KernelOutput)]
    /// For each of ``outputs``, its index in ``outputSlots`` when a replay makes it anew.
    let outputSlotOfOutput: [Int?]
    let bufferBytes: [Int]
    let tableSize: Int
    /// Kernel calls in the plan (after dead calls are dropped), and how many of them run fused.
    let callCount: Int
    let fusedCallCount: Int

    private let lock = NSLock()
    private var idleWorkspaces: [Workspace] = []

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
        // Values written by calls get a place when written; the others read are constants.
        var producedBy: [Int: Int] = [:]
        var callInputs: [[Int]] = []
        var callOutputs: [Int] = []
        for (index, call) in capture.calls.enumerated() {
            callInputs.append(call.inputs.map { storage in
                if let place = placeOf[ObjectIdentifier(storage)] { return place }
                placeOf[ObjectIdentifier(storage)] = places.count
                places.append(.constant(storage))
                return places.count - 1
            })
            let place = places.count
            placeOf[ObjectIdentifier(call.output)] = place
            places.append(.buffer(-1))
            producedBy[place] = index
            callOutputs.append(place)
        }
        func place(of storage: Storage) -> Int {
            if let place = placeOf[ObjectIdentifier(storage)] { return place }
            placeOf[ObjectIdentifier(storage)] = places.count
            places.append(.constant(storage))
            return places.count - 1
        }
        let outputPlaces = outputs.map { place(of: $0.storage.elementOwner) }
        let checks = capture.reads.map { read -> (callCount: Int, value: Int, step: Step) in
            let value = place(of: read.storage)
            switch read.check {
            case .sameBytes(let bytes): return (read.callCount, value, .check(value: value, bytes: bytes))
            case .indices(let rule): return (read.callCount, value, .validate(value: value, count: read.storage.count, rule: rule))
            }
        }

        // Drop calls whose values reach no output and no check.
        var live = Set(outputPlaces).union(checks.map(\.value))
        var liveCalls = [Bool](repeating: false, count: capture.calls.count)
        for index in capture.calls.indices.reversed() where live.contains(callOutputs[index]) {
            liveCalls[index] = true
            live.formUnion(callInputs[index])
        }

        // Returned values are made fresh for each call; the others share buffers by lifetime.
        for value in outputPlaces {
            if let call = producedBy[value] { places[value] = .output(capture.calls[call].outputSpecification) }
        }

        // Group consecutive elementwise calls over the same element count into fused runs. A
        // value's lifetime is counted in runs, so no buffer is reused inside a run.
        var units: [[Int]] = []
        var unitOfCall = [Int](repeating: -1, count: capture.calls.count)
        var checksAfter: [Int: [Int]] = [:]
        for (k, check) in checks.enumerated() { checksAfter[check.callCount, default: []].append(k) }
        var lastElementwiseCount: Int?
        for index in capture.calls.indices {
            if checksAfter[index] != nil { lastElementwiseCount = nil }
            guard liveCalls[index] else { continue }
            let call = capture.calls[index]
            if let kernel = call.kernel.elementwise, !call.outputSpecification.startsZeroed {
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
        for index in capture.calls.indices where liveCalls[index] {
            for value in callInputs[index] { lastUse[value] = max(lastUse[value] ?? -1, unitOfCall[index]) }
        }
        for check in checks {
            let before = units.firstIndex { $0[0] >= check.callCount } ?? units.count
            lastUse[check.value] = max(lastUse[check.value] ?? -1, before)
        }
        var bufferBytes: [Int] = []
        var free: [Int] = []
        var releases: [Int: [Int]] = [:]
        for (unit, calls) in units.enumerated() {
            for index in calls {
                let value = callOutputs[index]
                guard case .buffer = places[value] else { continue }
                let bytes = capture.calls[index].outputSpecification.byteCount
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
        var tableSize = 0
        func planned(_ index: Int) -> Call {
            defer { tableSize += callInputs[index].count }
            let call = capture.calls[index]
            return Call(kernel: call.kernel, inputs: callInputs[index], output: callOutputs[index],
                        outputSpecification: call.outputSpecification, tableOffset: tableSize)
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
        for calls in units {
            emitChecks(upTo: calls[0])
            if calls.count == 1 {
                steps.append(.call(planned(calls[0])))
            } else {
                let kernels = calls.map { capture.calls[$0].kernel.elementwise! }
                steps.append(.fused(calls.map(planned), count: kernels[0].count, grain: kernels.map(\.grain).min()!))
                fusedCallCount += calls.count
            }
        }
        emitChecks(upTo: Int.max)

        self.places = places
        self.steps = steps
        self.outputs = zip(outputPlaces, outputs).map { ($0, $1.shape, $1.labels) }
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
        outputSlotOfOutput = self.outputs.map { output in outputSlots.firstIndex { $0.value == output.value } }
        self.bufferBytes = bufferBytes
        self.tableSize = tableSize
        self.callCount = liveCalls.filter { $0 }.count
        self.fusedCallCount = fusedCallCount
    }

    /// A check of the plan failed: a value read into Swift differs from the captured one, or
    /// breaks the rule it was validated against.
    struct CheckFailed: Error {
        /// Why, for ``AcceleratedFunction/lastEagerReason``.
        let reason: String
    }

    /// Runs the plan on `inputs` (the flattened input arrays, in capture order).
    /// - Throws: ``CheckFailed`` when a value the function branched on differs.
    func replay(_ inputs: [DLArray]) throws(CheckFailed) -> [DLArray] {
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
        for step in steps {
            switch step {
            case .call(let call):
                let output = pointers[call.output]!
                if call.outputSpecification.startsZeroed {
                    output.initializeMemory(as: UInt8.self, repeating: 0, count: call.outputSpecification.byteCount)
                }
                for (k, value) in call.inputs.enumerated() { table[call.tableOffset + k] = UnsafeRawPointer(pointers[value]!) }
                call.kernel.run(KernelInputs(start: table + call.tableOffset, count: call.inputs.count), output)
            case .fused(let calls, let count, let grain):
                for call in calls {
                    for (k, value) in call.inputs.enumerated() { table[call.tableOffset + k] = UnsafeRawPointer(pointers[value]!) }
                }
                let block = Self.blockSize
                Parallel.forEachChunk(count: count, grain: grain) { range in
                    var start = range.lowerBound
                    while start < range.upperBound {
                        let elements = start ..< min(start + block, range.upperBound)
                        for call in calls {
                            call.kernel.elementwise!.run(KernelInputs(start: table + call.tableOffset, count: call.inputs.count),
                                                         pointers[call.output]!, elements)
                        }
                        start += block
                    }
                }
            case .check(let value, let bytes):
                let same = bytes.withUnsafeBytes { memcmp($0.baseAddress!, pointers[value]!, bytes.count) == 0 }
                if !same { throw CheckFailed(reason: "a value the function read into Swift differs from the traced call's") }
            case .validate(let value, let count, let rule):
                let values = UnsafeBufferPointer(start: pointers[value]!.assumingMemoryBound(to: Double.self), count: count)
                if !values.allSatisfy(rule.admits) {
                    throw CheckFailed(reason: "an index the function validates is not a whole number below \(rule.bound)")
                }
            }
        }
        return outputs.indices.map { index in
            let output = outputs[index]
            let storage: Storage
            switch places[output.value] {
            case .input(let k): storage = inputs[k].storage.elementOwner
            case .constant(let constant): storage = constant
            case .output: storage = made[outputSlotOfOutput[index]!]
            case .buffer: preconditionFailure("a returned value was planned into a shared buffer")
            }
            return DLArray(storage: storage, shape: output.shape, labels: output.labels)
        }
    }

    private func takeWorkspace() -> Workspace {
        lock.lock()
        defer { lock.unlock() }
        if let idle = idleWorkspaces.popLast() { return idle }
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
        idleWorkspaces.append(workspace)
        lock.unlock()
    }
}
