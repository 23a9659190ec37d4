import SwiftDL

/// The class term of a projection discriminator (Miyato & Koyama 2018): for features `φ`
/// (`[N, …]`, flattened to `[N, F]`) and class labels `y` (`[N, 1]` "BC", 0-based class
/// indices), the output is `⟨embed(y), φ⟩`, `[N, 1]` "BC", with a learnable embedding
/// `Weights` `[classCount, F]` (N(0, 0.01²) at first, as `EmbeddingLayer`). Added to the
/// discriminator's linear output (an `AdditionLayer`) it makes D(x, y) = linear(φ(x)) +
/// ⟨embed(y), φ(x)⟩. The gradient flows to the features and to `Weights` (differentiable again,
/// as `embed` and the product are).
public struct ClassProjectionLayer: Layer {
    /// The layer's name.
    public var name: String
    /// The number of classes.
    public let classCount: Int
    /// The embedding of the classes, created for the features' size when the network is initialized.
    private var embedding: EmbeddingLayer

    /// A projection for `classCount` classes.
    public init(classCount: Int, name: String = "") {
        (self.classCount, self.name) = (classCount, name)
        embedding = EmbeddingLayer(dimension: 0, numWords: classCount, name: name)
    }

    /// The features and the labels.
    public var inputCount: Int { 2 }
    /// `Weights`.
    public var learnableNames: [String] { ["Weights"] }
    /// A parameter by name.
    public subscript(parameter name: String) -> DLArray? {
        get { embedding[parameter: name] }
        set { embedding[parameter: name] = newValue }
    }

    /// Creates the embedding for the features' size, unless it exists.
    public mutating func initialize(for inputs: [DLArray], using generator: inout DLRandomGenerator) throws {
        guard embedding[parameter: "Weights"] == nil else { return }
        let features = inputs[0].shape.dropFirst().reduce(1, *)
        embedding = EmbeddingLayer(dimension: features, numWords: classCount, name: name)
        try embedding.initialize(for: [inputs[1]], using: &generator)
    }

    /// `⟨embed(y), φ⟩` for inputs `[φ, y]`.
    /// - Throws: `DLError.invalidArgument` for features without a leading batch dimension or
    ///   labels that are not class indices of `0..<classCount`.
    public func forward(_ inputs: [DLArray], mode: ForwardMode, using generator: inout DLRandomGenerator) throws
        -> (outputs: [DLArray], state: [String: DLArray]) {
        let features = inputs[0]
        guard features.labels.first == "B", features.rank >= 2 else {
            throw DLError.invalidArgument("layer \"\(name)\": the features need a leading batch dimension (\"B…\"); got \"\(features.labels)\" \(features.shape)")
        }
        let flat = try reshape(stripdims(features), [features.shape[0], -1]).labeled("BC")
        let classes = try embedding.forward([inputs[1]], mode: mode, using: &generator).outputs[0]
        return ([try sum(classes * flat, dims: [1])], [:])
    }
}
