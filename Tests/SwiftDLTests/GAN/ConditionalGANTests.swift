import Foundation
import MNISTClassifier
import Testing
@testable import GANKit
@testable import SwiftDL

/// Conditional GANs (`gan --conditional`, `--conditioning projection`): the players' label
/// branches, their shapes and derivatives, the classes of the real and generated batches, the
/// per-class samples, data-parallel training, and the command end to end.
@Suite struct ConditionalGANTests {
    /// A DCGAN on 12 random images of classes 0, 1, …, 9, 0, 1, with a batch of 6.
    static func settings(_ conditioning: GANConditioning = .concatenation, _ architecture: GANArchitecture = .dcgan)
        -> GANSettings {
        var settings = GANSettings(dataset: .mnist, seed: 5)
        settings.architecture = architecture
        settings.conditioning = conditioning
        settings.batchSize = 6
        settings.latentSize = 8
        settings.iterations = 3
        return settings
    }

    static let images = DLArray.rand([12, 1, 28, 28], type: .float32, labels: "BCSS", seed: 6) * 2 - 1
    static let classes = (0..<12).map { $0 % 10 }

    static func data() throws -> GANData { try GANData(images: images, as: .mnist, classes: classes) }

    static func classes(_ values: [Float]) -> DLArray { try! DLArray(values, shape: [values.count, 1], labels: "BC") }

    // MARK: The players

    @Test(arguments: [(GANArchitecture.dcgan, [3, 129, 7, 7], [3, 2, 28, 28]), (.mlp, [3, 58], [3, 2, 28, 28]),
                      (.matlab, [3, 257, 7, 7], [3, 2, 28, 28])])
    func theLabelJoinsTheLatentAndTheImageAsAChannel(architecture: GANArchitecture, generatorJoin: [Int], discriminatorJoin: [Int]) throws {
        let settings = Self.settings(.concatenation, architecture)
        let (g, d) = try GANArchitecture.networks(for: settings)
        #expect(g.inputNames == ["latent", "label"] && d.inputNames == ["image", "label"])
        let z = DLArray.randn([3, settings.latentSize], type: .float32, labels: "BC", seed: 1)
        let y = Self.classes([0, 4, 9])
        let gValues = try g.activations([z, y], of: ["labelEmbedding", "joinLabel", g.outputNames[0]])
        #expect(gValues[0].shape == [3, GANConditioning.embeddingSize] && gValues[0].labels == "BC")
        #expect(gValues[1].shape == generatorJoin, "\(gValues[1].shape)")
        #expect(gValues[2].shape == [3, 1, 28, 28] && gValues[2].labels == "BCSS")
        let dValues = try d.activations([gValues[2], y], of: ["labelPlane", "joinLabel", d.outputNames[0]])
        #expect(dValues[0].shape == [3, 1, 28, 28])
        #expect(dValues[1].shape == discriminatorJoin, "\(dValues[1].shape)")
        #expect(dValues[2].count == 3)
        // The image is the first channel of D's joined input, the label's plane the second.
        let joined = dValues[1].scalars(as: Float.self), image = gValues[2].scalars(as: Float.self)
        let plane = dValues[0].scalars(as: Float.self)
        #expect(firstDifference(Array(joined[0..<784]), Array(image[0..<784])) == nil)
        #expect(firstDifference(Array(joined[784..<1568]), Array(plane[0..<784])) == nil)
        // The same latent vectors drawn for other classes give other images.
        let other = try g.predict([z, Self.classes([1, 4, 8])])[0].scalars(as: Float.self)
        let same = try g.predict([z, y])[0].scalars(as: Float.self)
        #expect(other[0..<784] != same[0..<784] && other[784..<1568] == same[784..<1568])
    }

    /// The conditional generator's derivatives with respect to its class embedding and the
    /// label's projection, in float64, through a small generator of the same form (a projection
    /// of the latent, the label's plane concatenated, a transposed convolution).
    @Test(arguments: 1...2)
    func theGeneratorsLabelBranchIsDifferentiable(order: Int) throws {
        let layers: [any Layer] = [ProjectAndReshapeLayer(outputSize: [2, 2, 2], name: "project"), ActivationLayer(.tanh, name: "tanh"),
                                   TransposedConvolutionLayer(kernel: [2, 2], filters: 1, name: "tconv"), ActivationLayer(.tanh, name: "out")]
        var g = try GANArchitecture.conditionalGenerator(layers, classCount: 3)
        let z = DLArray.randn([4, 2], type: .float64, labels: "BC", seed: 2)
        let y = try DLArray([0.0, 2, 1, 2], shape: [4, 1], labels: "BC")  // class 2 twice: its gradients add up
        try g.initialize(z, y, seed: 3)
        // The embedding's N(0, 0.01²) values made larger, so that the tanh bends.
        g.learnables = g.learnables.mapRows { row in
            extractdata(row.value).converted(to: .float64) * (row.layer == "labelEmbedding" ? 30 : 1)
        }
        let embedding = try #require(g.learnables["labelEmbedding", "Weights"])
        let plane = try #require(g.learnables["labelPlane", "Weights"])
        #expect(embedding.shape == [3, GANConditioning.embeddingSize] && plane.shape == [GANConditioning.embeddingSize, 4])
        let network = g
        let result = try gradcheck({ (p: [DLArray]) in
            var g = network
            g.learnables = g.learnables.mapRows { row in
                row.layer == "labelEmbedding" ? p[0] : row.layer == "labelPlane" && row.parameter == "Weights" ? p[1] : row.value
            }
            var random = DLRandomGenerator(seed: 0)
            return try g.forward([z, y], using: &random).outputs[0]
        }, at: [embedding, plane], order: order)
        #expect(result.passed, "\(result)")
    }

    /// ⟨embed(y), φ⟩, its value by hand and its derivatives with respect to the class
    /// embedding and the features, in float64.
    @Test func theClassProjectionIsTheInnerProductOfTheClassEmbeddingAndTheFeatures() throws {
        var layer = ClassProjectionLayer(classCount: 3, name: "projection")
        let features = DLArray.randn([4, 2, 3], type: .float64, labels: "BCS", seed: 4)
        let y = try DLArray([2.0, 0, 2, 1], shape: [4, 1], labels: "BC")
        var generator = DLRandomGenerator(seed: 1)
        try layer.initialize(for: [features, y], using: &generator)
        let table = try #require(layer[parameter: "Weights"])
        #expect(table.shape == [3, 6] && layer.learnableNames == ["Weights"] && layer.inputCount == 2)
        let weights = DLArray.randn([3, 6], type: .float64, seed: 5)
        layer[parameter: "Weights"] = weights
        let output = try layer.forward([features, y], mode: .training, using: &generator).outputs[0]
        #expect(output.shape == [4, 1] && output.labels == "BC")
        let w = weights.scalars(as: Double.self), phi = features.scalars(as: Double.self)
        for (n, k) in [2, 0, 2, 1].enumerated() {
            let expected = (0..<6).reduce(0.0) { $0 + w[k * 6 + $1] * phi[n * 6 + $1] }
            #expect(Swift.abs(output.scalars(as: Double.self)[n] - expected) < 1e-12)
        }
        try expectGradients({ (p: [DLArray]) in
            var layer = layer
            layer[parameter: "Weights"] = p[0]
            var generator = DLRandomGenerator(seed: 1)
            return try tanh(layer.forward([p[1], y], mode: .training, using: &generator).outputs[0])
        }, at: [weights, features], orders: 1...2)
    }

    /// The projection discriminator's output is its unconditional linear output plus
    /// ⟨embed(y), φ(x)⟩, with φ the features before the last linear layer.
    @Test(arguments: [GANArchitecture.dcgan, .mlp, .matlab])
    func theProjectionDiscriminatorAddsTheClassTermToItsLinearOutput(architecture: GANArchitecture) throws {
        let settings = Self.settings(.projection, architecture)
        let d = try GANArchitecture.networks(for: settings).discriminator
        let x = try Self.images[0..<3, ...].labeled("BCSS")
        let y = Self.classes([3, 0, 7])
        let logit = try #require(d.layers.firstIndex { $0.name == "logit" }), sum = try #require(d.layers.firstIndex { $0.name == "score" })
        let values = try d.activations([x, y], of: [d.sources[logit][0], d.sources[sum][0], "score"])
        let phi = values[0].scalars(as: Double.self), linear = values[1].scalars(as: Double.self)
        let score = values[2].scalars(as: Double.self)
        let table = try #require(d.learnables["projection", "Weights"]).scalars(as: Double.self)
        let width = phi.count / 3
        #expect(table.count == 10 * width)
        for (n, k) in [3, 0, 7].enumerated() {
            let inner = (0..<width).reduce(0.0) { $0 + table[k * width + $1] * phi[n * width + $1] }
            #expect(Swift.abs(score[n] - linear[n] - inner) < 1e-4 * Swift.max(1, Swift.abs(inner)), "\(architecture) \(n)")
        }
    }

    // MARK: Data, training and sampling

    @Test func realBatchesCarryTheClassesOfTheirImages() throws {
        // Image i is filled with i / 100, so a batch's images name their indices.
        let values = (0..<12).flatMap { i in [Float](repeating: Float(i) / 100, count: 784) }
        let data = try GANData(images: DLArray(values, shape: [12, 1, 28, 28], labels: "BCSS"), as: .mnist,
                               classes: Self.classes)
        var random = DLRandomGenerator(seed: 0)
        var order: GANData.EpochOrder?
        for index in 0..<5 {  // across epochs
            let images = try data.batch(index, size: 5, seed: 8, using: &random, order: &order).scalars(as: Float.self)
            let classes = try data.batchClasses(index, size: 5, seed: 8, order: &order)
            #expect(classes.shape == [5, 1] && classes.labels == "BC")
            let expected = (0..<5).map { Float(Self.classes[Int((images[$0 * 784] * 100).rounded())]) }
            #expect(classes.scalars(as: Float.self) == expected, "batch \(index)")
        }
        expectError(containing: "given without their classes") {
            _ = try GANData(images: Self.images, as: .mnist).batchClasses(0, size: 5, seed: 8, order: &order)
        }
        expectError(containing: "one class in 0..<10 each: 12 images, 2 classes") {
            _ = try GANData(images: Self.images, as: .mnist, classes: [1, 2])
        }
        expectError(containing: "one class in 0..<10 each") {
            _ = try GANData(images: Self.images, as: .mnist, classes: Array(repeating: 10, count: 12))
        }
    }

    @Test(arguments: [GANConditioning.concatenation, .projection])
    func conditionalTrainingResumesExactly(conditioning: GANConditioning) throws {
        var settings = Self.settings(conditioning)
        settings.loss = conditioning == .projection ? .hinge : .nonSaturating
        settings.regularizer = conditioning == .projection ? .none : .r1
        let data = try Self.data()
        var straight = try GANTrainer(settings: settings, data: data)
        for _ in 0..<2 { try straight.step() }
        var first = try GANTrainer(settings: settings, data: data)
        try first.step()
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cgan-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try first.writeCheckpoint(to: url)
        var resumed = try GANTrainer(resumingFrom: url, settings: settings, data: data)
        try resumed.step()
        for (a, b) in [(resumed.generator, straight.generator), (resumed.discriminator, straight.discriminator)] {
            #expect(firstDifference(GANTrainerTests.bits(a.learnables), GANTrainerTests.bits(b.learnables)) == nil)
            #expect(firstDifference(GANTrainerTests.bits(a.state), GANTrainerTests.bits(b.state)) == nil)
        }
        // Training moved the class embeddings of both players.
        let initial = try GANArchitecture.networks(for: settings)
        let dEmbedding = conditioning == .projection ? "projection" : "labelEmbedding"
        #expect(straight.generator.learnables["labelEmbedding", "Weights"]!.scalars(as: Float.self)
                    != initial.generator.learnables["labelEmbedding", "Weights"]!.scalars(as: Float.self))
        #expect(straight.discriminator.learnables[dEmbedding, "Weights"]!.scalars(as: Float.self)
                    != initial.discriminator.learnables[dEmbedding, "Weights"]!.scalars(as: Float.self))
        // The settings say so in the checkpoint; settings without the field are unconditional.
        #expect(try GANTrainer.checkpointSettings(at: url).conditioning == conditioning)
        var old = try JSONSerialization.jsonObject(with: JSONEncoder().encode(settings)) as! [String: Any]
        old["conditioning"] = nil
        #expect(try JSONDecoder().decode(GANSettings.self, from: JSONSerialization.data(withJSONObject: old)).conditioning == nil)
    }

    /// Each worker takes its rows of the real batch's classes and of the generated batch's. (With
    /// the projection, the generator's last bias, a sum over 4,704 pixels' gradients, differs by
    /// 2.4e-5 of its size after 2 steps: the order of the sums, not the rows.)
    @Test(arguments: [GANConditioning.concatenation, .projection])
    func conditionalWorkersFollowOneProcess(conditioning: GANConditioning) throws {
        var settings = GANDataParallelTests.dcganSettings(.nonSaturating)
        settings.conditioning = conditioning
        settings.batchSize = 6
        let data = try Self.data()
        let alone = try GANDataParallelTests.trainAlone(settings, data)
        for result in try GANDataParallelTests.trainInParallel(settings, data, workers: 2) {
            GANDataParallelTests.expectClose(result, alone, relative: conditioning == .projection ? 1e-4 : 1e-5,
                                             skipping: GANDataParallelTests.biasesBeforeBatchNormalization)
        }
    }

    @Test func samplesAreDrawnForEveryClassInTurn() throws {
        #expect(try GANConditioning.classBlocks(20, classCount: 10).scalars(as: Float.self) == (0..<20).map { Float($0 / 2) })
        #expect(try GANConditioning.classBlocks(15, classCount: 3).scalars(as: Float.self) == [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2])
        expectError(containing: "at least 1, not 0 and 10") { _ = try GANConditioning.classBlocks(0, classCount: 10) }
        let settings = Self.settings()
        var trainer = try GANTrainer(settings: settings, data: Self.data())
        try trainer.step()
        let directory = try GANCommandTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = GANRun.checkpointURL(in: directory)
        try trainer.writeCheckpoint(to: url)
        let sampler = try GANSampler(checkpoint: url)
        #expect(sampler.classCount == 10)
        let samples = try sampler.samples(20, seed: 3)
        let expected = try trainer.generate(sampler.latentVectors(20, seed: 3), classes: try GANConditioning.classBlocks(20, classCount: 10))
        #expect(firstDifference(samples.scalars(as: Float.self).map(\.bitPattern), expected.scalars(as: Float.self).map(\.bitPattern)) == nil)
        // A grid of them has one row per class: two columns.
        let grid = try GANPictures.samples(samples, settings: settings, iteration: 1)
        #expect(grid == (try imageGrid(samples, columns: 2, valueRange: -1...1, padding: 2, scale: 3)))
        expectError(containing: "multiple of 10, not 25") { _ = try sampler.samples(25, seed: 3) }
        expectError(containing: "needs the classes of its samples") { _ = try trainer.generate(sampler.latentVectors(2, seed: 3)) }
        expectError(containing: "takes no classes") {
            _ = try GANTrainerTests.trainer().generate(DLArray.zeros([2, 16], type: .float32, labels: "BC"), classes: Self.classes([0, 1]))
        }
    }

    @Test func conditionalSettingsNeedLabeledImages() throws {
        for dataset in [GANDataset.ring8, .grid25] {
            var settings = GANSettings(dataset: dataset)
            settings.conditioning = .concatenation
            expectError(containing: "a conditional GAN needs labeled images", "\(dataset.rawValue)") { try settings.validate() }
        }
        expectError(containing: "a conditional GAN needs the class of every image") {
            _ = try GANTrainer(settings: Self.settings(), data: GANData(images: Self.images, as: .mnist))
        }
    }
}

/// `gan --conditional` end to end, on IDX files of 40 random images of every class.
@Suite(.serialized) struct ConditionalGANCommandTests {
    static func writeIDX(to directory: URL) throws {
        func bigEndian(_ values: [UInt32]) -> Data { Data(values.flatMap { withUnsafeBytes(of: $0.bigEndian, Array.init) }) }
        var random = DLRandomGenerator(seed: 1)
        let pixels = (0..<40 * 784).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        try (bigEndian([0x803, 40, 28, 28]) + Data(pixels)).write(to: directory.appendingPathComponent("train-images-idx3-ubyte"))
        try (bigEndian([0x801, 40]) + Data((0..<40).map { UInt8($0 % 10) }))
            .write(to: directory.appendingPathComponent("train-labels-idx1-ubyte"))
    }

    @Test func aConditionalRunMeasuresItsClassesResumesExactlyAndSamplesPerClass() throws {
        let data = try GANCommandTests.temporaryDirectory(), directory = try GANCommandTests.temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(at: data)
            try? FileManager.default.removeItem(at: directory)
        }
        try Self.writeIDX(to: data)
        let options = ["--data", data.path, "--conditional", "--arch", "mlp", "--batch-size", "8", "--latent-size", "4",
                       "--sample-every", "100", "--checkpoint-every", "1", "--measure-samples", "100"]
        let straight = directory.appendingPathComponent("straight"), resumed = directory.appendingPathComponent("resumed")
        let whole = try GANCommandTests.gan(options + ["--iterations", "3", "--output", straight.path])
        #expect(whole.status == 0, "\(whole.errors)")
        #expect(whole.errors.contains("mnist, mlp, conditional (concatenation)"), "\(whole.errors)")
        #expect(whole.output.contains("samples of their class"), "\(whole.output)")
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: straight.appendingPathComponent("summary.json"))) as? [String: Any]
        let measures = try #require(summary?["measures"] as? [String: Any])
        let accuracy = try #require(measures["classAccuracyPercent"] as? Double)
        #expect((0...100).contains(accuracy) && measures["inceptionScore"] is Double)

        #expect(try GANCommandTests.gan(options + ["--iterations", "2", "--output", resumed.path]).status == 0)
        let second = try GANCommandTests.gan(["--resume", "--data", data.path, "--iterations", "3", "--output", resumed.path])
        #expect(second.status == 0, "\(second.errors)")
        let a = try SafeTensors.read(from: GANRun.checkpointURL(in: straight)).tensors
        let b = try SafeTensors.read(from: GANRun.checkpointURL(in: resumed)).tensors
        #expect(a.keys.sorted() == b.keys.sorted() && a.keys.contains("generator/learnables/labelEmbedding/Weights"))
        for name in a.keys.sorted() {
            #expect(firstDifference(a[name]!.scalars(as: Float.self).map(\.bitPattern), b[name]!.scalars(as: Float.self).map(\.bitPattern)) == nil,
                    "\(name)")
        }

        // Per-class samples: 10 of each class by default, one row per class.
        let grid = try GANCommandTests.gan(["sample", "--from", straight.path])
        #expect(grid.status == 0 && grid.output.contains("100 samples of iteration 3"), "\(grid.output) \(grid.errors)")
        let tensors = try GANCommandTests.gan(["sample", "--from", straight.path, "--format", "safetensors", "--count", "20"])
        #expect(tensors.status == 0, "\(tensors.errors)")
        let read = try SafeTensors.read(from: straight.appendingPathComponent("samples.safetensors")).tensors
        #expect(read["samples"]?.shape == [20, 1, 28, 28])
        #expect(read["classes"]?.scalars(as: Float.self) == (0..<20).map { Float($0 / 2) })
        try GANCommandTests.expectRefusal(["sample", "--from", straight.path, "--count", "15"], "must be a multiple of 10, not 15",
                                          unchanged: straight)

        // `gan measure` with the run's own latent vectors and number of samples gives the
        // measures the run logged; truncated latents give others, still one class in turn.
        let measure = ["measure", "--from", straight.path, "--data", data.path, "--samples", "100", "--json"]
        let again = try GANCommandTests.gan(measure)
        #expect(again.status == 0, "\(again.errors)")
        let remeasured = try JSONSerialization.jsonObject(with: Data(again.output.utf8)) as? [String: Any]
        #expect(remeasured.map { NSDictionary(dictionary: $0) } == NSDictionary(dictionary: measures), "\(again.output)")
        let truncated = try GANCommandTests.gan(measure + ["--truncation", "0.5"])
        let truncatedMeasures = try JSONSerialization.jsonObject(with: Data(truncated.output.utf8)) as? [String: Any]
        #expect(truncatedMeasures?["samples"] as? Int == 100 && truncatedMeasures?["classAccuracyPercent"] is Double)
        #expect(truncatedMeasures?["frechetDistance"] as? Double != measures["frechetDistance"] as? Double)
        try GANCommandTests.expectRefusal(Array(measure.dropLast(3)) + ["--samples", "15"], "must be a multiple of 10, not 15", unchanged: straight)
        try GANCommandTests.expectRefusal(["measure", "--from", straight.path, "--samples", "1"], "--samples must be at least 2",
                                          unchanged: straight)
        try GANCommandTests.expectRefusal(["measure", "--from", straight.path, "--data", data.path, "--classifier", "/nonexistent.safetensors"],
                                          "/nonexistent.safetensors", unchanged: straight)
    }

    @Test func conditionalTwoDimensionalDataAreRefused() throws {
        let directory = try GANCommandTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = ["--output", directory.appendingPathComponent("run").path]
        try GANCommandTests.expectRefusal(["--conditional"] + out, "a conditional GAN needs labeled images (mnist or fashion-mnist); the ring-8 data",
                                          unchanged: directory)
        try GANCommandTests.expectRefusal(["--dataset", "grid-25", "--conditioning", "projection"] + out,
                                          "the grid-25 data are points in the plane without classes", unchanged: directory)
        try GANCommandTests.expectRefusal(["--dataset", "mnist", "--conditioning", "sideways"] + out, "sideways", unchanged: directory)
    }
}
