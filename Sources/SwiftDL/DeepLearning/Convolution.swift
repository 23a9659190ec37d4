/// Padding of a convolution, or cropping of a transposed convolution.
public enum ConvolutionPadding: Sendable, Equatable, Codable, ExpressibleByIntegerLiteral {
    /// MATLAB's and TensorFlow's `"same"`: the output has `ceil(input / stride)` positions
    /// (a transposed convolution's, `input · stride`); an odd total goes after.
    case same
    /// Explicit amounts before and after each spatial dimension (one value applies to all).
    case explicit(before: [Int], after: [Int])

    /// The same amount before and after every spatial dimension.
    public init(integerLiteral value: Int) { self = .explicit(before: [value], after: [value]) }

    /// The same amounts before and after, per spatial dimension.
    public static func symmetric(_ amounts: [Int]) -> ConvolutionPadding { .explicit(before: amounts, after: amounts) }
}

/// A per-dimension setting given as one value for all dimensions or one per dimension.
func expand(_ values: [Int], to count: Int, _ name: String, _ operation: String) throws -> [Int] {
    if values.count == count { return values }
    if values.count == 1 { return Array(repeating: values[0], count: count) }
    throw DLError.invalidArgument("\(operation): \(name) \(values) needs 1 or \(count) values (one per spatial dimension)")
}

/// A per-dimension stride or dilation, each at least 1.
func expandPositive(_ values: [Int], to count: Int, _ name: String, _ operation: String) throws -> [Int] {
    let expanded = try expand(values, to: count, name, operation)
    guard expanded.allSatisfy({ $0 >= 1 }) else {
        throw DLError.invalidArgument("\(operation): \(name) \(values) must be 1 or more in every dimension")
    }
    return expanded
}

/// The input of a spatial operation brought to `[N, C, spatial…]`, and how to give results back.
struct SpatialInput {
    let format: DataFormat
    /// The input as `[N, C, spatial…]`, unlabeled.
    let array: DLArray
    let hadBatch: Bool

    init(_ x: DLArray, dataFormat: String?, operation: String) throws {
        format = try DataFormat(x, dataFormat: dataFormat, operation: operation)
        let labels = format.input.labels
        let spatial = labels.filter { $0 == "S" }.count
        guard spatial >= 1, labels.filter({ $0 == "C" }).count == 1,
              labels == String(repeating: "B", count: labels.contains("B") ? 1 : 0) + "C" + String(repeating: "S", count: spatial)
        else {
            throw DLError.invalidArgument(
                "\(operation) needs spatial data labeled \"BCS…\" (MATLAB's \"S…CB\"): a channel dimension, one or more spatial dimensions and optionally a batch; got \"\(labels)\"")
        }
        hadBatch = labels.contains("B")
        array = hadBatch ? stripdims(format.input) : try expandDims(stripdims(format.input), 0)
    }

    var batch: Int { array.shape[0] }
    var channels: Int { array.shape[1] }
    var spatialSize: [Int] { Array(array.shape.dropFirst(2)) }

    /// A `[N, C', spatial'…]` result labeled and arranged as the input was.
    func result(_ y: DLArray) throws -> DLArray {
        let unbatched = hadBatch ? y : try squeeze(y, dims: [0])
        let labels = (hadBatch ? "B" : "") + "C" + String(repeating: "S", count: y.rank - 2)
        return try format.restore(unbatched.withLabels(labels))
    }
}

/// The padding before and after each dimension for a window sliding over `input`.
func resolvePadding(_ padding: ConvolutionPadding, input: [Int], kernel: [Int], stride: [Int], dilation: [Int],
                    operation: String) throws -> (before: [Int], after: [Int]) {
    let count = input.count
    switch padding {
    case .same:
        var before = [Int](), after = [Int]()
        for d in 0..<count {
            let output = (input[d] + stride[d] - 1) / stride[d]
            let total = max((output - 1) * stride[d] + dilation[d] * (kernel[d] - 1) + 1 - input[d], 0)
            before.append(total / 2)
            after.append(total - total / 2)
        }
        return (before, after)
    case .explicit(let before, let after):
        let b = try expand(before, to: count, "padding", operation), a = try expand(after, to: count, "padding", operation)
        guard (b + a).allSatisfy({ $0 >= 0 }) else { throw DLError.invalidArgument("\(operation): padding must not be negative") }
        return (b, a)
    }
}

/// The input, weights and bias (as `[channels]`) of a convolution, unlabeled and converted to
/// one floating-point type.
func commonType(_ x: DLArray, _ weights: DLArray, _ bias: DLArray?, channels: Int,
                operation: String) throws -> (DLArray, DLArray, DLArray?) {
    if let bias, bias.count != channels {
        throw DLError.shapeMismatch("\(operation): bias has \(bias.count) elements for \(channels) output channels")
    }
    var type = DLDataType.promoted(x.dataType, weights.dataType)
    if let bias { type = DLDataType.promoted(type, bias.dataType) }
    if type == .bool { type = .float32 }
    return (x.converted(to: type), stripdims(weights).converted(to: type),
            try bias.map { try reshape(stripdims($0), [channels]).converted(to: type) })
}

/// Convolution (cross-correlation, as in MATLAB and PyTorch) in 1, 2 or 3 spatial dimensions,
/// as MATLAB's `dlconv`.
///
/// - Parameters:
///   - x: the input, labeled `"BCS…"` (or `"CS…"`), or unlabeled with `dataFormat`.
///   - weights: `[outputChannels, inputChannels / groups, kernel…]` (PyTorch's layout, the same
///     memory as MATLAB's `filterSize × channelsPerGroup × filtersPerGroup × groups`). The number
///     of groups is the input's channels divided by `weights.shape[1]`: weights of shape
///     `[C, 1, k…]` give a depthwise convolution.
///   - bias: one value per output channel, or nil.
///   - stride: one value for every spatial dimension, or one each.
///   - dilation: one value for every spatial dimension, or one each.
///   - padding: `.same`, a number, or explicit amounts before and after.
///   - dataFormat: the labels of an unlabeled `x`, e.g. `"BCSS"` (or MATLAB's `"SSCB"`, which
///     permutes the data).
/// - Returns: `[N, outputChannels, output…]`, labeled as `x` (unlabeled in `x`'s order when
///   `x` was unlabeled).
/// - Throws: ``DLError`` for shapes or settings that do not fit.
public func dlconv(_ x: DLArray, _ weights: DLArray, _ bias: DLArray? = nil, stride: [Int] = [1],
                   dilation: [Int] = [1], padding: ConvolutionPadding = 0, dataFormat: String? = nil) throws -> DLArray {
    let input = try SpatialInput(x, dataFormat: dataFormat, operation: "dlconv")
    let spatial = input.spatialSize
    guard weights.rank == spatial.count + 2 else {
        throw DLError.shapeMismatch("dlconv: weights of shape \(weights.shape) do not fit \(spatial.count) spatial dimensions; expected [outputChannels, inputChannels/groups] + kernel")
    }
    let (outputs, perGroup) = (weights.shape[0], weights.shape[1])
    guard perGroup > 0, input.channels % perGroup == 0, outputs % (input.channels / perGroup) == 0 else {
        throw DLError.shapeMismatch("dlconv: \(input.channels) input channels cannot be split into groups of \(perGroup) (weights \(weights.shape)) with \(outputs) filters")
    }
    let groups = input.channels / perGroup
    let kernel = Array(weights.shape.dropFirst(2))
    let strides = try expandPositive(stride, to: spatial.count, "stride", "dlconv")
    let dilations = try expandPositive(dilation, to: spatial.count, "dilation", "dlconv")
    let pads = try resolvePadding(padding, input: spatial, kernel: kernel, stride: strides, dilation: dilations, operation: "dlconv")
    let geometry = WindowGeometry(inputSize: spatial, kernel: kernel, stride: strides, dilation: dilations,
                                  paddingBefore: pads.before, paddingAfter: pads.after)
    let outputSize = geometry.outputSize
    guard outputSize.allSatisfy({ $0 > 0 }) else {
        throw DLError.shapeMismatch("dlconv: a kernel \(kernel) with dilation \(dilations) does not fit input \(spatial) padded by \(pads)")
    }
    let layout = ConvolutionLayout(geometry: geometry, batch: input.batch, channels: input.channels,
                                   filters: outputs, groups: groups)
    let (source, filters, shift) = try commonType(input.array, weights, bias, channels: outputs, operation: "dlconv")
    return try input.result(windowConvolution(source, filters, shift, layout: layout))
}

/// Transposed convolution in 1, 2 or 3 spatial dimensions, as MATLAB's `dltranspconv`: the
/// adjoint of ``dlconv(_:_:_:stride:dilation:padding:dataFormat:)`` with the same stride,
/// dilation and kernel, cropping taking the place of padding.
///
/// - Parameters:
///   - x: the input, labeled `"BCS…"` (or `"CS…"`), or unlabeled with `dataFormat`.
///   - weights: `[inputChannels, outputChannels / groups, kernel…]` (PyTorch's layout, the same
///     memory as MATLAB's `filterSize × filtersPerGroup × channelsPerGroup × groups`).
///   - bias: one value per output channel, or nil.
///   - stride: one value for every spatial dimension, or one each.
///   - dilation: one value for every spatial dimension, or one each.
///   - cropping: `.same` (the output has `input · stride` positions), a number, or explicit
///     amounts cropped before and after; the output has
///     `(input − 1)·stride + dilation·(kernel − 1) + 1 − cropping` positions.
///   - groups: the number of channel groups.
///   - dataFormat: the labels of an unlabeled `x` (e.g. `"BCSS"` or MATLAB's `"SSCB"`).
/// - Throws: ``DLError`` for shapes or settings that do not fit.
public func dltranspconv(_ x: DLArray, _ weights: DLArray, _ bias: DLArray? = nil, stride: [Int] = [1],
                         dilation: [Int] = [1], cropping: ConvolutionPadding = 0, groups: Int = 1,
                         dataFormat: String? = nil) throws -> DLArray {
    let input = try SpatialInput(x, dataFormat: dataFormat, operation: "dltranspconv")
    let spatial = input.spatialSize
    guard weights.rank == spatial.count + 2, weights.shape[0] == input.channels else {
        throw DLError.shapeMismatch("dltranspconv: weights of shape \(weights.shape) do not fit an input of \(input.channels) channels and \(spatial.count) spatial dimensions; expected [inputChannels, outputChannels/groups] + kernel")
    }
    guard groups >= 1, input.channels % groups == 0 else {
        throw DLError.invalidArgument("dltranspconv: \(input.channels) input channels cannot form \(groups) groups")
    }
    let outputs = weights.shape[1] * groups
    let kernel = Array(weights.shape.dropFirst(2))
    let strides = try expandPositive(stride, to: spatial.count, "stride", "dltranspconv")
    let dilations = try expandPositive(dilation, to: spatial.count, "dilation", "dltranspconv")
    var before = [Int](), after = [Int](), outputSize = [Int]()
    for d in 0..<spatial.count {
        let full = (spatial[d] - 1) * strides[d] + dilations[d] * (kernel[d] - 1) + 1
        switch cropping {
        case .same:
            let total = full - spatial[d] * strides[d]
            guard total >= 0 else {
                throw DLError.invalidArgument("dltranspconv: \"same\" cropping needs kernel ≥ stride along dimension \(d)")
            }
            before.append(total / 2)
            after.append(total - total / 2)
        case .explicit(let b, let a):
            before.append(try expand(b, to: spatial.count, "cropping", "dltranspconv")[d])
            after.append(try expand(a, to: spatial.count, "cropping", "dltranspconv")[d])
        }
        outputSize.append(full - before[d] - after[d])
    }
    guard outputSize.allSatisfy({ $0 > 0 }), (before + after).allSatisfy({ $0 >= 0 }) else {
        throw DLError.shapeMismatch("dltranspconv: cropping \(before), \(after) leaves no output from input \(spatial)")
    }
    // The convolution whose adjoint this is slides over the output, padded by the cropping.
    let geometry = WindowGeometry(inputSize: outputSize, kernel: kernel, stride: strides, dilation: dilations,
                                  paddingBefore: before, paddingAfter: after)
    let layout = ConvolutionLayout(geometry: geometry, batch: input.batch, channels: outputs,
                                   filters: input.channels, groups: groups)
    let (source, filters, shift) = try commonType(input.array, weights, bias, channels: outputs, operation: "dltranspconv")
    return try input.result(transposedWindowConvolution(source, filters, shift, layout: layout))
}
