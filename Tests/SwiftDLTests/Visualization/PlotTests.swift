import Foundation
import Testing
@testable import SwiftDL

/// The pixel that holds the point of the area's plane at fractions (fx, fy) of its width and
/// height, measured from the bottom-left corner as a plot's values are.
private func pixel(_ area: (left: Int, top: Int, width: Int, height: Int), _ fx: Double, _ fy: Double) -> (Int, Int) {
    (area.left + Int((fx * Double(area.width)).rounded(.down)), area.top + Int(((1 - fy) * Double(area.height)).rounded(.down)))
}

@Suite struct PlotTests {
    @Test func linePlotDrawsSeriesWhereTheirValuesAre() throws {
        var plot = LinePlot(title: "levels", xLabel: "x", yLabel: "y", yRange: 0...10)
        plot.lineThickness = 3
        try plot.addSeries("flat", x: [0, 10], y: [5, 5], color: .red)
        try plot.addSeries("rising", x: [0, 10], y: [0, 10], color: .blue)
        let image = plot.render(width: 640, height: 480)
        #expect((image.width, image.height) == (640, 480))
        let area = try plotArea(of: image)
        // The x axis spans the data exactly, the y axis the fixed range 0...10.
        for fx in [0.1, 0.7, 0.9] {
            let (x, y) = pixel(area, fx, 0.5)
            #expect(image[x, y] == .red, "flat at x = \(10 * fx)")
        }
        for fx in [0.2, 0.3, 0.8] {
            let (x, y) = pixel(area, fx, fx)
            #expect(image[x, y] == .blue, "rising at x = \(10 * fx)")
        }
        for (fx, fy) in [(0.3, 0.6), (0.6, 0.3)] {
            let (x, y) = pixel(area, fx, fy)
            #expect(image[x, y] != .red && image[x, y] != .blue, "nothing at (\(fx), \(fy))")
        }
        #expect(area.width > 500 && area.height > 350, "\(area)")
    }

    @Test func nonFiniteValuesAreLeftOut() throws {
        var plot = LinePlot()
        plot.lineThickness = 3
        try plot.addSeries("broken", x: [0, 1, 2, 3, 4, 5, 6], y: [1, 2, .nan, 4, .infinity, 6, -.infinity], color: .red)
        let image = plot.render(width: 400, height: 300)
        let area = try plotArea(of: image)
        // x spans the points with both values finite, 0...5; y their values 1...6 with 5% margins.
        func at(_ x: Double, _ y: Double) -> RGBColor {
            let (px, py) = pixel(area, x / 5, (y - 0.75) / 5.5)
            return image[px, py]
        }
        #expect(at(0.5, 1.5) == .red)       // on the segment from (0, 1) to (1, 2)
        #expect(at(3, 4) == .red)           // the point between two left-out ones, a dot
        #expect(at(2, 3) != .red)           // no segment across the NaN
        #expect(at(4, 5) != .red)           // nor across the infinity
    }

    @Test func equalValuesStillGetARange() throws {
        var plot = LinePlot()
        plot.lineThickness = 3
        try plot.addSeries("constant", x: [0, 1, 2], y: [3, 3, 3], color: .red)
        let image = plot.render(width: 400, height: 300)
        let area = try plotArea(of: image)
        let (x, y) = pixel(area, 0.5, 0.5)
        #expect(image[x, y] == .red)
        // A plot of nothing finite, or of no series, renders its frame.
        var empty = LinePlot(title: "nothing")
        _ = try plotArea(of: empty.render(width: 300, height: 200))
        try empty.addSeries("nan", x: [0, 1], y: [.nan, .nan])
        _ = try plotArea(of: empty.render(width: 300, height: 200))
        expectError(containing: "2 x values but 1 y values") { try empty.addSeries("short", x: [0, 1], y: [2]) }
    }

    /// A value that diverges far past a fixed range still draws its visible part.
    @Test func divergingValueIsClippedToTheFixedRange() throws {
        var plot = LinePlot(yRange: 0...4)
        plot.lineThickness = 3
        try plot.addSeries("diverging", x: [0, 1, 2], y: [1, 2, 1e300], color: .red)
        let image = plot.render(width: 400, height: 300)
        let area = try plotArea(of: image)
        // From (1, 2) the line goes straight up, out of the plot area.
        let (x, y) = pixel(area, 0.5, 3.5 / 4)
        #expect(image[x, y] == .red)
    }

    @Test func scatterPlotDrawsLayersWhereTheirPointsAre() throws {
        var plot = ScatterPlot(title: "points", xLabel: "x", yLabel: "y", xRange: 0...10, yRange: 0...10)
        plot.addLayer("dots", points: [[2.5, 5]], color: .green, style: .dots(radius: 4))
        plot.addLayer("crosses", points: [[7.5, 5]], color: .red, style: .crosses(size: 12))
        plot.addLayer("path", points: [[2, 2], [8, 2]], color: .purple, style: .path(thickness: 3))
        plot.addLayer("not finite", points: [[.nan, 1], [5, .infinity]], color: .blue)
        let image = plot.render(width: 500, height: 400)
        let area = try plotArea(of: image)
        let dot = pixel(area, 0.25, 0.5), path = pixel(area, 0.5, 0.2), cross = pixel(area, 0.75, 0.5)
        #expect(image[dot.0, dot.1] == .green)
        #expect(image[path.0, path.1] == .purple)
        // The cross's two strokes meet at its center.
        #expect((-1...1).contains { dx in (-1...1).contains { dy in image[cross.0 + dx, cross.1 + dy] == .red } })
        let below = pixel(area, 0.75, 0.4), empty = pixel(area, 0.5, 0.5)
        #expect(image[below.0, below.1] != .red && image[empty.0, empty.1] != .green)
    }

    /// With equal aspect a unit is as long on both axes: in a wide plot of -1...1 by -1...1 the
    /// vertical range stays, the horizontal one widens, and (1, 0) lands half the area's height
    /// right of its center.
    @Test func equalAspectMakesUnitsEqual() throws {
        var plot = ScatterPlot(xRange: -1...1, yRange: -1...1, equalAspect: true)
        plot.addLayer("", points: [[1, 0]], color: .green, style: .dots(radius: 3))
        plot.addLayer("", points: [[0, -0.5]], color: .blue, style: .dots(radius: 3))
        let image = plot.render(width: 600, height: 300)
        let area = try plotArea(of: image)
        let center = (Double(area.left) + Double(area.width) / 2, Double(area.top) + Double(area.height) / 2)
        let unit = Double(area.height) / 2
        #expect(image[Int(center.0 + unit), Int(center.1)] == .green)
        #expect(image[Int(center.0), Int(center.1 + unit / 2)] == .blue)
        // Nameless layers make no legend: nothing but the dots and grid is drawn in the area.
        let colors = Set((area.top..<(area.top + area.height)).flatMap { y in (area.left..<(area.left + area.width)).map { image[$0, y] } })
        #expect(colors.allSatisfy { $0 == .white || $0 == .lightGray || $0.blue > $0.red || $0.green > $0.red })
    }

    @Test func niceTicksAndLabels() {
        let plain = PlotAxis(values: [0, 9.7], fixed: nil, margin: 0, maxTickCount: 6)
        #expect(plain.range == 0...9.7)
        #expect(plain.ticks == [0, 2, 4, 6, 8] && plain.labels == ["0", "2", "4", "6", "8"])
        let small = PlotAxis(values: [0.001, 0.0042], fixed: nil, margin: 0, maxTickCount: 5)
        #expect(small.labels == ["0.001", "0.002", "0.003", "0.004"])
        let negative = PlotAxis(values: [-2.5, 2.5], fixed: nil, margin: 0, maxTickCount: 7)
        #expect(negative.labels == ["-2", "-1", "0", "1", "2"])
        let large = PlotAxis(values: [0, 3e7], fixed: nil, margin: 0, maxTickCount: 4)
        #expect(large.labels == ["0", "1e7", "2e7", "3e7"])
        let tiny = PlotAxis(values: [0, 3e-5], fixed: nil, margin: 0, maxTickCount: 7)
        #expect(tiny.labels == ["0", "5e-6", "1e-5", "1.5e-5", "2e-5", "2.5e-5", "3e-5"])
        // Equal values, zeros, no finite values, a margin.
        #expect(PlotAxis(values: [3, 3, .nan], fixed: nil, margin: 0.05, maxTickCount: 5).range == 2.7...3.3)
        #expect(PlotAxis(values: [0, 0], fixed: nil, margin: 0.05, maxTickCount: 5).range == -1...1)
        #expect(PlotAxis(values: [.nan, .infinity], fixed: nil, margin: 0.05, maxTickCount: 5).range == -0.05...1.05)
        #expect(PlotAxis(values: [5], fixed: 2...2, margin: 0.05, maxTickCount: 5).range == 1.8...2.2)
        #expect(PlotAxis(values: [0, 10], fixed: nil, margin: 0.1, maxTickCount: 5).range == -1...11)
    }

    /// Plots compress well and read back exactly. Set `SWIFTDL_PNG_SAMPLES` to a folder to also
    /// write them there, for `scripts/check_png.py`.
    @Test func plotImagesRoundTripAndAreSmall() throws {
        let images: [(String, RGBImage, Int)] = [
            ("line-plot", try PlotSamples.losses().render(width: 640, height: 480), 80_000),
            ("scatter-plot", PlotSamples.ring().render(width: 520, height: 480), 40_000),
            ("panels", try RGBImage.tiled([try PlotSamples.losses().render(width: 480, height: 360),
                                           PlotSamples.ring().render(width: 400, height: 360)], columns: 2), 100_000),
            ("white", RGBImage(width: 640, height: 480), 5_000),
            // Noise is stored: the rows with their filter bytes, 5 bytes of stored-block header, the zlib
            // header and checksum, the signature and three chunks.
            ("noise", randomImage(width: 64, height: 48, seed: 8), 48 * (64 * 3 + 1) + 5 + 6 + 8 + 3 * 12 + 13 + 1),
        ]
        let folder = ProcessInfo.processInfo.environment["SWIFTDL_PNG_SAMPLES"].map { URL(fileURLWithPath: $0) }
        for (name, image, maxSize) in images {
            let data = image.pngData()
            #expect(data.count < maxSize, "\(name): \(data.count) bytes")
            #expect(try PNGReader([UInt8](data)).pixels == image.pixels, "\(name)")
            if let folder { try image.writePNG(to: folder.appendingPathComponent(name + ".png")) }
        }
    }
}
