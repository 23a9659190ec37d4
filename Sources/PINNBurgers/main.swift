// MATLAB's "Solve PDE Using Physics-Informed Neural Network", with SwiftDL: a network
// u(x, t) of 9 fully connected layers (20 neurons, tanh) learns Burgers' equation
//
//     u_t + u·u_x − (0.01/π)·u_xx = 0,   x ∈ [−1, 1], t ∈ [0, 1],
//     u(x, 0) = −sin(πx),   u(−1, t) = u(1, t) = 0,
//
// from 10,000 collocation points and 100 initial and boundary points, by L-BFGS, with the
// residual written with dljacobian and dllaplacian. It reports the relative L2 error against
// the exact solution at t = 0.25, 0.5, 0.75, 1 and writes docs/pinn-burgers.png.
//
//     swift run -c release pinn-burgers [--iterations 1500] [--time-limit 600] [--step-tolerance 1e-5]
//     swift run -c release pinn-burgers --profile 10   # time the parts of one loss evaluation
import Foundation
import SwiftDL

/// The value after `flag` on the command line, or `fallback`.
func option(_ flag: String, _ fallback: Int) -> Int {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: flag), index + 1 < arguments.count,
          let value = Int(arguments[index + 1]), value > 0 else { return fallback }
    return value
}

/// The number after `flag` on the command line, or `fallback`.
func option(_ flag: String, _ fallback: Double) -> Double {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: flag), index + 1 < arguments.count,
          let value = Double(arguments[index + 1]), value >= 0 else { return fallback }
    return value
}

let viscosity = 0.01 / Double.pi

/// The first `count` points of the two-dimensional Sobol sequence (in Gray-code order), as
/// MATLAB's `net(sobolset(2), count)` draws the collocation points.
func sobolPoints(_ count: Int) -> [(Double, Double)] {
    var first = [UInt64](repeating: 0, count: 32), second = [UInt64](repeating: 0, count: 32)
    var m: UInt64 = 1   // direction numbers of the primitive polynomial x + 1: m_j = 2·m_{j−1} xor m_{j−1}
    for j in 0..<32 {
        first[j] = 1 << (31 - UInt64(j))
        second[j] = m << (31 - UInt64(j))
        m = (m << 1) ^ m
    }
    var points: [(Double, Double)] = [(0, 0)]
    var a: UInt64 = 0, b: UInt64 = 0
    for i in 1..<max(count, 1) {
        let bit = (~(i - 1)).trailingZeroBitCount   // the lowest zero bit of i − 1
        a ^= first[bit]
        b ^= second[bit]
        points.append((Double(a) / 4294967296, Double(b) / 4294967296))
    }
    return Array(points.prefix(count))
}

/// The exact solution by the Cole–Hopf transformation, as MATLAB's `solveBurgers`:
/// u = −∫ sin(π(x−η)) f(x−η) g(η) dη / ∫ f(x−η) g(η) dη with f(y) = exp(−cos(πy)/(2πν)) and
/// g(η) = exp(−η²/(4νt)). The integrals are taken by the trapezoidal rule on 20,001 points
/// over the range where g is above e⁻¹⁶⁰ of its peak, with the exponents shifted by their
/// maximum so nothing overflows; the integrands are smooth and decay fast, where the
/// trapezoidal rule converges faster than any power of the spacing.
func exactBurgers(x: Double, t: Double, nu: Double) -> Double {
    guard Swift.abs(x) != 1 else { return 0 }
    let count = 20001, halfWidth = (160 * 4 * nu * t).squareRoot()
    let spacing = 2 * halfWidth / Double(count - 1)
    var exponents = [Double](repeating: 0, count: count)
    for k in 0..<count {
        let eta = -halfWidth + Double(k) * spacing
        exponents[k] = -cos(Double.pi * (x - eta)) / (2 * Double.pi * nu) - eta * eta / (4 * nu * t)
    }
    let peak = exponents.max()!
    var numerator = 0.0, denominator = 0.0
    for k in 0..<count {
        let eta = -halfWidth + Double(k) * spacing
        let weight = (k == 0 || k == count - 1 ? 0.5 : 1) * exp(exponents[k] - peak)
        numerator += sin(Double.pi * (x - eta)) * weight
        denominator += weight
    }
    return -numerator / denominator
}

/// The network: 9 fully connected layers of 20 neurons (the last of 1), tanh between them.
func model(_ parameters: [String: DLArray], _ points: DLArray) throws -> DLArray {
    var h = points
    for layer in 1...9 {
        h = try mtimes(h, parameters["fc\(layer).weights"]!) + parameters["fc\(layer).bias"]!
        if layer < 9 { h = tanh(h) }
    }
    return h
}

/// MATLAB's modelLoss: the mean squared residual of Burgers' equation at the collocation points
/// plus the mean squared error at the initial and boundary points, and its gradients.
func modelLoss(_ parameters: [String: DLArray], _ x: DLArray, _ t: DLArray,
               _ conditionPoints: DLArray, _ conditionValues: DLArray) throws -> (DLArray, [String: DLArray]) {
    try dlfeval({ (parameters: [String: DLArray], x: DLArray, t: DLArray) in
        let points = try cat([x, t], dim: 1)
        let u = try model(parameters, points)
        let jacobian = try dljacobian(u, points, dim: 1)                     // N×2×1: u_x, u_t
        let ux = try reshape(jacobian[0..., 0, 0], [x.shape[0], 1])
        let ut = try reshape(jacobian[0..., 1, 0], [x.shape[0], 1])
        let uxx = try dllaplacian(u, x, dim: 1)
        let residual = try ut + u * ux - viscosity * uxx
        let conditionError = try model(parameters, conditionPoints) - conditionValues
        let loss = try mean(residual * residual) + mean(conditionError * conditionError)
        return (extractdata(loss), try dlgradient(loss, parameters))
    }, parameters, x, t)
}

/// The median time of `count` runs of `body`, in milliseconds.
func medianMilliseconds(_ count: Int, _ body: () throws -> Void) rethrows -> Double {
    var times: [Double] = []
    for _ in 0..<count {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
    }
    return times.sorted()[count / 2]
}

/// Prints the median time of one loss-and-gradient evaluation and of its parts, each timed as
/// the evaluation up to that part (forward pass; then the Jacobian; then the Laplacian; then
/// the loss and its gradient with respect to the learnables), over `runs` runs.
func profile(_ parameters: [String: DLArray], _ x: DLArray, _ t: DLArray, _ conditionPoints: DLArray,
             _ conditionValues: DLArray, runs: Int) throws {
    func upTo(_ stage: Int) throws {
        _ = try dlfeval({ (parameters: [String: DLArray], x: DLArray, t: DLArray) -> DLArray in
            let points = try cat([x, t], dim: 1)
            let u = try model(parameters, points)
            if stage >= 1 { _ = try dljacobian(u, points, dim: 1) }
            if stage >= 2 { _ = try dllaplacian(u, x, dim: 1) }
            return extractdata(u)
        }, parameters, x, t)
    }
    let stages = try (0...2).map { stage in try medianMilliseconds(runs) { try upTo(stage) } }
    let whole = try medianMilliseconds(runs) { _ = try modelLoss(parameters, x, t, conditionPoints, conditionValues) }
    print(String(format: "one loss-and-gradient evaluation, median of %d runs: %.1f ms", runs, whole))
    print(String(format: "  forward pass                      %7.1f ms", stages[0]))
    print(String(format: "  dljacobian(u, points)             %7.1f ms", stages[1] - stages[0]))
    print(String(format: "  dllaplacian(u, x)                 %7.1f ms", stages[2] - stages[1]))
    print(String(format: "  loss and dlgradient (learnables)  %7.1f ms", whole - stages[2]))
}

do {
    let maxIterations = option("--iterations", 1500), timeLimit = Double(option("--time-limit", 600))
    let stepTolerance = option("--step-tolerance", 1e-5)

    // Initial condition at 50 points, boundary conditions at 25 times on each side.
    var conditions: [Double] = [], values: [Double] = []
    for k in 0..<50 {
        let x = -1 + 2 * Double(k) / 49
        conditions += [x, 0]
        values.append(-sin(Double.pi * x))
    }
    for side in [-1.0, 1.0] {
        for k in 0..<25 {
            conditions += [side, Double(k) / 24]
            values.append(0)
        }
    }
    let conditionPoints = try DLArray(conditions, shape: [100, 2]), conditionValues = try DLArray(values, shape: [100, 1])
    let collocation = sobolPoints(10_000)
    let x = try DLArray(collocation.map { 2 * $0.0 - 1 }, shape: [10_000, 1])
    let t = try DLArray(collocation.map { $0.1 }, shape: [10_000, 1])

    var generator = DLRandomGenerator(seed: 0)
    var parameters: [String: DLArray] = [:]
    for layer in 1...9 {
        let fanIn = layer == 1 ? 2 : 20, fanOut = layer == 9 ? 1 : 20
        parameters["fc\(layer).weights"] = Initializer.glorot.make([fanIn, fanOut], type: .float64, fanIn: fanIn,
                                                                     fanOut: fanOut, using: &generator)
        parameters["fc\(layer).bias"] = DLArray.zeros([1, fanOut])
    }

    if CommandLine.arguments.contains("--profile") {
        try profile(parameters, x, t, conditionPoints, conditionValues, runs: option("--profile", 10))
        exit(0)
    }
    print("pinn-burgers: 9 fully connected layers of 20 (tanh), 10,000 collocation points, L-BFGS for at most \(maxIterations) iterations or \(Int(timeLimit)) s")
    var state = try LBFGSState()
    let start = Date()
    var iterations = 0, evaluations = 0
    while iterations < maxIterations && Date().timeIntervalSince(start) < timeLimit {
        (parameters, state) = try lbfgsupdate(parameters, {
            evaluations += 1
            return try modelLoss($0, x, t, conditionPoints, conditionValues)
        }, state)
        iterations += 1
        if iterations % 50 == 0 || iterations == 1 {
            print(String(format: "iteration %5d  loss %.3e  gradient norm %.2e  %d loss evaluations  %.0f s", iterations,
                         state.loss ?? .nan, state.gradientsNorm ?? .nan, evaluations, Date().timeIntervalSince(start)))
        }
        // MATLAB's stopping rules: gradient or step norm below 1e-5, or a failed line search.
        if state.lineSearchStatus == .failed || (state.gradientsNorm ?? 1) < 1e-5 || (state.stepNorm ?? 1) < stepTolerance {
            let reason = state.lineSearchStatus == .failed ? "the line search failed"
                : (state.gradientsNorm ?? 1) < 1e-5 ? "the gradient norm fell below 1e-5" : "the step norm fell below the step tolerance"
            print("stopped at iteration \(iterations): \(reason)" + String(format: " (gradient norm %.2e, step norm %.2e, step length %.2e)",
                  state.gradientsNorm ?? .nan, state.stepNorm ?? .nan, state.learnRate ?? .nan))
            break
        }
    }
    let seconds = Date().timeIntervalSince(start)

    // The relative L2 error at four times on 1001 points of [−1, 1].
    let testTimes = [0.25, 0.5, 0.75, 1.0]
    let testX = (0..<1001).map { -1 + 2 * Double($0) / 1000 }
    var plots: [RGBImage] = []
    var squaredError = 0.0, squaredNorm = 0.0
    var perTime: [String] = []
    for time in testTimes {
        let points = try DLArray(testX.flatMap { [$0, time] }, shape: [1001, 2])
        let predicted = try model(parameters, points).scalars(as: Double.self)
        let exact = testX.map { exactBurgers(x: $0, t: time, nu: viscosity) }
        let error = zip(predicted, exact).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
        let norm = exact.map { $0 * $0 }.reduce(0, +)
        squaredError += error
        squaredNorm += norm
        perTime.append(String(format: "t = %.2f: %.2e", time, (error / norm).squareRoot()))
        var plot = LinePlot(title: String(format: "t = %.2f", time), xLabel: "x", yLabel: "u(x, t)", yRange: -1.1...1.1)
        try plot.addSeries("exact", x: testX, y: exact)
        try plot.addSeries("PINN", x: testX, y: predicted)
        plots.append(plot.render(width: 480, height: 360))
    }
    let docs = URL(fileURLWithPath: "docs", isDirectory: true)
    try FileManager.default.createDirectory(at: docs, withIntermediateDirectories: true)
    try RGBImage.tiled(plots, columns: 2, spacing: 8).writePNG(to: docs.appendingPathComponent("pinn-burgers.png"))
    print(String(format: "trained %d L-BFGS iterations (%d loss evaluations) in %.1f s (%.2f s per iteration); final loss %.3e",
                 iterations, evaluations, seconds, seconds / Double(max(iterations, 1)), state.loss ?? .nan))
    print("relative L2 error against the exact solution: " + perTime.joined(separator: ", ")
          + String(format: "; all four times: %.2e", (squaredError / squaredNorm).squareRoot()))
    print("wrote docs/pinn-burgers.png")
} catch {
    print("error: \(error)")
    exit(1)
}
