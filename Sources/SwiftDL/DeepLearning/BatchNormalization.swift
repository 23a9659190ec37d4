// Batch normalization in training mode as one traced operation on fused kernels
// (BatchNormKernels.swift): forward in two passes (statistics, then normalization and, when a
// network asks for it, the following ReLU or leaky ReLU), backward in two (per-channel sums,
// then the input's gradient).
//
// Its derivative rule is the closed form of the vector-Jacobian product,
//
//     dx = γ/σ · (dy − mean(dy) − x̂ · mean(dy · x̂)),   dγ = Σ dy · x̂,   dβ = Σ dy,
//
// with σ = √(var + ε) and x̂ = (x − μ)/σ. When the backward pass is recorded (for higher
// derivatives: WGAN-GP's and R1's penalties) the rule evaluates it with differentiable
// operations, the statistics recomputed from the traced x, so that its own derivatives come
// from theirs; otherwise nothing differentiates the result again, and the fused kernels compute
// the same values in two passes.

/// `(x − μ)·γ/√(σ² + ε) + β` with μ and σ² the mean and biased variance of each channel of
/// `x` (over every dimension but `channel`), traced through `x`, `scale` and `offset`; and the
/// statistics as an untraced `[2, channels]` array (the means, then the variances). With a
/// `negativeSlope`, the result goes through a ReLU (0) or a leaky ReLU of that slope (> 0) in
/// the same pass, with the same values as ``relu(_:)`` and ``leakyrelu(_:scale:)``.
///
/// `scale` and `offset` hold one value per channel, shaped to broadcast along `x`'s channels
/// (size 1 in every other dimension). Returns nil, for the caller to
/// compose the operation instead, unless `x`, `scale` and `offset` are all float32 or all
/// float64.
func batchNormalization(_ x: DLArray, channel: Int, scale: DLArray, offset: DLArray, epsilon: Double,
                        negativeSlope: Double? = nil) -> (output: DLArray, moments: DLArray)? {
    guard scale.dataType == x.dataType, offset.dataType == x.dataType else { return nil }
    precondition(negativeSlope.map { $0 >= 0 } ?? true, "batchNormalization: a fused activation's slope is 0 or more")
    switch x.dataType {
    case .float32:
        return batchNormalization(Float.self, x, channel: channel, scale: scale, offset: offset, epsilon: epsilon,
                                  negativeSlope: negativeSlope)
    case .float64:
        return batchNormalization(Double.self, x, channel: channel, scale: scale, offset: offset, epsilon: epsilon,
                                  negativeSlope: negativeSlope)
    default: return nil
    }
}

private func batchNormalization<T: BatchNormElement>(_: T.Type, _ x: DLArray, channel: Int, scale: DLArray,
                                                     offset: DLArray, epsilon: Double,
                                                     negativeSlope: Double?) -> (output: DLArray, moments: DLArray) {
    let layout = ChannelLayout(x.shape, channel: channel)
    let moments = DLArray(
        storage: ChannelMoments<T>(layout: layout)
            .output(reading: x, KernelOutput(count: 2 * layout.channels, dataType: T.dataType)),
        shape: [2, layout.channels])
    let y = DLArray(
        storage: ChannelNormalization<T>(layout: layout, epsilon: epsilon, negativeSlope: negativeSlope)
            .output(reading: [x, moments, scale, offset], KernelOutput(count: layout.count, dataType: T.dataType)),
        shape: x.shape)
    let dims = x.shape.indices.filter { $0 != channel }
    let values = y
    let output = y.recorded(from: [x, scale, offset]) { g, needs in
        if Trace.current?.isRecording == true || g.dataType != T.dataType {
            // The backward pass is recorded (or the gradient is of another type): the closed
            // form, differentiable; the activation's gradient is linear in g, its mask (the
            // output's sign, which is its input's) a constant.
            let g = negativeSlope.map { slopeScaled(g, by: values.converted(to: g.dataType), scale: $0) } ?? g
            let (_, centered, variance) = try centeredStatistics(x, over: dims)
            let inverse = 1 / sqrt(variance + epsilon)
            let normalized = try centered * inverse
            let gradients: [DLArray?] = [
                needs[0] ? try (scale * inverse) * (g - mean(g, dims: dims) - normalized * mean(g * normalized, dims: dims))
                    : nil,
                needs[1] ? try reshape(sum(g * normalized, dims: dims), scale.shape) : nil,
                needs[2] ? try reshape(sum(g, dims: dims), offset.shape) : nil,
            ]
            return gradients
        }
        let sums = DLArray(
            storage: ChannelGradientSums<T>(layout: layout, epsilon: epsilon, negativeSlope: negativeSlope)
                .output(reading: [g, x, moments, scale, offset],
                        KernelOutput(count: 2 * layout.channels, dataType: T.dataType)),
            shape: [2, layout.channels])
        let input = needs[0]
            ? DLArray(storage: ChannelNormalizationGradient<T>(layout: layout, epsilon: epsilon, negativeSlope: negativeSlope)
                .output(reading: [g, x, moments, scale, offset, sums],
                        KernelOutput(count: layout.count, dataType: T.dataType)),
                      shape: x.shape)
            : nil
        return [input,
                needs[1] ? try reshape(sums.slice(dim: 0, range: 1..<2), scale.shape) : nil,
                needs[2] ? try reshape(sums.slice(dim: 0, range: 0..<1), offset.shape) : nil]
    }
    return (output, moments)
}
