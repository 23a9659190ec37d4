import Foundation
import Testing
@testable import SwiftDL

@Suite struct LBFGSStateFileTests {
    @Test func aSavedStateContinuesExactlyAsTheOriginal() throws {
        let rosenbrock = { (x: DLArray) in
            try dlfeval({ (x: DLArray) in
                let y = try 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2
                return (y, try dlgradient(y, x))
            }, x)
        }
        var x = DLArray([-1.0, 2.0])
        var state = try LBFGSState(historySize: 4)
        for _ in 0..<5 { (x, state) = try lbfgsupdate(x, rosenbrock, state) }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("swiftdl-lbfgs-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try state.write(to: url)
        var restored = try LBFGSState(contentsOf: url)
        #expect(restored.iteration == state.iteration && restored.historySize == 4)
        #expect(restored.stepHistory.map { $0.scalars(as: Double.self) } == state.stepHistory.map { $0.scalars(as: Double.self) })
        var (a, b) = (x, x)
        for _ in 0..<3 {
            (a, state) = try lbfgsupdate(a, rosenbrock, state)
            (b, restored) = try lbfgsupdate(b, rosenbrock, restored)
        }
        #expect(a.scalars(as: Double.self).map(\.bitPattern) == b.scalars(as: Double.self).map(\.bitPattern))
        try SafeTensors.write(["w": DLArray([1.0])], to: url)
        expectError(containing: "not an L-BFGS state") { _ = try LBFGSState(contentsOf: url) }
    }
}
