import RealModule
/// One item of a subscript: a position, a range of positions, a list of positions, or an
/// ellipsis standing for all the dimensions not named.
public enum DLIndex: Sendable {
    /// One position; the dimension is removed from the result.
    case position(Int)
    /// A range of positions with a step; either bound may be open.
    case range(lower: Int?, upper: Int?, step: Int)
    /// Positions in any order, repeats allowed.
    case list([Int])
    /// All the dimensions not named by the other items.
    case ellipsis
}

/// A value usable in a `DLArray` subscript: `Int`, the range types, `[Int]`, ``DLIndex``.
public protocol DLIndexConvertible {
    /// The index item this value stands for.
    var dlIndex: DLIndex { get }
}

extension Int: DLIndexConvertible {
    /// A single position.
    public var dlIndex: DLIndex { .position(self) }
}
extension Range: DLIndexConvertible where Bound == Int {
    /// The positions in the range.
    public var dlIndex: DLIndex { .range(lower: lowerBound, upper: upperBound, step: 1) }
}
extension ClosedRange: DLIndexConvertible where Bound == Int {
    /// The positions in the range.
    public var dlIndex: DLIndex { .range(lower: lowerBound, upper: upperBound + 1, step: 1) }
}
extension PartialRangeFrom: DLIndexConvertible where Bound == Int {
    /// The positions from the bound to the end.
    public var dlIndex: DLIndex { .range(lower: lowerBound, upper: nil, step: 1) }
}
extension PartialRangeUpTo: DLIndexConvertible where Bound == Int {
    /// The positions before the bound.
    public var dlIndex: DLIndex { .range(lower: nil, upper: upperBound, step: 1) }
}
extension PartialRangeThrough: DLIndexConvertible where Bound == Int {
    /// The positions up to and including the bound.
    public var dlIndex: DLIndex { .range(lower: nil, upper: upperBound + 1, step: 1) }
}
extension StrideTo: DLIndexConvertible where Element == Int {
    /// The positions of a positive stride, e.g. `stride(from: 0, to: 10, by: 2)`.
    public var dlIndex: DLIndex {
        let values = Array(self)
        guard let first = values.first, values.count > 1 else { return .list(values) }
        let step = values[1] - first
        return step > 0 ? .range(lower: first, upper: values.last! + 1, step: step) : .list(values)
    }
}
extension Array: DLIndexConvertible where Element == Int {
    /// A list of positions.
    public var dlIndex: DLIndex { .list(self) }
}
extension DLIndex: DLIndexConvertible {
    /// The item itself.
    public var dlIndex: DLIndex { self }
}

/// A subscript resolved against a shape: a rectangular region, the dimensions to drop, and
/// lists of positions to pick afterwards.
struct ResolvedSubscript {
    var region: SliceRegion
    var dropped: [Int] = []
    var lists: [(dim: Int, positions: [Int])] = []

    init(_ items: [DLIndex], shape: [Int]) {
        let ellipses = items.indices.filter { if case .ellipsis = items[$0] { true } else { false } }
        precondition(ellipses.count <= 1, "a subscript may hold one ellipsis (...)")
        let named = items.count - ellipses.count
        precondition(named <= shape.count, "\(named) subscripts for an array of rank \(shape.count) (shape \(shape))")
        var expanded: [DLIndex] = []
        for item in items {
            if case .ellipsis = item {
                expanded += Array(repeating: .range(lower: nil, upper: nil, step: 1), count: shape.count - named)
            } else {
                expanded.append(item)
            }
        }
        expanded += Array(repeating: .range(lower: nil, upper: nil, step: 1), count: shape.count - expanded.count)
        region = SliceRegion(whole: shape)
        for (dim, item) in expanded.enumerated() {
            let size = shape[dim]
            switch item {
            case .position(let i):
                precondition(i >= 0 && i < size, "index \(i) is out of range for dimension \(dim) of size \(size) (shape \(shape)); indices count from 0")
                region.starts[dim] = i
                region.counts[dim] = 1
                dropped.append(dim)
            case .range(let lower, let upper, let step):
                let low = lower ?? 0, high = upper ?? size
                precondition(step > 0, "a range's step must be positive")
                precondition(low >= 0 && high <= size && low <= high,
                             "range \(low)..<\(high) is out of range for dimension \(dim) of size \(size) (shape \(shape))")
                region.starts[dim] = low
                region.counts[dim] = (high - low + step - 1) / step
                region.steps[dim] = step
            case .list(let positions):
                for p in positions {
                    precondition(p >= 0 && p < size, "index \(p) is out of range for dimension \(dim) of size \(size) (shape \(shape))")
                }
                lists.append((dim, positions))
            case .ellipsis:
                break
            }
        }
    }
}

extension DLArray {
    /// The elements selected by `items`, NumPy style with 0-based positions: an integer picks
    /// one position and removes the dimension, a range keeps it, a list `[Int]` picks
    /// positions in any order (lists on several dimensions pick each independently, as MATLAB),
    /// and `DLIndex.ellipsis` stands for the dimensions not named. Traced.
    ///
    /// Assigning through the subscript replaces the elements (a scalar or an array broadcast to
    /// the selection); on a traced array the result is a new traced value, differentiable in
    /// both the old array and the assigned values.
    ///
    /// - Precondition: positions are in range (out-of-range subscripts stop the program, as
    ///   Swift's `Array` does).
    public subscript(_ items: DLIndexConvertible...) -> DLArray {
        get { element(items.map(\.dlIndex)) }
        set { assign(newValue, at: items.map(\.dlIndex)) }
    }

    /// The elements selected by `items`, where `...` stands for the dimensions not named:
    /// `x[..., 0]`.
    public subscript(_ ellipsis: UnboundedRange, _ items: DLIndexConvertible...) -> DLArray {
        get { element([.ellipsis] + items.map(\.dlIndex)) }
        set { assign(newValue, at: [.ellipsis] + items.map(\.dlIndex)) }
    }

    /// The elements selected by `first` and the dimensions after it: `x[0..<3, ...]`.
    public subscript(_ first: DLIndexConvertible, _ ellipsis: UnboundedRange) -> DLArray {
        get { element([first.dlIndex, .ellipsis]) }
        set { assign(newValue, at: [first.dlIndex, .ellipsis]) }
    }

    /// The elements selected by `first`, `second` and the dimensions after them.
    public subscript(_ first: DLIndexConvertible, _ second: DLIndexConvertible, _ ellipsis: UnboundedRange) -> DLArray {
        get { element([first.dlIndex, second.dlIndex, .ellipsis]) }
        set { assign(newValue, at: [first.dlIndex, second.dlIndex, .ellipsis]) }
    }

    private func element(_ items: [DLIndex]) -> DLArray {
        if let offset = singleElementOffset(items) { return element(at: offset) }
        let resolved = ResolvedSubscript(items, shape: shape)
        var result = sliced(resolved.region)
        for (dim, positions) in resolved.lists {
            do { result = try select(result, dim: dim, list: positions) } catch { preconditionFailure("\(error)") }
        }
        guard !resolved.dropped.isEmpty else { return result }
        let kept = shape.indices.filter { !resolved.dropped.contains($0) }
        do {
            let labels = self.labels.isEmpty ? "" : String(kept.map { Array(self.labels)[$0] })
            return try reshape(result, kept.map { result.shape[$0] }).withLabels(labels)
        } catch {
            preconditionFailure("\(error)")
        }
    }

    /// The row-major offset when `items` name one position in every dimension.
    private func singleElementOffset(_ items: [DLIndex]) -> Int? {
        guard items.count == rank else { return nil }
        var offset = 0
        for (dim, item) in items.enumerated() {
            guard case .position(let i) = item else { return nil }
            let size = shape[dim]
            precondition(i >= 0 && i < size, "index \(i) is out of range for dimension \(dim) of size \(size) (shape \(shape)); indices count from 0")
            offset = offset * size + i
        }
        return offset
    }

    /// The element at a row-major offset, as a scalar; its gradient is placed back at the offset.
    func element(at offset: Int) -> DLArray {
        let original = shape
        let byteCount = dataType.byteCount
        let result = ClosureKernel { inputs, output in
            output.copyMemory(from: inputs[0] + offset * byteCount, byteCount: byteCount)
        }.output(reading: self, KernelOutput(count: 1, dataType: dataType))
        return DLArray(storage: result, shape: []).recorded(from: self) { g in
            g.placedElement(in: original, at: offset)
        }
    }

    /// An array of `shape`, zero but for this scalar at a row-major offset.
    func placedElement(in shape: [Int], at offset: Int) -> DLArray {
        let byteCount = dataType.byteCount
        let result = ClosureKernel { inputs, output in
            (output + offset * byteCount).copyMemory(from: inputs[0], byteCount: byteCount)
        }.output(reading: self, KernelOutput(count: shape.reduce(1, *), dataType: dataType, startsZeroed: true))
        return DLArray(storage: result, shape: shape).recorded(from: self) { g in g.element(at: offset) }
    }

    private mutating func assign(_ values: DLArray, at items: [DLIndex]) {
        let resolved = ResolvedSubscript(items, shape: shape)
        precondition(resolved.lists.isEmpty, "indexed assignment takes positions and ranges, not lists of positions")
        let counts = resolved.region.counts
        // The selection without its dropped dimensions, as the getter returns it.
        let selectedShape = counts.enumerated().filter { !resolved.dropped.contains($0.offset) }.map(\.element)
        // Values may be any shape that broadcasts to the selection, with or without the dropped
        // dimensions (so `x[0, ...] = y` takes y of shape [3] or [1, 3]); extra leading sizes of
        // 1 are ignored, as NumPy does.
        var trimmed = stripdims(values)
        while trimmed.rank > selectedShape.count && trimmed.shape.first == 1 {
            do { trimmed = try reshape(trimmed, Array(trimmed.shape.dropFirst())) } catch { preconditionFailure("\(error)") }
        }
        let broadcastValues: DLArray
        do {
            if broadcastShape(trimmed.shape, selectedShape) == selectedShape {
                broadcastValues = try reshape(trimmed.broadcast(to: selectedShape), counts)
            } else {
                broadcastValues = try stripdims(values).broadcast(to: counts)
            }
        } catch {
            preconditionFailure("cannot assign values of shape \(values.shape) to a selection of shape \(selectedShape): \(error)")
        }
        if recordingNode == nil && broadcastValues.recordingNode == nil {
            // Nothing to record: write in place (the storage is copied first only when shared).
            scatter(extractdata(broadcastValues).storageConverted(to: dataType), shape: counts,
                    view: resolved.region.view(in: shape))
            node = nil
            return
        }
        self = assigning(broadcastValues, at: resolved.region)
    }
}
