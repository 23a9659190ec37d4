/// Copies the elements of a strided view into another strided view: for every index tuple `i`
/// of `shape`, `destination[Σ i·destinationStrides]` becomes `source[Σ i·sourceStrides]`.
///
/// Offsets are already applied to the pointers; strides may be zero (broadcast) or negative
/// (flip). This one kernel performs permutes, slices, flips, broadcasts and their inverses.
@inline(__always)
func stridedCopy<T>(shape: [Int], source: UnsafePointer<T>, sourceStrides: [Int],
                    destination: UnsafeMutablePointer<T>, destinationStrides: [Int]) {
    if shape.isEmpty {
        destination[0] = source[0]
        return
    }
    if shape.contains(0) { return }
    // Dimensions both views walk as one are merged: longer rows, fewer of them.
    let (shape, sourceStrides, destinationStrides) = mergedDimensions(shape, sourceStrides, destinationStrides)
    let rank = shape.count
    let length = shape[rank - 1]
    let innerSource = sourceStrides[rank - 1], innerDestination = destinationStrides[rank - 1]
    if rank == 1 && innerSource == 1 && innerDestination == 1 {
        // One contiguous run (a concatenation's piece, a whole array): shared among the cores
        // as rows are. The MLP GAN's concatenation of a real and a generated batch (two runs
        // of 50,176 floats) took 32 µs on one core (AMD EPYC Zen 4, 2026-12-07).
        Parallel.forEachChunk(count: length) { elements in
            (destination + elements.lowerBound).update(from: source + elements.lowerBound, count: elements.count)
        }
        return
    }
    forEachRow(shape: shape, stridesA: sourceStrides, stridesB: destinationStrides, grain: Parallel.elementGrain) { _, s, d in
        if innerSource == 1 && innerDestination == 1 {
            (destination + d).update(from: source + s, count: length)
        } else if innerSource == 0 && innerDestination == 1 {
            (destination + d).update(repeating: source[s], count: length)
        } else {
            for j in 0..<length {
                destination[d + j * innerDestination] = source[s + j * innerSource]
            }
        }
    }
}

/// A strided view of an array's storage: an element offset and a stride per dimension.
struct StridedView {
    var offset: Int
    var strides: [Int]
}

extension DLArray {
    /// A new contiguous array of `shape` read from this array's storage through `view`.
    func gathered(shape: [Int], view: StridedView) -> DLArray {
        struct Copy: LayoutKernel {
            let shape: [Int], view: StridedView
            func run<T>(_ type: T.Type) -> Kernel {
                ClosureKernel { [shape, view] inputs, output in
                    stridedCopy(shape: shape, source: inputs[0].assumingMemoryBound(to: T.self) + view.offset,
                                sourceStrides: view.strides, destination: output.assumingMemoryBound(to: T.self),
                                destinationStrides: contiguousStrides(shape))
                }
            }
        }
        let output = dispatchLayout(dataType, Copy(shape: shape, view: view))
            .output(reading: self, KernelOutput(count: shape.reduce(1, *), dataType: dataType))
        return DLArray(storage: output, shape: shape)
    }

    /// A new array of `shape` and `dataType`: a copy of `base` (zeros when nil) with each piece's
    /// values (contiguous, of the piece's shape, of `dataType`) written through its view. When
    /// `piecesCoverAll`, the pieces write every element and the zeros are not written first.
    static func composed(shape: [Int], dataType: DLDataType, base: DLArray?,
                         pieces: [(values: DLArray, shape: [Int], view: StridedView)],
                         piecesCoverAll: Bool = false) -> DLArray {
        struct Compose: LayoutKernel {
            let hasBase: Bool, count: Int, pieces: [(shape: [Int], view: StridedView)]
            func run<T>(_ type: T.Type) -> Kernel {
                ClosureKernel { [hasBase, count, pieces] inputs, output in
                    let destination = output.assumingMemoryBound(to: T.self)
                    if hasBase { destination.update(from: inputs[0].assumingMemoryBound(to: T.self), count: count) }
                    for (k, piece) in pieces.enumerated() {
                        stridedCopy(shape: piece.shape, source: inputs[k + (hasBase ? 1 : 0)].assumingMemoryBound(to: T.self),
                                    sourceStrides: contiguousStrides(piece.shape),
                                    destination: destination + piece.view.offset, destinationStrides: piece.view.strides)
                    }
                }
            }
        }
        let count = shape.reduce(1, *)
        let kernel = dispatchLayout(dataType, Compose(hasBase: base != nil, count: count,
                                                      pieces: pieces.map { ($0.shape, $0.view) }))
        let output = kernel.output(reading: (base.map { [$0] } ?? []) + pieces.map(\.values),
                                   KernelOutput(count: count, dataType: dataType, startsZeroed: base == nil && !piecesCoverAll))
        return DLArray(storage: output, shape: shape)
    }

    /// Writes `values` (contiguous, of `shape`) into this array's storage through `view`.
    mutating func scatter(_ values: DLArray, shape: [Int], view: StridedView) {
        makeStorageUnique()
        struct Copy: LayoutKernel {
            let source: Storage, destination: Storage, shape: [Int], view: StridedView
            func run<T>(_ type: T.Type) {
                let base = destination.rawPointer.assumingMemoryBound(to: T.self) + view.offset
                stridedCopy(shape: shape, source: source.rawPointer.assumingMemoryBound(to: T.self),
                            sourceStrides: contiguousStrides(shape),
                            destination: base, destinationStrides: view.strides)
            }
        }
        dispatchLayout(dataType, Copy(source: values.storage, destination: storage, shape: shape, view: view))
    }
}
