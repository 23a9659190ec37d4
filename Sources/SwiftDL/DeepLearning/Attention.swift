/// Which keys each query may attend to in ``attention(_:_:_:_:scale:mask:dataFormat:)``, as
/// MATLAB's `AttentionMask` option.
public enum AttentionMask {
    /// Every query attends to every key (MATLAB's `"none"`, the default).
    case none
    /// Query position `i` attends to key positions `j ≤ i` only (MATLAB's `"causal"`), for
    /// autoregressive models.
    case causal
    /// A custom mask: nonzero (true) where a query may attend to a key, 0 (false) where it may
    /// not. Its shape is `[numQueries, numKeys]` for every observation, or
    /// `[batch, numQueries, numKeys]` (batch may be 1): MATLAB's `Nk × Nq` or `Nk × Nq × B`
    /// logical array, read backwards.
    case custom(DLArray)
}

/// Scaled dot-product attention with several heads, as MATLAB's `attention`.
///
/// The channels of the queries, keys and values are split into `numHeads` equal, contiguous
/// groups (head `h` takes channels `h·d ..< (h+1)·d`, as MATLAB and PyTorch's
/// `MultiheadAttention`). For each head and observation,
/// `weights = softmax(scale · Q Kᵀ)` over the keys and `output = weights · V`; the heads'
/// outputs are concatenated along the channels again.
///
/// ```swift
/// let q = DLArray.randn([5, 2, 8], labels: "TBC", seed: 1)   // 5 queries, batch 2, 8 channels
/// let kv = DLArray.randn([7, 2, 8], labels: "TBC", seed: 2)  // 7 keys
/// let (y, weights) = try attention(q, kv, kv, 2, mask: .none)
/// // y: [5, 2, 8] "TBC"; weights: [2, 2, 5, 7] = [batch, heads, queries, keys]
/// ```
///
/// Masked key positions get weight 0 (as if their scores were -∞). A query that may attend to no
/// key at all gets zero weights and a zero output, not NaN; gradients and second derivatives
/// stay finite.
///
/// - Parameters:
///   - queries: `[numQueries, batch, channels]` labeled `"TBC"` (MATLAB's `"CBT"`), or with the
///     sequence along a spatial dimension (`"BCS"`); the batch and sequence dimensions may be
///     left out. Labeled, or unlabeled with `dataFormat`.
///   - keys: `[numKeys, batch, channels]`, with the queries' number of channels. Labeled like
///     the queries, or unlabeled in the queries' format.
///   - values: `[numKeys, batch, valueChannels]`; `valueChannels` may differ from the keys'.
///   - numHeads: the number of heads; it must divide the channels of the queries and the values.
///   - scale: the factor multiplying the dot products; nil (MATLAB's `"auto"`) is `1/√d` with
///     `d` the channels of the keys per head.
///   - mask: ``AttentionMask/none``, ``AttentionMask/causal`` or a custom mask.
///   - dataFormat: the labels of unlabeled queries (keys and values too when unlabeled).
/// - Returns: `output`, the values' channels at every query position, labeled (or arranged) as
///   the queries; and `weights`, unlabeled `[batch, numHeads, numQueries, numKeys]` (MATLAB's
///   `numKeys × numQueries × numHeads × batch`, read backwards), batch 1 when the queries have
///   no batch dimension.
/// - Throws: ``DLError/invalidArgument(_:)`` for a bad `numHeads` or layout,
///   ``DLError/shapeMismatch(_:)`` when the queries, keys, values or mask do not fit together.
public func attention(_ queries: DLArray, _ keys: DLArray, _ values: DLArray, _ numHeads: Int,
                      scale: Double? = nil, mask: AttentionMask = .none,
                      dataFormat: String? = nil) throws -> (output: DLArray, weights: DLArray) {
    guard numHeads >= 1 else {
        throw DLError.invalidArgument("attention: numHeads must be at least 1, got \(numHeads)")
    }
    let q = try SequenceOperand(queries, "queries", dataFormat: dataFormat, like: nil)
    let k = try SequenceOperand(keys, "keys", dataFormat: dataFormat, like: q)
    let v = try SequenceOperand(values, "values", dataFormat: dataFormat, like: q)
    let (batch, numQueries, channels) = (q.array.shape[0], q.array.shape[1], q.array.shape[2])
    let (numKeys, valueChannels) = (k.array.shape[1], v.array.shape[2])
    guard k.array.shape[2] == channels else {
        throw DLError.shapeMismatch(
            "attention: the keys have \(k.array.shape[2]) channels and the queries \(channels); they must have the same number")
    }
    guard k.array.shape[0] == batch, v.array.shape[0] == batch else {
        throw DLError.shapeMismatch(
            "attention: the batch sizes of the queries, keys and values differ (\(batch), \(k.array.shape[0]), \(v.array.shape[0]))")
    }
    guard v.array.shape[1] == numKeys else {
        throw DLError.shapeMismatch(
            "attention: \(numKeys) keys but \(v.array.shape[1]) values; the keys and values need the same sequence length")
    }
    guard channels % numHeads == 0 && valueChannels % numHeads == 0 else {
        throw DLError.invalidArgument(
            "attention: numHeads \(numHeads) does not divide the channels of the queries and keys (\(channels)) and of the values (\(valueChannels)); each head takes an equal share")
    }
    let (keyDepth, valueDepth) = (channels / numHeads, valueChannels / numHeads)
    let factor = scale ?? 1 / Double(keyDepth).squareRoot()

    // [B, L, H·d] → [B, H, L, d]: head h holds channels h·d ..< (h+1)·d.
    func heads(_ x: DLArray, _ length: Int, _ depth: Int) throws -> DLArray {
        try permute(reshape(x, [batch, length, numHeads, depth]), [0, 2, 1, 3])
    }
    let scores = try pagemtimes(heads(q.array, numQueries, keyDepth), .none, heads(k.array, numKeys, keyDepth), .transpose) * factor
    let allowed = try attentionMask(mask, batch: batch, queries: numQueries, keys: numKeys)
    let weights = try softmax(scores, along: 3, allowed: allowed)              // [B, H, Lq, Lk]
    let attended = try pagemtimes(weights, heads(v.array, numKeys, valueDepth))  // [B, H, Lq, dv]
    let output = try reshape(permute(attended, [0, 2, 1, 3]), [batch, numQueries, valueChannels])
    return (try q.result(output), weights)
}

/// A sequence operand of ``attention(_:_:_:_:scale:mask:dataFormat:)`` brought to
/// `[batch, length, channels]`, and how to give a result back in its layout.
private struct SequenceOperand {
    let format: DataFormat
    /// `[B, L, C]`, unlabeled.
    let array: DLArray
    let hasBatch: Bool
    let hasSequence: Bool

    init(_ x: DLArray, _ name: String, dataFormat: String?, like reference: SequenceOperand?) throws {
        try requireReal(x, "attention")
        if let reference, x.labels.isEmpty {
            // Unlabeled keys and values take the queries' format.
            let layout = reference.format.callerFormat ?? reference.format.input.labels
            guard x.rank == layout.count else {
                throw DLError.shapeMismatch(
                    "attention: the \(name) of shape \(x.shape) have \(x.rank) dimensions but the queries' layout \"\(layout)\" has \(layout.count); unlabeled \(name) take the queries' format")
            }
            if let caller = reference.format.callerFormat {
                format = try DataFormat(x, dataFormat: caller, operation: "attention")
            } else {
                format = try DataFormat(x.withLabels(reference.format.input.labels), dataFormat: nil, operation: "attention")
            }
        } else {
            format = try DataFormat(x, dataFormat: reference == nil ? dataFormat : nil, operation: "attention")
        }
        let labels = format.input.labels
        let sequence = labels.filter { $0 == "T" || $0 == "S" }
        guard labels.filter({ $0 == "C" }).count == 1, sequence.count <= 1, !labels.contains("U") else {
            throw DLError.invalidArgument(
                "attention: the \(name) must have a channel (C) dimension, optionally a batch (B) and one time (T) or spatial (S) dimension, as \"TBC\" (MATLAB's \"CBT\"); got \"\(labels)\"")
        }
        if let reference, labels != reference.format.input.labels {
            throw DLError.invalidArgument(
                "attention: the \(name) are labeled \"\(labels)\" and the queries \"\(reference.format.input.labels)\"; they must have the same layout")
        }
        hasBatch = labels.contains("B")
        hasSequence = !sequence.isEmpty
        let data = stripdims(format.input)
        let letters = Array(labels)
        let b = letters.firstIndex(of: "B"), t = letters.firstIndex(where: { $0 == "T" || $0 == "S" })
        let c = letters.firstIndex(of: "C")!
        let order = [b, t, c].compactMap { $0 }
        let arranged = try permute(data, order)
        array = try reshape(arranged, [b.map { data.shape[$0] } ?? 1, t.map { data.shape[$0] } ?? 1, data.shape[c]])
    }

    /// A `[B, L, C']` result in this operand's layout and labels.
    func result(_ y: DLArray) throws -> DLArray {
        let labels = format.input.labels
        let letters = Array(labels)
        let (batch, length, channels) = (y.shape[0], y.shape[1], y.shape[2])
        // The sizes in [B, L, C] order of the dimensions present, then into canonical order.
        var present: [(Character, Int)] = []
        if hasBatch { present.append(("B", batch)) }
        if hasSequence { present.append((letters.first(where: { $0 == "T" || $0 == "S" })!, length)) }
        present.append(("C", channels))
        let compact = try reshape(y, present.map(\.1))
        let order = letters.map { letter in present.firstIndex(where: { $0.0 == letter })! }
        return try format.restore(permute(compact, order).withLabels(labels))
    }
}

/// The attention mask as a bool array broadcasting to `[B, H, Lq, Lk]`, or nil when all is
/// allowed.
private func attentionMask(_ mask: AttentionMask, batch: Int, queries: Int, keys: Int) throws -> DLArray? {
    switch mask {
    case .none:
        return nil
    case .causal:
        let allowed = (0..<queries * keys).map { $0 % keys <= $0 / keys }
        return try DLArray(allowed, shape: [1, 1, queries, keys])
    case .custom(let array):
        try requireReal(array, "attention (for its mask)")
        let data = extractdata(array)
        let fits = (data.rank == 2 && data.shape == [queries, keys])
            || (data.rank == 3 && Array(data.shape.dropFirst()) == [queries, keys] && (data.shape[0] == batch || data.shape[0] == 1))
        guard fits else {
            throw DLError.shapeMismatch(
                "attention: a mask of shape \(array.shape) does not fit \(queries) queries and \(keys) keys; expected [\(queries), \(keys)] or [\(batch), \(queries), \(keys)] (MATLAB's Nk×Nq×B, read backwards)")
        }
        let observations = data.rank == 3 ? data.shape[0] : 1
        return try reshape(data .!= 0, [observations, 1, queries, keys])
    }
}
