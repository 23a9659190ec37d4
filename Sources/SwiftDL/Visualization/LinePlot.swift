/// A plot of series of (x, y) values drawn as lines, such as losses and scores over iterations:
/// a title, axes with "nice" ticks, labels and grid lines, and a legend.
///
/// Non-finite values are left out (a diverging loss breaks its line there, it does not break
/// the plot); without a fixed ``yRange``, the vertical axis shows all finite values.
///
/// ```swift
/// var plot = LinePlot(title: "GAN losses", xLabel: "iteration", yLabel: "loss")
/// try plot.addSeries("generator", x: iterations, y: generatorLosses)
/// try plot.addSeries("discriminator", x: iterations, y: discriminatorLosses)
/// try plot.render(width: 640, height: 480).writePNG(to: URL(fileURLWithPath: "losses.png"))
/// ```
public struct LinePlot: Sendable {
    /// One line of a plot.
    public struct Series: Sendable {
        /// The name shown in the legend.
        public let name: String
        /// The horizontal positions of the points, in drawing order.
        public let x: [Double]
        /// The vertical positions of the points, one per horizontal position.
        public let y: [Double]
        /// The color of the line.
        public let color: RGBColor
    }

    /// The title above the plot; empty for none.
    public var title: String
    /// The label under the horizontal axis; empty for none.
    public var xLabel: String
    /// The label beside the vertical axis; empty for none.
    public var yLabel: String
    /// The values the vertical axis shows, or nil to fit it to the data with a margin of 5% of
    /// their range above and below.
    public var yRange: ClosedRange<Double>?
    /// The thickness of the lines, in pixels at text scale 1 (the scale grows with the image).
    public var lineThickness: Double = 2
    /// The series, drawn in this order (later ones on top).
    public private(set) var series: [Series] = []

    /// An empty plot with the given title, axis labels and vertical range.
    public init(title: String = "", xLabel: String = "", yLabel: String = "", yRange: ClosedRange<Double>? = nil) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.yRange = yRange
    }

    /// Adds a series of points (x[k], y[k]), drawn as a line in the given color or, when nil, in
    /// the next color of ``RGBColor/palette``.
    ///
    /// - Throws: ``DLError/invalidArgument(_:)`` when `x` and `y` differ in length.
    public mutating func addSeries(_ name: String, x: [Double], y: [Double], color: RGBColor? = nil) throws {
        guard x.count == y.count else {
            throw DLError.invalidArgument(
                "LinePlot.addSeries: series \"\(name)\" has \(x.count) x values but \(y.count) y values; it needs one y per x")
        }
        let color = color ?? RGBColor.palette[series.count % RGBColor.palette.count]
        series.append(Series(name: name, x: x, y: y, color: color))
    }

    /// The plot as an image of `width` × `height` pixels. The horizontal axis spans the series'
    /// finite x values exactly; the legend sits in the corner of the plot area with the fewest
    /// points under it.
    ///
    /// - Precondition: `width` and `height` are at least 1 (a plot needs about 200 × 150 to be
    ///   readable).
    public func render(width: Int = 640, height: Int = 480) -> RGBImage {
        let visible = series.map { series in
            zip(series.x, series.y).filter { $0.0.isFinite && $0.1.isFinite }
        }
        var canvas = PlotCanvas(width: width, height: height, title: title, xLabel: xLabel, yLabel: yLabel,
                                xValues: visible.flatMap { $0.map(\.0) }, yValues: visible.flatMap { $0.map(\.1) },
                                xRange: nil, yRange: yRange, xMargin: 0, yMargin: 0.05, equalAspect: false)
        let thickness = lineThickness * Double(canvas.textScale)
        let paths = series.map { series in
            zip(series.x, series.y).map { x, y in
                x.isFinite && y.isFinite ? canvas.areaPoint(x: x, y: y) : SIMD2(.nan, .nan)
            }
        }
        canvas.drawInArea { area in
            for (path, series) in zip(paths, series) {
                area.drawPolyline(path, color: series.color, thickness: thickness)
            }
        }
        canvas.drawLegend(series.map { LegendEntry(name: $0.name, color: $0.color, symbol: .line(thickness: thickness)) },
                          avoiding: paths.flatMap { Self.samples(along: $0, every: 4) })
        return canvas.image
    }

    /// Points along the finite segments of `path`, at most `spacing` pixels apart.
    private static func samples(along path: [SIMD2<Double>], every spacing: Double) -> [SIMD2<Double>] {
        var samples = path.filter { $0.x.isFinite && $0.y.isFinite }
        for (a, b) in zip(path, path.dropFirst()) where a.x.isFinite && a.y.isFinite && b.x.isFinite && b.y.isFinite {
            let length = ((b - a) * (b - a)).sum().squareRoot()
            let steps = Int(min(length / spacing, 10_000))  // a segment to a far-away point overflows to infinity
            for k in stride(from: 1, to: steps, by: 1) { samples.append(a + (b - a) * (Double(k) / Double(steps))) }
        }
        return samples
    }
}
