import Testing
@testable import SwiftDL

@Suite struct DropoutTests {
    @Test func seededMaskAndScaling() throws {
        let x = DLArray.randn([20, 30], seed: 1) + 5   // no zeros among the inputs
        let p = 0.3
        let y = try dropout(x, probability: p, seed: 42)
        // Every element is dropped (0) or kept and scaled by 1/(1 − p).
        let (xs, ys) = (x.scalars(as: Double.self), y.scalars(as: Double.self))
        var kept = 0
        for (a, b) in zip(xs, ys) {
            if b != 0 {
                #expect(Swift.abs(b - a / (1 - p)) <= 1e-12 * Swift.abs(b))
                kept += 1
            }
        }
        // About 1 − p of 600 are kept (a binomial standard deviation is about 11).
        #expect(Swift.abs(Double(kept) / 600 - (1 - p)) < 0.06, "kept \(kept) of 600")
        // The mask is the generator's uniform numbers ≥ p, in row-major order.
        let uniform = DLArray.rand([20, 30], seed: 42)
        let expected = try select(uniform .>= p, x / (1 - p), 0)
        expectClose(y, expected, tolerance: 1e-15)
        // The same seed gives the same mask; another seed another one.
        expectClose(try dropout(x, probability: p, seed: 42), y, tolerance: 0)
        #expect(try dropout(x, probability: p, seed: 43).scalars(as: Double.self) != ys)
    }

    @Test func generatorAdvances() throws {
        let x = DLArray.ones([50])
        var generator = DLRandomGenerator(seed: 7)
        let first = try dropout(x, using: &generator)
        let second = try dropout(x, using: &generator)
        #expect(first.scalars(as: Double.self) != second.scalars(as: Double.self))
        // The default probability is 0.5: kept elements are doubled.
        #expect(Set(first.scalars(as: Double.self)).isSubset(of: [0, 2]))
        // A generator with the same seed, used once, gives the first mask again.
        var again = DLRandomGenerator(seed: 7)
        expectClose(try dropout(x, using: &again), first, tolerance: 0)
        expectClose(try dropout(x, seed: 7), first, tolerance: 0)
    }

    @Test func inferenceAndLimits() throws {
        let x = DLArray.randn([3, 4], labels: "BC", seed: 2)
        // Inference is the identity and does not advance the generator.
        var generator = DLRandomGenerator(seed: 9)
        let inferred = try dropout(x, probability: 0.9, training: false, using: &generator)
        expectClose(inferred, x, tolerance: 0)
        #expect(inferred.labels == "BC")
        var fresh = DLRandomGenerator(seed: 9)
        #expect(generator.next() == fresh.next())
        // p = 0 keeps everything; p = 1 drops everything.
        expectClose(try dropout(x, probability: 0, seed: 1), x, tolerance: 0)
        expectClose(try dropout(x, probability: 1, seed: 1), DLArray.zeros([3, 4]), tolerance: 0)
    }

    @Test func gradientIsTheMask() throws {
        let x = DLArray.randn([4, 5], seed: 3), upstream = DLArray.randn([4, 5], seed: 4)
        let p = 0.4
        let (y, dx) = try dlfeval({ (x: DLArray) in
            let y = try dropout(x, probability: p, seed: 11)
            return (extractdata(y), try dlgradient(sum(y * upstream), x))
        }, x)
        let mask = try select(DLArray.rand([4, 5], seed: 11) .>= p, DLArray.full([4, 5], value: 1 / (1 - p)), 0)
        expectClose(dx, try upstream * mask, tolerance: 1e-15)
        expectClose(y, try x * mask, tolerance: 1e-15)
        // gradcheck at orders 1 and 2 (a fixed seed fixes the mask), through a nonlinearity.
        for order in 1...2 {
            let result = try gradcheck({ x in try tanh(dropout(x, probability: p, seed: 11)) * x }, at: x, order: order)
            #expect(result.passed, "\(result)")
        }
        // In inference the gradient is the upstream gradient.
        let identity = try dlfeval({ (x: DLArray) in
            try dlgradient(sum(dropout(x, training: false, seed: 1) * upstream), x)
        }, x)
        expectClose(identity, upstream, tolerance: 0)
    }

    @Test func labelsAndTypes() throws {
        for labels in ["BCSS", "BC", "TBC"] {
            let x = DLArray.randn(Array(repeating: 3, count: labels.count), labels: labels, seed: 5)
            let y = try dropout(x, probability: 0.25, seed: 6)
            #expect(y.labels == labels && y.shape == x.shape)
        }
        let single = DLArray.randn([10], type: .float32, seed: 7)
        #expect(try dropout(single, seed: 8).dataType == .float32)
    }

    @Test func givenUniformNumbersGiveTheGeneratorsResult() throws {
        let x = DLArray.randn([6, 7], type: .float32, labels: "BC", seed: 3)
        var generator = DLRandomGenerator(seed: 12)
        let drawn = try dropout(x, probability: 0.3, using: &generator)
        var again = DLRandomGenerator(seed: 12)
        let uniforms = DLArray.rand([6, 7], type: .float64, using: &again)
        let given = try dropout(x, probability: 0.3, uniforms: uniforms)
        #expect(firstDifference(given, drawn) == nil)
        #expect(given.labels == "BC" && given.dataType == .float32)
        // Both left the generator at the same point.
        #expect(generator.next() == again.next())
        // Kept where the number is at least p, scaled by 1/(1 − p); float32 numbers are compared alike.
        let expected = try select(uniforms .>= 0.3, stripdims(x) / 0.7, 0)
        expectClose(given, expected, tolerance: 1e-6)
        #expect(firstDifference(try dropout(x, probability: 0.3, uniforms: uniforms.converted(to: .float32)),
                                try dropout(x, probability: 0.3, uniforms: DLArray(uniforms.converted(to: .float32).scalars(as: Double.self),
                                                                                    shape: [6, 7]))) == nil)
        // Inference ignores the numbers.
        expectClose(try dropout(x, probability: 0.3, training: false, uniforms: uniforms), x, tolerance: 0)
    }

    /// An accelerated function that takes the numbers as an argument drops other elements on
    /// each call, as the eager function does, with first and second derivatives.
    @Test func uniformNumbersAsAnArgumentReplay() throws {
        let f = { (x: DLArray, u: DLArray) in
            let y = try dropout(x, probability: 0.5, uniforms: u)
            let g = try dlgradient(sum(tanh(y) * x), x, enableHigherDerivatives: true)
            return (extractdata(y), try dlgradient(sum(g * g), x))
        }
        let accelerated = dlaccelerate(f)
        let x = DLArray.randn([5, 8], seed: 1)
        for seed in UInt64(1)...4 {
            let u = DLArray.rand([5, 8], type: .float64, seed: seed)
            let (y, h) = try dlfeval(accelerated, x, u)
            let (yEager, hEager) = try dlfeval(f, x, u)
            #expect(firstDifference(y, yEager) == nil && firstDifference(h, hEager) == nil, "seed \(seed)")
            #expect(firstDifference(y, try dropout(x, probability: 0.5, seed: seed)) == nil, "seed \(seed)")
        }
        #expect(accelerated.lastEagerReason == nil)
        #expect(accelerated.cachedTraceCount == 1 && accelerated.hitRate == 75)
    }

    @Test func errors() {
        let x = DLArray.ones([3])
        expectError(containing: "dropout", "probability must be in [0, 1], got 1.5") { _ = try dropout(x, probability: 1.5, seed: 1) }
        expectError(containing: "got -0.1") { _ = try dropout(x, probability: -0.1, seed: 1) }
        expectError(containing: "dropout: the uniform numbers have shape [2], the input [3]") {
            _ = try dropout(x, uniforms: DLArray([0.1, 0.9]))
        }
        expectError(containing: "dropout's uniform numbers", "real arrays") {
            _ = try dropout(x, uniforms: DLArray.zeros([3], type: .complex128))
        }
    }
}
