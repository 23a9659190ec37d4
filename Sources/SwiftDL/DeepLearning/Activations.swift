import CSwiftDLSupport

// Activation functions, as MATLAB's leakyrelu, elu and gelu: compositions of differentiable
// operations, so their derivatives of every order come from those operations' rules. They
// work elementwise and keep the input's labels (no data format is needed).

/// The leaky rectified linear unit, as MATLAB's `leakyrelu(X, scaleFactor)`: `x` where
/// `x > 0`, `scale · x` elsewhere. Its derivative at 0 is taken as `scale`.
///
/// - Parameters:
///   - x: a real array, labeled or not; the result keeps its labels.
///   - scale: the slope for negative inputs; 0.01 by default, as MATLAB.
/// - Throws: ``DLError/unsupportedType(_:)`` for complex input.
public func leakyrelu(_ x: DLArray, scale: Double = 0.01) throws -> DLArray {
    try requireReal(x, "leakyrelu")
    let plain = stripdims(x)
    return slopeScaled(plain, by: plain, scale: scale).withLabels(x.labels)
}

/// `g` where `x > 0`, `scale · g` elsewhere (0 where `scale` is 0, even for infinite `g`), in
/// one pass: the leaky ReLU of `x` when `g` is `x`, and the gradient through a (leaky) ReLU at
/// `x` when `g` is the output's gradient. Linear in `g` and piecewise constant in `x`, so its
/// derivative rule is itself, and `x` is a constant (as a mask is).
/// - Precondition: `g` and `x` are real arrays of one shape and type.
func slopeScaled(_ g: DLArray, by x: DLArray, scale: Double) -> DLArray {
    precondition(g.shape == x.shape && g.dataType == x.dataType && !g.dataType.isComplex,
                 "slopeScaled: operands of shapes \(g.shape), \(x.shape) and types \(g.dataType), \(x.dataType)")
    struct Kernel: RealKernel {
        let g: DLArray, x: DLArray, scale: Double
        func run<T: DLRealElement>(_ type: T.Type) -> DLArray {
            guard T.self == Float.self else { return zipElements(g, x, shape: g.shape, SlopeMapping(scale: T(dlValue: scale))) }
            let output = FloatSlopeScaled(shape: g.shape, grain: Parallel.elementGrain, scale: Float(scale))
                .output(reading: g, x, KernelOutput(count: g.count, dataType: .float32))
            return DLArray(storage: output, shape: g.shape)
        }
    }
    let slopes = extractdata(x)
    return dispatchReal(g.dataType, Kernel(g: extractdata(g), x: slopes, scale: scale)).recorded(from: g) { gradient in
        slopeScaled(gradient, by: slopes, scale: scale)
    }
}

/// The element of ``slopeScaled(_:by:scale:)``: `g` where `x > 0`, else `scale · g` (0 for a
/// zero scale).
private struct SlopeMapping<T: DLRealElement>: ElementPairMapping {
    let scale: T
    @inline(__always) func callAsFunction(_ g: T, _ x: T) -> T {
        x > 0 ? g : (scale == 0 ? 0 : scale * g)
    }
}

/// ``slopeScaled(_:by:scale:)`` of float32 arrays, on CSwiftDLSupport's vector loop
/// (`swiftdl_slope_scaled_f32`, sixteen lanes on AVX-512): the same bits as ``SlopeMapping``,
/// which Swift compiles to the x86-64 baseline's four-lane SSE.
private struct FloatSlopeScaled: ElementwiseKernel {
    let shape: [Int]
    let grain: Int
    let scale: Float

    var count: Int { shape.reduce(1, *) }

    func run(_ inputs: KernelInputs, _ output: UnsafeMutableRawPointer, elements range: Range<Int>) {
        let g = inputs[0].assumingMemoryBound(to: Float.self), x = inputs[1].assumingMemoryBound(to: Float.self)
        let y = output.assumingMemoryBound(to: Float.self)
        let start = range.lowerBound
        swiftdl_slope_scaled_f32(range.count, g + start, x + start, scale, y + start)
    }
}

// An activation's (leaky) ReLU or its gradient between convolutions: an accelerated plan can
// hand it operands in oneDNN's blocked layout. All in one layout, it is still elementwise;
// mixed (the output of an im2col convolution into a oneDNN one), it transposes tile by tile
// instead of a separate reorder.
extension FloatSlopeScaled: ChannelBlockingKernel {
    var blockableOperands: [BlockableOperand] {
        guard shape.count >= 3 else { return [] }
        let layout = ChannelLayout(shape, channel: 1)
        return [.input(0), .input(1), .output].map { BlockableOperand(operand: $0, layout: layout, wanted: nil) }
    }

    func with(_ blockings: [KernelOperand: ChannelBlocking]) -> any Kernel {
        let inputs = [blockings[.input(0)] ?? .plain, blockings[.input(1)] ?? .plain]
        let output = blockings[.output] ?? .plain
        let layout = ChannelLayout(shape, channel: 1)
        guard inputs.contains(where: { $0 != output }) else { return self }
        return MixedLayoutSlopeScaled(scale: scale,
                                      pass: MixedLayoutElementwise(layout: layout, inputBlockings: inputs, outputBlocking: output))
    }
}

/// ``FloatSlopeScaled`` with its operands in different channel layouts.
private struct MixedLayoutSlopeScaled: Kernel {
    let scale: Float
    let pass: MixedLayoutElementwise

    func run(_ inputs: KernelInputs, _ output: UnsafeMutableRawPointer) {
        pass.run(inputs, output) { count, operands, y in
            swiftdl_slope_scaled_f32(count, operands[0], operands[1], scale, y)
        }
    }
}

/// The exponential linear unit, as MATLAB's `eluLayer` applied to an array: `x` where `x > 0`,
/// `alpha · (eˣ − 1)` elsewhere. Its derivative at 0 is taken as `alpha` (the left one, as
/// PyTorch).
///
/// - Parameters:
///   - x: a real array, labeled or not; the result keeps its labels.
///   - alpha: the scale of the negative part; 1 by default.
/// - Throws: ``DLError/unsupportedType(_:)`` for complex input.
public func elu(_ x: DLArray, alpha: Double = 1) throws -> DLArray {
    try requireReal(x, "elu")
    let plain = stripdims(x)
    let positive = try plain .> 0
    // The exponential only sees the non-positive values (0 in their place elsewhere), so a
    // large positive x neither overflows nor sends 0 · ∞ = NaN into the gradient.
    let negativePart = try select(positive, 0, plain)
    return try select(positive, plain, alpha * expm1(negativePart)).withLabels(x.labels)
}

/// How ``gelu(_:approximation:)`` computes the Gaussian distribution function, as MATLAB's
/// `Approximation` option.
public enum GeluApproximation: Sendable, Equatable, Codable {
    /// Exactly: `x · Φ(x) = x/2 · (1 + erf(x/√2))` (MATLAB's `"none"`).
    case none
    /// `x/2 · (1 + tanh(√(2/π) · (x + 0.044715 x³)))` (MATLAB's `"tanh"`).
    case tanh
}

/// The Gaussian error linear unit, as MATLAB's `gelu(X, Approximation=…)`: `x · Φ(x)`, with Φ
/// the standard normal distribution function, computed exactly or with the tanh approximation.
///
/// - Parameters:
///   - x: a real array, labeled or not; the result keeps its labels.
///   - approximation: `.none` (the default, exact) or `.tanh`.
/// - Throws: ``DLError/unsupportedType(_:)`` for complex input.
public func gelu(_ x: DLArray, approximation: GeluApproximation = .none) throws -> DLArray {
    try requireReal(x, "gelu")
    let plain = stripdims(x)
    let y: DLArray
    switch approximation {
    case .none:
        y = try 0.5 * plain * (1 + erf(plain * (0.5).squareRoot()))
    case .tanh:
        let inner = try (2 / Double.pi).squareRoot() * (plain + 0.044715 * (plain * plain * plain))
        y = try 0.5 * plain * (1 + SwiftDL.tanh(inner))
    }
    return y.withLabels(x.labels)
}
