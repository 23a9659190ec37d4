import Testing
@testable import SwiftDL

@Suite struct PoolingTests {
    /// maxpool, its indices and its gradient against PyTorch's max_pool1d/2d/3d.
    @Test(arguments: ["maxpool1d", "maxpool2d", "maxpool3d"])
    func maxpoolMatchesPyTorch(_ name: String) throws {
        let f = try Fixture("pooling", name)
        let (x, upstream) = (try f.array("x"), try f.array("upstream"))
        let format = "BC" + String(repeating: "S", count: x.rank - 2)
        let (kernel, stride, padding) = (try f.integers("kernel"), try f.integers("stride"), try f.integers("padding"))
        let (y, indices, dx) = try dlfeval({ (x: DLArray) in
            let (y, indices, size) = try maxpoolWithIndices(x, kernel, stride: stride, padding: .symmetric(padding),
                                                            dataFormat: format)
            #expect(size == Array(x.shape.dropFirst(2)))
            return (y, indices, try dlgradient(sum(y * upstream), x))
        }, x)
        expectClose(y, try f.array("y"), "y")
        #expect(indices.scalars(as: Double.self) == (try f.array("indices")).scalars(as: Double.self))
        expectClose(dx, try f.array("dx"), "dx")
    }

    /// avgpool and its gradient against PyTorch's avg_pool1d/2d/3d (padding counted, and not).
    @Test(arguments: ["avgpool1d", "avgpool2d", "avgpool2d_exclude_pad", "avgpool3d"])
    func avgpoolMatchesPyTorch(_ name: String) throws {
        let f = try Fixture("pooling", name)
        let (x, upstream) = (try f.array("x"), try f.array("upstream"))
        let format = "BC" + String(repeating: "S", count: x.rank - 2)
        let (kernel, stride, padding) = (try f.integers("kernel"), try f.integers("stride"), try f.integers("padding"))
        let paddingValue: AveragePoolingPaddingValue = name.hasSuffix("exclude_pad") ? .mean : .zero
        let (y, dx) = try dlfeval({ (x: DLArray) in
            let y = try avgpool(x, kernel, stride: stride, padding: .symmetric(padding), paddingValue: paddingValue,
                                dataFormat: format)
            return (y, try dlgradient(sum(y * upstream), x))
        }, x)
        expectClose(y, try f.array("y"), "y")
        expectClose(dx, try f.array("dx"), "dx")
    }

    /// maxunpool and its gradient against PyTorch's max_unpool1d/2d/3d.
    @Test(arguments: ["maxunpool1d", "maxunpool2d", "maxunpool3d"])
    func maxunpoolMatchesPyTorch(_ name: String) throws {
        let f = try Fixture("pooling", name)
        let (v, indices, upstream) = (try f.array("v"), try f.array("indices"), try f.array("upstream"))
        let format = "BC" + String(repeating: "S", count: v.rank - 2)
        let outputSize = try f.integers("output_size")
        let (y, dv) = try dlfeval({ (v: DLArray) in
            let y = try maxunpool(v, indices, outputSize: outputSize, dataFormat: format)
            return (y, try dlgradient(sum(y * upstream), v))
        }, v)
        expectClose(y, try f.array("y"), "y")
        expectClose(dv, try f.array("dv"), "dv")
    }

    @Test func handComputed() throws {
        // 1…16 as a 4×4 plane.
        let x = try DLArray((1...16).map(Double.init), shape: [1, 1, 4, 4], labels: "BCSS")
        let (y, indices, size) = try maxpoolWithIndices(x, [2], stride: [2])
        #expect(y.labels == "BCSS" && y.shape == [1, 1, 2, 2] && size == [4, 4])
        #expect(y.scalars(as: Double.self) == [6, 8, 14, 16])
        #expect(indices.labels == "BCSS" && indices.scalars(as: Double.self) == [5, 7, 13, 15])
        #expect(try avgpool(x, [2, 2], stride: [2, 2]).scalars(as: Double.self) == [3.5, 5.5, 11.5, 13.5])
        // MATLAB's default stride is 1: overlapping 2×2 windows, 3×3 outputs.
        #expect(try maxpool(x, [2]).scalars(as: Double.self) == [6, 7, 8, 10, 11, 12, 14, 15, 16])
        // A 3×2 window with stride [1, 2].
        #expect(try maxpool(x, [3, 2], stride: [1, 2]).scalars(as: Double.self) == [10, 12, 14, 16])
        // maxunpool puts each maximum back, zeros elsewhere.
        var expected = [Double](repeating: 0, count: 16)
        for k in [5, 7, 13, 15] { expected[k] = Double(k + 1) }
        let restored = try maxunpool(y, indices, outputSize: size)
        #expect(restored.labels == "BCSS" && restored.scalars(as: Double.self) == expected)

        // "same" padding on a 3×3 plane of 1…9 with a 2×2 window and stride 1: one row and column
        // of padding after. The maximum ignores it; the average counts it as zeros, or not.
        let small = try DLArray((1...9).map(Double.init), shape: [1, 1, 3, 3], labels: "BCSS")
        #expect(try maxpool(small, [2], padding: .same).scalars(as: Double.self) == [5, 6, 6, 8, 9, 9, 8, 9, 9])
        expectClose(stripdims(try avgpool(small, [2], padding: .same)),
                    try DLArray([12, 16, 9, 24, 28, 15, 15, 17, 9].map { $0 / 4.0 }, shape: [1, 1, 3, 3]), tolerance: 1e-15)
        expectClose(stripdims(try avgpool(small, [2], padding: .same, paddingValue: .mean)),
                    try DLArray([3, 4, 4.5, 6, 7, 7.5, 7.5, 8.5, 9], shape: [1, 1, 3, 3]), tolerance: 1e-15)
        // Explicit padding before: -∞ for the maximum, zeros for the average.
        let negative = try DLArray([-1.0, -2, -3], shape: [1, 1, 3], labels: "BCS")
        #expect(try maxpool(negative, [2], padding: .explicit(before: [1], after: [0])).scalars(as: Double.self) == [-1, -1, -2])
        #expect(try avgpool(negative, [2], padding: .explicit(before: [1], after: [0])).scalars(as: Double.self) == [-0.5, -1.5, -2.5])

        // Global pooling keeps the spatial dimensions with size 1.
        let global = try maxpool(x, .global)
        #expect(global.labels == "BCSS" && global.shape == [1, 1, 1, 1] && global.scalars(as: Double.self) == [16])
        #expect(try avgpool(x, .global).scalars(as: Double.self) == [8.5])
        let twoChannels = try DLArray([1.0, 5, 2, -1, -4, 0], shape: [1, 2, 3], labels: "BCS")
        #expect(try maxpool(twoChannels, .global).scalars(as: Double.self) == [5, 0])
        #expect(try avgpool(twoChannels, .global).scalars(as: Double.self) == [8.0 / 3, -5.0 / 3])

        // Overlapping windows can choose the same element: maxunpool puts it back once.
        let line = try DLArray([1.0, 3, 2], shape: [1, 1, 3], labels: "BCS")
        let pooled = try maxpoolWithIndices(line, [2])
        #expect(pooled.output.scalars(as: Double.self) == [3, 3] && pooled.indices.scalars(as: Double.self) == [1, 1])
        #expect(try maxunpool(pooled.output, pooled.indices, outputSize: [3]).scalars(as: Double.self) == [0, 3, 0])
    }

    /// First and second derivatives (through a nonlinearity, pooling itself being piecewise linear).
    @Test(arguments: 1...2)
    func gradcheckThroughEveryInput(order: Int) throws {
        let x = DLArray.randn([2, 2, 5, 4], seed: 21)
        let checks: [(String, (DLArray) throws -> DLArray)] = [
            ("maxpool", { try maxpool($0, [3, 2], stride: [2, 1], padding: .explicit(before: [1, 0], after: [1, 1]), dataFormat: "BCSS") }),
            ("maxpool same", { try maxpool($0, [2], stride: [2], padding: .same, dataFormat: "BCSS") }),
            ("avgpool", { try avgpool($0, [2, 3], stride: [1, 2], padding: 1, dataFormat: "BCSS") }),
            ("avgpool mean padding", { try avgpool($0, [3], stride: [2], padding: 1, paddingValue: .mean, dataFormat: "BCSS") }),
            ("global max", { try maxpool($0, .global, dataFormat: "BCSS") }),
            ("global average", { try avgpool($0, .global, dataFormat: "BCSS") }),
        ]
        for (name, pool) in checks {
            let result = try gradcheck({ (x: DLArray) in try tanh(pool(x * x)) }, at: x, order: order)
            #expect(result.passed, "\(name): \(result)")
        }
        let (y, indices, size) = try maxpoolWithIndices(x, [2], stride: [2], dataFormat: "BCSS")
        let unpool = try gradcheck({ (y: DLArray) in
            try sin(maxunpool(y * y, indices, outputSize: size, dataFormat: "BCSS"))
        }, at: y, order: order)
        #expect(unpool.passed, "maxunpool: \(unpool)")
        // 1-D and 3-D.
        let line = DLArray.randn([2, 3, 7], seed: 22), volume = DLArray.randn([1, 2, 4, 3, 3], seed: 23)
        for result in [
            try gradcheck({ (x: DLArray) in try sin(maxpool(x * x, [3], stride: [2], padding: 1, dataFormat: "BCS")) }, at: line, order: order),
            try gradcheck({ (x: DLArray) in try sin(avgpool(x * x, [3], stride: [2], padding: 1, dataFormat: "BCS")) }, at: line, order: order),
            try gradcheck({ (x: DLArray) in try sin(maxpool(x * x, [2], padding: .same, dataFormat: "BCSSS")) }, at: volume, order: order),
            try gradcheck({ (x: DLArray) in try sin(avgpool(x * x, [2, 2, 3], stride: [2, 1, 1], dataFormat: "BCSSS")) }, at: volume, order: order),
        ] {
            #expect(result.passed, "\(result)")
        }
    }

    @Test func labelsAndDataFormat() throws {
        // MATLAB's "SSCB" layout of a 5×4×2×3 batch: results come back in the same layout.
        let x = DLArray.randn([5, 4, 2, 3], seed: 24)
        let labeled = try maxpoolWithIndices(x.labeled("SSCB"), [2], stride: [2], padding: .same)
        #expect(labeled.output.labels == "BCSS" && labeled.output.shape == [3, 2, 3, 2])
        let matlab = try maxpoolWithIndices(x, [2], stride: [2], padding: .same, dataFormat: "SSCB")
        #expect(matlab.output.labels == "" && matlab.output.shape == [3, 2, 2, 3])
        expectClose(matlab.output, try permute(stripdims(labeled.output), [2, 3, 1, 0]))
        expectClose(matlab.indices, try permute(stripdims(labeled.indices), [2, 3, 1, 0]))
        let average = try avgpool(x, [3, 2], dataFormat: "SSCB")
        expectClose(average, try permute(stripdims(avgpool(x.labeled("SSCB"), [3, 2])), [2, 3, 1, 0]))
        #expect(try avgpool(x, .global, dataFormat: "SSCB").shape == [1, 1, 2, 3])
        // maxunpool in MATLAB's layout, its indices unlabeled in the same layout or labeled.
        let restored = try maxunpool(matlab.output, matlab.indices, outputSize: matlab.inputSize, dataFormat: "SSCB")
        let restoredLabeled = try maxunpool(labeled.output, labeled.indices, outputSize: labeled.inputSize)
        #expect(restored.shape == [5, 4, 2, 3] && restoredLabeled.labels == "BCSS")
        expectClose(restored, try permute(stripdims(restoredLabeled), [2, 3, 1, 0]))
        expectClose(try maxunpool(matlab.output, labeled.indices, outputSize: [5, 4], dataFormat: "SSCB"), restored)
        // Without a batch ("CSS").
        let single = try maxpool(x.labeled("SSCB")[0, ...].labeled("CSS"), [2], stride: [2], padding: .same)
        #expect(single.labels == "CSS" && single.shape == [2, 3, 2])
        expectClose(single, try stripdims(labeled.output)[0, ...].labeled("CSS"))
        // float32 stays float32, also with the padding excluded from the average.
        let narrow = x.converted(to: .float32)
        #expect(try avgpool(narrow, [2], padding: 1, paddingValue: .mean, dataFormat: "SSCB").dataType == .float32)
        #expect(try maxpool(narrow, [2], dataFormat: "SSCB").dataType == .float32)
    }

    @Test func errors() {
        let x = DLArray.zeros([1, 2, 4, 4], labels: "BCSS")
        expectError(containing: "maxpool", "dimension labels", "dataFormat") { _ = try maxpool(stripdims(x), [2]) }
        expectError(containing: "avgpool needs spatial data", "\"TBC\"") { _ = try avgpool(DLArray.zeros([2, 2, 2], labels: "TBC"), [2]) }
        expectError(containing: "maxpool: poolSize [2, 2, 2] needs 1 or 2 values") { _ = try maxpool(x, [2, 2, 2]) }
        expectError(containing: "avgpool: stride [1, 2, 3]") { _ = try avgpool(x, [2], stride: [1, 2, 3]) }
        expectError(containing: "must be positive") { _ = try maxpool(x, [2], stride: [0]) }
        expectError(containing: "must be positive") { _ = try avgpool(x, [0]) }
        expectError(containing: "padding [2, 2] before", "smaller than the pool size [2, 2]") { _ = try maxpool(x, [2], padding: 2) }
        expectError(containing: "maxpool: a pool size [5, 5] does not fit input [4, 4]") { _ = try maxpool(x, [5]) }
        expectError(containing: "padding must not be negative") { _ = try avgpool(x, [2], padding: -1) }
        let y = DLArray.zeros([1, 2, 2, 2], labels: "BCSS")
        expectError(containing: "maxunpool: indices of shape [1, 2, 2]", "values of shape [1, 2, 2, 2]") {
            _ = try maxunpool(y, DLArray.zeros([1, 2, 2], labels: "BCS"), outputSize: [4, 4])
        }
        expectError(containing: "maxunpool: outputSize [16] needs 2 positive sizes") {
            _ = try maxunpool(y, DLArray.zeros([1, 2, 2, 2], labels: "BCSS"), outputSize: [16])
        }
        expectError(containing: "maxunpool: index 16.0 is not a position in a plane of 16 elements") {
            _ = try maxunpool(y, DLArray.full([1, 2, 2, 2], value: 16, labels: "BCSS"), outputSize: [4, 4])
        }
        expectError(containing: "index 1.5") {
            _ = try maxunpool(y, DLArray.full([1, 2, 2, 2], value: 1.5, labels: "BCSS"), outputSize: [4, 4])
        }
    }
}
