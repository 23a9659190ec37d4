/// The differences between neighbouring elements along `dim`, taken `order` times, as
/// MATLAB's `diff(x, n, dim)` and PyTorch's `diff`: each pass shortens `dim` by one, so the
/// result has `max(size - order, 0)` positions there. `dim` defaults to the last dimension
/// (MATLAB's default is the first non-singleton one: SwiftDL is row-major, so the last is
/// the one that is contiguous, as in PyTorch). A linear map: every order of its derivative is
/// itself a difference.
/// - Throws: ``DLError/invalidArgument(_:)`` for a negative order or a dimension out of range.
public func diff(_ x: DLArray, order: Int = 1, dim: Int? = nil) throws -> DLArray {
    guard order >= 0 else { throw DLError.invalidArgument("diff: the order must be 0 or more, got \(order)") }
    guard x.rank > 0 else { throw DLError.invalidArgument("diff needs an array of rank 1 or more; this one is a scalar") }
    let axis = try checkedDimension(dim ?? x.rank - 1, of: x, "diff")
    var result = x.dataType == .bool ? x.converted(to: .float32) : x
    for _ in 0..<order {
        let size = result.shape[axis]
        guard size > 1 else {
            result = try result.slice(dim: axis, range: 0..<0)
            break
        }
        result = try result.slice(dim: axis, range: 1..<size) - result.slice(dim: axis, range: 0..<size - 1)
    }
    return result
}
