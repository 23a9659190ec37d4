/// Word embedding, as MATLAB's `embed`: every index in `x` is replaced by its row of `weights`,
/// a vector of `embeddingDimension` values that becomes the channel (C) dimension of the result.
///
/// The indices are **0-based** in SwiftDL (MATLAB's are 1-based): index `k` picks row `k` of
/// `weights`. The weights layout is `[numWords, embeddingDimension]`, the same memory as
/// MATLAB's `EmbeddingDimension × NumWords` matrix (and PyTorch's `Embedding.weight`).
///
/// ```swift
/// let words = try DLArray([0.0, 2, 1, 2], shape: [2, 2], labels: "TB")   // 2 steps, 2 sequences
/// let table = DLArray.randn([3, 5], seed: 1)                               // 3 words, 5 values each
/// let vectors = try embed(words, table)                                    // [2, 2, 5] labeled "TBC"
/// ```
///
/// The gradient flows to `weights` (rows used several times add up), and can be differentiated
/// again; the indices are not differentiated.
///
/// - Parameters:
///   - x: the word indices, whole numbers in `0..<numWords`, of any shape. Labeled (`"TB"`,
///     `"B"`, `"BSS"`…; a channel dimension, if any, must have size 1), unlabeled with
///     `dataFormat`, or unlabeled without a format, which gives `x.shape + [embeddingDimension]`
///     unlabeled (as PyTorch's `embedding`).
///   - weights: `[numWords, embeddingDimension]`.
///   - dataFormat: the labels of an unlabeled `x` (SwiftDL's `"TB"` or MATLAB's `"BT"`, `"CBT"`).
/// - Returns: the embeddings: `x`'s dimensions with a channel dimension of size
///   `embeddingDimension` added (or replacing `x`'s channel of size 1), labeled in canonical
///   order (`"TB"` gives `"TBC"`), or unlabeled in the caller's order with the channel where the
///   format had it (last when the format had none).
/// - Throws: ``DLError/invalidArgument(_:)`` for indices that are not whole numbers or are out of
///   range, or a channel dimension of size other than 1; ``DLError/shapeMismatch(_:)`` for
///   weights that are not a matrix.
public func embed(_ x: DLArray, _ weights: DLArray, dataFormat: String? = nil) throws -> DLArray {
    guard weights.rank == 2 else {
        throw DLError.shapeMismatch(
            "embed: weights of shape \(weights.shape) are not a matrix; expected [numWords, embeddingDimension]")
    }
    try requireReal(x, "embed (for its indices)")
    let (words, dimension) = (weights.shape[0], weights.shape[1])

    // The indices in canonical order, without their channel dimension, and where C goes.
    let format: DataFormat?
    var indices: DLArray
    var labels: String
    if x.labels.isEmpty && dataFormat == nil {
        format = nil
        indices = x
        labels = ""
    } else {
        let resolved = try DataFormat(x, dataFormat: dataFormat, operation: "embed")
        format = resolved
        indices = stripdims(resolved.input)
        labels = resolved.input.labels
        if let channel = resolved.dim("C") {
            guard indices.shape[channel] == 1 else {
                throw DLError.invalidArgument(
                    "embed: the indices have a channel dimension of size \(indices.shape[channel]) (labels \"\(labels)\", shape \(indices.shape)); it must have size 1 (one index per position) or be left out")
            }
            indices = try squeeze(indices, dims: [channel])
            labels.remove(at: labels.index(labels.startIndex, offsetBy: channel))
        }
    }
    // The indices are read into Swift only to check them; the rows are gathered by a kernel
    // that reads them, so that a plan cached by dlaccelerate replays on new indices.
    let positions = extractdata(indices).converted(to: .float64)
    let values = positions.indexValues(checkedBy: IndexRule(bound: words))
    if let bad = values.first(where: { !$0.isFinite || $0.rounded() != $0 }) {
        throw DLError.invalidArgument("embed: index \(bad) is not a whole number; indices are 0-based word numbers")
    }
    if let bad = values.first(where: { $0 < 0 || $0 >= Double(words) }) {
        throw DLError.invalidArgument(
            "embed: index \(bad.magnitude < 1e15 ? "\(Int(bad))" : "\(bad)") is out of range for \(words) words (weights \(weights.shape)); indices are 0-based (0..<\(words)), MATLAB's 1-based index k is k - 1 here")
    }

    // One row per index, [count, dimension], then the index layout with C last.
    let rowPositions = try reshape(positions, [values.count, 1]).broadcast(to: [values.count, dimension])
    let rows = gather(stripdims(weights), dim: 0, positions: rowPositions)
    var y = try reshape(rows, indices.shape + [dimension])
    guard let format else { return y }
    // C goes after the U, T and B dimensions and before the spatial ones (canonical order).
    let position = labels.filter { "UTB".contains($0) }.count
    var order = Array(0..<indices.rank)
    order.insert(indices.rank, at: position)
    y = try permute(y, order)
    labels.insert("C", at: labels.index(labels.startIndex, offsetBy: position))
    return try format.restore(y.withLabels(labels))
}
