/// How ``interp1(_:_:_:method:extrapolation:)`` picks a value between sample points.
public enum InterpolationMethod: Sendable, Equatable {
    /// The straight line between the two neighbouring samples (MATLAB's `"linear"`).
    case linear
    /// The value of the nearest sample; a query halfway between two takes the later one
    /// (MATLAB's `"nearest"`).
    case nearest
}

/// What ``interp1(_:_:_:method:extrapolation:)`` gives for queries outside the sample points.
public enum Extrapolation: Sendable, Equatable {
    /// NaN, MATLAB's default.
    case none
    /// The method continued beyond the ends: the end segments' lines for `.linear`, the end
    /// values for `.nearest` (MATLAB's `"extrap"`).
    case extrapolate
    /// A fixed value (MATLAB's `extrapval`).
    case value(Double)
}

/// One-dimensional interpolation, as MATLAB's `vq = interp1(x, v, xq, method, extrapolation)`.
///
/// - Parameters:
///   - x: the sample points, a vector of distinct numbers in increasing order (not traced:
///     they are constants of the interpolation).
///   - v: the values at the sample points: a vector of `x.count` elements, or an array whose
///     first dimension has `x.count` positions (each column a set of values, as MATLAB).
///   - xq: the query points, of any shape.
///   - method: `.linear` (the default) or `.nearest`.
///   - extrapolation: what queries outside `[x.first, x.last]` give.
/// - Returns: the interpolated values, of shape `xq.shape` for a vector `v`, else `xq.shape`
///   followed by `v.shape.dropFirst()`. Traced in `v` and in `xq`: the derivative in `xq` is
///   the slope of the segment (0 for `.nearest`), and second derivatives exist too (0 in `xq`
///   alone, the segment's slope change in `v` and `xq` together), where MATLAB stops at the
///   first. At a sample point the derivative in `xq` is the slope of the segment to its right.
/// - Throws: ``DLError/invalidArgument(_:)`` for fewer than two sample points, points not
///   strictly increasing or not finite, ``DLError/shapeMismatch(_:)`` when `v` does not have
///   `x.count` positions along its first dimension, ``DLError/unsupportedType(_:)`` for complex.
public func interp1(_ x: DLArray, _ v: DLArray, _ xq: DLArray, method: InterpolationMethod = .linear,
                    extrapolation: Extrapolation = .none) throws -> DLArray {
    for (array, name) in [(x, "sample points"), (v, "values"), (xq, "query points")] {
        try requireReal(array, "interp1 (\(name))")
    }
    let points = x.scalars(as: Double.self)
    let n = points.count
    guard x.rank <= 1 || x.shape.filter({ $0 != 1 }).count <= 1 else {
        throw DLError.invalidArgument("interp1: the sample points must be a vector; got shape \(x.shape)")
    }
    guard n >= 2 else {
        throw DLError.invalidArgument("interp1 needs at least two sample points; got \(n)")
    }
    guard points.allSatisfy(\.isFinite), zip(points, points.dropFirst()).allSatisfy({ $0 < $1 }) else {
        throw DLError.invalidArgument("interp1: the sample points must be finite and strictly increasing")
    }
    let isVector = v.rank <= 1 || v.shape.filter({ $0 != 1 }).count <= 1
    guard isVector ? v.count == n : v.shape[0] == n else {
        throw DLError.shapeMismatch(
            "interp1: the values of shape \(v.shape) need \(n) positions (one per sample point) along their first dimension")
    }
    let values = try isVector ? reshape(stripdims(v), [n, 1]) : stripdims(v)
    let trailing = Array(values.shape.dropFirst())
    let columns = try reshape(values, [n, -1])
    let queries = xq.scalars(as: Double.self)
    let m = queries.count

    // For each query: the segment [lower, lower + 1] it falls in (the end segment outside),
    // and whether it lies outside the samples.
    var lower = [Int](), outside = [Bool]()
    lower.reserveCapacity(m)
    outside.reserveCapacity(m)
    for q in queries {
        var low = 0, high = n - 1
        if q >= points[n - 1] { low = n - 2 } else if q > points[0] {
            // The last point at or before q.
            while high - low > 1 {
                let middle = (low + high) / 2
                if points[middle] <= q { low = middle } else { high = middle }
            }
        }
        lower.append(low)
        outside.append(!(q >= points[0] && q <= points[n - 1]))
    }
    let type = DLDataType.promoted(v.dataType, xq.dataType) == .float64 ? DLDataType.float64 : .float32
    let starts = try DLArray(lower.map { points[$0] }, shape: [m, 1]).converted(to: type)
    let widths = try DLArray(lower.map { points[$0 + 1] - points[$0] }, shape: [m, 1]).converted(to: type)
    let query = try reshape(stripdims(xq), [m, 1])
    // The position within the segment: 0 at its start, 1 at its end (beyond, outside).
    let t = try (query - starts) / widths
    let left = try select(columns, dim: 0, list: lower)
    let right = try select(columns, dim: 0, list: lower.map { $0 + 1 })
    var result: DLArray
    switch method {
    case .linear:
        result = try left + t * (right - left)
    case .nearest:
        // The nearest sample as a constant choice: traced in the values, and in the query
        // points with a zero derivative (not the error "does not depend on xq").
        let later = try extractdata(t) .>= 0.5
        let chosen = try select(later, right, left)
        result = extractdata(chosen).recorded(from: [chosen, query]) { g, needs in
            [needs[0] ? g : nil, needs[1] ? DLArray.zeros(like: extractdata(query)) : nil]
        }
    }
    if outside.contains(true) {
        let mask = try DLArray(outside, shape: [m, 1])
        switch extrapolation {
        case .extrapolate:
            // The end segments already give both methods' extrapolation.
            break
        case .none:
            result = try select(mask, Double.nan, result)
        case .value(let fill):
            result = try select(mask, fill, result)
        }
    }
    return try reshape(result, isVector ? xq.shape : xq.shape + trailing)
}
