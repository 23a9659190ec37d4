import ComplexModule
import Testing
@testable import SwiftDL

/// A nonlinear function of an array, real or complex, so that second derivatives of the
/// operation before it are exercised.
fileprivate func square(_ x: DLArray) throws -> DLArray { try x * x }

@Suite struct ShapeTests {
    /// [[1, 2, 3], [4, 5, 6]]
    let m = try! DLArray([1.0, 2, 3, 4, 5, 6], shape: [2, 3])
    /// 0, 1, …, 23 as 2x3x4: element (i, j, k) is 12 i + 4 j + k.
    let cube = try! DLArray((0..<24).map(Double.init), shape: [2, 3, 4])
    let a = try! DLArray([0.7, -1.3, 0.4, 1.1, 0.9, -0.6], shape: [2, 3])
    let z = try! DLArray([Complex(0.3, -0.5), Complex(-1.1, 0.4), Complex(0.8, 0.9),
                          Complex(-0.2, -0.7), Complex(1.2, 0.1), Complex(0.5, 0.6)], shape: [2, 3])
    /// A complex 2x3x2 array.
    var w: DLArray { DLArray.randn([2, 3, 2], type: .complex128, seed: 7) }

    // MARK: reshape, squeeze, expandDims

    @Test func reshapeValues() throws {
        let r = try reshape(m, [3, 2])
        #expect(r.shape == [3, 2])
        #expect(r.scalars(as: Double.self) == [1, 2, 3, 4, 5, 6])
        #expect(try reshape(m, [-1]).shape == [6])
        #expect(try reshape(m, [3, -1]).shape == [3, 2])
        #expect(try reshape(cube, [2, -1, 3]).shape == [2, 4, 3])
        #expect(try reshape(DLArray([5.0]), []).shape == [])
        #expect(try reshape(z, [6]).dataType == .complex128)
        // Labels are dropped.
        let labeled = try DLArray([1.0, 2, 3, 4, 5, 6], shape: [2, 3], labels: "BC")
        #expect(try reshape(labeled, [2, 3]).labels == "")
        #expect(try reshape(labeled, [6]).labels == "")
    }

    @Test func reshapeErrorsNameTheShapes() throws {
        let message = errorMessage(DLError.shapeMismatch) { _ = try reshape(m, [4, 2]) }
        #expect(message.contains("[2, 3]") && message.contains("[4, 2]"), "\(message)")
        #expect(errorMessage(DLError.shapeMismatch) { _ = try reshape(m, [4, -1]) }.contains("[4, -1]"))
        #expect(errorMessage(DLError.shapeMismatch) { _ = try reshape(m, [-1, -1]) }.contains("[-1, -1]"))
        #expect(errorMessage(DLError.shapeMismatch) { _ = try reshape(m, [-2, -3]) }.contains("[-2, -3]"))
    }

    @Test func squeezeAndExpandDims() throws {
        let x = try DLArray([1.0, 2, 3], shape: [1, 3, 1])
        #expect(try squeeze(x).shape == [3])
        #expect(try squeeze(x, dims: [0]).shape == [3, 1])
        #expect(try squeeze(x, dims: [2]).scalars(as: Double.self) == [1, 2, 3])
        #expect(try expandDims(m, 0).shape == [1, 2, 3])
        #expect(try expandDims(m, 1).shape == [2, 1, 3])
        #expect(try expandDims(m, 2).shape == [2, 3, 1])
        #expect(try expandDims(m, 2).scalars(as: Double.self) == m.scalars(as: Double.self))
        let labeled = try DLArray([1.0, 2, 3], shape: [1, 3], labels: "BC")
        #expect(try squeeze(labeled).labels == "C")
        let message = errorMessage(DLError.invalidArgument) { _ = try squeeze(x, dims: [1]) }
        #expect(message.contains("dimension 1") && message.contains("[1, 3, 1]"), "\(message)")
        #expect(errorMessage(DLError.invalidArgument) { _ = try squeeze(x, dims: [3]) }.contains("dimension 3"))
        #expect(errorMessage(DLError.invalidArgument) { _ = try expandDims(m, 3) }.contains("3"))
        #expect(errorMessage(DLError.invalidArgument) { _ = try expandDims(m, -1) }.contains("-1"))
    }

    // MARK: permute and transposes

    @Test func permuteValues() throws {
        let p = try permute(cube, [2, 0, 1])
        #expect(p.shape == [4, 2, 3])
        let values = p.scalars(as: Double.self)
        for k in 0..<4 {
            for i in 0..<2 {
                for j in 0..<3 {
                    #expect(values[(k * 2 + i) * 3 + j] == Double(12 * i + 4 * j + k))
                }
            }
        }
        #expect(try permute(cube, [0, 1, 2]).scalars(as: Double.self) == cube.scalars(as: Double.self))
        let back = try permute(p, [1, 2, 0])
        #expect(back.scalars(as: Double.self) == cube.scalars(as: Double.self))
        // Labels follow their dimensions while they stay in canonical order.
        let labeled = DLArray.zeros([2, 3, 4], labels: "BSS")
        #expect(try permute(labeled, [0, 2, 1]).labels == "BSS")
        #expect(try permute(labeled, [1, 0, 2]).labels == "")
        let message = errorMessage(DLError.invalidArgument) { _ = try permute(cube, [0, 0, 1]) }
        #expect(message.contains("[0, 0, 1]") && message.contains("[2, 3, 4]"), "\(message)")
        #expect(errorMessage(DLError.invalidArgument) { _ = try permute(cube, [1, 0]) }.contains("[2, 3, 4]"))
    }

    @Test func largePermuteMatchesLoop() throws {
        // Large enough to be split across threads.
        let x = DLArray.randn([40, 50, 30], seed: 5)
        let p = try permute(x, [2, 0, 1])
        #expect(p.shape == [30, 40, 50])
        let v = x.scalars(as: Double.self), pv = p.scalars(as: Double.self)
        var mismatches = 0
        for i in 0..<40 {
            for j in 0..<50 {
                for k in 0..<30 where pv[(k * 40 + i) * 50 + j] != v[(i * 50 + j) * 30 + k] { mismatches += 1 }
            }
        }
        #expect(mismatches == 0)
        let t = try transpose(DLArray.randn([2000, 50], seed: 6))
        #expect(t.shape == [50, 2000])
        let tv = t.scalars(as: Double.self), source = DLArray.randn([2000, 50], seed: 6).scalars(as: Double.self)
        var transposeMismatches = 0
        for i in 0..<2000 {
            for j in 0..<50 where tv[j * 2000 + i] != source[i * 50 + j] { transposeMismatches += 1 }
        }
        #expect(transposeMismatches == 0)
    }

    @Test func transposeValues() throws {
        let t = try transpose(m)
        #expect(t.shape == [3, 2])
        #expect(t.scalars(as: Double.self) == [1, 4, 2, 5, 3, 6])
        let pages = try transpose(cube)
        #expect(pages.shape == [2, 4, 3])
        #expect(Array(pages.scalars(as: Double.self)[0..<6]) == [0, 4, 8, 1, 5, 9])
        let c = try DLArray([Complex(1.0, 2), Complex(3.0, -4), Complex(0.0, 1), Complex(5.0, 0)], shape: [2, 2])
        #expect(try transpose(c).scalars(as: Complex<Double>.self)
                == [Complex(1, 2), Complex(0, 1), Complex(3, -4), Complex(5, 0)])
        #expect(try ctranspose(c).scalars(as: Complex<Double>.self)
                == [Complex(1, -2), Complex(0, -1), Complex(3, 4), Complex(5, 0)])
        #expect(try ctranspose(m).scalars(as: Double.self) == [1, 4, 2, 5, 3, 6])
        let message = errorMessage(DLError.invalidArgument) { _ = try transpose(DLArray([1.0, 2])) }
        #expect(message.contains("[2]"), "\(message)")
        #expect(throws: DLError.self) { _ = try ctranspose(DLArray(1.0)) }
    }

    // MARK: repmat

    @Test func repmatValues() throws {
        let x = try DLArray([1.0, 2, 3, 4], shape: [2, 2])
        let r = try repmat(x, [2, 3])
        #expect(r.shape == [4, 6])
        #expect(r.scalars(as: Double.self) == [1, 2, 1, 2, 1, 2,
                                               3, 4, 3, 4, 3, 4,
                                               1, 2, 1, 2, 1, 2,
                                               3, 4, 3, 4, 3, 4])
        // An extra count adds a leading dimension; a missing one is 1.
        let lead = try repmat(x, [2, 1, 1])
        #expect(lead.shape == [2, 2, 2])
        #expect(lead.scalars(as: Double.self) == [1, 2, 3, 4, 1, 2, 3, 4])
        #expect(try repmat(x, [2]).shape == [2, 4])
        #expect(try repmat(x, [2]).scalars(as: Double.self) == [1, 2, 1, 2, 3, 4, 3, 4])
        #expect(try repmat(x, [0, 1]).shape == [0, 2])
        #expect(errorMessage(DLError.invalidArgument) { _ = try repmat(x, [-1, 2]) }.contains("[-1, 2]"))
        // Gradient: each element collects the gradient of each copy.
        let g = try dlfeval({ (x: DLArray) in
            try dlgradient(sum(try repmat(x, [2, 3]) * DLArray((0..<24).map(Double.init), shape: [4, 6])), x)
        }, x)
        // Element (0, 0) appears at rows 0, 2 and columns 0, 2, 4 of the 4x6 tiling.
        // 0 + 2 + 4 + 12 + 14 + 16, 1 + 3 + 5 + 13 + 15 + 17, 6 + 8 + 10 + 18 + 20 + 22, 7 + 9 + 11 + 19 + 21 + 23
        let expected: [Double] = [48, 54, 84, 90]
        #expect(g.scalars(as: Double.self) == expected)
    }

    // MARK: cat, split, flip

    @Test func catValues() throws {
        let b = try DLArray([7.0, 8, 9], shape: [1, 3])
        let rows = try cat([m, b], dim: 0)
        #expect(rows.shape == [3, 3])
        #expect(rows.scalars(as: Double.self) == [1, 2, 3, 4, 5, 6, 7, 8, 9])
        let c = try DLArray([7.0, 8], shape: [2, 1])
        let columns = try cat([m, c, m], dim: 1)
        #expect(columns.shape == [2, 7])
        #expect(columns.scalars(as: Double.self) == [1, 2, 3, 7, 1, 2, 3, 4, 5, 6, 8, 4, 5, 6])
        let middle = try cat([cube, cube], dim: 1)
        #expect(middle.shape == [2, 6, 4])
        let mv = middle.scalars(as: Double.self)
        let firstPage: [Double] = (0..<12).map(Double.init)
        #expect(Array(mv[0..<24]) == firstPage + firstPage)
        // Types promote; equally labeled arrays keep their labels, others lose them.
        #expect(try cat([m.converted(to: .float32), b], dim: 0).dataType == .float64)
        #expect(try cat([m, z], dim: 0).dataType == .complex128)
        let l1 = try DLArray([1.0, 2, 3, 4, 5, 6], shape: [2, 3], labels: "BC")
        let l2 = try DLArray([7.0, 8, 9], shape: [1, 3], labels: "BC")
        #expect(try cat([l1, l2], dim: 0).labels == "BC")
        #expect(try cat([l1, b], dim: 0).labels == "")
        // An empty piece is fine.
        #expect(try cat([m, DLArray.zeros([0, 3])], dim: 0).scalars(as: Double.self) == m.scalars(as: Double.self))
    }

    @Test func catErrorsNameTheShapes() throws {
        let message = errorMessage(DLError.shapeMismatch) { _ = try cat([m, DLArray.zeros([2, 2])], dim: 0) }
        #expect(message.contains("[2, 3]") && message.contains("[2, 2]") && message.contains("dimension 0"), "\(message)")
        let ranks = errorMessage(DLError.shapeMismatch) { _ = try cat([m, cube], dim: 0) }
        #expect(ranks.contains("[2, 3]") && ranks.contains("[2, 3, 4]"), "\(ranks)")
        #expect(errorMessage(DLError.invalidArgument) { _ = try cat([m, m], dim: 2) }.contains("dimension 2"))
        #expect(errorMessage(DLError.invalidArgument) { _ = try cat([], dim: 0) }.contains("cat"))
    }

    @Test func splitValues() throws {
        let pieces = try split(cube, sizes: [1, 2], dim: 1)
        #expect(pieces.count == 2)
        #expect(pieces[0].shape == [2, 1, 4])
        #expect(pieces[1].shape == [2, 2, 4])
        #expect(pieces[0].scalars(as: Double.self) == [0, 1, 2, 3, 12, 13, 14, 15])
        #expect(Array(pieces[1].scalars(as: Double.self)[0..<8]) == [4, 5, 6, 7, 8, 9, 10, 11])
        #expect(try cat(pieces, dim: 1).scalars(as: Double.self) == cube.scalars(as: Double.self))
        let message = errorMessage(DLError.shapeMismatch) { _ = try split(cube, sizes: [1, 1], dim: 1) }
        #expect(message.contains("[1, 1]") && message.contains("dimension 1"), "\(message)")
        #expect(errorMessage(DLError.invalidArgument) { _ = try split(cube, sizes: [2], dim: 3) }.contains("dimension 3"))
    }

    @Test func flipValues() throws {
        #expect(try flip(m, dims: [1]).scalars(as: Double.self) == [3, 2, 1, 6, 5, 4])
        #expect(try flip(m, dims: [0]).scalars(as: Double.self) == [4, 5, 6, 1, 2, 3])
        #expect(try flip(m, dims: [0, 1]).scalars(as: Double.self) == [6, 5, 4, 3, 2, 1])
        let f = try flip(cube, dims: [1])
        #expect(Array(f.scalars(as: Double.self)[0..<12]) == [8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3])
        let labeled = try DLArray([1.0, 2, 3, 4, 5, 6], shape: [2, 3], labels: "BC")
        #expect(try flip(labeled, dims: [1]).labels == "BC")
        #expect(try flip(z, dims: [1]).scalars(as: Complex<Double>.self)[0] == Complex(0.8, 0.9))
        #expect(errorMessage(DLError.invalidArgument) { _ = try flip(m, dims: [2]) }.contains("dimension 2"))
    }

    // MARK: gradients

    @Test func realGradients() throws {
        try expectGradients({ (x: DLArray) in try square(reshape(x, [3, 2])) * DLArray([1.0, 2]) }, at: a)
        try expectGradients({ (x: DLArray) in try square(permute(x, [2, 0, 1])) }, at: cube / 9 - 1)
        try expectGradients({ (x: DLArray) in try square(transpose(x)) }, at: a)
        try expectGradients({ (x: DLArray) in try square(ctranspose(x)) }, at: a)
        try expectGradients({ (x: DLArray) in try square(squeeze(expandDims(x, 1))) }, at: a)
        try expectGradients({ (x: DLArray) in try square(repmat(x, [2, 1, 3])) }, at: a)
        try expectGradients({ (x: DLArray) in try square(flip(x, dims: [0, 1])) }, at: a)
        try expectGradients({ (xs: [DLArray]) in try square(cat([xs[0], xs[1], xs[0]], dim: 1)) },
                            at: [a, try DLArray([0.2, -0.5], shape: [2, 1])])
        try expectGradients({ (x: DLArray) in
            let pieces = try split(x, sizes: [2, 0, 1], dim: 1)
            return try sum(square(pieces[0])) * sum(pieces[2]) + sum(pieces[1])
        }, at: a)
    }

    @Test func complexGradients() throws {
        try expectGradients({ (x: DLArray) in try square(reshape(x, [3, 2])) }, at: z)
        try expectGradients({ (x: DLArray) in try square(permute(x, [2, 0, 1])) * conj(permute(x, [2, 0, 1])) }, at: w)
        try expectGradients({ (x: DLArray) in try square(transpose(x)) }, at: z)
        try expectGradients({ (x: DLArray) in try square(ctranspose(x)) }, at: z)
        try expectGradients({ (x: DLArray) in try square(ctranspose(x)) }, at: w)
        try expectGradients({ (x: DLArray) in try square(repmat(x, [2, 2])) }, at: z)
        try expectGradients({ (x: DLArray) in try square(flip(x, dims: [1])) }, at: w)
        try expectGradients({ (xs: [DLArray]) in try square(cat([xs[0], xs[1]], dim: 0)) },
                            at: [z, DLArray.randn([1, 3], type: .complex128, seed: 3)])
        try expectGradients({ (x: DLArray) in
            let pieces = try split(x, sizes: [1, 2], dim: 1)
            return try sum(square(pieces[0])) * sum(pieces[1])
        }, at: z)
        // The ctranspose gradient by hand: y = Re(Σ w ⊙ xᴴ) = Re Σ w_ji conj(x_ij) gives w_ji back, unconjugated.
        let c = try DLArray([Complex(1.0, 2), Complex(3.0, -4)], shape: [1, 2])
        let weights = try DLArray([Complex(0.5, 1), Complex(2.0, -1)], shape: [2, 1])
        let g = try dlfeval({ (x: DLArray) in
            try dlgradient(real(sum(try ctranspose(x) * weights)), x, allowComplex: true)
        }, c)
        #expect(g.scalars(as: Complex<Double>.self) == [Complex(0.5, 1), Complex(2, -1)])
    }

    @Test func mixedTypeCatGradientsKeepTheirTypes() throws {
        let (ga, gb) = try dlfeval({ (p: DLArray, q: DLArray) in
            try dlgradient(sum(try cat([p, q], dim: 0) * DLArray([1.0, 2, 3])), p, q)
        }, DLArray([Float(1)]), DLArray([2.0, 3]))
        #expect(ga.dataType == .float32)
        #expect(ga.scalars(as: Double.self) == [1])
        #expect(gb.dataType == .float64)
        #expect(gb.scalars(as: Double.self) == [2, 3])
    }
}
