import CSwiftDLSupport

/// The kernel calls made on one thread while ``dlaccelerate(_:)`` runs a function for the first
/// time with an input pattern: what its cached plan is built from.
///
/// Every ``Kernel`` called at the outermost level (not from inside another kernel) is recorded
/// with the storages it read and the storage it wrote. Storages that no recorded kernel wrote
/// and that are not the function's inputs are constants of the plan. Whatever the capture
/// cannot replay makes it unreplayable, with the reason: storage filled by Swift loops outside
/// a kernel, or an array written in place. Reading a computed array's values into Swift (a
/// branch on a value) is recorded as a guard that the plan checks when it replays; reading
/// indices only to validate them (``DLArray/indexValues(checkedBy:)``) is recorded as their
/// rule, which the plan checks on the new values.
final class KernelCapture {
    /// One recorded kernel call.
    struct Call {
        let kernel: KernelReplay
        /// The kernel, when it can take activations channel-blocked (for the plan's layout pass).
        let blocking: (any ChannelBlockingKernel)?
        /// The element storages read (bases of views), in the kernel's input order.
        let inputs: [Storage]
        let output: Storage
        let outputSpecification: KernelOutput
    }

    /// A value read into Swift after `callCount` calls, and what replaying checks of it.
    struct Read {
        let callCount: Int
        let storage: Storage
        let check: ReadCheck
    }

    /// What a replay checks of a value the function read into Swift.
    enum ReadCheck {
        /// The value must have these bytes again (the function may have branched on them).
        case sameBytes([UInt8])
        /// The value (float64) must keep the rule the function validated it against.
        case indices(IndexRule)
    }

    private(set) var calls: [Call] = []
    private(set) var reads: [Read] = []
    /// Storages written by recorded calls, by identity.
    private var written: Set<ObjectIdentifier> = []
    /// Storages that the function received as inputs, by identity.
    var inputStorages: Set<ObjectIdentifier> = []
    /// How deep in kernel calls this thread is: calls inside a kernel are not recorded.
    var depth = 0
    /// Why the capture cannot be replayed, when it cannot.
    private(set) var unreplayableReason: String?

    /// The capture recording on this thread, if any.
    static var current: KernelCapture? {
        guard let raw = swiftdl_get_current_capture() else { return nil }
        return Unmanaged<KernelCapture>.fromOpaque(raw).takeUnretainedValue()
    }

    /// Makes `capture` the current one of this thread (the caller keeps it alive).
    static func setCurrent(_ capture: KernelCapture?) {
        swiftdl_set_current_capture(capture.map { Unmanaged.passUnretained($0).toOpaque() })
    }

    /// Records a kernel call made at the outermost level.
    func record(_ kernel: some Kernel, inputs: [DLArray], output: Storage, _ specification: KernelOutput) {
        let bases = inputs.map { $0.storage.elementOwner }
        calls.append(Call(kernel: kernel.makeReplay(), blocking: kernel as? any ChannelBlockingKernel, inputs: bases,
                          output: output, outputSpecification: specification))
        written.insert(ObjectIdentifier(output))
    }

    /// Notes storage that Swift code fills outside a kernel.
    func noteUntracedWrite(_ what: String) {
        guard depth == 0, unreplayableReason == nil else { return }
        unreplayableReason = what
    }

    /// Notes that Swift code reads `storage`'s values; a computed or input value becomes a guard.
    func noteRead(_ storage: Storage) {
        guard depth == 0 else { return }
        let base = storage.elementOwner
        let id = ObjectIdentifier(base)
        guard written.contains(id) || inputStorages.contains(id) else { return }
        let bytes = Array(UnsafeRawBufferPointer(start: base.unsafeElements, count: base.count * base.dataType.byteCount))
        reads.append(Read(callCount: calls.count, storage: base, check: .sameBytes(bytes)))
    }

    /// Notes that Swift code reads `storage`'s float64 values only to check them against `rule`;
    /// a computed or input value gets that rule as its check.
    func noteValidation(_ storage: Storage, _ rule: IndexRule) {
        guard depth == 0 else { return }
        let base = storage.elementOwner
        let id = ObjectIdentifier(base)
        guard written.contains(id) || inputStorages.contains(id) else { return }
        reads.append(Read(callCount: calls.count, storage: base, check: .indices(rule)))
    }
}

extension Storage {
    /// The storage that holds the elements: the base of a view, or this storage.
    var elementOwner: Storage { headerPointer.pointee.base ?? self }
}
