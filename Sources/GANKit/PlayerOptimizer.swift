import SwiftDL

/// One player's optimizer: its settings and the state the update rule carries between steps
/// (Adam's averages and step count, RMSProp's average, SGDM's velocity), as tables shaped like
/// the player's learnable parameters.
public struct PlayerOptimizer: Sendable {
    /// The update rule and its settings.
    public let settings: OptimizerSettings
    /// Adam's step count (the bias correction's `t`).
    public private(set) var step = 0
    /// The state tables by name: `averageGradient` and `averageSquaredGradient` (Adam),
    /// `averageSquaredGradient` (RMSProp), `velocity` (SGDM); empty before the first step.
    public private(set) var state: [String: DLParameterTable] = [:]

    /// An optimizer that has not taken a step.
    public init(_ settings: OptimizerSettings) { self.settings = settings }

    /// An optimizer continuing from a saved step count and state.
    init(_ settings: OptimizerSettings, step: Int, state: [String: DLParameterTable]) {
        self.settings = settings
        self.step = step
        self.state = state
    }

    /// The names of the state tables of `kind`.
    static func stateNames(of kind: OptimizerSettings.Kind) -> [String] {
        switch kind {
        case .adam: ["averageGradient", "averageSquaredGradient"]
        case .rmsprop: ["averageSquaredGradient"]
        case .sgdm: ["velocity"]
        }
    }

    /// Updates `network`'s learnable parameters with `gradients` (a table of its learnables'
    /// rows) and advances the state; `learnRateScale` multiplies the learning rate (a schedule).
    /// Adam's averages are handed to `adamupdate`, which updates them in place.
    /// - Throws: the update rule's errors (gradients that do not fit the network); the optimizer
    ///   has then advanced its step and handed over its Adam averages, so it must not be used again.
    public mutating func update(_ network: inout DLNetwork, with gradients: DLParameterTable,
                                learnRateScale: Double = 1) throws {
        step += 1
        var s = settings
        s.learnRate *= learnRateScale
        switch s.kind {
        case .adam:
            // The averages are taken out of the state, so that adamupdate updates them in place.
            let result = try adamupdate(network.learnables, gradients, state.removeValue(forKey: "averageGradient"),
                                        state.removeValue(forKey: "averageSquaredGradient"),
                                        iteration: step, learnRate: s.learnRate, gradientDecay: s.gradientDecay,
                                        squaredGradientDecay: s.squaredGradientDecay, epsilon: s.epsilon)
            network.learnables = result.parameters
            state = ["averageGradient": result.averageGradient, "averageSquaredGradient": result.averageSquaredGradient]
        case .rmsprop:
            let result = try rmspropupdate(network.learnables, gradients, state["averageSquaredGradient"],
                                           learnRate: s.learnRate, squaredGradientDecay: s.squaredGradientDecay, epsilon: s.epsilon)
            network.learnables = result.parameters
            state = ["averageSquaredGradient": result.averageSquaredGradient]
        case .sgdm:
            let result = try sgdmupdate(network.learnables, gradients, state["velocity"], learnRate: s.learnRate, momentum: s.momentum)
            network.learnables = result.parameters
            state = ["velocity": result.velocity]
        }
    }
}
