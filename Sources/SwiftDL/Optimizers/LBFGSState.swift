/// How ``lbfgsupdate(_:_:_:lineSearchMethod:maxNumLineSearchIterations:)`` chooses the length
/// of each step along its search direction, as MATLAB's `LineSearchMethod` option.
///
/// All three try the full quasi-Newton step (length 1) first. With a step length `η`, a loss
/// `f(η)` along the direction and its slope `f′(η)`, the conditions are sufficient decrease
/// `f(η) ≤ f(0) + 10⁻⁴·η·f′(0)` and curvature `f′(η) ≥ 0.9·f′(0)` (weak) or
/// `|f′(η)| ≤ 0.9·|f′(0)|` (strong).
public enum LBFGSLineSearchMethod: String, Sendable, CaseIterable {
    /// A step length satisfying the weak Wolfe conditions (the default, as MATLAB's
    /// `"weak-wolfe"`), found by doubling and bisection. The curvature condition keeps the
    /// approximate inverse Hessian positive definite.
    case weakWolfe = "weak-wolfe"
    /// A step length satisfying the strong Wolfe conditions (MATLAB's `"strong-wolfe"`), found
    /// by doubling and bisection of a bracket (Nocedal and Wright's algorithms 3.5 and 3.6).
    case strongWolfe = "strong-wolfe"
    /// A step length satisfying sufficient decrease only (MATLAB's `"backtracking"`), halving
    /// from 1. A step whose curvature pair would not keep the approximate inverse Hessian
    /// positive definite is taken but not added to the history.
    case backtracking
}

/// The outcome of the line search of the last L-BFGS step, as MATLAB's `LineSearchStatus`.
public enum LBFGSLineSearchStatus: String, Sendable {
    /// A step length satisfying the conditions was found and the parameters moved.
    case completed
    /// No step length satisfying the conditions was found within the allowed number of loss
    /// evaluations: the parameters were left unchanged. Stop, or change the problem or options.
    case failed
}

/// The state of the limited-memory BFGS (L-BFGS) solver, as MATLAB's `lbfgsState`: created
/// before the first step, passed to each
/// ``lbfgsupdate(_:_:_:lineSearchMethod:maxNumLineSearchIterations:)`` and replaced by the one
/// it returns.
///
/// Besides the history the algorithm needs, it reports the last step: the loss and gradients at
/// the current parameters (so the next step does not evaluate them again), their norm, the norm
/// of the step and the line search's outcome, which a training loop reads to stop:
///
/// ```swift
/// var state = try LBFGSState()
/// for _ in 1...200 {
///     (parameters, state) = try lbfgsupdate(parameters, { try dlfeval(modelLoss, $0) }, state)
///     if state.gradientsNorm! < 1e-5 || state.stepNorm! < 1e-5 || state.lineSearchStatus == .failed { break }
/// }
/// ```
///
/// Vectors in the history hold the trainable parameters' elements (those of arrays whose
/// learn-rate factor is not 0), in the order of ``DLArrayContainer/forEachArray(_:)``, each
/// array's elements in row-major order, as float64.
public struct LBFGSState: Sendable {
    /// The number of step and gradient-difference pairs kept (MATLAB's `HistorySize`).
    public let historySize: Int
    /// The inverse Hessian factor before any pair is stored: the first step is this factor
    /// times the negative gradient (MATLAB's `InitialInverseHessianFactor`).
    public let initialInverseHessianFactor: Double
    /// The largest value the inverse Hessian factor may take: a safeguard against a nearly
    /// zero gradient difference, which would make the next step enormous.
    public let maxInverseHessianFactor: Double
    /// The current inverse Hessian factor `λ`, the scale of the approximation of the inverse
    /// Hessian beyond the history (`λ·I`): `sᵀy/yᵀy` of the latest pair.
    public internal(set) var inverseHessianFactor: Double
    /// The number of steps taken.
    public internal(set) var iteration = 0
    /// The loss at the current parameters; nil before the first step.
    public internal(set) var loss: Double?
    /// The gradients at the current parameters, one per parameter array in the container's
    /// order; nil before the first step.
    public internal(set) var gradients: [DLArray]?
    /// The L2 norm of the trainable parameters' gradients at the current parameters.
    public internal(set) var gradientsNorm: Double?
    /// The L2 norm of the last step (0 when it failed or the gradients were zero).
    public internal(set) var stepNorm: Double?
    /// The step length the last line search chose along the search direction.
    public internal(set) var learnRate: Double?
    /// The outcome of the last line search; nil before the first step.
    public internal(set) var lineSearchStatus: LBFGSLineSearchStatus?
    /// The line search method of the last step; nil before the first step.
    public internal(set) var lineSearchMethod: LBFGSLineSearchMethod?
    /// The stored steps `s`, oldest first, in the solver's scaled coordinates (see
    /// ``stepHistory``).
    var steps: [[Double]] = []
    /// The stored gradient differences `y`, oldest first, paired with ``steps``.
    var gradientDifferences: [[Double]] = []

    /// A state with an empty history.
    /// - Parameters:
    ///   - historySize: the number of pairs kept, at least 1; 10 by default (3 to 20 suit most tasks).
    ///   - initialInverseHessianFactor: the first inverse Hessian factor, positive; 1 by default.
    ///   - maxInverseHessianFactor: the largest inverse Hessian factor, at least the initial
    ///     one; 1e9 by default.
    /// - Throws: ``DLError/invalidArgument(_:)`` for values out of range.
    public init(historySize: Int = 10, initialInverseHessianFactor: Double = 1,
                maxInverseHessianFactor: Double = 1e9) throws {
        try requireSetting(historySize >= 1, "lbfgsState: historySize must be a positive integer, got \(historySize)")
        try requireSetting(initialInverseHessianFactor.isFinite && initialInverseHessianFactor > 0,
                           "lbfgsState: initialInverseHessianFactor must be finite and positive, got \(initialInverseHessianFactor)")
        try requireSetting(maxInverseHessianFactor >= initialInverseHessianFactor, """
            lbfgsState: maxInverseHessianFactor (\(maxInverseHessianFactor)) must be at least \
            initialInverseHessianFactor (\(initialInverseHessianFactor))
            """)
        self.historySize = historySize
        self.initialInverseHessianFactor = initialInverseHessianFactor
        self.maxInverseHessianFactor = maxInverseHessianFactor
        inverseHessianFactor = initialInverseHessianFactor
    }

    /// The stored steps, oldest first, as float64 vectors (MATLAB's `StepHistory`).
    ///
    /// They are in the solver's scaled coordinates: each element divided by the square root of
    /// its array's learn-rate factor (unchanged when every factor is 1).
    public var stepHistory: [DLArray] { steps.map { DLArray($0) } }

    /// The stored gradient differences, oldest first, as float64 vectors (MATLAB's
    /// `GradientsDifferenceHistory`), each element multiplied by the square root of its array's
    /// learn-rate factor.
    public var gradientsDifferenceHistory: [DLArray] { gradientDifferences.map { DLArray($0) } }
}
