/// Float32 elementary functions on SIMD vectors, for maps over float32 arrays: libm's scalar
/// functions (a call per element, tanhf through expm1f) took a fifth of an MLP GAN step.
///
/// Each function is a polynomial on a reduced argument, written without fused multiply-adds
/// so that it gives the same bits on every CPU. Within 2 ulp of the exact result (the tests
/// compare with Foundation's), with IEEE behavior at ±0, subnormals, ±∞ and NaN.
enum VectorMath {
    /// The vector the functions take: eight lanes, two SSE registers or one AVX register.
    typealias Vector = SIMD8<Float>
    typealias Bits = SIMD8<Int32>

    /// e^x: `x = n·ln 2 + r` with `|r| ≤ ln 2 / 2`, a degree-7 polynomial for e^r (Cephes'
    /// coefficients), and the scale 2^n applied in two halves so that subnormal results round
    /// once and large ones overflow to ∞.
    @inline(__always)
    static func exp(_ x: Vector) -> Vector {
        // Beyond these bounds the result is 0 or ∞ (e^-104 is below half the least subnormal).
        let clamped = x.replacing(with: -104, where: x .< -104).replacing(with: 89, where: x .> 89)
        // n = round(x / ln 2), through the bits of x / ln 2 + 1.5·2^23 (no rounding instruction
        // needed): its low mantissa bits hold n.
        let magic: Float = 12_582_912
        let shifted = clamped * 1.442_695_04 + magic
        let n = shifted - magic
        let r = (clamped - n * 0.693_359_375) - n * -2.121_944_4e-4
        var p: Vector = .init(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_59e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_12e-1
        let er = p * (r * r) + r + 1
        let exponent = unsafeBitCast(shifted, to: Bits.self) &- 0x4B40_0000
        let half = exponent &>> 1
        let scale1 = unsafeBitCast((half &+ 127) &<< 23, to: Vector.self)
        let scale2 = unsafeBitCast((exponent &- half &+ 127) &<< 23, to: Vector.self)
        let result = er * scale1 * scale2
        return result.replacing(with: x, where: x .!= x)
    }

    /// tanh x: for |x| < 0.625, `|x| + |x|³·P(x²)` (a degree-4 minimax fit); above,
    /// `1 − 2/(e^2|x| + 1)`, where |x| > 9 gives 1; then x's sign.
    @inline(__always)
    static func tanh(_ x: Vector) -> Vector {
        let signBit: Bits = .init(repeating: Int32(bitPattern: 0x8000_0000))
        let bits = unsafeBitCast(x, to: Bits.self)
        let magnitude = unsafeBitCast(bits & ~signBit, to: Vector.self)
        let z = x * x
        var p: Vector = .init(repeating: -5.715_748_76e-3)
        p = p * z + 2.064_990_25e-2
        p = p * z + -5.374_352_63e-2
        p = p * z + 1.333_149_67e-1
        p = p * z + -3.333_328_37e-1
        let small = magnitude + magnitude * z * p
        let e = exp(2 * magnitude.replacing(with: 10, where: magnitude .> 10))
        let large = 1 - 2 / (e + 1)
        let unsigned = large.replacing(with: small, where: magnitude .< 0.625)
        let result = unsafeBitCast(unsafeBitCast(unsigned, to: Bits.self) | (bits & signBit), to: Vector.self)
        return result.replacing(with: x, where: x .!= x)
    }
}

/// A function with a float32 form on ``VectorMath/Vector``s, which maps of float32 arrays use
/// instead of the scalar one.
protocol FloatVectorFunction {
    static func apply(_ x: VectorMath.Vector) -> VectorMath.Vector
}

/// Applies `V` to every element of the float32 array `x`, eight at a time, across the cores
/// when there are at least `grain` elements per core. Each element's result is the same
/// wherever it falls in a vector.
func mapFloatVectors<V: FloatVectorFunction>(_ x: DLArray, grain: Int, _ function: V.Type) -> DLArray {
    let output = FloatVectorMap<V>(count: x.count, grain: grain)
        .output(reading: x, KernelOutput(count: x.count, dataType: .float32))
    return DLArray(storage: output, shape: x.shape, labels: x.labels)
}

/// `V` applied to every element of a float32 array, eight at a time.
struct FloatVectorMap<V: FloatVectorFunction>: ElementwiseKernel {
    let count: Int
    let grain: Int

    func run(_ inputs: KernelInputs, _ output: UnsafeMutableRawPointer, elements range: Range<Int>) {
        typealias Vector = VectorMath.Vector
        let width = Vector.scalarCount, stride = MemoryLayout<Float>.stride
        let source = inputs[0], destination = output
        var i = range.lowerBound
        while i + width <= range.upperBound {
            let v = source.loadUnaligned(fromByteOffset: i * stride, as: Vector.self)
            destination.storeBytes(of: V.apply(v), toByteOffset: i * stride, as: Vector.self)
            i += width
        }
        let rest = range.upperBound - i
        if rest > 0 {
            var v = Vector(repeating: 0)
            for k in 0..<rest { v[k] = source.load(fromByteOffset: (i + k) * stride, as: Float.self) }
            let y = V.apply(v)
            for k in 0..<rest { destination.storeBytes(of: y[k], toByteOffset: (i + k) * stride, as: Float.self) }
        }
    }
}
