import RealModule
/// The order SwiftDL keeps labels in: MATLAB's `S, C, B, T, U` read backwards, because
/// SwiftDL is row-major and MATLAB column-major (the same memory either way).
private func canonicalRank(_ label: Character) -> Int {
    switch label {
    case "U": 0
    case "T": 1
    case "B": 2
    case "C": 3
    default: 4  // "S"
    }
}

/// Checks a label string: letters from `S C B T U`, `C`, `B` and `T` at most once.
func validateLabels(_ labels: String, rank: Int) throws {
    for label in labels where !"SCBTU".contains(label) {
        throw DLError.invalidArgument(
            "dimension label \"\(label)\" in \"\(labels)\" is not one of S (spatial), C (channel), B (batch), T (time), U (unspecified)")
    }
    for unique: Character in ["C", "B", "T"] where labels.filter({ $0 == unique }).count > 1 {
        throw DLError.invalidArgument("dimension label \(unique) appears more than once in \"\(labels)\"; C, B and T may appear once")
    }
    guard labels.count == rank else {
        throw DLError.invalidArgument(
            "labels \"\(labels)\" name \(labels.count) dimensions but the array has \(rank) (one letter per dimension)")
    }
}

/// The order in which `labels` (a valid label string) put dimensions into canonical order:
/// position `k` of the canonical arrangement is dimension `order[k]`.
func canonicalOrder(_ labels: String) -> [Int] {
    let letters = Array(labels)
    return letters.indices.sorted { p, q in
        let (a, b) = (canonicalRank(letters[p]), canonicalRank(letters[q]))
        return a == b ? p < q : a < b
    }
}

/// `labels` rearranged into canonical order (`"SSCB"` gives `"BCSS"`).
func canonicalLabels(_ labels: String) -> String {
    let letters = Array(labels)
    return String(canonicalOrder(labels).map { letters[$0] })
}

extension DLArray {
    /// This array with dimension labels, as MATLAB's `dlarray(X, fmt)`: one letter per
    /// dimension in the array's order; the data is then permuted into SwiftDL's canonical
    /// label order `U…, T, B, C, S…` (so `"CB"` on a 3×5 array gives a 5×3 array labeled `"BC"`).
    ///
    /// - Throws: ``DLError/invalidArgument(_:)`` for letters other than `SCBTU`, a repeated `C`,
    ///   `B` or `T`, or a label count other than the rank.
    public func labeled(_ labels: String) throws -> DLArray {
        try validateLabels(labels, rank: rank)
        let letters = Array(labels)
        let order = canonicalOrder(labels)
        let arranged = order == Array(letters.indices) ? stripdims(self) : try permute(stripdims(self), order)
        return arranged.withLabels(String(order.map { letters[$0] }))
    }

    /// This array with `labels` attached as they are (the caller knows they fit).
    func withLabels(_ labels: String) -> DLArray {
        let fitting = labels.utf8.count == rank ? labels : ""
        if fitting.isEmpty && self.labels.isEmpty { return self }
        var copy = self
        copy.labels = fitting
        return copy
    }
}

/// The dimension labels of `x` (MATLAB's `dims`), or an empty string.
public func dims(_ x: DLArray) -> String { x.labels }

/// The dimensions of `x` labeled `label` (MATLAB's `finddim`, 0-based), in order.
public func finddim(_ x: DLArray, _ label: Character) -> [Int] {
    x.labels.enumerated().filter { $0.element == label }.map(\.offset)
}

/// `x` without dimension labels (MATLAB's `stripdims`); values and trace are unchanged.
public func stripdims(_ x: DLArray) -> DLArray {
    if x.labels.isEmpty { return x }
    var copy = x
    copy.labels = ""
    return copy
}
