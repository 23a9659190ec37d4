import ComplexModule
import Foundation
import Testing
@testable import SwiftDL

/// Reads `Fixtures/python_written.safetensors`, written by Python's safetensors library
/// (`Fixtures/make_safetensors.py`, whose values are repeated here).
@Suite struct SafeTensorsFixtureTests {
    private let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/python_written.safetensors")

    @Test func readsEveryTensorWrittenByPython() throws {
        let (tensors, metadata) = try SafeTensors.read(from: url)
        #expect(Set(tensors.keys) == ["weights", "bias", "specials", "mask", "step", "empty", "phase", "images", "spectrum"])
        expectSameBits(tensors["weights"], try DLArray([Float(1.5), -2.25, 0.125, .greatestFiniteMagnitude, -0.0,
                                                         .leastNonzeroMagnitude], shape: [2, 3]), "weights")
        expectSameBits(tensors["bias"], DLArray([Double.pi, -2.718281828459045, 1.0 / 3, .leastNonzeroMagnitude]), "bias")
        let specials = try #require(tensors["specials"])
        #expect(specials.dataType == .float64 && specials.shape == [3])
        let special = specials.scalars(as: Double.self)
        #expect(special[0] == .infinity && special[1] == -.infinity && special[2].isNaN)
        expectSameBits(tensors["mask"], try DLArray([true, false, true, false, false, true], shape: [2, 3]), "mask")
        expectSameBits(tensors["step"], DLArray(Float(7.5)), "step")
        expectSameBits(tensors["empty"], DLArray.zeros([0, 3]), "empty")
        expectSameBits(tensors["phase"], DLArray([Complex<Float>(1, 2), Complex<Float>(-0.5, -0.25)]), "phase")
        expectSameBits(tensors["images"], try DLArray((0..<8).map { Float($0) / 8 }, shape: [2, 1, 2, 2], labels: "BCSS"),
                        "images")
        expectSameBits(tensors["spectrum"], DLArray([Complex<Double>(1, 2), Complex<Double>(3, -4)]), "spectrum")
        #expect(metadata == ["writer": "make_safetensors.py", "note": "ünïcode \"quoted\""])
    }

    /// SwiftDL lays out the same tensors as the reference implementation: rewriting the file
    /// gives the same entries and the same data bytes (only the order of the metadata keys,
    /// which Python's writer leaves to a hash table, may differ).
    @Test func rewritingThePythonFileGivesTheSameLayoutAndData() throws {
        let python = Array(try Data(contentsOf: url))
        let (tensors, metadata) = try SafeTensors.read(from: url)
        let swift = try SafeTensors.encoded(tensors, metadata: metadata)
        let (pythonHeader, pythonStart) = try python.withUnsafeBytes { try SafeTensorsHeader.read(from: $0) }
        let (swiftHeader, swiftStart) = try swift.withUnsafeBytes { try SafeTensorsHeader.read(from: $0) }
        #expect(swiftStart == pythonStart)
        #expect(swiftHeader.metadata == pythonHeader.metadata)
        #expect(swiftHeader.entries.map(\.name) == pythonHeader.entries.map(\.name))
        #expect(swiftHeader.entries.map(\.dtype) == pythonHeader.entries.map(\.dtype))
        #expect(swiftHeader.entries.map(\.shape) == pythonHeader.entries.map(\.shape))
        #expect(swiftHeader.entries.map(\.offsets) == pythonHeader.entries.map(\.offsets))
        #expect(swift[swiftStart...] == python[pythonStart...])
    }
}
