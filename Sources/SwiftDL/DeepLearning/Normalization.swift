// Normalization operations, as MATLAB's batchnorm, layernorm, groupnorm and instancenorm.
//
// Each is a composition of differentiable operations (means, differences, square roots,
// quotients), so its first and second derivatives, through the data and through the scale
// and offset, come from those operations' rules. In training mode batchnorm's statistics are
// computed from the traced input, so the gradient includes their dependence on it.

/// The dimensions ``layernorm(_:_:_:operationDimension:epsilon:dataFormat:)`` normalizes over,
/// as MATLAB's `OperationDimension` option.
public enum LayerNormDimension: Sendable, Equatable {
    /// MATLAB's `"auto"`: every dimension except the batch (`B`) and time (`T`) ones: the
    /// channels of a feature vector (`"BC"`), the channels at each time step of a sequence
    /// (`"TBC"`), the channels and spatial positions of an image (`"BCSS"`).
    case auto
    /// `"channel-only"`: the channel dimension alone.
    case channelOnly
    /// `"spatial-channel"`: the channel and spatial (`S`) dimensions.
    case spatialChannel
    /// `"batch-excluded"`: every dimension except the batch dimension (time included).
    case batchExcluded
}

/// The results of batch normalization in training mode: the normalized data and the running
/// statistics updated with this batch's (MATLAB's `[Y, runningMean, runningVar]`).
public struct BatchNormResult: Sendable {
    /// The normalized, scaled and offset input, labeled as the input was (traced).
    public let output: DLArray
    /// The updated running mean, shaped (and labeled) as the running mean passed in. Not traced:
    /// running statistics are not differentiated.
    public let runningMean: DLArray
    /// The updated running variance, shaped as the running variance passed in; not traced.
    public let runningVariance: DLArray
}

/// The input of a normalization: resolved labels, the data in canonical order, and the
/// position of its channel dimension.
struct NormalizationInput {
    let format: DataFormat
    /// The input in canonical order, unlabeled.
    let array: DLArray
    /// The canonical labels of `array`.
    let labels: [Character]
    /// The position of the channel dimension.
    let channel: Int
    let operation: String

    init(_ x: DLArray, dataFormat: String?, operation: String) throws {
        try requireReal(x, operation)
        format = try DataFormat(x, dataFormat: dataFormat, operation: operation)
        labels = Array(format.input.labels)
        guard let channel = labels.firstIndex(of: "C") else {
            throw DLError.invalidArgument(
                "\(operation) needs a channel (C) dimension for its per-channel scale and offset; the input is labeled \"\(String(labels))\"")
        }
        self.channel = channel
        self.operation = operation
        array = stripdims(format.input)
    }

    var channels: Int { array.shape[channel] }

    /// The dimensions labeled with one of `letters`.
    func dims(_ letters: String) -> [Int] { labels.indices.filter { letters.contains(labels[$0]) } }

    /// `parameter` (one value per channel, any shape) shaped to broadcast along the channels of
    /// an array of this input's rank.
    func perChannel(_ parameter: DLArray, _ name: String) throws -> DLArray {
        guard parameter.count == channels else {
            throw DLError.shapeMismatch(
                "\(operation): \(name) has \(parameter.count) elements (shape \(parameter.shape)) for an input of \(channels) channels; give one value per channel")
        }
        try requireReal(parameter, operation)
        var shape = [Int](repeating: 1, count: array.rank)
        shape[channel] = channels
        return try reshape(stripdims(parameter), shape)
    }

    /// `y * scale + offset`, per channel.
    func affine(_ y: DLArray, scale: DLArray, offset: DLArray) throws -> DLArray {
        try y * perChannel(scale, "scaleFactor") + perChannel(offset, "offset")
    }

    /// A result in canonical order, labeled and arranged as the caller passed the input.
    func result(_ y: DLArray) throws -> DLArray { try format.restore(y.withLabels(String(labels))) }
}

/// Checks that epsilon is positive.
func checkEpsilon(_ epsilon: Double, _ operation: String) throws {
    guard epsilon > 0, epsilon.isFinite else {
        throw DLError.invalidArgument("\(operation): epsilon must be a positive number, got \(epsilon)")
    }
}

/// `(x - mean) / sqrt(variance + epsilon)` with the mean and the (biased) variance taken over
/// `dims`; traced, differentiable to any order.
func normalized(_ x: DLArray, over dims: [Int], epsilon: Double) throws -> DLArray {
    let statistics = try centeredStatistics(x, over: dims)
    return try statistics.centered / sqrt(statistics.variance + epsilon)
}

/// The mean of `x` over `dims`, `x` minus it, and the biased variance over `dims` (the
/// statistics keep size 1 along `dims`), computed with differentiable operations.
func centeredStatistics(_ x: DLArray, over dims: [Int]) throws -> (mean: DLArray, centered: DLArray, variance: DLArray) {
    let mean = try SwiftDL.mean(x, dims: dims)
    let centered = try x - mean
    return (mean, centered, try SwiftDL.mean(centered * centered, dims: dims))
}

// MARK: - batchnorm

/// Batch normalization in training mode, as MATLAB's
/// `[Y, runningMean, runningVar] = batchnorm(X, offset, scaleFactor, runningMean, runningVar)`.
///
/// Each channel is normalized with the mean and (biased) variance of this batch over every
/// dimension except the channel one (batch, spatial, time and unspecified), then scaled and
/// offset: `y = scaleFactor · (x − μ) / √(σ² + ε) + offset`. The statistics depend on `x`, and
/// the gradient (of any order) accounts for it.
///
/// The running statistics are updated with MATLAB's decay convention, the decay weighting
/// this batch's statistic:
///
///     runningMean     = meanDecay · μ + (1 − meanDecay) · runningMean
///     runningVariance = varianceDecay · σ²·M/(M − 1) + (1 − varianceDecay) · runningVariance
///
/// where `M` is the number of elements per channel: the running variance accumulates the
/// unbiased batch variance. This is PyTorch's update with `momentum` = the decay (PyTorch's
/// `momentum` also weights the new statistic); with `M = 1` the factor is taken as 1. The
/// running statistics are not traced.
///
/// - Parameters:
///   - x: the input, labeled (`"BCSS"`, `"BC"`, `"TBC"`…) or unlabeled with `dataFormat`; it
///     needs a channel dimension.
///   - offset: the offset β, one value per channel (any shape holding C values).
///   - scaleFactor: the scale γ, one value per channel.
///   - runningMean: the mean so far, one value per channel (start with zeros).
///   - runningVariance: the variance so far, one value per channel (start with ones).
///   - meanDecay: the weight of this batch's mean, in [0, 1]; 0.1 by default, as MATLAB.
///   - varianceDecay: the weight of this batch's variance, in [0, 1]; 0.1 by default.
///   - epsilon: added to the variance; 1e-5 by default.
///   - dataFormat: the labels of an unlabeled `x` (e.g. `"BCSS"` or MATLAB's `"SSCB"`).
///   - communicator: with workers training in parallel, each on its part of the mini-batch,
///     the statistics are those of the global mini-batch, reduced over the workers
///     (PyTorch's `SyncBatchNorm`, see ``synchronizedSum(_:over:share:)``); nil (the
///     default) uses this `x` alone.
/// - Returns: the output (labeled as `x`, or unlabeled in `x`'s order) and the updated running
///   statistics.
/// - Throws: ``DLError`` when `x` has no channel dimension, a parameter does not hold one
///   value per channel, a decay is outside [0, 1] or epsilon is not positive.
public func batchnorm(_ x: DLArray, _ offset: DLArray, _ scaleFactor: DLArray,
                      runningMean: DLArray, runningVariance: DLArray,
                      meanDecay: Double = 0.1, varianceDecay: Double = 0.1, epsilon: Double = 1e-5,
                      dataFormat: String? = nil,
                      synchronizedOver communicator: (any DLCommunicator)? = nil) throws -> BatchNormResult {
    try batchnorm(x, offset, scaleFactor, runningMean: runningMean, runningVariance: runningVariance,
                  meanDecay: meanDecay, varianceDecay: varianceDecay, epsilon: epsilon, dataFormat: dataFormat,
                  synchronizedOver: communicator, negativeSlope: nil)!
}

/// Training-mode ``batchnorm(_:_:_:runningMean:runningVariance:meanDecay:varianceDecay:epsilon:dataFormat:synchronizedOver:)``
/// whose output, with a `negativeSlope`, goes through a ReLU (0) or a leaky ReLU of that slope
/// (> 0) in the normalization's own pass: nil then when the fused kernels do not apply (a
/// communicator, or mixed or complex types), for the caller to apply the activation itself.
func batchnorm(_ x: DLArray, _ offset: DLArray, _ scaleFactor: DLArray, runningMean: DLArray, runningVariance: DLArray,
               meanDecay: Double, varianceDecay: Double, epsilon: Double, dataFormat: String?,
               synchronizedOver communicator: (any DLCommunicator)?, negativeSlope: Double?) throws -> BatchNormResult? {
    let input = try NormalizationInput(x, dataFormat: dataFormat, operation: "batchnorm")
    try checkEpsilon(epsilon, "batchnorm")
    for (name, decay) in [("meanDecay", meanDecay), ("varianceDecay", varianceDecay)] where !(0...1).contains(decay) {
        throw DLError.invalidArgument("batchnorm: \(name) must be in [0, 1], got \(decay)")
    }
    let scale = try input.perChannel(scaleFactor, "scaleFactor"), shift = try input.perChannel(offset, "offset")
    let output: DLArray, batchMean: DLArray, batchVariance: DLArray, perChannelCount: Double
    let fused = communicator == nil
        ? batchNormalization(input.array, channel: input.channel, scale: scale, offset: shift, epsilon: epsilon,
                             negativeSlope: negativeSlope)
        : nil
    if negativeSlope != nil && fused == nil { return nil }
    if let fused {
        output = fused.output
        batchMean = try reshape(fused.moments.slice(dim: 0, range: 0..<1), scale.shape)
        batchVariance = try reshape(fused.moments.slice(dim: 0, range: 1..<2), scale.shape)
        perChannelCount = Double(input.array.count / input.channels)
    } else {
        // Synchronized over workers, or of mixed or complex types: composed of differentiable
        // operations. (x − μ)·(γ/√(σ² + ε)) + β: the per-channel factor is formed first, so
        // the full-size array goes through one product instead of a quotient and a product.
        let dims = input.array.shape.indices.filter { $0 != input.channel }
        let traced = try batchStatistics(input.array, over: dims, synchronizedOver: communicator)
        output = try traced.centered * (scale / sqrt(traced.variance + epsilon)) + shift
        batchMean = extractdata(traced.mean)
        batchVariance = extractdata(traced.variance)
        perChannelCount = traced.count
    }
    // The running statistics, from the values only.
    let previousMean = try input.perChannel(extractdata(runningMean), "runningMean")
    let previousVariance = try input.perChannel(extractdata(runningVariance), "runningVariance")
    let correction = perChannelCount / max(perChannelCount - 1, 1)
    let updatedMean = try meanDecay * batchMean + (1 - meanDecay) * previousMean
    let updatedVariance = try (varianceDecay * correction) * batchVariance + (1 - varianceDecay) * previousVariance
    return BatchNormResult(
        output: try input.result(output),
        runningMean: try reshape(updatedMean, runningMean.shape).withLabels(runningMean.labels),
        runningVariance: try reshape(updatedVariance, runningVariance.shape).withLabels(runningVariance.labels))
}

/// Batch normalization in inference mode, as MATLAB's
/// `Y = batchnorm(X, offset, scaleFactor, trainedMean, trainedVar)`: each channel is
/// normalized with the given statistics, `y = scaleFactor · (x − mean) / √(variance + ε) + offset`.
///
/// Differentiable (to any order) in `x`, `offset`, `scaleFactor` and the statistics.
///
/// - Parameters:
///   - x: the input, labeled or unlabeled with `dataFormat`; it needs a channel dimension.
///   - offset: the offset β, one value per channel.
///   - scaleFactor: the scale γ, one value per channel.
///   - trainedMean: the mean to normalize with, one value per channel (the running mean of
///     training).
///   - trainedVariance: the variance to normalize with, one value per channel.
///   - epsilon: added to the variance; 1e-5 by default.
///   - dataFormat: the labels of an unlabeled `x`.
/// - Returns: the output, labeled as `x` (or unlabeled in `x`'s order).
/// - Throws: ``DLError`` when `x` has no channel dimension or a parameter does not hold one
///   value per channel.
public func batchnorm(_ x: DLArray, _ offset: DLArray, _ scaleFactor: DLArray,
                      trainedMean: DLArray, trainedVariance: DLArray, epsilon: Double = 1e-5,
                      dataFormat: String? = nil) throws -> DLArray {
    let input = try NormalizationInput(x, dataFormat: dataFormat, operation: "batchnorm")
    try checkEpsilon(epsilon, "batchnorm")
    let mean = try input.perChannel(trainedMean, "trainedMean")
    let variance = try input.perChannel(trainedVariance, "trainedVariance")
    let y = try (input.array - mean) / sqrt(variance + epsilon)
    return try input.result(input.affine(y, scale: scaleFactor, offset: offset))
}

// MARK: - layernorm

/// Layer normalization, as MATLAB's `layernorm(X, offset, scaleFactor)`: each observation is
/// normalized with its own mean and (biased) variance over the dimensions
/// `operationDimension` selects (by default every dimension but batch and time), then scaled
/// and offset per channel.
///
/// - Parameters:
///   - x: the input, labeled or unlabeled with `dataFormat`; it needs a channel dimension.
///   - offset: the offset β, one value per channel.
///   - scaleFactor: the scale γ, one value per channel.
///   - operationDimension: the dimensions to normalize over (see ``LayerNormDimension``).
///   - epsilon: added to the variance; 1e-5 by default.
///   - dataFormat: the labels of an unlabeled `x`.
/// - Returns: the output, labeled as `x` (or unlabeled in `x`'s order).
/// - Throws: ``DLError`` when `x` has no channel dimension or a parameter does not hold one
///   value per channel.
public func layernorm(_ x: DLArray, _ offset: DLArray, _ scaleFactor: DLArray,
                      operationDimension: LayerNormDimension = .auto, epsilon: Double = 1e-5,
                      dataFormat: String? = nil) throws -> DLArray {
    let input = try NormalizationInput(x, dataFormat: dataFormat, operation: "layernorm")
    try checkEpsilon(epsilon, "layernorm")
    let dims: [Int]
    switch operationDimension {
    case .auto: dims = input.dims("CSU")
    case .channelOnly: dims = input.dims("C")
    case .spatialChannel: dims = input.dims("CS")
    case .batchExcluded: dims = input.dims("CSTU")
    }
    let y = try normalized(input.array, over: dims, epsilon: epsilon)
    return try input.result(input.affine(y, scale: scaleFactor, offset: offset))
}

// MARK: - groupnorm and instancenorm

/// Group normalization, as MATLAB's `groupnorm(X, numGroups, offset, scaleFactor)`: the
/// channels are split into `numGroups` groups of consecutive channels, and each group of each
/// observation is normalized with its mean and (biased) variance over its channels and every
/// spatial, time and unspecified dimension; then scaled and offset per channel.
///
/// `numGroups = 1` normalizes all channels together (MATLAB's `"all-channels"`); `numGroups`
/// equal to the number of channels normalizes each alone (`"channel-wise"`, as
/// ``instancenorm(_:_:_:epsilon:dataFormat:)``).
///
/// - Parameters:
///   - x: the input, labeled or unlabeled with `dataFormat`; it needs a channel dimension.
///   - numGroups: the number of groups, which must divide the number of channels.
///   - offset: the offset β, one value per channel.
///   - scaleFactor: the scale γ, one value per channel.
///   - epsilon: added to the variance; 1e-5 by default.
///   - dataFormat: the labels of an unlabeled `x`.
/// - Returns: the output, labeled as `x` (or unlabeled in `x`'s order).
/// - Throws: ``DLError`` when `x` has no channel dimension, `numGroups` does not divide the
///   channels or a parameter does not hold one value per channel.
public func groupnorm(_ x: DLArray, _ numGroups: Int, _ offset: DLArray, _ scaleFactor: DLArray,
                      epsilon: Double = 1e-5, dataFormat: String? = nil) throws -> DLArray {
    try groupNormalization(x, numGroups, offset, scaleFactor, epsilon: epsilon, dataFormat: dataFormat,
                           operation: "groupnorm")
}

/// Instance normalization, as MATLAB's `instancenorm(X, offset, scaleFactor)`: each channel of
/// each observation is normalized with its mean and (biased) variance over the spatial, time
/// and unspecified dimensions, then scaled and offset per channel.
///
/// - Parameters:
///   - x: the input, labeled or unlabeled with `dataFormat`; it needs a channel dimension.
///   - offset: the offset β, one value per channel.
///   - scaleFactor: the scale γ, one value per channel.
///   - epsilon: added to the variance; 1e-5 by default.
///   - dataFormat: the labels of an unlabeled `x`.
/// - Returns: the output, labeled as `x` (or unlabeled in `x`'s order).
/// - Throws: ``DLError`` when `x` has no channel dimension or a parameter does not hold one
///   value per channel.
public func instancenorm(_ x: DLArray, _ offset: DLArray, _ scaleFactor: DLArray,
                         epsilon: Double = 1e-5, dataFormat: String? = nil) throws -> DLArray {
    let channels = try NormalizationInput(x, dataFormat: dataFormat, operation: "instancenorm").channels
    return try groupNormalization(x, channels, offset, scaleFactor, epsilon: epsilon, dataFormat: dataFormat,
                                  operation: "instancenorm")
}

func groupNormalization(_ x: DLArray, _ groups: Int, _ offset: DLArray, _ scaleFactor: DLArray,
                        epsilon: Double, dataFormat: String?, operation: String) throws -> DLArray {
    let input = try NormalizationInput(x, dataFormat: dataFormat, operation: operation)
    try checkEpsilon(epsilon, operation)
    let channels = input.channels
    guard groups >= 1, channels % groups == 0 else {
        throw DLError.invalidArgument(
            "\(operation): \(channels) channels cannot be split into \(groups) groups of equal size; numGroups must divide the number of channels")
    }
    // Bring the input to [N, C, rest…] (rest: the U, T and S dimensions in order).
    let batch = input.labels.firstIndex(of: "B")
    let rest = input.labels.indices.filter { $0 != input.channel && $0 != batch }
    let order = (batch.map { [$0] } ?? []) + [input.channel] + rest
    var arranged = try permute(input.array, order)
    if batch == nil { arranged = try expandDims(arranged, 0) }
    let shape = arranged.shape
    let restCount = rest.map { input.array.shape[$0] }.reduce(1, *)
    // Normalize each [channels/groups, rest] block of each observation and group.
    let grouped = try reshape(arranged, [shape[0], groups, channels / groups, restCount])
    var y = try reshape(normalized(grouped, over: [2, 3], epsilon: epsilon), shape)
    if batch == nil { y = try squeeze(y, dims: [0]) }
    var inverse = [Int](repeating: 0, count: order.count)
    for (k, d) in order.enumerated() { inverse[d] = k }
    y = try permute(y, inverse)
    return try input.result(input.affine(y, scale: scaleFactor, offset: offset))
}
