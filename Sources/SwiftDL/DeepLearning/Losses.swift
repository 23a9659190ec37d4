/// What the summed loss is divided by, as MATLAB's `NormalizationFactor` option of the loss
/// functions. It applies when the reduction is ``LossReduction/sum``.
public enum LossNormalization: String, Sendable, CaseIterable {
    /// MATLAB's `"batch-size"` (the default): divide by the number of observations, the size of
    /// the batch (B) dimension (1 when there is none).
    case batchSize = "batch-size"
    /// MATLAB's `"all-elements"`: divide by the number of loss elements. For the regression
    /// losses and multilabel cross-entropy that is the number of elements of the predictions;
    /// for single-label (and index) cross-entropy, where the classes of one position make one
    /// prediction, it is the number of positions (elements divided by the number of classes),
    /// as PyTorch's `reduction="mean"`.
    case allElements = "all-elements"
    /// MATLAB's `"mask-included"`: divide the loss of each observation by the number of elements
    /// its mask includes (counted as for ``allElements``), then add the observations up. Needs a
    /// mask.
    case maskIncluded = "mask-included"
    /// MATLAB's `"none"`: the plain sum.
    case none
}

/// How the loss values are reduced, as MATLAB's `Reduction` option of the loss functions.
public enum LossReduction: String, Sendable, CaseIterable {
    /// Add up every loss value and divide by the ``LossNormalization`` (the default): a scalar.
    case sum
    /// Return the loss values unreduced, one per element (weights and mask applied, not
    /// normalized), shaped and labeled as the predictions.
    case none
}

/// How cross-entropy treats the channels, as MATLAB's `ClassificationMode`.
public enum ClassificationMode: String, Sendable, CaseIterable {
    /// MATLAB's `"single-label"` (the default): each position belongs to one class; the channels
    /// hold a probability distribution (softmax output) and the targets one-hot or soft labels.
    case singleLabel = "single-label"
    /// MATLAB's `"multilabel"`: every channel is an independent yes/no prediction (sigmoid
    /// output), scored with binary cross-entropy.
    case multilabel
}

// MARK: - Operands of a loss

/// The predictions of a loss in canonical order, and how to bring the other operands (targets,
/// weights, masks) to the same layout.
private struct LossInput {
    let operation: String
    let format: DataFormat
    /// The predictions in canonical order, unlabeled.
    let predictions: DLArray
    /// Their canonical labels.
    var labels: String { format.input.labels }
    var shape: [Int] { predictions.shape }

    init(_ y: DLArray, dataFormat: String?, operation: String) throws {
        try requireReal(y, operation)
        self.operation = operation
        format = try DataFormat(y, dataFormat: dataFormat, operation: operation)
        predictions = stripdims(format.input)
    }

    /// The number of observations: the size of the batch dimension, or 1.
    var batchSize: Int { format.dim("B").map { shape[$0] } ?? 1 }

    /// The position of the channel dimension, or a message-bearing error.
    func channelDimension() throws -> Int {
        guard let channel = format.dim("C") else {
            throw DLError.invalidArgument(
                "\(operation) needs a channel (C) dimension holding the classes; the predictions are labeled \"\(labels)\" (shape \(shape))")
        }
        return channel
    }

    /// `operand` laid out as the predictions: same rank and canonical order, each size equal to
    /// the predictions' or 1. It is read by its labels when it has them (missing dimensions
    /// become size 1), by `operandFormat` when given, else in the caller's format (an
    /// unlabeled input with `dataFormat`) or canonical order (a labeled input). A scalar
    /// applies everywhere; with `classVector`, a vector of one value per channel is per class.
    func align(_ operand: DLArray, _ name: String, operandFormat: String? = nil, classVector: Bool = false) throws -> DLArray {
        try requireReal(operand, "\(operation) (for its \(name))")
        let labeled: DLArray
        if let operandFormat {
            guard operand.labels.isEmpty || operand.labels == canonicalLabels(operandFormat) else {
                throw DLError.invalidArgument("\(operation): \(name) is labeled \"\(operand.labels)\" but its format \"\(operandFormat)\" was given; give one or the other")
            }
            labeled = operand.labels.isEmpty ? try stripdims(operand).labeled(operandFormat) : operand
        } else if !operand.labels.isEmpty {
            labeled = operand
        } else if operand.rank == shape.count {
            labeled = try format.callerFormat.map { try operand.labeled($0) } ?? operand.withLabels(labels)
        } else if operand.count == 1 && operand.rank <= 1 {
            return try reshape(operand, shape.map { _ in 1 })
        } else if classVector, operand.rank == 1, let channel = format.dim("C"), operand.count == shape[channel] {
            var sizes = shape.map { _ in 1 }
            sizes[channel] = operand.count
            return try reshape(operand, sizes)
        } else {
            throw DLError.shapeMismatch(
                "\(operation): \(name) of shape \(operand.shape) do not fit predictions of shape \(shape) (labeled \"\(labels)\"); give \(name) the predictions' shape\(classVector ? ", one value per class," : "") or dimension labels")
        }
        // Match the operand's labels, in canonical order, to the predictions' labels.
        let own = Array(labeled.labels), target = Array(labels)
        var sizes: [Int] = []
        var next = 0
        for letter in target {
            if next < own.count && own[next] == letter {
                sizes.append(labeled.shape[next])
                next += 1
            } else {
                sizes.append(1)
            }
        }
        guard next == own.count else {
            throw DLError.invalidArgument(
                "\(operation): \(name) is labeled \"\(labeled.labels)\", which does not fit the predictions' labels \"\(labels)\"")
        }
        for (k, size) in sizes.enumerated() where size != 1 && size != shape[k] {
            throw DLError.shapeMismatch(
                "\(operation): \(name) of shape \(labeled.shape) (labeled \"\(labeled.labels)\") do not fit predictions of shape \(shape) (labeled \"\(labels)\"): each size must match or be 1")
        }
        return try reshape(stripdims(labeled), sizes)
    }

    /// Targets of exactly the predictions' shape.
    func alignTargets(_ targets: DLArray) throws -> DLArray {
        let aligned = try align(targets, "targets")
        guard aligned.shape == shape else {
            throw DLError.shapeMismatch(
                "\(operation): targets of shape \(targets.shape) do not match predictions of shape \(shape) (labeled \"\(labels)\"); they must have the same size")
        }
        return aligned
    }

    /// A mask as 0/1 values (nonzero includes), constant, in the predictions' layout.
    func alignMask(_ mask: DLArray, maskFormat: String?) throws -> DLArray {
        let aligned = try align(extractdata(mask).withLabels(mask.labels), "mask", operandFormat: maskFormat)
        return try (aligned .!= 0).converted(to: predictions.dataType == .float32 ? .float32 : .float64)
    }

    /// Reduces elementwise losses `values` (the predictions' shape) as `reduction` and
    /// `normalization` say. `classesPerLoss` is 1 when every element is a loss element, or the
    /// number of classes when the classes of a position make one loss element.
    func reduce(_ values: DLArray, mask: DLArray?, normalization: LossNormalization, reduction: LossReduction,
                classesPerLoss: Int = 1) throws -> DLArray {
        if reduction == .none { return try format.restore(values.withLabels(labels)) }
        let total = sum(values)
        switch normalization {
        case .none:
            return total
        case .batchSize:
            return total / Double(batchSize)
        case .allElements:
            return total / Double(max(shape.reduce(1, *) / classesPerLoss, 1))
        case .maskIncluded:
            guard let mask else {
                throw DLError.invalidArgument("\(operation): normalizationFactor .maskIncluded (MATLAB's \"mask-included\") needs a mask")
            }
            // Per observation: its loss over the number of elements its mask includes.
            let batch = format.dim("B")
            let others = (0..<shape.count).filter { $0 != batch }
            let perObservation = try sum(values, dims: others)
            let counts = try sum(mask.broadcast(to: values.shape), dims: others) / Double(classesPerLoss)
            let safe = try select(counts .== 0, 1, counts)
            return sum(try perObservation / safe)
        }
    }
}

/// `log(max(p, tiny))` with tiny the smallest normal number of the type: probabilities that
/// underflowed to 0 give a large finite value instead of -∞ (and 0·log 0 = 0, not NaN).
private func clampedLog(_ p: DLArray) throws -> DLArray {
    let tiny = p.dataType == .float32 ? Double(Float.leastNormalMagnitude) : Double.leastNormalMagnitude
    return log(try maximum(p, tiny))
}

// MARK: - Cross-entropy

/// The cross-entropy loss between predicted probabilities and target probabilities, as MATLAB's
/// `crossentropy` (R2024b).
///
/// Single-label (the default): `loss = −(1/N) Σ w·m·T·log(Y)`, summed over classes, positions
/// and observations, where `N` is set by `normalizationFactor` (by default the number of
/// observations). Multilabel: every channel is a binary prediction,
/// `loss = −(1/N) Σ w·m·(T·log(Y) + (1−T)·log(1−Y))`.
///
/// The predictions are probabilities, as in MATLAB (the output of ``softmax(_:dataFormat:)``,
/// or of ``sigmoid(_:)`` for multilabel), not logits: `crossentropy(softmax(z), t)` is
/// PyTorch's `cross_entropy(z, t, reduction="sum") / N`. For logits with binary targets use
/// ``binarycrossentropy(logits:targets:_:weightsFormat:mask:maskFormat:normalizationFactor:reduction:dataFormat:)``.
/// Probabilities below the smallest normal number of the type are treated as that number, so
/// a probability that underflowed to 0 gives a large finite loss rather than ∞ or NaN.
///
/// ```swift
/// let y = try softmax(DLArray.randn([4, 3], labels: "BC", seed: 1))
/// let t = try DLArray([1.0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0], shape: [4, 3], labels: "BC")
/// let loss = try crossentropy(y, t)
/// ```
///
/// - Parameters:
///   - predictions: probabilities with a channel (C) dimension, labeled or unlabeled with
///     `dataFormat`.
///   - targets: target probabilities (one-hot or soft) of the predictions' size; unlabeled
///     targets are read in the predictions' format. Differentiable.
///   - weights: optional weights multiplying the loss values: one per class (a vector of the
///     number of classes, or an array labeled `"C"`), per observation (labeled `"B"`), or per
///     element; they broadcast by their labels (see `weightsFormat`). Differentiable.
///   - weightsFormat: the labels of unlabeled `weights`.
///   - mask: which elements count (nonzero) and which do not (0); the predictions' size, or
///     fewer dimensions by labels (`maskFormat`), broadcast. Not differentiated.
///   - maskFormat: the labels of an unlabeled `mask`.
///   - classificationMode: ``ClassificationMode/singleLabel`` or
///     ``ClassificationMode/multilabel``.
///   - normalizationFactor: what the sum is divided by (see ``LossNormalization``).
///   - reduction: ``LossReduction/sum`` for a scalar, ``LossReduction/none`` for the loss of
///     every element (the predictions' shape and labels).
///   - dataFormat: the labels of unlabeled predictions.
/// - Returns: an unlabeled scalar, or the unreduced losses.
/// - Throws: ``DLError`` when the shapes do not fit, there is no channel dimension, or
///   `.maskIncluded` is asked for without a mask.
public func crossentropy(_ predictions: DLArray, _ targets: DLArray, _ weights: DLArray? = nil,
                         weightsFormat: String? = nil, mask: DLArray? = nil, maskFormat: String? = nil,
                         classificationMode: ClassificationMode = .singleLabel,
                         normalizationFactor: LossNormalization = .batchSize, reduction: LossReduction = .sum,
                         dataFormat: String? = nil) throws -> DLArray {
    let input = try LossInput(predictions, dataFormat: dataFormat, operation: "crossentropy")
    let channel = try input.channelDimension()
    let y = input.predictions
    let t = try input.alignTargets(targets)
    var values: DLArray
    switch classificationMode {
    case .singleLabel:
        values = -(try t * clampedLog(y))
    case .multilabel:
        values = -(try t * clampedLog(y) + (1 - t) * clampedLog(1 - y))
    }
    if let weights { values = try values * input.align(weights, "weights", operandFormat: weightsFormat, classVector: true) }
    let m = try mask.map { try input.alignMask($0, maskFormat: maskFormat) }
    if let m { values = try values * m }
    let classes = classificationMode == .singleLabel ? input.shape[channel] : 1
    return try input.reduce(values, mask: m, normalization: normalizationFactor, reduction: reduction,
                            classesPerLoss: classes)
}

/// The cross-entropy loss between predicted probabilities and target class indices, as MATLAB's
/// `indexcrossentropy` (R2024b): `loss = −(1/N) Σ w·m·log(Y[target])`, one term per position
/// (observation, time step, spatial location).
///
/// The indices are **0-based** in SwiftDL (MATLAB's are 1-based): class `k` is channel `k` of the
/// predictions. `indexcrossentropy(y, i)` equals `crossentropy(y, onehot(i))`, and
/// `indexcrossentropy(softmax(z), i)` is PyTorch's `cross_entropy(z, i, reduction="sum") / N`
/// (`nll_loss` on `log(y)`).
///
/// - Parameters:
///   - predictions: probabilities with a channel (C) dimension, labeled or unlabeled with
///     `dataFormat`.
///   - classIndices: one 0-based class per position: the predictions' shape with the channel
///     dimension of size 1 or left out (labeled, or unlabeled in the predictions' format).
///     Not differentiated.
///   - weights: optional weights: one per class (a vector, or labeled `"C"`), which weighs
///     each position by the weight of its target class, or per observation or position (the
///     predictions' layout with a channel of size 1, by labels or `weightsFormat`).
///     Differentiable.
///   - weightsFormat: the labels of unlabeled `weights`.
///   - mask: which positions count (nonzero), in the layout of `classIndices`; not
///     differentiated.
///   - maskFormat: the labels of an unlabeled `mask`.
///   - normalizationFactor: what the sum is divided by; `.allElements` divides by the number of
///     positions (see ``LossNormalization``).
///   - reduction: ``LossReduction/sum`` for a scalar; ``LossReduction/none`` for the loss of
///     every position, shaped as the predictions without their channel dimension.
///   - dataFormat: the labels of unlabeled predictions.
/// - Returns: an unlabeled scalar, or the unreduced losses.
/// - Throws: ``DLError/invalidArgument(_:)`` for indices that are not whole numbers in
///   `0..<numClasses`, ``DLError/shapeMismatch(_:)`` for shapes that do not fit.
public func indexcrossentropy(_ predictions: DLArray, _ classIndices: DLArray, _ weights: DLArray? = nil,
                              weightsFormat: String? = nil, mask: DLArray? = nil, maskFormat: String? = nil,
                              normalizationFactor: LossNormalization = .batchSize, reduction: LossReduction = .sum,
                              dataFormat: String? = nil) throws -> DLArray {
    let operation = "indexcrossentropy"
    let input = try LossInput(predictions, dataFormat: dataFormat, operation: operation)
    let channel = try input.channelDimension()
    let classes = input.shape[channel]
    var positionShape = input.shape
    positionShape[channel] = 1
    // The indices: the predictions' layout with the channel of size 1, or without it.
    try requireReal(classIndices, operation)
    var indexArray = extractdata(classIndices).withLabels(classIndices.labels)
    if indexArray.labels.isEmpty && indexArray.rank == input.shape.count - 1 {
        if let caller = input.format.callerFormat {
            indexArray = try indexArray.labeled(caller.filter { $0 != "C" })
        } else {
            indexArray = indexArray.withLabels(input.labels.filter { $0 != "C" })
        }
    }
    let aligned = try input.align(indexArray, "class indices")
    guard aligned.shape == positionShape else {
        throw DLError.shapeMismatch(
            "\(operation): class indices of shape \(classIndices.shape) do not fit predictions of shape \(input.shape) (labeled \"\(input.labels)\"); give one index per position: shape \(positionShape), or without the channel dimension")
    }
    // Read into Swift only to check them: the kernels that pick the classes read the positions.
    let classPositions = aligned.converted(to: .float64).withLabels("")
    let values = classPositions.indexValues(checkedBy: IndexRule(bound: classes))
    if let bad = values.first(where: { !$0.isFinite || $0.rounded() != $0 }) {
        throw DLError.invalidArgument("\(operation): class index \(bad) is not a whole number; indices are 0-based class numbers")
    }
    if let bad = values.first(where: { $0 < 0 || $0 >= Double(classes) }) {
        throw DLError.invalidArgument(
            "\(operation): class index \(bad.magnitude < 1e15 ? "\(Int(bad))" : "\(bad)") is out of range for \(classes) classes; indices are 0-based (0..<\(classes)), MATLAB's 1-based index k is k - 1 here")
    }
    var losses = try -gather(clampedLog(input.predictions), dim: channel, positions: classPositions)
    if let weights {
        var w = try input.align(weights, "weights", operandFormat: weightsFormat, classVector: true)
        if w.shape[channel] == classes && classes != 1 {
            // Class (or per-element) weights: the weight of each position's target class.
            w = gather(try w.broadcast(to: input.shape), dim: channel, positions: classPositions)
        }
        losses = try losses * w
    }
    let m = try mask.map { mask -> DLArray in
        var maskArray = extractdata(mask).withLabels(mask.labels)
        if maskArray.labels.isEmpty && maskFormat == nil && maskArray.rank == input.shape.count - 1 {
            maskArray = try input.format.callerFormat.map { try maskArray.labeled($0.filter { $0 != "C" }) }
                ?? maskArray.withLabels(input.labels.filter { $0 != "C" })
        }
        let m = try input.alignMask(maskArray, maskFormat: maskFormat)
        guard m.shape[channel] == 1 else {
            throw DLError.shapeMismatch("\(operation): the mask of shape \(mask.shape) must hold one value per position (a channel of size 1 or none)")
        }
        return m
    }
    if let m { losses = try losses * m }
    if reduction == .none {
        // One loss per position: the predictions' layout without the channel dimension.
        var labels = Array(input.labels)
        labels.remove(at: channel)
        let squeezed = try reshape(losses, positionShape.enumerated().filter { $0.offset != channel }.map(\.element))
        return try input.format.restore(squeezed.withLabels(String(labels)))
    }
    // Reduce over positions: the channel is already gone (size 1), so every element is a loss.
    let positions = PositionReduction(input: input, channel: channel)
    return try positions.reduce(losses, mask: m, normalization: normalizationFactor)
}

/// Reduces per-position losses (the predictions' layout with a channel of size 1).
private struct PositionReduction {
    let input: LossInput
    let channel: Int

    func reduce(_ losses: DLArray, mask: DLArray?, normalization: LossNormalization) throws -> DLArray {
        let total = sum(losses)
        switch normalization {
        case .none: return total
        case .batchSize: return total / Double(input.batchSize)
        case .allElements: return total / Double(max(losses.count, 1))
        case .maskIncluded:
            guard let mask else {
                throw DLError.invalidArgument("\(input.operation): normalizationFactor .maskIncluded (MATLAB's \"mask-included\") needs a mask")
            }
            let batch = input.format.dim("B")
            let others = (0..<losses.rank).filter { $0 != batch }
            let counts = try sum(mask.broadcast(to: losses.shape), dims: others)
            let safe = try select(counts .== 0, 1, counts)
            return sum(try sum(losses, dims: others) / safe)
        }
    }
}

/// Binary cross-entropy computed from logits: `loss = (1/N) Σ w·m·(softplus(x) − x·t)`, which
/// is `−t·log σ(x) − (1−t)·log(1−σ(x))` written so that it is exact for any logit (no overflow or
/// `log 0` at ±100 or beyond): `softplus(x) = max(x, 0) + log(1 + e^(−|x|))`.
///
/// It takes **logits** (pre-sigmoid scores), unlike ``crossentropy(_:_:_:weightsFormat:mask:maskFormat:classificationMode:normalizationFactor:reduction:dataFormat:)``
/// with `.multilabel`, which takes probabilities: `binarycrossentropy(logits: x, targets: t)`
/// equals `crossentropy(sigmoid(x), t, classificationMode: .multilabel)` where that is finite.
/// With `normalizationFactor: .allElements` it is PyTorch's
/// `binary_cross_entropy_with_logits(x, t)` (mean); the default divides by the batch size, as
/// MATLAB's losses do.
///
/// - Parameters:
///   - logits: the scores, labeled or unlabeled with `dataFormat`. Differentiable.
///   - targets: target probabilities in [0, 1], of the logits' size. Differentiable.
///   - weights: optional weights multiplying the loss values, as for
///     ``crossentropy(_:_:_:weightsFormat:mask:maskFormat:classificationMode:normalizationFactor:reduction:dataFormat:)``
///     in multilabel mode (every element is a loss element).
///   - weightsFormat: the labels of unlabeled `weights`.
///   - mask: which elements count (nonzero) and which do not (0); not differentiated.
///   - maskFormat: the labels of an unlabeled `mask`.
///   - normalizationFactor: what the sum is divided by (see ``LossNormalization``).
///   - reduction: ``LossReduction/sum`` for a scalar, ``LossReduction/none`` for the loss of
///     every element.
///   - dataFormat: the labels of unlabeled logits.
/// - Returns: an unlabeled scalar, or the unreduced losses shaped and labeled as the logits.
/// - Throws: ``DLError`` when the shapes do not fit.
public func binarycrossentropy(logits: DLArray, targets: DLArray, _ weights: DLArray? = nil,
                               weightsFormat: String? = nil, mask: DLArray? = nil, maskFormat: String? = nil,
                               normalizationFactor: LossNormalization = .batchSize, reduction: LossReduction = .sum,
                               dataFormat: String? = nil) throws -> DLArray {
    let input = try LossInput(logits, dataFormat: dataFormat, operation: "binarycrossentropy")
    let x = input.predictions
    let t = try input.alignTargets(targets)
    var values = try softplus(x) - x * t
    if let weights { values = try values * input.align(weights, "weights", operandFormat: weightsFormat, classVector: true) }
    let m = try mask.map { try input.alignMask($0, maskFormat: maskFormat) }
    if let m { values = try values * m }
    return try input.reduce(values, mask: m, normalization: normalizationFactor, reduction: reduction)
}

// MARK: - Regression losses

/// The half mean squared error, as MATLAB's `mse`: `loss = Σ (Y − T)² / (2N)`, with `N` the
/// number of observations (the size of the batch dimension, 1 when there is none). The sum runs
/// over every element (channels, time steps, spatial positions).
///
/// For weights, masks and other normalizations use ``l2loss(_:_:_:weightsFormat:mask:maskFormat:normalizationFactor:reduction:dataFormat:)``
/// (which does not halve).
///
/// - Parameters:
///   - predictions: labeled, or unlabeled with `dataFormat`. Differentiable.
///   - targets: the predictions' size (unlabeled targets are read in the predictions' format).
///     Differentiable.
///   - dataFormat: the labels of unlabeled predictions.
/// - Returns: an unlabeled scalar.
/// - Throws: ``DLError`` when the shapes do not fit.
public func mse(_ predictions: DLArray, _ targets: DLArray, dataFormat: String? = nil) throws -> DLArray {
    let input = try LossInput(predictions, dataFormat: dataFormat, operation: "mse")
    let difference = try input.predictions - input.alignTargets(targets)
    return sum(try difference * difference) / Double(2 * input.batchSize)
}

/// The L1 loss, as MATLAB's `l1loss`: `loss = (1/N) Σ w·m·|Y − T|`. With the defaults (sum,
/// divided by the batch size) it is MATLAB's mean absolute error; `.allElements` gives
/// PyTorch's `l1_loss` (mean).
///
/// - Parameters:
///   - predictions: labeled, or unlabeled with `dataFormat`. Differentiable.
///   - targets: the predictions' size. Differentiable (the derivative of |d| at 0 is taken as 0).
///   - weights: optional weights, per channel (a vector, or labeled `"C"`), observation (`"B"`)
///     or element, broadcast by labels or `weightsFormat`. Differentiable.
///   - weightsFormat: the labels of unlabeled `weights`.
///   - mask: which elements count (nonzero); not differentiated.
///   - maskFormat: the labels of an unlabeled `mask`.
///   - normalizationFactor: what the sum is divided by (see ``LossNormalization``).
///   - reduction: ``LossReduction/sum`` for a scalar, ``LossReduction/none`` for the loss of
///     every element.
///   - dataFormat: the labels of unlabeled predictions.
/// - Returns: an unlabeled scalar, or the unreduced losses shaped and labeled as the predictions.
/// - Throws: ``DLError`` when the shapes do not fit.
public func l1loss(_ predictions: DLArray, _ targets: DLArray, _ weights: DLArray? = nil,
                   weightsFormat: String? = nil, mask: DLArray? = nil, maskFormat: String? = nil,
                   normalizationFactor: LossNormalization = .batchSize, reduction: LossReduction = .sum,
                   dataFormat: String? = nil) throws -> DLArray {
    try regressionLoss("l1loss", predictions, targets, weights, weightsFormat: weightsFormat, mask: mask,
                       maskFormat: maskFormat, normalizationFactor: normalizationFactor, reduction: reduction,
                       dataFormat: dataFormat) { d in abs(d) }
}

/// The L2 loss, as MATLAB's `l2loss`: `loss = (1/N) Σ w·m·(Y − T)²` (not halved, unlike
/// ``mse(_:_:dataFormat:)``). With the defaults (sum, divided by the batch size) it is MATLAB's
/// mean squared error; `.allElements` gives PyTorch's `mse_loss` (mean).
///
/// The arguments are those of ``l1loss(_:_:_:weightsFormat:mask:maskFormat:normalizationFactor:reduction:dataFormat:)``.
/// - Returns: an unlabeled scalar, or the unreduced losses shaped and labeled as the predictions.
/// - Throws: ``DLError`` when the shapes do not fit.
public func l2loss(_ predictions: DLArray, _ targets: DLArray, _ weights: DLArray? = nil,
                   weightsFormat: String? = nil, mask: DLArray? = nil, maskFormat: String? = nil,
                   normalizationFactor: LossNormalization = .batchSize, reduction: LossReduction = .sum,
                   dataFormat: String? = nil) throws -> DLArray {
    try regressionLoss("l2loss", predictions, targets, weights, weightsFormat: weightsFormat, mask: mask,
                       maskFormat: maskFormat, normalizationFactor: normalizationFactor, reduction: reduction,
                       dataFormat: dataFormat) { d in try d * d }
}

/// The Huber loss, as MATLAB's `huber`: for each difference `d = Y − T`,
/// `0.5·d²` where `|d| ≤ δ` and `δ·(|d| − 0.5·δ)` beyond, then `loss = (1/N) Σ w·m·huber(d)`.
/// With `transitionPoint` 1 it is the smooth L1 loss; `.allElements` gives PyTorch's
/// `huber_loss(delta: δ)` (mean).
///
/// - Parameters:
///   - predictions: labeled, or unlabeled with `dataFormat`. Differentiable.
///   - targets: the predictions' size. Differentiable.
///   - weights: optional weights, as for
///     ``l1loss(_:_:_:weightsFormat:mask:maskFormat:normalizationFactor:reduction:dataFormat:)``.
///   - transitionPoint: δ, where the loss turns from quadratic to linear (MATLAB's
///     `TransitionPoint`, default 1); positive.
///   - weightsFormat: the labels of unlabeled `weights`.
///   - mask: which elements count (nonzero); not differentiated.
///   - maskFormat: the labels of an unlabeled `mask`.
///   - normalizationFactor: what the sum is divided by (see ``LossNormalization``).
///   - reduction: ``LossReduction/sum`` for a scalar, ``LossReduction/none`` for the loss of
///     every element.
///   - dataFormat: the labels of unlabeled predictions.
/// - Returns: an unlabeled scalar, or the unreduced losses shaped and labeled as the predictions.
/// - Throws: ``DLError`` when the shapes do not fit or δ is not positive.
public func huber(_ predictions: DLArray, _ targets: DLArray, _ weights: DLArray? = nil,
                  transitionPoint: Double = 1, weightsFormat: String? = nil, mask: DLArray? = nil,
                  maskFormat: String? = nil, normalizationFactor: LossNormalization = .batchSize,
                  reduction: LossReduction = .sum, dataFormat: String? = nil) throws -> DLArray {
    guard transitionPoint > 0 && transitionPoint.isFinite else {
        throw DLError.invalidArgument("huber: transitionPoint must be positive and finite, got \(transitionPoint)")
    }
    let delta = transitionPoint
    return try regressionLoss("huber", predictions, targets, weights, weightsFormat: weightsFormat, mask: mask,
                              maskFormat: maskFormat, normalizationFactor: normalizationFactor, reduction: reduction,
                              dataFormat: dataFormat) { d in
        // Each branch is used only where it is smooth, so both derivatives are exact.
        let magnitude = abs(d)
        let quadratic = try extractdata(magnitude) .<= delta
        return try select(quadratic, 0.5 * (d * d), delta * (magnitude - 0.5 * delta))
    }
}

/// An elementwise regression loss of the differences, weighted, masked and reduced.
private func regressionLoss(_ operation: String, _ predictions: DLArray, _ targets: DLArray, _ weights: DLArray?,
                            weightsFormat: String?, mask: DLArray?, maskFormat: String?,
                            normalizationFactor: LossNormalization, reduction: LossReduction, dataFormat: String?,
                            _ elementLoss: (DLArray) throws -> DLArray) throws -> DLArray {
    let input = try LossInput(predictions, dataFormat: dataFormat, operation: operation)
    var values = try elementLoss(input.predictions - input.alignTargets(targets))
    if let weights { values = try values * input.align(weights, "weights", operandFormat: weightsFormat, classVector: true) }
    let m = try mask.map { try input.alignMask($0, maskFormat: maskFormat) }
    if let m { values = try values * m }
    return try input.reduce(values, mask: m, normalization: normalizationFactor, reduction: reduction)
}
