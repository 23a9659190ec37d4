import RealModule
extension Trace {
    /// Runs the backward pass from `output` and returns the gradient of each target node
    /// (nil where the output does not depend on the target).
    ///
    /// Only nodes on a path from a target to the output are visited. When `traced` is true the
    /// derivative rules are recorded like any operation, so the gradients can be differentiated
    /// again; otherwise recording is off while they run. With `release` the rules that ran are
    /// dropped afterwards, freeing the values they saved.
    func gradients(of output: TraceNode, seed: DLArray, targets: [TraceNode],
                   traced: Bool, release: Bool) throws -> [DLArray?] {
        guard let low = targets.map(\.index).min(), low <= output.index else {
            return targets.map { _ in nil }
        }
        let count = output.index - low + 1

        // Forward sweep in recording order: which nodes lead to a target.
        var leadsToTarget = [Bool](repeating: false, count: count)
        for target in targets where target.index <= output.index { leadsToTarget[target.index - low] = true }
        for offset in 0..<count where !leadsToTarget[offset] {
            let node = nodes[low + offset]
            for k in 0..<node.inputCount {
                if let input = node.input(k), input.index >= low, leadsToTarget[input.index - low] {
                    leadsToTarget[offset] = true
                    break
                }
            }
        }
        guard leadsToTarget[count - 1] else { return targets.map { _ in nil } }

        var isTarget = [Bool](repeating: false, count: count)
        for target in targets where target.index <= output.index { isTarget[target.index - low] = true }

        // Backward sweep in reverse recording order, which is a reverse topological order.
        var gradients = [DLArray?](repeating: nil, count: count)
        gradients[count - 1] = seed
        let wasRecording = isRecording
        isRecording = traced
        defer { isRecording = wasRecording }

        var offset = count
        while offset > 0 {
            offset -= 1
            guard leadsToTarget[offset],
                  let gradient = isTarget[offset] ? gradients[offset] : gradients[offset].take() else { continue }
            let node = nodes[low + offset]
            guard let rule = node.rule else {
                if node.state == .released { throw DLError.differentiation(Self.releasedMessage) }
                continue
            }
            var bits: UInt64 = 0
            for k in 0..<min(node.inputCount, 64) {
                if let input = node.input(k), input.index >= low, leadsToTarget[input.index - low] {
                    bits |= 1 << UInt64(k)
                }
            }
            guard bits != 0 else { continue }
            let needs = InputMask(bits: bits)
            switch rule {
            case .unary(let pullback):
                try accumulate(try pullback(gradient), into: node.first, low: low, gradients: &gradients)
            case .binary(let pullback):
                let (a, b) = try pullback(gradient, needs)
                if needs[0] { try accumulate(a, into: node.first, low: low, gradients: &gradients) }
                if needs[1] { try accumulate(b, into: node.second, low: low, gradients: &gradients) }
            case .general(let pullback):
                let results = try pullback(gradient, needs)
                for k in 0..<node.inputCount where needs[k] && k < results.count {
                    try accumulate(results[k], into: node.input(k), low: low, gradients: &gradients)
                }
            }
            if release { node.release() }
        }
        return targets.map { $0.index <= output.index ? gradients[$0.index - low] : nil }
    }

    /// Adds a gradient contribution to the running gradient of `node`.
    private func accumulate(_ contribution: DLArray?, into node: TraceNode?, low: Int,
                            gradients: inout [DLArray?]) throws {
        guard let contribution, let node, node.index >= low else { return }
        let offset = node.index - low
        if let existing = gradients[offset] {
            gradients[offset] = try existing + contribution
        } else {
            gradients[offset] = contribution
        }
    }

    static let releasedMessage = """
        dlgradient: the derivative trace of this value was released by an earlier dlgradient call \
        (retainData is false by default). To compute several gradients from one trace, pass \
        retainData: true to every dlgradient call but the last, or recompute the value.
        """
}
