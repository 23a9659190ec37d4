import Foundation
import Testing
@testable import SwiftDL

@Suite struct LossTests {
    // Two observations, three classes: probabilities and one-hot targets, "BC".
    let p = try! DLArray([0.7, 0.2, 0.1, 0.25, 0.5, 0.25], shape: [2, 3], labels: "BC")
    let onehot = try! DLArray([1.0, 0, 0, 0, 1, 0], shape: [2, 3], labels: "BC")

    // MARK: Hand-computed values

    @Test func crossentropyHandCases() throws {
        let expected = -(log(0.7) + log(0.5)) / 2
        #expect(Swift.abs(try crossentropy(p, onehot).scalar(as: Double.self) - expected) < 1e-15)
        let loss = try crossentropy(p, onehot)
        #expect(loss.shape == [] && loss.labels == "")
        // Class indices give the same loss (0-based: classes 0 and 1).
        #expect(Swift.abs(try indexcrossentropy(p, DLArray([0.0, 1])).scalar(as: Double.self) - expected) < 1e-15)
        // Normalizations: the sum, by all positions (2), by the batch (2).
        #expect(Swift.abs(try crossentropy(p, onehot, normalizationFactor: .none).scalar(as: Double.self) - 2 * expected) < 1e-15)
        #expect(Swift.abs(try crossentropy(p, onehot, normalizationFactor: .allElements).scalar(as: Double.self) - expected) < 1e-15)
        // Class weights [2, 1, 1] weigh observation 0 twice.
        let weighted = try crossentropy(p, onehot, DLArray([2.0, 1, 1])).scalar(as: Double.self)
        #expect(Swift.abs(weighted - -(2 * log(0.7) + log(0.5)) / 2) < 1e-15)
        let indexWeighted = try indexcrossentropy(p, DLArray([0.0, 1]), DLArray([2.0, 1, 1])).scalar(as: Double.self)
        #expect(Swift.abs(indexWeighted - weighted) < 1e-15)
        // Observation weights, labeled "B".
        let perObservation = try crossentropy(p, onehot, DLArray([1.0, 3]).labeled("B")).scalar(as: Double.self)
        #expect(Swift.abs(perObservation - -(log(0.7) + 3 * log(0.5)) / 2) < 1e-15)
        // Soft targets.
        let soft = try DLArray([0.5, 0.5, 0, 0, 0.5, 0.5], shape: [2, 3], labels: "BC")
        let softExpected = -(0.5 * log(0.7) + 0.5 * log(0.2) + 0.5 * log(0.5) + 0.5 * log(0.25)) / 2
        #expect(Swift.abs(try crossentropy(p, soft).scalar(as: Double.self) - softExpected) < 1e-15)
        // Multilabel: every channel a binary prediction.
        let multi = try crossentropy(p, onehot, classificationMode: .multilabel).scalar(as: Double.self)
        let multiExpected = -(log(0.7) + log(0.8) + log(0.9) + log(0.75) + log(0.5) + log(0.75)) / 2
        #expect(Swift.abs(multi - multiExpected) < 1e-15)
        // Unreduced: one loss per element, labeled as the predictions.
        let none = try crossentropy(p, onehot, reduction: .none)
        #expect(none.labels == "BC" && none.shape == [2, 3])
        expectClose(stripdims(none), try DLArray([-log(0.7), 0, 0, 0, -log(0.5), 0], shape: [2, 3]), tolerance: 1e-15)
        let indexNone = try indexcrossentropy(p, DLArray([0.0, 1]), reduction: .none)
        #expect(indexNone.labels == "B" && indexNone.shape == [2])
        expectClose(stripdims(indexNone), DLArray([-log(0.7), -log(0.5)]), tolerance: 1e-15)
        // A probability that underflowed to 0 gives a large finite loss, not ∞ or NaN.
        let zero = try DLArray([0.0, 1], shape: [1, 2], labels: "BC")
        let hard = try crossentropy(zero, try DLArray([1.0, 0], shape: [1, 2], labels: "BC")).scalar(as: Double.self)
        #expect(hard.isFinite && hard > 700)
    }

    @Test func masksAndMaskIncludedNormalization() throws {
        // A sequence "TBC": 3 steps, 2 observations, 2 classes; the last step of observation 1
        // is padding.
        let y = try softmax(DLArray.randn([3, 2, 2], labels: "TBC", seed: 1))
        let indices = try DLArray([0.0, 1, 1, 0, 1, 1], shape: [3, 2], labels: "TB")
        let mask = try DLArray([1.0, 1, 1, 1, 1, 0], shape: [3, 2], labels: "TB")
        let perPosition = try stripdims(indexcrossentropy(y, indices, reduction: .none)).scalars(as: Double.self)
        // [T, B] row-major: observation 0 is elements 0, 2, 4; observation 1 is 1, 3 (5 masked).
        let observation0 = perPosition[0] + perPosition[2] + perPosition[4]
        let observation1 = perPosition[1] + perPosition[3]
        let masked = try indexcrossentropy(y, indices, mask: mask).scalar(as: Double.self)
        #expect(Swift.abs(masked - (observation0 + observation1) / 2) < 1e-14)
        let included = try indexcrossentropy(y, indices, mask: mask, normalizationFactor: .maskIncluded).scalar(as: Double.self)
        #expect(Swift.abs(included - (observation0 / 3 + observation1 / 2)) < 1e-14)
        // The same through crossentropy with one-hot targets and a mask without the channel.
        let targets = try DLArray([1.0, 0, 0, 1, 0, 1, 1, 0, 0, 1, 0, 1], shape: [3, 2, 2], labels: "TBC")
        let viaOneHot = try crossentropy(y, targets, mask: mask, normalizationFactor: .maskIncluded).scalar(as: Double.self)
        #expect(Swift.abs(viaOneHot - included) < 1e-14)
        // all-elements divides by the 6 positions, for both forms.
        let all = try crossentropy(y, targets, normalizationFactor: .allElements).scalar(as: Double.self)
        let indexAll = try indexcrossentropy(y, indices, normalizationFactor: .allElements).scalar(as: Double.self)
        #expect(Swift.abs(all - perPosition.reduce(0, +) / 6) < 1e-14 && Swift.abs(indexAll - all) < 1e-14)
        // Regression losses count every element; the mask broadcasts over the channels.
        let t = DLArray.randn([3, 2, 2], labels: "TBC", seed: 2)
        let squares = try stripdims(l2loss(y, t, reduction: .none)).scalars(as: Double.self)
        let kept = squares.enumerated().filter { $0.offset / 2 != 5 }   // position (t=2, b=1) is masked
        let l2Included = try l2loss(y, t, mask: mask, normalizationFactor: .maskIncluded).scalar(as: Double.self)
        let sum0 = kept.filter { ($0.offset / 2) % 2 == 0 }.map(\.element).reduce(0, +)
        let sum1 = kept.filter { ($0.offset / 2) % 2 == 1 }.map(\.element).reduce(0, +)
        #expect(Swift.abs(l2Included - (sum0 / 6 + sum1 / 4)) < 1e-14)
        let l2All = try l2loss(y, t, mask: mask, normalizationFactor: .allElements).scalar(as: Double.self)
        #expect(Swift.abs(l2All - (sum0 + sum1) / 12) < 1e-14)
    }

    @Test func regressionHandCases() throws {
        let y = try DLArray([1.0, 2, 3, 4], shape: [2, 2], labels: "BC")
        let t = DLArray.zeros([2, 2], labels: "BC")
        #expect(try mse(y, t).scalar(as: Double.self) == 7.5)            // 30 / (2·2)
        #expect(try l1loss(y, t).scalar(as: Double.self) == 5)           // 10 / 2
        #expect(try l2loss(y, t).scalar(as: Double.self) == 15)          // 30 / 2
        #expect(try l2loss(y, t, normalizationFactor: .allElements).scalar(as: Double.self) == 7.5)
        #expect(try l1loss(y, t, normalizationFactor: .none).scalar(as: Double.self) == 10)
        // Huber with δ = 1: 0.5·0.5² + (2 − 0.5) for differences 0.5 and 2 (one observation).
        let d = try DLArray([0.5, -2], shape: [1, 2], labels: "BC")
        #expect(try huber(d, DLArray.zeros([1, 2], labels: "BC")).scalar(as: Double.self) == 1.625)
        // δ = 3: both quadratic.
        #expect(try huber(d, DLArray.zeros([1, 2], labels: "BC"), transitionPoint: 3).scalar(as: Double.self) == 2.125)
        // Channel weights and no batch dimension ("C"): N = 1.
        let c = try DLArray([1.0, -2, 3], shape: [3], labels: "C")
        #expect(try l1loss(c, DLArray.zeros([3], labels: "C"), DLArray([1.0, 0.5, 0])).scalar(as: Double.self) == 2)
        #expect(try mse(c, DLArray.zeros([3], labels: "C")).scalar(as: Double.self) == 7)
        // Unreduced losses keep the predictions' layout.
        let none = try huber(d, DLArray.zeros([1, 2], labels: "BC"), reduction: .none)
        #expect(none.labels == "BC" && none.scalars(as: Double.self) == [0.125, 1.5])
    }

    @Test func binaryCrossEntropyOnLargeLogits() throws {
        let x = try DLArray([100.0, 100, -100, -100, 0, 1000], shape: [1, 6], labels: "BC")
        let t = try DLArray([1.0, 0, 1, 0, 1, 0.25], shape: [1, 6], labels: "BC")
        let none = try binarycrossentropy(logits: x, targets: t, reduction: .none).scalars(as: Double.self)
        let expected = [exp(-100.0), 100, 100, exp(-100.0), log(2.0), 750]
        for (a, e) in zip(none, expected) { #expect(Swift.abs(a - e) <= 1e-12 * Swift.max(1, e), "\(none)") }
        // The gradient σ(x) − t is finite and exact at the extremes.
        let (dx, dt) = try dlfeval({ (x: DLArray, t: DLArray) in
            try dlgradient(binarycrossentropy(logits: x, targets: t, normalizationFactor: .none), x, t)
        }, x, t)
        expectClose(stripdims(dx), try DLArray([0.0, 1, -1, 0, -0.5, 0.75], shape: [1, 6]), tolerance: 1e-15)
        expectClose(stripdims(dt), try DLArray([-100.0, -100, 100, 100, 0, -1000], shape: [1, 6]), tolerance: 1e-15)
        // Agrees with multilabel crossentropy on probabilities where that is finite.
        let moderate = DLArray.randn([3, 4], labels: "BC", seed: 3)
        let targets = DLArray.rand([3, 4], labels: "BC", seed: 4)
        let viaProbabilities = try crossentropy(sigmoid(moderate), targets, classificationMode: .multilabel)
        expectClose(try binarycrossentropy(logits: moderate, targets: targets), viaProbabilities, tolerance: 1e-14)
    }

    // MARK: PyTorch

    @Test func crossentropyMatchesPyTorch() throws {
        // Soft targets through softmax, gradients w.r.t. the logits and the targets.
        var f = try Fixture("losses", "crossentropy_soft")
        var (loss, dz, dt) = try dlfeval({ (z: DLArray, t: DLArray) in
            let loss = try crossentropy(softmax(z, dataFormat: "BC"), t, dataFormat: "BC")
            let (dz, dt) = try dlgradient(loss, z, t)
            return (loss, dz, dt)
        }, try f.array("z"), try f.array("t"))
        #expect(Swift.abs(loss.scalar(as: Double.self) - (try f.number("loss"))) < 1e-12)
        expectClose(dz, try f.array("dz"), tolerance: 1e-12, "dz")
        expectClose(dt, try f.array("dt"), tolerance: 1e-12, "dt")
        // Spatial "BCS", one-hot targets built from the indices, normalized by all positions.
        f = try Fixture("losses", "crossentropy_spatial_all")
        let idx = try f.array("idx")                                     // [B, S]
        let targets = try permute(onehotClasses(idx, classes: 3), [0, 2, 1])   // [B, C, S]
        (loss, dz, _) = try dlfeval({ (z: DLArray) in
            let loss = try crossentropy(softmax(z.labeled("BCS")), targets, normalizationFactor: .allElements)
            return (loss, try dlgradient(loss, z), z)
        }, try f.array("z"))
        #expect(Swift.abs(loss.scalar(as: Double.self) - (try f.number("loss"))) < 1e-12)
        expectClose(dz, try f.array("dz"), tolerance: 1e-12, "dz spatial")
        let viaIndices = try indexcrossentropy(softmax(f.array("z"), dataFormat: "BCS"), idx, normalizationFactor: .allElements,
                                               dataFormat: "BCS")
        #expect(Swift.abs(viaIndices.scalar(as: Double.self) - (try f.number("loss"))) < 1e-12)
        // Multilabel on probabilities: binary_cross_entropy.
        f = try Fixture("losses", "crossentropy_multilabel")
        let (multi, dp, dtm) = try dlfeval({ (p: DLArray, t: DLArray) in
            let loss = try crossentropy(p, t, classificationMode: .multilabel, dataFormat: "BC")
            let (dp, dt) = try dlgradient(loss, p, t)
            return (loss, dp, dt)
        }, try f.array("p"), try f.array("t"))
        #expect(Swift.abs(multi.scalar(as: Double.self) - (try f.number("loss"))) < 1e-12)
        expectClose(dp, try f.array("dp"), tolerance: 1e-12, "dp multilabel")
        expectClose(dtm, try f.array("dt"), tolerance: 1e-12, "dt multilabel")
    }

    @Test func indexcrossentropyMatchesPyTorch() throws {
        // Weighted nll_loss on probabilities, gradient w.r.t. the probabilities.
        var f = try Fixture("losses", "indexcrossentropy_weighted")
        let (idx, w) = (try f.array("idx"), try f.array("w"))
        let (loss, dp) = try dlfeval({ (p: DLArray) in
            let loss = try indexcrossentropy(p, idx, w, dataFormat: "BC")
            return (loss, try dlgradient(loss, p))
        }, try f.array("p"))
        #expect(Swift.abs(loss.scalar(as: Double.self) - (try f.number("loss"))) < 1e-12)
        expectClose(dp, try f.array("dp"), tolerance: 1e-12, "dp")
        let none = try indexcrossentropy(f.array("p"), idx, reduction: .none, dataFormat: "BC")
        expectClose(none, try f.array("none"), tolerance: 1e-12, "none")
        // A sequence "TBC" through softmax, indices "TB".
        f = try Fixture("losses", "indexcrossentropy_sequence")
        let sequenceIndices = try f.array("idx")
        let (sequenceLoss, dz) = try dlfeval({ (z: DLArray) in
            let loss = try indexcrossentropy(softmax(z, dataFormat: "TBC"), sequenceIndices, dataFormat: "TBC")
            return (loss, try dlgradient(loss, z))
        }, try f.array("z"))
        #expect(Swift.abs(sequenceLoss.scalar(as: Double.self) - (try f.number("loss"))) < 1e-12)
        expectClose(dz, try f.array("dz"), tolerance: 1e-12, "dz")
    }

    @Test func binarycrossentropyMatchesPyTorch() throws {
        let f = try Fixture("losses", "binarycrossentropy_logits")
        let (x, t) = (try f.array("x"), try f.array("t"))
        let (loss, dx, dt) = try dlfeval({ (x: DLArray, t: DLArray) in
            let loss = try binarycrossentropy(logits: x, targets: t, dataFormat: "BC")
            let (dx, dt) = try dlgradient(loss, x, t)
            return (loss, dx, dt)
        }, x, t)
        #expect(Swift.abs(loss.scalar(as: Double.self) - (try f.number("loss"))) < 1e-12)
        expectClose(dx, try f.array("dx"), tolerance: 1e-12, "dx")
        expectClose(dt, try f.array("dt"), tolerance: 1e-12, "dt")
        let mean = try binarycrossentropy(logits: x, targets: t, normalizationFactor: .allElements, dataFormat: "BC")
        #expect(Swift.abs(mean.scalar(as: Double.self) - (try f.number("mean"))) < 1e-12)
        expectClose(try binarycrossentropy(logits: x, targets: t, reduction: .none, dataFormat: "BC"), try f.array("none"),
                    tolerance: 1e-12, "none")
    }

    @Test(arguments: ["mse", "l1loss", "l2loss", "huber", "l1loss_all", "l2loss_all", "huber_all"])
    func regressionMatchesPyTorch(_ name: String) throws {
        let f = try Fixture("losses", name)
        let delta = try f.number("delta")
        let normalization: LossNormalization = name.hasSuffix("_all") ? .allElements : .batchSize
        let (loss, dy, dt) = try dlfeval({ (y: DLArray, t: DLArray) in
            let loss: DLArray
            switch name.split(separator: "_")[0] {
            case "mse": loss = try mse(y, t, dataFormat: "BCS")
            case "l1loss": loss = try l1loss(y, t, normalizationFactor: normalization, dataFormat: "BCS")
            case "l2loss": loss = try l2loss(y, t, normalizationFactor: normalization, dataFormat: "BCS")
            default: loss = try huber(y, t, transitionPoint: delta, normalizationFactor: normalization, dataFormat: "BCS")
            }
            let (dy, dt) = try dlgradient(loss, y, t)
            return (loss, dy, dt)
        }, try f.array("y"), try f.array("t"))
        #expect(Swift.abs(loss.scalar(as: Double.self) - (try f.number("loss"))) < 1e-12, "\(name)")
        expectClose(dy, try f.array("dy"), tolerance: 1e-12, "\(name) dy")
        expectClose(dt, try f.array("dt"), tolerance: 1e-12, "\(name) dt")
        if name == "huber" {
            let none = try huber(f.array("y"), f.array("t"), transitionPoint: delta, reduction: .none, dataFormat: "BCS")
            expectClose(none, try Fixture("losses", "huber_none").array("none"), tolerance: 1e-12, "huber none")
        }
    }

    // MARK: Derivatives

    @Test(arguments: 1...2)
    func gradcheckClassificationLosses(order: Int) throws {
        let probabilities = try softmax(DLArray.randn([3, 4], seed: 5), dataFormat: "BC")
        let soft = try softmax(DLArray.randn([3, 4], seed: 6), dataFormat: "BC")
        let classWeights = DLArray([0.5, 1.5, 1.0, 2.0])
        let mask = try DLArray([1.0, 0, 1], shape: [3, 1])
        try check({ (v: [DLArray]) in
            try crossentropy(v[0], v[1], v[2], dataFormat: "BC")
        }, at: [probabilities, soft, classWeights], order: order, "crossentropy")
        try check({ (v: [DLArray]) in
            try crossentropy(v[0], v[1], mask: mask, normalizationFactor: .maskIncluded, reduction: .sum, dataFormat: "BC")
        }, at: [probabilities, soft], order: order, "crossentropy masked")
        try check({ (v: [DLArray]) in
            try crossentropy(v[0], v[1], classificationMode: .multilabel, reduction: .none, dataFormat: "BC")
        }, at: [probabilities, DLArray.rand([3, 4], seed: 7)], order: order, "multilabel")
        try check({ (v: [DLArray]) in
            try indexcrossentropy(v[0], DLArray([3.0, 0, 2]), v[1], dataFormat: "BC")
        }, at: [probabilities, classWeights], order: order, "indexcrossentropy")
        // Through softmax from logits, in MATLAB's "CB" order.
        try check({ (z: DLArray) in
            try indexcrossentropy(softmax(z, dataFormat: "CB"), DLArray([1.0, 3, 0]), dataFormat: "CB")
        }, at: DLArray.randn([4, 3], seed: 8), order: order, "softmax + indexcrossentropy")
        // Logits with a large one (the second derivative is σ'(x), tiny but exact).
        let logits = try DLArray([0.3, -1.2, 2.5, 30, -0.7, 1.1], shape: [2, 3])
        try check({ (v: [DLArray]) in
            try binarycrossentropy(logits: v[0], targets: v[1], v[2], normalizationFactor: .allElements, dataFormat: "BC")
        }, at: [logits, DLArray.rand([2, 3], seed: 9), DLArray([1.0, 2, 0.5])], order: order, "binarycrossentropy")
    }

    @Test(arguments: 1...2)
    func gradcheckRegressionLosses(order: Int) throws {
        // Differences away from 0 (l1's kink) and from ±δ (huber's switch).
        let y = try DLArray([0.3, -1.2, 2.5, 0.1, 1.7, -3.0, 0.7, 0.2, -0.4, 1.1, 0.9, -2.2], shape: [2, 3, 2])
        let t = try DLArray([0.0, 0.5, 0.2, -0.6, 0.4, -0.5, 1.3, -1.0, 0.3, 0.1, -0.2, 0.1], shape: [2, 3, 2])
        let w = DLArray([1.0, 0.5, 2.0])
        let mask = try DLArray([1.0, 1, 0, 1, 1, 1], shape: [2, 3, 1])
        try check({ (v: [DLArray]) in try mse(v[0], v[1], dataFormat: "BCS") }, at: [y, t], order: order, "mse")
        try check({ (v: [DLArray]) in
            try l1loss(v[0], v[1], v[2], mask: mask, normalizationFactor: .maskIncluded, dataFormat: "BCS")
        }, at: [y, t, w], order: order, "l1loss")
        try check({ (v: [DLArray]) in
            try l2loss(v[0], v[1], v[2], reduction: .none, dataFormat: "BCS")
        }, at: [y, t, w], order: order, "l2loss")
        try check({ (v: [DLArray]) in
            try huber(v[0], v[1], v[2], transitionPoint: 0.8, normalizationFactor: .allElements, dataFormat: "BCS")
        }, at: [y, t, w], order: order, "huber")
        // Labeled inside the function, with a nonlinearity so the second derivative is not constant.
        try check({ (v: [DLArray]) in
            try huber(tanh(v[0].labeled("BCS")), v[1].labeled("BCS"))
        }, at: [y, t], order: order, "huber labeled")
    }

    // MARK: Layouts

    @Test func labelsAndDataFormats() throws {
        let y = DLArray.randn([4, 3], seed: 10)                  // [B, C]
        let t = DLArray.randn([4, 3], seed: 11)
        let labeled = try l2loss(y.labeled("BC"), t.labeled("BC")).scalar(as: Double.self)
        // Unlabeled with SwiftDL's format, and MATLAB's "CB" (the transposes).
        #expect(try l2loss(y, t, dataFormat: "BC").scalar(as: Double.self) == labeled)
        let yT = try transpose(y), tT = try transpose(t)
        #expect(Swift.abs(try l2loss(yT, tT, dataFormat: "CB").scalar(as: Double.self) - labeled) < 1e-14)
        // Labeled predictions with unlabeled targets in canonical order.
        #expect(try l2loss(y.labeled("BC"), t).scalar(as: Double.self) == labeled)
        // Unreduced losses come back in the caller's order.
        let none = try l1loss(yT, tT, reduction: .none, dataFormat: "CB")
        #expect(none.labels == "" && none.shape == [3, 4])
        // Classification in MATLAB's order: [C, B] with indices [1, B] or [B].
        let p = try softmax(DLArray.randn([3, 4], seed: 12), dataFormat: "CB")
        let indices = DLArray([0.0, 2, 1, 1])
        let a = try indexcrossentropy(p, indices, dataFormat: "CB").scalar(as: Double.self)
        let b = try indexcrossentropy(p, try reshape(indices, [1, 4]), dataFormat: "CB").scalar(as: Double.self)
        let c = try indexcrossentropy(p.labeled("CB"), indices.labeled("B")).scalar(as: Double.self)
        #expect(a == b && Swift.abs(a - c) < 1e-15)
        let perObservation = try indexcrossentropy(p, indices, reduction: .none, dataFormat: "CB")
        #expect(perObservation.shape == [4] && perObservation.labels == "")
        // One-hot targets in the same MATLAB order.
        let targets = try transpose(onehotClasses(indices, classes: 3))      // [C, B]
        #expect(Swift.abs(try crossentropy(p, targets, dataFormat: "CB").scalar(as: Double.self) - a) < 1e-15)
        // Weights in their own format: per observation, MATLAB "B".
        let weights = DLArray([1.0, 2, 0, 1])
        let viaFormat = try crossentropy(p, targets, weights, weightsFormat: "B", dataFormat: "CB").scalar(as: Double.self)
        let viaLabels = try crossentropy(p, targets, weights.labeled("B"), dataFormat: "CB").scalar(as: Double.self)
        #expect(viaFormat == viaLabels)
        let perPosition = try indexcrossentropy(p, indices, reduction: .none, dataFormat: "CB").scalars(as: Double.self)
        let expected = zip(perPosition, [1.0, 2, 0, 1]).map(*).reduce(0, +) / 4
        #expect(Swift.abs(viaFormat - expected) < 1e-14)
    }

    @Test func errors() {
        let y = DLArray.zeros([2, 3], labels: "BC")
        expectError(containing: "crossentropy", "targets of shape [3, 2]", "[2, 3]") {
            _ = try crossentropy(y, DLArray.zeros([3, 2], labels: "BC"))
        }
        expectError(containing: "l2loss", "targets of shape [2, 4]", "do not fit") { _ = try l2loss(y, DLArray.zeros([2, 4])) }
        expectError(containing: "mse", "targets of shape [2]") { _ = try mse(y, DLArray.zeros([2])) }
        expectError(containing: "weights of shape [4]", "one value per class") { _ = try l1loss(y, y, DLArray.zeros([4])) }
        expectError(containing: "weights", "labeled \"T\"") { _ = try huber(y, y, DLArray.zeros([2], labels: "T")) }
        expectError(containing: "mask of shape", "[5, 3]") { _ = try huber(y, y, mask: DLArray.zeros([5, 3])) }
        expectError(containing: ".maskIncluded", "needs a mask") { _ = try l1loss(y, y, normalizationFactor: .maskIncluded) }
        expectError(containing: "transitionPoint", "-1") { _ = try huber(y, y, transitionPoint: -1) }
        expectError(containing: "crossentropy needs a channel (C)", "\"TB\"") {
            _ = try crossentropy(DLArray.zeros([2, 3], labels: "TB"), DLArray.zeros([2, 3], labels: "TB"))
        }
        expectError(containing: "dimension labels", "dataFormat") { _ = try mse(DLArray.zeros([2, 3]), DLArray.zeros([2, 3])) }
        // Class indices: out of range (0-based), not whole, wrong shape.
        expectError(containing: "class index 3", "3 classes", "0-based") { _ = try indexcrossentropy(y, DLArray([0.0, 3])) }
        expectError(containing: "class index -1") { _ = try indexcrossentropy(y, DLArray([-1.0, 0])) }
        expectError(containing: "class index -1e+300") { _ = try indexcrossentropy(y, DLArray([-1e300, 0])) }
        expectError(containing: "class index 0.5", "whole number") { _ = try indexcrossentropy(y, DLArray([0.5, 0])) }
        expectError(containing: "class indices of shape [3]", "do not fit") { _ = try indexcrossentropy(y, DLArray([0.0, 1, 2])) }
        expectError(containing: "mask", "one value per position") {
            _ = try indexcrossentropy(y, DLArray([0.0, 1]), mask: DLArray.ones([2, 3], labels: "BC"))
        }
        expectError(containing: "real arrays") { _ = try l2loss(DLArray.zeros([2, 3], type: .complex128, labels: "BC"), y) }
    }

    /// Expects gradcheck of `function` at `x` to pass at `order`.
    private func check(_ function: ([DLArray]) throws -> DLArray, at x: [DLArray], order: Int, _ what: String,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        let result = try gradcheck(function, at: x, order: order)
        #expect(result.passed, "\(what): \(result)", sourceLocation: sourceLocation)
    }

    /// Expects gradcheck of `function` at `x` to pass at `order`.
    private func check(_ function: (DLArray) throws -> DLArray, at x: DLArray, order: Int, _ what: String,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        let result = try gradcheck(function, at: x, order: order)
        #expect(result.passed, "\(what): \(result)", sourceLocation: sourceLocation)
    }

    /// One-hot rows [positions..., classes] for class indices (as float64).
    private func onehotClasses(_ indices: DLArray, classes: Int) throws -> DLArray {
        let values = indices.scalars(as: Double.self)
        var data = [Double](repeating: 0, count: values.count * classes)
        for (k, v) in values.enumerated() { data[k * classes + Int(v)] = 1 }
        return try DLArray(data, shape: indices.shape + [classes])
    }
}
