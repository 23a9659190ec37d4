import ComplexModule
import Testing
@testable import SwiftDL

@Suite struct DLArrayCreationTests {
    @Test func fromSwiftValues() throws {
        let a = try DLArray([1.0, 2, 3, 4, 5, 6], shape: [2, 3])
        #expect(a.shape == [2, 3] && a.rank == 2 && a.count == 6 && a.dataType == .float64)
        #expect(try DLArray(rows: [[1.0, 2, 3], [4, 5, 6]]).scalars(as: Double.self) == a.scalars(as: Double.self))
        #expect(DLArray([Float(1), 2]).dataType == .float32)
        #expect(DLArray([Complex<Float>(1, 2)]).dataType == .complex64)
        #expect(DLArray([true, false]).dataType == .bool)
        #expect(DLArray(3.5).shape == [] && DLArray(3.5).scalar(as: Double.self) == 3.5)
        #expect(DLArray(3).dataType == .float64)
    }

    @Test func wrongElementCountOrRowLengthsThrow() {
        expectError(containing: "5 elements", "[2, 3]") { _ = try DLArray([1.0, 2, 3, 4, 5], shape: [2, 3]) }
        expectError(containing: "different lengths") { _ = try DLArray(rows: [[1.0, 2], [3]]) }
    }

    @Test func filledArraysAndLikeOthers() {
        #expect(DLArray.zeros([2, 2]).scalars(as: Double.self) == [0, 0, 0, 0])
        #expect(DLArray.ones([3], type: .float32).scalars(as: Float.self) == [1, 1, 1])
        #expect(DLArray.full([2], value: 7, type: .complex128).scalars(as: Complex<Double>.self) == [Complex(7), Complex(7)])
        let like = DLArray.zeros([2, 3], type: .float32, labels: "BC")
        let ones = DLArray.ones(like: like)
        #expect(ones.shape == [2, 3] && ones.dataType == .float32 && ones.labels == "BC")
        #expect(DLArray.full(like: like, value: 2).scalars(as: Double.self) == [2, 2, 2, 2, 2, 2])
    }

    @Test func conversionsWhenReading() {
        let x = DLArray([1.5, -2])
        #expect(x.scalars(as: Float.self) == [1.5, -2])
        #expect(x.scalars(as: Complex<Double>.self) == [Complex(1.5), Complex(-2)])
        #expect(DLArray([true, false]).scalars(as: Double.self) == [1, 0])
        #expect(x.converted(to: .bool).scalars(as: Bool.self) == [true, true])
    }

    @Test func nonFiniteComplexValuesKeepTheirParts() {
        // swift-numerics maps every non-finite complex number to NaN parts; arrays must not.
        let z = DLArray([Complex<Double>(-0.5, .infinity), Complex<Double>(.nan, 2)])
        #expect(real(z).scalars(as: Double.self)[0] == -0.5)
        #expect(imag(z).scalars(as: Double.self)[0] == .infinity)
        #expect(imag(z).scalars(as: Double.self)[1] == 2)
        #expect(z.converted(to: .complex64).scalars(as: Complex<Double>.self)[0].storedParts.1 == .infinity)
        #expect(z.description.contains("Inf"))
    }

    @Test func seededRandomNumbersRepeatAndHaveTheRightDistribution() {
        let a = DLArray.rand([1000], seed: 42), b = DLArray.rand([1000], seed: 42)
        #expect(a.scalars(as: Double.self) == b.scalars(as: Double.self))
        #expect(a.scalars(as: Double.self) != DLArray.rand([1000], seed: 43).scalars(as: Double.self))
        #expect(a.scalars(as: Double.self).allSatisfy { $0 >= 0 && $0 < 1 })
        let normal = DLArray.randn([20000], seed: 7).scalars(as: Double.self)
        let mean = normal.reduce(0, +) / Double(normal.count)
        let variance = normal.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(normal.count)
        #expect(abs(mean) < 0.03 && abs(variance - 1) < 0.05)
        var generator = DLRandomGenerator(seed: 1)
        let c = DLArray.randn([2], using: &generator), d = DLArray.randn([2], using: &generator)
        #expect(c.scalars(as: Double.self) != d.scalars(as: Double.self))
    }

    /// `randn` shares Box–Muller's functions among the cores: its numbers are still the
    /// generator's `nextNormal()` one after another, to the bit, in float64 and float32 (rounded
    /// once), and the generator continues after them. In float32 they come from vector log and
    /// cos functions where the machine has them, with the numbers whose rounding those could
    /// change (about one in 30,000) computed again: a million numbers, of a count that leaves
    /// a few at the end of each core's share to the scalar path, meet about 30 of those.
    @Test(arguments: [[3, 5000], [1001, 1047]])
    func normalArraysAreTheGeneratorsNormalsInOrder(shape: [Int]) {
        for type in [DLDataType.float64, .float32] {
            var arrays = DLRandomGenerator(seed: 11), scalars = DLRandomGenerator(seed: 11)
            let values = DLArray.randn(shape, type: type, using: &arrays).scalars(as: Double.self)
            let differing = values.indices.first { index in
                let expected = scalars.nextNormal()
                return type == .float64 ? values[index].bitPattern != expected.bitPattern
                                        : Float(values[index]).bitPattern != Float(expected).bitPattern
            }
            #expect(differing == nil, "\(type): element \(differing ?? -1) differs")
            #expect(arrays.next() == scalars.next())
        }
    }

    @Test func copyOnWrite() {
        let original = DLArray([1.0, 2, 3])
        var copy = original
        copy[1] = DLArray(9.0)
        #expect(original.scalars(as: Double.self) == [1, 2, 3])
        #expect(copy.scalars(as: Double.self) == [1, 9, 3])
    }
}

@Suite struct DimensionLabelTests {
    @Test func labelsArePermutedIntoCanonicalOrder() throws {
        // 3 channels by 2 observations, labeled "CB": stored as 2x3 "BC", the data transposed.
        let x = try DLArray([1.0, 2, 3, 4, 5, 6], shape: [3, 2], labels: "CB")
        #expect(x.labels == "BC" && x.shape == [2, 3])
        #expect(x.scalars(as: Double.self) == [1, 3, 5, 2, 4, 6])
        let image = DLArray.zeros([28, 28, 1, 16], labels: "SSCB")
        #expect(image.labels == "BCSS" && image.shape == [16, 1, 28, 28])
        #expect(dims(image) == "BCSS")
        #expect(finddim(image, "S") == [2, 3] && finddim(image, "B") == [0] && finddim(image, "T") == [])
        #expect(stripdims(image).labels == "")
    }

    @Test func invalidLabelsThrow() {
        expectError(containing: "\"X\"") { _ = try DLArray.zeros([2]).labeled("X") }
        expectError(containing: "C appears more than once") { _ = try DLArray.zeros([2, 2]).labeled("CC") }
        expectError(containing: "2 dimensions", "has 3") { _ = try DLArray.zeros([2, 2, 2]).labeled("BC") }
    }

    @Test func labelsFollowElementwiseOperationsAndReductions() throws {
        let x = DLArray.ones([2, 3], labels: "BC")
        #expect(exp(x).labels == "BC")
        #expect(try (x + x).labels == "BC")
        #expect((x * 2).labels == "BC")
        #expect(try (x + DLArray.ones([2, 3])).labels == "BC")
        #expect(try sum(x, dims: [1]).labels == "BC")
        #expect(try reshape(x, [6]).labels == "")
        expectError(containing: "different dimension labels") { _ = try x + DLArray.ones([2, 3], labels: "TB") }
    }

    @Test func labelsAreKeptWhileTraced() throws {
        let g = try dlfeval({ x in try dlgradient(sum(tanh(x)), x) }, DLArray.ones([2, 3], labels: "BC"))
        #expect(g.labels == "BC")
    }
}

@Suite struct PrintingTests {
    @Test func matlabLikeOutput() throws {
        #expect(DLArray(104.0).description == "  1x1 dlarray\n\n   104\n\n")
        #expect(try DLArray(rows: [[1.5, -2], [3, 4]]).description
            == "  2x2 dlarray\n\n    1.5000   -2.0000\n    3.0000    4.0000\n\n")
        #expect(DLArray([true, false]).description == "  1x2 dlarray\n\n   1   0\n\n")
        #expect(DLArray.ones([1, 2], labels: "BC").description.hasPrefix("  1(B) x 2(C) dlarray"))
        #expect(DLArray([Double.nan, .infinity]).description.contains("NaN"))
        #expect(DLArray.zeros([2, 1, 2]).description.contains("[1, :, :] ="))
    }
}
