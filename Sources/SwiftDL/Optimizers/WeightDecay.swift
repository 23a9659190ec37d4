/// The gradients with L2 regularization added: `g + factor·w` for each gradient `g` and its
/// parameter `w`, the gradient of the loss plus `factor/2·‖w‖²`.
///
/// MATLAB's custom training loops write this with `dlupdate(@(g, w) g + factor*w, gradients,
/// parameters)`; PyTorch's `SGD` and `Adam` do it with `weight_decay`. Call it on the gradients
/// before an optimizer step; it applies to every array, biases included (to regularize only
/// some, pass those). Arrays whose learn-rate factor is 0 (see ``DLLearnRateScaled``) keep their
/// gradients, since they do not learn.
///
/// ```swift
/// let regularized = try addingL2Regularization(to: gradients, parameters: parameters, factor: 1e-4)
/// (parameters, velocity) = try sgdmupdate(parameters, regularized, velocity)
/// ```
///
/// The result has the structure of `gradients`, each array its gradient's element type (that
/// of its parameter), shape and labels; it is not traced.
/// - Throws: ``DLError/invalidArgument(_:)`` unless `factor` is finite and non-negative, or for
///   containers of different structures; ``DLError/shapeMismatch(_:)`` for a gradient whose
///   shape is not its parameter's; ``DLError/unsupportedType(_:)`` for bool arrays.
public func addingL2Regularization<P: DLArrayContainer>(to gradients: P, parameters: P, factor: Double) throws -> P {
    try requireSetting(factor.isFinite && factor >= 0,
                       "addingL2Regularization: factor must be finite and non-negative, got \(factor)")
    let operands = try UpdateOperands("addingL2Regularization", parameters: parameters, gradients: gradients,
                                      allowComplex: true)
    let regularized = operands.parameters.indices.map { index in
        let gradient = operands.gradients[index]
        guard factor != 0, operands.learnRateFactors[index] != 0 else { return gradient }
        return dispatchFloating(gradient.dataType, AddScaled(array: gradient, other: operands.parameters[index], scale: factor))
    }
    return gradients.replacingArrays(with: regularized)
}

/// The parameters after decoupled weight decay: `w·(1 − learnRate·decay)` for each array, as
/// AdamW (Loshchilov and Hutter) and PyTorch's `AdamW` do before their step.
///
/// Call it on the parameters just before an optimizer step, with that step's learn rate; unlike
/// ``addingL2Regularization(to:parameters:factor:)`` the decay does not pass through the
/// optimizer's averages. `adamupdate` after it is AdamW:
///
/// ```swift
/// let (loss, gradients) = try dlfeval(modelLoss, parameters)
/// let decayed = try applyingDecoupledWeightDecay(to: parameters, learnRate: 1e-3, decay: 0.01)
/// (parameters, averageGradient, averageSquaredGradient) = try adamupdate(
///     decayed, gradients, averageGradient, averageSquaredGradient, iteration: iteration, learnRate: 1e-3)
/// ```
///
/// An array's learn-rate factor (see ``DLLearnRateScaled``) multiplies its learn rate here too:
/// an array whose factor is 0 is returned unchanged. The result keeps each array's element
/// type, shape and labels and is not traced.
/// - Throws: ``DLError/invalidArgument(_:)`` unless `learnRate` and `decay` are finite and
///   non-negative; ``DLError/unsupportedType(_:)`` for bool arrays.
public func applyingDecoupledWeightDecay<P: DLArrayContainer>(to parameters: P, learnRate: Double,
                                                               decay: Double) throws -> P {
    try requireSetting(learnRate.isFinite && learnRate >= 0,
                       "applyingDecoupledWeightDecay: learnRate must be finite and non-negative, got \(learnRate)")
    try requireSetting(decay.isFinite && decay >= 0,
                       "applyingDecoupledWeightDecay: decay must be finite and non-negative, got \(decay)")
    let function = "applyingDecoupledWeightDecay"
    let arrays = try floatingArrays(of: parameters, function: function, allowComplex: true)
    let factors = try learnRateFactors(of: parameters, count: arrays.count, function: function)
    let decayed = zip(arrays, factors).map { parameter, factor in
        let shrink = learnRate * factor * decay
        return shrink == 0 ? parameter : (extractdata(parameter) * (1 - shrink)).withLabels(parameter.labels)
    }
    return parameters.replacingArrays(with: decayed)
}

/// `array + scale·other`, elementwise over arrays of the same shape and type, with `array`'s labels.
private struct AddScaled: FloatingKernel {
    let array, other: DLArray
    let scale: Double
    func run<T: DLFloatingElement>(_ type: T.Type) -> DLArray {
        let scale = T(dlValue: scale)
        return elementwiseUpdate(T.self, like: array, inputs: [array, other], outputCount: 1) { range, input, output in
            let (a, b, sum) = (input[0], input[1], output[0])
            for i in range { sum[i] = a[i] + scale * b[i] }
        }[0]
    }
}
