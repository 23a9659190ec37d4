/// A plot of points in the plane, such as 2-D samples over the modes of the data: layers of
/// points drawn as dots, crosses or a connected path, with a title, axes with "nice" ticks,
/// labels and grid lines, and a legend.
///
/// Points with a non-finite coordinate are left out.
///
/// ```swift
/// var plot = ScatterPlot(title: "samples", xRange: -3...3, yRange: -3...3)
/// plot.equalAspect = true
/// plot.addLayer("generated", points: samples, color: .blue)
/// plot.addLayer("modes", points: modes, color: .red, style: .crosses(size: 12))
/// try plot.render(width: 480, height: 480).writePNG(to: URL(fileURLWithPath: "samples.png"))
/// ```
public struct ScatterPlot: Sendable {
    /// How the points of a layer are drawn.
    public enum Style: Sendable, Equatable {
        /// A filled disc of this radius (in pixels at text scale 1) at each point.
        case dots(radius: Double)
        /// A cross shaped like the letter x, this many pixels (at text scale 1) wide, at each point.
        case crosses(size: Double)
        /// A line through the points in order, this many pixels (at text scale 1) thick.
        case path(thickness: Double)
    }

    /// One set of points of a plot.
    public struct Layer: Sendable {
        /// The name shown in the legend; an empty name leaves the layer out of the legend.
        public let name: String
        /// The points.
        public let points: [SIMD2<Double>]
        /// The color the points are drawn in.
        public let color: RGBColor
        /// How the points are drawn.
        public let style: Style
    }

    /// The title above the plot; empty for none.
    public var title: String
    /// The label under the horizontal axis; empty for none.
    public var xLabel: String
    /// The label beside the vertical axis; empty for none.
    public var yLabel: String
    /// The values the horizontal axis shows, or nil to fit it to the points with a margin of 5%.
    public var xRange: ClosedRange<Double>?
    /// The values the vertical axis shows, or nil to fit it to the points with a margin of 5%.
    public var yRange: ClosedRange<Double>?
    /// Whether a unit is as long on both axes (circles look round); the ranges are widened to
    /// make it so.
    public var equalAspect: Bool
    /// The layers, drawn in this order (later ones on top).
    public private(set) var layers: [Layer] = []

    /// An empty plot with the given title, axis labels and ranges.
    public init(title: String = "", xLabel: String = "", yLabel: String = "", xRange: ClosedRange<Double>? = nil,
                yRange: ClosedRange<Double>? = nil, equalAspect: Bool = false) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.xRange = xRange
        self.yRange = yRange
        self.equalAspect = equalAspect
    }

    /// Adds a layer of points drawn in `style` in the given color or, when nil, in the next color
    /// of ``RGBColor/palette``.
    public mutating func addLayer(_ name: String, points: [SIMD2<Double>], color: RGBColor? = nil,
                                  style: Style = .dots(radius: 2)) {
        let color = color ?? RGBColor.palette[layers.count % RGBColor.palette.count]
        layers.append(Layer(name: name, points: points, color: color, style: style))
    }

    /// The plot as an image of `width` × `height` pixels; the legend sits in the corner of the
    /// plot area with the fewest points under it.
    ///
    /// - Precondition: `width` and `height` are at least 1 (a plot needs about 200 × 150 to be
    ///   readable).
    public func render(width: Int = 640, height: Int = 480) -> RGBImage {
        let finite = layers.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
        var canvas = PlotCanvas(width: width, height: height, title: title, xLabel: xLabel, yLabel: yLabel,
                                xValues: finite.map(\.x), yValues: finite.map(\.y), xRange: xRange, yRange: yRange,
                                xMargin: 0.05, yMargin: 0.05, equalAspect: equalAspect)
        let scale = Double(canvas.textScale)
        let placed = layers.map { layer in
            layer.points.map { $0.x.isFinite && $0.y.isFinite ? canvas.areaPoint(x: $0.x, y: $0.y) : SIMD2(.nan, .nan) }
        }
        canvas.drawInArea { area in
            for (points, layer) in zip(placed, layers) {
                switch layer.style {
                case .dots(let radius):
                    for point in points { area.fillCircle(center: point, radius: radius * scale, color: layer.color) }
                case .crosses(let size):
                    for point in points where point.x.isFinite {
                        area.drawCross(center: point, size: size * scale, color: layer.color, thickness: 2 * scale)
                    }
                case .path(let thickness):
                    area.drawPolyline(points, color: layer.color, thickness: thickness * scale)
                }
            }
        }
        let entries = layers.filter { !$0.name.isEmpty }.map { layer -> LegendEntry in
            let symbol: LegendEntry.Symbol = switch layer.style {
            case .dots(let radius): .dot(radius: radius * scale)
            case .crosses(let size): .cross(size: size * scale, thickness: 2 * scale)
            case .path(let thickness): .line(thickness: thickness * scale)
            }
            return LegendEntry(name: layer.name, color: layer.color, symbol: symbol)
        }
        canvas.drawLegend(entries, avoiding: placed.flatMap { $0 })
        return canvas.image
    }
}
