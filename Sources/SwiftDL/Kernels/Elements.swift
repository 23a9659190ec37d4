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

/// A real or complex floating-point element: the types arithmetic and calculus work on.
public protocol DLFloatingElement: DLElement, AlgebraicField, ElementaryFunctions {
    /// The real type of the same precision.
    associatedtype RealPart: DLRealElement
    /// The complex conjugate (the value itself for real types).
    var conjugateValue: Self { get }
    /// Builds an element from a real and an imaginary part (the imaginary part is ignored for reals).
    init(realPart: RealPart, imaginaryPart: RealPart)
    /// The real part.
    var realPartValue: RealPart { get }
    /// The imaginary part (zero for reals).
    var imaginaryPartValue: RealPart { get }
    /// The absolute value (modulus for complex numbers).
    var magnitudeValue: RealPart { get }
    /// Whether the value is finite (both parts, for complex numbers).
    var isFiniteValue: Bool { get }
    /// `a` raised to `b`; for reals a negative base with an integral exponent is allowed.
    static func power(_ a: Self, _ b: Self) -> Self
}

/// A real floating-point element, `Float` or `Double`.
public protocol DLRealElement: DLFloatingElement, Real, BinaryFloatingPoint where RealPart == Self {
    /// The complex type of the same precision.
    associatedtype ComplexPart: DLFloatingElement where ComplexPart.RealPart == Self
}

extension Float: DLRealElement {
    public typealias ComplexPart = Complex<Float>
    public static var dataType: DLDataType { .float32 }
    public init(dlValue: Double) { self = Float(dlValue) }
    public var doubleParts: (Double, Double) { (Double(self), 0) }
    public init(doubleParts: (Double, Double)) { self = Float(doubleParts.0) }
    public var conjugateValue: Float { self }
    public init(realPart: Float, imaginaryPart: Float) { self = realPart }
    public var realPartValue: Float { self }
    public var imaginaryPartValue: Float { 0 }
    public var magnitudeValue: Float { abs(self) }
    public static func power(_ a: Float, _ b: Float) -> Float { powf(a, b) }
    public var isFiniteValue: Bool { isFinite }
}

extension Double: DLRealElement {
    public typealias ComplexPart = Complex<Double>
    public static var dataType: DLDataType { .float64 }
    public init(dlValue: Double) { self = dlValue }
    public var doubleParts: (Double, Double) { (self, 0) }
    public init(doubleParts: (Double, Double)) { self = doubleParts.0 }
    public var conjugateValue: Double { self }
    public init(realPart: Double, imaginaryPart: Double) { self = realPart }
    public var realPartValue: Double { self }
    public var imaginaryPartValue: Double { 0 }
    public var magnitudeValue: Double { abs(self) }
    public static func power(_ a: Double, _ b: Double) -> Double { Foundation.pow(a, b) }
    public var isFiniteValue: Bool { isFinite }
}

extension Complex: DLElement where RealType: DLRealElement {
    public static var dataType: DLDataType { RealType.self == Float.self ? .complex64 : .complex128 }
    public init(dlValue: Double) { self.init(RealType(dlValue: dlValue), 0) }
    public var doubleParts: (Double, Double) { (Double(real), Double(imaginary)) }
    public init(doubleParts: (Double, Double)) {
        self.init(RealType(doubleParts.0), RealType(doubleParts.1))
    }
}

extension Complex: DLFloatingElement where RealType: DLRealElement {
    public typealias RealPart = RealType
    public var conjugateValue: Complex { conjugate }
    public init(realPart: RealType, imaginaryPart: RealType) { self.init(realPart, imaginaryPart) }
    public var realPartValue: RealType { real }
    public var imaginaryPartValue: RealType { imaginary }
    public var magnitudeValue: RealType { length }
    public static func power(_ a: Complex, _ b: Complex) -> Complex {
        if a == .zero { return b == .zero ? Complex(1) : (b.real > 0 ? .zero : Complex(.infinity)) }
        return Complex.pow(a, b)
    }
    public var isFiniteValue: Bool { isFinite }
}

extension Bool: DLElement {
    public static var dataType: DLDataType { .bool }
    public init(dlValue: Double) { self = dlValue != 0 }
    public var doubleParts: (Double, Double) { (self ? 1 : 0, 0) }
    public init(doubleParts: (Double, Double)) { self = doubleParts.0 != 0 || doubleParts.1 != 0 }
}
