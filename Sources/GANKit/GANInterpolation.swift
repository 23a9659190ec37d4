import Foundation
import SwiftDL

// Walks through a trained generator's latent space (`gan sample --from RUN_DIR --interpolate
// K`): arcs between pairs of latent vectors, and the samples along them.
extension GANSampler {
    /// The most paths one interpolation draws.
    public static let maximumInterpolationPaths = 100
    /// The numbers of steps a path may have, both ends included.
    public static let interpolationSteps = 2...100

    /// Latent vectors along `paths` arcs of `steps` evenly spaced steps each, `[paths · steps,
    /// latentSize]` "BC" float32: path `p`'s step `s` is row `p · steps + s`. Path `p` runs from
    /// vector `2p` to vector `2p + 1` of `latentVectors(2 · paths, seed:truncation:)` and ends
    /// exactly on them, so its end samples are those of `samples(2 · paths, seed:truncation:)`.
    ///
    /// The paths are spherical: great-circle arcs (`slerp`, as White 2016 recommends for
    /// Gaussian latent vectors), because a straight line between two standard-normal vectors
    /// passes through vectors much shorter than any the generator was trained on, while an arc
    /// keeps their length. Two vectors pointing (almost) the same or opposite ways are joined by
    /// a straight line.
    /// - Throws: `DLError.invalidArgument` for `paths` outside `1...maximumInterpolationPaths`,
    ///   `steps` outside ``interpolationSteps``, and the errors of
    ///   ``latentVectors(_:seed:truncation:)``.
    public func interpolationLatents(paths: Int, steps: Int, seed: UInt64, truncation: Double? = nil) throws -> DLArray {
        guard (1...Self.maximumInterpolationPaths).contains(paths) else {
            throw DLError.invalidArgument("the number of interpolation paths must be in 1...\(Self.maximumInterpolationPaths), not \(paths)")
        }
        guard Self.interpolationSteps.contains(steps) else {
            throw DLError.invalidArgument("the steps along an interpolation path must be in \(Self.interpolationSteps) (both ends included), not \(steps)")
        }
        let size = settings.latentSize
        let ends = try latentVectors(2 * paths, seed: seed, truncation: truncation).scalars(as: Float.self)
        var values: [Float] = []
        values.reserveCapacity(paths * steps * size)
        for path in 0..<paths {
            let start = Array(ends[2 * path * size ..< (2 * path + 1) * size])
            let end = Array(ends[(2 * path + 1) * size ..< (2 * path + 2) * size])
            for step in 0..<steps {
                values += sphericalInterpolation(start, end, at: Double(step) / Double(steps - 1))
            }
        }
        return try DLArray(values, shape: [paths * steps, size], labels: "BC")
    }

    /// The generator's outputs along ``interpolationLatents(paths:steps:seed:truncation:)``:
    /// `[paths · steps, 1, side, side]` images or `[paths · steps, 2]` points. A conditional
    /// generator draws path `p` (from 0) for class `p` modulo the number of classes.
    /// - Throws: the errors of ``interpolationLatents(paths:steps:seed:truncation:)``.
    public func interpolation(paths: Int, steps: Int, seed: UInt64, truncation: Double? = nil) throws -> DLArray {
        let latents = try interpolationLatents(paths: paths, steps: steps, seed: seed, truncation: truncation)
        let classes = try classCount.map { classCount in
            try DLArray((0..<paths * steps).map { Float(($0 / steps) % classCount) }, shape: [paths * steps, 1], labels: "BC")
        }
        return try generate(latents, classes: classes)
    }

    /// Draws ``interpolation(paths:steps:seed:truncation:)`` into a PNG at `url`, atomically:
    /// for images a grid with one path per row (its ends in the first and last columns); for
    /// 2-D points each path as a line through its steps over the mixture's modes. Returns a
    /// line saying what was written.
    /// - Throws: the errors of ``interpolation(paths:steps:seed:truncation:)``; `DLError.file`
    ///   when the file cannot be written.
    @discardableResult
    public func writeInterpolation(paths: Int, steps: Int, seed: UInt64, truncation: Double? = nil, to url: URL) throws -> String {
        let outputs = try interpolation(paths: paths, steps: steps, seed: seed, truncation: truncation)
        let picture: RGBImage
        if let mixture = settings.dataset.mixture {
            let values = outputs.scalars(as: Double.self)
            let extent = mixture.modes.map { Swift.max(Swift.abs($0.x), Swift.abs($0.y)) }.max()! * 1.5
            var plot = ScatterPlot(title: "\(mixture.name): \(paths) latent arcs of \(steps) steps, iteration \(iteration)",
                                   xRange: -extent...extent, yRange: -extent...extent, equalAspect: true)
            plot.addLayer("modes", points: mixture.modes, color: .gray, style: .crosses(size: 7))
            for path in 0..<paths {
                let points = (0..<steps).map { step in
                    let row = path * steps + step
                    return SIMD2(values[2 * row], values[2 * row + 1])
                }
                let color = RGBColor.palette[path % RGBColor.palette.count]
                plot.addLayer(paths <= 8 ? "path \(path + 1)" : "", points: points, color: color, style: .path(thickness: 1.5))
                plot.addLayer("", points: points, color: color, style: .dots(radius: 2))
            }
            picture = plot.render(width: 520, height: 520)
        } else {
            picture = try imageGrid(outputs.labeled("BCSS"), columns: steps, valueRange: -1...1, padding: 2,
                                    scale: settings.imageSize == 28 ? 3 : 2)
        }
        try picture.writePNG(to: url)
        return "wrote \(url.path): \(paths) latent arcs of \(steps) steps of iteration \(iteration)"
    }
}

/// The point a fraction `t` of the way along the arc from `a` to `b` (spherical linear
/// interpolation, computed in double precision): `sin((1 − t)Ω)/sin Ω · a + sin(tΩ)/sin Ω · b`
/// with `Ω` the angle between them; `a` at `t = 0` and `b` at `t = 1` exactly. When `sin Ω` is
/// below 1e-6 (vectors along one line, or a zero vector) the straight line `(1 − t)a + tb`.
func sphericalInterpolation(_ a: [Float], _ b: [Float], at t: Double) -> [Float] {
    let (x, y) = (a.map(Double.init), b.map(Double.init))
    let dot = zip(x, y).map(*).reduce(0, +)
    let norms = (x.map { $0 * $0 }.reduce(0, +) * y.map { $0 * $0 }.reduce(0, +)).squareRoot()
    let angle = norms > 0 ? Foundation.acos(Swift.min(1, Swift.max(-1, dot / norms))) : 0
    let (u, v) = Foundation.sin(angle) < 1e-6
        ? (1 - t, t)
        : (Foundation.sin((1 - t) * angle) / Foundation.sin(angle), Foundation.sin(t * angle) / Foundation.sin(angle))
    return zip(x, y).map { Float(u * $0 + v * $1) }
}
