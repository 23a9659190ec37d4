/// The upper triangle of a matrix, or of each page (the last two dimensions) of a batch:
/// the elements on and above diagonal `k` (0 the main diagonal, positive above it, negative
/// below), with the others zero, as MATLAB's `triu(A, k)` and PyTorch's `triu`. The gradient
/// is masked the same way.
/// - Throws: ``DLError/invalidArgument(_:)`` for arrays of rank below 2.
public func triu(_ x: DLArray, _ k: Int = 0) throws -> DLArray {
    try triangle(x, k, upper: true)
}

/// The lower triangle of a matrix or of each page: the elements on and below diagonal `k`,
/// with the others zero, as MATLAB's `tril(A, k)` and PyTorch's `tril`.
/// - Throws: ``DLError/invalidArgument(_:)`` for arrays of rank below 2.
public func tril(_ x: DLArray, _ k: Int = 0) throws -> DLArray {
    try triangle(x, k, upper: false)
}

func triangle(_ x: DLArray, _ k: Int, upper: Bool) throws -> DLArray {
    let name = upper ? "triu" : "tril"
    guard x.rank >= 2 else {
        throw DLError.invalidArgument("\(name) needs a matrix or a batch of matrices; this array has shape \(x.shape)")
    }
    let rows = x.shape[x.rank - 2], columns = x.shape[x.rank - 1]
    // Element (i, j) lies on diagonal j - i.
    let kept = (0..<rows * columns).map { p in
        let diagonal = p % columns - p / columns
        return upper ? diagonal >= k : diagonal <= k
    }
    let mask = try DLArray(kept, shape: [rows, columns])
    let source = x.dataType == .bool ? x.converted(to: .float32) : x
    return try select(mask, source, 0).withLabels(x.labels)
}
