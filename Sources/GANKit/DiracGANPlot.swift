import SwiftDL

extension DiracGAN {
    /// Trains the Dirac-GAN from `start` with each of `methods` and draws the trajectories in the
    /// (θ, ψ) plane: one panel per method, two panels to a row, under a line that gives the start,
    /// the step size and the number of steps.
    ///
    /// Each panel is titled with the method and its setting and shows the path in the method's
    /// color (from `RGBColor.palette`, without red), the start as a black dot, the point reached as a dot in the path's color, and the
    /// equilibrium (0, 0) as a red cross. All panels show the same square of the plane, centered
    /// on the equilibrium, with a unit as long on both axes, so their paths can be compared.
    ///
    /// ```swift
    /// let (image, paths) = try DiracGAN.trajectoryPlot(
    ///     from: DiracGANPoint(theta: 1, psi: 1),
    ///     methods: [.simultaneousGradientDescent, .alternatingGradientDescent,
    ///               .gradientPenalty(gamma: 1), .consensusOptimization(gamma: 1)],
    ///     learnRate: 0.1, steps: 1000)
    /// try image.writePNG(to: URL(fileURLWithPath: "docs/dirac-gan.png"))
    /// ```
    ///
    /// - Parameters:
    ///   - start: the point every method starts from.
    ///   - methods: the methods to draw, one panel each.
    ///   - learnRate: the step size of every method.
    ///   - steps: the number of steps of every method.
    ///   - panelSize: the width and height of each panel, in pixels.
    /// - Returns: the image, and each method's trajectory (as ``trajectory(from:method:learnRate:steps:)``
    ///   returns it), in the order of `methods`.
    /// - Throws: `DLError.invalidArgument` when `methods` is empty, `panelSize` is less than
    ///   200, or for the arguments ``trajectory(from:method:learnRate:steps:)`` rejects.
    public static func trajectoryPlot(from start: DiracGANPoint, methods: [DiracGANMethod], learnRate: Double,
                                      steps: Int, panelSize: Int = 480) throws
        -> (image: RGBImage, trajectories: [[DiracGANPoint]]) {
        guard !methods.isEmpty else { throw DLError.invalidArgument("the Dirac-GAN plot needs at least one method") }
        guard panelSize >= 200 else {
            throw DLError.invalidArgument("the Dirac-GAN plot's panels must be at least 200 pixels, not \(panelSize)")
        }
        let trajectories = try methods.map { try trajectory(from: start, method: $0, learnRate: learnRate, steps: steps) }
        // The square of the plane every panel shows: a tenth more than the farthest finite point.
        let farthest = trajectories.joined().map { max(Swift.abs($0.theta), Swift.abs($0.psi)) }.filter(\.isFinite).max() ?? 1
        let half = 1.1 * max(farthest, 1e-3)
        // The palette without red, which marks the equilibrium.
        let colors = RGBColor.palette.filter { $0 != .red }
        let panels = zip(methods, trajectories).enumerated().map { index, pair in
            let (method, path) = pair
            var plot = ScatterPlot(title: title(of: method), xLabel: "theta (generator)", yLabel: "psi (discriminator)",
                                   xRange: -half...half, yRange: -half...half, equalAspect: true)
            let color = colors[index % colors.count]
            let points = path.map { SIMD2($0.theta, $0.psi) }
            plot.addLayer("path", points: points, color: color, style: .path(thickness: 1.5))
            plot.addLayer("after \(steps) steps", points: [points[points.count - 1]], color: color, style: .dots(radius: 4))
            plot.addLayer("start", points: [points[0]], color: .black, style: .dots(radius: 4))
            plot.addLayer("equilibrium (0, 0)", points: [[0, 0]], color: .red, style: .crosses(size: 12))
            return plot.render(width: panelSize, height: panelSize)
        }
        let grid = try RGBImage.tiled(panels, columns: 2)
        let heading = "Dirac-GAN: \(steps) steps of size \(short(learnRate)) from (theta, psi) = "
            + "(\(short(start.theta)), \(short(start.psi)))"
        var header = RGBImage(width: grid.width, height: 40)
        let headingWidth = RGBImage.textSize(of: heading, scale: 2).width
        header.drawText(heading, x: max((grid.width - headingWidth) / 2, 4), y: 16, color: .black, scale: 2)
        return (try RGBImage.tiled([header, grid], columns: 1), trajectories)
    }

    /// The method and its setting, as a panel's title.
    private static func title(of method: DiracGANMethod) -> String {
        switch method {
        case .simultaneousGradientDescent: "simultaneous gradient descent"
        case .alternatingGradientDescent: "alternating gradient descent"
        case .gradientPenalty(let gamma): "gradient penalty R1, gamma = \(short(gamma))"
        case .consensusOptimization(let gamma): "consensus optimization, gamma = \(short(gamma))"
        }
    }

    /// `value` without a fractional part when it is a whole number: 1 rather than 1.0.
    private static func short(_ value: Double) -> String {
        value.rounded() == value && Swift.abs(value) < 1e15 ? String(Int(value)) : "\(value)"
    }
}
