/// The geometry of a window sliding over the spatial dimensions of an array: the input's
/// spatial sizes, the window (kernel) size, stride, dilation and padding, per dimension.
struct WindowGeometry: Hashable {
    let inputSize: [Int]
    let kernel: [Int]
    let stride: [Int]
    let dilation: [Int]
    let paddingBefore: [Int]
    let paddingAfter: [Int]

    /// The number of window positions along each spatial dimension.
    var outputSize: [Int] {
        (0..<inputSize.count).map { d in
            let span = dilation[d] * (kernel[d] - 1) + 1
            return (inputSize[d] + paddingBefore[d] + paddingAfter[d] - span) / stride[d] + 1
        }
    }

    /// The number of elements in one window.
    var windowCount: Int { kernel.reduce(1, *) }

    /// The number of window positions.
    var positionCount: Int { outputSize.reduce(1, *) }

    /// For each element of a window (row-major over the kernel), its offset along each dimension.
    var kernelOffsets: [[Int]] {
        (0..<windowCount).map { k in
            var rest = k
            var offsets = [Int](repeating: 0, count: kernel.count)
            for d in (0..<kernel.count).reversed() {
                offsets[d] = rest % kernel[d]
                rest /= kernel[d]
            }
            return offsets
        }
    }
}

extension WindowGeometry {
    /// For window element `k` and window position `l`, the offset of the input element in its
    /// plane (`table[k·L + l]`), or -1 where the window lies in the padding.
    var inputOffsets: [Int32] {
        let output = outputSize, rank = inputSize.count
        let positions = positionCount
        let strides = contiguousStrides(inputSize)
        var table = [Int32](repeating: -1, count: windowCount * positions)
        var position = [Int](repeating: 0, count: rank)
        for (k, offsets) in kernelOffsets.enumerated() {
            for d in 0..<rank { position[d] = 0 }
            for l in 0..<positions {
                var offset = 0
                var inside = true
                for d in 0..<rank {
                    let coordinate = position[d] * stride[d] + offsets[d] * dilation[d] - paddingBefore[d]
                    if coordinate < 0 || coordinate >= inputSize[d] { inside = false; break }
                    offset += coordinate * strides[d]
                }
                if inside { table[k * positions + l] = Int32(offset) }
                var d = rank - 1
                while d >= 0 {
                    position[d] += 1
                    if position[d] < output[d] { break }
                    position[d] = 0
                    d -= 1
                }
            }
        }
        return table
    }
}

/// Unfolds the windows of `x` (`[N, C, spatial…]`) into columns `[C·K, N·L]`: row `c·K + k`
/// holds window element `k` of channel `c`, column `n·L + l` is window position `l` of item `n`;
/// elements in the padding are `padValue`.
struct WindowsToColumns: FloatingKernel {
    let x: DLArray, geometry: WindowGeometry, padValue: Double
    func run<T: DLFloatingElement>(_ type: T.Type) -> DLArray {
        let (batch, channels) = (x.shape[0], x.shape[1])
        let (windows, positions) = (geometry.windowCount, geometry.positionCount)
        let planeSize = geometry.inputSize.reduce(1, *)
        let columns = batch * positions
        let pad = T(dlValue: padValue), table = geometry.inputOffsets
        let output = ClosureKernel { inputs, output in
            let source = inputs[0].assumingMemoryBound(to: T.self), destination = output.assumingMemoryBound(to: T.self)
            table.withUnsafeBufferPointer { table in
                Parallel.forEachChunk(count: batch * channels, grain: max(1, (1 << 14) / max(windows * positions, 1))) { pairs in
                    for pair in pairs {
                        let (n, c) = pair.quotientAndRemainder(dividingBy: channels)
                        let plane = source + pair * planeSize
                        for k in 0..<windows {
                            let row = destination + (c * windows + k) * columns + n * positions
                            let offsets = table.baseAddress! + k * positions
                            for l in 0..<positions {
                                let offset = Int(offsets[l])
                                row[l] = offset >= 0 ? plane[offset] : pad
                            }
                        }
                    }
                }
            }
        }.output(reading: x, KernelOutput(count: channels * windows * columns, dataType: T.dataType))
        return DLArray(storage: output, shape: [channels * windows, columns])
    }
}

/// Folds columns `[C·K, N·L]` back into an array `[N, C, spatial…]`, adding the elements
/// that windows share: the adjoint of ``WindowsToColumns`` (padding elements are dropped).
struct ColumnsToWindows: FloatingKernel {
    let columns: DLArray, geometry: WindowGeometry, batch: Int, channels: Int
    func run<T: DLFloatingElement>(_ type: T.Type) -> DLArray {
        let (windows, positions) = (geometry.windowCount, geometry.positionCount)
        let planeSize = geometry.inputSize.reduce(1, *)
        let width = batch * positions
        let (batch, channels, table) = (batch, channels, geometry.inputOffsets)
        let output = ClosureKernel { inputs, output in
            let source = inputs[0].assumingMemoryBound(to: T.self), destination = output.assumingMemoryBound(to: T.self)
            table.withUnsafeBufferPointer { table in
                Parallel.forEachChunk(count: batch * channels, grain: max(1, (1 << 14) / max(windows * positions, 1))) { pairs in
                    for pair in pairs {
                        let (n, c) = pair.quotientAndRemainder(dividingBy: channels)
                        let plane = destination + pair * planeSize
                        for k in 0..<windows {
                            let row = source + (c * windows + k) * width + n * positions
                            let offsets = table.baseAddress! + k * positions
                            for l in 0..<positions {
                                let offset = Int(offsets[l])
                                if offset >= 0 { plane[offset] += row[l] }
                            }
                        }
                    }
                }
            }
        }.output(reading: columns, KernelOutput(count: batch * channels * planeSize, dataType: T.dataType, startsZeroed: true))
        return DLArray(storage: output, shape: [batch, channels] + geometry.inputSize)
    }
}
