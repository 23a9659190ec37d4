/// Creates one-per-channel `Offset` (zeros) and `Scale` (ones) parameters that are not set yet.
func initializeOffsetAndScale(_ parameters: inout [String: DLArray], for x: DLArray, layer: String) throws {
    let channels = try labeledSize(x, "C", layer: layer)
    let type = parameterType(x)
    if parameters["Offset"] == nil { parameters["Offset"] = DLArray.zeros([channels], type: type) }
    if parameters["Scale"] == nil { parameters["Scale"] = DLArray.ones([channels], type: type) }
}

/// Batch normalization (MATLAB's `batchNormalizationLayer`): learnable `Offset` and `Scale`, and
/// the state `TrainedMean` and `TrainedVariance`, updated in training mode with MATLAB's decays
/// and used in inference mode.
public struct BatchNormalizationLayer: Layer {
    /// The layer's name.
    public var name: String
    /// Added to the variance (MATLAB's default 1e-5).
    public let epsilon: Double
    /// How fast the running statistics follow the batch statistics (MATLAB's 0.1).
    public let meanDecay: Double, varianceDecay: Double
    /// The workers whose global mini-batch the statistics are taken over in training, or nil
    /// for this worker's batch alone; set by ``DLNetwork/synchronizingBatchStatistics(over:)``
    /// and not saved with the network.
    public var communicator: (any DLCommunicator)?
    var parameters: [String: DLArray] = [:]
    enum CodingKeys: String, CodingKey { case name, epsilon, meanDecay, varianceDecay }

    /// A batch normalization layer.
    public init(epsilon: Double = 1e-5, meanDecay: Double = 0.1, varianceDecay: Double = 0.1, name: String = "") {
        (self.epsilon, self.meanDecay, self.varianceDecay, self.name) = (epsilon, meanDecay, varianceDecay, name)
    }

    /// `Offset` and `Scale`.
    public var learnableNames: [String] { ["Offset", "Scale"] }
    /// `TrainedMean` and `TrainedVariance`.
    public var stateNames: [String] { ["TrainedMean", "TrainedVariance"] }
    /// A parameter or state value by name.
    public subscript(parameter name: String) -> DLArray? {
        get { parameters[name] }
        set { parameters[name] = newValue }
    }

    /// Offset zeros, scale ones, running mean zeros, running variance ones.
    public mutating func initialize(for inputs: [DLArray], using generator: inout DLRandomGenerator) throws {
        try initializeOffsetAndScale(&parameters, for: inputs[0], layer: name)
        let channels = try labeledSize(inputs[0], "C", layer: name)
        let type = parameters["Offset"]!.dataType
        if parameters["TrainedMean"] == nil { parameters["TrainedMean"] = DLArray.zeros([channels], type: type) }
        if parameters["TrainedVariance"] == nil { parameters["TrainedVariance"] = DLArray.ones([channels], type: type) }
    }

    /// Batch statistics and updated running statistics in training, running statistics in inference.
    public func forward(_ inputs: [DLArray], mode: ForwardMode, using generator: inout DLRandomGenerator) throws
        -> (outputs: [DLArray], state: [String: DLArray]) {
        switch mode {
        case .training:
            let result = try training(inputs[0], negativeSlope: nil)!
            return ([result.output], result.state)
        case .inference:
            return ([try batchnorm(inputs[0], try parameter("Offset"), try parameter("Scale"), trainedMean: try parameter("TrainedMean"),
                                   trainedVariance: try parameter("TrainedVariance"), epsilon: epsilon)], [:])
        }
    }
}

extension BatchNormalizationLayer {
    /// The training-mode output with the ReLU or leaky ReLU (slope ≥ 0) `activation` that
    /// follows this layer computed in the normalization's own passes, and the updated state;
    /// nil when the two cannot be fused (another activation, a communicator, mixed types).
    func trainingForward(_ x: DLArray, fusing activation: Activation) throws
        -> (output: DLArray, state: [String: DLArray])? {
        switch activation {
        case .relu: return try training(x, negativeSlope: 0)
        case .leakyrelu(let scale) where scale > 0: return try training(x, negativeSlope: scale)
        default: return nil
        }
    }

    /// The training-mode output (through a ReLU or leaky ReLU of `negativeSlope` in the same
    /// passes, when given) and the updated running statistics; nil when the activation cannot be
    /// fused (a communicator, mixed types), never without one.
    private func training(_ x: DLArray, negativeSlope: Double?) throws -> (output: DLArray, state: [String: DLArray])? {
        guard let result = try batchnorm(x, try parameter("Offset"), try parameter("Scale"),
                                         runningMean: try parameter("TrainedMean"), runningVariance: try parameter("TrainedVariance"),
                                         meanDecay: meanDecay, varianceDecay: varianceDecay, epsilon: epsilon,
                                         dataFormat: nil, synchronizedOver: communicator, negativeSlope: negativeSlope)
        else { return nil }
        return (result.output, ["TrainedMean": result.runningMean, "TrainedVariance": result.runningVariance])
    }
}

/// Layer normalization (MATLAB's `layerNormalizationLayer`): learnable `Offset` and `Scale`.
public struct LayerNormalizationLayer: Layer {
    /// The layer's name.
    public var name: String
    /// Added to the variance.
    public let epsilon: Double
    var parameters: [String: DLArray] = [:]
    enum CodingKeys: String, CodingKey { case name, epsilon }

    /// A layer normalization layer.
    public init(epsilon: Double = 1e-5, name: String = "") { (self.epsilon, self.name) = (epsilon, name) }

    /// `Offset` and `Scale`.
    public var learnableNames: [String] { ["Offset", "Scale"] }
    /// A parameter by name.
    public subscript(parameter name: String) -> DLArray? {
        get { parameters[name] }
        set { parameters[name] = newValue }
    }

    /// Offset zeros, scale ones.
    public mutating func initialize(for inputs: [DLArray], using generator: inout DLRandomGenerator) throws {
        try initializeOffsetAndScale(&parameters, for: inputs[0], layer: name)
    }

    /// `layernorm(x, Offset, Scale)`.
    public func forward(_ inputs: [DLArray], mode: ForwardMode, using generator: inout DLRandomGenerator) throws
        -> (outputs: [DLArray], state: [String: DLArray]) {
        ([try layernorm(inputs[0], parameter("Offset"), parameter("Scale"), epsilon: epsilon)], [:])
    }
}

/// Group normalization (MATLAB's `groupNormalizationLayer`): learnable `Offset` and `Scale`.
public struct GroupNormalizationLayer: Layer {
    /// The layer's name.
    public var name: String
    /// How many groups the channels form (1: all channels together; the channel count: one each).
    public let groups: Int
    /// Added to the variance.
    public let epsilon: Double
    var parameters: [String: DLArray] = [:]
    enum CodingKeys: String, CodingKey { case name, groups, epsilon }

    /// A group normalization layer.
    public init(groups: Int, epsilon: Double = 1e-5, name: String = "") {
        (self.groups, self.epsilon, self.name) = (groups, epsilon, name)
    }

    /// `Offset` and `Scale`.
    public var learnableNames: [String] { ["Offset", "Scale"] }
    /// A parameter by name.
    public subscript(parameter name: String) -> DLArray? {
        get { parameters[name] }
        set { parameters[name] = newValue }
    }

    /// Offset zeros, scale ones.
    public mutating func initialize(for inputs: [DLArray], using generator: inout DLRandomGenerator) throws {
        try initializeOffsetAndScale(&parameters, for: inputs[0], layer: name)
    }

    /// `groupnorm(x, groups, Offset, Scale)`.
    public func forward(_ inputs: [DLArray], mode: ForwardMode, using generator: inout DLRandomGenerator) throws
        -> (outputs: [DLArray], state: [String: DLArray]) {
        ([try groupnorm(inputs[0], groups, parameter("Offset"), parameter("Scale"), epsilon: epsilon)], [:])
    }
}

/// Instance normalization (MATLAB's `instanceNormalizationLayer`): learnable `Offset` and `Scale`.
public struct InstanceNormalizationLayer: Layer {
    /// The layer's name.
    public var name: String
    /// Added to the variance.
    public let epsilon: Double
    var parameters: [String: DLArray] = [:]
    enum CodingKeys: String, CodingKey { case name, epsilon }

    /// An instance normalization layer.
    public init(epsilon: Double = 1e-5, name: String = "") { (self.epsilon, self.name) = (epsilon, name) }

    /// `Offset` and `Scale`.
    public var learnableNames: [String] { ["Offset", "Scale"] }
    /// A parameter by name.
    public subscript(parameter name: String) -> DLArray? {
        get { parameters[name] }
        set { parameters[name] = newValue }
    }

    /// Offset zeros, scale ones.
    public mutating func initialize(for inputs: [DLArray], using generator: inout DLRandomGenerator) throws {
        try initializeOffsetAndScale(&parameters, for: inputs[0], layer: name)
    }

    /// `instancenorm(x, Offset, Scale)`.
    public func forward(_ inputs: [DLArray], mode: ForwardMode, using generator: inout DLRandomGenerator) throws
        -> (outputs: [DLArray], state: [String: DLArray]) {
        ([try instancenorm(inputs[0], parameter("Offset"), parameter("Scale"), epsilon: epsilon)], [:])
    }
}
