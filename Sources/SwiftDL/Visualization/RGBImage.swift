import Foundation

/// An image of 8-bit RGB pixels that can be drawn on and saved as a PNG file.
///
/// Pixel (x, y) is column x and row y counted from the top-left corner; it covers the square
/// from (x, y) to (x + 1, y + 1) of the image's plane, so its center is (x + 0.5, y + 0.5). The
/// drawing methods take points of that plane and clip everything to the image.
///
/// ```swift
/// var image = RGBImage(width: 64, height: 32, background: .white)
/// image.drawLine(from: [4, 28], to: [60, 4], color: .blue, thickness: 2)
/// image.drawText("hi", x: 4, y: 4, color: .black)
/// try image.writePNG(to: URL(fileURLWithPath: "hi.png"))
/// ```
public struct RGBImage: Sendable, Equatable {
    /// The number of pixel columns.
    public let width: Int
    /// The number of pixel rows.
    public let height: Int
    /// The pixels' red, green and blue values, three bytes per pixel, row by row from the top:
    /// pixel (x, y) starts at byte `3 * (y * width + x)`.
    public internal(set) var pixels: [UInt8]

    /// An image of `width` × `height` pixels of the color `background`.
    ///
    /// - Precondition: `width` and `height` are at least 1.
    public init(width: Int, height: Int, background: RGBColor = .white) {
        precondition(width >= 1 && height >= 1, "an image needs at least 1x1 pixels, not \(width)x\(height)")
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: 3 * width * height)
        if background != .black {
            for start in stride(from: 0, to: pixels.count, by: 3) {
                pixels[start] = background.red
                pixels[start + 1] = background.green
                pixels[start + 2] = background.blue
            }
        }
    }

    /// The color of pixel (x, y).
    ///
    /// - Precondition: `0 <= x < width` and `0 <= y < height`.
    public subscript(x: Int, y: Int) -> RGBColor {
        get {
            precondition(contains(x: x, y: y), "pixel (\(x), \(y)) is outside the \(width)x\(height) image")
            let start = 3 * (y * width + x)
            return RGBColor(red: pixels[start], green: pixels[start + 1], blue: pixels[start + 2])
        }
        set {
            precondition(contains(x: x, y: y), "pixel (\(x), \(y)) is outside the \(width)x\(height) image")
            let start = 3 * (y * width + x)
            pixels[start] = newValue.red
            pixels[start + 1] = newValue.green
            pixels[start + 2] = newValue.blue
        }
    }

    /// Whether pixel (x, y) is in the image.
    func contains(x: Int, y: Int) -> Bool {
        x >= 0 && x < width && y >= 0 && y < height
    }

    /// The image encoded as a PNG file: 8-bit RGB, compressed with DEFLATE.
    public func pngData() -> Data {
        Data(PNGEncoder.encode(width: width, height: height, pixels: pixels))
    }

    /// Writes the image to `url` as a PNG file, atomically (see ``writeAtomically(_:to:)``).
    ///
    /// - Throws: ``DLError/file(_:)`` when the file cannot be written.
    public func writePNG(to url: URL) throws {
        try writeAtomically(pngData(), to: url)
    }
}
