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
/// same elements of each input, all contiguous. Every blocked operand has the same block
/// (eight channels at a time are transposed in vector registers, the rest element by element). The elements each output element is computed from are those of the plain
/// computation, so the results are its bits.
struct MixedLayoutElementwise {
    let layout: ChannelLayout
    let inputBlockings: [ChannelBlocking]
    let outputBlocking: ChannelBlocking

    /// The positions a tile holds: with a block of 16, 16 KB an operand.
    private static let tilePositions = 256

    /// The block that the blocked operands share.
    private var block: Int {
        for blocking in inputBlockings + [outputBlocking] {
            if case .blocked(let block) = blocking { return block }
        }
        preconditionFailure("MixedLayoutElementwise: no operand is blocked")
    }

    /// Whether operands with these blockings can be run so: the blocked ones share a block that
    /// divides the channels.
    static func supports(_ blockings: [ChannelBlocking], _ layout: ChannelLayout) -> Bool {
        let blocks = Set(blockings.compactMap { blocking -> Int? in
            if case .blocked(let block) = blocking { block } else { nil }
        })
        return blocks.count <= 1 && blockings.allSatisfy { $0.fits(layout) }
    }

    /// Runs `body` over the operands `inputs` and `output`, laid out as the blockings say.
    func run(_ inputs: KernelInputs, _ output: UnsafeMutableRawPointer,
             _ body: (Int, UnsafeBufferPointer<UnsafePointer<Float>>, UnsafeMutablePointer<Float>) -> Void) {
        let block = block, (channels, inner) = (layout.channels, layout.inner)
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
                // element in both layouts: plain, its first channel's run; blocked, its
                // positions' vectors.
                let start = (o * channels + b * block) * inner
                for first in stride(from: 0, to: inner, by: tile) {
                    let count = min(tile, inner - first)
                    for (k, source) in sources.enumerated() {
                        guard let tile = tiles[k] else {
                            pointers[k] = source + (outputBlocking == .plain ? start + first : start + first * block)
                            continue
                        }
                        let blocked = source + start + first * block, plain = source + start + first
                        let vectorRows = block / 8 * 8
                        for rows in stride(from: 0, to: vectorRows, by: 8) {
                            if outputBlocking == .plain {
                                // Blocked input into `block` plain rows of `count`.
                                swiftdl_scatter_channel_vectors_f32(blocked + rows, block, count, tile + rows * count, count)
                            } else {
                                // Plain input into the blocked order.
                                swiftdl_gather_channel_vectors_f32(plain + rows * inner, inner, count, tile + rows, block)
                            }
                        }
                        for row in vectorRows..<block {
                            for j in 0..<count {
                                if outputBlocking == .plain {
                                    tile[row * count + j] = blocked[j * block + row]
                                } else {
                                    tile[j * block + row] = plain[row * inner + j]
                                }
                            }
                        }
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
}
