import Foundation
import Testing
@testable import GANKit
@testable import SwiftDL

@Suite struct ModeMetricsTests {
    let ring = GaussianMixture2D.ring8
    let grid = GaussianMixture2D.grid25

    func points(_ rows: [[Double]]) throws -> DLArray { try DLArray(rows: rows) }

    @Test func samplesNearEveryModeCaptureAll() throws {
        // Each mode exactly, and each mode moved 0.029 (< 3σ = 0.03) along x.
        let rows = ring.modes.flatMap { [[$0.x, $0.y], [$0.x + 0.029, $0.y]] }
        let coverage = try ring.modeCoverage(of: points(rows))
        #expect(coverage == ModeCoverage(modesCaptured: 8, modeCount: 8, highQualityCount: 16, sampleCount: 16,
                                         highQualityCountsByMode: [2, 2, 2, 2, 2, 2, 2, 2]))
        #expect(coverage.highQualityPercent == 100)
    }

    @Test func someModesAndOffModeSamples() throws {
        let m = ring.modes
        let rows: [[Double]] = [
            [m[0].x, m[0].y], [m[3].x, m[3].y], [m[3].x, m[3].y - 0.02], [m[5].x + 0.01, m[5].y + 0.01],
            [0, 0],                      // the centre: 1 from every mode
            [m[1].x + 0.031, m[1].y],    // just beyond 3σ of mode 1: does not capture it
            [2, 0],                      // nearest mode 0, far away
            [.nan, 0],                   // never high quality
        ]
        let coverage = try ring.modeCoverage(of: points(rows))
        #expect(coverage.modesCaptured == 3 && coverage.modeCount == 8)
        #expect(coverage.highQualityCountsByMode == [1, 0, 0, 2, 0, 1, 0, 0])
        #expect(coverage.highQualityCount == 4 && coverage.sampleCount == 8)
        #expect(coverage.highQualityFraction == 0.5 && coverage.highQualityPercent == 50)
    }

    @Test func gridBoundaryAndMidpoints() throws {
        // 0.1·√2 ≈ 0.1414 ≤ 0.15 is high quality; 0.11·√2 ≈ 0.1556 is not; (1, 1) is 1.41 from
        // four modes; (-4.125, 4) is 2.5σ from the corner (-4, 4).
        let rows: [[Double]] = [[2.1, 2.1], [-1.89, -1.89], [1, 1], [-4.125, 4]]
        let coverage = try grid.modeCoverage(of: points(rows))
        #expect(coverage.modesCaptured == 2 && coverage.highQualityCount == 2)
        #expect(coverage.highQualityCountsByMode[18] == 1 && coverage.highQualityCountsByMode[20] == 1)
        #expect(Swift.abs(coverage.highQualityPercent - 50) < 1e-12)
    }

    /// Real samples of the mixture: every mode captured, and the fraction within 3σ of a
    /// 2-D Gaussian, 1 − e^(−9/2) ≈ 98.89% (a Rayleigh distance), high quality.
    @Test(arguments: [GaussianMixture2D.ring8, GaussianMixture2D.grid25])
    func theMixturesOwnSamples(mixture: GaussianMixture2D) throws {
        let coverage = try mixture.modeCoverage(of: mixture.sample(count: 20_000, seed: 5))
        #expect(coverage.modesCaptured == mixture.modes.count)
        let expected = 1 - exp(-4.5), standardError = (expected * (1 - expected) / 20_000).squareRoot()
        #expect(Swift.abs(coverage.highQualityFraction - expected) < 5 * standardError, "\(coverage.highQualityFraction)")
    }

    @Test func collapsedSamplesCaptureOneMode() throws {
        // All samples at one mode: 1 of 8 captured, all high quality (the "GAN 1 / 99.3%" row).
        let m = ring.modes[6]
        let coverage = try ring.modeCoverage(of: points(Array(repeating: [m.x, m.y], count: 50)))
        #expect(coverage.modesCaptured == 1 && coverage.highQualityCountsByMode[6] == 50 && coverage.highQualityPercent == 100)
    }

    @Test func mistakesAreErrors() throws {
        expectError(containing: "[n, 2]", "[4, 3]") {
            _ = try ring.modeCoverage(of: DLArray.zeros([4, 3]))
        }
        expectError(containing: "[n, 2]", "[2]") { _ = try ring.modeCoverage(of: DLArray([1.0, 2.0])) }
        expectError(containing: "at least one sample") { _ = try ring.modeCoverage(of: DLArray.zeros([0, 2])) }
        expectError(containing: "real floating-point") {
            _ = try ring.modeCoverage(of: DLArray.zeros([3, 2], type: .complex64))
        }
    }
}
