import COpenBLAS
import CSwiftDLSupport
import ComplexModule

/// How a matrix enters a product.
public enum MatrixOperation: Sendable {
    /// As it is.
    case none
    /// Transposed.
    case transpose
    /// Conjugate transposed (the same as transposed for real matrices).
    case conjugateTranspose

    var cblas: CBLAS_TRANSPOSE {
        switch self {
        case .none: CblasNoTrans
        case .transpose: CblasTrans
        case .conjugateTranspose: CblasConjTrans
        }
    }
}

/// Prepares OpenBLAS on first use: picks its fastest kernels for this CPU.
enum BLAS {
    /// The OpenBLAS core in use.
    static let coreName: String = String(cString: swiftdl_prepare_blas())

    /// Makes sure OpenBLAS is prepared.
    @inline(__always) static func prepare() { _ = coreName }
}

/// Multiplies matching pages of `a` and `b` (the last two dimensions are the matrices, the
/// leading ones broadcast), through OpenBLAS.
struct BatchedMatrixProduct: FloatingKernel {
    let a: DLArray, b: DLArray
    let operationA: MatrixOperation, operationB: MatrixOperation
    let batchShape: [Int], m: Int, n: Int, k: Int

    func run<T: DLFloatingElement>(_ type: T.Type) -> DLArray {
        BLAS.prepare()
        let shape = batchShape + [m, n]
        let batches = batchShape.reduce(1, *)
        let output = Storage.allocate(count: batches * m * n, dataType: T.dataType)
        let stridesA = broadcastStrides(Array(a.shape.dropLast(2)), to: batchShape)
        let stridesB = broadcastStrides(Array(b.shape.dropLast(2)), to: batchShape)
        let pageA = a.shape[a.rank - 2] * a.shape[a.rank - 1]
        let pageB = b.shape[b.rank - 2] * b.shape[b.rank - 1]
        let lda = a.shape[a.rank - 1], ldb = b.shape[b.rank - 1]
        let pa = a.storage.pointer(as: T.self), pb = b.storage.pointer(as: T.self)
        let pc = output.pointer(as: T.self)
        var index = [Int](repeating: 0, count: batchShape.count)
        for batch in 0..<batches {
            var offsetA = 0, offsetB = 0
            for d in 0..<batchShape.count {
                offsetA += index[d] * stridesA[d]
                offsetB += index[d] * stridesB[d]
            }
            gemm(pa + offsetA * pageA, lda, pb + offsetB * pageB, ldb, pc + batch * m * n)
            var d = batchShape.count - 1
            while d >= 0 {
                index[d] += 1
                if index[d] < batchShape[d] { break }
                index[d] = 0
                d -= 1
            }
        }
        return DLArray(storage: output, shape: shape)
    }

    private func gemm<T: DLFloatingElement>(_ a: UnsafePointer<T>, _ lda: Int, _ b: UnsafePointer<T>,
                                            _ ldb: Int, _ c: UnsafeMutablePointer<T>) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            c.update(repeating: .zero, count: m * n)
            return
        }
        let (M, N, K) = (Int32(m), Int32(n), Int32(k))
        let (ta, tb) = (operationA.cblas, operationB.cblas)
        switch T.dataType {
        case .float32:
            cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, 1, UnsafeRawPointer(a).assumingMemoryBound(to: Float.self),
                        Int32(lda), UnsafeRawPointer(b).assumingMemoryBound(to: Float.self), Int32(ldb), 0,
                        UnsafeMutableRawPointer(c).assumingMemoryBound(to: Float.self), N)
        case .float64:
            cblas_dgemm(CblasRowMajor, ta, tb, M, N, K, 1, UnsafeRawPointer(a).assumingMemoryBound(to: Double.self),
                        Int32(lda), UnsafeRawPointer(b).assumingMemoryBound(to: Double.self), Int32(ldb), 0,
                        UnsafeMutableRawPointer(c).assumingMemoryBound(to: Double.self), N)
        case .complex64:
            var one = Complex<Float>(1), zero = Complex<Float>(0)
            cblas_cgemm(CblasRowMajor, ta, tb, M, N, K, &one, a, Int32(lda), b, Int32(ldb), &zero, c, N)
        case .complex128:
            var one = Complex<Double>(1), zero = Complex<Double>(0)
            cblas_zgemm(CblasRowMajor, ta, tb, M, N, K, &one, a, Int32(lda), b, Int32(ldb), &zero, c, N)
        case .bool:
            preconditionFailure("matrix product of bool arrays")
        }
    }
}
