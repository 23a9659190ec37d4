import Testing
@testable import SwiftDL

@Suite struct WeightDecayTests {
    @Test func l2RegularizationAddsTheScaledWeights() throws {
        // g + λw with λ = 0.1: [1 + 1, 2 − 2].
        let regularized = try addingL2Regularization(to: [DLArray([1.0, 2])], parameters: [DLArray([10.0, -20])], factor: 0.1)
        expectElements(regularized[0], [2, 0])
        // As MATLAB writes it with dlupdate.
        let viaDLUpdate = try dlupdate({ g, w in try g + 0.1 * w }, [DLArray([1.0, 2])], [DLArray([10.0, -20])])
        expectSameBits(regularized[0], viaDLUpdate[0])
        // A factor of 0 returns the gradients as they are.
        let none = try addingL2Regularization(to: [DLArray([1.0, 2])], parameters: [DLArray([10.0, -20])], factor: 0)
        expectSameBits(none[0], DLArray([1.0, 2]))
    }

    @Test func decoupledWeightDecayShrinksTheParameters() throws {
        // w(1 − αλ) with α = 0.1, λ = 0.5.
        let w = try DLArray([10.0, -20], shape: [1, 2], labels: "BC")
        let decayed = try applyingDecoupledWeightDecay(to: w, learnRate: 0.1, decay: 0.5)
        expectElements(decayed, [9.5, -19])
        #expect(decayed.labels == "BC" && decayed.shape == [1, 2] && !decayed.isTraced)
        expectSameBits(try applyingDecoupledWeightDecay(to: w, learnRate: 0.1, decay: 0), w)
    }

    @Test func errors() throws {
        expectError(containing: "addingL2Regularization: factor must be finite and non-negative, got -1.0") {
            _ = try addingL2Regularization(to: DLArray([1.0]), parameters: DLArray([1.0]), factor: -1)
        }
        let shape = errorMessage(DLError.shapeMismatch) {
            _ = try addingL2Regularization(to: DLArray([1.0]), parameters: DLArray([1.0, 2]), factor: 1)
        }
        #expect(shape.contains("gradients array 0 has shape [1] but parameters array 0 has shape [2]"), "\(shape)")
        expectError(containing: "decay must be finite and non-negative") {
            _ = try applyingDecoupledWeightDecay(to: DLArray([1.0]), learnRate: 0.1, decay: .nan)
        }
    }
}
