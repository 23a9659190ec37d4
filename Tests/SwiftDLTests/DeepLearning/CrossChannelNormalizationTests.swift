import Foundation
import Testing
@testable import SwiftDL

private typealias Support = ElementwiseTestSupport

@Suite struct CrossChannelNormalizationTests {
    @Test func matchesPyTorchLocalResponseNorm() throws {
        for (name, alpha, beta, k) in [("lrn_3", 1e-2, 0.75, 2.0), ("lrn_4", 0.5, 0.6, 1.5)] {
            let fixture = try Fixture("functions", name)
            let x = try fixture.array("x"), size = try fixture.integers("size")[0]
            let normalize = { (x: DLArray) in
                try crosschannelnorm(x, windowChannelSize: size, alpha: alpha, beta: beta, k: k, dataFormat: "BCSS")
            }
            expectClose(try normalize(x), try fixture.array("y"), tolerance: 1e-13, name)
            let upstream = try fixture.array("upstream")
            let gradient = try dlfeval({ (x: DLArray) in try dlgradient(sum(normalize(x) * upstream), x) }, x)
            expectClose(gradient, try fixture.array("dx"), tolerance: 1e-12, name + " gradient")
        }
    }

    @Test func knownValueWithMATLABDefaults() throws {
        // One position, channels [1, 2, 3], window 3: channel 1 sees 1 + 4 + 9 = 14.
        let x = try DLArray([1.0, 2.0, 3.0], shape: [1, 3], labels: "BC")
        let y = try crosschannelnorm(x, windowChannelSize: 3)
        #expect(y.labels == "BC")
        let sums = [5.0, 14.0, 13.0]
        Support.expectValues(y, zip([1.0, 2.0, 3.0], sums).map { $0 / pow(2 + 1e-4 * $1 / 3, 0.75) })
    }

    @Test func gradientsMatchFiniteDifferences() throws {
        let x = try DLArray((0..<16).map { sin(Double($0)) * 2 }, shape: [1, 4, 2, 2], labels: "BCSS")
        for window in [1, 2, 3] {
            try Support.expectGradcheck({ (x: DLArray) in
                try crosschannelnorm(x, windowChannelSize: window, alpha: 0.3, beta: 0.8, k: 1.2)
            }, at: x)
        }
    }

    @Test func badArgumentsThrow() throws {
        let x = try DLArray([1.0, 2.0], shape: [1, 2], labels: "BC")
        Support.expectError(.invalidArgument, mentioning: ["windowChannelSize"]) { _ = try crosschannelnorm(x, windowChannelSize: 0) }
        Support.expectError(.invalidArgument, mentioning: ["k must be positive"]) { _ = try crosschannelnorm(x, windowChannelSize: 1, k: 0) }
        Support.expectError(.invalidArgument, mentioning: ["channel (C)"]) {
            _ = try crosschannelnorm(DLArray.zeros([2, 3], labels: "BS"), windowChannelSize: 1)
        }
    }
}
