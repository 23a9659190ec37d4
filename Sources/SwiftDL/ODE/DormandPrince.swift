import RealModule

/// The explicit Runge–Kutta (4,5) pair of Dormand and Prince with the error control and
/// initial step of MATLAB's `ode45` (Shampine and Reichelt, "The MATLAB ODE Suite", 1997).
///
/// The state is a list of arrays, so one solver serves an ODE's state and the augmented
/// state of its adjoint. The stages are computed with SwiftDL operations, so inside a
/// recording `dlfeval` the whole solution is traced and can be differentiated through its
/// steps; the step sizes are chosen from the values alone and are constants of the trace.
struct DormandPrince {
    /// The settings MATLAB calls `RelTol`, `AbsTol`, `InitialStep` and `MaxStep`.
    struct Settings {
        var relativeTolerance: Double
        var absoluteTolerance: Double
        var initialStep: Double?
        var maxStepSize: Double?
    }

    /// The right-hand side: the derivative of every state array at time `t`.
    typealias Dynamics = (_ t: Double, _ state: [DLArray]) throws -> [DLArray]

    /// The nodes, the coupling coefficients and the error coefficients (fifth-order solution
    /// minus the embedded fourth-order one) of the tableau; the fifth-order weights are the
    /// last row of `a` (first same as last).
    static let c: [Double] = [0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1, 1]
    static let a: [[Double]] = [
        [],
        [1.0 / 5],
        [3.0 / 40, 9.0 / 40],
        [44.0 / 45, -56.0 / 15, 32.0 / 9],
        [19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729],
        [9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656],
        [35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84],
    ]
    static let e: [Double] = [71.0 / 57600, 0, -71.0 / 16695, 71.0 / 1920, -17253.0 / 339200, 22.0 / 525, -1.0 / 40]

    let settings: Settings
    let dynamics: Dynamics

    /// Integrates from `times[0]` with the state `initial`, stepping exactly onto each later
    /// time of `times` (strictly monotonic), and returns the state at each of them.
    ///
    /// `jump`, when given, is called on reaching each time with its index and the state there;
    /// a state it returns replaces the solution from then on (the adjoint adds the outputs'
    /// gradients this way), and the integration goes on with the step size it had.
    ///
    /// - Throws: ``DLError/invalidArgument(_:)`` when the step size falls below the smallest
    ///   the time's precision allows (a singular or very stiff problem), or what the dynamics throw.
    func solve(_ times: [Double], from initial: [DLArray],
               jump: ((_ index: Int, _ state: [DLArray]) throws -> [DLArray]?)? = nil) throws -> [[DLArray]] {
        let start = times[0], end = times[times.count - 1]
        let direction: Double = end > start ? 1 : -1
        let maxStep = settings.maxStepSize ?? 0.1 * Swift.abs(end - start)
        let rtol = settings.relativeTolerance
        let threshold = settings.absoluteTolerance / rtol
        var t = start
        var y = initial
        var slope = try dynamics(t, y)

        // The first step, as ode45 chooses it: bounded by the first output interval and by
        // the slope scaled to the tolerance.
        var stepSize: Double
        if let initialStep = settings.initialStep {
            stepSize = Swift.min(maxStep, initialStep)
        } else {
            stepSize = Swift.min(maxStep, Swift.abs(times[1] - start))
            let rate = try Self.scaledMaximum(slope, by: y, nil, threshold) / (0.8 * Double.pow(rtol, 0.2))
            if stepSize * rate > 1 { stepSize = 1 / rate }
        }

        var outputs: [[DLArray]] = []
        outputs.reserveCapacity(times.count - 1)
        var next = 1
        while next < times.count {
            let target = times[next]
            let minStep = 16 * (Swift.abs(t).ulp)
            stepSize = Swift.min(maxStep, Swift.max(minStep, stepSize))
            var failed = false
            while true {
                // Stretch a step that nearly reaches the next output onto it.
                let reaches = 1.1 * stepSize >= Swift.abs(target - t)
                let h = reaches ? target - t : direction * stepSize
                var stages = [slope]
                var proposal: [DLArray] = []
                for stage in 1...6 {
                    let state = try Self.combination(y, h, Self.a[stage], stages)
                    if stage == 6 { proposal = state }
                    stages.append(try dynamics(t + Self.c[stage] * h, state))
                }
                let estimate = try Self.combination(nil, h, Self.e, stages)
                let error = try Self.scaledMaximum(estimate, by: y, proposal, threshold)
                if error > rtol || !error.isFinite {
                    let size = Swift.abs(h)
                    guard size > minStep else {
                        throw DLError.invalidArgument("""
                            dlode45: the step size fell below \(minStep) at t = \(t) without meeting the tolerances \
                            (RelativeTolerance \(rtol), AbsoluteTolerance \(settings.absoluteTolerance)); the \
                            solution may be singular or the problem very stiff there
                            """)
                    }
                    stepSize = failed
                        ? Swift.max(minStep, 0.5 * size)
                        : Swift.max(minStep, size * Swift.max(0.1, 0.8 * Double.pow(rtol / error, 0.2)))
                    failed = true
                    continue
                }
                t = reaches ? target : t + h
                y = proposal
                slope = stages[6]
                if reaches {
                    outputs.append(y)
                    if next < times.count - 1, let jumped = try jump?(next, y) {
                        y = jumped
                        slope = try dynamics(t, y)
                    }
                    next += 1
                }
                if !failed {
                    // Grow the step by at most 5 (ode45's rule).
                    let factor = 1.25 * Double.pow(error / rtol, 0.2)
                    stepSize = factor > 0.2 ? Swift.abs(h) / factor : 5 * Swift.abs(h)
                } else {
                    stepSize = Swift.abs(h)
                }
                break
            }
        }
        return outputs
    }

    /// `base + h Σⱼ weights[j]·stages[j]` array by array (without `base` when it is nil);
    /// zero weights are skipped.
    static func combination(_ base: [DLArray]?, _ h: Double, _ weights: [Double],
                            _ stages: [[DLArray]]) throws -> [DLArray] {
        try (0..<stages[0].count).map { k in
            var total: DLArray? = base?[k]
            for (weight, stage) in zip(weights, stages) where weight != 0 {
                let term = (h * weight) * stage[k]
                total = try total.map { try $0 + term } ?? term
            }
            return total ?? DLArray.zeros(like: extractdata(stages[0][k]))
        }
    }

    /// `max |values| / max(|y|, |proposal|, threshold)` over every element of every array (the
    /// error norm of ode45), computed from the values alone.
    static func scaledMaximum(_ values: [DLArray], by y: [DLArray], _ proposal: [DLArray]?,
                              _ threshold: Double) throws -> Double {
        var largest = 0.0
        for k in values.indices {
            let v = extractdata(values[k]).scalars(as: Double.self)
            let a = extractdata(y[k]).scalars(as: Double.self)
            let b = proposal.map { extractdata($0[k]).scalars(as: Double.self) } ?? a
            for i in v.indices {
                let scale = Swift.max(Swift.abs(a[i]), Swift.abs(b[i]), threshold)
                let ratio = Swift.abs(v[i]) / scale
                if !(ratio <= largest) { largest = ratio }
            }
        }
        return largest
    }
}
