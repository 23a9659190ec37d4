/// The mini-batch size of each worker when `miniBatchSize` observations are split over
/// `workers`, as MATLAB's data-parallel example: each gets the floor of the even share, and
/// the first `miniBatchSize mod workers` workers one more. `result[w - 1]` is worker `w`'s.
///
/// `workerMiniBatchSizes(128, workers: 3)` is `[43, 43, 42]`.
///
/// - Throws: ``DLError/invalidArgument(_:)`` for fewer than 1 worker or a negative size.
public func workerMiniBatchSizes(_ miniBatchSize: Int, workers: Int) throws -> [Int] {
    guard workers >= 1 else { throw DLError.invalidArgument("workerMiniBatchSizes: workers must be at least 1, got \(workers)") }
    guard miniBatchSize >= 0 else {
        throw DLError.invalidArgument("workerMiniBatchSizes: miniBatchSize must be non-negative, got \(miniBatchSize)")
    }
    return splitEvenly(miniBatchSize, into: workers)
}

/// `total` split into `parts` sizes that differ by at most one, the larger first.
func splitEvenly(_ total: Int, into parts: Int) -> [Int] {
    (0..<parts).map { total / parts + ($0 < total % parts ? 1 : 0) }
}

/// The gradients of the global loss from each worker's gradients, as MATLAB's
/// `aggregateGradients`: `spmdPlus(factor · gradients)`, the sum over the workers of each
/// worker's gradients weighted by its share of the global mini-batch.
///
/// With each worker's loss the mean over its own observations and `factor` its number of
/// observations over the global mini-batch size, the result is the gradient of the loss of
/// the global mini-batch, on every worker.
///
/// - Parameters:
///   - gradients: this worker's gradients (any container: a parameter table, an array…).
///   - factor: this worker's share of the global mini-batch.
///   - communicator: the workers.
/// - Returns: the aggregated gradients, plain values in the structure of `gradients`.
/// - Throws: what ``DLCommunicator/plus(_:)`` throws (containers that differ between workers).
public func aggregateGradients<Container: DLArrayContainer>(_ gradients: Container, factor: Double,
                                                            over communicator: any DLCommunicator) throws -> Container {
    try communicator.plus(gradients.mapArrays { extractdata($0) * factor })
}

/// Batch normalization statistics of the global mini-batch from each worker's, as MATLAB's
/// `aggregateState`, by the law of total variance: with `fᵥ` each worker's share,
///
///     mean     = Σ fᵥ meanᵥ
///     variance = Σ fᵥ (varianceᵥ + (meanᵥ − mean)²)
///
/// for every `TrainedMean` and `TrainedVariance` row of a layer (the means and the variance
/// terms are each reduced in one fused call); any other row becomes the share-weighted mean
/// `Σ fᵥ valueᵥ`.
///
/// Applied to each worker's mean and biased variance of its own observations, this gives
/// the global batch's exactly. Applied to running statistics updated from each worker's own
/// batch (MATLAB's use), the mean is exact and the variance an approximation: the running
/// variance holds the unbiased variance and the between-worker term enters with the square
/// of the decay. Training with ``DLNetwork/synchronizingBatchStatistics(over:)`` instead makes
/// every worker's running statistics those of the global batch, as one process computes them.
///
/// - Parameters:
///   - state: this worker's state table (a network's ``DLNetwork/state``).
///   - factor: this worker's share of the global mini-batch.
///   - communicator: the workers.
/// - Throws: ``DLError/invalidArgument(_:)`` when a layer has a `TrainedMean` without a
///   `TrainedVariance` of its shape, or the reverse; what ``DLCommunicator/plus(_:)`` throws.
public func aggregateState(_ state: DLParameterTable, factor: Double, over communicator: any DLCommunicator) throws
    -> DLParameterTable {
    let rows = state.rows
    var varianceOfMean: [Int: Int] = [:]
    for (k, row) in rows.enumerated() where row.parameter == "TrainedMean" {
        guard let v = rows.firstIndex(where: { $0.layer == row.layer && $0.parameter == "TrainedVariance" }),
              rows[v].value.shape == row.value.shape else {
            throw DLError.invalidArgument(
                "aggregateState: layer \(row.layer) has a TrainedMean without a TrainedVariance of shape \(row.value.shape)")
        }
        varianceOfMean[k] = v
    }
    for row in rows where row.parameter == "TrainedVariance" && !rows.contains(where: { $0.layer == row.layer && $0.parameter == "TrainedMean" }) {
        throw DLError.invalidArgument("aggregateState: layer \(row.layer) has a TrainedVariance without a TrainedMean")
    }
    let variances = Set(varianceOfMean.values)
    // First the means (and any other row), then the variance terms about the combined means.
    let firstPass = rows.indices.filter { !variances.contains($0) }
    let combined = try communicator.plus(firstPass.map { extractdata(rows[$0].value) * factor })
    var values = rows.map(\.value)
    for (k, value) in zip(firstPass, combined) { values[k] = value.withLabels(rows[k].value.labels) }
    let meanRows = varianceOfMean.keys.sorted()
    let terms = try meanRows.map { m -> DLArray in
        let deviation = try extractdata(rows[m].value) - extractdata(values[m])
        return try (extractdata(rows[varianceOfMean[m]!].value) + deviation * deviation) * factor
    }
    for (m, value) in zip(meanRows, try communicator.plus(terms)) {
        let v = varianceOfMean[m]!
        values[v] = value.withLabels(rows[v].value.labels)
    }
    return state.replacingArrays(with: values)
}
