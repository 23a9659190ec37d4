import Testing
@testable import SwiftDL

private typealias Support = ElementwiseTestSupport

@Suite struct InterpolationTests {
    let x = DLArray([0.0, 1.0, 3.0, 4.0])
    let v = DLArray([1.0, 3.0, 2.0, 6.0])

    @Test func linearAndNearestValues() throws {
        let xq = DLArray([0.0, 0.5, 2.0, 3.5, 4.0])
        Support.expectValues(try interp1(x, v, xq), [1, 2, 2.5, 4, 6])
        // Halfway between samples the later one is taken.
        Support.expectValues(try interp1(x, v, DLArray([0.4, 0.5, 2.2, 3.9]), method: .nearest), [1, 3, 2, 6])
    }

    @Test func extrapolationOptions() throws {
        let xq = DLArray([-1.0, 2.0, 5.0])
        Support.expectValues(try interp1(x, v, xq), [.nan, 2.5, .nan])
        Support.expectValues(try interp1(x, v, xq, extrapolation: .extrapolate), [-1, 2.5, 10])
        Support.expectValues(try interp1(x, v, xq, method: .nearest, extrapolation: .extrapolate), [1, 2, 6])
        Support.expectValues(try interp1(x, v, xq, extrapolation: .value(-7)), [-7, 2.5, -7])
    }

    @Test func columnsOfValuesAndQueryShapes() throws {
        // Each column of v is a set of values, as MATLAB.
        let columns = try DLArray(rows: [[1.0, 10], [3, 30], [2, 20], [6, 60]])
        let xq = try DLArray([0.5, 2.0, 3.5, 4.0], shape: [2, 2])
        let y = try interp1(x, columns, xq)
        Support.expectValues(y, [2, 20, 2.5, 25, 4, 40, 6, 60], shape: [2, 2, 2])
        #expect(try interp1(x, v, DLArray(0.5)).shape == [])
    }

    @Test func derivativesInValuesAndQueryPoints() throws {
        // In the query points: the slope of the segment; in the values: the interpolation weights.
        let xq = DLArray([0.5, 2.0, 3.25])
        let (dv, dq) = try dlfeval({ (v: DLArray, q: DLArray) in try dlgradient(sum(interp1(x, v, q)), v, q) }, v, xq)
        Support.expectValues(dq, [2, -0.5, 4])
        Support.expectValues(dv, [0.5, 0.5 + 0.5, 0.5 + 0.75, 0.25])
        // Twice differentiable: the mixed second derivative is the change of slope with v.
        let interior = DLArray([0.3, 1.7, 3.6])
        try Support.expectGradcheck({ (w: [DLArray]) in try interp1(x, w[0], w[1]) * w[1] }, at: [v, interior])
        try Support.expectGradcheck({ (w: [DLArray]) in try interp1(x, w[0], w[1], extrapolation: .extrapolate) }, at: [v, DLArray([-0.5, 4.5])])
        try Support.expectGradcheck({ (w: DLArray) in try interp1(x, w, interior, method: .nearest) * w.slice(dim: 0, range: 0..<3) }, at: v)
        // Nearest: zero derivative in the query points.
        Support.expectValues(try Support.gradient(of: { try interp1(x, v, $0, method: .nearest) }, at: interior), [0, 0, 0])
    }

    @Test func badArgumentsThrow() throws {
        Support.expectError(.invalidArgument, mentioning: ["strictly increasing"]) {
            _ = try interp1(DLArray([0.0, 2, 1]), DLArray([1.0, 2, 3]), DLArray([0.5]))
        }
        Support.expectError(.invalidArgument, mentioning: ["two sample points"]) {
            _ = try interp1(DLArray([0.0]), DLArray([1.0]), DLArray([0.5]))
        }
        Support.expectError(.shapeMismatch, mentioning: ["4 positions"]) {
            _ = try interp1(x, DLArray([1.0, 2, 3]), DLArray([0.5]))
        }
    }
}
