// Jacobian-vector, vector-Jacobian and Hessian-vector products of functions, as JAX's `jvp`,
// `vjp` and torch.func's `jvp`/`vjp` and `hvp` give them.
//
// All three are built from reverse passes through SwiftDL's trace, because every derivative
// rule is written with differentiable operations. The Jacobian-vector product uses the
// double-vjp trick: with a cotangent `u` traced as a variable, `g(u) = Jᵀu` is a backward pass
// recorded in the trace, linear in `u`, and the gradient of `⟨g(u), v⟩` with respect to `u` is
// `Jv`. That costs a forward pass, a traced backward pass and a backward pass through it —
// about three gradients' worth, where propagating tangents operation by operation would cost
// about one and a half — but it needs no second rule per operation, so it works through every
// operation, network and loss there is, and can itself be differentiated again.
//
// Called inside a `dlfeval` that records, the products are recorded in its trace, so a loss
// made from them can be differentiated with respect to the parameters `function` captures or
// to `x` and `v`; called elsewhere, they return plain values.

/// Throws unless `values` pairs with `reference` array by array, in count and shape.
private func requireMatching(_ values: [DLArray], _ reference: [DLArray], _ description: String,
                             _ function: String) throws {
    guard values.count == reference.count else {
        throw DLError.shapeMismatch("""
            \(function): \(description) holds \(values.count) arrays where \(reference.count) were expected; \
            it must have the same structure
            """)
    }
    for (k, (value, expected)) in zip(values, reference).enumerated() where value.shape != expected.shape {
        throw DLError.shapeMismatch("""
            \(function): array \(k) of \(description) has shape \(value.shape) where \(expected.shape) was \
            expected; it must have the same shapes
            """)
    }
}

/// The value of `function` at `x` and its Jacobian-vector product `J·v` (the directional
/// derivative along `v`), as JAX's `jvp` and `torch.func.jvp`.
///
/// `x` and `v` are any ``DLArrayContainer`` of the same structure (an array, an array of
/// arrays, a network's learnables); `function` may return any container, and the product comes
/// back in its structure.
///
/// ```swift
/// let (y, tangent) = try dljvp({ x in sin(x) * x }, x, v)   // tangent = (cos(x)·x + sin(x))·v
/// ```
///
/// It is computed by the double-vjp trick (two reverse passes; see the file's notes), about
/// three gradients' worth of work.
///
/// - Returns: `value`, `function(x)`, and `jvp`, `J·v`, in the same structure.
/// - Throws: ``DLError/shapeMismatch(_:)`` when `v` does not match `x`, or what `function` throws.
public func dljvp<X: DLArrayContainer, Y: DLArrayContainer>(
    _ function: (X) throws -> Y, _ x: X, _ v: X
) throws -> (value: Y, jvp: Y) {
    let points = x.flattenedArrays, tangents = v.flattenedArrays
    try requireMatching(tangents, points, "v", "dljvp")
    return try Trace.withVariables(points) { variables, keepsTrace in
        let y = try function(x.replacingArrays(with: variables))
        let outputs = y.flattenedArrays
        guard let trace = Trace.current else { preconditionFailure("withVariables runs its body in a trace") }
        let cotangents = outputs.map { trace.traced(DLArray.zeros(like: extractdata($0))) }
        let pulledBack = try gradients(of: innerProduct(outputs, cotangents), at: variables, traced: true)
        let products = try gradients(of: innerProduct(pulledBack, tangents), at: cotangents, traced: keepsTrace)
        return (y, y.replacingArrays(with: zip(products, outputs).map { $0.withLabels($1.labels) }))
    }
}

/// The value of `function` at `x` and its vector-Jacobian product `uᵀ·J` (the gradient of
/// `⟨function(x), u⟩`), as JAX's `vjp` and `torch.func.vjp`.
///
/// `u` has the structure of `function`'s result; the product has the structure of `x`. It
/// costs a forward and a backward pass.
///
/// ```swift
/// let (y, cotangent) = try dlvjp({ x in x * x }, x, u)   // cotangent = 2·x·u
/// ```
///
/// - Throws: ``DLError/shapeMismatch(_:)`` when `u` does not match the result, or what
///   `function` throws.
public func dlvjp<X: DLArrayContainer, Y: DLArrayContainer>(
    _ function: (X) throws -> Y, _ x: X, _ u: Y
) throws -> (value: Y, vjp: X) {
    let points = x.flattenedArrays, cotangents = u.flattenedArrays
    return try Trace.withVariables(points) { variables, keepsTrace in
        let y = try function(x.replacingArrays(with: variables))
        try requireMatching(cotangents, y.flattenedArrays, "u", "dlvjp")
        let products = try gradients(of: innerProduct(y.flattenedArrays, cotangents), at: variables, traced: keepsTrace)
        return (y, x.replacingArrays(with: products))
    }
}

/// The value of the real scalar `function` at `x` and its Hessian-vector product `H·v`, as
/// `torch.autograd.functional.hvp` (JAX's `jvp` of `grad`).
///
/// Computed reverse over reverse: the gradient is traced, and `H·v` is the gradient of
/// `⟨∇f(x), v⟩`; about three gradients' worth of work, without forming `H`.
///
/// ```swift
/// let (f, hv) = try dlhvp({ x in sum(x ** 3) }, x, v)   // hv = 6·x·v
/// ```
///
/// - Throws: ``DLError/shapeMismatch(_:)`` when `v` does not match `x`;
///   ``DLError/differentiation(_:)`` when `function` does not return a real scalar; or what
///   `function` throws.
public func dlhvp<X: DLArrayContainer>(
    _ function: (X) throws -> DLArray, _ x: X, _ v: X
) throws -> (value: DLArray, hvp: X) {
    let points = x.flattenedArrays, directions = v.flattenedArrays
    try requireMatching(directions, points, "v", "dlhvp")
    return try Trace.withVariables(points) { variables, keepsTrace in
        let y = try function(x.replacingArrays(with: variables))
        guard y.count == 1, y.dataType.isFloatingPoint, !y.dataType.isComplex else {
            throw DLError.differentiation("""
                dlhvp: the function returned a \(y.dataType) array of shape \(y.shape); it must return a real \
                scalar (reduce it first, with sum or mean)
                """)
        }
        let gradient = try gradients(of: y, at: variables, traced: true)
        let products = try gradients(of: innerProduct(gradient, directions), at: variables, traced: keepsTrace)
        return (y, x.replacingArrays(with: products))
    }
}
