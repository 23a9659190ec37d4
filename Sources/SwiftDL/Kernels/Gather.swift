/// Reads elements along a dimension at given positions: for every index `(o, j, i)` of the
/// output (split around `dim`), `output[o, j, i] = x[o, positions[o, j, i], i]`. The positions
/// are a float64 array of whole numbers in the output's shape, read by the kernel, so that a
/// cached ``dlaccelerate(_:)`` plan reads the positions a kernel computed for the new values.
struct GatherAlongDimension: LayoutKernel {
    let x: DLArray, dim: Int, positions: DLArray
    func run<T>(_ type: T.Type) -> DLArray {
        let shape = positions.shape
        let (outer, length, inner) = splitAround(shape, dim)
        let sourceLength = x.shape[dim]
        let output = ClosureKernel { inputs, output in
            let source = inputs[0].assumingMemoryBound(to: T.self)
            let index = inputs[1].assumingMemoryBound(to: Double.self)
            let destination = output.assumingMemoryBound(to: T.self)
            for o in 0..<outer {
                for j in 0..<length {
                    let row = (o * length + j) * inner
                    for i in 0..<inner {
                        destination[row + i] = source[(o * sourceLength + Int(index[row + i])) * inner + i]
                    }
                }
            }
        }.output(reading: x, positions, KernelOutput(count: positions.count, dataType: x.dataType))
        return DLArray(storage: output, shape: shape)
    }
}

/// Adds elements into a zero array of `shape` at positions along a dimension: for every index
/// `(o, j, i)` of `values`, `output[o, positions[o, j, i], i] += values[o, j, i]` (positions as
/// for ``GatherAlongDimension``, in `values`' shape).
struct ScatterAddAlongDimension: FloatingKernel {
    let values: DLArray, dim: Int, positions: DLArray, shape: [Int]
    func run<T: DLFloatingElement>(_ type: T.Type) -> DLArray {
        let (outer, length, inner) = splitAround(values.shape, dim)
        let targetLength = shape[dim]
        let output = ClosureKernel { inputs, output in
            let source = inputs[0].assumingMemoryBound(to: T.self), destination = output.assumingMemoryBound(to: T.self)
            let index = inputs[1].assumingMemoryBound(to: Double.self)
            for o in 0..<outer {
                for j in 0..<length {
                    let row = (o * length + j) * inner
                    for i in 0..<inner {
                        destination[(o * targetLength + Int(index[row + i])) * inner + i] += source[row + i]
                    }
                }
            }
        }.output(reading: values, positions, KernelOutput(count: shape.reduce(1, *), dataType: T.dataType, startsZeroed: true))
        return DLArray(storage: output, shape: shape)
    }
}
