import RealModule
/// The element type of a ``DLArray``.
///
/// SwiftDL stores single and double precision reals, their complex counterparts and booleans.
/// Arithmetic between two types promotes to the wider one, as in PyTorch: `float32` with
/// `float64` gives `float64`, a real with a complex gives the complex type of the wider precision,
/// and `bool` takes the other operand's type.
public enum DLDataType: String, Sendable, CaseIterable, CustomStringConvertible {
    /// 32-bit IEEE floating point (MATLAB's `single`).
    case float32
    /// 64-bit IEEE floating point (MATLAB's `double`).
    case float64
    /// A complex number of two `float32` values.
    case complex64
    /// A complex number of two `float64` values.
    case complex128
    /// A boolean (MATLAB's `logical`), the result of comparisons.
    case bool

    /// The number of bytes one element occupies.
    public var byteCount: Int {
        switch self {
        case .bool: 1
        case .float32: 4
        case .float64, .complex64: 8
        case .complex128: 16
        }
    }

    /// Whether elements are complex numbers.
    public var isComplex: Bool { self == .complex64 || self == .complex128 }

    /// Whether elements are real or complex floating-point numbers (everything but `bool`).
    public var isFloatingPoint: Bool { self != .bool }

    /// The real type of the same precision: `float32` for `complex64`, `float64` for `complex128`.
    public var realType: DLDataType {
        switch self {
        case .complex64: .float32
        case .complex128: .float64
        case .bool: .float32
        default: self
        }
    }

    /// The complex type of the same precision: `complex64` for `float32`, `complex128` for `float64`.
    public var complexType: DLDataType {
        switch self {
        case .float64, .complex128: .complex128
        default: .complex64
        }
    }

    /// The type two operands are converted to before a binary operation.
    public static func promoted(_ a: DLDataType, _ b: DLDataType) -> DLDataType {
        if a == b { return a }
        if a == .bool { return b }
        if b == .bool { return a }
        let double = a == .float64 || a == .complex128 || b == .float64 || b == .complex128
        let complex = a.isComplex || b.isComplex
        switch (double, complex) {
        case (false, false): return .float32
        case (true, false): return .float64
        case (false, true): return .complex64
        case (true, true): return .complex128
        }
    }

    /// The name MATLAB's `class` would print for an array of this type.
    public var description: String { rawValue }
}
