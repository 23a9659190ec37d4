import ComplexModule
import Foundation
import Testing
@testable import SwiftDL

/// Arrays of every type, with special values, labels, scalars and empty arrays: what the round
/// trip tests write, and what `scripts/check_safetensors.py` checks from Python.
private func sampleTensors() throws -> [String: DLArray] {
    let floats: [Float] = [1.5, -0.0, .infinity, -.infinity, .nan, Float(bitPattern: 0x7FC0_1234),
                           .leastNonzeroMagnitude, .greatestFiniteMagnitude, 0.1]
    let doubles: [Double] = [.pi, -0.0, .infinity, -.infinity, .nan, Double(bitPattern: 0x7FF0_0000_0000_0001),
                             .leastNonzeroMagnitude, .greatestFiniteMagnitude, 1.0 / 3]
    return [
        "conv.weight": try DLArray(floats, shape: [3, 3]),
        "fc.bias": try DLArray(doubles, shape: [9]),
        "mask": try DLArray([true, false, false, true, true, false], shape: [2, 3, 1]),
        "step": DLArray(Float(7.5)),
        "loss": DLArray(0.25),
        "empty32": DLArray.zeros([0], type: .float32),
        "empty64": DLArray.zeros([2, 0, 3]),
        "emptyBool": DLArray.zeros([0, 2], type: .bool),
        "phase": try DLArray([Complex<Float>(1, -2), Complex<Float>(-0.5, .infinity), Complex<Float>(0, 0.25)], shape: [3]),
        "spectrum": try DLArray([Complex<Double>(1, 2), Complex<Double>(3, -4), Complex<Double>(.pi, -0.0),
                                 Complex<Double>(-1e-300, 1e300)], shape: [2, 2], labels: "BC"),
        "images": try DLArray((0..<18).map { Float($0) / 4 - 2 }, shape: [2, 1, 3, 3], labels: "BCSS"),
        "sequence": try DLArray((0..<6).map(Double.init), shape: [3, 2], labels: "TC"),
    ]
}

/// Metadata with characters JSON must escape.
private let sampleMetadata = ["epochs": "4", "note": "ünïcode \"quoted\" back\\slash\nnew line \u{01}", "": "empty key"]

@Suite struct SafeTensorsRoundTripTests {
    @Test func everyTypeLabelScalarAndEmptyArrayComesBackBitForBit() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let url = folder.file("sample.safetensors")
        let tensors = try sampleTensors()
        try SafeTensors.write(tensors, metadata: sampleMetadata, to: url)
        let (read, metadata) = try SafeTensors.read(from: url)
        #expect(Set(read.keys) == Set(tensors.keys))
        for (name, array) in tensors { expectSameBits(read[name], array, name) }
        #expect(metadata == sampleMetadata)
        #expect(try folder.names() == ["sample.safetensors"])

        // Writing what was read gives the same file, byte for byte.
        let again = folder.file("again.safetensors")
        try SafeTensors.write(read, metadata: metadata, to: again)
        #expect(try Data(contentsOf: again) == Data(contentsOf: url))
    }

    @Test func anEmptyFileOfTensorsRoundTrips() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let url = folder.file("nothing.safetensors")
        try SafeTensors.write([:], to: url)
        let (tensors, metadata) = try SafeTensors.read(from: url)
        #expect(tensors.isEmpty && metadata.isEmpty)
    }

    @Test func tracedArraysAreSavedAsTheirValues() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let url = folder.file("traced.safetensors")
        _ = try dlfeval({ (x: DLArray) throws -> DLArray in
            try SafeTensors.write(["x": x, "y": x * 2], to: url)
            return x
        }, DLArray([1.0, -2.0]))
        let (tensors, _) = try SafeTensors.read(from: url)
        #expect(tensors["x"]?.scalars(as: Double.self) == [1, -2])
        #expect(tensors["y"]?.scalars(as: Double.self) == [2, -4])
        #expect(tensors["x"]?.isTraced == false)
    }

    /// The files of the reference implementation's own serialization tests
    /// (safetensors/src/tensor.rs: test_serialization, test_serialization_forced_alignement,
    /// test_empty), byte for byte.
    @Test func bytesMatchTheReferenceImplementation() throws {
        let values = littleEndianBytes((0..<6).map { Float($0).bitPattern })
        let unpadded = #"{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}"#
        #expect(try SafeTensors.encoded(["attn.0": DLArray((0..<6).map(Float.init), shape: [1, 2, 3])], metadata: [:])
            == littleEndianBytes([UInt64(64)]) + Array(unpadded.utf8) + values)
        let padded = #"{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}"# + "       "
        #expect(try SafeTensors.encoded(["attn0": DLArray((0..<6).map(Float.init), shape: [1, 1, 2, 3])], metadata: [:])
            == littleEndianBytes([UInt64(72)]) + Array(padded.utf8) + values)
        #expect(try SafeTensors.encoded([:], metadata: [:]) == littleEndianBytes([UInt64(8)]) + Array("{}      ".utf8))
        #expect(try SafeTensors.encoded([:], metadata: ["framework": "pt"])
            == littleEndianBytes([UInt64(40)]) + Array(#"{"__metadata__":{"framework":"pt"}}     "#.utf8))
    }

    @Test func widestTypesComeFirstSoEveryTensorIsAligned() throws {
        let bytes = try SafeTensors.encoded(try sampleTensors(), metadata: sampleMetadata)
        let (header, dataStart) = try bytes.withUnsafeBytes { try SafeTensorsHeader.read(from: $0) }
        #expect(dataStart % 8 == 0)
        #expect(header.entries.map(\.name) == ["empty64", "fc.bias", "loss", "sequence", "spectrum", "phase",
                                               "conv.weight", "empty32", "images", "step", "emptyBool", "mask"])
        #expect(header.entries.map(\.dtype.rawValue) == ["F64", "F64", "F64", "F64", "F64", "C64",
                                                         "F32", "F32", "F32", "F32", "BOOL", "BOOL"])
        for entry in header.entries {
            #expect((dataStart + entry.offsets.lowerBound) % entry.dtype.scalarByteCount == 0, "\(entry.name)")
        }
        // complex128 is F64 with a last dimension of 2, and SwiftDL's conventions are in the metadata.
        #expect(header.entries.first { $0.name == "spectrum" }?.shape == [2, 2, 2])
        #expect(header.metadata["swiftdl.complex.spectrum"] == "complex128")
        #expect(header.metadata["swiftdl.labels.spectrum"] == "BC")
        #expect(header.metadata["swiftdl.labels.images"] == "BCSS")
        #expect(header.metadata["swiftdl.labels.sequence"] == "TC")
        #expect(header.metadata["epochs"] == "4")
    }

    @Test func theDataIsLittleEndianRowMajor() throws {
        let bytes = try SafeTensors.encoded(["x": DLArray([Float(1), -2], shape: [2]), "y": DLArray([0.5])], metadata: [:])
        let data = Array(bytes.suffix(16))
        #expect(data == littleEndianBytes([(0.5).bitPattern]) + littleEndianBytes([Float(1).bitPattern, Float(-2).bitPattern]))
    }

    /// Writes the sample file for `scripts/check_safetensors.py` when `SWIFTDL_SAFETENSORS_SAMPLE`
    /// names a path (see the script's docstring), with the expected contents beside it in
    /// `<path>.expected.json`; otherwise checks only that the expectations describe the arrays.
    @Test func sampleForPythonAndItsExpectations() throws {
        let tensors = try sampleTensors()
        let expectations: [String: Any] = [
            "metadata": sampleMetadata,
            "tensors": tensors.mapValues { array -> [String: Any] in
                ["dtype": array.dataType.rawValue, "shape": array.shape, "labels": array.labels, "values": pythonValues(array)]
            },
        ]
        let json = try JSONSerialization.data(withJSONObject: expectations, options: [.sortedKeys, .prettyPrinted])
        let decoded = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        let expected = try #require(decoded["tensors"] as? [String: [String: Any]])
        #expect(expected["spectrum"]?["values"] as? [[String]] == [["1.0", "2.0"], ["3.0", "-4.0"], ["3.141592653589793", "-0.0"],
                                                                ["-1e-300", "1e+300"]])
        #expect(expected["phase"]?["values"] as? [[String]] == [["1.0", "-2.0"], ["-0.5", "inf"], ["0.0", "0.25"]])
        #expect(expected["conv.weight"]?["values"] as? [String] == ["1.5", "-0.0", "inf", "-inf", "nan", "nan",
                                                                   "1.401298464324817e-45", "3.4028234663852886e+38",
                                                                   "0.10000000149011612"])
        guard let path = ProcessInfo.processInfo.environment["SWIFTDL_SAFETENSORS_SAMPLE"] else { return }
        let url = URL(fileURLWithPath: path)
        try SafeTensors.write(tensors, metadata: sampleMetadata, to: url)
        try writeAtomically(json, to: URL(fileURLWithPath: path + ".expected.json"))
    }
}

/// The elements of `array` as `check_safetensors.py` expects them: reals as Python float
/// literals (strings, so that NaN, infinities and -0.0 survive JSON), complex numbers as
/// [real, imaginary] pairs of them, booleans as booleans.
///
/// Complex parts are read from the stored bytes: swift-numerics' `real` and `imaginary` are
/// NaN for every non-finite complex number, which would hide a `-0.5 + ∞i`.
private func pythonValues(_ array: DLArray) -> [Any] {
    func literal(_ value: Double) -> String { value.isNaN ? "nan" : "\(value)" }
    func parts<T: BinaryFloatingPoint>(_ type: T.Type) -> [[String]] {
        let bytes = storedBytes(array)
        let reals = stride(from: 0, to: bytes.count, by: MemoryLayout<T>.size).map { offset in
            bytes.withUnsafeBytes { literal(Double($0.loadUnaligned(fromByteOffset: offset, as: T.self))) }
        }
        return stride(from: 0, to: reals.count, by: 2).map { [reals[$0], reals[$0 + 1]] }
    }
    switch array.dataType {
    case .bool: return array.scalars(as: Bool.self)
    case .float32: return array.scalars(as: Float.self).map { literal(Double($0)) }
    case .float64: return array.scalars(as: Double.self).map(literal)
    case .complex64: return parts(Float.self)
    case .complex128: return parts(Double.self)
    }
}
