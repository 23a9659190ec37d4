/// The gradients scaled together so that their global L2 norm (over the elements of all their
/// arrays) is at most `maxNorm`, as MATLAB's `"global-l2norm"` gradient threshold method.
///
/// When the global norm `L` exceeds `maxNorm`, every array is multiplied by `maxNorm / L`, which
/// keeps the direction of the whole gradient; otherwise the gradients are returned unchanged.
///
/// ```swift
/// let (loss, gradients) = try dlfeval(modelLoss, parameters)
/// let clipped = try clipGradientsByGlobalNorm(gradients, maxNorm: 1)
/// (parameters, velocity) = try sgdmupdate(parameters, clipped, velocity)
/// ```
///
/// Works on any ``DLArrayContainer`` of floating-point arrays (complex ones count their
/// modulus), keeps each array's shape, element type and labels, and does not trace.
/// - Throws: ``DLError/invalidArgument(_:)`` unless `maxNorm` is positive and finite;
///   ``DLError/unsupportedType(_:)`` for bool arrays.
public func clipGradientsByGlobalNorm<G: DLArrayContainer>(_ gradients: G, maxNorm: Double) throws -> G {
    try requireSetting(maxNorm.isFinite && maxNorm > 0,
                       "clipGradientsByGlobalNorm: maxNorm must be finite and positive, got \(maxNorm)")
    let arrays = try floatingArrays(of: gradients, kind: "gradients", function: "clipGradientsByGlobalNorm",
                                    allowComplex: true)
    let norm = arrays.reduce(0) { $0 + sumOfSquares($1) }.squareRoot()
    guard norm > maxNorm else { return gradients }
    return gradients.replacingArrays(with: arrays.map { scaled($0, by: maxNorm / norm) })
}

/// The gradients with each array scaled so that its own L2 norm is at most `maxNorm`, as
/// MATLAB's `"l2norm"` gradient threshold method.
///
/// An array whose norm `L` exceeds `maxNorm` is multiplied by `maxNorm / L`; the others are
/// returned unchanged. Works on any ``DLArrayContainer`` of floating-point arrays (complex ones
/// count their modulus), keeps each array's shape, element type and labels, and does not trace.
/// - Throws: ``DLError/invalidArgument(_:)`` unless `maxNorm` is positive and finite;
///   ``DLError/unsupportedType(_:)`` for bool arrays.
public func clipGradientsByNorm<G: DLArrayContainer>(_ gradients: G, maxNorm: Double) throws -> G {
    try requireSetting(maxNorm.isFinite && maxNorm > 0, "clipGradientsByNorm: maxNorm must be finite and positive, got \(maxNorm)")
    let arrays = try floatingArrays(of: gradients, kind: "gradients", function: "clipGradientsByNorm", allowComplex: true)
    return gradients.replacingArrays(with: arrays.map { array in
        let norm = sumOfSquares(array).squareRoot()
        return norm > maxNorm ? scaled(array, by: maxNorm / norm) : array
    })
}

/// The gradients with every element clipped to `[−maxValue, maxValue]`, as MATLAB's
/// `"absolute-value"` gradient threshold method: an element whose magnitude exceeds `maxValue`
/// keeps its sign and takes the magnitude `maxValue`.
///
/// Works on any ``DLArrayContainer`` of real arrays, keeps each array's shape, element type and
/// labels, and does not trace; NaN stays NaN.
/// - Throws: ``DLError/invalidArgument(_:)`` unless `maxValue` is positive and finite;
///   ``DLError/unsupportedType(_:)`` for complex or bool arrays.
public func clipGradientsByValue<G: DLArrayContainer>(_ gradients: G, maxValue: Double) throws -> G {
    try requireSetting(maxValue.isFinite && maxValue > 0,
                       "clipGradientsByValue: maxValue must be finite and positive, got \(maxValue)")
    let arrays = try floatingArrays(of: gradients, kind: "gradients", function: "clipGradientsByValue", allowComplex: false)
    return gradients.replacingArrays(with: arrays.map { dispatchReal($0.dataType, ClipByValue(array: $0, limit: maxValue)) })
}

/// The sum of the squared magnitudes of the elements, accumulated in float64.
private func sumOfSquares(_ array: DLArray) -> Double {
    dispatchFloating(array.dataType, SumOfSquares(array: array))
}

/// The kernel of ``sumOfSquares(_:)``.
private struct SumOfSquares: FloatingKernel {
    let array: DLArray
    func run<T: DLFloatingElement>(_ type: T.Type) -> Double {
        withExtendedLifetime(array) {
            let elements = array.storage.pointer(as: T.self)
            var sum = 0.0
            for i in 0..<array.count {
                let (real, imaginary) = elements[i].doubleParts
                sum += real * real + imaginary * imaginary
            }
            return sum
        }
    }
}

/// `array` times `factor`, untraced, with its element type and labels.
private func scaled(_ array: DLArray, by factor: Double) -> DLArray {
    (extractdata(array) * factor).withLabels(array.labels)
}

/// The elements of one array clipped to `[−limit, limit]`.
private struct ClipByValue: RealKernel {
    let array: DLArray
    let limit: Double
    func run<T: DLRealElement>(_ type: T.Type) -> DLArray {
        let limit = T(limit)
        return elementwiseUpdate(T.self, like: array, inputs: [array], outputCount: 1) { range, input, output in
            let (source, destination) = (input[0], output[0])
            for i in range {
                let value = source[i]
                destination[i] = value > limit ? limit : value < -limit ? -limit : value
            }
        }[0]
    }
}
