/// Putting images together: one image drawn on another, and images tiled into one.
extension RGBImage {
    /// Draws `image` with its top-left pixel at (x, y) of this image, replacing the pixels under
    /// it; the part outside this image is left out.
    public mutating func draw(_ image: RGBImage, x: Int, y: Int) {
        let (left, right) = (max(x, 0), min(x + image.width, width))
        let (top, bottom) = (max(y, 0), min(y + image.height, height))
        guard left < right, top < bottom else { return }
        let count = 3 * (right - left)
        for row in top..<bottom {
            let target = 3 * (row * width + left)
            let source = 3 * ((row - y) * image.width + left - x)
            pixels.replaceSubrange(target..<(target + count), with: image.pixels[source..<(source + count)])
        }
    }

    /// The images tiled left to right, then top to bottom, `columns` to a row (fewer when there
    /// are fewer images), `spacing` pixels of `background` apart: each column as wide as its
    /// widest image, each row as high as its highest, each image at its cell's top-left corner.
    ///
    /// ```swift
    /// let panels = try RGBImage.tiled([losses.render(), scores.render()], columns: 2)
    /// let stacked = try RGBImage.tiled([heading, panels], columns: 1)
    /// ```
    ///
    /// - Throws: ``DLError/invalidArgument(_:)`` when `images` is empty, `columns` is less than 1
    ///   or `spacing` is negative.
    public static func tiled(_ images: [RGBImage], columns: Int, spacing: Int = 0,
                             background: RGBColor = .white) throws -> RGBImage {
        guard !images.isEmpty else { throw DLError.invalidArgument("RGBImage.tiled: there are no images to tile") }
        guard columns >= 1, spacing >= 0 else {
            throw DLError.invalidArgument(
                "RGBImage.tiled: columns must be at least 1 and spacing at least 0, not columns \(columns), spacing \(spacing)")
        }
        let gridColumns = min(columns, images.count), gridRows = (images.count + gridColumns - 1) / gridColumns
        var widths = [Int](repeating: 0, count: gridColumns), heights = [Int](repeating: 0, count: gridRows)
        for (index, image) in images.enumerated() {
            widths[index % gridColumns] = max(widths[index % gridColumns], image.width)
            heights[index / gridColumns] = max(heights[index / gridColumns], image.height)
        }
        // Where each column and row starts.
        let lefts = widths.indices.map { column in widths[..<column].reduce(0, +) + column * spacing }
        let tops = heights.indices.map { row in heights[..<row].reduce(0, +) + row * spacing }
        var tiled = RGBImage(width: lefts.last! + widths.last!, height: tops.last! + heights.last!, background: background)
        for (index, image) in images.enumerated() {
            tiled.draw(image, x: lefts[index % gridColumns], y: tops[index / gridColumns])
        }
        return tiled
    }
}
