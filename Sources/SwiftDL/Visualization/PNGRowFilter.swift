/// PNG's per-row filters (ISO/IEC 15948, 9.2), which turn each byte into its difference from a
/// prediction so that smooth or repeated pixels become runs of small numbers that compress well.
enum PNGRowFilter: UInt8, CaseIterable {
    /// The bytes as they are.
    case none = 0
    /// The difference from the byte of the pixel to the left.
    case sub = 1
    /// The difference from the byte of the pixel above.
    case up = 2
    /// The difference from the Paeth predictor: whichever of left, above and above-left is
    /// closest to left + above − above-left.
    case paeth = 4

    /// The rows of `pixels` (`width` pixels of `bytesPerPixel` bytes per row, row by row), each
    /// preceded by the type of the filter applied to it, chosen per row as the filter whose output
    /// has the smallest sum of absolute values (its bytes read as signed), the heuristic the PNG
    /// specification recommends.
    static func filtered(_ pixels: [UInt8], width: Int, height: Int, bytesPerPixel: Int) -> [UInt8] {
        let rowLength = width * bytesPerPixel
        var output = [UInt8](repeating: 0, count: height * (rowLength + 1))
        // The filters' outputs for the current row, one after another, in the order of allCases.
        var candidates = [UInt8](repeating: 0, count: allCases.count * rowLength)
        let zeroRow = [UInt8](repeating: 0, count: rowLength)
        pixels.withUnsafeBufferPointer { pixels in
            zeroRow.withUnsafeBufferPointer { zeroRow in
                output.withUnsafeMutableBufferPointer { output in
                    candidates.withUnsafeMutableBufferPointer { candidates in
                        let none = candidates.baseAddress!, sub = none + rowLength
                        let up = sub + rowLength, paeth = up + rowLength
                        for y in 0..<height {
                            let row = pixels.baseAddress! + y * rowLength
                            let above = y == 0 ? zeroRow.baseAddress! : row - rowLength
                            var sums = (none: 0, sub: 0, up: 0, paeth: 0)
                            for i in 0..<rowLength {
                                let x = row[i], b = above[i]
                                let a = i >= bytesPerPixel ? row[i - bytesPerPixel] : 0
                                let c = i >= bytesPerPixel ? above[i - bytesPerPixel] : 0
                                let filtered = (x, x &- a, x &- b, x &- predictPaeth(a, b, c))
                                none[i] = filtered.0
                                sub[i] = filtered.1
                                up[i] = filtered.2
                                paeth[i] = filtered.3
                                sums.none &+= magnitude(filtered.0)
                                sums.sub &+= magnitude(filtered.1)
                                sums.up &+= magnitude(filtered.2)
                                sums.paeth &+= magnitude(filtered.3)
                            }
                            let choices = [(Self.none, sums.none), (.sub, sums.sub), (.up, sums.up), (.paeth, sums.paeth)]
                            let (best, _) = choices.min { $0.1 < $1.1 }!
                            let source = none + allCases.firstIndex(of: best)! * rowLength
                            let target = output.baseAddress! + y * (rowLength + 1)
                            target[0] = best.rawValue
                            (target + 1).update(from: source, count: rowLength)
                        }
                    }
                }
            }
        }
        return output
    }

    /// The absolute value of `byte` read as a signed byte.
    @inline(__always)
    private static func magnitude(_ byte: UInt8) -> Int {
        Int(Int8(bitPattern: byte).magnitude)
    }

    /// The Paeth predictor of a byte from its left (`a`), upper (`b`) and upper-left (`c`)
    /// neighbors, ties broken in the order a, b, c.
    @inline(__always)
    private static func predictPaeth(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> UInt8 {
        let p = Int(a) + Int(b) - Int(c)
        let pa = abs(p - Int(a)), pb = abs(p - Int(b)), pc = abs(p - Int(c))
        if pa <= pb && pa <= pc { return a }
        return pb <= pc ? b : c
    }
}
