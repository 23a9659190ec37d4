import Foundation
import Testing
@testable import SwiftDL

/// An image of random pixels.
func randomImage(width: Int, height: Int, seed: UInt64) -> RGBImage {
    var generator = DLRandomGenerator(seed: seed)
    var image = RGBImage(width: width, height: height)
    for y in 0..<height {
        for x in 0..<width {
            image[x, y] = RGBColor(red: .random(in: 0...255, using: &generator), green: .random(in: 0...255, using: &generator),
                                   blue: .random(in: 0...255, using: &generator))
        }
    }
    return image
}

/// An image whose pixels are `value(x, y)` in all three channels.
private func patternImage(width: Int, height: Int, _ value: (Int, Int) -> Int) -> RGBImage {
    var image = RGBImage(width: width, height: height)
    for y in 0..<height {
        for x in 0..<width { image[x, y] = RGBColor(gray: UInt8(truncatingIfNeeded: value(x, y))) }
    }
    return image
}

@Suite struct PNGTests {
    @Test func headerAndChunks() throws {
        let image = RGBImage(width: 300, height: 7, background: .orange)
        let file = [UInt8](image.pngData())
        #expect(file.prefix(8) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        // IHDR first: length 13, then width 300 = 0x12C and height 7, big-endian.
        #expect(Array(file[8..<33]) == [0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0x01, 0x2C, 0, 0, 0, 7, 8, 2, 0, 0, 0]
                + Array(file[29..<33]))
        // The file ends with the empty IEND chunk and its CRC AE 42 60 82.
        #expect(Array(file.suffix(12)) == [0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82])
        let png = try PNGReader(file)
        #expect(png.chunkTypes == ["IHDR", "IDAT", "IEND"])
        #expect((png.width, png.height, png.bitDepth, png.colorType) == (300, 7, 8, 2))
        #expect((png.compressionMethod, png.filterMethod, png.interlaceMethod) == (0, 0, 0))
        #expect(png.pixels == image.pixels)
    }

    @Test(arguments: [(1, 1), (2, 3), (97, 31), (640, 480)])
    func randomImagesRoundTrip(width: Int, height: Int) throws {
        let image = randomImage(width: width, height: height, seed: UInt64(width * 1000 + height))
        let png = try PNGReader([UInt8](image.pngData()))
        #expect((png.width, png.height) == (width, height))
        #expect(png.pixels == image.pixels)
    }

    /// Each filter wins where it predicts exactly: Up under identical rows, Sub along constant
    /// rows, Paeth along constant diagonals (the pixel above-left), None on the first row of noise.
    @Test func rowFiltersAreChosenByTheirOutput() throws {
        let columnsPattern = patternImage(width: 40, height: 6) { x, _ in x * 37 }
        // Sub leaves the first pixel (1 or 129, |-127|), Paeth its change from above (128).
        let rowsPattern = patternImage(width: 40, height: 6) { _, y in y % 2 == 0 ? 1 : 129 }
        let diagonals = patternImage(width: 40, height: 6) { x, y in (x - y) * 37 + 512 }
        let white = RGBImage(width: 640, height: 480)
        let cases: [(RGBImage, [UInt8])] = [
            (columnsPattern, [1] + [UInt8](repeating: 2, count: 5)),
            (rowsPattern, [UInt8](repeating: 1, count: 6)),
            (diagonals, [1] + [UInt8](repeating: 4, count: 5)),
            (randomImage(width: 64, height: 1, seed: 9), [0]),
            // Row 0 of white: Sub and Paeth leave only the first pixel; Sub comes first.
            (white, [1] + [UInt8](repeating: 2, count: 479)),
        ]
        for (image, filters) in cases {
            let png = try PNGReader([UInt8](image.pngData()))
            #expect(png.rowFilters == filters)
            #expect(png.pixels == image.pixels)
        }
    }

    @Test func whiteImageIsSmallAndNoiseIsStored() throws {
        let white = RGBImage(width: 640, height: 480).pngData()
        #expect(white.count < 5000, "\(white.count) bytes")
        let noise = randomImage(width: 320, height: 240, seed: 1)
        let png = try PNGReader([UInt8](noise.pngData()))
        // Stored: the first block's type bits are 00, and the stream is hardly larger than the rows.
        #expect(png.zlibStream[2] >> 1 & 3 == 0)
        #expect(png.zlibStream.count < 241 * 961 + 2000, "\(png.zlibStream.count)")
    }

    @Test func writesAtomicallyToAFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swiftdl-png-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let image = randomImage(width: 5, height: 4, seed: 2)
        let url = folder.appendingPathComponent("image.png")
        try image.writePNG(to: url)
        #expect(try Data(contentsOf: url) == image.pngData())
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["image.png"])
        expectError(containing: "does not exist") {
            try image.writePNG(to: folder.appendingPathComponent("missing/image.png"))
        }
    }
}
