import Foundation
import Testing
@testable import SwiftDL

@Suite struct AttentionTests {
    @Test func handComputedCases() throws {
        // One head, one observation: a query [1, 0] against keys [1, 0], [0, 1], [1, 0] with
        // scale 1: scores 1, 0, 1.
        let q = try DLArray([1.0, 0], shape: [1, 1, 2], labels: "TBC")
        let k = try DLArray([1.0, 0, 0, 1, 1, 0], shape: [3, 1, 2], labels: "TBC")
        let v = try DLArray([1.0, 2, 3], shape: [3, 1, 1], labels: "TBC")
        let (y, w) = try attention(q, k, v, 1, scale: 1)
        let e = Foundation.exp(1.0), total = 2 * e + 1
        expectClose(w, try DLArray([e / total, 1 / total, e / total], shape: [1, 1, 1, 3]), tolerance: 1e-15)
        #expect(y.labels == "TBC" && y.shape == [1, 1, 1])
        #expect(Swift.abs(y.scalar(as: Double.self) - (e * 1 + 2 + e * 3) / total) < 1e-14)
        // The automatic scale is 1/√(channels per head): 1/√2 here.
        let (_, auto) = try attention(q, k, v, 1)
        let a = Foundation.exp(1 / 2.0.squareRoot()), autoTotal = 2 * a + 1
        expectClose(auto, try DLArray([a / autoTotal, 1 / autoTotal, a / autoTotal], shape: [1, 1, 1, 3]), tolerance: 1e-15)
        // Causal: query i sees keys 0...i; the first query copies the first value.
        let q3 = DLArray.randn([3, 1, 2], labels: "TBC", seed: 1)
        let (causal, causalWeights) = try attention(q3, k, v, 1, mask: .causal)
        let cw = causalWeights.scalars(as: Double.self)
        #expect(cw[0] == 1 && cw[1] == 0 && cw[2] == 0 && cw[5] == 0)
        #expect(Swift.abs(cw[3] + cw[4] - 1) < 1e-15 && cw[6...8].reduce(0, +) > 1 - 1e-15)
        #expect(causal.scalars(as: Double.self)[0] == 1)
        // A query that may attend to nothing gets zero weights and output, not NaN.
        let none = try DLArray([true, true, false, false, false, false, true, false, true], shape: [3, 3])
        let (blocked, blockedWeights) = try attention(q3, k, v, 1, mask: .custom(none))
        #expect(blockedWeights.scalars(as: Double.self)[3...5].allSatisfy { $0 == 0 })
        #expect(blocked.scalars(as: Double.self)[1] == 0)
        #expect(blocked.scalars(as: Double.self).allSatisfy { $0.isFinite })
    }

    @Test(arguments: ["single_head", "two_heads", "value_channels", "causal", "custom_mask"])
    func matchesPyTorch(_ name: String) throws {
        let f = try Fixture("attention", name)
        let heads = try f.integers("heads")[0]
        let scale = try? f.number("scale")
        let mask: AttentionMask
        switch name {
        case "causal": mask = .causal
        case "custom_mask": mask = .custom(try f.array("mask"))
        default: mask = .none
        }
        let (uy, uw) = (try f.array("uy"), try f.array("uw"))
        let (y, w, dq, dk, dv) = try dlfeval({ (q: DLArray, k: DLArray, v: DLArray) in
            let (y, w) = try attention(q, k, v, heads, scale: scale, mask: mask, dataFormat: "TBC")
            let (dq, dk, dv) = try dlgradient(sum(y * uy) + sum(w * uw), q, k, v)
            return (y, w, dq, dk, dv)
        }, try f.array("q"), try f.array("k"), try f.array("v"))
        expectClose(y, try f.array("y"), tolerance: 1e-12, "\(name) y")
        expectClose(w, try f.array("w"), tolerance: 1e-12, "\(name) weights")
        expectClose(dq, try f.array("dq"), tolerance: 1e-12, "\(name) dq")
        expectClose(dk, try f.array("dk"), tolerance: 1e-12, "\(name) dk")
        expectClose(dv, try f.array("dv"), tolerance: 1e-12, "\(name) dv")
        if name == "two_heads" {
            // PyTorch's MultiheadAttention (identity projections) splits the heads the same way.
            expectClose(y, try f.array("mha_y"), tolerance: 1e-12, "MultiheadAttention output")
            expectClose(w, try f.array("mha_w"), tolerance: 1e-12, "MultiheadAttention weights")
        }
    }

    @Test func labelsAndDataFormats() throws {
        let q = DLArray.randn([4, 2, 6], seed: 2), k = DLArray.randn([5, 2, 6], seed: 3), v = DLArray.randn([5, 2, 9], seed: 4)
        let (y, w) = try attention(q.labeled("TBC"), k.labeled("TBC"), v.labeled("TBC"), 3)
        #expect(y.labels == "TBC" && y.shape == [4, 2, 9])
        #expect(w.labels == "" && w.shape == [2, 3, 4, 5])
        // Unlabeled keys and values take the labeled queries' layout.
        let (mixed, _) = try attention(q.labeled("TBC"), k, v, 3)
        expectClose(stripdims(mixed), stripdims(y), tolerance: 0)
        // Unlabeled with SwiftDL's format.
        let (plain, plainWeights) = try attention(q, k, v, 3, dataFormat: "TBC")
        #expect(plain.labels == "")
        expectClose(plain, stripdims(y), tolerance: 0)
        expectClose(plainWeights, w, tolerance: 0)
        // MATLAB's "CBT" order, as MATLAB's example: [C, B, T] in, [C', B, T] out.
        let matlab = { (x: DLArray) in try permute(x, [2, 1, 0]) }
        let (fromMatlab, matlabWeights) = try attention(matlab(q), matlab(k), matlab(v), 3, dataFormat: "CBT")
        #expect(fromMatlab.shape == [9, 2, 4])
        expectClose(try matlab(fromMatlab), stripdims(y), tolerance: 1e-14)
        expectClose(matlabWeights, w, tolerance: 1e-14)
        // Without a batch ("TC"): the weights have batch 1.
        let (single, singleWeights) = try attention(q[0..., 0, ...].labeled("TC"), k[0..., 0, ...].labeled("TC"),
                                                    v[0..., 0, ...].labeled("TC"), 3)
        #expect(single.labels == "TC" && single.shape == [4, 9] && singleWeights.shape == [1, 3, 4, 5])
        expectClose(stripdims(single), stripdims(y)[0..., 0, ...], tolerance: 1e-14)
        // The sequence along a spatial dimension ("BCS").
        let spatial = { (x: DLArray) in try permute(x, [1, 2, 0]).labeled("BCS") }
        let (image, _) = try attention(spatial(q), spatial(k), spatial(v), 3)
        #expect(image.labels == "BCS" && image.shape == [2, 9, 4])
        expectClose(try permute(stripdims(image), [2, 0, 1]), stripdims(y), tolerance: 1e-14)
        // A mask for every observation ([B, Lq, Lk]) equals the same [Lq, Lk] mask.
        let allowed = try DLArray.rand([4, 5], seed: 5) .> 0.3
        let (shared, _) = try attention(q, k, v, 3, mask: .custom(allowed), dataFormat: "TBC")
        let (perObservation, _) = try attention(q, k, v, 3, mask: .custom(try repmat(allowed, [2, 1, 1])), dataFormat: "TBC")
        expectClose(shared, perObservation, tolerance: 0)
    }

    @Test(arguments: 1...2)
    func gradcheckThroughQueriesKeysAndValues(order: Int) throws {
        let q = DLArray.randn([3, 2, 4], seed: 6), k = DLArray.randn([4, 2, 4], seed: 7), v = DLArray.randn([4, 2, 2], seed: 8)
        let masks: [(String, AttentionMask)] = [
            ("none", .none), ("causal", .causal),
            ("custom", .custom(try DLArray((0..<24).map { $0 % 5 != 1 }, shape: [2, 3, 4]))),
        ]
        for (name, mask) in masks {
            let result = try gradcheck({ (p: [DLArray]) in
                let (y, w) = try attention(p[0], p[1], p[2], 2, mask: mask, dataFormat: "TBC")
                return try cat([reshape(y, [-1]), reshape(w, [-1])], dim: 0)
            }, at: [q, k, v], order: order)
            #expect(result.passed, "\(name): \(result)")
        }
        // Labeled, with a custom scale and a mask that blocks a whole row (its weights are 0,
        // and no NaN reaches the derivatives).
        let blocking = try DLArray([true, true, true, true, false, false, false, false, true, false, true, false], shape: [3, 4])
        let labeled = try gradcheck({ (p: [DLArray]) in
            try attention(p[0].labeled("TBC"), p[1].labeled("TBC"), p[2].labeled("TBC"), 1, scale: 0.7, mask: .custom(blocking)).output
        }, at: [q, k, v], order: order)
        #expect(labeled.passed, "\(labeled)")
        #expect(labeled.automatic.allSatisfy { $0.isFinite })
    }

    @Test func errors() {
        let q = DLArray.zeros([3, 2, 6], labels: "TBC")
        expectError(containing: "numHeads 4", "(6)") { _ = try attention(q, q, q, 4) }
        expectError(containing: "numHeads 2", "values (9)") {
            _ = try attention(q, q, DLArray.zeros([3, 2, 9], labels: "TBC"), 2)
        }
        expectError(containing: "at least 1") { _ = try attention(q, q, q, 0) }
        expectError(containing: "keys have 4 channels", "queries 6") {
            _ = try attention(q, DLArray.zeros([3, 2, 4], labels: "TBC"), q, 1)
        }
        expectError(containing: "5 keys but 3 values") {
            _ = try attention(q, DLArray.zeros([5, 2, 6], labels: "TBC"), q, 1)
        }
        expectError(containing: "batch sizes") { _ = try attention(q, DLArray.zeros([3, 1, 6], labels: "TBC"), q, 1) }
        expectError(containing: "mask of shape [3, 4]", "[3, 3]") {
            _ = try attention(q, q, q, 1, mask: .custom(DLArray.zeros([3, 4])))
        }
        expectError(containing: "mask of shape [3, 3, 3]") {
            _ = try attention(q, q, q, 1, mask: .custom(DLArray.zeros([3, 3, 3])))
        }
        expectError(containing: "keys are labeled \"BC\"", "\"TBC\"") {
            _ = try attention(q, DLArray.zeros([2, 6], labels: "BC"), q, 1)
        }
        expectError(containing: "keys of shape [2, 6]", "3") { _ = try attention(q, DLArray.zeros([2, 6]), q, 1) }
        expectError(containing: "channel (C)", "\"TB\"") { _ = try attention(DLArray.zeros([3, 2], labels: "TB"), q, q, 1) }
        expectError(containing: "dimension labels", "dataFormat") { _ = try attention(stripdims(q), q, q, 1) }
    }
}
