import Testing
@testable import SwiftDL

private typealias Support = ElementwiseTestSupport

@Suite struct CircshiftTests {
    @Test func circshiftMatchesPyTorchRoll() throws {
        for name in ["roll", "roll_large"] {
            let fixture = try Fixture("functions", name)
            let x = try fixture.array("x")
            let shifts = try fixture.integers("shifts"), dims = try fixture.integers("dims")
            expectClose(try circshift(x, shifts, dims: dims), try fixture.array("y"), tolerance: 0, name)
            let upstream = try fixture.array("upstream")
            let gradient = try dlfeval({ (x: DLArray) in try dlgradient(sum(circshift(x, shifts, dims: dims) * upstream), x) }, x)
            expectClose(gradient, try fixture.array("dx"), tolerance: 0, name + " gradient")
        }
    }

    @Test func knownShifts() throws {
        let x = DLArray([1.0, 2, 3, 4, 5])
        Support.expectValues(try circshift(x, 2, dim: 0), [4, 5, 1, 2, 3])
        Support.expectValues(try circshift(x, -1, dim: 0), [2, 3, 4, 5, 1])
        Support.expectValues(try circshift(x, 10, dim: 0), [1, 2, 3, 4, 5])
        let labeled = try DLArray([1.0, 2, 3, 4, 5, 6], shape: [2, 3], labels: "BC")
        let shifted = try circshift(labeled, 1, dim: 1)
        #expect(shifted.labels == "BC")
        Support.expectValues(shifted, [3, 1, 2, 6, 4, 5])
    }

    @Test func gradientsMatchFiniteDifferences() throws {
        let x = try DLArray((0..<6).map { Double($0) * 0.4 - 1 }, shape: [2, 3])
        try Support.expectGradcheck({ (x: DLArray) in try circshift(x, [1, 2], dims: [0, 1]) * x }, at: x)
    }

    @Test func badArgumentsThrow() throws {
        Support.expectError(.invalidArgument, mentioning: ["one shift per dimension"]) {
            _ = try circshift(DLArray([1.0]), [1, 2], dims: [0])
        }
        Support.expectError(.invalidArgument, mentioning: ["circshift", "dimension 1"]) { _ = try circshift(DLArray([1.0]), 1, dim: 1) }
        Support.expectError(.invalidArgument, mentioning: ["repeated"]) {
            _ = try circshift(DLArray.zeros([2, 2]), [1, 1], dims: [0, 0])
        }
    }
}

@Suite struct RepelemTests {
    @Test func repelemRepeatsEachElement() throws {
        Support.expectValues(try repelem(DLArray([1.0, 2.0]), [2]), [1, 1, 2, 2])
        let x = try DLArray(rows: [[1.0, 2], [3, 4]])
        Support.expectValues(try repelem(x, [1, 3]), [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4], shape: [2, 6])
        Support.expectValues(try repelem(x, [2, 1]), [1, 2, 1, 2, 3, 4, 3, 4], shape: [4, 2])
        #expect(try repelem(x, [0, 2]).shape == [0, 4])
    }

    @Test func gradientSumsTheCopies() throws {
        let x = try DLArray(rows: [[0.5, -1.0], [2.0, 0.3]])
        Support.expectValues(try Support.gradient(of: { try repelem($0, [2, 3]) }, at: x), [6, 6, 6, 6])
        try Support.expectGradcheck({ (x: DLArray) in let y = try repelem(x, [2, 3]); return try y * y * y }, at: x)
        Support.expectError(.invalidArgument, mentioning: ["one per dimension"]) { _ = try repelem(x, [2]) }
        Support.expectError(.invalidArgument, mentioning: ["negative"]) { _ = try repelem(x, [2, -1]) }
    }
}
