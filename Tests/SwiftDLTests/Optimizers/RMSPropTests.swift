import Testing
@testable import SwiftDL

@Suite struct RMSPropTests {
    @Test func twoStepsByHand() throws {
        // v = βv + (1 − β)g²; p = p − αg/(√v + ε), with α = 0.01, β = 0.9, ε = 0.01.
        let (p1, v1) = try rmspropupdate(DLArray([1.0, -2.0]), DLArray([0.5, 1.0]), nil, learnRate: 0.01,
                                         squaredGradientDecay: 0.9, epsilon: 0.01)
        expectElements(v1, [0.025, 0.1])
        let p1Expected = [1 - 0.01 * 0.5 / (0.025.squareRoot() + 0.01), -2 - 0.01 * 1 / (0.1.squareRoot() + 0.01)]
        expectElements(p1, p1Expected)
        let (p2, v2) = try rmspropupdate(p1, DLArray([-0.25, 2.0]), v1, learnRate: 0.01, squaredGradientDecay: 0.9,
                                         epsilon: 0.01)
        let v2Expected = [0.9 * 0.025 + 0.1 * 0.0625, 0.9 * 0.1 + 0.1 * 4]
        expectElements(v2, v2Expected)
        expectElements(p2, [p1Expected[0] + 0.01 * 0.25 / (v2Expected[0].squareRoot() + 0.01),
                          p1Expected[1] - 0.01 * 2 / (v2Expected[1].squareRoot() + 0.01)])
    }

    @Test func defaultsAreMATLABs() throws {
        // α = 0.001, β = 0.9, ε = 1e-8: the first step is α·g/(√0.1·|g|) ≈ 0.00316 against g.
        let (p, v) = try rmspropupdate(DLArray([0.0]), DLArray([2.0]), nil)
        expectElements(v, [0.4])
        expectElements(p, [-0.001 * 2 / (0.4.squareRoot() + 1e-8)])
    }

    @Test func errors() throws {
        expectError(containing: "rmspropupdate: squaredGradientDecay must be in [0, 1)") {
            _ = try rmspropupdate(DLArray([1.0]), DLArray([1.0]), nil, squaredGradientDecay: -0.1)
        }
        let shape = errorMessage(DLError.shapeMismatch) {
            _ = try rmspropupdate(DLArray.zeros([2, 3]), DLArray.zeros([3, 2]), nil)
        }
        #expect(shape.contains("gradients array 0 has shape [3, 2] but parameters array 0 has shape [2, 3]"), "\(shape)")
    }
}
