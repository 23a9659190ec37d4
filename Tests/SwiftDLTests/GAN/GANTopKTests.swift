import Foundation
import Testing
@testable import GANKit
@testable import SwiftDL

/// Top-k training of the generator (Sinha et al. 2020): the loss over the k samples D scores
/// highest, its gradients, k's schedule, the settings and their errors.
@Suite struct GANTopKTests {
    /// Six logits whose three highest are 2.0, 1.2 and 0.5 (positions 2, 4 and 0).
    static let logits: [Double] = [0.5, -1.0, 2.0, 0.0, 1.2, -0.3]
    static let kept = [2, 4, 0]

    static func softplus(_ x: Double) -> Double { Foundation.log1p(Foundation.exp(x)) }
    static func sigmoid(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }

    /// The top-k loss of `values` (`[6, 1]` "BC" float64) keeping 3.
    static func loss(_ loss: GANLoss, _ values: [Double]) throws -> DLArray {
        let x = try DLArray(values, shape: [values.count, 1], labels: "BC")
        let weights = try GANTrainer.topKWeights(count: 3, of: values.count).converted(to: .float64)
        return try GANTrainer.generatorLoss(loss, fakeLogits: x, topKWeights: weights)
    }

    @Test func theWeightsKeepTheFirstK() throws {
        let weights = try GANTrainer.topKWeights(count: 3, of: 5)
        #expect(weights.shape == [5, 1] && weights.labels == "BC" && weights.dataType == .float32)
        #expect(weights.scalars(as: Float.self) == [1, 1, 1, 0, 0])
    }

    @Test(arguments: GANLoss.allCases)
    func theLossIsTheMeanOverTheKHighestScores(_ loss: GANLoss) throws {
        let top = Self.kept.map { Self.logits[$0] }
        let expected: Double = switch loss {
        case .nonSaturating: top.map { Self.softplus(-$0) }.reduce(0, +) / 3   // (0.1269 + 0.2633 + 0.4741)/3
        case .minimax: -top.map { Self.softplus($0) }.reduce(0, +) / 3
        case .hinge, .wassersteinGP: -(2.0 + 1.2 + 0.5) / 3
        }
        #expect(Swift.abs(try Self.loss(loss, Self.logits).scalar(as: Double.self) - expected) < 1e-12, "\(loss)")
        // Keeping the whole batch is the plain loss.
        let x = try DLArray(Self.logits, shape: [6, 1], labels: "BC")
        let all = try GANTrainer.generatorLoss(loss, fakeLogits: x,
                                               topKWeights: GANTrainer.topKWeights(count: 6, of: 6).converted(to: .float64))
        #expect(Swift.abs(try all.scalar(as: Double.self) - GANTrainer.generatorLoss(loss, fakeLogits: x).scalar(as: Double.self)) < 1e-12)
    }

    /// The gradient is −σ(−l)/k (non-saturating) or −1/k (hinge) at the kept samples and 0 at the
    /// others, and matches central differences; so do the second derivatives (σ(l)σ(−l)/k on the
    /// kept samples' diagonal, 0 elsewhere).
    @Test(arguments: [GANLoss.nonSaturating, .hinge, .minimax])
    func theGradientReachesOnlyTheKeptSamples(_ loss: GANLoss) throws {
        let x = try DLArray(Self.logits, shape: [6, 1], labels: "BC")
        let (gradient, hessian) = try dlfeval({ (x: DLArray) in
            let weights = try GANTrainer.topKWeights(count: 3, of: 6).converted(to: .float64)
            let value = try GANTrainer.generatorLoss(loss, fakeLogits: x, topKWeights: weights)
            let g = try dlgradient(value, x, enableHigherDerivatives: true)
            // The hinge loss is linear: its gradient is a constant, with no trace to differentiate.
            var rows = loss == .hinge ? Array(repeating: DLArray.zeros([6, 1], type: .float64), count: 6) : []
            for i in 0..<6 where loss != .hinge {
                let unit = try DLArray((0..<6).map { $0 == i ? 1.0 : 0.0 }, shape: [6, 1], labels: "BC")
                rows.append(try dlgradient(sum(g * unit), x, retainData: true))
            }
            return (extractdata(g), rows)
        }, x)
        let g = gradient.scalars(as: Double.self)
        for i in 0..<6 {
            let isKept = Self.kept.contains(i), l = Self.logits[i]
            let analytic: Double
            switch loss {
            case _ where !isKept: analytic = 0
            case .nonSaturating: analytic = -Self.sigmoid(-l) / 3
            case .minimax: analytic = -Self.sigmoid(l) / 3
            default: analytic = -1.0 / 3
            }
            #expect(Swift.abs(g[i] - analytic) < 1e-12, "\(loss) d/dl\(i)")
            if !isKept { #expect(g[i] == 0, "\(loss): sample \(i) is not kept") }
            let h = 1e-6
            var up = Self.logits, down = Self.logits
            up[i] += h
            down[i] -= h
            let difference = (try Self.loss(loss, up).scalar(as: Double.self) - Self.loss(loss, down).scalar(as: Double.self)) / (2 * h)
            #expect(Swift.abs(g[i] - difference) < 1e-8, "\(loss) d/dl\(i): \(g[i]) vs \(difference)")
            // Second order: row i of the Hessian against central differences of the gradient.
            func gradientAt(_ values: [Double]) throws -> [Double] {
                try dlfeval({ (x: DLArray) in
                    let weights = try GANTrainer.topKWeights(count: 3, of: 6).converted(to: .float64)
                    return try dlgradient(GANTrainer.generatorLoss(loss, fakeLogits: x, topKWeights: weights), x)
                }, try DLArray(values, shape: [6, 1], labels: "BC")).scalars(as: Double.self)
            }
            let (gUp, gDown) = (try gradientAt(up), try gradientAt(down))
            let row = hessian[i].scalars(as: Double.self)
            for j in 0..<6 {
                // σ(l)σ(−l)/k for the non-saturating loss, its negative for minimax, 0 for the linear hinge.
                let curvature: Double
                switch loss {
                case _ where i != j || !isKept: curvature = 0
                case .nonSaturating: curvature = Self.sigmoid(l) * Self.sigmoid(-l) / 3
                case .minimax: curvature = -Self.sigmoid(l) * Self.sigmoid(-l) / 3
                default: curvature = 0
                }
                #expect(Swift.abs(row[j] - curvature) < 1e-12, "\(loss) d²/dl\(i)dl\(j)")
                #expect(Swift.abs(row[j] - (gUp[j] - gDown[j]) / (2 * h)) < 1e-7, "\(loss) d²/dl\(i)dl\(j)")
            }
        }
    }

    @Test func theKeptShareShrinksEachEpochToTheMinimum() {
        let paper = GANTopK()
        #expect(paper.minimumFraction == 0.5 && paper.decay == 0.99)
        // ⌊0.99^e · 64⌋: 64, 63 (63.36), 62 (62.73), …, 32 from epoch 68 (0.99^68 · 64 = 32.31) on.
        #expect((0...3).map { paper.count(of: 64, epoch: $0) } == [64, 63, 62, 62])
        #expect(paper.count(of: 64, epoch: 68) == 32 && paper.count(of: 64, epoch: 69) == 32 && paper.count(of: 64, epoch: 1000) == 32)
        #expect(paper.count(of: 64, epoch: 67) == 32 && paper.count(of: 64, epoch: 66) == 32)
        #expect(paper.count(of: 64, epoch: 65) == 33)   // 0.99^65 · 64 = 33.29
        let fast = GANTopK(minimumFraction: 0.1, decay: 0.5)
        #expect((0...4).map { fast.count(of: 6, epoch: $0) } == [6, 3, 1, 1, 1])   // at least 1 (0.1 · 6 = 0.6)
        #expect(GANTopK(minimumFraction: 0.5, decay: 1).count(of: 64, epoch: 50) == 64)
    }

    /// The trainer's k follows the epochs of real batches read before each iteration: 12 images
    /// in batches of 6 are 2 batches an epoch; 2 D steps read one epoch an iteration; packing
    /// keeps groups; 2-D data count each batch as an epoch.
    @Test func theTrainersKFollowsTheEpochs() throws {
        var settings = GANSettings(dataset: .mnist, seed: 1)
        settings.batchSize = 6
        settings.topK = GANTopK(minimumFraction: 0.25, decay: 0.5)
        let images = DLArray.rand([12, 1, 28, 28], type: .float32, labels: "BCSS", seed: 5) * 2 - 1
        let data = try GANData(images: images, as: .mnist)
        var trainer = try GANTrainer(settings: settings, data: data)
        func counts(_ trainer: inout GANTrainer) -> [Int?] {
            (0..<6).map { iteration in
                trainer.iteration = iteration
                return trainer.topKCount
            }
        }
        #expect(counts(&trainer) == [6, 6, 3, 3, 1, 1])   // ⌊0.25 · 6⌋ = 1
        settings.discriminatorSteps = 2
        trainer = try GANTrainer(settings: settings, data: data)
        #expect(counts(&trainer) == [6, 3, 1, 1, 1, 1])
        settings.discriminatorSteps = 1
        settings.packing = 2
        trainer = try GANTrainer(settings: settings, data: data)
        #expect(counts(&trainer) == [3, 3, 1, 1, 1, 1])   // 3 packed groups: ⌊0.5 · 3⌋ = 1, then at least 1
        settings.topK = nil
        trainer = try GANTrainer(settings: settings, data: data)
        #expect(counts(&trainer) == [nil, nil, nil, nil, nil, nil])
        var ring = GANTrainerTests.settings { $0.topK = GANTopK(minimumFraction: 0.25, decay: 0.5) }
        ring.batchSize = 8
        var planar = try GANTrainer(settings: ring, data: GANData(mixtureOf: .ring8))
        #expect(counts(&planar) == [8, 4, 2, 2, 2, 2])
    }

    @Test func settingsRoundTripAndOldSettingsDecodeWithoutTopK() throws {
        var settings = GANSettings(dataset: .mnist, seed: 3)
        settings.topK = GANTopK(minimumFraction: 0.75, decay: 0.95)
        let encoded = try JSONEncoder().encode(settings)
        #expect(try JSONDecoder().decode(GANSettings.self, from: encoded) == settings)
        var object = try #require(try JSONSerialization.jsonObject(with: encoded) as? [String: Any])
        #expect((object["topK"] as? [String: Any])?["minimumFraction"] as? Double == 0.75)
        object["topK"] = nil
        let old = try JSONDecoder().decode(GANSettings.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(old.topK == nil)
        settings.topK = nil
        #expect(old == settings)
    }

    @Test func badValuesAreClearErrors() throws {
        for (fraction, decay, message) in [(0.0, 0.99, "smallest kept share of the batch must be in (0, 1], not 0.0"),
                                           (1.5, 0.99, "must be in (0, 1], not 1.5"), (-0.5, 0.99, "not -0.5"),
                                           (Double.nan, 0.99, "not nan"), (0.5, 0.0, "decay per epoch must be in (0, 1], not 0.0"),
                                           (0.5, 1.01, "decay per epoch must be in (0, 1], not 1.01")] {
            var settings = GANSettings(dataset: .ring8)
            settings.topK = GANTopK(minimumFraction: fraction, decay: decay)
            #expect(errorMessage(DLError.invalidArgument) { try settings.validate() }.contains(message), "\(fraction), \(decay)")
        }
        var consensus = GANSettings(dataset: .ring8)
        consensus.regularizer = .consensus
        consensus.method = .simultaneous
        consensus.topK = GANTopK()
        #expect(errorMessage(DLError.invalidArgument) { try consensus.validate() }.contains("consensus optimization"))
        let parallel = GANTrainerTests.settings { $0.topK = GANTopK() }
        let messages = try spmd(workers: 2) { communicator in
            errorMessage(DLError.invalidArgument) {
                _ = try GANTrainer(settings: parallel, data: GANData(mixtureOf: .ring8), communicator: communicator)
            }
        }
        #expect(messages.allSatisfy { $0.contains("which no worker sees alone: train in one process") }, "\(messages)")
    }

    /// A top-k run changes G's updates once k is below the batch, and one resumed from a
    /// checkpoint restores its settings and continues with the same bits.
    @Test func aTopKRunResumesExactly() throws {
        let settings = GANTrainerTests.settings { $0.topK = GANTopK(minimumFraction: 0.25, decay: 0.5) }
        let data = try GANData(mixtureOf: .ring8)
        var straight = try GANTrainer(settings: settings, data: data)
        var plain = try GANTrainer(settings: GANTrainerTests.settings(), data: data)
        for _ in 0..<4 {
            try straight.step()
            try plain.step()
        }
        #expect(firstDifference(GANTrainerTests.bits(straight.generator.learnables), GANTrainerTests.bits(plain.generator.learnables)) != nil)
        var first = try GANTrainer(settings: settings, data: data)
        for _ in 0..<2 { try first.step() }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gan-topk-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try first.writeCheckpoint(to: url)
        #expect(try GANTrainer.checkpointSettings(at: url) == settings)
        var resumed = try GANTrainer(resumingFrom: url, settings: settings, data: data)
        for _ in 0..<2 { try resumed.step() }
        #expect(firstDifference(GANTrainerTests.bits(resumed.generator.learnables),
                                GANTrainerTests.bits(straight.generator.learnables)) == nil)
        #expect(firstDifference(GANTrainerTests.bits(resumed.discriminator.learnables),
                                GANTrainerTests.bits(straight.discriminator.learnables)) == nil)
        var without = settings
        without.topK = nil
        #expect(errorMessage(DLError.file) { _ = try GANTrainer(resumingFrom: url, settings: without, data: data) }
            .contains("topK: none vs"))
    }
}
