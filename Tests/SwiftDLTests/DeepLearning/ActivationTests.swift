import Testing
@testable import SwiftDL

@Suite struct ActivationTests {
    /// Each activation against PyTorch: values, the gradient of sum(y · upstream) and the
    /// Hessian-vector product ddx (the gradient of sum(dx · v)).
    @Test(arguments: ["leakyrelu", "leakyrelu_scale", "elu", "elu_alpha", "gelu", "gelu_tanh"])
    func matchesPyTorch(_ name: String) throws {
        let f = try Fixture("activations", name)
        let activation: (DLArray) throws -> DLArray
        switch name {
        case "leakyrelu", "leakyrelu_scale":
            let scale = try f.number("scale")
            activation = { try leakyrelu($0, scale: scale) }
        case "elu", "elu_alpha":
            let alpha = try f.number("alpha")
            activation = { try elu($0, alpha: alpha) }
        case "gelu": activation = { try gelu($0) }
        default: activation = { try gelu($0, approximation: .tanh) }
        }
        let (upstream, v) = (try f.array("upstream"), try f.array("v"))
        let (y, dx, ddx) = try dlfeval({ (x: DLArray) in
            let y = try activation(x)
            let dx = try dlgradient(sum(y * upstream), x, enableHigherDerivatives: true)
            // leakyrelu's gradient is piecewise constant: not traced, its derivative is zero.
            let ddx = dx.isTraced ? try dlgradient(sum(dx * v), x) : DLArray.zeros(like: extractdata(x))
            return (extractdata(y), extractdata(dx), ddx)
        }, try f.array("x"))
        expectClose(y, try f.array("y"), "y")
        expectClose(dx, try f.array("dx"), "dx")
        expectClose(ddx, try f.array("ddx"), "ddx")
    }

    @Test func handComputedValues() throws {
        let x = DLArray([-2.0, -1, 0, 1, 3])
        expectClose(try leakyrelu(x), DLArray([-0.02, -0.01, 0, 1, 3]), tolerance: 1e-15)
        expectClose(try leakyrelu(x, scale: 0.5), DLArray([-1.0, -0.5, 0, 1, 3]), tolerance: 1e-15)
        // elu: α(eˣ − 1) for x ≤ 0; e⁻¹ − 1 = −0.6321205588285577.
        expectClose(try elu(x), DLArray([-0.8646647167633873, -0.6321205588285577, 0, 1, 3]), tolerance: 1e-15)
        expectClose(try elu(x, alpha: 2), DLArray([-1.7293294335267746, -1.2642411176571153, 0, 1, 3]), tolerance: 1e-15)
        // gelu(1) = Φ(1) = 0.8413447460685429; gelu(−2) = −2 Φ(−2); the tanh form at 1.
        let g = try gelu(DLArray([-2.0, 0, 1]))
        expectClose(g, DLArray([-0.04550026389635842, 0, 0.8413447460685429]), tolerance: 1e-15)
        expectClose(try gelu(DLArray([1.0]), approximation: .tanh), DLArray([0.8411919906082768]), tolerance: 1e-15)
        // Derivatives at the kinks: leakyrelu and elu take the left slope at 0.
        let slopes = try dlfeval({ (x: DLArray) in
            [try dlgradient(sum(leakyrelu(x, scale: 0.1)), x), try dlgradient(sum(elu(x, alpha: 0.5)), x)]
        }, DLArray([0.0, 2]))
        expectClose(slopes[0], DLArray([0.1, 1]), tolerance: 1e-15)
        expectClose(slopes[1], DLArray([0.5, 1]), tolerance: 1e-15)
    }

    @Test func gradcheckOrders1And2() throws {
        // Points away from 0, where leakyrelu and elu have kinks.
        let x = DLArray([-2.1, -0.7, -0.2, 0.3, 1.1, 2.4])
        let activations: [(String, (DLArray) throws -> DLArray)] = [
            ("leakyrelu", { try leakyrelu($0, scale: 0.2) }), ("elu", { try elu($0, alpha: 0.7) }),
            ("gelu", { try gelu($0) }), ("gelu tanh", { try gelu($0, approximation: .tanh) }),
        ]
        for (name, activation) in activations {
            for order in 1...2 {
                // Times x, so that the second derivative of the piecewise-linear leakyrelu
                // does not vanish identically.
                let result = try gradcheck({ x in try activation(x) * x }, at: x, order: order)
                #expect(result.passed, "\(name): \(result)")
            }
        }
    }

    @Test func largeInputsStayFinite() throws {
        // elu's exponential never sees large positive values: no overflow, no NaN gradient.
        let x = DLArray([-1000.0, 1000])
        let (y, dx, ddx) = try dlfeval({ (x: DLArray) in
            let y = try elu(x)
            let dx = try dlgradient(sum(y), x, enableHigherDerivatives: true)
            return (extractdata(y), extractdata(dx), try dlgradient(sum(dx), x))
        }, x)
        #expect(y.scalars(as: Double.self) == [-1, 1000])
        #expect(dx.scalars(as: Double.self) == [0, 1])
        #expect(ddx.scalars(as: Double.self) == [0, 0])
        expectClose(try gelu(DLArray([-40.0, 40])), DLArray([0.0, 40]), tolerance: 1e-15)
        expectClose(try gelu(DLArray([-40.0, 40]), approximation: .tanh), DLArray([0.0, 40]), tolerance: 1e-15)
    }

    @Test func labelsAndTypes() throws {
        // Elementwise: labels ("BCSS", "BC", "TBC") and shapes pass through, unlabeled stays so.
        for labels in ["BCSS", "BC", "TBC"] {
            let x = DLArray.randn(Array(repeating: 2, count: labels.count), labels: labels, seed: 1)
            for y in [try leakyrelu(x), try elu(x), try gelu(x), try gelu(x, approximation: .tanh)] {
                #expect(y.labels == labels && y.shape == x.shape)
            }
        }
        let plain = DLArray.randn([2, 3], seed: 2)
        #expect(try gelu(plain).labels == "")
        // float32 stays float32.
        let single = DLArray.randn([4], type: .float32, seed: 3)
        for y in [try leakyrelu(single), try elu(single), try gelu(single), try gelu(single, approximation: .tanh)] {
            #expect(y.dataType == .float32)
        }
        expectClose(try gelu(single), try gelu(single.converted(to: .float64)), tolerance: 1e-6)
    }

    /// float32 leaky ReLU and its gradient run on a sixteen-lane C loop: the same bits as the
    /// scalar rule (`x` or `g` where `x > 0`, else `scale · g`, 0 for a zero scale), element by
    /// element, on lengths with and without a partial last vector and at ±0, ±∞, NaN and subnormals.
    @Test func float32LeakyReLUMatchesTheScalarRuleBitForBit() throws {
        let special: [Float] = [0, -0.0, .infinity, -.infinity, .nan, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
                                .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 1e-30, -1e-30]
        for count in [1, 15, 16, 17, 1000] {
            let random = DLArray.randn([count], type: .float32, seed: UInt64(count)).scalars(as: Float.self)
            let values = Array((special + random).prefix(max(count, special.count)))
            let x = try DLArray(values, shape: [values.count])
            let upstreamValues = DLArray.randn([values.count], type: .float32, seed: 99).scalars(as: Float.self)
                .enumerated().map { $0.offset == 3 ? Float.infinity : $0.element }
            let upstream = try DLArray(upstreamValues, shape: [values.count])
            for scale: Float in [0.2, 0, 1, -0.5] {
                func rule(_ g: Float, _ x: Float) -> Float { x > 0 ? g : (scale == 0 ? 0 : scale * g) }
                let (y, dx) = try dlfeval({ (x: DLArray) in
                    let y = try leakyrelu(x, scale: Double(scale))
                    return (extractdata(y), try dlgradient(sum(y * upstream), x))
                }, x)
                #expect(y.dataType == .float32 && dx.dataType == .float32)
                let bits = { (a: [Float]) in a.map(\.bitPattern) }
                let expectedY = values.map { rule($0, $0) }, expectedDx = zip(upstreamValues, values).map { rule($0, $1) }
                #expect(firstDifference(bits(y.scalars(as: Float.self)), bits(expectedY)) == nil, "count \(count), scale \(scale): y")
                #expect(firstDifference(bits(dx.scalars(as: Float.self)), bits(expectedDx)) == nil, "count \(count), scale \(scale): dx")
            }
        }
    }

    @Test func errors() {
        let z = DLArray([1.0]).converted(to: .complex128)
        expectError(containing: "leakyrelu is defined for real arrays") { _ = try leakyrelu(z) }
        expectError(containing: "elu is defined for real arrays") { _ = try elu(z) }
        expectError(containing: "gelu is defined for real arrays") { _ = try gelu(z) }
    }
}
