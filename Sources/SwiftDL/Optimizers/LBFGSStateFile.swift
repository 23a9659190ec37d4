import Foundation

/// The metadata key of an L-BFGS state file.
private let stateKey = "lbfgsstate"

/// An L-BFGS state's numbers, as stored in a file's metadata.
private struct StoredLBFGSState: Codable {
    let historySize: Int
    let initialInverseHessianFactor: Double
    let maxInverseHessianFactor: Double
    let inverseHessianFactor: Double
    let iteration: Int
    let loss: Double?
    let gradientsNorm: Double?
    let stepNorm: Double?
    let learnRate: Double?
    let lineSearchStatus: String?
    let lineSearchMethod: String?
    let pairs: Int
    let gradients: Int?
}

extension LBFGSState {
    /// Writes the state (settings, history and current gradients) to a safetensors file,
    /// atomically, so that training can resume exactly.
    /// - Throws: ``DLError/file(_:)`` when the file cannot be written (it is then unchanged).
    public func write(to url: URL) throws {
        var tensors: [String: DLArray] = [:]
        for (k, step) in steps.enumerated() { tensors["steps/\(k)"] = DLArray(step) }
        for (k, difference) in gradientDifferences.enumerated() { tensors["gradientDifferences/\(k)"] = DLArray(difference) }
        for (k, gradient) in (gradients ?? []).enumerated() { tensors["gradients/\(k)"] = gradient }
        let stored = StoredLBFGSState(
            historySize: historySize, initialInverseHessianFactor: initialInverseHessianFactor,
            maxInverseHessianFactor: maxInverseHessianFactor, inverseHessianFactor: inverseHessianFactor,
            iteration: iteration, loss: loss, gradientsNorm: gradientsNorm, stepNorm: stepNorm, learnRate: learnRate,
            lineSearchStatus: lineSearchStatus?.rawValue, lineSearchMethod: lineSearchMethod?.rawValue,
            pairs: steps.count, gradients: gradients?.count)
        let metadata = [stateKey: String(decoding: try JSONEncoder().encode(stored), as: UTF8.self)]
        try SafeTensors.write(tensors, metadata: metadata, to: url)
    }

    /// Reads a state written by ``write(to:)``.
    /// - Throws: ``DLError/file(_:)`` for a missing or damaged file, or one that is not an
    ///   L-BFGS state.
    public init(contentsOf url: URL) throws {
        let (tensors, metadata) = try SafeTensors.read(from: url)
        guard let text = metadata[stateKey],
              let stored = try? JSONDecoder().decode(StoredLBFGSState.self, from: Data(text.utf8)) else {
            throw DLError.file("\(url.path) is not an L-BFGS state written by SwiftDL (no readable \(stateKey) metadata)")
        }
        func tensor(_ name: String) throws -> DLArray {
            guard let value = tensors[name] else { throw DLError.file("\(url.path): the L-BFGS state has no \(name)") }
            return value
        }
        do {
            try self.init(historySize: stored.historySize, initialInverseHessianFactor: stored.initialInverseHessianFactor,
                          maxInverseHessianFactor: stored.maxInverseHessianFactor)
        } catch {
            throw DLError.file("\(url.path): the stored L-BFGS settings are invalid: \(error)")
        }
        inverseHessianFactor = stored.inverseHessianFactor
        iteration = stored.iteration
        loss = stored.loss
        gradientsNorm = stored.gradientsNorm
        stepNorm = stored.stepNorm
        learnRate = stored.learnRate
        lineSearchStatus = stored.lineSearchStatus.flatMap(LBFGSLineSearchStatus.init(rawValue:))
        lineSearchMethod = stored.lineSearchMethod.flatMap(LBFGSLineSearchMethod.init(rawValue:))
        steps = try (0..<stored.pairs).map { try tensor("steps/\($0)").scalars(as: Double.self) }
        gradientDifferences = try (0..<stored.pairs).map { try tensor("gradientDifferences/\($0)").scalars(as: Double.self) }
        gradients = try stored.gradients.map { count in try (0..<count).map { try tensor("gradients/\($0)") } }
    }
}
