// Activations in oneDNN's channel-blocked layout. oneDNN's convolution kernels compute with the
// channels in blocks of 16 (AVX-512) or 8 (AVX2) innermost and reorder plain arrays to and from
// that layout around every call: a DCGAN step reorders about 60 MB that way, 5% of its time.
// Kernels that can take an activation blocked say so (``ChannelBlockingKernel``), and an
// accelerated plan keeps the activations passed between such kernels blocked (see
// ``AccelerationPlan``'s layout pass), reordering only where a value meets a kernel that needs
// it plain. Blocked or not, every kernel computes the same bits.

/// How an activation `[outer, channels, inner]` lies in memory.
enum ChannelBlocking: Hashable {
    /// `[outer, channels, inner]`: each channel's run of `inner` elements together (NCHW).
    case plain
    /// `[outer, channels/b, inner, b]` for `blocked(b)`, `b` dividing the channels: at each
    /// position the elements of `b` consecutive channels together (oneDNN's nChw16c and nChw8c
    /// for `b` = 16 and 8).
    case blocked(Int)

    /// The distance between consecutive positions of one channel: 1, or the block.
    var positionStride: Int {
        switch self {
        case .plain: 1
        case .blocked(let block): block
        }
    }

    /// Whether an array of `layout` can lie this way: a block divides the channels.
    func fits(_ layout: ChannelLayout) -> Bool {
        switch self {
        case .plain: true
        case .blocked(let block): block >= 1 && layout.channels % block == 0
        }
    }

    /// The index of element `(o, c, i)` of an array of `layout` laid out this way.
    @inline(__always)
    func index(_ o: Int, _ c: Int, _ i: Int, in layout: ChannelLayout) -> Int {
        switch self {
        case .plain: (o * layout.channels + c) * layout.inner + i
        case .blocked(let block): ((o * (layout.channels / block) + c / block) * layout.inner + i) * block + c % block
        }
    }
}

/// One of a kernel call's operands: an input (by index) or the output.
enum KernelOperand: Hashable {
    case input(Int)
    case output
}

/// An activation operand that a ``ChannelBlockingKernel`` can take in a channel-blocked layout:
/// which operand, its layout, and the blocking the kernel wants it in (nil when any blocking
/// costs it the same).
struct BlockableOperand {
    let operand: KernelOperand
    let layout: ChannelLayout
    let wanted: ChannelBlocking?
}

/// A kernel that can read or write some of its activation operands channel-blocked, and make a
/// copy of itself that does.
protocol ChannelBlockingKernel: Kernel {
    /// The operands it can take blocked.
    var blockableOperands: [BlockableOperand] { get }
    /// This kernel with the operands in `blockings` in those layouts (the others plain): the
    /// same results, for operands laid out so.
    func with(_ blockings: [KernelOperand: ChannelBlocking]) -> any Kernel
}

extension ChannelLayout {
    /// The layout `[outer, channels, inner]`.
    init(outer: Int, channels: Int, inner: Int) {
        self.init([outer, channels, inner], channel: 1)
    }
}
