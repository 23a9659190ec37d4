import CSwiftDLSupport
import Foundation
import Testing
@testable import SwiftDL

/// OpenBLAS runs kernels that suit the CPU: SwiftDL replaces the weaker ones that OpenBLAS
/// picks for cores it does not know, unless the user chose the core type.
@Suite struct BLASCoreTests {
    /// After preparation no better core type is left for this CPU (on a Xeon that OpenBLAS
    /// 0.3.21 took for a Prescott, this failed before SwiftDL knew that fallback); with
    /// `OPENBLAS_CORETYPE` set (some machines set it because older OpenBLAS builds misbehave on
    /// their processors), OpenBLAS runs the chosen kernels and SwiftDL leaves them alone.
    @Test func openBLASRunsKernelsThatSuitThisCPU() {
        let core = BLAS.coreName
        if let chosen = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] {
            #expect(core.lowercased() == chosen.lowercased(), "OPENBLAS_CORETYPE=\(chosen), OpenBLAS runs \(core) kernels")
        } else {
            #expect(swiftdl_better_blas_core(core) == nil, "OpenBLAS runs \(core) kernels")
        }
    }
}
