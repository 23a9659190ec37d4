import Foundation
// TEMPORARY (removed before the branch is done): A/B switches for measuring in one binary.
enum Knobs {
    static let env = ProcessInfo.processInfo.environment
    static let split = env["SWIFTDL_X_SPLIT"].map { $0 == "1" } ?? true
    static let libraryThreads = env["SWIFTDL_X_SPLIT"] == "lib"
    static let joinedUpdates = env["SWIFTDL_X_ADAM"].map { $0 != "0" } ?? true
    static let library = env["SWIFTDL_X_GEMM"] ?? "auto"
    static let splitLimit = env["SWIFTDL_X_SPLITLIMIT"].flatMap { Int($0) } ?? (1 << 20)
}
