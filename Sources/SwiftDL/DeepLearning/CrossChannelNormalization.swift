/// Local response normalization across channels, as MATLAB's
/// `crosschannelnorm(X, windowChannelSize, "Alpha", α, "Beta", β, "K", k)` and PyTorch's
/// `local_response_norm`: each element divided by `(k + α·s/windowChannelSize)^β`, where `s`
/// is the sum of squares of the elements at the same position in the `windowChannelSize`
/// channels around its own (zeros past the first and last channel).
///
/// The window around channel `c` runs from `c - windowChannelSize/2` to
/// `c + (windowChannelSize-1)/2` (integer division), centred for odd sizes; for even sizes it
/// reaches one channel further back than forward, as PyTorch's.
///
/// Built of differentiable operations: derivatives of every order, in the data.
/// - Parameters:
///   - x: a labeled input with a channel (`C`) dimension (or unlabeled with `dataFormat`).
///   - windowChannelSize: the number of channels in each window, 1 or more.
///   - alpha: the multiplier α (MATLAB's default 1e-4).
///   - beta: the exponent β (default 0.75).
///   - k: the offset (default 2).
///   - dataFormat: the labels of an unlabeled `x` (e.g. `"BCSS"` or MATLAB's `"SSCB"`).
/// - Throws: ``DLError/invalidArgument(_:)`` for a window below 1, a non-positive or non-finite
///   `k`, or an input without a channel dimension.
public func crosschannelnorm(_ x: DLArray, windowChannelSize: Int, alpha: Double = 1e-4, beta: Double = 0.75,
                             k: Double = 2, dataFormat: String? = nil) throws -> DLArray {
    let input = try NormalizationInput(x, dataFormat: dataFormat, operation: "crosschannelnorm")
    guard windowChannelSize >= 1 else {
        throw DLError.invalidArgument("crosschannelnorm: windowChannelSize must be 1 or more, got \(windowChannelSize)")
    }
    guard k > 0, k.isFinite, alpha.isFinite, beta.isFinite else {
        throw DLError.invalidArgument("crosschannelnorm: k must be positive and alpha, beta finite; got k \(k), alpha \(alpha), beta \(beta)")
    }
    let data = input.array
    let channel = input.channel, channels = input.channels
    let before = windowChannelSize / 2, after = (windowChannelSize - 1) / 2
    let squares = try data * data
    var padded = squares
    if before + after > 0 {
        var shape = data.shape
        let type = squares.dataType
        shape[channel] = before
        let front = DLArray.zeros(shape, type: type)
        shape[channel] = after
        let back = DLArray.zeros(shape, type: type)
        padded = try cat([front, squares, back], dim: channel)
    }
    var windowSum = try padded.slice(dim: channel, range: 0..<channels)
    for offset in 1..<Swift.max(windowChannelSize, 1) {
        windowSum = try windowSum + padded.slice(dim: channel, range: offset..<offset + channels)
    }
    let scale = (windowSum * (alpha / Double(windowChannelSize)) + k) ** beta
    return try input.result(data / scale)
}
