/// Drawing shapes: rectangles, lines, discs and crosses. Lines, discs and crosses are
/// antialiased: a pixel on their edge gets the color in proportion to how much of it they cover.
extension RGBImage {
    /// Fills the rectangle of `width` × `height` pixels whose top-left pixel is (x, y) with
    /// `color`; the part outside the image is left out.
    public mutating func fillRectangle(x: Int, y: Int, width: Int, height: Int, color: RGBColor) {
        let (left, right) = (max(x, 0), min(x + width, self.width))
        let (top, bottom) = (max(y, 0), min(y + height, self.height))
        guard left < right, top < bottom else { return }
        for row in top..<bottom {
            var start = 3 * (row * self.width + left)
            for _ in left..<right {
                pixels[start] = color.red
                pixels[start + 1] = color.green
                pixels[start + 2] = color.blue
                start += 3
            }
        }
    }

    /// Draws the straight line from `start` to `end`, points of the image's plane (pixel (x, y)
    /// has its center at (x + 0.5, y + 0.5)), `thickness` pixels wide with round ends.
    ///
    /// A line with a non-finite end point or a thickness that is not positive draws nothing.
    public mutating func drawLine(from start: SIMD2<Double>, to end: SIMD2<Double>, color: RGBColor,
                                  thickness: Double = 1) {
        let radius = thickness / 2
        guard radius > 0, radius.isFinite,
              let (a, b) = clip(start, end, margin: radius + 1) else { return }
        let direction = b - a
        let lengthSquared = (direction * direction).sum()
        cover(from: a, to: b, reach: radius, color: color) { point in
            let offset = point - a
            let t = lengthSquared > 0 ? min(max((offset * direction).sum() / lengthSquared, 0), 1) : 0
            let nearest = offset - t * direction
            return radius - (nearest * nearest).sum().squareRoot()
        }
    }

    /// Fills the disc of `radius` pixels around `center` (a point of the image's plane).
    ///
    /// A disc with a non-finite center or a radius that is not positive draws nothing.
    public mutating func fillCircle(center: SIMD2<Double>, radius: Double, color: RGBColor) {
        guard radius > 0, radius.isFinite, center.x.isFinite, center.y.isFinite else { return }
        cover(from: center, to: center, reach: radius, color: color) { point in
            let offset = point - center
            return radius - (offset * offset).sum().squareRoot()
        }
    }

    /// Draws a cross shaped like the letter x, `size` pixels wide and high, centered at
    /// `center`, with strokes `thickness` pixels wide.
    public mutating func drawCross(center: SIMD2<Double>, size: Double, color: RGBColor, thickness: Double = 2) {
        let half = size / 2 - thickness / 2
        drawLine(from: center - [half, half], to: center + [half, half], color: color, thickness: thickness)
        drawLine(from: center + [-half, half], to: center + [half, -half], color: color, thickness: thickness)
    }

    /// Draws the line through `points` in order, as ``drawLine(from:to:color:thickness:)`` draws
    /// each segment. A point with a non-finite coordinate is left out and breaks the line there.
    mutating func drawPolyline(_ points: [SIMD2<Double>], color: RGBColor, thickness: Double) {
        func isFinite(_ p: SIMD2<Double>) -> Bool { p.x.isFinite && p.y.isFinite }
        for (a, b) in zip(points, points.dropFirst()) where isFinite(a) && isFinite(b) {
            drawLine(from: a, to: b, color: color, thickness: thickness)
        }
        // A finite point between two left-out ones (or alone) is drawn as a dot.
        for (k, point) in points.enumerated() where isFinite(point) {
            let hasNeighbor = (k > 0 && isFinite(points[k - 1])) || (k + 1 < points.count && isFinite(points[k + 1]))
            if !hasNeighbor { fillCircle(center: point, radius: thickness / 2, color: color) }
        }
    }

    /// Mixes `color` into every pixel near the box around `a` and `b` widened by `reach`, in
    /// proportion to its coverage: `inside(center)` is how far the pixel's center lies inside
    /// the shape (negative outside), and a pixel is covered by `inside + 0.5`, clamped to 0...1.
    private mutating func cover(from a: SIMD2<Double>, to b: SIMD2<Double>, reach: Double, color: RGBColor,
                                inside: (SIMD2<Double>) -> Double) {
        let low = (pointwiseMin(a, b) - (reach + 0.5)).rounded(.down)
        let high = (pointwiseMax(a, b) + (reach + 0.5)).rounded(.up)
        guard low.x < Double(width), low.y < Double(height), high.x >= 0, high.y >= 0 else { return }
        let columns = max(Int(low.x), 0)...min(Int(high.x), width - 1)
        let rows = max(Int(low.y), 0)...min(Int(high.y), height - 1)
        for y in rows {
            for x in columns {
                let coverage = inside(SIMD2(Double(x) + 0.5, Double(y) + 0.5)) + 0.5
                guard coverage > 0 else { continue }
                let start = 3 * (y * width + x)
                if coverage >= 1 {
                    pixels[start] = color.red
                    pixels[start + 1] = color.green
                    pixels[start + 2] = color.blue
                } else {
                    let old = RGBColor(red: pixels[start], green: pixels[start + 1], blue: pixels[start + 2])
                    let new = old.mixed(with: color, fraction: coverage)
                    pixels[start] = new.red
                    pixels[start + 1] = new.green
                    pixels[start + 2] = new.blue
                }
            }
        }
    }

    /// The part of the segment from `a` to `b` inside the image widened by `margin` on every
    /// side (Liang-Barsky clipping), or nil when none of it is, or it is not finite.
    ///
    /// The segment is followed from its end nearer the image, and a clipped end gets the
    /// boundary's coordinate exactly, so that a segment from a far-away point (a diverging loss)
    /// still lands on the right pixels.
    private func clip(_ a: SIMD2<Double>, _ b: SIMD2<Double>, margin: Double)
        -> (SIMD2<Double>, SIMD2<Double>)? {
        let center = SIMD2(Double(width), Double(height)) / 2
        func farness(_ p: SIMD2<Double>) -> Double { Swift.max(Swift.abs(p.x - center.x), Swift.abs(p.y - center.y)) }
        let (start, end) = farness(a) <= farness(b) ? (a, b) : (b, a)
        let direction = end - start
        guard start.x.isFinite, start.y.isFinite, direction.x.isFinite, direction.y.isFinite else { return nil }
        let low = SIMD2(-margin, -margin), high = SIMD2(Double(width), Double(height)) + margin
        var enter = (t: 0.0, axis: -1, value: 0.0), leave = (t: 1.0, axis: -1, value: 0.0)
        for axis in 0..<2 {
            let sides: [(p: Double, q: Double, value: Double)] = [
                (-direction[axis], start[axis] - low[axis], low[axis]), (direction[axis], high[axis] - start[axis], high[axis]),
            ]
            for (p, q, value) in sides {
                if p == 0 {
                    if q < 0 { return nil }
                } else if p < 0 {
                    if q / p > enter.t { enter = (q / p, axis, value) }
                } else if q / p < leave.t {
                    leave = (q / p, axis, value)
                }
            }
        }
        guard enter.t <= leave.t else { return nil }
        var clippedStart = start + enter.t * direction, clippedEnd = start + leave.t * direction
        if enter.axis >= 0 { clippedStart[enter.axis] = enter.value }
        if leave.axis >= 0 { clippedEnd[leave.axis] = leave.value }
        return (clippedStart, clippedEnd)
    }
}
