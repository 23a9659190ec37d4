import Foundation
import Testing
@testable import GANKit
@testable import SwiftDL

/// PacGAN's packing: the layer that joins samples along their channels, the packed
/// discriminator and the settings it refuses.
@Suite struct GANPackingTests {
    @Test func packingJoinsConsecutiveSamplesAlongTheirChannels() throws {
        var random = DLRandomGenerator(seed: 0)
        let layer = PackingLayer(samples: 2, name: "pack")
        // Points [4, 2]: rows 0-1 and 2-3 become the two packed rows.
        let points = try DLArray((0..<8).map(Double.init), shape: [4, 2], labels: "BC")
        let packed = try layer.forward([points], mode: .training, using: &random).outputs[0]
        #expect(packed.shape == [2, 4] && packed.labels == "BC")
        #expect(packed.scalars(as: Double.self) == (0..<8).map(Double.init))
        // Images [4, 1, 2, 3]: image 2k is channel 0 and image 2k+1 channel 1 of packed image k.
        let images = try DLArray((0..<24).map(Double.init), shape: [4, 1, 2, 3], labels: "BCSS")
        let packedImages = try layer.forward([images], mode: .training, using: &random).outputs[0]
        #expect(packedImages.shape == [2, 2, 2, 3] && packedImages.labels == "BCSS")
        #expect(packedImages.scalars(as: Double.self) == (0..<24).map(Double.init))
        // Errors: a batch that does not divide, an input without batch and channel dimensions.
        let three = try DLArray([1.0, 2, 3, 4, 5, 6], shape: [3, 2], labels: "BC")
        expectError(containing: "a batch of 3 cannot be packed in groups of 2") {
            _ = try layer.forward([three], mode: .training, using: &random)
        }
        expectError(containing: "leading batch and channel dimensions") {
            _ = try layer.forward([DLArray.zeros([4, 2], type: .float64, labels: "SS")], mode: .training, using: &random)
        }
    }

    @Test func packingPassesGradientsBackToEachSample() throws {
        // d/dx sum(w ⊙ pack(x)) = w read back in the samples' order; the second order through
        // a penalty on that gradient as well (gradcheck, float64).
        var random = DLRandomGenerator(seed: 0)
        let layer = PackingLayer(samples: 3, name: "pack")
        let x = DLArray.randn([6, 2], type: .float64, labels: "BC", seed: 3)
        let w = try DLArray((1...12).map(Double.init), shape: [2, 6], labels: "BC")
        let gradient = try dlfeval({ (x: DLArray) in
            let y = try layer.forward([x], mode: .training, using: &random).outputs[0]
            return try dlgradient(sum(w * y), x)
        }, x)
        #expect(gradient.shape == [6, 2])
        #expect(gradient.scalars(as: Double.self) == (1...12).map(Double.init))
        try expectGradients({ (x: DLArray) in
            var random = DLRandomGenerator(seed: 0)
            let y = try layer.forward([x], mode: .training, using: &random).outputs[0]
            return try sum(w * y * y)
        }, at: x)
    }

    @Test func aPackedDiscriminatorJudgesGroupsAndItsR1IsPerGroup() throws {
        let settings = GANTrainerTests.settings {
            $0.dataset = .grid25
            $0.packing = 4
            $0.regularizer = .r1
            $0.gamma = 0.5
        }
        var trainer = try GANTrainer(settings: settings, data: GANData(mixtureOf: .grid25))
        #expect(trainer.discriminator.layers.first is PackingLayer)
        #expect(trainer.discriminator.learnables["fc1", "Weights"]!.shape.contains(8))
        // R1 per input of D: γ/2 · Σ‖∇D‖² over the 32 samples' gradients, divided by the 8 groups.
        let real = DLArray.randn([32, 2], type: .float32, labels: "BC", seed: 5)
        let fake = DLArray.randn([32, 2], type: .float32, labels: "BC", seed: 6)
        var unused = DLRandomGenerator(seed: 0)
        let (penalty, expected) = try dlfeval({ (d: DLNetwork, real: DLArray) in
            let pass = try GANTrainer.discriminatorPass(d, real: real, fake: fake, targets: .ones([8, 1], type: .float32, labels: "BC"),
                                                        penaltyInput: real, realClasses: nil, fakeClasses: nil, applyR1: true,
                                                        randomNumbers: [[], []], settings: settings, workers: .single(batchSize: 32))
            let logits = try d.forward([real], using: &unused).outputs[0]
            #expect(logits.shape == [8, 1])
            let g = try dlgradient(sum(logits), real)
            return (pass.2, try extractdata(0.5 / 2 * sum(g * g) / 8))
        }, trainer.discriminator, real)
        let (p, e) = (penalty.scalar(as: Double.self), expected.scalar(as: Double.self))
        #expect(p > 0 && Swift.abs(p - e) <= 1e-6 * e, "\(p) vs \(e)")
        for _ in 0..<3 {
            let record = try trainer.step()
            #expect(record.discriminatorLoss.isFinite && record.penalty > 0)
        }
        // A checkpoint of the packed run is another model than an unpacked one.
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gan-pack-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try trainer.writeCheckpoint(to: url)
        var plain = settings
        plain.packing = 1
        #expect(errorMessage(DLError.file) { _ = try GANTrainer(resumingFrom: url, settings: plain, data: GANData(mixtureOf: .grid25)) }
            .contains("packing: 1 vs 4"))
    }

    @Test func packingRefusesWhatItCannotPack() {
        func message(_ configure: (inout GANSettings) -> Void) -> String {
            let settings = GANTrainerTests.settings(configure)
            return errorMessage(DLError.invalidArgument) { try settings.validate() }
        }
        #expect(message { $0.packing = 0 }.contains("at least 1 sample, not 0"))
        #expect(message { $0.packing = 3 }.contains("the batch size 32 is not a multiple of the packing 3"))
        #expect(message { $0.packing = 2; $0.realLabelFlipProbability = 0.1 }.contains("leave out the flips"))
        #expect(message { $0.dataset = .mnist; $0.architecture = .dcgan; $0.packing = 2; $0.conditioning = .projection }
            .contains("a conditional GAN cannot be packed"))
    }
}
