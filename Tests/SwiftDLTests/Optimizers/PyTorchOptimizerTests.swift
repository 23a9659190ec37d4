import Testing
@testable import SwiftDL

/// The optimizers over six steps of a small regression, against PyTorch's Adam, AdamW, RMSprop
/// and SGD (`Fixtures/make_optimizers.py`, which explains how the conventions are converted).
/// The bias has learn-rate factor 2, which PyTorch gives as a parameter group with twice the
/// learn rate.
@Suite struct PyTorchOptimizerTests {
    /// The fixed problem of a fixture case: loss mean((tanh(X W + b) − Y)²).
    struct Problem {
        let fixture: Fixture
        let x, y: DLArray
        let steps: Int

        init(_ name: String) throws {
            fixture = try Fixture("optimizers", name)
            (x, y) = (try fixture.array("X"), try fixture.array("Y"))
            steps = try fixture.integers("steps")[0]
        }

        /// W and b before the first step, with learn-rate factors 1 and 2.
        func initialParameters() throws -> ScaledArrays {
            ScaledArrays(arrays: [try fixture.array("W_0"), try fixture.array("b_0")], learnRateFactors: [1, 2])
        }

        /// The loss at `parameters` and its gradients, checked against PyTorch's loss at step `step`.
        func gradients(at parameters: ScaledArrays, step: Int) throws -> ScaledArrays {
            let (loss, gradients) = try dlfeval({ (p: ScaledArrays) in
                let loss = mean(try (tanh(try mtimes(x, p.arrays[0]) + p.arrays[1]) - y) ** 2)
                return (loss, try dlgradient(loss, p))
            }, parameters)
            let expected = try fixture.number("loss_\(step)")
            #expect(Swift.abs(loss.scalar(as: Double.self) - expected) < 1e-14, "loss at step \(step)")
            return gradients
        }

        /// Expects the parameters and the named states after step `step` to be PyTorch's.
        func expectStep(_ step: Int, parameters: ScaledArrays, states: [String: ScaledArrays],
                        sourceLocation: SourceLocation = #_sourceLocation) throws {
            for (index, name) in ["W", "b"].enumerated() {
                expectClose(parameters.arrays[index], try fixture.array("\(name)_\(step)"), tolerance: 1e-13,
                            "\(name) after step \(step)", sourceLocation: sourceLocation)
                for (state, value) in states {
                    expectClose(value.arrays[index], try fixture.array("\(state)_\(name)_\(step)"), tolerance: 1e-13,
                                "\(state) of \(name) after step \(step)", sourceLocation: sourceLocation)
                }
            }
        }
    }

    @Test(arguments: ["adam", "adamw"]) func adam(_ name: String) throws {
        let problem = try Problem(name)
        let f = problem.fixture
        let rate = try f.number("learnRate")
        let decay = name == "adamw" ? try f.number("decay") : 0
        var parameters = try problem.initialParameters()
        var averages: (ScaledArrays?, ScaledArrays?) = (nil, nil)
        for step in 1...problem.steps {
            let gradients = try problem.gradients(at: parameters, step: step)
            let decayed = try applyingDecoupledWeightDecay(to: parameters, learnRate: rate, decay: decay)
            let result = try adamupdate(decayed, gradients, averages.0, averages.1, iteration: step, learnRate: rate,
                                        gradientDecay: try f.number("gradientDecay"),
                                        squaredGradientDecay: try f.number("squaredGradientDecay"),
                                        epsilon: try f.number("epsilon"))
            try problem.expectStep(step, parameters: result.parameters, states: [
                "averageGradient": result.averageGradient, "averageSquaredGradient": result.averageSquaredGradient])
            parameters = result.parameters
            averages = (result.averageGradient, result.averageSquaredGradient)
        }
    }

    @Test func rmsprop() throws {
        let problem = try Problem("rmsprop")
        let f = problem.fixture
        var parameters = try problem.initialParameters()
        var average: ScaledArrays?
        for step in 1...problem.steps {
            let gradients = try problem.gradients(at: parameters, step: step)
            let result = try rmspropupdate(parameters, gradients, average, learnRate: try f.number("learnRate"),
                                           squaredGradientDecay: try f.number("squaredGradientDecay"),
                                           epsilon: try f.number("epsilon"))
            try problem.expectStep(step, parameters: result.parameters,
                                   states: ["averageSquaredGradient": result.averageSquaredGradient])
            (parameters, average) = (result.parameters, result.averageSquaredGradient)
        }
    }

    @Test(arguments: ["sgdm", "sgdm_l2"]) func sgdm(_ name: String) throws {
        let problem = try Problem(name)
        let f = problem.fixture
        let l2 = name == "sgdm_l2" ? try f.number("l2Factor") : 0
        var parameters = try problem.initialParameters()
        var velocity: ScaledArrays?
        for step in 1...problem.steps {
            let gradients = try addingL2Regularization(to: try problem.gradients(at: parameters, step: step),
                                                       parameters: parameters, factor: l2)
            let result = try sgdmupdate(parameters, gradients, velocity, learnRate: try f.number("learnRate"),
                                        momentum: try f.number("momentum"))
            try problem.expectStep(step, parameters: result.parameters, states: ["velocity": result.velocity])
            (parameters, velocity) = (result.parameters, result.velocity)
        }
    }
}
