import CSwiftDLSupport
import Testing
@testable import SwiftDL

/// OpenBLAS runs kernels that suit the CPU: SwiftDL replaces the weaker ones that OpenBLAS
/// picks for cores it does not know.
@Suite struct BLASCoreTests {
    /// After preparation no better core type is left for this CPU (on a Xeon that OpenBLAS
    /// 0.3.21 took for a Prescott, this failed before SwiftDL knew that fallback).
    @Test func openBLASRunsKernelsThatSuitThisCPU() {
        let core = BLAS.coreName
        #expect(swiftdl_better_blas_core(core) == nil, "OpenBLAS runs \(core) kernels")
    }
}
