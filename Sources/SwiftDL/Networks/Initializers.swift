import RealModule

/// How a layer's weights start, with MATLAB's names and PyTorch's formulas.
public enum Initializer: Sendable, Equatable, Codable {
    /// Glorot (Xavier) uniform: U(±√(6 / (fanIn + fanOut))), MATLAB's default for weights.
    case glorot
    /// He normal: N(0, 2 / fanIn), for ReLU networks.
    case he
    /// An orthogonal matrix (rows or columns orthonormal) of the weights flattened to
    /// `[fanOut, fanIn]`, scaled by `gain`.
    case orthogonal(gain: Double = 1)
    /// N(mean, standardDeviation²); DCGAN's weights use N(0, 0.02²).
    case normal(mean: Double = 0, standardDeviation: Double = 0.01)
    /// Every element `value` (zeros by default, MATLAB's default for biases and offsets).
    case constant(Double = 0)

    /// Zeros.
    public static let zeros = Initializer.constant(0)
    /// Ones (MATLAB's default for normalization scale factors).
    public static let ones = Initializer.constant(1)

    /// A new array of `shape` and `type`, for a layer with the given fan-in and fan-out.
    public func make(_ shape: [Int], type: DLDataType = .float32, fanIn: Int, fanOut: Int,
                     using generator: inout DLRandomGenerator) -> DLArray {
        switch self {
        case .glorot:
            let bound = (6 / Double(max(fanIn + fanOut, 1))).squareRoot()
            return (DLArray.rand(shape, type: type, using: &generator) * 2 - 1) * bound
        case .he:
            return DLArray.randn(shape, type: type, using: &generator) * (2 / Double(max(fanIn, 1))).squareRoot()
        case .orthogonal(let gain):
            return orthogonal(shape, type: type, gain: gain, using: &generator)
        case .normal(let mean, let deviation):
            return DLArray.randn(shape, type: type, using: &generator) * deviation + mean
        case .constant(let value):
            return DLArray.full(shape, value: value, type: type)
        }
    }

    /// Gram–Schmidt on a Gaussian matrix: its first dimension against the rest flattened.
    private func orthogonal(_ shape: [Int], type: DLDataType, gain: Double,
                            using generator: inout DLRandomGenerator) -> DLArray {
        let rows = shape.first ?? 1, columns = shape.dropFirst().reduce(1, *)
        // Orthonormalize the vectors of the longer side, so they can all be orthonormal.
        let (count, length) = rows <= columns ? (rows, columns) : (columns, rows)
        var vectors = (0..<count).map { _ in (0..<length).map { _ in generator.nextNormal() } }
        for i in 0..<count {
            for j in 0..<i {
                let dot = zip(vectors[i], vectors[j]).map(*).reduce(0, +)
                for k in 0..<length { vectors[i][k] -= dot * vectors[j][k] }
            }
            let norm = vectors[i].map { $0 * $0 }.reduce(0, +).squareRoot()
            for k in 0..<length { vectors[i][k] *= gain / max(norm, .leastNormalMagnitude) }
        }
        var values = [Double](repeating: 0, count: rows * columns)
        for r in 0..<rows {
            for c in 0..<columns {
                values[r * columns + c] = rows <= columns ? vectors[r][c] : vectors[c][r]
            }
        }
        // [rows, columns] row-major is the layout of `shape` flattened after its first dimension.
        return DLArray(storage: .make(values), shape: shape).converted(to: type)
    }
}
