/// An activation function applied elementwise, or softmax over the channels.
public enum Activation: Sendable, Equatable, Codable {
    /// max(x, 0).
    case relu
    /// x for x > 0, `scale`·x otherwise.
    case leakyrelu(scale: Double = 0.01)
    /// x for x > 0, `alpha`·(eˣ − 1) otherwise.
    case elu(alpha: Double = 1)
    /// The Gaussian error linear unit.
    case gelu(approximation: GeluApproximation = .none)
    /// The logistic sigmoid.
    case sigmoid
    /// The hyperbolic tangent.
    case tanh
    /// log(1 + eˣ).
    case softplus
    /// Softmax over the channel dimension.
    case softmax
}

/// A layer that applies an ``Activation`` (MATLAB's `reluLayer`, `leakyReluLayer`, `tanhLayer`…).
public struct ActivationLayer: StatelessLayer {
    /// The layer's name.
    public var name: String
    /// Each sample's outputs depend on its inputs alone.
    public var treatsSamplesIndependently: Bool { true }
    /// The function.
    public let activation: Activation

    /// A layer applying `activation`.
    public init(_ activation: Activation, name: String = "") { (self.activation, self.name) = (activation, name) }

    func callAsFunction(_ x: DLArray, mode: ForwardMode, using generator: inout DLRandomGenerator) throws -> DLArray {
        switch activation {
        case .relu: try relu(x)
        case .leakyrelu(let scale): try leakyrelu(x, scale: scale)
        case .elu(let alpha): try elu(x, alpha: alpha)
        case .gelu(let approximation): try gelu(x, approximation: approximation)
        case .sigmoid: sigmoid(x)
        case .tanh: tanh(x)
        case .softplus: try softplus(x)
        case .softmax: try softmax(x)
        }
    }
}

/// Dropout (MATLAB's `dropoutLayer`): in training, zeroes elements with `probability` and scales
/// the rest by 1/(1 − probability), drawing from the generator passed to `forward` (or taking
/// the numbers given to ``DLNetwork/forward(_:randomNumbers:)``); identity in inference.
public struct DropoutLayer: StatelessLayer, RandomLayer {
    /// The layer's name.
    public var name: String
    /// The probability of dropping an element.
    public let probability: Double

    /// A dropout layer (MATLAB's default probability 0.5).
    public init(probability: Double = 0.5, name: String = "") { (self.probability, self.name) = (probability, name) }

    func callAsFunction(_ x: DLArray, mode: ForwardMode, using generator: inout DLRandomGenerator) throws -> DLArray {
        try dropout(x, probability: probability, training: mode == .training, using: &generator)
    }

    var drawsRandomNumbers: Bool { probability > 0 }

    func forward(_ inputs: [DLArray], uniforms: DLArray) throws -> DLArray {
        try dropout(inputs[0], probability: probability, uniforms: uniforms)
    }
}

/// Max or average pooling (MATLAB's `maxPooling2dLayer`, `averagePooling2dLayer`,
/// `globalAveragePooling2dLayer`…), in 1-3 spatial dimensions.
public struct PoolingLayer: StatelessLayer {
    /// Which statistic of each window.
    public enum Kind: Sendable, Codable { case max, average }
    /// The layer's name.
    public var name: String
    /// Each sample's outputs depend on its inputs alone.
    public var treatsSamplesIndependently: Bool { true }
    /// Max or average.
    public let kind: Kind
    /// The window size, or nil for global pooling over all spatial positions.
    public let poolSize: [Int]?
    /// Stride (MATLAB's default 1) and padding.
    public let stride: [Int], padding: ConvolutionPadding

    /// Pooling over windows of `poolSize`.
    public init(_ kind: Kind, poolSize: [Int], stride: [Int] = [1], padding: ConvolutionPadding = 0, name: String = "") {
        (self.kind, self.poolSize, self.stride, self.padding, self.name) = (kind, poolSize, stride, padding, name)
    }

    /// Global pooling: one value per channel and observation.
    public static func global(_ kind: Kind, name: String = "") -> PoolingLayer {
        var layer = PoolingLayer(kind, poolSize: [], name: name)
        layer.isGlobal = true
        return layer
    }

    private var isGlobal = false

    func callAsFunction(_ x: DLArray, mode: ForwardMode, using generator: inout DLRandomGenerator) throws -> DLArray {
        switch (kind, isGlobal) {
        case (.max, true): try maxpool(x, .global)
        case (.average, true): try avgpool(x, .global)
        case (.max, false): try maxpool(x, poolSize ?? [], stride: stride, padding: padding)
        case (.average, false): try avgpool(x, poolSize ?? [], stride: stride, padding: padding)
        }
    }
}

/// Flattens the channel and spatial dimensions into channels (MATLAB's `flattenLayer`):
/// `"BCSS"` `[N, C, H, W]` becomes `"BC"` `[N, C·H·W]`.
public struct FlattenLayer: StatelessLayer {
    /// The layer's name.
    public var name: String
    /// Each sample's outputs depend on its inputs alone.
    public var treatsSamplesIndependently: Bool { true }

    /// A flatten layer.
    public init(name: String = "") { self.name = name }

    func callAsFunction(_ x: DLArray, mode: ForwardMode, using generator: inout DLRandomGenerator) throws -> DLArray {
        guard let channel = finddim(x, "C").first else { _ = try labeledSize(x, "C", layer: name); return x }
        let leading = Array(x.shape[..<channel])
        let labels = String(x.labels.prefix(channel)) + "C"
        return try reshape(stripdims(x), leading + [x.shape[channel...].reduce(1, *)]).labeled(labels)
    }
}

/// Adds its inputs elementwise (MATLAB's `additionLayer`), with broadcasting.
public struct AdditionLayer: ParameterFreeLayer {
    /// The layer's name.
    public var name: String
    /// How many inputs.
    public let inputCount: Int

    /// An addition layer of `inputs` inputs.
    public init(inputs: Int = 2, name: String = "") { (self.inputCount, self.name) = (inputs, name) }

    /// The sum of the inputs.
    public func forward(_ inputs: [DLArray], mode: ForwardMode, using generator: inout DLRandomGenerator) throws
        -> (outputs: [DLArray], state: [String: DLArray]) {
        ([try inputs.dropFirst().reduce(inputs[0]) { try $0 + $1 }], [:])
    }
}

/// Concatenates its inputs along the dimension labeled `label` (MATLAB's
/// `concatenationLayer`/`depthConcatenationLayer` along "C").
public struct ConcatenationLayer: ParameterFreeLayer {
    /// The layer's name.
    public var name: String
    /// How many inputs.
    public let inputCount: Int
    /// The label of the dimension to join along.
    public var label: Character { Character(dimensionLabel) }
    private let dimensionLabel: String

    /// A concatenation layer of `inputs` inputs along the `label` dimension (channels by default).
    public init(inputs: Int = 2, along label: Character = "C", name: String = "") {
        (self.inputCount, self.dimensionLabel, self.name) = (inputs, String(label), name)
    }

    /// The inputs joined along the labeled dimension.
    public func forward(_ inputs: [DLArray], mode: ForwardMode, using generator: inout DLRandomGenerator) throws
        -> (outputs: [DLArray], state: [String: DLArray]) {
        guard let dim = finddim(inputs[0], label).first else {
            _ = try labeledSize(inputs[0], label, layer: name)
            return (inputs, [:])
        }
        return ([try cat(inputs, dim: dim)], [:])
    }
}

/// Reshapes each observation (MATLAB's custom reshaping layers): `[N, …]` becomes
/// `[N] + outputSize`, labeled `"B" + labels`.
public struct ReshapeLayer: StatelessLayer {
    /// The layer's name.
    public var name: String
    /// Each sample's outputs depend on its inputs alone.
    public var treatsSamplesIndependently: Bool { true }
    /// The shape of one observation after the layer, and its labels (e.g. `[1, 28, 28]`, `"CSS"`).
    public let outputSize: [Int], labels: String

    /// A layer reshaping each observation to `outputSize` labeled `labels`.
    public init(outputSize: [Int], labels: String, name: String = "") {
        (self.outputSize, self.labels, self.name) = (outputSize, labels, name)
    }

    func callAsFunction(_ x: DLArray, mode: ForwardMode, using generator: inout DLRandomGenerator) throws -> DLArray {
        guard let batch = finddim(x, "B").first, batch == 0 else {
            throw DLError.invalidArgument("layer \"\(name)\": the input needs a leading batch dimension; got \"\(x.labels)\"")
        }
        return try reshape(stripdims(x), [x.shape[0]] + outputSize).labeled("B" + labels)
    }
}
