import Foundation
import Testing
@testable import SwiftDL

@Suite struct SoftmaxTests {
    @Test func handComputedValues() throws {
        let x = try DLArray([1.0, 2, 3, 1000, 1000, -1000], shape: [2, 3], labels: "BC")
        let y = try softmax(x)
        #expect(y.labels == "BC" && y.shape == [2, 3])
        let total = exp(1.0) + exp(2.0) + exp(3.0)
        let expected = try DLArray([exp(1.0) / total, exp(2.0) / total, exp(3.0) / total, 0.5, 0.5, 0], shape: [2, 3])
        expectClose(stripdims(y), expected, tolerance: 1e-15)
        let logY = try logsoftmax(x)
        #expect(logY.labels == "BC")
        let logExpected = try DLArray([1 - log(total), 2 - log(total), 3 - log(total), -log(2.0), -log(2.0), -2000 - log(2.0)],
                                      shape: [2, 3])
        expectClose(stripdims(logY), logExpected, tolerance: 1e-14)
        // Huge negative inputs: no log(0) in logsoftmax, no NaN anywhere.
        #expect(logY.scalars(as: Double.self).allSatisfy { $0.isFinite })
        // float32 keeps its type and stays finite for large inputs.
        let single = try softmax(x.converted(to: .float32))
        #expect(single.dataType == .float32 && single.scalars(as: Double.self).allSatisfy { $0.isFinite })
    }

    @Test(arguments: ["softmax_bc", "logsoftmax_bc", "softmax_bcs", "logsoftmax_bcs"])
    func matchesPyTorch(_ name: String) throws {
        let f = try Fixture("losses", name)
        let (x, upstream) = (try f.array("x"), try f.array("upstream"))
        let format = x.rank == 2 ? "BC" : "BCS"
        let log = name.hasPrefix("log")
        let (y, dx) = try dlfeval({ (x: DLArray) in
            let y = try log ? logsoftmax(x, dataFormat: format) : softmax(x, dataFormat: format)
            return (y, try dlgradient(sum(y * upstream), x))
        }, x)
        expectClose(y, try f.array("y"), tolerance: 1e-12, "y")
        expectClose(dx, try f.array("dx"), tolerance: 1e-12, "dx")
    }

    @Test func labelsAndDataFormats() throws {
        // A sequence "TBC": softmax over C at every time step and observation.
        let x = DLArray.randn([4, 2, 3], labels: "TBC", seed: 1)
        let y = try softmax(x)
        #expect(y.labels == "TBC" && y.shape == [4, 2, 3])
        let rowSums = try sum(stripdims(y), dims: [2]).scalars(as: Double.self)
        #expect(rowSums.allSatisfy { Swift.abs($0 - 1) < 1e-14 })
        // Unlabeled with SwiftDL's format gives the same numbers, unlabeled.
        let plain = try softmax(stripdims(x), dataFormat: "TBC")
        #expect(plain.labels == "")
        expectClose(plain, stripdims(y), tolerance: 0)
        // MATLAB's "CBT" order: the result comes back in that order.
        let matlab = try permute(stripdims(x), [2, 1, 0])          // [C, B, T]
        let z = try softmax(matlab, dataFormat: "CBT")
        #expect(z.labels == "" && z.shape == [3, 2, 4])
        expectClose(try permute(z, [2, 1, 0]), stripdims(y), tolerance: 1e-15)
        let logZ = try logsoftmax(matlab, dataFormat: "CBT")
        expectClose(try permute(logZ, [2, 1, 0]), stripdims(try logsoftmax(x)), tolerance: 1e-15)
        // Images "BCSS": over the channels at each pixel.
        let image = DLArray.randn([2, 3, 2, 2], labels: "BCSS", seed: 2)
        let perPixel = try sum(stripdims(softmax(image)), dims: [1]).scalars(as: Double.self)
        #expect(perPixel.allSatisfy { Swift.abs($0 - 1) < 1e-14 })
    }

    @Test(arguments: 1...2)
    func gradcheckBothForms(order: Int) throws {
        // Large and mixed values, and outputs weighted nonlinearly so second derivatives matter.
        let x = try DLArray([0.3, -1.2, 2.5, 0.1, 4.0, -3.0, 0.7, 0.2, -0.4, 1.1, 1.1, -2.2], shape: [2, 3, 2])
        for dataFormat in ["BCS", "CBT"] {
            let soft = try gradcheck({ p in try softmax(p, dataFormat: dataFormat) }, at: x, order: order)
            #expect(soft.passed, "softmax \(dataFormat) \(soft)")
            let logSoft = try gradcheck({ p in try logsoftmax(p, dataFormat: dataFormat) }, at: x, order: order)
            #expect(logSoft.passed, "logsoftmax \(dataFormat) \(logSoft)")
        }
        // A labeled input inside the function.
        let labeled = try gradcheck({ p in try sin(softmax(p.labeled("BC")) * 3) }, at: DLArray.randn([3, 4], seed: 4), order: order)
        #expect(labeled.passed, "\(labeled)")
        // Large logits (the shift must be a constant for the second derivative to be right).
        let large = try gradcheck({ p in try logsoftmax(p, dataFormat: "BC") },
                                  at: try DLArray([50.0, 49.0, 48.5, -30.0, -31.0, -29.5], shape: [2, 3]), order: order)
        #expect(large.passed, "\(large)")
    }

    @Test func maskedSoftmaxHasNoNaN() throws {
        // Position 2 is excluded and holds a huge value; row 1 excludes everything.
        let x = try DLArray([0.5, -0.3, 900, 1.0, 2.0, 3.0], shape: [2, 3])
        let allowed = try DLArray([true, true, false, false, false, false], shape: [2, 3])
        let y = try softmax(x, along: 1, allowed: allowed)
        let e = exp(0.5) + exp(-0.3)
        expectClose(y, try DLArray([exp(0.5) / e, exp(-0.3) / e, 0, 0, 0, 0], shape: [2, 3]), tolerance: 1e-15)
        for order in 1...2 {
            let result = try gradcheck({ p in try softmax(p, along: 1, allowed: allowed) }, at: x, order: order)
            #expect(result.passed, "\(result)")
            #expect(result.automatic.allSatisfy { $0.isFinite })
        }
    }

    @Test func errors() {
        expectError(containing: "channel (C)", "\"TB\"") { _ = try softmax(DLArray.zeros([2, 3], labels: "TB")) }
        expectError(containing: "channel (C)") { _ = try logsoftmax(DLArray.zeros([2, 3]), dataFormat: "SB") }
        expectError(containing: "dimension labels", "dataFormat") { _ = try softmax(DLArray.zeros([2, 3])) }
        expectError(containing: "labeled \"BC\"", "dataFormat \"TC\"") {
            _ = try softmax(DLArray.zeros([2, 3], labels: "BC"), dataFormat: "TC")
        }
        expectError(containing: "real arrays", "complex128") {
            _ = try softmax(DLArray.zeros([2, 3], type: .complex128, labels: "BC"))
        }
    }
}
