// Batch normalization's training-mode passes, fused: the per-channel statistics in one pass,
// the normalization with scale and offset (and a following ReLU or leaky ReLU) in one pass, and
// the backward pass in two (the per-channel sums of the gradient, then the input's gradient). The composition of
// differentiable operations they replace made about 6 passes forward and 10 backward, a third
// of a DCGAN step's CPU time. Each kernel writes one array (so that dlaccelerate captures and
// replays it), reads a contiguous array as `[outer, channels, inner]` (NCHW: `[N, C, H·W]`) in
// runs of `inner` elements, works eight lanes at a time, and shares the channels (or the runs)
// among the cores; each channel's sums are taken in a fixed order, so the bits depend neither
// on the load nor on the core count.
//
// Measured (release, float32, batch norm and a leaky ReLU forward and backward, CPU time per
// call, medians of 5 rounds of 10 with the sides taking turns, 2-core Intel Xeon shared with
// other work, 2026-12-07): on the DCGAN's [64, 128, 7, 7] 4.3 ms composed, 2.2 ms fused; on
// its [64, 64, 14, 14] 9.7 ms composed, 4.2 ms fused.

/// A contiguous array read as `[outer, channels, inner]`: the channel dimension and the
/// products of the sizes before and after it.
struct ChannelLayout: Hashable {
    let outer: Int, channels: Int, inner: Int

    /// The layout of a contiguous array of `shape` with its channels along `channel`.
    init(_ shape: [Int], channel: Int) {
        (outer, channels, inner) = splitAround(shape, channel)
    }

    /// The number of elements per channel.
    var perChannel: Int { outer * inner }
    /// The number of elements.
    var count: Int { outer * channels * inner }
    /// The fewest channels per core worth splitting a per-channel pass for.
    var channelGrain: Int { max(1, Parallel.elementGrain / max(perChannel, 1)) }
    /// The fewest runs (of `inner` elements) per core worth splitting an elementwise pass for.
    var runGrain: Int { max(1, Parallel.elementGrain / max(inner, 1)) }
}

/// The element types the fused batch-normalization kernels run on, with their vectors.
///
/// The (leaky) ReLU's masks are written for each concrete type: comparisons of `SIMD8<T>` in
/// generic code, even specialized, built their masks lane by lane through the stack (the fused
/// forward pass with a ReLU took 5x the one without).
protocol BatchNormElement: DLRealElement, SIMDScalar, Codable {
    /// A ReLU (slope 0) or leaky ReLU (slope > 0) of `y`, as ``relu(_:)`` and
    /// ``leakyrelu(_:scale:)`` compute it (NaN stays NaN, ReLU gives +0).
    static func activated(_ y: SIMD8<Self>, slope: Self) -> SIMD8<Self>
    /// The gradient `g` through a (leaky) ReLU whose input was `y`: `g` where `y > 0`,
    /// `slope · g` elsewhere (0 for ReLU), as ``slopeScaled(_:by:scale:)``.
    static func masked(_ g: SIMD8<Self>, at y: SIMD8<Self>, slope: Self) -> SIMD8<Self>
}

extension Float: BatchNormElement {
    @inline(__always)
    static func activated(_ y: SIMD8<Float>, slope: Float) -> SIMD8<Float> {
        y.replacing(with: slope == 0 ? SIMD8() : y * slope, where: y .<= 0)
    }

    @inline(__always)
    static func masked(_ g: SIMD8<Float>, at y: SIMD8<Float>, slope: Float) -> SIMD8<Float> {
        g.replacing(with: slope == 0 ? SIMD8() : g * slope, where: .!(y .> 0))
    }
}

extension Double: BatchNormElement {
    @inline(__always)
    static func activated(_ y: SIMD8<Double>, slope: Double) -> SIMD8<Double> {
        y.replacing(with: slope == 0 ? SIMD8() : y * slope, where: y .<= 0)
    }

    @inline(__always)
    static func masked(_ g: SIMD8<Double>, at y: SIMD8<Double>, slope: Double) -> SIMD8<Double> {
        g.replacing(with: slope == 0 ? SIMD8() : g * slope, where: .!(y .> 0))
    }
}

/// The elements a block of vector partial sums takes before they are added into float64 sums:
/// float32 partial sums stay short (64 additions per lane) and the float64 total takes the rest.
private let sumBlock = 512

/// The sums of `source[0..<count] − shift` and of its squares, in float64: eight lanes of
/// partial sums in `T` per block of ``sumBlock`` elements, added in order.
@inline(__always)
private func shiftedSums<T: BatchNormElement>(_ source: UnsafePointer<T>, count: Int, shift: T) -> (Double, Double) {
    typealias Vector = SIMD8<T>
    let raw = UnsafeRawPointer(source), stride = MemoryLayout<T>.stride
    let k = Vector(repeating: shift)
    var total = 0.0, squares = 0.0, i = 0
    while i + Vector.scalarCount <= count {
        let end = min(count, i + sumBlock)
        var s = Vector(), q = Vector()
        while i + Vector.scalarCount <= end {
            let d = raw.loadUnaligned(fromByteOffset: i * stride, as: Vector.self) - k
            s += d
            q += d * d
            i += Vector.scalarCount
        }
        total += Double(s.sum())
        squares += Double(q.sum())
    }
    var s = T.zero, q = T.zero
    while i < count {
        let d = source[i] - shift
        s += d
        q += d * d
        i += 1
    }
    return (total + Double(s), squares + Double(q))
}

/// ``BatchNormElement/activated(_:slope:)`` of one element.
@inline(__always)
private func activated<T: BatchNormElement>(_ y: T, slope: T) -> T {
    y <= 0 ? (slope == 0 ? 0 : y * slope) : y
}

/// ``BatchNormElement/masked(_:at:slope:)`` of one element.
@inline(__always)
private func masked<T: BatchNormElement>(_ g: T, at y: T, slope: T) -> T {
    y > 0 ? g : (slope == 0 ? 0 : slope * g)
}

/// A (leaky) ReLU fused after the normalization: the slope of its negative part (0 for ReLU)
/// and the per-channel factor and offset that give its input, `(x − μ)·factor + offset`.
private struct FusedActivation<T: BatchNormElement> {
    let slope: T, factor: T, offset: T
}

/// The sums of `dy[0..<count]` and of `dy · (x − mean)`, in float64, blocked as
/// ``shiftedSums(_:count:shift:)``; with an activation, `dy` is first taken through it.
@inline(__always)
private func gradientSums<T: BatchNormElement>(_ dy: UnsafePointer<T>, _ x: UnsafePointer<T>, count: Int,
                                                mean: T, activation: FusedActivation<T>?) -> (Double, Double) {
    typealias Vector = SIMD8<T>
    let rawG = UnsafeRawPointer(dy), rawX = UnsafeRawPointer(x), stride = MemoryLayout<T>.stride
    let m = Vector(repeating: mean)
    var total = 0.0, products = 0.0, i = 0
    while i + Vector.scalarCount <= count {
        let end = min(count, i + sumBlock)
        var s = Vector(), p = Vector()
        while i + Vector.scalarCount <= end {
            var g = rawG.loadUnaligned(fromByteOffset: i * stride, as: Vector.self)
            let d = rawX.loadUnaligned(fromByteOffset: i * stride, as: Vector.self) - m
            if let activation {
                g = T.masked(g, at: d * activation.factor + activation.offset, slope: activation.slope)
            }
            s += g
            p += g * d
            i += Vector.scalarCount
        }
        total += Double(s.sum())
        products += Double(p.sum())
    }
    var s = T.zero, p = T.zero
    while i < count {
        var g = dy[i]
        let d = x[i] - mean
        if let activation { g = masked(g, at: d * activation.factor + activation.offset, slope: activation.slope) }
        s += g
        p += g * d
        i += 1
    }
    return (total + Double(s), products + Double(p))
}

/// `destination[i] = a·(source[i] − center) + b`, then the activation when there is one.
@inline(__always)
private func normalizedRun<T: BatchNormElement>(_ source: UnsafePointer<T>, _ destination: UnsafeMutablePointer<T>,
                                                count: Int, center: T, a: T, b: T, slope: T?) {
    typealias Vector = SIMD8<T>
    let rawX = UnsafeRawPointer(source), rawD = UnsafeMutableRawPointer(destination)
    let stride = MemoryLayout<T>.stride
    let vCenter = Vector(repeating: center), vA = Vector(repeating: a), vB = Vector(repeating: b)
    var i = 0
    while i + Vector.scalarCount <= count {
        var y = (rawX.loadUnaligned(fromByteOffset: i * stride, as: Vector.self) - vCenter) * vA + vB
        if let slope { y = T.activated(y, slope: slope) }
        rawD.storeBytes(of: y, toByteOffset: i * stride, as: Vector.self)
        i += Vector.scalarCount
    }
    while i < count {
        let y = (source[i] - center) * a + b
        destination[i] = slope.map { activated(y, slope: $0) } ?? y
        i += 1
    }
}

/// `destination[i] = a·dy[i] + c·(x[i] − center) + b`, with `dy` first taken through the
/// activation when there is one.
@inline(__always)
private func gradientRun<T: BatchNormElement>(_ dy: UnsafePointer<T>, _ x: UnsafePointer<T>,
                                              _ destination: UnsafeMutablePointer<T>, count: Int,
                                              center: T, a: T, b: T, c: T, activation: FusedActivation<T>?) {
    typealias Vector = SIMD8<T>
    let rawG = UnsafeRawPointer(dy), rawX = UnsafeRawPointer(x), rawD = UnsafeMutableRawPointer(destination)
    let stride = MemoryLayout<T>.stride
    let vCenter = Vector(repeating: center), vA = Vector(repeating: a), vB = Vector(repeating: b)
    let vC = Vector(repeating: c)
    var i = 0
    while i + Vector.scalarCount <= count {
        var g = rawG.loadUnaligned(fromByteOffset: i * stride, as: Vector.self)
        let d = rawX.loadUnaligned(fromByteOffset: i * stride, as: Vector.self) - vCenter
        if let activation { g = T.masked(g, at: d * activation.factor + activation.offset, slope: activation.slope) }
        rawD.storeBytes(of: vA * g + vC * d + vB, toByteOffset: i * stride, as: Vector.self)
        i += Vector.scalarCount
    }
    while i < count {
        var g = dy[i]
        let d = x[i] - center
        if let activation { g = masked(g, at: d * activation.factor + activation.offset, slope: activation.slope) }
        destination[i] = a * g + c * d + b
        i += 1
    }
}

/// The mean and biased variance of each channel, in one pass: `[2, channels]`, the means then
/// the variances. Each channel's sums of `x − x₀` and `(x − x₀)²` (`x₀` its first element, so
/// that a large mean does not cancel the variance away) are taken run by run in float64.
struct ChannelMoments<T: BatchNormElement>: Kernel {
    let layout: ChannelLayout

    func run(_ inputs: KernelInputs, _ output: UnsafeMutableRawPointer) {
        let x = inputs[0].assumingMemoryBound(to: T.self), result = output.assumingMemoryBound(to: T.self)
        let (outer, channels, inner) = (layout.outer, layout.channels, layout.inner)
        let count = Double(layout.perChannel)
        Parallel.forEachChunk(count: channels, grain: layout.channelGrain) { range in
            for c in range {
                let shift = layout.perChannel > 0 ? x[c * inner] : T.zero
                var total = 0.0, squares = 0.0
                for o in 0..<outer {
                    let (s, q) = shiftedSums(x + (o * channels + c) * inner, count: inner, shift: shift)
                    total += s
                    squares += q
                }
                let offset = total / count
                result[c] = T(Double(shift) + offset)
                result[channels + c] = T(max(squares / count - offset * offset, 0))
            }
        }
    }
}

/// `(x − μ)·γ/√(σ² + ε) + β` per channel, then the (leaky) ReLU of slope `negativeSlope` when
/// it is not nil, in one pass, from `x`, the ``ChannelMoments``, γ and β (one value per channel).
struct ChannelNormalization<T: BatchNormElement>: Kernel {
    let layout: ChannelLayout
    let epsilon: Double
    let negativeSlope: Double?

    func run(_ inputs: KernelInputs, _ output: UnsafeMutableRawPointer) {
        let x = inputs[0].assumingMemoryBound(to: T.self), moments = inputs[1].assumingMemoryBound(to: T.self)
        let scale = inputs[2].assumingMemoryBound(to: T.self), offset = inputs[3].assumingMemoryBound(to: T.self)
        let y = output.assumingMemoryBound(to: T.self)
        let (channels, inner) = (layout.channels, layout.inner)
        let epsilon = T(epsilon), slope = negativeSlope.map { T($0) }
        Parallel.forEachChunk(count: layout.outer * channels, grain: layout.runGrain) { runs in
            for run in runs {
                let c = run % channels
                normalizedRun(x + run * inner, y + run * inner, count: inner, center: moments[c],
                              a: factor(scale, moments, c, channels, epsilon), b: offset[c], slope: slope)
            }
        }
    }
}

/// γ/√(σ² + ε) of channel `c`, in `T`: the forward pass and the backward pass's recomputed
/// activation input must round alike.
@inline(__always)
private func factor<T: BatchNormElement>(_ scale: UnsafePointer<T>, _ moments: UnsafePointer<T>, _ c: Int,
                                         _ channels: Int, _ epsilon: T) -> T {
    scale[c] / (moments[channels + c] + epsilon).squareRoot()
}

/// The per-channel sums of the output gradient `dy` and of `dy · x̂`, `x̂ = (x − μ)/√(σ² + ε)`:
/// `[2, channels]`, which are the gradients of the offset and of the scale. With a fused
/// activation (`negativeSlope` not nil), `dy` is the activation's output gradient, taken
/// through it at the recomputed normalized values, which needs γ and β as further inputs.
struct ChannelGradientSums<T: BatchNormElement>: Kernel {
    let layout: ChannelLayout
    let epsilon: Double
    let negativeSlope: Double?

    func run(_ inputs: KernelInputs, _ output: UnsafeMutableRawPointer) {
        let dy = inputs[0].assumingMemoryBound(to: T.self), x = inputs[1].assumingMemoryBound(to: T.self)
        let moments = inputs[2].assumingMemoryBound(to: T.self), result = output.assumingMemoryBound(to: T.self)
        let scale = negativeSlope == nil ? nil : inputs[3].assumingMemoryBound(to: T.self)
        let offset = negativeSlope == nil ? nil : inputs[4].assumingMemoryBound(to: T.self)
        let (outer, channels, inner) = (layout.outer, layout.channels, layout.inner)
        let (epsilon, slope) = (epsilon, negativeSlope.map { T($0) })
        Parallel.forEachChunk(count: channels, grain: layout.channelGrain) { range in
            for c in range {
                let activation = slope.map {
                    FusedActivation(slope: $0, factor: factor(scale!, moments, c, channels, T(epsilon)), offset: offset![c])
                }
                var total = 0.0, products = 0.0
                for o in 0..<outer {
                    let at = (o * channels + c) * inner
                    let (s, p) = gradientSums(dy + at, x + at, count: inner, mean: moments[c], activation: activation)
                    total += s
                    products += p
                }
                result[c] = T(total)
                result[channels + c] = T(products / (Double(moments[channels + c]) + epsilon).squareRoot())
            }
        }
    }
}

/// The input's gradient of batch normalization in training mode, in one pass:
/// `dx = γ/√(σ² + ε) · (dy − mean(dy) − x̂ · mean(dy · x̂))`, from `dy`, `x`, the
/// ``ChannelMoments``, γ, β and the ``ChannelGradientSums``; with a fused activation, `dy` is
/// taken through it first, as in ``ChannelGradientSums``.
struct ChannelNormalizationGradient<T: BatchNormElement>: Kernel {
    let layout: ChannelLayout
    let epsilon: Double
    let negativeSlope: Double?

    func run(_ inputs: KernelInputs, _ output: UnsafeMutableRawPointer) {
        let dy = inputs[0].assumingMemoryBound(to: T.self), x = inputs[1].assumingMemoryBound(to: T.self)
        let moments = inputs[2].assumingMemoryBound(to: T.self), scale = inputs[3].assumingMemoryBound(to: T.self)
        let offset = inputs[4].assumingMemoryBound(to: T.self), sums = inputs[5].assumingMemoryBound(to: T.self)
        let dx = output.assumingMemoryBound(to: T.self)
        let (channels, inner) = (layout.channels, layout.inner)
        let (epsilon, count, slope) = (epsilon, Double(layout.perChannel), negativeSlope.map { T($0) })
        Parallel.forEachChunk(count: layout.outer * channels, grain: layout.runGrain) { runs in
            for run in runs {
                let c = run % channels
                let activation = slope.map {
                    FusedActivation(slope: $0, factor: factor(scale, moments, c, channels, T(epsilon)), offset: offset[c])
                }
                // dx = a·dy + k·(x − μ) + b, with a = γ/σ, k = −a·Σ(dy·x̂)/(σM), b = −a·Σdy/M.
                let inverse = 1 / (Double(moments[channels + c]) + epsilon).squareRoot()
                let a = Double(scale[c]) * inverse
                gradientRun(dy + run * inner, x + run * inner, dx + run * inner, count: inner, center: moments[c],
                            a: T(a), b: T(-a * Double(sums[c]) / count),
                            c: T(-a * inverse * Double(sums[channels + c]) / count), activation: activation)
            }
        }
    }
}
