import Foundation
import SwiftDL

/// A mixture of equally weighted isotropic Gaussians in the plane: the standard 2-D data of GAN
/// mode-collapse studies (VEEGAN, PacGAN), with ``ring8`` and ``grid25`` as the usual cases.
public struct GaussianMixture2D: Sendable, Equatable {
    /// A short name for the mixture, as used on the command line and in logs (`ring-8`, `grid-25`).
    public let name: String
    /// The means of the components (the modes).
    public let modes: [SIMD2<Double>]
    /// The standard deviation of each component along each axis.
    public let standardDeviation: Double

    /// A mixture of `modes`, each an isotropic Gaussian of standard deviation `standardDeviation`.
    ///
    /// - Throws: `DLError.invalidArgument` when there are no modes, a mode is not finite, or
    ///   the standard deviation is not positive and finite.
    public init(name: String, modes: [SIMD2<Double>], standardDeviation: Double) throws {
        guard !modes.isEmpty else {
            throw DLError.invalidArgument("a Gaussian mixture needs at least one mode; \(name) has none")
        }
        guard modes.allSatisfy({ $0.x.isFinite && $0.y.isFinite }) else {
            throw DLError.invalidArgument("the modes of Gaussian mixture \(name) must be finite points")
        }
        guard standardDeviation > 0, standardDeviation.isFinite else {
            throw DLError.invalidArgument(
                "the standard deviation of Gaussian mixture \(name) must be positive and finite, not \(standardDeviation)")
        }
        self.name = name
        self.modes = modes
        self.standardDeviation = standardDeviation
    }

    /// ring-8: 8 Gaussians of standard deviation 0.01 evenly spaced on the unit circle, at angles
    /// 2πk/8 for k = 0…7.
    public static let ring8 = try! GaussianMixture2D(
        name: "ring-8",
        modes: (0..<8).map { k in
            let angle = 2 * Double.pi * Double(k) / 8
            return SIMD2(Foundation.cos(angle), Foundation.sin(angle))
        },
        standardDeviation: 0.01)

    /// grid-25: 25 Gaussians of standard deviation 0.05 at the points of {-4, -2, 0, 2, 4}²,
    /// listed row by row (x varies fastest).
    public static let grid25 = try! GaussianMixture2D(
        name: "grid-25",
        modes: [-4.0, -2, 0, 2, 4].flatMap { y in [-4.0, -2, 0, 2, 4].map { x in SIMD2(x, y) } },
        standardDeviation: 0.05)

    /// `count` points drawn from the mixture: each picks a mode uniformly at random, then adds
    /// Gaussian noise of the mixture's standard deviation to each coordinate.
    ///
    /// - Returns: a `float32` array of shape `[count, 2]` labeled `"BC"` (a point per row).
    /// - Throws: `DLError.invalidArgument` when `count` is negative.
    public func sample(count: Int, using generator: inout DLRandomGenerator) throws -> DLArray {
        guard count >= 0 else {
            throw DLError.invalidArgument("the number of samples must be at least 0, not \(count)")
        }
        var points: [Float] = []
        points.reserveCapacity(2 * count)
        for _ in 0..<count {
            let mode = modes[Swift.min(Int(generator.nextUniform() * Double(modes.count)), modes.count - 1)]
            points.append(Float(mode.x + standardDeviation * generator.nextNormal()))
            points.append(Float(mode.y + standardDeviation * generator.nextNormal()))
        }
        return try DLArray(points, shape: [count, 2], labels: "BC")
    }

    /// `count` points drawn from the mixture with a generator seeded with `seed` (see
    /// ``sample(count:using:)``): the same seed gives the same points.
    public func sample(count: Int, seed: UInt64) throws -> DLArray {
        var generator = DLRandomGenerator(seed: seed)
        return try sample(count: count, using: &generator)
    }
}
