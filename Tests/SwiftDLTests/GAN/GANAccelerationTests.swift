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
        return [Case(name: "ring-8 MLP, lazy R1", settings: ring), Case(name: "DCGAN non-saturating", settings: dcgan),
                Case(name: "DCGAN WGAN-GP", settings: wgan), Case(name: "DCGAN hinge, spectral norm", settings: hinge),
                Case(name: "simultaneous, 2 D steps", settings: simultaneous)]
    }()

    static let images = DLArray.rand([12, 1, 28, 28], type: .float32, labels: "BCSS", seed: 5) * 2 - 1

    @Test(arguments: cases)
    func acceleratedTrainingEqualsEagerTraining(_ example: Case) throws {
        let settings = example.settings
        let data = settings.dataset.isPlanar ? try GANData(mixtureOf: .ring8) : try GANData(images: Self.images, as: .mnist)
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
    }

    @Test func workersDropoutConditioningAndConsensusRunEagerly() throws {
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
        var conditional = GANSettings(dataset: .mnist, seed: 1)
        conditional.conditioning = .projection
        conditional.batchSize = 6
        let classes = (0..<12).map { $0 % 10 }
        #expect(try GANTrainer(settings: conditional, data: GANData(images: Self.images, as: .mnist, classes: classes)).acceleratedPasses == nil)
        let parallel = try spmd(workers: 2) { communicator in
            try GANTrainer(settings: GANSettings(dataset: .ring8, seed: 1), data: GANData(mixtureOf: .ring8),
                           communicator: communicator).acceleratedPasses == nil
        }
        #expect(parallel == [true, true])
    }
}
