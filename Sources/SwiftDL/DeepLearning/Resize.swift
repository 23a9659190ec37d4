/// How ``dlresize(_:scale:outputSize:method:geometricTransformMode:nearestRoundingMode:dataFormat:)``
/// computes an output element.
public enum ResizeMethod: Sendable, Equatable {
    /// The nearest input element.
    case nearest
    /// Linear interpolation between the two nearest input elements along each spatial
    /// dimension (bilinear for images).
    case linear
}

/// How an output position maps to an input position (MATLAB's `GeometricTransformMode`).
public enum GeometricTransformMode: Sendable, Equatable {
    /// Pixel centers line up: input position `(j + 0.5)·in/out - 0.5` (MATLAB's default,
    /// PyTorch's `align_corners=False`).
    case halfPixel
    /// Pixel corners line up: input position `j·in/out`.
    case asymmetric
}

/// How `.nearest` rounds the mapped input position (MATLAB's `NearestRoundingMode`).
public enum NearestRoundingMode: Sendable, Equatable {
    /// To the nearest integer, halves away from zero (MATLAB's default).
    case round
    /// Down.
    case floor
}

/// The spatial (`S`) dimensions of `x` resized by nearest-neighbour or linear interpolation,
/// as MATLAB's `dlresize` and the upsampling layers that use it.
///
/// With the defaults (`.halfPixel`, `.round`), `.linear` matches PyTorch's
/// `interpolate(mode="bilinear", align_corners=False)` (without antialiasing) and `.nearest`
/// its `mode="nearest-exact"`; `.nearest` with `.asymmetric` and `.floor` is PyTorch's
/// `mode="nearest"`. Input positions are clamped to the array's extent, so edges repeat. The
/// mapping uses the ratio of the sizes `in/out` (PyTorch with `recompute_scale_factor=True`;
/// the same as the given scale for whole-number scales).
///
/// - Parameters:
///   - x: a labeled input with one or more `S` dimensions (or unlabeled with `dataFormat`).
///   - scale: the factor for each spatial dimension (one value for all); the output size is
///     `floor(in·scale)`. Give either `scale` or `outputSize`.
///   - outputSize: the size of each spatial dimension of the result.
///   - method: `.nearest` (the default, as MATLAB) or `.linear` interpolation.
///   - geometricTransformMode: how output positions map to input positions (MATLAB's
///     `GeometricTransformMode`; `.halfPixel` by default).
///   - nearestRoundingMode: how `.nearest` rounds the mapped position (MATLAB's
///     `NearestRoundingMode`; `.round` by default).
///   - dataFormat: the labels of an unlabeled `x` (e.g. `"BCSS"` or MATLAB's `"SSCB"`).
/// - Returns: the resized array, traced in `x` (a linear map: derivatives of every order).
/// - Throws: ``DLError/invalidArgument(_:)`` for neither or both of `scale` and
///   `outputSize`, counts that do not match the spatial dimensions, sizes below 1, or an
///   input without `S` dimensions.
public func dlresize(_ x: DLArray, scale: [Double]? = nil, outputSize: [Int]? = nil, method: ResizeMethod = .nearest,
                     geometricTransformMode: GeometricTransformMode = .halfPixel,
                     nearestRoundingMode: NearestRoundingMode = .round, dataFormat: String? = nil) throws -> DLArray {
    try requireReal(x, "dlresize")
    let format = try DataFormat(x, dataFormat: dataFormat, operation: "dlresize")
    let spatial = format.dims("S")
    guard !spatial.isEmpty else {
        throw DLError.invalidArgument("dlresize needs spatial (S) dimensions to resize; the input is labeled \"\(format.input.labels)\"")
    }
    let inputSizes = spatial.map { format.input.shape[$0] }
    let sizes: [Int]
    switch (scale, outputSize) {
    case (let scale?, nil):
        let factors = scale.count == 1 ? Array(repeating: scale[0], count: spatial.count) : scale
        guard factors.count == spatial.count, factors.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw DLError.invalidArgument(
                "dlresize: scale \(scale) must hold one positive factor, or one per spatial dimension (\(spatial.count))")
        }
        sizes = zip(inputSizes, factors).map { Int((Double($0) * $1).rounded(.down)) }
    case (nil, let outputSize?):
        guard outputSize.count == spatial.count else {
            throw DLError.invalidArgument(
                "dlresize: outputSize \(outputSize) must hold one size per spatial dimension (\(spatial.count))")
        }
        sizes = outputSize
    default:
        throw DLError.invalidArgument("dlresize: give either scale or outputSize, not \(scale == nil ? "neither" : "both")")
    }
    guard sizes.allSatisfy({ $0 >= 1 }) else {
        throw DLError.invalidArgument("dlresize: the output sizes \(sizes) must be 1 or more")
    }
    guard inputSizes.allSatisfy({ $0 >= 1 }) else {
        throw DLError.invalidArgument("dlresize: the input's spatial sizes \(inputSizes) must be 1 or more")
    }
    var y = stripdims(format.input)
    for (dim, size) in zip(spatial, sizes) {
        y = try resample(y, dim: dim, to: size, method: method, mode: geometricTransformMode, rounding: nearestRoundingMode)
    }
    return try format.restore(y.withLabels(format.input.labels))
}

/// `x` resampled to `size` positions along `dim`: a weighted sum of gathered neighbours, with
/// constant positions and weights.
func resample(_ x: DLArray, dim: Int, to size: Int, method: ResizeMethod, mode: GeometricTransformMode,
              rounding: NearestRoundingMode) throws -> DLArray {
    let inputSize = x.shape[dim]
    if size == inputSize { return x }
    let ratio = Double(inputSize) / Double(size)
    let positions = (0..<size).map { j in
        mode == .halfPixel ? (Double(j) + 0.5) * ratio - 0.5 : Double(j) * ratio
    }
    let last = inputSize - 1
    switch method {
    case .nearest:
        let chosen = positions.map { p in
            Swift.min(Swift.max(Int(rounding == .round ? p.rounded(.toNearestOrAwayFromZero) : p.rounded(.down)), 0), last)
        }
        return try select(x, dim: dim, list: chosen)
    case .linear:
        let clamped = positions.map { Swift.min(Swift.max($0, 0), Double(last)) }
        let lower = clamped.map { Int($0.rounded(.down)) }
        let upper = lower.map { Swift.min($0 + 1, last) }
        var weightShape = [Int](repeating: 1, count: x.rank)
        weightShape[dim] = size
        let type = x.dataType == .bool ? DLDataType.float32 : x.dataType
        let weights = try DLArray(zip(clamped, lower).map { $0 - Double($1) }, shape: weightShape).converted(to: type)
        let below = try select(x, dim: dim, list: lower), above = try select(x, dim: dim, list: upper)
        return try below + (above - below) * weights
    }
}
