import Foundation
import Testing
@testable import SwiftDL

/// The canonical labels of a fixture case, from the end of its name ("…_BCSS", "…_TBC_…").
private func format(of name: String) -> String {
    for format in ["BCSS", "TBC", "BC"] where name.contains("_\(format)") { return format }
    return ""
}

/// Checks `operation(x, offset, scale)` against a normalization fixture: the output, the
/// gradients of sum(y · upstream) with respect to x, the scale (w) and the offset (b), and the
/// Hessian-vector product ddx (the gradient with respect to x of sum(dx · v)).
private func expectMatchesFixture(_ f: Fixture, _ operation: (DLArray, DLArray, DLArray) throws -> DLArray,
                                  sourceLocation: SourceLocation = #_sourceLocation) throws {
    let (x, w, b) = (try f.array("x"), try f.array("w"), try f.array("b"))
    let (upstream, v) = (try f.array("upstream"), try f.array("v"))
    let (y, dx, dw, db, ddx) = try dlfeval({ (x: DLArray, w: DLArray, b: DLArray) in
        let y = try operation(x, b, w)
        let (dx, dw, db) = try dlgradient(sum(y * upstream), x, w, b, enableHigherDerivatives: true)
        // dx always depends on the scale; in inference mode it does not depend on x (ddx = 0).
        let (ddx, _, _) = try dlgradient(sum(dx * v), x, w, b)
        return (extractdata(y), extractdata(dx), extractdata(dw), extractdata(db), ddx)
    }, x, w, b)
    expectClose(y, try f.array("y"), "y", sourceLocation: sourceLocation)
    expectClose(dx, try f.array("dx"), "dx", sourceLocation: sourceLocation)
    expectClose(dw, try f.array("dw"), "dscale", sourceLocation: sourceLocation)
    expectClose(db, try f.array("db"), "doffset", sourceLocation: sourceLocation)
    expectClose(ddx, try f.array("ddx"), "ddx", sourceLocation: sourceLocation)
}

/// gradcheck of `function` at `point`, orders 1 and 2.
private func expectGradcheck(_ function: ([DLArray]) throws -> DLArray, at point: [DLArray], _ what: String,
                             sourceLocation: SourceLocation = #_sourceLocation) throws {
    for order in 1...2 {
        let result = try gradcheck(function, at: point, order: order)
        #expect(result.passed, "\(what): \(result)", sourceLocation: sourceLocation)
    }
}

@Suite struct NormalizationTests {
    // MARK: PyTorch fixtures

    /// Training-mode batchnorm against PyTorch's batch_norm(training=True), including the
    /// updated running statistics (PyTorch's momentum = MATLAB's decay).
    @Test(arguments: ["batchnorm_train_BCSS", "batchnorm_train_BC", "batchnorm_train_TBC", "batchnorm_train_BC_decay"])
    func batchnormTrainingMatchesPyTorch(_ name: String) throws {
        let f = try Fixture("normalization", name)
        let decay = try f.number("decay"), epsilon = try f.number("epsilon")
        let (runningMean, runningVariance) = (try f.array("runningMean"), try f.array("runningVariance"))
        try expectMatchesFixture(f) { x, offset, scale in
            try batchnorm(x, offset, scale, runningMean: runningMean, runningVariance: runningVariance,
                          meanDecay: decay, varianceDecay: decay, epsilon: epsilon, dataFormat: format(of: name)).output
        }
        let result = try batchnorm(f.array("x"), f.array("b"), f.array("w"), runningMean: runningMean,
                                   runningVariance: runningVariance, meanDecay: decay, varianceDecay: decay,
                                   epsilon: epsilon, dataFormat: format(of: name))
        expectClose(result.runningMean, try f.array("updatedMean"), tolerance: 1e-12, "running mean")
        expectClose(result.runningVariance, try f.array("updatedVariance"), tolerance: 1e-12, "running variance")
    }

    /// Inference-mode batchnorm against PyTorch's batch_norm(training=False).
    @Test(arguments: ["batchnorm_inference_BCSS", "batchnorm_inference_TBC"])
    func batchnormInferenceMatchesPyTorch(_ name: String) throws {
        let f = try Fixture("normalization", name)
        let (mean, variance) = (try f.array("mean"), try f.array("variance"))
        try expectMatchesFixture(f) { x, offset, scale in
            try batchnorm(x, offset, scale, trainedMean: mean, trainedVariance: variance, dataFormat: format(of: name))
        }
    }

    /// layernorm against PyTorch's layer_norm (features, sequences), group_norm with one group
    /// (images: channels and spatial dimensions), and explicit formulas for the other modes.
    @Test(arguments: [("layernorm_BCSS", LayerNormDimension.auto), ("layernorm_BC", .auto), ("layernorm_TBC", .auto),
                      ("layernorm_TBC_batch_excluded", .batchExcluded), ("layernorm_BCSS_channel_only", .channelOnly)])
    func layernormMatchesPyTorch(_ name: String, _ dimension: LayerNormDimension) throws {
        try expectMatchesFixture(Fixture("normalization", name)) { x, offset, scale in
            try layernorm(x, offset, scale, operationDimension: dimension, dataFormat: format(of: name))
        }
    }

    @Test(arguments: ["groupnorm_BCSS", "groupnorm_TBC", "groupnorm_BC"])
    func groupnormMatchesPyTorch(_ name: String) throws {
        let f = try Fixture("normalization", name)
        let groups = try f.integers("groups")[0]
        try expectMatchesFixture(f) { x, offset, scale in
            try groupnorm(x, groups, offset, scale, dataFormat: format(of: name))
        }
    }

    @Test(arguments: ["instancenorm_BCSS", "instancenorm_TBC"])
    func instancenormMatchesPyTorch(_ name: String) throws {
        try expectMatchesFixture(Fixture("normalization", name)) { x, offset, scale in
            try instancenorm(x, offset, scale, dataFormat: format(of: name))
        }
    }

    // MARK: Hand-computed values

    @Test func handComputedBatchnorm() throws {
        // Channel 0 holds 1 and 3 (mean 2, variance 1), channel 1 holds 10 and 20 (mean 15,
        // variance 25); scale [2, 1], offset [0, 1].
        let x = try DLArray(rows: [[1.0, 10], [3, 20]]).labeled("BC")
        let (scale, offset) = (DLArray([2.0, 1]), DLArray([0.0, 1]))
        let result = try batchnorm(x, offset, scale, runningMean: DLArray([0.0, 0]), runningVariance: DLArray([1.0, 1]))
        let (a, c) = (2 / (1 + 1e-5).squareRoot(), 5 / (25 + 1e-5).squareRoot())
        #expect(result.output.labels == "BC")
        expectClose(stripdims(result.output), try DLArray(rows: [[-a, 1 - c], [a, 1 + c]]), tolerance: 1e-14)
        // Decay 0.1: mean 0.1·[2, 15]; variance 0.1·[1, 25]·2/(2−1) + 0.9·1 (unbiased, M = 2).
        expectClose(result.runningMean, DLArray([0.2, 1.5]), tolerance: 1e-14)
        expectClose(result.runningVariance, DLArray([1.1, 5.9]), tolerance: 1e-14)
        // Decays of 1 take this batch's statistics; 0 keeps the old ones.
        let replaced = try batchnorm(x, offset, scale, runningMean: DLArray([7.0, 7]), runningVariance: DLArray([7.0, 7]),
                                     meanDecay: 1, varianceDecay: 0)
        expectClose(replaced.runningMean, DLArray([2.0, 15]), tolerance: 1e-14)
        expectClose(replaced.runningVariance, DLArray([7.0, 7]), tolerance: 1e-14)
        // Inference with the statistics given: (x − mean)/√(variance + ε)·scale + offset.
        let inferred = try batchnorm(x, offset, scale, trainedMean: DLArray([1.0, 10]), trainedVariance: DLArray([4.0, 1]),
                                     epsilon: 1e-3)
        let (p, q) = (2 / (4.001).squareRoot(), 1 / (1.001).squareRoot())
        expectClose(stripdims(inferred), try DLArray(rows: [[0, 1], [2 * p, 1 + 10 * q]]), tolerance: 1e-14)
    }

    @Test func handComputedLayerGroupInstance() throws {
        let epsilon = 1e-5
        // layernorm: row [1, 3] has mean 2, variance 1; the constant row [2, 2] becomes 0.
        let features = try DLArray(rows: [[1.0, 3], [2, 2]]).labeled("BC")
        let ln = try layernorm(features, DLArray([0.0, 0.5]), DLArray([1.0, 2]))
        let r = 1 / (1 + epsilon).squareRoot()
        expectClose(stripdims(ln), try DLArray(rows: [[-r, 0.5 + 2 * r], [0, 0.5]]), tolerance: 1e-14)
        // groupnorm: 4 channels of one position in 2 groups, [1, 3] and [5, 9] (variance 4).
        let x = try DLArray([1.0, 3, 5, 9], shape: [1, 4, 1], labels: "BCS")
        let gn = try groupnorm(x, 2, DLArray.zeros([4]), DLArray.ones([4]))
        let s = 2 / (4 + epsilon).squareRoot()
        #expect(gn.labels == "BCS")
        expectClose(stripdims(gn), try DLArray([-r, r, -s, s], shape: [1, 4, 1]), tolerance: 1e-14)
        // One group normalizes the four values together (mean 4.5, variance 8.75).
        let all = try groupnorm(x, 1, DLArray.zeros([4]), DLArray.ones([4]))
        let t = (8.75 + epsilon).squareRoot()
        expectClose(stripdims(all), try DLArray([-3.5 / t, -1.5 / t, 0.5 / t, 4.5 / t], shape: [1, 4, 1]), tolerance: 1e-14)
        // instancenorm: each channel over its positions; the constant channel becomes its offset.
        let y = try DLArray([1.0, 3, 10, 10], shape: [1, 2, 2], labels: "BCS")
        let inorm = try instancenorm(y, DLArray([0.0, 0.5]), DLArray([1.0, 1]))
        expectClose(stripdims(inorm), try DLArray([-r, r, 0.5, 0.5], shape: [1, 2, 2]), tolerance: 1e-14)
        // Channel-wise groupnorm is instancenorm.
        let z = DLArray.randn([2, 3, 4], labels: "BCS", seed: 1)
        let (o, g) = (DLArray.randn([3], seed: 2), DLArray.randn([3], seed: 3))
        expectClose(stripdims(try groupnorm(z, 3, o, g)), stripdims(try instancenorm(z, o, g)), tolerance: 1e-14)
    }

    @Test func layernormOperationDimensions() throws {
        // A "TBCS" sequence of images: auto leaves out T, batch-excluded includes it.
        let x = DLArray.randn([3, 2, 2, 4], labels: "TBCS", seed: 4)
        let (offset, scale) = (DLArray.zeros([2]), DLArray.ones([2]))
        let data = stripdims(x)
        func reference(_ dims: [Int]) throws -> DLArray { try normalized(data, over: dims, epsilon: 1e-5) }
        expectClose(stripdims(try layernorm(x, offset, scale)), try reference([2, 3]), tolerance: 1e-13)
        expectClose(stripdims(try layernorm(x, offset, scale, operationDimension: .spatialChannel)),
                    try reference([2, 3]), tolerance: 1e-13)
        expectClose(stripdims(try layernorm(x, offset, scale, operationDimension: .channelOnly)),
                    try reference([2]), tolerance: 1e-13)
        expectClose(stripdims(try layernorm(x, offset, scale, operationDimension: .batchExcluded)),
                    try reference([0, 2, 3]), tolerance: 1e-13)
        // Each observation's normalized values have mean 0 and variance ≈ 1.
        let y = stripdims(try layernorm(x, offset, scale, operationDimension: .batchExcluded))
        expectClose(try mean(y, dims: [0, 2, 3]), DLArray.zeros([1, 2, 1, 1]), tolerance: 1e-13)
        expectClose(try mean(y * y, dims: [0, 2, 3]), DLArray.ones([1, 2, 1, 1]), tolerance: 1e-4)
    }

    // MARK: Derivatives

    /// Training-mode batchnorm at order 1 and 2 through x, offset and scale: the batch
    /// statistics depend on x, so the second derivative involves their derivatives too.
    @Test func batchnormTrainingGradcheck() throws {
        let (rm, rv) = (DLArray([0.1, -0.2]), DLArray([1.0, 2]))
        let point = [DLArray.randn([3, 2, 2, 2], seed: 10), DLArray([0.3, -0.4]), DLArray([1.2, 0.7])]
        try expectGradcheck({ p in
            try batchnorm(p[0], p[1], p[2], runningMean: rm, runningVariance: rv, dataFormat: "BCSS").output
        }, at: point, "batchnorm training BCSS")
        // A sequence "TBC", through a nonlinearity so the second derivative does not vanish.
        let sequence = [DLArray.randn([3, 2, 2], seed: 11), DLArray([0.3, -0.4]), DLArray([1.2, 0.7])]
        try expectGradcheck({ p in
            try tanh(batchnorm(p[0], p[1], p[2], runningMean: rm, runningVariance: rv, dataFormat: "TBC").output)
        }, at: sequence, "batchnorm training TBC")
    }

    @Test func batchnormInferenceGradcheck() throws {
        // Through x, offset, scale and the statistics themselves.
        let point = [DLArray.randn([2, 3, 2], seed: 12), DLArray([0.3, -0.4, 0.1]), DLArray([1.2, 0.7, -0.5]),
                     DLArray([0.2, -0.1, 0.4]), DLArray([0.8, 1.5, 0.6])]
        try expectGradcheck({ p in
            try tanh(batchnorm(p[0], p[1], p[2], trainedMean: p[3], trainedVariance: p[4], dataFormat: "BCS"))
        }, at: point, "batchnorm inference")
    }

    @Test(arguments: [LayerNormDimension.auto, .channelOnly, .batchExcluded])
    func layernormGradcheck(_ dimension: LayerNormDimension) throws {
        let point = [DLArray.randn([3, 2, 3], seed: 13), DLArray([0.3, -0.4, 0.2]), DLArray([1.2, 0.7, -0.9])]
        try expectGradcheck({ p in
            try layernorm(p[0], p[1], p[2], operationDimension: dimension, dataFormat: "TBC")
        }, at: point, "layernorm TBC \(dimension)")
        let image = [DLArray.randn([2, 2, 2, 2], seed: 14), DLArray([0.3, -0.4]), DLArray([1.2, 0.7])]
        try expectGradcheck({ p in
            try tanh(layernorm(p[0], p[1], p[2], operationDimension: dimension, dataFormat: "BCSS"))
        }, at: image, "layernorm BCSS \(dimension)")
    }

    @Test func groupAndInstanceGradcheck() throws {
        let point = [DLArray.randn([2, 4, 3], seed: 15), DLArray([0.3, -0.4, 0.2, 0.1]), DLArray([1.2, 0.7, -0.9, 1.1])]
        try expectGradcheck({ p in try groupnorm(p[0], 2, p[1], p[2], dataFormat: "BCS") }, at: point, "groupnorm BCS")
        try expectGradcheck({ p in try tanh(instancenorm(p[0], p[1], p[2], dataFormat: "BCS")) }, at: point, "instancenorm BCS")
        // A sequence with channels last ("TBC"): the groups span time and channels.
        let sequence = [DLArray.randn([3, 2, 4], seed: 16), DLArray([0.3, -0.4, 0.2, 0.1]), DLArray([1.2, 0.7, -0.9, 1.1])]
        try expectGradcheck({ p in try tanh(groupnorm(p[0], 2, p[1], p[2], dataFormat: "TBC")) }, at: sequence, "groupnorm TBC")
    }

    /// The running statistics are values, not traced: they carry no gradient.
    @Test func runningStatisticsAreNotTraced() throws {
        let x = DLArray.randn([4, 2], seed: 17)
        let traced = try dlfeval({ (x: DLArray, m: DLArray, v: DLArray) in
            let result = try batchnorm(x, DLArray.zeros([2]), DLArray.ones([2]), runningMean: m, runningVariance: v,
                                       dataFormat: "BC")
            return [result.output.isTraced, result.runningMean.isTraced, result.runningVariance.isTraced]
        }, x, DLArray.zeros([2]), DLArray.ones([2]))
        #expect(traced == [true, false, false])
    }

    // MARK: Labels and data formats

    @Test func labelsAndDataFormats() throws {
        // MATLAB's "SSCB" (H×W×C×N in column-major memory): the unlabeled result comes back in
        // the caller's order and equals the labeled "BCSS" result permuted.
        let raw = DLArray.randn([3, 2, 2, 4], seed: 18)
        let (offset, scale) = (DLArray([0.1, -0.2]), DLArray([1.5, 0.5]))
        let (rm, rv) = (DLArray.zeros([2]), DLArray.ones([2]))
        let labeled = try raw.labeled("SSCB")
        #expect(labeled.labels == "BCSS" && labeled.shape == [4, 2, 3, 2])
        let operations: [(String, (DLArray, String?) throws -> DLArray)] = [
            ("batchnorm", { x, f in try batchnorm(x, offset, scale, runningMean: rm, runningVariance: rv, dataFormat: f).output }),
            ("batchnorm inference", { x, f in try batchnorm(x, offset, scale, trainedMean: rm, trainedVariance: rv, dataFormat: f) }),
            ("layernorm", { x, f in try layernorm(x, offset, scale, dataFormat: f) }),
            ("groupnorm", { x, f in try groupnorm(x, 2, offset, scale, dataFormat: f) }),
            ("instancenorm", { x, f in try instancenorm(x, offset, scale, dataFormat: f) }),
        ]
        for (name, operation) in operations {
            let fromLabels = try operation(labeled, nil)
            #expect(fromLabels.labels == "BCSS" && fromLabels.shape == [4, 2, 3, 2], "\(name)")
            let fromFormat = try operation(raw, "SSCB")
            #expect(fromFormat.labels == "" && fromFormat.shape == [3, 2, 2, 4], "\(name)")
            expectClose(fromFormat, try permute(stripdims(fromLabels), [2, 3, 1, 0]), tolerance: 1e-13, name)
            // A labeled input may also name its (equivalent) format.
            expectClose(try operation(labeled, "SSCB"), fromLabels, tolerance: 0, name)
            // Canonical order unlabeled: the same numbers as the labeled input.
            expectClose(try operation(stripdims(labeled), "BCSS"), stripdims(fromLabels), tolerance: 0, name)
        }
        // MATLAB's "CBT" sequence is SwiftDL's "TBC".
        let sequence = DLArray.randn([2, 3, 5], seed: 19)   // C×B×T in MATLAB's order
        let asTBC = try sequence.labeled("CBT")
        #expect(asTBC.labels == "TBC" && asTBC.shape == [5, 3, 2])
        for (name, operation) in operations {
            let y = try operation(asTBC, nil)
            #expect(y.labels == "TBC", "\(name)")
            expectClose(try operation(sequence, "CBT"), try permute(stripdims(y), [2, 1, 0]), tolerance: 1e-13, name)
        }
        // A feature batch "BC".
        let features = DLArray.randn([4, 2], labels: "BC", seed: 20)
        for (name, operation) in operations {
            let y = try operation(features, nil)
            #expect(y.labels == "BC" && y.shape == [4, 2], "\(name)")
            expectClose(try operation(stripdims(features), "BC"), stripdims(y), tolerance: 0, name)
        }
        // Parameters may come in any shape holding one value per channel (MATLAB's C×1).
        let column = try layernorm(features, try reshape(offset, [2, 1]), try reshape(scale, [2, 1]))
        expectClose(column, try layernorm(features, offset, scale), tolerance: 0)
        // Running statistics keep the shape they came in.
        let result = try batchnorm(features, offset, scale, runningMean: try reshape(rm, [2, 1]), runningVariance: rv)
        #expect(result.runningMean.shape == [2, 1] && result.runningVariance.shape == [2])
    }

    @Test func float32Input() throws {
        let x = DLArray.randn([3, 2], type: .float32, labels: "BC", seed: 21)
        let y = try layernorm(x, DLArray.zeros([2], type: .float32), DLArray.ones([2], type: .float32))
        #expect(y.dataType == .float32)
        let reference = try layernorm(x.converted(to: .float64), DLArray.zeros([2]), DLArray.ones([2]))
        expectClose(y, reference, tolerance: 1e-5)
    }

    // MARK: Errors

    @Test func errors() {
        let x = DLArray.zeros([2, 4, 3], labels: "BCS")
        let (c4, c3) = (DLArray.zeros([4]), DLArray.zeros([3]))
        expectError(containing: "batchnorm", "channel (C)", "\"BS\"") {
            _ = try batchnorm(DLArray.zeros([2, 3], labels: "BS"), c4, c4, trainedMean: c4, trainedVariance: c4)
        }
        expectError(containing: "layernorm", "scaleFactor has 3 elements", "4 channels") { _ = try layernorm(x, c4, c3) }
        expectError(containing: "layernorm", "offset has 3 elements") { _ = try layernorm(x, c3, c4) }
        expectError(containing: "runningVariance has 3 elements") {
            _ = try batchnorm(x, c4, c4, runningMean: c4, runningVariance: c3)
        }
        expectError(containing: "trainedMean has 3 elements") { _ = try batchnorm(x, c4, c4, trainedMean: c3, trainedVariance: c4) }
        expectError(containing: "meanDecay must be in [0, 1], got 1.5") {
            _ = try batchnorm(x, c4, c4, runningMean: c4, runningVariance: c4, meanDecay: 1.5)
        }
        expectError(containing: "varianceDecay must be in [0, 1], got -0.1") {
            _ = try batchnorm(x, c4, c4, runningMean: c4, runningVariance: c4, varianceDecay: -0.1)
        }
        expectError(containing: "groupnorm", "4 channels cannot be split into 3 groups") { _ = try groupnorm(x, 3, c4, c4) }
        expectError(containing: "groupnorm", "into 0 groups") { _ = try groupnorm(x, 0, c4, c4) }
        expectError(containing: "instancenorm", "epsilon must be a positive number, got 0.0") {
            _ = try instancenorm(x, c4, c4, epsilon: 0)
        }
        expectError(containing: "instancenorm", "dimension labels", "dataFormat") { _ = try instancenorm(stripdims(x), c4, c4) }
        expectError(containing: "layernorm", "labeled \"BCS\"", "dataFormat \"TBC\"") {
            _ = try layernorm(x, c4, c4, dataFormat: "TBC")
        }
        expectError(containing: "layernorm is defined for real arrays") {
            _ = try layernorm(x.converted(to: .complex128), c4, c4)
        }
    }
}
