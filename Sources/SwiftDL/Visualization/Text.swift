/// Drawing text with the built-in bitmap font (printable ASCII; other characters are drawn as
/// a question mark).
extension RGBImage {
    /// The size in pixels of `text` drawn at `scale`: 6 × `scale` per character but the last,
    /// which takes 5 × `scale`, by 9 × `scale` (7 × `scale` for capitals and digits, 2 × `scale`
    /// below them for descenders).
    public static func textSize(of text: String, scale: Int = 1) -> (width: Int, height: Int) {
        let count = text.unicodeScalars.count
        let width = count == 0 ? 0 : ((count - 1) * BitmapFont.advance + BitmapFont.glyphWidth) * scale
        return (width, BitmapFont.rowCount * scale)
    }

    /// Draws `text` in one line with its top-left corner at pixel (x, y), each pixel of the font
    /// a square of `scale` × `scale` pixels; the part outside the image is left out.
    public mutating func drawText(_ text: String, x: Int, y: Int, color: RGBColor, scale: Int = 1) {
        drawText(text, x: x, y: y, color: color, scale: scale, upward: false)
    }

    /// Draws `text` as ``drawText(_:x:y:color:scale:)`` does, or, when `upward`, turned a
    /// quarter turn counterclockwise so that it reads from the bottom up (as a vertical axis's
    /// label); (x, y) is then the top-left corner of the turned text.
    mutating func drawText(_ text: String, x: Int, y: Int, color: RGBColor, scale: Int, upward: Bool) {
        let length = Self.textSize(of: text, scale: scale).width
        for (index, scalar) in text.unicodeScalars.enumerated() {
            for (row, bits) in BitmapFont.rows(of: scalar).enumerated() where bits != 0 {
                for column in 0..<BitmapFont.glyphWidth where bits & (0x10 >> column) != 0 {
                    let along = (index * BitmapFont.advance + column) * scale, across = row * scale
                    if upward {
                        fillRectangle(x: x + across, y: y + length - along - scale, width: scale, height: scale, color: color)
                    } else {
                        fillRectangle(x: x + along, y: y + across, width: scale, height: scale, color: color)
                    }
                }
            }
        }
    }
}
