// SwiftDL's benchmarks: `swift run -c release benchmarks [workload ...]` prints one line per
// workload, `<name> <value> <unit>`, the same names benchmarks/peers/ prints for PyTorch and JAX.
// `benchmarks --profile N workload` runs a workload's body N times untimed, for
// `valgrind --tool=callgrind` or `perf record`. The GAN step workloads also run data-parallel:
// `benchmarks --workers N ...` on N threads, or every process a worker under `mpirun` (built with
// `--traits default,MPI`); worker 1 prints the steps per second and what the workers reduce.
import Foundation
import GANKit
import SwiftDL
import SwiftDLMPI

/// A benchmark: its name, its unit, the work of one call, and how a time per call becomes the
/// reported value. Sendable so that data-parallel workers on threads share the list: a
/// workload's closures hold no state, each call of `prepare` makes its own.
struct Workload: @unchecked Sendable {
    let name: String
    let unit: String
    let prepare: () throws -> () throws -> Void
    let value: (_ secondsPerCall: Double) -> Double
    /// The work of one call on one of several workers, for workloads that run data-parallel.
    var prepareWorker: ((any DLCommunicator) throws -> () throws -> Void)? = nil
}

func rosenbrock(_ x: DLArray) throws -> (DLArray, DLArray) {
    let y = try 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2
    return (y, try dlgradient(y, x))
}

/// 100 rounds of `sin(y) * 1.01 + 0.1` on 16 elements and the gradient: 300 tiny operations.
func smallOperations(_ x: DLArray) throws -> DLArray {
    var y = x
    for _ in 0..<100 { y = sin(y) * 1.01 + 0.1 }
    return try dlgradient(sum(y), x)
}

let workloads: [Workload] = [
    Workload(name: "rosenbrock_calls_per_s", unit: "calls/s", prepare: {
        let x = DLArray([-1.0, 2.0])
        let (value, gradient) = try dlfeval(rosenbrock, x)
        precondition(value.scalar(as: Double.self) == 104 && gradient.scalars(as: Double.self) == [396, 200])
        return { _ = try dlfeval(rosenbrock, x) }
    }, value: { 1 / $0 }),
    Workload(name: "rosenbrock_accel_calls_per_s", unit: "calls/s", prepare: {
        let x = DLArray([-1.0, 2.0])
        let accelerated = dlaccelerate(rosenbrock)
        _ = try dlfeval(accelerated, x)
        let (value, gradient) = try dlfeval(accelerated, x)
        precondition(value.scalar(as: Double.self) == 104 && gradient.scalars(as: Double.self) == [396, 200]
                     && accelerated.lastEagerReason == nil)
        return { _ = try dlfeval(accelerated, x) }
    }, value: { 1 / $0 }),
    Workload(name: "small_ops_us_per_op", unit: "us/op", prepare: {
        let x = DLArray.rand([16], type: .float32, seed: 3)
        return { _ = try dlfeval(smallOperations, x) }
    }, value: { $0 / 300 * 1e6 }),
    Workload(name: "small_ops_accel_us_per_op", unit: "us/op", prepare: {
        let x = DLArray.rand([16], type: .float32, seed: 3)
        let accelerated = dlaccelerate(smallOperations)
        _ = try dlfeval(accelerated, x)
        _ = try dlfeval(accelerated, x)
        precondition(accelerated.lastEagerReason == nil)
        return { _ = try dlfeval(accelerated, x) }
    }, value: { $0 / 300 * 1e6 }),
    matrixProduct(1024),
    matrixProduct(2048),
    convolution("conv_fwd_bwd_ms", input: [64, 64, 14, 14], weights: [128, 64, 4, 4], bias: 128) { x, w, b in
        try dlconv(x, w, b, stride: [2], padding: 1)
    },
    convolution("transpconv_fwd_bwd_ms", input: [64, 128, 7, 7], weights: [128, 64, 4, 4], bias: 64) { x, w, b in
        try dltranspconv(x, w, b, stride: [2], cropping: 1)
    },
    // A DCGAN's outer layers: the discriminator's first convolution, the generator's last.
    convolution("conv1to64_fwd_bwd_ms", input: [64, 1, 28, 28], weights: [64, 1, 4, 4], bias: 64) { x, w, b in
        try dlconv(x, w, b, stride: [2], padding: 1)
    },
    convolution("transpconv64to1_fwd_bwd_ms", input: [64, 64, 14, 14], weights: [64, 1, 4, 4], bias: 1) { x, w, b in
        try dltranspconv(x, w, b, stride: [2], cropping: 1)
    },
    ganSteps("mlp_gan_steps_per_s", accelerated: false, mlp),
    ganSteps("mlp_gan_accel_steps_per_s", accelerated: true, mlp),
    ganSteps("dcgan_steps_per_s", accelerated: false, dcgan),
    ganSteps("dcgan_accel_steps_per_s", accelerated: true, dcgan),
    ganSteps("wgan_gp_steps_per_s", accelerated: false, wganGP),
    ganSteps("wgan_gp_accel_steps_per_s", accelerated: true, wganGP),
    Workload(name: "png_write_ms", unit: "ms", prepare: {
        // A sample grid as the GAN trainer writes it: 64 images of 28×28, mostly black like MNIST.
        let images = DLArray.randn([64, 1, 28, 28], type: .float32, labels: "BCSS", seed: 7)
        let grid = try imageGrid(try maximum(images - 1, 0) - 1, columns: 8, scale: 2)
        return { _ = grid.pngData() }
    }, value: { $0 * 1e3 }),
    Workload(name: "mnist_load_ms", unit: "ms", prepare: {
        // The directory of MNIST's IDX files, from MNIST_DIR (default: ../shared/datasets/mnist).
        let directory = ProcessInfo.processInfo.environment["MNIST_DIR"] ?? "../shared/datasets/mnist"
        let first = try MNIST.load(directory: directory, split: .train)
        precondition(first.images.shape == [60000, 1, 28, 28] && first.labels.prefix(5) == [5, 0, 4, 1, 9])
        return { _ = try MNIST.load(directory: directory, split: .train) }
    }, value: { $0 * 1e3 }),
]

func mlp(_ settings: inout GANSettings) { settings.architecture = .mlp }
func dcgan(_ settings: inout GANSettings) { settings.architecture = .dcgan }
func wganGP(_ settings: inout GANSettings) {
    settings.architecture = .dcgan
    settings.loss = .wassersteinGP
    settings.generatorOptimizer = OptimizerSettings(.adam, learnRate: 1e-4, gradientDecay: 0.5, squaredGradientDecay: 0.9)
    settings.discriminatorOptimizer = settings.generatorOptimizer
}

/// Training steps per second of a GAN on 28×28 images, as benchmarks/peers/README.md defines
/// them: batch 64, latent size 64, float32, one alternating step (a D update on a fixed real
/// batch and a generated batch, then a G update through the updated D), Adam; the passes
/// evaluated eagerly or through `dlaccelerate`. On several workers, the same global batch of 64
/// split over them.
func ganSteps(_ name: String, accelerated: Bool, _ configure: @escaping (inout GANSettings) -> Void) -> Workload {
    func prepare(_ communicator: (any DLCommunicator)?) throws -> () throws -> Void {
        var settings = GANSettings(dataset: .mnist, seed: 1)
        settings.batchSize = 64
        settings.latentSize = 64
        settings.iterations = .max
        configure(&settings)
        let real = DLArray.rand([64, 1, 28, 28], type: .float32, labels: "BCSS", seed: 5) * 2 - 1
        var trainer = try GANTrainer(settings: settings, data: try GANData(images: real, as: .mnist), communicator: communicator)
        trainer.accelerate = accelerated
        let first = try trainer.step()
        precondition(first.discriminatorLoss.isFinite && first.generatorLoss.isFinite, "\(name): non-finite losses")
        return { _ = try trainer.step() }
    }
    return Workload(name: name, unit: "steps/s", prepare: { try prepare(nil) }, value: { 1 / $0 },
                    prepareWorker: { try prepare($0) })
}

/// Milliseconds per forward and backward of a float32 convolution: the gradients with respect
/// to input, weights and bias of the output times a fixed upstream gradient.
func convolution(_ name: String, input: [Int], weights: [Int], bias: Int,
                 _ forward: @escaping (DLArray, DLArray, DLArray) throws -> DLArray) -> Workload {
    Workload(name: name, unit: "ms", prepare: {
        let x = DLArray.randn(input, type: .float32, labels: "BCSS", seed: 1)
        let w = DLArray.randn(weights, type: .float32, seed: 2) * 0.05
        let b = DLArray.randn([bias], type: .float32, seed: 3)
        let upstream = DLArray.randn(try forward(x, w, b).shape, type: .float32, seed: 4)
        return {
            _ = try dlfeval({ (x: DLArray, w: DLArray, b: DLArray) in
                try dlgradient(sum(try forward(x, w, b) * upstream), x, w, b)
            }, x, w, b)
        }
    }, value: { $0 * 1e3 })
}

/// GFLOP/s of a float32 n×n matrix product.
func matrixProduct(_ n: Int) -> Workload {
    Workload(name: "matmul\(n)_gflops", unit: "GFLOP/s", prepare: {
        let a = DLArray.rand([n, n], type: .float32, seed: 1), b = DLArray.rand([n, n], type: .float32, seed: 2)
        return { _ = try mtimes(a, b) }
    }, value: { 2 * pow(Double(n), 3) / $0 / 1e9 })
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("benchmarks: \(message)\n".utf8))
    exit(2)
}

var arguments = Array(CommandLine.arguments.dropFirst())
var profileCalls: Int?
var threadWorkers: Int?
while let option = arguments.first, option.hasPrefix("--") {
    guard arguments.count >= 2, let number = Int(arguments[1]), number > 0 else { fail("\(option) takes a positive number") }
    switch option {
    case "--profile": profileCalls = number
    case "--workers": threadWorkers = number
    default: fail("unknown option \(option); options: --profile N, --workers N")
    }
    arguments.removeFirst(2)
}
let known = Set(workloads.map(\.name))
if let unknown = arguments.first(where: { !known.contains($0) }) {
    fail("unknown workload '\(unknown)'; known: \(workloads.map(\.name).joined(separator: ", "))")
}
let selected = workloads.filter { arguments.isEmpty || arguments.contains($0.name) }
let dataParallel = threadWorkers != nil || MPICommunicator.isLaunchedByMPI

/// Runs the workloads on one worker of several: worker 1 reports each workload's value, the
/// all-reduces one step makes and their bytes, and the time of one all-reduce of that size.
func runWorker(_ selected: [Workload], _ communicator: CountingCommunicator) throws {
    for workload in selected {
        guard let prepareWorker = workload.prepareWorker else { continue }
        let call = try prepareWorker(communicator)
        let seconds = try secondsPerCall(agreeingOver: communicator, call)
        _ = communicator.takeCounts()
        try call()
        let (reductions, bytes) = communicator.takeCounts()
        let reduction = try allReduceMicroseconds(bytes: bytes, over: communicator)
        if communicator.isFirst {
            report(workload.name, workload.value(seconds), workload.unit)
            report(workload.name + "_reductions_per_step", Double(reductions), "calls")
            report(workload.name + "_reduced_bytes_per_step", Double(bytes), "bytes")
            report(workload.name + "_one_allreduce_of_those_bytes_us", reduction, "us")
        }
    }
    let latency = try allReduceMicroseconds(bytes: 8, over: communicator)
    if communicator.isFirst { report("allreduce_8_bytes_us", latency, "us") }
}

if dataParallel {
    if profileCalls != nil { fail("--profile runs on one worker; leave out --workers and mpirun") }
    if let other = selected.first(where: { $0.prepareWorker == nil }), !arguments.isEmpty {
        fail("\(other.name) does not run data-parallel; the GAN step workloads do")
    }
    do {
        if MPICommunicator.isLaunchedByMPI {
            let world = try MPICommunicator.world()
            try runWorker(selected, CountingCommunicator(world))
            world.finalize()
        } else {
            let workloads = selected
            _ = try spmd(workers: threadWorkers ?? 1) { communicator in try runWorker(workloads, CountingCommunicator(communicator)) }
        }
    } catch {
        FileHandle.standardError.write(Data("benchmarks: data-parallel run failed: \(error)\n".utf8))
        exit(1)
    }
    exit(0)
}
for workload in selected {
    do {
        let call = try workload.prepare()
        if let profileCalls {
            for _ in 0..<profileCalls { try call() }
        } else {
            report(workload.name, workload.value(try secondsPerCall(call)), workload.unit)
        }
    } catch {
        FileHandle.standardError.write(Data("benchmarks: \(workload.name) failed: \(error)\n".utf8))
        exit(1)
    }
}
