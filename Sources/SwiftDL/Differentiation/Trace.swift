import RealModule
import CSwiftDLSupport

/// A set of flags saying which inputs of an operation need a gradient in the current backward pass.
///
/// A derivative rule skips the work for an input whose flag is off (a constant, or an input
/// that does not lead to any array being differentiated).
struct InputMask: Sendable {
    let bits: UInt64

    init(bits: UInt64) { self.bits = bits }

    /// Whether input `index` needs a gradient.
    subscript(index: Int) -> Bool { index < 64 && bits & (1 << UInt64(index)) != 0 }
}

/// The derivative rule of one recorded operation: it maps the gradient of the operation's
/// output to the gradients of its inputs. Rules are written with differentiable operations, so
/// when the backward pass is itself traced they can be differentiated again.

enum DerivativeRule {
    /// A rule for an operation of one input.
    case unary((DLArray) throws -> DLArray?)
    /// A rule for an operation of two inputs.
    case binary((DLArray, InputMask) throws -> (DLArray?, DLArray?))
    /// A rule for an operation of any number of inputs.
    case general((DLArray, InputMask) throws -> [DLArray?])
}

/// One value in the derivative trace: the operation that produced it and its inputs' nodes.

final class TraceNode {
    /// What a node is now.
    enum State { case live, released, ended }

    /// The trace that recorded this node; only read while the node is live.
    unowned(unsafe) let trace: Trace
    /// The position in the trace's recording order (a topological order).
    let index: Int
    @exclusivity(unchecked) var first: TraceNode?
    @exclusivity(unchecked) var second: TraceNode?
    @exclusivity(unchecked) var rest: [TraceNode?]
    @exclusivity(unchecked) var rule: DerivativeRule?
    @exclusivity(unchecked) var state: State = .live

    /// The number of inputs (constant inputs included, as nil nodes).
    let inputCount: Int


    init(trace: Trace, index: Int, inputs: [TraceNode?], rule: DerivativeRule?) {
        self.trace = trace
        self.index = index
        inputCount = inputs.count
        first = inputs.count > 0 ? inputs[0] : nil
        second = inputs.count > 1 ? inputs[1] : nil
        rest = inputs.count > 2 ? Array(inputs[2...]) : []
        self.rule = rule
    }


    init(trace: Trace, index: Int, first: TraceNode?, second: TraceNode?, inputCount: Int, rule: DerivativeRule?) {
        self.trace = trace
        self.index = index
        self.first = first
        self.second = second
        self.rest = []
        self.inputCount = inputCount
        self.rule = rule
    }

    /// The node of input `index`, or nil for a constant input.
    func input(_ index: Int) -> TraceNode? {
        switch index {
        case 0: first
        case 1: second
        default: rest[index - 2]
        }
    }


    /// Drops the rule, freeing what it saved. The links to inputs stay, so a later backward
    /// pass that reaches this node can say that the trace was released.
    func release() {
        rule = nil
        state = .released
    }

    /// Drops the rule and the links to inputs: the value is no longer traced.
    func end() {
        rule = nil
        first = nil
        second = nil
        rest = []
        state = .ended
    }
}

/// The derivative trace of one `dlfeval` call: every traced operation, in the order it ran.
///
/// Each thread has its own stack of traces (nested `dlfeval` calls push and pop), so two
/// threads can differentiate at the same time. When `dlfeval` returns, its trace ends: every
/// node is released and the values it returned are no longer traced.

final class Trace {
    /// The trace of the enclosing `dlfeval` on this thread, if any.
    let parent: Trace?
    /// The nodes, in recording order.
    @exclusivity(unchecked) var nodes: [TraceNode] = []
    /// Whether operations are recorded now; off while a backward pass that is not itself
    /// traced runs.
    @exclusivity(unchecked) var isRecording = true
    /// The gradients the differential operators computed in this trace, so that a Laplacian or
    /// divergence after a Jacobian of the same output reuses its backward pass (see
    /// ``componentGradient(of:component:at:traced:)``).
    @exclusivity(unchecked) var componentGradients: [ComponentGradientKey: [(target: TraceNode, gradient: DLArray)]] = [:]

    init(parent: Trace?) {
        self.parent = parent
        nodes.reserveCapacity(64)
    }

    /// The trace of the innermost `dlfeval` running on this thread.
    static var current: Trace? {
        guard let raw = swiftdl_get_current_trace() else { return nil }
        return Unmanaged<Trace>.fromOpaque(raw).takeUnretainedValue()
    }

    /// Makes `trace` the current trace of this thread (the caller keeps it alive).
    static func setCurrent(_ trace: Trace?) {
        swiftdl_set_current_trace(trace.map { Unmanaged.passUnretained($0).toOpaque() })
    }

    /// The trace that records operations on a value with this node right now, or nil when the
    /// value counts as a constant (its trace ended, or it belongs to another `dlfeval`).
    static func recordingTrace(for node: TraceNode) -> Trace? {
        guard node.state == .live, let trace = current, trace.isRecording, node.trace === trace else {
            return nil
        }
        return trace
    }

    /// Records a node and returns it.
    func record(first: TraceNode?, second: TraceNode?, inputCount: Int,
                           rule: DerivativeRule) -> TraceNode {
        let node = TraceNode(trace: self, index: nodes.count, first: first, second: second,
                             inputCount: inputCount, rule: rule)
        nodes.append(node)
        return node
    }

    /// Records a node with any number of inputs and returns it.
    func record(inputs: [TraceNode?], rule: DerivativeRule) -> TraceNode {
        let node = TraceNode(trace: self, index: nodes.count, inputs: inputs, rule: rule)
        nodes.append(node)
        return node
    }

    /// Records a leaf: a value differentiated with respect to, that no operation produced.
    func recordLeaf() -> TraceNode {
        let node = TraceNode(trace: self, index: nodes.count, inputs: [], rule: nil)
        nodes.append(node)
        return node
    }

    /// Releases every node: called when the `dlfeval` that owns this trace returns.
    func end() {
        for node in nodes { node.end() }
        nodes = []
        componentGradients = [:]
    }
}
