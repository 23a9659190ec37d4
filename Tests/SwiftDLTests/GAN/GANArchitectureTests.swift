import Foundation
import Testing
@testable import GANKit
@testable import SwiftDL

/// The players of every architecture: the generator makes samples of the data's shape in
/// [−1, 1], the discriminator gives one logit per sample.
@Suite struct GANArchitectureTests {
    @Test(arguments: [(GANArchitecture.mlp, 28), (.dcgan, 28), (.matlab, 28), (.matlab, 64)])
    func imageGeneratorsMakeImagesAndDiscriminatorsOneLogitEach(_ architecture: GANArchitecture, _ side: Int) throws {
        var settings = GANSettings(dataset: .mnist)
        settings.architecture = architecture
        settings.imageSize = side
        let (generator, discriminator) = try GANArchitecture.networks(for: settings)
        let z = DLArray.randn([3, settings.latentSize], type: .float32, labels: "BC", seed: 1)
        let images = try generator.predict(z)
        #expect(images.shape == [3, 1, side, side] && images.labels == "BCSS")
        #expect(images.scalars(as: Float.self).allSatisfy { Swift.abs($0) <= 1 })
        let logits = try discriminator.predict(images)
        #expect(logits.shape == [3, 1])
    }

    @Test func theDCGANHasThePublishedShapesAndDropsBatchNormForTheCritic() throws {
        var settings = GANSettings(dataset: .mnist)
        let (generator, discriminator) = try GANArchitecture.networks(for: settings)
        let shapes = Dictionary(uniqueKeysWithValues: generator.learnables.rows.map { ("G/\($0.layer)/\($0.parameter)", $0.value.shape) }
            + discriminator.learnables.rows.map { ("D/\($0.layer)/\($0.parameter)", $0.value.shape) })
        #expect(shapes["G/project/Weights"] == [64, 7 * 7 * 128])
        #expect(shapes["G/tconv1/Weights"] == [128, 64, 4, 4])
        #expect(shapes["G/tconv2/Weights"] == [64, 1, 4, 4])
        #expect(shapes["D/conv1/Weights"] == [64, 1, 4, 4])
        #expect(shapes["D/conv2/Weights"] == [128, 64, 4, 4])
        #expect(shapes["D/logit/Weights"] == [128 * 7 * 7, 1])
        #expect(discriminator.layers.contains { $0 is BatchNormalizationLayer })
        settings.loss = .wassersteinGP
        let critic = try GANArchitecture.networks(for: settings).discriminator
        #expect(!critic.layers.contains { $0 is BatchNormalizationLayer })
    }

    @Test func planarPlayersMapTheLatentToPoints() throws {
        let settings = GANSettings(dataset: .grid25)
        let (generator, discriminator) = try GANArchitecture.networks(for: settings)
        let points = try generator.predict(DLArray.randn([5, settings.latentSize], type: .float32, labels: "BC", seed: 2))
        #expect(points.shape == [5, 2])
        #expect(try discriminator.predict(points).shape == [5, 1])
    }
}
