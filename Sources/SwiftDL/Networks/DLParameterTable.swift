/// A table of named arrays with learn-rate factors, as MATLAB's `Learnables` and `State` tables
/// (columns Layer, Parameter, Value): a network's parameters, their gradients, or optimizer state.
///
/// A table is a ``DLArrayContainer``, so `dlgradient(loss, net.learnables)` returns the gradients
/// as a table of the same rows, and the optimizers update tables. Rows with a learn-rate factor
/// of 0 are frozen: not traced, not differentiated (their gradients are zeros), not updated.
public struct DLParameterTable: DLLearnRateScaled, Sendable, CustomStringConvertible {
    /// One row: which layer, which parameter, its value and its learn-rate factor.
    public struct Row: Sendable {
        /// The layer's name.
        public var layer: String
        /// The parameter's name within the layer (`"Weights"`, `"Bias"`…).
        public var parameter: String
        /// The value.
        public var value: DLArray
        /// The learn-rate factor: 0 freezes the parameter; other values scale its learning rate.
        public var learnRateFactor: Double

        /// A row.
        public init(layer: String, parameter: String, value: DLArray, learnRateFactor: Double = 1) {
            self.layer = layer
            self.parameter = parameter
            self.value = value
            self.learnRateFactor = learnRateFactor
        }
    }

    /// The rows, in the network's order.
    public var rows: [Row]

    /// A table of these rows.
    public init(rows: [Row] = []) { self.rows = rows }

    /// The value of `parameter` of `layer`, or nil.
    public subscript(layer: String, parameter: String) -> DLArray? {
        get { rows.first { $0.layer == layer && $0.parameter == parameter }?.value }
        set {
            guard let newValue else {
                rows.removeAll { $0.layer == layer && $0.parameter == parameter }
                return
            }
            if let index = rows.firstIndex(where: { $0.layer == layer && $0.parameter == parameter }) {
                rows[index].value = newValue
            } else {
                rows.append(Row(layer: layer, parameter: parameter, value: newValue))
            }
        }
    }

    /// The learn-rate factors, one per row.
    public var learnRateFactors: [Double] { rows.map(\.learnRateFactor) }

    /// Visits the rows' values in order.
    public func forEachArray(_ body: (DLArray) throws -> Void) rethrows {
        for row in rows { try body(row.value) }
    }

    /// The table with every value transformed; names and factors stay.
    public func mapArrays(_ transform: (DLArray) throws -> DLArray) rethrows -> DLParameterTable {
        var copy = self
        for index in copy.rows.indices { copy.rows[index].value = try transform(copy.rows[index].value) }
        return copy
    }

    /// The table with each row's value replaced by `value(row)`; names and factors stay.
    public func mapRows(_ value: (Row) throws -> DLArray) rethrows -> DLParameterTable {
        var copy = self
        for index in copy.rows.indices { copy.rows[index].value = try value(copy.rows[index]) }
        return copy
    }

    /// The table printed as MATLAB prints one: a row per parameter with its size.
    public var description: String {
        let header = "  \(rows.count)×3 table\n\n    Layer    Parameter    Value\n"
        return header + rows.map { row in
            let size = row.value.shape.isEmpty ? "1x1" : row.value.shape.map(String.init).joined(separator: "x")
            let factor = row.learnRateFactor == 1 ? "" : "  (learn-rate factor \(row.learnRateFactor))"
            return "    \"\(row.layer)\"    \"\(row.parameter)\"    {\(size) \(row.value.dataType)}\(factor)"
        }.joined(separator: "\n") + "\n"
    }
}
