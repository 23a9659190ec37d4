import Foundation
import Testing
@testable import SwiftDL

/// Plain-Swift recurrent networks on row-major `[Double]`, one scalar at a time: the
/// independent reference for lstm and gru.
private struct ScalarRecurrence {
    let time: Int, batch: Int, features: Int, hidden: Int
    let x: [Double], w: [Double], r: [Double], b: [Double]
    var state: (Double) -> Double = { Foundation.tanh($0) }
    var gate: (Double) -> Double = { 1 / (1 + Foundation.exp(-$0)) }

    init(_ x: DLArray, _ w: DLArray, _ r: DLArray, _ b: DLArray) {
        (time, batch, features, hidden) = (x.shape[0], x.shape[1], x.shape[2], r.shape[0])
        (self.x, self.w, self.r, self.b) = (x.scalars(), w.scalars(), r.scalars(), b.scalars())
    }

    /// x[t, n, :]·W[:, columns] (+ bias), then h·R[:, columns] separately.
    func inputProduct(_ t: Int, _ n: Int, _ j: Int) -> Double {
        let width = w.count / features
        return (0..<features).reduce(0) { $0 + x[(t * batch + n) * features + $1] * w[$1 * width + j] }
    }

    func recurrentProduct(_ h: [Double], _ n: Int, _ j: Int) -> Double {
        let width = r.count / hidden
        return (0..<hidden).reduce(0) { $0 + h[n * hidden + $1] * r[$1 * width + j] }
    }

    /// Every hidden state [T·B·H], the final hidden and cell states [B·H].
    func lstm(_ h0: [Double], _ c0: [Double]) -> (y: [Double], h: [Double], c: [Double]) {
        var (h, c, y) = (h0, c0, [Double]())
        let hh = hidden
        for t in 0..<time {
            var next = h
            for n in 0..<batch {
                for k in 0..<hh {
                    func pre(_ g: Int) -> Double {
                        let j = g * hh + k
                        return inputProduct(t, n, j) + recurrentProduct(h, n, j) + b[j]
                    }
                    let (i, f, g, o) = (gate(pre(0)), gate(pre(1)), state(pre(2)), gate(pre(3)))
                    c[n * hh + k] = f * c[n * hh + k] + i * g
                    next[n * hh + k] = o * state(c[n * hh + k])
                }
            }
            h = next
            y += h
        }
        return (y, h, c)
    }

    func gru(_ h0: [Double], mode: GRUResetGateMode) -> (y: [Double], h: [Double]) {
        var (h, y) = (h0, [Double]())
        let hh = hidden
        let recurrentBias = mode == .recurrentBiasAfterMultiplication
        for t in 0..<time {
            var next = h
            for n in 0..<batch {
                var reset = [Double](repeating: 0, count: hh)
                var update = reset
                for k in 0..<hh {
                    let rb = recurrentBias ? b[3 * hh + k] : 0, zb = recurrentBias ? b[4 * hh + k] : 0
                    reset[k] = gate(inputProduct(t, n, k) + b[k] + recurrentProduct(h, n, k) + rb)
                    update[k] = gate(inputProduct(t, n, hh + k) + b[hh + k] + recurrentProduct(h, n, hh + k) + zb)
                }
                for k in 0..<hh {
                    let j = 2 * hh + k
                    let recurrent: Double
                    switch mode {
                    case .afterMultiplication: recurrent = reset[k] * recurrentProduct(h, n, j)
                    case .recurrentBiasAfterMultiplication: recurrent = reset[k] * (recurrentProduct(h, n, j) + b[5 * hh + k])
                    case .beforeMultiplication:
                        var gated = h
                        for m in 0..<hh { gated[n * hh + m] *= reset[m] }
                        recurrent = recurrentProduct(gated, n, j)
                    }
                    let candidate = state(inputProduct(t, n, j) + b[j] + recurrent)
                    next[n * hh + k] = (1 - update[k]) * candidate + update[k] * h[n * hh + k]
                }
            }
            h = next
            y += h
        }
        return (y, h)
    }
}

private func flat(_ arrays: DLArray...) throws -> DLArray {
    try cat(arrays.map { try reshape(stripdims($0), [$0.count]) }, dim: 0)
}

@Suite struct RecurrentTests {
    // T = 3, batch 2, input 3, hidden 2.
    let x = DLArray.randn([3, 2, 3], seed: 11)
    let h0 = DLArray.randn([2, 2], seed: 12) * 0.5
    let c0 = DLArray.randn([2, 2], seed: 13) * 0.5
    let lstmW = DLArray.randn([3, 8], seed: 14) * 0.6
    let lstmR = DLArray.randn([2, 8], seed: 15) * 0.6
    let lstmB = DLArray.randn([8], seed: 16) * 0.3
    let gruW = DLArray.randn([3, 6], seed: 17) * 0.6
    let gruR = DLArray.randn([2, 6], seed: 18) * 0.6
    let gruB = DLArray.randn([6], seed: 19) * 0.3
    let gruB6 = DLArray.randn([12], seed: 20) * 0.3

    /// lstm, its final states and the gradients in every input against torch.nn.LSTM.
    @Test func lstmMatchesPyTorch() throws {
        let f = try Fixture("recurrent", "lstm")
        let inputs = try ["x", "h0", "c0", "w", "r", "b"].map { try f.array($0) }
        let (uy, uh, uc) = (try f.array("uy"), try f.array("uh"), try f.array("uc"))
        let (outputs, gradients) = try dlfeval({ (p: [DLArray]) in
            let (y, h, c) = try lstm(p[0], p[1], p[2], p[3], p[4], p[5], dataFormat: "TBC")
            let loss = try sum(y * uy) + sum(h * uh) + sum(c * uc)
            return ([y, h, c], try dlgradient(loss, p))
        }, inputs)
        for (k, name) in ["y", "hn", "cn"].enumerated() { expectClose(outputs[k], try f.array(name), name) }
        for (k, name) in ["dx", "dh0", "dc0", "dw", "dr", "db"].enumerated() {
            expectClose(gradients[k], try f.array(name), name)
        }
    }

    /// gru against torch.nn.GRU ("recurrent-bias-after-multiplication"; "after-multiplication"
    /// is it with bias_hh = 0) and a torch transcription of "before-multiplication".
    @Test(arguments: [("gru_recurrent_bias", GRUResetGateMode.recurrentBiasAfterMultiplication),
                      ("gru_after", .afterMultiplication), ("gru_before", .beforeMultiplication)])
    func gruMatchesPyTorch(_ name: String, _ mode: GRUResetGateMode) throws {
        let f = try Fixture("recurrent", name)
        let inputs = try ["x", "h0", "w", "r", "b"].map { try f.array($0) }
        let (uy, uh) = (try f.array("uy"), try f.array("uh"))
        let (outputs, gradients) = try dlfeval({ (p: [DLArray]) in
            let (y, h) = try gru(p[0], p[1], p[2], p[3], p[4], resetGateMode: mode, dataFormat: "TBC")
            return ([y, h], try dlgradient(sum(y * uy) + sum(h * uh), p))
        }, inputs)
        expectClose(outputs[0], try f.array("y"), "y")
        expectClose(outputs[1], try f.array("hn"), "hn")
        for (k, name) in ["dx", "dh0", "dw", "dr", "db"].enumerated() {
            expectClose(gradients[k], try f.array(name), name)
        }
    }

    @Test func lstmHandComputed() throws {
        // Zero weights and bias: every gate is σ(0) = 1/2 and the candidate tanh(0) = 0, so
        // c halves each step and h = tanh(c)/2.
        let input = DLArray.randn([2, 1, 3], labels: "TBC", seed: 1)
        let (y, h, c) = try lstm(input, DLArray([0.3]), DLArray([1.0]), DLArray.zeros([3, 4]), DLArray.zeros([1, 4]),
                                 DLArray.zeros([4]))
        expectClose(stripdims(y), try DLArray([0.5 * Foundation.tanh(0.5), 0.5 * Foundation.tanh(0.25)], shape: [2, 1, 1]),
                    tolerance: 1e-15)
        expectClose(stripdims(h), try DLArray([0.5 * Foundation.tanh(0.25)], shape: [1, 1]), tolerance: 1e-15)
        expectClose(stripdims(c), try DLArray([0.25], shape: [1, 1]), tolerance: 1e-15)
        // One step, one unit, input 2: [i f g o] = 2·[1 2 3 4]·0.1 + 0.5·[4 3 2 1]·0.1 + [0 0 0 -1]
        // = [0.4 0.55 0.7 -0.15].
        let one = try lstm(DLArray([2.0], shape: [1, 1, 1], labels: "TBC"), DLArray([0.5]), DLArray([-1.0]),
                           DLArray([0.1, 0.2, 0.3, 0.4], shape: [1, 4]), DLArray([0.4, 0.3, 0.2, 0.1], shape: [1, 4]),
                           DLArray([0.0, 0, 0, -1]))
        let s = { (v: Double) in 1 / (1 + Foundation.exp(-v)) }
        let cell = s(0.55) * -1 + s(0.4) * Foundation.tanh(0.7)
        let expectedH = s(0.85 - 1) * Foundation.tanh(cell)
        #expect(abs(one.cellState.scalars(as: Double.self)[0] - cell) < 1e-15)
        #expect(abs(one.hiddenState.scalars(as: Double.self)[0] - expectedH) < 1e-15)
    }

    @Test func lstmMatchesScalarReference() throws {
        let reference = ScalarRecurrence(x, lstmW, lstmR, lstmB)
        let expected = reference.lstm(h0.scalars(), c0.scalars())
        let (y, h, c) = try lstm(x.labeled("TBC"), h0.labeled("BC"), c0.labeled("BC"), lstmW, lstmR, lstmB)
        #expect(y.labels == "TBC" && h.labels == "BC" && c.labels == "BC")
        expectClose(stripdims(y), try DLArray(expected.y, shape: [3, 2, 2]), tolerance: 1e-14, "y")
        expectClose(stripdims(h), try DLArray(expected.h, shape: [2, 2]), tolerance: 1e-14, "h")
        expectClose(stripdims(c), try DLArray(expected.c, shape: [2, 2]), tolerance: 1e-14, "c")
    }

    @Test(arguments: GRUResetGateMode.allCases)
    func gruMatchesScalarReference(_ mode: GRUResetGateMode) throws {
        let bias = mode == .recurrentBiasAfterMultiplication ? gruB6 : gruB
        let expected = ScalarRecurrence(x, gruW, gruR, bias).gru(h0.scalars(), mode: mode)
        let (y, h) = try gru(x.labeled("TBC"), h0, gruW, gruR, bias, resetGateMode: mode)
        #expect(y.labels == "TBC" && h.labels == "BC")
        expectClose(stripdims(y), try DLArray(expected.y, shape: [3, 2, 2]), tolerance: 1e-14, "y")
        expectClose(stripdims(h), try DLArray(expected.h, shape: [2, 2]), tolerance: 1e-14, "h")
    }

    @Test func gruHandComputed() throws {
        // Zero weights and bias: r = z = 1/2 and the candidate is tanh(0) = 0, so h halves.
        for mode in GRUResetGateMode.allCases {
            let bias = DLArray.zeros([mode == .recurrentBiasAfterMultiplication ? 6 : 3])
            let (y, h) = try gru(DLArray.ones([3, 1, 2], labels: "TBC"), DLArray([0.8]), DLArray.zeros([2, 3]),
                                 DLArray.zeros([1, 3]), bias, resetGateMode: mode)
            #expect(y.scalars(as: Double.self) == [0.4, 0.2, 0.1] && h.scalars(as: Double.self) == [0.1], "\(mode)")
        }
        // The modes differ by where r and the recurrent candidate bias act: one step, one unit,
        // W = 0, R = [0 0 1], h0 = 1, bias_W = [0 0 0], bias_R = [0 0 2]: r = z = 1/2.
        let step = { (mode: GRUResetGateMode, bias: [Double]) in
            try gru(DLArray.zeros([1, 1, 1], labels: "TBC"), DLArray([1.0]), DLArray.zeros([1, 3]),
                    DLArray([0.0, 0, 1], shape: [1, 3]), DLArray(bias), resetGateMode: mode).hiddenState.scalars(as: Double.self)[0]
        }
        // after: h̃ = tanh(r·(R h)) = tanh(1/2); before: tanh(R (r h)) = tanh(1/2) too; with the
        // recurrent bias, tanh(r·(R h + 2)) = tanh(3/2). h = (h̃ + h0)/2.
        #expect(abs(try step(.afterMultiplication, [0, 0, 0]) - (Foundation.tanh(0.5) + 1) / 2) < 1e-15)
        #expect(abs(try step(.beforeMultiplication, [0, 0, 0]) - (Foundation.tanh(0.5) + 1) / 2) < 1e-15)
        #expect(abs(try step(.recurrentBiasAfterMultiplication, [0, 0, 0, 0, 0, 2]) - (Foundation.tanh(1.5) + 1) / 2) < 1e-15)
        // The input bias of the candidate is outside the reset gate: tanh(2 + r·(R h)).
        #expect(abs(try step(.afterMultiplication, [0, 0, 2]) - (Foundation.tanh(2.5) + 1) / 2) < 1e-15)
    }

    @Test(arguments: [(RecurrentStateActivation.softsign, RecurrentGateActivation.hardSigmoid),
                      (.relu, .sigmoid), (.tanh, .hardSigmoid)])
    func otherActivations(_ state: RecurrentStateActivation, _ gate: RecurrentGateActivation) throws {
        var reference = ScalarRecurrence(x, lstmW, lstmR, lstmB)
        switch state {
        case .tanh: reference.state = { Foundation.tanh($0) }
        case .softsign: reference.state = { $0 / (1 + abs($0)) }
        case .relu: reference.state = { Swift.max($0, 0) }
        }
        if gate == .hardSigmoid { reference.gate = { Swift.min(Swift.max(0.2 * $0 + 0.5, 0), 1) } }
        let expected = reference.lstm(h0.scalars(), c0.scalars())
        let result = try lstm(x, h0, c0, lstmW, lstmR, lstmB, stateActivation: state, gateActivation: gate, dataFormat: "TBC")
        expectClose(result.output, try DLArray(expected.y, shape: [3, 2, 2]), tolerance: 1e-14, "lstm y")
        expectClose(result.cellState, try DLArray(expected.c, shape: [2, 2]), tolerance: 1e-14, "lstm c")
        var gruReference = ScalarRecurrence(x, gruW, gruR, gruB)
        (gruReference.state, gruReference.gate) = (reference.state, reference.gate)
        let gruExpected = gruReference.gru(h0.scalars(), mode: .afterMultiplication)
        let gruResult = try gru(x, h0, gruW, gruR, gruB, stateActivation: state, gateActivation: gate, dataFormat: "TBC")
        expectClose(gruResult.output, try DLArray(gruExpected.y, shape: [3, 2, 2]), tolerance: 1e-14, "gru y")
    }

    /// First and second derivatives through every input: x, the initial states, all weights and biases.
    @Test(arguments: 1...2)
    func lstmGradcheck(order: Int) throws {
        let result = try gradcheck({ (p: [DLArray]) in
            let (y, h, c) = try lstm(p[0], p[1], p[2], p[3], p[4], p[5], dataFormat: "TBC")
            return try flat(y, h, c)
        }, at: [x, h0, c0, lstmW, lstmR, lstmB], order: order)
        #expect(result.passed, "\(result)")
        // Other activations (points away from their kinks), and states broadcast from [hidden].
        let other = try gradcheck({ (p: [DLArray]) in
            let (y, h, c) = try lstm(p[0], p[1], p[2], p[3], p[4], p[5], stateActivation: .softsign,
                                     gateActivation: .hardSigmoid, dataFormat: "TBC")
            return try flat(y, h, c)
        }, at: [x, DLArray([0.3, -0.2]), DLArray([0.5, 0.1]), lstmW, lstmR, lstmB], order: order)
        #expect(other.passed, "\(other)")
    }

    @Test(arguments: [1, 2], GRUResetGateMode.allCases)
    func gruGradcheck(order: Int, mode: GRUResetGateMode) throws {
        let bias = mode == .recurrentBiasAfterMultiplication ? gruB6 : gruB
        let result = try gradcheck({ (p: [DLArray]) in
            let (y, h) = try gru(p[0], p[1], p[2], p[3], p[4], resetGateMode: mode, dataFormat: "TBC")
            return try flat(y, h)
        }, at: [x, h0, gruW, gruR, bias], order: order)
        #expect(result.passed, "\(result)")
    }

    /// A gradient penalty: the derivative of ‖∂loss/∂W‖² with respect to the weights, which
    /// needs second derivatives through the whole recurrence.
    @Test func secondDerivativeThroughLSTM() throws {
        let penalty = { (w: DLArray) -> DLArray in
            try dlfeval({ (w: DLArray) in
                let (y, _, _) = try lstm(x, h0, c0, w, lstmR, lstmB, dataFormat: "TBC")
                let g = try dlgradient(sum(y * y), w, enableHigherDerivatives: true)
                let value = try sum(g * g)
                return try reshape(dlgradient(value, w), [24])
            }, w)
        }
        let value = { (w: DLArray) -> Double in
            try dlfeval({ (w: DLArray) in
                let (y, _, _) = try lstm(x, h0, c0, w, lstmR, lstmB, dataFormat: "TBC")
                let g = try dlgradient(sum(y * y), w)
                return try sum(g * g).scalar(as: Double.self)
            }, w)
        }
        let automatic = try penalty(lstmW).scalars(as: Double.self)
        let base = lstmW.scalars(as: Double.self)
        for k in [0, 7, 13, 23] {
            var plus = base, minus = base
            plus[k] += 1e-6
            minus[k] -= 1e-6
            let numeric = (try value(DLArray(plus, shape: [3, 8])) - value(DLArray(minus, shape: [3, 8]))) / 2e-6
            #expect(abs(numeric - automatic[k]) < 1e-6 * Swift.max(1, abs(numeric)), "element \(k): \(automatic[k]) vs \(numeric)")
        }
    }

    @Test func labelsAndDataFormat() throws {
        let labeled = try lstm(x.labeled("TBC"), h0, c0, lstmW, lstmR, lstmB)
        #expect(labeled.output.labels == "TBC" && labeled.hiddenState.labels == "BC" && labeled.cellState.labels == "BC")
        // MATLAB's "CBT" layout: x is [C, B, T], the states [H, B]; results come back the same way.
        let matlabX = try permute(x, [2, 1, 0]), matlabH = try transpose(h0), matlabC = try transpose(c0)
        let matlab = try lstm(matlabX, matlabH, matlabC, lstmW, lstmR, lstmB, dataFormat: "CBT")
        #expect(matlab.output.labels == "" && matlab.output.shape == [2, 2, 3] && matlab.hiddenState.shape == [2, 2])
        expectClose(matlab.output, try permute(stripdims(labeled.output), [2, 1, 0]), tolerance: 1e-15)
        expectClose(matlab.hiddenState, try transpose(stripdims(labeled.hiddenState)), tolerance: 1e-15)
        expectClose(matlab.cellState, try transpose(stripdims(labeled.cellState)), tolerance: 1e-15)
        // Labeled MATLAB-style states ("CB" becomes "BC") and the same with a labeled x.
        let labeledStates = try lstm(matlabX.labeled("CBT"), matlabH.labeled("CB"), matlabC.labeled("CB"), lstmW, lstmR, lstmB)
        expectClose(labeledStates.output, labeled.output, tolerance: 1e-15)
        // Unlabeled "TBC": states [B, H].
        let canonical = try gru(x, h0, gruW, gruR, gruB, dataFormat: "TBC")
        #expect(canonical.output.labels == "" && canonical.hiddenState.shape == [2, 2])
        let matlabGRU = try gru(matlabX, matlabH, gruW, gruR, gruB, dataFormat: "CBT")
        expectClose(matlabGRU.output, try permute(canonical.output, [2, 1, 0]), tolerance: 1e-15)
        expectClose(matlabGRU.hiddenState, try transpose(canonical.hiddenState), tolerance: 1e-15)
        // A state of [hidden] (or MATLAB's H×1) applies to every observation.
        let shared = try lstm(x.labeled("TBC"), DLArray([0.3, -0.2]), DLArray([0.5, 0.1]), lstmW, lstmR, lstmB)
        let repeated = try lstm(x.labeled("TBC"), DLArray([0.3, -0.2, 0.3, -0.2], shape: [2, 2]),
                                DLArray([0.5, 0.1, 0.5, 0.1], shape: [2, 2]), lstmW, lstmR, lstmB)
        expectClose(shared.output, repeated.output, tolerance: 1e-15)
        let column = try lstm(matlabX, DLArray([0.3, -0.2], shape: [2, 1]), DLArray([0.5, 0.1], shape: [2, 1]),
                              lstmW, lstmR, lstmB, dataFormat: "CBT")
        expectClose(column.output, try permute(stripdims(shared.output), [2, 1, 0]), tolerance: 1e-15)
        // Without a batch ("TC") the states are [hidden]; without time ("BC") it is one step.
        let single = try lstm(x[0..., 0, ...].labeled("TC"), h0[0, ...], c0[0, ...], lstmW, lstmR, lstmB)
        #expect(single.output.labels == "TC" && single.output.shape == [3, 2] && single.hiddenState.labels == "C")
        expectClose(stripdims(single.output), stripdims(labeled.output)[0..., 0, ...], tolerance: 1e-15)
        let oneStep = try gru(x[0, ...].labeled("BC"), h0, gruW, gruR, gruB)
        #expect(oneStep.output.labels == "BC")
        expectClose(stripdims(oneStep.output), stripdims(canonical.output)[0, ...], tolerance: 1e-15)
        // Spatial dimensions are flattened into the features (MATLAB's output drops them).
        let spatial = try gru(reshape(x, [3, 2, 1, 3]).withLabels("TBCS"), h0, gruW, gruR, gruB)
        #expect(spatial.output.labels == "TBC")
        expectClose(stripdims(spatial.output), canonical.output, tolerance: 1e-15)
        // float32 stays float32.
        let narrow = try lstm(x.converted(to: .float32).labeled("TBC"), h0.converted(to: .float32),
                              c0.converted(to: .float32), lstmW.converted(to: .float32),
                              lstmR.converted(to: .float32), lstmB.converted(to: .float32))
        #expect(narrow.output.dataType == .float32)
        expectClose(narrow.output.converted(to: .float64), labeled.output, tolerance: 1e-5)
    }

    @Test func errors() {
        let sequence = DLArray.zeros([3, 2, 3], labels: "TBC")
        let (h, c) = (DLArray.zeros([2, 2]), DLArray.zeros([2, 2]))
        let (w, r, b) = (DLArray.zeros([3, 8]), DLArray.zeros([2, 8]), DLArray.zeros([8]))
        expectError(containing: "lstm", "no dimension labels", "dataFormat") {
            _ = try lstm(stripdims(sequence), h, c, w, r, b)
        }
        expectError(containing: "lstm needs sequence data labeled \"TBC\"", "\"UTBC\"") {
            _ = try lstm(DLArray.zeros([1, 3, 2, 3], labels: "UTBC"), h, c, w, r, b)
        }
        expectError(containing: "recurrentWeights of shape [2, 6]", "[hidden, 4·hidden]") {
            _ = try lstm(sequence, h, c, w, DLArray.zeros([2, 6]), b)
        }
        expectError(containing: "inputWeights of shape [4, 8]", "3 input features", "expected [3, 8]") {
            _ = try lstm(sequence, h, c, DLArray.zeros([4, 8]), r, b)
        }
        expectError(containing: "lstm: bias has 6 elements", "expected 8") {
            _ = try lstm(sequence, h, c, w, r, DLArray.zeros([6]))
        }
        expectError(containing: "lstm: cell0 of shape [3, 2]", "2 observations of 2 hidden units") {
            _ = try lstm(sequence, h, DLArray.zeros([3, 2]), w, r, b)
        }
        expectError(containing: "hidden0 of shape [3]") { _ = try lstm(sequence, DLArray.zeros([3]), c, w, r, b) }
        expectError(containing: "hidden0 is labeled \"TBC\"") {
            _ = try lstm(sequence, DLArray.zeros([1, 2, 2], labels: "TBC"), c, w, r, b)
        }
        expectError(containing: "no time steps") { _ = try lstm(DLArray.zeros([0, 2, 3], labels: "TBC"), h, c, w, r, b) }
        let (gw, gr) = (DLArray.zeros([3, 6]), DLArray.zeros([2, 6]))
        expectError(containing: "gru: bias has 6 elements", "\"recurrent-bias-after-multiplication\"", "expected 12 (6·hidden)") {
            _ = try gru(sequence, h, gw, gr, DLArray.zeros([6]), resetGateMode: .recurrentBiasAfterMultiplication)
        }
        expectError(containing: "gru: bias has 12 elements", "\"after-multiplication\"", "expected 6 (3·hidden)") {
            _ = try gru(sequence, h, gw, gr, DLArray.zeros([12]))
        }
        expectError(containing: "gru: recurrentWeights of shape [2, 8]", "[hidden, 3·hidden]") {
            _ = try gru(sequence, h, gw, r, DLArray.zeros([6]))
        }
        expectError(containing: "gru: the input is labeled \"TBC\" but dataFormat \"SCB\"") {
            _ = try gru(sequence, h, gw, gr, DLArray.zeros([6]), dataFormat: "SCB")
        }
    }
}
