import Testing
@testable import SwiftDL

@Suite struct GradientClippingTests {
    let gradients = [DLArray([3.0, 0]), DLArray([0.0, 4])]

    @Test func byGlobalNorm() throws {
        // The global norm is 5: scaled by 1/5 to norm 1, the direction kept.
        let clipped = try clipGradientsByGlobalNorm(gradients, maxNorm: 1)
        expectElements(clipped[0], [0.6, 0])
        expectElements(clipped[1], [0, 0.8])
        // At or under the threshold nothing changes.
        let kept = try clipGradientsByGlobalNorm(gradients, maxNorm: 5)
        for i in 0..<2 { expectSameBits(kept[i], gradients[i]) }
        // Float32, labeled, complex: types and labels stay; complex counts its modulus (|3+4i| = 5).
        let labeled = try DLArray([Float(6), 8], shape: [2, 1], labels: "CB")
        let scaled = try clipGradientsByGlobalNorm(["g": labeled], maxNorm: 5)["g"]!
        #expect(scaled.dataType == .float32 && scaled.labels == labeled.labels && scaled.shape == labeled.shape)
        expectElements(scaled, [3, 4], tolerance: 1e-6)
        let z = try complex(DLArray([3.0]), DLArray([4.0]))
        let clippedComplex = try clipGradientsByGlobalNorm(z, maxNorm: 1)
        expectElements(real(clippedComplex), [0.6])
        expectElements(imag(clippedComplex), [0.8])
    }

    @Test func byNormOfEachArray() throws {
        let clipped = try clipGradientsByNorm([DLArray([3.0, 4]), DLArray([0.3, 0.4])], maxNorm: 1)
        expectElements(clipped[0], [0.6, 0.8])
        expectSameBits(clipped[1], DLArray([0.3, 0.4]))
    }

    @Test func byValue() throws {
        let g = try DLArray([Float(-3), 0.5, 2, .nan, -1], shape: [5], labels: "C")
        let clipped = try clipGradientsByValue(g, maxValue: 1)
        #expect(clipped.dataType == .float32 && clipped.labels == "C")
        let elements = clipped.scalars(as: Float.self)
        #expect(elements[0] == -1 && elements[1] == 0.5 && elements[2] == 1 && elements[3].isNaN && elements[4] == -1)
    }

    @Test func errors() throws {
        expectError(containing: "clipGradientsByGlobalNorm: maxNorm must be finite and positive, got 0.0") {
            _ = try clipGradientsByGlobalNorm(gradients, maxNorm: 0)
        }
        expectError(containing: "clipGradientsByValue: maxValue must be finite and positive") {
            _ = try clipGradientsByValue(gradients, maxValue: .infinity)
        }
        let message = errorMessage(DLError.unsupportedType) {
            _ = try clipGradientsByValue([DLArray([1.0]), try complex(DLArray([1.0]), DLArray([1.0]))], maxValue: 1)
        }
        #expect(message.contains("gradients array 1 is complex128"), "\(message)")
    }
}
