import RealModule

// Rounding and remainders, as MATLAB's floor, ceil, round, fix, mod and rem. Rounding is
// piecewise constant: its derivative is zero wherever it exists, so the rules give zeros (not
// the error "does not depend on x"). mod and rem are piecewise linear in both arguments, with
// the integer quotient held constant in their rules.

enum Floor: RealUnaryFunction {
    static var grain: Int { Parallel.elementGrain }
    static func apply<T: DLRealElement>(_ x: T) -> T { x.rounded(.down) }
}
enum Ceil: RealUnaryFunction {
    static var grain: Int { Parallel.elementGrain }
    static func apply<T: DLRealElement>(_ x: T) -> T { x.rounded(.up) }
}
enum RoundHalfAway: RealUnaryFunction {
    static var grain: Int { Parallel.elementGrain }
    static func apply<T: DLRealElement>(_ x: T) -> T { x.rounded(.toNearestOrAwayFromZero) }
}
enum Fix: RealUnaryFunction {
    static var grain: Int { Parallel.elementGrain }
    static func apply<T: DLRealElement>(_ x: T) -> T { x.rounded(.towardZero) }
}

/// The remainder after division with the sign of the divisor, `a - floor(a/b)·b`; `a` where
/// `b` is 0 (MATLAB's `mod`, PyTorch's `remainder`). Computed from the exact `fmod`.
enum FlooredRemainder: RealBinaryFunction {
    static var grain: Int { Parallel.functionGrain }
    static func apply<T: DLRealElement>(_ a: T, _ b: T) -> T {
        if b == 0 { return a }
        let r = a.truncatingRemainder(dividingBy: b)
        return r != 0 && (r < 0) != (b < 0) ? r + b : r
    }
}
/// The remainder after division with the sign of the dividend, `a - fix(a/b)·b`; NaN where
/// `b` is 0 (MATLAB's `rem`, PyTorch's `fmod`).
enum TruncatedRemainder: RealBinaryFunction {
    static var grain: Int { Parallel.functionGrain }
    static func apply<T: DLRealElement>(_ a: T, _ b: T) -> T { a.truncatingRemainder(dividingBy: b) }
}
/// The integer quotient `(a - r) / b` that a remainder `r` of `a` by `b` implies (0 where b is
/// 0): the slope of the remainder in `b`.
enum RemainderQuotient: RealBinaryFunction {
    static var grain: Int { Parallel.elementGrain }
    static func apply<T: DLRealElement>(_ ar: T, _ b: T) -> T { b == 0 ? 0 : (ar / b).rounded() }
}

/// Rounds each element with the real kernel `F`, recorded with a zero derivative.
func rounded<F: RealUnaryFunction>(_ x: DLArray, _ function: F.Type, _ name: String) throws -> DLArray {
    try requireReal(x, name)
    return x.mapReal(F.self).withLabels(x.labels).recordedWithZeroDerivative(from: x)
}

/// Each element rounded toward negative infinity (MATLAB's `floor`); its derivative is 0.
/// - Throws: ``DLError/unsupportedType(_:)`` for complex input.
public func floor(_ x: DLArray) throws -> DLArray { try rounded(x, Floor.self, "floor") }

/// Each element rounded toward positive infinity (MATLAB's `ceil`); its derivative is 0.
/// - Throws: ``DLError/unsupportedType(_:)`` for complex input.
public func ceil(_ x: DLArray) throws -> DLArray { try rounded(x, Ceil.self, "ceil") }

/// Each element rounded to the nearest integer, halves away from zero as MATLAB's `round`
/// (PyTorch's `round` takes halves to even); its derivative is 0.
/// - Throws: ``DLError/unsupportedType(_:)`` for complex input.
public func round(_ x: DLArray) throws -> DLArray { try rounded(x, RoundHalfAway.self, "round") }

/// Each element rounded toward zero (MATLAB's `fix`, PyTorch's `trunc`); its derivative is 0.
/// - Throws: ``DLError/unsupportedType(_:)`` for complex input.
public func fix(_ x: DLArray) throws -> DLArray { try rounded(x, Fix.self, "fix") }

/// The remainder of `a` divided by `b` with the sign of `b`, `a - floor(a/b)·b`, elementwise
/// with broadcasting: MATLAB's `mod` (`mod(a, 0)` is `a`), PyTorch's `remainder`.
///
/// Its derivatives are 1 in `a` and `-floor(a/b)` in `b` (0 where `b` is 0), away from the
/// jumps where `a/b` is an integer; second derivatives are 0.
/// - Throws: ``DLError/unsupportedType(_:)`` for complex input, ``DLError/shapeMismatch(_:)``.
public func mod(_ a: DLArray, _ b: DLArray) throws -> DLArray {
    try remainder(a, b, FlooredRemainder.self, "mod")
}

/// `mod` of every element by a scalar.
public func mod(_ a: DLArray, _ b: Double) throws -> DLArray { try mod(a, scalarOperand(b, like: a)) }

/// The remainder of `a` divided by `b` with the sign of `a`, `a - fix(a/b)·b`, elementwise
/// with broadcasting: MATLAB's `rem` (`rem(a, 0)` is NaN), PyTorch's `fmod`.
///
/// Its derivatives are 1 in `a` and `-fix(a/b)` in `b`, away from the jumps; second
/// derivatives are 0.
/// - Throws: ``DLError/unsupportedType(_:)`` for complex input, ``DLError/shapeMismatch(_:)``.
public func rem(_ a: DLArray, _ b: DLArray) throws -> DLArray {
    try remainder(a, b, TruncatedRemainder.self, "rem")
}

/// `rem` of every element by a scalar.
public func rem(_ a: DLArray, _ b: Double) throws -> DLArray { try rem(a, scalarOperand(b, like: a)) }

func remainder<F: RealBinaryFunction>(_ a: DLArray, _ b: DLArray, _ function: F.Type, _ name: String) throws -> DLArray {
    try requireReal(a, name)
    try requireReal(b, name)
    let o = try BinaryOperands(a, b, operation: name)
    let value = dispatchReal(o.a.dataType, RealZip<F>(a: o.a, b: o.b, shape: o.shape)).withLabels(o.labels)
    return value.recorded(from: o.a, o.b) { g, needs in
        var gradientB: DLArray? = nil
        if needs[1] {
            // The quotient is piecewise constant: it enters the rule as a constant.
            let dividend = try extractdata(o.a).broadcast(to: o.shape) - extractdata(value)
            let divisor = try extractdata(o.b).broadcast(to: o.shape)
            let quotient = dispatchReal(dividend.dataType, RealZip<RemainderQuotient>(a: dividend, b: divisor, shape: o.shape))
            gradientB = try (-(g * quotient)).summed(toShape: o.b.shape)
        }
        return (needs[0] ? try g.summed(toShape: o.a.shape) : nil, gradientB)
    }
}

enum Hypotenuse: RealBinaryFunction {
    static var grain: Int { Parallel.functionGrain }
    static func apply<T: DLRealElement>(_ a: T, _ b: T) -> T { .hypot(a, b) }
}

/// `sqrt(a² + b²)` elementwise with broadcasting, without overflow or underflow (MATLAB's and
/// PyTorch's `hypot`). Its gradient `(a, b)/hypot(a, b)` is taken as 0 where both are 0.
/// - Throws: ``DLError/unsupportedType(_:)`` for complex input, ``DLError/shapeMismatch(_:)``.
public func hypot(_ a: DLArray, _ b: DLArray) throws -> DLArray {
    try requireReal(a, "hypot")
    try requireReal(b, "hypot")
    let o = try BinaryOperands(a, b, operation: "hypot")
    let value = dispatchReal(o.a.dataType, RealZip<Hypotenuse>(a: o.a, b: o.b, shape: o.shape)).withLabels(o.labels)
    return value.recordedUsingOutput(from: [o.a, o.b]) { g, needs, y in
        let safe = try select(y .== 0, 1, y)
        return [needs[0] ? try (g * o.a / safe).summed(toShape: o.a.shape) : nil,
                needs[1] ? try (g * o.b / safe).summed(toShape: o.b.shape) : nil]
    }
}
