import SwiftDL

/// How well 2-D samples cover a ``GaussianMixture2D``, by the definitions of VEEGAN and PacGAN: a
/// sample is high quality when it lies within 3 standard deviations of its nearest mode, and a
/// mode is captured when it is the nearest mode of at least one high-quality sample.
public struct ModeCoverage: Sendable, Equatable {
    /// The number of modes captured.
    public let modesCaptured: Int
    /// The number of modes of the mixture.
    public let modeCount: Int
    /// The number of high-quality samples.
    public let highQualityCount: Int
    /// The number of samples measured.
    public let sampleCount: Int
    /// For each mode, the number of high-quality samples whose nearest mode it is.
    public let highQualityCountsByMode: [Int]

    /// The fraction of samples that are high quality, from 0 to 1.
    public var highQualityFraction: Double { Double(highQualityCount) / Double(sampleCount) }

    /// The percentage of samples that are high quality, from 0 to 100.
    public var highQualityPercent: Double { 100 * highQualityFraction }
}

extension GaussianMixture2D {
    /// The index of the mode nearest to `point` (the first one on a tie) and its distance.
    public func nearestMode(to point: SIMD2<Double>) -> (index: Int, distance: Double) {
        var best = (index: 0, distance: Double.infinity)
        for (index, mode) in modes.enumerated() {
            let difference = point - mode
            let distance = (difference * difference).sum().squareRoot()
            if distance < best.distance { best = (index, distance) }
        }
        return best
    }

    /// The modes captured and the high-quality samples among `samples` (see ``ModeCoverage``).
    ///
    /// A sample counts as high quality when its distance to its nearest mode is at most 3
    /// standard deviations; a sample with a NaN or infinite coordinate never does.
    ///
    /// - Parameter samples: real points, one per row: shape `[n, 2]` with n ≥ 1 (labels ignored).
    /// - Throws: `DLError.shapeMismatch` when `samples` is not of shape `[n, 2]`,
    ///   `DLError.invalidArgument` when there are no samples, and
    ///   `DLError.unsupportedType` when they are not real floating-point numbers.
    public func modeCoverage(of samples: DLArray) throws -> ModeCoverage {
        guard samples.dataType.isFloatingPoint, !samples.dataType.isComplex else {
            throw DLError.unsupportedType("mode coverage needs real floating-point samples, not \(samples.dataType)")
        }
        guard samples.rank == 2, samples.shape[1] == 2 else {
            throw DLError.shapeMismatch("mode coverage needs 2-D points of shape [n, 2], one per row; got shape \(samples.shape)")
        }
        guard samples.shape[0] > 0 else {
            throw DLError.invalidArgument("mode coverage needs at least one sample; got none")
        }
        let values = samples.scalars(as: Double.self)
        let threshold = 3 * standardDeviation
        var counts = [Int](repeating: 0, count: modes.count)
        for row in 0..<samples.shape[0] {
            let point = SIMD2(values[2 * row], values[2 * row + 1])
            let (index, distance) = nearestMode(to: point)
            if distance <= threshold { counts[index] += 1 }
        }
        return ModeCoverage(
            modesCaptured: counts.filter { $0 > 0 }.count, modeCount: modes.count,
            highQualityCount: counts.reduce(0, +), sampleCount: samples.shape[0],
            highQualityCountsByMode: counts)
    }
}
