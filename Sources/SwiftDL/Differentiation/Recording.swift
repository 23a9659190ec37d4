import RealModule
extension DLArray {
    /// The node of this value if the current trace records operations on it, else nil.
    var recordingNode: TraceNode? {
        guard let node, Trace.recordingTrace(for: node) != nil else { return nil }
        return node
    }

    /// Records `self` as the result of an operation on `x` whose derivative rule is `rule`
    /// (the gradient of the output in, the gradient of `x` out; nil means zero).
    ///
    /// Nothing is recorded, and `self` is returned as it is, when `x` is not traced.

    consuming func recorded(from x: DLArray, rule: @escaping (_ gradient: DLArray) throws -> DLArray?) -> DLArray {
        guard let node = x.node, let trace = Trace.recordingTrace(for: node) else { return self }
        var y = consume self
        y.node = trace.record(first: node, second: nil, inputCount: 1, rule: .unary(rule))
        return y
    }

    /// Records `self` as the result of an operation on `x` whose rule also reads the
    /// operation's (traced) output `y`, so that higher derivatives flow through it.

    consuming func recordedUsingOutput(from x: DLArray,
                             rule: @escaping (_ gradient: DLArray, _ y: DLArray) throws -> DLArray?) -> DLArray {
        guard let node = x.node, let trace = Trace.recordingTrace(for: node) else { return self }
        var y = consume self
        let outputNode = trace.record(first: node, second: nil, inputCount: 1, rule: .unary { _ in nil })
        y.node = outputNode
        // The rule holds the output and so its own node; the cycle ends when the node is released.
        outputNode.rule = .unary { [y] gradient in try rule(gradient, y) }
        return y
    }

    /// Records `self` as the result of an operation on `a` and `b`. The rule receives which
    /// inputs need a gradient and returns the gradients of `a` and `b` (nil means zero).

    consuming func recorded(from a: DLArray, _ b: DLArray,
                  rule: @escaping (_ gradient: DLArray, _ needs: InputMask) throws -> (DLArray?, DLArray?)) -> DLArray {
        let nodeA = a.recordingNode, nodeB = b.recordingNode
        guard let trace = (nodeA ?? nodeB)?.trace else { return self }
        var y = consume self
        y.node = trace.record(first: nodeA, second: nodeB, inputCount: 2, rule: .binary(rule))
        return y
    }

    /// Records `self` as the result of an operation on any number of inputs.

    consuming func recorded(from inputs: [DLArray],
                  rule: @escaping (_ gradient: DLArray, _ needs: InputMask) throws -> [DLArray?]) -> DLArray {
        let nodes = inputs.map(\.recordingNode)
        guard let trace = nodes.lazy.compactMap({ $0 }).first?.trace else { return self }
        var y = consume self
        y.node = trace.record(inputs: nodes, rule: .general(rule))
        return y
    }

    /// Records `self` as the result of an operation on any number of inputs whose rule also
    /// reads the traced output.

    consuming func recordedUsingOutput(from inputs: [DLArray],
                             rule: @escaping (_ gradient: DLArray, _ needs: InputMask, _ y: DLArray) throws -> [DLArray?]) -> DLArray {
        let nodes = inputs.map(\.recordingNode)
        guard let trace = nodes.lazy.compactMap({ $0 }).first?.trace else { return self }
        var y = consume self
        let outputNode = trace.record(inputs: nodes, rule: .general { _, _ in [] })
        y.node = outputNode
        outputNode.rule = .general { [y] gradient, needs in try rule(gradient, needs, y) }
        return y
    }
}

/// Records an operation whose forward result and derivative rule the caller supplies, as
/// PyTorch's `autograd.Function` and MATLAB's custom backward functions do.
///
/// For higher derivatives, write `pullback` with SwiftDL operations: it is traced like any
/// other code when `enableHigherDerivatives` is true.
///
/// - Parameters:
///   - output: the result of the operation, computed by the caller (its trace is ignored).
///   - inputs: the arrays the operation read.
///   - pullback: maps the gradient of `output` to one gradient per input (nil means zero);
///     each gradient must have its input's shape and type.
/// - Returns: `output`, traced when any input is traced.
public func dlcustom(output: DLArray, inputs: [DLArray],
                     pullback: @escaping (_ gradient: DLArray) throws -> [DLArray?]) -> DLArray {
    extractdata(output).withLabels(output.labels).recorded(from: inputs) { gradient, _ in
        let gradients = try pullback(gradient)
        guard gradients.count == inputs.count else {
            throw DLError.differentiation(
                "dlcustom: the pullback returned \(gradients.count) gradients for \(inputs.count) inputs")
        }
        for (gradient, input) in zip(gradients, inputs) {
            if let gradient, gradient.shape != input.shape {
                throw DLError.shapeMismatch(
                    "dlcustom: the pullback returned a gradient of shape \(gradient.shape) for an input of shape \(input.shape)")
            }
        }
        return gradients
    }
}
