/// Where the blank symbol sits among the classes of ``ctc(_:targets:inputLengths:blankIndex:reduction:dataFormat:)``
/// (MATLAB's `BlankIndex`).
public enum CTCBlankIndex: Sendable, Equatable {
    /// The first class (MATLAB's default, PyTorch's `blank=0`).
    case first
    /// The last class.
    case last
}

/// How ``ctc(_:targets:inputLengths:blankIndex:reduction:dataFormat:)`` combines the losses of
/// the observations (MATLAB's `Reduction`).
public enum CTCReduction: Sendable, Equatable {
    /// Their mean over the batch (MATLAB's default; PyTorch's `reduction="sum"` divided by the
    /// batch size, not its `"mean"`, which first divides each loss by its target length).
    case mean
    /// One loss per observation, a vector of the batch size.
    case none
}

/// The connectionist temporal classification (CTC) loss between sequences of class
/// probabilities and unaligned target sequences, as MATLAB's `ctc`: for each observation
/// `-log` of the total probability of the alignments that collapse to its target (repeats
/// merged, blanks removed), by the forward algorithm of Graves et al. (2006).
///
/// - Parameters:
///   - y: the predictions: probabilities over the classes (blank included) at each time step,
///     such as `softmax` output, with time (`T`), batch (`B`) and channel (`C`) dimensions.
///   - targets: one target sequence per observation, of 0-based class indices other than the
///     blank; sequences may differ in length and be empty (MATLAB's `targetsMask`).
///   - inputLengths: the number of valid time steps of each observation (MATLAB's `YMask`);
///     all of them by default.
///   - blankIndex: the blank's class, `.first` (default) or `.last`.
///   - reduction: `.mean` over the batch (default) or `.none`.
///   - dataFormat: the labels of unlabeled predictions (e.g. `"TBC"`, or MATLAB's `"CBT"`).
/// - Returns: the loss, traced in `y`. The forward algorithm is written with differentiable
///   operations (a log-sum-exp per time step), so its gradient, and second derivatives, come
///   from their rules; its cost is a few array operations per time step.
/// - Throws: ``DLError/invalidArgument(_:)`` when `y` lacks one of `T`, `B`, `C`, for a
///   target holding the blank or a class out of range, a wrong number of targets or lengths,
///   or a target that no alignment within its input length can produce (its loss would be
///   infinite); ``DLError/unsupportedType(_:)`` for complex input.
public func ctc(_ y: DLArray, targets: [[Int]], inputLengths: [Int]? = nil, blankIndex: CTCBlankIndex = .first,
                reduction: CTCReduction = .mean, dataFormat: String? = nil) throws -> DLArray {
    try requireReal(y, "ctc")
    let format = try DataFormat(y, dataFormat: dataFormat, operation: "ctc")
    guard format.input.labels == "TBC" else {
        throw DLError.invalidArgument(
            "ctc needs predictions with exactly a time (T), a batch (B) and a channel (C) dimension; they are labeled \"\(format.input.labels)\"")
    }
    let probabilities = stripdims(format.input)     // [T, B, C]
    let (steps, batch, classes) = (probabilities.shape[0], probabilities.shape[1], probabilities.shape[2])
    let blank = blankIndex == .first ? 0 : classes - 1
    guard targets.count == batch else {
        throw DLError.invalidArgument("ctc: \(targets.count) target sequences for a batch of \(batch) observations")
    }
    let lengths = inputLengths ?? Array(repeating: steps, count: batch)
    guard lengths.count == batch, lengths.allSatisfy({ $0 >= 1 && $0 <= steps }) else {
        throw DLError.invalidArgument(
            "ctc: inputLengths \(lengths) must hold one length from 1 to \(steps) (the time steps) per observation")
    }
    for (b, target) in targets.enumerated() {
        if let bad = target.first(where: { $0 < 0 || $0 >= classes || $0 == blank }) {
            throw DLError.invalidArgument(
                "ctc: target \(b) holds class \(bad); targets are 0-based classes below \(classes), other than the blank \(blank)")
        }
        // Each label takes a step, and a repeated label needs a blank between its copies.
        let needed = target.count + zip(target, target.dropFirst()).filter { $0 == $1 }.count
        guard needed <= lengths[b] else {
            throw DLError.invalidArgument(
                "ctc: target \(b) needs at least \(needed) time steps but its input has \(lengths[b]); no alignment produces it")
        }
    }

    // The extended targets: blank, label, blank, label, …, blank (padded with blanks).
    let width = 2 * (targets.map(\.count).max() ?? 0) + 1
    var extended = [Int](repeating: blank, count: batch * width)
    var skipAllowed = [Bool](repeating: false, count: batch * width)
    for (b, target) in targets.enumerated() {
        for (k, label) in target.enumerated() {
            let s = 2 * k + 1
            extended[b * width + s] = label
            // A label may follow the previous one directly (skipping the blank) unless they are equal.
            skipAllowed[b * width + s] = k > 0 && target[k - 1] != label
        }
    }
    let logProbabilities = log(probabilities)
    let type = logProbabilities.dataType
    // emissions[t, b, s] = log y[t, b, extended[b, s]].
    let indices = try DLArray((0..<steps).flatMap { _ in extended.map(Double.init) }, shape: [steps, batch, width])
    let emissions = try gather(logProbabilities, dim: 2, indices: indices)
    // A finite stand-in for log 0, so that no ∞ - ∞ appears in the derivatives.
    let impossible = -1e30
    let skip = try DLArray(skipAllowed, shape: [batch, width])
    let startMask = try DLArray((0..<batch * width).map { $0 % width < 2 }, shape: [batch, width])
    let firstColumn = DLArray.full([batch, 1], value: impossible, type: type)
    let twoColumns = DLArray.full([batch, 2], value: impossible, type: type)

    var alpha = try select(startMask, emissions.slice(dim: 0, range: 0..<1).reshaped([batch, width]), impossible)
    for t in 1..<Swift.max(steps, 1) {
        let stay = alpha
        let step = try cat([firstColumn, alpha.slice(dim: 1, range: 0..<width - 1)], dim: 1)
        var candidates = [stay, step]
        if width > 2 {
            let jump = try cat([twoColumns, alpha.slice(dim: 1, range: 0..<width - 2)], dim: 1)
            candidates.append(try select(skip, jump, impossible))
        }
        let next = try logSumExp(candidates) + emissions.slice(dim: 0, range: t..<t + 1).reshaped([batch, width])
        // Observations whose input has ended keep their last α.
        let active = try DLArray((0..<batch).map { t < lengths[$0] }, shape: [batch, 1])
        alpha = try select(active, next, alpha)
    }
    // The alignment ends on the last label or the blank after it.
    let lastBlank = targets.map { 2 * $0.count }
    let last = try gather(alpha, dim: 1, indices: DLArray(lastBlank.map(Double.init), shape: [batch, 1]))
    let lastLabel = try gather(alpha, dim: 1, indices: DLArray(lastBlank.map { Double(Swift.max($0 - 1, 0)) }, shape: [batch, 1]))
    let hasLabel = try DLArray(targets.map { !$0.isEmpty }, shape: [batch, 1])
    let losses = try -logSumExp([last, select(hasLabel, lastLabel, impossible)]).reshaped([batch])
    switch reduction {
    case .mean: return try mean(losses, dims: [0]).reshaped([])
    case .none: return losses
    }
}

/// log(Σ exp(terms)) elementwise, shifted by the (constant) largest term so that nothing
/// overflows; the shift cancels in the value and in every derivative.
func logSumExp(_ terms: [DLArray]) throws -> DLArray {
    var largest = extractdata(terms[0])
    for term in terms.dropFirst() { largest = try maximum(largest, extractdata(term)) }
    var total = try exp(terms[0] - largest)
    for term in terms.dropFirst() { total = try total + exp(term - largest) }
    return try log(total) + largest
}
