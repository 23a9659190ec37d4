import Foundation
import Testing
@testable import SwiftDL

/// The float32 window products computed by oneDNN against the im2col kernels and PyTorch, their
/// derivatives of orders 1 and 2 against float64 (im2col), and their bits under load.
@Suite struct DNNLConvolutionTests {
    /// The window products' test layouts, and a DCGAN discriminator's second layer (4×4, stride 2)
    /// with a batch that does not split evenly into parts.
    static let layouts = WindowProductTests.layouts + [
        ConvolutionLayout(geometry: WindowGeometry(inputSize: [14, 14], kernel: [4, 4], stride: [2, 2], dilation: [1, 1],
                                                   paddingBefore: [1, 1], paddingAfter: [1, 1]),
                          batch: 7, channels: 16, filters: 32, groups: 1),
    ]

    static func float32Operands(_ layout: ConvolutionLayout, seed: UInt64) -> (x: DLArray, w: DLArray, y: DLArray) {
        let (x, w, y) = WindowProductTests.operands(layout, seed: seed)
        return (x.converted(to: .float32), w.converted(to: .float32), y.converted(to: .float32))
    }

    /// oneDNN takes the float32 layouts with several channels and agrees with the im2col kernels on the three
    /// products, with and without bias.
    @Test(arguments: 0..<6)
    func matchesIm2col(_ index: Int) throws {
        let layout = Self.layouts[index]
        let (x, w, y) = Self.float32Operands(layout, seed: 70)
        let outputBias = DLArray.randn([layout.filters], seed: 71).converted(to: .float32)
        let inputBias = DLArray.randn([layout.channels], seed: 72).converted(to: .float32)
        for bias in [nil, outputBias] {
            let dnnl = try #require(DNNLConvolution.forward(x, w, bias, layout: layout))
            let im2col = dispatchFloating(.float32, ConvolutionForward(x: x, filters: w, bias: bias, layout: layout))
            expectClose(dnnl, im2col, tolerance: 1e-5, "forward, bias \(bias != nil)")
        }
        for bias in [nil, inputBias] {
            let dnnl = try #require(DNNLConvolution.transposed(y, w, bias, layout: layout))
            let im2col = dispatchFloating(.float32, ConvolutionTransposed(y: y, filters: w, bias: bias, layout: layout))
            expectClose(dnnl, im2col, tolerance: 1e-5, "transposed, bias \(bias != nil)")
        }
        let dnnl = try #require(DNNLConvolution.correlation(x, y, layout: layout))
        let im2col = dispatchFloating(.float32, ConvolutionFilterCorrelation(x: x, y: y, layout: layout))
        expectClose(dnnl, im2col, tolerance: 1e-5, "correlation")
    }

    /// float64 and complex products are not taken by oneDNN (they keep the im2col kernels).
    @Test func leavesOtherTypes() throws {
        let layout = Self.layouts[0]
        let (x, w, _) = WindowProductTests.operands(layout, seed: 73)
        #expect(DNNLConvolution.forward(x, w, nil, layout: layout) == nil)
        let (complexX, complexW) = (try complex(x, x), try complex(w, w))
        #expect(DNNLConvolution.forward(complexX, complexW, nil, layout: layout) == nil)
    }

    /// Layers with one input channel or one filter keep the im2col kernels, which measured
    /// faster there (the DCGAN's first and last layers).
    @Test func leavesOneChannelLayers() throws {
        let geometry = WindowGeometry(inputSize: [8, 8], kernel: [3, 3], stride: [1, 1], dilation: [1, 1],
                                      paddingBefore: [1, 1], paddingAfter: [1, 1])
        for (channels, filters) in [(1, 8), (8, 1)] {
            let layout = ConvolutionLayout(geometry: geometry, batch: 2, channels: channels, filters: filters, groups: 1)
            let (x, w, y) = Self.float32Operands(layout, seed: 74)
            #expect(DNNLConvolution.forward(x, w, nil, layout: layout) == nil)
            #expect(DNNLConvolution.transposed(y, w, nil, layout: layout) == nil)
            #expect(DNNLConvolution.correlation(x, y, layout: layout) == nil)
        }
    }

    /// dlconv and dltranspconv in float32 and their gradients against PyTorch's (the fixtures
    /// are float64; their float32 roundings give the inputs).
    @Test(arguments: ["conv1d", "conv2d", "conv2d_dilated", "conv2d_groups", "conv2d_depthwise", "conv3d",
                      "transpconv1d", "transpconv2d", "transpconv2d_groups", "transpconv3d"])
    func singlePrecisionMatchesPyTorch(_ name: String) throws {
        let f = try Fixture("convolution", name)
        let (x, w, b, upstream) = try (f.array("x"), f.array("w"), f.array("b"), f.array("upstream"))
        let format = "BC" + String(repeating: "S", count: x.rank - 2)
        let stride = try f.integers("stride"), dilation = try f.integers("dilation")
        let operation: (DLArray, DLArray, DLArray) throws -> DLArray
        if name.hasPrefix("transpconv") {
            let cropping = try f.integers("cropping"), groups = try f.integers("groups")[0]
            operation = { try dltranspconv($0, $1, $2, stride: stride, dilation: dilation, cropping: .symmetric(cropping),
                                           groups: groups, dataFormat: format) }
        } else {
            let padding = try f.integers("padding")
            operation = { try dlconv($0, $1, $2, stride: stride, dilation: dilation, padding: .symmetric(padding), dataFormat: format) }
        }
        let single = upstream.converted(to: .float32)
        let (y, dx, dw, db) = try dlfeval({ (x: DLArray, w: DLArray, b: DLArray) in
            let y = try operation(x, w, b)
            let (dx, dw, db) = try dlgradient(sum(y * single), x, w, b)
            return (y, dx, dw, db)
        }, x.converted(to: .float32), w.converted(to: .float32), b.converted(to: .float32))
        #expect(y.dataType == .float32 && dw.dataType == .float32)
        expectClose(y.converted(to: .float64), try f.array("y"), tolerance: 1e-5, "y")
        expectClose(dx.converted(to: .float64), try f.array("dx"), tolerance: 1e-5, "dx")
        expectClose(dw.converted(to: .float64), try f.array("dw"), tolerance: 1e-5, "dw")
        expectClose(db.converted(to: .float64), try f.array("db"), tolerance: 1e-5, "db")
    }

    /// Derivatives of orders 1 and 2 through oneDNN (float32) agree with the im2col kernels'
    /// (float64, which gradcheck verifies by finite differences): the gradient of a gradient
    /// penalty, as WGAN-GP takes it, for a convolution and a transposed convolution.
    @Test(arguments: 0..<6)
    func secondDerivativesMatchDoublePrecision(_ index: Int) throws {
        let layout = Self.layouts[index]
        let (x, w, y) = WindowProductTests.operands(layout, seed: 80)
        let bias = DLArray.randn([layout.filters], seed: 81)
        func penaltyGradients(_ type: DLDataType) throws -> [DLArray] {
            try dlfeval({ (x: DLArray, w: DLArray, y: DLArray, b: DLArray) in
                let convolved = tanh(windowConvolution(x, w * 0.5, b, layout: layout))
                let inputGradient = try dlgradient(sum(convolved * y), x, enableHigherDerivatives: true)
                let transposed = tanh(transposedWindowConvolution(y, w * 0.5, nil, layout: layout))
                let outputGradient = try dlgradient(sum(transposed * x), y, enableHigherDerivatives: true)
                let penalty = try sum(inputGradient * inputGradient) + sum(outputGradient * outputGradient)
                let (dx, dw, dy, db) = try dlgradient(penalty, x, w, y, b)
                return [penalty, dx, dw, dy, db]
            }, x.converted(to: type), w.converted(to: type), y.converted(to: type), bias.converted(to: type))
        }
        let names = ["penalty", "dx", "dw", "dy", "db"]
        for (name, (single, double)) in zip(names, zip(try penaltyGradients(.float32), try penaltyGradients(.float64))) {
            #expect(single.dataType == .float32)
            expectClose(single.converted(to: .float64), double, tolerance: 2e-4, name)
        }
    }

    /// The filter correlation (whose parts are summed) gives the same bits in repeated runs
    /// while other threads keep every core busy.
    @Test func sameBitsUnderLoad() throws {
        let layout = ConvolutionLayout(geometry: WindowGeometry(inputSize: [14, 14], kernel: [4, 4], stride: [2, 2],
                                                                dilation: [1, 1], paddingBefore: [1, 1], paddingAfter: [1, 1]),
                                       batch: 13, channels: 32, filters: 16, groups: 1)
        let (x, w, y) = Self.float32Operands(layout, seed: 90)
        func run() throws -> [[Float]] {
            [try #require(DNNLConvolution.correlation(x, y, layout: layout)).scalars(as: Float.self),
             try #require(DNNLConvolution.transposed(y, w, nil, layout: layout)).scalars(as: Float.self),
             try #require(DNNLConvolution.forward(x, w, nil, layout: layout)).scalars(as: Float.self)]
        }
        let first = try run()
        let load = BusyThreads(count: ProcessInfo.processInfo.activeProcessorCount + 1)
        defer { load.stop() }
        for round in 1...4 {
            for (product, (again, before)) in zip(["correlation", "transposed", "forward"], zip(try run(), first)) {
                let differing = again.indices.first { again[$0].bitPattern != before[$0].bitPattern }
                #expect(differing == nil, "\(product), round \(round): element \(differing ?? -1) differs")
            }
        }
    }
}

/// Threads that spin until stopped, to keep the cores busy.
private final class BusyThreads: @unchecked Sendable {
    private let lock = NSLock()
    private var running = true

    init(count: Int) {
        for _ in 0..<count {
            Thread.detachNewThread { [self] in
                var x = 1.0
                while lock.withLock({ running }) {
                    for _ in 0..<10_000 { x = x * 1.000001 + 1e-9 }
                }
                _ = x
            }
        }
    }

    func stop() { lock.withLock { running = false } }
}
