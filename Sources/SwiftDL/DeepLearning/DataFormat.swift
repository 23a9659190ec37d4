/// How a deep-learning operation finds the dimensions of its input: from the input's labels, or
/// from an explicit data format for an unlabeled input (MATLAB's `DataFormat` argument).
///
/// The operation works on the input permuted into canonical order (`U…`, `T`, `B`, `C`, `S…`)
/// and labeled; ``restore(_:)`` gives the result back as the caller passed the input: labeled,
/// or unlabeled with its dimensions in the order the caller's format used.
struct DataFormat {
    /// The input in canonical order, labeled.
    let input: DLArray
    /// The caller's format for an unlabeled input, or nil when the input was labeled.
    let callerFormat: String?

    /// Resolves the input's dimensions.
    /// - Throws: ``DLError/invalidArgument(_:)`` when an unlabeled input has no format, when a
    ///   labeled input is also given a different format, or when the format does not fit.
    init(_ x: DLArray, dataFormat: String?, operation: String) throws {
        if !x.labels.isEmpty {
            if let dataFormat, canonicalLabels(dataFormat) != x.labels {
                throw DLError.invalidArgument(
                    "\(operation): the input is labeled \"\(x.labels)\" but dataFormat \"\(dataFormat)\" was given; give one or the other")
            }
            input = x
            callerFormat = nil
        } else {
            guard let dataFormat else {
                throw DLError.invalidArgument(
                    "\(operation): the input has no dimension labels; label it (x.labeled(\"BCSS\")) or pass dataFormat:")
            }
            input = try x.labeled(dataFormat)
            callerFormat = dataFormat
        }
    }

    /// The positions of the dimensions labeled `label`.
    func dims(_ label: Character) -> [Int] { finddim(input, label) }

    /// The position of the single dimension labeled `label`, or nil.
    func dim(_ label: Character) -> Int? { dims(label).first }

    /// The result as the caller expects it: as it is (labeled) for a labeled input, else
    /// unlabeled with its dimensions in the order of the caller's format.
    func restore(_ y: DLArray) throws -> DLArray {
        guard let callerFormat else { return y }
        let letters = Array(y.labels)
        var used = [Bool](repeating: false, count: letters.count)
        var order: [Int] = []
        for letter in callerFormat {
            if let k = letters.indices.first(where: { !used[$0] && letters[$0] == letter }) {
                used[k] = true
                order.append(k)
            }
        }
        order += letters.indices.filter { !used[$0] }
        return try permute(stripdims(y), order)
    }
}
