import Foundation
import Testing
@testable import GANKit
@testable import SwiftDL

/// Checkpoints carry a checksum of every tensor, verified on resuming; older checkpoints without
/// checksums are still read. A run's in-memory history stays bounded.
@Suite struct GANCheckpointIntegrityTests {
    static func settings() -> GANSettings { GANTrainerTests.settings() }

    /// A checkpoint of a trainer after 3 iterations (so the optimizers have state).
    static func checkpoint() throws -> URL {
        var trainer = try GANTrainerTests.trainer()
        for _ in 0..<3 { try trainer.step() }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gan-\(UUID()).safetensors")
        try trainer.writeCheckpoint(to: url)
        return url
    }

    /// Flips one bit in the middle of tensor `name`'s bytes in the safetensors file at `url`.
    static func flipBit(of name: String, in url: URL) throws {
        var bytes = try Data(contentsOf: url)
        let headerLength = Int(bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self).littleEndian })
        let header = try JSONSerialization.jsonObject(with: bytes[8..<(8 + headerLength)]) as? [String: Any]
        let entry = try #require(header?[name] as? [String: Any], "no tensor \(name)")
        let offsets = try #require(entry["data_offsets"] as? [Int])
        let position = 8 + headerLength + (offsets[0] + offsets[1]) / 2 + 2  // a high byte of a float32
        bytes[position] ^= 0x40
        try bytes.write(to: url)
    }

    @Test(arguments: ["generator/learnables/fc2/Weights", "discriminator/optimizer/averageSquaredGradient/fc1/Weights"])
    func aFlippedBitIsRefusedNamingTheTensor(_ name: String) throws {
        let url = try Self.checkpoint()
        defer { try? FileManager.default.removeItem(at: url) }
        try Self.flipBit(of: name, in: url)
        let message = errorMessage(DLError.file) {
            _ = try GANTrainer(resumingFrom: url, settings: Self.settings(), data: GANData(mixtureOf: .ring8))
        }
        #expect(message.contains("is damaged: the tensor \(name) does not match its checksum"), "\(message)")
    }

    @Test func aCheckpointWithoutChecksumsIsReadAndSaysSo() throws {
        let url = try Self.checkpoint()
        defer { try? FileManager.default.removeItem(at: url) }
        let verified = try GANTrainer(resumingFrom: url, settings: Self.settings(), data: GANData(mixtureOf: .ring8))
        #expect(!verified.resumedWithoutChecksums)
        var (tensors, metadata) = try SafeTensors.read(from: url)
        #expect(metadata.removeValue(forKey: "gan.checksums") != nil)
        try SafeTensors.write(tensors, metadata: metadata, to: url)
        let old = try GANTrainer(resumingFrom: url, settings: Self.settings(), data: GANData(mixtureOf: .ring8))
        #expect(old.resumedWithoutChecksums)
        #expect(firstDifference(GANTrainerTests.bits(old.generator.learnables), GANTrainerTests.bits(verified.generator.learnables)) == nil)
        tensors["generator/learnables/fc1/Bias"] = tensors["generator/learnables/fc1/Bias"]! + 1
        try SafeTensors.write(tensors, metadata: metadata, to: url)
        #expect(try GANTrainer(resumingFrom: url, settings: Self.settings(), data: GANData(mixtureOf: .ring8)).resumedWithoutChecksums)
    }

    @Test func theChecksumChangesWithAnyBit() throws {
        let a = try DLArray([Float(0.14), 2, 3], shape: [3])
        let b = try DLArray([Float(0.14).nextUp, 2, 3], shape: [3])
        #expect(checksum(a) == checksum(try DLArray([Float(0.14), 2, 3], shape: [3])))
        #expect(checksum(a) != checksum(b))
        #expect(checksum(a).count == 16)
    }

    /// Ten million log entries (a run of ten million iterations) keep at most `capacity` in
    /// memory, the same ones however the run was split by resuming.
    @Test func theHistoryStaysBoundedOverTenMillionIterations() {
        func entry(_ i: Int) -> GANLogEntry {
            GANLogEntry(iteration: i, seconds: Double(i),
                        step: GANStepRecord(iteration: i, discriminatorLoss: 1, generatorLoss: 1, realScore: 0.5, fakeScore: 0.5, penalty: 0))
        }
        var history = GANHistory(capacity: 1000)
        var largest = 0
        for i in 1...10_000_000 {
            history.append(entry(i))
            largest = Swift.max(largest, history.entries.count)
        }
        #expect(largest == 1000)
        #expect(history.entries.count > 500 && history.entries.allSatisfy { $0.iteration % history.iterationStride == 0 })
        #expect(history.last?.iteration == 10_000_000 && history.lastStep?.iteration == 10_000_000)
        var straight = GANHistory(capacity: 1000), resumed = GANHistory(capacity: 1000)
        for i in 1...200_000 { straight.append(entry(i)) }
        for i in 1...70_000 { resumed.append(entry(i)) }
        var continued = resumed
        for i in 70_001...200_000 { continued.append(entry(i)) }
        #expect(continued.entries.map(\.iteration) == straight.entries.map(\.iteration))
    }
}
