import ComplexModule
import Testing
@testable import SwiftDL

@Suite struct SortTests {
    /// [[3, 1, 2], [0, 5, 4]]
    let m = try! DLArray([3.0, 1, 2, 0, 5, 4], shape: [2, 3])

    @Test func sortsAlongTheLastDimensionByDefault() throws {
        let (values, indices) = try sort(m)
        #expect(values.shape == [2, 3])
        #expect(values.scalars(as: Double.self) == [1, 2, 3, 0, 4, 5])
        #expect(indices.scalars(as: Double.self) == [1, 2, 0, 0, 2, 1])
        #expect(indices.dataType == .float64)
        let (down, downIndices) = try sort(m, descending: true)
        #expect(down.scalars(as: Double.self) == [3, 2, 1, 5, 4, 0])
        #expect(downIndices.scalars(as: Double.self) == [0, 2, 1, 1, 2, 0])
        let (columns, columnIndices) = try sort(m, dim: 0)
        #expect(columns.scalars(as: Double.self) == [0, 1, 2, 3, 5, 4])
        #expect(columnIndices.scalars(as: Double.self) == [1, 0, 0, 0, 1, 1])
    }

    @Test func sortsAThreeDimensionalArrayAlongTheMiddle() throws {
        // Element (i, j, k) is 12 i + 4 j + k, negated for j = 1.
        var values = [Double]()
        for i in 0..<2 { for j in 0..<3 { for k in 0..<4 { values.append(Double((j == 1 ? -1 : 1) * (12 * i + 4 * j + k))) } } }
        let x = try DLArray(values, shape: [2, 3, 4])
        let (sorted, indices) = try sort(x, dim: 1)
        #expect(sorted.shape == [2, 3, 4])
        // For every (i, k) the line is [a, -b, c] with 0 ≤ a < b < c: sorted [-b, a, c], indices [1, 0, 2].
        #expect(indices.scalars(as: Double.self) == (0..<2).flatMap { _ in [1.0, 1, 1, 1, 0, 0, 0, 0, 2, 2, 2, 2] })
        #expect(Array(sorted.scalars(as: Double.self)[0..<12]) == [-4, -5, -6, -7, 0, 1, 2, 3, 8, 9, 10, 11])
    }

    @Test func sortIsStable() throws {
        let x = DLArray([3.0, 1, 3, 1, 2])
        let (up, upIndices) = try sort(x)
        #expect(up.scalars(as: Double.self) == [1, 1, 2, 3, 3])
        #expect(upIndices.scalars(as: Double.self) == [1, 3, 4, 0, 2])
        let (down, downIndices) = try sort(x, descending: true)
        #expect(down.scalars(as: Double.self) == [3, 3, 2, 1, 1])
        #expect(downIndices.scalars(as: Double.self) == [0, 2, 4, 1, 3])
        // A long run of equal keys keeps its order.
        let keys = DLArray((0..<40).map { Double($0 % 2) })
        let (_, order) = try sort(keys)
        let evens: [Double] = (0..<20).map { Double(2 * $0) }
        let odds: [Double] = (0..<20).map { Double(2 * $0 + 1) }
        #expect(order.scalars(as: Double.self) == evens + odds)
    }

    @Test func nanGoesLast() throws {
        let x = DLArray([2.0, .nan, -1, .nan, 0])
        let (up, upIndices) = try sort(x)
        #expect(Array(up.scalars(as: Double.self)[0..<3]) == [-1, 0, 2])
        let nanLast = up.scalars(as: Double.self)[3...].allSatisfy { $0.isNaN }
        #expect(nanLast)
        #expect(upIndices.scalars(as: Double.self) == [2, 4, 0, 1, 3])
        let (_, downIndices) = try sort(x, descending: true)
        #expect(downIndices.scalars(as: Double.self) == [0, 4, 2, 1, 3])
    }

    @Test func typesLabelsAndScalars() throws {
        let single = m.converted(to: .float32)
        #expect(try sort(single).values.dataType == .float32)
        #expect(try sort(single).indices.dataType == .float64)
        let labeled = try DLArray([3.0, 1, 2, 0, 5, 4], shape: [2, 3], labels: "BC")
        #expect(try sort(labeled, dim: 1).values.labels == "BC")
        let flags = DLArray([true, false, true])
        #expect(try sort(flags).indices.scalars(as: Double.self) == [1, 0, 2])
        let scalar = try sort(DLArray(4.0))
        #expect(scalar.values.scalar(as: Double.self) == 4)
        #expect(scalar.indices.scalar(as: Double.self) == 0)
    }

    @Test func gradientGoesBackToTheOriginalPositions() throws {
        let weights = try DLArray([1.0, 10, 100, 1000, 10000, 100000], shape: [2, 3])
        let g = try dlfeval({ (x: DLArray) in try dlgradient(sum(try sort(x).values * weights), x) }, m)
        // Row 0 [3, 1, 2] sorts to positions [1, 2, 0]; row 1 [0, 5, 4] to [0, 2, 1].
        #expect(g.scalars(as: Double.self) == [100, 1, 10, 1000, 100000, 10000])
        let gd = try dlfeval({ (x: DLArray) in
            try dlgradient(sum(try sort(x, dim: 0, descending: true).values * weights), x)
        }, m)
        // Column 0 [3, 0] stays, column 1 [1, 5] and column 2 [2, 4] swap.
        #expect(gd.scalars(as: Double.self) == [1, 10000, 100000, 1000, 10, 100])
        let x = try DLArray([0.3, -1.2, 0.8, 2.1, -0.4, 1.7, 0.05, -2.2, 1.1, 0.6, -0.9, 1.4], shape: [3, 4])
        try expectGradients({ (x: DLArray) in let s = try sort(x).values; return try s * s * s * DLArray([1.0, 2, 3, 4]) }, at: x, orders: 1...3)
        try expectGradients({ (x: DLArray) in let s = try sort(x, dim: 0, descending: true).values; return try s * s * s }, at: x)
    }

    @Test func errors() throws {
        let message = errorMessage(DLError.invalidArgument) { _ = try sort(m, dim: 2) }
        #expect(message.contains("dimension 2") && message.contains("[2, 3]"), "\(message)")
        #expect(errorMessage(DLError.invalidArgument) { _ = try sort(m, dim: -1) }.contains("dimension -1"))
        let complex = errorMessage(DLError.unsupportedType) { _ = try sort(DLArray([Complex(1.0, 2)])) }
        #expect(complex.contains("sort"), "\(complex)")
    }
}
