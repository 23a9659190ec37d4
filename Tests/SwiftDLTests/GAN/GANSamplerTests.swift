import Foundation
import Testing
@testable import GANKit
@testable import SwiftDL

/// Drawing samples from a run's checkpoint (`gan sample`): the generator it reads, its latent
/// vectors and truncation, and its errors; the command's files.
@Suite struct GANSamplerTests {
    /// A ring-8 trainer after 3 iterations and its checkpoint in a fresh directory.
    static func trainedRun(_ configure: (inout GANSettings) -> Void = { _ in }) throws -> (GANTrainer, URL) {
        var trainer = try GANTrainerTests.trainer(configure)
        for _ in 0..<3 { try trainer.step() }
        let directory = try GANCommandTests.temporaryDirectory()
        try trainer.writeCheckpoint(to: GANRun.checkpointURL(in: directory))
        return (trainer, directory)
    }

    @Test(arguments: [0.0, 0.9])
    func samplesAreTheRunsGeneratorAtTheSeedsLatentVectors(_ averageDecay: Double) throws {
        let (trainer, directory) = try Self.trainedRun { $0.generatorAverageDecay = averageDecay }
        defer { try? FileManager.default.removeItem(at: directory) }
        let sampler = try GANSampler(checkpoint: GANRun.checkpointURL(in: directory))
        #expect(sampler.iteration == 3 && sampler.settings == trainer.settings)
        // With an average the sampler uses it, as the run's pictures do.
        let expected = try trainer.generate(DLArray.randn([5, trainer.settings.latentSize], type: .float32, labels: "BC", seed: 9))
        let samples = try sampler.samples(5, seed: 9)
        #expect(samples.shape == [5, 2])
        #expect(firstDifference(samples.scalars(as: Float.self).map(\.bitPattern), expected.scalars(as: Float.self).map(\.bitPattern)) == nil)
        if averageDecay > 0 {
            let plain = try trainer.generator.predict(DLArray.randn([5, trainer.settings.latentSize], type: .float32, labels: "BC", seed: 9))
            #expect(plain.scalars(as: Float.self) != samples.scalars(as: Float.self))
        }
        // More than one chunk of 500 gives the same first samples.
        let many = try sampler.samples(1001, seed: 9)
        #expect(many.shape == [1001, 2])
        #expect(firstDifference(many[0..<5, ...].scalars(as: Float.self), samples.scalars(as: Float.self)) == nil)
    }

    @Test func truncationRedrawsTheLatentTails() throws {
        let (_, directory) = try Self.trainedRun()
        defer { try? FileManager.default.removeItem(at: directory) }
        let sampler = try GANSampler(checkpoint: GANRun.checkpointURL(in: directory))
        let free = try sampler.latentVectors(200, seed: 4).scalars(as: Float.self)
        let truncated = try sampler.latentVectors(200, seed: 4, truncation: 0.5).scalars(as: Float.self)
        #expect(free.contains { Swift.abs($0) > 0.5 })
        #expect(truncated.allSatisfy { Swift.abs($0) <= 0.5 })
        // Elements that needed no redraw come first and are the same until the first redraw.
        let firstOutside = try #require(free.firstIndex { Swift.abs($0) > 0.5 })
        #expect(Array(truncated[..<firstOutside]) == Array(free[..<firstOutside]))
    }

    @Test func mistakesAreNamed() throws {
        let (_, directory) = try Self.trainedRun()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = GANRun.checkpointURL(in: directory)
        let sampler = try GANSampler(checkpoint: url)
        for count in [0, -3, GANSampler.maximumCount + 1] {
            expectError(containing: "number of samples must be in 1...100000, not \(count)") { _ = try sampler.samples(count, seed: 1) }
        }
        for truncation in [0.0, -1, .infinity, .nan] {
            expectError(containing: "truncation must be positive and finite") {
                _ = try sampler.samples(3, seed: 1, truncation: truncation)
            }
        }
        expectError(containing: "there is no checkpoint at") {
            _ = try GANSampler(checkpoint: directory.appendingPathComponent("missing/checkpoint.safetensors"))
        }
        // One flipped bit in the last byte of the file (a tensor's data).
        var bytes = try Data(contentsOf: url)
        bytes[bytes.count - 1] ^= 1
        try bytes.write(to: url)
        expectError(containing: "does not match its checksum") { _ = try GANSampler(checkpoint: url) }
        // A network file is not a GAN checkpoint.
        try sampler.generator.write(to: url)
        expectError(containing: "not a GAN checkpoint") { _ = try GANSampler(checkpoint: url) }
    }
}
