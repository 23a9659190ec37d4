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
    guard (0...1).contains(probability) else {
        throw DLError.invalidArgument("dropout: probability must be in [0, 1], got \(probability)")
    }
    guard training, probability > 0 else { return x }
    let keep = 1 - probability
    let scale = keep > 0 ? 1 / keep : 0
    let mask = DLArray.rand(x.shape, type: .float64, using: &generator).scalars(as: Double.self)
        .map { $0 >= probability ? scale : 0 }
    let type = x.dataType == .bool ? DLDataType.float32 : x.dataType
    let scaledMask = try DLArray(mask, shape: x.shape).converted(to: type)
    return try (stripdims(x) * scaledMask).withLabels(x.labels)
}

/// Dropout with a mask drawn from a generator seeded with `seed` (see
/// ``dropout(_:probability:training:using:)``): the same seed drops the same elements.
public func dropout(_ x: DLArray, probability: Double = 0.5, training: Bool = true,
                    seed: UInt64) throws -> DLArray {
    var generator = DLRandomGenerator(seed: seed)
    return try dropout(x, probability: probability, training: training, using: &generator)
}
