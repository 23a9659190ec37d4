import Testing
@testable import SwiftDL

/// Arrays with learn-rate factors, as a network's learnables: the container the learn-rate
/// tests and the PyTorch comparisons update.
struct ScaledArrays: DLLearnRateScaled {
    var arrays: [DLArray]
    var learnRateFactors: [Double]

    func forEachArray(_ body: (DLArray) throws -> Void) rethrows {
        for array in arrays { try body(array) }
    }

    func mapArrays(_ transform: (DLArray) throws -> DLArray) rethrows -> ScaledArrays {
        ScaledArrays(arrays: try arrays.map(transform), learnRateFactors: learnRateFactors)
    }
}

/// Expects two arrays to hold the same bits: same shape, element type, labels and elements.
func expectSameBits(_ actual: DLArray, _ expected: DLArray, _ what: String = "",
                     sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.shape == expected.shape && actual.dataType == expected.dataType && actual.labels == expected.labels,
            "\(what): \(actual.dataType) \(actual.shape) \"\(actual.labels)\" vs \(expected.dataType) \(expected.shape) \"\(expected.labels)\"",
            sourceLocation: sourceLocation)
    #expect(bitPatterns(actual) == bitPatterns(expected), "\(what): elements differ", sourceLocation: sourceLocation)
}

/// The bit patterns of a real array's elements.
private func bitPatterns(_ array: DLArray) -> [UInt64] {
    array.dataType == .float32 ? array.scalars(as: Float.self).map { UInt64($0.bitPattern) }
                               : array.scalars(as: Double.self).map(\.bitPattern)
}

/// The elements of `array` as doubles.
func doubleElements(_ array: DLArray) -> [Double] { array.scalars(as: Double.self) }

/// Expects `actual` to equal `expected` element by element within `tolerance` (absolute).
func expectElements(_ actual: DLArray, _ expected: [Double], tolerance: Double = 1e-15, _ what: String = "",
                  sourceLocation: SourceLocation = #_sourceLocation) {
    let elements = doubleElements(actual)
    #expect(elements.count == expected.count, "\(what): \(elements.count) elements, expected \(expected.count)",
            sourceLocation: sourceLocation)
    let error = zip(elements, expected).map { Swift.abs($0 - $1) }.max() ?? 0
    #expect(error <= tolerance, "\(what): \(elements) vs \(expected)", sourceLocation: sourceLocation)
}
