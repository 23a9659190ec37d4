import Foundation
import Testing
@testable import SwiftDL

/// dlode45 on ODEs with closed-form solutions and gradients, in both gradient modes.
@Suite struct DLODE45Tests {
    /// Tight tolerances, so the solver's error is far below the tests' tolerances.
    let tight = (relative: 1e-10, absolute: 1e-12)

    /// y' = a·y, a one-element array.
    let growth = { (_: Double, y: DLArray, a: DLArray) throws -> DLArray in try y * a }

    /// The harmonic oscillator [x, v]' = [v, −ω²x] on a batch of states ("BC", 2 components).
    let oscillator = { (_: Double, y: DLArray, omega: DLArray) throws -> DLArray in
        try cat([y.slice(dim: 1, range: 1..<2), -(omega * omega) * y.slice(dim: 1, range: 0..<1)], dim: 1)
    }

    @Test(arguments: [ODEGradientMode.direct, .adjoint])
    func exponentialGrowthAndItsGradients(mode: ODEGradientMode) throws {
        let y0 = DLArray([1.0, 2.0]), a = DLArray([-0.7])
        let times = [0.0, 0.5, 1.0, 2.0]
        let (y, gradY0, gradA) = try dlfeval({ (y0: DLArray, a: DLArray) in
            let y = try dlode45(growth, times, y0, a, gradientMode: mode,
                                relativeTolerance: tight.relative, absoluteTolerance: tight.absolute)
            let (gy0, ga) = try dlgradient(sum(y), y0, a)
            return (extractdata(y), gy0, ga)
        }, y0, a)
        // y(t) = y0·e^{at}; Σ_t Σ_i y(t) has ∂/∂y0_i = Σ_t e^{at} and ∂/∂a = Σ_t t·e^{at}·Σ_i y0_i.
        let later = times.dropFirst()
        #expect(y.shape == [3, 2])
        let expected = later.flatMap { t in [1.0, 2.0].map { $0 * exp(-0.7 * t) } }
        expectClose(y, try DLArray(expected, shape: [3, 2]), tolerance: 1e-9, "solution")
        let sumExp = later.map { exp(-0.7 * $0) }.reduce(0, +)
        expectClose(gradY0, DLArray([sumExp, sumExp]), tolerance: 1e-8, "dL/dy0")
        expectClose(gradA, DLArray([3 * later.map { $0 * exp(-0.7 * $0) }.reduce(0, +)]), tolerance: 1e-8, "dL/da")
    }

    @Test(arguments: [ODEGradientMode.direct, .adjoint])
    func harmonicOscillatorAndTheFrequencysGradient(mode: ODEGradientMode) throws {
        // x(t) = x0 cos ωt + (v0/ω) sin ωt.
        let y0 = try DLArray([1.0, 0.5, -0.3, 2.0], shape: [2, 2]).labeled("BC")
        let omega = DLArray([1.3]), end = 3.0
        let (y, gradOmega) = try dlfeval({ (y0: DLArray, omega: DLArray) in
            let y = try dlode45(oscillator, [0, end], y0, omega, gradientMode: mode,
                                relativeTolerance: tight.relative, absoluteTolerance: tight.absolute)
            return (extractdata(y), try dlgradient(sum(y.slice(dim: 2, range: 0..<1)), omega))
        }, y0, omega)
        let w = 1.3, t = end
        var positions: [Double] = [], derivative = 0.0
        for (x0, v0) in [(1.0, 0.5), (-0.3, 2.0)] {
            positions.append(x0 * cos(w * t) + v0 / w * sin(w * t))
            derivative += -x0 * t * sin(w * t) + v0 * (t * cos(w * t) / w - sin(w * t) / (w * w))
        }
        #expect(y.shape == [1, 2, 2])
        expectClose(try reshape(y.slice(dim: 2, range: 0..<1), [2]), DLArray(positions), tolerance: 1e-8, "x(T)")
        expectClose(gradOmega, DLArray([derivative]), tolerance: 1e-7, "dx(T)/dω")
    }

    @Test func defaultTolerancesGiveMATLABsAccuracyAndLabels() throws {
        let y0 = try DLArray([1.0, 2.0], shape: [1, 2]).labeled("BC")
        let y = try dlode45(growth, [0, 1, 2], y0, DLArray([-0.7]))
        #expect(y.shape == [2, 1, 2] && y.labels == "TBC")
        let expected = [1.0, 2.0].map { $0 * exp(-0.7) } + [1.0, 2.0].map { $0 * exp(-1.4) }
        expectClose(try reshape(y, [4]), DLArray(expected), tolerance: 1e-3, "solution at rtol 1e-3")
        // Decreasing times integrate backward: from y(2) back to t = 0.
        let atTwo = try reshape(y.slice(dim: 0, range: 1..<2), [1, 2])
        let back = try dlode45(growth, [2, 0], atTwo, DLArray([-0.7]),
                               relativeTolerance: tight.relative, absoluteTolerance: tight.absolute)
        expectClose(try reshape(back, [2]), DLArray(atTwo.scalars(as: Double.self).map { $0 * exp(1.4) }),
                    tolerance: 1e-9, "backward")
    }

    /// A small tanh network's dynamics, with its weights in a dictionary.
    static func network(_: Double, _ y: DLArray, _ theta: [String: DLArray]) throws -> DLArray {
        try mtimes(tanh(mtimes(y, theta["w1"]!) + theta["b1"]!), theta["w2"]!)
    }

    static func networkWeights() -> [String: DLArray] {
        var generator = DLRandomGenerator(seed: 11)
        return ["w1": 0.8 * DLArray.randn([2, 6], type: .float64, using: &generator),
                "b1": 0.3 * DLArray.randn([1, 6], type: .float64, using: &generator),
                "w2": 0.8 * DLArray.randn([6, 2], type: .float64, using: &generator)]
    }

    @Test func adjointAgreesWithDirectOnANetwork() throws {
        var generator = DLRandomGenerator(seed: 12)
        let y0 = DLArray.randn([5, 2], type: .float64, using: &generator)
        let target = DLArray.randn([3, 5, 2], type: .float64, using: &generator)
        func gradients(_ mode: ODEGradientMode) throws -> (DLArray, [String: DLArray]) {
            try dlfeval({ (y0: DLArray, theta: [String: DLArray]) in
                let y = try dlode45(Self.network, [0, 0.4, 0.9, 1.5], y0, theta, gradientMode: mode,
                                    relativeTolerance: 1e-9, absoluteTolerance: 1e-11)
                return try dlgradient(mean((y - target) ** 2), y0, theta)
            }, y0, Self.networkWeights())
        }
        let (directY0, directTheta) = try gradients(.direct)
        let (adjointY0, adjointTheta) = try gradients(.adjoint)
        expectClose(adjointY0, directY0, tolerance: 1e-7, "dL/dy0")
        for key in ["w1", "b1", "w2"] {
            expectClose(adjointTheta[key]!, directTheta[key]!, tolerance: 1e-7, "dL/d\(key)")
        }
    }

    @Test(arguments: [ODEGradientMode.direct, .adjoint])
    func gradcheckAtOrdersOneAndTwo(mode: ODEGradientMode) throws {
        let y0 = try DLArray([0.4, -0.6, 1.1, 0.2], shape: [2, 2])
        let weights = Self.networkWeights()
        try expectGradients({ (p: [DLArray]) in
            try dlode45(Self.network, [0, 0.5, 1], p[0], ["w1": p[1], "b1": p[2], "w2": p[3]], gradientMode: mode,
                        relativeTolerance: 1e-11, absoluteTolerance: 1e-13)
        }, at: [y0, weights["w1"]!, weights["b1"]!, weights["w2"]!], "\(mode)")
    }

    @Test func adjointRecordsOneOperationHoweverManySteps() throws {
        // With steps of at most 0.1, 1 time unit takes at least 10 steps and 100 at least
        // 1000: the trace of the adjoint mode holds the same few nodes either way, the direct
        // mode's grows with the steps.
        func recordedNodes(_ mode: ODEGradientMode, until end: Double) throws -> Int {
            try dlfeval({ (y0: DLArray, theta: [String: DLArray]) in
                let before = Trace.current!.nodes.count
                _ = try dlode45(Self.network, [0, end], y0, theta, gradientMode: mode, maxStepSize: 0.1)
                return Trace.current!.nodes.count - before
            }, DLArray.ones([1, 2]), Self.networkWeights())
        }
        #expect(try recordedNodes(.adjoint, until: 1) == recordedNodes(.adjoint, until: 100))
        #expect(try recordedNodes(.direct, until: 100) > 50 * recordedNodes(.direct, until: 1))
    }

    @Test func mistakesNameTheProblem() throws {
        let y0 = DLArray([1.0]), a = DLArray([-1.0])
        expectError(containing: "tspan must be strictly increasing or strictly decreasing", "tspan[2] = 0.5 follows tspan[1] = 1.0") {
            _ = try dlode45(growth, [0, 1, 0.5], y0, a)
        }
        expectError(containing: "tspan must hold at least two times") { _ = try dlode45(growth, [0], y0, a) }
        expectError(containing: "tspan[1] is nan") { _ = try dlode45(growth, [0, .nan], y0, a) }
        expectError(containing: "relativeTolerance must be a positive finite number, got 0.0") {
            _ = try dlode45(growth, [0, 1], y0, a, relativeTolerance: 0)
        }
        expectError(containing: "absoluteTolerance must be a positive finite number, got -1.0") {
            _ = try dlode45(growth, [0, 1], y0, a, absoluteTolerance: -1)
        }
        expectError(containing: "odefun returned an array of shape [2] for a state of shape [1]") {
            _ = try dlode45({ _, y, _ in try cat([y, y], dim: 0) }, [0, 1], y0, a)
        }
        expectError(containing: "the step size fell below") {
            // y' = y², y(0) = 1 blows up at t = 1.
            _ = try dlode45({ _, y, _ in try y * y }, [0, 2], y0, a)
        }
    }
}
