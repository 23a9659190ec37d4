import RealModule
/// A rectangular, possibly strided, region of an array: per dimension a start, a count and a
/// step.
struct SliceRegion: Equatable {
    var starts: [Int]
    var counts: [Int]
    var steps: [Int]

    /// The whole of an array of this shape.
    init(whole shape: [Int]) {
        starts = shape.map { _ in 0 }
        counts = shape
        steps = shape.map { _ in 1 }
    }

    /// How the region is read from or written to an array of `shape`.
    func view(in shape: [Int]) -> StridedView {
        let strides = contiguousStrides(shape)
        return StridedView(offset: zip(starts, strides).map(*).reduce(0, +),
                           strides: zip(steps, strides).map(*))
    }
}

extension DLArray {
    /// The elements of `region`, as a new array of shape `region.counts`.
    func sliced(_ region: SliceRegion) -> DLArray {
        if region == SliceRegion(whole: shape) { return self }
        let original = shape
        return gathered(shape: region.counts, view: region.view(in: shape)).withLabels(labels)
            .recorded(from: self) { g in g.placed(in: original, at: region) }
    }

    /// An array of `shape`, zero outside `region` and equal to this array inside it.
    func placed(in shape: [Int], at region: SliceRegion) -> DLArray {
        let result = DLArray.composed(shape: shape, dataType: dataType, base: nil,
                                      pieces: [(self, region.counts, region.view(in: shape))])
        return result.recorded(from: self) { g in g.sliced(region) }
    }

    /// This array with `region` replaced by `values` (of shape `region.counts`, converted to
    /// this array's type); traced in both.
    func assigning(_ values: DLArray, at region: SliceRegion) -> DLArray {
        let converted = values.converted(to: dataType)
        var result = extractdata(self).withLabels(labels)
        result.scatter(extractdata(converted), shape: region.counts, view: region.view(in: shape))
        // The gradient of the values is in this array's type; the conversion's own rule takes
        // it back to the values' type.
        return result.recorded(from: self, converted) { g, needs in
            (needs[0] ? g.assigning(DLArray.zeros(region.counts, type: g.dataType), at: region) : nil,
             needs[1] ? g.sliced(region) : nil)
        }
    }

    /// The elements with positions `range` along `dim`.
    func slice(dim: Int, range: Range<Int>) throws -> DLArray {
        guard range.lowerBound >= 0 && range.upperBound <= shape[dim] else {
            throw DLError.invalidArgument("slice \(range) is out of range for dimension \(dim) of size \(shape[dim])")
        }
        var region = SliceRegion(whole: shape)
        region.starts[dim] = range.lowerBound
        region.counts[dim] = range.count
        return sliced(region)
    }
}

/// The elements of `x` at the given positions along `dim`: for every position of the result,
/// `result[..., j, ...] = x[..., indices[..., j, ...], ...]` (PyTorch's `gather`). `indices`
/// holds 0-based positions and has the shape of `x` except along `dim`.
/// - Throws: ``DLError/shapeMismatch(_:)`` or ``DLError/invalidArgument(_:)`` for bad indices.
public func gather(_ x: DLArray, dim: Int, indices: DLArray) throws -> DLArray {
    _ = try checkedDimension(dim, of: x, "gather")
    try requireReal(indices, "gather (for its indices)")
    let positions = extractdata(indices).converted(to: .float64).withLabels("")
    let values = positions.indexValues(checkedBy: IndexRule(bound: x.shape[dim]))
    // Int(_:) traps on NaN, infinities and values beyond Int's range: check first.
    if let bad = values.first(where: { !$0.isFinite || $0.rounded() != $0 || abs($0) > 1e15 }) {
        throw DLError.invalidArgument("gather: index \(bad) is not an integer position; indices are 0-based whole numbers")
    }
    try checkGatherShape(x, dim: dim, indices.shape)
    let size = x.shape[dim]
    if let bad = values.first(where: { $0 < 0 || $0 >= Double(size) }) {
        throw DLError.invalidArgument("gather: index \(Int(bad)) is out of range for dimension \(dim) of size \(size)")
    }
    return gather(x, dim: dim, positions: positions)
}

/// `gather` with positions as Swift integers, laid out in `shape`.
func gather(_ x: DLArray, dim: Int, indices: [Int], shape: [Int]) throws -> DLArray {
    try checkGatherShape(x, dim: dim, shape)
    let size = x.shape[dim]
    if let bad = indices.first(where: { $0 < 0 || $0 >= size }) {
        throw DLError.invalidArgument("gather: index \(bad) is out of range for dimension \(dim) of size \(size)")
    }
    return gather(x, dim: dim, positions: try DLArray(indices.map(Double.init), shape: shape))
}

/// Throws unless positions of `shape` fit `x` along `dim`: the same shape but along `dim`.
private func checkGatherShape(_ x: DLArray, dim: Int, _ shape: [Int]) throws {
    var expected = x.shape
    guard shape.count == x.rank, dim < shape.count else {
        throw DLError.shapeMismatch("gather: indices of shape \(shape) do not fit an array of shape \(x.shape) along dimension \(dim)")
    }
    expected[dim] = shape[dim]
    guard expected == shape else {
        throw DLError.shapeMismatch("gather: indices of shape \(shape) must match the array's shape \(x.shape) except along dimension \(dim)")
    }
}

/// `gather` with checked positions: an untraced, unlabeled float64 array of whole numbers in
/// the result's shape (made by a kernel such as ``ArgExtremum``, or from Swift integers).
func gather(_ x: DLArray, dim: Int, positions: DLArray) -> DLArray {
    let original = x.shape
    return dispatchLayout(x.dataType, GatherAlongDimension(x: x, dim: dim, positions: positions))
        .recorded(from: x) { g in scatterAdd(g, dim: dim, positions: positions, shape: original) }
}

/// Adds `values` into zeros of `shape` at positions along `dim` (the gradient of `gather`).
func scatterAdd(_ values: DLArray, dim: Int, indices: [Int], shape: [Int]) throws -> DLArray {
    scatterAdd(values, dim: dim, positions: try DLArray(indices.map(Double.init), shape: values.shape), shape: shape)
}

/// Adds `values` into zeros of `shape` at `positions` (in `values`' shape) along `dim`.
func scatterAdd(_ values: DLArray, dim: Int, positions: DLArray, shape: [Int]) -> DLArray {
    dispatchFloating(values.dataType, ScatterAddAlongDimension(values: values, dim: dim, positions: positions, shape: shape))
        .recorded(from: values) { g in gather(g, dim: dim, positions: positions) }
}

/// The slices of `x` at positions `list` along `dim` (MATLAB's `x(:, list)`).
func select(_ x: DLArray, dim: Int, list: [Int]) throws -> DLArray {
    let (outer, _, inner) = splitAround(x.shape, dim)
    var shape = x.shape
    shape[dim] = list.count
    var indices = [Int]()
    indices.reserveCapacity(outer * list.count * inner)
    for _ in 0..<outer {
        for position in list { indices.append(contentsOf: repeatElement(position, count: inner)) }
    }
    return try gather(x, dim: dim, indices: indices, shape: shape).withLabels(x.labels)
}
