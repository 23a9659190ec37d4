import SwiftDL

/// The generator and discriminator architectures of the GAN trainer. Every discriminator ends in
/// a logit (no sigmoid): the losses take logits, which is the same game computed without
/// overflow (`σ` is applied only to report D's scores).
public enum GANArchitecture: String, Codable, Sendable, CaseIterable {
    /// Multilayer perceptrons. For 2-D points: G latent → 3×(hidden, ReLU) → 2; D 2 → 3×(hidden,
    /// leaky ReLU 0.2) → 1. For 28×28 images: G latent → 256 → 256 → 784 (ReLU, ReLU, tanh);
    /// D 784 → 256 → 256 → 1 (leaky ReLU 0.2).
    case mlp
    /// The DCGAN for 28×28 images: G fully connected to 7×7×128, batch norm, ReLU, 4×4 stride-2
    /// transposed convolution to 64 channels, batch norm, ReLU, transposed convolution to 1
    /// channel, tanh; D 4×4 stride-2 convolution to 64 channels, leaky ReLU 0.2, convolution to
    /// 128, batch norm, leaky ReLU 0.2, fully connected to 1. With WGAN-GP, D has no batch norm.
    /// Weights start from N(0, 0.02) as in Radford et al.
    case dcgan
    /// MATLAB's GAN example: G projects to 4×4×512 (7×7×256 for 28×28 images), then 5×5
    /// transposed convolutions to 256, 128, 64 channels (the first unstrided, the others stride 2
    /// with "same" cropping), each with batch norm and ReLU, and a last one to the image's
    /// channels with tanh; D applies dropout 0.5, then 5×5 stride-2 "same" convolutions to 64,
    /// 128, 256, 512 channels (batch norm after all but the first; layer norm instead with
    /// WGAN-GP, as MATLAB's WGAN-GP example), leaky ReLU 0.2, and a 4×4 convolution to 1.
    case matlab

    /// The untrained generator and discriminator for `settings`, their parameters created from
    /// `settings.seed`. With ``GANSettings/spectralNormalization`` every fully connected and
    /// convolution layer of the discriminator is wrapped in a `SpectralNormalizationLayer` and
    /// the discriminator has no batch or layer normalization. With ``GANSettings/packing`` m > 1
    /// the discriminator starts with a ``PackingLayer`` (its first layer sees m samples). With
    /// ``GANSettings/conditioning`` both are graphs with a second input, `label` (`[N, 1]` "BC"
    /// class indices), conditioned as ``GANConditioning`` describes.
    /// - Throws: `DLError.invalidArgument` when the settings do not fit together.
    public static func networks(for settings: GANSettings) throws -> (generator: DLNetwork, discriminator: DLNetwork) {
        try settings.validate()
        let generatorLayers = settings.architecture.generatorLayers(settings)
        var discriminatorLayers = settings.architecture.discriminatorLayers(settings)
        if settings.spectralNormalization {
            discriminatorLayers = try discriminatorLayers.map { layer in
                SpectralNormalizationLayer.canWrap(layer) ? try SpectralNormalizationLayer(layer) : layer
            }
        }
        if settings.packing > 1 { discriminatorLayers.insert(PackingLayer(samples: settings.packing, name: "pack"), at: 0) }
        let latent = DLArray.zeros([1, settings.latentSize], type: .float32, labels: "BC")
        let m = settings.packing
        let sample = settings.dataset.isPlanar
            ? DLArray.zeros([m, 2], type: .float32, labels: "BC")
            : DLArray.zeros([m, 1, settings.imageSize, settings.imageSize], type: .float32, labels: "BCSS")
        var generator: DLNetwork, discriminator: DLNetwork
        if let conditioning = settings.conditioning, let classCount = settings.dataset.classCount {
            generator = try conditionalGenerator(generatorLayers, classCount: classCount)
            discriminator = try conditionalDiscriminator(discriminatorLayers, imageSize: settings.imageSize, classCount: classCount,
                                                         conditioning: conditioning)
            let label = DLArray.zeros([1, 1], type: .float32, labels: "BC")
            try generator.initialize(latent, label, seed: settings.seed)
            try discriminator.initialize(sample, label, seed: settings.seed &+ 1)
        } else {
            generator = try DLNetwork(generatorLayers)
            discriminator = try DLNetwork(discriminatorLayers)
            try generator.initialize(latent, seed: settings.seed)
            try discriminator.initialize(sample, seed: settings.seed &+ 1)
        }
        return (generator, discriminator)
    }

    private func generatorLayers(_ settings: GANSettings) -> [any Layer] {
        let h = settings.hiddenSize
        let gaussian = Initializer.normal(mean: 0, standardDeviation: 0.02)
        switch self {
        case .mlp where settings.dataset.isPlanar:
            return [FullyConnectedLayer(outputSize: h, name: "fc1"), ActivationLayer(.relu, name: "relu1"),
                    FullyConnectedLayer(outputSize: h, name: "fc2"), ActivationLayer(.relu, name: "relu2"),
                    FullyConnectedLayer(outputSize: h, name: "fc3"), ActivationLayer(.relu, name: "relu3"),
                    FullyConnectedLayer(outputSize: 2, name: "fc4")]
        case .mlp:
            return [FullyConnectedLayer(outputSize: 256, name: "fc1"), ActivationLayer(.relu, name: "relu1"),
                    FullyConnectedLayer(outputSize: 256, name: "fc2"), ActivationLayer(.relu, name: "relu2"),
                    FullyConnectedLayer(outputSize: 784, name: "fc3"), ActivationLayer(.tanh, name: "tanh"),
                    ReshapeLayer(outputSize: [1, 28, 28], labels: "CSS", name: "image")]
        case .dcgan:
            return [ProjectAndReshapeLayer(outputSize: [128, 7, 7], weightsInitializer: gaussian, name: "project"),
                    BatchNormalizationLayer(name: "bn1"), ActivationLayer(.relu, name: "relu1"),
                    TransposedConvolutionLayer(kernel: [4, 4], filters: 64, stride: [2], cropping: 1,
                                               weightsInitializer: gaussian, name: "tconv1"),
                    BatchNormalizationLayer(name: "bn2"), ActivationLayer(.relu, name: "relu2"),
                    TransposedConvolutionLayer(kernel: [4, 4], filters: 1, stride: [2], cropping: 1,
                                               weightsInitializer: gaussian, name: "tconv2"),
                    ActivationLayer(.tanh, name: "tanh")]
        case .matlab:
            let small = settings.imageSize == 28
            var layers: [any Layer] = [
                ProjectAndReshapeLayer(outputSize: small ? [256, 7, 7] : [512, 4, 4], weightsInitializer: gaussian,
                                       name: "project"),
            ]
            let widths = small ? [128, 64] : [256, 128, 64]
            for (index, width) in widths.enumerated() {
                let n = index + 1
                layers += [TransposedConvolutionLayer(kernel: [5, 5], filters: width, stride: [index == 0 ? 1 : 2],
                                                      cropping: index == 0 ? (small ? .same : 0) : .same,
                                                      weightsInitializer: gaussian, name: "tconv\(n)"),
                           BatchNormalizationLayer(name: "bn\(n)"), ActivationLayer(.relu, name: "relu\(n)")]
            }
            layers += [TransposedConvolutionLayer(kernel: [5, 5], filters: 1, stride: [2], cropping: .same,
                                                  weightsInitializer: gaussian, name: "tconv\(widths.count + 1)"),
                       ActivationLayer(.tanh, name: "tanh")]
            return layers
        }
    }

    private func discriminatorLayers(_ settings: GANSettings) -> [any Layer] {
        let h = settings.hiddenSize
        let gaussian = Initializer.normal(mean: 0, standardDeviation: 0.02)
        let critic = settings.loss == .wassersteinGP
        switch self {
        case .mlp where settings.dataset.isPlanar:
            return [FullyConnectedLayer(outputSize: h, name: "fc1"), ActivationLayer(.leakyrelu(scale: 0.2), name: "lrelu1"),
                    FullyConnectedLayer(outputSize: h, name: "fc2"), ActivationLayer(.leakyrelu(scale: 0.2), name: "lrelu2"),
                    FullyConnectedLayer(outputSize: h, name: "fc3"), ActivationLayer(.leakyrelu(scale: 0.2), name: "lrelu3"),
                    FullyConnectedLayer(outputSize: 1, name: "logit")]
        case .mlp:
            return [FlattenLayer(name: "flatten"),
                    FullyConnectedLayer(outputSize: 256, name: "fc1"), ActivationLayer(.leakyrelu(scale: 0.2), name: "lrelu1"),
                    FullyConnectedLayer(outputSize: 256, name: "fc2"), ActivationLayer(.leakyrelu(scale: 0.2), name: "lrelu2"),
                    FullyConnectedLayer(outputSize: 1, name: "logit")]
        case .dcgan:
            var layers: [any Layer] = [
                ConvolutionLayer(kernel: [4, 4], filters: 64, stride: [2], padding: 1, weightsInitializer: gaussian, name: "conv1"),
                ActivationLayer(.leakyrelu(scale: 0.2), name: "lrelu1"),
                ConvolutionLayer(kernel: [4, 4], filters: 128, stride: [2], padding: 1, weightsInitializer: gaussian, name: "conv2"),
            ]
            if !critic && !settings.spectralNormalization { layers.append(BatchNormalizationLayer(name: "bn2")) }
            layers += [ActivationLayer(.leakyrelu(scale: 0.2), name: "lrelu2"), FlattenLayer(name: "flatten"),
                       FullyConnectedLayer(outputSize: 1, weightsInitializer: gaussian, name: "logit")]
            return layers
        case .matlab:
            var layers: [any Layer] = [DropoutLayer(probability: 0.5, name: "dropout")]
            for (index, width) in [64, 128, 256, 512].enumerated() {
                let n = index + 1
                layers.append(ConvolutionLayer(kernel: [5, 5], filters: width, stride: [2], padding: .same,
                                               weightsInitializer: gaussian, name: "conv\(n)"))
                if index > 0 && !settings.spectralNormalization {
                    layers.append(critic ? LayerNormalizationLayer(name: "ln\(n)") : BatchNormalizationLayer(name: "bn\(n)"))
                }
                layers.append(ActivationLayer(.leakyrelu(scale: 0.2), name: "lrelu\(n)"))
            }
            let last = settings.imageSize == 28 ? 2 : 4
            layers.append(ConvolutionLayer(kernel: [last, last], filters: 1, weightsInitializer: gaussian, name: "logit"))
            layers.append(FlattenLayer(name: "flatten"))
            return layers
        }
    }
}
