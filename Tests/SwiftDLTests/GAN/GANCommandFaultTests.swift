import Foundation
import Testing
@testable import SwiftDL

/// The faults the `gan` program survives without losing or corrupting a run's work: divergence,
/// a directory holding a run or used by another run, sizes the machine cannot hold, empty data,
/// SIGINT and SIGTERM, stale temporary files, and mistakes named by their option.
@Suite(.serialized) struct GANCommandFaultTests {
    typealias Command = GANCommandTests
    static let tiny = GANCommandTests.tiny

    /// A finished 4-iteration run in a new directory.
    static func finishedRun() throws -> URL {
        let directory = try Command.temporaryDirectory()
        let result = try Command.gan(Self.tiny + ["--iterations", "4", "--output", directory.path])
        #expect(result.status == 0, "\(result.errors)")
        return directory
    }

    /// The iteration a checkpoint was written at.
    static func checkpointIteration(_ directory: URL) throws -> Int {
        let metadata = try SafeTensors.read(from: directory.appendingPathComponent("checkpoint.safetensors")).metadata
        let progress = try JSONSerialization.jsonObject(with: Data(try #require(metadata["gan.progress"]).utf8)) as? [String: Any]
        return try #require(progress?["iteration"] as? Int)
    }

    /// The log's lines, each checked to be a JSON object.
    static func logLines(_ directory: URL) throws -> [[String: Any]] {
        let text = try String(contentsOf: directory.appendingPathComponent("log.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return try #require(object, "not a JSON object: \(line)")
        }
    }

    /// Starts `gan` without waiting for it.
    static func start(_ arguments: [String]) throws -> (process: Process, errors: Pipe) {
        let process = Process()
        process.executableURL = Command.executable
        process.arguments = arguments
        process.currentDirectoryURL = DataFixture.repositoryRoot
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        return (process, errors)
    }

    /// Writes MNIST-style IDX files of `images` 28×28 images (all pixels 7) to `directory`.
    static func writeIDX(images: Int, to directory: URL) throws {
        func bigEndian(_ values: [UInt32]) -> Data { Data(values.flatMap { withUnsafeBytes(of: $0.bigEndian, Array.init) }) }
        try (bigEndian([0x803, UInt32(images), 28, 28]) + Data(repeating: 7, count: images * 784))
            .write(to: directory.appendingPathComponent("train-images-idx3-ubyte"))
        try (bigEndian([0x801, UInt32(images)]) + Data(repeating: 1, count: images))
            .write(to: directory.appendingPathComponent("train-labels-idx1-ubyte"))
    }

    static func waitFor(_ condition: () -> Bool, seconds: Double = 300) {
        let end = Date().addingTimeInterval(seconds)
        while !condition() && Date() < end { usleep(5000) }
    }

    @Test func aDivergingRunStopsAtOnceAndKeepsTheLastGoodCheckpoint() throws {
        let directory = try Command.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try Command.gan(Self.tiny + ["--iterations", "300", "--checkpoint-every", "1", "--sample-every", "100",
                                             "--d-lr", "1e6", "--g-lr", "1e6", "--output", directory.path])
        #expect(result.status == 1, "\(result.errors)")
        let lines = result.errors.split(separator: "\n").filter { $0.hasPrefix("gan: error:") }
        #expect(lines.count == 1 && lines[0].contains("training diverged at iteration"), "\(result.errors)")
        let log = try Self.logLines(directory)
        let last = try #require(log.last)
        let diverged = try #require(last["iteration"] as? Int)
        #expect(diverged < 300 && result.errors.contains("diverged at iteration \(diverged):"))
        #expect("\(last)".contains("NaN") || "\(last)".contains("Infinity"), "\(last)")
        let kept = try Self.checkpointIteration(directory)
        #expect(kept < diverged)
        let keptNote = "of iteration \(kept), is unchanged"
        let noted = result.errors.contains(keptNote)
        #expect(noted, "\(result.errors)")
        for (name, value) in try SafeTensors.read(from: directory.appendingPathComponent("checkpoint.safetensors")).tensors {
            #expect(value.scalars(as: Float.self).allSatisfy { $0.isFinite }, "\(name)")
        }
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("summary.json").path))
    }

    @Test func aDirectoryHoldingARunIsReplacedOnlyWithOverwrite() throws {
        let directory = try Self.finishedRun()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Command.expectRefusal(Self.tiny + ["--iterations", "5", "--output", directory.path],
                                  "holds a run already (checkpoint.safetensors, log.jsonl, summary.json", unchanged: directory)
        try Command.expectRefusal(Self.tiny + ["--hidden-size", "32", "--output", directory.path], "continue it with --resume, or replace it with --overwrite",
                                  unchanged: directory)
        let replaced = try Command.gan(Self.tiny + ["--iterations", "6", "--overwrite", "--output", directory.path])
        #expect(replaced.status == 0, "\(replaced.errors)")
        #expect(try Self.logLines(directory).filter { $0["step"] != nil }.count == 6)
    }

    @Test func aSecondRunInTheSameDirectoryIsRefused() throws {
        let directory = try Command.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = try Self.start(Self.tiny + ["--iterations", "1000000", "--checkpoint-every", "20", "--output", directory.path])
        defer {
            kill(first.process.processIdentifier, SIGKILL)
            first.process.waitUntilExit()
        }
        let checkpoint = directory.appendingPathComponent("checkpoint.safetensors")
        Self.waitFor { FileManager.default.fileExists(atPath: checkpoint.path) || !first.process.isRunning }
        #expect(first.process.isRunning)
        let second = try Command.gan(Self.tiny + ["--iterations", "1000000", "--resume", "--output", directory.path])
        #expect(second.status == 2)
        #expect(second.errors.hasPrefix("gan: error: another gan run is using \(directory.path)"), "\(second.errors)")
        #expect(second.errors.split(separator: "\n").count == 1)
        let third = try Command.gan(Self.tiny + ["--iterations", "5", "--overwrite", "--output", directory.path])
        #expect(third.status == 2 && third.errors.contains("another gan run is using"), "\(third.errors)")
        #expect(first.process.isRunning)
    }

    @Test func sizesBeyondTheMachineOrTheDataAreRefusedBeforeAnyFileChanges() throws {
        let directory = try Self.finishedRun()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = ["--overwrite", "--output", directory.path]
        try Command.expectRefusal(["--batch-size", "1000000000"] + out, "a batch size of 1000000000 and a latent size of 16 need about",
                                  unchanged: directory)
        try Command.expectRefusal(["--latent-size", "100000000"] + out, "more than this machine's", unchanged: directory)

        // IDX files of no images, and of fewer images than a batch.
        let data = try Command.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: data) }
        try Self.writeIDX(images: 0, to: data)
        try Command.expectRefusal(["--data", data.path, "--arch", "matlab", "--image-size", "64"] + out,
                                  "train-images-idx3-ubyte) holds no images", unchanged: directory)
        try Self.writeIDX(images: 10, to: data)
        try Command.expectRefusal(["--data", data.path, "--batch-size", "16"] + out, "the batch size 16 is larger than the 10 images",
                                  unchanged: directory)
    }

    @Test(arguments: [SIGINT, SIGTERM])
    func aSignalStopsAfterTheStepWithACheckpointAndStatus130(_ signal: Int32) throws {
        let directory = try Command.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = try Self.start(Self.tiny + ["--iterations", "1000000", "--checkpoint-every", "50", "--sample-every", "1000000",
                                         "--output", directory.path])
        let checkpoint = directory.appendingPathComponent("checkpoint.safetensors")
        Self.waitFor { FileManager.default.fileExists(atPath: checkpoint.path) || !run.process.isRunning }
        kill(run.process.processIdentifier, signal)
        let errors = String(decoding: run.errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        run.process.waitUntilExit()
        #expect(run.process.terminationStatus == 130, "\(errors)")
        #expect(errors.contains("continue with: gan --resume --output \(directory.path)"), "\(errors)")
        let stopped = try Self.checkpointIteration(directory)
        let steps = try Self.logLines(directory).compactMap { $0["step"] != nil ? $0["iteration"] as? Int : nil }
        #expect(stopped > 50 || stopped == 50)
        #expect(steps == Array(1...stopped), "the log has \(steps.count) steps, the checkpoint \(stopped)")
    }

    /// A DCGAN step takes long enough for a second Ctrl-C to arrive while the first waits for it.
    @Test func aSecondCtrlCStopsAtOnce() throws {
        let directory = try Command.temporaryDirectory(), data = try Command.temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(at: directory)
            try? FileManager.default.removeItem(at: data)
        }
        try Self.writeIDX(images: 64, to: data)
        let run = try Self.start(["--data", data.path, "--batch-size", "64", "--iterations", "1000", "--checkpoint-every", "1",
                                  "--sample-every", "1000", "--output", directory.path])
        let checkpoint = directory.appendingPathComponent("checkpoint.safetensors")
        Self.waitFor { FileManager.default.fileExists(atPath: checkpoint.path) || !run.process.isRunning }
        kill(run.process.processIdentifier, SIGINT)
        usleep(100_000)
        kill(run.process.processIdentifier, SIGINT)
        let errors = String(decoding: run.errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        run.process.waitUntilExit()
        #expect(run.process.terminationStatus == 130, "\(errors)")
        #expect(errors.contains("stopping after this iteration"), "\(errors)")
        #expect(errors.contains("stopped at once; the last checkpoint is kept"), "\(errors)")
        #expect(!errors.contains("continue with: gan --resume"), "\(errors)")
        #expect(try Self.checkpointIteration(directory) >= 1)
    }

    @Test func resumingKeepsTheRunsSampleAndCheckpointIntervals() throws {
        let directory = try Command.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = try Command.gan(Self.tiny + ["--iterations", "8", "--sample-every", "3", "--checkpoint-every", "4", "--output", directory.path])
        #expect(first.status == 0, "\(first.errors)")
        let resumed = try Command.gan(["--iterations", "16", "--resume", "--output", directory.path])
        #expect(resumed.status == 0, "\(resumed.errors)")
        let pictures = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix("samples-") }.sorted()
        #expect(pictures == [3, 6, 8, 9, 12, 15, 16].map { String(format: "samples-%06d.png", $0) })
    }

    @Test func temporaryFilesLeftByKillsAreRemovedOnResuming() throws {
        let directory = try Self.finishedRun()
        defer { try? FileManager.default.removeItem(at: directory) }
        let stale = directory.appendingPathComponent(".checkpoint.safetensors.\(UUID().uuidString).tmp")
        let other = directory.appendingPathComponent(".notes.tmp")
        try Data(repeating: 1, count: 1000).write(to: stale)
        try Data(repeating: 1, count: 10).write(to: other)
        let resumed = try Command.gan(["--iterations", "6", "--resume", "--output", directory.path])
        #expect(resumed.status == 0, "\(resumed.errors)")
        #expect(!FileManager.default.fileExists(atPath: stale.path))
        #expect(FileManager.default.fileExists(atPath: other.path))
    }

    @Test func mistakesNameTheOptionAndWhatIsWrong() throws {
        let directory = try Self.finishedRun()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = ["--output", directory.path]
        try Command.expectRefusal(["--batch-size", "-5"] + out, "--batch-size must be at least 2, not -5", unchanged: directory)
        try Command.expectRefusal(["--latent-size", "0"] + out, "--latent-size must be at least 1, not 0", unchanged: directory)
        try Command.expectRefusal(["--g-lr", "-1", "--overwrite"] + out, "learning rate must be positive and finite, not -1.0",
                                  unchanged: directory)
        let file = directory.appendingPathComponent("summary.json")
        try Command.expectRefusal(["--output", file.appendingPathComponent("run").path],
                                  "--output \(file.path)/run cannot be a directory: \(file.path) is a file", unchanged: directory)
        try Command.expectRefusal(["--output", ""], "--output must name a directory, not an empty string", unchanged: directory)
    }
}
