import CSwiftDLSupport
import RealModule

/// One step of adaptive moment estimation (Adam), as MATLAB's `adamupdate`: returns the updated
/// parameters and the updated moving averages, which the caller passes back at the next step.
///
/// For every array, with gradient `g`, learn rate `α` (times the array's learn-rate factor),
/// decays `β₁`, `β₂` and iteration `t`:
///
/// ```
/// m = β₁·m + (1 − β₁)·g
/// v = β₂·v + (1 − β₂)·g²
/// p = p − α·√(1 − β₂ᵗ)/(1 − β₁ᵗ) · m/(√v + ε)
/// ```
///
/// The bias correction goes into the learn rate and `ε` is added to `√v` itself, as MATLAB
/// does; PyTorch's `Adam` adds its `ε` to `√v/√(1 − β₂ᵗ)` instead, which is the same step with
/// its `ε` equal to this `ε/√(1 − β₂ᵗ)`.
///
/// ```swift
/// var averageGradient: [DLArray]? = nil, averageSquaredGradient: [DLArray]? = nil
/// for iteration in 1...100 {
///     let (loss, gradients) = try dlfeval(modelLoss, parameters)
///     (parameters, averageGradient, averageSquaredGradient) = try adamupdate(
///         parameters, gradients, averageGradient, averageSquaredGradient, iteration: iteration)
/// }
/// ```
///
/// Parameters can be any ``DLArrayContainer`` (an array, arrays, dictionaries, your own types, a
/// network's learnables); the gradients and averages have the same structure. An array whose
/// learn-rate factor is 0 (see ``DLLearnRateScaled``) is returned unchanged, and so are its
/// averages (zeros on the first step); another factor multiplies that array's learn rate. The
/// step is computed without tracing, keeps each parameter's shape, element type and labels, and
/// gives the averages the same ones.
///
/// The averages are taken as `consuming` arguments: an average array that nothing else holds
/// (the caller passes its last copy, as the loop above does, or a value just taken out of a
/// dictionary) is updated in place, with no new array and no fresh memory touched; one that is
/// still held elsewhere is left unchanged and a new array is returned, as MATLAB's value
/// semantics ask. The results are the same bits either way.
///
/// - Parameters:
///   - parameters: the learnable parameters, real (float32 or float64).
///   - gradients: the gradients of the loss with respect to `parameters`, in their structure.
///   - averageGradient: the moving average of the gradients from the previous step; nil (or a
///     container without arrays) on the first step, as MATLAB's `[]`.
///   - averageSquaredGradient: the moving average of the squared gradients; nil on the first step.
///   - iteration: the step number, from 1, for the bias correction.
///   - learnRate: the global learn rate `α`, 0.001 by default.
///   - gradientDecay: `β₁`, in [0, 1); 0.9 by default.
///   - squaredGradientDecay: `β₂`, in [0, 1); 0.999 by default.
///   - epsilon: `ε`, positive; 1e-8 by default.
/// - Returns: the updated parameters and averages, in the structure of `parameters`.
/// - Throws: ``DLError/invalidArgument(_:)`` for a setting out of range, an iteration below 1,
///   a state given for only one of the averages, or containers of different structures;
///   ``DLError/shapeMismatch(_:)`` when a gradient or an average does not have its parameter's
///   shape; ``DLError/unsupportedType(_:)`` for complex or bool arrays.
public func adamupdate<P: DLArrayContainer>(
    _ parameters: P, _ gradients: P, _ averageGradient: consuming P?, _ averageSquaredGradient: consuming P?,
    iteration: Int, learnRate: Double = 0.001, gradientDecay: Double = 0.9,
    squaredGradientDecay: Double = 0.999, epsilon: Double = 1e-8
) throws -> (parameters: P, averageGradient: P, averageSquaredGradient: P) {
    try requireSetting(iteration >= 1, "adamupdate: iteration must be a positive integer (1 at the first step), got \(iteration)")
    try requireSetting(learnRate.isFinite && learnRate >= 0, "adamupdate: learnRate must be finite and non-negative, got \(learnRate)")
    try requireSetting((0..<1).contains(gradientDecay), "adamupdate: gradientDecay must be in [0, 1), got \(gradientDecay)")
    try requireSetting((0..<1).contains(squaredGradientDecay),
                       "adamupdate: squaredGradientDecay must be in [0, 1), got \(squaredGradientDecay)")
    try requireSetting(epsilon.isFinite && epsilon > 0, "adamupdate: epsilon must be finite and positive, got \(epsilon)")

    let operands = try UpdateOperands("adamupdate", parameters: parameters, gradients: gradients, allowComplex: false)
    var averages = try operands.state(averageGradient, named: "averageGradient")
    var squaredAverages = try operands.state(averageSquaredGradient, named: "averageSquaredGradient")
    // Let go of the caller's containers: the arrays above may now be the averages' only holders.
    averageGradient = nil
    averageSquaredGradient = nil
    try requireSetting((averages == nil) == (squaredAverages == nil), """
        adamupdate: averageGradient and averageSquaredGradient must both be nil (the first step) or \
        both hold the averages the previous step returned
        """)

    // The bias correction of the two averages, folded into the learn rate.
    let t = Double(iteration)
    let biasCorrection = (1 - Double.pow(squaredGradientDecay, t)).squareRoot() / (1 - Double.pow(gradientDecay, t))
    var updated: (parameters: [DLArray], averages: [DLArray], squaredAverages: [DLArray]) = ([], [], [])
    var steps: [ElementwiseUpdate] = []
    for (index, parameter) in operands.parameters.enumerated() {
        // Both averages in place, or neither (the in-place loop reads and writes each through
        // one pointer); asked before any other copy of them is made here.
        let inPlace = averages?[index].isUniquelyHeld(like: parameter) == true
            && squaredAverages?[index].isUniquelyHeld(like: parameter) == true
        let average = averages?[index] ?? .zeros(like: parameter)
        let squaredAverage = squaredAverages?[index] ?? .zeros(like: parameter)
        let rate = learnRate * operands.learnRateFactors[index]
        guard rate != 0 else {
            updated.parameters.append(parameter)
            updated.averages.append(average)
            updated.squaredAverages.append(squaredAverage)
            continue
        }
        let step = dispatchReal(parameter.dataType, AdamStep(
            parameter: parameter, gradient: operands.gradients[index], average: average, squaredAverage: squaredAverage,
            learnRate: rate * biasCorrection, gradientDecay: gradientDecay, squaredGradientDecay: squaredGradientDecay,
            epsilon: epsilon, inPlace: inPlace))
        steps.append(step)
        updated.parameters.append(step.outputs[0])
        updated.averages.append(step.outputs[1])
        updated.squaredAverages.append(step.outputs[2])
    }
    // All arrays in one loop across the cores: a network's arrays are each too small to split.
    ElementwiseUpdate.run(steps)
    return (parameters.replacingArrays(with: updated.parameters),
            parameters.replacingArrays(with: updated.averages),
            parameters.replacingArrays(with: updated.squaredAverages))
}

/// The fused Adam step of one array, as MATLAB's, prepared: the new parameter, average gradient
/// and average squared gradient, from a learn rate that already holds the bias correction; with
/// `inPlace`, the averages are written into their own arrays. The loop is C's
/// (CSwiftDLSupport), where the square root vectorizes.
private struct AdamStep: RealKernel {
    let parameter, gradient, average, squaredAverage: DLArray
    let learnRate, gradientDecay, squaredGradientDecay, epsilon: Double
    let inPlace: Bool

    func run<T: DLRealElement>(_ type: T.Type) -> ElementwiseUpdate {
        let settings = (learnRate, gradientDecay, 1 - gradientDecay, squaredGradientDecay, 1 - squaredGradientDecay, epsilon)
        let inPlace = self.inPlace
        return ElementwiseUpdate(T.self, like: parameter, inputs: [parameter, gradient, average, squaredAverage],
                                 outputCount: 3, inPlace: inPlace ? [nil, average, squaredAverage] : []) { range, input, output in
            let count = range.count, start = range.lowerBound
            func pointers<E>(_ type: E.Type) -> (inputs: [UnsafeMutablePointer<E>], outputs: [UnsafeMutablePointer<E>]) {
                (input.map { UnsafeMutableRawPointer($0 + start).assumingMemoryBound(to: E.self) },
                 output.map { UnsafeMutableRawPointer($0 + start).assumingMemoryBound(to: E.self) })
            }
            if inPlace, T.self == Float.self {
                let (i, o) = pointers(Float.self)
                swiftdl_adam_step_in_place_f32(count, i[0], i[1], i[2], i[3], o[0], Float(settings.0), Float(settings.1),
                                               Float(settings.2), Float(settings.3), Float(settings.4), Float(settings.5))
            } else if inPlace {
                let (i, o) = pointers(Double.self)
                swiftdl_adam_step_in_place_f64(count, i[0], i[1], i[2], i[3], o[0], settings.0, settings.1, settings.2,
                                               settings.3, settings.4, settings.5)
            } else if T.self == Float.self {
                let (i, o) = pointers(Float.self)
                swiftdl_adam_step_f32(count, i[0], i[1], i[2], i[3], o[0], o[1], o[2], Float(settings.0),
                                      Float(settings.1), Float(settings.2), Float(settings.3), Float(settings.4),
                                      Float(settings.5))
            } else {
                let (i, o) = pointers(Double.self)
                swiftdl_adam_step_f64(count, i[0], i[1], i[2], i[3], o[0], o[1], o[2], settings.0, settings.1,
                                      settings.2, settings.3, settings.4, settings.5)
            }
        }
    }
}
