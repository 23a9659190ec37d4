/// The softmax of `x` over its channel dimension, as MATLAB's `softmax`: at every position (each
/// observation, time step and spatial location) the channel values become probabilities,
/// `y_c = exp(x_c) / Σ_k exp(x_k)`.
///
/// It is computed stably: the largest channel value at each position is subtracted first (a
/// constant shift, which leaves the softmax unchanged, so first and second derivatives are
/// exact), and nothing overflows for large inputs.
///
/// ```swift
/// let scores = try DLArray([1.0, 2, 3, 1, 1, 1], shape: [2, 3], labels: "BC")
/// let probabilities = try softmax(scores)      // each row sums to 1
/// ```
///
/// - Parameters:
///   - x: real values, labeled (`"BC"`, `"TBC"`, `"BCSS"`…) or unlabeled with `dataFormat`.
///   - dataFormat: the labels of an unlabeled `x`, in SwiftDL's order (`"BC"`) or MATLAB's
///     (`"CB"`, which is read as MATLAB's dimension order).
/// - Returns: the probabilities, shaped and labeled as `x` (unlabeled in the caller's order when
///   `x` was unlabeled).
/// - Throws: ``DLError/invalidArgument(_:)`` when `x` has no channel (C) dimension or no labels
///   and no `dataFormat`; ``DLError/unsupportedType(_:)`` for complex input.
public func softmax(_ x: DLArray, dataFormat: String? = nil) throws -> DLArray {
    let (format, channel) = try channelFormat(x, dataFormat: dataFormat, operation: "softmax")
    let y = try softmax(stripdims(format.input), along: channel)
    return try format.restore(y.withLabels(format.input.labels))
}

/// The logarithm of the softmax of `x` over its channel dimension,
/// `y_c = x_c − log Σ_k exp(x_k)`, computed stably (no overflow for large inputs, no `log(0)`
/// for very negative ones); see ``softmax(_:dataFormat:)`` for the arguments.
///
/// Use it with class indices for a numerically robust cross-entropy:
/// `-logsoftmax(x)` at the target class is the loss PyTorch's `cross_entropy` computes.
///
/// - Returns: the log-probabilities, shaped and labeled as `x`.
/// - Throws: as ``softmax(_:dataFormat:)``.
public func logsoftmax(_ x: DLArray, dataFormat: String? = nil) throws -> DLArray {
    let (format, channel) = try channelFormat(x, dataFormat: dataFormat, operation: "logsoftmax")
    let y = try logsoftmax(stripdims(format.input), along: channel)
    return try format.restore(y.withLabels(format.input.labels))
}

/// Resolves the input of a channel-wise operation and finds its channel dimension.
private func channelFormat(_ x: DLArray, dataFormat: String?, operation: String) throws -> (DataFormat, Int) {
    try requireReal(x, operation)
    let format = try DataFormat(x, dataFormat: dataFormat, operation: operation)
    guard let channel = format.dim("C") else {
        throw DLError.invalidArgument(
            "\(operation) works over the channel (C) dimension; the input is labeled \"\(format.input.labels)\" (shape \(format.input.shape)), which has none")
    }
    return (format, channel)
}

/// The largest value along `dim` of `x`'s data (untraced: a constant for the shift), with
/// non-finite maxima (a slice of -∞, or NaN) replaced by 0 so the shift itself adds no NaN.
private func stableShift(_ data: DLArray, along dim: Int) throws -> DLArray {
    let largest = try max(data, dim: dim).values
    return try select(abs(largest) .< Double.infinity, largest, 0)
}

/// The softmax along dimension `dim` of an unlabeled real array (traced, twice differentiable).
///
/// With `allowed` (a bool array broadcasting to `x`'s shape), the positions where it is false
/// get probability 0, as if their values were -∞; a slice with no allowed position gives zeros
/// (not NaN), and no NaN or infinity enters the gradients.
func softmax(_ x: DLArray, along dim: Int, allowed: DLArray? = nil) throws -> DLArray {
    var data = extractdata(x)
    if let allowed { data = try select(allowed, data, -Double.infinity) }
    var shifted = try x - stableShift(data, along: dim)
    // Excluded positions become -∞ before the exponential (exp gives exactly 0 and its
    // derivative there is 0): a large excluded value cannot overflow exp and put ∞·0 in the
    // gradient.
    if let allowed { shifted = try select(allowed, shifted, -Double.infinity) }
    let exponentials = exp(shifted)
    var total = try sum(exponentials, dims: [dim])
    // Every allowed slice has a term exp(0) = 1, so the total is ≥ 1 unless nothing is allowed.
    if allowed != nil { total = try select(extractdata(total) .== 0, 1, total) }
    return try exponentials / total
}

/// The log-softmax along dimension `dim` of an unlabeled real array (traced, twice
/// differentiable).
func logsoftmax(_ x: DLArray, along dim: Int) throws -> DLArray {
    let shifted = try x - stableShift(extractdata(x), along: dim)
    return try shifted - log(sum(exp(shifted), dims: [dim]))
}
