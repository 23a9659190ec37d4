import CSwiftDLSupport

/// A function with a float32 loop in CSwiftDLSupport (`swiftdl_exp_f32`, `swiftdl_tanh_f32`,
/// `swiftdl_sigmoid_f32`), which maps of float32 arrays use instead of the scalar function:
/// libm's scalar functions (a call per element, tanhf through expm1f) took a fifth of an MLP GAN
/// step, and the same polynomials on Swift's eight-lane vectors, which compile to the x86-64
/// baseline's four-lane SSE, still 7% of it.
///
/// The loops run sixteen lanes at a time in code built for AVX-512, AVX2 and SSE2 and chosen
/// for the CPU when first called; each is a polynomial on a reduced argument written without
/// fused multiply-adds, so every build gives the same bits on every CPU, within 2 ulp of the
/// exact result (the tests compare with Foundation's), with IEEE behavior at ±0, subnormals, ±∞
/// and NaN.
protocol FloatVectorFunction {
    /// Applies the function to `count` elements of `x`, writing them to `y`.
    static func apply(count: Int, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>)
}

/// Applies `V` to every element of the float32 array `x`, across the cores when there are at
/// least `grain` elements per core. Each element's result is the same wherever it falls in a
/// vector.
func mapFloatVectors<V: FloatVectorFunction>(_ x: DLArray, grain: Int, _ function: V.Type) -> DLArray {
    let output = FloatVectorMap<V>(count: x.count, grain: grain)
        .output(reading: x, KernelOutput(count: x.count, dataType: .float32))
    return DLArray(storage: output, shape: x.shape, labels: x.labels)
}

/// `V` applied to every element of a float32 array.
struct FloatVectorMap<V: FloatVectorFunction>: ElementwiseKernel {
    let count: Int
    let grain: Int

    func run(_ inputs: KernelInputs, _ output: UnsafeMutableRawPointer, elements range: Range<Int>) {
        let source = inputs[0].assumingMemoryBound(to: Float.self), destination = output.assumingMemoryBound(to: Float.self)
        V.apply(count: range.count, source + range.lowerBound, destination + range.lowerBound)
    }
}
