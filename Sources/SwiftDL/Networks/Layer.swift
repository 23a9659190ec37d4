/// How a network runs: training behaviour (batch statistics, dropout) or inference.
public enum ForwardMode: Sendable, Codable {
    /// MATLAB's `forward`: batch normalization uses and updates batch statistics, dropout drops.
    case training
    /// MATLAB's `predict`: running statistics, no dropout.
    case inference
}

/// A layer of a ``DLNetwork``: a value holding named learnable parameters and state, and the
/// computation from its inputs to its outputs.
///
/// Parameters are created when the network is initialized, from the shapes of the first inputs
/// the layer sees (so a fully connected layer needs only its output size). Layers are values:
/// changing a copy's parameters leaves the original alone.
public protocol Layer: Sendable, Codable {
    /// The layer's name, unique in its network.
    var name: String { get set }
    /// How many inputs the layer takes (concatenation and addition take several).
    var inputCount: Int { get }
    /// The names of the learnable parameters, in a fixed order (`"Weights"`, `"Bias"`…).
    var learnableNames: [String] { get }
    /// The names of the state values (batch normalization's running statistics), in a fixed order.
    var stateNames: [String] { get }
    /// Whether a training-mode pass treats the samples of a batch independently: each sample's
    /// outputs depend on that sample's inputs and the parameters alone, and the layer draws no
    /// random numbers and updates no state from the batch. False unless a layer says so (batch
    /// normalization, dropout that drops, and layers that mix samples are not).
    var treatsSamplesIndependently: Bool { get }
    /// A learnable parameter or state value by name; nil before initialization.
    subscript(parameter name: String) -> DLArray? { get set }
    /// Creates the parameters that are not set yet, for inputs like `inputs`.
    mutating func initialize(for inputs: [DLArray], using generator: inout DLRandomGenerator) throws
    /// The outputs for `inputs`, and the updated state values (by name) in training mode;
    /// random layers (dropout) draw from `generator`.
    func forward(_ inputs: [DLArray], mode: ForwardMode, using generator: inout DLRandomGenerator) throws
        -> (outputs: [DLArray], state: [String: DLArray])
}

extension Layer {
    /// One input.
    public var inputCount: Int { 1 }
    /// No learnable parameters.
    public var learnableNames: [String] { [] }
    /// No state.
    public var stateNames: [String] { [] }
    /// Not known to treat samples independently.
    public var treatsSamplesIndependently: Bool { false }
    /// No parameters to create.
    public mutating func initialize(for inputs: [DLArray], using generator: inout DLRandomGenerator) throws {}

    /// The parameter `name`, or an error saying the layer is not initialized.
    func parameter(_ name: String) throws -> DLArray {
        guard let value = self[parameter: name] else {
            throw DLError.invalidArgument("layer \"\(self.name)\": \(name) is not initialized; initialize the network with an example input first")
        }
        return value
    }
}

/// A layer without parameters or state.
protocol ParameterFreeLayer: Layer {}

extension ParameterFreeLayer {
    /// No parameters.
    public subscript(parameter name: String) -> DLArray? {
        get { nil }
        set {}
    }
}

/// A layer without parameters or state that maps one input to one output.
protocol StatelessLayer: ParameterFreeLayer {
    /// The output for `input`.
    func callAsFunction(_ input: DLArray, mode: ForwardMode, using generator: inout DLRandomGenerator) throws -> DLArray
}

extension StatelessLayer {
    /// The single output.
    public func forward(_ inputs: [DLArray], mode: ForwardMode, using generator: inout DLRandomGenerator) throws
        -> (outputs: [DLArray], state: [String: DLArray]) {
        ([try self(inputs[0], mode: mode, using: &generator)], [:])
    }
}

/// A layer that draws random numbers in training mode (dropout): uniform numbers of its first
/// input's shape, in float64, which ``DLNetwork/randomNumbers(for:using:)`` draws ahead of a
/// pass and ``DLNetwork/forward(_:randomNumbers:)`` gives back to it.
protocol RandomLayer: Layer {
    /// Whether a training-mode pass draws numbers (dropout with a probability above 0).
    var drawsRandomNumbers: Bool { get }
    /// The training-mode output for `inputs`, with `uniforms` (of the first input's shape) as the
    /// numbers it would have drawn.
    func forward(_ inputs: [DLArray], uniforms: DLArray) throws -> DLArray
}
