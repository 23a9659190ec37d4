import Foundation
import Testing
@testable import GANKit
@testable import SwiftDL

/// D's pass runs the real and the generated batch as one batch when D treats samples
/// independently, with the losses, scores and gradients of two separate passes.
@Suite struct GANJointBatchTests {
    /// Which discriminators treat their samples independently: those of fully connected,
    /// convolution and activation layers; not those with batch normalization, dropout, packing
    /// or spectral normalization (whose power iteration updates state on every pass).
    @Test func discriminatorsThatTreatSamplesIndependently() throws {
        func discriminator(_ configure: (inout GANSettings) -> Void) throws -> DLNetwork {
            var settings = GANSettings(dataset: .mnist, seed: 1)
            configure(&settings)
            return try GANArchitecture.networks(for: settings).discriminator
        }
        let mlp = try discriminator { $0.architecture = .mlp }
        #expect(mlp.treatsSamplesIndependently)
        #expect(try !discriminator { $0.architecture = .dcgan }.treatsSamplesIndependently)       // batch norm
        #expect(try discriminator { $0.architecture = .dcgan; $0.loss = .wassersteinGP; $0.regularizer = .none }
            .treatsSamplesIndependently)
        #expect(try !discriminator { $0.architecture = .mlp; $0.packing = 2 }.treatsSamplesIndependently)
        #expect(try !discriminator { $0.architecture = .mlp; $0.spectralNormalization = true }.treatsSamplesIndependently)
        #expect(try !discriminator { $0.architecture = .matlab }.treatsSamplesIndependently)        // dropout
        #expect(try !GANAccelerationTests.withDropout(mlp, after: "lrelu1").treatsSamplesIndependently)
        #expect(!(try DLNetwork([FullyConnectedLayer(outputSize: 2), BatchNormalizationLayer()]).treatsSamplesIndependently))
        #expect(try DLNetwork([ConvolutionLayer(kernel: [3, 3], filters: 2), ActivationLayer(.tanh), PoolingLayer.global(.average),
                               FlattenLayer(), FullyConnectedLayer(outputSize: 1)]).treatsSamplesIndependently)
    }

    /// The joint pass of a float64 MLP discriminator against two separate forward calls written
    /// out: the loss, the scores and every gradient agree to rounding, for each loss (WGAN-GP
    /// with its penalty on a third forward call).
    @Test(arguments: [GANLoss.nonSaturating, .minimax, .hinge, .wassersteinGP])
    func jointPassEqualsSeparatePasses(_ loss: GANLoss) throws {
        var settings = GANSettings(dataset: .mnist, seed: 1)
        settings.architecture = .mlp
        settings.loss = loss
        settings.batchSize = 5
        var d = try DLNetwork([FlattenLayer(name: "flatten"), FullyConnectedLayer(outputSize: 7, name: "fc1"),
                               ActivationLayer(.leakyrelu(scale: 0.2), name: "lrelu1"),
                               FullyConnectedLayer(outputSize: 6, name: "fc2"),
                               ActivationLayer(.leakyrelu(scale: 0.2), name: "lrelu2"),
                               FullyConnectedLayer(outputSize: 1, name: "logit")])
        let real = DLArray.randn([5, 1, 3, 4], type: .float64, labels: "BCSS", seed: 1)
        let fake = DLArray.randn([5, 1, 3, 4], type: .float64, labels: "BCSS", seed: 2)
        let penaltyInput = DLArray.randn([5, 1, 3, 4], type: .float64, labels: "BCSS", seed: 3)
        try d.initialize(real, seed: 4)
        #expect(d.treatsSamplesIndependently)
        // The pass joins the batches (one batch of 10), but not with R1 or when the batches differ.
        let joined = try #require(try GANTrainer.jointBatch(d, [real], [fake], settings: settings))
        #expect(joined.map(\.shape) == [[10, 1, 3, 4]] && joined[0].labels == "BCSS")
        var r1 = settings
        r1.regularizer = .r1
        #expect(try GANTrainer.jointBatch(d, [real], [fake], settings: r1) == nil)
        #expect(try GANTrainer.jointBatch(d, [real], [fake.converted(to: .float32)], settings: settings) == nil)
        #expect(try GANTrainer.jointBatch(d, [real], [reshape(fake, [5, 1, 4, 3]).labeled("BCSS")], settings: settings) == nil)
        let targets = try DLArray([1, 0, 1, 1, 0] as [Double], shape: [5, 1], labels: "BC")
        let workers = GANWorkers.single(batchSize: 5)
        let numbers: [[DLArray]] = loss == .wassersteinGP ? [[], [], []] : [[], []]
        let joint = try dlfeval({ (d: DLNetwork, real: DLArray, fake: DLArray, penaltyInput: DLArray) in
            try GANTrainer.discriminatorPass(d, real: real, fake: fake, targets: targets, penaltyInput: penaltyInput,
                                             realClasses: nil, fakeClasses: nil, applyR1: false, randomNumbers: numbers,
                                             settings: settings, workers: workers)
        }, d, real, fake, penaltyInput)
        let separate = try dlfeval({ (d: DLNetwork, real: DLArray, fake: DLArray, penaltyInput: DLArray) in
            let realLogits = try d.forward([real], randomNumbers: []).outputs[0]
            let fakeLogits = try d.forward([fake], randomNumbers: []).outputs[0]
            var total = try GANTrainer.discriminatorLoss(loss, realLogits: realLogits, fakeLogits: fakeLogits, targets: targets)
            var penalty = DLArray(0.0)
            if loss == .wassersteinGP {
                let critic = try d.forward([penaltyInput], randomNumbers: []).outputs[0]
                let g = try dlgradient(sum(critic), penaltyInput, enableHigherDerivatives: true)
                let norms = sqrt(try sum(reshape(g * g, [5, -1]), dims: [1]) + 1e-10)
                penalty = settings.lambda * mean((norms - 1) ** 2)
                total = try total + penalty
            }
            return (try dlgradient(total, d.learnables), extractdata(total), extractdata(penalty),
                    try GANTrainer.scores(loss, realLogits, fakeLogits))
        }, d, real, fake, penaltyInput)
        expectClose(joint.1, separate.1, tolerance: 1e-13, "loss")
        expectClose(joint.2, separate.2, tolerance: 1e-13, "penalty")
        expectClose(joint.3, separate.3, tolerance: 1e-13, "scores")
        #expect(joint.0.rows.map(\.layer) == separate.0.rows.map(\.layer))
        for (a, b) in zip(joint.0.rows, separate.0.rows) {
            expectClose(a.value, b.value, tolerance: 1e-13, "\(a.layer)/\(a.parameter)")
        }
    }
}
