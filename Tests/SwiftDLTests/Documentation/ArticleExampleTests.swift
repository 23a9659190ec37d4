import ComplexModule
import Foundation
import GANKit
import Testing
import SwiftDL

// The code of the documentation's articles (Sources/SwiftDL/Documentation.docc and
// Sources/GANKit/Documentation.docc), word for word, with the values the articles state
// checked. An article's example changes here first.

// MARK: Getting started

/// Rosenbrock's function and its gradient, as in MATLAB's rosenbrock.m.
private func rosenbrock(_ x: DLArray) throws -> (DLArray, DLArray) {
    let y = try 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2
    return (y, try dlgradient(y, x))
}

// MARK: Automatic differentiation

/// The second derivative of x³, summed: 6x.
private func secondDerivative(_ x: DLArray) throws -> DLArray {
    let y = sum(x ** 3)
    let dydx = try dlgradient(y, x, enableHigherDerivatives: true)   // 3x², itself traced
    return try dlgradient(sum(dydx), x)                               // 6x
}

/// An affine map whose weights and bias `dlgradient` differentiates together.
private struct AffineMap: DLArrayContainer {
    var weights: DLArray
    var bias: DLArray

    func forEachArray(_ body: (DLArray) throws -> Void) rethrows {
        try body(weights)
        try body(bias)
    }

    func mapArrays(_ transform: (DLArray) throws -> DLArray) rethrows -> AffineMap {
        AffineMap(weights: try transform(weights), bias: try transform(bias))
    }

    func callAsFunction(_ x: DLArray) throws -> DLArray { try mtimes(x, weights) + bias }
}

// MARK: Training GANs

/// A player of the toy game: a one-hidden-layer perceptron.
private func player(_ p: [String: DLArray], _ x: DLArray) throws -> DLArray {
    try mtimes(tanh(mtimes(x, p["W1"]!)), p["W2"]!)
}

/// Both players' gradients from one forward pass and one trace, in either order.
private func bothGradients(generator: [String: DLArray], discriminator: [String: DLArray],
                           noise: DLArray, real: DLArray, discriminatorFirst: Bool)
    throws -> (generator: [String: DLArray], discriminator: [String: DLArray]) {
    try dlfeval({ (g: [String: DLArray], d: [String: DLArray]) in
        let fake = try player(g, noise)
        let scoreReal = sigmoid(try player(d, real))
        let scoreFake = sigmoid(try player(d, fake))
        let lossD = try -mean(log(scoreReal)) - mean(log(1 - scoreFake))
        let lossG = -mean(log(scoreFake))
        if discriminatorFirst {
            let gradientsD = try dlgradient(lossD, d, retainData: true)
            return (try dlgradient(lossG, g), gradientsD)
        } else {
            let gradientsG = try dlgradient(lossG, g, retainData: true)
            return (gradientsG, try dlgradient(lossD, d))
        }
    }, generator, discriminator)
}

@Suite struct ArticleExampleTests {
    @Test func gettingStartedFirstGradient() throws {
        let (fval, gradval) = try dlfeval(rosenbrock, DLArray([-1.0, 2.0]))
        #expect(fval.scalar(as: Double.self) == 104)
        #expect(gradval.scalars(as: Double.self) == [396, 200])
    }

    @Test func gettingStartedArrays() throws {
        let a = DLArray([1.0, 2.0, 3.0])                               // float64, shape [3]
        let b = try DLArray([1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3])
        let noise = DLArray.randn([64, 16], type: .float32, seed: 1)   // seeded, reproducible
        let images = DLArray.zeros([16, 1, 28, 28], type: .float32, labels: "BCSS")
        #expect(b.scalars(as: Float.self) == [1, 2, 3, 4, 5, 6])
        #expect(a.dataType == .float64 && a.shape == [3])
        #expect(noise.dataType == .float32 && noise.shape == [64, 16])
        #expect(noise.scalars(as: Float.self) == DLArray.randn([64, 16], type: .float32, seed: 1).scalars(as: Float.self))
        #expect(images.labels == "BCSS")
    }

    @Test func portingLabelsAndSubscripts() throws {
        let batch = DLArray.zeros([28, 28, 1, 16], labels: "SSCB")
        #expect(batch.shape == [16, 1, 28, 28] && batch.labels == "BCSS")
        let x = try DLArray([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], shape: [2, 3])
        #expect(x[0].scalars(as: Double.self) == [1, 2, 3])
        #expect(x[0..., 1..<3].scalars(as: Double.self) == [2, 3, 5, 6])
        #expect(x[0..., [2, 0]].scalars(as: Double.self) == [3, 1, 6, 4])
        #expect(try sum(x, dims: [1]).scalars(as: Double.self) == [6, 15])
    }

    @Test func ganKitLandingPage() throws {
        var settings = GANSettings(dataset: .ring8, seed: 1)
        settings.iterations = 200
        var trainer = try GANTrainer(settings: settings, data: try GANData(mixtureOf: .ring8))
        var records: [GANStepRecord] = []
        for _ in 0..<settings.iterations {
            let record = try trainer.step()   // losses and D's mean scores of this iteration
            records.append(record)
        }
        let samples = try trainer.generate(trainer.latentVectors(2500, seed: 2))
        let coverage = try GaussianMixture2D.ring8.modeCoverage(of: samples)
        #expect(records.count == 200 && records.last?.iteration == 200)
        #expect(records.allSatisfy { $0.discriminatorLoss.isFinite && $0.generatorLoss.isFinite })
        #expect(coverage.modeCount == 8 && coverage.sampleCount == 2500)
        #expect((0...8).contains(coverage.modesCaptured) && (0...1).contains(coverage.highQualityFraction))
    }

    @Test func automaticDifferentiationBasics() throws {
        let x = DLArray([1.0, 2.0, 3.0])
        let (y, dydx) = try dlfeval({ (x: DLArray) in
            let y = sum(x ** 2)
            return (y, try dlgradient(y, x))
        }, x)
        #expect(y.scalar(as: Double.self) == 14)
        #expect(dydx.scalars(as: Double.self) == [2, 4, 6])
        #expect(!y.isTraced)
    }

    @Test func retainDataServesTwoCalls() throws {
        let x = DLArray([1.0, 2.0])
        let (first, second) = try dlfeval({ (x: DLArray) in
            let y = sum(exp(x))
            let first = try dlgradient(y, x, retainData: true)   // the trace is kept
            let second = try dlgradient(2 * y, x)                // and used again, then released
            return (first, second)
        }, x)
        expectClose(first, DLArray([Foundation.exp(1.0), Foundation.exp(2.0)]), tolerance: 1e-14)
        expectClose(second, DLArray([2 * Foundation.exp(1.0), 2 * Foundation.exp(2.0)]), tolerance: 1e-14)

        // Without retainData, the first call releases the trace and the second one throws.
        expectError(containing: "retainData") {
            _ = try dlfeval({ (x: DLArray) in
                let y = sum(exp(x))
                _ = try dlgradient(y, x)
                return try dlgradient(y, x)
            }, x)
        }
    }

    @Test func higherDerivatives() throws {
        let d2 = try dlfeval(secondDerivative, DLArray([1.0, 2.0]))
        #expect(d2.scalars(as: Double.self) == [6, 12])
    }

    @Test func complexGradient() throws {
        // The gradient of Re((2+3i)x) is 2−3i: the direction of steepest ascent.
        let x = try DLArray([Complex<Double>(1, 1)], shape: [1])
        let gradient = try dlfeval({ (x: DLArray) in
            let y = real(try DLArray(Complex<Double>(2, 3)) * x)
            return try dlgradient(sum(y), x, allowComplex: true)
        }, x)
        #expect(gradient.scalars(as: Complex<Double>.self) == [Complex(2, -3)])
    }

    @Test func containers() throws {
        let parameters = ["w": DLArray([1.0, 2.0]), "b": DLArray([0.5])]
        let gradients = try dlfeval({ (p: [String: DLArray]) in
            let y = try sum(p["w"]! * p["w"]!) + 3 * sum(p["b"]!)
            return try dlgradient(y, p)
        }, parameters)
        #expect(gradients["w"]!.scalars(as: Double.self) == [2, 4])
        #expect(gradients["b"]!.scalars(as: Double.self) == [3])

        let layer = AffineMap(weights: DLArray.ones([2, 1]), bias: DLArray([0.0]))
        let input = try DLArray([1.0, 2.0, 3.0, 4.0], shape: [2, 2])
        let affineGradients = try dlfeval({ (layer: AffineMap) in
            try dlgradient(sum(layer(input)), layer)
        }, layer)
        #expect(affineGradients.weights.scalars(as: Double.self) == [4, 6])   // column sums of the input
        #expect(affineGradients.bias.scalars(as: Double.self) == [2])         // one per row
    }

    @Test func errorsNameTheRule() throws {
        expectError(containing: "inside a function evaluated by dlfeval") {
            _ = try dlgradient(DLArray([1.0]), DLArray([1.0]))
        }
        expectError(containing: "non-scalar", "sum(y)") {
            _ = try dlfeval({ (x: DLArray) in try dlgradient(x * 2, x) }, DLArray([1.0, 2.0]))
        }
    }

    @Test func networksAndTrainingLoop() throws {
        // y = sin(3x) on 64 points of [-1, 1], fitted by a small network with Adam.
        let x = try DLArray((0..<64).map { Float(-1 + 2 * Double($0) / 63) }, shape: [64, 1], labels: "BC")
        let t = sin(3 * x)

        var net = try DLNetwork([
            FullyConnectedLayer(outputSize: 16, name: "fc1"), ActivationLayer(.tanh),
            FullyConnectedLayer(outputSize: 1, name: "fc2"),
        ])
        try net.initialize(x, seed: 1)

        var average: DLParameterTable?, averageSquared: DLParameterTable?
        var losses: [Double] = []
        for iteration in 1...300 {
            let (loss, gradients) = try dlfeval({ (net: DLNetwork) in
                let loss = try mse(net.forward(x).output, t)
                return (loss, try dlgradient(loss, net.learnables))
            }, net)
            (net.learnables, average, averageSquared) = try adamupdate(
                net.learnables, gradients, average, averageSquared, iteration: iteration, learnRate: 0.02)
            losses.append(loss.scalar(as: Double.self))
        }
        #expect(losses[0] > 0.1, "the untrained network is far off: \(losses[0])")
        #expect(losses[299] < losses[0] / 50, "first \(losses[0]), last \(losses[299])")
        #expect(net.learnables["fc1", "Weights"]?.shape == [1, 16])

        try net.setLearnRateFactor(layer: "fc1", 0)
        let frozen = try dlfeval({ (net: DLNetwork) in
            try dlgradient(mse(net.forward(x).output, t), net.learnables)
        }, net)
        #expect(frozen["fc1", "Weights"]!.scalars(as: Float.self).allSatisfy { $0 == 0 })
        #expect(frozen["fc2", "Weights"]!.scalars(as: Float.self).contains { $0 != 0 })
    }

    @Test func ganGradientsInEitherOrderAreTheSame() throws {
        var random = DLRandomGenerator(seed: 7)
        let generator = ["W1": DLArray.randn([4, 8], using: &random), "W2": DLArray.randn([8, 2], using: &random)]
        let discriminator = ["W1": DLArray.randn([2, 8], using: &random), "W2": DLArray.randn([8, 1], using: &random)]
        let noise = DLArray.randn([16, 4], using: &random)
        let real = DLArray.randn([16, 2], using: &random) * 0.1 + 1
        let dFirst = try bothGradients(generator: generator, discriminator: discriminator, noise: noise, real: real,
                                       discriminatorFirst: true)
        let gFirst = try bothGradients(generator: generator, discriminator: discriminator, noise: noise, real: real,
                                       discriminatorFirst: false)
        for name in ["W1", "W2"] {
            #expect(dFirst.generator[name]!.scalars(as: Double.self) == gFirst.generator[name]!.scalars(as: Double.self))
            #expect(dFirst.discriminator[name]!.scalars(as: Double.self)
                == gFirst.discriminator[name]!.scalars(as: Double.self))
            #expect(dFirst.generator[name]!.scalars(as: Double.self).contains { $0 != 0 })
        }
    }

    @Test func freezingTheOtherPlayerLeavesItUntouched() throws {
        var random = DLRandomGenerator(seed: 8)
        let generator = ["W1": DLArray.randn([4, 8], using: &random), "W2": DLArray.randn([8, 2], using: &random)]
        let discriminator = ["W1": DLArray.randn([2, 8], using: &random), "W2": DLArray.randn([8, 1], using: &random)]
        let noise = DLArray.randn([16, 4], using: &random)
        // The generator's step: only g is an argument of dlfeval, so d is a constant.
        let gradientsG = try dlfeval({ (g: [String: DLArray]) in
            let lossG = -mean(log(sigmoid(try player(discriminator, try player(g, noise)))))
            return try dlgradient(lossG, g)
        }, generator)
        #expect(gradientsG["W1"]!.shape == [4, 8] && gradientsG["W2"]!.shape == [8, 2])
        // The same gradient as the shared-trace computation above gives for G.
        let shared = try bothGradients(generator: generator, discriminator: discriminator, noise: noise,
                                       real: DLArray.zeros([16, 2]), discriminatorFirst: false)
        expectClose(gradientsG["W1"]!, shared.generator["W1"]!, tolerance: 1e-14)
        expectClose(gradientsG["W2"]!, shared.generator["W2"]!, tolerance: 1e-14)
    }
}
