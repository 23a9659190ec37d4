import Foundation
import Testing
@testable import GANKit
@testable import SwiftDL

/// Discriminator rejection sampling (`gan sample --rejection`, `gan measure --rejection`): its
/// acceptance formula, its percentile, the samples it keeps, the calibration of the
/// discriminator, and its errors.
@Suite struct GANRejectionSamplingTests {
    @Test func theAcceptanceIsTheDensityRatiosShareOfItsBoundWithoutAShift() {
        // F at the bound: −ε − log(1 − exp(−ε)) ≈ −log ε, ε = 1e-6.
        #expect(Swift.abs(GANSampler.rejectionF(2.5, bound: 2.5) - 13.815509) < 1e-5)
        // One below the bound: −1 − log(1 − e^−1) = −0.541325.
        #expect(Swift.abs(GANSampler.rejectionF(1.5, bound: 2.5) + 0.5413248546) < 1e-6)
        for delta in [-8.0, -3, -1, -0.1, -1e-3] {
            let accepted = GANSampler.acceptance(GANSampler.rejectionF(delta, bound: 0), gamma: 0)
            #expect(Swift.abs(accepted / Foundation.exp(delta) - 1) < 2e-6, "Δ = \(delta)")
        }
        // A shift γ moves the acceptance along the logistic curve: σ(F − γ).
        let f = GANSampler.rejectionF(-1, bound: 0)
        #expect(Swift.abs(GANSampler.acceptance(f, gamma: f) - 0.5) < 1e-12)
        #expect(Swift.abs(GANSampler.acceptance(f, gamma: f + 2) - 1 / (1 + Foundation.exp(2))) < 1e-12)
    }

    @Test func percentilesInterpolateBetweenRanksAsNumPyDoes() {
        #expect(GANSampler.percentile([4, 1, 3, 2], 50) == 2.5)
        #expect(GANSampler.percentile([4, 1, 3, 2], 0) == 1 && GANSampler.percentile([4, 1, 3, 2], 100) == 4)
        // numpy.percentile(numpy.arange(100), 95) == 94.05
        #expect(Swift.abs(GANSampler.percentile((0..<100).map(Double.init).reversed(), 95) - 94.05) < 1e-12)
    }

    /// A sampler whose discriminator's logit is `10 · x₁`: rejection keeps samples with large
    /// first coordinates.
    static func samplerJudgingTheFirstCoordinate() throws -> (GANSampler, URL) {
        let (_, directory) = try GANSamplerTests.trainedRun()
        var sampler = try GANSampler(checkpoint: GANRun.checkpointURL(in: directory))
        var judge = try DLNetwork([FullyConnectedLayer(outputSize: 1, name: "logit")])
        try judge.initialize(DLArray.zeros([1, 2], type: .float32, labels: "BC"))
        judge.learnables = try judge.learnables.mapRows { row in
            row.parameter == "Weights" ? try DLArray([Float(10), 0], shape: [2, 1]) : DLArray.zeros([1], type: .float32)
        }
        sampler.discriminator = judge
        return (sampler, directory)
    }

    @Test func rejectionKeepsWhatTheDiscriminatorPrefersDeterministically() throws {
        let (sampler, directory) = try Self.samplerJudgingTheFirstCoordinate()
        defer { try? FileManager.default.removeItem(at: directory) }
        let plain = try sampler.samples(400, seed: 5).scalars(as: Float.self)
        let kept = try sampler.samples(400, seed: 5, rejection: 80)
        #expect(kept.shape == [400, 2])
        let keptValues = kept.scalars(as: Float.self)
        func meanFirst(_ values: [Float]) -> Double { stride(from: 0, to: values.count, by: 2).map { Double(values[$0]) }.reduce(0, +) / Double(values.count / 2) }
        // The generator's first coordinates spread over about ±1 after 3 iterations; the kept
        // ones lean to the side the discriminator scores high.
        #expect(meanFirst(keptValues) > meanFirst(plain) + 0.1, "\(meanFirst(keptValues)) against \(meanFirst(plain))")
        // A higher percentile keeps fewer and leans further.
        let stricter = try sampler.samples(400, seed: 5, rejection: 98).scalars(as: Float.self)
        #expect(meanFirst(stricter) > meanFirst(keptValues))
        // The same seed gives the same bits; another seed other samples.
        let again = try sampler.samples(400, seed: 5, rejection: 80).scalars(as: Float.self)
        #expect(firstDifference(again.map(\.bitPattern), keptValues.map(\.bitPattern)) == nil)
        #expect(try sampler.samples(400, seed: 6, rejection: 80).scalars(as: Float.self) != keptValues)
        // Every kept sample is one the generator makes: each appears among the candidates the
        // same stream yields (the burn-in, then batches of 500).
        var random = DLRandomGenerator(seed: 5)
        _ = try sampler.latents(GANSampler.rejectionBurnIn, from: &random, truncation: nil)
        let firstCandidates = try sampler.generate(sampler.latents(500, from: &random, truncation: nil)).scalars(as: Float.self)
        let candidatePairs = Set(stride(from: 0, to: firstCandidates.count, by: 2).map { [firstCandidates[$0], firstCandidates[$0 + 1]] })
        #expect(candidatePairs.contains([keptValues[0], keptValues[1]]))
    }

    @Test func calibrationTeachesTheDiscriminatorToTellRealFromGenerated() throws {
        let (trainer, directory) = try GANSamplerTests.trainedRun()
        defer { try? FileManager.default.removeItem(at: directory) }
        let sampler = try GANSampler(checkpoint: GANRun.checkpointURL(in: directory))
        #expect(try sampler.calibratedForRejection(on: trainer.data, steps: 0).discriminator.learnables.flattenedArrays
            .map { $0.scalars(as: Float.self) } == sampler.discriminator.learnables.flattenedArrays.map { $0.scalars(as: Float.self) })
        let calibrated = try sampler.calibratedForRejection(on: trainer.data, steps: 60)
        // The generator is unchanged; the discriminator now scores real points above generated ones.
        #expect(calibrated.generator.learnables.flattenedArrays.map { $0.scalars(as: Float.self) }
            == sampler.generator.learnables.flattenedArrays.map { $0.scalars(as: Float.self) })
        var random = DLRandomGenerator(seed: 11)
        var order: GANData.EpochOrder?
        let real = try trainer.data.batch(0, size: 500, seed: 11, using: &random, order: &order)
        let generated = try sampler.samples(500, seed: 11)
        func meanLogit(_ network: DLNetwork, _ x: DLArray) throws -> Double {
            let logits = try network.predict([x])[0].scalars(as: Float.self)
            return logits.map(Double.init).reduce(0, +) / Double(logits.count)
        }
        let gap = try meanLogit(calibrated.discriminator, real) - meanLogit(calibrated.discriminator, generated)
        #expect(gap > 1, "real minus generated mean logit \(gap)")
        // The same steps give the same discriminator.
        let again = try sampler.calibratedForRejection(on: trainer.data, steps: 60)
        #expect(again.discriminator.learnables.flattenedArrays.map { $0.scalars(as: Float.self) }
            == calibrated.discriminator.learnables.flattenedArrays.map { $0.scalars(as: Float.self) })
    }

    @Test func mistakesAreNamed() throws {
        let (trainer, directory) = try GANSamplerTests.trainedRun()
        defer { try? FileManager.default.removeItem(at: directory) }
        let sampler = try GANSampler(checkpoint: GANRun.checkpointURL(in: directory))
        for percentile in [-1.0, 100, .nan] {
            expectError(containing: "rejection percentile must be in 0..<100") { _ = try sampler.samples(3, seed: 1, rejection: percentile) }
        }
        expectError(containing: "number of samples must be in 1...100000, not 0") { _ = try sampler.samples(0, seed: 1, rejection: 50) }
        expectError(containing: "calibration steps must be at least 0, not -2") {
            _ = try sampler.calibratedForRejection(on: trainer.data, steps: -2)
        }
        let (_, packed) = try GANSamplerTests.trainedRun { $0.packing = 2 }
        defer { try? FileManager.default.removeItem(at: packed) }
        let packing = try GANSampler(checkpoint: GANRun.checkpointURL(in: packed))
        expectError(containing: "judges 2 at once (--pack)") { _ = try packing.samples(4, seed: 1, rejection: 50) }
    }

    @Test func theCommandsTakeARejectionPercentile() throws {
        let directory = try GANCommandTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(try GANCommandTests.gan(GANCommandTests.tiny + ["--iterations", "4", "--output", directory.path]).status == 0)
        let from = ["sample", "--from", directory.path]
        let tensors = try GANCommandTests.gan(from + ["--format", "safetensors", "--count", "7", "--rejection", "90",
                                                      "--calibration-steps", "5"])
        #expect(tensors.status == 0, "\(tensors.errors)")
        let (read, metadata) = try SafeTensors.read(from: directory.appendingPathComponent("samples.safetensors"))
        #expect(read["samples"]?.shape == [7, 2] && metadata["rejection"] == "90.0" && metadata["truncation"] == "none")
        let measured = try GANCommandTests.gan(["measure", "--from", directory.path, "--samples", "50", "--rejection", "50",
                                                "--calibration-steps", "0"])
        #expect(measured.status == 0 && measured.output.contains("50 samples, rejection at percentile 50.0"), "\(measured.output) \(measured.errors)")
        try GANCommandTests.expectRefusal(from + ["--rejection", "100"], "rejection percentile must be in 0..<100, not 100",
                                          unchanged: directory)
        try GANCommandTests.expectRefusal(from + ["--rejection", "90", "--interpolate", "5"], "leave out --rejection",
                                          unchanged: directory)
        try GANCommandTests.expectRefusal(from + ["--rejection", "90", "--calibration-steps", "-1"],
                                          "calibration steps must be at least 0, not -1", unchanged: directory)
    }
}
