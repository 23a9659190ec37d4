import RealModule
/// The products of matching pages of `a` and `b`, as MATLAB's `pagemtimes`: the last two
/// dimensions are matrices, the leading (batch) dimensions broadcast. Each operand can enter
/// transposed or conjugate transposed. Runs on OpenBLAS, and on oneDNN for float32 matrices.
///
/// - Throws: ``DLError/shapeMismatch(_:)`` when the inner sizes differ or the batch
///   dimensions do not broadcast; ``DLError/invalidArgument(_:)`` for arrays of rank below 2.
public func pagemtimes(_ a: DLArray, _ operationA: MatrixOperation = .none,
                       _ b: DLArray, _ operationB: MatrixOperation = .none) throws -> DLArray {
    guard a.rank >= 2 && b.rank >= 2 else {
        throw DLError.invalidArgument("pagemtimes needs matrices (rank 2 or more); got shapes \(a.shape) and \(b.shape)")
    }
    let (rowsA, columnsA) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
    let (rowsB, columnsB) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
    let (m, k) = operationA == .none ? (rowsA, columnsA) : (columnsA, rowsA)
    let (kB, n) = operationB == .none ? (rowsB, columnsB) : (columnsB, rowsB)
    guard k == kB else {
        throw DLError.shapeMismatch("matrix product: inner sizes differ, \(m)x\(k) times \(kB)x\(n) (shapes \(a.shape) and \(b.shape))")
    }
    guard let batch = broadcastShape(Array(a.shape.dropLast(2)), Array(b.shape.dropLast(2))) else {
        throw DLError.shapeMismatch("pagemtimes: batch dimensions of \(a.shape) and \(b.shape) do not broadcast")
    }
    var type = DLDataType.promoted(a.dataType, b.dataType)
    if type == .bool { type = .float32 }
    let left = a.dataType == type ? stripdims(a) : stripdims(a).converted(to: type)
    let right = b.dataType == type ? stripdims(b) : stripdims(b).converted(to: type)
    let product = dispatchFloating(type, BatchedMatrixProduct(
        a: left, b: right, operationA: operationA, operationB: operationB, batchShape: batch, m: m, n: n, k: k))
    return product.recorded(from: left, right) { g, needs in
        var gradientA: DLArray?, gradientB: DLArray?
        if needs[0] {
            // Gradient of op(A) is g · op(B)ᴴ; then undo op on A.
            let ofOpA: DLArray
            switch operationB {
            case .none: ofOpA = try pagemtimes(g, .none, right, .conjugateTranspose)
            case .transpose: ofOpA = try pagemtimes(g, .none, conj(right), .none)
            case .conjugateTranspose: ofOpA = try pagemtimes(g, .none, right, .none)
            }
            gradientA = try undo(operationA, ofOpA).summed(toShape: left.shape)
        }
        if needs[1] {
            // Gradient of op(B) is op(A)ᴴ · g; then undo op on B.
            let ofOpB: DLArray
            switch operationA {
            case .none: ofOpB = try pagemtimes(left, .conjugateTranspose, g, .none)
            case .transpose: ofOpB = try pagemtimes(conj(left), .none, g, .none)
            case .conjugateTranspose: ofOpB = try pagemtimes(left, .none, g, .none)
            }
            gradientB = try undo(operationB, ofOpB).summed(toShape: right.shape)
        }
        return (gradientA, gradientB)
    }
}

/// The products of matching pages of `a` and `b` (MATLAB's `pagemtimes(X, Y)`); see
/// ``pagemtimes(_:_:_:_:)`` for the operations.
public func pagemtimes(_ a: DLArray, _ b: DLArray) throws -> DLArray {
    try pagemtimes(a, .none, b, .none)
}

/// The products of matching pages of `a` and `operationB` applied to `b`:
/// `pagemtimes(a, b, .transpose)` is `pagemtimes(a, .none, b, .transpose)`.
public func pagemtimes(_ a: DLArray, _ b: DLArray, _ operationB: MatrixOperation) throws -> DLArray {
    try pagemtimes(a, .none, b, operationB)
}

/// The gradient of a matrix from the gradient of `operation` applied to it.
private func undo(_ operation: MatrixOperation, _ gradient: DLArray) throws -> DLArray {
    switch operation {
    case .none: gradient
    case .transpose: try transpose(gradient)
    case .conjugateTranspose: try ctranspose(gradient)
    }
}

/// The matrix product of two matrices (MATLAB's `mtimes`, `a*b`).
/// - Throws: ``DLError/invalidArgument(_:)`` unless both are matrices,
///   ``DLError/shapeMismatch(_:)`` when the inner sizes differ.
public func mtimes(_ a: DLArray, _ b: DLArray) throws -> DLArray {
    guard a.rank == 2 && b.rank == 2 else {
        throw DLError.invalidArgument("mtimes multiplies matrices; got shapes \(a.shape) and \(b.shape) (use pagemtimes for batches)")
    }
    return try pagemtimes(a, .none, b, .none)
}
