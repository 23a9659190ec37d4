import RealModule
import ComplexModule

extension DLArray {
    /// Applies `function` to the complex elements, giving real elements of the same precision.
    /// The function receives the stored parts (real, imaginary), also for non-finite values.
    func complexToReal(_ function: @escaping (Double, Double) -> Double) -> DLArray {
        switch dataType {
        case .complex64:
            return mapElements(self) { (z: Complex<Float>) in
                let (re, im) = z.storedParts
                return Float(function(Double(re), Double(im)))
            }
        default:
            return mapElements(self) { (z: Complex<Double>) in function(z.storedParts.0, z.storedParts.1) }
        }
    }

    /// |z| of each complex element, as a real array.
    func complexMagnitude() -> DLArray {
        switch dataType {
        case .complex64: mapElements(self) { (z: Complex<Float>) in z.length }
        default: mapElements(self) { (z: Complex<Double>) in z.length }
        }
    }
}

/// The real part of each element (the array itself when real).
public func real(_ x: DLArray) -> DLArray {
    guard x.dataType.isComplex else { return x }
    let source = x.dataType
    return x.complexToReal { re, _ in re }.recorded(from: x) { g in g.converted(to: source) }
}

/// The imaginary part of each element (zeros when real).
public func imag(_ x: DLArray) -> DLArray {
    guard x.dataType.isComplex else {
        return DLArray.zeros(like: extractdata(x)).withLabels(x.labels).recordedWithZeroDerivative(from: x)
    }
    return x.complexToReal { _, im in im }.recorded(from: x) { g in
        try complex(DLArray.zeros(like: extractdata(g)), g)
    }
}

/// The complex conjugate of each element (the array itself when real).
public func conj(_ x: DLArray) -> DLArray {
    guard x.dataType.isComplex else { return x }
    let y: DLArray
    switch x.dataType {
    case .complex64: y = mapElements(x) { (z: Complex<Float>) in z.conjugate }
    default: y = mapElements(x) { (z: Complex<Double>) in z.conjugate }
    }
    return y.recorded(from: x) { g in conj(g) }
}

/// The phase angle of each element in [-π, π] (0 or π for reals; derivative zero for reals).
public func angle(_ x: DLArray) -> DLArray {
    guard x.dataType.isComplex else {
        return x.mapReal(RealAngle.self).recordedWithZeroDerivative(from: x)
    }
    return x.complexToReal { re, im in Double.atan2(y: im, x: re) }.recorded(from: x) { g in
        // d angle = (-Im z dRe z + Re z dIm z) / |z|², so the gradient is g·i·z/|z|².
        let magnitudeSquared = try real(x * conj(x))
        let safe = try select(magnitudeSquared .== 0, 1, magnitudeSquared)
        return try complex(DLArray.zeros(like: extractdata(g)), g) * x / safe
    }
}

/// The complex array `re + i·im` (MATLAB's `complex`), broadcasting the two real parts.
/// - Throws: ``DLError/unsupportedType(_:)`` when a part is complex, ``DLError/shapeMismatch(_:)``
///   when they do not broadcast.
public func complex(_ re: DLArray, _ im: DLArray) throws -> DLArray {
    try requireReal(re, "complex")
    try requireReal(im, "complex")
    let o = try BinaryOperands(re, im, operation: "complex")
    let y: DLArray
    if o.a.dataType == .float64 {
        y = zipElements(o.a, o.b, shape: o.shape) { (a: Double, b: Double) in Complex(a, b) }
    } else {
        y = zipElements(o.a, o.b, shape: o.shape) { (a: Float, b: Float) in Complex(a, b) }
    }
    return y.withLabels(o.labels).recorded(from: o.a, o.b) { g, needs in
        (needs[0] ? try real(g).summed(toShape: o.a.shape) : nil,
         needs[1] ? try imag(g).summed(toShape: o.b.shape) : nil)
    }
}

enum RealAngle: RealUnaryFunction {
    static var grain: Int { Parallel.elementGrain }
    // atan2(0, x), as for complex numbers: π for x < 0 and for -0.
    static func apply<T: DLRealElement>(_ x: T) -> T { x.isNaN ? x : (x.sign == .minus ? .pi : 0) }
}
