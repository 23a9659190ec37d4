/// The whole spatial extent as the pooling region: `maxpool(x, .global)` is MATLAB's
/// `maxpool(X, "global")`.
public enum PoolingRegion: Sendable, Equatable {
    /// Pool over all the spatial dimensions at once.
    case global
}

/// What the padding of ``avgpool(_:_:stride:padding:paddingValue:dataFormat:)`` holds (MATLAB's
/// `PaddingValue`).
public enum AveragePoolingPaddingValue: Sendable, Equatable {
    /// Zeros, counted in the average (MATLAB's default, PyTorch's `count_include_pad=True`).
    case zero
    /// The mean of the window's elements inside the input: the average counts only them
    /// (MATLAB's `"mean"`, PyTorch's `count_include_pad=False`).
    case mean
}

/// The windows of a pooling operation over the input's spatial dimensions.
private struct PoolingWindows {
    let input: SpatialInput
    let geometry: WindowGeometry

    init(_ x: DLArray, poolSize: [Int], stride: [Int], padding: ConvolutionPadding, dataFormat: String?,
         operation: String) throws {
        input = try SpatialInput(x, dataFormat: dataFormat, operation: operation)
        let spatial = input.spatialSize
        let kernel = try expand(poolSize, to: spatial.count, "poolSize", operation)
        let strides = try expand(stride, to: spatial.count, "stride", operation)
        guard kernel.allSatisfy({ $0 > 0 }), strides.allSatisfy({ $0 > 0 }) else {
            throw DLError.invalidArgument("\(operation): poolSize \(kernel) and stride \(strides) must be positive")
        }
        let ones = Array(repeating: 1, count: spatial.count)
        let pads = try resolvePadding(padding, input: spatial, kernel: kernel, stride: strides, dilation: ones,
                                      operation: operation)
        for d in 0..<spatial.count where pads.before[d] >= kernel[d] || pads.after[d] >= kernel[d] {
            throw DLError.invalidArgument(
                "\(operation): padding \(pads.before) before and \(pads.after) after must be smaller than the pool size \(kernel) (else a window would lie in the padding only)")
        }
        geometry = WindowGeometry(inputSize: spatial, kernel: kernel, stride: strides, dilation: ones,
                                  paddingBefore: pads.before, paddingAfter: pads.after)
        guard geometry.outputSize.allSatisfy({ $0 > 0 }) else {
            throw DLError.shapeMismatch(
                "\(operation): a pool size \(kernel) does not fit input \(spatial) padded by \(pads.before), \(pads.after)")
        }
    }

    var batch: Int { input.batch }
    var channels: Int { input.channels }
    var windowCount: Int { geometry.windowCount }
    var positionCount: Int { geometry.positionCount }

    /// The windows as `[C, K, N·L]`, the padding holding `padValue`.
    func columns(padValue: Double) throws -> DLArray {
        try reshape(windowsToColumns(input.array, geometry: geometry, padValue: padValue),
                    [channels, windowCount, batch * positionCount])
    }

    /// One value per window, `[C, 1, N·L]`, arranged as `[N, C, output…]` and labeled as the input.
    func result(_ pooled: DLArray) throws -> DLArray {
        let arranged = try permute(reshape(pooled, [channels, batch, positionCount]), [1, 0, 2])
        return try input.result(reshape(arranged, [batch, channels] + geometry.outputSize))
    }
}

/// Maximum pooling in 1, 2 or 3 spatial dimensions, as MATLAB's `maxpool(X, poolsize)`. The
/// gradient goes to the largest element of each window (the first on ties); built on traced
/// im2col and a maximum, it has derivatives of every order.
///
/// - Parameters:
///   - x: the input, labeled `"BCS…"` (or `"CS…"`), or unlabeled with `dataFormat`.
///   - poolSize: the window size, one value for every spatial dimension or one each.
///   - stride: the step between windows (MATLAB's default 1; PyTorch's default is the pool size).
///   - padding: `.same` (`ceil(input / stride)` outputs), a number, or explicit amounts before
///     and after; the padding never wins the maximum, and must be smaller than the pool size.
///   - dataFormat: the labels of an unlabeled `x`, e.g. `"BCSS"` or MATLAB's `"SSCB"`.
/// - Returns: `[N, C, output…]`, labeled as `x` (unlabeled in `x`'s order when `x` was unlabeled).
/// - Throws: ``DLError`` for shapes or settings that do not fit.
public func maxpool(_ x: DLArray, _ poolSize: [Int], stride: [Int] = [1], padding: ConvolutionPadding = 0,
                    dataFormat: String? = nil) throws -> DLArray {
    let windows = try PoolingWindows(x, poolSize: poolSize, stride: stride, padding: padding, dataFormat: dataFormat,
                                     operation: "maxpool")
    return try windows.result(max(windows.columns(padValue: -.infinity), dim: 1).values)
}

/// Maximum pooling that also gives where each maximum came from, as MATLAB's
/// `[Y, indx, inputSize] = maxpool(X, poolsize, ...)`; see
/// ``maxpool(_:_:stride:padding:dataFormat:)``.
///
/// - Returns: `output`, the pooled values; `indices`, for each of them the 0-based row-major
///   position of the chosen element within its spatial plane (PyTorch's convention; MATLAB's
///   are 1-based linear indices into the whole array), as float64, shaped and labeled as
///   `output`; `inputSize`, the spatial size of `x`. ``maxunpool(_:_:outputSize:dataFormat:)``
///   takes the three back.
/// - Throws: ``DLError`` for shapes or settings that do not fit.
public func maxpoolWithIndices(_ x: DLArray, _ poolSize: [Int], stride: [Int] = [1], padding: ConvolutionPadding = 0,
                               dataFormat: String? = nil) throws -> (output: DLArray, indices: DLArray, inputSize: [Int]) {
    let windows = try PoolingWindows(x, poolSize: poolSize, stride: stride, padding: padding, dataFormat: dataFormat,
                                     operation: "maxpool")
    let (values, chosen) = try max(windows.columns(padValue: -.infinity), dim: 1)
    // Window element k at window position l is element table[k·L + l] of the plane.
    let table = windows.geometry.inputOffsets
    let positions = windows.positionCount
    let columns = windows.batch * positions
    let picks = chosen.scalars(as: Double.self)
    var offsets = [Double](repeating: 0, count: picks.count)
    for c in 0..<windows.channels {
        for j in 0..<columns {
            let (n, l) = (j / positions, j % positions)
            offsets[(n * windows.channels + c) * positions + l] = Double(table[Int(picks[c * columns + j]) * positions + l])
        }
    }
    let indices = try DLArray(offsets, shape: [windows.batch, windows.channels] + windows.geometry.outputSize)
    return (try windows.result(values), try windows.input.result(indices), windows.input.spatialSize)
}

/// Average pooling in 1, 2 or 3 spatial dimensions, as MATLAB's `avgpool(X, poolsize)`; built on
/// traced im2col and a sum, it has derivatives of every order.
///
/// - Parameters:
///   - x: the input, labeled `"BCS…"` (or `"CS…"`), or unlabeled with `dataFormat`.
///   - poolSize: the window size, one value for every spatial dimension or one each.
///   - stride: the step between windows (MATLAB's default 1).
///   - padding: `.same`, a number, or explicit amounts before and after; smaller than the pool size.
///   - paddingValue: `.zero` (the default) counts padded elements as zeros in the average, as
///     MATLAB and PyTorch do by default; `.mean` averages only the elements inside the input.
///   - dataFormat: the labels of an unlabeled `x`, e.g. `"BCSS"` or MATLAB's `"SSCB"`.
/// - Returns: `[N, C, output…]`, labeled as `x` (unlabeled in `x`'s order when `x` was unlabeled).
/// - Throws: ``DLError`` for shapes or settings that do not fit.
public func avgpool(_ x: DLArray, _ poolSize: [Int], stride: [Int] = [1], padding: ConvolutionPadding = 0,
                    paddingValue: AveragePoolingPaddingValue = .zero, dataFormat: String? = nil) throws -> DLArray {
    let windows = try PoolingWindows(x, poolSize: poolSize, stride: stride, padding: padding, dataFormat: dataFormat,
                                     operation: "avgpool")
    let sums = try sum(windows.columns(padValue: 0), dims: [1])
    switch paddingValue {
    case .zero:
        return try windows.result(sums / Double(windows.windowCount))
    case .mean:
        // The number of window elements inside the input, per window position.
        let table = windows.geometry.inputOffsets
        let positions = windows.positionCount
        var inside = [Double](repeating: 0, count: positions)
        for (index, offset) in table.enumerated() where offset >= 0 { inside[index % positions] += 1 }
        let counts = try DLArray(Array([[Double]](repeating: inside, count: windows.batch).joined()),
                                 shape: [1, 1, windows.batch * positions]).converted(to: sums.dataType)
        return try windows.result(sums / counts)
    }
}

/// The largest element over all spatial dimensions, as MATLAB's `maxpool(X, "global")`.
///
/// - Returns: `[N, C, 1, …]`, the spatial dimensions kept with size 1, labeled as `x`
///   (unlabeled in `x`'s order when `x` was unlabeled).
/// - Throws: ``DLError`` when `x` has no spatial dimension.
public func maxpool(_ x: DLArray, _ region: PoolingRegion, dataFormat: String? = nil) throws -> DLArray {
    let input = try SpatialInput(x, dataFormat: dataFormat, operation: "maxpool")
    let flat = try reshape(input.array, [input.batch, input.channels, input.spatialSize.reduce(1, *)])
    let pooled = try max(flat, dim: 2).values
    return try input.result(reshape(pooled, [input.batch, input.channels] + input.spatialSize.map { _ in 1 }))
}

/// The mean over all spatial dimensions, as MATLAB's `avgpool(X, "global")`.
///
/// - Returns: `[N, C, 1, …]`, the spatial dimensions kept with size 1, labeled as `x`
///   (unlabeled in `x`'s order when `x` was unlabeled).
/// - Throws: ``DLError`` when `x` has no spatial dimension.
public func avgpool(_ x: DLArray, _ region: PoolingRegion, dataFormat: String? = nil) throws -> DLArray {
    let input = try SpatialInput(x, dataFormat: dataFormat, operation: "avgpool")
    let flat = try reshape(input.array, [input.batch, input.channels, input.spatialSize.reduce(1, *)])
    let pooled = try mean(flat, dims: [2])
    return try input.result(reshape(pooled, [input.batch, input.channels] + input.spatialSize.map { _ in 1 }))
}

/// The inverse of maximum pooling, as MATLAB's `maxunpool(Y, indx, outputSize)`: every value
/// of `y` placed at its position in a zero array of the input's spatial size. Differentiable
/// (to every order) in `y`.
///
/// - Parameters:
///   - y: pooled values, labeled `"BCS…"` (or `"CS…"`), or unlabeled with `dataFormat`.
///   - indices: for each value, its 0-based row-major position within its spatial plane, shaped
///     as `y` (as ``maxpoolWithIndices(_:_:stride:padding:dataFormat:)`` returns them). A
///     position named several times gets the mean of its values (they are equal when the
///     indices come from overlapping maximum pooling windows).
///   - outputSize: the spatial size of the result (the `inputSize` maxpool returned).
///   - dataFormat: the labels of an unlabeled `y` (and of `indices`, when unlabeled).
/// - Returns: `[N, C, outputSize…]`, labeled as `y` (unlabeled in `y`'s order when `y` was
///   unlabeled).
/// - Throws: ``DLError`` for shapes that do not fit or indices out of range.
public func maxunpool(_ y: DLArray, _ indices: DLArray, outputSize: [Int], dataFormat: String? = nil) throws -> DLArray {
    let input = try SpatialInput(y, dataFormat: dataFormat, operation: "maxunpool")
    let positions = try SpatialInput(indices, dataFormat: indices.labels.isEmpty ? dataFormat : nil, operation: "maxunpool")
    guard positions.array.shape == input.array.shape else {
        throw DLError.shapeMismatch(
            "maxunpool: indices of shape \(indices.shape) do not match the values of shape \(y.shape); give the indices maxpool returned with them")
    }
    guard outputSize.count == input.spatialSize.count, outputSize.allSatisfy({ $0 > 0 }) else {
        throw DLError.invalidArgument(
            "maxunpool: outputSize \(outputSize) needs \(input.spatialSize.count) positive sizes, one per spatial dimension (the inputSize maxpool returned)")
    }
    try requireReal(indices, "maxunpool (for its indices)")
    let (n, c) = (input.batch, input.channels)
    let planeSize = outputSize.reduce(1, *), count = input.spatialSize.reduce(1, *)
    let values = positions.array.scalars(as: Double.self)
    if let bad = values.first(where: { !$0.isFinite || $0.rounded() != $0 || $0 < 0 || $0 >= Double(planeSize) }) {
        throw DLError.invalidArgument(
            "maxunpool: index \(bad) is not a position in a plane of \(planeSize) elements (outputSize \(outputSize)); indices are 0-based")
    }
    let targets = values.map { Int($0) }
    var flat = try reshape(input.array, [n, c, count])
    // Values sent to the same position share it: each is weighted by 1 / (number of them).
    var multiplicity = [Int: Int]()
    for (k, target) in targets.enumerated() { multiplicity[(k / count) * planeSize + target, default: 0] += 1 }
    if multiplicity.values.contains(where: { $0 > 1 }) {
        let weights = targets.enumerated().map { k, target in 1 / Double(multiplicity[(k / count) * planeSize + target]!) }
        flat = try flat * DLArray(weights, shape: [n, c, count]).converted(to: flat.dataType)
    }
    let placed = try scatterAdd(flat, dim: 2, indices: targets, shape: [n, c, planeSize])
    return try input.result(reshape(placed, [n, c] + outputSize))
}
