/// The sum over the workers of `x`, recorded for differentiation: the collective that
/// synchronized batch normalization computes its statistics with, inside a traced forward.
///
/// Worker `w`'s result is `y = x₁ + x₂ + … + x_N` on every worker. Its derivative rule is the
/// same collective on the gradients, weighted by each worker's share of the global loss: with
/// each worker's loss `Lᵥ` the mean over its own observations and the gradients combined with
/// ``aggregateGradients(_:factor:over:)`` (share `fᵥ`), worker `w` receives
/// `(f₁ g₁ + … + f_N g_N) / f_w`, so that the aggregated gradient is that of the global loss
/// `Σ fᵥ Lᵥ`. With equal shares this is the plain sum of the gradients, PyTorch's
/// `SyncBatchNorm` backward. The rule is written with this function, so higher derivatives
/// synchronize too.
///
/// - Parameters:
///   - x: this worker's value; every worker passes an array of the same shape and type.
///   - communicator: the workers.
///   - share: this worker's share of the global loss, in (0, 1]: its number of observations
///     over the global mini-batch size.
/// - Throws: ``DLError/invalidArgument(_:)`` for a share outside (0, 1];
///   ``DLError/communication(_:)`` when a worker failed.
public func synchronizedSum(_ x: DLArray, over communicator: any DLCommunicator, share: Double) throws -> DLArray {
    guard share > 0 && share <= 1 else {
        throw DLError.invalidArgument("synchronizedSum: share must be in (0, 1], got \(share)")
    }
    let total = try communicator.workerSum(x)
    return total.recorded(from: x) { gradient in
        try synchronizedSum(gradient * share, over: communicator, share: share) / share
    }
}

/// The mean, centered values and biased variance of `x` over `dims`, and the number of
/// elements reduced per statistic: of `x` alone, or with a communicator, of every worker's
/// data together (see ``synchronizedStatistics(_:over:communicator:)``).
func batchStatistics(_ x: DLArray, over dims: [Int], synchronizedOver communicator: (any DLCommunicator)?) throws
    -> (mean: DLArray, centered: DLArray, variance: DLArray, count: Double) {
    if let communicator { return try synchronizedStatistics(x, over: dims, communicator: communicator) }
    let (mean, centered, variance) = try centeredStatistics(x, over: dims)
    return (mean, centered, variance, Double(dims.reduce(1) { $0 * x.shape[$1] }))
}

/// The mean, centered values and biased variance over `dims` of the data of every worker
/// together, as ``centeredStatistics(_:over:)`` computes them for one array: the statistics
/// of the global mini-batch (PyTorch's `SyncBatchNorm`), differentiable through
/// ``synchronizedSum(_:over:share:)``. Also returns the global number of elements reduced per
/// statistic. Its collectives are kernels (``DLCommunicator/workerSum(_:)``), so an accelerated
/// pass replays them.
func synchronizedStatistics(_ x: DLArray, over dims: [Int], communicator: any DLCommunicator) throws
    -> (mean: DLArray, centered: DLArray, variance: DLArray, count: Double) {
    let localCount = Double(dims.reduce(1) { $0 * x.shape[$1] })
    let count = try communicator.workerSum(DLArray([localCount])).scalar(as: Double.self)
    guard count > 0 else {
        throw DLError.invalidArgument("synchronized batch statistics: no worker has any observation")
    }
    let share = max(localCount / count, Double.leastNormalMagnitude)
    let mean = try synchronizedSum(sum(x, dims: dims), over: communicator, share: share) / count
    let centered = try x - mean
    let variance = try synchronizedSum(sum(centered * centered, dims: dims), over: communicator, share: share) / count
    return (mean, centered, variance, count)
}
