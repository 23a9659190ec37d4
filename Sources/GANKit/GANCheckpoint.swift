import Foundation
import SwiftDL

/// Where a run stands, stored with the parameters in a checkpoint.
struct GANProgress: Codable {
    var iteration: Int
    var batchesRead: Int
    var generatorSteps: Int
    var discriminatorSteps: Int
    var random: DLRandomGenerator
}

/// How often a run writes pictures and checkpoints, stored in its checkpoints so that a resumed
/// run keeps them.
public struct GANRunIntervals: Codable, Sendable, Equatable {
    /// Iterations between sample pictures and measures.
    public var sample: Int
    /// Iterations between checkpoints.
    public var checkpoint: Int

    /// Intervals of `sample` and `checkpoint` iterations.
    public init(sample: Int, checkpoint: Int) {
        self.sample = sample
        self.checkpoint = checkpoint
    }
}

private let settingsKey = "gan.settings"
private let progressKey = "gan.progress"
private let intervalsKey = "gan.intervals"
private let checksumsKey = "gan.checksums"

/// The checksum of a tensor's elements: 64-bit FNV-1a of their bytes (little-endian, as
/// stored), as 16 hexadecimal digits. One flipped bit anywhere changes it.
func checksum(_ array: DLArray) -> String {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    func add<T>(_ values: [T]) {
        values.withUnsafeBytes { bytes in
            for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        }
    }
    switch array.dataType {
    case .float32: add(array.scalars(as: Float.self))
    case .float64: add(array.scalars(as: Double.self))
    case .bool: add(array.scalars(as: Bool.self))
    default: add(array.shape)  // a GAN checkpoint holds real tensors only
    }
    let digits = String(hash, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
}

extension GANTrainer {
    /// Writes everything needed to continue the run exactly (both networks' parameters and
    /// state, both optimizers' state, the iteration, the data position and the random state) to
    /// one safetensors file, atomically: an interrupted write leaves the previous checkpoint.
    /// The metadata holds a checksum of every tensor (verified on resuming) and, when given, the
    /// run's `intervals`.
    /// - Throws: `DLError.file` when the file cannot be written.
    public func writeCheckpoint(to url: URL, intervals: GANRunIntervals? = nil) throws {
        var tensors: [String: DLArray] = [:]
        func store(_ table: DLParameterTable, _ prefix: String) {
            for row in table.rows { tensors["\(prefix)/\(row.layer)/\(row.parameter)"] = row.value }
        }
        for (name, network) in [("generator", generator), ("discriminator", discriminator)] + (averageGenerator.map { [("averageGenerator", $0)] } ?? []) {
            store(network.learnables, "\(name)/learnables")
            store(network.state, "\(name)/state")
        }
        for (name, optimizer) in [("generator", generatorOptimizer), ("discriminator", discriminatorOptimizer)] {
            for (key, table) in optimizer.state { store(table, "\(name)/optimizer/\(key)") }
        }
        let progress = GANProgress(iteration: iteration, batchesRead: batchesRead, generatorSteps: generatorOptimizer.step,
                                   discriminatorSteps: discriminatorOptimizer.step, random: random)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var metadata = [settingsKey: String(decoding: try encoder.encode(settings), as: UTF8.self),
                        progressKey: String(decoding: try encoder.encode(progress), as: UTF8.self),
                        checksumsKey: String(decoding: try encoder.encode(tensors.mapValues(checksum)), as: UTF8.self)]
        if let intervals { metadata[intervalsKey] = String(decoding: try encoder.encode(intervals), as: UTF8.self) }
        try SafeTensors.write(tensors, metadata: metadata, to: url)
    }

    /// The settings a checkpoint was written with.
    /// - Throws: `DLError.file` for a missing or damaged file, or one that is not a GAN
    ///   checkpoint.
    public static func checkpointSettings(at url: URL) throws -> GANSettings {
        let (_, metadata) = try SafeTensors.read(from: url)
        return try decodeSettings(metadata, url)
    }

    /// The sample and checkpoint intervals of the run that wrote a checkpoint, or nil when it
    /// does not say (a checkpoint written by ``writeCheckpoint(to:intervals:)`` without them, or
    /// by an earlier version).
    /// - Throws: `DLError.file` for a missing or damaged file.
    public static func checkpointIntervals(at url: URL) throws -> GANRunIntervals? {
        let (_, metadata) = try SafeTensors.read(from: url)
        return metadata[intervalsKey].flatMap { try? JSONDecoder().decode(GANRunIntervals.self, from: Data($0.utf8)) }
    }

    /// Checks every tensor of a checkpoint against its checksum.
    /// - Returns: false when the checkpoint has no checksums (written before they were added).
    /// - Throws: `DLError.file` naming the first tensor whose checksum does not match, or
    ///   that has none.
    static func verifyChecksums(_ tensors: [String: DLArray], _ metadata: [String: String], _ url: URL) throws -> Bool {
        guard let text = metadata[checksumsKey] else { return false }
        guard let checksums = try? JSONDecoder().decode([String: String].self, from: Data(text.utf8)) else {
            throw DLError.file("\(url.path): the checkpoint's checksums are damaged")
        }
        for name in tensors.keys.sorted() {
            guard let expected = checksums[name] else {
                throw DLError.file("\(url.path) is damaged: the tensor \(name) has no checksum")
            }
            guard checksum(tensors[name]!) == expected else {
                throw DLError.file("\(url.path) is damaged: the tensor \(name) does not match its checksum")
            }
        }
        return true
    }

    /// The settings stored in a checkpoint's metadata.
    /// - Throws: `DLError.file` when there are none or they cannot be read.
    static func decodeSettings(_ metadata: [String: String], _ url: URL) throws -> GANSettings {
        guard let text = metadata[settingsKey] else {
            throw DLError.file("\(url.path) is not a GAN checkpoint (it has no \(settingsKey) metadata)")
        }
        do {
            return try JSONDecoder().decode(GANSettings.self, from: Data(text.utf8))
        } catch {
            throw DLError.file("\(url.path): the GAN settings in the checkpoint cannot be read: \(error)")
        }
    }

    /// The settings that make `settings` and `other` different models or games (everything but
    /// the number of iterations, which a resumed run may extend), as "name: this vs other".
    public static func modelDifferences(_ settings: GANSettings, _ other: GANSettings) throws -> [String] {
        func fields(_ value: GANSettings) throws -> [String: String] {
            let object = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(value)) as? [String: Any] ?? [:]
            return object.mapValues { value in
                let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed])
                return data.map { String(decoding: $0, as: UTF8.self) } ?? "\(value)"
            }
        }
        let mine = try fields(settings), theirs = try fields(other)
        return Set(mine.keys).union(theirs.keys).subtracting(["iterations"]).sorted().compactMap { key in
            mine[key] == theirs[key] ? nil : "\(key): \(mine[key] ?? "none") vs \(theirs[key] ?? "none")"
        }
    }

    /// A trainer continuing from the checkpoint at `url`, which must have been written by a
    /// trainer with the same `settings` (apart from the number of iterations) on the same data.
    /// Every tensor is checked against the checksum stored with it; a checkpoint without
    /// checksums (written by an earlier version) is read unverified, and
    /// ``resumedWithoutChecksums`` says so. With a `communicator`, every worker reads the
    /// checkpoint and continues as one of its workers (see ``init(settings:data:communicator:)``);
    /// a checkpoint does not depend on the number of workers that wrote it.
    /// - Throws: `DLError.file` for a missing or damaged file (naming a tensor that does not
    ///   match its checksum), a file that is not a GAN checkpoint, or a checkpoint of another
    ///   model (naming the settings that differ); nothing is changed then.
    public init(resumingFrom url: URL, settings: GANSettings, data: GANData, communicator: (any DLCommunicator)? = nil) throws {
        let (tensors, metadata) = try SafeTensors.read(from: url)
        let verified = try Self.verifyChecksums(tensors, metadata, url)
        let saved = try Self.decodeSettings(metadata, url)
        let differences = try Self.modelDifferences(settings, saved)
        guard differences.isEmpty else {
            throw DLError.file("\(url.path) is a checkpoint of another model: \(differences.joined(separator: "; ")) (requested vs saved)")
        }
        guard let text = metadata[progressKey],
              let progress = try? JSONDecoder().decode(GANProgress.self, from: Data(text.utf8)) else {
            throw DLError.file("\(url.path): the checkpoint's progress record is missing or damaged")
        }
        try self.init(settings: settings, data: data, communicator: communicator)
        func load(_ table: DLParameterTable, _ prefix: String) throws -> DLParameterTable {
            try table.mapRows { row in
                let name = "\(prefix)/\(row.layer)/\(row.parameter)"
                guard let value = tensors[name] else {
                    throw DLError.file("\(url.path) is a checkpoint of another model: it has no \(name)")
                }
                guard value.shape == row.value.shape, value.dataType == row.value.dataType else {
                    throw DLError.file("\(url.path) is a checkpoint of another model: \(name) is \(value.shape) \(value.dataType) there, \(row.value.shape) \(row.value.dataType) here")
                }
                return row.value.labels.isEmpty ? value : try value.labeled(row.value.labels)
            }
        }
        generator.learnables = try load(generator.learnables, "generator/learnables")
        generator.state = try load(generator.state, "generator/state")
        discriminator.learnables = try load(discriminator.learnables, "discriminator/learnables")
        discriminator.state = try load(discriminator.state, "discriminator/state")
        if var average = averageGenerator {
            average.learnables = try load(average.learnables, "averageGenerator/learnables")
            average.state = try load(average.state, "averageGenerator/state")
            averageGenerator = average
        }
        func optimizer(_ name: String, _ settings: OptimizerSettings, steps: Int, network: DLNetwork) throws -> PlayerOptimizer {
            guard steps > 0 else { return PlayerOptimizer(settings) }
            var state: [String: DLParameterTable] = [:]
            for key in PlayerOptimizer.stateNames(of: settings.kind) {
                state[key] = try load(network.learnables, "\(name)/optimizer/\(key)")
            }
            return PlayerOptimizer(settings, step: steps, state: state)
        }
        generatorOptimizer = try optimizer("generator", settings.generatorOptimizer, steps: progress.generatorSteps, network: generator)
        discriminatorOptimizer = try optimizer("discriminator", settings.discriminatorOptimizer,
                                               steps: progress.discriminatorSteps, network: discriminator)
        iteration = progress.iteration
        batchesRead = progress.batchesRead
        random = progress.random
        resumedWithoutChecksums = !verified
    }
}
