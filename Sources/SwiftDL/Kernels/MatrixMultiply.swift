import CDNNL
import COpenBLAS
import CSwiftDLSupport
import ComplexModule
import Foundation

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
    @inline(__always) static func prepare() { _ = fullThreadCount }

    /// Products of fewer multiply-adds than this run on one thread.
    static let smallProductLimit = 1 << 25

    /// Runs `product`, a matrix product of `multiplyAdds` multiply-adds, on the calling thread
    /// when it is small: waking OpenBLAS's workers (and the caller spinning in sched_yield until
    /// they answer) costs more than they save below about 32 M multiply-adds, which is every
    /// product of an MLP GAN step. Larger products use all of OpenBLAS's threads.
    static func run(_ product: () -> Void, multiplyAdds: Int) {
        if multiplyAdds < smallProductLimit {
            singleThreaded(product)
        } else {
            allThreads(product)
        }
    }

    /// The threads OpenBLAS uses for large products: its own choice when first used (the cores,
    /// or `OPENBLAS_NUM_THREADS`).
    private static let fullThreadCount: Int32 = {
        _ = coreName
        return max(1, openblas_get_num_threads())
    }()

    private static let threadingChanged = NSCondition()
    nonisolated(unsafe) private static var sectionThreads: Int32 = 0
    nonisolated(unsafe) private static var sectionsRunning = 0

    /// Runs `body` with OpenBLAS's products on the calling thread only, for work that SwiftDL
    /// spreads over the cores itself (products called concurrently from several threads would
    /// otherwise wait for each other's use of OpenBLAS's thread pool).
    static func singleThreaded<Result>(_ body: () -> Result) -> Result { withThreads(1, body) }

    /// Runs `body` with OpenBLAS's products on all its threads.
    static func allThreads<Result>(_ body: () -> Result) -> Result { withThreads(fullThreadCount, body) }

    /// Runs `body` with OpenBLAS set to `threads` threads. OpenBLAS splits some products
    /// differently by thread count (a 33×3000 by 3000×2049 product, or a matrix times a vector,
    /// differs in its last bits between 1 and 2 threads), and its setting is global: a section
    /// asking for another count waits until the running sections end, so work on other threads
    /// never changes a product's thread count, and so its bits.
    private static func withThreads<Result>(_ threads: Int32, _ body: () -> Result) -> Result {
        prepare()
        threadingChanged.lock()
        while sectionsRunning > 0 && sectionThreads != threads { threadingChanged.wait() }
        if sectionThreads != threads {
            openblas_set_num_threads(threads)
            sectionThreads = threads
        }
        sectionsRunning += 1
        threadingChanged.unlock()
        defer {
            threadingChanged.lock()
            sectionsRunning -= 1
            if sectionsRunning == 0 { threadingChanged.broadcast() }
            threadingChanged.unlock()
        }
        return body()
    }
}

/// Multiplies matching pages of `a` and `b` (the last two dimensions are the matrices, the
/// leading ones broadcast): one page as ``splitProduct(_:_:_:_:_:_:accumulating:into:_:m:n:k:)``
/// does, several through OpenBLAS.
struct BatchedMatrixProduct: FloatingKernel {
    let a: DLArray, b: DLArray
    let operationA: MatrixOperation, operationB: MatrixOperation
    let batchShape: [Int], m: Int, n: Int, k: Int

    func run<T: DLFloatingElement>(_ type: T.Type) -> DLArray {
        let shape = batchShape + [m, n]
        let batches = batchShape.reduce(1, *)
        let stridesA = broadcastStrides(Array(a.shape.dropLast(2)), to: batchShape)
        let stridesB = broadcastStrides(Array(b.shape.dropLast(2)), to: batchShape)
        let pageA = a.shape[a.rank - 2] * a.shape[a.rank - 1]
        let pageB = b.shape[b.rank - 2] * b.shape[b.rank - 1]
        let lda = a.shape[a.rank - 1], ldb = b.shape[b.rank - 1]
        let (batchShape, operationA, operationB, m, n, k) = (batchShape, operationA, operationB, m, n, k)
        let output = ClosureKernel { inputs, output in
            let pa = inputs[0].assumingMemoryBound(to: T.self), pb = inputs[1].assumingMemoryBound(to: T.self)
            let pc = output.assumingMemoryBound(to: T.self)
            let multiplyPages = {
                var index = [Int](repeating: 0, count: batchShape.count)
                for batch in 0..<batches {
                    var offsetA = 0, offsetB = 0
                    for d in 0..<batchShape.count {
                        offsetA += index[d] * stridesA[d]
                        offsetB += index[d] * stridesB[d]
                    }
                    matrixProduct(operationA, pa + offsetA * pageA, lda, operationB, pb + offsetB * pageB, ldb,
                                  into: pc + batch * m * n, n, m: m, n: n, k: k)
                    var d = batchShape.count - 1
                    while d >= 0 {
                        index[d] += 1
                        if index[d] < batchShape[d] { break }
                        index[d] = 0
                        d -= 1
                    }
                }
            }
            if batches == 1 {
                splitProduct(operationA, pa, lda, operationB, pb, ldb, into: pc, n, m: m, n: n, k: k)
            } else {
                BLAS.run(multiplyPages, multiplyAdds: batches * m * n * k)
            }
        }.output(reading: a, b, KernelOutput(count: batches * m * n, dataType: T.dataType))
        return DLArray(storage: output, shape: shape)
    }
}

/// `c = op(a)·op(b)` (or `c += op(a)·op(b)` when `accumulating`) for row-major `m×k` and
/// `k×n` operands and an `m×n` result with leading dimensions `lda`, `ldb`, `ldc`, through
/// OpenBLAS.
func matrixProduct<T: DLFloatingElement>(_ operationA: MatrixOperation, _ a: UnsafePointer<T>, _ lda: Int,
                                         _ operationB: MatrixOperation, _ b: UnsafePointer<T>, _ ldb: Int,
                                         accumulating: Bool = false, into c: UnsafeMutablePointer<T>, _ ldc: Int,
                                         m: Int, n: Int, k: Int) {
    if m == 0 || n == 0 { return }
    if k == 0 {
        if !accumulating {
            for row in 0..<m { (c + row * ldc).update(repeating: .zero, count: n) }
        }
        return
    }
    BLAS.prepare()
    let (M, N, K) = (Int32(m), Int32(n), Int32(k))
    let (ta, tb) = (operationA.cblas, operationB.cblas)
    let (LDA, LDB, LDC) = (Int32(lda), Int32(ldb), Int32(ldc))
    switch T.dataType {
    case .float32:
        cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, 1, UnsafeRawPointer(a).assumingMemoryBound(to: Float.self), LDA,
                    UnsafeRawPointer(b).assumingMemoryBound(to: Float.self), LDB, accumulating ? 1 : 0,
                    UnsafeMutableRawPointer(c).assumingMemoryBound(to: Float.self), LDC)
    case .float64:
        cblas_dgemm(CblasRowMajor, ta, tb, M, N, K, 1, UnsafeRawPointer(a).assumingMemoryBound(to: Double.self), LDA,
                    UnsafeRawPointer(b).assumingMemoryBound(to: Double.self), LDB, accumulating ? 1 : 0,
                    UnsafeMutableRawPointer(c).assumingMemoryBound(to: Double.self), LDC)
    case .complex64:
        var one = Complex<Float>(1), beta = Complex<Float>(accumulating ? 1 : 0)
        cblas_cgemm(CblasRowMajor, ta, tb, M, N, K, &one, a, LDA, b, LDB, &beta, c, LDC)
    case .complex128:
        var one = Complex<Double>(1), beta = Complex<Double>(accumulating ? 1 : 0)
        cblas_zgemm(CblasRowMajor, ta, tb, M, N, K, &one, a, LDA, b, LDB, &beta, c, LDC)
    case .bool:
        preconditionFailure("matrix product of bool arrays")
    }
}

/// `x·W + b` for a `[m, k]` matrix `x`, `[k, n]` weights and `n` biases of one type: the result
/// starts as the bias in every row and the product is accumulated onto it, so there is no
/// separate pass adding the bias and no zeroing of the result before the product.
struct AffineProduct: FloatingKernel {
    let x: DLArray, weights: DLArray, bias: DLArray

    func run<T: DLFloatingElement>(_ type: T.Type) -> DLArray {
        let (m, k, n) = (x.shape[0], x.shape[1], weights.shape[1])
        let output = ClosureKernel { inputs, output in
            splitProduct(.none, inputs[0].assumingMemoryBound(to: T.self), k, .none, inputs[1].assumingMemoryBound(to: T.self), n,
                         startingFrom: UnsafePointer(inputs[2].assumingMemoryBound(to: T.self)),
                         into: output.assumingMemoryBound(to: T.self), n, m: m, n: n, k: k)
        }.output(reading: [x, weights, bias], KernelOutput(count: m * n, dataType: T.dataType))
        return DLArray(storage: output, shape: [m, n])
    }
}

/// The size below which a product is not split over the cores: 512k multiply-adds (a 64×64 by
/// 64×128 product, about 10 µs on one core). Through libdispatch a hand-off cost about what
/// half of a 2 M multiply-add product takes (benchmarks/gemm/small_gemm.c, BENCHMARKS.md); with
/// the pool's threads it costs about a microsecond, and splitting the MLP GAN's 64×64 by 64×256
/// products too made its step 2% faster (AMD EPYC Zen 4, 2026-12-07). A product cut into blocks
/// of columns or rows gives the same bits as the whole: each element's terms are added in one order.
let splitProductLimit = 1 << 19

/// `c = op(a)·op(b)` (or `c += …` when `accumulating`, or `c = r + op(a)·op(b)` for every row of
/// `c` when a row `r` of `n` values is given as `startingFrom`), as
/// ``matrixProduct(_:_:_:_:_:_:accumulating:into:_:m:n:k:)``, for the products of a small
/// network's layers: those of ``splitProductLimit`` multiply-adds and more, below
/// ``BLAS/smallProductLimit``, are cut into one block of result columns (or rows, whichever
/// dimension is larger) per core, each written with its starting row and multiplied on its core
/// by a single-threaded library call. The cut depends only on the sizes and the core count, so
/// the result's bits never depend on timing. Larger products use OpenBLAS's own threads,
/// smaller ones run on the calling thread.
func splitProduct<T: DLFloatingElement>(_ operationA: MatrixOperation, _ a: UnsafePointer<T>, _ lda: Int,
                                        _ operationB: MatrixOperation, _ b: UnsafePointer<T>, _ ldb: Int,
                                        accumulating: Bool = false, startingFrom startRow: UnsafePointer<T>? = nil,
                                        into c: UnsafeMutablePointer<T>, _ ldc: Int, m: Int, n: Int, k: Int) {
    let multiplyAdds = m * n * k
    let parts = min(Parallel.coreCount, max(m, n) / 32)
    let accumulating = accumulating || startRow != nil
    /// Writes the starting row into rows `rows` of `c`, columns `columns`.
    func start(rows: Range<Int>, columns: Range<Int>) {
        guard let startRow else { return }
        for row in rows { (c + row * ldc + columns.lowerBound).update(from: startRow + columns.lowerBound, count: columns.count) }
    }
    if multiplyAdds >= BLAS.smallProductLimit {
        start(rows: 0..<m, columns: 0..<n)
        BLAS.allThreads {
            matrixProduct(operationA, a, lda, operationB, b, ldb, accumulating: accumulating, into: c, ldc, m: m, n: n, k: k)
        }
        return
    }
    guard multiplyAdds >= splitProductLimit, parts > 1 else {
        start(rows: 0..<m, columns: 0..<n)
        BLAS.singleThreaded {
            threadProduct(operationA, a, lda, operationB, b, ldb, accumulating: accumulating, into: c, ldc, m: m, n: n, k: k)
        }
        return
    }
    let splitsColumns = n >= m, length = splitsColumns ? n : m
    // Block edges on multiples of 16 elements: whole vectors for the kernels.
    let edges = (0...parts).map { $0 == parts ? length : (length * $0 / parts + 8) / 16 * 16 }
    BLAS.singleThreaded {
        Parallel.perform(parts) { part in
            let block = edges[part] ..< edges[part + 1]
            if splitsColumns {
                start(rows: 0..<m, columns: block)
                // Columns of op(b): columns of b, or rows of a transposed b.
                let columns = operationB == .none ? b + block.lowerBound : b + block.lowerBound * ldb
                threadProduct(operationA, a, lda, operationB, columns, ldb, accumulating: accumulating,
                              into: c + block.lowerBound, ldc, m: m, n: block.count, k: k)
            } else {
                start(rows: block, columns: 0..<n)
                // Rows of op(a): rows of a, or columns of a transposed a.
                let rows = operationA == .none ? a + block.lowerBound * lda : a + block.lowerBound
                threadProduct(operationA, rows, lda, operationB, b, ldb, accumulating: accumulating,
                              into: c + block.lowerBound * ldc, ldc, m: block.count, n: n, k: k)
            }
        }
    }
}

/// A product on the calling thread alone (inside a ``BLAS/singleThreaded(_:)`` section): float32
/// on oneDNN's sgemm, which multiplies the products of an MLP GAN step (a batch of 64 by 64-784
/// features, in the forms x·W, g·Wᵀ and xᵀ·g) 1.05-1.44x faster than OpenBLAS and about 2x faster
/// than BLIS on one core (BENCHMARKS.md); on OpenBLAS if oneDNN refuses the call. Products with
/// a single output column or a single term (a few microseconds each), where OpenBLAS measured
/// 6-10% faster, and the other types run on OpenBLAS.
@inline(__always)
func threadProduct<T: DLFloatingElement>(_ operationA: MatrixOperation, _ a: UnsafePointer<T>, _ lda: Int,
                                         _ operationB: MatrixOperation, _ b: UnsafePointer<T>, _ ldb: Int,
                                         accumulating: Bool, into c: UnsafeMutablePointer<T>, _ ldc: Int,
                                         m: Int, n: Int, k: Int) {
    if T.dataType == .float32, m > 0, n > 1, k > 1 {
        swiftdl_dnnl_use_calling_thread_only()
        let status = dnnl_sgemm(operationA == .none ? 78 : 84, operationB == .none ? 78 : 84,
                                Int64(m), Int64(n), Int64(k), 1,
                                UnsafeRawPointer(a).assumingMemoryBound(to: Float.self), Int64(lda),
                                UnsafeRawPointer(b).assumingMemoryBound(to: Float.self), Int64(ldb), accumulating ? 1 : 0,
                                UnsafeMutableRawPointer(c).assumingMemoryBound(to: Float.self), Int64(ldc))
        if status == dnnl_success { return }
    }
    matrixProduct(operationA, a, lda, operationB, b, ldb, accumulating: accumulating, into: c, ldc, m: m, n: n, k: k)
}
