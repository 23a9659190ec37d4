import Foundation
import Testing
@testable import SwiftDL

/// Each way a safetensors file can be wrong gives a `DLError.file` naming the problem, and a
/// failed write leaves the destination as it was.
@Suite struct SafeTensorsErrorTests {
    /// The message of the error that reading `bytes` from a file gives; the path must be in it.
    private func readError(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let url = folder.file("bad.safetensors")
        try Data(bytes).write(to: url)
        let message = errorMessage(DLError.file, { _ = try SafeTensors.read(from: url) }, sourceLocation: sourceLocation)
        #expect(message.hasPrefix("cannot read safetensors file \(url.path): "), "\(message)", sourceLocation: sourceLocation)
        return message
    }

    /// The message of the error that reading a file of `header` and `data` gives.
    private func headerError(_ header: String, data: [UInt8] = [], sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try readError(safetensorsBytes(header: header, data: data), sourceLocation: sourceLocation)
    }

    /// A valid file holding two tensors, `a` (F32 [2]) and then `b` (F32 [3]), 20 bytes of data.
    private func validFile() throws -> [UInt8] {
        try SafeTensors.encoded(["a": DLArray([Float(1), 2]), "b": DLArray([Float(3), 4, 5])], metadata: ["k": "v"])
    }

    @Test func missingFileOrFolder() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let missing = folder.file("missing.safetensors")
        let message = errorMessage(DLError.file, { _ = try SafeTensors.read(from: missing) })
        #expect(message == "cannot read safetensors file \(missing.path): there is no such file")
        #expect(errorMessage(DLError.file, { _ = try SafeTensors.read(from: folder.url) }).hasSuffix("it is a folder"))
    }

    @Test func truncatedHeaderLength() throws {
        #expect(try readError([]).contains("the file is 0 bytes long, too short for the 8-byte header length"))
        #expect(try readError([8, 0, 0, 0, 0]).contains("the file is 5 bytes long, too short for the 8-byte header length"))
    }

    @Test func truncatedOrOversizedHeader() throws {
        let file = try validFile()
        let headerLength = Int(file[0])
        #expect(try readError(Array(file.prefix(8 + headerLength / 2)))
            .contains("the header length says \(headerLength) bytes but only \(headerLength / 2) follow the 8-byte length (truncated header)"))
        #expect(try readError(safetensorsBytes(header: "{}", declaredLength: 1 << 40))
            .contains("the header length 1099511627776 is more than the 100000000 bytes safetensors allows"))
    }

    @Test func headerThatIsNotJSON() throws {
        #expect(try readError(littleEndianBytes([UInt64(4)]) + [0x7B, 0xFF, 0xFE, 0x7D]).contains("the header is not UTF-8 text"))
        #expect(try headerError(#"{"a": "#).contains("the header is not valid JSON: the text ends where a value was expected at byte 6"))
        #expect(try headerError(#"{"a":{},}"#).contains("not valid JSON: expected a member name in quotes"))
        #expect(try headerError("{} x").contains("not valid JSON: unexpected text after the end of the JSON value at byte 3"))
        #expect(try headerError(#"{"a":tru}"#).contains("not valid JSON: expected a value"))
        #expect(try headerError(#"{"\ud800":{}}"#).contains("not valid JSON: a \\u escape holds an unpaired surrogate"))
        #expect(try headerError("{\"a\u{01}\":{}}").contains("not valid JSON: a control character (byte 1) inside a string"))
        #expect(try headerError(#"{"a":{"shape":[01]}}"#).contains("not valid JSON: a number starts with a superfluous 0"))
        #expect(try headerError(String(repeating: "[", count: 200) + String(repeating: "]", count: 200))
            .contains("not valid JSON: lists and objects nest more than 32 deep"))
    }

    @Test func headerWithoutTheExpectedStructure() throws {
        #expect(try headerError("[1, 2]").contains("the header is a list, not an object mapping tensor names to {dtype, shape, data_offsets}"))
        #expect(try headerError(#"{"a": 3}"#).contains(#"the entry of tensor "a" is a number, not an object {dtype, shape, data_offsets}"#))
        #expect(try headerError(#"{"a": {"dtype": "F32"}}"#).contains(#"the entry of tensor "a" has no shape, data_offsets"#))
        #expect(try headerError(#"{"a": {"dtype": 32, "shape": [], "data_offsets": [0, 4]}}"#)
            .contains(#"the dtype of tensor "a" is a number, not a string such as "F32""#))
        for shape in ["[-1]", "[1.0]", "[\"2\"]", "[1e2]", "3", "[null]"] {
            #expect(try headerError(#"{"a": {"dtype": "F32", "shape": \#(shape), "data_offsets": [0, 4]}}"#)
                .contains(#"the shape of tensor "a" is not a list of non-negative integers"#), "\(shape)")
        }
        for offsets in ["[0]", "[0, 4, 8]", "[0, -4]", "[0, 4.5]", "{}", "[0, 99999999999999999999]"] {
            #expect(try headerError(#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": \#(offsets)}}"#)
                .contains(#"the data_offsets of tensor "a" are not a pair [begin, end] of non-negative integers"#), "\(offsets)")
        }
        #expect(try headerError(#"{"__metadata__": {"epochs": 4}}"#)
            .contains(#"__metadata__ must map strings to strings, but "epochs" holds a number"#))
        #expect(try headerError(#"{"__metadata__": ["a"]}"#).contains("__metadata__ is a list, not an object of strings"))
    }

    @Test func unknownOrUnsupportedDtype() throws {
        #expect(try headerError(#"{"a": {"dtype": "Q7", "shape": [1], "data_offsets": [0, 4]}}"#, data: [0, 0, 0, 0])
            .contains(#"tensor "a" has dtype "Q7", which is not a safetensors dtype (SwiftDL reads F32, F64, C64 and BOOL)"#))
        #expect(try headerError(#"{"a": {"dtype": "I64", "shape": [1], "data_offsets": [0, 8]}}"#, data: Array(repeating: 0, count: 8))
            .contains(#"tensor "a" has dtype I64, which SwiftDL cannot hold (SwiftDL reads F32, F64, C64 and BOOL)"#))
        #expect(try headerError(#"{"a": {"dtype": "f32", "shape": [1], "data_offsets": [0, 4]}}"#, data: [0, 0, 0, 0])
            .contains(#"has dtype "f32", which is not a safetensors dtype"#))
    }

    @Test func offsetsOutOfOrderOverlappingOrOutsideTheData() throws {
        let data = [UInt8](repeating: 0, count: 12)
        #expect(try headerError(#"{"a": {"dtype": "F32", "shape": [0], "data_offsets": [8, 0]}}"#, data: data)
            .contains(#"the data_offsets [8, 0] of tensor "a" are out of order: the end comes before the beginning"#))
        #expect(try headerError(#"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},"#
            + #""b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}"#, data: data)
            .contains(#"the data_offsets of tensors "a" [0, 8] and "b" [4, 12] overlap"#))
        #expect(try headerError(#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},"#
            + #""b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}"#, data: data)
            .contains("bytes 4..<8 of the data belong to no tensor (the data_offsets must follow one another from 0)"))
        #expect(try headerError(#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}"#, data: Array(data.prefix(8)))
            .contains("bytes 0..<4 of the data belong to no tensor"))
        #expect(try headerError(#"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}"#, data: data)
            .contains("12 bytes of data follow the header but its tensors cover only 8: bytes 8..<12 are outside every tensor's data_offsets"))
        #expect(try headerError(#"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [100, 108]}}"#, data: data)
            .contains(#"tensor "a" occupies bytes 100..<108 of the data but only 12 bytes follow the header"#))
    }

    @Test func dataShorterThanDeclared() throws {
        let file = try validFile()
        #expect(try readError(Array(file.dropLast(3))).contains(
            #"tensor "b" occupies bytes 8..<20 of the data but only 17 bytes follow the header (the data is shorter than declared: truncated file?)"#))
        #expect(try readError(Array(file.dropLast(20))).contains(#"tensor "a" occupies bytes 0..<8 of the data but only 0 bytes"#))
    }

    @Test func shapeAndDtypeThatDoNotFitTheOffsets() throws {
        #expect(try headerError(#"{"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}"#, data: Array(repeating: 0, count: 8))
            .contains(#"the shape [3] of tensor "a" needs 12 bytes of F32 but its data_offsets [0, 8] hold 8"#))
        #expect(try headerError(#"{"a": {"dtype": "F64", "shape": [2, 2], "data_offsets": [0, 16]}}"#, data: Array(repeating: 0, count: 16))
            .contains(#"the shape [2, 2] of tensor "a" needs 32 bytes of F64 but its data_offsets [0, 16] hold 16"#))
        #expect(try headerError(#"{"a": {"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 8]}}"#)
            .contains(#"the shape [4611686018427387904, 4] of tensor "a" is too large"#))
    }

    @Test func repeatedNames() throws {
        let entry = #"{"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}"#
        #expect(try headerError(#"{"a": \#(entry), "a": \#(entry)}"#, data: [0, 0, 0, 0])
            .contains(#"the tensor name "a" appears more than once in the header"#))
        #expect(try headerError(#"{"__metadata__": {}, "__metadata__": {}}"#).contains("__metadata__ appears more than once in the header"))
        #expect(try headerError(#"{"__metadata__": {"k": "1", "k": "2"}}"#).contains(#"the key "k" appears more than once in __metadata__"#))
        #expect(try headerError(#"{"a": {"dtype": "F32", "dtype": "F64", "shape": [1], "data_offsets": [0, 4]}}"#)
            .contains(#"the entry of tensor "a" names "dtype" more than once"#))
    }

    @Test func boolBytesOtherThanZeroOrOne() throws {
        #expect(try headerError(#"{"m": {"dtype": "BOOL", "shape": [3], "data_offsets": [0, 3]}}"#, data: [1, 0, 2])
            .contains(#"tensor "m" is BOOL but element 2 is the byte 2; BOOL elements are 0 or 1"#))
    }

    @Test func swiftDLMetadataThatDoesNotFit() throws {
        let f32 = #""x": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}"#
        let data = [UInt8](repeating: 0, count: 16)
        func metadata(_ pairs: String) throws -> String {
            try headerError(#"{"__metadata__": {\#(pairs)}, \#(f32)}"#, data: data)
        }
        #expect(try metadata(#""swiftdl.labels.y": "BC""#).contains(#"the metadata "swiftdl.labels.y" gives labels to a tensor "y" the file does not hold"#))
        #expect(try metadata(#""swiftdl.labels.x": "BCS""#).contains(
            #"the metadata "swiftdl.labels.x": "BCS" does not fit tensor "x" of shape [2, 2]: labels "BCS" name 3 dimensions but the array has 2"#))
        #expect(try metadata(#""swiftdl.labels.x": "BX""#).contains(#"dimension label "X" in "BX" is not one of S"#))
        #expect(try metadata(#""swiftdl.complex.x": "complex128""#).contains(
            #"the metadata "swiftdl.complex.x" says tensor "x" is complex128, stored as F64 with a last dimension of 2 (real, imaginary), but it is float32 of shape [2, 2]"#))
        #expect(try metadata(#""swiftdl.complex.x": "complex64""#).contains(
            #"the metadata "swiftdl.complex.x" is "complex64"; SwiftDL stores only complex128 arrays this way"#))
        #expect(try metadata(#""swiftdl.complex.z": "complex128""#).contains(#"describes a tensor "z" the file does not hold"#))
        #expect(try metadata(#""swiftdl.format": "2""#).contains(#"the metadata key "swiftdl.format" starts with swiftdl. but is not one SwiftDL writes"#))
    }

    @Test func labelsInAnotherOrderArePermutedAsDLArrayLabelsAre() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let url = folder.file("cb.safetensors")
        let values = (0..<6).map(Float.init)
        let bytes = safetensorsBytes(header: #"{"__metadata__": {"swiftdl.labels.x": "CB"}, "#
            + #""x": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}}"#, data: littleEndianBytes(values.map(\.bitPattern)))
        try Data(bytes).write(to: url)
        let x = try #require(try SafeTensors.read(from: url).tensors["x"])
        expectSameBits(x, try DLArray(values, shape: [2, 3], labels: "CB"), "x")
        #expect(x.shape == [3, 2] && x.labels == "BC")
    }

    @Test func invalidWriteArgumentsLeaveTheDestinationUnchanged() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let url = folder.file("model.safetensors")
        try SafeTensors.write(["w": DLArray([1.0])], to: url)
        let before = try Data(contentsOf: url)
        #expect(errorMessage(DLError.invalidArgument, { try SafeTensors.write(["__metadata__": DLArray([2.0])], to: url) })
            == "a tensor cannot be named __metadata__: the safetensors header keeps its metadata under that name")
        #expect(errorMessage(DLError.invalidArgument, { try SafeTensors.write(["w": DLArray([2.0])], metadata: ["swiftdl.labels.w": "B"], to: url) })
            == #"metadata key "swiftdl.labels.w" starts with swiftdl., which is reserved for SwiftDL's own entries"#)
        #expect(try Data(contentsOf: url) == before)
        #expect(try folder.names() == ["model.safetensors"])
    }

    @Test func failedWritesLeaveTheDestinationUnchangedAndNoTemporaryFile() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        // The destination is a folder with a file in it: the rename fails after the data is written.
        let occupied = folder.file("occupied.safetensors")
        try FileManager.default.createDirectory(at: occupied, withIntermediateDirectories: false)
        try Data([1, 2, 3]).write(to: occupied.appendingPathComponent("inside"))
        let message = errorMessage(DLError.file, { try SafeTensors.write(["w": DLArray([1.0])], to: occupied) })
        #expect(message.hasPrefix("cannot write \(occupied.path): replacing it failed: "))
        #expect(message.hasSuffix("; \(occupied.path) is unchanged"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: occupied.path) == ["inside"])
        #expect(try Data(contentsOf: occupied.appendingPathComponent("inside")) == Data([1, 2, 3]))
        #expect(try folder.names() == ["occupied.safetensors"])

        let missingFolder = folder.file("missing").appendingPathComponent("model.safetensors")
        #expect(errorMessage(DLError.file, { try SafeTensors.write([:], to: missingFolder) }) == "cannot write \(missingFolder.path): "
            + "cannot create a temporary file beside it: the folder \(folder.file("missing").path) does not exist; \(missingFolder.path) is unchanged")
        try Data([9]).write(to: folder.file("plain"))
        let underFile = folder.file("plain").appendingPathComponent("model.safetensors")
        #expect(errorMessage(DLError.file, { try SafeTensors.write([:], to: underFile) })
            .contains("cannot create a temporary file beside it: \(folder.file("plain").path) is not a folder"))
        #expect(try folder.names() == ["occupied.safetensors", "plain"])
    }
}
