import ComplexModule
import Testing
@testable import SwiftDL

/// A row-major matrix of complex numbers, for naive reference products.
fileprivate struct Matrix {
    var rows: Int, columns: Int
    var values: [Complex<Double>]

    init(_ array: DLArray) {
        rows = array.shape[0]
        columns = array.shape[1]
        values = array.scalars(as: Complex<Double>.self)
    }

    init(rows: Int, columns: Int, values: [Complex<Double>]) {
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    subscript(i: Int, j: Int) -> Complex<Double> { values[i * columns + j] }

    func applying(_ operation: MatrixOperation) -> Matrix {
        switch operation {
        case .none: return self
        case .transpose, .conjugateTranspose:
            var result = [Complex<Double>]()
            for j in 0..<columns {
                for i in 0..<rows {
                    result.append(operation == .transpose ? self[i, j] : self[i, j].conjugate)
                }
            }
            return Matrix(rows: columns, columns: rows, values: result)
        }
    }

    static func * (a: Matrix, b: Matrix) -> Matrix {
        precondition(a.columns == b.rows)
        var result = [Complex<Double>](repeating: .zero, count: a.rows * b.columns)
        for i in 0..<a.rows {
            for j in 0..<b.columns {
                var total = Complex<Double>.zero
                for k in 0..<a.columns { total += a[i, k] * b[k, j] }
                result[i * b.columns + j] = total
            }
        }
        return Matrix(rows: a.rows, columns: b.columns, values: result)
    }
}

fileprivate let operations: [MatrixOperation] = [.none, .transpose, .conjugateTranspose]

/// The stored shape of a matrix that enters a product as `operation` with size rows x columns.
fileprivate func storedShape(_ rows: Int, _ columns: Int, _ operation: MatrixOperation) -> [Int] {
    operation == .none ? [rows, columns] : [columns, rows]
}

@Suite struct MatrixProductTests {
    @Test func realTwoByTwoByHand() throws {
        let a = try DLArray(rows: [[1.0, 2], [3, 4]])
        let b = try DLArray(rows: [[5.0, 6], [7, 8]])
        let c = try mtimes(a, b)
        #expect(c.shape == [2, 2])
        #expect(c.dataType == .float64)
        #expect(c.scalars(as: Double.self) == [19, 22, 43, 50])
        #expect(try pagemtimes(a, .transpose, b).scalars(as: Double.self) == [26, 30, 38, 44])
        #expect(try pagemtimes(a, b, .transpose).scalars(as: Double.self) == [17, 23, 39, 53])
        #expect(try pagemtimes(a, .transpose, b, .conjugateTranspose).scalars(as: Double.self) == [23, 31, 34, 46])
        // float32 too, and mixed types promote.
        let single = try mtimes(a.converted(to: .float32), b.converted(to: .float32))
        #expect(single.dataType == .float32)
        #expect(single.scalars(as: Double.self) == [19, 22, 43, 50])
        #expect(try mtimes(a.converted(to: .float32), b).dataType == .float64)
    }

    @Test func complexTwoByTwoByHand() throws {
        let a = try DLArray([Complex(1.0, 1), Complex(2.0, 0), Complex(0.0, 0), Complex(1.0, -1)], shape: [2, 2])
        let b = try DLArray([Complex(1.0, 0), Complex(0.0, 1), Complex(2.0, 0), Complex(-1.0, 0)], shape: [2, 2])
        let c = try mtimes(a, b)
        #expect(c.dataType == .complex128)
        #expect(c.scalars(as: Complex<Double>.self) == [Complex(5, 1), Complex(-3, 1), Complex(2, -2), Complex(-1, 1)])
        #expect(try pagemtimes(a, .conjugateTranspose, b).scalars(as: Complex<Double>.self)
                == [Complex(1, -1), Complex(1, 1), Complex(4, 2), Complex(-1, 1)])
        #expect(try pagemtimes(a, .transpose, b).scalars(as: Complex<Double>.self)
                == [Complex(1, 1), Complex(-1, 1), Complex(4, -2), Complex(-1, 3)])
        // A real matrix times a complex one promotes to complex.
        let r = try DLArray(rows: [[1.0, 0], [0, 2]])
        #expect(try mtimes(r, b).scalars(as: Complex<Double>.self)
                == [Complex(1, 0), Complex(0, 1), Complex(4, 0), Complex(-2, 0)])
    }

    @Test func allNineOperationCombinationsMatchNaiveProducts() throws {
        let (m, k, n) = (2, 3, 4)
        var seed: UInt64 = 1
        for opA in operations {
            for opB in operations {
                for type in [DLDataType.float64, .complex128] {
                    seed += 1
                    let a = DLArray.randn(storedShape(m, k, opA), type: type, seed: seed)
                    let b = DLArray.randn(storedShape(k, n, opB), type: type, seed: seed + 100)
                    let c = try pagemtimes(a, opA, b, opB)
                    #expect(c.shape == [m, n])
                    #expect(c.dataType == type)
                    let expected = (Matrix(a).applying(opA) * Matrix(b).applying(opB)).values
                    let actual = c.scalars(as: Complex<Double>.self)
                    let close = zip(actual, expected).allSatisfy { ($0 - $1).length < 1e-12 }
                    #expect(close, "\(opA) \(opB) \(type): \(actual) vs \(expected)")
                }
            }
        }
    }

    @Test func allNineCombinationsHaveCorrectGradients() throws {
        let (m, k, n) = (2, 3, 2)
        var seed: UInt64 = 50
        for opA in operations {
            for opB in operations {
                for type in [DLDataType.float64, .complex128] {
                    seed += 1
                    let a = DLArray.randn(storedShape(m, k, opA), type: type, seed: seed)
                    let b = DLArray.randn(storedShape(k, n, opB), type: type, seed: seed + 100)
                    // Squared so that the second derivative runs each rule on a traced gradient.
                    try expectGradients({ (xs: [DLArray]) in
                        let c = try pagemtimes(xs[0], opA, xs[1], opB)
                        return try c * c
                    }, at: [a, b], orders: 1...2, "\(opA) \(opB) \(type)")
                }
            }
        }
    }

    @Test func complexGradientByHand() throws {
        // y = Re(Σ A B) for A = [a], B = [b] (1x1): ∂y/∂a = conj(b) in the conjugate convention.
        let (ga, gb) = try dlfeval({ (a: DLArray, b: DLArray) in
            try dlgradient(real(sum(try mtimes(a, b))), a, b, allowComplex: true)
        }, try DLArray([Complex(1.0, 2)], shape: [1, 1]), try DLArray([Complex(3.0, -1)], shape: [1, 1]))
        #expect(ga.scalars(as: Complex<Double>.self) == [Complex(3, 1)])
        #expect(gb.scalars(as: Complex<Double>.self) == [Complex(1, -2)])
        // With Aᴴ: y = Re(conj(a) b), ∂y/∂a = b.
        let gh = try dlfeval({ (a: DLArray, b: DLArray) in
            try dlgradient(real(sum(try pagemtimes(a, .conjugateTranspose, b))), a, allowComplex: true)
        }, try DLArray([Complex(1.0, 2)], shape: [1, 1]), try DLArray([Complex(3.0, -1)], shape: [1, 1]))
        #expect(gh.scalars(as: Complex<Double>.self) == [Complex(3, -1)])
        // Real: d/dA sum(A B) = 1 Bᵀ, d/dB = Aᵀ 1.
        let (ra, rb) = try dlfeval({ (a: DLArray, b: DLArray) in
            try dlgradient(sum(try mtimes(a, b)), a, b)
        }, try DLArray(rows: [[1.0, 2], [3, 4]]), try DLArray(rows: [[5.0, 6], [7, 8]]))
        #expect(ra.scalars(as: Double.self) == [11, 15, 11, 15])
        #expect(rb.scalars(as: Double.self) == [4, 4, 6, 6])
    }

    @Test func largeSinglePrecisionProductMatchesTripleLoop() throws {
        let (m, k, n) = (64, 128, 32)
        let a = DLArray.randn([m, k], type: .float32, seed: 1)
        let b = DLArray.randn([k, n], type: .float32, seed: 2)
        let c = try mtimes(a, b)
        #expect(c.shape == [m, n])
        #expect(c.dataType == .float32)
        let av = a.scalars(as: Float.self), bv = b.scalars(as: Float.self), cv = c.scalars(as: Float.self)
        var worst = 0.0
        for i in 0..<m {
            for j in 0..<n {
                var total = 0.0, magnitude = 0.0
                for p in 0..<k {
                    total += Double(av[i * k + p]) * Double(bv[p * n + j])
                    magnitude += abs(Double(av[i * k + p]) * Double(bv[p * n + j]))
                }
                worst = max(worst, abs(Double(cv[i * n + j]) - total) / max(magnitude, 1))
            }
        }
        #expect(worst < 1e-5, "relative error \(worst)")
        // Transposed operands give the transposed problem.
        let ct = try pagemtimes(b, .transpose, a, .transpose)
        let ctv = ct.scalars(as: Float.self)
        var transposedWorst: Float = 0
        for i in 0..<m { for j in 0..<n { transposedWorst = max(transposedWorst, abs(ctv[j * m + i] - cv[i * n + j])) } }
        #expect(transposedWorst < 1e-4)
    }

    @Test func batchedProductsBroadcastBatchDimensions() throws {
        let a = DLArray.randn([2, 1, 3, 4], seed: 3)
        let b = DLArray.randn([5, 4, 2], seed: 4)
        let c = try pagemtimes(a, b)
        #expect(c.shape == [2, 5, 3, 2])
        let cv = c.scalars(as: Double.self)
        for i in 0..<2 {
            for j in 0..<5 {
                let pageA = Matrix(try reshape(a[i, 0], [3, 4]))
                let pageB = Matrix(b[j])
                let expected = (pageA * pageB).values.map(\.real)
                let start = (i * 5 + j) * 6
                let actual = Array(cv[start..<start + 6])
                #expect(zip(actual, expected).allSatisfy { abs($0 - $1) < 1e-12 }, "page \(i), \(j)")
            }
        }
        // A matrix times a batch, and a batch times a matrix.
        let single = DLArray.randn([3, 4], seed: 5)
        let left = try pagemtimes(single, b)
        #expect(left.shape == [5, 3, 2])
        let expectedLeft = (Matrix(single) * Matrix(b[4])).values.map(\.real)
        #expect(zip(Array(left.scalars(as: Double.self)[24..<30]), expectedLeft).allSatisfy { abs($0 - $1) < 1e-12 })
        let right = try pagemtimes(b, .transpose, single, .transpose)
        #expect(right.shape == [5, 2, 3])
        // Complex batches with conjugate transposes.
        let p = DLArray.randn([2, 1, 4, 3], type: .complex128, seed: 6)
        let q = DLArray.randn([3, 2, 4], type: .complex128, seed: 7)
        let pq = try pagemtimes(p, .conjugateTranspose, q, .conjugateTranspose)
        #expect(pq.shape == [2, 3, 3, 2])
        let expectedPage = (Matrix(try reshape(p[1, 0], [4, 3])).applying(.conjugateTranspose)
                            * Matrix(q[2]).applying(.conjugateTranspose)).values
        let page = Array(pq.scalars(as: Complex<Double>.self)[(1 * 3 + 2) * 6 ..< (1 * 3 + 2) * 6 + 6])
        #expect(zip(page, expectedPage).allSatisfy { ($0 - $1).length < 1e-12 })
    }

    @Test func batchedGradients() throws {
        let a = DLArray.randn([2, 1, 3, 4], seed: 8)
        let b = DLArray.randn([5, 4, 2], seed: 9)
        try expectGradients({ (xs: [DLArray]) in let c = try pagemtimes(xs[0], xs[1]); return try c * c }, at: [a, b])
        let p = DLArray.randn([2, 1, 2, 3], type: .complex128, seed: 10)
        let q = DLArray.randn([3, 3, 2], type: .complex128, seed: 11)
        for (opA, opB) in [(MatrixOperation.none, MatrixOperation.transpose), (.conjugateTranspose, .none), (.transpose, .conjugateTranspose)] {
            let left = opA == .none ? p : try transpose(p)
            let right = opB == .none ? q : try transpose(q)
            try expectGradients({ (xs: [DLArray]) in
                let c = try pagemtimes(xs[0], opA, xs[1], opB)
                return try c * conj(c) * c
            }, at: [left, right], orders: 1...2, "\(opA) \(opB)")
        }
        // A rank-2 operand broadcast against a batch: its gradient sums over the batch.
        try expectGradients({ (xs: [DLArray]) in let c = try pagemtimes(xs[0], xs[1]); return try c * c },
                            at: [DLArray.randn([3, 4], seed: 12), b])
    }

    @Test func thirdOrderGradients() throws {
        let a = DLArray.randn([2, 1, 2, 3], seed: 13)
        let b = DLArray.randn([2, 3, 2], seed: 14)
        try expectGradients({ (xs: [DLArray]) in
            let c = try pagemtimes(xs[0], xs[1], .none)
            return try c * c * c
        }, at: [a, b], orders: 3...3)
        let p = DLArray.randn([2, 3], type: .complex128, seed: 15)
        let q = DLArray.randn([2, 2], type: .complex128, seed: 16)
        try expectGradients({ (xs: [DLArray]) in
            let c = try pagemtimes(xs[0], .conjugateTranspose, xs[1], .transpose)
            return try c * c * conj(c)
        }, at: [p, q], orders: 3...3)
    }

    @Test func emptyInnerDimensionGivesZeros() throws {
        let c = try mtimes(DLArray.zeros([2, 0]), DLArray.zeros([0, 3]))
        #expect(c.shape == [2, 3])
        #expect(c.scalars(as: Double.self) == [0, 0, 0, 0, 0, 0])
        #expect(try mtimes(DLArray.zeros([0, 2]), DLArray.zeros([2, 3])).shape == [0, 3])
    }

    @Test func errorsNameTheShapes() throws {
        let inner = errorMessage(DLError.shapeMismatch) { _ = try mtimes(DLArray.zeros([2, 3]), DLArray.zeros([4, 5])) }
        #expect(inner.contains("[2, 3]") && inner.contains("[4, 5]"), "\(inner)")
        let transposed = errorMessage(DLError.shapeMismatch) {
            _ = try pagemtimes(DLArray.zeros([2, 3]), .transpose, DLArray.zeros([3, 5]))
        }
        #expect(transposed.contains("[2, 3]") && transposed.contains("[3, 5]"), "\(transposed)")
        let batch = errorMessage(DLError.shapeMismatch) { _ = try pagemtimes(DLArray.zeros([2, 2, 3]), DLArray.zeros([3, 3, 4])) }
        #expect(batch.contains("[2, 2, 3]") && batch.contains("[3, 3, 4]"), "\(batch)")
        let rank = errorMessage(DLError.invalidArgument) { _ = try pagemtimes(DLArray([1.0, 2]), DLArray.zeros([2, 2])) }
        #expect(rank.contains("[2]") && rank.contains("[2, 2]"), "\(rank)")
        let matrices = errorMessage(DLError.invalidArgument) { _ = try mtimes(DLArray.zeros([1, 2, 2]), DLArray.zeros([2, 2])) }
        #expect(matrices.contains("[1, 2, 2]"), "\(matrices)")
    }
}
