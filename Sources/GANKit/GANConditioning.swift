import SwiftDL

/// How a conditional GAN's players use the class label (``GANSettings/conditioning``).
///
/// The generator is the same for both: as in MATLAB's "Train Conditional Generative Adversarial
/// Network" example, the label is embedded (a learnable table of `classCount ×` 50 values) and
/// joined to the latent input: projected to one plane of the generator's first feature maps and
/// concatenated with them as an extra channel (for the MLP, the 50 values concatenated with the
/// latent vector).
public enum GANConditioning: String, Codable, Sendable, CaseIterable {
    /// MATLAB's discriminator: the embedded label projected to an image-sized plane and
    /// concatenated with the image as an extra channel (after the image's dropout, for the
    /// matlab architecture).
    case concatenation
    /// The projection discriminator (Miyato & Koyama 2018, "cGANs with Projection
    /// Discriminator"): D(x, y) = linear(φ(x)) + ⟨embed(y), φ(x)⟩, with φ(x) the features before
    /// D's last linear layer and a learnable embedding of the classes in φ's space
    /// (``ClassProjectionLayer``).
    case projection

    /// The size of the label's embedding in both players' label branches (MATLAB's example uses 50).
    public static let embeddingSize = 50

    /// The class labels of `count` samples drawn for every class in turn: the first
    /// `count / classCount` samples of class 0, the next of class 1, and so on (sample `i` has
    /// class `i · classCount / count`), as a `[count, 1]` "BC" float32 array of class indices.
    /// A grid of such samples with `count / classCount` columns has one row per class.
    /// - Throws: `DLError.invalidArgument` for a count or a class count below 1.
    public static func classBlocks(_ count: Int, classCount: Int) throws -> DLArray {
        guard count >= 1, classCount >= 1 else {
            throw DLError.invalidArgument("classBlocks: the count and the class count must be at least 1, not \(count) and \(classCount)")
        }
        return try DLArray((0..<count).map { Float($0 * classCount / count) }, shape: [count, 1], labels: "BC")
    }
}

extension GANDataset {
    /// The number of classes of the data's labels (10 for MNIST's digits and Fashion-MNIST's
    /// garments), or nil for the 2-D mixtures, which have none.
    public var classCount: Int? { isPlanar ? nil : 10 }
}

extension GANArchitecture {
    /// The generator's chain turned into a graph with inputs `latent` and `label`: the label's
    /// branch (embedding, then a projection to one plane of the first feature maps) is
    /// concatenated along the channels with the projected latent, where the first transposed
    /// convolution reads it (after the DCGAN's batch normalization and ReLU, as MATLAB's example
    /// concatenates just before its first transposed convolution); for the MLP, the embedding
    /// itself is concatenated with the latent vector.
    static func conditionalGenerator(_ layers: [any Layer], classCount: Int) throws -> DLNetwork {
        var branch: [any Layer] = [EmbeddingLayer(dimension: GANConditioning.embeddingSize, numWords: classCount, name: "labelEmbedding")]
        var alone = 0
        if let project = layers.first as? ProjectAndReshapeLayer,
           let firstTransposed = layers.firstIndex(where: { $0 is TransposedConvolutionLayer }) {
            branch.append(ProjectAndReshapeLayer(outputSize: [1] + project.outputSize.dropFirst(), name: "labelPlane"))
            alone = firstTransposed
        }
        return try joiningLabel(layers, input: "latent", alone: alone, branch: branch)
    }

    /// The discriminator's chain turned into a graph with inputs `image` and `label`, conditioned
    /// as `conditioning` says.
    static func conditionalDiscriminator(_ layers: [any Layer], imageSize: Int, classCount: Int,
                                         conditioning: GANConditioning) throws -> DLNetwork {
        switch conditioning {
        case .concatenation:
            let branch: [any Layer] = [
                EmbeddingLayer(dimension: GANConditioning.embeddingSize, numWords: classCount, name: "labelEmbedding"),
                ProjectAndReshapeLayer(outputSize: [1, imageSize, imageSize], name: "labelPlane"),
            ]
            let alone = layers.prefix { $0 is DropoutLayer }.count
            return try joiningLabel(layers, input: "image", alone: alone, branch: branch)
        case .projection:
            guard let logit = layers.firstIndex(where: { $0.name == "logit" }), logit > 0 else {
                throw DLError.invalidArgument("the discriminator has no layer \"logit\" after its features to project onto")
            }
            var connections: [String: [String]] = [:]
            var previous = "image"
            for layer in layers {
                connections[layer.name] = [previous]
                previous = layer.name
            }
            let projection = ClassProjectionLayer(classCount: classCount, name: "projection")
            let score = AdditionLayer(name: "score")
            connections[projection.name] = [layers[logit - 1].name, "label"]
            connections[score.name] = [previous, projection.name]
            return try DLNetwork(layers: layers + [projection, score], connections: connections,
                                 inputs: ["image", "label"], outputs: [score.name])
        }
    }

    /// A graph: the first `alone` layers of `layers` read `input`; the `branch` reads `label`;
    /// their outputs are concatenated along the channels and the rest of `layers` follows.
    private static func joiningLabel(_ layers: [any Layer], input: String, alone: Int, branch: [any Layer]) throws -> DLNetwork {
        var connections: [String: [String]] = [:]
        func chain(_ part: some Collection<any Layer>, from start: String) -> String {
            var previous = start
            for layer in part {
                connections[layer.name] = [previous]
                previous = layer.name
            }
            return previous
        }
        let join = ConcatenationLayer(inputs: 2, along: "C", name: "joinLabel")
        let joined = [chain(layers.prefix(alone), from: input), chain(branch, from: "label")]
        connections[join.name] = joined
        let output = chain(layers.dropFirst(alone), from: join.name)
        return try DLNetwork(layers: Array(layers.prefix(alone)) + branch + [join] + Array(layers.dropFirst(alone)),
                             connections: connections, inputs: [input, "label"], outputs: [output])
    }
}
