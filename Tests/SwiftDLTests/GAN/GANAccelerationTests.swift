import Foundation
import Testing
@testable import GANKit
@testable import SwiftDL

/// The trainer's passes through `dlaccelerate` give the eager trainer's records and every
/// checkpoint tensor bit for bit, and they replay (hits) rather than falling back.
@Suite struct GANAccelerationTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let settings: GANSettings
        var testDescription: String { name }
    }

    static let cases: [Case] = {
        var ring = GANSettings(dataset: .ring8, seed: 9)
        ring.hiddenSize = 16
        ring.batchSize = 20
        ring.latentSize = 4
        ring.iterations = 6
        ring.r1Interval = 2                         // lazy R1: two traces, with and without the penalty
        var dcgan = GANSettings(dataset: .mnist, seed: 4)
        dcgan.batchSize = 6
        dcgan.latentSize = 8
        dcgan.iterations = 3
        var wgan = dcgan
        wgan.loss = .wassersteinGP
        wgan.regularizer = .none
        var hinge = dcgan
        hinge.loss = .hinge
        hinge.spectralNormalization = true
        var simultaneous = ring
        simultaneous.method = .simultaneous
        simultaneous.discriminatorSteps = 2
        var projection = dcgan
        projection.conditioning = .projection
        projection.iterations = 4
        var concatenation = GANSettings(dataset: .mnist, seed: 6)
        concatenation.architecture = .mlp
        concatenation.conditioning = .concatenation
        concatenation.hiddenSize = 16
        concatenation.batchSize = 6
        concatenation.latentSize = 8
        concatenation.iterations = 4
        return [Case(name: "ring-8 MLP, lazy R1", settings: ring), Case(name: "DCGAN non-saturating", settings: dcgan),
                Case(name: "DCGAN WGAN-GP", settings: wgan), Case(name: "DCGAN hinge, spectral norm", settings: hinge),
                Case(name: "simultaneous, 2 D steps", settings: simultaneous),
                Case(name: "conditional DCGAN, projection", settings: projection),
                Case(name: "conditional MLP, concatenation", settings: concatenation)]
    }()

    static let images = DLArray.rand([12, 1, 28, 28], type: .float32, labels: "BCSS", seed: 5) * 2 - 1
    /// The images' classes for the conditional cases: every class, in an order unlike the batches'.
    static let classes = (0..<12).map { ($0 * 7) % 10 }

    @Test(arguments: cases)
    func acceleratedTrainingEqualsEagerTraining(_ example: Case) throws {
        let settings = example.settings
        let data = settings.dataset.isPlanar ? try GANData(mixtureOf: .ring8)
            : try GANData(images: Self.images, as: .mnist, classes: settings.conditioning == nil ? nil : Self.classes)
        var eager = try GANTrainer(settings: settings, data: data)
        eager.accelerate = false
        var accelerated = try GANTrainer(settings: settings, data: data)
        #expect(eager.acceleratedPasses == nil)
        let passes = try #require(accelerated.acceleratedPasses)
        for _ in 0..<settings.iterations {
            #expect(try accelerated.step() == eager.step())
        }
        let a = try GANDataParallelTests.tensors(accelerated), e = try GANDataParallelTests.tensors(eager)
        #expect(a.keys.sorted() == e.keys.sorted())
        for name in e.keys.sorted() {
            #expect(firstDifference(a[name]!, e[name]!) == nil, "\(example.name): \(name)")
        }
        #expect(passes.discriminator.lastEagerReason == nil, "\(example.name): \(passes.discriminator.lastEagerReason ?? "")")
        #expect(passes.generator.lastEagerReason == nil, "\(example.name): \(passes.generator.lastEagerReason ?? "")")
        #expect(passes.generator.hitRate > 50, "\(example.name)")
        #expect(passes.discriminator.hitRate > 30, "\(example.name)")
        if settings.conditioning != nil {
            // Every batch brings other classes, and no batch traces again: one trace per pass.
            #expect(passes.generator.cachedTraceCount == 1, "\(example.name)")
            #expect(passes.discriminator.cachedTraceCount == 1, "\(example.name)")
            let calls = Double(settings.iterations)
            #expect(passes.generator.hitRate == 100 * (calls - 1) / calls, "\(example.name)")
            #expect(passes.discriminator.hitRate == 100 * (calls - 1) / calls, "\(example.name)")
        }
    }

    /// A class the embedding cannot take fails the replayed pass's check, and the pass then
    /// runs eagerly and throws the eager pass's error.
    @Test func aConditionalPassWithAnInvalidClassThrowsTheEagerError() throws {
        var settings = GANSettings(dataset: .mnist, seed: 2)
        settings.architecture = .mlp
        settings.conditioning = .concatenation
        settings.hiddenSize = 8
        settings.batchSize = 4
        settings.latentSize = 4
        let data = try GANData(images: Self.images, as: .mnist, classes: Self.classes)
        var trainer = try GANTrainer(settings: settings, data: data)
        let passes = try #require(trainer.acceleratedPasses)
        _ = try trainer.step()
        let workers = trainer.workers
        let z = DLArray.randn([4, 4], type: .float32, labels: "BC", seed: 3)
        let valid = try DLArray([Float(1), 9, 0, 4], shape: [4, 1], labels: "BC")
        _ = try dlfeval(passes.generator, trainer.generator, trainer.discriminator, z, valid)
        #expect(passes.generator.lastEagerReason == nil)
        for (bad, eager) in [(Float(10), "index 10 is out of range"), (2.5, "index 2.5 is not a whole number")] {
            let classes = try DLArray([1, bad, 0, 4], shape: [4, 1], labels: "BC")
            let accelerated = errorMessage(DLError.invalidArgument) {
                _ = try dlfeval(passes.generator, trainer.generator, trainer.discriminator, z, classes)
            }
            let reference = errorMessage(DLError.invalidArgument) {
                var unused = DLRandomGenerator(seed: 0)
                _ = try dlfeval({ (g: DLNetwork, d: DLNetwork, z: DLArray, c: DLArray?) in
                    try GANTrainer.generatorPass(g, d, z: z, classes: c, settings: settings, workers: workers, dropout: &unused)
                }, trainer.generator, trainer.discriminator, z, Optional(classes))
            }
            #expect(accelerated == reference)
            #expect(accelerated.contains(eager), "\(accelerated)")
            #expect(passes.generator.lastEagerReason?.contains("not a whole number below 10") == true)
        }
        _ = try dlfeval(passes.generator, trainer.generator, trainer.discriminator, z, valid)
        #expect(passes.generator.lastEagerReason == nil)
    }

    @Test func workersDropoutAndConsensusRunEagerly() throws {
        var consensus = GANSettings(dataset: .ring8, seed: 1)
        consensus.regularizer = .consensus
        consensus.method = .simultaneous
        #expect(try GANTrainer(settings: consensus, data: GANData(mixtureOf: .ring8)).acceleratedPasses == nil)
        var matlab = GANSettings(dataset: .mnist, seed: 1)
        matlab.architecture = .matlab
        matlab.batchSize = 6
        matlab.imageSize = 64
        let images = DLArray.rand([8, 1, 64, 64], type: .float32, labels: "BCSS", seed: 5)
        #expect(try GANTrainer(settings: matlab, data: GANData(images: images, as: .mnist)).acceleratedPasses == nil)
        let parallel = try spmd(workers: 2) { communicator in
            try GANTrainer(settings: GANSettings(dataset: .ring8, seed: 1), data: GANData(mixtureOf: .ring8),
                           communicator: communicator).acceleratedPasses == nil
        }
        #expect(parallel == [true, true])
    }
}
