/// The activation that updates the cell and hidden states of ``lstm(_:_:_:_:_:_:stateActivation:gateActivation:dataFormat:)``
/// and ``gru(_:_:_:_:_:resetGateMode:stateActivation:gateActivation:dataFormat:)``
/// (MATLAB's `StateActivationFunction`).
public enum RecurrentStateActivation: String, Sendable, CaseIterable {
    /// The hyperbolic tangent (MATLAB's default).
    case tanh
    /// The softsign function x / (1 + |x|).
    case softsign
    /// The rectified linear unit max(x, 0).
    case relu

    func apply(_ x: DLArray) throws -> DLArray {
        switch self {
        case .tanh: SwiftDL.tanh(x)
        case .softsign: try x / (1 + abs(x))
        case .relu: try SwiftDL.relu(x)
        }
    }
}

/// The activation of the gates of ``lstm(_:_:_:_:_:_:stateActivation:gateActivation:dataFormat:)``
/// and ``gru(_:_:_:_:_:resetGateMode:stateActivation:gateActivation:dataFormat:)``
/// (MATLAB's `GateActivationFunction`).
public enum RecurrentGateActivation: String, Sendable, CaseIterable {
    /// The logistic sigmoid 1 / (1 + e^-x) (MATLAB's default).
    case sigmoid
    /// MATLAB's hard sigmoid: 0 below -2.5, 0.2·x + 0.5 between, 1 above 2.5.
    case hardSigmoid = "hard-sigmoid"

    func apply(_ x: DLArray) throws -> DLArray {
        switch self {
        case .sigmoid: SwiftDL.sigmoid(x)
        case .hardSigmoid: try minimum(maximum(x * 0.2 + 0.5, 0), 1)
        }
    }
}

/// Where a GRU applies its reset gate (MATLAB's `ResetGateMode`). With `r` the reset gate,
/// `h` the previous hidden state, `W`, `R` the input and recurrent weights of the candidate
/// and `b` biases, the candidate state is:
public enum GRUResetGateMode: String, Sendable, CaseIterable, Codable {
    /// `σ(W x + b + r ⊙ (R h))`: the reset gate applied after the recurrent product (MATLAB's
    /// default, cuDNN compatible); the bias has `3·hidden` values.
    case afterMultiplication = "after-multiplication"
    /// `σ(W x + b + R (r ⊙ h))`: the reset gate applied before the recurrent product; the bias
    /// has `3·hidden` values.
    case beforeMultiplication = "before-multiplication"
    /// `σ(W x + b_W + r ⊙ (R h + b_R))`, with a second set of biases `b_R` for the recurrent
    /// products (also added in the reset and update gates): PyTorch's `torch.nn.GRU`. The
    /// bias has `6·hidden` values, the input biases then the recurrent ones.
    case recurrentBiasAfterMultiplication = "recurrent-bias-after-multiplication"
}

/// A sequence input of a recurrent operation, as `[T, B, features]`, and how to give results back.
struct SequenceInput {
    let format: DataFormat
    /// The input as `[T, B, F]`, unlabeled; the channel and spatial dimensions are flattened into F.
    let sequence: DLArray
    let hadTime: Bool
    let hadBatch: Bool
    let operation: String

    init(_ x: DLArray, dataFormat: String?, operation: String) throws {
        self.operation = operation
        format = try DataFormat(x, dataFormat: dataFormat, operation: operation)
        let labels = format.input.labels
        hadTime = labels.contains("T")
        hadBatch = labels.contains("B")
        let spatial = labels.filter { $0 == "S" }.count
        let expected = (hadTime ? "T" : "") + (hadBatch ? "B" : "") + "C" + String(repeating: "S", count: spatial)
        guard labels == expected else {
            throw DLError.invalidArgument(
                "\(operation) needs sequence data labeled \"TBC\" (MATLAB's \"CBT\"): a channel dimension, optionally time and batch (and spatial dimensions, flattened into the features), no U; got \"\(labels)\"")
        }
        let shape = format.input.shape
        let time = hadTime ? shape[0] : 1
        let batch = hadBatch ? shape[hadTime ? 1 : 0] : 1
        let features = shape.dropFirst((hadTime ? 1 : 0) + (hadBatch ? 1 : 0)).reduce(1, *)
        guard time > 0, batch > 0 else {
            throw DLError.invalidArgument("\(operation): the input of shape \(shape) (\"\(labels)\") has no time steps or no observations")
        }
        sequence = try reshape(stripdims(format.input), [time, batch, features])
    }

    var time: Int { sequence.shape[0] }
    var batch: Int { sequence.shape[1] }
    var features: Int { sequence.shape[2] }

    /// The hidden states `[T, B, H]` labeled and arranged as the input was (without its spatial
    /// dimensions).
    func output(_ y: DLArray) throws -> DLArray {
        let hidden = y.shape[2]
        let shape = (hadTime ? [time] : []) + (hadBatch ? [batch] : []) + [hidden]
        let labels = (hadTime ? "T" : "") + (hadBatch ? "B" : "") + "C"
        return try format.restore(reshape(y, shape).withLabels(labels))
    }

    /// A final state `[B, H]` labeled `"BC"` (`"C"` without a batch), or unlabeled in the order
    /// the caller's format gives the channel and batch dimensions.
    func state(_ s: DLArray) throws -> DLArray {
        let shape = (hadBatch ? [batch] : []) + [s.shape[1]]
        return try format.restore(reshape(s, shape).withLabels((hadBatch ? "B" : "") + "C"))
    }

    /// An initial state brought to `[B, H]`: labeled `"BC"` or `"C"`, or unlabeled as `[H]`, or
    /// `[B, H]` (`[H, B]` when the caller's format puts the channel first, as MATLAB's `"CBT"`);
    /// a batch of 1 applies to every observation.
    func initialState(_ s: DLArray, _ name: String, hidden: Int) throws -> DLArray {
        var state = stripdims(s)
        if !s.labels.isEmpty {
            guard s.labels == "BC" || s.labels == "C" else {
                throw DLError.invalidArgument("\(operation): \(name) is labeled \"\(s.labels)\"; label it \"BC\" (MATLAB's \"CB\") or \"C\"")
            }
        } else if s.rank == 2, let format = format.callerFormat,
                  let c = format.firstIndex(of: "C"), let b = format.firstIndex(of: "B"), c < b {
            state = try transpose(state)
        }
        if state.rank == 1 { state = try reshape(state, [1, state.count]) }
        guard state.rank == 2, state.shape[1] == hidden, state.shape[0] == 1 || state.shape[0] == batch else {
            throw DLError.shapeMismatch(
                "\(operation): \(name) of shape \(s.shape) does not fit \(batch) observations of \(hidden) hidden units; expected [\(batch), \(hidden)] (\"BC\") or [\(hidden)]")
        }
        return try state.broadcast(to: [batch, hidden])
    }

    /// Checks the weights of `gates` gates and returns the number of hidden units.
    func hiddenSize(inputWeights: DLArray, recurrentWeights: DLArray, gates: Int) throws -> Int {
        let r = recurrentWeights.shape
        guard r.count == 2, r[0] > 0, r[1] == gates * r[0] else {
            throw DLError.shapeMismatch(
                "\(operation): recurrentWeights of shape \(r) do not fit; expected [hidden, \(gates)·hidden] (MATLAB's \(gates)H×H matrix)")
        }
        let hidden = r[0]
        guard inputWeights.shape == [features, gates * hidden] else {
            throw DLError.shapeMismatch(
                "\(operation): inputWeights of shape \(inputWeights.shape) do not fit \(features) input features and \(hidden) hidden units; expected [\(features), \(gates * hidden)]")
        }
        return hidden
    }

    /// `x·W + b` for every time step at once, as one `[T, B, G·H]` array split into steps.
    func inputProjection(_ weights: DLArray, _ bias: DLArray) throws -> [DLArray] {
        let width = weights.shape[1]
        let product = try mtimes(reshape(sequence, [time * batch, features]), stripdims(weights))
        let projected = try reshape(product + reshape(stripdims(bias), [1, width]), [time, batch * width])
        return try split(projected, sizes: Array(repeating: 1, count: time), dim: 0).map { try reshape($0, [batch, width]) }
    }
}

/// Long short-term memory over whole sequences, as MATLAB's
/// `[Y, hiddenState, cellState] = lstm(X, H0, C0, weights, recurrentWeights, bias)`.
///
/// For every time step, with `x` the input, `h` and `c` the previous hidden and cell states,
/// `σ` the gate activation and `φ` the state activation:
/// `[i f g o] = x·W + h·R + b`, `c ← σ(f) ⊙ c + σ(i) ⊙ φ(g)`, `h ← σ(o) ⊙ φ(c)`.
/// Built from matrix products, slicing and elementwise operations, it has derivatives of every
/// order in every input.
///
/// - Parameters:
///   - x: the sequences, labeled `"TBC"` (MATLAB's `"CBT"`; time and batch may be missing;
///     spatial dimensions are flattened into the features), or unlabeled with `dataFormat`.
///   - hidden0: the initial hidden state, `[batch, hidden]` (`"BC"`, MATLAB's `"CB"`) or
///     `[hidden]` for every observation. An unlabeled `[batch, hidden]` state follows the order
///     of `dataFormat`: `[hidden, batch]` with MATLAB's `"CBT"`.
///   - cell0: the initial cell state, laid out as `hidden0`.
///   - inputWeights: `[inputSize, 4·hidden]`, the gates in MATLAB's order input, forget, cell
///     candidate, output (the memory of MATLAB's `4H×C` matrix; PyTorch's `weight_ih`
///     transposed).
///   - recurrentWeights: `[hidden, 4·hidden]`, same gate order (PyTorch's `weight_hh` transposed).
///   - bias: `4·hidden` values, same gate order (PyTorch's `bias_ih + bias_hh`).
///   - stateActivation: MATLAB's `StateActivationFunction` (tanh by default).
///   - gateActivation: MATLAB's `GateActivationFunction` (sigmoid by default).
///   - dataFormat: the labels of an unlabeled `x`, e.g. `"TBC"` or MATLAB's `"CBT"`.
/// - Returns: `output`, every hidden state, `[T, B, hidden]` labeled `"TBC"` (as `x` is
///   labeled, without its spatial dimensions; unlabeled in `x`'s order when `x` was unlabeled),
///   and the final `hiddenState` and `cellState`, `[B, hidden]` labeled `"BC"` (unlabeled in the
///   order of `dataFormat`).
/// - Throws: ``DLError`` when the shapes do not fit.
public func lstm(_ x: DLArray, _ hidden0: DLArray, _ cell0: DLArray, _ inputWeights: DLArray,
                 _ recurrentWeights: DLArray, _ bias: DLArray,
                 stateActivation: RecurrentStateActivation = .tanh, gateActivation: RecurrentGateActivation = .sigmoid,
                 dataFormat: String? = nil) throws -> (output: DLArray, hiddenState: DLArray, cellState: DLArray) {
    let input = try SequenceInput(x, dataFormat: dataFormat, operation: "lstm")
    let hidden = try input.hiddenSize(inputWeights: inputWeights, recurrentWeights: recurrentWeights, gates: 4)
    guard bias.count == 4 * hidden else {
        throw DLError.shapeMismatch("lstm: bias has \(bias.count) elements for \(hidden) hidden units; expected \(4 * hidden) (4·hidden)")
    }
    var h = try input.initialState(hidden0, "hidden0", hidden: hidden)
    var c = try input.initialState(cell0, "cell0", hidden: hidden)
    let recurrent = stripdims(recurrentWeights)
    let sizes = Array(repeating: hidden, count: 4)
    var outputs: [DLArray] = []
    for projected in try input.inputProjection(inputWeights, bias) {
        let gates = try split(projected + mtimes(h, recurrent), sizes: sizes, dim: 1)
        let (i, f, g, o) = (try gateActivation.apply(gates[0]), try gateActivation.apply(gates[1]),
                            try stateActivation.apply(gates[2]), try gateActivation.apply(gates[3]))
        c = try f * c + i * g
        h = try o * stateActivation.apply(c)
        outputs.append(try reshape(h, [1, input.batch, hidden]))
    }
    return (try input.output(cat(outputs, dim: 0)), try input.state(h), try input.state(c))
}

/// A gated recurrent unit over whole sequences, as MATLAB's
/// `[Y, hiddenState] = gru(X, H0, weights, recurrentWeights, bias)`.
///
/// For every time step, with `x` the input, `h` the previous hidden state, `σ` the gate
/// activation and `φ` the state activation: the reset gate `r = σ(x·W_r + h·R_r + b_r)`, the
/// update gate `z = σ(x·W_z + h·R_z + b_z)`, the candidate `h̃` as `resetGateMode` says
/// (e.g. `φ(x·W_h + b_h + r ⊙ (h·R_h))`), and `h ← (1 − z) ⊙ h̃ + z ⊙ h`. Built from matrix
/// products, slicing and elementwise operations, it has derivatives of every order in every
/// input.
///
/// - Parameters:
///   - x: the sequences, labeled `"TBC"` (MATLAB's `"CBT"`; time and batch may be missing;
///     spatial dimensions are flattened into the features), or unlabeled with `dataFormat`.
///   - hidden0: the initial hidden state, `[batch, hidden]` (`"BC"`) or `[hidden]`; unlabeled
///     `[batch, hidden]` states follow the order of `dataFormat` (`[hidden, batch]` with `"CBT"`).
///   - inputWeights: `[inputSize, 3·hidden]`, the gates in MATLAB's order reset, update,
///     candidate (MATLAB's `3H×C` matrix; PyTorch's `weight_ih` transposed).
///   - recurrentWeights: `[hidden, 3·hidden]`, same order (PyTorch's `weight_hh` transposed).
///   - bias: `3·hidden` values, same order; `6·hidden` with
///     ``GRUResetGateMode/recurrentBiasAfterMultiplication`` (the input biases, then the
///     recurrent ones: PyTorch's `bias_ih` then `bias_hh`).
///   - resetGateMode: where the reset gate applies (MATLAB's `ResetGateMode`, default
///     `"after-multiplication"`).
///   - stateActivation: MATLAB's `StateActivationFunction` (tanh by default).
///   - gateActivation: MATLAB's `GateActivationFunction` (sigmoid by default).
///   - dataFormat: the labels of an unlabeled `x`, e.g. `"TBC"` or MATLAB's `"CBT"`.
/// - Returns: `output`, every hidden state, `[T, B, hidden]` labeled as `x` (without spatial
///   dimensions), and the final `hiddenState`, `[B, hidden]` labeled `"BC"` (unlabeled in the
///   order of `dataFormat`).
/// - Throws: ``DLError`` when the shapes do not fit.
public func gru(_ x: DLArray, _ hidden0: DLArray, _ inputWeights: DLArray, _ recurrentWeights: DLArray, _ bias: DLArray,
                resetGateMode: GRUResetGateMode = .afterMultiplication,
                stateActivation: RecurrentStateActivation = .tanh, gateActivation: RecurrentGateActivation = .sigmoid,
                dataFormat: String? = nil) throws -> (output: DLArray, hiddenState: DLArray) {
    let input = try SequenceInput(x, dataFormat: dataFormat, operation: "gru")
    let hidden = try input.hiddenSize(inputWeights: inputWeights, recurrentWeights: recurrentWeights, gates: 3)
    let withRecurrentBias = resetGateMode == .recurrentBiasAfterMultiplication
    let biasCount = (withRecurrentBias ? 6 : 3) * hidden
    guard bias.count == biasCount else {
        throw DLError.shapeMismatch(
            "gru: bias has \(bias.count) elements for \(hidden) hidden units with ResetGateMode \"\(resetGateMode.rawValue)\"; expected \(biasCount) (\(withRecurrentBias ? 6 : 3)·hidden)")
    }
    let biases = try split(reshape(stripdims(bias), [bias.count]), sizes: withRecurrentBias ? [3 * hidden, 3 * hidden] : [3 * hidden], dim: 0)
    let recurrentBias = withRecurrentBias ? try reshape(biases[1], [1, 3 * hidden]) : nil
    let recurrent = stripdims(recurrentWeights)
    // Before multiplication, the candidate's recurrent product waits for the reset gate.
    let parts = resetGateMode == .beforeMultiplication ? try split(recurrent, sizes: [2 * hidden, hidden], dim: 1) : []
    var h = try input.initialState(hidden0, "hidden0", hidden: hidden)
    var outputs: [DLArray] = []
    for projected in try input.inputProjection(inputWeights, biases[0]) {
        let p = try split(projected, sizes: [hidden, hidden, hidden], dim: 1)
        let candidate: DLArray, z: DLArray
        if resetGateMode == .beforeMultiplication {
            let q = try split(mtimes(h, parts[0]), sizes: [hidden, hidden], dim: 1)
            let r = try gateActivation.apply(p[0] + q[0])
            z = try gateActivation.apply(p[1] + q[1])
            candidate = try stateActivation.apply(p[2] + mtimes(r * h, parts[1]))
        } else {
            var product = try mtimes(h, recurrent)
            if let recurrentBias { product = try product + recurrentBias }
            let q = try split(product, sizes: [hidden, hidden, hidden], dim: 1)
            let r = try gateActivation.apply(p[0] + q[0])
            z = try gateActivation.apply(p[1] + q[1])
            candidate = try stateActivation.apply(p[2] + r * q[2])
        }
        // (1 − z) ⊙ h̃ + z ⊙ h, with one product fewer.
        h = try candidate + z * (h - candidate)
        outputs.append(try reshape(h, [1, input.batch, hidden]))
    }
    return (try input.output(cat(outputs, dim: 0)), try input.state(h))
}
