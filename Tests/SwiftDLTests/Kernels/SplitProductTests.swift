import Foundation
import Testing
@testable import SwiftDL

/// The products of a small network's layers, cut into one block of columns (or rows) per core:
/// every element right, in the three forms a fully connected layer's passes use, and the same
/// bits however busy the machine is.
@Suite struct SplitProductTests {
    /// `op(a)·op(b)` of float32 matrices, in float64 by the definition, row-major.
    func reference(_ a: DLArray, _ operationA: MatrixOperation, _ b: DLArray, _ operationB: MatrixOperation) -> [Double] {
        let (x, y) = (a.scalars(as: Double.self), b.scalars(as: Double.self))
        let (m, k) = operationA == .none ? (a.shape[0], a.shape[1]) : (a.shape[1], a.shape[0])
        let n = operationB == .none ? b.shape[1] : b.shape[0]
        var c = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for p in 0..<k {
                let left = operationA == .none ? x[i * k + p] : x[p * m + i]
                for j in 0..<n { c[i * n + j] += left * (operationB == .none ? y[p * n + j] : y[j * k + p]) }
            }
        }
        return c
    }

    /// The first element of `actual` farther than `tolerance` (relative to the largest
    /// magnitude) from `expected`, described, or nil.
    func firstMiss(_ actual: [Double], _ expected: [Double], tolerance: Double = 1e-5) -> String? {
        let scale = expected.map(Swift.abs).max() ?? 1
        guard let i = actual.indices.first(where: { Swift.abs(actual[$0] - expected[$0]) > tolerance * scale }) else {
            return actual.count == expected.count ? nil : "lengths \(actual.count) vs \(expected.count)"
        }
        return "element \(i): \(actual[i]) vs \(expected[i])"
    }

    /// 70×130 results (cut at column 64 on two cores, an uneven cut) from 240 terms, above the
    /// size from which products are split, in the forms x·W, g·Wᵀ and xᵀ·g; and a tall one, cut
    /// by rows.
    @Test(arguments: [(MatrixOperation.none, MatrixOperation.none, 70, 130, 240),
                      (.none, .transpose, 70, 130, 240), (.transpose, .none, 70, 130, 240),
                      (.transpose, .none, 300, 64, 128)])
    func productsMatchTheDefinition(_ operationA: MatrixOperation, _ operationB: MatrixOperation,
                                    m: Int, n: Int, k: Int) throws {
        #expect(m * n * k >= splitProductLimit)
        let a = DLArray.randn(operationA == .none ? [m, k] : [k, m], type: .float32, seed: 1)
        let b = DLArray.randn(operationB == .none ? [k, n] : [n, k], type: .float32, seed: 2)
        let c = try pagemtimes(a, operationA, b, operationB)
        #expect(c.shape == [m, n])
        #expect(firstMiss(c.scalars(as: Double.self), reference(a, operationA, b, operationB)) == nil)
    }

    /// A fully connected layer's forward product, which starts from the bias, split the same way:
    /// by columns, and by rows for a tall batch.
    @Test(arguments: [(70, 240, 130), (300, 128, 64)])
    func affineProductAddsTheBiasToEveryBlock(m: Int, k: Int, n: Int) throws {
        #expect(m * n * k >= splitProductLimit)
        let x = DLArray.randn([m, k], type: .float32, seed: 3)
        let w = DLArray.randn([k, n], type: .float32, seed: 4)
        let bias = DLArray.randn([n], type: .float32, seed: 5)
        let y = try fullyconnect(x, w, bias, dataFormat: "BC")
        let product = reference(x, .none, w, .none), shift = bias.scalars(as: Double.self)
        let expected = product.indices.map { product[$0] + shift[$0 % n] }
        #expect(firstMiss(y.scalars(as: Double.self), expected) == nil)
    }

    /// A product cut into blocks gives the bits of the whole product on one thread: each
    /// element's terms are added in one order, whatever the block (so that lowering
    /// ``splitProductLimit`` changes no result).
    @Test(arguments: [(MatrixOperation.none, MatrixOperation.none, 64, 256, 64),
                      (.none, .transpose, 64, 784, 256), (.transpose, .none, 256, 64, 128)])
    func blocksGiveTheWholeProductsBits(_ operationA: MatrixOperation, _ operationB: MatrixOperation,
                                        m: Int, n: Int, k: Int) throws {
        #expect(m * n * k >= splitProductLimit)
        let a = DLArray.randn(operationA == .none ? [m, k] : [k, m], type: .float32, seed: 8)
        let b = DLArray.randn(operationB == .none ? [k, n] : [n, k], type: .float32, seed: 9)
        let split = try pagemtimes(a, operationA, b, operationB).scalars(as: Float.self).map(\.bitPattern)
        var whole = [Float](repeating: 0, count: m * n)
        let (x, y) = (a.scalars(as: Float.self), b.scalars(as: Float.self))
        BLAS.singleThreaded {
            threadProduct(operationA, x, a.shape[1], operationB, y, b.shape[1], accumulating: false, into: &whole, n,
                          m: m, n: n, k: k)
        }
        #expect(firstDifference(split, whole.map(\.bitPattern)) == nil)
    }

    /// The cut depends on the sizes and the core count alone: the bits are the same with the
    /// other core busy.
    @Test func sameBitsUnderLoad() throws {
        let a = DLArray.randn([64, 784], type: .float32, seed: 6)
        let b = DLArray.randn([256, 784], type: .float32, seed: 7)
        let quiet = try pagemtimes(a, .none, b, .transpose).scalars(as: Float.self).map(\.bitPattern)
        let loaded = try MachineLoad.during { try pagemtimes(a, .none, b, .transpose) }.scalars(as: Float.self).map(\.bitPattern)
        #expect(firstDifference(loaded, quiet) == nil)
    }
}
