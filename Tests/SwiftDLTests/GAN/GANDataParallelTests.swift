import Foundation
import Testing
@testable import GANKit
@testable import SwiftDL

/// The GAN trainer on several workers (threads, `spmd`) follows the one-process trainer with
/// the same global batch: each worker draws its rows of the global batch, batch normalization
/// takes the global batch's statistics, gradients are aggregated by share.
@Suite struct GANDataParallelTests {
    /// Every tensor of a trainer's checkpoint: networks, state, optimizer state.
    static func tensors(_ trainer: GANTrainer) throws -> [String: DLArray] {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gan-parallel-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try trainer.writeCheckpoint(to: url)
        return try SafeTensors.read(from: url).tensors
    }

    /// The biases of layers followed by batch normalization, which subtracts them again: their
    /// gradients are rounding noise, different in every summation order.
    static let biasesBeforeBatchNormalization = ["/project/Bias", "/tconv1/Bias", "/conv2/Bias"]

    /// The critic's last bias with WGAN-GP: it cancels in mean D(fake) − mean D(real) and the
    /// penalty does not see it, so its gradient is rounding noise too (and D's one joint pass over
    /// both batches sums it in another order than the workers' passes).
    static let criticOutputBias = ["/logit/Bias"]

    /// Expects every tensor within `relative` of the reference's largest magnitude, but the `skipped`.
    static func expectClose(_ actual: [String: DLArray], _ reference: [String: DLArray], relative: Double,
                            skipping skipped: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(actual.keys.sorted() == reference.keys.sorted(), sourceLocation: sourceLocation)
        for name in reference.keys.sorted() where !skipped.contains(where: name.contains) {
            guard let value = actual[name] else { continue }
            expectRelativelyClose(value, reference[name]!, relative: relative, name, sourceLocation: sourceLocation)
        }
    }

    /// The tiny ring-8 MLP with an R1 penalty and Adam.
    static func ringSettings() -> GANSettings {
        var settings = GANSettings(dataset: .ring8, seed: 9)
        settings.hiddenSize = 16
        settings.batchSize = 20
        settings.latentSize = 4
        settings.iterations = 8
        return settings
    }

    /// The DCGAN (batch normalization in both players) on random images, a batch of 7, SGD with
    /// momentum: Adam divides each gradient by its own magnitude, which turns the rounding of a
    /// gradient that nearly cancels (D's batch-normalization offset, pulled up by the real and
    /// down by the generated batch) into a visible step; SGD keeps differences of rounding size.
    static func dcganSettings(_ loss: GANLoss) -> GANSettings {
        var settings = GANSettings(dataset: .mnist, seed: 4)
        settings.batchSize = 7
        settings.latentSize = 8
        settings.loss = loss
        settings.iterations = 2
        settings.generatorOptimizer = OptimizerSettings(.sgdm, learnRate: 0.01)
        settings.discriminatorOptimizer = OptimizerSettings(.sgdm, learnRate: 0.01)
        return settings
    }

    static let images = DLArray.rand([12, 1, 28, 28], type: .float32, labels: "BCSS", seed: 5) * 2 - 1

    /// `settings.iterations` steps on one process, and on `workers` workers.
    static func trainAlone(_ settings: GANSettings, _ data: GANData) throws -> [String: DLArray] {
        var trainer = try GANTrainer(settings: settings, data: data)
        for _ in 0..<settings.iterations { try trainer.step() }
        return try tensors(trainer)
    }

    static func trainInParallel(_ settings: GANSettings, _ data: GANData, workers: Int) throws -> [[String: DLArray]] {
        try spmd(workers: workers) { communicator in
            var trainer = try GANTrainer(settings: settings, data: data, communicator: communicator)
            for _ in 0..<settings.iterations { try trainer.step() }
            return try Self.tensors(trainer)
        }
    }

    @Test(arguments: [2, 3])
    func ringWorkersFollowOneProcess(workers: Int) throws {
        let settings = Self.ringSettings()
        let data = try GANData(mixtureOf: .ring8)
        let alone = try Self.trainAlone(settings, data)
        let results = try Self.trainInParallel(settings, data, workers: workers)
        for result in results { Self.expectClose(result, alone, relative: 1e-5) }
        // The workers hold the same bits.
        for result in results.dropFirst() {
            for (name, value) in result {
                #expect(firstDifference(value.scalars(as: Float.self).map(\.bitPattern),
                                        results[0][name]!.scalars(as: Float.self).map(\.bitPattern)) == nil, "\(name)")
            }
        }
    }

    @Test(arguments: [(GANLoss.nonSaturating, 2), (.nonSaturating, 3), (.wassersteinGP, 3)])
    func dcganWorkersFollowOneProcess(loss: GANLoss, workers: Int) throws {
        let settings = Self.dcganSettings(loss)
        let data = try GANData(images: Self.images, as: .mnist)
        let alone = try Self.trainAlone(settings, data)
        // One process normalizes with the fused batch-normalization kernels (statistics summed
        // in float64), the workers with the synchronized composition of float32 operations: two
        // algorithms, whose rounding differs more than two summation orders of one (the
        // generator's last bias moved 1.02e-5 of its size in two steps).
        for result in try Self.trainInParallel(settings, data, workers: workers) {
            Self.expectClose(result, alone, relative: 2e-5,
                             skipping: Self.biasesBeforeBatchNormalization + (loss == .wassersteinGP ? Self.criticOutputBias : []))
        }
    }

    /// A checkpoint written by 2 workers, resumed by 3, ends where one process does.
    @Test func aCheckpointOfTwoWorkersResumesOnThree() throws {
        let settings = Self.ringSettings()
        let data = try GANData(mixtureOf: .ring8)
        let alone = try Self.trainAlone(settings, data)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gan-parallel-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        _ = try spmd(workers: 2) { communicator in
            var trainer = try GANTrainer(settings: settings, data: data, communicator: communicator)
            for _ in 0..<3 { try trainer.step() }
            if communicator.isFirst { try trainer.writeCheckpoint(to: url) }
        }
        let results = try spmd(workers: 3) { communicator in
            var trainer = try GANTrainer(resumingFrom: url, settings: settings, data: data, communicator: communicator)
            while trainer.iteration < settings.iterations { try trainer.step() }
            return try Self.tensors(trainer)
        }
        for result in results { Self.expectClose(result, alone, relative: 1e-5) }
    }

    @Test func aBatchSmallerThanTheWorkersAndConsensusAreRefused() throws {
        var small = Self.ringSettings()
        small.batchSize = 2
        let settings = small
        let data = try GANData(mixtureOf: .ring8)
        #expect(throws: DLError.invalidArgument("a batch of 2 leaves some of the 3 workers without a sample: use a batch size of at least 3")) {
            _ = try spmd(workers: 3) { try GANTrainer(settings: settings, data: data, communicator: $0).iteration }
        }
        var consensusSettings = Self.ringSettings()
        consensusSettings.regularizer = .consensus
        consensusSettings.method = .simultaneous
        let consensus = consensusSettings
        #expect(throws: DLError.self) {
            _ = try spmd(workers: 2) { try GANTrainer(settings: consensus, data: data, communicator: $0).iteration }
        }
    }
}

/// `gan --workers N` end to end: the checkpoint of a run on 2 or 3 threads matches that of one
/// process, a run on workers resumes on another number of workers, and worker 1 alone writes.
@Suite(.serialized) struct GANCommandWorkersTests {
    /// A constant learning rate, so that a run of 6 iterations resumed to 12 is the run of 12.
    static let ring = GANCommandTests.tiny + ["--iterations", "12", "--sample-every", "100", "--seed", "3", "--lr-schedule", "constant"]

    /// The optimizers' averages are compared by the trainer's tests; here the parameters and
    /// batch-norm state, as the run's result (after 12 Adam steps a bias's average gradient,
    /// nearly cancelling, can differ by 1.1e-5 of its magnitude).
    static let optimizerState = ["/optimizer/"]

    static func checkpoint(_ directory: URL) throws -> [String: DLArray] {
        try SafeTensors.read(from: directory.appendingPathComponent("checkpoint.safetensors")).tensors
    }

    @Test func ringRunsOnWorkersMatchOneProcessAndResume() throws {
        let directory = try GANCommandTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        func run(_ name: String, _ extra: [String]) throws -> GANCommandTests.Result {
            let result = try GANCommandTests.gan(Self.ring + extra + ["--output", directory.appendingPathComponent(name).path])
            #expect(result.status == 0, "\(extra): \(result.errors)")
            return result
        }
        _ = try run("one", [])
        let reference = try Self.checkpoint(directory.appendingPathComponent("one"))
        for workers in [2, 3] {
            let result = try run("workers-\(workers)", ["--workers", "\(workers)"])
            #expect(result.errors.contains("on \(workers) threads"), "\(result.errors)")
            #expect(result.output.contains("trained 12 iterations"), "\(result.output)")
            GANDataParallelTests.expectClose(try Self.checkpoint(directory.appendingPathComponent("workers-\(workers)")),
                                             reference, relative: 1e-5, skipping: Self.optimizerState)
        }
        // 6 iterations on 2 workers, then resumed to 12 on 3.
        let resumed = directory.appendingPathComponent("resumed")
        let first = try GANCommandTests.gan(GANCommandTests.tiny + ["--iterations", "6", "--sample-every", "100", "--seed", "3", "--lr-schedule", "constant",
                                                                   "--checkpoint-every", "3", "--workers", "2", "--output", resumed.path])
        #expect(first.status == 0, "\(first.errors)")
        let second = try GANCommandTests.gan(["--resume", "--iterations", "12", "--workers", "3", "--output", resumed.path])
        #expect(second.status == 0, "\(second.errors)")
        #expect(second.errors.contains("resuming at iteration 6"), "\(second.errors)")
        GANDataParallelTests.expectClose(try Self.checkpoint(resumed), reference, relative: 1e-5, skipping: Self.optimizerState)
        let log = try String(contentsOf: resumed.appendingPathComponent("log.jsonl"), encoding: .utf8)
        #expect(log.split(separator: "\n").filter { $0.contains("\"step\"") }.count == 12, "one log line per iteration, from worker 1 alone")
    }

    @Test func badWorkerCountsAreRefused() throws {
        let directory = try GANCommandTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try GANCommandTests.expectRefusal(Self.ring + ["--workers", "0", "--output", directory.path], "--workers must be at least 1",
                                          unchanged: directory)
        try GANCommandTests.expectRefusal(GANCommandTests.tiny + ["--batch-size", "2", "--workers", "3", "--output", directory.path],
                                          "leaves some of the 3 workers without a sample", unchanged: directory)
    }
}
