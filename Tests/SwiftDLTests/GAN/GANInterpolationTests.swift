import Foundation
import Testing
@testable import GANKit
@testable import SwiftDL

/// Latent-space interpolation (`gan sample --interpolate K`): the arcs, their ends, the
/// pictures and the mistakes.
@Suite struct GANInterpolationTests {
    @Test func sphericalInterpolationFollowsTheArc() {
        // A quarter circle: the midpoint of (1, 0) and (0, 1) is (√½, √½), a third of the way
        // (cos 30°, sin 30°).
        let half = sphericalInterpolation([1, 0], [0, 1], at: 0.5)
        #expect(Swift.abs(half[0] - Float(0.5.squareRoot())) < 1e-7 && Swift.abs(half[1] - Float(0.5.squareRoot())) < 1e-7)
        let third = sphericalInterpolation([1, 0], [0, 1], at: 1.0 / 3)
        #expect(Swift.abs(third[0] - Float(3.0.squareRoot() / 2)) < 1e-7 && Swift.abs(third[1] - 0.5) < 1e-7)
        // Lengths 2 and 2 at 90°: the arc keeps the length 2, where a straight line's midpoint has √2.
        let long = sphericalInterpolation([2, 0, 0], [0, 0, 2], at: 0.5)
        #expect(Swift.abs(long.map { $0 * $0 }.reduce(0, +).squareRoot() - 2) < 1e-6)
        // Vectors along one line (and a zero vector) are joined by the straight line.
        #expect(sphericalInterpolation([1, 2], [-1, -2], at: 0.25) == [0.5, 1])
        #expect(sphericalInterpolation([1, 2], [2, 4], at: 0.5) == [1.5, 3])
        #expect(sphericalInterpolation([0, 0], [2, 4], at: 0.5) == [1, 2])
        // The ends exactly.
        let a: [Float] = [0.3, -1.7, 2.2], b: [Float] = [-0.4, 0.9, 1.1]
        #expect(sphericalInterpolation(a, b, at: 0) == a && sphericalInterpolation(a, b, at: 1) == b)
    }

    @Test func theEndsOfEachPathAreTheSamplesOfItsEndLatentVectors() throws {
        let (_, directory) = try GANSamplerTests.trainedRun()
        defer { try? FileManager.default.removeItem(at: directory) }
        let sampler = try GANSampler(checkpoint: GANRun.checkpointURL(in: directory))
        let (paths, steps, size) = (3, 5, sampler.settings.latentSize)
        let latents = try sampler.interpolationLatents(paths: paths, steps: steps, seed: 4, truncation: 2).scalars(as: Float.self)
        let ends = try sampler.latentVectors(2 * paths, seed: 4, truncation: 2).scalars(as: Float.self)
        #expect(latents.count == paths * steps * size)
        let outputs = try sampler.interpolation(paths: paths, steps: steps, seed: 4, truncation: 2)
        let samples = try sampler.samples(2 * paths, seed: 4, truncation: 2)
        #expect(outputs.shape == [paths * steps, 2])
        for path in 0..<paths {
            for (step, end) in [(0, 2 * path), (steps - 1, 2 * path + 1)] {
                let row = path * steps + step
                #expect(Array(latents[row * size ..< (row + 1) * size]) == Array(ends[end * size ..< (end + 1) * size]), "path \(path) step \(step)")
                #expect(firstDifference(outputs[row..<row + 1, ...].scalars(as: Float.self), samples[end..<end + 1, ...].scalars(as: Float.self)) == nil,
                        "path \(path) step \(step)")
            }
            // The middle step is the arc's midpoint, (a + b) / (2 cos(Ω/2)) with Ω the angle
            // between the ends (a straight line's would be (a + b) / 2).
            let a = ends[2 * path * size ..< (2 * path + 1) * size].map(Double.init)
            let b = ends[(2 * path + 1) * size ..< (2 * path + 2) * size].map(Double.init)
            let norm = { (v: [Double]) in v.map { $0 * $0 }.reduce(0, +).squareRoot() }
            let angle = acos(zip(a, b).map(*).reduce(0, +) / (norm(a) * norm(b)))
            let middle = latents[(path * steps + 2) * size ..< (path * steps + 3) * size].map(Double.init)
            let expected = zip(a, b).map { ($0 + $1) / (2 * cos(angle / 2)) }
            let error = zip(middle, expected).map { Swift.abs($0 - $1) }.max()!
            #expect(error < 1e-5 * norm(expected), "path \(path): error \(error)")
        }
    }

    @Test func badPathsAndStepsAreNamed() throws {
        let (_, directory) = try GANSamplerTests.trainedRun()
        defer { try? FileManager.default.removeItem(at: directory) }
        let sampler = try GANSampler(checkpoint: GANRun.checkpointURL(in: directory))
        for steps in [-1, 0, 1, 101] {
            expectError(containing: "steps along an interpolation path must be in 2...100 (both ends included), not \(steps)") {
                _ = try sampler.interpolation(paths: 2, steps: steps, seed: 1)
            }
        }
        for paths in [0, -2, 101] {
            expectError(containing: "number of interpolation paths must be in 1...100, not \(paths)") {
                _ = try sampler.interpolation(paths: paths, steps: 3, seed: 1)
            }
        }
        expectError(containing: "truncation must be positive and finite") { _ = try sampler.interpolation(paths: 1, steps: 3, seed: 1, truncation: 0) }
    }

    @Test func theCommandDrawsPathsOfPointsOrRowsOfImages() throws {
        let directory = try GANCommandTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(try GANCommandTests.gan(GANCommandTests.tiny + ["--iterations", "2", "--output", directory.path]).status == 0)
        let from = ["sample", "--from", directory.path]
        try GANCommandTests.expectRefusal(from + ["--interpolate", "1"], "must be in 2...100 (both ends included), not 1", unchanged: directory)
        try GANCommandTests.expectRefusal(from + ["--interpolate", "5", "--count", "0"], "interpolation paths must be in 1...100, not 0",
                                          unchanged: directory)
        try GANCommandTests.expectRefusal(from + ["--interpolate", "5", "--format", "png"], "--interpolate draws one picture", unchanged: directory)
        let points = try GANCommandTests.gan(from + ["--interpolate", "6", "--count", "3"])
        #expect(points.status == 0, "\(points.errors)")
        #expect(points.output.contains("3 latent arcs of 6 steps of iteration 2"))
        #expect(try Self.pngSize(directory.appendingPathComponent("interpolation.png")) == [520, 520])

        // Images: one path per row, its steps in the columns (28·3 pixels and 2 of padding each).
        var settings = GANSettings(dataset: .mnist, seed: 3)
        settings.batchSize = 4
        settings.latentSize = 10
        let images = DLArray.rand([8, 1, 28, 28], type: .float32, labels: "BCSS", seed: 4) * 2 - 1
        let trainer = try GANTrainer(settings: settings, data: GANData(images: images, as: .mnist))
        let run = try GANCommandTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: run) }
        try trainer.writeCheckpoint(to: GANRun.checkpointURL(in: run))
        let output = run.appendingPathComponent("walk.png")
        let grid = try GANCommandTests.gan(["sample", "--from", run.path, "--interpolate", "7", "--output", output.path])
        #expect(grid.status == 0, "\(grid.errors)")
        #expect(try Self.pngSize(output) == [7 * 86 + 2, 8 * 86 + 2])
    }

    /// The width and height in a PNG's header.
    static func pngSize(_ url: URL) throws -> [Int] {
        let bytes = [UInt8](try Data(contentsOf: url))
        #expect(bytes.prefix(8) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let integer = { (offset: Int) in bytes[offset ..< offset + 4].reduce(0) { $0 << 8 | Int($1) } }
        return [integer(16), integer(20)]
    }
}
