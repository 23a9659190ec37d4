import Foundation
import MNISTClassifier
import Testing
@testable import SwiftDL

/// The classifier-based GAN image metrics: Inception Score, classes covered, Fréchet distance.
@Suite struct ClassifierMetricsTests {
    static let classifierURL = DataFixture.repositoryRoot.appendingPathComponent("Models/mnist-classifier.safetensors")

    // MARK: Inception Score

    @Test func certainPredictionsSpreadEvenlyOverKClassesScoreK() throws {
        for k in [1, 2, 4, 10] {
            let rows = (0..<(3 * k)).map { image in (0..<10).map { $0 == image % k ? 1.0 : 0.0 } }
            #expect(abs(try GANMetrics.inceptionScore(probabilities: rows) - Double(k)) < 1e-12, "k = \(k)")
        }
    }

    @Test func identicalPredictionsScoreOne() throws {
        let rows = Array(repeating: [0.2, 0.3, 0.5], count: 7)
        #expect(abs(try GANMetrics.inceptionScore(probabilities: rows) - 1) < 1e-12)
    }

    @Test func theScoreOfMixedPredictionsMatchesTheHandComputedValue() throws {
        // p(y) = [0.75, 0.25]; KL of the rows: log(4/3) and ½·log(2/3) + ½·log 2 = ½·log(4/3);
        // their mean is ¾·log(4/3), so the score is (4/3)^¾.
        let score = try GANMetrics.inceptionScore(probabilities: [[1, 0], [0.5, 0.5]])
        #expect(abs(score - pow(4.0 / 3.0, 0.75)) < 1e-12)
    }

    @Test func theScoresTwoEntropiesAreTheHandComputedValues() throws {
        // p(y) = [0.75, 0.25]: H = ¾·log(4/3) + ¼·log 4; the rows' entropies are 0 and log 2.
        let parts = try GANMetrics.inceptionScoreParts(probabilities: [[1, 0], [0.5, 0.5]])
        #expect(abs(parts.classEntropy - (0.75 * log(4.0 / 3.0) + 0.25 * log(4.0))) < 1e-12)
        #expect(abs(parts.meanConditionalEntropy - log(2.0) / 2) < 1e-12)
        let certain = try GANMetrics.inceptionScoreParts(probabilities: (0..<10).map { k in (0..<10).map { $0 == k ? 1 : 0 } })
        #expect(abs(certain.classEntropy - log(10.0)) < 1e-12 && certain.meanConditionalEntropy == 0)
    }

    @Test func rowsThatAreNotDistributionsAreRejected() {
        expectError(containing: "row 1", "not a probability distribution") {
            _ = try GANMetrics.inceptionScore(probabilities: [[0.5, 0.5], [0.7, 0.7]])
        }
        expectError(containing: "row 0", "not a probability distribution") {
            _ = try GANMetrics.inceptionScore(probabilities: [[1.5, -0.5]])
        }
        expectError(containing: "row 1 of the probabilities has 3 classes") {
            _ = try GANMetrics.inceptionScore(probabilities: [[0.5, 0.5], [0.2, 0.3, 0.5]])
        }
        expectError(containing: "at least one row") { _ = try GANMetrics.inceptionScore(probabilities: []) }
    }

    // MARK: Classes covered

    @Test func classesCoveredCountsClassesWithEnoughImages() throws {
        let classes = [0, 0, 3, 9, 3, 3]
        #expect(try GANMetrics.classesCovered(classes) == 3)
        #expect(try GANMetrics.classesCovered(classes, minimumCount: 2) == 2)
        #expect(try GANMetrics.classesCovered(classes, minimumCount: 3) == 1)
        #expect(try GANMetrics.classesCovered(classes, minimumCount: 4) == 0)
        #expect(try GANMetrics.classesCovered([]) == 0)
        #expect(try GANMetrics.classesCovered(Array(0..<10) + Array(0..<10)) == 10)
    }

    @Test func classesOutsideTheRangeAreRejected() {
        expectError(containing: "predicted class 10 is outside 0..<10") { _ = try GANMetrics.classesCovered([1, 10]) }
        expectError(containing: "minimumCount ≥ 1") { _ = try GANMetrics.classesCovered([1], minimumCount: 0) }
    }

    // MARK: Fréchet distance

    @Test func theDistanceOfASetToItselfIsZero() throws {
        var generator = DLRandomGenerator(seed: 3)
        let features = (0..<500).map { _ in (0..<8).map { dimension in generator.nextNormal() * Double(dimension + 1) } }
        let statistics = try FeatureStatistics(features: features)
        #expect(try GANMetrics.frechetDistance(statistics, statistics) < 1e-9)
    }

    @Test func statisticsAreTheSampleMeanAndUnbiasedCovariance() throws {
        // Mean (2, 1); centered vectors (−1, −1), (1, −1), (0, 2); covariance sums / 2.
        let statistics = try FeatureStatistics(features: [[1, 0], [3, 0], [2, 3]])
        #expect(statistics.mean == [2, 1])
        #expect(statistics.covariance == [1, 0, 0, 3])
    }

    @Test func theDistanceOfNonCommutingCovariancesMatchesTheClosedForm() throws {
        // For 2×2 matrices Tr((Σ₁Σ₂)^½) = √(Tr(Σ₁Σ₂) + 2√(det Σ₁ det Σ₂)) = √(10 + 4√3) here;
        // ‖μ₁ − μ₂‖² = 5 and Tr Σ₁ + Tr Σ₂ = 9.
        let first = try FeatureStatistics(mean: [1, 0], covariance: [2, 1, 1, 2])
        let second = try FeatureStatistics(mean: [0, 2], covariance: [1, 0, 0, 4])
        let expected = 5 + 9 - 2 * (10 + 4 * 3.0.squareRoot()).squareRoot()
        #expect(abs(try GANMetrics.frechetDistance(first, second) - expected) < 1e-12)
        #expect(abs(try GANMetrics.frechetDistance(second, first) - expected) < 1e-12)
    }

    @Test func theDistanceOfRotatedCovariancesMatchesTheClosedForm() throws {
        // Σ₁ = Q diag(a) Qᵀ and Σ₂ = Q diag(b) Qᵀ with Q a Householder reflection: the trace term is
        // Σ(√aᵢ − √bᵢ)², and a zero eigenvalue (a singular covariance) is allowed. Rounding leaves
        // that eigenvalue of Σ₁^½Σ₂Σ₁^½ at about ±1e-17, whose square root, ~3e-9, limits the accuracy.
        let n = 10
        let v = (0..<n).map { Double($0 % 3) - 0.7 + 0.1 * Double($0) }
        let norm = v.reduce(0) { $0 + $1 * $1 }
        let q = (0..<(n * n)).map { index in (index / n == index % n ? 1 : 0) - 2 * v[index / n] * v[index % n] / norm }
        func rotated(_ diagonal: [Double]) -> [Double] {
            (0..<(n * n)).map { index in
                (0..<n).reduce(0) { $0 + q[(index / n) * n + $1] * diagonal[$1] * q[(index % n) * n + $1] }
            }
        }
        let a = (0..<n).map { Double($0) * 0.5 }
        let b = (0..<n).map { 4.0 / Double($0 + 1) }
        let firstMean = (0..<n).map { Double($0) }, secondMean = (0..<n).map { Double($0) + ($0 == 3 ? 2 : 0) }
        // Symmetrize the rounding of the products so the statistics accept them.
        func symmetric(_ m: [Double]) -> [Double] {
            (0..<(n * n)).map { index in (m[index] + m[(index % n) * n + index / n]) / 2 }
        }
        let first = try FeatureStatistics(mean: firstMean, covariance: symmetric(rotated(a)))
        let second = try FeatureStatistics(mean: secondMean, covariance: symmetric(rotated(b)))
        let expected = 4 + zip(a, b).reduce(0) { $0 + ($1.0.squareRoot() - $1.1.squareRoot()) * ($1.0.squareRoot() - $1.1.squareRoot()) }
        let distance = try GANMetrics.frechetDistance(first, second)
        #expect(abs(distance - expected) < 1e-7, "distance \(distance), expected \(expected)")
    }

    @Test func theDistanceOfGaussianSamplesApproachesTheClosedForm() throws {
        // Samples of N((1, 0), [[2, 1], [1, 2]]) and N((0, 2), diag(1, 4)) through Cholesky factors.
        var generator = DLRandomGenerator(seed: 11)
        let first = (0..<20000).map { _ -> [Double] in
            let (z1, z2) = (generator.nextNormal(), generator.nextNormal())
            return [1 + 2.0.squareRoot() * z1, z1 / 2.0.squareRoot() + 1.5.squareRoot() * z2]
        }
        let second = (0..<20000).map { _ in [generator.nextNormal(), 2 + 2 * generator.nextNormal()] }
        let distance = try GANMetrics.frechetDistance(FeatureStatistics(features: first), FeatureStatistics(features: second))
        let expected = 5 + 9 - 2 * (10 + 4 * 3.0.squareRoot()).squareRoot()
        #expect(abs(distance - expected) < 0.03 * expected, "distance \(distance), expected \(expected)")
    }

    @Test func badStatisticsAreRejected() throws {
        expectError(containing: "same dimension", "2 and 3") {
            _ = try GANMetrics.frechetDistance(FeatureStatistics(mean: [0, 0], covariance: [1, 0, 0, 1]),
                                               FeatureStatistics(mean: [0, 0, 0], covariance: [1, 0, 0, 0, 1, 0, 0, 0, 1]))
        }
        expectError(containing: "not symmetric") { _ = try FeatureStatistics(mean: [0, 0], covariance: [1, 2, 0, 1]) }
        expectError(containing: "needs 4 values, got 3") { _ = try FeatureStatistics(mean: [0, 0], covariance: [1, 0, 1]) }
        expectError(containing: "at least 2 feature vectors") { _ = try FeatureStatistics(features: [[1, 2]]) }
        expectError(containing: "same, nonzero length") { _ = try FeatureStatistics(features: [[1, 2], [1]]) }
    }

    // MARK: The classifier

    @Test func activationsRunTheNetworkUpToALayer() throws {
        let net = try DLNetwork(contentsOf: Self.classifierURL)
        let images = DLArray.rand([3, 1, 28, 28], type: .float32, labels: "BCSS", seed: 5)
        let full = try net.activations(images, upTo: "softmax")
        #expect(full.scalars(as: Double.self) == (try net.predict(images)).scalars(as: Double.self))
        #expect(try net.activations(images, upTo: "relu3").shape == [3, 64, 7, 7])
        #expect(try net.activations(images, upTo: "flatten").shape == [3, 3136])
        let features = try MNISTClassifier.features(net, images: images, miniBatchSize: 2)
        let maps = try net.activations(images, upTo: "relu3").scalars(as: Double.self)
        #expect(features.count == 3 && features.allSatisfy { $0.count == 64 })
        #expect(abs(features[2][5] - maps[(2 * 64 + 5) * 49..<(2 * 64 + 6) * 49].reduce(0, +) / 49) < 1e-6)
        expectError(containing: "no layer \"fc7\"") { _ = try net.activations(images, upTo: "fc7") }
    }

    @Test(.enabled(if: DataFixture.mnistIsAvailable, "needs MNIST at ../shared/datasets/mnist"))
    func realTestDigitsScoreHighAndAreCloserToEachOtherThanToNoise() throws {
        let net = try DLNetwork(contentsOf: Self.classifierURL)
        let test = try MNIST.load(directory: DataFixture.mnistDirectory, split: .test)
        let realStatistics = try MNISTClassifier.featureStatistics(net, images: test.images[0..<1000, ...])
        let other = try MNISTClassifier.scores(net, generated: test.images[1000..<3000, ...], real: realStatistics)
        #expect(other.inceptionScore >= 9.0, "IS \(other.inceptionScore)")
        #expect(other.classesCovered == 10)
        // Real digits: nearly equal classes, nearly certain predictions.
        #expect(abs(other.classEntropy - log(10.0)) < 0.02, "H(p(y)) \(other.classEntropy)")
        #expect(other.meanConditionalEntropy < 0.05, "E H(p(y|x)) \(other.meanConditionalEntropy)")
        #expect(abs(log(other.inceptionScore) - (other.classEntropy - other.meanConditionalEntropy)) < 1e-9)
        let noise = DLArray.rand([1000, 1, 28, 28], type: .float32, labels: "BCSS", seed: 7)
        let noiseScores = try MNISTClassifier.scores(net, generated: noise, real: realStatistics)
        // Measured: IS 9.62, FD 0.008 between the halves, FD 29 to uniform noise (IS 1.00, 1 class).
        #expect(other.frechetDistance < 0.01 * noiseScores.frechetDistance,
                "FD real/real \(other.frechetDistance), real/noise \(noiseScores.frechetDistance)")
        #expect(noiseScores.inceptionScore < other.inceptionScore)
    }
}
