/// The machinery the differential operators, forward mode and the adjoint ODE share: fresh
/// variables in a trace, and gradients that are zero rather than an error where a value does
/// not depend on a variable.
extension Trace {
    /// Runs `body` with copies of `arrays` that can be differentiated with respect to.
    ///
    /// Inside a `dlfeval` that records (a forward pass, or a backward pass traced for higher
    /// derivatives), the copies are new nodes of that trace: each copy of a traced array is its
    /// identity, so derivatives flow on to whatever it was computed from, and the results of
    /// `body` stay traced (`keepsTrace` is true). Elsewhere `body` runs in a `dlfeval` of its
    /// own, and its results are plain values (`keepsTrace` is false).
    static func withVariables<Result>(
        _ arrays: [DLArray], _ body: (_ variables: [DLArray], _ keepsTrace: Bool) throws -> Result
    ) throws -> Result {
        if let trace = current, trace.isRecording {
            let variables = arrays.map { array in
                array.recordingNode == nil
                    ? trace.traced(array)
                    : extractdata(array).withLabels(array.labels).recorded(from: array) { $0 }
            }
            return try body(variables, true)
        }
        return try dlfeval({ (variables: [DLArray]) in try body(variables, false) }, arrays)
    }
}

/// The gradients of the real scalar `y` with respect to `variables`, in the current trace,
/// without releasing it: zeros for a variable `y` does not depend on (and for every variable
/// when `y` is not traced). With `traced` the backward pass is recorded, so the gradients can
/// be differentiated again.
func gradients(of y: DLArray, at variables: [DLArray], traced: Bool) throws -> [DLArray] {
    let zeros = { variables.map { DLArray.zeros(like: extractdata($0)).withLabels($0.labels) } }
    guard let trace = Trace.current, let node = y.recordingNode else { return zeros() }
    let targets = variables.compactMap(\.recordingNode)
    precondition(targets.count == variables.count, "gradients(of:at:) takes variables traced by the current trace")
    let results = try trace.gradients(of: node, seed: DLArray.ones(like: extractdata(y)), targets: targets,
                                      traced: traced, release: false)
    return zip(results, variables).map { gradient, variable in
        gradient?.withLabels(variable.labels) ?? DLArray.zeros(like: extractdata(variable)).withLabels(variable.labels)
    }
}

/// `Σᵢ sum(aᵢ · bᵢ)` over paired arrays of the same shapes: the inner product that turns a
/// vector-Jacobian product into the gradient of a scalar.
func innerProduct(_ a: [DLArray], _ b: [DLArray]) throws -> DLArray {
    var total: DLArray?
    for (x, y) in zip(a, b) {
        guard x.shape == y.shape else {
            throw DLError.shapeMismatch("the array of shape \(y.shape) is paired with a value of shape \(x.shape); they must have the same shape")
        }
        let term = sum(try x * y)
        total = try total.map { try $0 + term } ?? term
    }
    return total ?? DLArray(0.0)
}

extension Trace {
    /// Runs `body` with the current trace, if any, not recording: the values it computes are
    /// constants, and the trace holds nothing of them.
    static func withoutRecording<Result>(_ body: () throws -> Result) rethrows -> Result {
        guard let trace = current, trace.isRecording else { return try body() }
        trace.isRecording = false
        defer { trace.isRecording = true }
        return try body()
    }
}
