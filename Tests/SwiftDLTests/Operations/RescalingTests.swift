import Testing
@testable import SwiftDL

private typealias Support = ElementwiseTestSupport

@Suite struct RescalingTests {
    @Test func rescaleMapsOntoTheUnitIntervalAndGivenBounds() throws {
        let x = DLArray([2.0, 4, 6, 10])
        Support.expectValues(try rescale(x), [0, 0.25, 0.5, 1])
        Support.expectValues(try rescale(x, lower: -1, upper: 1), [-1, -0.5, 0, 1])
        // Given input bounds clamp the elements outside them, as MATLAB.
        Support.expectValues(try rescale(x, inputMin: 4, inputMax: 8), [0, 0, 0.5, 1])
        // A constant array maps to the lower bound.
        Support.expectValues(try rescale(DLArray([3.0, 3.0]), lower: 2, upper: 5), [2, 2])
    }

    @Test func rowsRescaledWithArrayBounds() throws {
        let x = try DLArray(rows: [[1.0, 3, 5], [10, 20, 30]])
        let low = try min(x, dim: 1).values, high = try max(x, dim: 1).values
        Support.expectValues(try rescale(x, inputMin: low, inputMax: high), [0, 0.5, 1, 0, 0.5, 1])
    }

    @Test func gradientFlowsThroughTheExtremes() throws {
        // r = (x - min)/(max - min): the smallest and largest elements move the others.
        let x = DLArray([1.0, 2.0, 5.0])
        let gradient = try Support.gradient(of: { try rescale($0) * DLArray([0.0, 1.0, 0.0]) }, at: x)
        // r₂ = (x₂ - x₁)/(x₃ - x₁): ∂/∂x₁ = (x₂ - x₃)/(x₃ - x₁)², ∂/∂x₂ = 1/(x₃ - x₁), ∂/∂x₃ = -(x₂ - x₁)/(x₃ - x₁)².
        Support.expectValues(gradient, [-3.0 / 16, 0.25, -1.0 / 16])
        let y = DLArray([0.3, -1.2, 2.0, 0.9])
        try Support.expectGradcheck({ (x: DLArray) in try rescale(x, lower: -2, upper: 3) * x }, at: y)
        try Support.expectGradcheck({ (x: DLArray) in try rescale(x, inputMin: -1, inputMax: 1.5) * sin(x) }, at: y)
    }

    @Test func badArgumentsThrow() throws {
        Support.expectError(.invalidArgument, mentioning: ["lower bound"]) { _ = try rescale(DLArray([1.0]), lower: 2, upper: 1) }
        Support.expectError(.invalidArgument, mentioning: ["empty"]) { _ = try rescale(DLArray([Double]())) }
        Support.expectError(.unsupportedType, mentioning: ["rescale"]) {
            _ = try rescale(complex(DLArray([1.0]), DLArray([1.0])))
        }
    }
}
