// Short contiguous runs of elements moved 16 bytes at a time. The lines of a convolution's
// window positions are often only a few elements long (7 for a 14×14 plane at stride 2), too
// short for an element loop to be vectorized; here a run of `n ≥ 16` bytes takes ⌈n/16⌉ moves,
// the last one overlapping the one before.

/// Copies `count` elements from `source` to `target`, which must not overlap.
@inline(__always)
func copyRun<T>(from source: UnsafePointer<T>, to target: UnsafeMutablePointer<T>, count: Int) {
    typealias Chunk = SIMD4<UInt32>
    let bytes = count * MemoryLayout<T>.stride, chunk = MemoryLayout<Chunk>.size
    guard bytes >= chunk else {
        for j in 0..<count { target[j] = source[j] }
        return
    }
    let from = UnsafeRawPointer(source), to = UnsafeMutableRawPointer(target)
    var offset = 0
    while offset < bytes - chunk {
        to.storeBytes(of: from.loadUnaligned(fromByteOffset: offset, as: Chunk.self), toByteOffset: offset, as: Chunk.self)
        offset += chunk
    }
    to.storeBytes(of: from.loadUnaligned(fromByteOffset: bytes - chunk, as: Chunk.self),
                  toByteOffset: bytes - chunk, as: Chunk.self)
}

/// Adds `count` elements of `source` to those of `target` (`target[j] += source[j]`); the two
/// must not overlap. Complex elements add as pairs of reals.
@inline(__always)
func addRun<T: DLFloatingElement>(_ source: UnsafePointer<T>, to target: UnsafeMutablePointer<T>, count: Int) {
    let bytes = count * MemoryLayout<T>.stride
    guard bytes >= 16 else {
        for j in 0..<count { target[j] += source[j] }
        return
    }
    if T.RealPart.self == Float.self {
        addChunks(SIMD4<Float>.self, UnsafeRawPointer(source), to: UnsafeMutableRawPointer(target), bytes: bytes)
    } else {
        addChunks(SIMD2<Double>.self, UnsafeRawPointer(source), to: UnsafeMutableRawPointer(target), bytes: bytes)
    }
}

/// Adds `bytes` (at least one chunk's worth) of reals at `source` to those at `target`, a
/// chunk at a time. The last chunk, which may overlap the one before, is summed before any
/// chunk is stored, so the elements they share get the same (right) sum twice.
@inline(__always)
private func addChunks<Chunk: SIMD>(_: Chunk.Type, _ source: UnsafeRawPointer, to target: UnsafeMutableRawPointer,
                                    bytes: Int) where Chunk.Scalar: FloatingPoint {
    let chunk = MemoryLayout<Chunk>.size, end = bytes - chunk
    let last = target.loadUnaligned(fromByteOffset: end, as: Chunk.self)
        + source.loadUnaligned(fromByteOffset: end, as: Chunk.self)
    var offset = 0
    while offset < end {
        let sum = target.loadUnaligned(fromByteOffset: offset, as: Chunk.self)
            + source.loadUnaligned(fromByteOffset: offset, as: Chunk.self)
        target.storeBytes(of: sum, toByteOffset: offset, as: Chunk.self)
        offset += chunk
    }
    target.storeBytes(of: last, toByteOffset: end, as: Chunk.self)
}
