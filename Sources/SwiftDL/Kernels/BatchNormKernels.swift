import CSwiftDLSupport

// Batch normalization's training-mode passes, fused: the per-channel statistics in one pass,
// the normalization with scale and offset (and a following ReLU or leaky ReLU) in one pass, and
// the backward pass in two (the per-channel sums of the gradient, then the input's gradient). The composition of
// differentiable operations they replace made about 6 passes forward and 10 backward, a third
// of a DCGAN step's CPU time. Each kernel writes one array (so that dlaccelerate captures and
// replays it) and reads its activation-sized operands as `[outer, channels, inner]` (NCHW:
// `[N, C, H·W]`), each in either of two layouts (``ChannelBlocking``): plain, read in runs of
// `inner` elements eight lanes at a time, or channel-blocked as oneDNN's convolutions keep
// activations (`[N, C/b, H·W, b]`), read eight channels at a time. The kernels share the
// channels (or the runs) among the cores; each channel's sums are taken in one fixed order,
// the plain layout's, whatever the layouts, so the bits depend neither on the layouts nor on
// the load nor on the core count.
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
    /// The number of channel vectors: groups of eight consecutive channels, the last one
    /// possibly shorter.
    var channelVectors: Int { (channels + channelVectorWidth - 1) / channelVectorWidth }
    /// The fewest channel vectors per core worth splitting a per-channel pass for.
    var channelVectorGrain: Int { max(1, Parallel.elementGrain / max(perChannel * channelVectorWidth, 1)) }
    /// The fewest runs of a channel vector (`inner` positions of eight channels) per core worth
    /// splitting an elementwise pass for.
    var vectorRunGrain: Int { max(1, Parallel.elementGrain / max(inner * channelVectorWidth, 1)) }
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
    /// Gathers eight rows of `count` elements, `rowStride` apart from `source`, into channel
    /// vectors: `tile[8·j + k] = source[k·rowStride + j]`.
    static func gatherChannelVectors(_ source: UnsafePointer<Self>, rowStride: Int, count: Int,
                                     into tile: UnsafeMutablePointer<Self>)
    /// The inverse of ``gatherChannelVectors(_:rowStride:count:into:)``:
    /// `target[k·rowStride + j] = tile[8·j + k]`.
    static func scatterChannelVectors(_ tile: UnsafePointer<Self>, count: Int,
                                      into target: UnsafeMutablePointer<Self>, rowStride: Int)
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

    // 8×8 blocks transposed in AVX registers (C). Built lane by lane in Swift, a mixed-layout
    // normalization of the DCGAN's [64, 64, 196] took 275 µs against 142 plain, slower than the
    // reorder it saves; now the transposes of a replayed DCGAN step's mixed-layout kernels take
    // 2.6-4.4 ms of CPU, and the reorders they remove took 4.5-7 ms (BENCHMARKS.md, "Mixed
    // layouts").
    @inline(__always)
    static func gatherChannelVectors(_ source: UnsafePointer<Float>, rowStride: Int, count: Int,
                                     into tile: UnsafeMutablePointer<Float>) {
        swiftdl_gather_channel_vectors_f32(source, rowStride, count, tile, channelVectorWidth)
    }

    @inline(__always)
    static func scatterChannelVectors(_ tile: UnsafePointer<Float>, count: Int,
                                      into target: UnsafeMutablePointer<Float>, rowStride: Int) {
        swiftdl_scatter_channel_vectors_f32(tile, channelVectorWidth, count, target, rowStride)
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

    @inline(__always)
    static func gatherChannelVectors(_ source: UnsafePointer<Double>, rowStride: Int, count: Int,
                                     into tile: UnsafeMutablePointer<Double>) {
        for j in 0..<count {
            for k in 0..<channelVectorWidth { tile[j * channelVectorWidth + k] = source[k * rowStride + j] }
        }
    }

    @inline(__always)
    static func scatterChannelVectors(_ tile: UnsafePointer<Double>, count: Int,
                                      into target: UnsafeMutablePointer<Double>, rowStride: Int) {
        for j in 0..<count {
            for k in 0..<channelVectorWidth { target[k * rowStride + j] = tile[j * channelVectorWidth + k] }
        }
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
/// and the per-channel factor and offset that give its input, `(x − μ)·factor + offset`, of one
/// channel (`Coefficient` is `T`) or of a channel vector (`SIMD8<T>`).
private struct FusedActivation<T: BatchNormElement, Coefficient> {
    let slope: T, factor: Coefficient, offset: Coefficient
}

/// The sums of `dy[0..<count]` and of `dy · (x − mean)`, in float64, blocked as
/// ``shiftedSums(_:count:shift:)``; with an activation, `dy` is first taken through it.
@inline(__always)
private func gradientSums<T: BatchNormElement>(_ dy: UnsafePointer<T>, _ x: UnsafePointer<T>, count: Int,
                                                mean: T, activation: FusedActivation<T, T>?) -> (Double, Double) {
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
                                              center: T, a: T, b: T, c: T, activation: FusedActivation<T, T>?) {
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

/// The channels a vector of the blocked passes holds: eight consecutive channels from a
/// multiple of 8, one per lane of a `SIMD8`, at one position.
private let channelVectorWidth = 8

/// The elements of the channel vector at `start[j · stride]`.
@inline(__always)
private func channelVector<T: BatchNormElement>(_ start: UnsafePointer<T>, _ j: Int, _ stride: Int) -> SIMD8<T> {
    UnsafeRawPointer(start + j * stride).loadUnaligned(as: SIMD8<T>.self)
}

/// A channel vector of per-channel values: `value(k)` in lanes `k < width`, zero beyond.
@inline(__always)
private func channelVector<T: BatchNormElement>(width: Int, _ value: (Int) -> T) -> SIMD8<T> {
    var vector = SIMD8<T>()
    for k in 0..<width { vector[k] = value(k) }
    return vector
}

/// The lanes of `vector` in float64.
@inline(__always)
private func doubles<T: BatchNormElement>(_ vector: SIMD8<T>) -> SIMD8<Double> {
    var result = SIMD8<Double>()
    for k in 0..<channelVectorWidth { result[k] = Double(vector[k]) }
    return result
}

/// An activation-sized operand of a pass over channel vectors, with its layout. Blocked by a
/// multiple of 8, it holds the channel vectors in place, `block` elements apart; otherwise
/// they are gathered into (or scattered from) a tile of ``sumBlock`` positions that stays in
/// cache, so that a layout is transposed tile by tile.
private struct ChannelVectorOperand<T: BatchNormElement> {
    /// The elements (only read, for an input).
    let elements: UnsafeMutablePointer<T>
    let layout: ChannelLayout
    let blocking: ChannelBlocking
    /// Eight elements a position for ``sumBlock`` positions, when the channel vectors are not in place.
    let tile: UnsafeMutablePointer<T>?

    /// The operand at `elements`, with a tile of its own when its channel vectors are not in
    /// place (one operand per core: ``deallocate()`` it after the core's work).
    init(_ elements: UnsafeRawPointer, _ layout: ChannelLayout, _ blocking: ChannelBlocking) {
        self.elements = UnsafeMutableRawPointer(mutating: elements).assumingMemoryBound(to: T.self)
        self.layout = layout
        self.blocking = blocking
        if case .blocked(let block) = blocking, block % channelVectorWidth == 0 {
            tile = nil
        } else {
            let tile = UnsafeMutablePointer<T>.allocate(capacity: channelVectorWidth * sumBlock)
            tile.initialize(repeating: 0, count: channelVectorWidth * sumBlock)
            self.tile = tile
        }
    }

    /// Frees the tile.
    func deallocate() { tile?.deallocate() }

    /// Element `(o, c, i)`.
    @inline(__always)
    func element(_ o: Int, _ c: Int, _ i: Int) -> T { elements[blocking.index(o, c, i, in: layout)] }

    /// The channel vector from channel `first` at `positions` of run `o`, as the place of the
    /// one at position `positions.lowerBound + j` (`j · stride` elements from `start`): in place,
    /// or gathered into the tile.
    @inline(__always)
    func vectors(_ o: Int, from first: Int, _ positions: Range<Int>) -> (start: UnsafePointer<T>, stride: Int) {
        guard let tile else {
            return (UnsafePointer(elements + blocking.index(o, first, positions.lowerBound, in: layout)),
                    blocking.positionStride)
        }
        let step = blocking.positionStride, width = min(channelVectorWidth, layout.channels - first)
        if blocking == .plain && width == channelVectorWidth {
            T.gatherChannelVectors(elements + blocking.index(o, first, positions.lowerBound, in: layout),
                                   rowStride: layout.inner, count: positions.count, into: tile)
            return (UnsafePointer(tile), channelVectorWidth)
        }
        for k in 0..<width {
            let source = elements + blocking.index(o, first + k, positions.lowerBound, in: layout)
            for j in 0..<positions.count { tile[j * channelVectorWidth + k] = source[j * step] }
        }
        return (UnsafePointer(tile), channelVectorWidth)
    }

    /// Where to write the channel vectors ``vectors(_:from:_:)`` reads, `j · stride` elements
    /// from `start`: in place, or into the tile, for ``scatter(_:from:_:)`` to put in place.
    @inline(__always)
    func destination(_ o: Int, from first: Int, _ positions: Range<Int>) -> (start: UnsafeMutablePointer<T>, stride: Int) {
        guard let tile else {
            return (elements + blocking.index(o, first, positions.lowerBound, in: layout), blocking.positionStride)
        }
        return (tile, channelVectorWidth)
    }

    /// Writes the tile's channel vectors written through ``destination(_:from:_:)`` to their
    /// places (nothing when they are in place).
    @inline(__always)
    func scatter(_ o: Int, from first: Int, _ positions: Range<Int>) {
        guard let tile else { return }
        let step = blocking.positionStride, width = min(channelVectorWidth, layout.channels - first)
        if blocking == .plain && width == channelVectorWidth {
            T.scatterChannelVectors(tile, count: positions.count,
                                    into: elements + blocking.index(o, first, positions.lowerBound, in: layout),
                                    rowStride: layout.inner)
            return
        }
        for k in 0..<width {
            let target = elements + blocking.index(o, first + k, positions.lowerBound, in: layout)
            for j in 0..<positions.count { target[j * step] = tile[j * channelVectorWidth + k] }
        }
    }
}

/// The block sums of the two terms `terms(j)` of channel vectors at `j < count` (a multiple of
/// 8, at most ``sumBlock``), each lane (channel) as ``shiftedSums(_:count:shift:)`` sums a block
/// of its run: partial sums of the positions `j ≡ l (mod 8)` for each `l`, added from -0 in the
/// order of `l`, as `SIMD8.sum()` adds its lanes. Two residues at a time, for independent
/// additions.
@inline(__always)
private func laneOrderedSums<T: BatchNormElement>(count: Int, _ terms: (Int) -> (SIMD8<T>, SIMD8<T>))
    -> (SIMD8<T>, SIMD8<T>) {
    var first = SIMD8<T>(repeating: -T.zero), second = SIMD8<T>(repeating: -T.zero)
    for lane in stride(from: 0, to: 8, by: 2) {
        var a = SIMD8<T>(), b = SIMD8<T>(), nextA = SIMD8<T>(), nextB = SIMD8<T>(), j = lane
        while j < count {
            let (u, v) = terms(j), (nextU, nextV) = terms(j + 1)
            a += u
            b += v
            nextA += nextU
            nextB += nextV
            j += 8
        }
        first += a
        first += nextA
        second += b
        second += nextB
    }
    return (first, second)
}

/// A run's two sums over the channel vectors of its `inner` positions, in float64: the block
/// sums `blocks(positions)` of each ``sumBlock`` positions before `vectorEnd` (lane-ordered,
/// as the plain pass sums a block), added in order, then the positions from `vectorEnd` one
/// after another: `tail(positions)` gives the two terms of the tail's position `j`. The order
/// of the additions is the plain pass's, which the blocked passes' bits depend on.
@inline(__always)
private func runSums<T: BatchNormElement>(inner: Int, vectorEnd: Int,
                                          blocks: (Range<Int>) -> (SIMD8<T>, SIMD8<T>),
                                          tail: (Range<Int>) -> (Int) -> (SIMD8<T>, SIMD8<T>))
    -> (SIMD8<Double>, SIMD8<Double>) {
    var first = SIMD8<Double>(), second = SIMD8<Double>()
    for block in stride(from: 0, to: vectorEnd, by: sumBlock) {
        let (a, b) = blocks(block..<min(vectorEnd, block + sumBlock))
        first += doubles(a)
        second += doubles(b)
    }
    let terms = tail(vectorEnd..<inner)
    var a = SIMD8<T>(), b = SIMD8<T>()
    for j in 0..<(inner - vectorEnd) {
        let (termA, termB) = terms(j)
        a += termA
        b += termB
    }
    return (first + doubles(a), second + doubles(b))
}

/// The block sums of channel vectors `start[j · stride] − shift` and of their squares, in the
/// order of ``laneOrderedSums(count:_:)``.
@inline(__always)
private func laneOrderedShiftedSums<T: BatchNormElement>(_ start: UnsafePointer<T>, stride: Int, count: Int,
                                                         shift: SIMD8<T>) -> (SIMD8<T>, SIMD8<T>) {
    laneOrderedSums(count: count) { j in
        let d = channelVector(start, j, stride) - shift
        return (d, d * d)
    }
}

/// The output gradient of channel vector `j` (`dy[j · dyStride]`), taken through the fused
/// activation when there is one, and `x − mean` there (`x[j · xStride]`).
@inline(__always)
private func activatedGradient<T: BatchNormElement>(
    _ dy: UnsafePointer<T>, _ dyStride: Int, _ x: UnsafePointer<T>, _ xStride: Int, _ j: Int, mean: SIMD8<T>,
    activation: FusedActivation<T, SIMD8<T>>?
) -> (g: SIMD8<T>, d: SIMD8<T>) {
    let g = channelVector(dy, j, dyStride), d = channelVector(x, j, xStride) - mean
    guard let activation else { return (g, d) }
    return (T.masked(g, at: d * activation.factor + activation.offset, slope: activation.slope), d)
}

/// The block sums of channel vectors `dy` and `dy · (x − mean)`, each lane as
/// ``gradientSums(_:_:count:mean:activation:)`` sums a block of its run, in the order of
/// ``laneOrderedSums(count:_:)``.
@inline(__always)
private func laneOrderedGradientSums<T: BatchNormElement>(
    _ dy: UnsafePointer<T>, dyStride: Int, _ x: UnsafePointer<T>, xStride: Int, count: Int, mean: SIMD8<T>,
    activation: FusedActivation<T, SIMD8<T>>?
) -> (SIMD8<T>, SIMD8<T>) {
    laneOrderedSums(count: count) { j in
        let (g, d) = activatedGradient(dy, dyStride, x, xStride, j, mean: mean, activation: activation)
        return (g, g * d)
    }
}

/// Writes channel `c`'s mean and biased variance into `result` (`[2, channels]`) from its sums
/// of `x − shift` and of their squares over `count` elements.
@inline(__always)
private func storeMoments<T: BatchNormElement>(_ result: UnsafeMutablePointer<T>, _ c: Int, channels: Int,
                                               shift: T, total: Double, squares: Double, count: Double) {
    let offset = total / count
    result[c] = T(Double(shift) + offset)
    result[channels + c] = T(max(squares / count - offset * offset, 0))
}

/// The mean and biased variance of each channel, in one pass: `[2, channels]`, the means then
/// the variances. Each channel's sums of `x − x₀` and `(x − x₀)²` (`x₀` its first element, so
/// that a large mean does not cancel the variance away) are taken run by run in float64, in
/// the same order whatever `xBlocking`, x's layout.
struct ChannelMoments<T: BatchNormElement>: Kernel {
    let layout: ChannelLayout
    /// How x lies in memory.
    var xBlocking: ChannelBlocking = .plain

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func run(_ inputs: KernelInputs, _ output: UnsafeMutableRawPointer) {
        precondition(xBlocking.fits(layout), "ChannelMoments: a block must divide the channels")
        let result = output.assumingMemoryBound(to: T.self)
        guard xBlocking == .plain else {
            runOnChannelVectors(inputs[0], result)
            return
        }
        let x = inputs[0].assumingMemoryBound(to: T.self)
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
                storeMoments(result, c, channels: channels, shift: shift, total: total, squares: squares, count: count)
            }
        }
    }

    /// ``run(_:_:)`` with x blocked: the sums of eight channels at once, each lane's additions
    /// those of the plain pass.
    private func runOnChannelVectors(_ elements: UnsafeRawPointer, _ result: UnsafeMutablePointer<T>) {
        let (outer, channels, inner) = (layout.outer, layout.channels, layout.inner)
        let count = Double(layout.perChannel), vectorEnd = inner - inner % 8
        Parallel.forEachChunk(count: layout.channelVectors, grain: layout.channelVectorGrain) { range in
            let x = ChannelVectorOperand<T>(elements, layout, xBlocking)
            defer { x.deallocate() }
            // Run by run, the channel vectors of a run one after another, which share cache lines.
            let shifts = range.map { vector in
                let first = vector * channelVectorWidth, width = min(channelVectorWidth, channels - first)
                return layout.perChannel > 0 ? channelVector(width: width) { x.element(0, first + $0, 0) } : SIMD8<T>()
            }
            var totals = [SIMD8<Double>](repeating: SIMD8(), count: range.count), squares = totals
            for o in 0..<outer {
                for (index, vector) in zip(0..., range) {
                    let first = vector * channelVectorWidth, shift = shifts[index]
                    let (total, squared) = runSums(inner: inner, vectorEnd: vectorEnd, blocks: { positions in
                        let (xs, step) = x.vectors(o, from: first, positions)
                        return laneOrderedShiftedSums(xs, stride: step, count: positions.count, shift: shift)
                    }, tail: { positions in
                        let (xs, step) = x.vectors(o, from: first, positions)
                        return { j in
                            let d = channelVector(xs, j, step) - shift
                            return (d, d * d)
                        }
                    })
                    totals[index] += total
                    squares[index] += squared
                }
            }
            for (index, vector) in zip(0..., range) {
                let first = vector * channelVectorWidth
                for k in 0..<min(channelVectorWidth, channels - first) {
                    storeMoments(result, first + k, channels: channels, shift: shifts[index][k], total: totals[index][k],
                                 squares: squares[index][k], count: count)
                }
            }
        }
    }
}

/// `(x − μ)·γ/√(σ² + ε) + β` per channel, then the (leaky) ReLU of slope `negativeSlope` when
/// it is not nil, in one pass, from `x`, the ``ChannelMoments``, γ and β (one value per channel);
/// x and the output y each laid out as their blockings say.
struct ChannelNormalization<T: BatchNormElement>: Kernel {
    let layout: ChannelLayout
    let epsilon: Double
    let negativeSlope: Double?
    /// How x lies in memory.
    var xBlocking: ChannelBlocking = .plain
    /// How the output y lies in memory.
    var yBlocking: ChannelBlocking = .plain

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func run(_ inputs: KernelInputs, _ output: UnsafeMutableRawPointer) {
        precondition(xBlocking.fits(layout) && yBlocking.fits(layout), "ChannelNormalization: a block must divide the channels")
        let moments = inputs[1].assumingMemoryBound(to: T.self)
        let scale = inputs[2].assumingMemoryBound(to: T.self), offset = inputs[3].assumingMemoryBound(to: T.self)
        let (channels, inner) = (layout.channels, layout.inner)
        let epsilon = T(epsilon), slope = negativeSlope.map { T($0) }
        guard xBlocking == .plain && yBlocking == .plain else {
            Parallel.forEachChunk(count: layout.outer * layout.channelVectors, grain: layout.vectorRunGrain) { runs in
                let x = ChannelVectorOperand<T>(inputs[0], layout, xBlocking)
                let y = ChannelVectorOperand<T>(output, layout, yBlocking)
                defer { x.deallocate(); y.deallocate() }
                for run in runs {
                    let o = run / layout.channelVectors, first = run % layout.channelVectors * channelVectorWidth
                    let width = min(channelVectorWidth, channels - first)
                    let center = channelVector(width: width) { moments[first + $0] }
                    let a = channelVector(width: width) { factor(scale, moments, first + $0, channels, epsilon) }
                    let b = channelVector(width: width) { offset[first + $0] }
                    for start in stride(from: 0, to: inner, by: sumBlock) {
                        let positions = start..<min(inner, start + sumBlock)
                        let (xs, xStride) = x.vectors(o, from: first, positions)
                        let (ys, yStride) = y.destination(o, from: first, positions)
                        for j in 0..<positions.count {
                            var value = (channelVector(xs, j, xStride) - center) * a + b
                            if let slope { value = T.activated(value, slope: slope) }
                            UnsafeMutableRawPointer(ys + j * yStride).storeBytes(of: value, as: SIMD8<T>.self)
                        }
                        y.scatter(o, from: first, positions)
                    }
                }
            }
            return
        }
        let x = inputs[0].assumingMemoryBound(to: T.self), y = output.assumingMemoryBound(to: T.self)
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

/// Writes channel `c`'s gradient sums into `result` (`[2, channels]`): the sum of `dy`, and
/// the sum of `dy · (x − μ)` over σ = √(σ² + ε).
@inline(__always)
private func storeGradientSums<T: BatchNormElement>(_ result: UnsafeMutablePointer<T>, _ c: Int, channels: Int,
                                                    moments: UnsafePointer<T>, epsilon: Double,
                                                    total: Double, products: Double) {
    result[c] = T(total)
    result[channels + c] = T(products / (Double(moments[channels + c]) + epsilon).squareRoot())
}

/// The per-channel sums of the output gradient `dy` and of `dy · x̂`, `x̂ = (x − μ)/√(σ² + ε)`:
/// `[2, channels]`, which are the gradients of the offset and of the scale. With a fused
/// activation (`negativeSlope` not nil), `dy` is the activation's output gradient, taken
/// through it at the recomputed normalized values, which needs γ and β as further inputs.
/// dy and x each laid out as their blockings say; the sums are taken in the same order
/// whatever the layouts.
struct ChannelGradientSums<T: BatchNormElement>: Kernel {
    let layout: ChannelLayout
    let epsilon: Double
    let negativeSlope: Double?
    /// How dy lies in memory.
    var dyBlocking: ChannelBlocking = .plain
    /// How x lies in memory.
    var xBlocking: ChannelBlocking = .plain

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func run(_ inputs: KernelInputs, _ output: UnsafeMutableRawPointer) {
        precondition(dyBlocking.fits(layout) && xBlocking.fits(layout), "ChannelGradientSums: a block must divide the channels")
        let moments = inputs[2].assumingMemoryBound(to: T.self), result = output.assumingMemoryBound(to: T.self)
        let scale = negativeSlope == nil ? nil : inputs[3].assumingMemoryBound(to: T.self)
        let offset = negativeSlope == nil ? nil : inputs[4].assumingMemoryBound(to: T.self)
        let (outer, channels, inner) = (layout.outer, layout.channels, layout.inner)
        let (epsilon, slope) = (epsilon, negativeSlope.map { T($0) })
        guard dyBlocking == .plain && xBlocking == .plain else {
            let vectorEnd = inner - inner % 8
            Parallel.forEachChunk(count: layout.channelVectors, grain: layout.channelVectorGrain) { range in
                let dy = ChannelVectorOperand<T>(inputs[0], layout, dyBlocking)
                let x = ChannelVectorOperand<T>(inputs[1], layout, xBlocking)
                defer { dy.deallocate(); x.deallocate() }
                // Run by run, the channel vectors of a run one after another, which share cache lines.
                let coefficients = range.map { vector in
                    let first = vector * channelVectorWidth, width = min(channelVectorWidth, channels - first)
                    let mean = channelVector(width: width) { moments[first + $0] }
                    let activation = slope.map { slope in
                        FusedActivation(
                            slope: slope,
                            factor: channelVector(width: width) { factor(scale!, moments, first + $0, channels, T(epsilon)) },
                            offset: channelVector(width: width) { offset![first + $0] })
                    }
                    return (mean: mean, activation: activation)
                }
                var totals = [SIMD8<Double>](repeating: SIMD8(), count: range.count), products = totals
                for o in 0..<outer {
                    for (index, vector) in zip(0..., range) {
                        let first = vector * channelVectorWidth, (mean, activation) = coefficients[index]
                        let (total, product) = runSums(inner: inner, vectorEnd: vectorEnd, blocks: { positions in
                            let (gs, gStride) = dy.vectors(o, from: first, positions)
                            let (xs, xStride) = x.vectors(o, from: first, positions)
                            return laneOrderedGradientSums(gs, dyStride: gStride, xs, xStride: xStride,
                                                           count: positions.count, mean: mean, activation: activation)
                        }, tail: { positions in
                            let (gs, gStride) = dy.vectors(o, from: first, positions)
                            let (xs, xStride) = x.vectors(o, from: first, positions)
                            return { j in
                                let (g, d) = activatedGradient(gs, gStride, xs, xStride, j, mean: mean, activation: activation)
                                return (g, g * d)
                            }
                        })
                        totals[index] += total
                        products[index] += product
                    }
                }
                for (index, vector) in zip(0..., range) {
                    let first = vector * channelVectorWidth
                    for k in 0..<min(channelVectorWidth, channels - first) {
                        storeGradientSums(result, first + k, channels: channels, moments: moments, epsilon: epsilon,
                                          total: totals[index][k], products: products[index][k])
                    }
                }
            }
            return
        }
        let dy = inputs[0].assumingMemoryBound(to: T.self), x = inputs[1].assumingMemoryBound(to: T.self)
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
                storeGradientSums(result, c, channels: channels, moments: moments, epsilon: epsilon,
                                  total: total, products: products)
            }
        }
    }
}

/// The coefficients of channel `c`'s input gradient `dx = a·dy + k·(x − μ) + b`, with
/// a = γ/σ, k = −a·Σ(dy·x̂)/(σM), b = −a·Σdy/M (σ = √(σ² + ε), M the elements per channel).
@inline(__always)
private func gradientCoefficients<T: BatchNormElement>(
    _ c: Int, channels: Int, moments: UnsafePointer<T>, scale: UnsafePointer<T>, sums: UnsafePointer<T>,
    epsilon: Double, count: Double
) -> (a: T, k: T, b: T) {
    let inverse = 1 / (Double(moments[channels + c]) + epsilon).squareRoot()
    let a = Double(scale[c]) * inverse
    return (T(a), T(-a * inverse * Double(sums[channels + c]) / count), T(-a * Double(sums[c]) / count))
}

/// The input's gradient of batch normalization in training mode, in one pass:
/// `dx = γ/√(σ² + ε) · (dy − mean(dy) − x̂ · mean(dy · x̂))`, from `dy`, `x`, the
/// ``ChannelMoments``, γ, β and the ``ChannelGradientSums``; with a fused activation, `dy` is
/// taken through it first, as in ``ChannelGradientSums``. dy, x and the output dx each laid
/// out as their blockings say.
struct ChannelNormalizationGradient<T: BatchNormElement>: Kernel {
    let layout: ChannelLayout
    let epsilon: Double
    let negativeSlope: Double?
    /// How dy lies in memory.
    var dyBlocking: ChannelBlocking = .plain
    /// How x lies in memory.
    var xBlocking: ChannelBlocking = .plain
    /// How the output dx lies in memory.
    var dxBlocking: ChannelBlocking = .plain

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func run(_ inputs: KernelInputs, _ output: UnsafeMutableRawPointer) {
        precondition(dyBlocking.fits(layout) && xBlocking.fits(layout) && dxBlocking.fits(layout),
                     "ChannelNormalizationGradient: a block must divide the channels")
        let moments = inputs[2].assumingMemoryBound(to: T.self), scale = inputs[3].assumingMemoryBound(to: T.self)
        let offset = inputs[4].assumingMemoryBound(to: T.self), sums = inputs[5].assumingMemoryBound(to: T.self)
        let (channels, inner) = (layout.channels, layout.inner)
        let (epsilon, count, slope) = (epsilon, Double(layout.perChannel), negativeSlope.map { T($0) })
        guard dyBlocking == .plain && xBlocking == .plain && dxBlocking == .plain else {
            Parallel.forEachChunk(count: layout.outer * layout.channelVectors, grain: layout.vectorRunGrain) { runs in
                let dy = ChannelVectorOperand<T>(inputs[0], layout, dyBlocking)
                let x = ChannelVectorOperand<T>(inputs[1], layout, xBlocking)
                let dx = ChannelVectorOperand<T>(output, layout, dxBlocking)
                defer { dy.deallocate(); x.deallocate(); dx.deallocate() }
                for run in runs {
                    let o = run / layout.channelVectors, first = run % layout.channelVectors * channelVectorWidth
                    let width = min(channelVectorWidth, channels - first)
                    var a = SIMD8<T>(), k = SIMD8<T>(), b = SIMD8<T>()
                    for lane in 0..<width {
                        (a[lane], k[lane], b[lane]) = gradientCoefficients(
                            first + lane, channels: channels, moments: moments, scale: scale, sums: sums,
                            epsilon: epsilon, count: count)
                    }
                    let center = channelVector(width: width) { moments[first + $0] }
                    let activation = slope.map { slope in
                        FusedActivation(
                            slope: slope,
                            factor: channelVector(width: width) { factor(scale, moments, first + $0, channels, T(epsilon)) },
                            offset: channelVector(width: width) { offset[first + $0] })
                    }
                    for start in stride(from: 0, to: inner, by: sumBlock) {
                        let positions = start..<min(inner, start + sumBlock)
                        let (gs, gStride) = dy.vectors(o, from: first, positions)
                        let (xs, xStride) = x.vectors(o, from: first, positions)
                        let (dxs, dxStride) = dx.destination(o, from: first, positions)
                        for j in 0..<positions.count {
                            let (g, d) = activatedGradient(gs, gStride, xs, xStride, j, mean: center, activation: activation)
                            UnsafeMutableRawPointer(dxs + j * dxStride).storeBytes(of: a * g + k * d + b, as: SIMD8<T>.self)
                        }
                        dx.scatter(o, from: first, positions)
                    }
                }
            }
            return
        }
        let dy = inputs[0].assumingMemoryBound(to: T.self), x = inputs[1].assumingMemoryBound(to: T.self)
        let dx = output.assumingMemoryBound(to: T.self)
        Parallel.forEachChunk(count: layout.outer * channels, grain: layout.runGrain) { runs in
            for run in runs {
                let c = run % channels
                let activation = slope.map {
                    FusedActivation(slope: $0, factor: factor(scale, moments, c, channels, T(epsilon)), offset: offset[c])
                }
                let (a, k, b) = gradientCoefficients(c, channels: channels, moments: moments, scale: scale, sums: sums,
                                                     epsilon: epsilon, count: count)
                gradientRun(dy + run * inner, x + run * inner, dx + run * inner, count: inner, center: moments[c],
                            a: a, b: b, c: k, activation: activation)
            }
        }
    }
}

// The kernels take their activation operands in any blocking at the same cost, so an
// accelerated plan lays them out the way the oneDNN convolutions around them want.

extension ChannelMoments: ChannelBlockingKernel {
    var blockableOperands: [BlockableOperand] { [BlockableOperand(operand: .input(0), layout: layout, wanted: nil)] }

    func with(_ blockings: [KernelOperand: ChannelBlocking]) -> any Kernel {
        var kernel = self
        kernel.xBlocking = blockings[.input(0)] ?? .plain
        return kernel
    }
}

extension ChannelNormalization: ChannelBlockingKernel {
    var blockableOperands: [BlockableOperand] {
        [.input(0), .output].map { BlockableOperand(operand: $0, layout: layout, wanted: nil) }
    }

    func with(_ blockings: [KernelOperand: ChannelBlocking]) -> any Kernel {
        var kernel = self
        kernel.xBlocking = blockings[.input(0)] ?? .plain
        kernel.yBlocking = blockings[.output] ?? .plain
        return kernel
    }
}

extension ChannelGradientSums: ChannelBlockingKernel {
    var blockableOperands: [BlockableOperand] {
        [.input(0), .input(1)].map { BlockableOperand(operand: $0, layout: layout, wanted: nil) }
    }

    func with(_ blockings: [KernelOperand: ChannelBlocking]) -> any Kernel {
        var kernel = self
        kernel.dyBlocking = blockings[.input(0)] ?? .plain
        kernel.xBlocking = blockings[.input(1)] ?? .plain
        return kernel
    }
}

extension ChannelNormalizationGradient: ChannelBlockingKernel {
    var blockableOperands: [BlockableOperand] {
        [.input(0), .input(1), .output].map { BlockableOperand(operand: $0, layout: layout, wanted: nil) }
    }

    func with(_ blockings: [KernelOperand: ChannelBlocking]) -> any Kernel {
        var kernel = self
        kernel.dyBlocking = blockings[.input(0)] ?? .plain
        kernel.xBlocking = blockings[.input(1)] ?? .plain
        kernel.dxBlocking = blockings[.output] ?? .plain
        return kernel
    }
}
