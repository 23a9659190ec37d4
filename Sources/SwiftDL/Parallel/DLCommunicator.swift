/// A group of workers that train one model together, each on its part of every mini-batch,
/// with MATLAB's `spmd` vocabulary: ``index`` (`spmdIndex`, from 1), ``count`` (`numlabs`),
/// ``plus(_:)`` (`spmdPlus`), ``reduce(_:_:)`` (`spmdReduce` of a logical operation),
/// ``broadcast(_:from:)`` (`spmdBroadcast`) and ``barrier()`` (`spmdBarrier`).
///
/// Every worker calls the same collectives in the same order with arrays of the same
/// shapes and types; a collective returns on a worker once every worker has called it. Two
/// implementations: ``DLThreadCommunicator`` (workers are threads of one process, see
/// ``spmd(workers:_:)``) and `MPICommunicator` in the `SwiftDLMPI` module (workers are MPI
/// processes, launched by `mpirun` or `srun`, on one machine or many).
///
/// A communicator implements four primitive collectives over plain memory; the container
/// collectives are built on them. ``plus(_:)`` packs all the arrays of a container into
/// one contiguous buffer per element precision and reduces it with one call (Horovod's tensor
/// fusion), after checking with one small reduction that every worker passed arrays of the
/// same structure.
///
/// ```swift
/// let results = try spmd(workers: 3) { communicator in
///     let share = try DLArray([Double(communicator.index)])
///     return try communicator.plus(share).scalar(as: Double.self)   // 1 + 2 + 3 on every worker
/// }
/// // results == [6, 6, 6]
/// ```
public protocol DLCommunicator: Sendable {
    /// This worker's number, from 1 to ``count`` (MATLAB's `spmdIndex`).
    var index: Int { get }
    /// The number of workers (MATLAB's `spmdSize`).
    var count: Int { get }

    /// Replaces `buffer`, `elementType` elements (`float32` or `float64`), by the elementwise
    /// sum of every worker's buffer (an in-place all-reduce); every worker passes a buffer of
    /// the same size.
    /// - Throws: ``DLError/communication(_:)`` when a worker failed or left the group.
    func sumInPlace(_ buffer: UnsafeMutableRawBufferPointer, elementType: DLDataType) throws

    /// Replaces `values` by the elementwise maximum over every worker's values; every worker
    /// passes as many values.
    /// - Throws: ``DLError/communication(_:)`` when a worker failed or left the group.
    func maximumInPlace(_ values: inout [Int64]) throws

    /// Replaces `buffer` on every worker by the bytes of worker `root`'s buffer; every worker
    /// passes a buffer of the same size.
    /// - Throws: ``DLError/communication(_:)`` when a worker failed or left the group.
    func broadcastInPlace(_ buffer: UnsafeMutableRawBufferPointer, from root: Int) throws

    /// Returns once every worker has called it (MATLAB's `spmdBarrier`).
    /// - Throws: ``DLError/communication(_:)`` when a worker failed or left the group.
    func barrier() throws
}

/// A logical operation that ``DLCommunicator/reduce(_:_:)`` combines the workers' flags with.
public enum DLLogicalReduction: Sendable {
    /// True when every worker's flag is true.
    case and
    /// True when any worker's flag is true.
    case or
}

extension DLCommunicator {
    /// Whether this worker is worker 1, the one that writes files and prints progress.
    public var isFirst: Bool { index == 1 }

    /// The sum over the workers of an array, or of every array of a container such as a
    /// gradient table (MATLAB's `spmdPlus`), on every worker, with the shapes and labels given. The arrays are packed
    /// into one contiguous buffer per precision and reduced in one call; the results are
    /// plain values, not traced. With ``DLThreadCommunicator`` the sum is taken in worker
    /// order, `((x₁ + x₂) + x₃) + …`; MPI chooses its own order, so sums may differ from it
    /// in the last bits.
    ///
    /// - Throws: ``DLError/shapeMismatch(_:)`` naming the first worker whose container differs
    ///   from worker 1's (number of arrays, or a shape or type); ``DLError/unsupportedType(_:)``
    ///   for `bool` arrays; ``DLError/communication(_:)`` when a worker failed.
    public func plus<Container: DLArrayContainer>(_ container: Container) throws -> Container {
        let arrays = container.flattenedArrays
        try requireSameStructure(arrays, operation: "plus")
        if let k = arrays.firstIndex(where: { $0.dataType == .bool }) {
            throw DLError.unsupportedType("plus: array \(k) is bool; convert flags to float32 or use reduce(.and/.or, flag)")
        }
        var results = arrays
        for precision in [DLDataType.float32, .float64] {
            let members = arrays.indices.filter { arrays[$0].dataType.realType == precision }
            guard !members.isEmpty else { continue }
            let fused = FusedBuffer(members.map { arrays[$0] })
            try sumInPlace(fused.bytes, elementType: precision)
            for (member, value) in zip(members, fused.unpacked()) { results[member] = value }
        }
        return container.replacingArrays(with: results)
    }

    /// Worker `root`'s `container`, on every worker (MATLAB's `spmdBroadcast`): the
    /// arrays are sent in one buffer, as plain values with their labels. Used to start every
    /// worker from worker 1's initial parameters.
    ///
    /// - Throws: ``DLError/invalidArgument(_:)`` for a root outside 1…count;
    ///   ``DLError/shapeMismatch(_:)`` when the workers' containers differ in structure;
    ///   ``DLError/communication(_:)`` when a worker failed.
    public func broadcast<Container: DLArrayContainer>(_ container: Container, from root: Int = 1) throws -> Container {
        guard (1...count).contains(root) else {
            throw DLError.invalidArgument("broadcast: root must be a worker index in 1...\(count), got \(root)")
        }
        let arrays = container.flattenedArrays
        try requireSameStructure(arrays, operation: "broadcast")
        let fused = FusedBuffer(arrays)
        try broadcastInPlace(fused.bytes, from: root)
        return container.replacingArrays(with: fused.unpacked())
    }

    /// The workers' flags combined by `operation` (MATLAB's `spmdReduce(@and, flag)` and
    /// `spmdReduce(@or, flag)`), on every worker: for example, whether every worker still has
    /// data, or whether any worker's loss is not finite.
    /// - Throws: ``DLError/communication(_:)`` when a worker failed.
    public func reduce(_ operation: DLLogicalReduction, _ flag: Bool) throws -> Bool {
        // or is the maximum of the flags; and is one minus the maximum of their negations.
        var values: [Int64] = [operation == .or ? (flag ? 1 : 0) : (flag ? 0 : 1)]
        try maximumInPlace(&values)
        return operation == .or ? values[0] == 1 : values[0] == 0
    }

    /// Every worker's `values`, worker by worker: `result[w - 1]` is worker `w`'s.
    func gathered(_ values: [Int64]) throws -> [[Int64]] {
        var all = [Int64](repeating: .min, count: values.count * count)
        all.replaceSubrange((index - 1) * values.count ..< index * values.count, with: values)
        try maximumInPlace(&all)
        return (0..<count).map { Array(all[$0 * values.count ..< ($0 + 1) * values.count]) }
    }

    /// Throws on every worker, naming the first worker whose arrays differ from worker 1's,
    /// unless every worker holds arrays of the same count, shapes and types.
    func requireSameStructure(_ arrays: [DLArray], operation: String) throws {
        let summary = StructureSummary(arrays)
        let all = try gathered(summary.values)
        guard let different = all.firstIndex(where: { $0 != all[0] }) else { return }
        let first = StructureSummary(values: all[0]), other = StructureSummary(values: all[different])
        let difference = first.arrayCount != other.arrayCount
            ? "\(other.arrayCount) arrays against worker 1's \(first.arrayCount)"
            : first.elementCount != other.elementCount
                ? "\(other.elementCount) elements against worker 1's \(first.elementCount)"
                : "arrays of other shapes or types than worker 1's"
        let mine = index == different + 1 || index == 1 ? " (this worker's: \(summary.shapes))" : ""
        throw DLError.shapeMismatch("""
            \(operation): worker \(different + 1) passed \(difference)\(mine); every worker must pass \
            containers of the same structure (the same arrays, shapes and types in the same order)
            """)
    }
}

/// What the workers compare before a collective: the number of arrays, of elements, and a
/// hash of every array's type and shape.
private struct StructureSummary {
    let arrayCount: Int64, elementCount: Int64, hash: Int64
    var shapes = ""

    init(_ arrays: [DLArray]) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325   // FNV-1a over the types and shapes
        func mix(_ value: Int) {
            hash = (hash ^ UInt64(truncatingIfNeeded: value)) &* 0x0000_0100_0000_01b3
        }
        for array in arrays {
            mix(DLDataType.allCases.firstIndex(of: array.dataType)!)
            mix(array.rank)
            array.shape.forEach(mix)
        }
        arrayCount = Int64(arrays.count)
        elementCount = Int64(arrays.reduce(0) { $0 + $1.count })
        self.hash = Int64(bitPattern: hash & 0x7fff_ffff_ffff_ffff)
        shapes = arrays.map { "\($0.dataType) \($0.shape)" }.joined(separator: ", ")
    }

    init(values: [Int64]) { (arrayCount, elementCount, hash) = (values[0], values[1], values[2]) }

    var values: [Int64] { [arrayCount, elementCount, hash] }
}

/// The elements of several arrays one after another in one buffer (Horovod's fusion buffer),
/// and the arrays read back from it with their shapes and labels.
struct FusedBuffer {
    private let storage: Storage
    private let layout: [(shape: [Int], labels: String, dataType: DLDataType, offset: Int, byteCount: Int)]

    init(_ arrays: [DLArray]) {
        var offset = 0
        layout = arrays.map { array in
            let byteCount = array.count * array.dataType.byteCount
            defer { offset += (byteCount + 7) / 8 * 8 }
            return (array.shape, array.labels, array.dataType, offset, byteCount)
        }
        storage = Storage.zeroed(count: offset, dataType: .bool)
        for (array, entry) in zip(arrays, layout) {
            (storage.rawPointer + entry.offset).copyMemory(from: array.storage.rawPointer, byteCount: entry.byteCount)
        }
    }

    /// The packed bytes; arrays of one precision leave no gap between them when each holds a
    /// multiple of 8 bytes, and gaps are zero-filled padding otherwise.
    var bytes: UnsafeMutableRawBufferPointer {
        let end = layout.last.map { $0.offset + ($0.byteCount + 7) / 8 * 8 } ?? 0
        return UnsafeMutableRawBufferPointer(start: storage.rawPointer, count: end)
    }

    /// The arrays, read back from the buffer.
    func unpacked() -> [DLArray] {
        layout.map { entry in
            let elements = Storage.allocate(count: entry.byteCount / entry.dataType.byteCount, dataType: entry.dataType)
            elements.rawPointer.copyMemory(from: storage.rawPointer + entry.offset, byteCount: entry.byteCount)
            return DLArray(storage: elements, shape: entry.shape, labels: entry.labels)
        }
    }
}
