import Testing
@testable import SwiftDL

private typealias Support = ElementwiseTestSupport

@Suite struct DifferenceTests {
    @Test func diffMatchesPyTorch() throws {
        for (name, order, dim) in [("diff_last", 1, 1), ("diff_second_first", 2, 0)] {
            let fixture = try Fixture("functions", name)
            let x = try fixture.array("x")
            expectClose(try diff(x, order: order, dim: dim), try fixture.array("y"), tolerance: 1e-14, name)
            let upstream = try fixture.array("upstream")
            let gradient = try dlfeval({ (x: DLArray) in try dlgradient(sum(diff(x, order: order, dim: dim) * upstream), x) }, x)
            expectClose(gradient, try fixture.array("dx"), tolerance: 1e-14, name + " gradient")
        }
    }

    @Test func knownDifferencesAndOrders() throws {
        let x = DLArray([1.0, 4, 9, 16, 25])
        Support.expectValues(try diff(x), [3, 5, 7, 9])
        Support.expectValues(try diff(x, order: 2), [2, 2, 2])
        Support.expectValues(try diff(x, order: 0), [1, 4, 9, 16, 25])
        // Beyond the size, an empty dimension, as MATLAB with a given dim.
        #expect(try diff(x, order: 7).shape == [0])
        let matrix = try DLArray(rows: [[1.0, 2, 4], [3, 7, 15]])
        Support.expectValues(try diff(matrix), [1, 2, 4, 8], shape: [2, 2])
        Support.expectValues(try diff(matrix, dim: 0), [2, 5, 11], shape: [1, 3])
    }

    @Test func gradientsMatchFiniteDifferences() throws {
        let x = try DLArray((0..<12).map { Double($0 * $0) * 0.1 }, shape: [3, 4])
        try Support.expectGradcheck({ (x: DLArray) in try diff(x, order: 2, dim: 1) * diff(x, order: 2, dim: 1) }, at: x)
        try Support.expectGradcheck({ (x: DLArray) in try diff(sin(x), dim: 0) }, at: x)
    }

    @Test func badArgumentsThrow() throws {
        Support.expectError(.invalidArgument, mentioning: ["order"]) { _ = try diff(DLArray([1.0]), order: -1) }
        Support.expectError(.invalidArgument, mentioning: ["diff", "dimension 3"]) { _ = try diff(DLArray([1.0]), dim: 3) }
    }
}
