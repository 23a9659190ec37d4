import Testing
@testable import SwiftDL

@Suite struct ConvolutionTests {
    /// dlconv and its gradients against PyTorch's conv1d/2d/3d.
    @Test(arguments: ["conv1d", "conv2d", "conv2d_dilated", "conv2d_groups", "conv2d_depthwise", "conv3d"])
    func matchesPyTorch(_ name: String) throws {
        let f = try Fixture("convolution", name)
        let (x, w, b, upstream) = (try f.array("x"), try f.array("w"), try f.array("b"), try f.array("upstream"))
        let format = "BC" + String(repeating: "S", count: x.rank - 2)
        let stride = try f.integers("stride"), padding = try f.integers("padding"), dilation = try f.integers("dilation")
        let conv = { (x: DLArray, w: DLArray, b: DLArray) in
            try dlconv(x, w, b, stride: stride, dilation: dilation, padding: .symmetric(padding), dataFormat: format)
        }
        let (y, dx, dw, db) = try dlfeval({ (x: DLArray, w: DLArray, b: DLArray) in
            let y = try conv(x, w, b)
            let (dx, dw, db) = try dlgradient(sum(y * upstream), x, w, b)
            return (y, dx, dw, db)
        }, x, w, b)
        expectClose(y, try f.array("y"), "y")
        expectClose(dx, try f.array("dx"), "dx")
        expectClose(dw, try f.array("dw"), "dw")
        expectClose(db, try f.array("db"), "db")
    }

    /// dltranspconv and its gradients against PyTorch's conv_transpose1d/2d/3d.
    @Test(arguments: ["transpconv1d", "transpconv2d", "transpconv2d_groups", "transpconv3d"])
    func transposedMatchesPyTorch(_ name: String) throws {
        let f = try Fixture("convolution", name)
        let (x, w, b, upstream) = (try f.array("x"), try f.array("w"), try f.array("b"), try f.array("upstream"))
        let format = "BC" + String(repeating: "S", count: x.rank - 2)
        let stride = try f.integers("stride"), cropping = try f.integers("cropping")
        let dilation = try f.integers("dilation"), groups = try f.integers("groups")[0]
        let (y, dx, dw, db) = try dlfeval({ (x: DLArray, w: DLArray, b: DLArray) in
            let y = try dltranspconv(x, w, b, stride: stride, dilation: dilation, cropping: .symmetric(cropping),
                                     groups: groups, dataFormat: format)
            let (dx, dw, db) = try dlgradient(sum(y * upstream), x, w, b)
            return (y, dx, dw, db)
        }, x, w, b)
        expectClose(y, try f.array("y"), "y")
        expectClose(dx, try f.array("dx"), "dx")
        expectClose(dw, try f.array("dw"), "dw")
        expectClose(db, try f.array("db"), "db")
    }

    @Test func handComputedConvolution() throws {
        // A 1x1x3x3 input of 1...9, a 2x2 kernel of ones, no padding: sums of 2x2 blocks.
        let x = try DLArray((1...9).map(Double.init), shape: [1, 1, 3, 3], labels: "BCSS")
        let w = DLArray.ones([1, 1, 2, 2])
        let y = try dlconv(x, w, DLArray([0.5]))
        #expect(y.labels == "BCSS" && y.shape == [1, 1, 2, 2])
        #expect(y.scalars(as: Double.self) == [12.5, 16.5, 24.5, 28.5])
        // "same" padding keeps 3x3 (one row and column of zeros after: total padding 1 goes after).
        let same = try dlconv(x, w, padding: .same)
        #expect(same.scalars(as: Double.self) == [12, 16, 9, 24, 28, 15, 15, 17, 9])
        // Its transpose with stride 1 scatters each input over a 2x2 block.
        let t = try dltranspconv(try DLArray([1.0, 2], shape: [1, 1, 1, 2], labels: "BCSS"), w)
        #expect(t.shape == [1, 1, 2, 3] && t.scalars(as: Double.self) == [1, 3, 2, 1, 3, 2])
    }

    @Test func matlabDataFormatAndUnbatchedInput() throws {
        // MATLAB's "SSCB" layout of a 4x4x2x3 batch: the result comes back in the same layout.
        let x = DLArray.randn([4, 4, 2, 3], seed: 1)
        let w = DLArray.randn([5, 2, 3, 3], seed: 2)
        let y = try dlconv(x, w, padding: 1, dataFormat: "SSCB")
        #expect(y.labels == "" && y.shape == [4, 4, 5, 3])
        let labeled = try dlconv(x.labeled("SSCB"), w, padding: 1)
        #expect(labeled.labels == "BCSS" && labeled.shape == [3, 5, 4, 4])
        expectClose(try permute(stripdims(labeled), [2, 3, 1, 0]), y)
        // Without a batch dimension ("CSS").
        let single = try dlconv(try x.labeled("SSCB")[0, ...].labeled("CSS"), w, padding: 1)
        #expect(single.shape == [5, 4, 4] && single.labels == "CSS")
        expectClose(single, try stripdims(labeled)[0, ...].labeled("CSS"))
    }

    /// Single-precision convolutions with a stride of 2 along the lines (whose input lines are
    /// split into even and odd elements several at a time) agree with double precision, for
    /// lines shorter and longer than a chunk of eight, odd and even, with any padding.
    @Test(arguments: [1, 2, 7, 8, 9, 14, 17])
    func singlePrecisionStrideTwoMatchesDouble(line: Int) throws {
        for padding in 0...2 where line + 2 * padding >= 3 {
            let x = DLArray.randn([2, 3, 3, line], seed: 8), w = DLArray.randn([4, 3, 2, 3], seed: 9)
            let b = DLArray.randn([4], seed: 10)
            func gradients(_ type: DLDataType) throws -> [DLArray] {
                let (x, w, b) = (x.converted(to: type), w.converted(to: type), b.converted(to: type))
                let (y, dx, dw) = try dlfeval({ (x: DLArray, w: DLArray, b: DLArray) in
                    let y = try dlconv(x, w, b, stride: [1, 2], padding: .symmetric([1, padding]), dataFormat: "BCSS")
                    let (dx, dw) = try dlgradient(sum(y * y), x, w)
                    return (y, dx, dw)
                }, x, w, b)
                return [y, dx, dw]
            }
            for (single, double) in zip(try gradients(.float32), try gradients(.float64)) {
                expectClose(single, double, tolerance: 1e-4, "line \(line), padding \(padding)")
            }
        }
    }

    @Test(arguments: 1...2)
    func gradcheckThroughEveryInput(order: Int) throws {
        let x = DLArray.randn([2, 4, 5, 4], seed: 3), w = DLArray.randn([6, 2, 2, 3], seed: 4), b = DLArray.randn([6], seed: 5)
        let conv = try gradcheck({ (p: [DLArray]) in
            try tanh(dlconv(p[0], p[1], p[2], stride: [2, 1], dilation: [1, 2], padding: .explicit(before: [1, 0], after: [0, 2]), dataFormat: "BCSS"))
        }, at: [x, w, b], order: order)
        #expect(conv.passed, "\(conv)")
        let tw = DLArray.randn([4, 3, 3, 2], seed: 6), tb = DLArray.randn([6], seed: 7)
        let transposed = try gradcheck({ (p: [DLArray]) in
            try tanh(dltranspconv(p[0], p[1], p[2], stride: [2, 1], cropping: .same, groups: 2, dataFormat: "BCSS"))
        }, at: [x, tw, tb], order: order)
        #expect(transposed.passed, "\(transposed)")
    }

    @Test func fullyConnect() throws {
        // Features of a 2x1x2x2 "BCSS" input flatten to 4, times weights [4, 3], plus bias.
        let x = try DLArray((1...8).map(Double.init), shape: [2, 1, 2, 2], labels: "BCSS")
        let w = try DLArray((0..<12).map { Double($0) / 10 }, shape: [4, 3])
        let y = try fullyconnect(x, w, DLArray([1.0, 0, -1]))
        #expect(y.labels == "BC" && y.shape == [2, 3])
        // Row 0: [1 2 3 4]·W = [6, 7, 8]; row 1: [5 6 7 8]·W = [13.2, 15.8, 18.4]; plus bias.
        let expected = try DLArray([7.0, 7, 7, 14.2, 15.8, 17.4], shape: [2, 3])
        expectClose(stripdims(y), expected, tolerance: 1e-12)
        // A sequence "TBC" keeps time and batch.
        let sequence = DLArray.randn([5, 2, 4], labels: "TBC", seed: 8)
        #expect(try fullyconnect(sequence, w).shape == [5, 2, 3])
        for order in 1...2 {
            let result = try gradcheck({ (p: [DLArray]) in
                try sin(fullyconnect(p[0], p[1], p[2], dataFormat: "BCSS"))
            }, at: [stripdims(x) * 0.1, w, DLArray([1.0, 0, -1])], order: order)
            #expect(result.passed, "\(result)")
        }
    }

    @Test func errors() {
        let x = DLArray.zeros([1, 2, 4, 4], labels: "BCSS")
        expectError(containing: "dimension labels", "dataFormat") { _ = try dlconv(stripdims(x), DLArray.zeros([1, 2, 3, 3])) }
        expectError(containing: "weights of shape [1, 2, 3]") { _ = try dlconv(x, DLArray.zeros([1, 2, 3])) }
        expectError(containing: "groups of 3") { _ = try dlconv(x, DLArray.zeros([1, 3, 3, 3])) }
        expectError(containing: "does not fit input") { _ = try dlconv(x, DLArray.zeros([1, 2, 5, 5])) }
        expectError(containing: "stride [1, 2, 3]") { _ = try dlconv(x, DLArray.zeros([1, 2, 3, 3]), stride: [1, 2, 3]) }
        expectError(containing: "stride [0]", "1 or more") { _ = try dlconv(x, DLArray.zeros([1, 2, 3, 3]), stride: [0]) }
        expectError(containing: "dilation [0]") { _ = try dltranspconv(x, DLArray.zeros([2, 1, 3, 3]), dilation: [0]) }
        expectError(containing: "bias has 2 elements") { _ = try dlconv(x, DLArray.zeros([1, 2, 3, 3]), DLArray.zeros([2])) }
        expectError(containing: "[4, 3]") { _ = try fullyconnect(DLArray.zeros([2, 5], labels: "BC"), DLArray.zeros([4, 3])) }
    }
}
