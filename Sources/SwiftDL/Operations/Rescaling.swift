/// `x` mapped linearly from the range [`inputMin`, `inputMax`] onto [`lower`, `upper`], as
/// MATLAB's `rescale(A, l, u, "InputMin", inmin, "InputMax", inmax)`:
/// `lower + (x - inputMin) / (inputMax - inputMin) · (upper - lower)`.
///
/// Without `inputMin` (`inputMax`) the smallest (largest) element of `x` is used, and the
/// gradient flows through it as well. Given bounds may be arrays that broadcast against `x`
/// (such as `min(x, dim: 1).values`, to rescale each row); elements of `x` outside them are
/// clamped to them first, as MATLAB does. Where the input range is empty (a constant array)
/// the result is `lower`.
/// - Throws: ``DLError/unsupportedType(_:)`` for complex input, ``DLError/shapeMismatch(_:)``
///   when the bounds do not broadcast, ``DLError/invalidArgument(_:)`` for `lower > upper` or
///   an empty array without bounds.
public func rescale(_ x: DLArray, lower: Double = 0, upper: Double = 1,
                    inputMin: DLArray? = nil, inputMax: DLArray? = nil) throws -> DLArray {
    try requireReal(x, "rescale")
    guard lower <= upper else {
        throw DLError.invalidArgument("rescale: the lower bound \(lower) is above the upper bound \(upper)")
    }
    guard x.count > 0 || (inputMin != nil && inputMax != nil) else {
        throw DLError.invalidArgument("rescale: an empty array has no smallest or largest element; give inputMin and inputMax")
    }
    var clamped = x.dataType == .bool ? x.converted(to: .float32) : x
    if let inputMin { clamped = try maximum(clamped, inputMin) }
    if let inputMax { clamped = try minimum(clamped, inputMax) }
    let low = try inputMin ?? min(x)
    let high = try inputMax ?? max(x)
    let width = try high - low
    let empty = try width .== 0
    let safeWidth = try select(empty, 1, width)
    let scaled = try (clamped - low) / safeWidth * (upper - lower) + lower
    return try select(empty, scalarOperand(lower, like: scaled), scaled).withLabels(x.labels)
}

/// `rescale` with scalar input bounds.
public func rescale(_ x: DLArray, lower: Double = 0, upper: Double = 1,
                    inputMin: Double, inputMax: Double) throws -> DLArray {
    try rescale(x, lower: lower, upper: upper,
                inputMin: scalarOperand(inputMin, like: x), inputMax: scalarOperand(inputMax, like: x))
}
