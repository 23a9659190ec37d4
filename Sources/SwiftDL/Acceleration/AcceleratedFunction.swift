import Foundation

/// A function whose traces are cached and replayed, as MATLAB's `deep.AcceleratedFunction`:
/// made by ``dlaccelerate(_:)`` and called through ``dlfeval(_:_:)->Output``.
///
/// The first call with an input pattern runs the function eagerly and records every kernel its
/// forward pass and its `dlgradient` calls run; later calls with the same pattern replay those
/// kernels on the new inputs, with no trace, no closures and no buffers allocated but the
/// outputs'. Chains of elementwise kernels run fused, block by block.
///
/// The pattern is, for each argument, the shapes, element types and labels of its arrays (never
/// their values) and its other contents (numbers, flags, a network's architecture; see
/// ``DLAccelerationKeyed``). What the function does with values it does not receive as
/// arguments is fixed at the first call: a random draw made inside it, an array it captured,
/// a global setting. Pass random numbers in as arguments. Values the function reads into Swift
/// (`scalars(as:)`, a branch on a loss) are checked at each replay, and the function runs
/// eagerly when they differ; indices that operations read only to validate them (`embed`'s
/// words, `gather`'s positions, class indices) are checked against their rule instead, so new
/// indices replay and an invalid one runs eagerly and throws the operation's error. A replay
/// that has already exchanged data with other workers (``synchronizedSum(_:over:share:)``)
/// cannot run again eagerly on one worker alone: a check that fails after such an exchange
/// throws ``DLError/acceleration(_:)`` instead. Set ``checkMode`` to `.tolerance` to compare
/// every replay with an eager run while developing.
///
/// ```swift
/// let accelerated = dlaccelerate(modelLoss)
/// let (loss, gradients) = try dlfeval(accelerated, net, x, t)
/// print(accelerated.hitRate, accelerated.occupancy)
/// ```
public final class AcceleratedFunction<Arguments, Outputs>: @unchecked Sendable {
    /// How replays are checked against eager runs.
    public enum CheckMode: Sendable {
        /// No check.
        case none
        /// Every replay is compared with an eager run of the function: an output that differs by
        /// more than ``checkTolerance`` (relative to the larger magnitude, or absolute below 1)
        /// throws ``DLError/acceleration(_:)``.
        case tolerance
    }

    /// Whether calls replay cached traces; when false every call runs the function eagerly.
    public var enabled: Bool {
        get { locked { isEnabled } }
        set { locked { isEnabled = newValue } }
    }
    /// The most traces kept; the least recently used one is dropped to make room (MATLAB's default, 50).
    public var cacheSize: Int {
        get { locked { capacity } }
        set {
            precondition(newValue >= 1, "cacheSize must be at least 1")
            locked {
                capacity = newValue
                evict()
            }
        }
    }
    /// How replays are checked (MATLAB's `CheckMode`, default `.none`).
    public var checkMode: CheckMode {
        get { locked { mode } }
        set { locked { mode = newValue } }
    }
    /// The largest difference `.tolerance` accepts (MATLAB's `CheckTolerance`, default 1e-4).
    public var checkTolerance: Double {
        get { locked { tolerance } }
        set { locked { tolerance = newValue } }
    }
    /// The percentage of calls through `dlfeval` that replayed a cached trace (0 before any call).
    public var hitRate: Double {
        locked { calls == 0 ? 0 : 100 * Double(hits) / Double(calls) }
    }
    /// The percentage of ``cacheSize`` that cached traces take.
    public var occupancy: Double {
        locked { 100 * Double(entries.count) / Double(capacity) }
    }
    /// The number of cached traces.
    public var cachedTraceCount: Int { locked { entries.count } }

    /// Drops every cached trace and resets ``hitRate``.
    public func clearCache() {
        locked {
            entries = [:]
            lastSlot = nil
            calls = 0
            hits = 0
        }
    }

    /// Why the last call ran eagerly although the function was enabled, if it did: a capture that
    /// cannot be replayed names what it met (storage filled outside a kernel, an array written
    /// in place), a replay whose checked value differed says so.
    public var lastEagerReason: String? { locked { eagerReason } }

    /// The kernel calls in the most recently made trace, and how many of them run fused.
    public var lastTraceCallCounts: (calls: Int, fused: Int)? { locked { lastCounts } }

    /// What the layout pass did in the most recently made trace: the calls that take or give an
    /// activation in oneDNN's blocked layout, and the reorders it inserted (see
    /// ``LayoutAssignment``).
    var lastTraceLayoutCounts: (blocked: Int, reorders: Int)? { locked { lastLayoutCounts } }

    // The function, and what dlaccelerate built to flatten and rebuild its values.
    let eager: (Arguments) throws -> Outputs
    let traced: (Arguments) throws -> Outputs
    let key: (Arguments) -> AccelerationKey
    let matches: (Arguments, AccelerationKey) -> Bool
    let flattenArguments: (Arguments) -> [DLArray]
    let flattenOutputs: (Outputs) -> [DLArray]
    let rebuildOutputs: (Outputs, [DLArray]) -> Outputs

    /// A cached entry: its key, its plan and how to make outputs of the plan's arrays (or why
    /// it runs eagerly), and its last use. A class, so that the last one used is kept at hand
    /// and its use counted without a dictionary lookup; its fields are not generic values, so
    /// reading them needs no type metadata made at run time.
    private final class Slot {
        let key: AccelerationKey
        let plan: AccelerationPlan?
        let rebuild: (([DLArray]) -> Outputs)?
        let eagerReason: String?
        var lastUse: Int

        init(key: AccelerationKey, plan: AccelerationPlan?, rebuild: (([DLArray]) -> Outputs)?, eagerReason: String?,
             lastUse: Int) {
            (self.key, self.plan, self.rebuild, self.eagerReason, self.lastUse) = (key, plan, rebuild, eagerReason, lastUse)
        }
    }

    private let lock = NSLock()
    private var isEnabled = true
    private var capacity = 50
    private var mode = CheckMode.none
    private var tolerance = 1e-4
    private var entries: [AccelerationKey: Slot] = [:]
    /// The entry the last call used: a call with the same pattern finds it by comparing its
    /// arguments with its key, without building and hashing a key.
    private var lastSlot: Slot?
    private var clock = 0
    private var calls = 0
    private var hits = 0
    private var eagerReason: String?
    private var lastCounts: (calls: Int, fused: Int)?
    private var lastLayoutCounts: (blocked: Int, reorders: Int)?

    init(eager: @escaping (Arguments) throws -> Outputs, traced: @escaping (Arguments) throws -> Outputs,
         key: @escaping (Arguments) -> AccelerationKey, matches: @escaping (Arguments, AccelerationKey) -> Bool,
         flattenArguments: @escaping (Arguments) -> [DLArray],
         flattenOutputs: @escaping (Outputs) -> [DLArray], rebuildOutputs: @escaping (Outputs, [DLArray]) -> Outputs) {
        self.eager = eager
        self.traced = traced
        self.key = key
        self.matches = matches
        self.flattenArguments = flattenArguments
        self.flattenOutputs = flattenOutputs
        self.rebuildOutputs = rebuildOutputs
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    private func evict() {
        while entries.count > capacity, let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
            entries.removeValue(forKey: oldest.key)
            if lastSlot === oldest.value { lastSlot = nil }
        }
    }

    /// Runs the function as `dlfeval` does: replays the cached trace for the arguments' pattern,
    /// or runs it traced and caches what it ran.
    func evaluate(_ arguments: Arguments) throws -> Outputs {
        lock.lock()
        let (enabled, last) = (isEnabled, lastSlot)
        lock.unlock()
        guard enabled else { return try traced(arguments) }
        // The last entry used, when the arguments match its key; else the entry of their key.
        var pattern: AccelerationKey?
        if last == nil || !matches(arguments, last!.key) { pattern = key(arguments) }
        lock.lock()
        calls += 1
        clock += 1
        let slot: Slot?
        if pattern == nil, let last, last === lastSlot {
            slot = last
        } else {
            slot = entries[pattern ?? last!.key]
        }
        slot?.lastUse = clock
        if let slot { lastSlot = slot }
        let checking = mode == .tolerance
        if let slot {
            if slot.plan != nil { hits += 1 }
            eagerReason = slot.eagerReason
        }
        lock.unlock()
        guard let slot else { return try capture(arguments, pattern: pattern ?? key(arguments)) }
        if let plan = slot.plan, let rebuild = slot.rebuild {
            let inputs = flattenArguments(arguments)
            do {
                let outputs = rebuild(try plan.replay(inputs))
                if checking { try check(outputs, against: try traced(arguments)) }
                return outputs
            } catch let failed as AccelerationPlan.CheckFailed {
                if failed.afterCollective {
                    throw DLError.acceleration("\(failed.reason) after the replay had exchanged data with the other workers (a synchronized sum); running the function again eagerly would repeat that exchange on this worker alone and leave the workers out of step. Read values into Swift before the function's first synchronized operation, or pass what they decide as an argument")
                }
                locked {
                    hits -= 1
                    eagerReason = failed.reason
                }
                return try traced(arguments)
            }
        }
        return try traced(arguments)
    }

    /// Runs the function traced while recording its kernels, and caches the plan.
    private func capture(_ arguments: Arguments, pattern: AccelerationKey) throws -> Outputs {
        // Inputs that share storage are given their own, so each input is one value of the plan.
        var seen: Set<ObjectIdentifier> = []
        let inputs = flattenArguments(arguments).map { array -> DLArray in
            let owner = array.storage.elementOwner
            if seen.insert(ObjectIdentifier(owner)).inserted { return array }
            return DLArray(storage: owner.copy(), shape: array.shape, labels: array.labels)
        }
        let distinct = rebuildArguments(arguments, inputs)
        let capture = KernelCapture()
        capture.inputStorages = Set(inputs.map { ObjectIdentifier($0.storage.elementOwner) })
        let previous = KernelCapture.current
        KernelCapture.setCurrent(capture)
        let outputs: Outputs
        do {
            defer { KernelCapture.setCurrent(previous) }
            outputs = try traced(distinct)
        }
        let slot: Slot
        if let reason = capture.unreplayableReason {
            slot = Slot(key: pattern, plan: nil, rebuild: nil, eagerReason: reason, lastUse: 0)
        } else {
            let plan = AccelerationPlan(capture: capture, inputs: inputs.map { $0.storage.elementOwner },
                                        outputs: flattenOutputs(outputs))
            let rebuildOutputs = self.rebuildOutputs
            slot = Slot(key: pattern, plan: plan, rebuild: { rebuildOutputs(outputs, $0) }, eagerReason: nil, lastUse: 0)
            locked {
                lastCounts = (plan.callCount, plan.fusedCallCount)
                lastLayoutCounts = (plan.blockedCallCount, plan.reorderCallCount)
            }
        }
        locked {
            slot.lastUse = clock
            entries[pattern] = slot
            lastSlot = slot
            eagerReason = slot.eagerReason
            evict()
        }
        return outputs
    }

    private var rebuildArguments: (Arguments, [DLArray]) -> Arguments { argumentRebuilder }
    var argumentRebuilder: (Arguments, [DLArray]) -> Arguments = { arguments, _ in arguments }

    /// Throws unless `outputs` match `reference` within ``checkTolerance``.
    private func check(_ outputs: Outputs, against reference: Outputs) throws {
        let replayed = flattenOutputs(outputs), eager = flattenOutputs(reference)
        for (index, (a, b)) in zip(replayed, eager).enumerated() {
            guard a.shape == b.shape else {
                throw DLError.acceleration("checkMode: output array \(index) has shape \(a.shape) from the cached trace and \(b.shape) from the function; an argument the cache key does not see changed")
            }
            let x = a.scalars(as: Double.self), y = b.scalars(as: Double.self)
            for i in x.indices {
                let difference = abs(x[i] - y[i]), scale = max(1, abs(x[i]), abs(y[i]))
                if !(difference <= checkTolerance * scale) && !(x[i].isNaN && y[i].isNaN) {
                    throw DLError.acceleration("checkMode: output array \(index), element \(i), is \(x[i]) from the cached trace and \(y[i]) from the function (tolerance \(checkTolerance)); the function depends on something that is not an argument, such as a random draw or a captured array: pass it in as an argument")
                }
            }
        }
    }
}

/// Makes an ``AcceleratedFunction`` of `function`, as MATLAB's `dlaccelerate`: call it with
/// ``dlfeval(_:_:)->Output`` and
/// its traces are cached by input pattern and replayed.
///
/// - Parameter function: a function of arrays and containers of arrays (networks, parameter
///   tables, arrays of them) returning arrays or containers of arrays; it may call `dlgradient`
///   with any of its options.
public func dlaccelerate<each Argument: DLArrayContainer, each Output: DLArrayContainer>(
    _ function: @escaping (repeat each Argument) throws -> (repeat each Output)
) -> AcceleratedFunction<(repeat each Argument), (repeat each Output)> {
    let accelerated = AcceleratedFunction<(repeat each Argument), (repeat each Output)>(
        eager: { arguments in try function(repeat each arguments) },
        traced: { arguments in try dlfeval(function, repeat each arguments) },
        key: { arguments in
            var key = AccelerationKey()
            repeat AccelerationKey.visit(each arguments, &key)
            return key
        },
        matches: { arguments, key in
            var matcher = AccelerationKey.Matcher(key)
            repeat AccelerationKey.visit(each arguments, &matcher)
            return matcher.matches
        },
        flattenArguments: { arguments in
            var arrays: [DLArray] = []
            repeat (each arguments).forEachInputArray { arrays.append($0) }
            return arrays
        },
        flattenOutputs: { outputs in
            var arrays: [DLArray] = []
            repeat (each outputs).forEachArray { arrays.append($0) }
            return arrays
        },
        rebuildOutputs: { template, arrays in
            var iterator = arrays.makeIterator()
            return (repeat (each template).mapArrays { _ in iterator.next()! })
        })
    accelerated.argumentRebuilder = { arguments, arrays in
        var iterator = arrays.makeIterator()
        return (repeat (each arguments).mapInputArrays { _ in iterator.next()! })
    }
    return accelerated
}

/// Evaluates an accelerated function as MATLAB's `dlfeval(accfun, …)`: replays its cached trace
/// for the arguments' pattern, or runs it traced (as ``dlfeval(_:_:)->Result``) and caches what it ran.
/// The results are the function's, untraced.
public func dlfeval<each Argument: DLArrayContainer, each Output: DLArrayContainer>(
    _ function: AcceleratedFunction<(repeat each Argument), (repeat each Output)>,
    _ arguments: repeat each Argument
) throws -> (repeat each Output) {
    try function.evaluate((repeat each arguments))
}

extension AcceleratedFunction {
    /// Runs the function eagerly, without tracing or caching (MATLAB runs an accelerated function
    /// called outside `dlfeval` as the plain function).
    public func callAsFunction<each Argument: DLArrayContainer, each Output: DLArrayContainer>(
        _ arguments: repeat each Argument
    ) throws -> (repeat each Output) where Arguments == (repeat each Argument), Outputs == (repeat each Output) {
        try eager((repeat each arguments))
    }
}
