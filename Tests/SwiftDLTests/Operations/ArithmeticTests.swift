import ComplexModule
import Foundation
import Testing
@testable import SwiftDL

/// Assertions shared by the elementwise operation tests (Arithmetic, ElementaryFunction,
/// Complex and Comparison tests).
enum ElementwiseTestSupport {
    /// Whether `actual` is within `tolerance` of `expected`, relative to max(1, |expected|);
    /// NaN matches NaN and infinities must match exactly.
    static func isClose(_ actual: Double, _ expected: Double, tolerance: Double) -> Bool {
        if expected.isNaN { return actual.isNaN }
        if expected.isInfinite { return actual == expected }
        return Swift.abs(actual - expected) <= tolerance * Swift.max(1, Swift.abs(expected))
    }

    /// Checks the shape and the elements of a real (or bool) array.
    static func expectValues(_ array: DLArray, _ expected: [Double], shape: [Int]? = nil,
                             tolerance: Double = 1e-12, sourceLocation: SourceLocation = #_sourceLocation) {
        if let shape { #expect(array.shape == shape, sourceLocation: sourceLocation) }
        let actual = array.scalars(as: Double.self)
        #expect(actual.count == expected.count, "count \(actual.count), expected \(expected.count)",
                sourceLocation: sourceLocation)
        for (k, (a, e)) in zip(actual, expected).enumerated() {
            #expect(isClose(a, e, tolerance: tolerance), "element \(k): \(a), expected \(e)",
                    sourceLocation: sourceLocation)
        }
    }

    /// Checks the shape and the elements of a complex array.
    static func expectComplexValues(_ array: DLArray, _ expected: [Complex<Double>], shape: [Int]? = nil,
                             tolerance: Double = 1e-12, sourceLocation: SourceLocation = #_sourceLocation) {
        if let shape { #expect(array.shape == shape, sourceLocation: sourceLocation) }
        #expect(array.dataType.isComplex, "\(array.dataType) is not complex", sourceLocation: sourceLocation)
        let actual = array.scalars(as: Complex<Double>.self)
        #expect(actual.count == expected.count, "count \(actual.count), expected \(expected.count)",
                sourceLocation: sourceLocation)
        for (k, (a, e)) in zip(actual, expected).enumerated() {
            let close = isClose(a.real, e.real, tolerance: tolerance)
                && isClose(a.imaginary, e.imaginary, tolerance: tolerance)
            #expect(close, "element \(k): \(a), expected \(e)", sourceLocation: sourceLocation)
        }
    }

    /// Runs `gradcheck` at each order and expects it to pass.
    static func expectGradcheck<X: DLArrayContainer>(
        _ function: (X) throws -> DLArray, at x: X, orders: ClosedRange<Int> = 1...2,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        for order in orders {
            let result = try gradcheck(function, at: x, order: order)
            #expect(result.passed, "\(result)", sourceLocation: sourceLocation)
        }
    }

    /// The gradient of `function` (summed to a scalar, real part) at `x`.
    static func gradient(of function: @escaping (DLArray) throws -> DLArray, at x: DLArray) throws -> DLArray {
        try dlfeval({ (x: DLArray) in
            try dlgradient(sum(real(function(x))), x, allowComplex: true)
        }, x)
    }

    enum ErrorKind { case shapeMismatch, unsupportedType, invalidArgument }

    /// Expects `body` to throw a `DLError` of `kind` whose message contains every fragment.
    static func expectError(_ kind: ErrorKind, mentioning fragments: [String] = [],
                            sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected DLError.\(kind), nothing was thrown", sourceLocation: sourceLocation)
        } catch let error as DLError {
            let matches = switch (kind, error) {
            case (.shapeMismatch, .shapeMismatch), (.unsupportedType, .unsupportedType),
                 (.invalidArgument, .invalidArgument): true
            default: false
            }
            #expect(matches, "expected DLError.\(kind), got \(error)", sourceLocation: sourceLocation)
            for fragment in fragments {
                #expect(error.message.contains(fragment), "message \"\(error.message)\" lacks \"\(fragment)\"",
                        sourceLocation: sourceLocation)
            }
        } catch {
            Issue.record("expected DLError.\(kind), got \(error)", sourceLocation: sourceLocation)
        }
    }
}

private typealias Support = ElementwiseTestSupport

/// An arithmetic operator as a function of two arrays, with its Swift reference on doubles.
struct ArithmeticOperatorCase: Sendable, CustomTestStringConvertible {
    let name: String
    let apply: @Sendable (DLArray, DLArray) throws -> DLArray
    let arrayScalar: @Sendable (DLArray, Double) -> DLArray
    let scalarArray: @Sendable (Double, DLArray) -> DLArray
    let reference: @Sendable (Double, Double) -> Double
    var testDescription: String { name }

    static let all: [ArithmeticOperatorCase] = [
        ArithmeticOperatorCase(name: "+", apply: { try $0 + $1 }, arrayScalar: { $0 + $1 }, scalarArray: { $0 + $1 },
                           reference: { $0 + $1 }),
        ArithmeticOperatorCase(name: "-", apply: { try $0 - $1 }, arrayScalar: { $0 - $1 }, scalarArray: { $0 - $1 },
                           reference: { $0 - $1 }),
        ArithmeticOperatorCase(name: "*", apply: { try $0 * $1 }, arrayScalar: { $0 * $1 }, scalarArray: { $0 * $1 },
                           reference: { $0 * $1 }),
        ArithmeticOperatorCase(name: "/", apply: { try $0 / $1 }, arrayScalar: { $0 / $1 }, scalarArray: { $0 / $1 },
                           reference: { $0 / $1 }),
        ArithmeticOperatorCase(name: "**", apply: { try $0 ** $1 }, arrayScalar: { $0 ** $1 }, scalarArray: { $0 ** $1 },
                           reference: { Foundation.pow($0, $1) }),
    ]
}

@Suite struct ArithmeticTests {
    let ln2 = Foundation.log(2.0)
    // Positive values so that ** is defined everywhere.
    let matrix = [0.5, 1.5, 2.5, 0.8, 1.2, 3.0]                 // shape [2, 3]
    let row = [1.3, 0.7, 2.1]                                  // shape [3]
    let column = [0.9, 1.7]                                    // shape [2, 1]

    // MARK: Forward values

    @Test(arguments: ArithmeticOperatorCase.all)
    func broadcastsARowAndAColumnInFloat64(operation: ArithmeticOperatorCase) throws {
        let a = try DLArray(matrix, shape: [2, 3])
        let withRow = try operation.apply(a, DLArray(row))
        Support.expectValues(withRow, (0..<6).map { operation.reference(matrix[$0], row[$0 % 3]) }, shape: [2, 3])
        #expect(withRow.dataType == .float64)

        let withColumn = try operation.apply(DLArray(column, shape: [2, 1]), a)
        Support.expectValues(withColumn, (0..<6).map { operation.reference(column[$0 / 3], matrix[$0]) }, shape: [2, 3])

        // [2, 1] with [3] broadcasts both ways to [2, 3].
        let outer = try operation.apply(DLArray(column, shape: [2, 1]), DLArray(row))
        Support.expectValues(outer, (0..<6).map { operation.reference(column[$0 / 3], row[$0 % 3]) }, shape: [2, 3])
    }

    @Test(arguments: ArithmeticOperatorCase.all)
    func broadcastsInFloat32(operation: ArithmeticOperatorCase) throws {
        let a = try DLArray(matrix.map { Float($0) }, shape: [2, 3])
        let result = try operation.apply(a, DLArray(row.map { Float($0) }))
        #expect(result.dataType == .float32)
        let expected = (0..<6).map { k in
            Double(Float(operation.reference(Double(Float(matrix[k])), Double(Float(row[k % 3])))))
        }
        Support.expectValues(result, expected, shape: [2, 3], tolerance: 1e-6)
    }

    @Test(arguments: ArithmeticOperatorCase.all)
    func arrayWithScalarAndScalarWithArray(operation: ArithmeticOperatorCase) throws {
        let x = try DLArray(matrix, shape: [2, 3])
        Support.expectValues(operation.arrayScalar(x, 1.5), matrix.map { operation.reference($0, 1.5) }, shape: [2, 3])
        Support.expectValues(operation.scalarArray(1.5, x), matrix.map { operation.reference(1.5, $0) }, shape: [2, 3])

        let single = DLArray(matrix.map { Float($0) })
        #expect(operation.arrayScalar(single, 1.5).dataType == .float32)
        #expect(operation.scalarArray(1.5, single).dataType == .float32)
    }

    @Test(arguments: ArithmeticOperatorCase.all)
    func scalarArrayOperandBroadcastsToAnyShape(operation: ArithmeticOperatorCase) throws {
        let x = try DLArray(matrix, shape: [2, 3])
        let result = try operation.apply(DLArray(2.0), x)
        Support.expectValues(result, matrix.map { operation.reference(2, $0) }, shape: [2, 3])
        let empty = try operation.apply(DLArray.zeros([0, 3]), DLArray(row))
        #expect(empty.shape == [0, 3])
    }

    @Test func broadcastsRankThreeShapesInTheMiddleDimension() throws {
        // [2, 1, 3] with [4, 1]: the result is [2, 4, 3], a[i, 0, k] + b[j, 0].
        let a = try DLArray((0..<6).map { Double($0) }, shape: [2, 1, 3])
        let b = try DLArray([10.0, 20.0, 30.0, 40.0], shape: [4, 1])
        var sums: [Double] = [], differences: [Double] = []
        for i in 0..<2 {
            for j in 0..<4 {
                for k in 0..<3 {
                    sums.append(Double(10 * (j + 1)) + Double(i * 3 + k))
                    differences.append(Double(10 * (j + 1)) - Double(i * 3 + k))
                }
            }
        }
        Support.expectValues(try a + b, sums, shape: [2, 4, 3])
        Support.expectValues(try b - a, differences, shape: [2, 4, 3])
        try Support.expectGradcheck({ (v: [DLArray]) in sin(try v[0] * v[1]) }, at: [a * 0.1, b * 0.01])
    }

    @Test func largeArraysGiveTheSameValuesWhenSplitAcrossThreads() throws {
        // Large enough for the kernels to split the work into chunks.
        let rows = 300, columns = 200
        let a = try DLArray((0..<rows * columns).map { Double($0 % 97) * 0.01 }, shape: [rows, columns])
        let row = DLArray((0..<columns).map { Double($0) })
        let column = try DLArray((0..<rows).map { Double($0) * 1000 }, shape: [rows, 1])
        let sum = try a + row
        let outer = try column + row
        let negated = -a
        let values = a.scalars(as: Double.self), sums = sum.scalars(as: Double.self)
        let outers = outer.scalars(as: Double.self), negatives = negated.scalars(as: Double.self)
        var mismatches = 0
        for i in 0..<rows {
            for j in 0..<columns {
                let n = i * columns + j
                if sums[n] != values[n] + Double(j) { mismatches += 1 }
                if outers[n] != Double(i) * 1000 + Double(j) { mismatches += 1 }
                if negatives[n] != -values[n] { mismatches += 1 }
            }
        }
        #expect(mismatches == 0)
    }

    @Test func labelsOfBinaryResults() throws {
        let labeled = try DLArray([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], shape: [2, 3], labels: "BC")
        #expect(try (labeled + DLArray([1.0, 1.0, 1.0])).labels == "BC")
        #expect(try (DLArray([1.0, 1.0, 1.0]) * labeled).labels == "BC")
        #expect((labeled * 2).labels == "BC")
        #expect(try (labeled - labeled).labels == "BC")
        let other = try DLArray([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], shape: [2, 3], labels: "SS")
        Support.expectError(.invalidArgument, mentioning: ["BC", "SS"]) { _ = try labeled + other }
    }

    @Test func unaryMinusNegatesAndKeepsShapeAndType() throws {
        let x = try DLArray([1.5, -2.0, 0.0, 4.25], shape: [2, 2])
        Support.expectValues(-x, [-1.5, 2.0, 0.0, -4.25], shape: [2, 2])
        #expect((-DLArray([Float(1.5)])).dataType == .float32)
        let z = DLArray([Complex(1.0, -2.0)])
        Support.expectComplexValues(-z, [Complex(-1.0, 2.0)])
    }

    @Test func powerOfANegativeBaseWithAnIntegralExponent() throws {
        let base = DLArray([-1.0, -2.0, -2.0, -2.0, -8.0, 0.0, 0.0])
        let exponent = DLArray([2.0, 3.0, -1.0, 0.0, 1.0 / 3.0, 0.0, 2.5])
        Support.expectValues(try base ** exponent, [1, -8, -0.5, 1, .nan, 1, 0])
        Support.expectValues(DLArray([-1.0, -3.0]) ** 2, [1, 9])
        Support.expectValues(DLArray([-1.0, -3.0]) ** 3, [-1, -27])
        Support.expectValues(DLArray([Float(-1), Float(-3)]) ** 3, [-1, -27])
        Support.expectValues(pow(DLArray([-2.0]), 4), [16])
        Support.expectValues(try pow(DLArray([4.0]), DLArray([0.5])), [2])
        Support.expectValues(2 ** DLArray([-1.0, 0.0, 3.0]), [0.5, 1, 8])
    }

    // MARK: Types

    @Test func typePromotion() throws {
        let single = DLArray([Float(1.5), Float(2.5)])
        let double = DLArray([0.25, 0.5])
        let flags = DLArray([true, false])
        let sum = try single + double
        #expect(sum.dataType == .float64)
        Support.expectValues(sum, [1.75, 3.0])
        #expect(try (double * single).dataType == .float64)

        let boolSum = try flags + DLArray([true, true])
        #expect(boolSum.dataType == .float32)
        Support.expectValues(boolSum, [2, 1])
        #expect(try (flags * double).dataType == .float64)
        Support.expectValues(try flags * double, [0.25, 0])
        #expect((flags * 2.0).dataType == .float32)
        Support.expectValues(3.0 - flags, [2, 3])
        #expect((-flags).dataType == .float32)
        Support.expectValues(-flags, [-1, 0])

        let complexSingle = DLArray([Complex<Float>(1, 2)])
        #expect(try (complexSingle + DLArray([1.0])).dataType == .complex128)
        #expect(try (complexSingle + DLArray([Float(1)])).dataType == .complex64)
        #expect(try (DLArray([Complex(1.0, 2.0)]) * single).dataType == .complex128)
        Support.expectComplexValues(try complexSingle * DLArray([Float(2)]), [Complex(2.0, 4.0)])
    }

    @Test func convertedChangesTypeAndConvertsTheGradientBack() throws {
        let x = DLArray([1.25, -2.5, 0.0])
        let single = x.converted(to: .float32)
        #expect(single.dataType == .float32)
        Support.expectValues(single, [1.25, -2.5, 0])
        Support.expectValues(DLArray([0.1]).converted(to: .float32), [Double(Float(0.1))], tolerance: 0)
        Support.expectValues(x.converted(to: .bool), [1, 1, 0])
        #expect(x.converted(to: .bool).dataType == .bool)
        Support.expectComplexValues(x.converted(to: .complex128), [Complex(1.25, 0), Complex(-2.5, 0), Complex(0, 0)])
        let z = DLArray([Complex(1.5, -2.0)])
        Support.expectValues(z.converted(to: .float64), [1.5])    // the real part
        Support.expectValues(DLArray([true, false]).converted(to: .float64), [1, 0])

        // The gradient comes back in the input's type.
        let gradient = try dlfeval({ (x: DLArray) in
            try dlgradient(sum(x.converted(to: .float32) * x.converted(to: .float32)), x)
        }, x)
        #expect(gradient.dataType == .float64)
        Support.expectValues(gradient, [2.5, -5, 0], tolerance: 1e-6)
        try Support.expectGradcheck({ (x: DLArray) in sin(try x.converted(to: .complex128) * DLArray([Complex(0.5, 2.0)])) },
                                    at: x)
        try Support.expectGradcheck({ (z: DLArray) in exp(z.converted(to: .float64)) }, at: DLArray([Complex(0.3, 0.9)]))
    }

    // MARK: Gradients

    @Test(arguments: ArithmeticOperatorCase.all)
    func gradientsWithBroadcastingMatchFiniteDifferences(operation: ArithmeticOperatorCase) throws {
        let a = try DLArray(matrix, shape: [2, 3]), b = DLArray(row), c = try DLArray(column, shape: [2, 1])
        // Through sin, so that order 2 also runs the rule of the operation on a traced gradient.
        try Support.expectGradcheck({ (x: [DLArray]) in sin(try operation.apply(x[0], x[1])) }, at: [a, b])
        try Support.expectGradcheck({ (x: [DLArray]) in sin(try operation.apply(x[0], x[1])) }, at: [c, b])
        try Support.expectGradcheck({ (x: [DLArray]) in sin(try operation.apply(x[0], x[1])) }, at: [DLArray(0.7), a])
    }

    @Test(arguments: ArithmeticOperatorCase.all)
    func gradientsOfArrayScalarFormsMatchFiniteDifferences(operation: ArithmeticOperatorCase) throws {
        let a = try DLArray(matrix, shape: [2, 3])
        try Support.expectGradcheck({ (x: DLArray) in sin(operation.arrayScalar(x, 1.7)) }, at: a)
        try Support.expectGradcheck({ (x: DLArray) in sin(operation.scalarArray(1.7, x)) }, at: a)
    }

    @Test func knownGradientsOfTheOperators() throws {
        let a = DLArray([2.0, -1.0]), b = DLArray([4.0, 0.5])
        let (ga, gb) = try dlfeval({ (a: DLArray, b: DLArray) in
            try dlgradient(sum(a * b + a / b - b), a, b)
        }, a, b)
        // d/da = b + 1/b, d/db = a - a/b² - 1.
        Support.expectValues(ga, [4.25, 2.5])
        Support.expectValues(gb, [2 - 2.0 / 16 - 1, -1 + 4 - 1])

        let (pa, pb) = try dlfeval({ (a: DLArray, b: DLArray) in try dlgradient(sum(a ** b), a, b) },
                                   DLArray([3.0, -2.0]), DLArray([2.0, 3.0]))
        Support.expectValues(pa, [6, 12])                       // b a^(b-1)
        Support.expectValues(pb, [9 * Foundation.log(3.0), .nan])   // a^b log a: NaN for a negative base

        Support.expectValues(try Support.gradient(of: { -$0 }, at: a), [-1, -1])
        Support.expectValues(try Support.gradient(of: { 3.0 / $0 }, at: a), [-0.75, -3])
        Support.expectValues(try Support.gradient(of: { 2.0 ** $0 }, at: a), [4 * ln2, 0.5 * ln2])
    }

    @Test func powerGradientAtBaseZero() throws {
        let base = DLArray([0.0, 0.0, 0.0, 2.0]), exponent = DLArray([2.0, 1.0, 3.5, 3.0])
        let (gBase, gExponent) = try dlfeval({ (a: DLArray, b: DLArray) in try dlgradient(sum(a ** b), a, b) },
                                             base, exponent)
        // d/db a^b = a^b log a is 0 at a = 0 (not 0·(-∞) = NaN); d/da = b a^(b-1).
        Support.expectValues(gExponent, [0, 0, 0, 8 * ln2])
        Support.expectValues(gBase, [0, 1, 0, 12])
        // The same with a scalar base.
        Support.expectValues(try Support.gradient(of: { 0.0 ** $0 }, at: DLArray([1.5, 2.0])), [0, 0])
    }

    @Test func powerWithExponentZeroHasZeroDerivativesAtBaseZero() throws {
        // a^0 = 1 everywhere, 0^0 included: every derivative is 0, not 0·0^(-1) = NaN.
        let base = DLArray([0.0, 2.0]), exponent = DLArray([0.0, 0.0])
        Support.expectValues(try base ** exponent, [1, 1])
        Support.expectValues(base ** 0, [1, 1])
        let (first, second) = try dlfeval({ (a: DLArray, b: DLArray) in
            let (ga, _) = try dlgradient(sum(a ** b), a, b, enableHigherDerivatives: true)
            return (ga, try dlgradient(sum(ga * ga + ga), a))
        }, base, exponent)
        Support.expectValues(first, [0, 0])
        Support.expectValues(second, [0, 0])
        let (constantFirst, constantSecond) = try dlfeval({ (a: DLArray) in
            let ga = try dlgradient(sum(a ** 0 + a * a), a, enableHigherDerivatives: true)
            return (ga, try dlgradient(sum(ga * ga), a))
        }, base)
        Support.expectValues(constantFirst, [0, 4])           // 2a
        Support.expectValues(constantSecond, [0, 16])         // d/da (2a)² = 8a
    }

    @Test func powerOfABoolArrayIsFloat32() {
        let flags = DLArray([true, false])
        for exponent in [0.0, 1.0, 2.0, 3.0] {
            #expect((flags ** exponent).dataType == .float32, "exponent \(exponent)")
        }
        Support.expectValues(flags ** 1, [1, 0])
        Support.expectValues(flags ** 0, [1, 1])
    }

    @Test func powerGradientsOfANegativeBaseWithIntegralExponents() throws {
        let x = DLArray([-1.0, -2.5, 1.5])
        Support.expectValues(try Support.gradient(of: { $0 ** 2 }, at: x), [-2, -5, 3])
        Support.expectValues(try Support.gradient(of: { $0 ** 3 }, at: x), [3, 18.75, 6.75])
        try Support.expectGradcheck({ (x: DLArray) in x ** 3 }, at: x, orders: 1...3)
        try Support.expectGradcheck({ (x: DLArray) in x ** -2 }, at: x, orders: 1...2)
    }

    @Test(arguments: 1...3)
    func divisionMatchesFiniteDifferencesToOrderThree(order: Int) throws {
        let a = try DLArray(matrix, shape: [2, 3]), b = DLArray([1.3, -0.7, 2.1])
        let result = try gradcheck({ (x: [DLArray]) in try x[0] / x[1] }, at: [a, b], order: order)
        #expect(result.passed, "\(result)")
    }

    @Test func float32InputsAreCheckedInFloat64() throws {
        let a = DLArray([Float(0.5), Float(1.5)]), b = DLArray([Float(2.0), Float(0.3)])
        try Support.expectGradcheck({ (x: [DLArray]) in try x[0] * x[1] / (x[0] + x[1]) ** x[1] }, at: [a, b])
    }

    // MARK: Complex arithmetic

    @Test func complexForwardValues() throws {
        let a = DLArray([Complex(1.0, 2.0), Complex(-0.5, 0.25)])
        let b = DLArray([Complex(3.0, -1.0), Complex(2.0, 2.0)])
        Support.expectComplexValues(try a + b, [Complex(4, 1), Complex(1.5, 2.25)])
        Support.expectComplexValues(try a - b, [Complex(-2, 3), Complex(-2.5, -1.75)])
        Support.expectComplexValues(try a * b, [Complex(5, 5), Complex(-1.5, -0.5)])
        Support.expectComplexValues(try a / b, [Complex(0.1, 0.7), Complex(-0.0625, 0.1875)])
        Support.expectComplexValues(a ** 2, [Complex(-3, 4), Complex(0.1875, -0.25)])
        // i^i = e^(-π/2), (-1)^(1/2) = i, (-1)^3 = -1 on the principal branch.
        let i = DLArray([Complex(0.0, 1.0)])
        Support.expectComplexValues(try i ** i, [Complex(Foundation.exp(-Double.pi / 2), 0)])
        Support.expectComplexValues(DLArray([Complex(-1.0, 0)]) ** 0.5, [Complex(0, 1)])
        Support.expectComplexValues(DLArray([Complex(-1.0, 0)]) ** 3, [Complex(-1, 0)])
        // Real and complex operands mix.
        Support.expectComplexValues(try DLArray([2.0, 3.0]) * a, [Complex(2, 4), Complex(-1.5, 0.75)])
        Support.expectComplexValues(1.0 / a, [Complex(0.2, -0.4), Complex(-1.6, -0.8)])
        // 0^b for complex: 1 for b = 0, 0 for Re b > 0.
        Support.expectComplexValues(try DLArray([Complex(0.0, 0), Complex(0.0, 0)]) ** DLArray([Complex(0.0, 0), Complex(2.5, 1)]),
                             [Complex(1, 0), Complex(0, 0)])
    }

    @Test func complexProductGradientIsConjugateWirtinger() throws {
        // y = Re((2+3i) x) has gradient 2-3i.
        let gradient = try dlfeval({ (x: DLArray) in
            try dlgradient(sum(real(x * DLArray([Complex(2.0, 3.0)]))), x, allowComplex: true)
        }, DLArray([Complex(0.5, -1.0)]))
        Support.expectComplexValues(gradient, [Complex(2, -3)])
    }

    @Test(arguments: ArithmeticOperatorCase.all)
    func complexGradientsMatchFiniteDifferences(operation: ArithmeticOperatorCase) throws {
        let a = try DLArray([Complex(0.8, 0.3), Complex(-0.4, 0.9), Complex(1.1, -0.6), Complex(0.5, 0.5)], shape: [2, 2])
        let b = DLArray([Complex(1.2, -0.4), Complex(0.3, 0.8)])
        // Both the real and the imaginary part of the result are checked.
        try Support.expectGradcheck({ (x: [DLArray]) in sin(try operation.apply(x[0], x[1])) }, at: [a, b])
        try Support.expectGradcheck({ (x: [DLArray]) in imag(sin(try operation.apply(x[0], x[1]))) }, at: [a, b])
        // A real array with a complex one.
        let real = try DLArray([0.7, 1.3, 0.4, 2.2], shape: [2, 2])
        try Support.expectGradcheck({ (x: [DLArray]) in exp(try operation.apply(x[0], x[1])) }, at: [real, b])
        try Support.expectGradcheck({ (x: [DLArray]) in operation.arrayScalar(x[0], 1.5) }, at: [a], orders: 1...1)
        try Support.expectGradcheck({ (x: [DLArray]) in imag(exp(operation.scalarArray(0.6, x[0]))) }, at: [a])
    }

    @Test(arguments: 1...3)
    func complexCompositionMatchesFiniteDifferencesToOrderThree(order: Int) throws {
        let z = DLArray([Complex(0.4, 0.7), Complex(-0.9, 0.2)])
        let w = DLArray([Complex(1.1, -0.3), Complex(0.6, 0.5)])
        let result = try gradcheck({ (x: [DLArray]) in
            try (x[0] * x[0] - x[1]) / (x[1] ** 2 + 1)
        }, at: [z, w], order: order)
        #expect(result.passed, "\(result)")
    }

    // MARK: Errors

    @Test(arguments: ArithmeticOperatorCase.all)
    func shapesThatDoNotBroadcastThrowNamingBothShapes(operation: ArithmeticOperatorCase) {
        let a = DLArray.zeros([2, 3]), b = DLArray.zeros([4])
        Support.expectError(.shapeMismatch, mentioning: ["[2, 3]", "[4]", operation.name]) {
            _ = try operation.apply(a, b)
        }
        Support.expectError(.shapeMismatch, mentioning: ["[3, 2]", "[2, 3]"]) {
            _ = try operation.apply(DLArray.zeros([3, 2]), a)
        }
    }

    @Test func compoundAssignmentOperators() throws {
        var x = DLArray([1.0, 2.0])
        try x += DLArray([0.5, 0.5])
        try x *= DLArray([2.0, 4.0])
        try x -= DLArray([1.0])
        try x /= DLArray([4.0, 0.5])
        Support.expectValues(x, [0.5, 18])
        Support.expectError(.shapeMismatch, mentioning: ["[2]", "[3]"]) { try x += DLArray([1.0, 2.0, 3.0]) }
    }
}
