import Testing
@testable import SwiftDL

@Suite struct LBFGSTests {
    /// Rosenbrock's function and its gradient, as in MATLAB's rosenbrock.m.
    static func rosenbrock(_ x: DLArray) throws -> (DLArray, DLArray) {
        let y = try 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2
        return (y, try dlgradient(y, x))
    }

    /// L-BFGS steps from `start` until the gradient vanishes, the line search fails or 200 steps.
    static func minimizeRosenbrock(from start: DLArray, method: LBFGSLineSearchMethod) throws -> (DLArray, LBFGSState) {
        var (x, state) = (start, try LBFGSState())
        for _ in 1...200 {
            (x, state) = try lbfgsupdate(x, { try dlfeval(rosenbrock, $0) }, state, lineSearchMethod: method)
            if state.gradientsNorm! < 1e-12 || state.lineSearchStatus == .failed { break }
        }
        return (x, state)
    }

    @Test(arguments: LBFGSLineSearchMethod.allCases) func minimizesRosenbrock(_ method: LBFGSLineSearchMethod) throws {
        let (x, state) = try Self.minimizeRosenbrock(from: DLArray([-1.0, 2.0]), method: method)
        let solution = doubleElements(x)
        #expect(Swift.abs(solution[0] - 1) < 1e-6 && Swift.abs(solution[1] - 1) < 1e-6, "\(method): \(solution) after \(state.iteration) steps")
        #expect(state.loss! < 1e-12 && state.iteration < 200 && state.lineSearchMethod == method)
    }

    @Test func defaults() throws {
        let state = try LBFGSState()
        #expect(state.historySize == 10 && state.initialInverseHessianFactor == 1 && state.inverseHessianFactor == 1)
        #expect(state.loss == nil && state.gradients == nil && state.lineSearchStatus == nil && state.stepHistory.isEmpty)
        // The first step evaluates the loss where it starts (Rosenbrock at [-1, 2] is 104, with
        // gradient [396, 200]), then at the line search's points; the next step starts from the
        // loss and gradients the state keeps.
        var evaluated: [[Double]] = []
        let lossFunction = { (x: DLArray) in
            evaluated.append(doubleElements(x))
            return try dlfeval(Self.rosenbrock, x)
        }
        let (x1, next) = try lbfgsupdate(DLArray([-1.0, 2.0]), lossFunction, state)
        #expect(evaluated.first == [-1, 2] && evaluated.count >= 2 && evaluated.last == doubleElements(x1))
        #expect(next.lineSearchMethod == .weakWolfe && next.lineSearchStatus == .completed && next.iteration == 1)
        #expect(next.loss! < 104 && next.stepHistory.count == 1 && next.gradientsDifferenceHistory.count == 1)
        evaluated.removeAll()
        _ = try lbfgsupdate(x1, lossFunction, next)
        #expect(!evaluated.isEmpty && !evaluated.contains(doubleElements(x1)), "\(evaluated)")
    }

    /// Two steps on f(x) = ½xᵀAx, A = diag(1, 4), from [1, 1], checked against the BFGS formulas.
    @Test func twoStepsByHand() throws {
        func quadratic(_ x: DLArray) throws -> (DLArray, DLArray) {
            let y = try 0.5 * (x[0] ** 2 + 4 * x[1] ** 2)
            return (y, try dlgradient(y, x))
        }
        let lossFunction = { (x: DLArray) in try dlfeval(quadratic, x) }
        // Step 1: direction −g = [−1, −4]. Length 1 reaches [0, −3], where f = 18 > 2.5: too far.
        // Length ½ reaches [0.5, −1]: f = 2.125 decreases enough, and the slope g·d = 15.5 ≥ 0.9·(−17).
        let (x1, state1) = try lbfgsupdate(DLArray([1.0, 1]), lossFunction, try LBFGSState())
        expectElements(x1, [0.5, -1])
        #expect(state1.learnRate == 0.5 && state1.loss == 2.125)
        #expect(Swift.abs(state1.stepNorm! - 4.25.squareRoot()) < 1e-15 && Swift.abs(state1.gradientsNorm! - 16.25.squareRoot()) < 1e-15)
        expectElements(state1.gradients![0], [0.5, -4])
        // s = [−0.5, −2], y = [−0.5, −8]; λ = sᵀy/yᵀy.
        let (s, y) = ([-0.5, -2.0], [-0.5, -8.0])
        let sy = s[0] * y[0] + s[1] * y[1]
        let lambda = sy / (y[0] * y[0] + y[1] * y[1])
        #expect(Swift.abs(state1.inverseHessianFactor - lambda) < 1e-16)
        expectElements(state1.stepHistory[0], s)
        expectElements(state1.gradientsDifferenceHistory[0], y)
        // Step 2: d = −Hg with H = (I − ρsyᵀ)λI(I − ρysᵀ) + ρssᵀ, ρ = 1/sᵀy; length 1 is accepted.
        let rho = 1 / sy
        func left(_ i: Int, _ j: Int) -> Double { (i == j ? 1 : 0) - rho * s[i] * y[j] }
        var h = [[0.0, 0], [0, 0]]
        for i in 0..<2 {
            for j in 0..<2 {
                for k in 0..<2 { h[i][j] += lambda * left(i, k) * left(j, k) }
                h[i][j] += rho * s[i] * s[j]
            }
        }
        let g1 = [0.5, -4.0]
        let d = (0..<2).map { i in -(h[i][0] * g1[0] + h[i][1] * g1[1]) }
        let (x2, state2) = try lbfgsupdate(x1, lossFunction, state1)
        expectElements(x2, [0.5 + d[0], -1 + d[1]], tolerance: 1e-15)
        #expect(state2.learnRate == 1 && state2.iteration == 2 && state2.stepHistory.count == 2)
    }

    @Test func historyKeepsTheLatestPairs() throws {
        var (x, state) = (DLArray([-1.0, 2.0]), try LBFGSState(historySize: 3))
        for _ in 1...6 { (x, state) = try lbfgsupdate(x, { try dlfeval(Self.rosenbrock, $0) }, state) }
        #expect(state.stepHistory.count == 3 && state.gradientsDifferenceHistory.count == 3 && state.iteration == 6)
    }

    @Test func frozenArraysStayAndFactorsScaleTheStep() throws {
        // f = (a − 3)² + (b − a)² with b frozen at 1: b never moves and a goes to 2.
        func loss(_ p: ScaledArrays) throws -> (DLArray, ScaledArrays) {
            let y = try sum((p.arrays[0] - 3) ** 2) + sum((p.arrays[1] - p.arrays[0]) ** 2)
            return (y, try dlgradient(y, p))
        }
        let frozen = try DLArray([Float(1)], shape: [1, 1], labels: "CB")
        var parameters = ScaledArrays(arrays: [DLArray([0.0]), frozen], learnRateFactors: [1, 0])
        var state = try LBFGSState()
        for _ in 1...20 {
            (parameters, state) = try lbfgsupdate(parameters, { try dlfeval(loss, $0) }, state)
            expectSameBits(parameters.arrays[1], frozen)
            if state.gradientsNorm! < 1e-12 { break }
        }
        expectElements(parameters.arrays[0], [2], tolerance: 1e-9)
        #expect(state.stepHistory.allSatisfy { $0.count == 1 })

        // f = 0.025(a² + b²) with factors 1 and 2: the first step is −factor·g, and backtracking
        // takes it whole, so b moves twice as far as a.
        func bowl(_ p: ScaledArrays) throws -> (DLArray, ScaledArrays) {
            let y = try 0.025 * (sum(p.arrays[0] ** 2) + sum(p.arrays[1] ** 2))
            return (y, try dlgradient(y, p))
        }
        let start = ScaledArrays(arrays: [DLArray([1.0]), DLArray([1.0])], learnRateFactors: [1, 2])
        let (moved, _) = try lbfgsupdate(start, { try dlfeval(bowl, $0) }, try LBFGSState(), lineSearchMethod: .backtracking)
        expectElements(moved.arrays[0], [0.95])
        expectElements(moved.arrays[1], [0.9])
    }

    @Test func failedLineSearchLeavesTheParameters() throws {
        // A loss that is NaN everywhere but at the start: no step length is acceptable.
        func loss(_ x: DLArray) throws -> (DLArray, DLArray) {
            let y = sum(x ** 2)
            let value = doubleElements(x)[0] == 1 ? y : y * .nan
            return (value, try dlgradient(y, x))
        }
        let (x, state) = try lbfgsupdate(DLArray([1.0]), { try dlfeval(loss, $0) }, try LBFGSState(),
                                         maxNumLineSearchIterations: 5)
        expectSameBits(x, DLArray([1.0]))
        #expect(state.lineSearchStatus == .failed && state.stepNorm == 0 && state.iteration == 0 && state.loss == 1)
    }

    @Test func errors() throws {
        let message = errorMessage(DLError.invalidArgument) {
            _ = try lbfgsupdate(DLArray([1.0, 2]), { x in (x, x) }, try LBFGSState())
        }
        #expect(message.contains("the loss function must return a real scalar loss, got a float64 array of shape [2]"), "\(message)")
        let structure = errorMessage(DLError.invalidArgument) {
            _ = try lbfgsupdate([DLArray([1.0])], { x in (sum(x[0]), [x[0], x[0]]) }, try LBFGSState())
        }
        #expect(structure.contains("2 arrays in the loss function's gradients but 1 in parameters"), "\(structure)")
        let shape = errorMessage(DLError.shapeMismatch) {
            _ = try lbfgsupdate(DLArray([1.0]), { x in (sum(x), DLArray([1.0, 2])) }, try LBFGSState())
        }
        #expect(shape.contains("the loss function's gradients array 0 has shape [2]"), "\(shape)")
        expectError(containing: "the loss at the current parameters is inf") {
            _ = try lbfgsupdate(DLArray([1.0]), { x in (sum(x) * .infinity, x) }, try LBFGSState())
        }
        expectError(containing: "historySize must be a positive integer, got 0") { _ = try LBFGSState(historySize: 0) }
        expectError(containing: "maxNumLineSearchIterations must be a positive integer") {
            _ = try lbfgsupdate(DLArray([1.0]), { x in (sum(x), x) }, try LBFGSState(), maxNumLineSearchIterations: 0)
        }
        // A state made for other parameters.
        let (_, state) = try lbfgsupdate(DLArray([-1.0, 2.0]), { try dlfeval(Self.rosenbrock, $0) }, try LBFGSState())
        expectError(containing: "use a new LBFGSState") {
            _ = try lbfgsupdate(DLArray([1.0, 2, 3]), { x in (sum(x), x) }, state)
        }
    }
}
