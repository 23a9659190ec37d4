/// One step of stochastic gradient descent with momentum (SGDM), as MATLAB's `sgdmupdate`:
/// returns the updated parameters and velocities, which the caller passes back at the next step.
///
/// For every array, with gradient `g`, learn rate `α` (times the array's learn-rate factor) and
/// momentum `γ`:
///
/// ```
/// v = γ·v − α·g
/// p = p + v
/// ```
///
/// PyTorch's `SGD` keeps `b = γ·b + g` and steps `p = p − α·b` instead: with a constant learn
/// rate the parameters are the same and its buffer is this velocity divided by `−α`.
///
/// ```swift
/// var velocity: [String: DLArray]? = nil
/// for _ in 1...100 {
///     let (loss, gradients) = try dlfeval(modelLoss, parameters)
///     (parameters, velocity) = try sgdmupdate(parameters, gradients, velocity, learnRate: 0.05)
/// }
/// ```
///
/// Parameters can be any ``DLArrayContainer``; the gradients and velocities have the same
/// structure. An array whose learn-rate factor is 0 (see ``DLLearnRateScaled``) is returned
/// unchanged, and so is its velocity (zeros on the first step); another factor multiplies that
/// array's learn rate. The step is computed without tracing, keeps each parameter's shape,
/// element type and labels, and gives the velocities the same ones. Complex parameters step
/// along their (conjugate Wirtinger) gradients.
///
/// - Parameters:
///   - parameters: the learnable parameters, floating-point arrays.
///   - gradients: the gradients of the loss with respect to `parameters`, in their structure.
///   - velocity: the velocities from the previous step; nil (or a container without arrays) on
///     the first step, as MATLAB's `[]`.
///   - learnRate: the global learn rate `α`, 0.01 by default.
///   - momentum: `γ`, the fraction of the previous velocity kept, in [0, 1]; 0.9 by default.
/// - Returns: the updated parameters and velocities, in the structure of `parameters`.
/// - Throws: ``DLError/invalidArgument(_:)`` for a setting out of range or containers of
///   different structures; ``DLError/shapeMismatch(_:)`` when a gradient or a velocity does not
///   have its parameter's shape; ``DLError/unsupportedType(_:)`` for bool arrays, or complex
///   gradients of real parameters.
public func sgdmupdate<P: DLArrayContainer>(
    _ parameters: P, _ gradients: P, _ velocity: P?, learnRate: Double = 0.01, momentum: Double = 0.9
) throws -> (parameters: P, velocity: P) {
    try requireSetting(learnRate.isFinite && learnRate >= 0, "sgdmupdate: learnRate must be finite and non-negative, got \(learnRate)")
    try requireSetting((0...1).contains(momentum), "sgdmupdate: momentum must be in [0, 1], got \(momentum)")

    let operands = try UpdateOperands("sgdmupdate", parameters: parameters, gradients: gradients, allowComplex: true)
    let velocities = try operands.state(velocity, named: "velocity")
    var updated: (parameters: [DLArray], velocities: [DLArray]) = ([], [])
    var steps: [ElementwiseUpdate] = []
    for (index, parameter) in operands.parameters.enumerated() {
        let previous = velocities?[index] ?? .zeros(like: parameter)
        let rate = learnRate * operands.learnRateFactors[index]
        guard rate != 0 else {
            updated.parameters.append(parameter)
            updated.velocities.append(previous)
            continue
        }
        let step = SGDMomentumStep(parameter: parameter, gradient: operands.gradients[index], velocity: previous,
                                   learnRate: rate, momentum: momentum)
        let update = dispatchFloating(parameter.dataType, step)
        steps.append(update)
        updated.parameters.append(update.outputs[0])
        updated.velocities.append(update.outputs[1])
    }
    ElementwiseUpdate.run(steps)
    return (parameters.replacingArrays(with: updated.parameters), parameters.replacingArrays(with: updated.velocities))
}

/// The fused SGDM step of one array, as MATLAB's, prepared: the new parameter and velocity.
private struct SGDMomentumStep: FloatingKernel {
    let parameter, gradient, velocity: DLArray
    let learnRate, momentum: Double

    func run<T: DLFloatingElement>(_ type: T.Type) -> ElementwiseUpdate {
        let rate = T(dlValue: learnRate), momentum = T(dlValue: momentum)
        return ElementwiseUpdate(T.self, like: parameter, inputs: [parameter, gradient, velocity],
                                 outputCount: 2) { range, input, output in
            let (p, g, v) = (input[0], input[1], input[2])
            let (newP, newV) = (output[0], output[1])
            for i in range {
                let velocity = momentum * v[i] - rate * g[i]
                newV[i] = velocity
                newP[i] = p[i] + velocity
            }
        }
    }
}
