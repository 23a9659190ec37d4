import Foundation
import RealModule
import ComplexModule

/// A type that can be stored in a ``DLArray``.
public protocol DLElement: Sendable {
    /// The ``DLDataType`` that stores this Swift type.
    static var dataType: DLDataType { get }
    /// The element equal to the given double (real part only for complex types).
    init(dlValue: Double)
    /// The element as a (real, imaginary) pair of doubles; `bool` is 1 or 0.
    var doubleParts: (Double, Double) { get }
    /// The element nearest to a (real, imaginary) pair of doubles; reals drop the imaginary
    /// part and `bool` is true when either part is nonzero.
    init(doubleParts: (Double, Double))
}

/// A real or complex floating-point element: the types the kernels compute with.
protocol DLFloatingElement: DLElement, AlgebraicField, ElementaryFunctions {
    /// The real type of the same precision.
    associatedtype RealPart: DLRealElement
    /// Builds an element from a real and an imaginary part (the imaginary part is ignored for reals).
    init(realPart: RealPart, imaginaryPart: RealPart)
    /// The real part.
    var realPartValue: RealPart { get }
    /// The imaginary part (zero for reals).
    var imaginaryPartValue: RealPart { get }
    /// The absolute value (modulus for complex numbers).
    var magnitudeValue: RealPart { get }
    /// `a` raised to `b`; for reals a negative base with an integral exponent is allowed.
    static func power(_ a: Self, _ b: Self) -> Self
}

/// A real floating-point element, `Float` or `Double`.
protocol DLRealElement: DLFloatingElement, Real, BinaryFloatingPoint where RealPart == Self {}

extension Float: DLElement {
    /// `float32`.
    public static var dataType: DLDataType { .float32 }
    /// The nearest single-precision value.
    public init(dlValue: Double) { self = Float(dlValue) }
    /// The value and a zero imaginary part.
    public var doubleParts: (Double, Double) { (Double(self), 0) }
    /// The nearest single-precision value of the real part.
    public init(doubleParts: (Double, Double)) { self = Float(doubleParts.0) }
}

extension Double: DLElement {
    /// `float64`.
    public static var dataType: DLDataType { .float64 }
    /// The value itself.
    public init(dlValue: Double) { self = dlValue }
    /// The value and a zero imaginary part.
    public var doubleParts: (Double, Double) { (self, 0) }
    /// The real part.
    public init(doubleParts: (Double, Double)) { self = doubleParts.0 }
}

extension Complex: DLElement where RealType: DLElement {
    /// `complex64` or `complex128`, by the precision of the parts.
    public static var dataType: DLDataType { RealType.self == Float.self ? .complex64 : .complex128 }
    /// The value with a zero imaginary part.
    public init(dlValue: Double) { self.init(RealType(dlValue: dlValue), 0) }
    /// The real and imaginary parts as stored (also for infinite or NaN values).
    public var doubleParts: (Double, Double) { (storedParts.0.doubleParts.0, storedParts.1.doubleParts.0) }
    /// The complex number of these parts.
    public init(doubleParts: (Double, Double)) {
        self.init(RealType(doubleParts: (doubleParts.0, 0)), RealType(doubleParts: (doubleParts.1, 0)))
    }
}

extension Bool: DLElement {
    /// `bool`.
    public static var dataType: DLDataType { .bool }
    /// True for any nonzero value.
    public init(dlValue: Double) { self = dlValue != 0 }
    /// 1 or 0, and a zero imaginary part.
    public var doubleParts: (Double, Double) { (self ? 1 : 0, 0) }
    /// True when either part is nonzero.
    public init(doubleParts: (Double, Double)) { self = doubleParts.0 != 0 || doubleParts.1 != 0 }
}

extension Float: DLRealElement {
    init(realPart: Float, imaginaryPart: Float) { self = realPart }
    var realPartValue: Float { self }
    var imaginaryPartValue: Float { 0 }
    var magnitudeValue: Float { abs(self) }
    static func power(_ a: Float, _ b: Float) -> Float { powf(a, b) }
}

extension Double: DLRealElement {
    init(realPart: Double, imaginaryPart: Double) { self = realPart }
    var realPartValue: Double { self }
    var imaginaryPartValue: Double { 0 }
    var magnitudeValue: Double { abs(self) }
    static func power(_ a: Double, _ b: Double) -> Double { Foundation.pow(a, b) }
}

extension Complex: DLFloatingElement where RealType: DLRealElement {
    typealias RealPart = RealType
    init(realPart: RealType, imaginaryPart: RealType) { self.init(realPart, imaginaryPart) }
    var realPartValue: RealType { real }
    var imaginaryPartValue: RealType { imaginary }
    var magnitudeValue: RealType { length }
    static func power(_ a: Complex, _ b: Complex) -> Complex {
        if a == .zero { return b == .zero ? Complex(1) : (b.real > 0 ? .zero : Complex(.infinity)) }
        return Complex.pow(a, b)
    }
}

extension Complex where RealType: DLElement {
    /// The real and imaginary parts as stored. swift-numerics' `real` and `imaginary` give NaN
    /// for every non-finite value (it treats them all as one point at infinity); arrays keep
    /// the parts as they are, as NumPy and PyTorch do.
    var storedParts: (RealType, RealType) {
        withUnsafeBytes(of: self) { bytes in
            (bytes.load(as: RealType.self), bytes.load(fromByteOffset: MemoryLayout<RealType>.stride, as: RealType.self))
        }
    }
}
