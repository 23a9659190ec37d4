/// One step of the limited-memory BFGS (L-BFGS) quasi-Newton method, as MATLAB's
/// `lbfgsupdate`: returns the updated parameters and solver state.
///
/// The step is `−η·H·g`, where `g` is the gradient, `H` the approximation of the inverse Hessian
/// built from the last ``LBFGSState/historySize`` steps and gradient differences (by the
/// two-loop recursion, from ``LBFGSState/inverseHessianFactor`` times the identity), and `η` the
/// step length a line search chooses, trying 1 first. The loss function is called at the
/// current parameters on the first step only (the state keeps the loss and gradients of the
/// point each step reaches) and once per point the line search tries.
///
/// ```swift
/// func rosenbrock(_ x: DLArray) throws -> (DLArray, DLArray) {
///     let y = try 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2
///     return (y, try dlgradient(y, x))
/// }
/// var x = DLArray([-1.0, 2.0]), state = try LBFGSState()
/// for _ in 1...100 {
///     (x, state) = try lbfgsupdate(x, { try dlfeval(rosenbrock, $0) }, state)
///     if state.gradientsNorm! < 1e-10 || state.lineSearchStatus == .failed { break }
/// }
/// ```
///
/// Parameters can be any ``DLArrayContainer`` of real arrays. An array whose learn-rate factor is
/// 0 (see ``DLLearnRateScaled``) is left out of the optimization and returned unchanged. Other
/// factors scale the coordinates the solver works in (each element divided by the square root
/// of its factor), so a factor multiplies that array's step where the approximate inverse
/// Hessian is a multiple of the identity, on the first step in particular, and the search
/// direction stays a descent direction. The solver computes in float64 and returns each
/// parameter in its own element type, shape and labels, untraced.
///
/// - Parameters:
///   - parameters: the learnable parameters, real (float32 or float64).
///   - lossFunction: the loss at the given parameters and its gradients with respect to them,
///     in their structure: typically `{ try dlfeval(modelLoss, $0) }`.
///   - state: the solver state: a new ``LBFGSState`` on the first step, then the one the
///     previous step returned.
///   - lineSearchMethod: how the step length is chosen; the weak Wolfe conditions by default,
///     as MATLAB.
///   - maxNumLineSearchIterations: the most loss evaluations a line search may make; 20 by
///     default. When none satisfies the conditions the parameters are returned unchanged and
///     ``LBFGSState/lineSearchStatus`` is ``LBFGSLineSearchStatus/failed``.
/// - Returns: the updated parameters, in the structure of `parameters`, and the updated state.
/// - Throws: ``DLError/invalidArgument(_:)`` for a setting out of range, a loss that is not a
///   finite real scalar at the current parameters, gradients or a state whose structure is not
///   the parameters'; ``DLError/shapeMismatch(_:)`` for a gradient of the wrong shape;
///   ``DLError/unsupportedType(_:)`` for complex or bool arrays; and what `lossFunction` throws.
public func lbfgsupdate<P: DLArrayContainer>(
    _ parameters: P, _ lossFunction: (P) throws -> (DLArray, P), _ state: LBFGSState,
    lineSearchMethod: LBFGSLineSearchMethod = .weakWolfe, maxNumLineSearchIterations: Int = 20
) throws -> (parameters: P, state: LBFGSState) {
    try requireSetting(maxNumLineSearchIterations >= 1,
                       "lbfgsupdate: maxNumLineSearchIterations must be a positive integer, got \(maxNumLineSearchIterations)")
    let space = try SolverCoordinates(parameters)
    var state = state
    state.lineSearchMethod = lineSearchMethod
    try requireSetting(state.steps.first.map { $0.count == space.elementCount } ?? true, """
        lbfgsupdate: the state's history holds vectors of \(state.steps.first?.count ?? 0) elements but the \
        trainable parameters have \(space.elementCount); use a new LBFGSState for other parameters or \
        other learn-rate factors
        """)

    // The loss and gradients at the current parameters: kept by the previous step, or evaluated.
    let loss: Double, gradients: [DLArray]
    if let storedLoss = state.loss, let storedGradients = state.gradients {
        try checkStructure(storedGradients, named: "the state's gradients", function: "lbfgsupdate", matching: space.arrays)
        (loss, gradients) = (storedLoss, storedGradients)
    } else {
        (loss, gradients) = try space.evaluate(lossFunction, at: parameters)
        try requireSetting(loss.isFinite, """
            lbfgsupdate: the loss at the current parameters is \(loss); L-BFGS needs a finite loss to \
            start from
            """)
    }
    state.loss = loss
    state.gradients = gradients
    let x = space.flatten(space.arrays), g = space.flatten(gradients)
    state.gradientsNorm = dot(g, g).squareRoot()

    // The search direction, in the solver's scaled coordinates z = x/√factor, where the
    // gradient is g·√factor; then in the parameters' coordinates.
    let scaledGradient = zip(g, space.scale).map { $0 * $1 }
    guard scaledGradient.contains(where: { $0 != 0 }) else {
        (state.stepNorm, state.learnRate, state.lineSearchStatus) = (0, 0, .completed)
        return (parameters, state)
    }
    var scaledDirection = state.searchDirection(scaledGradient)
    if !(dot(scaledGradient, scaledDirection) < 0) {
        // Rounding made the quasi-Newton direction useless: start the history again.
        state.resetHistory()
        scaledDirection = scaledGradient.map { -state.inverseHessianFactor * $0 }
    }
    let direction = zip(scaledDirection, space.scale).map { $0 * $1 }

    let accepted = try lineSearch(lineSearchMethod, maxEvaluations: maxNumLineSearchIterations,
                                  loss: loss, slope: dot(g, direction)) { length in
        let arrays = try space.arrays(from: zip(x, direction).map { $0 + length * $1 })
        let (trialLoss, trialGradients) = try space.evaluate(lossFunction, at: parameters.replacingArrays(with: arrays))
        let trialGradient = space.flatten(trialGradients)
        return LineSearchTrial(stepLength: length, loss: trialLoss, slope: dot(trialGradient, direction),
                               payload: (arrays: arrays, gradients: trialGradients, gradient: trialGradient))
    }
    guard let accepted else {
        (state.stepNorm, state.lineSearchStatus) = (0, .failed)
        return (parameters, state)
    }

    // The step actually taken (after rounding to the parameters' types) and the change of the
    // gradient, stored in scaled coordinates when their curvature is positive.
    let step = zip(space.flatten(accepted.payload.arrays), x).map { $0 - $1 }
    let gradientDifference = zip(accepted.payload.gradient, g).map { $0 - $1 }
    state.remember(step: zip(step, space.scale).map { $0 / $1 },
                   gradientDifference: zip(gradientDifference, space.scale).map { $0 * $1 })
    state.iteration += 1
    state.loss = accepted.loss
    state.gradients = accepted.payload.gradients
    state.gradientsNorm = dot(accepted.payload.gradient, accepted.payload.gradient).squareRoot()
    state.stepNorm = dot(step, step).squareRoot()
    state.learnRate = accepted.stepLength
    state.lineSearchStatus = .completed
    return (parameters.replacingArrays(with: accepted.payload.arrays), state)
}

extension LBFGSState {
    /// `−H·gradient` by the two-loop recursion over the history (Nocedal and Wright's
    /// algorithm 7.4), with `H` equal to ``inverseHessianFactor`` times the identity beyond it.
    func searchDirection(_ gradient: [Double]) -> [Double] {
        var q = gradient
        let inverseCurvatures = zip(steps, gradientDifferences).map { 1 / dot($0, $1) }
        var alphas = [Double](repeating: 0, count: steps.count)
        for i in steps.indices.reversed() {
            alphas[i] = inverseCurvatures[i] * dot(steps[i], q)
            addScaled(-alphas[i], gradientDifferences[i], to: &q)
        }
        q = q.map { inverseHessianFactor * $0 }
        for i in steps.indices {
            let beta = inverseCurvatures[i] * dot(gradientDifferences[i], q)
            addScaled(alphas[i] - beta, steps[i], to: &q)
        }
        return q.map { -$0 }
    }

    /// Adds a step and its gradient difference to the history (dropping the oldest pair when it
    /// is full) and sets the inverse Hessian factor from them, when their curvature `sᵀy` is
    /// positive; otherwise the pair would spoil the approximation and is not kept.
    mutating func remember(step: [Double], gradientDifference: [Double]) {
        let curvature = dot(step, gradientDifference)
        guard curvature > 0, curvature.isFinite else { return }
        if steps.count == historySize {
            steps.removeFirst()
            gradientDifferences.removeFirst()
        }
        steps.append(step)
        gradientDifferences.append(gradientDifference)
        inverseHessianFactor = Swift.min(curvature / dot(gradientDifference, gradientDifference), maxInverseHessianFactor)
    }

    /// Forgets the history and restores the initial inverse Hessian factor.
    mutating func resetHistory() {
        steps = []
        gradientDifferences = []
        inverseHessianFactor = initialInverseHessianFactor
    }
}

/// The parameters as the L-BFGS solver sees them: one float64 vector of the elements of the
/// trainable arrays (learn-rate factor not 0), in the container's order.
private struct SolverCoordinates {
    /// The parameters' arrays, trainable or not.
    let arrays: [DLArray]
    /// The positions in ``arrays`` of the trainable ones.
    let trainable: [Int]
    /// The square root of the learn-rate factor of each element of the vector.
    let scale: [Double]
    /// The length of the vector.
    var elementCount: Int { scale.count }

    init<P: DLArrayContainer>(_ parameters: P) throws {
        arrays = try floatingArrays(of: parameters, function: "lbfgsupdate", allowComplex: false)
        let factors = try learnRateFactors(of: parameters, count: arrays.count, function: "lbfgsupdate")
        let (arrays, trainable) = (arrays, arrays.indices.filter { factors[$0] != 0 })
        self.trainable = trainable
        scale = trainable.flatMap { Array(repeating: factors[$0].squareRoot(), count: arrays[$0].count) }
    }

    /// The elements of the trainable positions of `arrays` (parameters or gradients) as one vector.
    func flatten(_ arrays: [DLArray]) -> [Double] {
        trainable.flatMap { arrays[$0].scalars(as: Double.self) }
    }

    /// The parameters' arrays with the trainable ones read from `vector`, each in its own
    /// element type, shape and labels; the frozen ones as they are.
    func arrays(from vector: [Double]) throws -> [DLArray] {
        var result = arrays
        var offset = 0
        for index in trainable {
            let original = arrays[index]
            let elements = Array(vector[offset ..< offset + original.count])
            offset += original.count
            result[index] = try DLArray(elements, shape: original.shape).storageConverted(to: original.dataType)
                .withLabels(original.labels)
        }
        return result
    }

    /// The loss and gradients `lossFunction` gives at `parameters`, checked.
    func evaluate<P: DLArrayContainer>(_ lossFunction: (P) throws -> (DLArray, P),
                                       at parameters: P) throws -> (loss: Double, gradients: [DLArray]) {
        let (loss, gradientContainer) = try lossFunction(parameters)
        guard loss.count == 1, loss.dataType.isFloatingPoint, !loss.dataType.isComplex else {
            throw DLError.invalidArgument("""
                lbfgsupdate: the loss function must return a real scalar loss, got a \(loss.dataType) array of \
                shape \(loss.shape)
                """)
        }
        let gradients = gradientContainer.flattenedArrays
        try checkStructure(gradients, named: "the loss function's gradients", function: "lbfgsupdate", matching: arrays)
        for (index, gradient) in gradients.enumerated() where !gradient.dataType.isFloatingPoint || gradient.dataType.isComplex {
            throw DLError.unsupportedType("""
                lbfgsupdate: gradients array \(index) is \(gradient.dataType); the loss function must return \
                real gradients
                """)
        }
        return (loss.scalar(as: Double.self), gradients)
    }
}

/// The dot product of two vectors of the same length.
private func dot(_ a: [Double], _ b: [Double]) -> Double {
    var sum = 0.0
    for i in a.indices { sum += a[i] * b[i] }
    return sum
}

/// `vector += scale · other`.
private func addScaled(_ scale: Double, _ other: [Double], to vector: inout [Double]) {
    for i in vector.indices { vector[i] += scale * other[i] }
}
