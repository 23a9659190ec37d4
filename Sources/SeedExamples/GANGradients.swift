import SwiftDL

/// The parameters of a two-layer perceptron, by name (`W1`, `b1`, `W2`, `b2`).
public typealias PerceptronParameters = [String: DLArray]

/// A two-layer perceptron with seeded normal(0, 0.5) weights and zero biases.
public func makePerceptron(inputs: Int, hidden: Int, outputs: Int, seed: UInt64) -> PerceptronParameters {
    var generator = DLRandomGenerator(seed: seed)
    return ["W1": DLArray.randn([inputs, hidden], using: &generator) * 0.5, "b1": DLArray.zeros([1, hidden]),
            "W2": DLArray.randn([hidden, outputs], using: &generator) * 0.5, "b2": DLArray.zeros([1, outputs])]
}

/// The perceptron applied to a batch (rows): tanh hidden layer, linear output.
public func perceptron(_ p: PerceptronParameters, _ x: DLArray) throws -> DLArray {
    let hidden = try tanh(mtimes(x, p["W1"]!) + p["b1"]!)
    return try mtimes(hidden, p["W2"]!) + p["b2"]!
}

/// Which gradient a GAN step computes first from the shared trace.
public enum GradientOrder: Sendable {
    /// The generator's gradient first (retainData), then the discriminator's.
    case generatorFirst
    /// The discriminator's gradient first (retainData), then the generator's.
    case discriminatorFirst
}

/// One simultaneous GAN step of MATLAB's example on a toy problem: the generator maps noise to
/// points, the discriminator scores them; both losses come from one forward pass and both
/// gradients from one trace, the first dlgradient call keeping the trace with `retainData`.
///
/// The losses are MATLAB's: lossD = −mean(log D(real)) − mean(log(1 − D(fake))) and the
/// non-saturating lossG = −mean(log D(fake)).
public func ganGradients(order: GradientOrder, seed: UInt64 = 7)
    throws -> (generator: PerceptronParameters, discriminator: PerceptronParameters) {
    let generator = makePerceptron(inputs: 4, hidden: 8, outputs: 2, seed: seed)
    let discriminator = makePerceptron(inputs: 2, hidden: 8, outputs: 1, seed: seed + 1)
    var random = DLRandomGenerator(seed: seed + 2)
    let noise = DLArray.randn([16, 4], using: &random)
    let real = DLArray.randn([16, 2], using: &random) * 0.1 + 1

    return try dlfeval({ (g: PerceptronParameters, d: PerceptronParameters) in
        let fake = try perceptron(g, noise)
        let scoreReal = sigmoid(try perceptron(d, real))
        let scoreFake = sigmoid(try perceptron(d, fake))
        let lossD = try -mean(log(scoreReal)) - mean(log(1 - scoreFake))
        let lossG = -mean(log(scoreFake))
        switch order {
        case .generatorFirst:
            let gradientsG = try dlgradient(lossG, g, retainData: true)
            let gradientsD = try dlgradient(lossD, d)
            return (gradientsG, gradientsD)
        case .discriminatorFirst:
            let gradientsD = try dlgradient(lossD, d, retainData: true)
            let gradientsG = try dlgradient(lossG, g)
            return (gradientsG, gradientsD)
        }
    }, generator, discriminator)
}
