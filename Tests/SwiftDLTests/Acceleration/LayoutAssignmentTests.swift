import Testing
@testable import SwiftDL

/// The accelerated plan's layout pass: activations passed between oneDNN products stay in
/// oneDNN's blocked layout, and the results keep the eager bits.
@Suite struct LayoutAssignmentTests {
    /// A convolution into a transposed convolution into a convolution, float32 (oneDNN), with
    /// biases, and the gradients of the filters, the biases and the input: the plan passes the
    /// activations between the three products blocked (the transposed convolution adds its bias
    /// to a blocked output), and replays new values with the eager path's bits.
    @Test func blockedActivationsKeepTheEagerBits() throws {
        typealias Results = (DLArray, DLArray, DLArray, DLArray, DLArray, DLArray)
        let function = { (x: DLArray, w1: DLArray, w2: DLArray, w3: DLArray, b2: DLArray) throws -> Results in
            let h = try dlconv(x, w1, DLArray.ones([32], type: .float32), stride: [2], padding: 1)
            let t = try dltranspconv(h, w2, b2, stride: [2], cropping: 1)
            let y = try dlconv(t, w3, DLArray.zeros([16], type: .float32), padding: 1)
            let loss = sum(try y * y)
            let (g1, g2, g3, gb, gx) = try dlgradient(loss, w1, w2, w3, b2, x)
            return (loss, g1, g2, g3, gb, gx)
        }
        let accelerated = dlaccelerate(function)
        for seed in [UInt64(1), 2, 3] {
            let x = DLArray.randn([4, 16, 8, 8], type: .float32, labels: "BCSS", seed: seed)
            let w1 = DLArray.randn([32, 16, 4, 4], type: .float32, seed: seed + 10)
            let w2 = DLArray.randn([32, 16, 4, 4], type: .float32, seed: seed + 20)
            let w3 = DLArray.randn([16, 16, 3, 3], type: .float32, seed: seed + 30)
            let b2 = DLArray.randn([16], type: .float32, seed: seed + 40)
            let a = try dlfeval(accelerated, x, w1, w2, w3, b2)
            let e = try dlfeval(function, x, w1, w2, w3, b2)
            for (name, replayed, eager) in [("loss", a.0, e.0), ("w1", a.1, e.1), ("w2", a.2, e.2), ("w3", a.3, e.3),
                                            ("b2", a.4, e.4), ("x", a.5, e.5)] {
                #expect(firstDifference(replayed, eager) == nil, "\(name), seed \(seed)")
            }
        }
        #expect(accelerated.hitRate == 200.0 / 3, "\(accelerated.lastEagerReason ?? "")")
        // Written blocked: h (by the convolution), t (by the transposed convolution), and the
        // gradients passed between products; read blocked by every product that reads them.
        let counts = try #require(accelerated.lastTraceLayoutCounts)
        #expect(counts.blocked >= 6, "\(counts)")
    }
}
