/// How ``dlode45(_:_:_:_:gradientMode:relativeTolerance:absoluteTolerance:initialStep:maxStepSize:)``
/// differentiates the solution (MATLAB's `GradientMode`).
public enum ODEGradientMode: Sendable {
    /// Differentiate through the solver's steps: every stage is recorded in the trace. Exact
    /// derivatives of the computed solution; memory grows with the number of steps.
    case direct
    /// Solve the adjoint ODE backward in time (Chen et al., "Neural Ordinary Differential
    /// Equations", 2018): the forward solution is not recorded, and the backward pass integrates
    /// the state, its adjoint and the parameters' gradients from the last time to the first.
    /// Memory does not depend on the number of steps; the derivatives are those of the exact
    /// solution, to the solver's tolerances.
    case adjoint
}

/// The solution of the ODE `dy/dt = odefun(t, y, theta)` with `y(tspan[0]) = y0` at the
/// times `tspan[1...]`, as MATLAB's `dlode45(odefun, tspan, Y0, theta)`.
///
/// The solver is the Dormand–Prince (4,5) pair with the error control and first step of
/// MATLAB's `ode45`. `y0` may have any shape (a batch of initial states, say "BC"); `odefun`
/// receives states of that shape and returns their derivatives. The solver steps exactly onto
/// each time of `tspan` (MATLAB interpolates between its own steps; both are of the solver's
/// order of accuracy).
///
/// ```swift
/// // MATLAB's "Train Neural ODE Network": y0 is 200×2 ("BC"), 41 times (40 outputs).
/// let y = try dlode45({ _, y, theta in
///     try mtimes(tanh(mtimes(y, theta["w1"]!) + theta["b1"]!), theta["w2"]!) + theta["b2"]!
/// }, times, y0, parameters, gradientMode: .adjoint)           // 40×200×2 ("TBC")
/// ```
///
/// - Parameters:
///   - odefun: the right-hand side `f(t, y, theta)`.
///   - tspan: the times: the initial time, then the times to return the solution at; at
///     least two, strictly increasing or strictly decreasing.
///   - y0: the initial state, a real floating-point array.
///   - theta: the parameters, any ``DLArrayContainer`` (an array, a dictionary of arrays, a
///     network's learnables); `odefun` receives them.
///   - gradientMode: ``ODEGradientMode/direct`` (the default, as in MATLAB) or
///     ``ODEGradientMode/adjoint``.
///   - relativeTolerance: the error control's relative tolerance (MATLAB's default 1e-3):
///     each step's error estimate must be at most
///     `relativeTolerance · max(|y|, absoluteTolerance / relativeTolerance)` elementwise.
///   - absoluteTolerance: the error control's absolute tolerance (MATLAB's default 1e-6), the
///     bound for components near zero.
///   - initialStep: an upper bound on the first step; by default chosen from the slope.
///   - maxStepSize: the largest step; by default a tenth of the interval.
/// - Returns: the states at `tspan[1...]` stacked along a new first dimension: shape
///   `[tspan.count - 1] + y0.shape`, labeled `"T"` followed by `y0`'s labels (MATLAB's "CB"
///   state gives "CBT" there, "TBC" here).
/// - Throws: ``DLError/invalidArgument(_:)`` for a `tspan` with fewer than two times, times
///   that are not finite or not strictly monotonic, tolerances or steps that are not positive,
///   or a step size that falls below the time's precision; ``DLError/unsupportedType(_:)`` for
///   a `y0` that is not real floating point; ``DLError/shapeMismatch(_:)`` when `odefun`
///   returns another shape than the state's.
public func dlode45<Theta: DLArrayContainer>(
    _ odefun: @escaping (_ t: Double, _ y: DLArray, _ theta: Theta) throws -> DLArray,
    _ tspan: [Double],
    _ y0: DLArray,
    _ theta: Theta,
    gradientMode: ODEGradientMode = .direct,
    relativeTolerance: Double = 1e-3,
    absoluteTolerance: Double = 1e-6,
    initialStep: Double? = nil,
    maxStepSize: Double? = nil
) throws -> DLArray {
    try validateTimes(tspan)
    for (name, value) in [("relativeTolerance", relativeTolerance), ("absoluteTolerance", absoluteTolerance),
                          ("initialStep", initialStep ?? 1), ("maxStepSize", maxStepSize ?? 1)]
    where !(value > 0 && value.isFinite) {
        throw DLError.invalidArgument("dlode45: \(name) must be a positive finite number, got \(value)")
    }
    guard y0.dataType.isFloatingPoint, !y0.dataType.isComplex else {
        throw DLError.unsupportedType("dlode45: y0 is \(y0.dataType); it must be a real floating-point array (float32 or float64)")
    }
    let settings = DormandPrince.Settings(relativeTolerance: relativeTolerance, absoluteTolerance: absoluteTolerance,
                                          initialStep: initialStep, maxStepSize: maxStepSize)
    let labels = y0.labels.isEmpty || y0.labels.contains("T") || y0.labels.contains("U") ? "" : "T" + y0.labels
    let problem = ODEProblem(odefun: odefun, theta: theta, stateShape: y0.shape, settings: settings)
    switch gradientMode {
    case .direct:
        let states = try problem.solver(theta).solve(tspan, from: [y0])
        return try problem.stacked(states.map { $0[0] }).withLabels(labels)
    case .adjoint:
        return try problem.solveWithAdjoint(tspan, from: y0).withLabels(labels)
    }
}

/// Throws unless `tspan` holds at least two finite, strictly monotonic times.
private func validateTimes(_ tspan: [Double]) throws {
    guard tspan.count >= 2 else {
        throw DLError.invalidArgument("dlode45: tspan must hold at least two times (the initial time and an end time), got \(tspan.count)")
    }
    if let bad = tspan.firstIndex(where: { !$0.isFinite }) {
        throw DLError.invalidArgument("dlode45: tspan[\(bad)] is \(tspan[bad]); the times must be finite")
    }
    let increasing = tspan[1] > tspan[0]
    for k in 1..<tspan.count where !(increasing ? tspan[k] > tspan[k - 1] : tspan[k] < tspan[k - 1]) {
        throw DLError.invalidArgument("""
            dlode45: tspan must be strictly increasing or strictly decreasing, but tspan[\(k)] = \(tspan[k]) \
            follows tspan[\(k - 1)] = \(tspan[k - 1])
            """)
    }
}

/// An ODE, its parameters and the solver settings: what the forward solve and the adjoint's
/// backward solve share.
struct ODEProblem<Theta: DLArrayContainer> {
    let odefun: (Double, DLArray, Theta) throws -> DLArray
    let theta: Theta
    let stateShape: [Int]
    let settings: DormandPrince.Settings

    /// `odefun` at the given parameters, with the shape of its result checked.
    func derivative(_ t: Double, _ y: DLArray, _ parameters: Theta) throws -> DLArray {
        let slope = try odefun(t, y, parameters)
        guard slope.shape == y.shape else {
            throw DLError.shapeMismatch("""
                dlode45: odefun returned an array of shape \(slope.shape) for a state of shape \(y.shape); \
                it must return dy/dt, of the state's shape
                """)
        }
        return slope
    }

    /// The solver of the ODE itself at the given parameters.
    func solver(_ parameters: Theta) -> DormandPrince {
        DormandPrince(settings: settings) { t, state in [try derivative(t, state[0], parameters)] }
    }

    /// The states stacked along a new first dimension.
    func stacked(_ states: [DLArray]) throws -> DLArray {
        try cat(states.map { try reshape($0, [1] + stateShape) }, dim: 0)
    }
}
