import ArgumentParser
import Foundation
import SwiftDL
import SwiftDLMPI

/// MATLAB's "Train Network in Parallel with Custom Training Loop" on a small regression: each
/// worker trains on its slice of every global mini-batch, with batch statistics synchronized
/// over the workers and gradients aggregated, so that the run follows a one-process run with
/// the same global mini-batch up to the order of float sums.
@main
struct ParallelTraining: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parallel-training",
        abstract: "Train a small network data-parallel, on threads (--workers N) or MPI processes (mpirun -np N).",
        discussion: """
            Under mpirun (or srun) every process is a worker and --workers is ignored; the package \
            must be built with MPI (swift build --traits default,MPI). Worker 1 prints progress and writes \
            the checkpoints and the final parameters.
            """)

    @Option(help: "Worker threads in this process when not launched by MPI.")
    var workers = 1
    @Option(help: "Training steps (global mini-batches).")
    var steps = 30
    @Option(help: "Observations per global mini-batch, split over the workers.")
    var miniBatchSize = 48
    @Option(help: "The seed of the data, the initial weights and the shuffling.")
    var seed: UInt64 = 1
    @Option(help: "Write a checkpoint (parameters, state, optimizer averages, step) to this file.")
    var checkpoint: String?
    @Option(help: "Write the checkpoint after every this many steps.")
    var checkpointEvery = 10
    @Option(help: "Resume from this checkpoint.")
    var resume: String?
    @Option(help: "Write the final parameters and state to this safetensors file.")
    var output: String?
    @Option(help: "Compare the final parameters and state with this file's; fail when they differ by more than --tolerance.")
    var compareTo: String?
    @Option(help: "The largest relative difference --compare-to accepts (per array, relative to its largest magnitude).")
    var tolerance = 1e-5

    @Option(parsing: .upToNextOption,
            help: "Instead of training, time plus (a fused all-reduce) of float32 arrays of these element counts; worker 1 prints the median of --rounds.")
    var measureAllreduce: [Int] = []
    @Option(help: "The repetitions of each --measure-allreduce size.")
    var rounds = 50

    func validate() throws {
        guard workers >= 1, steps >= 1, miniBatchSize >= 1, checkpointEvery >= 1, rounds >= 1 else {
            throw ValidationError("--workers, --steps, --mini-batch-size, --checkpoint-every and --rounds must be at least 1")
        }
    }

    func run() throws {
        if MPICommunicator.isLaunchedByMPI {
            let communicator = try MPICommunicator.world()
            do {
                try train(communicator)
            } catch {
                FileHandle.standardError.write(Data("parallel-training: worker \(communicator.index) of \(communicator.count): \(error)\n".utf8))
                throw ExitCode.failure
            }
            communicator.finalize()
        } else {
            let settings = self
            _ = try spmd(workers: workers) { communicator in try settings.train(communicator) }
        }
    }

    /// The training loop of one worker.
    func train(_ communicator: any DLCommunicator) throws {
        if !measureAllreduce.isEmpty { return try measure(communicator) }
        let (inputs, targets) = try Self.data(seed: seed)
        let queue = try MinibatchQueue([inputs, targets], miniBatchSize: miniBatchSize, partialMiniBatch: .discard,
                                       generator: DLRandomGenerator(seed: seed), dispatchInBackground: false)
            .partition(workers: communicator.count, index: communicator.index)
        let shares = try workerMiniBatchSizes(miniBatchSize, workers: communicator.count)
        let factor = Double(shares[communicator.index - 1]) / Double(miniBatchSize)
        guard shares.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--mini-batch-size \(miniBatchSize) leaves a worker of \(communicator.count) without observations")
        }

        // Each worker initializes its own network; worker 1's weights are broadcast to all.
        var net = try Self.network(seed: seed &+ UInt64(communicator.index))
        var training = TrainingState(learnables: net.learnables, state: net.state,
                                     averageGradient: net.learnables.mapArrays { DLArray.zeros(like: $0) },
                                     averageSquaredGradient: net.learnables.mapArrays { DLArray.zeros(like: $0) }, step: 0)
        if let resume {
            let saved = communicator.isFirst ? try TrainingState.read(from: URL(fileURLWithPath: resume), like: training) : training
            training = try communicator.broadcast(saved)
        } else {
            training.learnables = try communicator.broadcast(training.learnables)
            training.state = try communicator.broadcast(training.state)
        }
        net.learnables = training.learnables
        net.state = training.state
        // The data order of the steps already taken: whole epochs, then the batches of this one.
        let batchesPerEpoch = queue.observationCount / miniBatchSize
        queue.shuffle()
        for _ in 0..<(training.step / batchesPerEpoch) { queue.shuffle() }
        for _ in 0..<(training.step % batchesPerEpoch) { _ = try queue.next() }

        let synchronized = { (net: DLNetwork) in net.synchronizingBatchStatistics(over: communicator) }
        while training.step < steps {
            if !queue.hasdata { queue.shuffle() }
            let batch = try queue.next()
            let (loss, gradients, state) = try dlfeval({ (net: DLNetwork) in
                let (y, state) = try synchronized(net).forward(batch[0])
                let error = try y - batch[1]
                let loss = try sum(error * error) / Double(batch[0].shape[0])
                return (extractdata(loss), try dlgradient(loss, net.learnables), state)
            }, net)
            let aggregated = try aggregateGradients(gradients, factor: factor, over: communicator)
            let globalLoss = try communicator.plus(loss * factor).scalar(as: Double.self)
            training.step += 1
            let update = try adamupdate(net.learnables, aggregated,
                                        training.step == 1 ? nil : training.averageGradient,
                                        training.step == 1 ? nil : training.averageSquaredGradient,
                                        iteration: training.step, learnRate: 0.01)
            net.learnables = update.parameters
            net.state = state
            (training.learnables, training.state) = (net.learnables, net.state)
            (training.averageGradient, training.averageSquaredGradient) = (update.averageGradient, update.averageSquaredGradient)
            if communicator.isFirst {
                if training.step % 10 == 0 || training.step == steps {
                    print("step \(training.step) loss \(String(format: "%.6f", globalLoss))")
                }
                if let checkpoint, training.step % checkpointEvery == 0 {
                    try training.write(to: URL(fileURLWithPath: checkpoint))
                }
            }
        }
        guard communicator.isFirst else { return }
        let final = Self.named(training.learnables, "learnables").merging(Self.named(training.state, "state")) { a, _ in a }
        if let output { try SafeTensors.write(final, to: URL(fileURLWithPath: output)) }
        if let compareTo {
            let reference = try SafeTensors.read(from: URL(fileURLWithPath: compareTo)).tensors
            try Self.compare(final, reference, tolerance: tolerance)
            print("final parameters match \(compareTo) within \(tolerance) relative")
        }
    }

    /// Times `plus` of each size of float32 array: the structure check, the packing and the
    /// all-reduce, as a training step pays them.
    func measure(_ communicator: any DLCommunicator) throws {
        for elements in measureAllreduce {
            let x = DLArray.zeros([elements], type: .float32)
            _ = try communicator.plus(x)
            var seconds: [Double] = []
            for _ in 0..<rounds {
                try communicator.barrier()
                let start = DispatchTime.now().uptimeNanoseconds
                _ = try communicator.plus(x)
                seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
            }
            let median = seconds.sorted()[seconds.count / 2]
            if communicator.isFirst {
                print("allreduce \(elements) float32 (\(elements * 4) bytes) on \(communicator.count) workers: median \(String(format: "%.3f", median * 1e3)) ms of \(rounds)")
            }
        }
    }

    /// 480 observations of 8 features, and a target that depends on them nonlinearly.
    static func data(seed: UInt64) throws -> (DLArray, DLArray) {
        let x = DLArray.randn([480, 8], type: .float32, labels: "BC", seed: seed)
        let w = DLArray.randn([8, 1], type: .float32, seed: seed &+ 100)
        let y = try sin(mtimes(extractdata(x), w)) + 0.1
        return (x, try y.labeled("BC"))
    }

    /// Fully connected, batch normalization, ReLU, fully connected: float32. The first layer's
    /// bias is frozen: batch normalization subtracts it again, so its gradient is rounding
    /// noise, which Adam would turn into full-size steps.
    static func network(seed: UInt64) throws -> DLNetwork {
        var net = try DLNetwork([
            FullyConnectedLayer(outputSize: 16, name: "fc1"),
            BatchNormalizationLayer(name: "bn"),
            ActivationLayer(.relu),
            FullyConnectedLayer(outputSize: 1, name: "fc2"),
        ])
        try net.initialize(DLArray.zeros([1, 8], type: .float32, labels: "BC"), seed: seed)
        try net.setLearnRateFactor(layer: "fc1", parameter: "Bias", 0)
        return net
    }

    /// The table's arrays by `prefix/layer/parameter`.
    static func named(_ table: DLParameterTable, _ prefix: String) -> [String: DLArray] {
        Dictionary(uniqueKeysWithValues: table.rows.map { ("\(prefix)/\($0.layer)/\($0.parameter)", $0.value) })
    }

    /// Throws naming the first array, and its first element, that differs by more than
    /// `tolerance` times the reference array's largest magnitude.
    static func compare(_ actual: [String: DLArray], _ reference: [String: DLArray], tolerance: Double) throws {
        guard Set(actual.keys) == Set(reference.keys) else {
            throw Mismatch(description: "the arrays differ: \(actual.keys.sorted()) against \(reference.keys.sorted())")
        }
        for name in actual.keys.sorted() {
            let a = actual[name]!.scalars(as: Double.self), r = reference[name]!.scalars(as: Double.self)
            guard a.count == r.count else { throw Mismatch(description: "\(name): \(a.count) elements against \(r.count)") }
            let scale = max(r.map(abs).max() ?? 0, .leastNormalMagnitude)
            if let k = a.indices.first(where: { abs(a[$0] - r[$0]) > tolerance * scale }) {
                throw Mismatch(description: "\(name): element \(k) is \(a[k]), the reference \(r[k]) (relative difference \(abs(a[k] - r[k]) / scale))")
            }
        }
    }
}

/// Final parameters that differ from the reference's.
struct Mismatch: Error, CustomStringConvertible {
    let description: String
}

/// What a checkpoint holds: parameters, state, Adam's averages and the number of steps taken.
struct TrainingState: DLArrayContainer {
    var learnables: DLParameterTable, state: DLParameterTable
    var averageGradient: DLParameterTable, averageSquaredGradient: DLParameterTable
    var step: Int

    func forEachArray(_ body: (DLArray) throws -> Void) rethrows {
        for table in [learnables, state, averageGradient, averageSquaredGradient] { try table.forEachArray(body) }
        try body(DLArray([Double(step)]))
    }

    func mapArrays(_ transform: (DLArray) throws -> DLArray) rethrows -> TrainingState {
        TrainingState(learnables: try learnables.mapArrays(transform), state: try state.mapArrays(transform),
                      averageGradient: try averageGradient.mapArrays(transform),
                      averageSquaredGradient: try averageSquaredGradient.mapArrays(transform),
                      step: Int(try transform(DLArray([Double(step)])).scalar(as: Double.self)))
    }

    private var tables: [(String, DLParameterTable)] {
        [("learnables", learnables), ("state", state), ("averageGradient", averageGradient),
         ("averageSquaredGradient", averageSquaredGradient)]
    }

    /// Writes the checkpoint (atomically, as ``SafeTensors/write(_:metadata:to:)`` does).
    func write(to url: URL) throws {
        var tensors: [String: DLArray] = [:]
        for (prefix, table) in tables { tensors.merge(ParallelTraining.named(table, prefix)) { a, _ in a } }
        try SafeTensors.write(tensors, metadata: ["step": String(step)], to: url)
    }

    /// The checkpoint at `url`, in the structure of `template`.
    static func read(from url: URL, like template: TrainingState) throws -> TrainingState {
        let (tensors, metadata) = try SafeTensors.read(from: url)
        guard let step = metadata["step"].flatMap(Int.init) else { throw DLError.file("\(url.path): no step in the metadata") }
        func table(_ prefix: String, _ table: DLParameterTable) throws -> DLParameterTable {
            try table.mapRows { row in
                guard let value = tensors["\(prefix)/\(row.layer)/\(row.parameter)"], value.shape == row.value.shape else {
                    throw DLError.file("\(url.path): no \(prefix)/\(row.layer)/\(row.parameter) of shape \(row.value.shape)")
                }
                return value
            }
        }
        return TrainingState(learnables: try table("learnables", template.learnables), state: try table("state", template.state),
                             averageGradient: try table("averageGradient", template.averageGradient),
                             averageSquaredGradient: try table("averageSquaredGradient", template.averageSquaredGradient),
                             step: step)
    }
}
