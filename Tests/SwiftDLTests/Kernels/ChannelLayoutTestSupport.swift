import Testing
@testable import SwiftDL

// Helpers of the tests of kernels that take activations in channel-blocked layouts.

/// The index of element `(o, c, i)` of a `[outer, channels, inner]` array laid out as `blocking`,
/// written out here rather than taken from ``ChannelBlocking``, which is under test.
func referenceIndex(_ o: Int, _ c: Int, _ i: Int, _ layout: ChannelLayout, _ blocking: ChannelBlocking) -> Int {
    switch blocking {
    case .plain: return (o * layout.channels + c) * layout.inner + i
    case .blocked(let b): return ((o * (layout.channels / b) + c / b) * layout.inner + i) * b + c % b
    }
}

/// `plain` (an array of `layout` in the plain layout) laid out as `blocking`.
func reordered<T>(_ plain: [T], _ layout: ChannelLayout, _ blocking: ChannelBlocking) -> [T] {
    var result = plain
    for o in 0..<layout.outer {
        for c in 0..<layout.channels {
            for i in 0..<layout.inner {
                result[referenceIndex(o, c, i, layout, blocking)] = plain[(o * layout.channels + c) * layout.inner + i]
            }
        }
    }
    return result
}

/// `array` (of `layout`, laid out as `blocking`) in the plain layout.
func plainOrder<T>(_ array: [T], _ layout: ChannelLayout, _ blocking: ChannelBlocking) -> [T] {
    var result = array
    for o in 0..<layout.outer {
        for c in 0..<layout.channels {
            for i in 0..<layout.inner {
                result[(o * layout.channels + c) * layout.inner + i] = array[referenceIndex(o, c, i, layout, blocking)]
            }
        }
    }
    return result
}

/// Runs `kernel` on copies of `inputs` and returns its `count` output elements (NaN where it
/// wrote nothing).
func output<T: BinaryFloatingPoint>(of kernel: some Kernel, _ inputs: [[T]], count: Int) -> [T] {
    let buffers = inputs.map { input in
        let buffer = UnsafeMutablePointer<T>.allocate(capacity: max(input.count, 1))
        buffer.initialize(from: input, count: input.count)
        return UnsafeRawPointer(buffer)
    }
    defer { buffers.forEach { $0.deallocate() } }
    var result = [T](repeating: .nan, count: count)
    result.withUnsafeMutableBytes { result in
        buffers.withUnsafeBufferPointer { kernel.run($0, result.baseAddress!) }
    }
    return result
}

/// The first index where `a` and `b` differ in their bits (or their counts), if any.
func firstDifferingBits<T: BinaryFloatingPoint>(_ a: [T], _ b: [T]) -> Int? {
    guard a.count == b.count else { return min(a.count, b.count) }
    return a.indices.first {
        a[$0].sign != b[$0].sign || a[$0].exponentBitPattern != b[$0].exponentBitPattern
            || a[$0].significandBitPattern != b[$0].significandBitPattern
    }
}

/// Expects `actual` to have the bits of `expected`, naming the first element that differs.
func expectSameBits<T: BinaryFloatingPoint>(_ actual: [T], _ expected: [T], _ what: @autoclosure () -> String,
                                                    sourceLocation: SourceLocation = #_sourceLocation) {
    if let index = firstDifferingBits(actual, expected) {
        let values = index < min(actual.count, expected.count) ? "\(actual[index]) against \(expected[index])" : "the counts"
        Issue.record("\(what()): element \(index) differs: \(values)", sourceLocation: sourceLocation)
    }
}
