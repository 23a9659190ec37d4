// The backward passes of the differential operators, shared within a trace: the gradient of
// one component of `u` (or of all of `u`) with respect to `x`, computed once per `dlfeval`.
// A physics-informed loss typically takes the Jacobian of `u` with respect to all its inputs
// and then the Laplacian with respect to some of them; the Laplacian's first backward pass is
// then the Jacobian's, continued through the few operations (a `cat`, say) that made the
// Jacobian's input from the Laplacian's. Every pass reused is one pass less in the loss and,
// when the passes are traced, one pass less to differentiate with respect to the learnables.

/// Which gradient of a trace ``Trace/componentGradients`` holds: that of the sum of `u`'s
/// elements at `index` along `dim` (of all of `u` for `dim` −1), recorded or not.
struct ComponentGradientKey: Hashable {
    /// The position of `u`'s node in the trace.
    let output: Int
    /// The dimension of `u` that holds the components, or −1 for all of `u`.
    let dim: Int
    /// The component along `dim` (0 for all of `u`).
    let index: Int
    /// Whether the backward pass was recorded, for higher derivatives.
    let traced: Bool
}

extension Trace {
    /// The gradient with respect to `x` of the sum of `u`'s elements at `component` (an index
    /// along a dimension), or of all of `u` when `component` is nil: zeros when `u` does not
    /// depend on `x` (or is not traced). With `traced` the backward pass is recorded.
    ///
    /// The result is computed once per trace: a second call returns it again, and a call for
    /// an `x` from which every path to `u` passes through the `x` of an earlier call continues
    /// that call's backward pass from there instead of running one through all of `u`'s
    /// operations again.
    ///
    /// - Precondition: `x` is traced by this trace, and `component` lies in `u`.
    func componentGradient(of u: DLArray, component: (dim: Int, index: Int)?, at x: DLArray,
                           traced: Bool) throws -> DLArray {
        guard let target = x.recordingNode else {
            preconditionFailure("componentGradient: x must be traced by the current trace")
        }
        guard let output = u.recordingNode else { return DLArray.zeros(like: extractdata(x)).withLabels(x.labels) }
        // A component of a dimension of size 1 is the whole of u.
        let component = component.flatMap { u.shape[$0.dim] == 1 ? nil : $0 }
        let key = ComponentGradientKey(output: output.index, dim: component?.dim ?? -1,
                                       index: component?.index ?? 0, traced: traced)
        let known = componentGradients[key] ?? []
        if let hit = known.first(where: { $0.target === target }) { return hit.gradient }

        var gradient: DLArray?
        if let (through, throughGradient) = known.first(where: { dominates($0.target, target, on: output) }) {
            gradient = try gradients(of: through, seed: throughGradient, targets: [target], traced: traced, release: false)[0]
        } else {
            var seed = DLArray.ones(like: extractdata(u))
            if let component {
                var region = SliceRegion(whole: u.shape)
                region.starts[component.dim] = component.index
                region.counts[component.dim] = 1
                seed = DLArray.ones(region.counts, type: u.dataType).placed(in: u.shape, at: region)
            }
            gradient = try gradients(of: output, seed: seed, targets: [target], traced: traced, release: false)[0]
        }
        let result = (gradient ?? DLArray.zeros(like: extractdata(x))).withLabels(x.labels)
        componentGradients[key, default: []].append((target, result))
        return result
    }

    /// Whether every path in the trace from `source` to `output` passes through `node` (true
    /// as well when no path leads from `source` to `output`).
    private func dominates(_ node: TraceNode, _ source: TraceNode, on output: TraceNode) -> Bool {
        guard source.index < node.index, node.index <= output.index else { return false }
        // Forward sweep in recording order over the nodes reached from `source` without
        // passing through `node`.
        var reached = [Bool](repeating: false, count: output.index - source.index + 1)
        reached[0] = true
        for offset in 1..<reached.count where source.index + offset != node.index {
            let current = nodes[source.index + offset]
            for k in 0..<current.inputCount {
                if let input = current.input(k), input.index >= source.index, reached[input.index - source.index] {
                    reached[offset] = true
                    break
                }
            }
        }
        return !reached[reached.count - 1]
    }
}
