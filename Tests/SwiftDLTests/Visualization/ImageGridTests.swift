import Testing
@testable import SwiftDL

@Suite struct ImageGridTests {
    /// Two gray images of 2 rows by 3 columns: values clamped to 0...1 and mapped to 0...255,
    /// the second image to the right of the first, 1 gray pixel between and around them.
    @Test func grayImagesLandAtKnownPixels() throws {
        let values: [Float] = [0, 0.5, 1, -1, 2, .nan,
                               0.25, 0.75, 0.1, 0.2, 0.3, 0.4]
        let images = try DLArray(values, shape: [2, 1, 2, 3], labels: "BCSS")
        let grid = try imageGrid(images, columns: 2, valueRange: 0...1, padding: 1)
        #expect((grid.width, grid.height) == (9, 4))
        let levels: [UInt8] = [0, 128, 255, 0, 255, 0, 64, 191, 26, 51, 77, 102]
        for image in 0..<2 {
            for y in 0..<2 {
                for x in 0..<3 {
                    #expect(grid[1 + image * 4 + x, 1 + y] == RGBColor(gray: levels[image * 6 + y * 3 + x]),
                            "image \(image) pixel (\(x), \(y))")
                }
            }
        }
        for (x, y) in [(0, 0), (4, 1), (8, 2), (3, 3)] { #expect(grid[x, y] == .gray, "padding at (\(x), \(y))") }
    }

    /// Three channels are red, green and blue; scale 2 makes each pixel a 2x2 square.
    @Test func colorImagesAndScale() throws {
        // One image of 2 rows by 1 column: red [-1, 1], green [0, 1], blue [1, -1].
        let image = try DLArray([-1.0, 1, 0, 1, 1, -1], shape: [1, 3, 2, 1], labels: "BCSS")
        let grid = try imageGrid(image, columns: 4, padding: 0, scale: 2)
        #expect((grid.width, grid.height) == (2, 4))
        for (x, y) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
            #expect(grid[x, y] == RGBColor(red: 0, green: 128, blue: 255))
            #expect(grid[x, y + 2] == RGBColor(red: 255, green: 255, blue: 0))
        }
    }

    /// Five images in two columns make three rows, the last cell left gray; more columns than
    /// images make one row; unlabeled arrays are read as [N, C, H, W].
    @Test func incompleteRowsAndFewImages() throws {
        let five = try DLArray([0, 0.25, 0.5, 0.75, 1] as [Double], shape: [5, 1, 1, 1])
        let grid = try imageGrid(five, columns: 2, valueRange: 0...1, padding: 1)
        #expect((grid.width, grid.height) == (5, 7))
        let expected: [UInt8] = [0, 64, 128, 191, 255]
        for k in 0..<5 { #expect(grid[1 + k % 2 * 2, 1 + k / 2 * 2] == RGBColor(gray: expected[k]), "image \(k)") }
        #expect(grid[3, 5] == .gray)
        let row = try imageGrid(five, columns: 10, valueRange: 0...1, padding: 1)
        #expect((row.width, row.height) == (11, 3))
    }

    @Test func badInputsHaveSpecificMessages() throws {
        let good = DLArray.zeros([2, 1, 3, 3], labels: "BCSS")
        #expect(errorMessage(DLError.invalidArgument) { _ = try imageGrid(DLArray.zeros([2, 3, 4]), columns: 2) }
                .contains("4 dimensions [N, C, H, W] labeled \"BCSS\", not shape [2, 3, 4]"))
        #expect(errorMessage(DLError.invalidArgument) {
            _ = try imageGrid(try DLArray([Double](repeating: 0, count: 4), shape: [1, 1, 2, 2], labels: "UUUU"), columns: 2)
        }.contains("labeled \"BCSS\" (batch, channel, height, width) or unlabeled, not \"UUUU\""))
        #expect(errorMessage(DLError.invalidArgument) { _ = try imageGrid(DLArray.zeros([2, 2, 3, 3], labels: "BCSS"), columns: 2) }
                .contains("1 channel (gray) or 3 (red, green, blue), not 2"))
        #expect(errorMessage(DLError.unsupportedType) {
            _ = try imageGrid(try DLArray([true, false, true, false], shape: [1, 1, 2, 2]), columns: 2)
        }.contains("float32 or float64, not bool"))
        #expect(errorMessage(DLError.invalidArgument) { _ = try imageGrid(DLArray.zeros([0, 1, 3, 3]), columns: 2) }
                .contains("no pixels to draw in images of shape [0, 1, 3, 3]"))
        #expect(errorMessage(DLError.invalidArgument) { _ = try imageGrid(good, columns: 0) }
                .contains("not columns 0, scale 1, padding 2"))
        #expect(errorMessage(DLError.invalidArgument) { _ = try imageGrid(good, columns: 2, scale: 0) }.contains("scale 0"))
        #expect(errorMessage(DLError.invalidArgument) { _ = try imageGrid(good, columns: 2, padding: -1) }.contains("padding -1"))
        #expect(errorMessage(DLError.invalidArgument) { _ = try imageGrid(good, columns: 2, valueRange: 1...1) }
                .contains("finite and not empty, not 1.0...1.0"))
        #expect(errorMessage(DLError.invalidArgument) { _ = try imageGrid(good, columns: 2, valueRange: 0...Double.infinity) }
                .contains("finite and not empty"))
    }
}
