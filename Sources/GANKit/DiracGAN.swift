import SwiftDL

/// A point of the Dirac-GAN's parameter plane: the generator's θ and the discriminator's ψ.
public struct DiracGANPoint: Sendable, Equatable {
    /// The generator's parameter: G(z) = θ.
    public var theta: Double
    /// The discriminator's parameter: D(x) = ψ·x.
    public var psi: Double

    /// The point (θ, ψ).
    public init(theta: Double, psi: Double) {
        self.theta = theta
        self.psi = psi
    }

    /// The Euclidean distance from the equilibrium (0, 0).
    public var distanceFromEquilibrium: Double { (theta * theta + psi * psi).squareRoot() }
}

/// How the two players of the Dirac-GAN update their parameters.
public enum DiracGANMethod: Sendable, Equatable {
    /// Both players step along their own gradients, taken at the same point.
    case simultaneousGradientDescent
    /// The discriminator steps first; the generator then steps along its gradient at the
    /// discriminator's new parameter.
    case alternatingGradientDescent
    /// Simultaneous gradient descent with the R1 gradient penalty γ/2·‖∇ₓD(x)‖² on real data
    /// (here γ/2·ψ²) added to the discriminator's loss.
    case gradientPenalty(gamma: Double)
    /// Consensus optimization: every parameter steps along its own loss's gradient plus γ times
    /// the gradient of L = ½(‖∇_θ L_G‖² + ‖∇_ψ L_D‖²), from the same point.
    case consensusOptimization(gamma: Double)
}

/// The Dirac-GAN of Mescheder, Geiger and Nowozin (2018, "Which Training Methods for GANs do
/// actually Converge?"): the data is a point mass at 0, the generator is G(z) = θ and the
/// discriminator D(x) = ψ·x. The GAN objective is
///
///     L(θ, ψ) = f(ψ·θ) + f(0),    f(t) = −log(1 + e^(−t)),
///
/// which the generator minimizes over θ and the discriminator maximizes over ψ; the
/// equilibrium is (0, 0). Its training dynamics show, in two dimensions, what happens to GANs:
/// simultaneous gradient descent spirals away, alternating gradient descent circles forever, and
/// a gradient penalty or consensus optimization converges.
///
/// Every gradient is computed by SwiftDL's `dlfeval` and `dlgradient` (consensus optimization and
/// the gradient penalty differentiate a gradient again, with `enableHigherDerivatives`).
///
/// ```swift
/// let path = try DiracGAN.trajectory(from: DiracGANPoint(theta: 1, psi: 1),
///                                    method: .consensusOptimization(gamma: 1),
///                                    learnRate: 0.1, steps: 500)
/// print(path.last!.distanceFromEquilibrium)   // close to 0
/// ```
public enum DiracGAN {
    /// The loss function f(t) = −log(1 + e^(−t)) = log σ(t) of the standard GAN, elementwise.
    public static func f(_ t: DLArray) throws -> DLArray {
        -(try softplus(-t))
    }

    /// The GAN objective L(θ, ψ) = f(ψ·θ) + f(0): the expected f(D(x)) over fakes x = G(z) = θ
    /// plus the expected f(−D(x)) over real data x = 0.
    public static func objective(theta: DLArray, psi: DLArray) throws -> DLArray {
        try f(psi * theta) + f(DLArray.zeros(like: theta))
    }

    /// The point after one step of `method` from `point` with step size `learnRate`.
    ///
    /// - Throws: `DLError.invalidArgument` when `learnRate` is not positive and finite, or
    ///   γ is negative or not finite.
    public static func step(from point: DiracGANPoint, method: DiracGANMethod,
                            learnRate: Double) throws -> DiracGANPoint {
        try validate(method: method, learnRate: learnRate)
        return try unvalidatedStep(from: point, method: method, learnRate: learnRate)
    }

    /// The points visited by `steps` steps of `method` from `start` with step size `learnRate`:
    /// `steps + 1` points, `start` first.
    ///
    /// - Throws: `DLError.invalidArgument` when `steps` is negative, `learnRate` is not
    ///   positive and finite, or γ is negative or not finite.
    public static func trajectory(from start: DiracGANPoint, method: DiracGANMethod,
                                  learnRate: Double, steps: Int) throws -> [DiracGANPoint] {
        guard steps >= 0 else {
            throw DLError.invalidArgument("the number of Dirac-GAN steps must be at least 0, not \(steps)")
        }
        try validate(method: method, learnRate: learnRate)
        var points = [start]
        points.reserveCapacity(steps + 1)
        for _ in 0..<steps {
            points.append(try unvalidatedStep(from: points[points.count - 1], method: method, learnRate: learnRate))
        }
        return points
    }

    private static func validate(method: DiracGANMethod, learnRate: Double) throws {
        guard learnRate > 0, learnRate.isFinite else {
            throw DLError.invalidArgument("the Dirac-GAN learn rate must be positive and finite, not \(learnRate)")
        }
        switch method {
        case .gradientPenalty(let gamma), .consensusOptimization(let gamma):
            guard gamma >= 0, gamma.isFinite else {
                throw DLError.invalidArgument("the Dirac-GAN regularization weight gamma must be at least 0 and finite, not \(gamma)")
            }
        case .simultaneousGradientDescent, .alternatingGradientDescent:
            break
        }
    }

    private static func unvalidatedStep(from point: DiracGANPoint, method: DiracGANMethod,
                                        learnRate h: Double) throws -> DiracGANPoint {
        switch method {
        case .simultaneousGradientDescent:
            let (dTheta, dPsi) = try objectiveGradients(at: point)
            return DiracGANPoint(theta: point.theta - h * dTheta, psi: point.psi + h * dPsi)
        case .alternatingGradientDescent:
            let psi = point.psi + h * (try objectiveGradients(at: point)).psi
            let dTheta = try objectiveGradients(at: DiracGANPoint(theta: point.theta, psi: psi)).theta
            return DiracGANPoint(theta: point.theta - h * dTheta, psi: psi)
        case .gradientPenalty(let gamma):
            let (generator, discriminator) = try penalizedGradients(at: point, gamma: gamma)
            return DiracGANPoint(theta: point.theta - h * generator, psi: point.psi - h * discriminator)
        case .consensusOptimization(let gamma):
            let (theta, psi) = try consensusDirections(at: point, gamma: gamma)
            return DiracGANPoint(theta: point.theta - h * theta, psi: point.psi - h * psi)
        }
    }

    /// ∂L/∂θ and ∂L/∂ψ at `point`.
    private static func objectiveGradients(at point: DiracGANPoint) throws -> (theta: Double, psi: Double) {
        try dlfeval({ (theta: DLArray, psi: DLArray) in
            let (dTheta, dPsi) = try dlgradient(objective(theta: theta, psi: psi), theta, psi)
            return (dTheta.scalar(as: Double.self), dPsi.scalar(as: Double.self))
        }, DLArray(point.theta), DLArray(point.psi))
    }

    /// The gradients of the generator's loss L over θ and of the discriminator's loss
    /// −L + γ/2·‖∇ₓD(x)‖² (at the real data x = 0) over ψ.
    private static func penalizedGradients(at point: DiracGANPoint, gamma: Double)
        throws -> (generator: Double, discriminator: Double) {
        try dlfeval({ (theta: DLArray, psi: DLArray, real: DLArray) in
            let slope = try dlgradient(sum(psi * real), real, enableHigherDerivatives: true)
            let objective = try objective(theta: theta, psi: psi)
            let lossD = try -objective + gamma / 2 * slope * slope
            let generator = try dlgradient(objective, theta, retainData: true)
            let discriminator = try dlgradient(lossD, psi)
            return (generator.scalar(as: Double.self), discriminator.scalar(as: Double.self))
        }, DLArray(point.theta), DLArray(point.psi), DLArray(0.0))
    }

    /// Each player's own-loss gradient plus γ∇L, L = ½(‖∇_θ L_G‖² + ‖∇_ψ L_D‖²), with the
    /// generator's loss L_G = L(θ, ψ) and the discriminator's L_D = −L(θ, ψ).
    private static func consensusDirections(at point: DiracGANPoint, gamma: Double)
        throws -> (theta: Double, psi: Double) {
        try dlfeval({ (theta: DLArray, psi: DLArray) in
            let objective = try objective(theta: theta, psi: psi)
            let generator = try dlgradient(objective, theta, enableHigherDerivatives: true)
            let discriminator = try dlgradient(-objective, psi, enableHigherDerivatives: true)
            let consensus = try 0.5 * (generator * generator + discriminator * discriminator)
            let (cTheta, cPsi) = try dlgradient(consensus, theta, psi)
            return (generator.scalar(as: Double.self) + gamma * cTheta.scalar(as: Double.self),
                    discriminator.scalar(as: Double.self) + gamma * cPsi.scalar(as: Double.self))
        }, DLArray(point.theta), DLArray(point.psi))
    }
}
