/// A network of layers, as MATLAB's `dlnetwork`: a chain or a graph of ``Layer`` values with
/// named inputs and outputs, its learnable parameters and state as ``DLParameterTable``s, and
/// learn-rate factors that freeze or slow parameters.
///
/// ```swift
/// var net = try DLNetwork([
///     ConvolutionLayer(kernel: [5, 5], filters: 20, name: "conv"),
///     ActivationLayer(.relu), FlattenLayer(), FullyConnectedLayer(outputSize: 10, name: "fc"),
/// ])
/// try net.initialize(DLArray.zeros([1, 1, 28, 28], type: .float32, labels: "BCSS"))
/// let gradients = try dlfeval({ (net: DLNetwork, x: DLArray) in
///     let (y, _) = try net.forward(x)
///     return try dlgradient(sum(y), net.learnables)
/// }, net, images)
/// ```
///
/// A network is a ``DLLearnRateScaled`` container of its learnables: passed to `dlfeval` its
/// trainable parameters are traced and its frozen ones (learn-rate factor 0) are constants.
public struct DLNetwork: DLLearnRateScaled, @unchecked Sendable {
    /// The layers, in an order where every layer comes after the layers it reads.
    public internal(set) var layers: [any Layer]
    /// For each layer, where its inputs come from: a network input's name, or a layer's name.
    public let sources: [[String]]
    /// The names of the network's inputs.
    public let inputNames: [String]
    /// The names of the layers whose outputs are the network's outputs.
    public let outputNames: [String]
    /// Learn-rate factors that are not 1, by "layer/parameter".
    var factors: [String: Double] = [:]
    /// This network's architecture, shared by its copies: what ``dlaccelerate(_:)`` keys its
    /// traces by, beside the parameters' shapes.
    let architecture = NetworkArchitecture()

    /// A chain: each layer reads the previous one's output; the network's input is `"input"`
    /// and its output is the last layer's. Unnamed layers are named after their kind and
    /// position.
    /// - Throws: ``DLError/invalidArgument(_:)`` for an empty list, a repeated name or a layer
    ///   that needs several inputs.
    public init(_ layers: [any Layer]) throws {
        var named = layers
        for index in named.indices where named[index].name.isEmpty {
            named[index].name = "\(Self.kind(of: named[index]))_\(index + 1)"
        }
        guard let last = named.last else { throw DLError.invalidArgument("DLNetwork needs at least one layer") }
        if let layer = named.first(where: { $0.inputCount != 1 }) {
            throw DLError.invalidArgument("DLNetwork: layer \"\(layer.name)\" takes \(layer.inputCount) inputs; use the graph initializer")
        }
        let sources = named.indices.map { $0 == 0 ? ["input"] : [named[$0 - 1].name] }
        try self.init(sortedLayers: named, sources: sources, inputs: ["input"], outputs: [last.name])
    }

    /// A graph: `connections[layer]` lists where each of that layer's inputs comes from (a name
    /// in `inputs`, or another layer's name); `outputs` names the layers whose outputs the network
    /// returns.
    /// - Throws: ``DLError/invalidArgument(_:)`` for repeated or unknown names, a wrong number of
    ///   inputs, a cycle, or a layer that is not connected.
    public init(layers: [any Layer], connections: [String: [String]], inputs: [String], outputs: [String]) throws {
        let names = layers.map(\.name)
        guard Set(names).count == names.count, !names.contains(""), Set(inputs).isDisjoint(with: names) else {
            throw DLError.invalidArgument("DLNetwork: layer names must be nonempty, unique and distinct from the input names \(inputs)")
        }
        for layer in layers {
            guard let from = connections[layer.name] else {
                throw DLError.invalidArgument("DLNetwork: layer \"\(layer.name)\" has no connections")
            }
            guard from.count == layer.inputCount else {
                throw DLError.invalidArgument("DLNetwork: layer \"\(layer.name)\" takes \(layer.inputCount) inputs, \(from.count) are connected")
            }
            if let unknown = from.first(where: { !inputs.contains($0) && !names.contains($0) }) {
                throw DLError.invalidArgument("DLNetwork: layer \"\(layer.name)\" reads \"\(unknown)\", which is neither an input nor a layer")
            }
        }
        if let unknown = outputs.first(where: { !names.contains($0) }) {
            throw DLError.invalidArgument("DLNetwork: output \"\(unknown)\" is not a layer")
        }
        // Kahn's algorithm: a layer comes after everything it reads.
        var sorted: [any Layer] = [], done = Set(inputs), remaining = layers
        while !remaining.isEmpty {
            guard let next = remaining.firstIndex(where: { connections[$0.name]!.allSatisfy(done.contains) }) else {
                throw DLError.invalidArgument("DLNetwork: the connections form a cycle among \(remaining.map(\.name))")
            }
            let layer = remaining.remove(at: next)
            sorted.append(layer)
            done.insert(layer.name)
        }
        try self.init(sortedLayers: sorted, sources: sorted.map { connections[$0.name]! }, inputs: inputs, outputs: outputs)
    }

    init(sortedLayers: [any Layer], sources: [[String]], inputs: [String], outputs: [String]) throws {
        let names = sortedLayers.map(\.name)
        guard Set(names).count == names.count else {
            throw DLError.invalidArgument("DLNetwork: layer names must be unique; repeated: \(names.filter { n in names.filter { $0 == n }.count > 1 }.first!)")
        }
        self.layers = sortedLayers
        self.sources = sources
        self.inputNames = inputs
        self.outputNames = outputs
    }

    private static func kind(of layer: any Layer) -> String {
        String(describing: type(of: layer)).replacingOccurrences(of: "Layer", with: "").lowercased()
    }

    // MARK: Running

    /// Creates every parameter not set yet, from the shapes of the example inputs (one per
    /// network input, labeled, e.g. a 1-image "BCSS" batch), with a seeded generator.
    public mutating func initialize(_ examples: DLArray..., seed: UInt64 = 0) throws {
        var generator = DLRandomGenerator(seed: seed)
        _ = try run(examples, mode: .inference, using: &generator, initializing: true)
    }

    /// Whether every layer's parameters exist.
    public var isInitialized: Bool {
        layers.allSatisfy { layer in (layer.learnableNames + layer.stateNames).allSatisfy { layer[parameter: $0] != nil } }
    }

    /// The outputs in training mode (MATLAB's `forward`) and the updated state, which the caller
    /// stores back (`net.state = state`). Random layers draw from `generator`.
    public func forward(_ inputs: [DLArray], using generator: inout DLRandomGenerator) throws
        -> (outputs: [DLArray], state: DLParameterTable) {
        var copy = self
        let outputs = try copy.run(inputs, mode: .training, using: &generator, initializing: false)
        return (outputs, copy.state)
    }

    /// The output of a one-input, one-output network in training mode, and the updated state.
    public func forward(_ input: DLArray, using generator: inout DLRandomGenerator) throws -> (output: DLArray, state: DLParameterTable) {
        let (outputs, state) = try forward([input], using: &generator)
        return (outputs[0], state)
    }

    /// The output of a one-input, one-output network in training mode (no random layers, or a
    /// fixed seed), and the updated state.
    public func forward(_ input: DLArray) throws -> (output: DLArray, state: DLParameterTable) {
        var generator = DLRandomGenerator(seed: 0)
        return try forward(input, using: &generator)
    }

    /// The outputs in training mode and the updated state, as
    /// ``forward(_:using:)->([DLArray],_)`` computes them, with the random layers (dropout) taking
    /// their uniform numbers from `randomNumbers`, one array per random layer in layer order,
    /// instead of drawing them: the numbers that ``randomNumbers(for:using:)`` drew give
    /// ``forward(_:using:)->([DLArray],_)``'s result bit for bit.
    ///
    /// Inside a function accelerated with ``dlaccelerate(_:)``, a draw would be fixed at the first
    /// call; draw the numbers outside it and pass them in as an argument:
    ///
    /// ```swift
    /// let numbers = try net.randomNumbers(for: [x], using: &generator)
    /// let gradients = try dlfeval(accelerated, net, x, numbers)   // net.forward([x], randomNumbers: numbers) inside
    /// ```
    /// - Throws: ``DLError/invalidArgument(_:)`` unless there is one array per random layer;
    ///   ``DLError/shapeMismatch(_:)`` for an array of another shape than its layer's input;
    ///   the layers' errors.
    public func forward(_ inputs: [DLArray], randomNumbers: [DLArray]) throws -> (outputs: [DLArray], state: DLParameterTable) {
        let needed = layers.indices.filter(drawsRandomNumbers(at:)).count
        guard randomNumbers.count == needed else {
            throw DLError.invalidArgument("DLNetwork.forward: \(randomNumbers.count) arrays of random numbers for \(needed) random layers")
        }
        var copy = self
        var unused = DLRandomGenerator(seed: 0)
        let outputs = try copy.run(inputs, mode: .training, using: &unused, initializing: false, randomNumbers: randomNumbers)
        return (outputs, copy.state)
    }

    /// The uniform numbers that ``forward(_:using:)->([DLArray],_)`` on `inputs` draws from
    /// `generator` for its random layers, drawn now in the same order (one float64 array of each
    /// random layer's input shape, in layer order), for ``forward(_:randomNumbers:)``. Only the shapes of the inputs
    /// matter: the layers before the last random layer run in inference mode, untraced, to find
    /// the random layers' input shapes (none runs when dropout reads a network input).
    /// - Throws: ``DLError/invalidArgument(_:)`` for a wrong number of inputs; the layers' errors.
    public func randomNumbers(for inputs: [DLArray], using generator: inout DLRandomGenerator) throws -> [DLArray] {
        guard let last = layers.indices.last(where: drawsRandomNumbers(at:)) else { return [] }
        guard inputs.count == inputNames.count else {
            throw DLError.invalidArgument("DLNetwork takes \(inputNames.count) inputs (\(inputNames)), got \(inputs.count)")
        }
        var values = Dictionary(uniqueKeysWithValues: zip(inputNames, inputs.map { extractdata($0).withLabels($0.labels) }))
        var numbers: [DLArray] = []
        var unused = DLRandomGenerator(seed: 0)
        for index in 0...last {
            let layerInputs = sources[index].map { values[$0]! }
            if drawsRandomNumbers(at: index) {
                numbers.append(DLArray.rand(layerInputs[0].shape, type: .float64, using: &generator))
            }
            if index < last {
                values[layers[index].name] = try layers[index].forward(layerInputs, mode: .inference, using: &unused).outputs[0]
            }
        }
        return numbers
    }

    /// Whether a training-mode pass treats the samples of a batch independently: every layer
    /// does (``Layer/treatsSamplesIndependently``), so two batches run as one give each batch
    /// the outputs it gets alone, and the pass draws no random numbers and updates no state.
    public var treatsSamplesIndependently: Bool {
        layers.allSatisfy(\.treatsSamplesIndependently)
    }

    /// Whether a training-mode pass draws random numbers (the network has dropout).
    public var drawsRandomNumbers: Bool {
        layers.indices.contains(where: drawsRandomNumbers(at:))
    }

    /// The random layer at `index` when it draws numbers in training (dropout above 0), else nil.
    private func randomLayer(at index: Int) -> (any RandomLayer)? {
        (layers[index] as? any RandomLayer).flatMap { $0.drawsRandomNumbers ? $0 : nil }
    }

    private func drawsRandomNumbers(at index: Int) -> Bool { randomLayer(at: index) != nil }

    /// The outputs in inference mode (MATLAB's `predict`): running statistics, no dropout.
    public func predict(_ inputs: [DLArray]) throws -> [DLArray] {
        var copy = self
        var generator = DLRandomGenerator(seed: 0)
        return try copy.run(inputs, mode: .inference, using: &generator, initializing: false)
    }

    /// The output of a one-input, one-output network in inference mode.
    public func predict(_ input: DLArray) throws -> DLArray { try predict([input])[0] }

    /// Runs the layers in order; with `randomNumbers`, the random layers take theirs from it.
    private mutating func run(_ inputs: [DLArray], mode: ForwardMode, using generator: inout DLRandomGenerator,
                              initializing: Bool, randomNumbers: [DLArray]? = nil) throws -> [DLArray] {
        guard inputs.count == inputNames.count else {
            throw DLError.invalidArgument("DLNetwork takes \(inputNames.count) inputs (\(inputNames)), got \(inputs.count)")
        }
        var values = Dictionary(uniqueKeysWithValues: zip(inputNames, inputs))
        var nextNumbers = 0
        var index = 0
        while index < layers.count {
            let layerInputs = sources[index].map { values[$0]! }
            if initializing { try layers[index].initialize(for: layerInputs, using: &generator) }
            if let randomNumbers, let random = randomLayer(at: index) {
                values[layers[index].name] = try random.forward(layerInputs, uniforms: randomNumbers[nextNumbers])
                nextNumbers += 1
                index += 1
                continue
            }
            if mode == .training && !initializing,
               let fused = try normalizationWithActivation(at: index, layerInputs) {
                for (name, value) in fused.state { layers[index][parameter: name] = value }
                values[layers[index + 1].name] = fused.output
                index += 2
                continue
            }
            let (outputs, state) = try layers[index].forward(layerInputs, mode: mode, using: &generator)
            for (name, value) in state { layers[index][parameter: name] = value }
            values[layers[index].name] = outputs[0]
            index += 1
        }
        return outputNames.map { values[$0]! }
    }

    /// In training, a batch normalization layer whose output only a following ReLU or leaky
    /// ReLU layer reads runs with that activation in its own passes (one pass fewer each way
    /// over the activations): the output of the activation layer and the normalization's
    /// updated state, or nil when layer `index` is not such a pair.
    private func normalizationWithActivation(at index: Int, _ layerInputs: [DLArray]) throws
        -> (output: DLArray, state: [String: DLArray])? {
        guard index + 1 < layers.count, let normalization = layers[index] as? BatchNormalizationLayer,
              let activation = layers[index + 1] as? ActivationLayer,
              sources[index + 1] == [normalization.name], !outputNames.contains(normalization.name),
              !sources.indices.contains(where: { $0 != index + 1 && sources[$0].contains(normalization.name) })
        else { return nil }
        return try normalization.trainingForward(layerInputs[0], fusing: activation.activation)
    }

    // MARK: Parameters

    /// The learnable parameters (MATLAB's `Learnables`), one row per parameter in layer order.
    /// Setting it writes values and learn-rate factors back by layer and parameter name.
    public var learnables: DLParameterTable {
        get { table(of: \.learnableNames) }
        set { write(newValue) }
    }

    /// The state (MATLAB's `State`: batch normalization's running statistics); its rows have a
    /// learn-rate factor of 0, as they are not trained by gradients.
    public var state: DLParameterTable {
        get { table(of: \.stateNames, frozen: true) }
        set { write(newValue) }
    }

    private func table(of names: KeyPath<any Layer, [String]>, frozen: Bool = false) -> DLParameterTable {
        DLParameterTable(rows: layers.flatMap { layer in
            layer[keyPath: names].compactMap { parameter in
                layer[parameter: parameter].map {
                    DLParameterTable.Row(layer: layer.name, parameter: parameter, value: $0,
                                         learnRateFactor: frozen ? 0 : factors["\(layer.name)/\(parameter)"] ?? 1)
                }
            }
        })
    }

    private mutating func write(_ table: DLParameterTable) {
        for row in table.rows {
            guard let index = layers.firstIndex(where: { $0.name == row.layer }) else { continue }
            layers[index][parameter: row.parameter] = row.value
            if layers[index].learnableNames.contains(row.parameter) {
                factors["\(row.layer)/\(row.parameter)"] = row.learnRateFactor == 1 ? nil : row.learnRateFactor
            }
        }
    }

    /// Sets the learn-rate factor of one parameter, as MATLAB's `setLearnRateFactor`: 0 freezes
    /// it (not traced, not differentiated, not updated).
    /// - Throws: ``DLError/invalidArgument(_:)`` for an unknown layer or parameter, or a negative factor.
    public mutating func setLearnRateFactor(layer: String, parameter: String, _ factor: Double) throws {
        try checkParameter(layer: layer, parameter: parameter)
        guard factor >= 0 else { throw DLError.invalidArgument("setLearnRateFactor: the factor must not be negative, got \(factor)") }
        factors["\(layer)/\(parameter)"] = factor == 1 ? nil : factor
    }

    /// Sets the learn-rate factor of every learnable parameter of `layer` (0 freezes the layer).
    public mutating func setLearnRateFactor(layer: String, _ factor: Double) throws {
        guard let found = layers.first(where: { $0.name == layer }) else {
            throw DLError.invalidArgument("setLearnRateFactor: no layer \"\(layer)\"")
        }
        for parameter in found.learnableNames { try setLearnRateFactor(layer: layer, parameter: parameter, factor) }
    }

    /// The learn-rate factor of one parameter (MATLAB's `getLearnRateFactor`).
    public func learnRateFactor(layer: String, parameter: String) throws -> Double {
        try checkParameter(layer: layer, parameter: parameter)
        return factors["\(layer)/\(parameter)"] ?? 1
    }

    private func checkParameter(layer: String, parameter: String) throws {
        guard let found = layers.first(where: { $0.name == layer }) else {
            throw DLError.invalidArgument("no layer \"\(layer)\" in the network (layers: \(layers.map(\.name)))")
        }
        guard found.learnableNames.contains(parameter) else {
            throw DLError.invalidArgument("layer \"\(layer)\" has no learnable parameter \"\(parameter)\" (it has \(found.learnableNames))")
        }
    }

    // MARK: DLLearnRateScaled

    /// The learn-rate factors of the learnables, in their order.
    public var learnRateFactors: [Double] { learnables.learnRateFactors }

    /// Visits the learnable parameters in order.
    public func forEachArray(_ body: (DLArray) throws -> Void) rethrows {
        try learnables.forEachArray(body)
    }

    /// The network with every learnable parameter transformed.
    public func mapArrays(_ transform: (DLArray) throws -> DLArray) rethrows -> DLNetwork {
        var copy = self
        copy.learnables = try learnables.mapArrays(transform)
        return copy
    }

    /// Visits the learnable parameters, then the state (batch-normalization statistics and
    /// other state a forward pass reads): what a cached ``dlaccelerate(_:)`` trace takes anew
    /// on each call.
    public func forEachInputArray(_ body: (DLArray) throws -> Void) rethrows {
        try learnables.forEachArray(body)
        try state.forEachArray(body)
    }

    /// The network with its learnables and state transformed, in the order of
    /// ``forEachInputArray(_:)``.
    public func mapInputArrays(_ transform: (DLArray) throws -> DLArray) rethrows -> DLNetwork {
        var copy = self
        copy.learnables = try learnables.mapArrays(transform)
        copy.state = try state.mapArrays(transform)
        return copy
    }
}

/// The identity of a network's layers and connections: made once when a network is built and
/// shared by its copies and by networks with new parameter values.
final class NetworkArchitecture: Hashable, @unchecked Sendable {
    static func == (a: NetworkArchitecture, b: NetworkArchitecture) -> Bool { a === b }
    func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}

extension DLNetwork: DLAccelerationKeyed {
    /// The architecture and the learn-rate factors.
    public var accelerationKey: AnyHashable {
        AnyHashable([AnyHashable(architecture), AnyHashable(factors)])
    }
}
