import Foundation
import Testing
@testable import GANKit
@testable import SwiftDL

/// The `gan` program end to end: the files of a run, one-line errors with exit status 2 that
/// change no file, and a run killed with SIGKILL that resumes to the same numbers.
@Suite(.serialized) struct GANCommandTests {
    /// The `gan` executable built beside the test bundle (`swift test` builds it).
    static let executable: URL = {
        let testProgram = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let products = Bundle.main.bundleURL.deletingLastPathComponent()
        for candidate in [testProgram, products, Bundle(for: Marker.self).bundleURL.deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent("gan")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return DataFixture.repositoryRoot.appendingPathComponent(".build/debug/gan")
    }()
    private final class Marker {}

    /// Small, fast options for a ring-8 run.
    static let tiny = ["--hidden-size", "8", "--batch-size", "16", "--latent-size", "4"]

    struct Result {
        let status: Int32
        let output: String
        let errors: String
    }

    static func gan(_ arguments: [String], killWhen: ((Process) -> Bool)? = nil) throws -> Result {
        #expect(FileManager.default.isExecutableFile(atPath: executable.path), "no gan executable at \(executable.path)")
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = DataFixture.repositoryRoot
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        if let killWhen {
            while process.isRunning && !killWhen(process) { usleep(2000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        let out = output.fileHandleForReading.readDataToEndOfFile(), err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: String(decoding: out, as: UTF8.self),
                      errors: String(decoding: err, as: UTF8.self))
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gan-test-\(UUID())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs `arguments` expecting a one-line error containing `expected`, exit status 2, and the
    /// files of `directory` unchanged.
    static func expectRefusal(_ arguments: [String], _ expected: String, unchanged directory: URL,
                              sourceLocation: SourceLocation = #_sourceLocation) throws {
        func snapshot() throws -> [String: Data] {
            let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            return Dictionary(uniqueKeysWithValues: try names.map { ($0, try Data(contentsOf: directory.appendingPathComponent($0))) })
        }
        let before = try snapshot()
        let result = try gan(arguments)
        #expect(result.status == 2, "exit status \(result.status) for \(arguments)", sourceLocation: sourceLocation)
        let lines = result.errors.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("gan: error: "), "\(result.errors)", sourceLocation: sourceLocation)
        #expect(result.errors.contains(expected), "\(result.errors)", sourceLocation: sourceLocation)
        #expect(try snapshot() == before, "files changed by \(arguments)", sourceLocation: sourceLocation)
    }

    @Test func aRunWritesItsPicturesLogCheckpointAndSummary() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try Self.gan(Self.tiny + ["--iterations", "20", "--sample-every", "10", "--output", directory.path])
        #expect(result.status == 0, "\(result.errors)")
        for name in ["samples.png", "samples-000010.png", "samples-000020.png", "training.png", "log.jsonl",
                     "checkpoint.safetensors", "summary.json"] {
            #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path), "\(name)")
        }
        let png = try Data(contentsOf: directory.appendingPathComponent("samples.png"))
        #expect(png.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        // Not a terminal: plain progress lines, and the log has every iteration once.
        #expect(result.errors.contains("iteration 20/20"))
        let log = try String(contentsOf: directory.appendingPathComponent("log.jsonl"), encoding: .utf8)
        let steps = log.split(separator: "\n").filter { $0.contains("\"step\"") }
        #expect(steps.count == 20)
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("summary.json"))) as? [String: Any]
        let measures = summary?["measures"] as? [String: Any]
        #expect(measures?["modeCount"] as? Int == 8 && measures?["samples"] as? Int == 2500)
    }

    @Test func mistakesAreOneLineErrorsWithStatusTwoThatChangeNoFile() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = try Self.gan(Self.tiny + ["--iterations", "4", "--output", directory.path])
        #expect(first.status == 0, "\(first.errors)")
        let out = ["--output", directory.path]

        try Self.expectRefusal(["--bogus"] + out, "Unknown option '--bogus'", unchanged: directory)
        try Self.expectRefusal(["--loss", "squared"] + out, "'squared' is invalid for '--loss", unchanged: directory)
        try Self.expectRefusal(["--loss", "hinge", "--flip", "0.2"] + out, "not to hinge", unchanged: directory)
        try Self.expectRefusal(["--iterations", "0"] + out, "iterations must be at least 1", unchanged: directory)
        try Self.expectRefusal(["--g-average", "1"] + out, "average decay must be in [0, 1), not 1.0", unchanged: directory)
        try Self.expectRefusal(["--regularizer", "consensus", "--method", "alternating"] + out, "use --method simultaneous",
                               unchanged: directory)
        try Self.expectRefusal(["--dataset", "mnist"] + out, "mnist needs --data DIR", unchanged: directory)
        try Self.expectRefusal(["--data", directory.appendingPathComponent("missing").path] + out, "no such file", unchanged: directory)
        try Self.expectRefusal(Self.tiny + ["--hidden-size", "12", "--resume"] + out,
                               "checkpoint of another model: hiddenSize: 12 vs 8", unchanged: directory)
        try Self.expectRefusal(["--resume", "--output", directory.appendingPathComponent("empty").path], "no checkpoint at",
                               unchanged: directory)

        // Damaged data: an images file that is not gzip/IDX.
        let data = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: data) }
        for name in ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"] {
            try Data("not an IDX file".utf8).write(to: data.appendingPathComponent(name))
        }
        try Self.expectRefusal(["--data", data.path] + out, "train-images-idx3-ubyte.gz", unchanged: directory)

        // A damaged checkpoint.
        let checkpoint = directory.appendingPathComponent("checkpoint.safetensors")
        let bytes = try Data(contentsOf: checkpoint)
        try bytes.prefix(100).write(to: checkpoint)
        try Self.expectRefusal(Self.tiny + ["--resume"] + out, "checkpoint.safetensors", unchanged: directory)
    }

    @Test func hingeLossWithASpectrallyNormalizedDiscriminator() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try Self.gan(Self.tiny + ["--loss", "hinge", "--spectral-norm", "--iterations", "4", "--output", directory.path])
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.errors.contains("ring-8, mlp, spectrally normalized D, alternating hinge + r1"), "\(result.errors)")
        let (tensors, _) = try SafeTensors.read(from: directory.appendingPathComponent("checkpoint.safetensors"))
        #expect(tensors["discriminator/state/fc1/U"]?.shape == [8] && tensors["discriminator/state/logit/V"]?.shape == [8])
        // Resuming keeps the run's spectral normalization without the flag.
        let resumed = try Self.gan(Self.tiny + ["--loss", "hinge", "--iterations", "6", "--resume", "--output", directory.path])
        #expect(resumed.status == 0, "\(resumed.errors)")
    }

    @Test func topKTrainingIsSavedWithTheRunAndKeptOnResume() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = ["--output", directory.path]
        let result = try Self.gan(Self.tiny + ["--top-k", "0.25", "--top-k-decay", "0.5", "--iterations", "4"] + out)
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.errors.contains("top-k (down to 0.25 of the batch, decay 0.5 per epoch)"), "\(result.errors)")
        let checkpoint = directory.appendingPathComponent("checkpoint.safetensors")
        #expect(try GANTrainer.checkpointSettings(at: checkpoint).topK == GANTopK(minimumFraction: 0.25, decay: 0.5))
        // Resuming keeps it without the flags; asking for another share is another run.
        let resumed = try Self.gan(Self.tiny + ["--iterations", "6", "--resume"] + out)
        #expect(resumed.status == 0, "\(resumed.errors)")
        try Self.expectRefusal(Self.tiny + ["--top-k", "0.5", "--iterations", "8", "--resume"] + out,
                               "topK: {\"decay\":0.5,\"minimumFraction\":0.5} vs {\"decay\":0.5,\"minimumFraction\":0.25}", unchanged: directory)
        let other = ["--output", directory.appendingPathComponent("other").path]
        try Self.expectRefusal(["--top-k", "1.5"] + other, "smallest kept share of the batch must be in (0, 1], not 1.5", unchanged: directory)
        try Self.expectRefusal(["--top-k-decay", "0.9"] + other, "give --top-k too", unchanged: directory)
    }

    @Test func sampleWritesAGridSinglePNGsOrSafetensorsFromARun() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(try Self.gan(Self.tiny + ["--iterations", "4", "--output", directory.path]).status == 0)
        let from = ["sample", "--from", directory.path]
        let grid = try Self.gan(from)
        #expect(grid.status == 0, "\(grid.errors)")
        #expect(grid.output.contains("64 samples of iteration 4"))
        let png = try Data(contentsOf: directory.appendingPathComponent("sample-grid.png"))
        #expect(png.prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]))
        let tensors = try Self.gan(from + ["--format", "safetensors", "--count", "7", "--truncation", "1.5"])
        #expect(tensors.status == 0, "\(tensors.errors)")
        let (read, metadata) = try SafeTensors.read(from: directory.appendingPathComponent("samples.safetensors"))
        #expect(read["samples"]?.shape == [7, 2] && metadata["truncation"] == "1.5")
        try Self.expectRefusal(from + ["--format", "png"], "points, not images", unchanged: directory)
        try Self.expectRefusal(from + ["--count", "0"], "number of samples must be in 1...100000, not 0", unchanged: directory)
        try Self.expectRefusal(["sample", "--from", directory.appendingPathComponent("none").path], "there is no checkpoint at",
                               unchanged: directory)
        try Self.expectRefusal(["sample"], "Missing expected argument '--from", unchanged: directory)

        // Images: one PNG per sample.
        var settings = GANSettings(dataset: .mnist, seed: 3)
        settings.batchSize = 4
        let images = DLArray.rand([8, 1, 28, 28], type: .float32, labels: "BCSS", seed: 4) * 2 - 1
        var trainer = try GANTrainer(settings: settings, data: GANData(images: images, as: .mnist))
        try trainer.step()
        let run = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: run) }
        try trainer.writeCheckpoint(to: run.appendingPathComponent("checkpoint.safetensors"))
        let singles = try Self.gan(["sample", "--from", run.path, "--format", "png", "--count", "3"])
        #expect(singles.status == 0, "\(singles.errors)")
        let names = try FileManager.default.contentsOfDirectory(atPath: run.appendingPathComponent("samples").path).sorted()
        #expect(names == ["sample-00001.png", "sample-00002.png", "sample-00003.png"])
    }

    /// SIGKILL in the middle of a run, then `--resume`: the final parameters equal those of an
    /// uninterrupted run bit for bit.
    @Test func aKilledRunResumesToTheSameNumbers() throws {
        let straight = try Self.temporaryDirectory(), killed = try Self.temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(at: straight)
            try? FileManager.default.removeItem(at: killed)
        }
        let run = Self.tiny + ["--iterations", "300", "--checkpoint-every", "10", "--sample-every", "100"]
        #expect(try Self.gan(run + ["--output", straight.path]).status == 0)

        let checkpoint = killed.appendingPathComponent("checkpoint.safetensors")
        let interrupted = try Self.gan(run + ["--output", killed.path]) { _ in
            FileManager.default.fileExists(atPath: checkpoint.path)
        }
        #expect(interrupted.status != 0, "the run ended before it was killed")
        let resumed = try Self.gan(run + ["--output", killed.path, "--resume"])
        #expect(resumed.status == 0, "\(resumed.errors)")
        #expect(resumed.errors.contains("resuming at iteration"))

        let a = try SafeTensors.read(from: straight.appendingPathComponent("checkpoint.safetensors")).tensors
        let b = try SafeTensors.read(from: checkpoint).tensors
        #expect(a.keys.sorted() == b.keys.sorted())
        for (name, value) in a {
            #expect(value.scalars(as: Float.self) == b[name]?.scalars(as: Float.self), "\(name)")
        }
        let log = try String(contentsOf: killed.appendingPathComponent("log.jsonl"), encoding: .utf8)
        let iterations = log.split(separator: "\n").filter { $0.contains("\"step\"") }.count
        #expect(iterations == 300)
    }

    @Test func eagerPassesWriteTheAcceleratedRunsLogAndCheckpoint() throws {
        let accelerated = try Self.temporaryDirectory(), eager = try Self.temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(at: accelerated)
            try? FileManager.default.removeItem(at: eager)
        }
        let run = Self.tiny + ["--iterations", "12", "--sample-every", "6"]
        #expect(try Self.gan(run + ["--output", accelerated.path]).status == 0)
        #expect(try Self.gan(run + ["--output", eager.path, "--no-accelerate"]).status == 0)
        let a = try SafeTensors.read(from: accelerated.appendingPathComponent("checkpoint.safetensors")).tensors
        let e = try SafeTensors.read(from: eager.appendingPathComponent("checkpoint.safetensors")).tensors
        #expect(a.keys.sorted() == e.keys.sorted())
        for (name, value) in e {
            #expect(value.scalars(as: Float.self) == a[name]?.scalars(as: Float.self), "\(name)")
        }
        // Every logged number but the clock's is the same.
        func entries(_ directory: URL) throws -> [NSDictionary] {
            try String(contentsOf: directory.appendingPathComponent("log.jsonl"), encoding: .utf8)
                .split(separator: "\n").map { line in
                    var entry = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
                    for key in entry.keys where ["second", "time", "elapsed", "rate"].contains(where: key.lowercased().contains) {
                        entry[key] = nil
                    }
                    return entry as NSDictionary
                }
        }
        let acceleratedLog = try entries(accelerated), eagerLog = try entries(eager)
        #expect(acceleratedLog.count == eagerLog.count && acceleratedLog.count >= 12)
        for (index, (x, y)) in zip(acceleratedLog, eagerLog).enumerated() {
            #expect(x == y, "log line \(index + 1)")
        }
    }
}
