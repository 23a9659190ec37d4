import ComplexModule

/// The outcome of ``gradcheck(_:at:order:step:absoluteTolerance:relativeTolerance:seed:)``.
public struct GradientCheckResult: CustomStringConvertible, Sendable {
    /// The derivative order checked: 1 for the gradient, 2 for the gradient of a directional
    /// derivative, and so on.
    public let order: Int
    /// The largest difference between an automatic and a finite-difference derivative.
    public let maximumError: Double
    /// The largest finite-difference derivative in magnitude, which scales the tolerance.
    public let scale: Double
    /// The tolerance the error was held to: `absoluteTolerance + relativeTolerance * scale`.
    public let tolerance: Double
    /// The derivatives dlgradient computed, flattened over all arrays (complex: real, imaginary pairs).
    public let automatic: [Double]
    /// The central finite differences, in the same layout.
    public let numeric: [Double]

    /// Whether every automatic derivative matched its finite difference within the tolerance.
    public var passed: Bool { maximumError <= tolerance && maximumError.isFinite }

    /// A one-line summary, with the values when the check failed.
    public var description: String {
        let head = "gradcheck order \(order): max error \(maximumError) (tolerance \(tolerance), scale \(scale))"
        return passed ? head + " passed" : head + " FAILED\n  automatic \(automatic)\n  numeric   \(numeric)"
    }
}

/// Compares the derivatives `dlgradient` computes for `function` with central finite
/// differences in float64.
///
/// `function` may return an array of any shape: the check differentiates the sum of its
/// elements (real parts) weighted by fixed random weights, so every output element counts. The
/// inputs are converted to float64 (or complex128) first, keeping their labels; bool arrays in
/// them are held constant.
///
/// - Order 1 checks the gradient.
/// - Order k > 1 checks the gradient of a directional derivative of order k−1: with fixed
///   random directions v₁…, φ₁ = f and φⱼ₊₁ = ⟨∇φⱼ, vⱼ⟩ computed with
///   `enableHigherDerivatives: true`; the gradient of φₖ is compared with finite differences
///   of φₖ. This exercises the derivative rules of every operation k times over.
///
/// ```swift
/// let result = try gradcheck({ x in tanh(x) * x }, at: DLArray([0.3, -1.2]), order: 2)
/// #expect(result.passed, "\(result)")
/// ```
///
/// - Parameters:
///   - function: the function to check.
///   - x: the point, any ``DLArrayContainer``.
///   - order: the derivative order, 1 or more.
///   - step: the finite-difference step.
///   - absoluteTolerance: the absolute part of the tolerance: the check passes when the
///     largest error is at most `absoluteTolerance + relativeTolerance * scale`.
///   - relativeTolerance: the part of the tolerance that grows with the gradients' scale.
///   - seed: fixes the output weights and the directions.
/// - Throws: whatever `function` throws, or ``DLError`` when it cannot be differentiated.
public func gradcheck<X: DLArrayContainer>(
    _ function: (X) throws -> DLArray,
    at x: X,
    order: Int = 1,
    step: Double = 1e-6,
    absoluteTolerance: Double = 1e-6,
    relativeTolerance: Double = 1e-5,
    seed: UInt64 = 0
) throws -> GradientCheckResult {
    guard order >= 1 else { throw DLError.invalidArgument("gradcheck: order must be 1 or more, got \(order)") }
    let wide = x.mapArrays { array -> DLArray in
        let values: DLArray
        switch array.dataType {
        case .float32: values = extractdata(array).converted(to: .float64)
        case .complex64: values = extractdata(array).converted(to: .complex128)
        default: values = extractdata(array)
        }
        return values.withLabels(array.labels)
    }
    let all = wide.flattenedArrays
    let variable = all.indices.filter { all[$0].dataType != .bool }
    guard !variable.isEmpty else { throw DLError.invalidArgument("gradcheck: the point holds no floating-point array") }

    /// The container at the given variable arrays (bool arrays held constant).
    func point(_ values: [DLArray]) -> X {
        var arrays = all
        for (k, index) in variable.enumerated() { arrays[index] = values[k] }
        return wide.replacingArrays(with: arrays)
    }

    var generator = DLRandomGenerator(seed: seed)
    // Evaluated inside dlfeval: the function may differentiate (a gradient penalty does).
    let outputShape = try dlfeval({ (traced: [DLArray]) in try function(point(traced)).shape },
                                  variable.map { all[$0] })
    let weights = DLArray.randn(outputShape, type: .float64, using: &generator) + 0.5
    let directions = (1..<order).map { _ in
        variable.map { DLArray.randn(all[$0].shape, type: all[$0].dataType, using: &generator) }
    }

    /// φ_order at the given variable arrays, and its gradient when asked.
    func phi(_ values: [DLArray], gradient: Bool) throws -> (Double, [DLArray]) {
        try dlfeval({ (traced: [DLArray]) -> (Double, [DLArray]) in
            var value = sum(try real(function(point(traced)) * weights))
            // A value that is not traced does not depend on the point (a linear function's
            // derivative, say): its derivatives are zero.
            let zeros = { traced.map { DLArray.zeros(like: extractdata($0)) } }
            for direction in directions {
                let gradients = value.isTraced
                    ? try dlgradient(value, traced, enableHigherDerivatives: true, allowComplex: true) : zeros()
                var inner = DLArray(0.0)
                for (g, v) in zip(gradients, direction) { inner = try inner + sum(real(conj(g) * v)) }
                value = inner
            }
            let result = value.scalar(as: Double.self)
            guard gradient else { return (result, []) }
            return (result, value.isTraced ? try dlgradient(value, traced, allowComplex: true) : zeros())
        }, values)
    }

    let start = variable.map { all[$0] }
    let (_, automaticArrays) = try phi(start, gradient: true)
    var automatic: [Double] = [], numeric: [Double] = []
    for (k, array) in start.enumerated() {
        let parts = array.dataType.isComplex ? 2 : 1
        let flat = array.scalars(as: Complex<Double>.self)
        let gradient = automaticArrays[k].scalars(as: Complex<Double>.self)
        for element in 0..<array.count {
            for part in 0..<parts {
                func shifted(_ delta: Double) throws -> Double {
                    var values = flat
                    values[element] += part == 0 ? Complex(delta, 0) : Complex(0, delta)
                    var moved = start
                    moved[k] = try DLArray(values, shape: array.shape).converted(to: array.dataType)
                        .withLabels(array.labels)
                    return try phi(moved, gradient: false).0
                }
                numeric.append((try shifted(step) - shifted(-step)) / (2 * step))
                automatic.append(part == 0 ? gradient[element].real : gradient[element].imaginary)
            }
        }
    }
    let maximumError = zip(automatic, numeric).map { abs($0 - $1) }.max() ?? 0
    let scale = numeric.map { abs($0) }.max() ?? 0
    return GradientCheckResult(order: order, maximumError: maximumError.isNaN ? .infinity : maximumError,
                               scale: scale, tolerance: absoluteTolerance + relativeTolerance * scale,
                               automatic: automatic, numeric: numeric)
}
