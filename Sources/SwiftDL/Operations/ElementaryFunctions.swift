import CSwiftDLSupport
import RealModule

// Each function: its kernel, then its derivative rule written with SwiftDL operations, so
// the rule is itself differentiable. `conj` makes a rule hold for complex arrays too
// (conjugate Wirtinger convention); it costs nothing for real ones.

enum Exp: FloatingUnaryFunction, FloatVectorFunction {
    static func apply<T: DLFloatingElement>(_ x: T) -> T { .exp(x) }
    static func apply(count: Int, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) { swiftdl_exp_f32(count, x, y) }
}
enum Log: FloatingUnaryFunction { static func apply<T: DLFloatingElement>(_ x: T) -> T { .log(x) } }
enum Log1p: FloatingUnaryFunction { static func apply<T: DLFloatingElement>(_ x: T) -> T { .log(onePlus: x) } }
enum Expm1: FloatingUnaryFunction { static func apply<T: DLFloatingElement>(_ x: T) -> T { .expMinusOne(x) } }
enum Sqrt: FloatingUnaryFunction { static func apply<T: DLFloatingElement>(_ x: T) -> T { .sqrt(x) } }
enum Sin: FloatingUnaryFunction { static func apply<T: DLFloatingElement>(_ x: T) -> T { .sin(x) } }
enum Cos: FloatingUnaryFunction { static func apply<T: DLFloatingElement>(_ x: T) -> T { .cos(x) } }
enum Tan: FloatingUnaryFunction { static func apply<T: DLFloatingElement>(_ x: T) -> T { .tan(x) } }
enum Asin: FloatingUnaryFunction { static func apply<T: DLFloatingElement>(_ x: T) -> T { .asin(x) } }
enum Acos: FloatingUnaryFunction { static func apply<T: DLFloatingElement>(_ x: T) -> T { .acos(x) } }
enum Atan: FloatingUnaryFunction { static func apply<T: DLFloatingElement>(_ x: T) -> T { .atan(x) } }
enum Sinh: FloatingUnaryFunction { static func apply<T: DLFloatingElement>(_ x: T) -> T { .sinh(x) } }
enum Cosh: FloatingUnaryFunction { static func apply<T: DLFloatingElement>(_ x: T) -> T { .cosh(x) } }
enum Tanh: FloatingUnaryFunction, FloatVectorFunction {
    static func apply<T: DLFloatingElement>(_ x: T) -> T { .tanh(x) }
    static func apply(count: Int, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) { swiftdl_tanh_f32(count, x, y) }
}
enum Asinh: FloatingUnaryFunction { static func apply<T: DLFloatingElement>(_ x: T) -> T { .asinh(x) } }
enum Acosh: FloatingUnaryFunction { static func apply<T: DLFloatingElement>(_ x: T) -> T { .acosh(x) } }
enum Atanh: FloatingUnaryFunction { static func apply<T: DLFloatingElement>(_ x: T) -> T { .atanh(x) } }
enum Sigmoid: FloatingUnaryFunction {
    static func apply<T: DLFloatingElement>(_ x: T) -> T { 1 / (1 + .exp(-x)) }
}
enum Erf: RealUnaryFunction { static func apply<T: DLRealElement>(_ x: T) -> T { .erf(x) } }
enum Relu: RealUnaryFunction {
    static var grain: Int { Parallel.elementGrain }
    // NaN stays NaN, as in PyTorch.
    static func apply<T: DLRealElement>(_ x: T) -> T { x > 0 || x.isNaN ? x : 0 }
}
enum Sign: FloatingUnaryFunction {
    static var grain: Int { Parallel.elementGrain }
    // x/|x|: -1, 0 or 1 for reals, the unit number of the same angle for complex ones.
    static func apply<T: DLFloatingElement>(_ x: T) -> T {
        let magnitude = x.magnitudeValue
        return magnitude == 0 ? x : x / T(realPart: magnitude, imaginaryPart: 0)
    }
}
enum Softplus: RealUnaryFunction {
    // log(1 + e^x) = max(x, 0) + log(1 + e^-|x|), exact for large |x|.
    static func apply<T: DLRealElement>(_ x: T) -> T { Swift.max(x, 0) + .log(onePlus: .exp(-Swift.abs(x))) }
}
enum RealSigmoid: RealUnaryFunction, FloatVectorFunction {
    // Evaluated so that exp never overflows.
    static func apply<T: DLRealElement>(_ x: T) -> T {
        x >= 0 ? 1 / (1 + .exp(-x)) : { let e = T.exp(x); return e / (1 + e) }()
    }
    static func apply(count: Int, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) { swiftdl_sigmoid_f32(count, x, y) }
}

extension DLArray {
    /// Records `self` as a function of `x` whose derivative is zero (the sign or angle of a
    /// real array): differentiating it gives zeros, not the error "does not depend on x".
    func recordedWithZeroDerivative(from x: DLArray) -> DLArray {
        recorded(from: x) { g in DLArray.zeros(like: extractdata(g)) }
    }
}

/// Throws unless `x` is real, for functions defined on real numbers only.
func requireReal(_ x: DLArray, _ function: String) throws {
    guard !x.dataType.isComplex else {
        throw DLError.unsupportedType("\(function) is defined for real arrays; this one is \(x.dataType). Take real(x) or abs(x) first.")
    }
}

/// e raised to each element.
public func exp(_ x: DLArray) -> DLArray {
    x.mapFloating(Exp.self).recordedUsingOutput(from: x) { g, y in try g * conj(y) }
}

/// The natural logarithm of each element (complex: principal branch; real negative: NaN).
public func log(_ x: DLArray) -> DLArray {
    x.mapFloating(Log.self).recorded(from: x) { g in try g / conj(x) }
}

/// log(1 + x), accurate for small x.
public func log1p(_ x: DLArray) -> DLArray {
    x.mapFloating(Log1p.self).recorded(from: x) { g in try g / conj(x + 1) }
}

/// e^x - 1, accurate for small x.
public func expm1(_ x: DLArray) -> DLArray {
    x.mapFloating(Expm1.self).recordedUsingOutput(from: x) { g, y in try g * conj(y + 1) }
}

/// The square root of each element (complex: principal branch; real negative: NaN).
public func sqrt(_ x: DLArray) -> DLArray {
    x.mapFloating(Sqrt.self).recordedUsingOutput(from: x) { g, y in try g / conj(2 * y) }
}

/// The sine of each element.
public func sin(_ x: DLArray) -> DLArray {
    x.mapFloating(Sin.self).recorded(from: x) { g in try g * conj(cos(x)) }
}

/// The cosine of each element.
public func cos(_ x: DLArray) -> DLArray {
    x.mapFloating(Cos.self).recorded(from: x) { g in try -(g * conj(sin(x))) }
}

/// The tangent of each element.
public func tan(_ x: DLArray) -> DLArray {
    x.mapFloating(Tan.self).recordedUsingOutput(from: x) { g, y in try g * conj(1 + y * y) }
}

/// The inverse sine of each element.
public func asin(_ x: DLArray) -> DLArray {
    x.mapFloating(Asin.self).recorded(from: x) { g in try g / conj(sqrt(1 - x * x)) }
}

/// The inverse cosine of each element.
public func acos(_ x: DLArray) -> DLArray {
    x.mapFloating(Acos.self).recorded(from: x) { g in try -(g / conj(sqrt(1 - x * x))) }
}

/// The inverse tangent of each element.
public func atan(_ x: DLArray) -> DLArray {
    x.mapFloating(Atan.self).recorded(from: x) { g in try g / conj(1 + x * x) }
}

/// The hyperbolic sine of each element.
public func sinh(_ x: DLArray) -> DLArray {
    x.mapFloating(Sinh.self).recorded(from: x) { g in try g * conj(cosh(x)) }
}

/// The hyperbolic cosine of each element.
public func cosh(_ x: DLArray) -> DLArray {
    x.mapFloating(Cosh.self).recorded(from: x) { g in try g * conj(sinh(x)) }
}

/// The hyperbolic tangent of each element.
public func tanh(_ x: DLArray) -> DLArray {
    x.mapFloating(Tanh.self).recordedUsingOutput(from: x) { g, y in try tanhGradient(g, output: y) }
}

/// The gradient through `tanh` at its output `y`, `g·(1 − y²)`: one pass over the elements for
/// real arrays of one shape and type (where a product, a difference and a square would take
/// three, and their own backward pass six). Its derivative rule, `tanhGradient(G, y)` for `g`
/// and `−2·(G·g)·y` for `y`, keeps the passes as few in higher derivatives, which is where a
/// tanh network's physics-informed loss spends its time.
func tanhGradient(_ g: DLArray, output y: DLArray) throws -> DLArray {
    guard g.shape == y.shape, g.dataType == y.dataType, g.dataType.isFloatingPoint, !g.dataType.isComplex else {
        return try g * conj(1 - y * y)
    }
    struct Kernel: RealKernel {
        let g: DLArray, y: DLArray
        func run<T: DLRealElement>(_ type: T.Type) -> DLArray {
            zipElements(g, y, shape: g.shape, TanhGradientMapping<T>())
        }
    }
    return dispatchReal(g.dataType, Kernel(g: g, y: y)).withLabels(g.labels).recorded(from: g, y) { gradient, needs in
        (needs[0] ? try tanhGradient(gradient, output: y) : nil,
         needs[1] ? try negatedDoubleProduct(gradient * g, y) : nil)
    }
}

/// The element of ``tanhGradient(_:output:)``: `g·(1 − y²)`.
private struct TanhGradientMapping<T: DLRealElement>: ElementPairMapping {
    @inline(__always) func callAsFunction(_ g: T, _ y: T) -> T { g * (1 - y * y) }
}

/// `−2·a·b`, in one pass for real arrays of one shape and type: the second derivative of
/// `tanh` through ``tanhGradient(_:output:)``. Its derivative rule is itself: `−2·G·b` for `a`,
/// `−2·G·a` for `b`.
func negatedDoubleProduct(_ a: DLArray, _ b: DLArray) throws -> DLArray {
    guard a.shape == b.shape, a.dataType == b.dataType, a.dataType.isFloatingPoint, !a.dataType.isComplex else {
        return try -2 * (a * b)
    }
    struct Kernel: RealKernel {
        let a: DLArray, b: DLArray
        func run<T: DLRealElement>(_ type: T.Type) -> DLArray {
            zipElements(a, b, shape: a.shape, NegatedDoubleProductMapping<T>())
        }
    }
    return dispatchReal(a.dataType, Kernel(a: a, b: b)).withLabels(a.labels).recorded(from: a, b) { gradient, needs in
        (needs[0] ? try negatedDoubleProduct(gradient, b) : nil, needs[1] ? try negatedDoubleProduct(gradient, a) : nil)
    }
}

/// The element of ``negatedDoubleProduct(_:_:)``: `−2·a·b`.
private struct NegatedDoubleProductMapping<T: DLRealElement>: ElementPairMapping {
    @inline(__always) func callAsFunction(_ a: T, _ b: T) -> T { -2 * a * b }
}

/// The inverse hyperbolic sine of each element.
public func asinh(_ x: DLArray) -> DLArray {
    x.mapFloating(Asinh.self).recorded(from: x) { g in try g / conj(sqrt(x * x + 1)) }
}

/// The inverse hyperbolic cosine of each element (real: defined for x ≥ 1).
public func acosh(_ x: DLArray) -> DLArray {
    x.mapFloating(Acosh.self).recorded(from: x) { g in try g / conj(sqrt(x - 1) * sqrt(x + 1)) }
}

/// The inverse hyperbolic tangent of each element.
public func atanh(_ x: DLArray) -> DLArray {
    x.mapFloating(Atanh.self).recorded(from: x) { g in try g / conj(1 - x * x) }
}

/// The logistic sigmoid 1 / (1 + e^-x) of each element.
public func sigmoid(_ x: DLArray) -> DLArray {
    let y = x.dataType.isComplex ? x.mapFloating(Sigmoid.self) : x.mapReal(RealSigmoid.self)
    return y.recordedUsingOutput(from: x) { g, y in try g * conj(y * (1 - y)) }
}

/// The error function of each element.
/// - Throws: ``DLError/unsupportedType(_:)`` for complex input.
public func erf(_ x: DLArray) throws -> DLArray {
    try requireReal(x, "erf")
    return x.mapReal(Erf.self).recorded(from: x) { g in
        try g * ((2 / Double.pi.squareRoot()) * exp(-(x * x)))
    }
}

/// The rectified linear unit max(x, 0) of each element; its derivative at 0 is taken as 0.
/// - Throws: ``DLError/unsupportedType(_:)`` for complex input.
public func relu(_ x: DLArray) throws -> DLArray {
    try requireReal(x, "relu")
    return x.mapReal(Relu.self).recorded(from: x) { g in slopeScaled(g, by: x, scale: 0) }
}

/// log(1 + e^x) of each element, computed without overflow.
/// - Throws: ``DLError/unsupportedType(_:)`` for complex input.
public func softplus(_ x: DLArray) throws -> DLArray {
    try requireReal(x, "softplus")
    return x.mapReal(Softplus.self).recorded(from: x) { g in try g * sigmoid(x) }
}

/// The sign of each element: -1, 0 or 1 for reals (derivative zero), x/|x| (0 at 0) for
/// complex numbers (differentiable away from 0).
public func sign(_ x: DLArray) -> DLArray {
    let value = x.mapFloating(Sign.self)
    guard x.dataType.isComplex else { return value.recordedWithZeroDerivative(from: x) }
    guard x.isTraced else { return value }
    let magnitude = abs(x)
    // x/|x| through traced operations, with |x| replaced by 1 where it is 0 (no 0/0); the
    // operands have x's shape, so the same-shape arithmetic cannot fail.
    let safe = add(BinaryOperands(sameShape: magnitude, extractdata(magnitude).mapReal(IsZero.self)))
    return divide(BinaryOperands(sameShape: x, safe.converted(to: x.dataType)))
}

enum IsZero: RealUnaryFunction {
    static var grain: Int { Parallel.elementGrain }
    static func apply<T: DLRealElement>(_ x: T) -> T { x == 0 ? 1 : 0 }
}

/// The absolute value (modulus) of each element; real for complex input. Its derivative at 0
/// is taken as 0.
public func abs(_ x: DLArray) -> DLArray {
    let y: DLArray
    switch x.dataType {
    case .complex64, .complex128: y = x.complexMagnitude()
    default: y = x.mapReal(Absolute.self)
    }
    return y.withLabels(x.labels).recorded(from: x) { g in try g * sign(x) }
}

enum Absolute: RealUnaryFunction {
    static var grain: Int { Parallel.elementGrain }
    static func apply<T: DLRealElement>(_ x: T) -> T { Swift.abs(x) }
}

// MARK: - Reciprocal trigonometric functions, composed of the ones above (their derivative
// rules follow from those of the parts, to every order).

/// The secant 1/cos(x) of each element.
public func sec(_ x: DLArray) -> DLArray { 1 / cos(x) }

/// The cosecant 1/sin(x) of each element.
public func csc(_ x: DLArray) -> DLArray { 1 / sin(x) }

/// The cotangent cos(x)/sin(x) of each element.
public func cot(_ x: DLArray) -> DLArray { 1 / tan(x) }

/// The inverse secant acos(1/x) of each element (real: defined for |x| ≥ 1).
public func asec(_ x: DLArray) -> DLArray { acos(1 / x) }

/// The inverse cosecant asin(1/x) of each element (real: defined for |x| ≥ 1).
public func acsc(_ x: DLArray) -> DLArray { asin(1 / x) }

/// The inverse cotangent atan(1/x) of each element, in (-π/2, π/2] as MATLAB's `acot`.
public func acot(_ x: DLArray) -> DLArray { atan(1 / x) }
