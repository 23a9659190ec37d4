import RealModule

precedencegroup ExponentiationPrecedence {
    associativity: right
    higherThan: MultiplicationPrecedence
}

/// Elementwise power, MATLAB's `.^`: `x ** 2`.
infix operator ** : ExponentiationPrecedence

enum Add: FloatingBinaryFunction {
    @inline(__always) static func apply<T: DLFloatingElement>(_ a: T, _ b: T) -> T { a + b }
}
enum Subtract: FloatingBinaryFunction {
    @inline(__always) static func apply<T: DLFloatingElement>(_ a: T, _ b: T) -> T { a - b }
}
enum Multiply: FloatingBinaryFunction {
    @inline(__always) static func apply<T: DLFloatingElement>(_ a: T, _ b: T) -> T { a * b }
}
enum Divide: FloatingBinaryFunction {
    @inline(__always) static func apply<T: DLFloatingElement>(_ a: T, _ b: T) -> T { a / b }
}
enum Power: FloatingBinaryFunction {
    static var grain: Int { Parallel.functionGrain }
    @inline(__always) static func apply<T: DLFloatingElement>(_ a: T, _ b: T) -> T {
        b == T(dlValue: 2) ? a * a : T.power(a, b)
    }
}
enum Square: FloatingUnaryFunction {
    static var grain: Int { Parallel.elementGrain }
    @inline(__always) static func apply<T: DLFloatingElement>(_ x: T) -> T { x * x }
}
enum Negate: FloatingUnaryFunction {
    static var grain: Int { Parallel.elementGrain }
    @inline(__always) static func apply<T: DLFloatingElement>(_ x: T) -> T { -x }
}

extension BinaryOperands {
    /// Runs the elementwise kernel `F` on the operands.
    func zip<F: FloatingBinaryFunction>(_ function: F.Type) -> DLArray {
        dispatchFloating(a.dataType, FloatingZip<F>(a: a, b: b, shape: shape)).withLabels(labels)
    }
}

// MARK: - The operations and their derivative rules

func add(_ o: BinaryOperands) -> DLArray {
    o.zip(Add.self).recorded(from: o.a, o.b) { g, needs in
        (needs[0] ? try g.summed(toShape: o.a.shape) : nil, needs[1] ? try g.summed(toShape: o.b.shape) : nil)
    }
}

func subtract(_ o: BinaryOperands) -> DLArray {
    o.zip(Subtract.self).recorded(from: o.a, o.b) { g, needs in
        (needs[0] ? try g.summed(toShape: o.a.shape) : nil, needs[1] ? try (-g).summed(toShape: o.b.shape) : nil)
    }
}

func multiply(_ o: BinaryOperands) -> DLArray {
    o.zip(Multiply.self).recorded(from: o.a, o.b) { g, needs in
        (needs[0] ? try (g * conj(o.b)).summed(toShape: o.a.shape) : nil,
         needs[1] ? try (g * conj(o.a)).summed(toShape: o.b.shape) : nil)
    }
}

func divide(_ o: BinaryOperands) -> DLArray {
    o.zip(Divide.self).recordedUsingOutput(from: [o.a, o.b]) { g, needs, y in
        [needs[0] ? try (g / conj(o.b)).summed(toShape: o.a.shape) : nil,
         needs[1] ? try (-(g * conj(y / o.b))).summed(toShape: o.b.shape) : nil]
    }
}

func power(_ o: BinaryOperands) -> DLArray {
    o.zip(Power.self).recordedUsingOutput(from: [o.a, o.b]) { g, needs, y in
        var result: [DLArray?] = [nil, nil]
        if needs[0] {
            // d(a^b)/da = b a^(b-1), written without dividing by a so a = 0 is fine. Where b = 0
            // it is 0 (a^0 = 1 everywhere): the base is taken as 1 there, so 0·0^(-1) = NaN
            // does not appear, nor its 0·∞ in higher derivatives.
            let base = try select(o.b .== 0, 1, o.a)
            result[0] = try (g * conj(o.b * (base ** (o.b - 1)))).summed(toShape: o.a.shape)
        }
        if needs[1] {
            // d(a^b)/db = a^b log(a); taken as 0 where a = 0 (the limit for b > 0), as PyTorch.
            let zero = try o.a .== 0
            let safeBase = try select(zero, 1, o.a)
            result[1] = try (g * conj(y * log(safeBase))).summed(toShape: o.b.shape)
        }
        return result
    }
}

extension DLArray {
    /// This array as an operand of arithmetic: bool arrays become float32.
    var arithmeticOperand: DLArray { dataType == .bool ? converted(to: .float32) : self }

    /// `F` applied to every element and the Swift scalar `c` (`c` first when `scalarFirst`),
    /// untraced: the caller records it with its own rule.
    func applying<F: FloatingBinaryFunction>(_ function: F.Type, scalar c: Double, scalarFirst: Bool = false) -> DLArray {
        dispatchFloating(dataType, FloatingScalarMap<F>(x: self, scalar: c, scalarFirst: scalarFirst))
    }
}

/// `x ** c` for a constant exponent: its rule needs one product for `c = 2`.
func power(_ x: DLArray, constant c: Double) -> DLArray {
    let base = x.dataType == .bool ? x.converted(to: .float32) : x
    if c == 1 { return base }
    let value = c == 2 ? base.mapFloating(Square.self) : base.applying(Power.self, scalar: c)
    return value.recorded(from: base) { g in
        // a^0 = 1 everywhere: the derivative is 0, also at a = 0 (not 0·0^(-1) = NaN).
        if c == 0 { return DLArray.zeros(like: extractdata(g)) }
        return try g * conj(c == 2 ? 2 * base : c * power(base, constant: c - 1))
    }
}

// MARK: - Operators

extension DLArray {
    /// Elementwise sum, with broadcasting.
    /// - Throws: ``DLError/shapeMismatch(_:)`` when the shapes do not broadcast.
    public static func + (a: DLArray, b: DLArray) throws -> DLArray { add(try BinaryOperands(a, b, operation: "+")) }
    /// Adds a scalar to every element.
    public static func + (a: DLArray, b: Double) -> DLArray {
        let x = a.arithmeticOperand
        return x.applying(Add.self, scalar: b).recorded(from: x) { g in g }
    }
    /// Adds a scalar to every element.
    public static func + (a: Double, b: DLArray) -> DLArray { b + a }

    /// Elementwise difference, with broadcasting.
    public static func - (a: DLArray, b: DLArray) throws -> DLArray { subtract(try BinaryOperands(a, b, operation: "-")) }
    /// Subtracts a scalar from every element.
    public static func - (a: DLArray, b: Double) -> DLArray {
        let x = a.arithmeticOperand
        return x.applying(Subtract.self, scalar: b).recorded(from: x) { g in g }
    }
    /// Subtracts every element from a scalar.
    public static func - (a: Double, b: DLArray) -> DLArray {
        let x = b.arithmeticOperand
        return x.applying(Subtract.self, scalar: a, scalarFirst: true).recorded(from: x) { g in -g }
    }

    /// Elementwise product (MATLAB's `.*`), with broadcasting.
    public static func * (a: DLArray, b: DLArray) throws -> DLArray { multiply(try BinaryOperands(a, b, operation: "*")) }
    /// Multiplies every element by a scalar.
    public static func * (a: DLArray, b: Double) -> DLArray {
        let x = a.arithmeticOperand
        return x.applying(Multiply.self, scalar: b).recorded(from: x) { g in g * b }
    }
    /// Multiplies every element by a scalar.
    public static func * (a: Double, b: DLArray) -> DLArray { b * a }

    /// Elementwise quotient (MATLAB's `./`), with broadcasting.
    public static func / (a: DLArray, b: DLArray) throws -> DLArray { divide(try BinaryOperands(a, b, operation: "/")) }
    /// Divides every element by a scalar.
    public static func / (a: DLArray, b: Double) -> DLArray {
        let x = a.arithmeticOperand
        return x.applying(Divide.self, scalar: b).recorded(from: x) { g in g / b }
    }
    /// Divides a scalar by every element.
    public static func / (a: Double, b: DLArray) -> DLArray {
        let x = b.arithmeticOperand
        // d(c/x)/dx = -c/x² = -y/x.
        return x.applying(Divide.self, scalar: a, scalarFirst: true).recordedUsingOutput(from: x) { g, y in
            try -(g * conj(y / x))
        }
    }

    /// Elementwise power (MATLAB's `.^`), with broadcasting. For real arrays a negative base
    /// needs an integral exponent (else NaN); complex arrays use the principal branch.
    public static func ** (a: DLArray, b: DLArray) throws -> DLArray { power(try BinaryOperands(a, b, operation: "**")) }
    /// Raises every element to a scalar power.
    public static func ** (a: DLArray, b: Double) -> DLArray { power(a, constant: b) }
    /// Raises a scalar to the power of every element.
    public static func ** (a: Double, b: DLArray) -> DLArray { power(BinaryOperands(scalar: a, b)) }

    /// Elementwise negation.
    public static prefix func - (x: DLArray) -> DLArray {
        x.mapFloating(Negate.self).recorded(from: x) { g in -g }
    }

    /// Adds `b` to `a` in place (a new traced value when tracing).
    public static func += (a: inout DLArray, b: DLArray) throws { a = try a + b }
    /// Subtracts `b` from `a` in place.
    public static func -= (a: inout DLArray, b: DLArray) throws { a = try a - b }
    /// Multiplies `a` by `b` in place.
    public static func *= (a: inout DLArray, b: DLArray) throws { a = try a * b }
    /// Divides `a` by `b` in place.
    public static func /= (a: inout DLArray, b: DLArray) throws { a = try a / b }
}

/// Elementwise power: `a ** b` as a function.
public func pow(_ a: DLArray, _ b: DLArray) throws -> DLArray { try a ** b }
/// Raises every element to a scalar power.
public func pow(_ a: DLArray, _ b: Double) -> DLArray { a ** b }
