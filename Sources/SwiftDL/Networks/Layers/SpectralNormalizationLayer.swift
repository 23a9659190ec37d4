/// Spectral normalization (Miyato et al. 2018, "Spectral Normalization for Generative
/// Adversarial Networks") of a fully connected, convolution or transposed convolution layer:
/// the wrapped layer runs with its `Weights` divided by an estimate `σ` of their largest
/// singular value, so that the layer is about 1-Lipschitz.
///
/// The weights are read as a matrix `W` with one row per output, as PyTorch's
/// `torch.nn.utils.spectral_norm` reads them: a fully connected layer's `[inputSize, outputSize]`
/// weights transposed, a convolution's `[filters, channels/groups, kernel…]` flattened after the
/// first dimension, a transposed convolution's `[channels, filters/groups, kernel…]` with its
/// first two dimensions swapped first. The estimates `u` (one element per row) and `v` (one per
/// column) of the singular vectors are the layer's state `U` and `V`: saved with the network and
/// in checkpoints, never differentiated. In training mode each forward pass first runs
/// ``powerIterations`` steps of the power method from the stored vectors (`v ← Wᵀu/‖Wᵀu‖`,
/// `u ← Wv/‖Wv‖`, computed on the weights' values, not traced) and returns the new vectors as
/// state; inference uses the stored vectors as they are. Either way `σ = uᵀWv` with `u` and `v`
/// constants, and the layer computes `layer(x; W/σ, Bias)`: its derivatives of every order are
/// those of that expression, so it works under gradient penalties (WGAN-GP, R1). The bias is
/// not normalized.
///
/// ```swift
/// var critic = try DLNetwork([
///     SpectralNormalizationLayer(ConvolutionLayer(kernel: [4, 4], filters: 64, stride: [2], padding: 1, name: "conv")),
///     ActivationLayer(.leakyrelu(scale: 0.2)), FlattenLayer(),
///     SpectralNormalizationLayer(FullyConnectedLayer(outputSize: 1, name: "logit")),
/// ])
/// ```
public struct SpectralNormalizationLayer: Layer {
    /// The layers that have a weight matrix to normalize.
    enum Wrapped: Codable, Sendable {
        case fullyConnected(FullyConnectedLayer)
        case convolution(ConvolutionLayer)
        case transposedConvolution(TransposedConvolutionLayer)

        var layer: any Layer {
            get {
                switch self {
                case .fullyConnected(let layer): layer
                case .convolution(let layer): layer
                case .transposedConvolution(let layer): layer
                }
            }
            set {
                switch newValue {
                case let layer as FullyConnectedLayer: self = .fullyConnected(layer)
                case let layer as ConvolutionLayer: self = .convolution(layer)
                case let layer as TransposedConvolutionLayer: self = .transposedConvolution(layer)
                default: preconditionFailure("a spectrally normalized layer keeps its kind")
                }
            }
        }
    }

    var wrapped: Wrapped
    /// Power-method steps per training forward pass (PyTorch's `n_power_iterations`, 1).
    public let powerIterations: Int
    /// The smallest norm a vector is divided by when normalized (PyTorch's `eps`, 1e-12).
    public let epsilon: Double
    var vectors: [String: DLArray] = [:]
    enum CodingKeys: String, CodingKey { case wrapped, powerIterations, epsilon }

    /// Wraps `layer`, a ``FullyConnectedLayer``, ``ConvolutionLayer`` or
    /// ``TransposedConvolutionLayer``; the wrapper takes its name and its learnables.
    /// - Throws: ``DLError/invalidArgument(_:)`` for another kind of layer, fewer than 1 power
    ///   iteration, or an epsilon that is not positive.
    public init(_ layer: any Layer, powerIterations: Int = 1, epsilon: Double = 1e-12) throws {
        switch layer {
        case let layer as FullyConnectedLayer: wrapped = .fullyConnected(layer)
        case let layer as ConvolutionLayer: wrapped = .convolution(layer)
        case let layer as TransposedConvolutionLayer: wrapped = .transposedConvolution(layer)
        default:
            throw DLError.invalidArgument("spectral normalization wraps fully connected, convolution and transposed convolution layers, not \(type(of: layer)) \"\(layer.name)\"")
        }
        guard powerIterations >= 1 else {
            throw DLError.invalidArgument("spectral normalization needs at least 1 power iteration per forward pass, not \(powerIterations)")
        }
        guard epsilon > 0, epsilon.isFinite else {
            throw DLError.invalidArgument("spectral normalization's epsilon must be positive and finite, not \(epsilon)")
        }
        (self.powerIterations, self.epsilon) = (powerIterations, epsilon)
    }

    /// Whether ``init(_:powerIterations:epsilon:)`` accepts `layer`.
    public static func canWrap(_ layer: any Layer) -> Bool {
        layer is FullyConnectedLayer || layer is ConvolutionLayer || layer is TransposedConvolutionLayer
    }

    /// The wrapped layer, with its parameters (its `Weights` as they are trained, not normalized).
    public var layer: any Layer { wrapped.layer }

    /// The wrapped layer's name.
    public var name: String {
        get { wrapped.layer.name }
        set { wrapped.layer.name = newValue }
    }

    /// The wrapped layer's learnables (`Weights` and `Bias`).
    public var learnableNames: [String] { wrapped.layer.learnableNames }
    /// `U` and `V`, the power method's estimates of the weight matrix's first left and right
    /// singular vectors.
    public var stateNames: [String] { ["U", "V"] }

    /// A learnable parameter of the wrapped layer, or `U` or `V`.
    public subscript(parameter name: String) -> DLArray? {
        get { name == "U" || name == "V" ? vectors[name] : wrapped.layer[parameter: name] }
        set {
            if name == "U" || name == "V" { vectors[name] = newValue } else { wrapped.layer[parameter: name] = newValue }
        }
    }

    /// Creates the wrapped layer's parameters from `generator`, then `U` and `V` as normalized
    /// standard normal vectors (as PyTorch starts them) drawn from a generator of their own,
    /// seeded by the layer's name: wrapping layers leaves every layer's weights as they would be
    /// without spectral normalization.
    public mutating func initialize(for inputs: [DLArray], using generator: inout DLRandomGenerator) throws {
        try wrapped.layer.initialize(for: inputs, using: &generator)
        let shape = try weightMatrix(parameter("Weights")).shape
        let type = try parameter("Weights").dataType
        // 64-bit FNV-1a of the name.
        var own = DLRandomGenerator(seed: name.utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 })
        if vectors["U"] == nil { vectors["U"] = try normalized(DLArray.randn([shape[0]], type: type, using: &own)) }
        if vectors["V"] == nil { vectors["V"] = try normalized(DLArray.randn([shape[1]], type: type, using: &own)) }
    }

    /// The wrapped layer's outputs with its weights divided by `σ`; in training mode also the
    /// vectors `U` and `V` after this pass's power iterations.
    public func forward(_ inputs: [DLArray], mode: ForwardMode, using generator: inout DLRandomGenerator) throws
        -> (outputs: [DLArray], state: [String: DLArray]) {
        let (weights, state) = try normalizedWeights(mode: mode)
        var layer = wrapped.layer
        layer[parameter: "Weights"] = weights
        return (try layer.forward(inputs, mode: mode, using: &generator).outputs, state)
    }

    /// The weights the wrapped layer runs with, `W/σ` (traced through the `Weights` when they
    /// are), and in training mode the new `U` and `V` (empty in inference mode).
    /// - Throws: ``DLError/invalidArgument(_:)`` before initialization.
    public func normalizedWeights(mode: ForwardMode) throws -> (weights: DLArray, state: [String: DLArray]) {
        let weights = try parameter("Weights")
        let matrix = try weightMatrix(weights)
        var (u, v) = (try parameter("U"), try parameter("V"))
        var state: [String: DLArray] = [:]
        if mode == .training {
            let values = extractdata(matrix)
            for _ in 0..<powerIterations {
                v = try normalized(reshape(pagemtimes(values, .transpose, reshape(u, [u.count, 1]), .none), [v.count]))
                u = try normalized(reshape(mtimes(values, reshape(v, [v.count, 1])), [u.count]))
            }
            state = ["U": u, "V": v]
        }
        let sigma = try sum(reshape(u, [u.count, 1]) * mtimes(matrix, reshape(v, [v.count, 1])))
        return (try weights / sigma, state)
    }

    /// The weights as a matrix with one row per output (see the type's description).
    func weightMatrix(_ weights: DLArray) throws -> DLArray {
        switch wrapped {
        case .fullyConnected: return try transpose(weights)
        case .convolution: return try reshape(weights, [weights.shape[0], -1])
        case .transposedConvolution:
            let order = [1, 0] + Array(2..<weights.rank)
            return try reshape(permute(weights, order), [weights.shape[1], -1])
        }
    }

    /// `x/max(‖x‖, ε)`.
    private func normalized(_ x: DLArray) throws -> DLArray {
        try x / maximum(norm(x), epsilon)
    }
}
