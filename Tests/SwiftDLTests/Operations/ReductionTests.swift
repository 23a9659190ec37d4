import ComplexModule
import Testing
@testable import SwiftDL

/// Expects two lists of numbers to agree within `tolerance` (relative, at least 1).
fileprivate func expectClose(_ actual: [Double], _ expected: [Double], tolerance: Double = 1e-12,
                             _ comment: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.count == expected.count, "\(comment) \(actual) vs \(expected)", sourceLocation: sourceLocation)
    let close = zip(actual, expected).allSatisfy { abs($0 - $1) <= tolerance * max(1, abs($1)) }
    #expect(close, "\(comment) \(actual) vs \(expected)", sourceLocation: sourceLocation)
}

fileprivate func expectClose(_ actual: [Complex<Double>], _ expected: [Complex<Double>], tolerance: Double = 1e-12,
                             sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.count == expected.count, sourceLocation: sourceLocation)
    let close = zip(actual, expected).allSatisfy { ($0 - $1).length <= tolerance * max(1, $1.length) }
    #expect(close, "\(actual) vs \(expected)", sourceLocation: sourceLocation)
}

@Suite struct ReductionTests {
    /// [[1, 2, 3], [4, 5, 6]]
    let m = try! DLArray([1.0, 2, 3, 4, 5, 6], shape: [2, 3])
    /// 0, 1, …, 23 as 2x3x4.
    let cube = try! DLArray((0..<24).map(Double.init), shape: [2, 3, 4])
    /// A 2x3 matrix with distinct, nonzero values of both signs.
    let a = try! DLArray([0.7, -1.3, 0.4, 1.1, 0.9, -0.6], shape: [2, 3])
    let z = try! DLArray([Complex(0.3, -0.5), Complex(-1.1, 0.4), Complex(0.8, 0.9),
                          Complex(-0.2, -0.7), Complex(1.2, 0.1), Complex(0.5, 0.6)], shape: [2, 3])

    // MARK: sum and mean

    @Test func sumValuesAndShapes() throws {
        let all = sum(m)
        #expect(all.shape == [])
        #expect(all.scalar(as: Double.self) == 21)
        let columns = try sum(m, dims: [0])
        #expect(columns.shape == [1, 3])
        #expect(columns.scalars(as: Double.self) == [5, 7, 9])
        let rows = try sum(m, dims: [1])
        #expect(rows.shape == [2, 1])
        #expect(rows.scalars(as: Double.self) == [6, 15])
        let both = try sum(m, dims: [1, 0])
        #expect(both.shape == [1, 1])
        #expect(both.scalars(as: Double.self) == [21])
        // 2x3x4 over dims 0 and 2: for j, Σ_i Σ_k (12 i + 4 j + k) = 2·(4·4j + 6) + 12·4 = 32 j + 60.
        let outer = try sum(cube, dims: [0, 2])
        #expect(outer.shape == [1, 3, 1])
        #expect(outer.scalars(as: Double.self) == [60, 92, 124])
        let middle = try sum(cube, dims: [1])
        #expect(middle.shape == [2, 1, 4])
        #expect(middle.scalars(as: Double.self) == [12, 15, 18, 21, 48, 51, 54, 57])
        // A repeated dimension counts once; an empty list changes nothing.
        #expect(try sum(m, dims: [0, 0]).scalars(as: Double.self) == [5, 7, 9])
        #expect(try sum(m, dims: []).scalars(as: Double.self) == m.scalars(as: Double.self))
    }

    @Test func sumKeepsTypeAndLabels() throws {
        let labeled = try DLArray([1.0, 2, 3, 4, 5, 6], shape: [2, 3], labels: "BC")
        #expect(labeled.labels == "BC")
        let s = try sum(labeled, dims: [1])
        #expect(s.labels == "BC")
        #expect(s.scalars(as: Double.self) == [6, 15])
        let single = m.converted(to: .float32)
        #expect(sum(single).dataType == .float32)
        #expect(try sum(single, dims: [0]).dataType == .float32)
        let flags = DLArray([true, false, true, true])
        #expect(sum(flags).scalar(as: Double.self) == 3)
        #expect(sum(flags).dataType == .float32)
        let complexSum = sum(z).scalar(as: Complex<Double>.self)
        #expect(abs(complexSum.real - 1.5) < 1e-12 && abs(complexSum.imaginary - 0.8) < 1e-12)
    }

    @Test func meanValues() throws {
        #expect(mean(m).scalar(as: Double.self) == 3.5)
        #expect(try mean(m, dims: [0]).scalars(as: Double.self) == [2.5, 3.5, 4.5])
        #expect(try mean(m, dims: [1]).scalars(as: Double.self) == [2, 5])
        let cubeMean = try mean(cube, dims: [0, 2])
        #expect(cubeMean.shape == [1, 3, 1])
        #expect(cubeMean.scalars(as: Double.self) == [7.5, 11.5, 15.5])
        let labeled = try DLArray([1.0, 2, 3, 4, 5, 6], shape: [2, 3], labels: "BC")
        #expect(try mean(labeled, dims: [0]).labels == "BC")
        // Empty: the sum is 0, the mean NaN (as MATLAB and PyTorch).
        #expect(sum(DLArray.zeros([0, 3])).scalar(as: Double.self) == 0)
        #expect(try sum(DLArray.zeros([0, 3]), dims: [0]).scalars(as: Double.self) == [0, 0, 0])
        #expect(mean(DLArray.zeros([0, 3])).scalar(as: Double.self).isNaN)
        #expect(try mean(DLArray.zeros([2, 0]), dims: [1]).scalars(as: Double.self).allSatisfy { $0.isNaN })
        #expect(try mean(DLArray.zeros([2, 0]), dims: [0]).shape == [1, 0])
        #expect(try prod(DLArray.zeros([2, 0]), dim: 1).scalars(as: Double.self) == [1, 1])
    }

    @Test func sumAndMeanGradients() throws {
        try expectGradients({ (x: DLArray) in try sum(x * x) * sum(x) }, at: a)
        try expectGradients({ (x: DLArray) in let s = try sum(x, dims: [1]); return try s * s }, at: a)
        try expectGradients({ (x: DLArray) in let s = try sum(x, dims: [0, 2]); return try s * s }, at: cube / 10)
        try expectGradients({ (x: DLArray) in let s = try mean(x, dims: [0]); return try s * s * s }, at: a)
        try expectGradients({ (x: DLArray) in try mean(x) * mean(x * x) }, at: a)
        // Complex: the sums of holomorphic and conjugated expressions.
        try expectGradients({ (x: DLArray) in let s = try sum(x, dims: [1]); return try s * conj(s) + s * s }, at: z)
        try expectGradients({ (x: DLArray) in let s = sum(x); return try s * s }, at: z)
        try expectGradients({ (x: DLArray) in let s = try mean(x, dims: [0]); return try s * s * conj(s) }, at: z)
    }

    @Test func sumGradientIsOnes() throws {
        let g = try dlfeval({ (x: DLArray) in try dlgradient(sum(try sum(x, dims: [0]) * DLArray([1.0, 2, 3])), x) }, m)
        #expect(g.scalars(as: Double.self) == [1, 2, 3, 1, 2, 3])
        let gm = try dlfeval({ (x: DLArray) in try dlgradient(mean(x), x) }, m)
        expectClose(gm.scalars(as: Double.self), [Double](repeating: 1.0 / 6, count: 6))
    }

    @Test func largeReductionsMatchLoops() throws {
        // Large enough to be split across threads.
        let (rows, columns) = (1000, 100)
        let x = DLArray.randn([rows, columns], seed: 21)
        let v = x.scalars(as: Double.self)
        let rowSums = try sum(x, dims: [1]).scalars(as: Double.self)
        let columnSums = try sum(x, dims: [0]).scalars(as: Double.self)
        var worst = 0.0
        for i in 0..<rows {
            var total = 0.0
            for j in 0..<columns { total += v[i * columns + j] }
            worst = max(worst, abs(total - rowSums[i]))
        }
        for j in 0..<columns {
            var total = 0.0
            for i in 0..<rows { total += v[i * columns + j] }
            worst = max(worst, abs(total - columnSums[j]))
        }
        #expect(worst < 1e-10)
        #expect(abs(sum(x).scalar(as: Double.self) - v.reduce(0, +)) < 1e-9)
        let (maxima, positions) = try max(x, dim: 0)
        let maximaValues = maxima.scalars(as: Double.self), positionValues = positions.scalars(as: Double.self)
        for j in 0..<columns {
            let column = (0..<rows).map { v[$0 * columns + j] }
            let best = column.max()!
            #expect(maximaValues[j] == best)
            #expect(positionValues[j] == Double(column.firstIndex(of: best)!))
        }
    }

    /// Sums large enough for the cores to share: a sum over the leading dimension (a batch
    /// reduced away leaves one long row of sums) adds each element's terms in order, as a loop
    /// does, to the bit; the sum of all elements adds the sums of blocks of
    /// `SumAll<Double>.blockSize` elements in order, each in four interleaved partial sums.
    @Test func sharedSumsMatchLoopsBitForBit() throws {
        let (rows, columns) = (4, 300_000)
        let x = DLArray.randn([rows, columns], type: .float32, seed: 22)
        let v = x.scalars(as: Float.self)
        let columnSums = try sum(x, dims: [0]).scalars(as: Float.self)
        let differing = (0..<columns).first { j in
            var total: Float = 0
            for i in 0..<rows { total += v[i * columns + j] }
            return total.bitPattern != columnSums[j].bitPattern
        }
        #expect(differing == nil, "column \(differing ?? -1) differs")
        var expected: Float?
        for start in stride(from: 0, to: v.count, by: SumAll<Double>.blockSize) {
            var partial = [Float](repeating: 0, count: 4)
            for (k, value) in v[start..<min(v.count, start + SumAll<Double>.blockSize)].enumerated() { partial[k % 4] += value }
            let blockSum = (partial[0] + partial[1]) + (partial[2] + partial[3])
            expected = expected.map { $0 + blockSum } ?? blockSum
        }
        let total = sum(x).scalar(as: Float.self)
        #expect(total.bitPattern == expected?.bitPattern, "sum \(total), blocks added in order \(expected ?? .nan)")
        #expect(abs(Double(total) - v.reduce(0.0) { $0 + Double($1) }) < 1e-2)
    }

    // MARK: prod

    @Test func prodValues() throws {
        #expect(try prod(m, dim: 0).scalars(as: Double.self) == [4, 10, 18])
        #expect(try prod(m, dim: 0).shape == [1, 3])
        #expect(try prod(m, dim: 1).scalars(as: Double.self) == [6, 120])
        #expect(try prod(m, dim: 1).shape == [2, 1])
        let all = try prod(m)
        #expect(all.shape == [])
        #expect(all.scalar(as: Double.self) == 720)
        let p = try prod(cube + 1, dim: 1)
        #expect(p.shape == [2, 1, 4])
        // (1·5·9, 2·6·10, 3·7·11, 4·8·12, 13·17·21, 14·18·22, 15·19·23, 16·20·24)
        let expected: [Double] = [45, 120, 231, 384, 4641, 5544, 6555, 7680]
        #expect(p.scalars(as: Double.self) == expected)
        let labeled = try DLArray([1.0, 2, 3, 4, 5, 6], shape: [2, 3], labels: "BC")
        #expect(try prod(labeled, dim: 1).labels == "BC")
        // (1+i)(1-i) = 2, times i = 2i.
        let c = DLArray([Complex(1.0, 1), Complex(1.0, -1), Complex(0.0, 1)])
        expectClose(try prod(c).scalars(as: Complex<Double>.self), [Complex(0, 2)])
    }

    @Test func prodGradients() throws {
        try expectGradients({ (x: DLArray) in try prod(x, dim: 0) }, at: a, orders: 1...3)
        try expectGradients({ (x: DLArray) in try prod(x, dim: 1) }, at: a, orders: 1...3)
        try expectGradients({ (x: DLArray) in try prod(x) }, at: a, orders: 1...3)
        try expectGradients({ (x: DLArray) in try prod(x, dim: 1) }, at: cube / 20 + 0.3)
        try expectGradients({ (x: DLArray) in try prod(x, dim: 1) }, at: z, orders: 1...3)
        try expectGradients({ (x: DLArray) in try prod(x) }, at: z)
    }

    @Test func prodGradientWithZeros() throws {
        // One zero: only the zero's gradient survives, the product of the others.
        let oneZero = DLArray([2.0, 0, 3, 4])
        let g1 = try dlfeval({ (x: DLArray) in try dlgradient(try prod(x), x) }, oneZero)
        #expect(g1.scalars(as: Double.self) == [0, 24, 0, 0])
        // Two zeros: every product of "the others" holds a zero.
        let twoZeros = DLArray([0.0, 2, 0, 5])
        let g2 = try dlfeval({ (x: DLArray) in try dlgradient(try prod(x), x) }, twoZeros)
        #expect(g2.scalars(as: Double.self) == [0, 0, 0, 0])
        #expect(!g2.scalars(as: Double.self).contains { $0.isNaN })
        // Second order at [2, 0, 3]: the Hessian is [[0, 3, 0], [3, 0, 2], [0, 2, 0]]; its row sums
        // are the gradient of the sum of the gradient.
        let hessianRows = try dlfeval({ (x: DLArray) in
            let g = try dlgradient(try prod(x), x, enableHigherDerivatives: true)
            return try dlgradient(sum(g), x)
        }, DLArray([2.0, 0, 3]))
        #expect(hessianRows.scalars(as: Double.self) == [3, 5, 2])
        // With two zeros the second derivative between the zeros is the product of the rest.
        let hessianTwo = try dlfeval({ (x: DLArray) in
            let g = try dlgradient(try prod(x), x, enableHigherDerivatives: true)
            return try dlgradient(sum(g), x)
        }, DLArray([0.0, 2, 0, 5]))
        #expect(hessianTwo.scalars(as: Double.self) == [10, 0, 10, 0])
        for point in [oneZero, twoZeros, DLArray([0.0, 0, 0])] {
            try expectGradients({ (x: DLArray) in try prod(x) }, at: point, orders: 1...2, "\(point.scalars(as: Double.self))")
        }
        let matrix = try DLArray([0.5, 0, 2, 0, 0, 3], shape: [2, 3])
        try expectGradients({ (x: DLArray) in try prod(x, dim: 1) }, at: matrix)
        try expectGradients({ (x: DLArray) in try prod(x, dim: 0) }, at: matrix)
        let complexZero = DLArray([Complex(0.5, 1), Complex(0.0, 0), Complex(-1.0, 2)])
        try expectGradients({ (x: DLArray) in try prod(x) }, at: complexZero)
    }

    // MARK: cumsum and cumprod

    @Test func cumulativeValues() throws {
        #expect(try cumsum(m, dim: 1).scalars(as: Double.self) == [1, 3, 6, 4, 9, 15])
        #expect(try cumsum(m, dim: 0).scalars(as: Double.self) == [1, 2, 3, 5, 7, 9])
        #expect(try cumsum(m, dim: 1, reverse: true).scalars(as: Double.self) == [6, 5, 3, 15, 11, 6])
        #expect(try cumprod(m, dim: 1).scalars(as: Double.self) == [1, 2, 6, 4, 20, 120])
        #expect(try cumprod(m, dim: 0).scalars(as: Double.self) == [1, 2, 3, 4, 10, 18])
        #expect(try cumprod(m, dim: 1, reverse: true).scalars(as: Double.self) == [6, 6, 3, 120, 30, 6])
        let c = try cumsum(cube, dim: 1)
        #expect(c.shape == [2, 3, 4])
        #expect(Array(c.scalars(as: Double.self)[0..<12]) == [0, 1, 2, 3, 4, 6, 8, 10, 12, 15, 18, 21])
        let labeled = try DLArray([1.0, 2, 3, 4, 5, 6], shape: [2, 3], labels: "BC")
        #expect(try cumsum(labeled, dim: 1).labels == "BC")
        #expect(try cumprod(labeled, dim: 1).labels == "BC")
        let ci = try cumprod(DLArray([Complex(0.0, 1), Complex(0.0, 1), Complex(2.0, 0)]), dim: 0)
        expectClose(ci.scalars(as: Complex<Double>.self), [Complex(0, 1), Complex(-1, 0), Complex(-2, 0)])
    }

    @Test func cumulativeGradients() throws {
        for reverse in [false, true] {
            try expectGradients({ (x: DLArray) in let c = try cumsum(x, dim: 1, reverse: reverse); return try c * c }, at: a)
            try expectGradients({ (x: DLArray) in let c = try cumsum(x, dim: 0, reverse: reverse); return try c * c }, at: z)
            try expectGradients({ (x: DLArray) in try cumprod(x, dim: 1, reverse: reverse) }, at: a, orders: 1...3)
            try expectGradients({ (x: DLArray) in try cumprod(x, dim: 0, reverse: reverse) }, at: a)
            try expectGradients({ (x: DLArray) in try cumprod(x, dim: 1, reverse: reverse) }, at: z, orders: 1...3)
            try expectGradients({ (x: DLArray) in try cumprod(x, dim: 1, reverse: reverse) }, at: cube / 20 + 0.5)
        }
    }

    @Test func cumprodGradientWithZeros() throws {
        // cumprod([2, 0, 3]) = [2, 0, 0]; d/dx of the sum is [1 + x1 + x1 x2, x0 + x0 x2, x0 x1] = [1, 8, 0].
        let g = try dlfeval({ (x: DLArray) in try dlgradient(sum(try cumprod(x, dim: 0)), x) }, DLArray([2.0, 0, 3]))
        #expect(g.scalars(as: Double.self) == [1, 8, 0])
        // Reversed: y = [x0 x1 x2, x1 x2, x2]; gradient [x1 x2, x0 x2 + x2, x0 x1 + x1 + 1] = [0, 9, 1].
        let r = try dlfeval({ (x: DLArray) in try dlgradient(sum(try cumprod(x, dim: 0, reverse: true)), x) }, DLArray([2.0, 0, 3]))
        #expect(r.scalars(as: Double.self) == [0, 9, 1])
        // Two zeros: [0, 2, 0] gives y = [0, 0, 0] and gradient [1 + 2 + 0, 0, 0] = [3, 0, 0].
        let two = try dlfeval({ (x: DLArray) in try dlgradient(sum(try cumprod(x, dim: 0)), x) }, DLArray([0.0, 2, 0]))
        #expect(two.scalars(as: Double.self) == [3, 0, 0])
        // Second order at [2, 0, 3]: Σ y = x0 + x0 x1 + x0 x1 x2 has the Hessian
        // [[0, 1 + x2, x1], [1 + x2, 0, x0], [x1, x0, 0]] = [[0, 4, 0], [4, 0, 2], [0, 2, 0]], row sums [4, 6, 2].
        let rows = try dlfeval({ (x: DLArray) in
            let g = try dlgradient(sum(try cumprod(x, dim: 0)), x, enableHigherDerivatives: true)
            return try dlgradient(sum(g), x)
        }, DLArray([2.0, 0, 3]))
        #expect(rows.scalars(as: Double.self) == [4, 6, 2])
        for reverse in [false, true] {
            for point in [DLArray([2.0, 0, 3, 0.5]), DLArray([0.0, 2, 0, 5]), try DLArray([0.5, 0, 2, 0, 1.5, 3], shape: [2, 3])] {
                // Orders 1 and 2: at order 3 the finite differences step to x = ±1e-6, where the
                // division x/x in the nonzero formula loses ~eps/x² and the check is meaningless.
                try expectGradients({ (x: DLArray) in try cumprod(x, dim: x.rank - 1, reverse: reverse) }, at: point, orders: 1...2,
                                    "reverse \(reverse) at \(point.scalars(as: Double.self))")
            }
            let matrix = try DLArray([0.5, 0, 2, 0, 1.5, 3], shape: [2, 3])
            try expectGradients({ (x: DLArray) in try cumprod(x, dim: 0, reverse: reverse) }, at: matrix)
            let complexZero = DLArray([Complex(0.5, 1), Complex(0.0, 0), Complex(-1.0, 2)])
            try expectGradients({ (x: DLArray) in try cumprod(x, dim: 0, reverse: reverse) }, at: complexZero)
        }
    }

    // MARK: max and min

    @Test func maxMinValuesAndIndices() throws {
        let x = try DLArray([3.0, 7, 7, 1, 9, 1], shape: [2, 3])
        let (rowMax, rowArg) = try max(x, dim: 1)
        #expect(rowMax.shape == [2, 1])
        #expect(rowMax.scalars(as: Double.self) == [7, 9])
        #expect(rowArg.scalars(as: Double.self) == [1, 1])   // the first of the tied 7s
        #expect(rowArg.dataType == .float64)
        let (rowMin, rowArgMin) = try min(x, dim: 1)
        #expect(rowMin.scalars(as: Double.self) == [3, 1])
        #expect(rowArgMin.scalars(as: Double.self) == [0, 0])  // the first of the tied 1s
        let (colMax, colArg) = try max(x, dim: 0)
        #expect(colMax.shape == [1, 3])
        #expect(colMax.scalars(as: Double.self) == [3, 9, 7])
        #expect(colArg.scalars(as: Double.self) == [0, 1, 0])
        #expect(try max(x).scalar(as: Double.self) == 9)
        #expect(try max(x).shape == [])
        #expect(try min(x).scalar(as: Double.self) == 1)
        let (cubeMax, cubeArg) = try max(cube, dim: 1)
        #expect(cubeMax.shape == [2, 1, 4])
        #expect(cubeMax.scalars(as: Double.self) == [8, 9, 10, 11, 20, 21, 22, 23])
        #expect(cubeArg.scalars(as: Double.self) == [2, 2, 2, 2, 2, 2, 2, 2])
        let labeled = try DLArray([3.0, 7, 7, 1, 9, 1], shape: [2, 3], labels: "BC")
        #expect(try max(labeled, dim: 1).values.labels == "BC")
        #expect(try max(x.converted(to: .float32), dim: 1).values.dataType == .float32)
        // NaN counts as largest, and as smallest.
        let withNaN = DLArray([1.0, .nan, 3])
        #expect(try max(withNaN, dim: 0).indices.scalars(as: Double.self) == [1])
        #expect(try min(withNaN, dim: 0).indices.scalars(as: Double.self) == [1])
    }

    @Test func maxGradientGoesToTheFirstMaximum() throws {
        let g = try dlfeval({ (x: DLArray) in try dlgradient(try max(x), x) }, DLArray([1.0, 3, 3, 2]))
        #expect(g.scalars(as: Double.self) == [0, 1, 0, 0])
        let gm = try dlfeval({ (x: DLArray) in try dlgradient(try min(x), x) }, DLArray([2.0, 1, 5, 1]))
        #expect(gm.scalars(as: Double.self) == [0, 1, 0, 0])
        let rows = try dlfeval({ (x: DLArray) in
            try dlgradient(sum(try max(x, dim: 1).values * DLArray([2.0, 5]).reshaped([2, 1])), x)
        }, try DLArray([3.0, 7, 7, 1, 9, 1], shape: [2, 3]))
        #expect(rows.scalars(as: Double.self) == [0, 2, 0, 0, 5, 0])
        try expectGradients({ (x: DLArray) in let v = try max(x, dim: 1).values; return try v * v }, at: a)
        try expectGradients({ (x: DLArray) in let v = try min(x, dim: 0).values; return try v * v * v }, at: a)
        try expectGradients({ (x: DLArray) in try max(x) * min(x) }, at: a)
    }

    // MARK: norm

    @Test func normValues() throws {
        let v = DLArray([3.0, -4, 0])
        #expect(try norm(v).scalar(as: Double.self) == 5)
        #expect(try norm(v).shape == [])
        #expect(try norm(v, p: 1).scalar(as: Double.self) == 7)
        #expect(try norm(v, p: .infinity).scalar(as: Double.self) == 4)
        let cubic = try norm(v, p: 3).scalar(as: Double.self)   // (27 + 64)^(1/3)
        expectClose([cubic * cubic * cubic], [91])
        let rows = try norm(try DLArray([3.0, 4, 0, 5, 12, 0], shape: [2, 3]), dims: [1])
        #expect(rows.shape == [2, 1])
        #expect(rows.scalars(as: Double.self) == [5, 13])
        let cols = try norm(try DLArray([3.0, 4, 0, 5, 12, 0], shape: [2, 3]), p: .infinity, dims: [0])
        #expect(cols.shape == [1, 3])
        #expect(cols.scalars(as: Double.self) == [5, 12, 0])
        // |3+4i| = 5, |1-i| = √2: the 2-norm is √27 and real.
        let c = DLArray([Complex(3.0, 4), Complex(1.0, -1)])
        #expect(try norm(c).dataType == .float64)
        expectClose([try norm(c).scalar(as: Double.self)], [Double(27).squareRoot()])
        expectClose([try norm(c, p: 1).scalar(as: Double.self)], [5 + Double(2).squareRoot()])
        let labeled = try DLArray([3.0, 4, 0, 5, 12, 0], shape: [2, 3], labels: "BC")
        #expect(try norm(labeled, dims: [1]).labels == "BC")
    }

    @Test func normGradients() throws {
        try expectGradients({ (x: DLArray) in try norm(x) }, at: a)
        try expectGradients({ (x: DLArray) in try norm(x, dims: [1]) }, at: a)
        try expectGradients({ (x: DLArray) in try norm(x, dims: [0]) }, at: cube / 7 - 1)
        try expectGradients({ (x: DLArray) in try norm(x, p: 3) }, at: a)
        try expectGradients({ (x: DLArray) in try norm(x, p: 1, dims: [0]) }, at: a)
        try expectGradients({ (x: DLArray) in try norm(x, p: .infinity, dims: [1]) }, at: a)
        try expectGradients({ (x: DLArray) in try norm(x) }, at: z)
        try expectGradients({ (x: DLArray) in try norm(x, dims: [1]) }, at: z)
        try expectGradients({ (x: DLArray) in try norm(x, p: 3) }, at: z)
        // The gradient of the 2-norm is x/‖x‖.
        let g = try dlfeval({ (x: DLArray) in try dlgradient(try norm(x), x) }, DLArray([3.0, -4]))
        expectClose(g.scalars(as: Double.self), [0.6, -0.8])
        let gc = try dlfeval({ (x: DLArray) in try dlgradient(try norm(x), x, allowComplex: true) },
                             DLArray([Complex(3.0, 4)]))
        expectClose(gc.scalars(as: Complex<Double>.self), [Complex(0.6, 0.8)])
    }

    @Test func normGradientAtZeroIsZero() throws {
        let g = try dlfeval({ (x: DLArray) in try dlgradient(try norm(x), x) }, DLArray([0.0, 0, 0]))
        #expect(g.scalars(as: Double.self) == [0, 0, 0])
        // One zero row among nonzero rows: only that row's gradient is 0.
        let rows = try dlfeval({ (x: DLArray) in try dlgradient(sum(try norm(x, dims: [1])), x) },
                               try DLArray([0.0, 0, 3, 4], shape: [2, 2]))
        expectClose(rows.scalars(as: Double.self), [0, 0, 0.6, 0.8])
        let gc = try dlfeval({ (x: DLArray) in try dlgradient(try norm(x), x, allowComplex: true) },
                             DLArray([Complex(0.0, 0), Complex(0.0, 0)]))
        #expect(gc.scalars(as: Complex<Double>.self) == [Complex(0, 0), Complex(0, 0)])
        // Other p ≥ 1 too (an L1 penalty on zero weights must not give NaN).
        for p in [1.0, 1.5, 3, .infinity] {
            let gp = try dlfeval({ (x: DLArray) in try dlgradient(try norm(x, p: p), x) }, DLArray([0.0, 0, 0]))
            #expect(gp.scalars(as: Double.self) == [0, 0, 0], "p = \(p)")
            let gd = try dlfeval({ (x: DLArray) in try dlgradient(sum(try norm(x, p: p, dims: [1])), x) },
                                 try DLArray([0.0, 0, 3, -4], shape: [2, 2]))
            #expect(gd.scalars(as: Double.self)[0..<2] == [0, 0], "p = \(p)")
            #expect(gd.scalars(as: Double.self).allSatisfy { $0.isFinite }, "p = \(p)")
        }
        // The 1-norm's gradient is the sign, the 3-norm's sign(x)·(|x|/‖x‖)².
        let g1 = try dlfeval({ (x: DLArray) in try dlgradient(try norm(x, p: 1), x) }, DLArray([3.0, -4, 0]))
        #expect(g1.scalars(as: Double.self) == [1, -1, 0])
        let g3 = try dlfeval({ (x: DLArray) in try dlgradient(try norm(x, p: 3), x) }, DLArray([3.0, -4, 0]))
        let n3 = try norm(DLArray([3.0, -4, 0]), p: 3).scalar(as: Double.self)
        expectClose(g3.scalars(as: Double.self), [9 / (n3 * n3), -16 / (n3 * n3), 0])
        // Second order at zero is finite too.
        let second = try dlfeval({ (x: DLArray) in
            let g = try dlgradient(try norm(x), x, enableHigherDerivatives: true)
            return try dlgradient(sum(g * g), x)
        }, DLArray([0.0, 0]))
        let finite = second.scalars(as: Double.self).allSatisfy { $0.isFinite }
        #expect(finite)
    }

    // MARK: errors

    @Test func badDimensionsThrow() throws {
        let message = errorMessage(DLError.invalidArgument) { _ = try sum(m, dims: [2]) }
        #expect(message.contains("dimension 2") && message.contains("[2, 3]"), "\(message)")
        #expect(errorMessage(DLError.invalidArgument) { _ = try sum(m, dims: [-1]) }.contains("dimension -1"))
        #expect(errorMessage(DLError.invalidArgument) { _ = try mean(m, dims: [3]) }.contains("dimension 3"))
        #expect(errorMessage(DLError.invalidArgument) { _ = try prod(m, dim: 2) }.contains("dimension 2"))
        #expect(errorMessage(DLError.invalidArgument) { _ = try max(m, dim: 5) }.contains("dimension 5"))
        #expect(errorMessage(DLError.invalidArgument) { _ = try min(m, dim: -1) }.contains("dimension -1"))
        #expect(errorMessage(DLError.invalidArgument) { _ = try cumsum(m, dim: 2) }.contains("dimension 2"))
        #expect(errorMessage(DLError.invalidArgument) { _ = try cumprod(m, dim: 2) }.contains("dimension 2"))
        #expect(errorMessage(DLError.invalidArgument) { _ = try norm(m, dims: [2]) }.contains("dimension 2"))
        #expect(errorMessage(DLError.invalidArgument) { _ = try norm(m, p: .infinity, dims: [2]) }.contains("dimension 2"))
        #expect(errorMessage(DLError.invalidArgument) { _ = try norm(m, p: 0) }.contains("p"))
        #expect(errorMessage(DLError.invalidArgument) { _ = try max(DLArray.zeros([2, 0]), dim: 1) }.contains("dimension 1"))
        #expect(throws: DLError.self) { _ = try max(z, dim: 0) }
    }
}
