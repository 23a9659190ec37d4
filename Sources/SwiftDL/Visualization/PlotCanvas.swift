/// The part of a plot's image that line and scatter plots share: the layout, the title, the
/// axes with ticks, tick labels, grid lines and axis labels, the plot area that the data is drawn
/// in (clipped to it), and the legend.
struct PlotCanvas {
    /// The image drawn so far.
    private(set) var image: RGBImage
    /// The horizontal and vertical axes.
    private(set) var xAxis, yAxis: PlotAxis
    /// The plot area's top-left pixel and size.
    private(set) var area: (x: Int, y: Int, width: Int, height: Int) = (0, 0, 1, 1)
    /// The size of a font pixel: 1 up to 640 × 480 pixels, larger for larger images.
    let textScale: Int
    /// The size of the title's font pixels: twice the text's, or the text's for a title too wide
    /// for the image at that size.
    private let titleScale: Int

    private let title: String, xLabel: String, yLabel: String

    /// The length of a tick mark, and the gap between a tick mark and its label, at text scale 1.
    private static let tickLength = 5, tickGap = 3

    /// Lays out a plot of `width` × `height` pixels whose axes show the given values or fixed
    /// ranges, widened by `margin` (a fraction of the data's extent, see ``PlotAxis``). With
    /// `equalAspect`, the axes' ranges are widened so that a unit is as long on both axes.
    init(width: Int, height: Int, title: String, xLabel: String, yLabel: String,
         xValues: [Double], yValues: [Double], xRange: ClosedRange<Double>?, yRange: ClosedRange<Double>?,
         xMargin: Double, yMargin: Double, equalAspect: Bool) {
        image = RGBImage(width: width, height: height, background: .white)
        textScale = max(1, min(width / 640, height / 480))
        (self.title, self.xLabel, self.yLabel) = (title, xLabel, yLabel)
        titleScale = RGBImage.textSize(of: title, scale: 2 * textScale).width <= width - 8 * textScale
            ? 2 * textScale : textScale
        let approximateArea = (width: max(width - 100 * textScale, 1), height: max(height - 80 * textScale, 1))
        xAxis = PlotAxis(values: xValues, fixed: xRange, margin: xMargin,
                         maxTickCount: Self.ticksThatFit(approximateArea.width, spacing: 60, scale: textScale))
        yAxis = PlotAxis(values: yValues, fixed: yRange, margin: yMargin,
                         maxTickCount: Self.ticksThatFit(approximateArea.height, spacing: 50, scale: textScale))
        layOut()
        if equalAspect {
            // Widening the ranges can change the tick labels' widths and so the plot area: a few
            // rounds settle it.
            let (xBase, yBase) = (xAxis.range, yAxis.range)
            for _ in 0..<3 {
                let unitsPerPixel = max((xBase.upperBound - xBase.lowerBound) / Double(area.width),
                                        (yBase.upperBound - yBase.lowerBound) / Double(area.height))
                xAxis = PlotAxis(values: [], fixed: widened(xBase, to: unitsPerPixel * Double(area.width)), margin: 0,
                                 maxTickCount: Self.ticksThatFit(area.width, spacing: 60, scale: textScale))
                yAxis = PlotAxis(values: [], fixed: widened(yBase, to: unitsPerPixel * Double(area.height)), margin: 0,
                                 maxTickCount: Self.ticksThatFit(area.height, spacing: 50, scale: textScale))
                let previous = area
                layOut()
                if area == previous { break }
            }
        }
        drawAxes()
    }

    /// The number of ticks that fit along `length` pixels about `spacing` pixels (at text
    /// scale `scale`) apart.
    private static func ticksThatFit(_ length: Int, spacing: Int, scale: Int) -> Int {
        max(2, length / (spacing * scale) + 1)
    }

    /// `range` widened about its middle to `length`, if it is shorter.
    private func widened(_ range: ClosedRange<Double>, to length: Double) -> ClosedRange<Double> {
        let middle = (range.lowerBound + range.upperBound) / 2
        let half = max(length, range.upperBound - range.lowerBound) / 2
        return (middle - half)...(middle + half)
    }

    /// Sets the plot area from the sizes of the title, labels and tick labels.
    private mutating func layOut() {
        let s = textScale
        let capital = BitmapFont.capitalHeight * s, line = BitmapFont.rowCount * s
        let yTickWidth = yAxis.labels.map { RGBImage.textSize(of: $0, scale: s).width }.max() ?? 0
        let lastXTickWidth = xAxis.labels.last.map { RGBImage.textSize(of: $0, scale: s).width } ?? 0
        let top = 12 * s + (title.isEmpty ? 0 : BitmapFont.capitalHeight * titleScale + 12 * s)
        let left = 10 * s + (yLabel.isEmpty ? 0 : line + 8 * s) + yTickWidth + (Self.tickLength + Self.tickGap) * s
        let bottom = (Self.tickLength + Self.tickGap) * s + capital + (xLabel.isEmpty ? 0 : 10 * s + line) + 10 * s
        let right = max(16 * s, lastXTickWidth / 2 + 6 * s)
        area = (left, top, max(image.width - left - right, 1), max(image.height - top - bottom, 1))
    }

    /// The point of the plot area's own plane (its top-left corner at (0, 0)) where the data
    /// point (x, y) goes; values outside the axes' ranges land outside the area.
    func areaPoint(x: Double, y: Double) -> SIMD2<Double> {
        SIMD2(xAxis.fraction(of: x) * Double(area.width), (1 - yAxis.fraction(of: y)) * Double(area.height))
    }

    /// Draws the title, the grid lines, the frame, the ticks and the labels.
    private mutating func drawAxes() {
        let s = textScale
        let capital = BitmapFont.capitalHeight * s
        let gridColumns = xAxis.ticks.map { Int(areaPoint(x: $0, y: 0).x.rounded(.down)) }
        let gridRows = yAxis.ticks.map { Int(areaPoint(x: 0, y: $0).y.rounded(.down)) }
        for column in gridColumns where column > 0 && column < area.width - 1 {
            image.fillRectangle(x: area.x + column, y: area.y, width: s, height: area.height, color: .lightGray)
        }
        for row in gridRows where row > 0 && row < area.height - 1 {
            image.fillRectangle(x: area.x, y: area.y + row, width: area.width, height: s, color: .lightGray)
        }
        // The frame, just outside the plot area.
        image.fillRectangle(x: area.x - s, y: area.y - s, width: area.width + 2 * s, height: s, color: .darkGray)
        image.fillRectangle(x: area.x - s, y: area.y + area.height, width: area.width + 2 * s, height: s, color: .darkGray)
        image.fillRectangle(x: area.x - s, y: area.y, width: s, height: area.height, color: .darkGray)
        image.fillRectangle(x: area.x + area.width, y: area.y, width: s, height: area.height, color: .darkGray)

        let tickLength = Self.tickLength * s, labelGap = (Self.tickLength + Self.tickGap) * s
        for (column, label) in zip(gridColumns, xAxis.labels) {
            let x = area.x + column
            image.fillRectangle(x: x, y: area.y + area.height + s, width: s, height: tickLength, color: .darkGray)
            let labelWidth = RGBImage.textSize(of: label, scale: s).width
            image.drawText(label, x: x - labelWidth / 2, y: area.y + area.height + labelGap, color: .darkGray, scale: s)
        }
        for (row, label) in zip(gridRows, yAxis.labels) {
            let y = area.y + row
            image.fillRectangle(x: area.x - s - tickLength, y: y, width: tickLength, height: s, color: .darkGray)
            let labelWidth = RGBImage.textSize(of: label, scale: s).width
            image.drawText(label, x: area.x - labelGap - labelWidth, y: y - capital / 2, color: .darkGray, scale: s)
        }
        if !title.isEmpty {
            let titleWidth = RGBImage.textSize(of: title, scale: titleScale).width
            let x = min(max(area.x + (area.width - titleWidth) / 2, 4 * s), max(image.width - titleWidth - 4 * s, 4 * s))
            image.drawText(title, x: x, y: 12 * s, color: .black, scale: titleScale)
        }
        if !xLabel.isEmpty {
            let labelWidth = RGBImage.textSize(of: xLabel, scale: s).width
            let x = max(area.x + (area.width - labelWidth) / 2, 4 * s)
            image.drawText(xLabel, x: x, y: area.y + area.height + labelGap + capital + 10 * s, color: .black, scale: s)
        }
        if !yLabel.isEmpty {
            let labelLength = RGBImage.textSize(of: yLabel, scale: s).width
            let y = max(area.y + (area.height - labelLength) / 2, 4 * s)
            image.drawText(yLabel, x: 10 * s, y: y, color: .black, scale: s, upward: true)
        }
    }

    /// Draws on the plot area with `draw`, which gets an image of the area's size (white with the
    /// grid lines) and the area's plane for coordinates; what falls outside the area is clipped.
    mutating func drawInArea(_ draw: (inout RGBImage) -> Void) {
        var content = RGBImage(width: area.width, height: area.height)
        content.draw(image, x: -area.x, y: -area.y)
        draw(&content)
        image.draw(content, x: area.x, y: area.y)
    }

    /// Draws a legend of `entries` in the corner of the plot area that covers the fewest of
    /// `points` (points of the area's plane): top right, top left, bottom right or bottom left,
    /// the first on a tie.
    mutating func drawLegend(_ entries: [LegendEntry], avoiding points: [SIMD2<Double>]) {
        guard !entries.isEmpty else { return }
        let s = textScale
        let padding = 6 * s, rowHeight = 14 * s, sampleWidth = 22 * s
        let textWidth = entries.map { RGBImage.textSize(of: $0.name, scale: s).width }.max() ?? 0
        let width = padding + sampleWidth + padding + textWidth + padding
        let height = padding + rowHeight * entries.count - (rowHeight - BitmapFont.capitalHeight * s) + padding
        let inset = 8 * s
        let corners = [
            (area.width - width - inset, inset), (inset, inset),
            (area.width - width - inset, area.height - height - inset), (inset, area.height - height - inset),
        ]
        let covered = corners.map { corner in
            points.count { p in
                p.x >= Double(corner.0 - padding) && p.x < Double(corner.0 + width + padding)
                    && p.y >= Double(corner.1 - padding) && p.y < Double(corner.1 + height + padding)
            }
        }
        let best = corners[covered.firstIndex(of: covered.min()!)!]
        let (left, top) = (area.x + best.0, area.y + best.1)
        image.fillRectangle(x: left, y: top, width: width, height: height, color: .lightGray)
        image.fillRectangle(x: left + s, y: top + s, width: width - 2 * s, height: height - 2 * s, color: .white)
        for (index, entry) in entries.enumerated() {
            let rowTop = top + padding + index * rowHeight
            let middle = SIMD2(Double(left + padding + sampleWidth / 2), Double(rowTop) + Double(BitmapFont.capitalHeight * s) / 2)
            let scaled = Double(s)
            switch entry.symbol {
            case .line(let thickness):
                image.drawLine(from: middle - [Double(sampleWidth) / 2 - scaled, 0], to: middle + [Double(sampleWidth) / 2 - scaled, 0],
                               color: entry.color, thickness: thickness)
            case .dot(let radius):
                image.fillCircle(center: middle, radius: max(radius, 2.5 * scaled), color: entry.color)
            case .cross(let size, let thickness):
                image.drawCross(center: middle, size: min(size, 10 * scaled), color: entry.color, thickness: thickness)
            }
            image.drawText(entry.name, x: left + 2 * padding + sampleWidth, y: rowTop, color: .black, scale: s)
        }
    }
}

/// A row of a plot's legend: a sample of how a series or layer is drawn, and its name.
struct LegendEntry {
    /// How the sample is drawn.
    enum Symbol {
        case line(thickness: Double)
        case dot(radius: Double)
        case cross(size: Double, thickness: Double)
    }

    let name: String
    let color: RGBColor
    let symbol: Symbol
}
