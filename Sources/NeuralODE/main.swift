// MATLAB's "Train Neural ODE Network", with SwiftDL: a small tanh network learns the
// dynamics of a 2-D spiral, dy/dt = A·y with A = [-0.1 -1; 1 -0.1], from snippets of one
// trajectory, through dlode45 in adjoint mode and Adam. It writes the learned trajectory
// against the true one and the loss curve to docs/, and times an iteration in both gradient
// modes.
//
//     swift run -c release neural-ode [--iterations 1200] [--timing-iterations 20]
import Foundation
import SwiftDL

/// The value after `flag` on the command line, or `fallback`.
func option(_ flag: String, _ fallback: Int) -> Int {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: flag), index + 1 < arguments.count,
          let value = Int(arguments[index + 1]), value > 0 else { return fallback }
    return value
}

/// The true solution from y(0) = [2, 0]: y(t) = 2e^{-0.1t}[cos t, sin t] (A is −0.1·I plus a
/// rotation). MATLAB's example computes it with ode45 at RelTol 1e-7; the closed form is exact.
func trueState(_ t: Double) -> [Double] {
    let radius = 2 * exp(-0.1 * t)
    return [radius * cos(t), radius * sin(t)]
}

/// MATLAB's odeModel: y ↦ W₂·tanh(W₁·y + b₁) + b₂, on a batch of row states ("BC").
func odeModel(_: Double, _ y: DLArray, _ theta: [String: DLArray]) throws -> DLArray {
    try mtimes(tanh(mtimes(y, theta["fc1.weights"]!) + theta["fc1.bias"]!), theta["fc2.weights"]!) + theta["fc2.bias"]!
}

let numTimeSteps = 2000, timeSpan = 15.0
let times = (0..<numTimeSteps).map { timeSpan * Double($0) / Double(numTimeSteps - 1) }
let trainingStates = times.map(trueState)
let neuralOdeTimesteps = 40
let snippetTimes = (0...neuralOdeTimesteps).map { Double($0) * times[1] }
let hiddenSize = 20, miniBatchSize = 200, learnRate = 0.002
let numIterations = option("--iterations", 1200), timingIterations = option("--timing-iterations", 20)

var generator = DLRandomGenerator(seed: 0)
var parameters: [String: DLArray] = [
    "fc1.weights": Initializer.glorot.make([2, hiddenSize], type: .float64, fanIn: 2, fanOut: hiddenSize, using: &generator),
    "fc1.bias": DLArray.zeros([1, hiddenSize]),
    "fc2.weights": Initializer.glorot.make([hiddenSize, 2], type: .float64, fanIn: hiddenSize, fanOut: 2, using: &generator),
    "fc2.bias": DLArray.zeros([1, 2]),
]

/// Random snippets of the trajectory: their first states (200×2, "BC") and the 40 states
/// after each (40×200×2, "TBC").
func miniBatch(using generator: inout DLRandomGenerator) throws -> (DLArray, DLArray) {
    let starts = Array(Array(0..<(numTimeSteps - neuralOdeTimesteps)).shuffled(using: &generator).prefix(miniBatchSize))
    let initial = try DLArray(starts.flatMap { trainingStates[$0] }, shape: [miniBatchSize, 2])
    var targets: [Double] = []
    for step in 1...neuralOdeTimesteps { for start in starts { targets += trainingStates[start + step] } }
    return (initial, try DLArray(targets, shape: [neuralOdeTimesteps, miniBatchSize, 2]))
}

/// The L1 loss of the snippets (MATLAB's l1loss normalized over all elements) and its gradients.
func lossAndGradients(_ parameters: [String: DLArray], _ initial: DLArray, _ targets: DLArray,
                      mode: ODEGradientMode) throws -> (Double, [String: DLArray]) {
    try dlfeval({ (theta: [String: DLArray]) in
        let predicted = try dlode45(odeModel, snippetTimes, initial, theta, gradientMode: mode)
        let loss = mean(abs(try predicted - targets))
        return (loss.scalar(as: Double.self), try dlgradient(loss, theta))
    }, parameters)
}

do {
    print("neural-ode: \(numIterations) iterations of Adam (learn rate \(learnRate)), mini-batches of \(miniBatchSize) snippets of \(neuralOdeTimesteps) steps, dlode45 adjoint")
    var average: [String: DLArray]?, averageSquared: [String: DLArray]?
    var losses: [Double] = []
    let start = Date()
    for iteration in 1...numIterations {
        let (initial, targets) = try miniBatch(using: &generator)
        let (loss, gradients) = try lossAndGradients(parameters, initial, targets, mode: .adjoint)
        losses.append(loss)
        (parameters, average, averageSquared) = try adamupdate(parameters, gradients, average, averageSquared,
                                                               iteration: iteration, learnRate: learnRate)
        if iteration % 100 == 0 || iteration == 1 {
            print(String(format: "iteration %4d  loss %.5f  %.1f s", iteration, loss, Date().timeIntervalSince(start)))
        }
    }
    let trainingSeconds = Date().timeIntervalSince(start)

    // The learned dynamics from y(0) = [2, 0] over the whole 15 time units.
    let predicted = try dlode45(odeModel, times, try reshape(DLArray([2.0, 0.0]), [1, 2]), parameters)
    let path = [SIMD2(2.0, 0.0)] + stride(from: 0, to: predicted.count, by: 2).map {
        let values = predicted.scalars(as: Double.self)
        return SIMD2(values[$0], values[$0 + 1])
    }
    let truth = trainingStates.map { SIMD2($0[0], $0[1]) }
    let trajectoryError = zip(path, truth).map { (($0 - $1) * ($0 - $1)).sum().squareRoot() }
    let meanError = trajectoryError.reduce(0, +) / Double(trajectoryError.count)

    // One iteration's cost in each gradient mode, at the trained parameters and the same batches.
    var seconds: [ODEGradientMode: [Double]] = [.adjoint: [], .direct: []]
    var largestDifference = 0.0
    for _ in 0..<timingIterations {
        let (initial, targets) = try miniBatch(using: &generator)
        var results: [ODEGradientMode: [String: DLArray]] = [:]
        for mode in [ODEGradientMode.adjoint, .direct] {
            let begin = Date()
            results[mode] = try lossAndGradients(parameters, initial, targets, mode: mode).1
            seconds[mode]!.append(Date().timeIntervalSince(begin))
        }
        for key in parameters.keys {
            let a = results[.adjoint]![key]!.scalars(as: Double.self), d = results[.direct]![key]!.scalars(as: Double.self)
            let scale = max(d.map { abs($0) }.max() ?? 0, 1e-12)
            largestDifference = max(largestDifference, zip(a, d).map { abs($0 - $1) / scale }.max() ?? 0)
        }
    }
    func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

    var trajectoryPlot = ScatterPlot(title: "Neural ODE: learned vs true spiral", xLabel: "y1", yLabel: "y2", equalAspect: true)
    trajectoryPlot.addLayer("true", points: truth, style: .path(thickness: 3))
    trajectoryPlot.addLayer("learned (dlode45)", points: path, style: .path(thickness: 1.5))
    var lossPlot = LinePlot(title: "Neural ODE: training loss (L1, adjoint)", xLabel: "iteration", yLabel: "loss")
    try lossPlot.addSeries("mini-batch loss", x: losses.indices.map { Double($0 + 1) }, y: losses)
    let docs = URL(fileURLWithPath: "docs", isDirectory: true)
    try FileManager.default.createDirectory(at: docs, withIntermediateDirectories: true)
    try trajectoryPlot.render().writePNG(to: docs.appendingPathComponent("neural-ode-trajectory.png"))
    try lossPlot.render().writePNG(to: docs.appendingPathComponent("neural-ode-loss.png"))

    print(String(format: "trained in %.1f s (%.1f ms per iteration, adjoint); final loss %.5f (mean of the last 50: %.5f)",
                 trainingSeconds, 1000 * trainingSeconds / Double(numIterations), losses.last!,
                 losses.suffix(50).reduce(0, +) / Double(min(50, losses.count))))
    print(String(format: "learned trajectory from [2, 0] over 15 time units: mean distance from the true one %.4f (final %.4f)",
                 meanError, trajectoryError.last!))
    print(String(format: "one iteration (loss and gradients), median of %d: adjoint %.1f ms, direct %.1f ms; gradients differ by at most %.2e (relative)",
                 timingIterations, 1000 * median(seconds[.adjoint]!), 1000 * median(seconds[.direct]!), largestDifference))
    print("wrote docs/neural-ode-trajectory.png, docs/neural-ode-loss.png")
} catch {
    print("error: \(error)")
    exit(1)
}
