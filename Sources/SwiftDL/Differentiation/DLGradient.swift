import RealModule
/// The gradients of the real scalar `y` with respect to `x…`, as MATLAB's `dlgradient`.
///
/// Call it inside a function evaluated by ``dlfeval(_:_:)->Result``. Each `x` is a `DLArray` or any
/// ``DLArrayContainer`` (arrays, dictionaries, optionals, your own types, nested to any depth);
/// each gradient comes back in the same structure, with the same shapes, types and labels. An
/// array that `y` does not depend on gets zeros, and so does a frozen one (a learn-rate factor of
/// 0 in a ``DLLearnRateScaled`` container), which is not differentiated at all.
///
/// ```swift
/// let (dydx1, dydx2) = try dlgradient(y, x1, x2)
/// let penalty = try dlgradient(sum(critic(xHat)), xHat, enableHigherDerivatives: true)
/// ```
///
/// - Parameters:
///   - y: the value to differentiate: a traced real scalar computed in this `dlfeval`.
///   - x: the variables, each traced by this `dlfeval` (its arguments, or values computed from them).
///   - retainData: keep the trace after this call, so that further `dlgradient` calls in the
///     same `dlfeval` can reuse it. When false (the default) the part of the trace this call
///     used is released, and differentiating through it again throws an error.
///   - enableHigherDerivatives: trace the backward pass too, so the returned gradients can be
///     differentiated again (gradient penalties, consensus optimization); the trace is then
///     kept and `retainData` has no effect.
///   - allowComplex: allow complex `x`. Gradients follow the conjugate Wirtinger convention:
///     the direction of steepest ascent of `y`, `∂y/∂Re(x) + i ∂y/∂Im(x)` (for
///     `y = Re((2+3i)x)` the gradient is `2-3i`). Complex intermediate values are allowed
///     either way; `y` must be real.
/// - Throws: ``DLError/differentiation(_:)`` when called outside `dlfeval`, when `y` is not a
///   traced real scalar, when an `x` is not traced by this `dlfeval` or is complex without
///   `allowComplex`, when `y` depends on none of the `x`, or when the trace was released.
public func dlgradient<each X: DLArrayContainer>(
    _ y: DLArray,
    _ x: repeat each X,
    retainData: Bool = false,
    enableHigherDerivatives: Bool = false,
    allowComplex: Bool = false
) throws -> (repeat each X) {
    guard let trace = Trace.current else {
        throw DLError.differentiation("""
            dlgradient must be called inside a function evaluated by dlfeval: write \
            `try dlfeval(f, x)` and call dlgradient in f.
            """)
    }
    guard y.count == 1 else {
        throw DLError.differentiation("""
            Value to differentiate is non-scalar (shape \(y.shape)). It must be a traced real \
            dlarray scalar: reduce it first, for example with sum(y) or mean(y).
            """)
    }
    guard y.dataType.isFloatingPoint, !y.dataType.isComplex else {
        throw DLError.differentiation("""
            Value to differentiate is \(y.dataType). It must be a traced real dlarray scalar: \
            differentiate real(y), abs(y) or another real function of it.
            """)
    }
    guard let outputNode = y.node, outputNode.state != .ended, outputNode.trace === trace else {
        throw DLError.differentiation("""
            Value to differentiate is not traced. It must be a traced real dlarray scalar computed \
            inside this dlfeval from dlfeval's arguments; values from extractdata, from arrays \
            created outside dlfeval or inside the function without passing them in, carry no trace.
            """)
    }

    var targets: [TraceNode] = []
    var frozen: [Bool] = []
    var position = 0
    for argument in repeat each x {
        position += 1
        var element = 0
        let mask = argument.trainableMask
        try argument.forEachArray { array in
            element += 1
            if let mask, !mask[element - 1] {
                frozen.append(true)
                return
            }
            frozen.append(false)
            var name: String { "x\(position)" + (argument is DLArray ? "" : " (array \(element) in it)") }
            guard let node = array.node, node.state != .ended, node.trace === trace else {
                throw DLError.differentiation("""
                    dlgradient: \(name) is not traced by this dlfeval. It was created outside this \
                    dlfeval call, inside it without being passed in, or by extractdata: pass it to \
                    dlfeval as an argument, e.g. `try dlfeval(f, x)`.
                    """)
            }
            guard array.dataType != .bool else {
                throw DLError.differentiation("dlgradient: \(name) is bool; only floating-point arrays can be differentiated.")
            }
            guard allowComplex || !array.dataType.isComplex else {
                throw DLError.differentiation("""
                    dlgradient: \(name) is complex (\(array.dataType)). Pass allowComplex: true to \
                    differentiate with respect to complex values.
                    """)
            }
            targets.append(node)
        }
    }

    let gradients = try trace.gradients(
        of: outputNode, seed: DLArray.ones(like: extractdata(y)), targets: targets,
        traced: enableHigherDerivatives, release: !retainData && !enableHigherDerivatives)

    if !targets.isEmpty && gradients.allSatisfy({ $0 == nil }) {
        throw DLError.differentiation("""
            dlgradient: the value to differentiate does not depend on any of the arrays given: \
            no path in the trace leads from them to it. Was it computed from extractdata, or \
            from other arrays than these?
            """)
    }

    // Frozen arrays were not differentiated: they get zeros.
    var index = 0, targetIndex = 0
    func gradient(for array: DLArray) -> DLArray {
        defer { index += 1 }
        if frozen[index] { return DLArray.zeros(like: array) }
        defer { targetIndex += 1 }
        guard let result = gradients[targetIndex] else { return DLArray.zeros(like: array) }
        return result.withLabels(array.labels)
    }
    return (repeat (each x).mapArrays { gradient(for: $0) })
}
