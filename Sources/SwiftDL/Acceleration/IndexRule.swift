/// What an operation requires of the index values it reads into Swift to validate them (word
/// numbers, class numbers, gather positions): every value a whole number in `0..<bound`, or NaN
/// where NaN is allowed.
///
/// Such a read does not decide the computation (kernels read the indices themselves), only
/// whether the operation throws, so a plan cached by ``dlaccelerate(_:)`` checks the rule on
/// each replay's values instead of requiring the captured values again: new class labels
/// replay the plan, and a value that breaks the rule makes the call run eagerly, where the
/// operation throws its own error.
struct IndexRule: Hashable {
    /// The values must be below this.
    let bound: Int
    /// Whether NaN is allowed (an undefined label, as in `onehotencode`).
    var allowsNaN = false

    /// Whether `value` keeps the rule.
    @inline(__always)
    func admits(_ value: Double) -> Bool {
        if value.isNaN { return allowsNaN }
        return value >= 0 && value < Double(bound) && value.rounded() == value
    }
}

extension DLArray {
    /// The values as float64, read into Swift to validate them against `rule`; the caller throws
    /// its error for a value that breaks it.
    ///
    /// While ``dlaccelerate(_:)`` captures a function, the read becomes a check of `rule` that
    /// the cached plan repeats on each replay's values, not a guard on these values: the caller
    /// uses them for its checks and messages only, and computes with kernels that read the
    /// indices.
    func indexValues(checkedBy rule: IndexRule) -> [Double] {
        let values = storageConverted(to: .float64)
        KernelCapture.current?.noteValidation(values.storage, rule)
        return Array(UnsafeBufferPointer(start: values.storage.unsafeElements.assumingMemoryBound(to: Double.self),
                                         count: count))
    }
}
