import ComplexModule
import Testing
@testable import SwiftDL

fileprivate func square(_ x: DLArray) throws -> DLArray { try x * x }

@Suite struct IndexingTests {
    /// 0, 1, …, 23 as 2x3x4: element (i, j, k) is 12 i + 4 j + k.
    let cube = try! DLArray((0..<24).map(Double.init), shape: [2, 3, 4])
    let a = try! DLArray([0.7, -1.3, 0.4, 1.1, 0.9, -0.6], shape: [2, 3])
    let z = try! DLArray([Complex(0.3, -0.5), Complex(-1.1, 0.4), Complex(0.8, 0.9),
                          Complex(-0.2, -0.7), Complex(1.2, 0.1), Complex(0.5, 0.6)], shape: [2, 3])

    // MARK: reading

    @Test func positionsRemoveTheirDimension() throws {
        let first = cube[1]
        #expect(first.shape == [3, 4])
        #expect(first.scalars(as: Double.self) == (12..<24).map(Double.init))
        let row = cube[1, 2]
        #expect(row.shape == [4])
        #expect(row.scalars(as: Double.self) == [20, 21, 22, 23])
        let element = cube[1, 2, 3]
        #expect(element.shape == [])
        #expect(element.scalar(as: Double.self) == 23)
        let v = DLArray([5.0, 6, 7])
        #expect(v[1].shape == [])
        #expect(v[1].scalar(as: Double.self) == 6)
    }

    @Test func rangesAndEllipsis() throws {
        let front = cube[0..<1, ...]
        #expect(front.shape == [1, 3, 4])
        #expect(front.scalars(as: Double.self) == (0..<12).map(Double.init))
        let last = cube[..., 1]
        #expect(last.shape == [2, 3])
        #expect(last.scalars(as: Double.self) == [1, 5, 9, 13, 17, 21])
        let middle = cube[0, 1..<3, ...]
        #expect(middle.shape == [2, 4])
        #expect(middle.scalars(as: Double.self) == [4, 5, 6, 7, 8, 9, 10, 11])
        let lastTwo = cube[..., 1, 2]
        #expect(lastTwo.shape == [2])
        #expect(lastTwo.scalars(as: Double.self) == [6, 18])
        let closed = cube[1, 0...1, 2...]
        #expect(closed.shape == [2, 2])
        #expect(closed.scalars(as: Double.self) == [14, 15, 18, 19])
        let upTo = cube[..<1, ..<2, ...2]
        #expect(upTo.shape == [1, 2, 3])
        #expect(upTo.scalars(as: Double.self) == [0, 1, 2, 4, 5, 6])
        let strided = cube[1, 2, stride(from: 0, to: 4, by: 2)]
        #expect(strided.shape == [2])
        #expect(strided.scalars(as: Double.self) == [20, 22])
        let stepped = cube[..., DLIndex.range(lower: 0, upper: nil, step: 2), 3]
        #expect(stepped.shape == [2, 2])
        #expect(stepped.scalars(as: Double.self) == [3, 11, 15, 23])
        // Fewer items than dimensions: the rest are whole.
        #expect(cube[0..<2].shape == [2, 3, 4])
        #expect(cube[...].shape == [2, 3, 4])
        #expect(cube[0..<0, ...].shape == [0, 3, 4])
    }

    @Test func listsPickInAnyOrderWithRepeats() throws {
        let v = DLArray([10.0, 20, 30])
        #expect(v[[2, 0, 2]].scalars(as: Double.self) == [30, 10, 30])
        #expect(v[[2, 0, 2]].shape == [3])
        let rows = cube[[1, 0]]
        #expect(rows.shape == [2, 3, 4])
        #expect(rows.scalars(as: Double.self) == (12..<24).map(Double.init) + (0..<12).map(Double.init))
        // Lists on two dimensions pick each independently (MATLAB's x([1 0], [3 3])).
        let both = cube[0, [2, 0], [3, 3]]
        #expect(both.shape == [2, 2])
        #expect(both.scalars(as: Double.self) == [11, 11, 3, 3])
        let withRange = cube[..., [1], 1..<3]
        #expect(withRange.shape == [2, 1, 2])
        #expect(withRange.scalars(as: Double.self) == [5, 6, 17, 18])
    }

    @Test func labelsFollowTheKeptDimensions() throws {
        let labeled = try DLArray([1.0, 2, 3, 4, 5, 6], shape: [2, 3], labels: "BC")
        #expect(labeled[1].labels == "C")
        #expect(labeled[0..<1, ...].labels == "BC")
        #expect(labeled[..., 1].labels == "B")
        #expect(labeled[[1, 0]].labels == "BC")
    }

    @Test func readingGradients() throws {
        // The gradient of a read goes back to the positions read, accumulating over repeats.
        let v = DLArray([10.0, 20, 30])
        let g = try dlfeval({ (x: DLArray) in
            try dlgradient(sum(x[[2, 0, 2]] * DLArray([1.0, 2, 4])), x)
        }, v)
        #expect(g.scalars(as: Double.self) == [2, 0, 5])
        let gr = try dlfeval({ (x: DLArray) in try dlgradient(sum(x[..., 1]), x) }, cube)
        #expect(gr.scalars(as: Double.self) == (0..<24).map { $0 % 4 == 1 ? 1 : 0 })
        let gp = try dlfeval({ (x: DLArray) in try dlgradient(x[1, 2, 3] * x[0, 0, 1], x) }, cube)
        #expect(gp.scalars(as: Double.self) == (0..<24).map { $0 == 23 ? 1 : $0 == 1 ? 23 : 0 })

        let x3 = cube / 10 - 1
        try expectGradients({ (x: DLArray) in try square(x[1]) }, at: x3)
        try expectGradients({ (x: DLArray) in try square(x[0..<1, ...]) }, at: x3)
        try expectGradients({ (x: DLArray) in try square(x[..., 1]) * x[..., 2] }, at: x3)
        try expectGradients({ (x: DLArray) in try square(x[[2, 0, 2, 1], 1...]) }, at: try DLArray((0..<12).map { Double($0) / 5 - 1 }, shape: [3, 4]))
        try expectGradients({ (x: DLArray) in try square(x[..., DLIndex.range(lower: 1, upper: nil, step: 2), [3, 0, 3]]) }, at: x3)
        try expectGradients({ (x: DLArray) in try square(x[1]) * conj(x[0]) }, at: z)
        try expectGradients({ (x: DLArray) in try square(x[..., [2, 2, 0]]) }, at: z)
        try expectGradients({ (x: DLArray) in try square(x[0..<2, 1...]) }, at: z)
    }

    // MARK: assignment

    @Test func assignmentValuesAndValueSemantics() throws {
        let original = cube
        var y = cube
        y[0, ...] = DLArray.zeros([3, 4])
        #expect(y.scalars(as: Double.self) == [Double](repeating: 0, count: 12) + (12..<24).map(Double.init))
        // The original and earlier copies are unchanged.
        #expect(cube.scalars(as: Double.self) == (0..<24).map(Double.init))
        #expect(original.scalars(as: Double.self) == (0..<24).map(Double.init))
        // A scalar fills the selection; a row broadcasts over it.
        var s = cube
        s[1, 2, 3] = DLArray(-1.0)
        #expect(s.scalars(as: Double.self)[23] == -1)
        #expect(s.scalars(as: Double.self).filter { $0 == -1 }.count == 1)
        var b = cube
        b[0..<2, 1..<3] = DLArray([100.0, 200, 300, 400])
        let bv = b.scalars(as: Double.self)
        #expect(Array(bv[0..<12]) == [0, 1, 2, 3, 100, 200, 300, 400, 100, 200, 300, 400])
        #expect(Array(bv[12..<16]) == [12, 13, 14, 15])
        var t = cube
        t[..., 0] = try DLArray([-1.0, -2, -3, -4, -5, -6], shape: [2, 3])
        #expect(t.scalars(as: Double.self).enumerated().filter { $0.offset % 4 == 0 }.map(\.element) == [-1, -2, -3, -4, -5, -6])
        // Strided assignment.
        var st = DLArray([0.0, 0, 0, 0, 0])
        st[DLIndex.range(lower: 0, upper: nil, step: 2)] = DLArray([1.0, 2, 3])
        #expect(st.scalars(as: Double.self) == [1, 0, 2, 0, 3])
        // Values of another type are converted to the array's type.
        var f = DLArray.zeros([3], type: .float32)
        f[1] = DLArray(2.5)
        #expect(f.dataType == .float32)
        #expect(f.scalars(as: Double.self) == [0, 2.5, 0])
        var c = z
        c[0, 0] = DLArray(Complex(9.0, -9))
        #expect(c.scalars(as: Complex<Double>.self)[0] == Complex(9, -9))
        #expect(z.scalars(as: Complex<Double>.self)[0] == Complex(0.3, -0.5))
        // Values may keep the dropped dimension, or carry extra leading sizes of 1.
        var kept = try DLArray([1.0, 2, 3, 4, 5, 6], shape: [2, 3])
        kept[1, ...] = try DLArray([7.0, 8, 9], shape: [1, 3])
        #expect(kept.scalars(as: Double.self) == [1, 2, 3, 7, 8, 9])
        kept[..., 0] = try DLArray([-1.0, -2], shape: [1, 1, 2])
        #expect(kept.scalars(as: Double.self) == [-1, 2, 3, -2, 8, 9])
        kept[0..<1, ...] = DLArray([0.5, 0.25, 0.125])
        #expect(kept.scalars(as: Double.self) == [0.5, 0.25, 0.125, -2, 8, 9])
        // Labels stay.
        var labeled = try DLArray([1.0, 2, 3, 4, 5, 6], shape: [2, 3], labels: "BC")
        labeled[0, 1] = DLArray(0.0)
        #expect(labeled.labels == "BC")
        #expect(labeled.scalars(as: Double.self) == [1, 0, 3, 4, 5, 6])
    }

    @Test func copyOnWrite() throws {
        let x = DLArray([1.0, 2, 3])
        var copy = x
        copy[0] = DLArray(10.0)
        #expect(x.scalars(as: Double.self) == [1, 2, 3])
        #expect(copy.scalars(as: Double.self) == [10, 2, 3])
        var second = copy
        second[2] = DLArray(30.0)
        #expect(copy.scalars(as: Double.self) == [10, 2, 3])
        #expect(second.scalars(as: Double.self) == [10, 2, 30])
        // Repeated writes to one unshared array.
        var counter = DLArray.zeros([5])
        for i in 0..<5 { counter[i] = DLArray(Double(i * i)) }
        #expect(counter.scalars(as: Double.self) == [0, 1, 4, 9, 16])
        // Arrays that share storage through reshape, slices of the whole and permutations.
        let base = try DLArray([1.0, 2, 3, 4], shape: [2, 2])
        let flat = try reshape(base, [4])
        var whole = base[0..<2, 0..<2]
        whole[0, 0] = DLArray(-1.0)
        var viaFlat = flat
        viaFlat[3] = DLArray(-4.0)
        #expect(base.scalars(as: Double.self) == [1, 2, 3, 4])
        #expect(flat.scalars(as: Double.self) == [1, 2, 3, 4])
        #expect(whole.scalars(as: Double.self) == [-1, 2, 3, 4])
        #expect(viaFlat.scalars(as: Double.self) == [1, 2, 3, -4])
    }

    @Test func tracedAssignmentIsDifferentiableInBoth() throws {
        let x0 = try DLArray([1.0, 2, 3, 4, 5, 6], shape: [2, 3])
        let v0 = DLArray([7.0, 8])
        let (value, gx, gv, unchanged) = try dlfeval({ (x: DLArray, v: DLArray) in
            var y = x
            y[..., 1] = v
            let loss = try sum(y * y * DLArray([1.0, 2, 3]))
            let (gx, gv) = try dlgradient(loss, x, v)
            return (y, gx, gv, x)
        }, x0, v0)
        #expect(value.scalars(as: Double.self) == [1, 7, 3, 4, 8, 6])
        // d/dx: 2 x w outside the assigned column, 0 inside; d/dv: 2 v · 2.
        #expect(gx.scalars(as: Double.self) == [2, 0, 18, 8, 0, 36])
        #expect(gv.scalars(as: Double.self) == [28, 32])
        #expect(unchanged.scalars(as: Double.self) == [1, 2, 3, 4, 5, 6])
        #expect(x0.scalars(as: Double.self) == [1, 2, 3, 4, 5, 6])

        // A broadcast scalar value collects the gradient of every element it fills.
        let gs = try dlfeval({ (x: DLArray, s: DLArray) in
            var y = x
            y[0, ...] = s
            return try dlgradient(sum(y * DLArray([1.0, 2, 3])), s)
        }, x0, DLArray(0.5))
        #expect(gs.shape == [])
        #expect(gs.scalar(as: Double.self) == 6)

        // Values of another type get their gradient in their own type.
        let (gx32, gv32) = try dlfeval({ (x: DLArray, v: DLArray) in
            var y = x
            y[0, 0..<2] = v
            return try dlgradient(sum(y * y), x, v)
        }, x0, DLArray([Float(0.5), Float(-1)]))
        #expect(gx32.dataType == .float64)
        #expect(gx32.scalars(as: Double.self) == [0, 0, 6, 8, 10, 12])
        #expect(gv32.dataType == .float32)
        #expect(gv32.scalars(as: Double.self) == [1, -2])

        // Only the values traced: the array is a constant.
        let gvOnly = try dlfeval({ (v: DLArray) in
            var y = x0
            y[1, 0..<2] = v
            return try dlgradient(sum(y * y), v)
        }, v0)
        #expect(gvOnly.scalars(as: Double.self) == [14, 16])
    }

    @Test func assignmentGradients() throws {
        let x3 = cube / 10 - 1
        let values = try DLArray([0.3, -0.2, 0.9, 1.4, -0.8, 0.5], shape: [2, 3])
        let assignColumn = { (xs: [DLArray]) throws -> DLArray in
            var y = xs[0]
            y[..., 1] = xs[1]
            return try square(y) * xs[1].reshaped([2, 3, 1])
        }
        try expectGradients(assignColumn, at: [x3, values], orders: 1...3)
        let assignBlock = { (xs: [DLArray]) throws -> DLArray in
            var y = try square(xs[0])
            y[1, 0..<2, ...] = xs[1]
            y[0, 2, DLIndex.range(lower: 0, upper: nil, step: 2)] = xs[1][0..<2] * 2
            return try square(y)
        }
        try expectGradients(assignBlock, at: [x3, DLArray([0.5, -0.25, 0.75, 1.5])], orders: 1...2)
        let assignComplex = { (xs: [DLArray]) throws -> DLArray in
            var y = xs[0]
            y[1, ...] = xs[1]
            return try square(y) * conj(y)
        }
        try expectGradients(assignComplex, at: [z, DLArray.randn([3], type: .complex128, seed: 11)], orders: 1...3)
        // A real value assigned into a complex array.
        let realIntoComplex = { (xs: [DLArray]) throws -> DLArray in
            var y = xs[0]
            y[0, 1...] = xs[1]
            return try square(y)
        }
        try expectGradients(realIntoComplex, at: [z, DLArray([0.4, -1.5])])
    }

    // MARK: gather and scatterAdd

    @Test func gatherValues() throws {
        let m = try DLArray([1.0, 2, 3, 4, 5, 6], shape: [2, 3])
        let columns = try gather(m, dim: 1, indices: try DLArray([2.0, 0, 1, 1], shape: [2, 2]))
        #expect(columns.shape == [2, 2])
        #expect(columns.scalars(as: Double.self) == [3, 1, 5, 5])
        let rows = try gather(m, dim: 0, indices: try DLArray([1.0, 0, 1], shape: [1, 3]))
        #expect(rows.shape == [1, 3])
        #expect(rows.scalars(as: Double.self) == [4, 2, 6])
        let c = try gather(z, dim: 1, indices: try DLArray([0.0, 0, 2, 1], shape: [2, 2]))
        #expect(c.scalars(as: Complex<Double>.self) == [Complex(0.3, -0.5), Complex(0.3, -0.5), Complex(0.5, 0.6), Complex(1.2, 0.1)])
        let single = try gather(m.converted(to: .float32), dim: 1, indices: try DLArray([1.0, 2], shape: [2, 1]))
        #expect(single.dataType == .float32)
        #expect(single.scalars(as: Double.self) == [2, 6])
    }

    @Test func gatherErrors() throws {
        let m = try DLArray([1.0, 2, 3, 4, 5, 6], shape: [2, 3])
        let range = errorMessage(DLError.invalidArgument) { _ = try gather(m, dim: 1, indices: try DLArray([3.0, 0], shape: [2, 1])) }
        #expect(range.contains("3") && range.contains("dimension 1"), "\(range)")
        #expect(errorMessage(DLError.invalidArgument) { _ = try gather(m, dim: 1, indices: try DLArray([-1.0, 0], shape: [2, 1])) }.contains("-1"))
        let shape = errorMessage(DLError.shapeMismatch) { _ = try gather(m, dim: 1, indices: try DLArray([0.0, 0, 0], shape: [3, 1])) }
        #expect(shape.contains("[3, 1]") && shape.contains("[2, 3]"), "\(shape)")
        let rank = errorMessage(DLError.shapeMismatch) { _ = try gather(m, dim: 1, indices: DLArray([0.0, 1])) }
        #expect(rank.contains("[2]") && rank.contains("[2, 3]"), "\(rank)")
        #expect(errorMessage(DLError.invalidArgument) { _ = try gather(m, dim: 2, indices: m) }.contains("dimension 2"))
        #expect(errorMessage(DLError.invalidArgument) { _ = try gather(m, dim: 1, indices: try DLArray([0.5, 1], shape: [2, 1])) }.contains("0.5"))
        #expect(errorMessage(DLError.invalidArgument) { _ = try gather(m, dim: 1, indices: try DLArray([.nan, 1], shape: [2, 1])) }.contains("nan"))
        #expect(throws: DLError.self) { _ = try m.slice(dim: 1, range: 2..<4) }
    }

    @Test func gatherAndScatterAddGradients() throws {
        let indices = try DLArray([2.0, 0, 2, 1, 1, 1], shape: [2, 3])
        let g = try dlfeval({ (x: DLArray) in
            try dlgradient(sum(try gather(x, dim: 1, indices: indices) * DLArray([1.0, 10, 100])), x)
        }, a)
        // Row 0 reads 2, 0, 2; row 1 reads 1 three times.
        #expect(g.scalars(as: Double.self) == [10, 0, 101, 0, 111, 0])
        // Cubed, so that the third derivative is not a constant.
        try expectGradients({ (x: DLArray) in let y = try gather(x, dim: 1, indices: indices); return try y * y * y }, at: a, orders: 1...3)
        try expectGradients({ (x: DLArray) in try square(gather(x, dim: 0, indices: try DLArray([1.0, 1, 0], shape: [1, 3]))) }, at: a)
        try expectGradients({ (x: DLArray) in try square(gather(x, dim: 1, indices: indices)) }, at: z)

        let positions = [1, 1, 0, 2, 2, 2]
        let added = try scatterAdd(try DLArray([1.0, 2, 3, 4, 5, 6]).reshaped([1, 6]), dim: 1, indices: positions, shape: [1, 3])
        #expect(added.scalars(as: Double.self) == [3, 3, 15])
        try expectGradients({ (x: DLArray) in
            try square(scatterAdd(x, dim: 1, indices: [0, 2, 0, 1, 1, 1], shape: [2, 3]))
        }, at: a)
        try expectGradients({ (x: DLArray) in
            try square(scatterAdd(x, dim: 1, indices: [0, 2, 0, 1, 1, 1], shape: [2, 3]))
        }, at: z)
    }
}
