// The adjoint method of Chen et al. ("Neural Ordinary Differential Equations", 2018) as one
// traced operation: its forward pass solves the ODE without recording anything, and its
// derivative rule solves, backward in time, the augmented system
//
//     dy/dt = f(t, y, θ),   da/dt = −aᵀ ∂f/∂y,   da_θ/dt = −aᵀ ∂f/∂θ,
//
// from the last output time, where a is the gradient of the output there, to the first, in
// one solve whose step size carries over; at each earlier output time the output's gradient
// is added to a. Then a(t₀) is the gradient
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
        let start = [try output(solution, last), try output(outputGradient, last)]
            + parameters.map { DLArray.zeros(like: extractdata($0)) }
        let backward = DormandPrince(settings: settings) { t, augmented in
            try augmentedDynamics(t, augmented, parameters: parameters)
        }
        // One solve from the last time to the first, so the step size carries over; on reaching
        // each earlier output time tspan[k] its gradient joins the adjoint.
        let reached = try backward.solve(tspan.reversed(), from: start) { index, augmented in
            let k = tspan.count - 1 - index
            guard k >= 1 else { return nil }
            var jumped = augmented
            jumped[1] = try jumped[1] + output(outputGradient, k - 1)
            return jumped
        }
        let adjoint = reached[reached.count - 1][1]
        let parameterAdjoints = Array(reached[reached.count - 1][2...])
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
