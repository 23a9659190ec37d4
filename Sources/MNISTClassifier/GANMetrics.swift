import Foundation
import SwiftDL

// MARK: - Intermediate activations

extension DLNetwork {
    /// The outputs of the layers named `layerNames`, in that order, for `inputs` (one per network
    /// input) in inference mode. Only the layers up to the last one asked for are run.
    /// - Throws: ``DLError/invalidArgument(_:)`` for a wrong number of inputs or a name that is
    ///   not a layer of the network, and the errors of the layers' `forward`.
    public func activations(_ inputs: [DLArray], of layerNames: [String]) throws -> [DLArray] {
        guard inputs.count == inputNames.count else {
            throw DLError.invalidArgument("DLNetwork takes \(inputNames.count) inputs (\(inputNames)), got \(inputs.count)")
        }
        let names = layers.map(\.name)
        guard let last = try layerNames.map({ name -> Int in
            guard let index = names.firstIndex(of: name) else {
                throw DLError.invalidArgument("the network has no layer \"\(name)\"; its layers are \(names)")
            }
            return index
        }).max() else { return [] }
        var values = Dictionary(uniqueKeysWithValues: zip(inputNames, inputs))
        var generator = DLRandomGenerator(seed: 0)
        for index in 0...last {
            let layerInputs = sources[index].map { values[$0]! }
            values[names[index]] = try layers[index].forward(layerInputs, mode: .inference, using: &generator).outputs[0]
        }
        return layerNames.map { values[$0]! }
    }

    /// The output of the layer named `layer` for the input of a one-input network, in inference
    /// mode (running statistics, no dropout): the network run up to that layer.
    /// - Throws: ``DLError/invalidArgument(_:)`` for a name that is not a layer of the network.
    public func activations(_ input: DLArray, upTo layer: String) throws -> DLArray {
        try activations([input], of: [layer])[0]
    }
}

// MARK: - The metrics

/// The mean and covariance of a set of feature vectors: the Gaussian that the Fréchet distance
/// compares.
public struct FeatureStatistics: Sendable, Equatable {
    /// The number of values per feature vector.
    public let dimension: Int
    /// The mean feature vector.
    public let mean: [Double]
    /// The covariance matrix, `dimension × dimension`, row-major.
    public let covariance: [Double]

    /// The sample mean and the unbiased sample covariance (divided by count − 1, as NumPy's
    /// `cov` and the reference FID code) of `features`, one vector per sample.
    /// - Throws: ``DLError/invalidArgument(_:)`` for fewer than two vectors, vectors of different
    ///   lengths or values that are not finite.
    public init(features: [[Double]]) throws {
        guard features.count >= 2 else {
            throw DLError.invalidArgument("feature statistics need at least 2 feature vectors, got \(features.count)")
        }
        let dimension = features[0].count
        guard dimension > 0, features.allSatisfy({ $0.count == dimension }) else {
            throw DLError.invalidArgument("feature vectors must all have the same, nonzero length (the first has \(dimension))")
        }
        guard features.allSatisfy({ $0.allSatisfy(\.isFinite) }) else {
            throw DLError.invalidArgument("feature vectors hold values that are not finite")
        }
        var mean = [Double](repeating: 0, count: dimension)
        for vector in features { for i in 0..<dimension { mean[i] += vector[i] } }
        mean = mean.map { $0 / Double(features.count) }
        var covariance = [Double](repeating: 0, count: dimension * dimension)
        for vector in features {
            let centered = zip(vector, mean).map { $0 - $1 }
            for i in 0..<dimension where centered[i] != 0 {
                for j in i..<dimension { covariance[i * dimension + j] += centered[i] * centered[j] }
            }
        }
        for i in 0..<dimension {
            for j in i..<dimension {
                covariance[i * dimension + j] /= Double(features.count - 1)
                covariance[j * dimension + i] = covariance[i * dimension + j]
            }
        }
        self.dimension = dimension
        self.mean = mean
        self.covariance = covariance
    }

    /// Statistics given directly: a mean and a symmetric covariance matrix (row-major).
    /// - Throws: ``DLError/invalidArgument(_:)`` for an empty mean, a covariance that is not
    ///   `mean.count × mean.count` or not symmetric, or values that are not finite.
    public init(mean: [Double], covariance: [Double]) throws {
        let dimension = mean.count
        guard dimension > 0, covariance.count == dimension * dimension else {
            throw DLError.invalidArgument("a covariance for a mean of \(dimension) values needs \(dimension * dimension) values, got \(covariance.count)")
        }
        guard mean.allSatisfy(\.isFinite), covariance.allSatisfy(\.isFinite) else {
            throw DLError.invalidArgument("feature statistics hold values that are not finite")
        }
        for i in 0..<dimension {
            for j in 0..<i {
                let (a, b) = (covariance[i * dimension + j], covariance[j * dimension + i])
                guard abs(a - b) <= 1e-9 * max(1, abs(a), abs(b)) else {
                    throw DLError.invalidArgument("the covariance is not symmetric: [\(i), \(j)] is \(a), [\(j), \(i)] is \(b)")
                }
            }
        }
        self.dimension = dimension
        self.mean = mean
        self.covariance = covariance
    }
}

/// Measures of generated images made with a classifier of their classes: the classifier-based
/// Inception Score, the classes covered and the Fréchet distance of classifier features.
public enum GANMetrics {
    /// The classifier-based Inception Score, exp(E_x KL(p(y|x) ‖ p(y))), of the classifier's
    /// class probabilities p(y|x) (one row per image), where p(y) is their mean over the images.
    ///
    /// It is 1 when every image gets the same probabilities and at most the number of classes,
    /// reached when each image is classified with certainty and the classes are equally
    /// frequent. Computed in `Double` over all the rows at once (no splits), with 0 · log 0 = 0,
    /// as exp(H(p(y)) − E_x H(p(y|x))) from ``inceptionScoreParts(probabilities:)``.
    /// - Throws: ``DLError/invalidArgument(_:)`` for no rows, rows of different lengths, or a row
    ///   that is not a probability distribution (a negative or non-finite value, or a sum more
    ///   than 1e-3 away from 1).
    public static func inceptionScore(probabilities: [[Double]]) throws -> Double {
        inceptionScore(try inceptionScoreParts(probabilities: probabilities))
    }

    /// The Inception Score from its two parts: exp(H(p(y)) − E_x H(p(y|x))).
    static func inceptionScore(_ parts: (classEntropy: Double, meanConditionalEntropy: Double)) -> Double {
        exp(max(parts.classEntropy - parts.meanConditionalEntropy, 0))
    }

    /// The two entropies whose difference is the logarithm of the Inception Score, in nats:
    /// H(p(y)), the entropy of the mean class probabilities (at most log of the number of classes,
    /// reached when the classes are equally frequent), and E_x H(p(y|x)), the mean entropy of one
    /// image's class probabilities (0 when every image is classified with certainty).
    /// - Throws: as ``inceptionScore(probabilities:)``.
    public static func inceptionScoreParts(probabilities: [[Double]]) throws
        -> (classEntropy: Double, meanConditionalEntropy: Double) {
        guard let classCount = probabilities.first?.count, classCount > 0 else {
            throw DLError.invalidArgument("the Inception Score needs at least one row of class probabilities")
        }
        for (index, row) in probabilities.enumerated() {
            guard row.count == classCount else {
                throw DLError.invalidArgument("row \(index) of the probabilities has \(row.count) classes, row 0 has \(classCount)")
            }
            guard row.allSatisfy({ $0.isFinite && $0 >= 0 }), abs(row.reduce(0, +) - 1) <= 1e-3 else {
                throw DLError.invalidArgument("row \(index) of the probabilities is not a probability distribution: \(row)")
            }
        }
        func entropy(_ p: [Double]) -> Double { -p.reduce(0) { $1 > 0 ? $0 + $1 * log($1) : $0 } }
        var marginal = [Double](repeating: 0, count: classCount)
        for row in probabilities { for k in 0..<classCount { marginal[k] += row[k] } }
        let count = Double(probabilities.count)
        return (entropy(marginal.map { $0 / count }), probabilities.reduce(0) { $0 + entropy($1) } / count)
    }

    /// How many of the classes `0..<classCount` are the predicted class of at least
    /// `minimumCount` images (1: a class counts as soon as one image is given it; a larger count
    /// ignores classes reached only by a few stray images).
    /// - Throws: ``DLError/invalidArgument(_:)`` for a class outside `0..<classCount`, or a count
    ///   or a minimum below 1.
    public static func classesCovered(_ predictedClasses: [Int], classCount: Int = 10, minimumCount: Int = 1) throws -> Int {
        guard classCount >= 1, minimumCount >= 1 else {
            throw DLError.invalidArgument("classesCovered needs classCount ≥ 1 and minimumCount ≥ 1, got \(classCount) and \(minimumCount)")
        }
        var counts = [Int](repeating: 0, count: classCount)
        for predicted in predictedClasses {
            guard (0..<classCount).contains(predicted) else {
                throw DLError.invalidArgument("predicted class \(predicted) is outside 0..<\(classCount)")
            }
            counts[predicted] += 1
        }
        return counts.filter { $0 >= minimumCount }.count
    }

    /// The Fréchet distance between the Gaussians of two sets of features:
    /// ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2(Σ₁Σ₂)^½).
    ///
    /// The trace of (Σ₁Σ₂)^½ is computed in `Double` as the sum of the square roots of the
    /// eigenvalues of the symmetric matrix Σ₁^½ Σ₂ Σ₁^½ (which has the eigenvalues of Σ₁Σ₂),
    /// with Σ₁^½ from a symmetric eigendecomposition; eigenvalues that rounding makes slightly
    /// negative count as 0, so singular covariances (fewer samples than dimensions) work. The
    /// Jacobi eigen solver used costs O(dimension³) per sweep: meant for up to a few hundred
    /// dimensions.
    /// - Throws: ``DLError/shapeMismatch(_:)`` when the statistics have different dimensions.
    public static func frechetDistance(_ first: FeatureStatistics, _ second: FeatureStatistics) throws -> Double {
        guard first.dimension == second.dimension else {
            throw DLError.shapeMismatch("the Fréchet distance needs features of the same dimension, got \(first.dimension) and \(second.dimension)")
        }
        let n = first.dimension
        let meanTerm = zip(first.mean, second.mean).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        let traces = (0..<n).reduce(0) { $0 + first.covariance[$1 * n + $1] + second.covariance[$1 * n + $1] }
        let firstRoot = SquareMatrix(first.covariance, size: n).squareRoot()
        let product = firstRoot.multiplied(by: SquareMatrix(second.covariance, size: n)).multiplied(by: firstRoot)
        let rootTrace = product.symmetrized().eigenvalues().reduce(0) { $0 + max($1, 0).squareRoot() }
        return max(meanTerm + traces - 2 * rootTrace, 0)
    }
}

// MARK: - The MNIST classifier's measures

/// The classifier-based measures of a set of generated images.
public struct GANImageScores: Sendable, Equatable {
    /// The classifier-based Inception Score (1...10 for MNIST digits).
    public let inceptionScore: Double
    /// The digit classes predicted for at least one image (0...10).
    public let classesCovered: Int
    /// The Fréchet distance between the classifier features of the images and of real images.
    public let frechetDistance: Double
    /// H(p(y)), the entropy of the mean class probabilities in nats (log 10 ≈ 2.303 when the
    /// digits are equally frequent); see ``GANMetrics/inceptionScoreParts(probabilities:)``.
    public let classEntropy: Double
    /// E_x H(p(y|x)), the mean entropy of one image's class probabilities in nats (0 when the
    /// classifier is certain of every image).
    public let meanConditionalEntropy: Double
    /// The class the classifier gives each image (its most probable), in the images' order.
    public let predictedClasses: [Int]
}

extension MNISTClassifier {
    /// The layer whose output gives the features of ``features(_:images:miniBatchSize:)``: the
    /// last convolution block (`[N, 64, 7, 7]` after ReLU), whose flattened 3136 values are the
    /// input of the final fully connected layer.
    public static let featureLayer = "relu3"

    /// The classifier features of each image: the output of ``featureLayer`` averaged over its
    /// 7×7 positions, 64 values per image (inference mode).
    ///
    /// The Fréchet distance needs a covariance of the features: the 3136 flattened values would
    /// need many more than 3136 images for a well-estimated covariance and an eigendecomposition
    /// too large to be cheap. Averaging each of the 64 channels over the image keeps every
    /// learned feature detector of the last block (as the Fréchet Inception Distance uses
    /// Inception's 2048 globally pooled channels), and a 64 × 64 covariance is well estimated
    /// from a few thousand images. The 10 class probabilities would keep less: mostly the class.
    /// - Throws: ``DLError/invalidArgument(_:)`` when `net` has no ``featureLayer`` or it does not
    ///   output `[N, C, H, W]`.
    public static func features(_ net: DLNetwork, images: DLArray, miniBatchSize: Int = 1000) throws -> [[Double]] {
        try evaluate(net, images: images, miniBatchSize: miniBatchSize).features
    }

    /// The class probabilities of each image, one row of 10 per image (inference mode).
    public static func probabilities(_ net: DLNetwork, images: DLArray, miniBatchSize: Int = 1000) throws -> [[Double]] {
        try evaluate(net, images: images, miniBatchSize: miniBatchSize).probabilities
    }

    /// The feature statistics of `images` (real images, computed once and compared with each set
    /// of generated images).
    public static func featureStatistics(_ net: DLNetwork, images: DLArray, miniBatchSize: Int = 1000) throws -> FeatureStatistics {
        try FeatureStatistics(features: features(net, images: images, miniBatchSize: miniBatchSize))
    }

    /// The Inception Score, the digit classes covered (by at least `minimumCount` images) and the
    /// Fréchet distance to `real` of the features of `generated` images (`"BCSS"`
    /// `[N, 1, 28, 28]`, values in [0, 1] as ``MNIST`` images), with one pass of the classifier.
    public static func scores(_ net: DLNetwork, generated images: DLArray, real: FeatureStatistics,
                              minimumCount: Int = 1, miniBatchSize: Int = 1000) throws -> GANImageScores {
        let (probabilities, features) = try evaluate(net, images: images, miniBatchSize: miniBatchSize)
        let classes = probabilities.map { row in row.indices.max { row[$0] < row[$1] }! }
        let parts = try GANMetrics.inceptionScoreParts(probabilities: probabilities)
        return GANImageScores(
            inceptionScore: GANMetrics.inceptionScore(parts),
            classesCovered: try GANMetrics.classesCovered(classes, classCount: probabilities[0].count, minimumCount: minimumCount),
            frechetDistance: try GANMetrics.frechetDistance(FeatureStatistics(features: features), real),
            classEntropy: parts.classEntropy, meanConditionalEntropy: parts.meanConditionalEntropy, predictedClasses: classes)
    }

    /// The class probabilities and the pooled features of each image, by mini-batches.
    private static func evaluate(_ net: DLNetwork, images: DLArray, miniBatchSize: Int) throws
        -> (probabilities: [[Double]], features: [[Double]]) {
        guard images.rank == 4, images.shape[0] > 0 else {
            throw DLError.invalidArgument("the classifier takes images of shape [N, 1, 28, 28] with N > 0, got \(images.shape)")
        }
        guard miniBatchSize >= 1 else { throw DLError.invalidArgument("miniBatchSize must be at least 1, got \(miniBatchSize)") }
        guard let output = net.outputNames.first, net.outputNames.count == 1 else {
            throw DLError.invalidArgument("the classifier must have one output, it has \(net.outputNames.count)")
        }
        var probabilities: [[Double]] = [], features: [[Double]] = []
        var start = 0
        while start < images.shape[0] {
            let end = min(start + miniBatchSize, images.shape[0])
            let values = try net.activations([images[start..<end, ...]], of: [output, featureLayer])
            let (batchProbabilities, maps) = (values[0], values[1])
            guard maps.rank == 4 else {
                throw DLError.invalidArgument("layer \(featureLayer) must output [N, C, H, W], got \(maps.shape)")
            }
            let classCount = batchProbabilities.count / (end - start)
            let flatProbabilities = batchProbabilities.scalars(as: Double.self)
            for row in 0..<(end - start) {
                probabilities.append(Array(flatProbabilities[(row * classCount)..<((row + 1) * classCount)]))
            }
            let (channels, positions) = (maps.shape[1], maps.shape[2] * maps.shape[3])
            let flatMaps = maps.scalars(as: Double.self)
            for image in 0..<(end - start) {
                features.append((0..<channels).map { channel in
                    let base = (image * channels + channel) * positions
                    return flatMaps[base..<(base + positions)].reduce(0, +) / Double(positions)
                })
            }
            start = end
        }
        return (probabilities, features)
    }
}

// MARK: - Symmetric eigendecomposition

/// A square matrix of `Double` (row-major), with the symmetric eigendecomposition the Fréchet
/// distance needs: cyclic Jacobi rotations, accurate to rounding for symmetric matrices.
private struct SquareMatrix {
    var values: [Double]
    let size: Int

    init(_ values: [Double], size: Int) {
        self.values = values
        self.size = size
    }

    func multiplied(by other: SquareMatrix) -> SquareMatrix {
        var product = [Double](repeating: 0, count: size * size)
        for i in 0..<size {
            for k in 0..<size where values[i * size + k] != 0 {
                let a = values[i * size + k]
                for j in 0..<size { product[i * size + j] += a * other.values[k * size + j] }
            }
        }
        return SquareMatrix(product, size: size)
    }

    /// (A + Aᵀ) / 2, removing the asymmetry that rounding leaves in a product.
    func symmetrized() -> SquareMatrix {
        var result = values
        for i in 0..<size {
            for j in 0..<i {
                let mean = (values[i * size + j] + values[j * size + i]) / 2
                result[i * size + j] = mean
                result[j * size + i] = mean
            }
        }
        return SquareMatrix(result, size: size)
    }

    func eigenvalues() -> [Double] { eigendecomposition().values }

    /// V diag(√max(λ, 0)) Vᵀ: the positive semidefinite square root.
    func squareRoot() -> SquareMatrix {
        let (eigenvalues, vectors) = symmetrized().eigendecomposition()
        let roots = eigenvalues.map { max($0, 0).squareRoot() }
        var result = [Double](repeating: 0, count: size * size)
        for k in 0..<size where roots[k] > 0 {
            for i in 0..<size {
                let a = vectors[i * size + k] * roots[k]
                for j in 0..<size { result[i * size + j] += a * vectors[j * size + k] }
            }
        }
        return SquareMatrix(result, size: size).symmetrized()
    }

    /// The eigenvalues and the eigenvectors (the columns of a row-major matrix) of a symmetric
    /// matrix, by cyclic Jacobi sweeps until the off-diagonal part is negligible.
    func eigendecomposition() -> (values: [Double], vectors: [Double]) {
        let n = size
        var a = values
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        let total = a.reduce(0) { $0 + $1 * $1 }
        for _ in 0..<100 {
            var offDiagonal = 0.0
            for p in 0..<n { for q in (p + 1)..<n { offDiagonal += a[p * n + q] * a[p * n + q] } }
            if offDiagonal <= 1e-30 * total || offDiagonal == 0 { break }
            for p in 0..<n {
                for q in (p + 1)..<n where a[p * n + q] != 0 {
                    let theta = (a[q * n + q] - a[p * n + p]) / (2 * a[p * n + q])
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {
                        let (kp, kq) = (a[k * n + p], a[k * n + q])
                        a[k * n + p] = c * kp - s * kq
                        a[k * n + q] = s * kp + c * kq
                    }
                    for k in 0..<n {
                        let (pk, qk) = (a[p * n + k], a[q * n + k])
                        a[p * n + k] = c * pk - s * qk
                        a[q * n + k] = s * pk + c * qk
                    }
                    for k in 0..<n {
                        let (kp, kq) = (v[k * n + p], v[k * n + q])
                        v[k * n + p] = c * kp - s * kq
                        v[k * n + q] = s * kp + c * kq
                    }
                }
            }
        }
        return ((0..<n).map { a[$0 * n + $0] }, v)
    }
}
