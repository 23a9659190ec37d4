import Foundation
import Testing
@testable import GANKit
@testable import SwiftDL

@Suite struct Mixtures2DTests {
    @Test func ringModesAreOnTheUnitCircle() {
        let ring = GaussianMixture2D.ring8
        #expect(ring.name == "ring-8" && ring.modes.count == 8 && ring.standardDeviation == 0.01)
        let half = 0.5.squareRoot()
        let expected: [SIMD2<Double>] = [[1, 0], [half, half], [0, 1], [-half, half],
                                         [-1, 0], [-half, -half], [0, -1], [half, -half]]
        for (mode, point) in zip(ring.modes, expected) {
            #expect(Swift.abs(mode.x - point.x) < 1e-15 && Swift.abs(mode.y - point.y) < 1e-15, "\(mode) vs \(point)")
        }
    }

    @Test func gridModesAreTheEvenPointsOfTheSquare() {
        let grid = GaussianMixture2D.grid25
        #expect(grid.name == "grid-25" && grid.modes.count == 25 && grid.standardDeviation == 0.05)
        #expect(grid.modes[0] == SIMD2(-4, -4) && grid.modes[1] == SIMD2(-2, -4))
        #expect(grid.modes[12] == SIMD2(0, 0) && grid.modes[24] == SIMD2(4, 4))
        let values: [Double] = [-4, -2, 0, 2, 4]
        let expected: Set<[Double]> = Set(values.flatMap { x in values.map { y in [x, y] } })
        #expect(Set(grid.modes.map { [$0.x, $0.y] }) == expected)
    }

    /// Samples split by nearest mode have about n/k points each, their mode as mean and the
    /// mixture's standard deviation along each axis.
    @Test(arguments: [(GaussianMixture2D.ring8, 20_000), (GaussianMixture2D.grid25, 25_000)])
    func samplesHaveEachModesMeanAndSpread(mixture: GaussianMixture2D, count: Int) throws {
        let samples = try mixture.sample(count: count, seed: 11)
        #expect(samples.shape == [count, 2] && samples.dataType == .float32 && samples.labels == "BC")
        let values = samples.scalars(as: Double.self)
        var groups = [[SIMD2<Double>]](repeating: [], count: mixture.modes.count)
        for row in 0..<count {
            let point = SIMD2(values[2 * row], values[2 * row + 1])
            groups[mixture.nearestMode(to: point).index].append(point)
        }
        let k = Double(mixture.modes.count), n = Double(count)
        let countTolerance = 5 * (n * (1 / k) * (1 - 1 / k)).squareRoot()
        for (index, group) in groups.enumerated() {
            #expect(Swift.abs(Double(group.count) - n / k) < countTolerance, "mode \(index): \(group.count) samples")
            let m = Double(group.count)
            let mean = group.reduce(SIMD2<Double>(0, 0), +) / m
            let variance = group.map { ($0 - mean) * ($0 - mean) }.reduce(SIMD2<Double>(0, 0), +) / (m - 1)
            let sigma = mixture.standardDeviation
            // The standard error of the mean is σ/√m; of the standard deviation about σ/√(2m).
            let meanTolerance = 5 * sigma / m.squareRoot(), spreadTolerance = 5 * sigma / (2 * m).squareRoot()
            #expect(Swift.abs(mean.x - mixture.modes[index].x) < meanTolerance
                    && Swift.abs(mean.y - mixture.modes[index].y) < meanTolerance, "mode \(index) mean \(mean)")
            #expect(Swift.abs(variance.x.squareRoot() - sigma) < spreadTolerance
                    && Swift.abs(variance.y.squareRoot() - sigma) < spreadTolerance, "mode \(index) variance \(variance)")
        }
    }

    @Test func theSeedFixesTheSamples() throws {
        let ring = GaussianMixture2D.ring8
        let first = try ring.sample(count: 100, seed: 3)
        expectSameBits(try ring.sample(count: 100, seed: 3), first, "same seed")
        #expect(try ring.sample(count: 100, seed: 4).scalars(as: Float.self) != first.scalars(as: Float.self))
        var generator = DLRandomGenerator(seed: 3)
        expectSameBits(try ring.sample(count: 100, using: &generator), first, "generator")
        // The generator moves on: the next draw is not the first one again.
        #expect(try ring.sample(count: 100, using: &generator).scalars(as: Float.self) != first.scalars(as: Float.self))
        #expect(try ring.sample(count: 0, seed: 3).shape == [0, 2])
    }

    @Test func mistakesAreErrors() {
        expectError(containing: "number of samples", "-1") { _ = try GaussianMixture2D.ring8.sample(count: -1, seed: 0) }
        expectError(containing: "at least one mode", "empty") {
            _ = try GaussianMixture2D(name: "empty", modes: [], standardDeviation: 1)
        }
        expectError(containing: "standard deviation", "positive", "0.0") {
            _ = try GaussianMixture2D(name: "flat", modes: [SIMD2(0, 0)], standardDeviation: 0)
        }
        expectError(containing: "finite points") {
            _ = try GaussianMixture2D(name: "far", modes: [SIMD2(.infinity, 0)], standardDeviation: 1)
        }
    }
}
