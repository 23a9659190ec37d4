import Foundation
import Testing
@testable import GANKit
@testable import SwiftDL

/// `gan export`: the generator's tensors in PyTorch's names and layouts, checked by name and
/// shape against the checkpoint's tensors, and by value through PyTorch's forward pass written
/// out in plain loops (`PyTorchGenerator`, the modules of `scripts/export_check.py`); the check
/// file beside it; the errors; the command.
@Suite struct GANExportTests {
    /// The trainer's architectures but MATLAB's, whose networks take many seconds to create and
    /// checkpoint in a debug build; `scripts/export_check.py` checks those with PyTorch (RESULTS.md).
    enum Architecture: String, CaseIterable, CustomTestStringConvertible {
        case ring8MLP, ring8MLPAverage, imageMLP, dcgan, conditionalImageMLP, conditionalDCGAN
        var testDescription: String { rawValue }
        /// Whether the generator has a label branch (`--conditional`).
        var isConditional: Bool { self == .conditionalImageMLP || self == .conditionalDCGAN }
    }

    /// A run's checkpoint in a fresh directory: ring-8 after 3 iterations (with the generator's
    /// average for `.ring8MLPAverage`), the DCGAN after one iteration (so batch normalization
    /// has running statistics of its own), the image MLP as initialized.
    static func run(_ architecture: Architecture) throws -> URL {
        let directory = try GANCommandTests.temporaryDirectory()
        let checkpoint = GANRun.checkpointURL(in: directory)
        switch architecture {
        case .ring8MLP, .ring8MLPAverage:
            var trainer = try GANTrainerTests.trainer { $0.generatorAverageDecay = architecture == .ring8MLPAverage ? 0.9 : 0 }
            for _ in 0..<3 { try trainer.step() }
            try trainer.writeCheckpoint(to: checkpoint)
        case .imageMLP, .dcgan, .conditionalImageMLP, .conditionalDCGAN:
            var settings = GANSettings(dataset: .mnist, seed: 3)
            settings.batchSize = 2
            settings.latentSize = 10
            settings.architecture = architecture == .imageMLP || architecture == .conditionalImageMLP ? .mlp : .dcgan
            settings.conditioning = architecture.isConditional ? .projection : nil
            let images = DLArray.rand([4, 1, 28, 28], type: .float32, labels: "BCSS", seed: 4) * 2 - 1
            let data = try GANData(images: images, as: .mnist, classes: architecture.isConditional ? [3, 7, 0, 9] : nil)
            var trainer = try GANTrainer(settings: settings, data: data)
            if settings.architecture == .dcgan { try trainer.step() }
            try trainer.writeCheckpoint(to: checkpoint)
        }
        return directory
    }

    /// The state_dict of the PyTorch module: names and shapes.
    static func expectedShapes(_ architecture: Architecture) -> [String: [Int]] {
        func linear(_ name: String, _ inputs: Int, _ outputs: Int) -> [String: [Int]] {
            ["\(name).weight": [outputs, inputs], "\(name).bias": [outputs]]
        }
        func transposed(_ name: String, _ inputs: Int, _ outputs: Int, _ kernel: Int) -> [String: [Int]] {
            ["\(name).weight": [inputs, outputs, kernel, kernel], "\(name).bias": [outputs]]
        }
        func batchNorm(_ name: String, _ channels: Int) -> [String: [Int]] {
            ["\(name).weight": [channels], "\(name).bias": [channels], "\(name).running_mean": [channels],
             "\(name).running_var": [channels], "\(name).num_batches_tracked": []]
        }
        let parts: [[String: [Int]]]
        switch architecture {
        case .ring8MLP, .ring8MLPAverage:
            parts = [linear("fc1", 16, 16), linear("fc2", 16, 16), linear("fc3", 16, 16), linear("fc4", 16, 2)]
        case .imageMLP:
            parts = [linear("fc1", 10, 256), linear("fc2", 256, 256), linear("fc3", 256, 784)]
        case .dcgan:
            parts = [linear("project", 10, 128 * 49), batchNorm("bn1", 128), transposed("tconv1", 128, 64, 4),
                     batchNorm("bn2", 64), transposed("tconv2", 64, 1, 4)]
        case .conditionalImageMLP:
            parts = [["labelEmbedding.weight": [10, 50]], linear("fc1", 10 + 50, 256), linear("fc2", 256, 256), linear("fc3", 256, 784)]
        case .conditionalDCGAN:
            parts = [linear("project", 10, 128 * 49), batchNorm("bn1", 128), ["labelEmbedding.weight": [10, 50]],
                     linear("labelPlane", 50, 49), transposed("tconv1", 128 + 1, 64, 4), batchNorm("bn2", 64),
                     transposed("tconv2", 64, 1, 4)]
        }
        return parts.reduce(into: [:]) { $0.merge($1) { a, _ in a } }
    }

    /// The SwiftDL parameter each PyTorch tensor comes from, and whether it is transposed.
    static func source(of name: String) -> (layer: String, group: String, parameter: String, transposed: Bool)? {
        let parts = name.split(separator: ".").map(String.init)
        let (layer, tensor) = (parts[0], parts[1])
        let isLinear = layer.hasPrefix("fc") || layer == "project" || layer == "labelPlane"
        switch tensor {
        case "weight": return (layer, "learnables", layer.hasPrefix("bn") ? "Scale" : "Weights", isLinear)
        case "bias": return (layer, "learnables", layer.hasPrefix("bn") ? "Offset" : "Bias", false)
        case "running_mean": return (layer, "state", "TrainedMean", false)
        case "running_var": return (layer, "state", "TrainedVariance", false)
        default: return nil
        }
    }

    @Test(arguments: Architecture.allCases)
    func exportedTensorsAreTheCheckpointsInPyTorchNamesAndLayouts(_ architecture: Architecture) throws {
        let directory = try Self.run(architecture)
        defer { try? FileManager.default.removeItem(at: directory) }
        let checkpoint = GANRun.checkpointURL(in: directory)
        let sampler = try GANSampler(checkpoint: checkpoint)
        let url = directory.appendingPathComponent("generator.safetensors")
        let message = try sampler.export(to: url)
        #expect(message.contains("generator.check.safetensors"))
        let (tensors, metadata) = try SafeTensors.read(from: url)
        let expected = Self.expectedShapes(architecture)
        #expect(tensors.keys.sorted() == expected.keys.sorted())
        let (stored, _) = try SafeTensors.read(from: checkpoint)
        let prefix = architecture == .ring8MLPAverage ? "averageGenerator" : "generator"
        for name in expected.keys.sorted() {
            let tensor = try #require(tensors[name])
            #expect(tensor.shape == expected[name], "\(name): \(tensor.shape)")
            #expect(tensor.dataType == .float32 && tensor.labels.isEmpty, "\(name)")
            guard let source = Self.source(of: name) else {
                #expect(name.hasSuffix(".num_batches_tracked") && tensor.scalar(as: Double.self) == 0, "\(name)")
                continue
            }
            let original = try #require(stored["\(prefix)/\(source.group)/\(source.layer)/\(source.parameter)"], "\(name)")
            let value = source.transposed ? try transpose(original) : original
            #expect(value.shape == tensor.shape, "\(name)")
            #expect(firstDifference(tensor.scalars(as: Float.self).map(\.bitPattern), value.scalars(as: Float.self).map(\.bitPattern)) == nil, "\(name)")
        }
        #expect(metadata["architecture"] == sampler.settings.architecture.rawValue && metadata["latent_size"] == "\(sampler.settings.latentSize)")
        #expect(metadata["weights"] == (architecture == .ring8MLPAverage ? "average" : "generator"))
        #expect(metadata["output_shape"] == (sampler.settings.dataset.isPlanar ? "[2]" : "[1,\(sampler.settings.imageSize),\(sampler.settings.imageSize)]"))
        #expect(try JSONDecoder().decode(GANSettings.self, from: Data(try #require(metadata["gan.settings"]).utf8)) == sampler.settings)

        #expect(metadata["class_count"] == (architecture.isConditional ? "10" : nil))
        #expect(metadata["embedding_size"] == (architecture.isConditional ? "50" : nil))

        // The check file: the latent vectors of seed 1 (one per class for a conditional
        // generator, with the classes) and SwiftDL's outputs, which PyTorch's forward pass over
        // the exported tensors reproduces (for the DCGANs on two rows: plain loops are slow).
        let (check, _) = try SafeTensors.read(from: directory.appendingPathComponent("generator.check.safetensors"))
        let latents = try #require(check["latents"]), outputs = try #require(check["outputs"])
        let count = architecture.isConditional ? 10 : 8
        #expect(firstDifference(latents.scalars(as: Float.self), try sampler.latentVectors(count, seed: 1).scalars(as: Float.self)) == nil)
        #expect(outputs.shape == (sampler.settings.dataset.isPlanar ? [count, 2] : [count, 1, 28, 28]))
        let classes = check["classes"]?.scalars(as: Double.self)
        #expect(classes == (architecture.isConditional ? (0..<10).map(Double.init) : nil))
        let reference = PyTorchGenerator(tensors: tensors, architecture: architecture)
        let z = latents.scalars(as: Double.self), y = outputs.scalars(as: Double.self)
        let (latentSize, outputSize) = (latents.shape[1], outputs.count / count)
        let rows = architecture == .dcgan ? [0, 1] : architecture == .conditionalDCGAN ? [2, 7] : Array(0..<count)
        for row in rows {
            let actual = reference.forward(Array(z[row * latentSize ..< (row + 1) * latentSize]), class: classes.map { Int($0[row]) })
            let expectedRow = Array(y[row * outputSize ..< (row + 1) * outputSize])
            let scale = expectedRow.map(Swift.abs).max()!
            let error = zip(actual, expectedRow).map { Swift.abs($0 - $1) }.max()!
            #expect(actual.count == outputSize && error <= 1e-5 * scale, "row \(row): error \(error), scale \(scale)")
        }
    }

    @Test func exportErrorsAreNamedAndLeaveNoFiles() throws {
        let directory = try Self.run(.ring8MLP)
        defer { try? FileManager.default.removeItem(at: directory) }
        let checkpoint = GANRun.checkpointURL(in: directory)
        let sampler = try GANSampler(checkpoint: checkpoint)
        let before = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        // A folder that does not exist, a folder, the checkpoint itself.
        expectError(containing: "cannot write", "does not exist") {
            try sampler.export(to: directory.appendingPathComponent("missing/generator.safetensors"))
        }
        expectError(containing: "cannot write", "it is a folder") {
            try FileManager.default.createDirectory(at: directory.appendingPathComponent("folder.safetensors"), withIntermediateDirectories: false)
            defer { try? FileManager.default.removeItem(at: directory.appendingPathComponent("folder.safetensors")) }
            try sampler.export(to: directory.appendingPathComponent("folder.safetensors"))
        }
        expectError(containing: "is a GAN checkpoint, which the export would replace") { try sampler.export(to: checkpoint) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == before.sorted())
        #expect(try GANSampler(checkpoint: checkpoint).settings == sampler.settings)
    }

    @Test func theCommandExportsAndRefusesMistakes() throws {
        let directory = try GANCommandTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(try GANCommandTests.gan(GANCommandTests.tiny + ["--iterations", "2", "--output", directory.path]).status == 0)
        let from = ["export", "--from", directory.path]
        try GANCommandTests.expectRefusal(from + ["--output", directory.appendingPathComponent("none/g.safetensors").path],
                                          "folder \(directory.path)/none does not exist", unchanged: directory)
        try GANCommandTests.expectRefusal(from + ["--output", ""], "--output must name a file", unchanged: directory)
        try GANCommandTests.expectRefusal(["export", "--from", directory.appendingPathComponent("none").path], "there is no checkpoint at",
                                          unchanged: directory)
        try GANCommandTests.expectRefusal(["export"], "Missing expected argument '--from", unchanged: directory)
        let exported = try GANCommandTests.gan(from)
        #expect(exported.status == 0, "\(exported.errors)")
        #expect(exported.output.contains("8 tensors in PyTorch's names and layouts, the generator of iteration 2"))
        let (tensors, _) = try SafeTensors.read(from: directory.appendingPathComponent("generator.safetensors"))
        #expect(tensors["fc1.weight"]?.shape == [8, 4] && tensors["fc4.weight"]?.shape == [2, 8])
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("generator.check.safetensors").path))
        // A damaged checkpoint (one flipped bit in a tensor's data).
        let checkpoint = GANRun.checkpointURL(in: directory)
        var bytes = try Data(contentsOf: checkpoint)
        bytes[bytes.count - 1] ^= 1
        try bytes.write(to: checkpoint)
        try GANCommandTests.expectRefusal(from + ["--output", directory.appendingPathComponent("other.safetensors").path],
                                          "does not match its checksum", unchanged: directory)
    }
}

/// PyTorch's forward pass of the module `scripts/export_check.py` builds, over exported tensors
/// in PyTorch's layouts, for one latent vector, in double precision and plain loops:
/// `nn.Linear` (`y = W x + b`, `W` `[out, in]`), `nn.BatchNorm2d` in eval mode, and
/// `nn.ConvTranspose2d` (input element `(c, i, j)` adds `x · W[c, o, p, q]` at
/// `(i·stride + p − padding, j·stride + q − padding)`, the kernel not flipped), and for a
/// conditional generator `nn.Embedding` (row `class` of the table) concatenated after the latent
/// vector (MLP) or, through `labelPlane`, as one more channel before `tconv1` (DCGAN).
struct PyTorchGenerator {
    let tensors: [String: [Double]]
    let architecture: GANExportTests.Architecture

    init(tensors: [String: DLArray], architecture: GANExportTests.Architecture) {
        self.tensors = tensors.mapValues { $0.scalars(as: Double.self) }
        self.architecture = architecture
    }

    func forward(_ z: [Double], class label: Int? = nil) -> [Double] {
        let relu = { (x: [Double]) in x.map { Swift.max($0, 0) } }
        let tanh = { (x: [Double]) in x.map { Foundation.tanh($0) } }
        let embedding = label.map { label in
            let table = tensors["labelEmbedding.weight"]!
            let width = table.count / 10
            return Array(table[label * width ..< (label + 1) * width])
        }
        switch architecture {
        case .ring8MLP, .ring8MLPAverage:
            return linear("fc4", relu(linear("fc3", relu(linear("fc2", relu(linear("fc1", z)))))))
        case .imageMLP, .conditionalImageMLP:
            return tanh(linear("fc3", relu(linear("fc2", relu(linear("fc1", z + (embedding ?? [])))))))
        case .dcgan, .conditionalDCGAN:
            var x = relu(batchNorm("bn1", linear("project", z), channels: 128))
            if let embedding { x += linear("labelPlane", embedding) }
            x = relu(batchNorm("bn2", transposedConvolution("tconv1", x, side: 7, stride: 2, padding: 1), channels: 64))
            return tanh(transposedConvolution("tconv2", x, side: 14, stride: 2, padding: 1))
        }
    }

    func linear(_ name: String, _ x: [Double]) -> [Double] {
        let (w, b) = (tensors["\(name).weight"]!, tensors["\(name).bias"]!)
        var y = b
        for o in 0..<b.count {
            for i in 0..<x.count { y[o] += w[o * x.count + i] * x[i] }
        }
        return y
    }

    func batchNorm(_ name: String, _ x: [Double], channels: Int) -> [Double] {
        let (w, b) = (tensors["\(name).weight"]!, tensors["\(name).bias"]!)
        let (mean, variance) = (tensors["\(name).running_mean"]!, tensors["\(name).running_var"]!)
        let size = x.count / channels
        return x.indices.map { i in
            let c = i / size
            return (x[i] - mean[c]) / (variance[c] + 1e-5).squareRoot() * w[c] + b[c]
        }
    }

    func transposedConvolution(_ name: String, _ x: [Double], side: Int, stride: Int, padding: Int) -> [Double] {
        let (w, b) = (tensors["\(name).weight"]!, tensors["\(name).bias"]!)
        let (inputs, outputs) = (x.count / (side * side), b.count)
        let kernel = Int(Double(w.count / (inputs * outputs)).squareRoot())
        let out = (side - 1) * stride + kernel - 2 * padding
        var y = [Double](repeating: 0, count: outputs * out * out)
        for o in 0..<outputs { for k in 0..<out * out { y[o * out * out + k] = b[o] } }
        w.withUnsafeBufferPointer { w in
            x.withUnsafeBufferPointer { x in
                y.withUnsafeMutableBufferPointer { y in
                    for c in 0..<inputs { for i in 0..<side { for j in 0..<side {
                        let value = x[(c * side + i) * side + j]
                        for o in 0..<outputs { for p in 0..<kernel { for q in 0..<kernel {
                            let (r, s) = (i * stride + p - padding, j * stride + q - padding)
                            guard r >= 0, r < out, s >= 0, s < out else { continue }
                            y[(o * out + r) * out + s] += value * w[((c * outputs + o) * kernel + p) * kernel + q]
                        } } }
                    } } }
                }
            }
        }
        return y
    }
}
