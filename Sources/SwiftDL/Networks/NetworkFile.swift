import Foundation

/// The layer types SwiftDL can read back from a network file.
let builtInLayerTypes: [any Layer.Type] = [
    FullyConnectedLayer.self, ConvolutionLayer.self, TransposedConvolutionLayer.self,
    BatchNormalizationLayer.self, LayerNormalizationLayer.self, GroupNormalizationLayer.self,
    InstanceNormalizationLayer.self, ActivationLayer.self, DropoutLayer.self, PoolingLayer.self,
    FlattenLayer.self, ReshapeLayer.self, ProjectAndReshapeLayer.self, AdditionLayer.self,
    ConcatenationLayer.self, EmbeddingLayer.self, LSTMLayer.self, GRULayer.self, SelfAttentionLayer.self,
    SpectralNormalizationLayer.self,
]

/// A network's architecture as stored in a file's metadata.
private struct Architecture: Codable {
    struct EncodedLayer: Codable {
        let type: String
        let configuration: String
    }
    let layers: [EncodedLayer]
    let sources: [[String]]
    let inputs: [String]
    let outputs: [String]
    let learnRateFactors: [String: Double]
}

/// The metadata key that marks a SwiftDL network file and holds its architecture.
private let architectureKey = "dlnetwork.architecture"

extension DLNetwork {
    /// Writes the network (architecture, learnable parameters, state and learn-rate factors)
    /// to a safetensors file, atomically. PyTorch and NumPy can read the parameters: they are
    /// named `learnables/<layer>/<parameter>` and `state/<layer>/<parameter>`.
    /// - Throws: ``DLError/file(_:)`` when the file cannot be written (an existing file is then
    ///   left as it was).
    public func write(to url: URL) throws {
        var tensors: [String: DLArray] = [:]
        for row in learnables.rows { tensors["learnables/\(row.layer)/\(row.parameter)"] = row.value }
        for row in state.rows { tensors["state/\(row.layer)/\(row.parameter)"] = row.value }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let architecture = Architecture(
            layers: try layers.map { layer in
                Architecture.EncodedLayer(type: String(describing: type(of: layer)),
                                          configuration: String(decoding: try encoder.encode(layer), as: UTF8.self))
            },
            sources: sources, inputs: inputNames, outputs: outputNames, learnRateFactors: factors)
        let metadata = [architectureKey: String(decoding: try encoder.encode(architecture), as: UTF8.self)]
        try SafeTensors.write(tensors, metadata: metadata, to: url)
    }

    /// Reads a network written by ``write(to:)``.
    /// - Parameters:
    ///   - url: the file.
    ///   - customLayers: your own layer types that the file may contain.
    /// - Throws: ``DLError/file(_:)`` for a file that is missing, damaged, not a SwiftDL network,
    ///   or names a layer type SwiftDL does not know.
    public init(contentsOf url: URL, customLayers: [any Layer.Type] = []) throws {
        let (tensors, metadata) = try SafeTensors.read(from: url)
        guard let text = metadata[architectureKey] else {
            throw DLError.file("\(url.path) is a safetensors file but not a SwiftDL network (no \(architectureKey) metadata)")
        }
        let architecture: Architecture
        do {
            architecture = try JSONDecoder().decode(Architecture.self, from: Data(text.utf8))
        } catch {
            throw DLError.file("\(url.path): the network architecture in the metadata cannot be read: \(error)")
        }
        let types = Dictionary((builtInLayerTypes + customLayers).map { (String(describing: $0), $0) },
                               uniquingKeysWith: { first, _ in first })
        var layers: [any Layer] = []
        for encoded in architecture.layers {
            guard let type = types[encoded.type] else {
                throw DLError.file("\(url.path): layer type \"\(encoded.type)\" is not a SwiftDL layer; pass your type in customLayers:")
            }
            do {
                layers.append(try Self.decode(type, from: Data(encoded.configuration.utf8)))
            } catch {
                throw DLError.file("\(url.path): a \(encoded.type) cannot be read from \(encoded.configuration): \(error)")
            }
        }
        guard architecture.sources.count == layers.count else {
            throw DLError.file("\(url.path): the architecture lists \(layers.count) layers but \(architecture.sources.count) connections")
        }
        try self.init(sortedLayers: layers, sources: architecture.sources, inputs: architecture.inputs,
                      outputs: architecture.outputs)
        factors = architecture.learnRateFactors
        for index in self.layers.indices {
            let layer = self.layers[index]
            for (group, names) in [("learnables", layer.learnableNames), ("state", layer.stateNames)] {
                for parameter in names {
                    guard let value = tensors["\(group)/\(layer.name)/\(parameter)"] else {
                        throw DLError.file("\(url.path): the file has no \(group)/\(layer.name)/\(parameter)")
                    }
                    self.layers[index][parameter: parameter] = value
                }
            }
        }
    }

    /// Replaces this network's parameters and state with those of the network file at `url`,
    /// which must have the same layers and parameters with the same shapes and element types.
    /// Nothing changes when the file does not match.
    /// - Throws: ``DLError/file(_:)`` naming the first difference.
    public mutating func loadParameters(from url: URL) throws {
        let other = try DLNetwork(contentsOf: url)
        let mine = learnables.rows + state.rows, theirs = other.learnables.rows + other.state.rows
        for row in mine {
            guard let match = theirs.first(where: { $0.layer == row.layer && $0.parameter == row.parameter }) else {
                throw DLError.file("\(url.path) is a checkpoint of another model: it has no \(row.layer)/\(row.parameter)")
            }
            guard match.value.shape == row.value.shape, match.value.dataType == row.value.dataType else {
                throw DLError.file("\(url.path) is a checkpoint of another model: \(row.layer)/\(row.parameter) is \(match.value.shape) \(match.value.dataType) there, \(row.value.shape) \(row.value.dataType) here")
            }
        }
        guard theirs.count == mine.count else {
            throw DLError.file("\(url.path) is a checkpoint of another model: it has \(theirs.count) parameters, this network \(mine.count)")
        }
        // Values only: this network keeps its own learn-rate factors.
        let values = Dictionary(uniqueKeysWithValues: theirs.map { ("\($0.layer)/\($0.parameter)", $0.value) })
        learnables = learnables.mapRows { values["\($0.layer)/\($0.parameter)"]! }
        state = state.mapRows { values["\($0.layer)/\($0.parameter)"]! }
    }

    private static func decode<L: Layer>(_ type: L.Type, from data: Data) throws -> any Layer {
        try JSONDecoder().decode(L.self, from: data)
    }
}
