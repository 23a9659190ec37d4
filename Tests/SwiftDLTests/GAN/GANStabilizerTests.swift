import Foundation
import Testing
@testable import GANKit
@testable import SwiftDL

/// The hinge loss and the spectrally normalized discriminator of the GAN trainer.
@Suite struct GANStabilizerTests {
    @Test func hingeLossValuesAndGradients() throws {
        // D: mean(relu(1 − [2, −1])) + mean(relu(1 + [0.5, −3])) = (0 + 2)/2 + (1.5 + 0)/2 = 1.75;
        // G: −mean([0.5, −3]) = 1.25.
        let real = try DLArray([2.0, -1.0], shape: [2, 1], labels: "BC")
        let fake = try DLArray([0.5, -3.0], shape: [2, 1], labels: "BC")
        let (d, g, dReal, dFake, gFake) = try dlfeval({ (real: DLArray, fake: DLArray) in
            let d = try GANTrainer.discriminatorLoss(.hinge, realLogits: real, fakeLogits: fake, targets: .ones(like: real))
            let g = try GANTrainer.generatorLoss(.hinge, fakeLogits: fake)
            let (dReal, dFake) = try dlgradient(d, real, fake, retainData: true)
            return (extractdata(d), extractdata(g), dReal, dFake, try dlgradient(g, fake))
        }, real, fake)
        #expect(Swift.abs(d.scalar(as: Double.self) - 1.75) < 1e-12)
        #expect(Swift.abs(g.scalar(as: Double.self) - 1.25) < 1e-12)
        // Only the samples inside the margin count: real 2 (margin met) and fake −3 do not.
        #expect(dReal.scalars(as: Double.self) == [0, -0.5])
        #expect(dFake.scalars(as: Double.self) == [0.5, 0])
        #expect(gFake.scalars(as: Double.self) == [-0.5, -0.5])
        // The scores are D's values, not probabilities.
        let scores = try GANTrainer.scores(.hinge, real, fake)
        #expect(scores.scalars(as: Double.self) == [0.5, -1.25])
    }

    @Test func hingeHasNoLabelsToFlip() {
        var settings = GANSettings(dataset: .ring8)
        settings.loss = .hinge
        settings.realLabelFlipProbability = 0.2
        #expect(errorMessage(DLError.invalidArgument) { try settings.validate() }.contains("not to hinge"))
    }

    @Test func spectralNormalizationWrapsTheDiscriminatorsWeightLayers() throws {
        var settings = GANSettings(dataset: .mnist)
        settings.spectralNormalization = true
        let (generator, discriminator) = try GANArchitecture.networks(for: settings)
        let wrapped = discriminator.layers.filter { $0 is SpectralNormalizationLayer }.map(\.name)
        #expect(wrapped == ["conv1", "conv2", "logit"])
        #expect(!discriminator.layers.contains { $0 is BatchNormalizationLayer })
        #expect(discriminator.state.rows.map { "\($0.layer)/\($0.parameter)" }
            == ["conv1/U", "conv1/V", "conv2/U", "conv2/V", "logit/U", "logit/V"])
        #expect(discriminator.state["conv2", "V"]?.shape == [64 * 4 * 4])
        #expect(!generator.layers.contains { $0 is SpectralNormalizationLayer })
        // The same weights as without spectral normalization: only the wrapping differs.
        settings.spectralNormalization = false
        let plain = try GANArchitecture.networks(for: settings).discriminator
        for layer in ["conv1", "conv2", "logit"] {
            let bits = { (d: DLNetwork) in d.learnables[layer, "Weights"]!.scalars(as: Float.self).map(\.bitPattern) }
            #expect(firstDifference(bits(plain), bits(discriminator)) == nil, "\(layer)")
        }
        for architecture in [GANArchitecture.matlab, .mlp] {
            settings.architecture = architecture
            settings.spectralNormalization = true
            let d = try GANArchitecture.networks(for: settings).discriminator
            #expect(!d.layers.contains { $0 is BatchNormalizationLayer || $0 is LayerNormalizationLayer })
            #expect(d.layers.filter { $0 is SpectralNormalizationLayer }.count == (architecture == .mlp ? 3 : 5))
        }
    }

    /// Hinge with R1 and WGAN-GP (both penalties differentiate through the normalized layers
    /// twice): the power-iteration vectors move, and a run resumed from a checkpoint continues
    /// with the same bits.
    @Test(arguments: [(GANLoss.hinge, GANRegularizer.r1), (.wassersteinGP, .none)])
    func spectrallyNormalizedRunsResumeExactly(_ loss: GANLoss, _ regularizer: GANRegularizer) throws {
        let settings = GANTrainerTests.settings {
            $0.loss = loss
            $0.regularizer = regularizer
            $0.spectralNormalization = true
        }
        let data = try GANData(mixtureOf: .ring8)
        var straight = try GANTrainer(settings: settings, data: data)
        let u0 = straight.discriminator.state["fc2", "U"]!.scalars(as: Float.self)
        for _ in 0..<4 {
            let record = try straight.step()
            #expect(record.discriminatorLoss.isFinite && record.penalty > 0)
        }
        #expect(straight.discriminator.state["fc2", "U"]!.scalars(as: Float.self) != u0)
        var first = try GANTrainer(settings: settings, data: data)
        for _ in 0..<2 { try first.step() }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gan-sn-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try first.writeCheckpoint(to: url)
        var resumed = try GANTrainer(resumingFrom: url, settings: settings, data: data)
        for _ in 0..<2 { try resumed.step() }
        #expect(firstDifference(GANTrainerTests.bits(resumed.discriminator.learnables),
                                GANTrainerTests.bits(straight.discriminator.learnables)) == nil)
        #expect(firstDifference(GANTrainerTests.bits(resumed.discriminator.state),
                                GANTrainerTests.bits(straight.discriminator.state)) == nil)
        // A checkpoint of a run without spectral normalization is another model.
        var plain = settings
        plain.spectralNormalization = false
        #expect(errorMessage(DLError.file) { _ = try GANTrainer(resumingFrom: url, settings: plain, data: data) }
            .contains("spectralNormalization: false vs true"))
    }
}
