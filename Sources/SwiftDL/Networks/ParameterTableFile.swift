import Foundation

/// The metadata key that marks a parameter-table file and holds its rows' order and factors.
private let rowsKey = "dlparametertable.rows"

/// A row's place in a table file: its names, learn-rate factor and tensor name.
private struct StoredRow: Codable {
    let layer: String
    let parameter: String
    let learnRateFactor: Double
}

extension DLParameterTable {
    /// Writes the table to a safetensors file, atomically: optimizer state (Adam's averages,
    /// SGDM's velocity, RMSProp's average) next to a network written by
    /// ``DLNetwork/write(to:)``. Values are named `<layer>/<parameter>`.
    /// - Throws: ``DLError/file(_:)`` when the file cannot be written (it is then unchanged).
    public func write(to url: URL) throws {
        var tensors: [String: DLArray] = [:]
        for row in rows { tensors["\(row.layer)/\(row.parameter)"] = row.value }
        guard tensors.count == rows.count else {
            throw DLError.invalidArgument("DLParameterTable.write: two rows have the same layer and parameter")
        }
        let stored = rows.map { StoredRow(layer: $0.layer, parameter: $0.parameter, learnRateFactor: $0.learnRateFactor) }
        let metadata = [rowsKey: String(decoding: try JSONEncoder().encode(stored), as: UTF8.self)]
        try SafeTensors.write(tensors, metadata: metadata, to: url)
    }

    /// Reads a table written by ``write(to:)``, rows in their original order.
    /// - Throws: ``DLError/file(_:)`` for a missing or damaged file, or one that is not a table.
    public init(contentsOf url: URL) throws {
        let (tensors, metadata) = try SafeTensors.read(from: url)
        guard let text = metadata[rowsKey],
              let stored = try? JSONDecoder().decode([StoredRow].self, from: Data(text.utf8)) else {
            throw DLError.file("\(url.path) is not a parameter table written by SwiftDL (no readable \(rowsKey) metadata)")
        }
        self.init(rows: try stored.map { row in
            guard let value = tensors["\(row.layer)/\(row.parameter)"] else {
                throw DLError.file("\(url.path): the table lists \(row.layer)/\(row.parameter) but the file has no such tensor")
            }
            return Row(layer: row.layer, parameter: row.parameter, value: value, learnRateFactor: row.learnRateFactor)
        })
    }
}
