import Testing
@testable import SwiftDL

private typealias Support = ElementwiseTestSupport

@Suite struct TriangularTests {
    @Test(arguments: ["triu_m1", "triu_0", "triu_2", "tril_m1", "tril_0", "tril_2"])
    func triangleMatchesPyTorch(name: String) throws {
        let fixture = try Fixture("functions", name)
        let x = try fixture.array("x"), k = try fixture.integers("k")[0]
        let function: (DLArray) throws -> DLArray = name.hasPrefix("triu") ? { try triu($0, k) } : { try tril($0, k) }
        expectClose(try function(x), try fixture.array("y"), tolerance: 0, name)
        let upstream = try fixture.array("upstream")
        let gradient = try dlfeval({ (x: DLArray) in try dlgradient(sum(function(x) * upstream), x) }, x)
        expectClose(gradient, try fixture.array("dx"), tolerance: 0, name + " gradient")
    }

    @Test func knownTrianglesOfARectangularMatrix() throws {
        let x = try DLArray(rows: [[1.0, 2, 3], [4, 5, 6]])
        Support.expectValues(try triu(x), [1, 2, 3, 0, 5, 6])
        Support.expectValues(try tril(x), [1, 0, 0, 4, 5, 0])
        Support.expectValues(try triu(x, 1), [0, 2, 3, 0, 0, 6])
        Support.expectValues(try tril(x, -1), [0, 0, 0, 4, 0, 0])
    }

    @Test func gradientsMatchFiniteDifferences() throws {
        let x = try DLArray((0..<12).map { Double($0) * 0.3 - 1.4 }, shape: [3, 4])
        try Support.expectGradcheck({ (x: DLArray) in try triu(x, 1) * sin(x) }, at: x)
        try Support.expectGradcheck({ (x: DLArray) in try tril(x) * x }, at: x)
    }

    @Test func vectorsAreRejected() throws {
        Support.expectError(.invalidArgument, mentioning: ["triu", "matrix"]) { _ = try triu(DLArray([1.0, 2.0])) }
        Support.expectError(.invalidArgument, mentioning: ["tril"]) { _ = try tril(DLArray(1.0)) }
    }
}
