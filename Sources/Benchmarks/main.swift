// SwiftDL's benchmarks: `swift run -c release benchmarks [workload ...]` prints one line per
// workload, `<name> <value> <unit>`, the same names benchmarks/peers/ prints for PyTorch and JAX.
import Foundation
import SwiftDL

/// A benchmark: its name, unit, and the measurement.
struct Workload {
    let name: String
    let unit: String
    let measure: () throws -> Double
}

func rosenbrock(_ x: DLArray) throws -> (DLArray, DLArray) {
    let y = try 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2
    return (y, try dlgradient(y, x))
}

/// GFLOP/s of a float32 n×n matrix product.
func matrixProductRate(_ n: Int) throws -> Double {
    let a = DLArray.rand([n, n], type: .float32, seed: 1), b = DLArray.rand([n, n], type: .float32, seed: 2)
    let seconds = try secondsPerCall { _ = try mtimes(a, b) }
    return 2 * pow(Double(n), 3) / seconds / 1e9
}

let workloads: [Workload] = [
    Workload(name: "rosenbrock_calls_per_s", unit: "calls/s") {
        let x = DLArray([-1.0, 2.0])
        let (value, gradient) = try dlfeval(rosenbrock, x)
        precondition(value.scalar(as: Double.self) == 104 && gradient.scalars(as: Double.self) == [396, 200])
        return 1 / (try secondsPerCall { _ = try dlfeval(rosenbrock, x) })
    },
    Workload(name: "small_ops_us_per_op", unit: "us/op") {
        let x = DLArray.rand([16], type: .float32, seed: 3)
        let seconds = try secondsPerCall {
            _ = try dlfeval({ (x: DLArray) in
                var y = x
                for _ in 0..<100 { y = sin(y) * 1.01 + 0.1 }
                return try dlgradient(sum(y), x)
            }, x)
        }
        return seconds / 300 * 1e6
    },
    Workload(name: "matmul1024_gflops", unit: "GFLOP/s") { try matrixProductRate(1024) },
    Workload(name: "matmul2048_gflops", unit: "GFLOP/s") { try matrixProductRate(2048) },
]

let requested = Array(CommandLine.arguments.dropFirst())
let known = Set(workloads.map(\.name))
if let unknown = requested.first(where: { !known.contains($0) }) {
    FileHandle.standardError.write(Data("benchmarks: unknown workload '\(unknown)'; known: \(workloads.map(\.name).joined(separator: ", "))\n".utf8))
    exit(2)
}
for workload in workloads where requested.isEmpty || requested.contains(workload.name) {
    do {
        report(workload.name, try workload.measure(), workload.unit)
    } catch {
        FileHandle.standardError.write(Data("benchmarks: \(workload.name) failed: \(error)\n".utf8))
        exit(1)
    }
}
