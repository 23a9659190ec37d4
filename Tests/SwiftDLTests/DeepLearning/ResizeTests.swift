import Testing
@testable import SwiftDL

private typealias Support = ElementwiseTestSupport

/// A dlresize setting and the PyTorch `interpolate` case it reproduces.
struct ResizeCase: Sendable, CustomTestStringConvertible {
    let fixture: String
    let format: String
    let scale: [Double]?
    let method: ResizeMethod
    let mode: GeometricTransformMode
    let rounding: NearestRoundingMode
    var testDescription: String { fixture }

    static let all: [ResizeCase] = [
        ResizeCase(fixture: "resize_bilinear_scale2", format: "BCSS", scale: [2], method: .linear, mode: .halfPixel, rounding: .round),
        ResizeCase(fixture: "resize_bilinear_size", format: "BCSS", scale: nil, method: .linear, mode: .halfPixel, rounding: .round),
        ResizeCase(fixture: "resize_bilinear_down", format: "BCSS", scale: nil, method: .linear, mode: .halfPixel, rounding: .round),
        // PyTorch's "nearest" is the asymmetric mapping rounded down.
        ResizeCase(fixture: "resize_nearest_scale2", format: "BCSS", scale: [2, 2], method: .nearest, mode: .asymmetric, rounding: .floor),
        ResizeCase(fixture: "resize_nearest_size", format: "BCSS", scale: nil, method: .nearest, mode: .asymmetric, rounding: .floor),
        // "nearest-exact" is MATLAB's default: half-pixel, rounded.
        ResizeCase(fixture: "resize_nearest_exact_size", format: "BCSS", scale: nil, method: .nearest, mode: .halfPixel, rounding: .round),
        ResizeCase(fixture: "resize_linear_1d", format: "BCS", scale: nil, method: .linear, mode: .halfPixel, rounding: .round),
    ]
}

@Suite struct ResizeTests {
    @Test(arguments: ResizeCase.all)
    func resizeMatchesPyTorchInterpolate(setting: ResizeCase) throws {
        let fixture = try Fixture("functions", setting.fixture)
        let x = try fixture.array("x")
        let size = setting.scale == nil ? try fixture.integers("size") : nil
        let resize = { (x: DLArray) in
            try dlresize(x, scale: setting.scale, outputSize: size, method: setting.method,
                         geometricTransformMode: setting.mode, nearestRoundingMode: setting.rounding, dataFormat: setting.format)
        }
        expectClose(try resize(x), try fixture.array("y"), tolerance: 1e-14, setting.fixture)
        let upstream = try fixture.array("upstream")
        let gradient = try dlfeval({ (x: DLArray) in try dlgradient(sum(resize(x) * upstream), x) }, x)
        expectClose(gradient, try fixture.array("dx"), tolerance: 1e-13, setting.fixture + " gradient")
    }

    @Test func labeledInputKeepsItsLabelsAndMATLABDefaults() throws {
        // MATLAB's defaults: nearest, half-pixel, round. [1 2] doubled is [1 1 2 2].
        let x = try DLArray([1.0, 2.0], shape: [2, 1, 1], labels: "SCB")
        let y = try dlresize(x, scale: [2])
        #expect(y.labels == "BCS")
        Support.expectValues(y, [1, 1, 2, 2], shape: [1, 1, 4])
        // Linear: pixel centres at 0.25 and 0.75 of the way, edges repeated.
        Support.expectValues(try dlresize(x, scale: [2], method: .linear), [1, 1.25, 1.75, 2])
    }

    @Test func gradientsMatchFiniteDifferences() throws {
        let x = try DLArray((0..<12).map { Double($0) * 0.37 - 2 }, shape: [1, 1, 3, 4], labels: "BCSS")
        try Support.expectGradcheck({ (x: DLArray) in
            let y = try dlresize(x, outputSize: [5, 3], method: .linear)
            return try y * y
        }, at: x)
        try Support.expectGradcheck({ (x: DLArray) in try dlresize(x, scale: [2], method: .nearest) * dlresize(x, scale: [2]) }, at: x)
    }

    @Test func badArgumentsThrow() throws {
        let x = try DLArray([1.0, 2.0], shape: [1, 1, 2], labels: "BCS")
        Support.expectError(.invalidArgument, mentioning: ["either scale or outputSize"]) { _ = try dlresize(x) }
        Support.expectError(.invalidArgument, mentioning: ["both"]) { _ = try dlresize(x, scale: [2], outputSize: [4]) }
        Support.expectError(.invalidArgument, mentioning: ["one size per spatial dimension"]) { _ = try dlresize(x, outputSize: [4, 4]) }
        Support.expectError(.invalidArgument, mentioning: ["1 or more"]) { _ = try dlresize(x, scale: [0.1]) }
        Support.expectError(.invalidArgument, mentioning: ["spatial (S)"]) {
            _ = try dlresize(DLArray.zeros([2, 3], labels: "BC"), scale: [2])
        }
    }
}
