import Testing
@testable import SwiftDL

/// Each optimizer in the loop its documentation shows, fitting y = 2x + 1 from noiseless
/// samples: parameters in a dictionary, state starting as nil.
@Suite struct TrainingLoopTests {
    static let x = DLArray([-1.0, -0.5, 0, 0.5, 1, 1.5])
    static let y = DLArray([-1.0, 0, 1, 2, 3, 4])

    static func modelLoss(_ p: [String: DLArray]) throws -> (DLArray, [String: DLArray]) {
        let loss = mean(try (p["w"]! * x + p["b"]! - y) ** 2)
        return (loss, try dlgradient(loss, p))
    }

    static let start: [String: DLArray] = ["w": DLArray([0.0]), "b": DLArray([0.0])]

    func expectFitted(_ p: [String: DLArray], tolerance: Double, sourceLocation: SourceLocation = #_sourceLocation) {
        expectElements(p["w"]!, [2], tolerance: tolerance, "w", sourceLocation: sourceLocation)
        expectElements(p["b"]!, [1], tolerance: tolerance, "b", sourceLocation: sourceLocation)
    }

    @Test func adam() throws {
        var parameters = Self.start
        var averageGradient: [String: DLArray]? = nil, averageSquaredGradient: [String: DLArray]? = nil
        for iteration in 1...2000 {
            let (_, gradients) = try dlfeval(Self.modelLoss, parameters)
            (parameters, averageGradient, averageSquaredGradient) = try adamupdate(
                parameters, gradients, averageGradient, averageSquaredGradient, iteration: iteration, learnRate: 0.05)
        }
        expectFitted(parameters, tolerance: 1e-6)
    }

    @Test func sgdm() throws {
        var parameters = Self.start
        var velocity: [String: DLArray]? = nil
        for _ in 1...500 {
            let (_, gradients) = try dlfeval(Self.modelLoss, parameters)
            let clipped = try clipGradientsByGlobalNorm(gradients, maxNorm: 10)
            (parameters, velocity) = try sgdmupdate(parameters, clipped, velocity, learnRate: 0.05)
        }
        expectFitted(parameters, tolerance: 1e-9)
    }

    @Test func rmsprop() throws {
        var parameters = Self.start
        var averageSquaredGradient: [String: DLArray]? = nil
        for iteration in 1...3000 {
            let (_, gradients) = try dlfeval(Self.modelLoss, parameters)
            (parameters, averageSquaredGradient) = try rmspropupdate(
                parameters, gradients, averageSquaredGradient, learnRate: iteration < 1500 ? 0.01 : 0.0005)
        }
        expectFitted(parameters, tolerance: 1e-3)
    }

    @Test func lbfgs() throws {
        var parameters = Self.start
        var state = try LBFGSState()
        for _ in 1...50 {
            (parameters, state) = try lbfgsupdate(parameters, { try dlfeval(Self.modelLoss, $0) }, state)
            if state.gradientsNorm! < 1e-12 || state.lineSearchStatus == .failed { break }
        }
        expectFitted(parameters, tolerance: 1e-9)
    }
}
