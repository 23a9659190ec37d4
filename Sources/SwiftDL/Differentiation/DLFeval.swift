import RealModule
/// Evaluates `function` with tracing on, as MATLAB's `dlfeval` does.
///
/// The arrays in `arguments` (any ``DLArrayContainer``s) are traced for the duration of the
/// call: operations on them, and on the values computed from them, are recorded in a derivative
/// trace that ``dlgradient(_:_:retainData:enableHigherDerivatives:allowComplex:)`` differentiates.
/// The trace belongs to this call and this thread: nested `dlfeval`s have their own traces, and
/// `dlfeval`s on two threads do not interact. When `dlfeval` returns, the trace is released and
/// the values it returns are no longer traced.
///
/// ```swift
/// func rosenbrock(_ x: DLArray) throws -> (DLArray, DLArray) {
///     let y = try 100 * (x[1] - x[0] .^ 2) .^ 2 + (1 - x[0]) .^ 2
///     return (y, try dlgradient(y, x))
/// }
/// let (value, gradient) = try dlfeval(rosenbrock, DLArray([-1.0, 2.0]))   // 104, [396, 200]
/// ```
///
/// Arrays that are not passed as arguments (captured from outside, or created inside the
/// function) are constants, and so are frozen parameters (a learn-rate factor of 0 in a
/// ``DLLearnRateScaled`` container such as a network's learnables).
public func dlfeval<each Argument: DLArrayContainer, Result>(
    _ function: (repeat each Argument) throws -> Result,
    _ arguments: repeat each Argument
) rethrows -> Result {
    let trace = Trace(parent: Trace.current)
    Trace.setCurrent(trace)
    defer {
        Trace.setCurrent(trace.parent)
        trace.end()
    }
    return try function(repeat trace.traced(each arguments))
}

extension Trace {
    /// A copy of `array` that this trace treats as a leaf.
    func traced(_ array: DLArray) -> DLArray {
        var copy = array
        copy.node = recordLeaf()
        return copy
    }

    /// A copy of `container` whose arrays are leaves of this trace, but for frozen ones (a
    /// learn-rate factor of 0), which stay constants.
    func traced<C: DLArrayContainer>(_ container: C) -> C {
        guard let mask = container.trainableMask else { return container.mapArrays { traced($0) } }
        var index = 0
        return container.mapArrays { array in
            defer { index += 1 }
            return mask[index] ? traced(array) : array
        }
    }
}
