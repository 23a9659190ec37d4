/// Dropout, as MATLAB's `dropoutLayer` applied to an array: in training, each element is set
/// to zero with probability `probability` and the others are scaled by `1 / (1 − probability)`,
/// so the expected value is unchanged; in inference, the input is returned as it is.
///
/// The random mask is drawn from `generator` (one uniform number per element, in row-major
/// order; an element is kept when its number is at least `probability`), so a seed fixes it.
/// The output is the input times the constant scaled mask: its gradient is the upstream
/// gradient times the same mask, and it can be differentiated again.
///
/// ```swift
/// var generator = DLRandomGenerator(seed: 7)
/// let y = try dropout(x, probability: 0.2, using: &generator)
/// ```
///
/// Inside a function accelerated with ``dlaccelerate(_:)`` the draw would be fixed at the first
/// call; draw the numbers outside it and pass them in (``dropout(_:probability:training:uniforms:)``).
///
/// - Parameters:
///   - x: the input, labeled or not; the result keeps its labels.
///   - probability: the probability of dropping an element, in [0, 1]; 0.5 by default, as
///     MATLAB. With 1 every element is dropped (the output is zero).
///   - training: whether to drop elements (true) or return `x` unchanged (false, inference).
///     In inference the generator is not advanced.
///   - generator: the source of the mask.
/// - Throws: ``DLError/invalidArgument(_:)`` for a probability outside [0, 1].
public func dropout(_ x: DLArray, probability: Double = 0.5, training: Bool = true,
                    using generator: inout DLRandomGenerator) throws -> DLArray {
    try checkDropoutProbability(probability)
    guard training, probability > 0 else { return x }
    return try dropout(x, probability: probability, uniforms: DLArray.rand(x.shape, type: .float64, using: &generator))
}

/// Dropout with the mask's uniform numbers given (see ``dropout(_:probability:training:using:)``):
/// an element of `x` is kept, and scaled by `1 / (1 − probability)`, where its number in
/// `uniforms` is at least `probability`.
///
/// The mask is computed from `uniforms` by a kernel, so a function accelerated with
/// ``dlaccelerate(_:)`` that takes the numbers as an argument drops other elements on every
/// call. Numbers drawn as ``dropout(_:probability:training:using:)`` draws them (`rand` of `x`'s
/// shape in float64 from the same generator) give its result bit for bit.
///
/// ```swift
/// let uniforms = DLArray.rand(x.shape, type: .float64, using: &generator)   // outside
/// let y = try dropout(x, probability: 0.2, uniforms: uniforms)               // inside the accelerated function
/// ```
///
/// - Parameters:
///   - x: the input, labeled or not; the result keeps its labels.
///   - probability: the probability of dropping an element, in [0, 1].
///   - training: whether to drop elements (true) or return `x` unchanged (false, inference).
///   - uniforms: a real array of `x`'s shape, uniform in [0, 1); not differentiated.
/// - Throws: ``DLError/invalidArgument(_:)`` for a probability outside [0, 1];
///   ``DLError/shapeMismatch(_:)`` for numbers of another shape; ``DLError/unsupportedType(_:)``
///   for complex numbers.
public func dropout(_ x: DLArray, probability: Double = 0.5, training: Bool = true, uniforms: DLArray) throws -> DLArray {
    try checkDropoutProbability(probability)
    guard training, probability > 0 else { return x }
    guard uniforms.shape == x.shape else {
        throw DLError.shapeMismatch("dropout: the uniform numbers have shape \(uniforms.shape), the input \(x.shape); give one number per element")
    }
    try requireReal(uniforms, "dropout's uniform numbers")
    let keep = 1 - probability
    let scale = keep > 0 ? 1 / keep : 0
    let numbers = extractdata(uniforms).storageConverted(to: .float64)
    let mask = mapElements(numbers) { (u: Double) -> Double in u >= probability ? scale : 0 }
    let type = x.dataType == .bool ? DLDataType.float32 : x.dataType
    return try (stripdims(x) * mask.storageConverted(to: type)).withLabels(x.labels)
}

/// Dropout with a mask drawn from a generator seeded with `seed` (see
/// ``dropout(_:probability:training:using:)``): the same seed drops the same elements.
public func dropout(_ x: DLArray, probability: Double = 0.5, training: Bool = true,
                    seed: UInt64) throws -> DLArray {
    var generator = DLRandomGenerator(seed: seed)
    return try dropout(x, probability: probability, training: training, using: &generator)
}

/// Throws unless `probability` is in [0, 1].
private func checkDropoutProbability(_ probability: Double) throws {
    guard (0...1).contains(probability) else {
        throw DLError.invalidArgument("dropout: probability must be in [0, 1], got \(probability)")
    }
}
