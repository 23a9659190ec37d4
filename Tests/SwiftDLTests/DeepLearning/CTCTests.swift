import Foundation
import Testing
@testable import SwiftDL

private typealias Support = ElementwiseTestSupport

@Suite struct CTCTests {
    /// The fixture's targets, split by their lengths.
    private func targets(_ fixture: Fixture) throws -> [[Int]] {
        let flat = try fixture.integers("flat_targets"), lengths = try fixture.integers("target_lengths")
        var start = 0
        return lengths.map { length in
            defer { start += length }
            return Array(flat[start..<start + length])
        }
    }

    @Test func lossesAndGradientsMatchPyTorch() throws {
        let fixture = try Fixture("functions", "ctc")
        let z = try fixture.array("z")                      // [T, B, C] logits
        let targets = try targets(fixture), lengths = try fixture.integers("input_lengths")
        let losses = { (z: DLArray) in
            try ctc(softmax(z.labeled("TBC")), targets: targets, inputLengths: lengths, reduction: .none)
        }
        expectClose(try losses(z), try fixture.array("loss"), tolerance: 1e-12, "losses")
        let upstream = try fixture.array("upstream")
        let gradient = try dlfeval({ (z: DLArray) in try dlgradient(sum(losses(z) * upstream), z) }, z)
        expectClose(gradient, try fixture.array("dz"), tolerance: 1e-11, "gradient")
        // MATLAB's default reduction: the mean over the batch.
        let mean = try ctc(softmax(z.labeled("TBC")), targets: targets, inputLengths: lengths)
        #expect(mean.shape == [])
        let expected = try fixture.array("loss").scalars(as: Double.self).reduce(0, +) / 4
        #expect(abs(mean.scalar(as: Double.self) - expected) < 1e-12)
    }

    @Test func blankAsTheLastClassMatchesPyTorch() throws {
        let fixture = try Fixture("functions", "ctc_blank_last")
        let z = try fixture.array("z")
        let targets = try targets(Fixture("functions", "ctc")).map { $0.map { $0 - 1 } }
        let losses = try ctc(softmax(z.labeled("TBC")), targets: targets,
                             inputLengths: try Fixture("functions", "ctc").integers("input_lengths"),
                             blankIndex: .last, reduction: .none)
        expectClose(losses, try fixture.array("loss"), tolerance: 1e-12, "losses")
    }

    @Test func knownLossOfATwoStepSequence() throws {
        // Two steps, classes {blank, a}, target "a": alignments "a a", "_ a", "a _".
        let p = [0.3, 0.6]                                   // probability of "a" at each step
        let y = try DLArray([1 - p[0], p[0], 1 - p[1], p[1]], shape: [2, 1, 2], labels: "TBC")
        let loss = try ctc(y, targets: [[1]])
        let probability = p[0] * p[1] + (1 - p[0]) * p[1] + p[0] * (1 - p[1])
        Support.expectValues(loss, [-Foundation.log(probability)])
        // Unformatted input with a data format in MATLAB's "CBT" order.
        let cbt = try permute(stripdims(y), [2, 1, 0])
        Support.expectValues(try ctc(cbt, targets: [[1]], dataFormat: "CBT"), [-Foundation.log(probability)])
    }

    @Test func gradientsMatchFiniteDifferencesToOrderTwo() throws {
        let z = try DLArray((0..<5 * 2 * 3).map { sin(Double($0) * 1.7) }, shape: [5, 2, 3])
        try Support.expectGradcheck({ (z: DLArray) in
            try ctc(softmax(z.labeled("TBC")), targets: [[1, 1], [2, 1]], inputLengths: [5, 4])
        }, at: z)
    }

    @Test func badArgumentsThrow() throws {
        let y = DLArray.full([3, 1, 3], value: 1.0 / 3, type: .float64, labels: "TBC")
        Support.expectError(.invalidArgument, mentioning: ["blank"]) { _ = try ctc(y, targets: [[0]]) }
        Support.expectError(.invalidArgument, mentioning: ["class 3"]) { _ = try ctc(y, targets: [[3]]) }
        Support.expectError(.invalidArgument, mentioning: ["needs at least 4 time steps"]) { _ = try ctc(y, targets: [[1, 1, 2]]) }
        Support.expectError(.invalidArgument, mentioning: ["2 target sequences"]) { _ = try ctc(y, targets: [[1], [2]]) }
        Support.expectError(.invalidArgument, mentioning: ["inputLengths"]) { _ = try ctc(y, targets: [[1]], inputLengths: [4]) }
        Support.expectError(.invalidArgument, mentioning: ["time (T)"]) {
            _ = try ctc(DLArray.zeros([1, 3], labels: "BC"), targets: [[1]])
        }
    }
}
