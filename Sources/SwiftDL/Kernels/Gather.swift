import RealModule
/// Reads elements along a dimension at given positions: for every index `(o, j, i)` of the
/// output (split around `dim`), `output[o, j, i] = x[o, indices[o, j, i], i]`.
struct GatherAlongDimension: LayoutKernel {
    let x: DLArray, dim: Int, indices: [Int], shape: [Int]
    func run<T>(_ type: T.Type) -> DLArray {
        let (outer, length, inner) = splitAround(shape, dim)
        let sourceLength = x.shape[dim]
        let output = Storage.allocate(count: indices.count, dataType: x.dataType)
        let source = x.storage.rawPointer.assumingMemoryBound(to: T.self)
        let destination = output.rawPointer.assumingMemoryBound(to: T.self)
        indices.withUnsafeBufferPointer { index in
            for o in 0..<outer {
                for j in 0..<length {
                    let row = (o * length + j) * inner
                    for i in 0..<inner {
                        destination[row + i] = source[(o * sourceLength + index[row + i]) * inner + i]
                    }
                }
            }
        }
        return DLArray(storage: output, shape: shape)
    }
}

/// Adds elements into a zero array of `shape` at positions along a dimension: for every index
/// `(o, j, i)` of `values`, `output[o, indices[o, j, i], i] += values[o, j, i]`.
struct ScatterAddAlongDimension: FloatingKernel {
    let values: DLArray, dim: Int, indices: [Int], shape: [Int]
    func run<T: DLFloatingElement>(_ type: T.Type) -> DLArray {
        let (outer, length, inner) = splitAround(values.shape, dim)
        let targetLength = shape[dim]
        let output = Storage.zeroed(count: shape.reduce(1, *), dataType: T.dataType)
        let source = values.storage.pointer(as: T.self), destination = output.pointer(as: T.self)
        indices.withUnsafeBufferPointer { index in
            for o in 0..<outer {
                for j in 0..<length {
                    let row = (o * length + j) * inner
                    for i in 0..<inner {
                        destination[(o * targetLength + index[row + i]) * inner + i] += source[row + i]
                    }
                }
            }
        }
        return DLArray(storage: output, shape: shape)
    }
}
