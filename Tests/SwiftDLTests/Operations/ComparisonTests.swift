import ComplexModule
import Foundation
import Testing
@testable import SwiftDL

private typealias Support = ElementwiseTestSupport

/// A comparison operator, for arrays and against a scalar, with its Swift reference.
struct ComparisonCase: Sendable, CustomTestStringConvertible {
    let name: String
    let arrays: @Sendable (DLArray, DLArray) throws -> DLArray
    let scalar: @Sendable (DLArray, Double) throws -> DLArray
    let reference: @Sendable (Double, Double) -> Bool
    var testDescription: String { name }

    static let ordering: [ComparisonCase] = [
        ComparisonCase(name: ".<", arrays: { try $0 .< $1 }, scalar: { try $0 .< $1 }, reference: { $0 < $1 }),
        ComparisonCase(name: ".<=", arrays: { try $0 .<= $1 }, scalar: { try $0 .<= $1 }, reference: { $0 <= $1 }),
        ComparisonCase(name: ".>", arrays: { try $0 .> $1 }, scalar: { try $0 .> $1 }, reference: { $0 > $1 }),
        ComparisonCase(name: ".>=", arrays: { try $0 .>= $1 }, scalar: { try $0 .>= $1 }, reference: { $0 >= $1 }),
    ]
    static let equality: [ComparisonCase] = [
        ComparisonCase(name: ".==", arrays: { try $0 .== $1 }, scalar: { try $0 .== $1 }, reference: { $0 == $1 }),
        ComparisonCase(name: ".!=", arrays: { try $0 .!= $1 }, scalar: { try $0 .!= $1 }, reference: { $0 != $1 }),
    ]
    static let all = ordering + equality
}

@Suite struct ComparisonTests {
    private let left = [1.0, 2.0, 3.0, -1.0, .nan, 0.0]          // shape [2, 3]
    private let right = [2.0, 2.0, -5.0]                          // shape [3]

    // MARK: Comparisons

    @Test(arguments: ComparisonCase.all)
    func comparesWithBroadcastingGivingBool(comparison: ComparisonCase) throws {
        let result = try comparison.arrays(DLArray(left, shape: [2, 3]), DLArray(right))
        #expect(result.dataType == .bool)
        #expect(result.shape == [2, 3])
        let expected = (0..<6).map { comparison.reference(left[$0], right[$0 % 3]) }
        #expect(result.scalars(as: Bool.self) == expected)

        let column = try comparison.arrays(DLArray([2.0, -1.0], shape: [2, 1]), DLArray(right))
        #expect(column.scalars(as: Bool.self) == [2.0, -1.0].flatMap { a in right.map { comparison.reference(a, $0) } })
    }

    @Test(arguments: ComparisonCase.all)
    func comparesWithAScalar(comparison: ComparisonCase) throws {
        let x = DLArray([1.0, 2.0, 3.0, .nan])
        #expect(try comparison.scalar(x, 2.0).scalars(as: Bool.self) == [1.0, 2.0, 3.0, .nan].map { comparison.reference($0, 2) })
        // Float32 against a double scalar compares in float32, as the array's own type.
        let single = DLArray([Float(0.1), Float(0.2)])
        #expect(try comparison.scalar(single, 0.1).scalars(as: Bool.self) == [0.1, 0.2].map {
            comparison.reference(Double(Float($0)), Double(Float(0.1)))
        })
    }

    @Test(arguments: ComparisonCase.all)
    func comparesMixedTypes(comparison: ComparisonCase) throws {
        let single = DLArray([Float(1), Float(2), Float(3)])
        let double = DLArray([2.0, 2.0, 2.0])
        let flags = DLArray([true, false, true])
        #expect(try comparison.arrays(single, double).scalars(as: Bool.self) == [1.0, 2, 3].map { comparison.reference($0, 2) })
        #expect(try comparison.arrays(flags, DLArray([0.5])).scalars(as: Bool.self) == [1.0, 0, 1].map { comparison.reference($0, 0.5) })
    }

    @Test(arguments: ComparisonCase.all)
    func comparisonsAreNotTraced(comparison: ComparisonCase) throws {
        try dlfeval({ (x: DLArray) throws in
            #expect(x.isTraced)
            #expect(try !comparison.arrays(x, x).isTraced)
            #expect(try !comparison.scalar(x, 0).isTraced)
        }, DLArray([1.0, -1.0]))
    }

    @Test(arguments: ComparisonCase.ordering)
    func orderingRejectsComplexInput(comparison: ComparisonCase) {
        let z = DLArray([Complex(1.0, 1.0)])
        Support.expectError(.unsupportedType, mentioning: [comparison.name, "complex128"]) {
            _ = try comparison.arrays(z, DLArray([1.0]))
        }
        Support.expectError(.unsupportedType, mentioning: [comparison.name]) {
            _ = try comparison.arrays(DLArray([1.0]), z)
        }
        Support.expectError(.unsupportedType, mentioning: [comparison.name, "complex64"]) {
            _ = try comparison.scalar(DLArray([Complex<Float>(1, 1)]), 1)
        }
    }

    @Test(arguments: ComparisonCase.all)
    func mismatchedShapesThrowNamingBothShapes(comparison: ComparisonCase) {
        Support.expectError(.shapeMismatch, mentioning: [comparison.name, "[2, 3]", "[2]"]) {
            _ = try comparison.arrays(DLArray.zeros([2, 3]), DLArray.zeros([2]))
        }
    }

    @Test func equalityOfComplexNumbersComparesBothParts() throws {
        let a = DLArray([Complex(1.0, 2.0), Complex(1.0, 2.0), Complex(.nan, 0), Complex(.infinity, 0), Complex(0.0, 0)])
        let b = DLArray([Complex(1.0, 2.0), Complex(1.0, -2.0), Complex(.nan, 0), Complex(0, .infinity), Complex(-0.0, 0)])
        // NaN is unequal to itself and ∞ differs from i∞, as IEEE says (swift-numerics' Complex
        // == treats all non-finite values as one point).
        #expect(try (a .== b).scalars(as: Bool.self) == [true, false, false, false, true])
        #expect(try (a .!= b).scalars(as: Bool.self) == [false, true, true, true, false])
        // A complex array equals a real one where the imaginary part is 0.
        #expect(try (DLArray([Complex(2.0, 0), Complex(2.0, 1)]) .== DLArray([2.0])).scalars(as: Bool.self) == [true, false])
        #expect(try (DLArray([Complex<Float>(2, 0)]) .== 2).scalars(as: Bool.self) == [true])
    }

    // MARK: Logical operators

    @Test func logicalOperatorsTreatNonzeroAsTrueAndBroadcast() throws {
        let a = try DLArray([true, true, false, false], shape: [2, 2])
        let b = DLArray([true, false])
        #expect(try (a .& b).scalars(as: Bool.self) == [true, false, false, false])
        #expect(try (a .| b).scalars(as: Bool.self) == [true, true, true, false])
        #expect(try (a .^ b).scalars(as: Bool.self) == [false, true, true, false])
        #expect((.!a).scalars(as: Bool.self) == [false, false, true, true])
        #expect((.!a).dataType == .bool && (.!a).shape == [2, 2])
        let numbers = DLArray([0.0, -2.5, .nan, 0.5])
        #expect(try (numbers .& DLArray([1.0])).scalars(as: Bool.self) == [false, true, true, true])
        #expect((.!DLArray([Complex(0.0, 0), Complex(0.0, 1)])).scalars(as: Bool.self) == [true, false])
        Support.expectError(.shapeMismatch, mentioning: [".&", "[2, 2]", "[3]"]) { _ = try a .& DLArray([true, true, true]) }
    }

    // MARK: select

    @Test func selectChoosesElementwiseWithBroadcasting() throws {
        let condition = try DLArray([true, false, true, false, false, true], shape: [2, 3])
        let a = DLArray([1.0, 2.0, 3.0]), b = try DLArray([-1.0, -2.0], shape: [2, 1])
        let chosen = try select(condition, a, b)
        Support.expectValues(chosen, [1, -1, 3, -2, -2, 3], shape: [2, 3])
        Support.expectValues(try select(condition, a, 0), [1, 0, 3, 0, 0, 3])
        Support.expectValues(try select(condition, 9, b), [9, -1, 9, -2, -2, 9])
        // Numeric conditions: nonzero is true.
        Support.expectValues(try select(DLArray([0.0, 2.0]), DLArray([1.0, 1.0]), DLArray([5.0, 5.0])), [5, 1])
        // The result has the promoted type of a and b.
        #expect(try select(condition, DLArray([Float(1)]), DLArray([Float(2)])).dataType == .float32)
        #expect(try select(condition, DLArray([Float(1)]), b).dataType == .float64)
        let z = try select(DLArray([true, false]), DLArray([Complex(1.0, 2.0)]), DLArray([3.0, 4.0]))
        Support.expectComplexValues(z, [Complex(1, 2), Complex(4, 0)])
    }

    @Test func selectGradientGoesToTheChosenSide() throws {
        let condition = DLArray([true, false, true])
        let (ga, gb) = try dlfeval({ (a: DLArray, b: DLArray) in
            try dlgradient(sum(select(condition, a, b) * DLArray([1.0, 2.0, 3.0])), a, b)
        }, DLArray([1.0, 1.0, 1.0]), DLArray([0.5]))
        Support.expectValues(ga, [1, 0, 3])
        Support.expectValues(gb, [2])                          // broadcast b collects its share
        let a = try DLArray([0.4, -1.2, 2.0, 0.7, 1.5, -0.3], shape: [2, 3])
        let b = DLArray([1.1, -0.6, 0.9])
        let mask = try DLArray([true, false, false, true, true, false], shape: [2, 3])
        try Support.expectGradcheck({ (v: [DLArray]) in try sin(select(mask, v[0], v[1])) }, at: [a, b])
        // The condition may travel in the container: bool arrays are held constant.
        try Support.expectGradcheck({ (v: [DLArray]) in try exp(select(v[0], v[1], v[2])) }, at: [mask, a, b])
        let z = DLArray([Complex(0.3, 0.2), Complex(-0.1, 0.8), Complex(1.0, -0.5)])
        try Support.expectGradcheck({ (v: [DLArray]) in try sin(select(DLArray([true, false, true]), v[0], v[1])) }, at: [z, b])
    }

    @Test func selectShapeErrorNamesAllThreeShapes() {
        Support.expectError(.shapeMismatch, mentioning: ["select", "[4]", "[2, 3]", "[3]"]) {
            _ = try select(DLArray.zeros([4], type: .bool), DLArray.zeros([2, 3]), DLArray.zeros([3]))
        }
        Support.expectError(.shapeMismatch, mentioning: ["[2]", "[3]"]) {
            _ = try select(DLArray.zeros([1], type: .bool), DLArray.zeros([2]), DLArray.zeros([3]))
        }
    }

    // MARK: maximum and minimum

    @Test func maximumAndMinimumBroadcastAndTakeScalars() throws {
        let a = try DLArray([1.0, 5.0, -2.0, 0.5, 3.0, 4.0], shape: [2, 3])
        let b = DLArray([2.0, 2.0, 2.0])
        Support.expectValues(try maximum(a, b), [2, 5, 2, 2, 3, 4], shape: [2, 3])
        Support.expectValues(try minimum(a, b), [1, 2, -2, 0.5, 2, 2], shape: [2, 3])
        Support.expectValues(try maximum(a, 1.0), [1, 5, 1, 1, 3, 4])
        Support.expectValues(try minimum(a, 1.0), [1, 1, -2, 0.5, 1, 1])
        let single = try maximum(DLArray([Float(1), Float(-3)]), 0)
        #expect(single.dataType == .float32)
        Support.expectValues(single, [1, 0])
        #expect(try maximum(DLArray([Float(1)]), DLArray([2.0])).dataType == .float64)
    }

    @Test func maximumAndMinimumPropagateNaNFromEitherSide() throws {
        let a = DLArray([1.0, .nan, .nan]), b = DLArray([.nan, 1.0, .nan])
        for result in [try maximum(a, b), try maximum(b, a), try minimum(a, b), try minimum(b, a)] {
            #expect(result.scalars(as: Double.self).allSatisfy { $0.isNaN })
        }
        #expect(try maximum(DLArray([Double.nan]), 0).scalars(as: Double.self)[0].isNaN)
    }

    @Test func maximumAndMinimumGradientsFollowTheWinnerAndSplitTies() throws {
        let a = DLArray([1.0, 3.0, 2.0]), b = DLArray([2.0, 1.0, 2.0])
        for larger in [true, false] {
            let (ga, gb) = try dlfeval({ (a: DLArray, b: DLArray) in
                try dlgradient(sum((larger ? maximum(a, b) : minimum(a, b)) * DLArray([1.0, 2.0, 4.0])), a, b)
            }, a, b)
            Support.expectValues(ga, larger ? [0, 2, 2] : [1, 0, 2])
            Support.expectValues(gb, larger ? [1, 0, 2] : [0, 2, 2])
        }
        // A tie with a broadcast scalar: half of each tied element's gradient goes to it.
        let x = DLArray([1.0, 2.0, 3.0])
        Support.expectValues(try Support.gradient(of: { try maximum($0, 2.0) }, at: x), [0, 0.5, 1])
        let scalarGradient = try dlfeval({ (s: DLArray) in try dlgradient(sum(maximum(x, s)), s) }, DLArray(2.0))
        Support.expectValues(scalarGradient, [1.5], shape: [])
    }

    @Test func maximumAndMinimumMatchFiniteDifferencesAwayFromTies() throws {
        let a = try DLArray([0.4, -1.2, 2.0, 0.7, 1.5, -0.3], shape: [2, 3])
        let b = DLArray([1.1, -0.6, 0.9])
        try Support.expectGradcheck({ (v: [DLArray]) in try sin(maximum(v[0], v[1])) }, at: [a, b])
        try Support.expectGradcheck({ (v: [DLArray]) in try sin(minimum(v[0], v[1])) }, at: [a, b])
        try Support.expectGradcheck({ (v: DLArray) in try exp(maximum(v, 0.5)) * v }, at: a, orders: 1...3)
        try Support.expectGradcheck({ (v: DLArray) in try exp(minimum(v, 0.5)) }, at: a)
    }

    @Test func maximumAndMinimumRejectComplexAndMismatchedShapes() {
        let z = DLArray([Complex(1.0, 1.0)])
        Support.expectError(.unsupportedType, mentioning: ["maximum", "complex128"]) { _ = try maximum(z, DLArray([1.0])) }
        Support.expectError(.unsupportedType, mentioning: ["minimum"]) { _ = try minimum(DLArray([1.0]), z) }
        Support.expectError(.unsupportedType, mentioning: ["maximum"]) { _ = try maximum(z, 0) }
        Support.expectError(.shapeMismatch, mentioning: ["minimum", "[2]", "[3]"]) {
            _ = try minimum(DLArray([1.0, 2.0]), DLArray([1.0, 2.0, 3.0]))
        }
    }
}
