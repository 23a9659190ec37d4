import ComplexModule
import Foundation
import Testing
@testable import SwiftDL

private typealias Support = ElementwiseTestSupport

@Suite struct VectorNormTests {
    @Test func vecnormMatchesPyTorch() throws {
        for (name, p, dim) in [("vecnorm_p1", 1.0, 1), ("vecnorm_p2", 2.0, 1), ("vecnorm_p3", 3.0, 1),
                               ("vecnorm_pinf_dim0", Double.infinity, 0)] {
            let fixture = try Fixture("functions", name)
            let x = try fixture.array("x")
            expectClose(try vecnorm(x, p: p, dim: dim), try fixture.array("y"), tolerance: 1e-13, name)
            let upstream = try fixture.array("upstream")
            let gradient = try dlfeval({ (x: DLArray) in try dlgradient(sum(vecnorm(x, p: p, dim: dim) * upstream), x) }, x)
            expectClose(gradient, try fixture.array("dx"), tolerance: 1e-12, name + " gradient")
        }
    }

    @Test func knownNormsAlongTheLastDimension() throws {
        let x = try DLArray(rows: [[3.0, -4.0], [0.0, 0.0]])
        Support.expectValues(try vecnorm(x), [5, 0], shape: [2, 1])
        Support.expectValues(try vecnorm(x, p: 1), [7, 0], shape: [2, 1])
        Support.expectValues(try vecnorm(x, p: .infinity, dim: 0), [3, 4], shape: [1, 2])
    }

    @Test func gradientsMatchFiniteDifferences() throws {
        let x = try DLArray([0.5, -1.2, 2.0, 0.3, -0.7, 1.1], shape: [2, 3])
        for p in [1.0, 2.0, 3.0] {
            try Support.expectGradcheck({ (x: DLArray) in try vecnorm(x, p: p) }, at: x, orders: p == 1 ? 1...1 : 1...2)
        }
        try Support.expectGradcheck({ (x: DLArray) in try vecnorm(x, p: 1) * vecnorm(x, p: 1) }, at: x)
    }

    @Test func badArgumentsThrow() throws {
        Support.expectError(.invalidArgument, mentioning: ["p must be positive"]) { _ = try vecnorm(DLArray([1.0]), p: 0) }
        Support.expectError(.invalidArgument, mentioning: ["scalar"]) { _ = try vecnorm(DLArray(1.0)) }
        Support.expectError(.invalidArgument, mentioning: ["dimension 2"]) { _ = try vecnorm(DLArray.zeros([2, 2]), dim: 2) }
    }
}

@Suite struct DotProductTests {
    @Test func dotAlongADimensionConjugatesTheFirstArgument() throws {
        let a = try DLArray(rows: [[1.0, 2, 3], [4, 5, 6]]), b = try DLArray(rows: [[1.0, 0, -1], [2, 2, 2]])
        Support.expectValues(try dot(a, b), [-2, 30], shape: [2, 1])
        Support.expectValues(try dot(a, b, dim: 0), [9, 10, 9], shape: [1, 3])
        let z = try complex(DLArray([1.0, 0.0]), DLArray([1.0, 2.0]))
        // conj(1+i)(1+i) + conj(2i)(2i) = 2 + 4.
        Support.expectComplexValues(try dot(z, z), [.init(6, 0)])
        try Support.expectGradcheck({ (v: [DLArray]) in try dot(v[0], v[1]) * dot(v[0], v[0]) }, at: [a, b])
        Support.expectError(.shapeMismatch, mentioning: ["dot"]) { _ = try dot(a, DLArray([1.0])) }
    }

    @Test func ipermuteUndoesPermute() throws {
        let x = try DLArray((0..<24).map(Double.init), shape: [2, 3, 4])
        let order = [2, 0, 1]
        let back = try ipermute(permute(x, order), order)
        #expect(back.shape == [2, 3, 4])
        expectClose(back, x, tolerance: 0, "round trip")
        Support.expectError(.invalidArgument, mentioning: ["ipermute"]) { _ = try ipermute(x, [0, 0, 1]) }
    }
}
