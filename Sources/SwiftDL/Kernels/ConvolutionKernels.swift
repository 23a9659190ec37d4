import CSwiftDLSupport

/// The sizes of a grouped convolution: an input `[N, C, spatial…]`, filters `[F, C/G, kernel…]`
/// and an output `[N, F, output…]`, the windows sliding over the input as `geometry` says.
struct ConvolutionLayout: Hashable {
    let geometry: WindowGeometry
    let batch: Int
    let channels: Int
    let filters: Int
    let groups: Int

    var inputShape: [Int] { [batch, channels] + geometry.inputSize }
    var outputShape: [Int] { [batch, filters] + geometry.outputSize }
    var filterShape: [Int] { [filters, channels / groups] + geometry.kernel }
}

/// How the convolution kernels walk the windows: each worker takes a few images at a time,
/// copies each input plane into a zero-bordered (padded) plane, unfolds its windows into
/// columns `[C·K, b·L]` for the images taken, and multiplies those with OpenBLAS, so the
/// columns stay in the core's cache and never exist for the whole batch.
///
/// The padded plane keeps each line along the last dimension split by stride phase: with a
/// stride `s` there, a padded line `p₀ p₁ p₂ …` is stored as `p₀ pₛ p₂ₛ … | p₁ pₛ₊₁ … | …`,
/// `s` runs of `Q = ⌈P/s⌉` elements. The elements a window element meets along a line of
/// window positions are then adjacent, so unfolding and folding move contiguous runs.
private final class WindowPlan {
    let channels: Int, filters: Int, groups: Int, batch: Int
    /// Elements per window (K), window positions (L), elements of an input plane and of a padded one.
    let windows: Int, positions: Int, planeSize: Int, paddedSize: Int
    /// Images each worker takes at a time.
    let imagesPerPart: Int
    /// The input plane by lines along its last dimension: their number and length, and where
    /// each one's padded line starts in the padded plane.
    let inputLineCount: Int, inputLine: Int, inputLines: UnsafeMutablePointer<Int>
    /// How an input line spreads over the stride phases of its padded line: for each phase,
    /// the first input element it holds, how many (every `stride`-th one), and where they go.
    let phases: [(first: Int, count: Int, offset: Int)]
    /// The stride along the last dimension.
    let stride: Int
    /// With a stride of 2, where the even and where the odd elements of an input line go in
    /// its padded line (the offsets of the phases holding them).
    let parityOffsets: (even: Int, odd: Int)
    /// For each window element, its offset from the window's first element in the padded plane.
    let kernelOffsets: UnsafeMutablePointer<Int>
    /// The window elements in the order folding adds them: by how far along its phase run each
    /// one is shifted. Adds of equal shift to a line touch the same 16-byte chunks; adds of
    /// different shifts overlap chunks without matching them, which stalls the core until the
    /// earlier add is stored, so those come as far apart as they can.
    let foldOrder: UnsafeMutablePointer<Int>
    /// The window positions by lines along the last dimension: their number and length, and
    /// where each line's first window starts; along a line the windows are adjacent.
    let positionLineCount: Int, positionLine: Int, positionLines: UnsafeMutablePointer<Int>

    /// Columns of about this many elements per part keep a part's work in a core's cache.
    private static let partElements = 1 << 18

    init(_ layout: ConvolutionLayout) {
        let geometry = layout.geometry
        (channels, filters, groups, batch) = (layout.channels, layout.filters, layout.groups, layout.batch)
        (windows, positions) = (geometry.windowCount, geometry.positionCount)
        planeSize = geometry.inputSize.reduce(1, *)
        let rank = geometry.inputSize.count, last = rank - 1
        let stride = geometry.stride[last], inputLine = geometry.inputSize[last]
        (self.stride, self.inputLine) = (stride, inputLine)
        var padded = (0..<rank).map { geometry.inputSize[$0] + geometry.paddingBefore[$0] + geometry.paddingAfter[$0] }
        let phaseLength = (padded[last] + stride - 1) / stride
        padded[last] = stride * phaseLength
        paddedSize = padded.reduce(1, *)
        let paddedStrides = contiguousStrides(padded)
        inputLineCount = geometry.inputSize.dropLast().reduce(1, *)
        var origin = geometry.paddingBefore
        origin[last] = 0
        inputLines = Self.lineStarts(geometry.inputSize, origin: origin, steps: paddedStrides)
        /// Where element `j` of a padded line lies in its phase-split line.
        func phased(_ j: Int) -> Int { j % stride * phaseLength + j / stride }
        let before = geometry.paddingBefore[last]
        phases = (0..<stride).map { phase in
            let first = ((phase - before) % stride + stride) % stride
            return (first, max(0, (inputLine - first + stride - 1) / stride), phased(before + first))
        }
        parityOffsets = (phases.first { $0.first == 0 }?.offset ?? 0, phases.first { $0.first == 1 }?.offset ?? 0)
        kernelOffsets = .allocate(capacity: windows)
        for (k, offsets) in geometry.kernelOffsets.enumerated() {
            kernelOffsets[k] = (0..<last).reduce(phased(offsets[last] * geometry.dilation[last])) {
                $0 + offsets[$1] * geometry.dilation[$1] * paddedStrides[$1]
            }
        }
        let shifts = geometry.kernelOffsets.map { $0[last] * geometry.dilation[last] / stride }
        foldOrder = .allocate(capacity: windows)
        for (j, k) in (0..<windows).sorted(by: { (shifts[$0], $0) < (shifts[$1], $1) }).enumerated() { foldOrder[j] = k }
        positionLine = geometry.outputSize[last]
        positionLineCount = geometry.outputSize.dropLast().reduce(1, *)
        positionLines = Self.lineStarts(geometry.outputSize, origin: Array(repeating: 0, count: rank),
                                        steps: (0..<rank).map { geometry.stride[$0] * paddedStrides[$0] })
        let perImage = max(channels * windows * positions, filters * positions, 1)
        imagesPerPart = Self.balancedPart(batch, largest: max(1, Self.partElements / perImage))
    }

    deinit {
        inputLines.deallocate()
        kernelOffsets.deallocate()
        foldOrder.deallocate()
        positionLines.deallocate()
    }

    /// The images per part, at most `largest`, that give the workers the most even shares of
    /// `batch` images (the largest such part when several do): with parts handed out in turn,
    /// the busiest worker takes ⌈parts/cores⌉ of them.
    private static func balancedPart(_ batch: Int, largest: Int) -> Int {
        let cores = Parallel.coreCount
        func busiest(_ part: Int) -> Int { ((batch + part - 1) / part + cores - 1) / cores * part }
        return (1...max(1, min(largest, (batch + cores - 1) / cores))).min { (busiest($0), -$0) < (busiest($1), -$1) }!
    }

    /// For each line along the last dimension of a grid of `size` points, the padded-plane
    /// offset of its first point: `Σ (origin[d] + index[d])·steps[d]` over the other dimensions.
    private static func lineStarts(_ size: [Int], origin: [Int], steps: [Int]) -> UnsafeMutablePointer<Int> {
        let rank = size.count
        let count = size.dropLast().reduce(1, *)
        let starts = UnsafeMutablePointer<Int>.allocate(capacity: count)
        var index = [Int](repeating: 0, count: rank)
        for line in 0..<count {
            starts[line] = (0..<rank).reduce(0) { $0 + (origin[$1] + index[$1]) * steps[$1] }
            var d = rank - 2
            while d >= 0 {
                index[d] += 1
                if index[d] < size[d] { break }
                index[d] = 0
                d -= 1
            }
        }
        return starts
    }

    /// Runs `body` on each part of the batch with scratch space (one ``Scratch`` per worker),
    /// the parts shared among the cores as they come free, and passes the parts' results to
    /// `combine` in the order of the parts (``Parallel/share(count:part:scratch:_:combine:)``),
    /// so sums over the batch do not depend on timing. OpenBLAS runs single-threaded inside when
    /// several workers share the cores, on all its threads otherwise.
    func share<T: DLFloatingElement, PartResult>(_ type: T.Type,
                                                  _ body: (_ images: Range<Int>, _ scratch: Scratch<T>) -> PartResult,
                                                  combine: (_ result: PartResult) -> Void = { _ in }) {
        func work() {
            Parallel.share(count: batch, part: imagesPerPart, scratch: { Scratch<T>(self) }, body,
                           combine: { _, result in combine(result) })
        }
        let parts = (batch + imagesPerPart - 1) / imagesPerPart
        min(parts, Parallel.coreCount) > 1 ? BLAS.singleThreaded(work) : BLAS.allThreads(work)
    }

    /// One worker's buffers: the columns of a part, its rows of the convolution's output
    /// (`[F, b·L]`), and two padded planes whose borders stay zero.
    final class Scratch<T: DLFloatingElement> {
        let columns: UnsafeMutablePointer<T>, outputs: UnsafeMutablePointer<T>, padded: UnsafeMutablePointer<T>

        init(_ plan: WindowPlan) {
            columns = .allocate(capacity: plan.channels * plan.windows * plan.positions * plan.imagesPerPart)
            outputs = .allocate(capacity: plan.filters * plan.positions * plan.imagesPerPart)
            padded = .allocate(capacity: 2 * plan.paddedSize)
            padded.initialize(repeating: .zero, count: 2 * plan.paddedSize)
        }

        deinit {
            columns.deallocate()
            outputs.deallocate()
            padded.deallocate()
        }
    }

    /// Copies an input line into its padded line, spreading it over the stride phases.
    @inline(__always)
    private func spread<T>(_ source: UnsafePointer<T>, into target: UnsafeMutablePointer<T>) {
        if stride == 1 { return copyRun(from: source, to: target + phases[0].offset, count: inputLine) }
        if stride == 2 && MemoryLayout<T>.stride == 4 {
            return deinterleave(source, count: inputLine, evens: target + parityOffsets.even, odds: target + parityOffsets.odd)
        }
        for phase in phases {
            var from = source + phase.first, to = target + phase.offset
            for _ in 0..<phase.count {
                to.pointee = from.pointee
                (from, to) = (from + stride, to + 1)
            }
        }
    }

    /// Copies the even elements of a line of `count` 4-byte elements to `evens` and the odd
    /// ones to `odds`, eight elements at a time (the last eight overlapping the ones before).
    @inline(__always)
    private func deinterleave<T>(_ source: UnsafePointer<T>, count: Int,
                                 evens: UnsafeMutablePointer<T>, odds: UnsafeMutablePointer<T>) {
        typealias Chunk = SIMD8<UInt32>
        let from = UnsafeRawPointer(source), toEvens = UnsafeMutableRawPointer(evens), toOdds = UnsafeMutableRawPointer(odds)
        func move(_ j: Int) {
            let chunk = from.loadUnaligned(fromByteOffset: 4 * j, as: Chunk.self)
            toEvens.storeBytes(of: chunk.evenHalf, toByteOffset: 2 * j, as: SIMD4<UInt32>.self)
            toOdds.storeBytes(of: chunk.oddHalf, toByteOffset: 2 * j, as: SIMD4<UInt32>.self)
        }
        var j = 0
        while j + 8 <= count {
            move(j)
            j += 8
        }
        if j < count && count >= 8 {
            j = (count - 8) & ~1
            move(j)
            j += 8
        }
        while j < count {
            (j % 2 == 0 ? evens : odds)[j / 2] = source[j]
            j += 1
        }
    }

    /// Unfolds the windows of `images` of `x` into `columns` `[C·K, b·L]`: row `c·K + k` holds
    /// window element `k` of channel `c`, column `i·L + l` window position `l` of image `i`.
    /// Each input plane is spread into one of the two padded planes while the windows of the
    /// one before are read from the other, so the reads never wait for the spreading's stores;
    /// the plane after is fetched into the cache meanwhile.
    func unfold<T>(_ x: UnsafePointer<T>, _ images: Range<Int>, into columns: UnsafeMutablePointer<T>,
                   padded: UnsafeMutablePointer<T>) {
        let width = images.count * positions, planes = images.count * channels
        let first = x + images.lowerBound * channels * planeSize
        func spreadPlane(_ q: Int) {
            let plane = first + q * planeSize, target = padded + q % 2 * paddedSize
            if q + 1 < planes {
                let next = UnsafeRawPointer(plane + planeSize)
                for offset in Swift.stride(from: 0, to: planeSize * MemoryLayout<T>.stride, by: 64) {
                    swiftdl_prefetch(next + offset)
                }
            }
            for line in 0..<inputLineCount {
                spread(plane + line * inputLine, into: target + inputLines[line])
            }
        }
        spreadPlane(0)
        for q in 0..<planes {
            if q + 1 < planes { spreadPlane(q + 1) }
            let (i, c) = q.quotientAndRemainder(dividingBy: channels)
            for k in 0..<windows {
                let row = columns + (c * windows + k) * width + i * positions
                let window = padded + q % 2 * paddedSize + kernelOffsets[k]
                for line in 0..<positionLineCount {
                    let source = window + positionLines[line], target = row + line * positionLine
                    copyRun(from: source, to: target, count: positionLine)
                }
            }
        }
    }

    /// Folds `columns` `[C·K, b·L]` back into `images` of `x` (`[N, C, spatial…]`), adding the
    /// elements windows share and dropping the padding; each plane starts from `bias[c]`, or zero.
    func fold<T: DLFloatingElement>(_ columns: UnsafePointer<T>, _ images: Range<Int>, into x: UnsafeMutablePointer<T>,
                                    bias: UnsafePointer<T>?, padded: UnsafeMutablePointer<T>) {
        let width = images.count * positions
        for (i, n) in images.enumerated() {
            for c in 0..<channels {
                padded.update(repeating: .zero, count: paddedSize)
                for j in 0..<windows {
                    let k = foldOrder[j]
                    let row = columns + (c * windows + k) * width + i * positions
                    let window = padded + kernelOffsets[k]
                    for line in 0..<positionLineCount {
                        let source = row + line * positionLine, target = window + positionLines[line]
                        addRun(source, to: target, count: positionLine)
                    }
                }
                let plane = x + (n * channels + c) * planeSize
                let start = bias?[c] ?? .zero
                for line in 0..<inputLineCount {
                    let source = padded + inputLines[line], target = plane + line * inputLine
                    for phase in phases {
                        var from = source + phase.offset, to = target + phase.first
                        for _ in 0..<phase.count {
                            to.pointee = from.pointee + start
                            (from, to) = (from + 1, to + stride)
                        }
                    }
                }
            }
        }
    }

    /// Multiplies `filters` (`[F, C/G·K]`) by the part's `columns` (`[C·K, width]`), group by
    /// group, into `rows` (`[F, width]`).
    func multiply<T: DLFloatingElement>(_ filters: UnsafePointer<T>, _ columns: UnsafePointer<T>, width: Int,
                                        into rows: UnsafeMutablePointer<T>) {
        let (groupFilters, groupDepth) = (self.filters / groups, channels / groups * windows)
        for g in 0..<groups {
            matrixProduct(.none, filters + g * groupFilters * groupDepth, groupDepth,
                          .none, columns + g * groupDepth * width, width,
                          into: rows + g * groupFilters * width, width,
                          m: groupFilters, n: width, k: groupDepth)
        }
    }

    /// Copies `rows` (`[F, b·L]`) of `images` into `y` (`[N, F, L]`), adding `bias[f]` when given.
    func scatter<T: DLFloatingElement>(_ rows: UnsafePointer<T>, _ images: Range<Int>, into y: UnsafeMutablePointer<T>,
                                       bias: UnsafePointer<T>?) {
        let width = images.count * positions
        for (i, n) in images.enumerated() {
            for f in 0..<filters {
                let row = rows + f * width + i * positions, target = y + (n * filters + f) * positions
                let start = bias?[f] ?? .zero
                for l in 0..<positions { target[l] = row[l] + start }
            }
        }
    }

    /// Multiplies `rows` (`[F, width]`) by the part's `columns` (`[C·K, width]`) transposed,
    /// group by group, into `sum` (`[F, C/G·K]`), or onto it when `accumulating`.
    func correlate<T: DLFloatingElement>(_ rows: UnsafePointer<T>, _ columns: UnsafePointer<T>, width: Int,
                                         accumulating: Bool, into sum: UnsafeMutablePointer<T>) {
        let (groupFilters, groupDepth) = (filters / groups, channels / groups * windows)
        for g in 0..<groups {
            matrixProduct(.none, rows + g * groupFilters * width, width,
                          .transpose, columns + g * groupDepth * width, width,
                          accumulating: accumulating, into: sum + g * groupFilters * groupDepth, groupDepth,
                          m: groupFilters, n: groupDepth, k: width)
        }
    }

    /// Adds a part's filter correlation to `sum` (the first part's becomes the sum) and frees it.
    func accumulate<T: DLFloatingElement>(_ part: UnsafeMutablePointer<T>, into sum: inout UnsafeMutablePointer<T>?) {
        guard let total = sum else {
            sum = part
            return
        }
        for i in 0..<filters * channels / groups * windows { total[i] += part[i] }
        part.deallocate()
    }

    /// Writes the filter correlation summed over the batch, `[F, C/G, kernel…]`, into `output`
    /// (zeros for an empty batch); frees the sum.
    func writeFilterSum<T: DLFloatingElement>(_ sum: UnsafeMutablePointer<T>?, into output: UnsafeMutablePointer<T>) {
        let size = filters * channels / groups * windows
        if let sum {
            output.update(from: sum, count: size)
            sum.deallocate()
        } else {
            output.update(repeating: .zero, count: size)
        }
    }

    /// Copies the rows of `images` of `y` (`[N, F, L]`) into `rows` `[F, b·L]`.
    func gather<T>(_ y: UnsafePointer<T>, _ images: Range<Int>, into rows: UnsafeMutablePointer<T>) {
        let width = images.count * positions
        for (i, n) in images.enumerated() {
            for f in 0..<filters {
                (rows + f * width + i * positions).update(from: y + (n * filters + f) * positions, count: positions)
            }
        }
    }
}

/// The convolution of `x` (`[N, C, spatial…]`) with `filters` (`[F, C/G, kernel…]`), plus
/// `bias[f]` when given: `[N, F, output…]`. Per group, filters `[F/G, (C/G)·K]` times columns.
struct ConvolutionForward: FloatingKernel {
    let x: DLArray, filters: DLArray, bias: DLArray?, layout: ConvolutionLayout

    func run<T: DLFloatingElement>(_ type: T.Type) -> DLArray {
        let plan = WindowPlan(layout)
        let output = ClosureKernel { inputs, output in
            let source = inputs[0].assumingMemoryBound(to: T.self), weights = inputs[1].assumingMemoryBound(to: T.self)
            let bias = inputs.count > 2 ? inputs[2].assumingMemoryBound(to: T.self) : nil
            let destination = output.assumingMemoryBound(to: T.self)
            plan.share(T.self) { images, scratch in
                plan.unfold(source, images, into: scratch.columns, padded: scratch.padded)
                plan.multiply(weights, scratch.columns, width: images.count * plan.positions, into: scratch.outputs)
                plan.scatter(scratch.outputs, images, into: destination, bias: bias)
            }
        }.output(reading: [x, filters] + (bias.map { [$0] } ?? []),
                 KernelOutput(count: layout.outputShape.reduce(1, *), dataType: T.dataType))
        return DLArray(storage: output, shape: layout.outputShape)
    }
}

/// The transposed convolution: `y` (`[N, F, output…]`) through `filters` (`[F, C/G, kernel…]`)
/// back onto the input's grid, `[N, C, spatial…]`, plus `bias[c]` when given. It is the
/// adjoint of ``ConvolutionForward`` in `x`: per group, filtersᵀ times `y`'s rows, folded.
struct ConvolutionTransposed: FloatingKernel {
    let y: DLArray, filters: DLArray, bias: DLArray?, layout: ConvolutionLayout

    func run<T: DLFloatingElement>(_ type: T.Type) -> DLArray {
        let plan = WindowPlan(layout)
        let (groupFilters, groupDepth) = (plan.filters / plan.groups, plan.channels / plan.groups * plan.windows)
        let output = ClosureKernel { inputs, output in
            let source = inputs[0].assumingMemoryBound(to: T.self), weights = inputs[1].assumingMemoryBound(to: T.self)
            let bias = inputs.count > 2 ? inputs[2].assumingMemoryBound(to: T.self) : nil
            let destination = output.assumingMemoryBound(to: T.self)
            plan.share(T.self) { images, scratch in
                let width = images.count * plan.positions
                plan.gather(source, images, into: scratch.outputs)
                for g in 0..<plan.groups {
                    matrixProduct(.transpose, weights + g * groupFilters * groupDepth, groupDepth,
                                  .none, scratch.outputs + g * groupFilters * width, width,
                                  into: scratch.columns + g * groupDepth * width, width,
                                  m: groupDepth, n: width, k: groupFilters)
                }
                plan.fold(scratch.columns, images, into: destination, bias: bias, padded: scratch.padded)
            }
        }.output(reading: [y, filters] + (bias.map { [$0] } ?? []),
                 KernelOutput(count: layout.inputShape.reduce(1, *), dataType: T.dataType))
        return DLArray(storage: output, shape: layout.inputShape)
    }
}

/// The correlation of the windows of `x` (`[N, C, spatial…]`) with `y` (`[N, F, output…]`),
/// summed over the batch: `[F, C/G, kernel…]`, the adjoint of ``ConvolutionForward`` in the
/// filters. Per group, `y`'s rows times the columns transposed for each part of the batch;
/// the parts' correlations are added in the order of the parts, whichever core made them.
struct ConvolutionFilterCorrelation: FloatingKernel {
    let x: DLArray, y: DLArray, layout: ConvolutionLayout

    func run<T: DLFloatingElement>(_ type: T.Type) -> DLArray {
        let plan = WindowPlan(layout)
        let size = layout.filterShape.reduce(1, *)
        let output = ClosureKernel { inputs, output in
            let source = inputs[0].assumingMemoryBound(to: T.self), rows = inputs[1].assumingMemoryBound(to: T.self)
            var sum: UnsafeMutablePointer<T>?
            plan.share(T.self, { images, scratch in
                plan.unfold(source, images, into: scratch.columns, padded: scratch.padded)
                plan.gather(rows, images, into: scratch.outputs)
                let part = UnsafeMutablePointer<T>.allocate(capacity: size)
                plan.correlate(scratch.outputs, scratch.columns, width: images.count * plan.positions, accumulating: false, into: part)
                return part
            }, combine: { plan.accumulate($0, into: &sum) })
            plan.writeFilterSum(sum, into: output.assumingMemoryBound(to: T.self))
        }.output(reading: x, y, KernelOutput(count: size, dataType: T.dataType))
        return DLArray(storage: output, shape: layout.filterShape)
    }
}

/// ``ConvolutionForward`` of `x` with `filters` (no bias) and ``ConvolutionFilterCorrelation``
/// of `x` with `y` together, unfolding `x`'s windows once for both products: the gradients
/// of a transposed convolution with respect to its input and its filters.
struct ConvolutionAndFilterCorrelation: FloatingKernel {
    let x: DLArray, filters: DLArray, y: DLArray, layout: ConvolutionLayout

    func run<T: DLFloatingElement>(_ type: T.Type) -> (convolution: DLArray, correlation: DLArray) {
        // A kernel writes one array: while dlaccelerate captures, the two products are two calls.
        if KernelCapture.current != nil {
            return (ConvolutionForward(x: x, filters: filters, bias: nil, layout: layout).run(T.self),
                    ConvolutionFilterCorrelation(x: x, y: y, layout: layout).run(T.self))
        }
        let plan = WindowPlan(layout)
        let size = layout.filterShape.reduce(1, *)
        let output = Storage.unchecked(count: layout.outputShape.reduce(1, *), dataType: T.dataType)
        let correlation = Storage.unchecked(count: size, dataType: T.dataType)
        let source = x.storage.pointer(as: T.self), weights = filters.storage.pointer(as: T.self)
        let rows = y.storage.pointer(as: T.self), destination = output.pointer(as: T.self)
        var sum: UnsafeMutablePointer<T>?
        plan.share(T.self, { images, scratch in
            let width = images.count * plan.positions
            plan.unfold(source, images, into: scratch.columns, padded: scratch.padded)
            plan.multiply(weights, scratch.columns, width: width, into: scratch.outputs)
            plan.scatter(scratch.outputs, images, into: destination, bias: nil)
            plan.gather(rows, images, into: scratch.outputs)
            let part = UnsafeMutablePointer<T>.allocate(capacity: size)
            plan.correlate(scratch.outputs, scratch.columns, width: width, accumulating: false, into: part)
            return part
        }, combine: { plan.accumulate($0, into: &sum) })
        plan.writeFilterSum(sum, into: correlation.pointer(as: T.self))
        return (DLArray(storage: output, shape: layout.outputShape), DLArray(storage: correlation, shape: layout.filterShape))
    }
}
