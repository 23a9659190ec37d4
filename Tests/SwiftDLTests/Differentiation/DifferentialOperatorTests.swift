import Foundation
import Testing
@testable import SwiftDL

/// dljacobian, dldivergence and dllaplacian against closed forms, finite differences, and
/// their errors.
@Suite struct DifferentialOperatorTests {
    /// Four points of three coordinates, one per row ("BC").
    let points = try! DLArray([0.3, -1.2, 0.7, 1.1, 0.4, -0.5, -0.8, 0.9, 0.2, 0.6, -0.3, 1.4], shape: [4, 3]).labeled("BC")

    /// Column `j` of a batch of points, as a 4×1 array.
    func coordinate(_ x: DLArray, _ j: Int) throws -> DLArray { try x.slice(dim: 1, range: j..<j + 1) }

    /// u(x) = [sin(x₀)·x₁, x₀·x₂ + x₁²] per point.
    func field(_ x: DLArray) throws -> DLArray {
        let (x0, x1, x2) = (try coordinate(x, 0), try coordinate(x, 1), try coordinate(x, 2))
        return try cat([sin(x0) * x1, x0 * x2 + x1 * x1], dim: 1)
    }

    @Test func jacobianOfAVectorFunctionMatchesItsClosedForm() throws {
        let jacobian = try dlfeval({ x in try dljacobian(field(x), x, dim: 1) }, points)
        #expect(jacobian.shape == [4, 3, 2])
        var expected: [Double] = []
        for row in points.scalars(as: Double.self).chunked(3) {
            let (x0, x1, x2) = (row[0], row[1], row[2])
            // [b, j, k] = ∂u_k/∂x_j
            expected += [cos(x0) * x1, x2, sin(x0), 2 * x1, 0, x0]
        }
        expectClose(jacobian, try DLArray(expected, shape: [4, 3, 2]), tolerance: 1e-14, "jacobian")
    }

    @Test func jacobianHasMATLABsShapeReadBackwards() throws {
        // MATLAB: a 5×128 u ("CB") of a 16×16×3×128 x ("SSCB") gives a 5×16×16×3×128 Jacobian.
        // Here with 2 observations of 3×4×4 inputs: u 2×5 ("BC"), x 2×3×4×4 ("BCSS").
        var generator = DLRandomGenerator(seed: 3)
        let x = DLArray.randn([4, 4, 3, 2], type: .float64, using: &generator)
        let images = try x.labeled("SSCB")
        #expect(images.shape == [2, 3, 4, 4] && images.labels == "BCSS")
        let weights = DLArray.randn([48, 5], type: .float64, using: &generator)
        let (jacobian, u) = try dlfeval({ (x: DLArray) in
            let u = try tanh(mtimes(reshape(x, [2, 48]), weights))
            return (try dljacobian(u, x, dim: 1), extractdata(u))
        }, images)
        #expect(jacobian.shape == [2, 3, 4, 4, 5])
        // ∂tanh(z_k)/∂x_j = (1 − tanh²(z_k))·W[j, k], observation by observation.
        let expected = try (1 - u * u).reshaped([2, 1, 5]) * weights.reshaped([1, 48, 5])
        expectClose(try reshape(jacobian, [2, 48, 5]), expected, tolerance: 1e-14, "jacobian")
    }

    @Test func divergenceOfACyclicFieldIsTheSumOfCoordinates() throws {
        // u = [x₀x₁, x₁x₂, x₂x₀]: div u = x₁ + x₂ + x₀.
        let divergence = try dlfeval({ x in
            let (x0, x1, x2) = (try coordinate(x, 0), try coordinate(x, 1), try coordinate(x, 2))
            return try dldivergence(cat([x0 * x1, x1 * x2, x2 * x0], dim: 1), x, dim: 1)
        }, points)
        #expect(divergence.shape == [4, 1] && divergence.labels == "BC")
        expectClose(divergence, try sum(points, dims: [1]), tolerance: 1e-14, "divergence")
    }

    @Test func laplacianOfCubesIsSixTimesTheSumOfCoordinates() throws {
        // u = Σ xᵢ³ + x₀x₁ + sin(x₂): Δu = 6 Σ xᵢ − sin(x₂).
        let laplacian = try dlfeval({ x in
            let u = try sum(x ** 3, dims: [1]) + coordinate(x, 0) * coordinate(x, 1) + sin(coordinate(x, 2))
            return try dllaplacian(u, x, dim: 1)
        }, points)
        #expect(laplacian.shape == [4, 1])
        let expected = try 6 * sum(points, dims: [1]) - sin(coordinate(points, 2))
        expectClose(laplacian, expected, tolerance: 1e-13, "laplacian")
    }

    @Test func operatorsPassGradcheckAtOrdersOneAndTwo() throws {
        let x = points
        try expectGradients({ x in try dljacobian(field(x), x, dim: 1) }, at: x, "dljacobian")
        try expectGradients({ x in
            try dldivergence(tanh(x) * x, x, dim: 1)
        }, at: x, "dldivergence")
        try expectGradients({ x in
            try dllaplacian(sum(sin(x) * x ** 2, dims: [1]), x, dim: 1)
        }, at: x, "dllaplacian")
    }

    @Test func aPhysicsLossFromTheOperatorsDifferentiatesWithRespectToTheWeights() throws {
        // A PINN-like residual u_t + u·u_x − ν u_xx of u = tanh([x t]·W)·c, differentiated
        // with respect to x, t, W and c together, first and second order.
        var generator = DLRandomGenerator(seed: 5)
        let x = DLArray.randn([5, 1], type: .float64, using: &generator)
        let t = DLArray.randn([5, 1], type: .float64, using: &generator)
        let w = DLArray.randn([2, 4], type: .float64, using: &generator)
        let c = DLArray.randn([4, 1], type: .float64, using: &generator)
        try expectGradients({ (p: [DLArray]) in
            let (x, t, w, c) = (p[0], p[1], p[2], p[3])
            let u = try mtimes(tanh(mtimes(cat([x, t], dim: 1), w)), c)
            let ux = try reshape(dljacobian(u, x, dim: 1), [5, 1])
            let ut = try reshape(dljacobian(u, t, dim: 1), [5, 1])
            let uxx = try dllaplacian(u, x, dim: 1)
            return try mean((ut + u * ux - 0.01 * uxx) ** 2)
        }, at: [x, t, w, c], "residual")
    }

    @Test func aLaplacianAfterTheJacobianOfTheSameOutputContinuesItsBackwardPass() throws {
        // The PINN form: u of the points cat([x, t]), its Jacobian with respect to the points,
        // then its Laplacian with respect to x, which reaches u only through the points.
        var generator = DLRandomGenerator(seed: 7)
        let x = DLArray.randn([5, 1], type: .float64, using: &generator)
        let t = DLArray.randn([5, 1], type: .float64, using: &generator)
        let w = DLArray.randn([2, 4], type: .float64, using: &generator)
        let c = DLArray.randn([4, 1], type: .float64, using: &generator)
        func u(_ points: DLArray, _ w: DLArray, _ c: DLArray) throws -> DLArray { try mtimes(tanh(mtimes(points, w)), c) }

        // Alone, and after the Jacobian: the same values, in fewer recorded operations.
        let (alone, aloneCount) = try dlfeval({ (x: DLArray, t: DLArray, w: DLArray, c: DLArray) in
            let value = try u(cat([x, t], dim: 1), w, c)
            let before = Trace.current!.nodes.count
            let laplacian = try dllaplacian(value, x, dim: 1)
            return (laplacian, DLArray(Double(Trace.current!.nodes.count - before)))
        }, x, t, w, c)
        let (after, afterCount) = try dlfeval({ (x: DLArray, t: DLArray, w: DLArray, c: DLArray) in
            let points = try cat([x, t], dim: 1)
            let value = try u(points, w, c)
            _ = try dljacobian(value, points, dim: 1)
            let before = Trace.current!.nodes.count
            let laplacian = try dllaplacian(value, x, dim: 1)
            return (laplacian, DLArray(Double(Trace.current!.nodes.count - before)))
        }, x, t, w, c)
        #expect(alone.scalars(as: Double.self) == after.scalars(as: Double.self))
        // u_xx = Σⱼ cⱼ·(−2·hⱼ·(1 − hⱼ²))·w₀ⱼ² with h = tanh(points·w).
        let h = try tanh(mtimes(cat([x, t], dim: 1), w)).scalars(as: Double.self)
        let (wx, cs) = (w.scalars(as: Double.self), c.scalars(as: Double.self))
        var expected = [Double](repeating: 0, count: 5)
        for b in 0..<5 {
            for j in 0..<4 {
                let hj: Double = h[4 * b + j]
                let secondDerivative: Double = -2 * hj * (1 - hj * hj)
                expected[b] += cs[j] * secondDerivative * wx[j] * wx[j]
            }
        }
        expectClose(after, try DLArray(expected, shape: [5, 1]), tolerance: 1e-13, "laplacian")
        #expect(afterCount.scalar(as: Double.self) < aloneCount.scalar(as: Double.self),
                "recorded \(afterCount) operations after the Jacobian, \(aloneCount) alone")

        // The loss made from them differentiates as the one without reuse, to order two.
        try expectGradients({ (p: [DLArray]) in
            let (x, t, w, c) = (p[0], p[1], p[2], p[3])
            let points = try cat([x, t], dim: 1)
            let value = try u(points, w, c)
            let jacobian = try dljacobian(value, points, dim: 1)
            let ux = try reshape(jacobian[0..., 0, 0], [5, 1]), ut = try reshape(jacobian[0..., 1, 0], [5, 1])
            return try mean((ut + value * ux - 0.01 * dllaplacian(value, x, dim: 1)) ** 2)
        }, at: [x, t, w, c], "residual through the points")
    }

    @Test func aLaplacianDoesNotReuseAJacobianItsInputBypasses() throws {
        // u = tanh(x + t) + x³ depends on x through the points and directly: the Jacobian with
        // respect to the points does not give the Laplacian with respect to x, 6x − 2 tanh·(1 − tanh²).
        let x = try DLArray([0.3, -0.8, 1.1], shape: [3, 1]), t = try DLArray([0.5, 0.2, -0.4], shape: [3, 1])
        let laplacian = try dlfeval({ (x: DLArray, t: DLArray) in
            let points = try cat([x, t], dim: 1)
            let value = try tanh(sum(points, dims: [1])) + x ** 3
            _ = try dljacobian(value, points, dim: 1)
            return try dllaplacian(value, x, dim: 1)
        }, x, t)
        let expected = zip(x.scalars(as: Double.self), t.scalars(as: Double.self)).map { x, t in
            let h = Foundation.tanh(x + t)
            return 6 * x - 2 * h * (1 - h * h)
        }
        expectClose(laplacian, try DLArray(expected, shape: [3, 1]), tolerance: 1e-14, "laplacian")
    }

    @Test func withoutHigherDerivativesTheResultsAreConstants() throws {
        try dlfeval({ (x: DLArray) in
            let u = try field(x)
            #expect(try dljacobian(u, x, dim: 1, enableHigherDerivatives: false).isTraced == false)
            #expect(try dljacobian(u, x, dim: 1).isTraced)
            #expect(try dldivergence(x * x, x, dim: 1, enableHigherDerivatives: false).isTraced == false)
            #expect(try dllaplacian(sum(x ** 3, dims: [1]), x, dim: 1, enableHigherDerivatives: false).isTraced == false)
        }, points)
    }

    @Test func mistakesNameTheProblem() throws {
        let x = points
        expectError(containing: "dljacobian must be called inside a function evaluated by dlfeval") {
            _ = try dljacobian(x, x, dim: 1)
        }
        try dlfeval({ (x: DLArray) in
            let u = try field(x)
            expectError(containing: "dljacobian: u is not traced") { _ = try dljacobian(extractdata(u), x, dim: 1) }
            expectError(containing: "dllaplacian: x is not traced") { _ = try dllaplacian(u, extractdata(x), dim: 1) }
            expectError(containing: "dljacobian: dim 2 is not a dimension of u", "rank 2") { _ = try dljacobian(u, x, dim: 2) }
            expectError(containing: "dldivergence: dim -1 is not a dimension of x") { _ = try dldivergence(x, x, dim: -1) }
            expectError(containing: "dldivergence: u has shape [4, 2] and x has shape [4, 3]") { _ = try dldivergence(u, x, dim: 1) }
            expectError(containing: "dllaplacian: u must hold one value per point of x", "holds 4 points") {
                _ = try dllaplacian(u, x, dim: 1)
            }
        }, x)
    }
}

extension Array {
    /// The elements in consecutive groups of `size`.
    func chunked(_ size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}
