import Foundation
import Testing
@testable import SwiftDL

/// A new, empty folder under the system's temporary folder for one test; `remove()` deletes it.
struct TemporaryFolder {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("swiftdl-serialization-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
    }

    /// The URL of `name` in this folder.
    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    /// The names in this folder, hidden ones included, sorted.
    func names() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: url.path).sorted() }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// The bytes of an array's elements as stored, to compare arrays bit for bit.
func storedBytes(_ array: DLArray) -> [UInt8] {
    withExtendedLifetime(array) {
        Array(UnsafeRawBufferPointer(start: array.storage.rawPointer, count: array.count * array.dataType.byteCount))
    }
}

/// Expects `actual` to be `expected` exactly: element type, shape, labels and every bit.
func expectSameBits(_ actual: DLArray?, _ expected: DLArray, _ name: String,
                     sourceLocation: SourceLocation = #_sourceLocation) {
    guard let actual else {
        Issue.record("\(name) is missing", sourceLocation: sourceLocation)
        return
    }
    #expect(actual.dataType == expected.dataType, "\(name): type", sourceLocation: sourceLocation)
    #expect(actual.shape == expected.shape, "\(name): shape", sourceLocation: sourceLocation)
    #expect(actual.labels == expected.labels, "\(name): labels", sourceLocation: sourceLocation)
    #expect(storedBytes(actual) == storedBytes(expected), "\(name): bits", sourceLocation: sourceLocation)
}

/// The little-endian bytes of `values`.
func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
    values.flatMap { value in withUnsafeBytes(of: value.littleEndian, Array.init) }
}

/// A safetensors file: the header length (by default the header's), the header text, the data.
func safetensorsBytes(header: String, data: [UInt8] = [], declaredLength: UInt64? = nil) -> [UInt8] {
    let json = Array(header.utf8)
    return littleEndianBytes([declaredLength ?? UInt64(json.count)]) + json + data
}
