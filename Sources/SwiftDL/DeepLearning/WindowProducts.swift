// The three products of a convolution's windows, traced. Each one's derivatives are the other
// two (and itself), so convolutions and transposed convolutions built on them have derivatives
// of every order. All arrays are unlabeled and of one floating-point type; for complex arrays
// the rules conjugate as pagemtimes does.

/// The convolution of `x` (`[N, C, spatial…]`) with `filters` (`[F, C/G, kernel…]`), plus
/// `bias` (`[F]`) when given: `[N, F, output…]`.
func windowConvolution(_ x: DLArray, _ filters: DLArray, _ bias: DLArray?, layout: ConvolutionLayout) -> DLArray {
    let y = dispatchFloating(x.dataType, ConvolutionForward(x: x, filters: filters, bias: bias, layout: layout))
    return y.recorded(from: [x, filters] + (bias.map { [$0] } ?? [])) { g, needs in
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
    let x = dispatchFloating(y.dataType, ConvolutionTransposed(y: y, filters: filters, bias: bias, layout: layout))
    return x.recorded(from: [y, filters] + (bias.map { [$0] } ?? [])) { g, needs in
        [needs[0] ? windowConvolution(g, conj(filters), nil, layout: layout) : nil,
         needs[1] ? windowCorrelation(g, conj(y), layout: layout) : nil]
            + (bias == nil ? [] : [needs[2] ? try channelSums(g) : nil])
    }
}

/// The correlation of the windows of `x` (`[N, C, spatial…]`) with `y` (`[N, F, output…]`),
/// summed over the batch: `[F, C/G, kernel…]`, the adjoint of
/// ``windowConvolution(_:_:_:layout:)`` in its filters.
func windowCorrelation(_ x: DLArray, _ y: DLArray, layout: ConvolutionLayout) -> DLArray {
    let filters = dispatchFloating(x.dataType, ConvolutionFilterCorrelation(x: x, y: y, layout: layout))
    return filters.recorded(from: x, y) { g, needs in
        (needs[0] ? transposedWindowConvolution(conj(y), g, nil, layout: layout) : nil,
         needs[1] ? windowConvolution(conj(x), g, nil, layout: layout) : nil)
    }
}

/// The sums of `[N, C, spatial…]` over everything but the channels: `[C]`.
private func channelSums(_ x: DLArray) throws -> DLArray {
    try reshape(sum(x, dims: [0] + Array(2..<x.rank)), [x.shape[1]])
}
