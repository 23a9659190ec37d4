/// The images of a batch tiled into one image: left to right, then top to bottom, with
/// `padding` gray pixels between the images and around them.
///
/// Each value is clamped to `valueRange` and mapped linearly to 0...255 (rounded to nearest),
/// the range's lower end to black and upper end to white; NaN is drawn as the lower end.
///
/// ```swift
/// let samples = try generator.predict(noise)                     // [64, 1, 28, 28] "BCSS"
/// try imageGrid(samples, columns: 8).writePNG(to: URL(fileURLWithPath: "samples.png"))
/// ```
///
/// - Parameters:
///   - images: `float32` or `float64` images of shape [N, C, H, W] (N images of C channels of H
///     rows by W columns, row-major) labeled `"BCSS"` or unlabeled, with C = 1 (gray) or 3 (red,
///     green, blue).
///   - columns: the number of images per row of the grid (at most N are used).
///   - valueRange: the values drawn black and white: `-1...1` for a generator ending in tanh,
///     `0...1` for MNIST's images.
///   - padding: the gray pixels between and around the images.
///   - scale: each pixel of an image becomes a square of `scale` × `scale` pixels.
/// - Throws: ``DLError/invalidArgument(_:)`` for images that are not of rank 4, not labeled
///   `"BCSS"`, empty, with a channel count other than 1 or 3, a `columns` or `scale` below 1, a
///   negative `padding`, or a `valueRange` that is empty or not finite;
///   ``DLError/unsupportedType(_:)`` for an element type other than `float32` and `float64`.
public func imageGrid(_ images: DLArray, columns: Int, valueRange: ClosedRange<Double> = -1...1,
                      padding: Int = 2, scale: Int = 1) throws -> RGBImage {
    let shape = images.shape
    guard shape.count == 4 else {
        throw DLError.invalidArgument(
            "imageGrid: the images must have 4 dimensions [N, C, H, W] labeled \"BCSS\", not shape \(shape)")
    }
    guard images.labels == "BCSS" || images.labels.isEmpty else {
        throw DLError.invalidArgument(
            "imageGrid: the images must be labeled \"BCSS\" (batch, channel, height, width) or unlabeled, not \"\(images.labels)\"")
    }
    guard images.dataType == .float32 || images.dataType == .float64 else {
        throw DLError.unsupportedType("imageGrid: the images must be float32 or float64, not \(images.dataType)")
    }
    let (count, channels, height, width) = (shape[0], shape[1], shape[2], shape[3])
    guard channels == 1 || channels == 3 else {
        throw DLError.invalidArgument(
            "imageGrid: the images must have 1 channel (gray) or 3 (red, green, blue), not \(channels) (shape \(shape))")
    }
    guard count > 0, height > 0, width > 0 else {
        throw DLError.invalidArgument("imageGrid: there are no pixels to draw in images of shape \(shape)")
    }
    guard columns >= 1, scale >= 1, padding >= 0 else {
        throw DLError.invalidArgument(
            "imageGrid: columns and scale must be at least 1 and padding at least 0, not columns \(columns), scale \(scale), padding \(padding)")
    }
    let (low, high) = (valueRange.lowerBound, valueRange.upperBound)
    guard low < high, low.isFinite, high.isFinite else {
        throw DLError.invalidArgument("imageGrid: the value range must be finite and not empty, not \(valueRange)")
    }

    let gridColumns = min(columns, count)
    let gridRows = (count + gridColumns - 1) / gridColumns
    let cellWidth = width * scale, cellHeight = height * scale
    var grid = RGBImage(width: gridColumns * (cellWidth + padding) + padding,
                        height: gridRows * (cellHeight + padding) + padding, background: .gray)
    let values = images.scalars(as: Double.self)
    let levels = values.map { value -> UInt8 in
        guard value > low else { return 0 }   // also NaN
        return value >= high ? 255 : UInt8(((value - low) / (high - low) * 255).rounded())
    }
    let plane = height * width
    for image in 0..<count {
        let left = padding + (image % gridColumns) * (cellWidth + padding)
        let top = padding + (image / gridColumns) * (cellHeight + padding)
        for y in 0..<height {
            for x in 0..<width {
                let first = image * channels * plane + y * width + x
                let color = channels == 1
                    ? RGBColor(gray: levels[first])
                    : RGBColor(red: levels[first], green: levels[first + plane], blue: levels[first + 2 * plane])
                grid.fillRectangle(x: left + x * scale, y: top + y * scale, width: scale, height: scale, color: color)
            }
        }
    }
    return grid
}
