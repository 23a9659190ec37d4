import Foundation
import SwiftDL

// `gan export --from RUN_DIR`: a trained generator in PyTorch's names and layouts, for
// `module.load_state_dict` in Python, with latent vectors and outputs to check it against.
extension GANSampler {
    /// The number of latent vectors ``export(to:)`` writes beside the weights, with their outputs.
    public static let exportCheckCount = 8
    /// The seed of the latent vectors ``export(to:)`` writes beside the weights.
    public static let exportCheckSeed: UInt64 = 1

    /// The generator's parameters and batch-normalization statistics, named and laid out as
    /// the `state_dict` of the equivalent PyTorch module; float32, unlabeled.
    ///
    /// Each parameterized layer of the generator becomes the PyTorch module of the same name
    /// (`fc1`, `project`, `bn1`, `tconv1`…):
    ///
    /// | SwiftDL layer | PyTorch module | tensors |
    /// | --- | --- | --- |
    /// | `FullyConnectedLayer`, `ProjectAndReshapeLayer` | `nn.Linear` (for a projection followed by `nn.Unflatten(1, (C, H, W))`) | `weight` `[out, in]` (SwiftDL's `[in, out]` transposed), `bias` |
    /// | `TransposedConvolutionLayer` | `nn.ConvTranspose2d` | `weight` `[in, out, kh, kw]` (the same layout, not flipped), `bias` |
    /// | `BatchNormalizationLayer` | `nn.BatchNorm2d` (eps 1e-5, momentum 0.1) | `weight` (Scale), `bias` (Offset), `running_mean`, `running_var`, `num_batches_tracked` |
    /// | `EmbeddingLayer` (a conditional generator's `labelEmbedding`) | `nn.Embedding` (0-based class indices, as SwiftDL's) | `weight` `[classes, 50]` (the same layout) |
    ///
    /// Activations, reshapes and the concatenation that joins a conditional generator's label
    /// branch (`labelEmbedding`, then `labelPlane` for the convolutional generators) to its main
    /// branch (`torch.cat` along dimension 1, the label's channels last) have no tensors. A transposed convolution with "same" cropping
    /// crops one more row and column after than before when the total is odd (5×5, stride 2),
    /// which PyTorch's `padding` (both sides alike) cannot express: the equivalent is
    /// `ConvTranspose2d(padding=before)` followed by `nn.ZeroPad2d((0, -1, 0, -1))`.
    /// `scripts/export_check.py` builds the PyTorch module of every architecture.
    ///
    /// SwiftDL does not count batch-normalization updates and its arrays hold no integers, so
    /// `num_batches_tracked` is the float32 scalar 0; `load_state_dict` copies it into PyTorch's
    /// int64 buffer (PyTorch reads it only with `momentum=None`).
    /// - Throws: `DLError.invalidArgument` for a layer that has no PyTorch counterpart here
    ///   (only the layers of ``GANArchitecture``'s generators have one).
    public func pyTorchStateDictionary() throws -> [String: DLArray] {
        var tensors: [String: DLArray] = [:]
        func value(_ table: DLParameterTable, _ layer: String, _ parameter: String) throws -> DLArray {
            guard let value = table[layer, parameter] else {
                throw DLError.invalidArgument("the generator's layer \"\(layer)\" has no \(parameter)")
            }
            return stripdims(value)
        }
        let (learnables, state) = (generator.learnables, generator.state)
        for layer in generator.layers {
            let name = layer.name
            switch layer {
            case is FullyConnectedLayer, is ProjectAndReshapeLayer:
                tensors["\(name).weight"] = try transpose(value(learnables, name, "Weights"))
                tensors["\(name).bias"] = try value(learnables, name, "Bias")
            case is TransposedConvolutionLayer:
                tensors["\(name).weight"] = try value(learnables, name, "Weights")
                tensors["\(name).bias"] = try value(learnables, name, "Bias")
            case is BatchNormalizationLayer:
                tensors["\(name).weight"] = try value(learnables, name, "Scale")
                tensors["\(name).bias"] = try value(learnables, name, "Offset")
                tensors["\(name).running_mean"] = try value(state, name, "TrainedMean")
                tensors["\(name).running_var"] = try value(state, name, "TrainedVariance")
                tensors["\(name).num_batches_tracked"] = DLArray.zeros([], type: .float32)
            case is EmbeddingLayer:
                tensors["\(name).weight"] = try value(learnables, name, "Weights")
            case is ActivationLayer, is ReshapeLayer, is ConcatenationLayer:
                continue
            default:
                throw DLError.invalidArgument("the generator's layer \"\(name)\" (\(type(of: layer))) has no PyTorch counterpart in gan export")
            }
        }
        return tensors
    }

    /// What the exported file says of the generator, as strings: `format`, `architecture`,
    /// `dataset`, `latent_size`, `hidden_size`, `image_size`, `output_shape` (one sample's,
    /// e.g. `[2]` or `[1,28,28]`), `weights` (`average` or `generator`), `iteration`, and
    /// `gan.settings` (the run's settings as JSON); for a conditional generator also
    /// `class_count` and `embedding_size`.
    public func exportMetadata() throws -> [String: String] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let outputShape = settings.dataset.isPlanar ? [2] : [1, settings.imageSize, settings.imageSize]
        let conditional = classCount.map { ["class_count": "\($0)", "embedding_size": "\(GANConditioning.embeddingSize)"] } ?? [:]
        return conditional.merging(["format": "pytorch-state-dict",
                "architecture": settings.architecture.rawValue,
                "dataset": settings.dataset.rawValue,
                "latent_size": "\(settings.latentSize)",
                "hidden_size": "\(settings.hiddenSize)",
                "image_size": "\(settings.imageSize)",
                "output_shape": "[\(outputShape.map(String.init).joined(separator: ","))]",
                "weights": settings.generatorAverageDecay > 0 ? "average" : "generator",
                "iteration": "\(iteration)",
                "gan.settings": String(decoding: try encoder.encode(settings), as: UTF8.self)]) { _, new in new }
    }

    /// The number of latent vectors in the check file: ``exportCheckCount``, or for a
    /// conditional generator the smallest multiple of its class count that is no smaller (one
    /// block of latent vectors per class, ``classes(_:)``).
    public var exportCheckSampleCount: Int {
        classCount.map { $0 * ((Self.exportCheckCount + $0 - 1) / $0) } ?? Self.exportCheckCount
    }

    /// Where ``export(to:)`` writes the check file for weights written to `url`:
    /// `generator.safetensors` → `generator.check.safetensors`.
    public static func exportCheckURL(for url: URL) -> URL {
        url.deletingPathExtension().appendingPathExtension("check.safetensors")
    }

    /// Writes ``pyTorchStateDictionary()`` with ``exportMetadata()`` to `url`, and beside it (at
    /// ``exportCheckURL(for:)``) ``exportCheckSampleCount`` latent vectors from ``exportCheckSeed``
    /// (`latents`, `[n, latentSize]`), for a conditional generator their classes (`classes`,
    /// `[n, 1]` class indices from 0, every class in turn), and the generator's outputs for them
    /// in inference mode, batch normalization using its running statistics (`outputs`), each
    /// file atomically.
    /// Returns a line saying what was written.
    /// - Throws: `DLError.invalidArgument` for a generator that cannot be exported, or when a
    ///   file to write is a GAN checkpoint; `DLError.file` when a file cannot be written.
    @discardableResult
    public func export(to url: URL) throws -> String {
        let check = Self.exportCheckURL(for: url)
        for file in [url, check] where (try? GANTrainer.checkpointSettings(at: file)) != nil {
            throw DLError.invalidArgument("\(file.path) is a GAN checkpoint, which the export would replace: write to another file")
        }
        let tensors = try pyTorchStateDictionary()
        let count = exportCheckSampleCount
        let latents = try latentVectors(count, seed: Self.exportCheckSeed)
        let labels = try classes(count)
        let outputs = try generate(latents, classes: labels)
        var metadata = try exportMetadata()
        try SafeTensors.write(tensors, metadata: metadata, to: url)
        metadata["mode"] = "inference (batch normalization with its running statistics)"
        metadata["seed"] = "\(Self.exportCheckSeed)"
        var checks = ["latents": stripdims(latents), "outputs": stripdims(outputs)]
        checks["classes"] = labels.map(stripdims)
        try SafeTensors.write(checks, metadata: metadata, to: check)
        return "wrote \(url.path) (\(tensors.count) tensors in PyTorch's names and layouts, the \(metadata["weights"]!) of iteration \(iteration)) "
            + "and \(check.path) (\(count) latent vectors\(labels == nil ? "" : ", their classes") and their outputs)"
    }
}
