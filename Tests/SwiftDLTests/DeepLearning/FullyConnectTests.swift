import Testing
@testable import SwiftDL

@Suite struct FullyConnectTests {
    /// The product that starts from the bias gives the product plus the broadcast bias, and
    /// the same gradients, in float32 and when the bias has another type than the input.
    @Test(arguments: [DLDataType.float32, .float64])
    func biasAccumulatedIntoTheProductMatchesProductPlusBias(biasType: DLDataType) throws {
        let x = DLArray.randn([6, 5], type: .float32, labels: "BC", seed: 1)
        let w = DLArray.randn([5, 4], type: .float32, seed: 2)
        let b = DLArray.randn([4], type: biasType, seed: 3)
        let upstream = DLArray.randn([6, 4], type: .float32, seed: 4)
        let fused = try dlfeval({ (x: DLArray, w: DLArray, b: DLArray) in
            let y = try fullyconnect(x, w, b)
            return (extractdata(y), try dlgradient(sum(y * upstream), x, w, b))
        }, x, w, b)
        let separate = try dlfeval({ (x: DLArray, w: DLArray, b: DLArray) in
            let y = try mtimes(stripdims(x), w) + reshape(b, [1, 4])
            return (extractdata(y), try dlgradient(sum(y * upstream), x, w, b))
        }, x, w, b)
        expectClose(stripdims(fused.0), separate.0, tolerance: 1e-6)
        expectClose(stripdims(fused.1.0), stripdims(separate.1.0), tolerance: 1e-6)
        expectClose(fused.1.1, separate.1.1, tolerance: 1e-6)
        expectClose(fused.1.2, separate.1.2, tolerance: 1e-6)
        #expect(fused.1.2.shape == [4] && fused.1.2.dataType == biasType)
    }
}
