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
        /// Whether both players get a dropout layer after their first activation.
        var dropout = false
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
        var consensus = ring
        consensus.regularizer = .consensus
        consensus.r1Interval = 1
        consensus.method = .simultaneous
        consensus.iterations = 4
        // Dropout, as the MATLAB architecture's discriminator has on its input (too large to train
        // here in a debug build): new masks on every replay.
        var mlp = concatenation
        mlp.conditioning = nil
        // Top-k training: k falls from 6 to 3 to 1 over the iterations (2 batches an epoch), the
        // weights an argument of one trace.
        let topK = GANTopK(minimumFraction: 0.25, decay: 0.5)
        var topKNonSaturating = dcgan
        topKNonSaturating.topK = topK
        topKNonSaturating.iterations = 5
        var topKHinge = hinge
        topKHinge.topK = topK
        topKHinge.iterations = 5
        var topKProjection = projection
        topKProjection.topK = topK
        topKProjection.iterations = 5
        return [Case(name: "ring-8 MLP, lazy R1", settings: ring), Case(name: "DCGAN non-saturating", settings: dcgan),
                Case(name: "DCGAN WGAN-GP", settings: wgan), Case(name: "DCGAN hinge, spectral norm", settings: hinge),
                Case(name: "simultaneous, 2 D steps", settings: simultaneous),
                Case(name: "conditional DCGAN, projection", settings: projection),
                Case(name: "conditional MLP, concatenation", settings: concatenation),
                Case(name: "consensus optimization", settings: consensus),
                Case(name: "MLP (D's real and generated batches as one)", settings: mlp),
                Case(name: "MLP, dropout in both players", settings: mlp, dropout: true),
                Case(name: "conditional MLP, concatenation, dropout in both players", settings: concatenation, dropout: true),
                Case(name: "DCGAN non-saturating, top-k", settings: topKNonSaturating),
                Case(name: "DCGAN hinge, spectral norm, top-k", settings: topKHinge),
                Case(name: "conditional DCGAN, projection, top-k", settings: topKProjection)]
    }()

    /// How a pass ran: why its last call ran eagerly, its hit rate and its number of traces.
    struct PassRecord: Sendable {
        let name: String, eagerReason: String?, hitRate: Double, traces: Int
        init<A, O>(_ name: String, _ pass: AcceleratedFunction<A, O>) {
            (self.name, eagerReason, hitRate, traces) = (name, pass.lastEagerReason, pass.hitRate, pass.cachedTraceCount)
        }
    }

    /// The passes a trainer with `settings` calls.
    static func usedPasses(_ passes: GANPasses, _ settings: GANSettings) -> [PassRecord] {
        settings.regularizer == .consensus ? [PassRecord("consensus", passes.consensus)]
            : [PassRecord("discriminator", passes.discriminator), PassRecord("generator", passes.generator)]
    }

    static let images = DLArray.rand([12, 1, 28, 28], type: .float32, labels: "BCSS", seed: 5) * 2 - 1
    /// The images' classes for the conditional cases: every class, in an order unlike the batches'.
    static let classes = (0..<12).map { ($0 * 7) % 10 }

    /// `network` with a dropout layer (probability 0.4) after layer `name`, a chain or a graph.
    static func withDropout(_ network: DLNetwork, after name: String) throws -> DLNetwork {
        var connections = Dictionary(uniqueKeysWithValues: zip(network.layers.map(\.name),
                                                                network.sources.map { $0.map { $0 == name ? "dropout" : $0 } }))
        connections["dropout"] = [name]
        return try DLNetwork(layers: network.layers + [DropoutLayer(probability: 0.4, name: "dropout")], connections: connections,
                             inputs: network.inputNames, outputs: network.outputNames.map { $0 == name ? "dropout" : $0 })
    }

    @Test(arguments: cases)
    func acceleratedTrainingEqualsEagerTraining(_ example: Case) throws {
        let settings = example.settings
        let data = settings.dataset.isPlanar ? try GANData(mixtureOf: .ring8)
            : try GANData(images: Self.images, as: .mnist, classes: settings.conditioning == nil ? nil : Self.classes)
        var eager = try GANTrainer(settings: settings, data: data)
        eager.accelerate = false
        var accelerated = try GANTrainer(settings: settings, data: data)
        if example.dropout {
            func addDropout(_ trainer: inout GANTrainer) throws {
                trainer.generator = try Self.withDropout(trainer.generator, after: "relu1")
                trainer.discriminator = try Self.withDropout(trainer.discriminator, after: "lrelu1")
            }
            try addDropout(&eager)
            try addDropout(&accelerated)
            #expect(accelerated.generator.drawsRandomNumbers && accelerated.discriminator.drawsRandomNumbers)
        }
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
        if settings.topK != nil {
            #expect(accelerated.topKCount == 1 && passes.generator.cachedTraceCount == 1, "\(example.name): one trace for every k")
        }
        for pass in Self.usedPasses(passes, settings) {
            #expect(pass.eagerReason == nil, "\(example.name), \(pass.name): \(pass.eagerReason ?? "")")
            #expect(pass.hitRate > 30, "\(example.name), \(pass.name)")
            if settings.conditioning != nil || example.dropout || settings.regularizer == .consensus {
                // Every batch brings other classes, masks or points, and no batch traces again:
                // one trace per pass.
                #expect(pass.traces == 1, "\(example.name), \(pass.name)")
                let calls = Double(settings.iterations)
                #expect(pass.hitRate == 100 * (calls - 1) / calls, "\(example.name), \(pass.name)")
            }
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
        _ = try dlfeval(passes.generator, trainer.generator, trainer.discriminator, z, valid, [[], []], nil)
        #expect(passes.generator.lastEagerReason == nil)
        for (bad, eager) in [(Float(10), "index 10 is out of range"), (2.5, "index 2.5 is not a whole number")] {
            let classes = try DLArray([1, bad, 0, 4], shape: [4, 1], labels: "BC")
            let accelerated = errorMessage(DLError.invalidArgument) {
                _ = try dlfeval(passes.generator, trainer.generator, trainer.discriminator, z, classes, [[], []], nil)
            }
            let reference = errorMessage(DLError.invalidArgument) {
                _ = try dlfeval({ (g: DLNetwork, d: DLNetwork, z: DLArray, c: DLArray?) in
                    try GANTrainer.generatorPass(g, d, z: z, classes: c, randomNumbers: [[], []], settings: settings, workers: workers)
                }, trainer.generator, trainer.discriminator, z, Optional(classes))
            }
            #expect(accelerated == reference)
            #expect(accelerated.contains(eager), "\(accelerated)")
            #expect(passes.generator.lastEagerReason?.contains("not a whole number below 10") == true)
        }
        _ = try dlfeval(passes.generator, trainer.generator, trainer.discriminator, z, valid, [[], []], nil)
        #expect(passes.generator.lastEagerReason == nil)
    }

    /// Data-parallel workers replay their passes, synchronized batch normalization's collectives
    /// included, and give the eager workers' records and checkpoints bit for bit.
    @Test(arguments: [("DCGAN, 3 workers", 3), ("ring-8 MLP, lazy R1, 2 workers", 2)])
    func acceleratedWorkersEqualEagerWorkers(_ name: String, _ workers: Int) throws {
        let dcgan = name.hasPrefix("DCGAN")
        var chosen = dcgan ? GANDataParallelTests.dcganSettings(.nonSaturating) : GANDataParallelTests.ringSettings()
        chosen.iterations = 3
        if !dcgan { chosen.r1Interval = 2 }
        let settings = chosen
        let data = dcgan ? try GANData(images: Self.images, as: .mnist) : try GANData(mixtureOf: .ring8)
        let runs = try spmd(workers: workers) { communicator in
            var eager = try GANTrainer(settings: settings, data: data, communicator: communicator)
            eager.accelerate = false
            var accelerated = try GANTrainer(settings: settings, data: data, communicator: communicator)
            var records: [(GANStepRecord, GANStepRecord)] = []
            for _ in 0..<settings.iterations { records.append((try accelerated.step(), try eager.step())) }
            let passes = try #require(accelerated.acceleratedPasses)
            return (records, try GANDataParallelTests.tensors(accelerated), try GANDataParallelTests.tensors(eager),
                    Self.usedPasses(passes, settings))
        }
        for (worker, (records, a, e, passes)) in runs.enumerated() {
            for (accelerated, eager) in records { #expect(accelerated == eager, "\(name), worker \(worker + 1)") }
            #expect(a.keys.sorted() == e.keys.sorted())
            for tensor in e.keys.sorted() {
                #expect(firstDifference(a[tensor]!, e[tensor]!) == nil, "\(name), worker \(worker + 1): \(tensor)")
            }
            for pass in passes {
                #expect(pass.eagerReason == nil, "\(name), worker \(worker + 1), \(pass.name): \(pass.eagerReason ?? "")")
                #expect(pass.hitRate > 30, "\(name), worker \(worker + 1), \(pass.name)")
            }
        }
        // The workers hold the same networks.
        for (_, a, _, _) in runs.dropFirst() {
            for tensor in a.keys.sorted() where tensor.contains("Weights") {
                #expect(firstDifference(a[tensor]!, runs[0].1[tensor]!) == nil, "\(name): \(tensor)")
            }
        }
    }
}
