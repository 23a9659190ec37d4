import RealModule
/// The elements of `x` sorted along `dim` (the last by default), and the 0-based positions
/// they came from, as MATLAB's `[B, I] = sort(x, dim)`. The sort is stable and puts NaN last.
/// The gradient flows back to each element's original position.
/// - Throws: ``DLError/unsupportedType(_:)`` for complex input, ``DLError/invalidArgument(_:)``.
public func sort(_ x: DLArray, dim: Int? = nil, descending: Bool = false) throws -> (values: DLArray, indices: DLArray) {
    try requireReal(x, "sort")
    guard x.rank > 0 else { return (x, DLArray.zeros([])) }
    let axis = try checkedDimension(dim ?? x.rank - 1, of: x, "sort")
    let source = x.dataType == .bool ? x.converted(to: .float32) : x
    let order = dispatchReal(source.dataType, ArgSort(x: extractdata(source), dim: axis, descending: descending))
    return (gather(source, dim: axis, positions: order).withLabels(x.labels), order.withLabels(x.labels))
}
