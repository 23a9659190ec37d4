import Foundation
import Testing
@testable import GANKit
@testable import SwiftDL

/// The GAN trainer on the 2-D ring: losses, penalties, who changes when, and exact resumption.
@Suite struct GANTrainerTests {
    /// Small, fast settings on ring-8.
    static func settings(_ configure: (inout GANSettings) -> Void = { _ in }) -> GANSettings {
        var settings = GANSettings(dataset: .ring8, seed: 7)
        settings.hiddenSize = 16
        settings.batchSize = 32
        settings.iterations = 6
        settings.regularizer = .none
        configure(&settings)
        return settings
    }

    static func trainer(_ configure: (inout GANSettings) -> Void = { _ in }) throws -> GANTrainer {
        try GANTrainer(settings: settings(configure), data: GANData(mixtureOf: .ring8))
    }

    static func bits(_ table: DLParameterTable) -> [UInt32] {
        table.rows.flatMap { $0.value.scalars(as: Float.self).map(\.bitPattern) }
    }

    // MARK: Losses

    @Test func lossesAtEvenOddsAreTheTextbookValues() throws {
        let zero = DLArray.zeros([4, 1], type: .float64, labels: "BC")
        let log2 = Foundation.log(2.0)
        let d = try GANTrainer.discriminatorLoss(.nonSaturating, realLogits: zero, fakeLogits: zero, targets: .ones(like: zero))
        #expect(Swift.abs(d.scalar(as: Double.self) - 2 * log2) < 1e-12)
        #expect(Swift.abs(try GANTrainer.generatorLoss(.nonSaturating, fakeLogits: zero).scalar(as: Double.self) - log2) < 1e-12)
        #expect(Swift.abs(try GANTrainer.generatorLoss(.minimax, fakeLogits: zero).scalar(as: Double.self) + log2) < 1e-12)
    }

    @Test func lossesMatchTheirFormulasAtOtherLogits() throws {
        let real = try DLArray([2.0, -1.0], shape: [2, 1], labels: "BC")
        let fake = try DLArray([0.5, -3.0], shape: [2, 1], labels: "BC")
        let targets = try DLArray([1.0, 0.0], shape: [2, 1], labels: "BC")  // the second real label flipped
        func sigma(_ t: Double) -> Double { 1 / (1 + Foundation.exp(-t)) }
        let expectedD = -(Foundation.log(sigma(2)) + Foundation.log(1 - sigma(-1))) / 2
            - (Foundation.log(1 - sigma(0.5)) + Foundation.log(1 - sigma(-3))) / 2
        let d = try GANTrainer.discriminatorLoss(.minimax, realLogits: real, fakeLogits: fake, targets: targets)
        #expect(Swift.abs(d.scalar(as: Double.self) - expectedD) < 1e-12)
        let nonSaturating = -(Foundation.log(sigma(0.5)) + Foundation.log(sigma(-3))) / 2
        #expect(Swift.abs(try GANTrainer.generatorLoss(.nonSaturating, fakeLogits: fake).scalar(as: Double.self) - nonSaturating) < 1e-12)
        let minimax = (Foundation.log(1 - sigma(0.5)) + Foundation.log(1 - sigma(-3))) / 2
        #expect(Swift.abs(try GANTrainer.generatorLoss(.minimax, fakeLogits: fake).scalar(as: Double.self) - minimax) < 1e-12)
        let critic = try GANTrainer.discriminatorLoss(.wassersteinGP, realLogits: real, fakeLogits: fake, targets: targets)
        #expect(Swift.abs(critic.scalar(as: Double.self) - ((0.5 - 3) / 2 - (2 - 1) / 2)) < 1e-12)
        #expect(Swift.abs(try GANTrainer.generatorLoss(.wassersteinGP, fakeLogits: fake).scalar(as: Double.self) - 1.25) < 1e-12)
    }

    // MARK: Penalties, on a linear discriminator whose input gradient is its weight vector

    /// D(x) = w·x + b with w = (1.2, 1.6), ‖w‖ = 2.
    static func linearDiscriminator() throws -> DLNetwork {
        var d = try DLNetwork([FullyConnectedLayer(outputSize: 1, name: "logit")])
        try d.initialize(DLArray.zeros([1, 2], type: .float32, labels: "BC"))
        d.learnables = d.learnables.mapRows { row in
            row.parameter == "Weights" ? try! DLArray([Float(1.2), 1.6], shape: [2, 1]) : .zeros(like: row.value)
        }
        return d
    }

    @Test func r1PenaltyIsHalfGammaTimesTheSquaredInputGradient() throws {
        var trainer = try Self.trainer { $0.regularizer = .r1; $0.gamma = 10 }
        trainer.discriminator = try Self.linearDiscriminator()
        let d = try trainer.trainDiscriminator()
        #expect(Swift.abs(d.penalty - 10 / 2 * 4) < 1e-4)  // γ/2 ‖w‖² = 20
    }

    @Test func lazyR1IsAddedOnEveryNthUpdateTimesN() throws {
        var trainer = try Self.trainer { $0.regularizer = .r1; $0.gamma = 10; $0.r1Interval = 4 }
        trainer.discriminator = try Self.linearDiscriminator()
        let penalties = try (0..<5).map { _ in try trainer.trainDiscriminator().penalty }
        #expect(Swift.abs(penalties[0] - 4 * 10 / 2 * 4) < 1e-3)  // k·γ/2 ‖w‖² = 80
        #expect(penalties[1...3] == [0, 0, 0])
        #expect(penalties[4] > 40)  // w has moved a little in four updates
    }

    @Test func settingsWrittenBeforeLaterOptionsDecodeWithTheirDefaults() throws {
        var settings = Self.settings { $0.regularizer = .r1; $0.r1Interval = 16; $0.generatorAverageDecay = 0.99 }
        var fields = try #require(JSONSerialization.jsonObject(with: JSONEncoder().encode(settings)) as? [String: Any])
        #expect(fields.removeValue(forKey: "r1Interval") as? Int == 16)
        #expect(fields.removeValue(forKey: "generatorAverageDecay") as? Double == 0.99)
        let decoded = try JSONDecoder().decode(GANSettings.self, from: JSONSerialization.data(withJSONObject: fields))
        settings.r1Interval = 1
        settings.generatorAverageDecay = 0
        #expect(decoded == settings)
    }

    // MARK: The generator's average

    /// `a + w(g − a)` with `w = (1 − β)/(1 − βᵗ)` after iteration `t` (the bias-corrected moving
    /// average), for the weights and the batch-norm state alike; the samples come from the
    /// average.
    @Test func theGeneratorsAverageMovesByItsDecayAndMakesTheSamples() throws {
        var settings = GANSettings(dataset: .mnist, seed: 5)
        settings.batchSize = 4
        settings.generatorAverageDecay = 0.75
        let images = DLArray.rand([10, 1, 28, 28], type: .float32, labels: "BCSS", seed: 6) * 2 - 1
        var trainer = try GANTrainer(settings: settings, data: GANData(images: images, as: .mnist))
        var expected = trainer.generator
        #expect(Self.bits(try #require(trainer.averageGenerator).learnables) == Self.bits(expected.learnables))
        for (t, weight) in [(1, Float(1)), (2, Float(0.25 / (1 - 0.75 * 0.75))), (3, Float(0.25 / (1 - 0.75 * 0.75 * 0.75)))] {
            try trainer.step()
            #expect(trainer.iteration == t)
            let average = try #require(trainer.averageGenerator)
            for (tables, name) in [((average.learnables, expected.learnables, trainer.generator.learnables), "learnables"),
                                   ((average.state, expected.state, trainer.generator.state), "state")] {
                #expect(!tables.2.rows.isEmpty)
                for row in tables.0.rows {
                    let before = tables.1[row.layer, row.parameter]!, now = tables.2[row.layer, row.parameter]!
                    let want = zip(before.scalars(as: Float.self), now.scalars(as: Float.self)).map { $0 + weight * ($1 - $0) }
                    let got = row.value.scalars(as: Float.self)
                    #expect(row.value.shape == now.shape && row.value.labels == now.labels)
                    #expect(zip(got, want).allSatisfy { Swift.abs($0 - $1) <= 1e-6 * (1 + Swift.abs($1)) }, "\(name) \(row.layer)/\(row.parameter)")
                }
            }
            #expect(t == 1 || Self.bits(average.learnables) != Self.bits(trainer.generator.learnables))
            expected = average
        }
        let z = trainer.latentVectors(3, seed: 9)
        let samples = try trainer.generate(z).scalars(as: Float.self)
        #expect(samples == (try #require(trainer.averageGenerator).predict(z)).scalars(as: Float.self))
        #expect(samples != (try trainer.generator.predict(z)).scalars(as: Float.self))
    }

    @Test func wganGradientPenaltyIsLambdaTimesTheSquaredNormExcess() throws {
        var trainer = try Self.trainer { $0.loss = .wassersteinGP; $0.lambda = 10 }
        trainer.discriminator = try Self.linearDiscriminator()
        let d = try trainer.trainDiscriminator()
        #expect(Swift.abs(d.penalty - 10 * (2 - 1) * (2 - 1)) < 1e-4)  // λ(‖w‖ − 1)² = 10
    }

    // MARK: Who changes

    @Test func trainingOnePlayerLeavesTheOthersParametersUnchanged() throws {
        for regularizer in [GANRegularizer.none, .r1] {
            var trainer = try Self.trainer { $0.regularizer = regularizer }
            let (g0, d0) = (Self.bits(trainer.generator.learnables), Self.bits(trainer.discriminator.learnables))
            try trainer.trainDiscriminator()
            #expect(Self.bits(trainer.generator.learnables) == g0)
            #expect(Self.bits(trainer.discriminator.learnables) != d0)
            let d1 = Self.bits(trainer.discriminator.learnables)
            try trainer.trainGenerator()
            #expect(Self.bits(trainer.discriminator.learnables) == d1)
            #expect(Self.bits(trainer.generator.learnables) != g0)
        }
    }

    @Test func everyMethodMovesBothPlayersAndStaysFinite() throws {
        let configurations: [(inout GANSettings) -> Void] = [
            { $0.method = .simultaneous },
            { $0.loss = .minimax },
            { $0.loss = .wassersteinGP; $0.discriminatorSteps = 3 },
            { $0.regularizer = .r1 },
            { $0.regularizer = .consensus; $0.method = .simultaneous },
            { $0.realLabelFlipProbability = 0.3 },
            { $0.generatorOptimizer = OptimizerSettings(.rmsprop, learnRate: 1e-4); $0.discriminatorOptimizer = OptimizerSettings(.sgdm, learnRate: 1e-2) },
        ]
        for configure in configurations {
            var trainer = try Self.trainer(configure)
            let (g0, d0) = (Self.bits(trainer.generator.learnables), Self.bits(trainer.discriminator.learnables))
            let record = try trainer.step()
            #expect(record.iteration == 1)
            #expect(record.discriminatorLoss.isFinite && record.generatorLoss.isFinite)
            #expect(Self.bits(trainer.generator.learnables) != g0)
            #expect(Self.bits(trainer.discriminator.learnables) != d0)
            #expect(trainer.discriminatorOptimizer.step == trainer.settings.discriminatorSteps)
        }
    }

    /// Simultaneous GD takes both gradients at the same point: G's update does not depend on
    /// D's update of the same iteration, so it equals G's update with D's learning rate 0.
    @Test func simultaneousGradientsComeFromTheSamePoint() throws {
        var moving = try Self.trainer { $0.method = .simultaneous }
        var frozenD = try Self.trainer {
            $0.method = .simultaneous
            $0.discriminatorOptimizer = OptimizerSettings(.sgdm, learnRate: 1e-300, momentum: 0)
        }
        try moving.step()
        try frozenD.step()
        #expect(Self.bits(moving.generator.learnables) == Self.bits(frozenD.generator.learnables))
        var alternating = try Self.trainer { $0.method = .alternating }
        try alternating.step()
        #expect(Self.bits(alternating.generator.learnables) != Self.bits(moving.generator.learnables))
    }

    // MARK: Checkpoints

    @Test(arguments: [GANRegularizer.none, .consensus])
    func resumingFromACheckpointContinuesExactly(_ regularizer: GANRegularizer) throws {
        let configure: (inout GANSettings) -> Void = {
            $0.regularizer = regularizer
            if regularizer == .consensus { $0.method = .simultaneous }
        }
        var straight = try Self.trainer(configure)
        for _ in 0..<6 { try straight.step() }

        var first = try Self.trainer(configure)
        for _ in 0..<3 { try first.step() }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gan-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try first.writeCheckpoint(to: url)
        var resumed = try GANTrainer(resumingFrom: url, settings: Self.settings(configure), data: GANData(mixtureOf: .ring8))
        #expect(resumed.iteration == 3)
        for _ in 0..<3 { try resumed.step() }

        #expect(Self.bits(resumed.generator.learnables) == Self.bits(straight.generator.learnables))
        #expect(Self.bits(resumed.discriminator.learnables) == Self.bits(straight.discriminator.learnables))
        #expect(resumed.batchesRead == straight.batchesRead)
    }

    /// With batch norm in both players (DCGAN) and WGAN-GP, the running statistics, the
    /// generator's average and the image order are restored too, with another thread keeping
    /// a core busy (the convolutions share their batches among the cores as they come free).
    @Test(arguments: [GANLoss.nonSaturating, .wassersteinGP])
    func resumingADCGANContinuesExactly(_ loss: GANLoss) throws {
        let load = MachineLoad(threads: 1)
        defer { load.stop() }
        var settings = GANSettings(dataset: .mnist, seed: 3)
        settings.batchSize = 4
        settings.loss = loss
        settings.generatorAverageDecay = 0.9
        let images = DLArray.rand([10, 1, 28, 28], type: .float32, labels: "BCSS", seed: 4) * 2 - 1
        let data = try GANData(images: images, as: .mnist)
        var straight = try GANTrainer(settings: settings, data: data)
        for _ in 0..<4 { try straight.step() }
        var first = try GANTrainer(settings: settings, data: data)
        for _ in 0..<2 { try first.step() }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("dcgan-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try first.writeCheckpoint(to: url)
        var resumed = try GANTrainer(resumingFrom: url, settings: settings, data: data)
        for _ in 0..<2 { try resumed.step() }
        for (a, b) in [(resumed.generator, straight.generator), (resumed.discriminator, straight.discriminator),
                       (try #require(resumed.averageGenerator), try #require(straight.averageGenerator))] {
            #expect(firstDifference(Self.bits(a.learnables), Self.bits(b.learnables)) == nil)
            #expect(firstDifference(Self.bits(a.state), Self.bits(b.state)) == nil)
        }
        #expect(loss == .wassersteinGP || !straight.discriminator.state.rows.isEmpty)
    }

    @Test func aCheckpointOfAnotherModelIsRefusedByName() throws {
        let trainer = try Self.trainer()
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gan-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try trainer.writeCheckpoint(to: url)
        let other = Self.settings { $0.hiddenSize = 32 }
        let message = errorMessage(DLError.file) { _ = try GANTrainer(resumingFrom: url, settings: other, data: GANData(mixtureOf: .ring8)) }
        #expect(message.contains("checkpoint of another model") && message.contains("hiddenSize: 32 vs 16"))
        // More iterations is the same model: a run may be extended.
        _ = try GANTrainer(resumingFrom: url, settings: Self.settings { $0.iterations = 100 }, data: GANData(mixtureOf: .ring8))
        let network = FileManager.default.temporaryDirectory.appendingPathComponent("net-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: network) }
        try trainer.generator.write(to: network)
        #expect(errorMessage(DLError.file) { _ = try GANTrainer.checkpointSettings(at: network) }.contains("not a GAN checkpoint"))
    }

    // MARK: Settings

    @Test func settingsThatDoNotFitAreRefusedByName() {
        let cases: [((inout GANSettings) -> Void, String)] = [
            ({ $0.regularizer = .consensus }, "use --method simultaneous"),
            ({ $0.loss = .wassersteinGP; $0.realLabelFlipProbability = 0.2 }, "label flipping"),
            ({ $0.loss = .wassersteinGP; $0.regularizer = .r1 }, "its own gradient penalty"),
            ({ $0.architecture = .dcgan }, "points in the plane"),
            ({ $0.batchSize = 1 }, "batch size"),
            ({ $0.generatorOptimizer.learnRate = -1 }, "generator's learning rate"),
            ({ $0.realLabelFlipProbability = 1 }, "label-flip probability"),
            ({ $0.regularizer = .r1; $0.r1Interval = 0 }, "R1 interval must be at least 1"),
            ({ $0.r1Interval = 4 }, "needs the r1 regularizer"),
            ({ $0.generatorAverageDecay = 1 }, "average decay must be in [0, 1)"),
            ({ $0.generatorAverageDecay = -0.5 }, "average decay must be in [0, 1)"),
        ]
        for (configure, expected) in cases {
            #expect(errorMessage(DLError.invalidArgument) { try Self.settings(configure).validate() }.contains(expected), "\(expected)")
        }
    }
}
