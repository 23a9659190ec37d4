import RealModule
/// Checks that `dim` is a dimension of `x` and returns it.
func checkedDimension(_ dim: Int, of x: DLArray, _ operation: String) throws -> Int {
    guard dim >= 0 && dim < x.rank else {
        throw DLError.invalidArgument("\(operation): dimension \(dim) is out of range for an array of rank \(x.rank) (shape \(x.shape)); dimensions count from 0")
    }
    return dim
}

/// `x` with a new shape holding the same elements in the same row-major order. One size may
/// be -1, worked out from the others. Labels are dropped.
/// - Throws: ``DLError/shapeMismatch(_:)`` when the element counts differ.
public func reshape(_ x: DLArray, _ shape: [Int]) throws -> DLArray {
    var target = shape
    if let unknown = shape.firstIndex(of: -1) {
        let known = shape.enumerated().filter { $0.offset != unknown }.map(\.element).reduce(1, *)
        guard known > 0, x.count % known == 0, shape.filter({ $0 == -1 }).count == 1 else {
            throw DLError.shapeMismatch("reshape: cannot infer the -1 in \(shape) for \(x.count) elements")
        }
        target[unknown] = x.count / known
    }
    guard target.allSatisfy({ $0 >= 0 }), target.reduce(1, *) == x.count else {
        throw DLError.shapeMismatch("reshape: an array of shape \(x.shape) (\(x.count) elements) cannot be reshaped to \(shape)")
    }
    if target == x.shape && x.labels.isEmpty { return x }
    let original = x.shape
    return DLArray(storage: x.storage, shape: target).recorded(from: x) { g in try reshape(g, original) }
}

/// `x` with its dimensions rearranged: dimension `k` of the result is dimension `order[k]`
/// of `x`. Labels follow their dimensions when they stay in canonical order, else are dropped.
/// - Throws: ``DLError/invalidArgument(_:)`` unless `order` is a permutation of the dimensions.
public func permute(_ x: DLArray, _ order: [Int]) throws -> DLArray {
    guard order.count == x.rank, order.sorted() == Array(0..<x.rank) else {
        throw DLError.invalidArgument("permute: \(order) is not a permutation of the \(x.rank) dimensions of an array of shape \(x.shape)")
    }
    if order == Array(0..<x.rank) { return x }
    let strides = contiguousStrides(x.shape)
    let shape = order.map { x.shape[$0] }
    var result = x.gathered(shape: shape, view: StridedView(offset: 0, strides: order.map { strides[$0] }))
    if !x.labels.isEmpty {
        let letters = Array(x.labels)
        let permuted = String(order.map { letters[$0] })
        if canonicalLabels(permuted) == permuted {
            result = result.withLabels(permuted)
        }
    }
    var inverse = [Int](repeating: 0, count: order.count)
    for (k, d) in order.enumerated() { inverse[d] = k }
    return result.recorded(from: x) { g in try permute(stripdims(g), inverse) }
}

/// The transpose of a matrix, or of each page (the last two dimensions) of a batch of matrices.
/// - Throws: ``DLError/invalidArgument(_:)`` for arrays of rank below 2.
public func transpose(_ x: DLArray) throws -> DLArray {
    guard x.rank >= 2 else {
        throw DLError.invalidArgument("transpose needs a matrix or a batch of matrices; this array has shape \(x.shape)")
    }
    var order = Array(0..<x.rank)
    order.swapAt(x.rank - 1, x.rank - 2)
    return try permute(stripdims(x), order)
}

/// The conjugate transpose (MATLAB's `'`), page by page.
public func ctranspose(_ x: DLArray) throws -> DLArray { conj(try transpose(x)) }

/// `x` without its dimensions of size 1 (or only the given ones, which must have size 1).
public func squeeze(_ x: DLArray, dims: [Int]? = nil) throws -> DLArray {
    let removed = dims ?? x.shape.indices.filter { x.shape[$0] == 1 }
    for d in removed {
        guard d >= 0 && d < x.rank && x.shape[d] == 1 else {
            throw DLError.invalidArgument("squeeze: dimension \(d) of shape \(x.shape) does not have size 1")
        }
    }
    let kept = x.shape.indices.filter { !removed.contains($0) }
    let labels = x.labels.isEmpty ? "" : String(kept.map { Array(x.labels)[$0] })
    return try reshape(x, kept.map { x.shape[$0] }).withLabels(labels)
}

/// `x` with a dimension of size 1 inserted at position `dim`.
public func expandDims(_ x: DLArray, _ dim: Int) throws -> DLArray {
    guard dim >= 0 && dim <= x.rank else {
        throw DLError.invalidArgument("expandDims: position \(dim) is out of range for rank \(x.rank)")
    }
    var shape = x.shape
    shape.insert(1, at: dim)
    return try reshape(x, shape)
}

/// `x` tiled `counts[k]` times along dimension `k` (MATLAB's `repmat`); missing counts are 1
/// and extra counts add leading dimensions.
public func repmat(_ x: DLArray, _ counts: [Int]) throws -> DLArray {
    guard counts.allSatisfy({ $0 >= 0 }) else { throw DLError.invalidArgument("repmat: negative count in \(counts)") }
    let rank = max(x.rank, counts.count)
    let shape = [Int](repeating: 1, count: rank - x.rank) + x.shape
    let times = [Int](repeating: 1, count: rank - counts.count) + counts
    // Interleave a tiling axis before each dimension, broadcast it, and merge the pairs.
    let interleaved = try reshape(x, shape.flatMap { [1, $0] })
    let tiled = try interleaved.broadcast(to: zip(times, shape).flatMap { [$0, $1] })
    return try reshape(tiled, zip(times, shape).map { $0 * $1 })
}

/// The arrays joined along dimension `dim` (MATLAB's `cat`); other sizes must match.
/// - Throws: ``DLError/shapeMismatch(_:)`` or ``DLError/invalidArgument(_:)``.
public func cat(_ arrays: [DLArray], dim: Int) throws -> DLArray {
    guard let first = arrays.first else { throw DLError.invalidArgument("cat needs at least one array") }
    _ = try checkedDimension(dim, of: first, "cat")
    var type = arrays.map(\.dataType).reduce(first.dataType, DLDataType.promoted)
    if type == .bool && arrays.contains(where: { $0.isTraced }) { type = .float32 }
    for a in arrays {
        var s1 = a.shape, s2 = first.shape
        guard s1.count == s2.count else {
            throw DLError.shapeMismatch("cat: arrays of shapes \(first.shape) and \(a.shape) have different ranks")
        }
        s1[dim] = 0; s2[dim] = 0
        guard s1 == s2 else {
            throw DLError.shapeMismatch("cat: arrays of shapes \(first.shape) and \(a.shape) differ outside dimension \(dim)")
        }
    }
    let inputs = arrays.map { $0.dataType == type ? $0 : $0.converted(to: type) }
    var shape = first.shape
    shape[dim] = inputs.map { $0.shape[dim] }.reduce(0, +)
    let strides = contiguousStrides(shape)
    var start = 0
    let pieces = inputs.map { input in
        defer { start += input.shape[dim] }
        return (values: input, shape: input.shape, view: StridedView(offset: start * strides[dim], strides: strides))
    }
    let result = DLArray.composed(shape: shape, dataType: type, base: nil, pieces: pieces, piecesCoverAll: true)
    let labels = arrays.allSatisfy({ $0.labels == first.labels }) ? first.labels : ""
    let sizes = inputs.map { $0.shape[dim] }
    return result.withLabels(labels).recorded(from: inputs) { g, needs in
        var offset = 0
        return try sizes.enumerated().map { k, size in
            defer { offset += size }
            return needs[k] ? try g.slice(dim: dim, range: offset..<offset + size) : nil
        }
    }
}

/// `x` cut along dimension `dim` into pieces of the given sizes, which must add up to its size.
public func split(_ x: DLArray, sizes: [Int], dim: Int) throws -> [DLArray] {
    _ = try checkedDimension(dim, of: x, "split")
    guard sizes.reduce(0, +) == x.shape[dim], sizes.allSatisfy({ $0 >= 0 }) else {
        throw DLError.shapeMismatch("split: sizes \(sizes) do not add up to \(x.shape[dim]), the size of dimension \(dim)")
    }
    var start = 0
    return try sizes.map { size in
        defer { start += size }
        return try x.slice(dim: dim, range: start..<start + size)
    }
}

/// `x` with the order of elements reversed along each of `dims`.
public func flip(_ x: DLArray, dims: [Int]) throws -> DLArray {
    for d in dims { _ = try checkedDimension(d, of: x, "flip") }
    var strides = contiguousStrides(x.shape)
    var offset = 0
    for d in Set(dims) where x.shape[d] > 0 {
        offset += (x.shape[d] - 1) * strides[d]
        strides[d] = -strides[d]
    }
    let result = x.gathered(shape: x.shape, view: StridedView(offset: offset, strides: strides)).withLabels(x.labels)
    return result.recorded(from: x) { g in try flip(g, dims: dims) }
}

/// `x` with its elements shifted circularly by `shifts[k]` positions along `dims[k]`, as
/// MATLAB's `circshift(x, K, dim)` and PyTorch's `roll`: a positive shift moves elements
/// toward higher positions, and those pushed past the end come round to the start.
/// - Throws: ``DLError/invalidArgument(_:)`` for a dimension out of range or repeated, or
///   counts of shifts and dimensions that differ.
public func circshift(_ x: DLArray, _ shifts: [Int], dims: [Int]) throws -> DLArray {
    guard shifts.count == dims.count else {
        throw DLError.invalidArgument("circshift: \(shifts.count) shifts for \(dims.count) dimensions; give one shift per dimension")
    }
    guard Set(dims).count == dims.count else {
        throw DLError.invalidArgument("circshift: dimension repeated in \(dims)")
    }
    var result = x
    for (shift, dim) in zip(shifts, dims) {
        _ = try checkedDimension(dim, of: x, "circshift")
        let size = x.shape[dim]
        guard size > 0 else { continue }
        let offset = ((shift % size) + size) % size
        if offset == 0 { continue }
        // Position i of the result holds element (i - shift) mod size.
        result = try select(result, dim: dim, list: (0..<size).map { ($0 - offset + size) % size })
    }
    return result
}

/// `x` shifted circularly by `shift` positions along `dim` (see ``circshift(_:_:dims:)``).
public func circshift(_ x: DLArray, _ shift: Int, dim: Int) throws -> DLArray {
    try circshift(x, [shift], dims: [dim])
}

/// The inverse of ``permute(_:_:)`` (MATLAB's `ipermute`): `ipermute(permute(x, order), order)`
/// is `x`.
/// - Throws: ``DLError/invalidArgument(_:)`` unless `order` is a permutation of the dimensions.
public func ipermute(_ x: DLArray, _ order: [Int]) throws -> DLArray {
    guard order.count == x.rank, order.sorted() == Array(0..<x.rank) else {
        throw DLError.invalidArgument("ipermute: \(order) is not a permutation of the \(x.rank) dimensions of an array of shape \(x.shape)")
    }
    var inverse = [Int](repeating: 0, count: order.count)
    for (k, d) in order.enumerated() { inverse[d] = k }
    return try permute(x, inverse)
}

/// `x` with each element repeated `counts[k]` times along dimension `k` (MATLAB's `repelem`,
/// PyTorch's `repeat_interleave` along several dimensions): `repelem([1, 2], [2])` is
/// `[1, 1, 2, 2]`, where ``repmat(_:_:)`` gives `[1, 2, 1, 2]`. One count per dimension; the
/// gradient sums each block of copies.
/// - Throws: ``DLError/invalidArgument(_:)`` for a negative count or a count per dimension missing.
public func repelem(_ x: DLArray, _ counts: [Int]) throws -> DLArray {
    guard counts.count == x.rank else {
        throw DLError.invalidArgument("repelem: \(counts.count) counts for an array of rank \(x.rank); give one per dimension")
    }
    guard counts.allSatisfy({ $0 >= 0 }) else { throw DLError.invalidArgument("repelem: negative count in \(counts)") }
    // A size-1 axis after each dimension, broadcast to the count, then the pairs merged.
    let interleaved = try reshape(x, x.shape.flatMap { [$0, 1] })
    let repeated = try interleaved.broadcast(to: zip(x.shape, counts).flatMap { [$0, $1] })
    return try reshape(repeated, zip(x.shape, counts).map { $0 * $1 })
}
