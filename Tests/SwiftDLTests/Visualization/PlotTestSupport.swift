import Foundation
import Testing
@testable import SwiftDL

/// The plot area of a rendered plot, found from its frame: the two columns and two rows of dark
/// gray that run a third of the image or more. The area is the inside of the frame.
func plotArea(of image: RGBImage) throws -> (left: Int, top: Int, width: Int, height: Int) {
    let columns = (0..<image.width).filter { x in (0..<image.height).count { image[x, $0] == .darkGray } >= image.height / 3 }
    let rows = (0..<image.height).filter { y in (0..<image.width).count { image[$0, y] == .darkGray } >= image.width / 3 }
    try #require(columns.count == 2 && rows.count == 2, "frame columns \(columns), rows \(rows)")
    return (columns[0] + 1, rows[0] + 1, columns[1] - columns[0] - 1, rows[1] - rows[0] - 1)
}

/// Plots like the ones a GAN's training writes, for the tests and for looking at.
enum PlotSamples {
    /// Losses of two players over 2000 iterations, one of them diverging to infinity and NaN
    /// at the end.
    static func losses() throws -> LinePlot {
        let iterations = (0..<2000).map(Double.init)
        let generator = iterations.map { 0.7 + 0.5 * exp(-$0 / 400) + 0.08 * sin($0 / 15) }
        let discriminator = iterations.map { k in k > 1950 ? (k > 1980 ? Double.nan : .infinity) : 1.3 - 0.4 * exp(-k / 300) + 0.05 * cos(k / 9) }
        var plot = LinePlot(title: "GAN losses", xLabel: "iteration", yLabel: "loss")
        try plot.addSeries("generator", x: iterations, y: generator)
        try plot.addSeries("discriminator", x: iterations, y: discriminator)
        return plot
    }

    /// Samples of a generator around the eight modes of a ring of Gaussians (the modes marked
    /// with crosses), seven of the modes covered.
    static func ring() -> ScatterPlot {
        var generator = DLRandomGenerator(seed: 4)
        let modes = (0..<8).map { k -> SIMD2<Double> in
            let angle = Double(k) * Double.pi / 4
            return SIMD2(2 * cos(angle), 2 * sin(angle))
        }
        let samples = (0..<1000).map { k -> SIMD2<Double> in
            let noise = SIMD2(generator.nextNormal(), generator.nextNormal())
            return modes[k % 7] + 0.1 * noise
        }
        var plot = ScatterPlot(title: "generated samples, 7 of 8 modes", xLabel: "x1", yLabel: "x2", equalAspect: true)
        plot.addLayer("generated", points: samples, style: .dots(radius: 1.5))
        plot.addLayer("modes", points: modes, color: .red, style: .crosses(size: 10))
        return plot
    }
}
