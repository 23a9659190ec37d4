import Testing
@testable import SwiftDL

private typealias Support = ElementwiseTestSupport

@Suite struct OneHotTests {
    @Test func encodeMatchesPyTorchOneHot() throws {
        let fixture = try Fixture("functions", "one_hot")
        let indices = try fixture.array("indices")          // [2, 3]
        let encoded = try onehotencode(expandDims(indices, 2), featureDim: 2, classCount: 4)
        #expect(encoded.dataType == .float64)
        expectClose(encoded, try fixture.array("y"), tolerance: 0, "one_hot")
        // Decoding gives the indices back.
        expectClose(try onehotdecode(encoded, featureDim: 2), try expandDims(indices, 2), tolerance: 0, "decode")
    }

    @Test func encodeAlongTheFirstDimensionAndWithNames() throws {
        let columns = try onehotencode(DLArray([2.0, 0.0], shape: [1, 2]), featureDim: 0, classCount: 3, type: .float32)
        #expect(columns.dataType == .float32)
        Support.expectValues(columns, [0, 1, 0, 0, 1, 0], shape: [3, 2])
        let names = ["cat", "dog", "bird"]
        let rows = try onehotencode(["dog", "bird", "dog"], classNames: names)
        Support.expectValues(rows, [0, 1, 0, 0, 0, 1, 0, 1, 0], shape: [3, 3])
        #expect(try onehotdecode(rows, classNames: names, featureDim: 1) == ["dog", "bird", "dog"])
        // Probabilities decode to their largest class.
        let probabilities = try DLArray(rows: [[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]])
        #expect(try onehotdecode(probabilities, classNames: names, featureDim: 1) == ["dog", "cat"])
    }

    @Test func badArgumentsThrow() throws {
        Support.expectError(.invalidArgument, mentioning: ["size 1"]) {
            _ = try onehotencode(DLArray([0.0, 1.0]), featureDim: 0, classCount: 2)
        }
        Support.expectError(.invalidArgument, mentioning: ["index 2"]) {
            _ = try onehotencode(DLArray([2.0], shape: [1, 1]), featureDim: 1, classCount: 2)
        }
        Support.expectError(.invalidArgument, mentioning: ["horse"]) { _ = try onehotencode(["horse"], classNames: ["cat"]) }
        Support.expectError(.invalidArgument, mentioning: ["2 class names"]) {
            _ = try onehotdecode(DLArray.zeros([1, 3]), classNames: ["a", "b"], featureDim: 1)
        }
    }
}
