import ComplexModule
import Foundation
import Testing
@testable import SwiftDL

private typealias Support = ElementwiseTestSupport
private typealias C = Complex<Double>

/// A function of one complex array. `derivative` is f′ for holomorphic functions (their
/// gradient under the conjugate Wirtinger convention is `conj(f′(z))`), nil otherwise.
struct ComplexFunctionCase: Sendable, CustomTestStringConvertible {
    let name: String
    let apply: @Sendable (DLArray) throws -> DLArray
    let derivative: (@Sendable (Complex<Double>) -> Complex<Double>)?
    var testDescription: String { name }

    init(_ name: String, _ apply: @escaping @Sendable (DLArray) throws -> DLArray,
         derivative: (@Sendable (Complex<Double>) -> Complex<Double>)? = nil) {
        self.name = name
        self.apply = apply
        self.derivative = derivative
    }

    static let all: [ComplexFunctionCase] = [
        ComplexFunctionCase("negate", { -$0 }, derivative: { _ in C(-1) }),
        ComplexFunctionCase("square", { $0 ** 2 }, derivative: { 2 * $0 }),
        ComplexFunctionCase("power 2.5", { $0 ** 2.5 }, derivative: { C(2.5) * C.pow($0, C(1.5)) }),
        ComplexFunctionCase("power of 1.5", { 1.5 ** $0 }, derivative: { C.pow(C(1.5), $0) * C(Foundation.log(1.5)) }),
        ComplexFunctionCase("power with complex exponent", { try $0 ** DLArray(C(0.5, -1.2)).converted(to: $0.dataType) },
                            derivative: { C(0.5, -1.2) * C.pow($0, C(-0.5, -1.2)) }),
        ComplexFunctionCase("reciprocal", { 1 / $0 }, derivative: { -1 / ($0 * $0) }),
        ComplexFunctionCase("sqrt", { sqrt($0) }, derivative: { 1 / (2 * C.sqrt($0)) }),
        ComplexFunctionCase("exp", { exp($0) }, derivative: { C.exp($0) }),
        ComplexFunctionCase("log", { log($0) }, derivative: { 1 / $0 }),
        ComplexFunctionCase("log1p", { log1p($0) }, derivative: { 1 / (1 + $0) }),
        ComplexFunctionCase("expm1", { expm1($0) }, derivative: { C.exp($0) }),
        ComplexFunctionCase("sin", { sin($0) }, derivative: { C.cos($0) }),
        ComplexFunctionCase("cos", { cos($0) }, derivative: { -C.sin($0) }),
        ComplexFunctionCase("tan", { tan($0) }, derivative: { 1 / (C.cos($0) * C.cos($0)) }),
        ComplexFunctionCase("asin", { asin($0) }, derivative: { 1 / C.sqrt(1 - $0 * $0) }),
        ComplexFunctionCase("acos", { acos($0) }, derivative: { -1 / C.sqrt(1 - $0 * $0) }),
        ComplexFunctionCase("atan", { atan($0) }, derivative: { 1 / (1 + $0 * $0) }),
        ComplexFunctionCase("sinh", { sinh($0) }, derivative: { C.cosh($0) }),
        ComplexFunctionCase("cosh", { cosh($0) }, derivative: { C.sinh($0) }),
        ComplexFunctionCase("tanh", { tanh($0) }, derivative: { 1 / (C.cosh($0) * C.cosh($0)) }),
        ComplexFunctionCase("asinh", { asinh($0) }, derivative: { 1 / C.sqrt($0 * $0 + 1) }),
        ComplexFunctionCase("acosh", { acosh($0) }, derivative: { 1 / (C.sqrt($0 - 1) * C.sqrt($0 + 1)) }),
        ComplexFunctionCase("atanh", { atanh($0) }, derivative: { 1 / (1 - $0 * $0) }),
        ComplexFunctionCase("sigmoid", { sigmoid($0) }, derivative: { let e = C.exp(-$0); return e / ((1 + e) * (1 + e)) }),
        ComplexFunctionCase("abs", { abs($0) }),
        ComplexFunctionCase("sign", { sign($0) }),
        ComplexFunctionCase("real", { real($0) }),
        ComplexFunctionCase("imag", { imag($0) }),
        ComplexFunctionCase("conj", { conj($0) }),
        ComplexFunctionCase("angle", { angle($0) }),
    ]
}

@Suite struct ComplexTests {
    /// Points away from every branch cut and pole of the functions above.
    private let points = [C(0.3, 0.4), C(-0.5, 0.7), C(0.6, -0.2), C(-0.4, -0.9)]

    // MARK: Forward values

    @Test func knownValuesOfElementaryFunctions() throws {
        let pi = Double.pi, ln1p2 = Foundation.log(1 + 2.0.squareRoot())
        func value(_ f: (DLArray) throws -> DLArray, _ z: C) throws -> DLArray { try f(DLArray([z])) }
        Support.expectComplexValues(try value(exp, C(0, pi)), [C(-1, 0)])
        Support.expectComplexValues(try value(exp, C(1, pi / 2)), [C(0, Foundation.exp(1.0))])
        Support.expectComplexValues(try value(log, C(-1, 0)), [C(0, pi)])
        Support.expectComplexValues(try value(log, C(0, 2)), [C(Foundation.log(2.0), pi / 2)])
        Support.expectComplexValues(try value(log1p, C(-2, 0)), [C(0, pi)])
        Support.expectComplexValues(try value(expm1, C(0, pi)), [C(-2, 0)])
        Support.expectComplexValues(try value(sqrt, C(-4, 0)), [C(0, 2)])
        Support.expectComplexValues(try value(sqrt, C(3, 4)), [C(2, 1)])
        Support.expectComplexValues(try value(sqrt, C(-3, -4)), [C(1, -2)])
        Support.expectComplexValues(try value(sin, C(0, 1)), [C(0, Foundation.sinh(1))])
        Support.expectComplexValues(try value(cos, C(0, 1)), [C(Foundation.cosh(1), 0)])
        Support.expectComplexValues(try value(tan, C(0, 1)), [C(0, Foundation.tanh(1))])
        Support.expectComplexValues(try value(sin, C(1, 2)),
                                    [C(Foundation.sin(1) * Foundation.cosh(2), Foundation.cos(1) * Foundation.sinh(2))])
        Support.expectComplexValues(try value(asin, C(0, 1)), [C(0, ln1p2)])
        Support.expectComplexValues(try value(acos, C(0, 1)), [C(pi / 2, -ln1p2)])
        Support.expectComplexValues(try value(atan, C(0, 0.5)), [C(0, Foundation.atanh(0.5))])
        Support.expectComplexValues(try value(sinh, C(0, pi / 2)), [C(0, 1)])
        Support.expectComplexValues(try value(cosh, C(0, pi)), [C(-1, 0)])
        Support.expectComplexValues(try value(tanh, C(0, pi / 4)), [C(0, 1)])
        Support.expectComplexValues(try value(asinh, C(0, 0.5)), [C(0, pi / 6)])
        Support.expectComplexValues(try value(acosh, C(0, 1)), [C(ln1p2, pi / 2)])
        Support.expectComplexValues(try value(atanh, C(0, 1)), [C(0, pi / 4)])
        Support.expectComplexValues(try value(atanh, C(0, 2)), [C(0, Foundation.atan(2))])
        Support.expectComplexValues(try value(sigmoid, C(0, pi / 2)), [C(0.5, 0.5)])
        Support.expectComplexValues(try value(sigmoid, C(0, 0)), [C(0.5, 0)])
    }

    @Test func absSignAngleAndParts() throws {
        let z = DLArray([C(3, 4), C(-1, 0), C(0, 1), C(0, -2), C(0, 0), C(-3, -4)])
        let magnitude = abs(z)
        #expect(magnitude.dataType == .float64)
        Support.expectValues(magnitude, [5, 1, 1, 2, 0, 5])
        Support.expectComplexValues(sign(z), [C(0.6, 0.8), C(-1, 0), C(0, 1), C(0, -1), C(0, 0), C(-0.6, -0.8)])
        let phase = angle(z)
        #expect(phase.dataType == .float64)
        Support.expectValues(phase, [Foundation.atan2(4, 3), .pi, .pi / 2, -.pi / 2, 0, Foundation.atan2(-4, -3)])
        Support.expectValues(real(z), [3, -1, 0, 0, 0, -3])
        Support.expectValues(imag(z), [4, 0, 1, -2, 0, -4])
        Support.expectComplexValues(conj(z), [C(3, -4), C(-1, 0), C(0, -1), C(0, 2), C(0, 0), C(-3, 4)])
        #expect(real(z).dataType == .float64 && imag(z).dataType == .float64)

        // abs does not overflow where |z|² would.
        Support.expectValues(abs(DLArray([C(3e200, 4e200)])), [5e200])
        Support.expectComplexValues(sign(DLArray([C(3e200, 4e200)])), [C(0.6, 0.8)])
    }

    @Test func complex64ResultsHaveSinglePrecisionTypes() throws {
        let z = DLArray(points.map { Complex<Float>(Float($0.real), Float($0.imaginary)) })
        #expect(abs(z).dataType == .float32)
        #expect(real(z).dataType == .float32)
        #expect(imag(z).dataType == .float32)
        #expect(angle(z).dataType == .float32)
        #expect(sign(z).dataType == .complex64)
        #expect(conj(z).dataType == .complex64)
        #expect(exp(z).dataType == .complex64)
        // Single and double precision agree to single precision.
        let wide = DLArray(points)
        for function in ComplexFunctionCase.all {
            let single = try function.apply(z), double = try function.apply(wide)
            #expect(single.dataType == (double.dataType == .float64 ? .float32 : .complex64), "\(function.name)")
            let expected = double.dataType.isComplex ? double.scalars(as: C.self) : double.scalars(as: Double.self).map { C($0) }
            let actual = single.dataType.isComplex ? single.scalars(as: C.self) : single.scalars(as: Double.self).map { C($0) }
            for (a, e) in zip(actual, expected) {
                #expect((a - e).length <= 1e-5 * Swift.max(1, e.length), "\(function.name): \(a) vs \(e)")
            }
        }
    }

    @Test func signOfComplexZeroIsZeroAndItsGradientsAreFinite() throws {
        let z = DLArray([C(0, 0), C(0, -0.0), C(2, 0)])
        Support.expectComplexValues(sign(z), [C(0, 0), C(0, 0), C(1, 0)])
        // abs at 0 has gradient 0 (sign(0)), not NaN; so does sign traced at 0.
        Support.expectComplexValues(try Support.gradient(of: abs, at: z), [C(0, 0), C(0, 0), C(1, 0)])
        let signGradient = try Support.gradient(of: sign, at: z)
        for value in signGradient.scalars(as: C.self) { #expect(value.isFinite) }
        let angleGradient = try Support.gradient(of: angle, at: z)
        Support.expectComplexValues(angleGradient, [C(0, 0), C(0, 0), C(0, 0.5)])
    }

    @Test func complexBuildsFromRealAndImaginaryPartsWithBroadcasting() throws {
        let re = try DLArray([1.0, -2.0], shape: [2, 1]), im = DLArray([0.5, 3.0, -1.0])
        let z = try complex(re, im)
        #expect(z.dataType == .complex128)
        Support.expectComplexValues(z, [C(1, 0.5), C(1, 3), C(1, -1), C(-2, 0.5), C(-2, 3), C(-2, -1)], shape: [2, 3])
        let single = try complex(DLArray([Float(1)]), DLArray([Float(2)]))
        #expect(single.dataType == .complex64)
        Support.expectComplexValues(single, [C(1, 2)])
        #expect(try complex(DLArray([Float(1)]), DLArray([2.0])).dataType == .complex128)
        #expect(try complex(DLArray([true]), DLArray([Float(2)])).dataType == .complex64)
        Support.expectValues(real(z), [1, 1, 1, -2, -2, -2])
        Support.expectValues(imag(z), [0.5, 3, -1, 0.5, 3, -1])
    }

    @Test func partsOfRealArrays() throws {
        let x = DLArray([-2.0, 3.0, -0.0])
        Support.expectValues(real(x), [-2, 3, 0])
        Support.expectValues(imag(x), [0, 0, 0])
        Support.expectValues(conj(x), [-2, 3, 0])
        #expect(conj(x).dataType == .float64)
        Support.expectValues(angle(x), [.pi, 0, .pi])          // atan2(0, x), as for complex -0
        Support.expectValues(abs(x), [2, 3, 0])
        // Their derivatives: 1, 0, 1, 0; zero gradients are zeros, not errors.
        Support.expectValues(try Support.gradient(of: real, at: x), [1, 1, 1])
        Support.expectValues(try Support.gradient(of: imag, at: x), [0, 0, 0])
        Support.expectValues(try Support.gradient(of: conj, at: x), [1, 1, 1])
        Support.expectValues(try Support.gradient(of: angle, at: x), [0, 0, 0])
    }

    // MARK: Gradients

    @Test(arguments: ComplexFunctionCase.all.filter { $0.derivative != nil })
    func holomorphicGradientIsTheConjugateDerivative(function: ComplexFunctionCase) throws {
        let derivative = try #require(function.derivative)
        let z = DLArray(points)
        // ∇ Re f = conj(f′), ∇ Im f = ∇ Re(-i f) = i conj(f′).
        let realGradient = try Support.gradient(of: function.apply, at: z)
        Support.expectComplexValues(realGradient, points.map { derivative($0).conjugate }, tolerance: 1e-12)
        let imaginaryGradient = try Support.gradient(of: { try imag(function.apply($0)) }, at: z)
        Support.expectComplexValues(imaginaryGradient, points.map { C(0, 1) * derivative($0).conjugate }, tolerance: 1e-12)
    }

    @Test func knownGradientsOfNonHolomorphicFunctions() throws {
        let z = DLArray(points)
        Support.expectComplexValues(try Support.gradient(of: abs, at: z), points.map { $0 / C($0.length) })
        Support.expectComplexValues(try Support.gradient(of: angle, at: z), points.map { C(0, 1) * $0 / C($0.lengthSquared) })
        Support.expectComplexValues(try Support.gradient(of: real, at: z), points.map { _ in C(1, 0) })
        Support.expectComplexValues(try Support.gradient(of: imag, at: z), points.map { _ in C(0, 1) })
        Support.expectComplexValues(try Support.gradient(of: { imag(conj($0)) }, at: z), points.map { _ in C(0, -1) })
        // Re(sign z) = x / |z|: gradient (y², -xy) / |z|³.
        Support.expectComplexValues(try Support.gradient(of: sign, at: z), points.map { p in
            C(p.imaginary * p.imaginary, -p.real * p.imaginary) / C(Foundation.pow(p.length, 3))
        })
    }

    @Test(arguments: ComplexFunctionCase.all)
    func gradientsMatchFiniteDifferencesToOrderTwo(function: ComplexFunctionCase) throws {
        let z = try DLArray(points, shape: [2, 2])
        // The real and the imaginary part of the result; multiplied by sin(z) so that the
        // second-order check runs each rule on a traced gradient, linear functions included.
        try Support.expectGradcheck({ (z: DLArray) in try function.apply(z) }, at: z, orders: 1...1)
        try Support.expectGradcheck({ (z: DLArray) in try imag(function.apply(z)) }, at: z, orders: 1...1)
        try Support.expectGradcheck({ (z: DLArray) in try function.apply(z) * sin(z) }, at: z, orders: 1...2)
        try Support.expectGradcheck({ (z: DLArray) in try imag(function.apply(z) * sin(z)) }, at: z, orders: 1...2)
    }

    @Test func complexFromPartsMatchesFiniteDifferences() throws {
        let re = try DLArray([0.4, -1.1], shape: [2, 1]), im = DLArray([0.3, 0.9, -0.5])
        try Support.expectGradcheck({ (v: [DLArray]) in try exp(complex(v[0], v[1])) }, at: [re, im])
        try Support.expectGradcheck({ (v: [DLArray]) in try imag(sin(complex(v[0], v[1]))) }, at: [re, im])
        // Re((2+3i)(a+ib)) = 2a - 3b.
        let (ga, gb) = try dlfeval({ (a: DLArray, b: DLArray) in
            try dlgradient(sum(real(complex(a, b) * DLArray([C(2, 3)]))), a, b)
        }, DLArray([0.5, 1.0]), DLArray([-1.0, 2.0]))
        Support.expectValues(ga, [2, 2])
        Support.expectValues(gb, [-3, -3])
    }

    @Test(arguments: 1...3)
    func compositionsMatchFiniteDifferencesToOrderThree(order: Int) throws {
        let z = DLArray(points)
        let functions: [(DLArray) throws -> DLArray] = [
                         { (z: DLArray) in try abs(exp(z) * sin(z)) },
                         { (z: DLArray) in try sqrt(z) * log(z) + tanh(z) / (z ** 2 + 2) },
                         { (z: DLArray) in try angle(z) * real(sign(z) * conj(z)) }]
        for function in functions {
            let result = try gradcheck(function, at: z, order: order)
            #expect(result.passed, "\(result)")
        }
    }

    @Test func gradientWithRespectToComplexNeedsAllowComplex() throws {
        let z = DLArray([C(1, 1)])
        #expect(throws: DLError.self) {
            try dlfeval({ (z: DLArray) in try dlgradient(sum(abs(z)), z) }, z)
        }
    }

    // MARK: Errors

    @Test func complexRejectsComplexPartsAndMismatchedShapes() {
        Support.expectError(.unsupportedType, mentioning: ["complex", "complex128"]) {
            _ = try complex(DLArray([C(1, 1)]), DLArray([1.0]))
        }
        Support.expectError(.unsupportedType, mentioning: ["complex64"]) {
            _ = try complex(DLArray([1.0]), DLArray([Complex<Float>(1, 1)]))
        }
        Support.expectError(.shapeMismatch, mentioning: ["complex", "[2]", "[3]"]) {
            _ = try complex(DLArray([1.0, 2.0]), DLArray([1.0, 2.0, 3.0]))
        }
    }
}
