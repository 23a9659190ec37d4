import ComplexModule
import RealModule
/// The sizes around dimension `dim`: the product of the sizes before it, its size, and the
/// product of the sizes after it. A contiguous array is then `[outer, length, inner]`.
func splitAround(_ shape: [Int], _ dim: Int) -> (outer: Int, length: Int, inner: Int) {
    (shape[..<dim].reduce(1, *), shape[dim], shape[(dim + 1)...].reduce(1, *))
}

/// How a reduction combines elements along a dimension.
enum ReductionKind { case sum, product }

struct ReduceAlongDimension: FloatingKernel {
    let x: DLArray, dim: Int, kind: ReductionKind
    func run<T: DLFloatingElement>(_ type: T.Type) -> DLArray {
        let (outer, length, inner) = splitAround(x.shape, dim)
        var shape = x.shape
        shape[dim] = 1
        let channels = x.rank >= 3 && dim == 0 ? x.shape[1] : nil
        let output = DimensionReduction<T>(outer: outer, length: length, inner: inner, kind: kind, channels: channels)
            .output(reading: x, KernelOutput(count: outer * inner, dataType: T.dataType))
        return DLArray(storage: output, shape: shape)
    }
}

/// The sums (or products) of an array `[outer, length, inner]` along its middle dimension:
/// `[outer, inner]`. The cores share the output elements (a batch reduced away leaves one long
/// row of them), each combined along the dimension in order from 0 (or 1): the same bits
/// however they are shared.
struct DimensionReduction<T: DLFloatingElement>: Kernel {
    let outer: Int, length: Int, inner: Int
    let kind: ReductionKind
    /// For a sum over the batch of an activation `[batch, channels, spatial…]`: the channels.
    let channels: Int?
    /// How the activation lies in memory (a sum over the batch only; the output is plain).
    var blocking: ChannelBlocking = .plain

    // Specialized: a plan calls the kernel through `any Kernel`, where generic code would run
    // its elements through witness tables.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    @_specialize(where T == Complex<Float>)
    @_specialize(where T == Complex<Double>)
    func run(_ inputs: KernelInputs, _ output: UnsafeMutableRawPointer) {
        let source = inputs[0].assumingMemoryBound(to: T.self), destination = output.assumingMemoryBound(to: T.self)
        if case .blocked(let block) = blocking {
            return sumBlockedBatch(source, destination, block: block)
        }
        let start: T = kind == .sum ? .zero : T(dlValue: 1)
        let (length, inner, kind) = (length, inner, kind)
        Parallel.forEachChunk(count: outer * inner, grain: max(1, Parallel.elementGrain / max(length, 1))) { range in
            var first = range.lowerBound
            while first < range.upperBound {
                let (o, i) = first.quotientAndRemainder(dividingBy: inner)
                let count = min(range.upperBound, (o + 1) * inner) - first
                let row = destination + first
                row.update(repeating: start, count: count)
                for j in 0..<length {
                    let from = source + (o * length + j) * inner + i
                    if kind == .sum {
                        for k in 0..<count { row[k] += from[k] }
                    } else {
                        for k in 0..<count { row[k] *= from[k] }
                    }
                }
                first += count
            }
        }
    }

    /// The sum over the batch of an activation laid out in channel blocks of `block`: each
    /// output element the same additions in the same order as the plain layout's, the blocks'
    /// positions summed in a tile that is then written in the plain order.
    private func sumBlockedBatch(_ source: UnsafePointer<T>, _ destination: UnsafeMutablePointer<T>, block: Int) {
        let positions = inner / channels!, units = inner / block
        Parallel.forEachChunk(count: units, grain: max(1, Parallel.elementGrain / max(length * block, 1))) { range in
            // Unit u: the `block` channels' elements at one position, `block` apart from u·block.
            let tile = UnsafeMutablePointer<T>.allocate(capacity: range.count * block)
            defer { tile.deallocate() }
            tile.initialize(repeating: .zero, count: range.count * block)
            for j in 0..<length {
                let from = source + j * inner + range.lowerBound * block
                for k in 0..<range.count * block { tile[k] += from[k] }
            }
            for u in range {
                let (b, p) = u.quotientAndRemainder(dividingBy: positions), sums = tile + (u - range.lowerBound) * block
                for lane in 0..<block { destination[(b * block + lane) * positions + p] = sums[lane] }
            }
        }
    }
}

// A convolution's bias gradient sums its output's gradient over the batch first: the plan can
// hand that sum the gradient in oneDNN's blocked layout, as the products around it have it.
extension DimensionReduction: ChannelBlockingKernel {
    var blockableOperands: [BlockableOperand] {
        guard kind == .sum, let channels, channels > 0, outer == 1 else { return [] }
        let layout = ChannelLayout(outer: length, channels: channels, inner: inner / channels)
        return [BlockableOperand(operand: .input(0), layout: layout, wanted: nil)]
    }

    func with(_ blockings: [KernelOperand: ChannelBlocking]) -> any Kernel {
        var kernel = self
        kernel.blocking = blockings[.input(0)] ?? .plain
        return kernel
    }
}

/// The sum of all elements of an array, as a one-element array: the sums of consecutive
/// blocks of ``blockSize`` elements, which the cores share, added in the blocks' order, so the
/// bits depend neither on timing nor on the number of cores.
struct SumAll<T: DLFloatingElement>: Kernel {
    let count: Int

    /// The elements of a block: fixed, since the blocks decide the sum's rounding.
    static var blockSize: Int { 1 << 17 }

    func run(_ inputs: KernelInputs, _ output: UnsafeMutableRawPointer) {
        let source = inputs[0].assumingMemoryBound(to: T.self), result = output.assumingMemoryBound(to: T.self)
        if count <= Self.blockSize { return result[0] = Self.sum(source, count: count) }
        var total = T.zero, first = true
        Parallel.share(count: count, part: Self.blockSize, scratch: {}, { block, _ in
            Self.sum(source + block.lowerBound, count: block.count)
        }, combine: { _, sum in
            total = first ? sum : total + sum
            first = false
        })
        result[0] = total
    }

    /// The sum of `count` elements in four partial sums: vectorizes, and rounds better than
    /// one running sum.
    private static func sum(_ source: UnsafePointer<T>, count: Int) -> T {
        var s0 = T.zero, s1 = T.zero, s2 = T.zero, s3 = T.zero
        var i = 0
        while i + 4 <= count {
            s0 += source[i]; s1 += source[i + 1]; s2 += source[i + 2]; s3 += source[i + 3]
            i += 4
        }
        while i < count { s0 += source[i]; i += 1 }
        return (s0 + s1) + (s2 + s3)
    }
}

/// The position of the largest (or smallest) element along a dimension, the first on ties;
/// NaN counts as largest (and smallest), as in PyTorch (MATLAB's max skips NaN by default).
/// The positions are float64 whole numbers in `x`'s shape with `dim` of size 1, computed by a
/// kernel so that a cached ``dlaccelerate(_:)`` plan finds them again for new values.
struct ArgExtremum: RealKernel {
    let x: DLArray, dim: Int, largest: Bool
    func run<T: DLRealElement>(_ type: T.Type) -> DLArray {
        let (outer, length, inner) = splitAround(x.shape, dim)
        let largest = largest
        let output = ClosureKernel { inputs, output in
            let source = inputs[0].assumingMemoryBound(to: T.self)
            let result = output.assumingMemoryBound(to: Double.self)
            for o in 0..<outer {
                for i in 0..<inner {
                    var best = source[o * length * inner + i], bestIndex = 0
                    if !best.isNaN {
                        for j in 1..<max(length, 1) {
                            let v = source[(o * length + j) * inner + i]
                            if v.isNaN { bestIndex = j; break }
                            if largest ? v > best : v < best { best = v; bestIndex = j }
                        }
                    }
                    result[o * inner + i] = Double(bestIndex)
                }
            }
        }.output(reading: x, KernelOutput(count: outer * inner, dataType: .float64))
        var shape = x.shape
        shape[dim] = 1
        return DLArray(storage: output, shape: shape)
    }
}

/// Cumulative sums or products along a dimension, forwards or backwards.
struct CumulativeAlongDimension: FloatingKernel {
    let x: DLArray, dim: Int, kind: ReductionKind, reverse: Bool
    func run<T: DLFloatingElement>(_ type: T.Type) -> DLArray {
        let (outer, length, inner) = splitAround(x.shape, dim)
        let (kind, reverse) = (kind, reverse)
        let output = ClosureKernel { inputs, output in
            let source = inputs[0].assumingMemoryBound(to: T.self), destination = output.assumingMemoryBound(to: T.self)
            for o in 0..<outer {
                for i in 0..<inner {
                    var running: T = kind == .sum ? .zero : T(dlValue: 1)
                    for step in 0..<length {
                        let j = reverse ? length - 1 - step : step
                        let at = (o * length + j) * inner + i
                        running = kind == .sum ? running + source[at] : running * source[at]
                        destination[at] = running
                    }
                }
            }
        }.output(reading: x, KernelOutput(count: x.count, dataType: T.dataType))
        return DLArray(storage: output, shape: x.shape, labels: x.labels)
    }
}

/// The permutation that sorts each line along a dimension (stable; NaN last), as float64 whole
/// numbers in `x`'s shape, computed by a kernel (see ``ArgExtremum``).
struct ArgSort: RealKernel {
    let x: DLArray, dim: Int, descending: Bool
    func run<T: DLRealElement>(_ type: T.Type) -> DLArray {
        let (outer, length, inner) = splitAround(x.shape, dim)
        let descending = descending
        let output = ClosureKernel { inputs, output in
            let source = inputs[0].assumingMemoryBound(to: T.self)
            let result = output.assumingMemoryBound(to: Double.self)
            var order = [Int](repeating: 0, count: length)
            for o in 0..<outer {
                for i in 0..<inner {
                    let value = { (j: Int) in source[(o * length + j) * inner + i] }
                    for j in 0..<length { order[j] = j }
                    order.sort { p, q in
                        let a = value(p), b = value(q)
                        if a.isNaN || b.isNaN { return !a.isNaN && b.isNaN ? true : (a.isNaN == b.isNaN && p < q) }
                        if a == b { return p < q }
                        return descending ? a > b : a < b
                    }
                    for j in 0..<length { result[(o * length + j) * inner + i] = Double(order[j]) }
                }
            }
        }.output(reading: x, KernelOutput(count: x.count, dataType: .float64))
        return DLArray(storage: output, shape: x.shape)
    }
}
