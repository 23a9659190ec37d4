/// The element type a layer's parameters take for this input: float64 stays float64,
/// everything else trains in float32.
func parameterType(_ x: DLArray) -> DLDataType { x.dataType == .float64 ? .float64 : .float32 }

/// The size of the labeled dimension `label` of a layer's input.
func labeledSize(_ x: DLArray, _ label: Character, layer: String) throws -> Int {
    guard let dim = finddim(x, label).first else {
        throw DLError.invalidArgument("layer \"\(layer)\": the input needs a \(label) dimension; got labels \"\(x.labels)\" and shape \(x.shape) (label network inputs, e.g. \"BCSS\")")
    }
    return x.shape[dim]
}

/// Creates a convolution's `Weights` (`[filters, channels/groups, kernel…]`, or
/// `[channels, filters/groups, kernel…]` when transposed) and `Bias` (`[filters]`) if not set.
func createConvolutionParameters(_ parameters: inout [String: DLArray], input: DLArray, filters: Int, kernel: [Int],
                                 groups: Int, transposed: Bool, weightsInitializer: Initializer,
                                 biasInitializer: Initializer, layer: String,
                                 using generator: inout DLRandomGenerator) throws {
    let channels = try labeledSize(input, "C", layer: layer)
    guard groups >= 1, channels % groups == 0, filters % groups == 0 else {
        throw DLError.invalidArgument("layer \"\(layer)\": \(channels) channels and \(filters) filters cannot form \(groups) groups")
    }
    let window = kernel.reduce(1, *)
    let type = parameterType(input)
    // Fan-in counts the inputs of one output element, fan-out the outputs of one input element.
    let (fanIn, fanOut) = (window * channels / groups, window * filters / groups)
    if parameters["Weights"] == nil {
        let shape = (transposed ? [channels, filters / groups] : [filters, channels / groups]) + kernel
        parameters["Weights"] = weightsInitializer.make(shape, type: type, fanIn: transposed ? fanOut : fanIn,
                                                        fanOut: transposed ? fanIn : fanOut, using: &generator)
    }
    if parameters["Bias"] == nil {
        parameters["Bias"] = biasInitializer.make([filters], type: type, fanIn: fanIn, fanOut: fanOut, using: &generator)
    }
}

/// A fully connected layer (MATLAB's `fullyConnectedLayer`): `Weights` `[inputSize, outputSize]`
/// and `Bias` `[outputSize]`; channel and spatial dimensions are flattened into the inputs.
public struct FullyConnectedLayer: Layer {
    /// The layer's name.
    public var name: String
    /// The number of outputs.
    public let outputSize: Int
    /// How `Weights` and `Bias` start.
    public let weightsInitializer: Initializer, biasInitializer: Initializer
    var parameters: [String: DLArray] = [:]
    enum CodingKeys: String, CodingKey { case name, outputSize, weightsInitializer, biasInitializer }

    /// A fully connected layer with `outputSize` outputs (Glorot weights, zero bias by default).
    public init(outputSize: Int, weightsInitializer: Initializer = .glorot, biasInitializer: Initializer = .zeros,
                name: String = "") {
        self.outputSize = outputSize
        self.weightsInitializer = weightsInitializer
        self.biasInitializer = biasInitializer
        self.name = name
    }

    /// `Weights` and `Bias`.
    public var learnableNames: [String] { ["Weights", "Bias"] }
    /// Each sample's outputs depend on its inputs alone.
    public var treatsSamplesIndependently: Bool { true }
    /// A parameter by name.
    public subscript(parameter name: String) -> DLArray? {
        get { parameters[name] }
        set { parameters[name] = newValue }
    }

    /// Creates the weights for the input's features (channels times spatial sizes).
    public mutating func initialize(for inputs: [DLArray], using generator: inout DLRandomGenerator) throws {
        let x = inputs[0]
        guard let channel = finddim(x, "C").first else { _ = try labeledSize(x, "C", layer: name); return }
        let features = x.shape[channel...].reduce(1, *)
        let type = parameterType(x)
        if parameters["Weights"] == nil {
            parameters["Weights"] = weightsInitializer.make([features, outputSize], type: type, fanIn: features,
                                                            fanOut: outputSize, using: &generator)
        }
        if parameters["Bias"] == nil {
            parameters["Bias"] = biasInitializer.make([outputSize], type: type, fanIn: features, fanOut: outputSize,
                                                      using: &generator)
        }
    }

    /// `fullyconnect(x, Weights, Bias)`.
    public func forward(_ inputs: [DLArray], mode: ForwardMode, using generator: inout DLRandomGenerator) throws
        -> (outputs: [DLArray], state: [String: DLArray]) {
        ([try fullyconnect(inputs[0], parameter("Weights"), parameter("Bias"))], [:])
    }
}

/// A convolution layer in 1-3 spatial dimensions (MATLAB's `convolution2dLayer` and relatives):
/// `Weights` `[filters, channels/groups, kernel…]` and `Bias` `[filters]`.
public struct ConvolutionLayer: Layer {
    /// The layer's name.
    public var name: String
    /// The kernel size per spatial dimension.
    public let kernel: [Int]
    /// The number of filters (output channels).
    public let filters: Int
    /// Stride and dilation (one value for all dimensions, or one each), padding, groups.
    public let stride: [Int], dilation: [Int], padding: ConvolutionPadding, groups: Int
    /// How `Weights` and `Bias` start.
    public let weightsInitializer: Initializer, biasInitializer: Initializer
    var parameters: [String: DLArray] = [:]
    enum CodingKeys: String, CodingKey { case name, kernel, filters, stride, dilation, padding, groups, weightsInitializer, biasInitializer }

    /// A convolution layer (Glorot weights, zero bias by default).
    public init(kernel: [Int], filters: Int, stride: [Int] = [1], dilation: [Int] = [1], padding: ConvolutionPadding = 0,
                groups: Int = 1, weightsInitializer: Initializer = .glorot, biasInitializer: Initializer = .zeros,
                name: String = "") {
        (self.kernel, self.filters, self.stride, self.dilation, self.padding, self.groups) = (kernel, filters, stride, dilation, padding, groups)
        (self.weightsInitializer, self.biasInitializer, self.name) = (weightsInitializer, biasInitializer, name)
    }

    /// `Weights` and `Bias`.
    public var learnableNames: [String] { ["Weights", "Bias"] }
    /// Each sample's outputs depend on its inputs alone.
    public var treatsSamplesIndependently: Bool { true }
    /// A parameter by name.
    public subscript(parameter name: String) -> DLArray? {
        get { parameters[name] }
        set { parameters[name] = newValue }
    }

    /// Creates the weights for the input's channels.
    public mutating func initialize(for inputs: [DLArray], using generator: inout DLRandomGenerator) throws {
        try createConvolutionParameters(&parameters, input: inputs[0], filters: filters, kernel: kernel, groups: groups,
                                        transposed: false, weightsInitializer: weightsInitializer,
                                        biasInitializer: biasInitializer, layer: name, using: &generator)
    }

    /// `dlconv(x, Weights, Bias, …)`.
    public func forward(_ inputs: [DLArray], mode: ForwardMode, using generator: inout DLRandomGenerator) throws
        -> (outputs: [DLArray], state: [String: DLArray]) {
        ([try dlconv(inputs[0], parameter("Weights"), parameter("Bias"), stride: stride, dilation: dilation, padding: padding)], [:])
    }
}

/// A transposed convolution layer in 1-3 spatial dimensions (MATLAB's
/// `transposedConv2dLayer`): `Weights` `[channels, filters/groups, kernel…]`, `Bias` `[filters]`.
public struct TransposedConvolutionLayer: Layer {
    /// The layer's name.
    public var name: String
    /// The kernel size per spatial dimension.
    public let kernel: [Int]
    /// The number of filters (output channels).
    public let filters: Int
    /// Stride and dilation (one value for all dimensions, or one each), cropping, groups.
    public let stride: [Int], dilation: [Int], cropping: ConvolutionPadding, groups: Int
    /// How `Weights` and `Bias` start.
    public let weightsInitializer: Initializer, biasInitializer: Initializer
    var parameters: [String: DLArray] = [:]
    enum CodingKeys: String, CodingKey { case name, kernel, filters, stride, dilation, cropping, groups, weightsInitializer, biasInitializer }

    /// A transposed convolution layer (Glorot weights, zero bias by default).
    public init(kernel: [Int], filters: Int, stride: [Int] = [1], dilation: [Int] = [1], cropping: ConvolutionPadding = 0,
                groups: Int = 1, weightsInitializer: Initializer = .glorot, biasInitializer: Initializer = .zeros,
                name: String = "") {
        (self.kernel, self.filters, self.stride, self.dilation, self.cropping, self.groups) = (kernel, filters, stride, dilation, cropping, groups)
        (self.weightsInitializer, self.biasInitializer, self.name) = (weightsInitializer, biasInitializer, name)
    }

    /// `Weights` and `Bias`.
    public var learnableNames: [String] { ["Weights", "Bias"] }
    /// Each sample's outputs depend on its inputs alone.
    public var treatsSamplesIndependently: Bool { true }
    /// A parameter by name.
    public subscript(parameter name: String) -> DLArray? {
        get { parameters[name] }
        set { parameters[name] = newValue }
    }

    /// Creates the weights for the input's channels.
    public mutating func initialize(for inputs: [DLArray], using generator: inout DLRandomGenerator) throws {
        try createConvolutionParameters(&parameters, input: inputs[0], filters: filters, kernel: kernel, groups: groups,
                                        transposed: true, weightsInitializer: weightsInitializer,
                                        biasInitializer: biasInitializer, layer: name, using: &generator)
    }

    /// `dltranspconv(x, Weights, Bias, …)`.
    public func forward(_ inputs: [DLArray], mode: ForwardMode, using generator: inout DLRandomGenerator) throws
        -> (outputs: [DLArray], state: [String: DLArray]) {
        ([try dltranspconv(inputs[0], parameter("Weights"), parameter("Bias"), stride: stride, dilation: dilation,
                           cropping: cropping, groups: groups)], [:])
    }
}
