import SwiftDL

/// The pictures of a training run: the generator's samples (a scatter over the data's modes for
/// 2-D data, an image grid otherwise) and the losses and D's scores over the iterations.
public enum GANPictures {
    /// The samples of a 2-D generator as a scatter over the mixture's modes (crosses), or image
    /// samples as a grid, with the iteration in the title of the scatter. The samples of a
    /// conditional generator, drawn for every class in turn (``GANConditioning/classBlocks(_:classCount:)``),
    /// make one row per class.
    /// - Throws: `DLError` when the samples do not have the data's shape.
    public static func samples(_ samples: DLArray, settings: GANSettings, iteration: Int) throws -> RGBImage {
        if let mixture = settings.dataset.mixture {
            guard samples.rank == 2, samples.shape[1] == 2 else {
                throw DLError.shapeMismatch("2-D samples must have shape [n, 2], not \(samples.shape)")
            }
            let values = samples.scalars(as: Double.self)
            let points = (0..<samples.shape[0]).map { SIMD2(values[2 * $0], values[2 * $0 + 1]) }
            let extent = mixture.modes.map { Swift.max(Swift.abs($0.x), Swift.abs($0.y)) }.max()! * 1.5
            var plot = ScatterPlot(title: "\(mixture.name): \(points.count) samples, iteration \(iteration)",
                                   xRange: -extent...extent, yRange: -extent...extent, equalAspect: true)
            plot.addLayer("generated", points: points, color: .blue, style: .dots(radius: 1.5))
            plot.addLayer("modes", points: mixture.modes, color: .red, style: .crosses(size: 7))
            return plot.render(width: 520, height: 520)
        }
        let count = samples.shape[0]
        var columns = Int(Double(count).squareRoot().rounded(.up))
        if settings.conditioning != nil, let classCount = settings.dataset.classCount, count % classCount == 0 {
            columns = count / classCount  // drawn for every class in turn: one row per class
        }
        return try imageGrid(samples, columns: columns, valueRange: -1...1, padding: 2, scale: settings.imageSize == 28 ? 3 : 2)
    }

    /// The losses (top) and D's mean scores (bottom) over the iterations of `log`; beyond 500
    /// iterations each point is the mean of a run of iterations, so the curves stay readable.
    public static func training(_ log: [GANLogEntry], settings: GANSettings) throws -> RGBImage {
        let steps = bucketMeans(log.compactMap(\.step), buckets: 500)
        let x = steps.map { Double($0.iteration) }
        var losses = LinePlot(title: "losses", xLabel: "iteration", yLabel: "loss")
        try losses.addSeries("discriminator", x: x, y: steps.map(\.discriminatorLoss), color: .blue)
        try losses.addSeries("generator", x: x, y: steps.map(\.generatorLoss), color: .orange)
        let critic = settings.loss.scoresAreUnbounded
        var scores = LinePlot(title: critic ? "critic values" : "discriminator scores", xLabel: "iteration",
                              yLabel: critic ? "mean D(x)" : "mean D(x)", yRange: critic ? nil : 0...1)
        try scores.addSeries("D(real)", x: x, y: steps.map(\.realScore), color: .green)
        try scores.addSeries("D(fake)", x: x, y: steps.map(\.fakeScore), color: .red)
        return try RGBImage.tiled([losses.render(width: 720, height: 320), scores.render(width: 720, height: 320)],
                                  columns: 1, spacing: 8)
    }

    /// At most `buckets` records, each the mean of consecutive records (at the last one's iteration).
    static func bucketMeans(_ steps: [GANStepRecord], buckets: Int) -> [GANStepRecord] {
        guard steps.count > buckets else { return steps }
        return (0..<buckets).map { bucket in
            let part = steps[steps.count * bucket / buckets ..< steps.count * (bucket + 1) / buckets]
            func mean(_ value: KeyPath<GANStepRecord, Double>) -> Double { part.map { $0[keyPath: value] }.reduce(0, +) / Double(part.count) }
            return GANStepRecord(iteration: part.last!.iteration, discriminatorLoss: mean(\.discriminatorLoss),
                                 generatorLoss: mean(\.generatorLoss), realScore: mean(\.realScore),
                                 fakeScore: mean(\.fakeScore), penalty: mean(\.penalty))
        }
    }
}
