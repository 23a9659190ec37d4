// The adjoint method of Chen et al. ("Neural Ordinary Differential Equations", 2018) as one
// traced operation: its forward pass solves the ODE without recording anything, and its
// derivative rule solves, backward in time, the augmented system
//
//     dy/dt = f(t, y, θ),   da/dt = −aᵀ ∂f/∂y,   da_θ/dt = −aᵀ ∂f/∂θ,
//
// from the last output time, where a is the gradient of the output there, to the first;
// at each earlier output time the output's gradient is added to a. Then a(t₀) is the gradient
// with respect to y0 and a_θ(t₀) that with respect to θ. The products aᵀ∂f/∂y and aᵀ∂f/∂θ
// are vector-Jacobian products of `odefun`, each one backward pass through a short trace of
// its own that is released straight away: memory does not grow with the number of steps.
//
// When the backward pass is itself traced (enableHigherDerivatives), the backward solve is
// recorded like any computation, so second derivatives come from differentiating through it.

extension ODEProblem {
    /// The states at `tspan[1...]`, recorded as one operation of `y0` and `theta` whose
    /// derivative rule solves the adjoint system.
    func solveWithAdjoint(_ tspan: [Double], from y0: DLArray) throws -> DLArray {
        let parameters = theta.flattenedArrays
        let values = theta.replacingArrays(with: parameters.map { extractdata($0).withLabels($0.labels) })
        let states = try Trace.withoutRecording { try solver(values).solve(tspan, from: [extractdata(y0)]) }
        return try stacked(states.map { $0[0] }).recordedUsingOutput(from: [y0] + parameters) { gradient, _, solution in
            try adjointGradients(tspan, solution: solution, outputGradient: gradient, parameters: parameters)
        }
    }

    /// The gradients with respect to `y0` and each array of `theta`, given the solution at
    /// `tspan[1...]` and its gradient.
    private func adjointGradients(_ tspan: [Double], solution: DLArray, outputGradient: DLArray,
                                  parameters: [DLArray]) throws -> [DLArray?] {
        func output(_ array: DLArray, _ k: Int) throws -> DLArray {
            try reshape(array.slice(dim: 0, range: k..<k + 1), stateShape)
        }
        let last = tspan.count - 2
        var state = try output(solution, last)
        var adjoint = try output(outputGradient, last)
        var parameterAdjoints = parameters.map { DLArray.zeros(like: extractdata($0)) }
        let backward = DormandPrince(settings: settings) { t, augmented in
            try augmentedDynamics(t, augmented, parameters: parameters)
        }
        for k in stride(from: tspan.count - 1, to: 0, by: -1) {
            let reached = try backward.solve([tspan[k], tspan[k - 1]], from: [state, adjoint] + parameterAdjoints)[0]
            state = reached[0]
            adjoint = reached[1]
            parameterAdjoints = Array(reached[2...])
            if k >= 2 { adjoint = try adjoint + output(outputGradient, k - 2) }
        }
        return [adjoint] + parameterAdjoints
    }

    /// The right-hand side of the augmented system at `[y, a, a_θ…]`.
    private func augmentedDynamics(_ t: Double, _ augmented: [DLArray], parameters: [DLArray]) throws -> [DLArray] {
        let adjoint = augmented[1]
        return try Trace.withVariables([augmented[0]] + parameters) { variables, keepsTrace in
            let slope = try derivative(t, variables[0], theta.replacingArrays(with: Array(variables.dropFirst())))
            let products = try gradients(of: innerProduct([slope], [adjoint]), at: variables, traced: keepsTrace)
            return [slope] + products.map { -$0 }
        }
    }
}
