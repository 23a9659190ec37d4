import Foundation

/// Threads that keep cores busy with arithmetic until stopped, so that a test can check that
/// results do not depend on how busy the machine is (work shared among threads then finishes in
/// a different order from run to run).
final class MachineLoad: @unchecked Sendable {
    private let lock = NSLock()
    private var running = true
    private var threads: [Thread] = []

    /// Starts `threads` busy threads.
    init(threads count: Int = 1) {
        for _ in 0..<count {
            let thread = Thread { [self] in
                var x = 1.0
                while isRunning {
                    for _ in 0..<10_000 { x = x * 1.000_000_1 + 1e-9 }
                }
                if x == 0 { print(x) }
            }
            thread.start()
            threads.append(thread)
        }
    }

    private var isRunning: Bool { lock.withLock { running } }

    /// Stops the threads.
    func stop() { lock.withLock { running = false } }

    deinit { stop() }

    /// Runs `body` with `threads` busy threads.
    static func during<Result>(threads: Int = 1, _ body: () throws -> Result) rethrows -> Result {
        let load = MachineLoad(threads: threads)
        defer { load.stop() }
        return try body()
    }
}

/// The first element where `a` and `b` differ, described, or nil when they are equal (and of
/// equal length).
func firstDifference<T: Equatable>(_ a: [T], _ b: [T]) -> String? {
    if let i = zip(a.indices, b.indices).first(where: { a[$0.0] != b[$0.1] })?.0 { return "element \(i): \(a[i]) vs \(b[i])" }
    return a.count == b.count ? nil : "lengths \(a.count) vs \(b.count)"
}
