/// Projects its input with a fully connected operation and reshapes the result into images
/// (MATLAB's `projectAndReshapeLayer`, the first layer of a DCGAN generator): `Weights`
/// `[inputSize, C·H·W]`, `Bias` `[C·H·W]`, output `"BCSS"` `[N, C, H, W]`.
public struct ProjectAndReshapeLayer: Layer {
    /// The layer's name.
    public var name: String
    /// The output size per observation: channels, then spatial sizes (`[128, 7, 7]`).
    public let outputSize: [Int]
    /// How `Weights` and `Bias` start.
    public let weightsInitializer: Initializer, biasInitializer: Initializer
    var parameters: [String: DLArray] = [:]
    enum CodingKeys: String, CodingKey { case name, outputSize, weightsInitializer, biasInitializer }

    /// A projection to `outputSize` (channels, then spatial sizes).
    public init(outputSize: [Int], weightsInitializer: Initializer = .glorot, biasInitializer: Initializer = .zeros,
                name: String = "") {
        (self.outputSize, self.weightsInitializer, self.biasInitializer, self.name) = (outputSize, weightsInitializer, biasInitializer, name)
    }

    /// `Weights` and `Bias`.
    public var learnableNames: [String] { ["Weights", "Bias"] }
    /// A parameter by name.
    public subscript(parameter name: String) -> DLArray? {
        get { parameters[name] }
        set { parameters[name] = newValue }
    }

    /// Creates the projection for the input's features.
    public mutating func initialize(for inputs: [DLArray], using generator: inout DLRandomGenerator) throws {
        var inner = FullyConnectedLayer(outputSize: outputSize.reduce(1, *), weightsInitializer: weightsInitializer,
                                        biasInitializer: biasInitializer, name: name)
        inner.parameters = parameters
        try inner.initialize(for: inputs, using: &generator)
        parameters = inner.parameters
    }

    /// The projection, reshaped to `[N] + outputSize` and labeled `"BC" + "S…"`.
    public func forward(_ inputs: [DLArray], mode: ForwardMode, using generator: inout DLRandomGenerator) throws
        -> (outputs: [DLArray], state: [String: DLArray]) {
        let projected = try fullyconnect(inputs[0], parameter("Weights"), parameter("Bias"))
        guard projected.labels == "BC" else {
            throw DLError.invalidArgument("layer \"\(name)\": the input must have a batch and channel dimensions (\"BC…\"); got \"\(inputs[0].labels)\"")
        }
        let images = try reshape(stripdims(projected), [projected.shape[0]] + outputSize)
        return ([try images.labeled("BC" + String(repeating: "S", count: outputSize.count - 1))], [:])
    }
}
