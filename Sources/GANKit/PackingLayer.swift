import SwiftDL

/// PacGAN's packing (Lin, Khetan, Fanti, Oh 2018, "PacGAN: The power of two samples in
/// generative adversarial networks"): the discriminator judges `samples` samples at once, joined
/// along their channels, so that a generator that repeats itself is easier to tell from the
/// data. For inputs `[N, C, …]` (labels "BC…", N a multiple of `samples`) the output is
/// `[N/samples, samples·C, …]` with the same labels: rows `k·samples ..< (k+1)·samples` become
/// the channels of output row `k`, in order (`[N, 2]` points become `[N/m, 2m]`). A reshape,
/// so its gradient (of any order) is the reshape back.
public struct PackingLayer: Layer {
    /// The layer's name.
    public var name: String
    /// The number of samples joined into one (PacGAN's degree of packing, m).
    public let samples: Int

    /// A layer joining `samples` samples (at least 1) into one.
    public init(samples: Int, name: String = "") {
        (self.samples, self.name) = (samples, name)
    }

    /// No parameters.
    public subscript(parameter name: String) -> DLArray? {
        get { nil }
        set {}
    }

    /// The packed batch.
    /// - Throws: `DLError.invalidArgument` for inputs without leading batch and channel
    ///   dimensions ("BC…"), or a batch that is not a multiple of ``samples``.
    public func forward(_ inputs: [DLArray], mode: ForwardMode, using generator: inout DLRandomGenerator) throws
        -> (outputs: [DLArray], state: [String: DLArray]) {
        let x = inputs[0]
        guard x.rank >= 2, x.labels.hasPrefix("BC") else {
            throw DLError.invalidArgument("layer \"\(name)\": packing needs leading batch and channel dimensions (\"BC…\"); got \"\(x.labels)\" \(x.shape)")
        }
        guard samples >= 1, x.shape[0] % samples == 0 else {
            throw DLError.invalidArgument("layer \"\(name)\": a batch of \(x.shape[0]) cannot be packed in groups of \(samples)")
        }
        guard samples > 1 else { return ([x], [:]) }
        let shape = [x.shape[0] / samples, samples * x.shape[1]] + x.shape.dropFirst(2)
        return ([try reshape(stripdims(x), shape).labeled(x.labels)], [:])
    }
}
