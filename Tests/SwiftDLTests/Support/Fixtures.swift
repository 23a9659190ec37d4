import Foundation
import Testing
@testable import SwiftDL

/// Reference values computed with PyTorch by the scripts in `Fixtures/` (see
/// `Fixtures/fixture_common.py`), read from the source tree.
struct Fixture {
    private let entries: [String: Any]

    /// The case `name` of `Fixtures/<family>.json`.
    init(_ family: String, _ name: String) throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/\(family).json")
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
        guard let cases = root?["cases"] as? [String: Any], let entries = cases[name] as? [String: Any] else {
            throw DLError.file("no case \(name) in \(url.path)")
        }
        self.entries = entries
    }

    /// The array `name`, as float64.
    func array(_ name: String) throws -> DLArray {
        guard let entry = entries[name] as? [String: Any], let shape = entry["shape"] as? [Int],
              let data = entry["data"] as? [Double] else { throw DLError.file("fixture has no array \(name)") }
        return try DLArray(data, shape: shape)
    }

    /// The integer list `name` (a setting such as a stride).
    func integers(_ name: String) throws -> [Int] {
        if let values = entries[name] as? [Int] { return values }
        if let value = entries[name] as? Int { return [value] }
        throw DLError.file("fixture has no setting \(name)")
    }

    /// The number `name`.
    func number(_ name: String) throws -> Double {
        guard let value = entries[name] as? Double ?? (entries[name] as? Int).map(Double.init) else {
            throw DLError.file("fixture has no number \(name)")
        }
        return value
    }
}

/// Expects two arrays to have the same shape and elements within `tolerance` (relative to the
/// larger magnitude, at least 1).
func expectClose(_ actual: DLArray, _ expected: DLArray, tolerance: Double = 1e-10, _ what: String = "",
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.shape == expected.shape, "\(what): shape \(actual.shape) vs \(expected.shape)", sourceLocation: sourceLocation)
    guard actual.shape == expected.shape else { return }
    let a = actual.scalars(as: Double.self), e = expected.scalars(as: Double.self)
    let scale = max(1, e.map { abs($0) }.max() ?? 0)
    let error = zip(a, e).map { abs($0 - $1) }.max() ?? 0
    #expect(error <= tolerance * scale, "\(what): max error \(error) (scale \(scale))", sourceLocation: sourceLocation)
}
