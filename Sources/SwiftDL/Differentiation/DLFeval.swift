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
/// function) are constants.
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
    return try function(repeat (each arguments).mapArrays { trace.traced($0) })
}

extension Trace {
    /// A copy of `array` that this trace treats as a leaf.
    func traced(_ array: DLArray) -> DLArray {
        var copy = array
        copy.node = recordLeaf()
        return copy
    }
}
