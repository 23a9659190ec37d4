import CSwiftDLSupport

// An elementwise kernel whose operands lie in different channel layouts: the leaky ReLU between
// a one-channel (im2col) convolution, which writes plain, and a oneDNN convolution, which reads
// blocked, or its gradient the other way. Run in the output's layout, a tile of positions at a
// time, with the operands in the other layout transposed eight channels at a time in AVX
// registers (swiftdl_gather/scatter_channel_vectors_f32): one pass where oneDNN's reorder
// would add a second over a copy. With the batch norms' mixed layouts, a replayed DCGAN step's
// reorders fell from 7.9 to 4.2 ms of CPU for 2.6-4.4 ms of these transposes (BENCHMARKS.md,
// "Mixed layouts").

/// Runs the elementwise float32 `body` over operands of `layout` laid out in different
/// channel blockings: `body(count, inputs, output)` computes `count` output elements from the
/// same elements of each input, all contiguous. The pass goes a unit of `block` channels at a
/// time (the output's block, or the first blocked input's for a plain output): an operand in
/// the output's layout is read in place, a plain one or one in that block is transposed eight
/// channels at a time in vector registers (the rest element by element), one in another block
/// element by element. The elements each output element is computed from are those of the
/// plain computation, so the results are its bits.
struct MixedLayoutElementwise {
    let layout: ChannelLayout
    let inputBlockings: [ChannelBlocking]
    let outputBlocking: ChannelBlocking

    /// The positions a tile holds: with a block of 16, 16 KB an operand.
    private static let tilePositions = 256

    /// The channels of a unit of the pass: the output's block, or the first blocked input's.
    private var block: Int {
        for blocking in [outputBlocking] + inputBlockings {
            if case .blocked(let block) = blocking { return block }
        }
        return layout.channels
    }

    /// Runs `body` over the operands `inputs` and `output`, laid out as the blockings say.
    /// - Precondition: every blocking fits the layout (its block divides the channels).
    func run(_ inputs: KernelInputs, _ output: UnsafeMutableRawPointer,
             _ body: (Int, UnsafeBufferPointer<UnsafePointer<Float>>, UnsafeMutablePointer<Float>) -> Void) {
        precondition((inputBlockings + [outputBlocking]).allSatisfy { $0.fits(layout) },
                     "MixedLayoutElementwise: a block must divide the channels")
        let block = max(block, 1), (channels, inner) = (layout.channels, layout.inner)
        let blocks = channels / block, tile = Self.tilePositions
        let sources = inputBlockings.indices.map { inputs[$0].assumingMemoryBound(to: Float.self) }
        let target = output.assumingMemoryBound(to: Float.self)
        let grain = max(1, Parallel.elementGrain / max(inner * block, 1))
        Parallel.forEachChunk(count: layout.outer * blocks, grain: grain) { units in
            // Each transposed input's tile: `block × tile` elements, in the output's layout.
            let tiles = inputBlockings.map { $0 == outputBlocking ? nil : UnsafeMutablePointer<Float>.allocate(capacity: block * tile) }
            let pointers = UnsafeMutableBufferPointer<UnsafePointer<Float>>.allocate(capacity: sources.count)
            let rowPointers = UnsafeMutableBufferPointer<UnsafePointer<Float>>.allocate(capacity: sources.count)
            defer {
                for tile in tiles { tile?.deallocate() }
                pointers.deallocate()
                rowPointers.deallocate()
            }
            for unit in units {
                let (o, b) = (unit / blocks, unit % blocks)
                // The unit's channels `b·block ..< (b+1)·block` of image `o` start at the same
                // element in the plain layout and in blocks of `block`: plain, its first
                // channel's run; blocked, its positions' vectors.
                let start = (o * channels + b * block) * inner
                for first in stride(from: 0, to: inner, by: tile) {
                    let count = min(tile, inner - first)
                    for (k, source) in sources.enumerated() {
                        guard let tile = tiles[k] else {
                            pointers[k] = source + (outputBlocking == .plain ? start + first : start + first * block)
                            continue
                        }
                        fill(tile, from: source, inputBlockings[k], image: o, channels: b * block ..< (b + 1) * block,
                             positions: first ..< first + count, start: start)
                        pointers[k] = UnsafePointer(tile)
                    }
                    if outputBlocking == .plain {
                        // Row by row: plain operands' rows are `inner` apart, the tiles' `count`.
                        for row in 0..<block {
                            for k in pointers.indices {
                                rowPointers[k] = pointers[k] + (tiles[k] == nil ? row * inner : row * count)
                            }
                            body(count, UnsafeBufferPointer(rowPointers), target + start + row * inner + first)
                        }
                    } else {
                        body(count * block, UnsafeBufferPointer(pointers), target + start + first * block)
                    }
                }
            }
        }
    }

    /// Puts the elements of `channels` (one unit) at `positions` of image `image` of an input
    /// laid out as `blocking` into `tile`, in the output's layout: plain rows of
    /// `positions.count`, or vectors of the unit's channels. `start`: the unit's first element.
    @inline(__always)
    private func fill(_ tile: UnsafeMutablePointer<Float>, from source: UnsafePointer<Float>, _ blocking: ChannelBlocking,
                      image: Int, channels: Range<Int>, positions: Range<Int>, start: Int) {
        let (block, count, first, inner) = (channels.count, positions.count, positions.lowerBound, layout.inner)
        // Eight rows at a time in vector registers where the input is plain or in the unit's
        // block, then the other rows element by element.
        var vectorRows = 0
        switch (blocking, outputBlocking) {
        case (.blocked(block), .plain):
            vectorRows = block / 8 * 8
            for rows in stride(from: 0, to: vectorRows, by: 8) {
                swiftdl_scatter_channel_vectors_f32(source + start + first * block + rows, block, count, tile + rows * count, count)
            }
        case (.plain, .blocked(block)):
            vectorRows = block / 8 * 8
            for rows in stride(from: 0, to: vectorRows, by: 8) {
                swiftdl_gather_channel_vectors_f32(source + start + rows * inner + first, inner, count, tile + rows, block)
            }
        default:
            break
        }
        for row in vectorRows..<block {
            for j in 0..<count {
                let element = source[blocking.index(image, channels.lowerBound + row, first + j, in: layout)]
                if outputBlocking == .plain { tile[row * count + j] = element } else { tile[j * block + row] = element }
            }
        }
    }
}
