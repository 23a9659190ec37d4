import RealModule

/// The sum of all elements, as a scalar.
public func sum(_ x: DLArray) -> DLArray {
    let value = dispatchFloating(x.dataType, SumAllToArray(x: x.dataType == .bool ? x.storageConverted(to: .float32) : x))
    let shape = x.shape
    return value.recorded(from: x) { g in try g.broadcast(to: shape) }
}

struct SumAllToArray: FloatingKernel {
    let x: DLArray
    func run<T: DLFloatingElement>(_ type: T.Type) -> DLArray {
        DLArray(storage: SumAll<T>(count: x.count).output(reading: x, KernelOutput(count: 1, dataType: T.dataType)), shape: [])
    }
}

/// The sums along `dims`, which keep size 1 (and their labels), as MATLAB's `sum(x, dims)`.
/// - Throws: ``DLError/invalidArgument(_:)`` for a dimension out of range.
public func sum(_ x: DLArray, dims: [Int]) throws -> DLArray {
    for d in dims { _ = try checkedDimension(d, of: x, "sum") }
    var value = x.dataType == .bool ? x.storageConverted(to: .float32) : extractdata(x)
    for d in Set(dims).sorted() where value.shape[d] != 1 {
        value = dispatchFloating(value.dataType, ReduceAlongDimension(x: value, dim: d, kind: .sum))
    }
    let shape = x.shape
    return value.withLabels(x.labels).recorded(from: x) { g in try g.broadcast(to: shape) }
}

/// The mean of all elements, as a scalar (NaN for an empty array, as MATLAB and PyTorch).
public func mean(_ x: DLArray) -> DLArray {
    sum(x) / Double(x.count)
}

/// The means along `dims`, which keep size 1 (and the labels); NaN over an empty dimension.
public func mean(_ x: DLArray, dims: [Int]) throws -> DLArray {
    let total = try sum(x, dims: dims)
    let count = Set(dims).map { x.shape[$0] }.reduce(1, *)
    return total / Double(count)
}

/// The product of the elements along dimension `dim`, which keeps size 1.
///
/// Its gradient is exact with zeros among the elements (each element's gradient is the product
/// of the others), and it can be differentiated again.
public func prod(_ x: DLArray, dim: Int) throws -> DLArray {
    _ = try checkedDimension(dim, of: x, "prod")
    let source = x.dataType == .bool ? x.storageConverted(to: .float32) : extractdata(x)
    let value = dispatchFloating(source.dataType, ReduceAlongDimension(x: source, dim: dim, kind: .product))
    return value.withLabels(x.labels).recorded(from: x) { g in
        // The product of the others = (product of those before) · (product of those after).
        let before = try exclusiveCumulativeProduct(x, dim: dim, reverse: false)
        let after = try exclusiveCumulativeProduct(x, dim: dim, reverse: true)
        return try g * conj(before * after)
    }
}

/// The product of all elements, as a scalar.
public func prod(_ x: DLArray) throws -> DLArray {
    try reshape(prod(reshape(stripdims(x), [x.count]), dim: 0), [])
}

/// The cumulative product along `dim` shifted by one: the product of the elements strictly
/// before each one (after, with `reverse`).
func exclusiveCumulativeProduct(_ x: DLArray, dim: Int, reverse: Bool) throws -> DLArray {
    let length = x.shape[dim]
    guard length > 1 else { return DLArray.ones(like: extractdata(x)) }
    var onesShape = x.shape
    onesShape[dim] = 1
    let ones = DLArray.ones(onesShape, type: x.dataType == .bool ? .float32 : x.dataType)
    let body = stripdims(x)
    if reverse {
        let inclusive = try cumprod(body.slice(dim: dim, range: 1..<length), dim: dim, reverse: true)
        return try cat([inclusive, ones], dim: dim)
    }
    let inclusive = try cumprod(body.slice(dim: dim, range: 0..<length - 1), dim: dim)
    return try cat([ones, inclusive], dim: dim)
}

/// The largest elements along `dim` (which keeps size 1) and their 0-based positions, as
/// MATLAB's `[M, I] = max(x, [], dim)`; the first on ties, NaN counts as largest. The gradient
/// goes to the chosen element.
public func max(_ x: DLArray, dim: Int) throws -> (values: DLArray, indices: DLArray) {
    try extremum(x, dim: dim, largest: true)
}

/// The smallest elements along `dim` and their positions (see ``max(_:dim:)``).
public func min(_ x: DLArray, dim: Int) throws -> (values: DLArray, indices: DLArray) {
    try extremum(x, dim: dim, largest: false)
}

/// The largest element, as a scalar.
public func max(_ x: DLArray) throws -> DLArray {
    try reshape(max(reshape(stripdims(x), [x.count]), dim: 0).values, [])
}

/// The smallest element, as a scalar.
public func min(_ x: DLArray) throws -> DLArray {
    try reshape(min(reshape(stripdims(x), [x.count]), dim: 0).values, [])
}

func extremum(_ x: DLArray, dim: Int, largest: Bool) throws -> (values: DLArray, indices: DLArray) {
    try requireReal(x, largest ? "max" : "min")
    _ = try checkedDimension(dim, of: x, largest ? "max" : "min")
    guard x.shape[dim] > 0 else { throw DLError.invalidArgument("max/min over an empty dimension \(dim)") }
    let source = x.dataType == .bool ? x.converted(to: .float32) : x
    let positions = dispatchReal(source.dataType, ArgExtremum(x: extractdata(source), dim: dim, largest: largest))
    return (gather(source, dim: dim, positions: positions).withLabels(x.labels), positions.withLabels(x.labels))
}

/// The p-norm of all elements of `x` (the 2-norm by default; `p` may be `.infinity`), as a
/// scalar: a vector norm, as PyTorch's `vector_norm`. The gradient at zero is 0 (for p ≥ 1).
public func norm(_ x: DLArray, p: Double = 2) throws -> DLArray {
    try norm(reshape(stripdims(x), [x.count]), p: p, dims: [0]).reshaped([])
}

/// The p-norms along `dims`, which keep size 1 (and the labels).
/// - Throws: ``DLError/invalidArgument(_:)`` for p ≤ 0 or a dimension out of range.
public func norm(_ x: DLArray, p: Double = 2, dims: [Int]) throws -> DLArray {
    guard p > 0 else { throw DLError.invalidArgument("norm: p must be positive, got \(p)") }
    for d in dims { _ = try checkedDimension(d, of: x, "norm") }
    if p == 2 {
        let data = extractdata(x)
        let squares = try data.dataType.isComplex ? real(data * conj(data)) : data * data
        let value = sqrt(try sum(squares, dims: dims))
        // d‖x‖ = x/‖x‖, taken as 0 where the norm is 0 (no NaN from 0/0).
        return value.withLabels(x.labels).recordedUsingOutput(from: x) { g, y in
            let safe = try select(y .== 0, 1, y)
            return try g * x / safe
        }
    }
    if p == .infinity {
        var result = abs(x)
        for d in Set(dims).sorted() { result = try max(result, dim: d).values }
        return result
    }
    // (Σ|x|^p)^(1/p), whose gradient sign(x)·(|x|/‖x‖)^(p-1) is written so that it is 0, not
    // 0·∞ = NaN, where the norm is 0 (for p ≥ 1).
    let data = extractdata(x)
    let value = try sum(abs(data) ** p, dims: dims) ** (1 / p)
    return value.withLabels(x.labels).recordedUsingOutput(from: x) { g, y in
        if p == 1 { return try g * sign(x) }
        let safe = try select(y .== 0, 1, y)
        return try g * sign(x) * (abs(x) / safe) ** (p - 1)
    }
}

extension DLArray {
    /// `try reshape(self, shape)` for shapes known to fit.
    func reshaped(_ shape: [Int]) throws -> DLArray { try reshape(self, shape) }
}

/// The cumulative sums along `dim` (from the end, with `reverse`).
public func cumsum(_ x: DLArray, dim: Int, reverse: Bool = false) throws -> DLArray {
    _ = try checkedDimension(dim, of: x, "cumsum")
    let source = x.dataType == .bool ? x.storageConverted(to: .float32) : extractdata(x)
    let value = dispatchFloating(source.dataType, CumulativeAlongDimension(x: source, dim: dim, kind: .sum, reverse: reverse))
    return value.withLabels(x.labels).recorded(from: x) { g in try cumsum(g, dim: dim, reverse: !reverse) }
}

/// The cumulative products along `dim` (from the end, with `reverse`).
///
/// The gradient is exact with zeros among the elements and can be differentiated again.
public func cumprod(_ x: DLArray, dim: Int, reverse: Bool = false) throws -> DLArray {
    _ = try checkedDimension(dim, of: x, "cumprod")
    let source = x.dataType == .bool ? x.storageConverted(to: .float32) : extractdata(x)
    let value = dispatchFloating(source.dataType, CumulativeAlongDimension(x: source, dim: dim, kind: .product, reverse: reverse))
    return value.withLabels(x.labels).recordedUsingOutput(from: x) { g, y in
        let hasZero = try sum(extractdata(x) .== 0).scalar(as: Double.self) > 0
        if !hasZero {
            // ∂y_j/∂x_i = y_j / x_i for the j that include i: a reversed cumulative sum.
            return try cumsum(g * conj(y), dim: dim, reverse: !reverse) / conj(x)
        }
        return try cumulativeProductGradientWithZeros(g, x, dim: dim, reverse: reverse)
    }
}

/// The gradient of `cumprod` when `x` holds zeros: for each position i, the cumulative product
/// of `x` with element i replaced by 1, weighted by `g` over the outputs that include i.
/// Quadratic in the length of `dim`, and built of differentiable operations.
func cumulativeProductGradientWithZeros(_ g: DLArray, _ x: DLArray, dim: Int, reverse: Bool) throws -> DLArray {
    let n = x.shape[dim]
    let moved = try moveDimensionLast(stripdims(x), dim)        // [..., n]
    let gradient = try moveDimensionLast(stripdims(g), dim)
    let batch = Array(moved.shape.dropLast())
    // replaced[..., i, k] = (k == i ? 1 : x[..., k])
    let identity = try DLArray((0..<n * n).map { $0 / n == $0 % n }, shape: [n, n])
    let rows = try expandDims(moved, moved.rank - 1).broadcast(to: batch + [n, n])
    let replaced = try select(identity, 1, rows)
    let products = try cumprod(replaced, dim: batch.count + 1, reverse: reverse)   // [..., i, j]
    // Only outputs j that include position i count: j ≥ i (j ≤ i when reversed).
    let include = try DLArray((0..<n * n).map { reverse ? $0 % n <= $0 / n : $0 % n >= $0 / n }, shape: [n, n])
    let weighted = try select(include, conj(products) * expandDims(gradient, gradient.rank - 1), 0)
    let result = try reshape(sum(weighted, dims: [batch.count + 1]), batch + [n])
    return try moveDimensionBack(result, from: result.rank - 1, to: dim)
}

/// `x` with dimension `dim` moved to the end.
func moveDimensionLast(_ x: DLArray, _ dim: Int) throws -> DLArray {
    try permute(x, (0..<x.rank).filter { $0 != dim } + [dim])
}

/// `x` with its dimension `from` moved to position `to`.
func moveDimensionBack(_ x: DLArray, from: Int, to: Int) throws -> DLArray {
    var order = Array(0..<x.rank)
    order.remove(at: from)
    order.insert(from, at: to)
    return try permute(x, order)
}

/// The p-norms of the vectors along `dim` (the last by default), which keeps size 1, as
/// MATLAB's `vecnorm(A, p, dim)` and PyTorch's `linalg.vector_norm(x, p, dim, keepdim=True)`.
/// `p` may be `.infinity`. MATLAB's default dimension is the first non-singleton one;
/// SwiftDL's is the last, its contiguous one.
/// - Throws: ``DLError/invalidArgument(_:)`` for p ≤ 0, a dimension out of range or a scalar.
public func vecnorm(_ x: DLArray, p: Double = 2, dim: Int? = nil) throws -> DLArray {
    guard x.rank > 0 else { throw DLError.invalidArgument("vecnorm needs an array of rank 1 or more; this one is a scalar") }
    return try norm(x, p: p, dims: [dim ?? x.rank - 1])
}

/// The dot products of the vectors along `dim` (the last by default), which keeps size 1:
/// `Σ conj(a)·b`, as MATLAB's `dot(A, B, dim)` (conjugating the first argument for complex
/// arrays). `a` and `b` must have the same shape.
/// - Throws: ``DLError/shapeMismatch(_:)`` for different shapes, ``DLError/invalidArgument(_:)``
///   for a dimension out of range or scalars.
public func dot(_ a: DLArray, _ b: DLArray, dim: Int? = nil) throws -> DLArray {
    guard a.shape == b.shape else {
        throw DLError.shapeMismatch("dot: the arrays have different shapes \(a.shape) and \(b.shape)")
    }
    guard a.rank > 0 else { throw DLError.invalidArgument("dot needs arrays of rank 1 or more; these are scalars") }
    return try sum(conj(a) * b, dims: [checkedDimension(dim ?? a.rank - 1, of: a, "dot")])
}
