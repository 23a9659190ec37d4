import Foundation
import SwiftDL

/// Times `body` the way the peer scripts do: warm up, pick a number of calls so one run takes
/// about `runTime` seconds, time several runs and return the median seconds per call.
///
/// With several workers (`communicator`), every decision is taken on worker 1's times, so
/// that all workers make the same number of calls.
func secondsPerCall(runs: Int = 5, runTime: Double = 0.75, agreeingOver communicator: (any DLCommunicator)? = nil,
                    _ body: () throws -> Void) throws -> Double {
    let clock = ContinuousClock()
    func seconds(_ calls: Int) throws -> Double {
        let start = clock.now
        for _ in 0..<calls { try body() }
        let elapsed = start.duration(to: clock.now)
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }
    // Warm up for at least three calls and 0.3 s, and learn how long a call takes.
    var calls = 3
    var warm = try agreed(seconds(calls), over: communicator)
    while warm < 0.3 {
        calls *= 2
        warm = try agreed(seconds(calls), over: communicator)
    }
    let perRun = max(1, Int(runTime / (warm / Double(calls))))
    var samples: [Double] = []
    for _ in 0..<runs { samples.append(try seconds(perRun) / Double(perRun)) }
    samples.sort()
    return samples[samples.count / 2]
}

/// Prints one result line: `<name> <value> <unit>`.
func report(_ name: String, _ value: Double, _ unit: String) {
    let text = value >= 100 ? String(format: "%.0f", value) : String(format: "%.3g", value)
    FileHandle.standardOutput.write(Data("\(name) \(text) \(unit)\n".utf8))
}
