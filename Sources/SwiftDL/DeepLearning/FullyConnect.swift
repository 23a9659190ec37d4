/// A fully connected layer's operation, as MATLAB's `fullyconnect`: every output is a weighted
/// sum of all the input's channel and spatial elements, plus a bias.
///
/// - Parameters:
///   - x: the input, labeled (`"BC"`, `"BCSS"`, `"TBC"`…) or unlabeled with `dataFormat`. The
///     channel and spatial dimensions are flattened into the features; batch and time stay.
///   - weights: `[inputSize, outputSize]` (the same memory as MATLAB's outputSize×inputSize
///     matrix), where `inputSize` is the number of features.
///   - bias: `outputSize` values, or nil.
/// - Returns: `[batch…, outputSize]` labeled `"BC"` (or `"TBC"`, `"C"`…), or unlabeled in
///   `x`'s order when `x` was unlabeled.
/// - Throws: ``DLError`` when the shapes do not fit or the input has no channel dimension.
public func fullyconnect(_ x: DLArray, _ weights: DLArray, _ bias: DLArray? = nil,
                         dataFormat: String? = nil) throws -> DLArray {
    let format = try DataFormat(x, dataFormat: dataFormat, operation: "fullyconnect")
    let labels = Array(format.input.labels)
    guard let channel = labels.firstIndex(of: "C"), !labels.contains("U") else {
        throw DLError.invalidArgument("fullyconnect needs a channel (C) dimension and no U dimension; got \"\(format.input.labels)\"")
    }
    let leading = Array(format.input.shape[..<channel])
    let features = format.input.shape[channel...].reduce(1, *)
    guard weights.rank == 2, weights.shape[0] == features else {
        throw DLError.shapeMismatch("fullyconnect: weights of shape \(weights.shape) do not fit \(features) input features; expected [\(features), outputSize]")
    }
    let outputs = weights.shape[1]
    var y = try mtimes(reshape(stripdims(format.input), [leading.reduce(1, *), features]), stripdims(weights))
    if let bias {
        guard bias.count == outputs else {
            throw DLError.shapeMismatch("fullyconnect: bias has \(bias.count) elements for \(outputs) outputs")
        }
        y = try y + reshape(stripdims(bias), [1, outputs])
    }
    y = try reshape(y, leading + [outputs])
    return try format.restore(y.withLabels(String(labels[..<channel]) + "C"))
}
