/// `function` applied to every array of `container`, as MATLAB's `dlupdate(fun, X)`: the
/// result has the structure of `container`, each array replaced by `function` of it.
///
/// Use it for custom update rules and for transforming every learnable parameter at once:
///
/// ```swift
/// let halved = dlupdate({ $0 * 0.5 }, parameters)
/// ```
///
/// `function` runs as written: inside ``dlfeval(_:_:)->Result`` its operations on traced arrays are traced.
public func dlupdate<C: DLArrayContainer>(_ function: (DLArray) throws -> DLArray, _ container: C) rethrows -> C {
    try container.mapArrays(function)
}

/// `function` applied to the corresponding arrays of two containers of the same structure, as
/// MATLAB's `dlupdate(fun, X, Y)`: the result has the structure of `first`, each array
/// replaced by `function` of it and the array at the same position of `second`.
///
/// ```swift
/// // L2 regularization, as MATLAB's custom training loops write it.
/// gradients = try dlupdate({ g, w in try g + 1e-4 * w }, gradients, parameters)
/// // Plain gradient descent.
/// parameters = try dlupdate({ w, g in try w - 0.01 * g }, parameters, gradients)
/// ```
///
/// Arrays correspond by position in the order of ``DLArrayContainer/forEachArray(_:)``.
/// - Throws: ``DLError/invalidArgument(_:)`` when the containers hold different numbers of
///   arrays, ``DLError/shapeMismatch(_:)`` when corresponding arrays differ in shape, and what
///   `function` throws.
public func dlupdate<C: DLArrayContainer, D: DLArrayContainer>(
    _ function: (DLArray, DLArray) throws -> DLArray, _ first: C, _ second: D
) throws -> C {
    let reference = first.flattenedArrays
    let others = second.flattenedArrays
    try checkStructure(others, named: "container 2", function: "dlupdate", matching: reference, referenceName: "container 1")
    var index = 0
    return try first.mapArrays { array in
        defer { index += 1 }
        return try function(array, others[index])
    }
}

/// `function` applied to the corresponding arrays of three containers of the same structure, as
/// MATLAB's `dlupdate(fun, X, Y, Z)` (see ``dlupdate(_:_:_:)``).
/// - Throws: ``DLError/invalidArgument(_:)`` when the containers hold different numbers of
///   arrays, ``DLError/shapeMismatch(_:)`` when corresponding arrays differ in shape, and what
///   `function` throws.
public func dlupdate<C: DLArrayContainer, D: DLArrayContainer, E: DLArrayContainer>(
    _ function: (DLArray, DLArray, DLArray) throws -> DLArray, _ first: C, _ second: D, _ third: E
) throws -> C {
    let reference = first.flattenedArrays
    let seconds = second.flattenedArrays, thirds = third.flattenedArrays
    try checkStructure(seconds, named: "container 2", function: "dlupdate", matching: reference, referenceName: "container 1")
    try checkStructure(thirds, named: "container 3", function: "dlupdate", matching: reference, referenceName: "container 1")
    var index = 0
    return try first.mapArrays { array in
        defer { index += 1 }
        return try function(array, seconds[index], thirds[index])
    }
}
