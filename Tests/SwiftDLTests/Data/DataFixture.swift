import Foundation
import Testing
@testable import SwiftDL

/// The gzip data and MNIST reference values of `Fixtures/data.json`, made with Python's gzip and
/// zlib modules by `Fixtures/make_data.py`.
struct DataFixture {
    /// The repository's root directory: four levels above this file
    /// (`Tests/SwiftDLTests/Data/DataFixture.swift`).
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// Where the MNIST files are: `../shared/datasets/mnist` beside the repository (CI has it there).
    static let mnistDirectory = repositoryRoot.deletingLastPathComponent()
        .appendingPathComponent("shared/datasets/mnist").path

    /// Whether the MNIST files are there. CI always has them; on another machine the tests that
    /// read them are skipped rather than failed.
    static let mnistIsAvailable = FileManager.default.fileExists(atPath: mnistDirectory + "/train-images-idx3-ubyte.gz")

    private let root: [String: Any]

    init() throws {
        let url = Self.repositoryRoot.appendingPathComponent("Tests/SwiftDLTests/Fixtures/data.json")
        guard let root = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] else {
            throw DLError.file("\(url.path) is not a JSON object")
        }
        self.root = root
    }

    /// A gzip case: its uncompressed input, its gzip data and the deflate block types in it.
    func gzipCase(_ name: String) throws -> (input: [UInt8], compressed: [UInt8], blockTypes: [Int]) {
        guard let cases = root["gzip"] as? [String: Any], let entry = cases[name] as? [String: Any],
              let compressed = entry["gzip"] as? String, let blockTypes = entry["block_types"] as? [Int] else {
            throw DLError.file("data.json has no gzip case \(name)")
        }
        var input: [UInt8]
        if let encoded = entry["input"] as? String {
            input = try decodeBase64(encoded)
        } else if let length = entry["generated"] as? Int {
            input = Self.generatedInput(length)
            if let copy = entry["repeat"] as? [Int] {
                let start = input.count - copy[0]
                input += input[start..<(start + copy[1])]
            }
        } else {
            throw DLError.file("gzip case \(name) has no input")
        }
        return (input, try decodeBase64(compressed), blockTypes)
    }

    /// The gzip-compressed small IDX file `name` ("images" or "labels").
    func idxGzip(_ name: String) throws -> [UInt8] {
        guard let cases = root["idx"] as? [String: Any], let entry = cases[name] as? [String: Any],
              let compressed = entry["gzip"] as? String else { throw DLError.file("data.json has no idx case \(name)") }
        return try decodeBase64(compressed)
    }

    /// The reference values of an MNIST split ("train" or "test").
    func mnist(_ split: String) throws -> [String: Any] {
        guard let splits = root["mnist"] as? [String: Any], let values = splits[split] as? [String: Any] else {
            throw DLError.file("data.json has no MNIST values for \(split): run make_data.py with ../shared present")
        }
        return values
    }

    private func decodeBase64(_ text: String) throws -> [UInt8] {
        guard let data = Data(base64Encoded: text) else { throw DLError.file("data.json holds invalid base64") }
        return [UInt8](data)
    }
}

extension DataFixture {
    /// The bytes of `generated_input(length)` in `make_data.py`: words and single bytes chosen by a
    /// 64-bit linear congruential generator.
    static func generatedInput(_ length: Int) -> [UInt8] {
        let letters = Array("abcdefghijklmnopqrstuvwxyz".utf8)
        var state: UInt64 = 1
        var output: [UInt8] = []
        output.reserveCapacity(length + 16)
        while output.count < length {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let v = state >> 33
            if v % 8 == 0 {
                output.append(UInt8((v >> 8) % 256))
            } else {
                let w = Int((v >> 8) % 50)
                for i in 0..<(3 + w % 6) { output.append(letters[(7 * w + 3 * i) % 26]) }
                output.append(UInt8(ascii: " "))
            }
        }
        return Array(output.prefix(length))
    }

    /// Runs `body` with a new empty directory, removed afterwards.
    static func withTemporaryDirectory<T>(_ body: (URL) throws -> T) throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("SwiftDLTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        return try body(directory)
    }

    /// Writes `bytes` to `name` in `directory` and returns the file's path.
    @discardableResult
    static func writeFile(_ bytes: [UInt8], named name: String, in directory: URL) throws -> String {
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }
}
