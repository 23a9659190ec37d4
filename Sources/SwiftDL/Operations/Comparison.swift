import RealModule

enum Less: RealPredicate { static func apply<T: DLRealElement>(_ a: T, _ b: T) -> Bool { a < b } }
enum LessOrEqual: RealPredicate { static func apply<T: DLRealElement>(_ a: T, _ b: T) -> Bool { a <= b } }
enum Greater: RealPredicate { static func apply<T: DLRealElement>(_ a: T, _ b: T) -> Bool { a > b } }
enum GreaterOrEqual: RealPredicate { static func apply<T: DLRealElement>(_ a: T, _ b: T) -> Bool { a >= b } }

/// Compares two arrays elementwise with broadcasting, giving a bool array (not traced).
func compare<F: RealPredicate>(_ a: DLArray, _ b: DLArray, _ test: F.Type, _ name: String) throws -> DLArray {
    try requireReal(a, name)
    try requireReal(b, name)
    let o = try BinaryOperands(extractdata(a).withLabels(a.labels), extractdata(b).withLabels(b.labels), operation: name)
    return dispatchReal(o.a.dataType, RealTest<F>(a: o.a, b: o.b, shape: o.shape)).withLabels(o.labels)
}

/// Tests two arrays for elementwise equality (complex too), giving a bool array.
func equal(_ a: DLArray, _ b: DLArray, negate: Bool) throws -> DLArray {
    let o = try BinaryOperands(extractdata(a).withLabels(a.labels), extractdata(b).withLabels(b.labels),
                               operation: negate ? ".!=" : ".==")
    struct Equal: FloatingKernel {
        let o: BinaryOperands, negate: Bool
        func run<T: DLFloatingElement>(_ type: T.Type) -> DLArray {
            // Part by part, with IEEE semantics: swift-numerics' `Complex ==` counts every
            // non-finite value as equal (NaN == NaN, ∞ == i∞), which MATLAB and PyTorch do not.
            zipElements(o.a, o.b, shape: o.shape) { (x: T, y: T) -> Bool in
                (x.realPartValue == y.realPartValue && x.imaginaryPartValue == y.imaginaryPartValue) != negate
            }
        }
    }
    return dispatchFloating(o.a.dataType, Equal(o: o, negate: negate)).withLabels(o.labels)
}

extension DLArray {
    /// Elementwise `a < b` with broadcasting, as a bool array (comparisons are not traced).
    /// - Throws: ``DLError/shapeMismatch(_:)``, or ``DLError/unsupportedType(_:)`` for complex input.
    public static func .< (a: DLArray, b: DLArray) throws -> DLArray { try compare(a, b, Less.self, ".<") }
    /// Elementwise `a <= b`.
    public static func .<= (a: DLArray, b: DLArray) throws -> DLArray { try compare(a, b, LessOrEqual.self, ".<=") }
    /// Elementwise `a > b`.
    public static func .> (a: DLArray, b: DLArray) throws -> DLArray { try compare(a, b, Greater.self, ".>") }
    /// Elementwise `a >= b`.
    public static func .>= (a: DLArray, b: DLArray) throws -> DLArray { try compare(a, b, GreaterOrEqual.self, ".>=") }
    /// Elementwise equality, for real and complex arrays.
    public static func .== (a: DLArray, b: DLArray) throws -> DLArray { try equal(a, b, negate: false) }
    /// Elementwise inequality.
    public static func .!= (a: DLArray, b: DLArray) throws -> DLArray { try equal(a, b, negate: true) }

    /// Elementwise `a < b` against a scalar.
    public static func .< (a: DLArray, b: Double) throws -> DLArray { try a .< scalarOperand(b, like: a) }
    /// Elementwise `a <= b` against a scalar.
    public static func .<= (a: DLArray, b: Double) throws -> DLArray { try a .<= scalarOperand(b, like: a) }
    /// Elementwise `a > b` against a scalar.
    public static func .> (a: DLArray, b: Double) throws -> DLArray { try a .> scalarOperand(b, like: a) }
    /// Elementwise `a >= b` against a scalar.
    public static func .>= (a: DLArray, b: Double) throws -> DLArray { try a .>= scalarOperand(b, like: a) }
    /// Elementwise equality with a scalar.
    public static func .== (a: DLArray, b: Double) throws -> DLArray { try a .== scalarOperand(b, like: a) }
    /// Elementwise inequality with a scalar.
    public static func .!= (a: DLArray, b: Double) throws -> DLArray { try a .!= scalarOperand(b, like: a) }

    /// Elementwise logical and of two arrays (nonzero is true), with broadcasting.
    public static func .& (a: DLArray, b: DLArray) throws -> DLArray { try logical(a, b, ".&") { $0 && $1 } }
    /// Elementwise logical or.
    public static func .| (a: DLArray, b: DLArray) throws -> DLArray { try logical(a, b, ".|") { $0 || $1 } }
    /// Elementwise logical exclusive or.
    public static func .^ (a: DLArray, b: DLArray) throws -> DLArray { try logical(a, b, ".^") { $0 != $1 } }
    /// Elementwise logical not.
    public static prefix func .! (x: DLArray) -> DLArray {
        mapElements(extractdata(x).storageConverted(to: .bool)) { (v: Bool) in !v }.withLabels(x.labels)
    }
}

func logical(_ a: DLArray, _ b: DLArray, _ name: String, _ function: @escaping (Bool, Bool) -> Bool) throws -> DLArray {
    guard let shape = broadcastShape(a.shape, b.shape) else {
        throw DLError.shapeMismatch("\(name): arrays of shapes \(a.shape) and \(b.shape) cannot be broadcast together")
    }
    let labels = try resultLabels(a, b, shape: shape, operation: name)
    return zipElements(extractdata(a).storageConverted(to: .bool), extractdata(b).storageConverted(to: .bool),
                       shape: shape, function).withLabels(labels)
}

/// Chooses elementwise between `a` (where `condition` is true or nonzero) and `b`, with
/// broadcasting; differentiable in `a` and `b`.
/// - Throws: ``DLError/shapeMismatch(_:)`` when the three shapes do not broadcast.
public func select(_ condition: DLArray, _ a: DLArray, _ b: DLArray) throws -> DLArray {
    guard let ab = broadcastShape(a.shape, b.shape), let shape = broadcastShape(condition.shape, ab) else {
        throw DLError.shapeMismatch(
            "select: condition, a and b of shapes \(condition.shape), \(a.shape), \(b.shape) cannot be broadcast together")
    }
    let o = try BinaryOperands(a, b, operation: "select")
    let mask = try extractdata(condition).storageConverted(to: .bool).broadcast(to: shape)
    let first = try extractdata(o.a).broadcast(to: shape), second = try extractdata(o.b).broadcast(to: shape)
    struct Choose: LayoutKernel {
        let mask: DLArray, first: DLArray, second: DLArray
        func run<T>(_ type: T.Type) -> DLArray {
            let count = mask.count
            let output = ClosureKernel { inputs, output in
                let m = inputs[0].assumingMemoryBound(to: Bool.self)
                let p = inputs[1].assumingMemoryBound(to: T.self), q = inputs[2].assumingMemoryBound(to: T.self)
                let out = output.assumingMemoryBound(to: T.self)
                for i in 0..<count { out[i] = m[i] ? p[i] : q[i] }
            }.output(reading: [mask, first, second], KernelOutput(count: count, dataType: first.dataType))
            return DLArray(storage: output, shape: mask.shape)
        }
    }
    let labels = condition.labels.isEmpty ? o.labels : condition.labels
    let result = dispatchLayout(first.dataType, Choose(mask: mask, first: first, second: second)).withLabels(labels)
    return result.recorded(from: o.a, o.b) { g, needs in
        let zero = DLArray.zeros(like: extractdata(g))
        return (needs[0] ? try select(mask, g, zero).summed(toShape: o.a.shape) : nil,
                needs[1] ? try select(mask, zero, g).summed(toShape: o.b.shape) : nil)
    }
}

/// Chooses between an array and a scalar.
public func select(_ condition: DLArray, _ a: DLArray, _ b: Double) throws -> DLArray {
    try select(condition, a, scalarOperand(b, like: a))
}

/// Chooses between a scalar and an array.
public func select(_ condition: DLArray, _ a: Double, _ b: DLArray) throws -> DLArray {
    try select(condition, scalarOperand(a, like: b), b)
}

/// The elementwise larger of two real arrays, with broadcasting; on ties each gets half the
/// gradient. NaN in either array gives NaN.
public func maximum(_ a: DLArray, _ b: DLArray) throws -> DLArray { try extremum(a, b, larger: true) }

/// The elementwise smaller of two real arrays, with broadcasting; on ties each gets half the
/// gradient. NaN in either array gives NaN.
public func minimum(_ a: DLArray, _ b: DLArray) throws -> DLArray { try extremum(a, b, larger: false) }

/// The elementwise larger of an array and a scalar.
public func maximum(_ a: DLArray, _ b: Double) throws -> DLArray { try maximum(a, scalarOperand(b, like: a)) }

/// The elementwise smaller of an array and a scalar.
public func minimum(_ a: DLArray, _ b: Double) throws -> DLArray { try minimum(a, scalarOperand(b, like: a)) }

func extremum(_ a: DLArray, _ b: DLArray, larger: Bool) throws -> DLArray {
    let name = larger ? "maximum" : "minimum"
    try requireReal(a, name)
    try requireReal(b, name)
    let o = try BinaryOperands(a, b, operation: name)
    // NaN propagates whichever side it is on (as max(x, dim:) and PyTorch): a NaN in `a` wins,
    // a NaN in `b` wins because the comparison is false.
    let wins = try (larger ? o.a .> o.b : o.a .< o.b) .| (o.a .!= o.a)
    let ties = try o.a .== o.b
    // The share of the gradient that goes to `a`: 1 where it wins, 1/2 on ties.
    let share = try select(wins, 1, select(ties, 0.5, DLArray.zeros(like: wins.converted(to: o.a.dataType))))
    let result = try select(wins .| ties, extractdata(o.a), extractdata(o.b)).withLabels(o.labels)
    return result.recorded(from: o.a, o.b) { g, needs in
        (needs[0] ? try (g * share).summed(toShape: o.a.shape) : nil,
         needs[1] ? try (g * (1 - share)).summed(toShape: o.b.shape) : nil)
    }
}

enum Atan2: RealBinaryFunction {
    static var grain: Int { Parallel.functionGrain }
    static func apply<T: DLRealElement>(_ a: T, _ b: T) -> T { .atan2(y: a, x: b) }
}

/// The four-quadrant inverse tangent of `y / x`, elementwise with broadcasting.
/// - Throws: ``DLError/unsupportedType(_:)`` for complex input, ``DLError/shapeMismatch(_:)``.
public func atan2(_ y: DLArray, _ x: DLArray) throws -> DLArray {
    try requireReal(y, "atan2")
    try requireReal(x, "atan2")
    let o = try BinaryOperands(y, x, operation: "atan2")
    let result = dispatchReal(o.a.dataType, RealZip<Atan2>(a: o.a, b: o.b, shape: o.shape)).withLabels(o.labels)
    return result.recorded(from: o.a, o.b) { g, needs in
        let squared = try o.a * o.a + o.b * o.b
        return (needs[0] ? try (g * o.b / squared).summed(toShape: o.a.shape) : nil,
                needs[1] ? try (-(g * o.a) / squared).summed(toShape: o.b.shape) : nil)
    }
}
