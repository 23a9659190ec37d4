// MATLAB's differential operators of deep-learning data (R2024b): the Jacobian, divergence and
// Laplacian of a network's output with respect to its input, as physics-informed networks use
// them in their losses. Each is built from backward passes through the trace of the current
// `dlfeval`; with `enableHigherDerivatives` (the default, as in MATLAB) those passes are traced,
// so a loss made from the result can be differentiated again with respect to the learnables.
//
// Shapes read MATLAB's backwards, as everywhere in SwiftDL: MATLAB's 5×128 `u` ("CB") is
// SwiftDL's 128×5 ("BC"), MATLAB's 16×16×3×128 `x` ("SSCB") is 128×3×16×16 ("BCSS"), and the
// Jacobian MATLAB gives as 5×16×16×3×128 is 128×3×16×16×5 here: `x`'s shape, then the
// components of `u`. Dimensions count from 0, so MATLAB's `dim = 1` of a "CB" array is
// SwiftDL's `dim: 1` of the "BC" array (its channel dimension).
//
// The batch — and any dimension other than `dim` — holds independent observations: each
// element of `u` may depend only on its own observation of `x`. Summing `u` over the
// observations before differentiating then gives every observation's derivatives in one pass.

/// Throws unless `u` and `x` are real floating-point arrays traced by the current `dlfeval`.
private func requireTraced(_ u: DLArray, _ x: DLArray, _ function: String) throws {
    guard Trace.current != nil else {
        throw DLError.differentiation("""
            \(function) must be called inside a function evaluated by dlfeval, where u is computed \
            from x: write `try dlfeval(f, x)` and call \(function) in f.
            """)
    }
    guard u.isTraced else {
        throw DLError.differentiation("""
            \(function): u is not traced. It must be computed inside this dlfeval from x (u = net(x), \
            say); values from extractdata or from arrays created outside dlfeval carry no trace.
            """)
    }
    guard x.isTraced else {
        throw DLError.differentiation("""
            \(function): x is not traced. Pass it to dlfeval as an argument (or compute it inside \
            dlfeval from one), and compute u from it.
            """)
    }
    for (name, array) in [("u", u), ("x", x)] where !array.dataType.isFloatingPoint || array.dataType.isComplex {
        throw DLError.unsupportedType("\(function): \(name) is \(array.dataType); it must be a real floating-point array (float32 or float64)")
    }
}

/// Checks that `dim` is a dimension of the array called `name`.
private func checkedDimension(_ dim: Int, of array: DLArray, named name: String, _ function: String) throws -> Int {
    guard dim >= 0 && dim < array.rank else {
        throw DLError.invalidArgument("""
            \(function): dim \(dim) is not a dimension of \(name), which has rank \(array.rank) (shape \
            \(array.shape)); dimensions count from 0
            """)
    }
    return dim
}

/// The Jacobian of `u` with respect to `x`, as MATLAB's `dljacobian(u, x, dim)`.
///
/// `u` holds vectors along `dim` (the operation dimension); the result holds, for each of
/// their `n = u.shape[dim]` components `uₖ`, the derivatives `∂uₖ/∂x` of every observation,
/// and has `x`'s shape followed by `n`:
///
/// ```swift
/// // u: 128×5 ("BC"), x: 128×3×16×16 ("BCSS") → jacobian 128×3×16×16×5
/// let jacobian = try dljacobian(u, x, dim: 1)
/// ```
///
/// Element `[b, …, k]` is `∂u[b, k]/∂x[b, …]`. It costs one backward pass per component,
/// which later operators on the same `u` in this `dlfeval` reuse (a Laplacian with respect to
/// some of the inputs after the Jacobian with respect to all of them, say).
///
/// - Parameters:
///   - u: the output, traced in the current `dlfeval` and computed from `x`.
///   - x: the input, traced in the current `dlfeval`.
///   - dim: the dimension of `u` that holds the components (counting from 0).
///   - enableHigherDerivatives: trace the backward passes so the Jacobian can be
///     differentiated again (for a loss made from it); true by default, as in MATLAB.
/// - Returns: an unlabeled array of shape `x.shape + [u.shape[dim]]`.
/// - Throws: ``DLError/differentiation(_:)`` outside `dlfeval` or for a `u` or `x` that is not
///   traced; ``DLError/invalidArgument(_:)`` for a `dim` that is not a dimension of `u`.
public func dljacobian(_ u: DLArray, _ x: DLArray, dim: Int, enableHigherDerivatives: Bool = true) throws -> DLArray {
    try requireTraced(u, x, "dljacobian")
    let dim = try checkedDimension(dim, of: u, named: "u", "dljacobian")
    let trace = Trace.current!
    let columns = try (0..<u.shape[dim]).map { k in
        let gradient = try trace.componentGradient(of: u, component: (dim, k), at: x, traced: enableHigherDerivatives)
        return try reshape(gradient, x.shape + [1])
    }
    guard !columns.isEmpty else { return DLArray.zeros(x.shape + [0], type: x.dataType) }
    return try cat(columns, dim: x.rank)
}

/// The divergence of the vector field `u` with respect to `x`, as MATLAB's
/// `dldivergence(u, x, dim)`: `Σᵢ ∂uᵢ/∂xᵢ` over the components `i` along `dim`.
///
/// `u` and `x` have the same shape: one vector of `n = x.shape[dim]` components per point
/// (the other dimensions index the points, which are independent).
///
/// ```swift
/// // u, x: 128×3 ("BC") → divergence 128×1
/// let divergence = try dldivergence(u, x, dim: 1)
/// ```
///
/// It costs one backward pass per component, shared with the other operators on the same `u`
/// in this `dlfeval`.
///
/// - Parameters:
///   - u: the vector field, traced in the current `dlfeval` and computed from `x`.
///   - x: the points, traced in the current `dlfeval`.
///   - dim: the dimension of `u` and `x` that holds the components (counting from 0).
///   - enableHigherDerivatives: trace the backward passes so the divergence can be
///     differentiated again; true by default, as in MATLAB.
/// - Returns: `x`'s shape with size 1 along `dim`, and `x`'s labels.
/// - Throws: ``DLError/differentiation(_:)`` outside `dlfeval` or for a `u` or `x` that is not
///   traced; ``DLError/invalidArgument(_:)`` for a bad `dim`; ``DLError/shapeMismatch(_:)`` when
///   `u` and `x` differ in shape.
public func dldivergence(_ u: DLArray, _ x: DLArray, dim: Int, enableHigherDerivatives: Bool = true) throws -> DLArray {
    try requireTraced(u, x, "dldivergence")
    let dim = try checkedDimension(dim, of: x, named: "x", "dldivergence")
    guard u.shape == x.shape else {
        throw DLError.shapeMismatch("""
            dldivergence: u has shape \(u.shape) and x has shape \(x.shape); a vector field holds one \
            vector per point of x, so they must have the same shape
            """)
    }
    let trace = Trace.current!
    var divergence: DLArray?
    for i in 0..<x.shape[dim] {
        let gradient = try trace.componentGradient(of: u, component: (dim, i), at: x, traced: enableHigherDerivatives)
        let term = try gradient.slice(dim: dim, range: i..<i + 1)
        divergence = try divergence.map { try $0 + term } ?? term
    }
    return (divergence ?? DLArray.zeros(x.shape.enumerated().map { $0.offset == dim ? 1 : $0.element }, type: x.dataType))
        .withLabels(x.labels)
}

/// The Laplacian of `u` with respect to `x`, as MATLAB's `dllaplacian(u, x, dim)`:
/// `Σᵢ ∂²u/∂xᵢ²` over the components `i` of `x` along `dim`.
///
/// `x` holds one point of `n = x.shape[dim]` coordinates along `dim` per observation, and
/// `u` one value per point, in the same order (a 128×1 `u` of a 128×2 `x`, say). For a `u`
/// with several components, take the Laplacian of each.
///
/// ```swift
/// // Burgers' equation: u 1000×1, x 1000×1 ("BC") → uxx 1000×1
/// let uxx = try dllaplacian(u, x, dim: 1)
/// ```
///
/// It costs one backward pass for the gradient and one per component for the second
/// derivatives; the gradient's pass is always traced, the others when
/// `enableHigherDerivatives` is true (the default, as in MATLAB). After a ``dljacobian(_:_:dim:enableHigherDerivatives:)``
/// of the same `u` with respect to an input that `x` reaches `u` only through (the points
/// `cat([x, t], dim: 1)`, say), the gradient's pass is the Jacobian's, continued to `x`.
///
/// - Returns: an array of `u`'s shape and labels.
/// - Throws: ``DLError/differentiation(_:)`` outside `dlfeval` or for a `u` or `x` that is not
///   traced; ``DLError/invalidArgument(_:)`` for a bad `dim`; ``DLError/shapeMismatch(_:)`` when
///   `u` does not hold one value per point of `x`.
public func dllaplacian(_ u: DLArray, _ x: DLArray, dim: Int, enableHigherDerivatives: Bool = true) throws -> DLArray {
    try requireTraced(u, x, "dllaplacian")
    let dim = try checkedDimension(dim, of: x, named: "x", "dllaplacian")
    let coordinates = x.shape[dim]
    let points = coordinates == 0 ? 0 : x.count / coordinates
    guard u.count == points else {
        throw DLError.shapeMismatch("""
            dllaplacian: u must hold one value per point of x: x of shape \(x.shape) holds \(points) points \
            of \(coordinates) coordinates along dimension \(dim), but u of shape \(u.shape) holds \(u.count) \
            values; for a u with several components, take the Laplacian of each
            """)
    }
    let trace = Trace.current!
    let gradient = try trace.componentGradient(of: u, component: nil, at: x, traced: true)
    var laplacian: DLArray?
    for i in 0..<coordinates {
        let second = try trace.componentGradient(of: gradient, component: (dim, i), at: x, traced: enableHigherDerivatives)
        let term = try second.slice(dim: dim, range: i..<i + 1)
        laplacian = try laplacian.map { try $0 + term } ?? term
    }
    return try reshape(laplacian ?? DLArray.zeros(u.shape, type: x.dataType), u.shape).withLabels(u.labels)
}
