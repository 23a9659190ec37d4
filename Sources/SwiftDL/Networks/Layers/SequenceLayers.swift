/// Whether a recurrent layer returns every time step or the last one (MATLAB's `OutputMode`).
public enum SequenceOutputMode: Sendable, Codable {
    /// All hidden states, `"TBC"`.
    case sequence
    /// The last hidden state, `"BC"`.
    case last
}

/// Creates a learnable parameter of `shape` if it is not set yet.
private func create(_ parameters: inout [String: DLArray], _ name: String, _ shape: [Int], type: DLDataType,
                    _ initializer: Initializer, fanIn: Int, fanOut: Int, using generator: inout DLRandomGenerator) {
    if parameters[name] == nil {
        parameters[name] = initializer.make(shape, type: type, fanIn: fanIn, fanOut: fanOut, using: &generator)
    }
}

/// Creates a recurrent layer's `InputWeights` `[features, gates·hidden]` (Glorot) and
/// `RecurrentWeights` `[hidden, gates·hidden]` (orthogonal) if not set.
private func createRecurrentWeights(_ parameters: inout [String: DLArray], input: DLArray, hidden: Int, gates: Int,
                                    layer: String, using generator: inout DLRandomGenerator) throws {
    let features = try labeledSize(input, "C", layer: layer)
    let type = parameterType(input)
    create(&parameters, "InputWeights", [features, gates * hidden], type: type, .glorot, fanIn: features,
           fanOut: gates * hidden, using: &generator)
    create(&parameters, "RecurrentWeights", [hidden, gates * hidden], type: type, .orthogonal(), fanIn: hidden,
           fanOut: gates * hidden, using: &generator)
}

/// An LSTM layer (MATLAB's `lstmLayer`): learnables `InputWeights` `[inputSize, 4·hidden]`,
/// `RecurrentWeights` `[hidden, 4·hidden]` (Glorot and orthogonal) and `Bias` `[4·hidden]`
/// (ones for the forget gate, MATLAB's "unit-forget-gate"); each sequence starts from zero
/// hidden and cell states.
public struct LSTMLayer: Layer {
    /// The layer's name.
    public var name: String
    /// The number of hidden units.
    public let hiddenSize: Int
    /// Every time step or the last one.
    public let outputMode: SequenceOutputMode
    var parameters: [String: DLArray] = [:]
    enum CodingKeys: String, CodingKey { case name, hiddenSize, outputMode }

    /// An LSTM layer with `hiddenSize` hidden units.
    public init(hiddenSize: Int, outputMode: SequenceOutputMode = .sequence, name: String = "") {
        (self.hiddenSize, self.outputMode, self.name) = (hiddenSize, outputMode, name)
    }

    /// `InputWeights`, `RecurrentWeights` and `Bias`.
    public var learnableNames: [String] { ["InputWeights", "RecurrentWeights", "Bias"] }
    /// A parameter by name.
    public subscript(parameter name: String) -> DLArray? {
        get { parameters[name] }
        set { parameters[name] = newValue }
    }

    /// Creates the weights for the input's features.
    public mutating func initialize(for inputs: [DLArray], using generator: inout DLRandomGenerator) throws {
        try createRecurrentWeights(&parameters, input: inputs[0], hidden: hiddenSize, gates: 4, layer: name, using: &generator)
        let (h, type) = (hiddenSize, parameterType(inputs[0]))
        if parameters["Bias"] == nil {
            // Gate order input, forget, cell candidate, output: the forget gate's bias starts at 1.
            parameters["Bias"] = DLArray((0..<4 * h).map { $0 / h == 1 ? 1.0 : 0 }).converted(to: type)
        }
    }

    /// `lstm` over the whole sequence from zero states.
    public func forward(_ inputs: [DLArray], mode: ForwardMode, using generator: inout DLRandomGenerator) throws
        -> (outputs: [DLArray], state: [String: DLArray]) {
        let x = inputs[0], zeros = DLArray.zeros([hiddenSize], type: parameterType(x))
        let result = try lstm(x, zeros, zeros, parameter("InputWeights"), parameter("RecurrentWeights"), parameter("Bias"))
        return ([outputMode == .sequence ? result.output : result.hiddenState], [:])
    }
}

/// A GRU layer (MATLAB's `gruLayer`): learnables `InputWeights` `[inputSize, 3·hidden]`,
/// `RecurrentWeights` `[hidden, 3·hidden]` and `Bias` (`[3·hidden]`, or `[6·hidden]` with the
/// recurrent-bias reset-gate mode); each sequence starts from a zero hidden state.
public struct GRULayer: Layer {
    /// The layer's name.
    public var name: String
    /// The number of hidden units.
    public let hiddenSize: Int
    /// Every time step or the last one.
    public let outputMode: SequenceOutputMode
    /// Where the reset gate applies (MATLAB's default "after-multiplication").
    public let resetGateMode: GRUResetGateMode
    var parameters: [String: DLArray] = [:]
    enum CodingKeys: String, CodingKey { case name, hiddenSize, outputMode, resetGateMode }

    /// A GRU layer with `hiddenSize` hidden units.
    public init(hiddenSize: Int, outputMode: SequenceOutputMode = .sequence,
                resetGateMode: GRUResetGateMode = .afterMultiplication, name: String = "") {
        (self.hiddenSize, self.outputMode, self.resetGateMode, self.name) = (hiddenSize, outputMode, resetGateMode, name)
    }

    /// `InputWeights`, `RecurrentWeights` and `Bias`.
    public var learnableNames: [String] { ["InputWeights", "RecurrentWeights", "Bias"] }
    /// A parameter by name.
    public subscript(parameter name: String) -> DLArray? {
        get { parameters[name] }
        set { parameters[name] = newValue }
    }

    /// Creates the weights for the input's features.
    public mutating func initialize(for inputs: [DLArray], using generator: inout DLRandomGenerator) throws {
        try createRecurrentWeights(&parameters, input: inputs[0], hidden: hiddenSize, gates: 3, layer: name, using: &generator)
        let (h, type) = (hiddenSize, parameterType(inputs[0]))
        let biasSize = resetGateMode == .recurrentBiasAfterMultiplication ? 6 * h : 3 * h
        create(&parameters, "Bias", [biasSize], type: type, .zeros, fanIn: h, fanOut: h, using: &generator)
    }

    /// `gru` over the whole sequence from a zero state.
    public func forward(_ inputs: [DLArray], mode: ForwardMode, using generator: inout DLRandomGenerator) throws
        -> (outputs: [DLArray], state: [String: DLArray]) {
        let x = inputs[0]
        let result = try gru(x, DLArray.zeros([hiddenSize], type: parameterType(x)), parameter("InputWeights"),
                             parameter("RecurrentWeights"), parameter("Bias"), resetGateMode: resetGateMode)
        return ([outputMode == .sequence ? result.output : result.hiddenState], [:])
    }
}

/// A word embedding layer (MATLAB's `wordEmbeddingLayer`): learnable `Weights`
/// `[numWords, dimension]`; the input holds 0-based word indices.
public struct EmbeddingLayer: Layer {
    /// The layer's name.
    public var name: String
    /// The embedding dimension and the vocabulary size.
    public let dimension: Int, numWords: Int
    var parameters: [String: DLArray] = [:]
    enum CodingKeys: String, CodingKey { case name, dimension, numWords }

    /// An embedding of `numWords` words in `dimension` dimensions (N(0, 0.01²) weights, as MATLAB).
    public init(dimension: Int, numWords: Int, name: String = "") {
        (self.dimension, self.numWords, self.name) = (dimension, numWords, name)
    }

    /// `Weights`.
    public var learnableNames: [String] { ["Weights"] }
    /// A parameter by name.
    public subscript(parameter name: String) -> DLArray? {
        get { parameters[name] }
        set { parameters[name] = newValue }
    }

    /// Creates the embedding table.
    public mutating func initialize(for inputs: [DLArray], using generator: inout DLRandomGenerator) throws {
        create(&parameters, "Weights", [numWords, dimension], type: .float32, .normal(mean: 0, standardDeviation: 0.01),
               fanIn: numWords, fanOut: dimension, using: &generator)
    }

    /// `embed(x, Weights)`.
    public func forward(_ inputs: [DLArray], mode: ForwardMode, using generator: inout DLRandomGenerator) throws
        -> (outputs: [DLArray], state: [String: DLArray]) {
        ([try embed(inputs[0], parameter("Weights"))], [:])
    }
}

/// Multi-head self-attention (MATLAB's `selfAttentionLayer`): learnables `QueryWeights`,
/// `KeyWeights`, `ValueWeights` `[inputSize, keyChannels]`, `OutputWeights`
/// `[keyChannels, inputSize]` and their biases; the input is a sequence `"TBC"`.
public struct SelfAttentionLayer: Layer {
    /// The layer's name.
    public var name: String
    /// The number of heads, and the channels of queries and keys (split among the heads).
    public let heads: Int, keyChannels: Int
    /// Whether each position may attend only to earlier positions.
    public let causal: Bool
    var parameters: [String: DLArray] = [:]
    enum CodingKeys: String, CodingKey { case name, heads, keyChannels, causal }

    /// A self-attention layer of `heads` heads over `keyChannels` query and key channels.
    public init(heads: Int, keyChannels: Int, causal: Bool = false, name: String = "") {
        (self.heads, self.keyChannels, self.causal, self.name) = (heads, keyChannels, causal, name)
    }

    /// The projections' weights and biases.
    public var learnableNames: [String] {
        ["QueryWeights", "KeyWeights", "ValueWeights", "OutputWeights", "QueryBias", "KeyBias", "ValueBias", "OutputBias"]
    }
    /// A parameter by name.
    public subscript(parameter name: String) -> DLArray? {
        get { parameters[name] }
        set { parameters[name] = newValue }
    }

    /// Creates the projections for the input's channels.
    public mutating func initialize(for inputs: [DLArray], using generator: inout DLRandomGenerator) throws {
        let channels = try labeledSize(inputs[0], "C", layer: name)
        guard heads >= 1, keyChannels % heads == 0 else {
            throw DLError.invalidArgument("layer \"\(name)\": \(keyChannels) key channels cannot be split into \(heads) heads")
        }
        let type = parameterType(inputs[0])
        for projection in ["Query", "Key", "Value"] {
            create(&parameters, projection + "Weights", [channels, keyChannels], type: type, .glorot,
                   fanIn: channels, fanOut: keyChannels, using: &generator)
            create(&parameters, projection + "Bias", [keyChannels], type: type, .zeros, fanIn: 1, fanOut: 1, using: &generator)
        }
        create(&parameters, "OutputWeights", [keyChannels, channels], type: type, .glorot, fanIn: keyChannels,
               fanOut: channels, using: &generator)
        create(&parameters, "OutputBias", [channels], type: type, .zeros, fanIn: 1, fanOut: 1, using: &generator)
    }

    /// Projections, `attention`, and the output projection.
    public func forward(_ inputs: [DLArray], mode: ForwardMode, using generator: inout DLRandomGenerator) throws
        -> (outputs: [DLArray], state: [String: DLArray]) {
        let x = inputs[0]
        let project = { (name: String) in try fullyconnect(x, self.parameter(name + "Weights"), self.parameter(name + "Bias")) }
        let (q, k, v) = (try project("Query"), try project("Key"), try project("Value"))
        let attended = try attention(q, k, v, heads, mask: causal ? .causal : .none).output
        return ([try fullyconnect(attended, parameter("OutputWeights"), parameter("OutputBias"))], [:])
    }
}
