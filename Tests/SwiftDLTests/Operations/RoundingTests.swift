import Foundation
import Testing
@testable import SwiftDL

private typealias Support = ElementwiseTestSupport

@Suite struct RoundingTests {
    // MARK: floor, ceil, round, fix

    @Test func roundingFollowsMATLAB() throws {
        let x = DLArray([-2.5, -1.7, -0.5, -0.0, 0.4, 0.5, 1.5, 2.7])
        Support.expectValues(try floor(x), [-3, -2, -1, 0, 0, 0, 1, 2])
        Support.expectValues(try ceil(x), [-2, -1, 0, 0, 1, 1, 2, 3])
        // MATLAB's round takes halves away from zero (not to even, as PyTorch's).
        Support.expectValues(try round(x), [-3, -2, -1, 0, 0, 1, 2, 3])
        Support.expectValues(try fix(x), [-2, -1, 0, 0, 0, 0, 1, 2])
        let single = try floor(DLArray([Float(-1.5), Float(2.25)]))
        #expect(single.dataType == .float32)
        Support.expectValues(single, [-2, 2])
    }

    @Test func roundingHasZeroDerivativesAndKeepsLabels() throws {
        let x = DLArray([-1.3, 0.4, 2.6])
        let roundings: [(DLArray) throws -> DLArray] = [{ try floor($0) }, { try ceil($0) }, { try round($0) }, { try fix($0) }]
        for function in roundings {
            Support.expectValues(try Support.gradient(of: function, at: x), [0, 0, 0])
            // In a product the other factor's derivative remains: d(x·floor(x))/dx = floor(x).
            let product = try Support.gradient(of: { try $0 * function($0) }, at: x)
            Support.expectValues(product, try function(x).scalars(as: Double.self))
            try Support.expectGradcheck({ (x: DLArray) in try function(x) * sin(x) }, at: x, orders: 1...2)
        }
        let labeled = try DLArray([1.5, 2.5], shape: [2, 1], labels: "BC")
        #expect(try round(labeled).labels == "BC")
    }

    @Test func roundingRejectsComplexInput() throws {
        let z = try complex(DLArray([1.5]), DLArray([0.5]))
        Support.expectError(.unsupportedType, mentioning: ["floor"]) { _ = try floor(z) }
        Support.expectError(.unsupportedType, mentioning: ["mod"]) { _ = try mod(z, 2) }
    }

    // MARK: mod and rem

    @Test func modAndRemFollowTheSignConventions() throws {
        let a = DLArray([5.0, -5.0, 5.0, -5.0, 4.5, 3.0, 7.0])
        let b = DLArray([3.0, 3.0, -3.0, -3.0, 1.5, 0.0, 0.0])
        // mod takes the sign of b and mod(a, 0) = a; rem takes the sign of a and rem(a, 0) = NaN.
        Support.expectValues(try mod(a, b), [2, 1, -1, -2, 0, 3, 7])
        Support.expectValues(try rem(a, b), [2, -2, 2, -2, 0, .nan, .nan])
        Support.expectValues(try mod(DLArray([-1.0, 370.0]), 360), [359, 10])
    }

    @Test func modAndRemMatchPyTorch() throws {
        for name in ["mod", "rem"] {
            let fixture = try Fixture("functions", name)
            let a = try fixture.array("a"), b = try fixture.array("b")
            let function: (DLArray, DLArray) throws -> DLArray = name == "mod" ? { try mod($0, $1) } : { try rem($0, $1) }
            expectClose(try function(a, b), try fixture.array("y"), tolerance: 1e-12, name)
            let upstream = try fixture.array("upstream")
            let (da, db) = try dlfeval({ (a: DLArray, b: DLArray) in
                try dlgradient(sum(function(a, b) * upstream), a, b)
            }, a, b)
            expectClose(da, try fixture.array("da"), tolerance: 1e-12, "\(name) da")
            expectClose(db, try fixture.array("db"), tolerance: 1e-12, "\(name) db")
        }
    }

    @Test func modAndRemGradientsMatchFiniteDifferences() throws {
        // Away from the jumps, where a/b is not an integer.
        let a = DLArray([5.3, -4.1, 2.2, -7.6]), b = DLArray([3.0, 1.7, -0.9, -2.3])
        let remainders: [(DLArray, DLArray) throws -> DLArray] = [{ try mod($0, $1) }, { try rem($0, $1) }]
        for function in remainders {
            try Support.expectGradcheck({ (v: [DLArray]) in try function(v[0], v[1]) * v[1] }, at: [a, b], orders: 1...2)
        }
        // d mod(a, b)/db = -floor(a/b); mod(a, 0) = a has derivative 0 in b.
        let (_, db) = try dlfeval({ (a: DLArray, b: DLArray) in try dlgradient(sum(mod(a, b)), a, b) },
                                  DLArray([5.3, 2.0]), DLArray([-2.0, 0.0]))
        Support.expectValues(db, [3, 0])
    }

    // MARK: hypot

    @Test func hypotMatchesPyTorchAndAvoidsOverflow() throws {
        let fixture = try Fixture("functions", "hypot")
        let a = try fixture.array("a"), b = try fixture.array("b")
        expectClose(try hypot(a, b), try fixture.array("y"), tolerance: 1e-14)
        let upstream = try fixture.array("upstream")
        let (da, db) = try dlfeval({ (a: DLArray, b: DLArray) in try dlgradient(sum(hypot(a, b) * upstream), a, b) }, a, b)
        expectClose(da, try fixture.array("da"), tolerance: 1e-12, "da")
        expectClose(db, try fixture.array("db"), tolerance: 1e-12, "db")
        Support.expectValues(try hypot(DLArray([3e200, 0.0]), DLArray([4e200, 0.0])), [5e200, 0])
        // The gradient at (0, 0) is taken as 0.
        Support.expectValues(try Support.gradient(of: { try hypot($0, DLArray([0.0])) }, at: DLArray([0.0])), [0])
    }

    @Test func hypotGradientsMatchFiniteDifferences() throws {
        let a = try DLArray([1.5, -0.4], shape: [2, 1]), b = DLArray([0.3, -2.0, 1.1])
        try Support.expectGradcheck({ (v: [DLArray]) in try hypot(v[0], v[1]) }, at: [a, b], orders: 1...2)
        Support.expectError(.shapeMismatch, mentioning: ["hypot"]) { _ = try hypot(DLArray([1.0, 2.0]), DLArray([1.0, 2.0, 3.0])) }
    }
}
