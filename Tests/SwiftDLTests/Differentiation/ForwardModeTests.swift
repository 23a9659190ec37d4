import Foundation
import Testing
@testable import SwiftDL

/// dljvp, dlvjp and dlhvp against closed forms, torch.func, and finite differences.
@Suite struct ForwardModeTests {
    let x = DLArray([0.3, -1.2, 0.7, 2.0])
    let v = DLArray([1.0, 0.5, -2.0, 0.25])

    @Test func jvpOfAnElementwiseFunctionIsItsDerivativeTimesTheTangent() throws {
        let (value, tangent) = try dljvp({ x in try sin(x) * x }, x, v)
        expectClose(value, try sin(x) * x, tolerance: 1e-15, "value")
        expectClose(tangent, try (cos(x) * x + sin(x)) * v, tolerance: 1e-14, "jvp")
        #expect(!tangent.isTraced && !value.isTraced)
    }

    @Test func vjpAndHvpOfPolynomials() throws {
        let (square, cotangent) = try dlvjp({ x in try x * x }, x, v)
        expectClose(square, try x * x, tolerance: 0, "value")
        expectClose(cotangent, try 2 * x * v, tolerance: 1e-15, "vjp")
        let (cubes, hessianTimesV) = try dlhvp({ x in sum(x ** 3) }, x, v)
        expectClose(cubes, sum(x ** 3), tolerance: 1e-15, "value")
        expectClose(hessianTimesV, try 6 * x * v, tolerance: 1e-14, "hvp")
    }

    @Test func jvpOfAContainerReturnsTheResultsStructure() throws {
        // f(a, b) = [a·b, sin(a)]: J·(va, vb) = [va·b + a·vb, cos(a)·va].
        let a = DLArray([0.4, -0.9]), b = DLArray([1.5, 0.2])
        let va = DLArray([1.0, -1.0]), vb = DLArray([0.5, 2.0])
        let (_, tangents) = try dljvp({ (p: [DLArray]) in [try p[0] * p[1], sin(p[0])] }, [a, b], [va, vb])
        #expect(tangents.count == 2)
        expectClose(tangents[0], try va * b + a * vb, tolerance: 1e-15, "d(a·b)")
        expectClose(tangents[1], try cos(a) * va, tolerance: 1e-15, "d sin(a)")
    }

    @Test func networkProductsMatchTorchFunc() throws {
        let fixture = try Fixture("forward_mode", "network")
        let (w1, b1, w2) = (try fixture.array("w1"), try fixture.array("b1"), try fixture.array("w2"))
        let network = { (x: DLArray) in try mtimes(tanh(mtimes(x, w1) + b1), w2) }
        let x = try fixture.array("x")
        let (value, tangent) = try dljvp(network, x, try fixture.array("v"))
        expectClose(value, try fixture.array("value"), tolerance: 1e-13, "value")
        expectClose(tangent, try fixture.array("jvp"), tolerance: 1e-13, "jvp")
        let (_, cotangent) = try dlvjp(network, x, try fixture.array("u"))
        expectClose(cotangent, try fixture.array("vjp"), tolerance: 1e-13, "vjp")
    }

    @Test func containerProductsMatchTorch() throws {
        let fixture = try Fixture("forward_mode", "container")
        let scalar = { (p: [DLArray]) in try sum(sin(p[0]) * p[1] ** 2) + sum(p[0]) ** 2 / 4 }
        let point = [try fixture.array("a"), try fixture.array("b")]
        let direction = [try fixture.array("va"), try fixture.array("vb")]
        let (value, hvp) = try dlhvp(scalar, point, direction)
        expectClose(try reshape(value, [1]), try reshape(fixture.array("value"), [1]), tolerance: 1e-13, "value")
        expectClose(hvp[0], try fixture.array("hvp_a"), tolerance: 1e-13, "hvp a")
        expectClose(hvp[1], try fixture.array("hvp_b"), tolerance: 1e-13, "hvp b")
        let (_, tangent) = try dljvp(scalar, point, direction)
        expectClose(try reshape(tangent, [1]), try reshape(fixture.array("jvp"), [1]), tolerance: 1e-13, "jvp")
    }

    @Test func productsInsideDlfevalDifferentiateAtOrdersOneAndTwo() throws {
        // The products as functions of the weights, the point and the direction.
        var generator = DLRandomGenerator(seed: 9)
        let w = DLArray.randn([4, 3], type: .float64, using: &generator)
        let point = try reshape(x, [1, 4]), direction = try reshape(v, [1, 4])
        let inputs = [w, point, direction]
        try expectGradients({ (p: [DLArray]) in
            try dljvp({ x in try tanh(mtimes(x, p[0])) * 2 }, p[1], p[2]).jvp
        }, at: inputs, "dljvp")
        try expectGradients({ (p: [DLArray]) in
            try dlvjp({ x in try tanh(mtimes(x, p[0])) }, p[1], DLArray.ones([1, 3])).vjp
        }, at: inputs, "dlvjp")
        try expectGradients({ (p: [DLArray]) in
            try dlhvp({ x in sum(try tanh(mtimes(x, p[0])) ** 3) }, p[1], p[2]).hvp
        }, at: inputs, "dlhvp")
    }

    @Test func mistakesNameTheProblem() throws {
        expectError(containing: "dljvp: array 0 of v has shape [2]", "[4]") {
            _ = try dljvp({ x in x * 2 }, x, DLArray([1.0, 2.0]))
        }
        expectError(containing: "dlvjp: array 0 of u has shape [1] where [4] was expected") {
            _ = try dlvjp({ x in x * 2 }, x, DLArray([1.0]))
        }
        expectError(containing: "dlhvp: the function returned a float64 array of shape [4]", "real scalar") {
            _ = try dlhvp({ x in x * 2 }, x, v)
        }
    }
}
