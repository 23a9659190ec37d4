/// A fully connected layer's operation, as MATLAB's `fullyconnect`: every output is a weighted
/// sum of all the input's channel and spatial elements, plus a bias.
///
/// - Parameters:
///   - x: the input, labeled (`"BC"`, `"BCSS"`, `"TBC"`…) or unlabeled with `dataFormat`. The
///     channel and spatial dimensions are flattened into the features; batch and time stay.
///   - weights: `[inputSize, outputSize]` (the same memory as MATLAB's outputSize×inputSize
///     matrix), where `inputSize` is the number of features.
///   - bias: `outputSize` values, or nil.
///   - dataFormat: the labels of an unlabeled `x` (e.g. `"BC"` or MATLAB's `"CB"`).
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
    let input = try reshape(stripdims(format.input), [leading.reduce(1, *), features])
    var y: DLArray
    if let bias {
        guard bias.count == outputs else {
            throw DLError.shapeMismatch("fullyconnect: bias has \(bias.count) elements for \(outputs) outputs")
        }
        y = try affine(input, stripdims(weights), reshape(stripdims(bias), [outputs]))
    } else {
        y = try mtimes(input, stripdims(weights))
    }
    y = try reshape(y, leading + [outputs])
    return try format.restore(y.withLabels(String(labels[..<channel]) + "C"))
}

/// `x·W + b` for a matrix `x`, a matrix `W` and a vector `b`: one product that starts from the
/// bias when the three have one type (else a product and a broadcast sum). Its derivative rule
/// is written in products and a sum, so it is differentiable again.
func affine(_ x: DLArray, _ weights: DLArray, _ bias: DLArray) throws -> DLArray {
    guard x.dataType == weights.dataType, x.dataType == bias.dataType, x.dataType != .bool else {
        return try mtimes(x, weights) + reshape(bias, [1, bias.count])
    }
    let product = AffineProduct(x: extractdata(x), weights: extractdata(weights), bias: extractdata(bias))
    return dispatchFloating(x.dataType, product).recorded(from: [x, weights, bias]) { g, needs in
        [needs[0] ? try pagemtimes(g, .none, weights, .conjugateTranspose) : nil,
         needs[1] ? try pagemtimes(x, .conjugateTranspose, g, .none) : nil,
         needs[2] ? try reshape(sum(g, dims: [0]), bias.shape) : nil]
    }
}
