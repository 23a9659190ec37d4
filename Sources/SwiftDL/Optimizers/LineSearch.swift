/// A point a line search evaluated: a step length `η` along the search direction, the loss
/// there, its slope along the direction, and whatever the caller keeps with it.
struct LineSearchTrial<Payload> {
    let stepLength: Double
    let loss: Double
    let slope: Double
    let payload: Payload
}

/// The constant of the sufficient-decrease (Armijo) condition.
private let sufficientDecrease = 1e-4
/// The constant of the curvature conditions.
private let curvature = 0.9

/// The first point along a search direction that satisfies `method`'s conditions, trying step
/// length 1 first (see ``LBFGSLineSearchMethod``), or nil when none is found within
/// `maxEvaluations` evaluations.
///
/// - Parameters:
///   - loss: the loss at step length 0.
///   - slope: the slope there, negative along a descent direction.
///   - evaluate: the loss and slope at a step length. A non-finite loss counts as too large.
func lineSearch<Payload>(
    _ method: LBFGSLineSearchMethod, maxEvaluations: Int, loss: Double, slope: Double,
    evaluate: (Double) throws -> LineSearchTrial<Payload>
) rethrows -> LineSearchTrial<Payload>? {
    func decreasesEnough(_ trial: LineSearchTrial<Payload>) -> Bool {
        trial.loss.isFinite && trial.loss <= loss + sufficientDecrease * trial.stepLength * slope
    }
    switch method {
    case .backtracking:
        var length = 1.0
        for _ in 0..<maxEvaluations {
            let trial = try evaluate(length)
            if decreasesEnough(trial) { return trial }
            length /= 2
        }
    case .weakWolfe:
        // [low, high] brackets acceptable lengths: low decreases enough but is too short, high
        // does not decrease enough.
        var (low, high) = (0.0, Double.infinity)
        var length = 1.0
        for _ in 0..<maxEvaluations {
            let trial = try evaluate(length)
            if !decreasesEnough(trial) {
                high = length
            } else if trial.slope < curvature * slope {
                low = length
            } else {
                return trial
            }
            length = high.isFinite ? (low + high) / 2 : 2 * low
        }
    case .strongWolfe:
        // Nocedal and Wright's bracketing (algorithm 3.5) and zoom (3.6), by bisection: `low` is
        // the best length so far that decreases enough; `high`, when finite, lies on the other
        // side of an acceptable length.
        var (low, lowLoss, high) = (0.0, loss, Double.infinity)
        var length = 1.0
        for _ in 0..<maxEvaluations {
            let trial = try evaluate(length)
            if !decreasesEnough(trial) || trial.loss >= lowLoss {
                high = length
            } else if trial.slope.magnitude <= -curvature * slope {
                return trial
            } else {
                if trial.slope * (high.isFinite ? high - low : 1) >= 0 { high = low }
                (low, lowLoss) = (length, trial.loss)
            }
            length = high.isFinite ? (low + high) / 2 : 2 * low
        }
    }
    return nil
}
