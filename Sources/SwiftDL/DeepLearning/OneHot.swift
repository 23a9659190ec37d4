/// Class indices encoded as one-hot vectors, as MATLAB's `onehotencode(A, featureDim)`:
/// the singleton dimension `featureDim` of `classIndices` becomes `classCount` positions,
/// 1 at the index's class and 0 elsewhere. Not traced (class labels are not differentiated).
///
/// - Parameters:
///   - classIndices: 0-based class indices, with size 1 along `featureDim`. NaN gives a
///     vector of NaN, as MATLAB does for an undefined label.
///   - featureDim: the dimension that holds the classes in the result.
///   - classCount: the number of classes.
///   - type: the element type of the result (MATLAB's `TypeName`; `float64` by default).
/// - Throws: ``DLError/invalidArgument(_:)`` for a dimension out of range or not of size 1, a
///   class count below 1, or an index that is not a whole number below `classCount`.
public func onehotencode(_ classIndices: DLArray, featureDim: Int, classCount: Int,
                         type: DLDataType = .float64) throws -> DLArray {
    try requireReal(classIndices, "onehotencode")
    _ = try checkedDimension(featureDim, of: classIndices, "onehotencode")
    guard classIndices.shape[featureDim] == 1 else {
        throw DLError.invalidArgument(
            "onehotencode: dimension \(featureDim) of shape \(classIndices.shape) must have size 1; it becomes the \(classCount) classes")
    }
    guard classCount >= 1 else { throw DLError.invalidArgument("onehotencode: classCount must be 1 or more, got \(classCount)") }
    // Read into Swift only to check them: the kernel below reads the indices itself, so that a
    // plan cached by dlaccelerate replays on new classes.
    let positions = extractdata(classIndices).converted(to: .float64)
    let indices = positions.indexValues(checkedBy: IndexRule(bound: classCount, allowsNaN: true))
    if let bad = indices.first(where: { !$0.isNaN && ($0 < 0 || $0 >= Double(classCount) || $0.rounded() != $0) }) {
        throw DLError.invalidArgument("onehotencode: index \(bad) is not a 0-based class below \(classCount)")
    }
    let (outer, _, inner) = splitAround(classIndices.shape, featureDim)
    var shape = classIndices.shape
    shape[featureDim] = classCount
    let encoded = ClosureKernel { inputs, output in
        let index = inputs[0].assumingMemoryBound(to: Double.self), values = output.assumingMemoryBound(to: Double.self)
        for o in 0..<outer {
            for i in 0..<inner {
                let k = index[o * inner + i]
                for c in 0..<classCount {
                    values[(o * classCount + c) * inner + i] = k.isNaN ? .nan : (Int(k) == c ? 1 : 0)
                }
            }
        }
    }.output(reading: positions, KernelOutput(count: outer * classCount * inner, dataType: .float64))
    return DLArray(storage: encoded, shape: shape).converted(to: type).withLabels(classIndices.labels)
}

/// Labels encoded as one-hot rows against `classNames`: an array of shape
/// `[labels.count, classNames.count]` (MATLAB's `onehotencode` of a categorical column with
/// `ClassNames`, in SwiftDL's "BC" layout).
/// - Throws: ``DLError/invalidArgument(_:)`` for a label not among `classNames`, or repeated
///   class names.
public func onehotencode<Label: Hashable>(_ labels: [Label], classNames: [Label],
                                          type: DLDataType = .float64) throws -> DLArray {
    guard Set(classNames).count == classNames.count else {
        throw DLError.invalidArgument("onehotencode: the class names repeat a name")
    }
    let position = Dictionary(uniqueKeysWithValues: classNames.enumerated().map { ($1, $0) })
    let indices = try labels.map { label in
        guard let index = position[label] else {
            throw DLError.invalidArgument("onehotencode: label \(label) is not one of the \(classNames.count) class names")
        }
        return Double(index)
    }
    return try onehotencode(DLArray(indices, shape: [labels.count, 1]), featureDim: 1,
                            classCount: classNames.count, type: type)
}

/// The classes of one-hot (or probability) vectors along `featureDim`, as MATLAB's
/// `onehotdecode(B, classes, featureDim)`: the 0-based position of the largest element (the
/// first on ties), with `featureDim` kept as size 1. Not traced.
/// - Throws: ``DLError/invalidArgument(_:)`` for a dimension out of range or of size 0,
///   ``DLError/unsupportedType(_:)`` for complex input.
public func onehotdecode(_ b: DLArray, featureDim: Int) throws -> DLArray {
    try max(extractdata(b), dim: featureDim).indices
}

/// The class names of one-hot (or probability) rows, the largest element's class in each
/// position of `featureDim`, in row-major order of the other dimensions.
/// - Throws: ``DLError/invalidArgument(_:)`` when `classNames` does not have one name per
///   position of `featureDim`, or for a dimension out of range.
public func onehotdecode<Label>(_ b: DLArray, classNames: [Label], featureDim: Int) throws -> [Label] {
    _ = try checkedDimension(featureDim, of: b, "onehotdecode")
    guard classNames.count == b.shape[featureDim] else {
        throw DLError.invalidArgument(
            "onehotdecode: \(classNames.count) class names for \(b.shape[featureDim]) classes along dimension \(featureDim)")
    }
    return try onehotdecode(b, featureDim: featureDim).scalars(as: Double.self).map { classNames[Int($0)] }
}
