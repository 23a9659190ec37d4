// The three products of a convolution's windows, traced. Each one's derivatives are the other
// two (and itself), so convolutions and transposed convolutions built on them have derivatives
// of every order. All arrays are unlabeled and of one floating-point type; for complex arrays
// the rules conjugate as pagemtimes does. Float32 products run on oneDNN's kernels
// (DNNLConvolutionKernels.swift), the others on im2col and OpenBLAS (ConvolutionKernels.swift).

/// The convolution of `x` (`[N, C, spatial…]`) with `filters` (`[F, C/G, kernel…]`), plus
/// `bias` (`[F]`) when given: `[N, F, output…]`.
func windowConvolution(_ x: DLArray, _ filters: DLArray, _ bias: DLArray?, layout: ConvolutionLayout) -> DLArray {
    let y = DNNLConvolution.forward(x, filters, bias, layout: layout)
        ?? dispatchFloating(x.dataType, ConvolutionForward(x: x, filters: filters, bias: bias, layout: layout))
    return recordedConvolution(y, x, filters, bias, layout: layout)
}

/// Records `y`, the value of ``windowConvolution(_:_:_:layout:)``, as computed from its inputs.
private func recordedConvolution(_ y: DLArray, _ x: DLArray, _ filters: DLArray, _ bias: DLArray?,
                                 layout: ConvolutionLayout) -> DLArray {
    y.recorded(from: [x, filters] + (bias.map { [$0] } ?? [])) { g, needs in
        [needs[0] ? transposedWindowConvolution(g, conj(filters), nil, layout: layout) : nil,
         needs[1] ? windowCorrelation(conj(x), g, layout: layout) : nil]
            + (bias == nil ? [] : [needs[2] ? try channelSums(g) : nil])
    }
}

/// The transposed convolution of `y` (`[N, F, output…]`) with `filters` (`[F, C/G, kernel…]`),
/// plus `bias` (`[C]`) when given: `[N, C, spatial…]`, the adjoint of
/// ``windowConvolution(_:_:_:layout:)`` in its input.
func transposedWindowConvolution(_ y: DLArray, _ filters: DLArray, _ bias: DLArray?,
                                 layout: ConvolutionLayout) -> DLArray {
    let x = DNNLConvolution.transposed(y, filters, bias, layout: layout)
        ?? dispatchFloating(y.dataType, ConvolutionTransposed(y: y, filters: filters, bias: bias, layout: layout))
    return x.recorded(from: [y, filters] + (bias.map { [$0] } ?? [])) { g, needs in
        let (input, weights): (DLArray?, DLArray?) = switch (needs[0], needs[1]) {
        case (true, true): windowConvolutionAndCorrelation(g, conj(filters), conj(y), layout: layout)
        case (true, false): (windowConvolution(g, conj(filters), nil, layout: layout), nil)
        case (false, true): (nil, windowCorrelation(g, conj(y), layout: layout))
        case (false, false): (nil, nil)
        }
        return [input, weights] + (bias == nil ? [] : [needs[2] ? try channelSums(g) : nil])
    }
}

/// The correlation of the windows of `x` (`[N, C, spatial…]`) with `y` (`[N, F, output…]`),
/// summed over the batch: `[F, C/G, kernel…]`, the adjoint of
/// ``windowConvolution(_:_:_:layout:)`` in its filters.
func windowCorrelation(_ x: DLArray, _ y: DLArray, layout: ConvolutionLayout) -> DLArray {
    let filters = DNNLConvolution.correlation(x, y, layout: layout)
        ?? dispatchFloating(x.dataType, ConvolutionFilterCorrelation(x: x, y: y, layout: layout))
    return recordedCorrelation(filters, x, y, layout: layout)
}

/// Records `filters`, the value of ``windowCorrelation(_:_:layout:)``, as computed from its inputs.
private func recordedCorrelation(_ filters: DLArray, _ x: DLArray, _ y: DLArray, layout: ConvolutionLayout) -> DLArray {
    filters.recorded(from: x, y) { g, needs in
        (needs[0] ? transposedWindowConvolution(conj(y), g, nil, layout: layout) : nil,
         needs[1] ? windowConvolution(conj(x), g, nil, layout: layout) : nil)
    }
}

/// ``windowConvolution(_:_:_:layout:)`` of `x` with `filters` (no bias) and
/// ``windowCorrelation(_:_:layout:)`` of `x` with `y`, computed together (the windows of `x`
/// are unfolded once) and recorded each with its own rule.
private func windowConvolutionAndCorrelation(_ x: DLArray, _ filters: DLArray, _ y: DLArray,
                                             layout: ConvolutionLayout) -> (DLArray, DLArray) {
    if let convolution = DNNLConvolution.forward(x, filters, nil, layout: layout),
       let correlation = DNNLConvolution.correlation(x, y, layout: layout) {
        return (recordedConvolution(convolution, x, filters, nil, layout: layout),
                recordedCorrelation(correlation, x, y, layout: layout))
    }
    let (convolution, correlation) = dispatchFloating(
        x.dataType, ConvolutionAndFilterCorrelation(x: x, filters: filters, y: y, layout: layout))
    return (recordedConvolution(convolution, x, filters, nil, layout: layout),
            recordedCorrelation(correlation, x, y, layout: layout))
}

/// The sums of `[N, C, spatial…]` over everything but the channels: `[C]`.
private func channelSums(_ x: DLArray) throws -> DLArray {
    try reshape(sum(x, dims: [0] + Array(2..<x.rank)), [x.shape[1]])
}
