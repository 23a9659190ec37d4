import Foundation
import Testing
@testable import GANKit
@testable import SwiftDL

/// The Dirac-GAN by hand: with L(θ, ψ) = f(ψθ) + f(0) and f(t) = −log(1 + e^(−t)),
/// f'(t) = 1/(1 + e^t), f''(t) = −f'(t)(1 − f'(t)), ∂L/∂θ = ψ f'(ψθ) and ∂L/∂ψ = θ f'(ψθ).
private func fPrime(_ t: Double) -> Double { 1 / (1 + exp(t)) }

@Suite struct DiracGANTests {
    let start = DiracGANPoint(theta: 0.5, psi: -1.5)
    let h = 0.2

    @Test func objectiveIsTheGANObjective() throws {
        let value = try DiracGAN.objective(theta: DLArray(1.0), psi: DLArray(2.0)).scalar(as: Double.self)
        #expect(Swift.abs(value - (-log(1 + exp(-2.0)) - log(2.0))) < 1e-15)
        let fAtMinusThree = try DiracGAN.f(DLArray(-3.0)).scalar(as: Double.self)
        #expect(Swift.abs(fAtMinusThree - -log(1 + exp(3.0))) < 1e-14)
    }

    @Test func simultaneousStepByHand() throws {
        let (theta, psi) = (start.theta, start.psi), d = fPrime(psi * theta)
        let next = try DiracGAN.step(from: start, method: .simultaneousGradientDescent, learnRate: h)
        expectClose(next, DiracGANPoint(theta: theta - h * psi * d, psi: psi + h * theta * d))
    }

    @Test func alternatingStepByHand() throws {
        let (theta, psi) = (start.theta, start.psi)
        let newPsi = psi + h * theta * fPrime(psi * theta)
        let next = try DiracGAN.step(from: start, method: .alternatingGradientDescent, learnRate: h)
        expectClose(next, DiracGANPoint(theta: theta - h * newPsi * fPrime(newPsi * theta), psi: newPsi))
        // Not the simultaneous step: the generator saw the discriminator's new ψ.
        let simultaneous = try DiracGAN.step(from: start, method: .simultaneousGradientDescent, learnRate: h)
        #expect(Swift.abs(next.theta - simultaneous.theta) > 1e-3 && next.psi == simultaneous.psi)
    }

    @Test func gradientPenaltyStepByHand() throws {
        // The discriminator descends −L + γ/2·ψ²: ψ ← ψ + h(θ f'(ψθ) − γψ).
        let (theta, psi, gamma) = (start.theta, start.psi, 2.0), d = fPrime(psi * theta)
        let next = try DiracGAN.step(from: start, method: .gradientPenalty(gamma: gamma), learnRate: h)
        expectClose(next, DiracGANPoint(theta: theta - h * psi * d, psi: psi + h * (theta * d - gamma * psi)))
    }

    @Test func consensusStepByHand() throws {
        // Own gradients g = (ψ f', −θ f'); R = ½(θ² + ψ²) f'(ψθ)², so
        // ∂R/∂θ = θ f'² + (θ² + ψ²) f' f'' ψ and ∂R/∂ψ = ψ f'² + (θ² + ψ²) f' f'' θ.
        let (theta, psi, gamma) = (start.theta, start.psi, 2.0)
        let d = fPrime(psi * theta), dd = -d * (1 - d), r2 = theta * theta + psi * psi
        let gradR = (theta * d * d + r2 * d * dd * psi, psi * d * d + r2 * d * dd * theta)
        let next = try DiracGAN.step(from: start, method: .consensusOptimization(gamma: gamma), learnRate: h)
        expectClose(next, DiracGANPoint(theta: theta - h * (psi * d + gamma * gradR.0),
                                        psi: psi - h * (-theta * d + gamma * gradR.1)))
        // γ = 0 is simultaneous gradient descent.
        let plain = try DiracGAN.step(from: start, method: .consensusOptimization(gamma: 0), learnRate: h)
        expectClose(plain, try DiracGAN.step(from: start, method: .simultaneousGradientDescent, learnRate: h))
    }

    @Test func simultaneousGradientDescentSpiralsOut() throws {
        // Each step multiplies the squared distance by 1 + h²f'(ψθ)² > 1.
        let path = try DiracGAN.trajectory(from: DiracGANPoint(theta: 1, psi: 1), method: .simultaneousGradientDescent,
                                           learnRate: 0.1, steps: 1000)
        #expect(path.count == 1001 && path[0] == DiracGANPoint(theta: 1, psi: 1))
        let distances = path.map(\.distanceFromEquilibrium)
        #expect(zip(distances, distances.dropFirst()).allSatisfy { $0 < $1 })
        #expect(distances[1000] > 2.5 && distances[100] > 1.5, "\(distances[100]) \(distances[1000])")
    }

    @Test func alternatingGradientDescentCircles() throws {
        let path = try DiracGAN.trajectory(from: DiracGANPoint(theta: 1, psi: 1), method: .alternatingGradientDescent,
                                           learnRate: 0.1, steps: 1000)
        let distances = path.map(\.distanceFromEquilibrium)
        // Bounded and not converging: within 3% of the starting √2 throughout.
        #expect(distances.allSatisfy { Swift.abs($0 - 2.0.squareRoot()) < 0.05 }, "\(distances.min()!) \(distances.max()!)")
        // Cycling: θ changes sign again and again (about every 70 steps).
        let crossings = zip(path, path.dropFirst()).filter { $0.theta * $1.theta < 0 }.count
        #expect(crossings >= 10, "\(crossings) sign changes")
    }

    @Test(arguments: [DiracGANMethod.gradientPenalty(gamma: 1), .consensusOptimization(gamma: 1)])
    func regularizedMethodsConverge(method: DiracGANMethod) throws {
        let path = try DiracGAN.trajectory(from: DiracGANPoint(theta: 1, psi: 1), method: method,
                                           learnRate: 0.1, steps: 500)
        #expect(path[500].distanceFromEquilibrium < 1e-4, "\(method): \(path[500])")
        #expect(path[100].distanceFromEquilibrium < 0.3, "\(method): \(path[100])")
    }

    @Test func mistakesAreErrors() {
        expectError(containing: "learn rate", "positive") {
            _ = try DiracGAN.step(from: start, method: .simultaneousGradientDescent, learnRate: 0)
        }
        expectError(containing: "gamma", "-1.0") {
            _ = try DiracGAN.trajectory(from: start, method: .gradientPenalty(gamma: -1), learnRate: 0.1, steps: 3)
        }
        expectError(containing: "gamma", "nan") {
            _ = try DiracGAN.step(from: start, method: .consensusOptimization(gamma: .nan), learnRate: 0.1)
        }
        expectError(containing: "steps", "-2") {
            _ = try DiracGAN.trajectory(from: start, method: .alternatingGradientDescent, learnRate: 0.1, steps: -2)
        }
    }

    private func expectClose(_ actual: DiracGANPoint, _ expected: DiracGANPoint,
                             sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(Swift.abs(actual.theta - expected.theta) < 1e-14 && Swift.abs(actual.psi - expected.psi) < 1e-14,
                "\(actual) vs \(expected)", sourceLocation: sourceLocation)
    }
}
