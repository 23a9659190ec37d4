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
        let kind = kind
        let output = ClosureKernel { inputs, output in
            let source = inputs[0].assumingMemoryBound(to: T.self), destination = output.assumingMemoryBound(to: T.self)
            let start: T = kind == .sum ? .zero : T(dlValue: 1)
            // The cores share the output elements (a batch reduced away leaves one long row of
            // them), each summed along `dim` in order: the same bits however they are shared.
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
        }.output(reading: x, KernelOutput(count: outer * inner, dataType: T.dataType))
        return DLArray(storage: output, shape: shape)
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
