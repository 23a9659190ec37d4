import Testing
@testable import SwiftDL

@Suite struct EmbeddingTests {
    // 4 words, embedding dimension 3: row k is [k, 10k, 100k] + [1, 2, 3].
    let table = try! DLArray([1.0, 2, 3, 2, 12, 103, 3, 22, 203, 4, 32, 303], shape: [4, 3])

    @Test func handComputedLookup() throws {
        // 2 time steps, 2 sequences ("TB"): the result adds C last, "TBC".
        let x = try DLArray([0.0, 3, 2, 0], shape: [2, 2], labels: "TB")
        let y = try embed(x, table)
        #expect(y.labels == "TBC" && y.shape == [2, 2, 3])
        #expect(y.scalars(as: Double.self) == [1, 2, 3, 4, 32, 303, 3, 22, 203, 1, 2, 3])
        // float32 weights give float32 embeddings.
        #expect(try embed(x, table.converted(to: .float32)).dataType == .float32)
        // A single index, unlabeled: [embeddingDimension].
        #expect(try embed(DLArray(2.0), table).scalars(as: Double.self) == [3, 22, 203])
    }

    @Test func matchesPyTorch() throws {
        let f = try Fixture("losses", "embedding")
        let (idx, upstream) = (try f.array("idx"), try f.array("upstream"))
        let (y, dw) = try dlfeval({ (w: DLArray) in
            let y = try embed(idx, w, dataFormat: "TB")
            return (y, try dlgradient(sum(y * upstream), w))
        }, try f.array("weights"))
        expectClose(y, try f.array("y"), tolerance: 1e-14, "y")
        // Words used twice (4 and 2) add up their gradients.
        expectClose(dw, try f.array("dweights"), tolerance: 1e-14, "dweights")
    }

    @Test func labelsAndDataFormats() throws {
        let indices = try DLArray([1.0, 0, 3, 2, 2, 1], shape: [2, 3])
        let reference = try embed(indices.labeled("BT"), table)       // labels "TB": [3, 2, 3]
        #expect(reference.labels == "TBC" && reference.shape == [3, 2, 3])
        // Unlabeled with MATLAB's "BT" order: the result is [B, T, C] in the caller's order.
        let matlab = try embed(indices, table, dataFormat: "BT")
        #expect(matlab.labels == "" && matlab.shape == [2, 3, 3])
        expectClose(try permute(matlab, [1, 0, 2]), stripdims(reference), tolerance: 0)
        // MATLAB's "CBT" with a channel of size 1: the channel becomes the embedding, in place.
        let withChannel = try embed(reshape(indices, [1, 2, 3]), table, dataFormat: "CBT")
        #expect(withChannel.shape == [3, 2, 3])
        expectClose(try permute(withChannel, [2, 1, 0]), stripdims(reference), tolerance: 0)
        // Unlabeled without a format: x.shape + [embeddingDimension], as PyTorch.
        let plain = try embed(indices, table)
        #expect(plain.labels == "" && plain.shape == [2, 3, 3])
        expectClose(plain, matlab, tolerance: 0)
        // Spatial indices "BSS": C goes between the batch and the spatial dimensions.
        let image = try embed(indices.reshaped([1, 2, 3]).labeled("BSS"), table)
        #expect(image.labels == "BCSS" && image.shape == [1, 3, 2, 3])
        expectClose(try permute(image, [0, 2, 3, 1]), try plain.reshaped([1, 2, 3, 3]), tolerance: 0)
    }

    @Test(arguments: 1...2)
    func gradcheckThroughTheWeights(order: Int) throws {
        // Repeated indices, so gradients accumulate; a nonlinearity so the second derivative
        // is not zero.
        let indices = try DLArray([1.0, 0, 3, 1, 1, 2], shape: [3, 2], labels: "TB")
        let weights = DLArray.randn([4, 3], seed: 1)
        let labeled = try gradcheck({ w in try tanh(embed(indices, w)) * 2 }, at: weights, order: order)
        #expect(labeled.passed, "\(labeled)")
        let formatted = try gradcheck({ w in sin(try embed(stripdims(indices), w, dataFormat: "BT")) }, at: weights, order: order)
        #expect(formatted.passed, "\(formatted)")
        // Inside a model: embeddings, then a loss.
        let model = try gradcheck({ (p: [DLArray]) in
            let vectors = try embed(indices, p[0])
            return try l2loss(tanh(vectors), p[1].labeled("TBC"))
        }, at: [weights, DLArray.randn([3, 2, 3], seed: 2)], order: order)
        #expect(model.passed, "\(model)")
    }

    @Test func errors() {
        expectError(containing: "index 4", "out of range for 4 words", "0-based") {
            _ = try embed(DLArray([0.0, 4]).labeled("B"), table)
        }
        expectError(containing: "index -1", "out of range") { _ = try embed(DLArray([-1.0]), table) }
        expectError(containing: "index 1.5", "whole number") { _ = try embed(DLArray([1.5]), table) }
        expectError(containing: "index nan") { _ = try embed(DLArray([Double.nan]), table) }
        expectError(containing: "index 1e+20", "out of range") { _ = try embed(DLArray([1e20]), table) }
        expectError(containing: "weights of shape [12]", "[numWords, embeddingDimension]") {
            _ = try embed(DLArray([0.0]), table.reshaped([12]))
        }
        expectError(containing: "channel dimension of size 2") {
            _ = try embed(DLArray.zeros([2, 3], labels: "CB"), table)
        }
        expectError(containing: "real arrays") { _ = try embed(DLArray.zeros([2], type: .complex64), table) }
    }
}
