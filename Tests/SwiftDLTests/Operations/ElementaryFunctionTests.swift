import ComplexModule
import Foundation
import Testing
@testable import SwiftDL

private typealias Support = ElementwiseTestSupport

/// A real function of one array, with its value and derivative on doubles and points in its
/// domain away from kinks and branch points.
struct RealFunctionCase: Sendable, CustomTestStringConvertible {
    let name: String
    let apply: @Sendable (DLArray) throws -> DLArray
    let value: @Sendable (Double) -> Double
    let derivative: @Sendable (Double) -> Double
    let points: [Double]
    var testDescription: String { name }

    static let all: [RealFunctionCase] = [
        RealFunctionCase(name: "sqrt", apply: { sqrt($0) }, value: { Foundation.sqrt($0) },
                         derivative: { 0.5 / Foundation.sqrt($0) }, points: [0.3, 1.7, 4.0]),
        RealFunctionCase(name: "exp", apply: { exp($0) }, value: { Foundation.exp($0) },
                         derivative: { Foundation.exp($0) }, points: [-1.3, 0.2, 2.1]),
        RealFunctionCase(name: "log", apply: { log($0) }, value: { Foundation.log($0) },
                         derivative: { 1 / $0 }, points: [0.3, 1.7, 4.0]),
        RealFunctionCase(name: "log1p", apply: { log1p($0) }, value: { Foundation.log1p($0) },
                         derivative: { 1 / (1 + $0) }, points: [-0.5, 1e-3, 2.0]),
        RealFunctionCase(name: "expm1", apply: { expm1($0) }, value: { Foundation.expm1($0) },
                         derivative: { Foundation.exp($0) }, points: [-1.0, 1e-3, 1.5]),
        RealFunctionCase(name: "abs", apply: { abs($0) }, value: { Swift.abs($0) },
                         derivative: { $0 > 0 ? 1 : -1 }, points: [-1.5, 0.4, 2.0]),
        RealFunctionCase(name: "sign", apply: { sign($0) }, value: { $0 > 0 ? 1 : -1 },
                         derivative: { _ in 0 }, points: [-1.5, 0.4, 2.0]),
        RealFunctionCase(name: "negate", apply: { -$0 }, value: { -$0 },
                         derivative: { _ in -1 }, points: [-1.5, 0.4, 2.0]),
        RealFunctionCase(name: "sin", apply: { sin($0) }, value: { Foundation.sin($0) },
                         derivative: { Foundation.cos($0) }, points: [-1.0, 0.3, 2.5]),
        RealFunctionCase(name: "cos", apply: { cos($0) }, value: { Foundation.cos($0) },
                         derivative: { -Foundation.sin($0) }, points: [-1.0, 0.3, 2.5]),
        RealFunctionCase(name: "tan", apply: { tan($0) }, value: { Foundation.tan($0) },
                         derivative: { 1 / (Foundation.cos($0) * Foundation.cos($0)) }, points: [-1.0, 0.3, 1.2]),
        RealFunctionCase(name: "asin", apply: { asin($0) }, value: { Foundation.asin($0) },
                         derivative: { 1 / Foundation.sqrt(1 - $0 * $0) }, points: [-0.7, 0.1, 0.6]),
        RealFunctionCase(name: "acos", apply: { acos($0) }, value: { Foundation.acos($0) },
                         derivative: { -1 / Foundation.sqrt(1 - $0 * $0) }, points: [-0.7, 0.1, 0.6]),
        RealFunctionCase(name: "atan", apply: { atan($0) }, value: { Foundation.atan($0) },
                         derivative: { 1 / (1 + $0 * $0) }, points: [-2.0, 0.3, 1.5]),
        RealFunctionCase(name: "sinh", apply: { sinh($0) }, value: { Foundation.sinh($0) },
                         derivative: { Foundation.cosh($0) }, points: [-1.2, 0.3, 1.5]),
        RealFunctionCase(name: "cosh", apply: { cosh($0) }, value: { Foundation.cosh($0) },
                         derivative: { Foundation.sinh($0) }, points: [-1.2, 0.3, 1.5]),
        RealFunctionCase(name: "tanh", apply: { tanh($0) }, value: { Foundation.tanh($0) },
                         derivative: { 1 / (Foundation.cosh($0) * Foundation.cosh($0)) }, points: [-1.2, 0.3, 1.5]),
        RealFunctionCase(name: "asinh", apply: { asinh($0) }, value: { Foundation.asinh($0) },
                         derivative: { 1 / Foundation.sqrt($0 * $0 + 1) }, points: [-2.0, 0.3, 1.5]),
        RealFunctionCase(name: "acosh", apply: { acosh($0) }, value: { Foundation.acosh($0) },
                         derivative: { 1 / Foundation.sqrt($0 * $0 - 1) }, points: [1.3, 2.0, 4.5]),
        RealFunctionCase(name: "atanh", apply: { atanh($0) }, value: { Foundation.atanh($0) },
                         derivative: { 1 / (1 - $0 * $0) }, points: [-0.7, 0.1, 0.6]),
        RealFunctionCase(name: "erf", apply: { try erf($0) }, value: { Foundation.erf($0) },
                         derivative: { 2 / Double.pi.squareRoot() * Foundation.exp(-$0 * $0) }, points: [-1.1, 0.2, 0.9]),
        RealFunctionCase(name: "sigmoid", apply: { sigmoid($0) }, value: { 1 / (1 + Foundation.exp(-$0)) },
                         derivative: { let s = 1 / (1 + Foundation.exp(-$0)); return s * (1 - s) }, points: [-3.0, 0.4, 2.0]),
        RealFunctionCase(name: "relu", apply: { try relu($0) }, value: { Swift.max($0, 0) },
                         derivative: { $0 > 0 ? 1 : 0 }, points: [-1.5, 0.4, 2.0]),
        RealFunctionCase(name: "sec", apply: { sec($0) }, value: { 1 / Foundation.cos($0) },
                         derivative: { Foundation.tan($0) / Foundation.cos($0) }, points: [-1.0, 0.3, 1.2]),
        RealFunctionCase(name: "csc", apply: { csc($0) }, value: { 1 / Foundation.sin($0) },
                         derivative: { -Foundation.cos($0) / (Foundation.sin($0) * Foundation.sin($0)) }, points: [-1.0, 0.3, 2.5]),
        RealFunctionCase(name: "cot", apply: { cot($0) }, value: { 1 / Foundation.tan($0) },
                         derivative: { -1 / (Foundation.sin($0) * Foundation.sin($0)) }, points: [-1.0, 0.3, 2.5]),
        RealFunctionCase(name: "asec", apply: { asec($0) }, value: { Foundation.acos(1 / $0) },
                         derivative: { 1 / (Swift.abs($0) * Foundation.sqrt($0 * $0 - 1)) }, points: [-3.0, 1.5, 2.5]),
        RealFunctionCase(name: "acsc", apply: { acsc($0) }, value: { Foundation.asin(1 / $0) },
                         derivative: { -1 / (Swift.abs($0) * Foundation.sqrt($0 * $0 - 1)) }, points: [-3.0, 1.5, 2.5]),
        RealFunctionCase(name: "acot", apply: { acot($0) }, value: { Foundation.atan(1 / $0) },
                         derivative: { -1 / (1 + $0 * $0) }, points: [-2.0, 0.3, 1.5]),
        RealFunctionCase(name: "softplus", apply: { try softplus($0) }, value: { Foundation.log(1 + Foundation.exp($0)) },
                         derivative: { 1 / (1 + Foundation.exp(-$0)) }, points: [-3.0, 0.4, 2.0]),
    ]
}

@Suite struct ElementaryFunctionTests {
    // MARK: Each function: values, derivative, finite differences

    @Test(arguments: RealFunctionCase.all)
    func float64ValuesMatchFoundation(function: RealFunctionCase) throws {
        let x = try DLArray(function.points + function.points.map { $0 * 0.9 }, shape: [2, 3])
        let y = try function.apply(x)
        #expect(y.dataType == .float64)
        Support.expectValues(y, x.scalars(as: Double.self).map(function.value), shape: [2, 3], tolerance: 1e-14)
    }

    @Test(arguments: RealFunctionCase.all)
    func float32ValuesMatchFoundation(function: RealFunctionCase) throws {
        let x = DLArray(function.points.map { Float($0) })
        let y = try function.apply(x)
        #expect(y.dataType == .float32)
        #expect(y.shape == [3])
        let expected = x.scalars(as: Double.self).map(function.value)
        Support.expectValues(y, expected, tolerance: 1e-6)
    }

    @Test(arguments: RealFunctionCase.all)
    func derivativeMatchesTheKnownFormula(function: RealFunctionCase) throws {
        let x = DLArray(function.points)
        let gradient = try Support.gradient(of: function.apply, at: x)
        #expect(gradient.dataType == .float64)
        Support.expectValues(gradient, function.points.map(function.derivative), tolerance: 1e-13)
        // And in float32, where the gradient stays float32.
        let single = try Support.gradient(of: function.apply, at: DLArray(function.points.map { Float($0) }))
        #expect(single.dataType == .float32)
        Support.expectValues(single, function.points.map { function.derivative(Double(Float($0))) }, tolerance: 1e-5)
    }

    @Test(arguments: RealFunctionCase.all)
    func gradientsMatchFiniteDifferencesToOrderTwo(function: RealFunctionCase) throws {
        let x = try DLArray(function.points + function.points.map { $0 * 0.9 }, shape: [2, 3])
        try Support.expectGradcheck({ (x: DLArray) in try function.apply(x) }, at: x, orders: 1...1)
        // Multiplied by sin(x), so the second-order check runs the rule on a traced gradient
        // even where the function is piecewise linear.
        try Support.expectGradcheck({ (x: DLArray) in try function.apply(x) * sin(x) }, at: x, orders: 1...2)
    }

    @Test(arguments: ["tanh", "exp", "sigmoid", "atan", "log", "sqrt"])
    func smoothFunctionsMatchFiniteDifferencesToOrderThree(name: String) throws {
        let function = try #require(RealFunctionCase.all.first { $0.name == name })
        let result = try gradcheck({ (x: DLArray) in try function.apply(x) }, at: DLArray(function.points), order: 3)
        #expect(result.passed, "\(result)")
    }

    @Test(arguments: 1...3)
    func expTimesSinMatchesFiniteDifferencesToOrderThree(order: Int) throws {
        let result = try gradcheck({ (x: DLArray) in try exp(x) * sin(x) }, at: DLArray([-0.8, 0.4, 1.9]), order: order)
        #expect(result.passed, "\(result)")
    }

    // MARK: atan2

    @Test func atan2CoversTheFourQuadrantsAndBroadcasts() throws {
        let y = DLArray([1.0, 1.0, -1.0, -1.0, 0.0, 0.0, 2.0])
        let x = DLArray([1.0, -1.0, -1.0, 1.0, -1.0, 1.0, 0.0])
        let expected = zip(y.scalars(as: Double.self), x.scalars(as: Double.self)).map { Foundation.atan2($0, $1) }
        Support.expectValues(try atan2(y, x), expected)
        Support.expectValues(try atan2(y, x), [.pi / 4, 3 * .pi / 4, -3 * .pi / 4, -.pi / 4, .pi, 0, .pi / 2])

        let column = try DLArray([1.0, -2.0], shape: [2, 1])
        let row = DLArray([Float(0.5), Float(-3.0), Float(1.0)])
        let grid = try atan2(column, row)
        #expect(grid.shape == [2, 3])
        #expect(grid.dataType == .float64)
        Support.expectValues(grid, [1.0, -2.0].flatMap { a in [0.5, -3.0, 1.0].map { Foundation.atan2(a, $0) } })
        let single = try atan2(row, row)
        #expect(single.dataType == .float32)
        Support.expectValues(single, [.pi / 4, -3 * .pi / 4, .pi / 4], tolerance: 1e-6)
    }

    @Test func atan2GradientsAreKnownAndMatchFiniteDifferences() throws {
        let y = DLArray([1.0, -2.0, 0.5]), x = DLArray([2.0, 1.0, -1.5])
        let (gy, gx) = try dlfeval({ (y: DLArray, x: DLArray) in try dlgradient(sum(atan2(y, x)), y, x) }, y, x)
        // ∂/∂y = x / (x² + y²), ∂/∂x = -y / (x² + y²).
        Support.expectValues(gy, [2.0 / 5, 1.0 / 5, -1.5 / 2.5])
        Support.expectValues(gx, [-1.0 / 5, 2.0 / 5, -0.5 / 2.5])
        try Support.expectGradcheck({ (v: [DLArray]) in try atan2(v[0], v[1]) }, at: [y, x], orders: 1...3)
        let column = try DLArray([1.0, -2.0], shape: [2, 1])
        try Support.expectGradcheck({ (v: [DLArray]) in try atan2(v[0], v[1]) }, at: [column, x])
    }

    // MARK: Special cases

    @Test func reluGradientAtZeroIsZero() throws {
        let x = DLArray([0.0, -0.0, 1e-300, -1e-300])
        Support.expectValues(try relu(x), [0, 0, 1e-300, 0])
        Support.expectValues(try Support.gradient(of: { try relu($0) }, at: x), [0, 0, 1, 0])
    }

    @Test func absAndSignAtZero() throws {
        let x = DLArray([0.0, -0.0, 3.0, -3.0])
        Support.expectValues(abs(x), [0, 0, 3, 3])
        Support.expectValues(sign(x), [0, 0, 1, -1])
        Support.expectValues(try Support.gradient(of: { abs($0) }, at: x), [0, 0, 1, -1])
        // The gradient of sign is zero everywhere, not an error.
        Support.expectValues(try Support.gradient(of: { sign($0) }, at: x), [0, 0, 0, 0])
        #expect(sign(DLArray([Float.nan]))
            .scalars(as: Double.self)[0].isNaN)
    }

    @Test(arguments: [DLDataType.float64, .float32])
    func sigmoidAndSoftplusAreStableAtLargeMagnitudes(type: DLDataType) throws {
        let x = DLArray([-1000.0, -50.0, 50.0, 1000.0]).converted(to: type)
        let s = sigmoid(x)
        #expect(s.dataType == type)
        let tolerance = type == .float32 ? 1e-6 : 1e-15
        Support.expectValues(s, [0, Foundation.exp(-50.0), 1, 1], tolerance: tolerance)
        let p = try softplus(x)
        Support.expectValues(p, [0, Foundation.exp(-50.0), 50, 1000], tolerance: tolerance)

        let sigmoidGradient = try Support.gradient(of: sigmoid, at: x)
        Support.expectValues(sigmoidGradient, [0, Foundation.exp(-50.0), Foundation.exp(-50.0), 0], tolerance: tolerance)
        let softplusGradient = try Support.gradient(of: { try softplus($0) }, at: x)
        Support.expectValues(softplusGradient, [0, Foundation.exp(-50.0), 1, 1], tolerance: tolerance)
        for value in s.scalars(as: Double.self) + p.scalars(as: Double.self)
            + sigmoidGradient.scalars(as: Double.self) + softplusGradient.scalars(as: Double.self) {
            #expect(value.isFinite)
        }
    }

    @Test func softplusIsAccurateNearZeroAndForSmallValues() throws {
        Support.expectValues(try softplus(DLArray([0.0, -40.0, 1e-8])),
                             [Foundation.log(2.0), Foundation.exp(-40.0), Foundation.log1p(Foundation.exp(1e-8))],
                             tolerance: 1e-15)
    }

    @Test func log1pAndExpm1AreAccurateForTinyArguments() throws {
        let tiny = DLArray([1e-12, -1e-15])
        Support.expectValues(log1p(tiny), [1e-12 - 5e-25, -1e-15], tolerance: 1e-15)
        Support.expectValues(expm1(tiny), [1e-12 + 5e-25, -1e-15], tolerance: 1e-15)
        // Relative accuracy, far below 1e-12 (log(1 + x) computed directly would be off by ~1e-4).
        #expect(Swift.abs(log1p(tiny).scalars(as: Double.self)[0] / 1e-12 - 1) < 1e-12)
        #expect(Swift.abs(expm1(tiny).scalars(as: Double.self)[0] / 1e-12 - 1) < 1e-12)
    }

    @Test func functionsOutsideTheirRealDomainGiveNaN() throws {
        for value in sqrt(DLArray([-1.0])).scalars(as: Double.self) + log(DLArray([-1.0])).scalars(as: Double.self)
            + asin(DLArray([1.5])).scalars(as: Double.self) + acosh(DLArray([0.5])).scalars(as: Double.self) {
            #expect(value.isNaN)
        }
        Support.expectValues(log(DLArray([0.0])), [-.infinity])
        Support.expectValues(atanh(DLArray([1.0, -1.0])), [.infinity, -.infinity])
    }

    @Test func boolInputIsReadAsFloat32() throws {
        let flags = DLArray([true, false])
        #expect(exp(flags).dataType == .float32)
        Support.expectValues(exp(flags), [Foundation.exp(1.0), 1], tolerance: 1e-6)
        Support.expectValues(try relu(flags), [1, 0])
    }

    @Test func labelsAreKept() throws {
        let x = try DLArray([0.5, 1.5, 2.5, 3.5], shape: [2, 2], labels: "CB")
        #expect(exp(x).labels == x.labels)
        #expect(try relu(x).labels == x.labels)
        #expect(abs(x).labels == x.labels)
    }

    @Test(arguments: ["relu", "erf", "softplus"])
    func realOnlyFunctionsRejectComplexInput(name: String) throws {
        let function = try #require(RealFunctionCase.all.first { $0.name == name })
        for z in [DLArray([Complex(1.0, 2.0)]), DLArray([Complex<Float>(1, 2)])] {
            Support.expectError(.unsupportedType, mentioning: [name, "\(z.dataType)"]) { _ = try function.apply(z) }
        }
    }

    @Test func atan2RejectsComplexInputAndMismatchedShapes() {
        let z = DLArray([Complex(1.0, 2.0)])
        Support.expectError(.unsupportedType, mentioning: ["atan2", "complex128"]) { _ = try atan2(z, DLArray([1.0])) }
        Support.expectError(.unsupportedType, mentioning: ["atan2"]) { _ = try atan2(DLArray([1.0]), z) }
        Support.expectError(.shapeMismatch, mentioning: ["atan2", "[2]", "[3]"]) {
            _ = try atan2(DLArray([1.0, 2.0]), DLArray([1.0, 2.0, 3.0]))
        }
    }
}
