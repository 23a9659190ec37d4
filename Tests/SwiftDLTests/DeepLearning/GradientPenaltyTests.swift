import Testing
@testable import SwiftDL

/// The gradient penalty of WGAN-GP, as MATLAB's example computes it, through a critic made of
/// convolution, layer normalization, leaky ReLU and a fully connected layer.
@Suite struct GradientPenaltyTests {
    /// Critic parameters: conv weights and bias, layernorm offset and scale, fc weights and bias.
    static let parameters: [DLArray] = [
        DLArray.randn([3, 1, 3, 3], seed: 11) * 0.5, DLArray.randn([3], seed: 12) * 0.1,
        DLArray.randn([3], seed: 13) * 0.1, DLArray.randn([3], seed: 14) * 0.2 + 1,
        DLArray.randn([27, 1], seed: 15) * 0.3, DLArray.randn([1], seed: 16) * 0.1,
    ]
    /// The interpolated images x̂ = εx + (1 − ε)G(z), a 2-image batch of 1×6×6.
    static let interpolated = DLArray.randn([2, 1, 6, 6], seed: 17)

    /// D(x): one score per image.
    static func critic(_ p: [DLArray], _ x: DLArray) throws -> DLArray {
        let features = try dlconv(x, p[0], p[1], stride: [2], padding: 1, dataFormat: "BCSS")
        let normalized = try layernorm(features, p[2], p[3], dataFormat: "BCSS")
        return try fullyconnect(leakyrelu(normalized, scale: 0.2), p[4], p[5], dataFormat: "BCSS")
    }

    /// λ·mean((‖∇x̂ D(x̂)‖ − 1)²) with MATLAB's 1e-10 inside the square root; p[6] is x̂.
    static func penalty(_ p: [DLArray], lambda: Double = 10) throws -> DLArray {
        let gradient = try dlgradient(sum(critic(p, p[6])), p[6], enableHigherDerivatives: true)
        let norms = sqrt(try sum(gradient ** 2, dims: [1, 2, 3]) + 1e-10)
        return mean((norms - 1) ** 2) * lambda
    }

    @Test func penaltyGradientMatchesFiniteDifferences() throws {
        // The gradient of the penalty with respect to the critic's weights (and x̂) is a second
        // derivative of the critic: checked against central differences of the penalty.
        let result = try gradcheck({ try Self.penalty($0) }, at: Self.parameters + [Self.interpolated])
        #expect(result.passed, "\(result)")
        #expect(result.scale > 1e-3, "the penalty must depend on the weights: \(result)")
    }

    @Test func penaltyThirdDerivativesMatchFiniteDifferences() throws {
        let result = try gradcheck({ try Self.penalty($0) }, at: Self.parameters + [Self.interpolated], order: 2)
        #expect(result.passed, "\(result)")
    }

    @Test func criticStepAsInMatlabsExample() throws {
        // One critic step: Wasserstein loss plus penalty, gradients for the critic's weights only.
        let real = DLArray.randn([2, 1, 6, 6], seed: 18), fake = DLArray.randn([2, 1, 6, 6], seed: 19)
        let epsilon = DLArray.rand([2, 1, 1, 1], seed: 20)
        // The images are dlfeval's arguments too, so x̂ computed from them is traced.
        let gradients = try dlfeval({ (p: [DLArray], real: DLArray, fake: DLArray) in
            let mixed = try epsilon * real + (1 - epsilon) * fake
            let wasserstein = try mean(Self.critic(p, fake)) - mean(Self.critic(p, real))
            let loss = try wasserstein + Self.penalty(p + [mixed])
            return try dlgradient(loss, p)
        }, Self.parameters, real, fake)
        #expect(gradients.count == 6)
        for (g, p) in zip(gradients, Self.parameters) {
            #expect(g.shape == p.shape)
            #expect(g.scalars(as: Double.self).allSatisfy { $0.isFinite })
        }
        #expect(gradients[0].scalars(as: Double.self).contains { $0 != 0 })
    }
}
