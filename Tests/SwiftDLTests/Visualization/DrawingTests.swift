import Testing
@testable import SwiftDL

/// The pixels of `image` equal to `color`, as (x, y) pairs in row order.
func pixels(of image: RGBImage, equalTo color: RGBColor) -> [[Int]] {
    (0..<image.height).flatMap { y in (0..<image.width).filter { image[$0, y] == color }.map { [$0, y] } }
}

@Suite struct DrawingTests {
    @Test func newImageAndSubscript() {
        var image = RGBImage(width: 3, height: 2, background: RGBColor(red: 1, green: 2, blue: 3))
        #expect(image.pixels == Array([[UInt8]](repeating: [1, 2, 3], count: 6).joined()))
        image[2, 1] = .orange
        #expect(image[2, 1] == RGBColor(red: 255, green: 127, blue: 14))
        #expect(Array(image.pixels[15..<18]) == [255, 127, 14])
        #expect(RGBImage(width: 2, height: 2, background: .black).pixels == [UInt8](repeating: 0, count: 12))
    }

    @Test func rectanglesAreClipped() {
        var image = RGBImage(width: 4, height: 3)
        image.fillRectangle(x: -2, y: 1, width: 4, height: 10, color: .black)
        #expect(pixels(of: image, equalTo: .black) == [[0, 1], [1, 1], [0, 2], [1, 2]])
        image.fillRectangle(x: 5, y: 0, width: 2, height: 2, color: .red)
        image.fillRectangle(x: 0, y: -5, width: 2, height: 2, color: .red)
        image.fillRectangle(x: 1, y: 1, width: 0, height: 2, color: .red)
        #expect(pixels(of: image, equalTo: .red).isEmpty)
    }

    /// A line through pixel centers covers exactly the pixels it passes through, with round ends
    /// reaching half its thickness past its end points.
    @Test func horizontalAndVerticalLinesCoverWholePixels() {
        var image = RGBImage(width: 12, height: 5)
        image.drawLine(from: [1.5, 1.5], to: [9.5, 1.5], color: .blue, thickness: 1)
        #expect(pixels(of: image, equalTo: .blue) == (1...9).map { [$0, 1] })
        #expect(image[0, 1] == .white && image[10, 1] == .white && image[5, 0] == .white && image[5, 2] == .white)
        var thick = RGBImage(width: 5, height: 8)
        thick.drawLine(from: [2.5, 0], to: [2.5, 8], color: .green, thickness: 3)
        #expect(pixels(of: thick, equalTo: .green) == (0..<8).flatMap { y in (1...3).map { [$0, y] } })
    }

    /// An edge pixel half covered gets half the color: a thickness-2 line through pixel centers
    /// covers its neighbors' centers at distance 1 by one half.
    @Test func edgesAreAntialiased() {
        var image = RGBImage(width: 6, height: 3, background: .white)
        image.drawLine(from: [0.5, 1.5], to: [5.5, 1.5], color: .black, thickness: 2)
        #expect(image[3, 1] == .black)
        #expect(image[3, 0] == RGBColor(gray: 128) && image[3, 2] == RGBColor(gray: 128))
    }

    @Test func linesOutsideOrNotFiniteDrawNothing() {
        var image = RGBImage(width: 10, height: 10)
        image.drawLine(from: [-100, -5], to: [100, -5], color: .black)
        image.drawLine(from: [.nan, 2], to: [5, 5], color: .black)
        image.drawLine(from: [1, 2], to: [.infinity, 5], color: .black)
        image.drawLine(from: [1, 2], to: [5, 5], color: .black, thickness: 0)
        #expect(image == RGBImage(width: 10, height: 10))
        // A line from far outside is clipped, and its visible part is still drawn.
        image.drawLine(from: [-1e300, 4.5], to: [1e300, 4.5], color: .black)
        #expect(pixels(of: image, equalTo: .black) == (0..<10).map { [$0, 4] })
    }

    @Test func discsAndCrosses() {
        var image = RGBImage(width: 21, height: 21)
        image.fillCircle(center: [10.5, 10.5], radius: 4, color: .red)
        let red = pixels(of: image, equalTo: .red)
        // Full color where the center is at least half a pixel inside the circle.
        let inside = (0..<21).flatMap { y in (0..<21).map { [$0, y] } }.filter { p in
            let (dx, dy) = (Double(p[0]) - 10, Double(p[1]) - 10)
            return (dx * dx + dy * dy).squareRoot() <= 3.5
        }
        #expect(red == inside)
        #expect(image[10, 5] == .white && image[15, 10] == .white)

        var cross = RGBImage(width: 11, height: 11)
        cross.drawCross(center: [5.5, 5.5], size: 9, color: .blue, thickness: 1)
        for k in 2...8 {
            #expect(cross[k, k] == .blue && cross[k, 10 - k] == .blue, "diagonal pixel \(k)")
        }
        #expect(cross[5, 2] == .white && cross[2, 5] == .white)
    }

    @Test func polylinesBreakAtNonFinitePoints() {
        var image = RGBImage(width: 20, height: 3)
        image.drawPolyline([[0.5, 1.5], [5.5, 1.5], [.nan, 1.5], [14.5, 1.5], [19.5, 1.5]], color: .black, thickness: 1)
        #expect(pixels(of: image, equalTo: .black) == ((0...5).map { [$0, 1] } + (14...19).map { [$0, 1] }))
        // A finite point between two non-finite ones is a dot.
        var dot = RGBImage(width: 5, height: 5)
        dot.drawPolyline([[.nan, 0], [2.5, 2.5], [1, .infinity]], color: .black, thickness: 2)
        #expect(dot[2, 2] == .black)
    }

    @Test func textUsesTheBitmapFont() {
        #expect(RGBImage.textSize(of: "ab", scale: 2) == (22, 18))
        #expect(RGBImage.textSize(of: "", scale: 1) == (0, 9))
        var one = RGBImage(width: 5, height: 9)
        one.drawText("1", x: 0, y: 0, color: .black)
        // The glyph of 1: ..#.. / .##.. / ..#.. x4 / .###.
        let expected: [[Int]] = [[2, 0], [1, 1], [2, 1], [2, 2], [2, 3], [2, 4], [2, 5], [1, 6], [2, 6], [3, 6]]
        #expect(pixels(of: one, equalTo: .black) == expected)
        // Scale 2 makes each font pixel a 2x2 square.
        var big = RGBImage(width: 10, height: 18)
        big.drawText("1", x: 0, y: 0, color: .black, scale: 2)
        let squares: [[Int]] = expected.flatMap { (p: [Int]) -> [[Int]] in
            let (x, y) = (2 * p[0], 2 * p[1])
            return [[x, y], [x + 1, y], [x, y + 1], [x + 1, y + 1]]
        }
        let rowOrder = { (a: [Int], b: [Int]) -> Bool in (a[1], a[0]) < (b[1], b[0]) }
        #expect(pixels(of: big, equalTo: .black) == squares.sorted(by: rowOrder))
        // Turned upward, the top of the glyph faces left: row 0 of "1" becomes column 0, read upward.
        var turned = RGBImage(width: 9, height: 5)
        turned.drawText("1", x: 0, y: 0, color: .black, scale: 1, upward: true)
        let turnedExpected: [[Int]] = expected.map { (p: [Int]) -> [[Int]] in [[p[1], 4 - p[0]]] }.flatMap { $0 }
        #expect(pixels(of: turned, equalTo: .black) == turnedExpected.sorted(by: rowOrder))
        // Characters outside printable ASCII are drawn as a question mark.
        var other = RGBImage(width: 11, height: 9), question = RGBImage(width: 11, height: 9)
        other.drawText("θ~", x: 0, y: 0, color: .black)
        question.drawText("?~", x: 0, y: 0, color: .black)
        #expect(other == question && other != RGBImage(width: 11, height: 9))
    }

    @Test func imagesDrawnOnImagesAreClipped() {
        let patch = RGBImage(width: 3, height: 2, background: .red)
        var image = RGBImage(width: 4, height: 4)
        image.draw(patch, x: 2, y: -1)
        #expect(pixels(of: image, equalTo: .red) == [[2, 0], [3, 0]])
        image.draw(patch, x: 10, y: 0)
        image.draw(patch, x: -3, y: 0)
        #expect(pixels(of: image, equalTo: .red).count == 2)
    }

    @Test func tiledImages() throws {
        let a = RGBImage(width: 3, height: 2, background: .red)
        let b = RGBImage(width: 2, height: 4, background: .blue)
        let c = RGBImage(width: 1, height: 1, background: .green)
        let tiled = try RGBImage.tiled([a, b, c], columns: 2, spacing: 1, background: .black)
        // Columns 3 and 2 wide, rows 4 and 1 high, 1 apart.
        #expect((tiled.width, tiled.height) == (6, 6))
        #expect(pixels(of: tiled, equalTo: .red) == (0..<2).flatMap { y in (0..<3).map { [$0, y] } })
        #expect(pixels(of: tiled, equalTo: .blue) == (0..<4).flatMap { y in (4..<6).map { [$0, y] } })
        #expect(pixels(of: tiled, equalTo: .green) == [[0, 5]])
        #expect(tiled[3, 0] == .black && tiled[0, 2] == .black && tiled[0, 4] == .black && tiled[5, 5] == .black)
        // Stacked: one column as wide as the widest image.
        let stacked = try RGBImage.tiled([a, b], columns: 1)
        #expect((stacked.width, stacked.height) == (3, 6) && stacked[0, 2] == .blue && stacked[2, 2] == .white)
        #expect(try RGBImage.tiled([a, b], columns: 5) == RGBImage.tiled([a, b], columns: 2))
        expectError(containing: "no images") { _ = try RGBImage.tiled([], columns: 2) }
        expectError(containing: "columns must be at least 1", "not columns 0") { _ = try RGBImage.tiled([a], columns: 0) }
    }
}
