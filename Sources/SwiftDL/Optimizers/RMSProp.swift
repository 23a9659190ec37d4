/// One step of root mean square propagation (RMSProp), as MATLAB's `rmspropupdate`: returns the
/// updated parameters and moving average of the squared gradients, which the caller passes back
/// at the next step.
///
/// For every array, with gradient `g`, learn rate `α` (times the array's learn-rate factor) and
/// decay `β`:
///
/// ```
/// v = β·v + (1 − β)·g²
/// p = p − α·g/(√v + ε)
/// ```
///
/// `ε` is added to `√v`, outside the square root, as in MATLAB and in PyTorch's `RMSprop` (whose
/// `alpha` is this `β`, 0.99 by default there).
///
/// ```swift
/// var averageSquaredGradient: [DLArray]? = nil
/// for _ in 1...100 {
///     let (loss, gradients) = try dlfeval(modelLoss, parameters)
///     (parameters, averageSquaredGradient) = try rmspropupdate(parameters, gradients, averageSquaredGradient)
/// }
/// ```
///
/// Parameters can be any ``DLArrayContainer``; the gradients and averages have the same
/// structure. An array whose learn-rate factor is 0 (see ``DLLearnRateScaled``) is returned
/// unchanged, and so is its average (zeros on the first step); another factor multiplies that
/// array's learn rate. The step is computed without tracing, keeps each parameter's shape,
/// element type and labels, and gives the averages the same ones.
///
/// - Parameters:
///   - parameters: the learnable parameters, real (float32 or float64).
///   - gradients: the gradients of the loss with respect to `parameters`, in their structure.
///   - averageSquaredGradient: the moving average of the squared gradients from the previous
///     step; nil (or a container without arrays) on the first step, as MATLAB's `[]`.
///   - learnRate: the global learn rate `α`, 0.001 by default.
///   - squaredGradientDecay: `β`, in [0, 1); 0.9 by default.
///   - epsilon: `ε`, positive; 1e-8 by default.
/// - Returns: the updated parameters and average, in the structure of `parameters`.
/// - Throws: ``DLError/invalidArgument(_:)`` for a setting out of range or containers of
///   different structures; ``DLError/shapeMismatch(_:)`` when a gradient or an average does not
///   have its parameter's shape; ``DLError/unsupportedType(_:)`` for complex or bool arrays.
public func rmspropupdate<P: DLArrayContainer>(
    _ parameters: P, _ gradients: P, _ averageSquaredGradient: P?,
    learnRate: Double = 0.001, squaredGradientDecay: Double = 0.9, epsilon: Double = 1e-8
) throws -> (parameters: P, averageSquaredGradient: P) {
    try requireSetting(learnRate.isFinite && learnRate >= 0, "rmspropupdate: learnRate must be finite and non-negative, got \(learnRate)")
    try requireSetting((0..<1).contains(squaredGradientDecay),
                       "rmspropupdate: squaredGradientDecay must be in [0, 1), got \(squaredGradientDecay)")
    try requireSetting(epsilon.isFinite && epsilon > 0, "rmspropupdate: epsilon must be finite and positive, got \(epsilon)")

    let operands = try UpdateOperands("rmspropupdate", parameters: parameters, gradients: gradients, allowComplex: false)
    let squaredAverages = try operands.state(averageSquaredGradient, named: "averageSquaredGradient")
    var updated: (parameters: [DLArray], squaredAverages: [DLArray]) = ([], [])
    var steps: [ElementwiseUpdate] = []
    for (index, parameter) in operands.parameters.enumerated() {
        let squaredAverage = squaredAverages?[index] ?? .zeros(like: parameter)
        let rate = learnRate * operands.learnRateFactors[index]
        guard rate != 0 else {
            updated.parameters.append(parameter)
            updated.squaredAverages.append(squaredAverage)
            continue
        }
        let step = RMSPropStep(parameter: parameter, gradient: operands.gradients[index], squaredAverage: squaredAverage,
                               learnRate: rate, squaredGradientDecay: squaredGradientDecay, epsilon: epsilon)
        let update = dispatchReal(parameter.dataType, step)
        steps.append(update)
        updated.parameters.append(update.outputs[0])
        updated.squaredAverages.append(update.outputs[1])
    }
    ElementwiseUpdate.run(steps)
    return (parameters.replacingArrays(with: updated.parameters),
            parameters.replacingArrays(with: updated.squaredAverages))
}

/// The fused RMSProp step of one array, as MATLAB's, prepared: the new parameter and average squared gradient.
private struct RMSPropStep: RealKernel {
    let parameter, gradient, squaredAverage: DLArray
    let learnRate, squaredGradientDecay, epsilon: Double

    func run<T: DLRealElement>(_ type: T.Type) -> ElementwiseUpdate {
        let rate = T(learnRate), epsilon = T(epsilon)
        let decay = T(squaredGradientDecay), complement = T(1 - squaredGradientDecay)
        return ElementwiseUpdate(T.self, like: parameter, inputs: [parameter, gradient, squaredAverage],
                                 outputCount: 2) { range, input, output in
            let (p, g, v) = (input[0], input[1], input[2])
            let (newP, newV) = (output[0], output[1])
            for i in range {
                let squaredAverage = decay * v[i] + complement * (g[i] * g[i])
                newV[i] = squaredAverage
                newP[i] = p[i] + -rate * (g[i] / (squaredAverage.squareRoot() + epsilon))
            }
        }
    }
}
