import Testing
@testable import SwiftDL

/// Learn-rate factors in every optimizer: 0 leaves an array and its state exactly as they were,
/// 2 doubles the step.
@Suite struct LearnRateFactorTests {
    /// Three copies of one parameter with factors 0, 1 and 2, float32 and labeled, so that
    /// "unchanged" covers the type and labels too.
    let parameters = ScaledArrays(
        arrays: Array(repeating: try! DLArray([Float(0.5), -1.5, 2], shape: [3, 1], labels: "CB"), count: 3),
        learnRateFactors: [0, 1, 2])
    let gradients = ScaledArrays(
        arrays: Array(repeating: try! DLArray([Float(0.25), 0.75, -1], shape: [3, 1], labels: "CB"), count: 3),
        learnRateFactors: [0, 1, 2])

    /// Checks the factor-0 array and its states against the originals, and the factor-2 step
    /// against twice the factor-1 step.
    func check(parameters updated: ScaledArrays, states: [ScaledArrays], previous: [ScaledArrays]?,
               sourceLocation: SourceLocation = #_sourceLocation) {
        expectSameBits(updated.arrays[0], parameters.arrays[0], "frozen parameter", sourceLocation: sourceLocation)
        for (index, state) in states.enumerated() {
            let expected = previous?[index].arrays[0] ?? DLArray.zeros(like: parameters.arrays[0])
            expectSameBits(state.arrays[0], expected, "state of the frozen parameter", sourceLocation: sourceLocation)
        }
        #expect(updated.learnRateFactors == [0, 1, 2], sourceLocation: sourceLocation)
    }

    func expectDoubledStep(_ updated: ScaledArrays, from start: ScaledArrays,
                           sourceLocation: SourceLocation = #_sourceLocation) {
        let once = zip(doubleElements(updated.arrays[1]), doubleElements(start.arrays[1])).map { $0 - $1 }
        let twice = zip(doubleElements(updated.arrays[2]), doubleElements(start.arrays[2])).map { $0 - $1 }
        #expect(once.allSatisfy { $0 != 0 }, sourceLocation: sourceLocation)
        for (a, b) in zip(once, twice) {
            // Within the float32 rounding of the parameters (of magnitude up to 2).
            #expect(Swift.abs(b - 2 * a) <= 5e-7, "\(b) vs 2 × \(a)", sourceLocation: sourceLocation)
        }
    }

    @Test func adam() throws {
        let first = try adamupdate(parameters, gradients, nil, nil, iteration: 1, learnRate: 0.01)
        check(parameters: first.parameters, states: [first.averageGradient, first.averageSquaredGradient], previous: nil)
        expectDoubledStep(first.parameters, from: parameters)
        // Later steps with a non-zero state passed in for the frozen array: it stays as given.
        var state = (first.averageGradient, first.averageSquaredGradient)
        state.0.arrays[0] = try DLArray([Float(1), 2, 3], shape: [3, 1], labels: "CB")
        var current = first.parameters
        for iteration in 2...3 {
            let next = try adamupdate(current, gradients, state.0, state.1, iteration: iteration, learnRate: 0.01)
            check(parameters: next.parameters, states: [next.averageGradient, next.averageSquaredGradient],
                  previous: [state.0, state.1])
            (current, state) = (next.parameters, (next.averageGradient, next.averageSquaredGradient))
        }
    }

    @Test func sgdm() throws {
        let first = try sgdmupdate(parameters, gradients, nil, learnRate: 0.1)
        check(parameters: first.parameters, states: [first.velocity], previous: nil)
        expectDoubledStep(first.parameters, from: parameters)
        var velocity = first.velocity
        velocity.arrays[0] = try DLArray([Float(-1), 0, 1], shape: [3, 1], labels: "CB")
        let second = try sgdmupdate(first.parameters, gradients, velocity, learnRate: 0.1)
        check(parameters: second.parameters, states: [second.velocity], previous: [velocity])
        // With equal gradients and velocities twice as large, the second step doubles too.
        expectDoubledStep(second.parameters, from: first.parameters)
    }

    @Test func rmsprop() throws {
        let first = try rmspropupdate(parameters, gradients, nil, learnRate: 0.01)
        check(parameters: first.parameters, states: [first.averageSquaredGradient], previous: nil)
        expectDoubledStep(first.parameters, from: parameters)
        let second = try rmspropupdate(first.parameters, gradients, first.averageSquaredGradient, learnRate: 0.01)
        check(parameters: second.parameters, states: [second.averageSquaredGradient], previous: [first.averageSquaredGradient])
        expectDoubledStep(second.parameters, from: first.parameters)
    }

    @Test func weightDecay() throws {
        let decayed = try applyingDecoupledWeightDecay(to: parameters, learnRate: 0.1, decay: 0.5)
        expectSameBits(decayed.arrays[0], parameters.arrays[0])
        expectElements(decayed.arrays[1], doubleElements(parameters.arrays[1]).map { $0 * 0.95 }, tolerance: 1e-7)
        expectElements(decayed.arrays[2], doubleElements(parameters.arrays[2]).map { $0 * 0.9 }, tolerance: 1e-7)
        // L2 regularization leaves the gradients of frozen arrays alone and is not scaled by
        // the factors (they scale learn rates, not the loss).
        let regularized = try addingL2Regularization(to: gradients, parameters: parameters, factor: 0.1)
        expectSameBits(regularized.arrays[0], gradients.arrays[0])
        expectSameBits(regularized.arrays[1], regularized.arrays[2])
        expectElements(regularized.arrays[1], [0.3, 0.6, -0.8], tolerance: 1e-7)
    }

    @Test func invalidFactors() throws {
        var negative = parameters
        negative.learnRateFactors = [1, -1, 1]
        let message = errorMessage(DLError.invalidArgument) { _ = try sgdmupdate(negative, gradients, nil) }
        #expect(message.contains("the learn-rate factor of parameter array 1 is -1.0"), "\(message)")
        var short = parameters
        short.learnRateFactors = [1, 1]
        expectError(containing: "2 learn-rate factors for 3 arrays") { _ = try rmspropupdate(short, gradients, nil) }
    }
}
