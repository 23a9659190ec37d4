import CDNNL
import Foundation

/// Float32 convolutions through oneDNN's CPU kernels: the three window products of
/// `WindowProducts.swift` as oneDNN's convolution forward (with its bias), backward data (the
/// transposed convolution, its bias added after) and backward weights (the filter correlation).
///
/// Threads: the batch is cut into parts that depend only on its size and the core count; the
/// cores take the parts in turn through `Parallel.share` (a core slowed down by other work takes fewer), each running
/// oneDNN on the calling thread alone, and the filter correlation's per-part sums are added in
/// part order. Results therefore never depend on timing, and oneDNN's OpenMP threads never
/// compete with SwiftDL's own for the cores.
///
/// Layouts: each primitive computes in the layouts oneDNN's kernels want (channels in blocks of
/// 8 or 16 on AVX2 and AVX-512); the plain `[N, C, spatial…]` arrays are reordered to and from
/// them part by part, so the reordered data stays in the core's cache, and the filters once per
/// call for all the parts. An accelerated plan can give and take the activations in the
/// primitives' own layout instead (``DNNLConvolutionKernel``), skipping those reorders.
enum DNNLConvolution {
    /// The convolution of `x` with `filters` plus `bias`, or nil when oneDNN does not take it
    /// (see ``takes(_:_:)``).
    static func forward(_ x: DLArray, _ filters: DLArray, _ bias: DLArray?, layout: ConvolutionLayout) -> DLArray? {
        guard takes(x, layout) else { return nil }
        let kernel = DNNLConvolutionKernel(product: .convolution(bias: bias != nil), layout: layout)
        let output = kernel.output(reading: [x, filters] + (bias.map { [$0] } ?? []),
                                   KernelOutput(count: layout.outputShape.reduce(1, *), dataType: .float32))
        return kernel.ran.value ? DLArray(storage: output, shape: layout.outputShape) : nil
    }

    /// The transposed convolution of `y` with `filters` plus `bias`, or nil when oneDNN does not
    /// take it.
    static func transposed(_ y: DLArray, _ filters: DLArray, _ bias: DLArray?, layout: ConvolutionLayout) -> DLArray? {
        guard takes(y, layout) else { return nil }
        let kernel = DNNLConvolutionKernel(product: .transposed(bias: bias != nil), layout: layout)
        let output = kernel.output(reading: [y, filters] + (bias.map { [$0] } ?? []),
                                   KernelOutput(count: layout.inputShape.reduce(1, *), dataType: .float32))
        return kernel.ran.value ? DLArray(storage: output, shape: layout.inputShape) : nil
    }

    /// The correlation of the windows of `x` with `y` summed over the batch, or nil when oneDNN
    /// does not take it.
    static func correlation(_ x: DLArray, _ y: DLArray, layout: ConvolutionLayout) -> DLArray? {
        guard takes(x, layout) else { return nil }
        let kernel = DNNLConvolutionKernel(product: .correlation, layout: layout)
        let output = kernel.output(reading: x, y, KernelOutput(count: layout.filterShape.reduce(1, *), dataType: .float32))
        return kernel.ran.value ? DLArray(storage: output, shape: layout.filterShape) : nil
    }

    /// Whether a kernel call succeeded: set by the call, read by the eager caller.
    final class Flag: @unchecked Sendable { var value = false }

    /// Runs the convolution (with bias) or the transposed convolution of `kernel` on `inputs`
    /// into `destination`; false when oneDNN has no primitive for its shapes.
    fileprivate static func product(_ kernel: DNNLConvolutionKernel, _ inputs: KernelInputs,
                                    into destination: UnsafeMutablePointer<Float>) -> Bool {
        let layout = kernel.layout
        let transposed = kernel.product.isTransposed
        let (inputPlane, outputPlane) = transposed
            ? (layout.filters * layout.positionCount, layout.channels * layout.planeSize)
            : (layout.channels * layout.planeSize, layout.filters * layout.positionCount)
        let source = inputs[0].assumingMemoryBound(to: Float.self)
        let shift = transposed && inputs.count > 2 ? inputs[2].assumingMemoryBound(to: Float.self) : nil
        let bias = transposed || inputs.count < 3 ? [] : [inputs[2]]
        return forEachPart(kernel.primitiveKind, layout, filters: inputs[1]) { primitive, filters, images in
            let part = destination + images.lowerBound * outputPlane
            primitive.run([UnsafeRawPointer(source + images.lowerBound * inputPlane), filters] + bias, into: part,
                          given: kernel.ownLayoutInputs.union([1]), reorderingOutput: !kernel.ownLayoutOutput)
            if let shift {
                addChannelBias(shift, to: part, images: images.count, layout: layout,
                               blocking: kernel.ownLayoutOutput ? primitive.outputBlocking! : .plain)
            }
        }
    }

    /// Runs the filter correlation of `kernel` with `primitives` (by part size) on `inputs` into
    /// `output`: every part's sum in the primitive's own layout, added in part order, then
    /// reordered once.
    fileprivate static func correlate(_ kernel: DNNLConvolutionKernel, _ primitives: [Int: Primitive],
                                      _ inputs: KernelInputs, into output: UnsafeMutablePointer<Float>) {
        let layout = kernel.layout
        let size = partSize(layout.batch), partCount = (layout.batch + size - 1) / size
        let source = inputs[0].assumingMemoryBound(to: Float.self), rows = inputs[1].assumingMemoryBound(to: Float.self)
        let first = primitives[size]!, sumBytes = first.outputBytes
        let sums = UnsafeMutableRawPointer.allocate(byteCount: partCount * sumBytes, alignment: 64)
        defer { sums.deallocate() }
        Parallel.share(count: layout.batch, part: size, scratch: {}) { images, _ in
            primitives[images.count]!.run(
                [UnsafeRawPointer(source + images.lowerBound * layout.channels * layout.planeSize),
                 UnsafeRawPointer(rows + images.lowerBound * layout.filters * layout.positionCount)],
                into: sums + images.lowerBound / size * sumBytes, given: kernel.ownLayoutInputs, reorderingOutput: false)
        }
        let total = sums.assumingMemoryBound(to: Float.self), count = sumBytes / MemoryLayout<Float>.stride
        for p in 1..<partCount {
            let part = (sums + p * sumBytes).assumingMemoryBound(to: Float.self)
            for i in 0..<count { total[i] += part[i] }
        }
        first.reorderOutput(from: sums, to: output)
    }

    /// Whether oneDNN computes a convolution of this type and layout: float32 ones with more than
    /// one channel on each side (float64 and complex arrays, and layers with one input channel or
    /// one filter, take the im2col kernels). Measured in three alternating rounds on a quiet
    /// 2-core Xeon (AVX-512, OpenBLAS on its SkylakeX kernels), in ms, oneDNN against im2col: the
    /// 64→128-channel 4×4 stride-2 convolution with its gradients 21.0/21.8/20.9 against
    /// 21.6/21.9/29.1, its transpose 27.1/18.8/22.9 against 24.2/25.4/25.9; the 1-channel DCGAN
    /// layers, where oneDNN is weakest, 11.8/5.5/6.0 against 7.5/3.8/4.0 (1→64 convolution) and
    /// 4.6/4.3/4.5 against 3.5/1.6/2.1 (64→1 transposed).
    private static func takes(_ x: DLArray, _ layout: ConvolutionLayout) -> Bool {
        x.dataType == .float32 && engine != nil && layout.batch > 0 && layout.channels > 1 && layout.filters > 1
    }

    /// Adds `bias[c]` to every element of channel `c` of `images` images `[b, C, spatial…]`,
    /// laid out plain or in channel blocks.
    private static func addChannelBias(_ bias: UnsafePointer<Float>, to x: UnsafeMutablePointer<Float>,
                                       images: Int, layout: ConvolutionLayout, blocking: ChannelBlocking) {
        let plane = layout.planeSize
        switch blocking {
        case .plain:
            for q in 0..<images * layout.channels {
                let start = bias[q % layout.channels], target = x + q * plane
                for i in 0..<plane { target[i] += start }
            }
        case .blocked(16):
            addBlockBias(SIMD16<Float>.self, bias, to: x, images: images, layout: layout)
        case .blocked(8):
            addBlockBias(SIMD8<Float>.self, bias, to: x, images: images, layout: layout)
        case .blocked(let block):
            let blocks = layout.channels / block
            for q in 0..<images * blocks {
                let first = q % blocks * block, target = x + q * plane * block
                for i in 0..<plane {
                    for lane in 0..<block { target[i * block + lane] += bias[first + lane] }
                }
            }
        }
    }

    /// ``addChannelBias(_:to:images:layout:blocking:)`` for channels in blocks of `Vector`'s
    /// width, a vector per position.
    @inline(__always)
    private static func addBlockBias<Vector: SIMD>(_: Vector.Type, _ bias: UnsafePointer<Float>, to x: UnsafeMutablePointer<Float>,
                                                   images: Int, layout: ConvolutionLayout) where Vector.Scalar == Float {
        let block = Vector.scalarCount, blocks = layout.channels / block, plane = layout.planeSize
        let raw = UnsafeMutableRawPointer(x), stride = MemoryLayout<Vector>.stride
        for q in 0..<images * blocks {
            let shift = UnsafeRawPointer(bias + q % blocks * block).loadUnaligned(as: Vector.self)
            let target = raw + q * plane * stride
            for i in 0..<plane {
                target.storeBytes(of: target.loadUnaligned(fromByteOffset: i * stride, as: Vector.self) + shift,
                                  toByteOffset: i * stride, as: Vector.self)
            }
        }
    }

    // MARK: Parts of the batch

    /// The number of images in each part of the batch (the last part may have fewer): twice as
    /// many parts as cores, so that a core slowed down by other work can leave parts to the other.
    fileprivate static func partSize(_ batch: Int) -> Int {
        let cores = Parallel.coreCount
        let parts = max(1, min(batch, cores == 1 ? 1 : 2 * cores))
        return max(1, (batch + parts - 1) / parts)
    }

    /// Runs `body` with the primitive for each part of the batch and `filters` (a forward or
    /// backward-data primitive's second input) in the layout that primitive wants, reordered
    /// once for all the parts; false when oneDNN has no primitive for these shapes (nothing is
    /// run then).
    fileprivate static func forEachPart(_ kind: Kind, _ layout: ConvolutionLayout, filters: UnsafeRawPointer,
                                    _ body: (Primitive, UnsafeRawPointer, Range<Int>) -> Void) -> Bool {
        let size = partSize(layout.batch)
        var primitives = [Int: (primitive: Primitive, filters: WantedInput)]()
        defer { primitives.values.forEach { $0.filters.release() } }
        for images in Set([size, layout.batch % size]) where images > 0 {
            guard let primitive = cache.primitive(kind, layout.with(batch: images)) else { return false }
            primitives[images] = (primitive, primitive.wantedInput(1, from: filters))
        }
        Parallel.share(count: layout.batch, part: size, scratch: {}) { images, _ in
            let (primitive, filters) = primitives[images.count]!
            body(primitive, filters.pointer, images)
        }
        return true
    }

    // MARK: Primitives

    /// oneDNN's CPU engine; nil when it cannot be created (then every convolution takes im2col).
    nonisolated(unsafe) fileprivate static let engine: dnnl_engine_t? = {
        var engine: dnnl_engine_t?
        return dnnl_engine_create(&engine, dnnl_cpu, 0) == dnnl_success ? engine : nil
    }()

    /// The primitives made so far, by kind and layout (with the part's batch).
    fileprivate static let cache = PrimitiveCache()

    /// Which of the three products a primitive computes.
    enum Kind: Hashable {
        case forward(bias: Bool), backwardData, backwardWeights
    }

    /// A few dozen primitives, made once for each kind and layout met and then reused; a
    /// program that meets more layouts than that starts the cache over.
    fileprivate final class PrimitiveCache: @unchecked Sendable {
        private struct Key: Hashable {
            let kind: Kind, layout: ConvolutionLayout
        }

        private static let capacity = 64
        private let lock = NSLock()
        /// nil for a layout oneDNN has no primitive for.
        private var primitives = [Key: Primitive?]()

        func primitive(_ kind: Kind, _ layout: ConvolutionLayout) -> Primitive? {
            lock.withLock {
                let key = Key(kind: kind, layout: layout)
                if let known = primitives[key] { return known }
                if primitives.count >= Self.capacity { primitives.removeAll() }
                let made = engine.flatMap { Primitive(kind, layout, engine: $0) }
                primitives[key] = made
                return made
            }
        }
    }

    /// One argument of a primitive: its plain layout, the layout the primitive wants, and the
    /// reorder between them when they differ (plain to wanted for an input, back for the output).
    fileprivate struct Operand {
        let argument: Int32
        var plain: dnnl_memory_desc_t
        var wanted: dnnl_memory_desc_t
        let reorder: dnnl_primitive_t?
        var wantedBytes: Int {
            var description = wanted
            return dnnl_memory_desc_get_size(&description)
        }

        /// The wanted layout as a channel blocking of an activation `[N, C, spatial…]`: plain,
        /// channels in blocks of 8 or 16 that divide them, or nil for any other layout.
        var blocking: ChannelBlocking? {
            var (plain, wanted) = (plain, wanted)
            if dnnl_memory_desc_equal(&plain, &wanted) != 0 { return .plain }
            let rank = Int(plain.ndims)
            let dims = withUnsafeBytes(of: plain.dims) { Array($0.bindMemory(to: Int64.self).prefix(rank)) }
            guard (3...5).contains(rank) else { return nil }
            for (block, tags) in [(16, [dnnl_aBc16b, dnnl_aBcd16b, dnnl_aBcde16b]), (8, [dnnl_aBc8b, dnnl_aBcd8b, dnnl_aBcde8b])]
            where dims[1] % Int64(block) == 0 {
                var blocked = dnnl_memory_desc_t()
                dnnl_memory_desc_init_by_tag(&blocked, Int32(rank), dims, dnnl_f32, tags[rank - 3])
                if dnnl_memory_desc_equal(&blocked, &wanted) != 0 { return .blocked(block) }
            }
            return nil
        }
    }

    /// An input in the layout a primitive wants: the plain data itself, or a reordered copy in
    /// memory of its own, freed by ``release()``.
    fileprivate struct WantedInput {
        let pointer: UnsafeRawPointer
        let copy: UnsafeMutableRawPointer?

        func release() { copy?.deallocate() }
    }

    /// A oneDNN convolution primitive for one kind and layout, with the reorders of its operands.
    fileprivate final class Primitive: @unchecked Sendable {
        private let engine: dnnl_engine_t
        private let primitive: dnnl_primitive_t
        private let inputs: [Operand]
        private var output: Operand
        private var scratchpad: dnnl_memory_desc_t
        private let scratchpadBytes: Int

        /// The primitive's output size in its own layout.
        var outputBytes: Int { output.wantedBytes }
        /// The channel blocking of the primitive's own layout for each input (in the order of the
        /// kind's arguments) and for its output: nil for a layout that is not one (filters).
        var inputBlockings: [ChannelBlocking?] { inputs.map(\.blocking) }
        var outputBlocking: ChannelBlocking? { output.blocking }

        /// Makes the primitive, or nil when oneDNN has none for this kind and layout.
        init?(_ kind: Kind, _ layout: ConvolutionLayout, engine: dnnl_engine_t) {
            swiftdl_dnnl_use_calling_thread_only()
            self.engine = engine
            let geometry = layout.geometry
            let source = plainDescription(layout.inputShape), destination = plainDescription(layout.outputShape)
            let weightShape = layout.groups == 1 ? layout.filterShape
                : [layout.groups, layout.filters / layout.groups] + layout.filterShape.dropFirst()
            let weights = plainDescription(weightShape)
            var bias = plainDescription([layout.filters])
            var anySource = anyDescription(layout.inputShape), anyDestination = anyDescription(layout.outputShape)
            var anyWeights = anyDescription(weightShape)
            let strides = geometry.stride.map(Int64.init), dilations = geometry.dilation.map { Int64($0 - 1) }
            let before = geometry.paddingBefore.map(Int64.init), after = geometry.paddingAfter.map(Int64.init)
            var forwardDescription = dnnl_convolution_desc_t()
            let hasBias = kind == .forward(bias: true)
            var status = hasBias
                ? dnnl_dilated_convolution_forward_desc_init(&forwardDescription, dnnl_forward_training, dnnl_convolution_direct,
                                                              &anySource, &anyWeights, &bias, &anyDestination,
                                                              strides, dilations, before, after)
                : dnnl_dilated_convolution_forward_desc_init(&forwardDescription, dnnl_forward_training, dnnl_convolution_direct,
                                                              &anySource, &anyWeights, nil, &anyDestination,
                                                              strides, dilations, before, after)
            guard status == dnnl_success else { return nil }
            var attributes: dnnl_primitive_attr_t?
            guard dnnl_primitive_attr_create(&attributes) == dnnl_success else { return nil }
            defer { dnnl_primitive_attr_destroy(attributes) }
            dnnl_primitive_attr_set_scratchpad_mode(attributes, dnnl_scratchpad_mode_user)
            var forward: dnnl_primitive_desc_t?
            guard dnnl_primitive_desc_create(&forward, &forwardDescription, attributes, engine, nil) == dnnl_success else {
                return nil
            }
            defer { dnnl_primitive_desc_destroy(forward) }
            var description = dnnl_convolution_desc_t()
            var chosen: dnnl_primitive_desc_t?
            switch kind {
            case .forward:
                status = dnnl_primitive_desc_clone(&chosen, forward)
            case .backwardData:
                status = dnnl_dilated_convolution_backward_data_desc_init(
                    &description, dnnl_convolution_direct, &anySource, &anyWeights, &anyDestination,
                    strides, dilations, before, after)
                if status == dnnl_success { status = dnnl_primitive_desc_create(&chosen, &description, attributes, engine, forward) }
            case .backwardWeights:
                status = dnnl_dilated_convolution_backward_weights_desc_init(
                    &description, dnnl_convolution_direct, &anySource, &anyWeights, nil, &anyDestination,
                    strides, dilations, before, after)
                if status == dnnl_success { status = dnnl_primitive_desc_create(&chosen, &description, attributes, engine, forward) }
            }
            guard status == dnnl_success, let chosen else { return nil }
            defer { dnnl_primitive_desc_destroy(chosen) }
            func wanted(_ query: dnnl_query_t) -> dnnl_memory_desc_t { dnnl_primitive_desc_query_md(chosen, query, 0).pointee }
            func operand(_ argument: Int32, _ plain: dnnl_memory_desc_t, _ query: dnnl_query_t, input: Bool) -> Operand? {
                var (plain, wanted) = (plain, wanted(query))
                if dnnl_memory_desc_equal(&plain, &wanted) != 0 {
                    return Operand(argument: argument, plain: plain, wanted: wanted, reorder: nil)
                }
                guard let reorder = input ? makeReorder(&plain, &wanted, engine) : makeReorder(&wanted, &plain, engine) else {
                    return nil
                }
                return Operand(argument: argument, plain: plain, wanted: wanted, reorder: reorder)
            }
            let operands: [Operand?]
            switch kind {
            case .forward:
                operands = [operand(DNNL_ARG_SRC, source, dnnl_query_src_md, input: true),
                            operand(DNNL_ARG_WEIGHTS, weights, dnnl_query_weights_md, input: true)]
                    + (hasBias ? [Operand(argument: DNNL_ARG_BIAS, plain: bias, wanted: bias, reorder: nil)] : [])
                    + [operand(DNNL_ARG_DST, destination, dnnl_query_dst_md, input: false)]
            case .backwardData:
                operands = [operand(DNNL_ARG_DIFF_DST, destination, dnnl_query_diff_dst_md, input: true),
                            operand(DNNL_ARG_WEIGHTS, weights, dnnl_query_weights_md, input: true),
                            operand(DNNL_ARG_DIFF_SRC, source, dnnl_query_diff_src_md, input: false)]
            case .backwardWeights:
                operands = [operand(DNNL_ARG_SRC, source, dnnl_query_src_md, input: true),
                            operand(DNNL_ARG_DIFF_DST, destination, dnnl_query_diff_dst_md, input: true),
                            operand(DNNL_ARG_DIFF_WEIGHTS, weights, dnnl_query_diff_weights_md, input: false)]
            }
            var made: dnnl_primitive_t?
            guard operands.allSatisfy({ $0 != nil }), dnnl_primitive_create(&made, chosen) == dnnl_success, let made else {
                operands.forEach { if let reorder = $0?.reorder { dnnl_primitive_destroy(reorder) } }
                return nil
            }
            primitive = made
            inputs = operands.dropLast().map { $0! }
            output = operands.last!!
            scratchpad = wanted(dnnl_query_scratchpad_md)
            scratchpadBytes = dnnl_memory_desc_get_size(&scratchpad)
        }

        deinit {
            dnnl_primitive_destroy(primitive)
            for operand in inputs + [output] { if let reorder = operand.reorder { dnnl_primitive_destroy(reorder) } }
        }

        /// Input `index` (in the order of the kind's arguments), given in the plain layout, in
        /// the layout the primitive wants, reordered on the calling thread when they differ.
        func wantedInput(_ index: Int, from plain: UnsafeRawPointer) -> WantedInput {
            let operand = inputs[index]
            guard let reorder = operand.reorder else { return WantedInput(pointer: plain, copy: nil) }
            swiftdl_dnnl_use_calling_thread_only()
            let copy = UnsafeMutableRawPointer.allocate(byteCount: max(operand.wantedBytes, 1), alignment: 64)
            var stream: dnnl_stream_t?, from: dnnl_memory_t?, to: dnnl_memory_t?
            var (plainDescription, wantedDescription) = (operand.plain, operand.wanted)
            dnnl_stream_create(&stream, engine, UInt32(dnnl_stream_default_flags.rawValue))
            dnnl_memory_create(&from, &plainDescription, engine, UnsafeMutableRawPointer(mutating: plain))
            dnnl_memory_create(&to, &wantedDescription, engine, copy)
            execute(reorder, from: from, to: to, stream)
            dnnl_memory_destroy(from)
            dnnl_memory_destroy(to)
            dnnl_stream_destroy(stream)
            return WantedInput(pointer: UnsafeRawPointer(copy), copy: copy)
        }

        /// Runs the primitive on the calling thread alone, on `data` (in the order of the kind's
        /// arguments; each in the plain layout but those whose indices are in `given`, which are
        /// in the primitive's own layout: see ``wantedInput(_:from:)``) into `result`: in the plain
        /// layout, or in the primitive's own when not `reorderingOutput` (``outputBytes`` bytes).
        func run(_ data: [UnsafeRawPointer], into result: UnsafeMutableRawPointer, given: Set<Int>,
                 reorderingOutput: Bool) {
            swiftdl_dnnl_use_calling_thread_only()
            var stream: dnnl_stream_t?
            dnnl_stream_create(&stream, engine, UInt32(dnnl_stream_default_flags.rawValue))
            var memories = [dnnl_memory_t?](), buffers = [UnsafeMutableRawPointer]()
            defer {
                memories.forEach { dnnl_memory_destroy($0) }
                buffers.forEach { $0.deallocate() }
                dnnl_stream_destroy(stream)
            }
            func memory(_ description: dnnl_memory_desc_t, _ handle: UnsafeMutableRawPointer) -> dnnl_memory_t? {
                var (description, made) = (description, dnnl_memory_t?.none)
                dnnl_memory_create(&made, &description, engine, handle)
                memories.append(made)
                return made
            }
            func buffer(_ bytes: Int) -> UnsafeMutableRawPointer {
                let made = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 1), alignment: 64)
                buffers.append(made)
                return made
            }
            var arguments = [dnnl_exec_arg_t]()
            for (index, (operand, pointer)) in zip(inputs, data).enumerated() {
                if given.contains(index) {
                    arguments.append(dnnl_exec_arg_t(arg: operand.argument,
                                                     memory: memory(operand.wanted, UnsafeMutableRawPointer(mutating: pointer))))
                    continue
                }
                let plain = memory(operand.plain, UnsafeMutableRawPointer(mutating: pointer))
                guard let reorder = operand.reorder else {
                    arguments.append(dnnl_exec_arg_t(arg: operand.argument, memory: plain))
                    continue
                }
                let wanted = memory(operand.wanted, buffer(operand.wantedBytes))
                execute(reorder, from: plain, to: wanted, stream)
                arguments.append(dnnl_exec_arg_t(arg: operand.argument, memory: wanted))
            }
            let plainResult = memory(reorderingOutput ? output.plain : output.wanted, result)
            let wantedResult = reorderingOutput && output.reorder != nil
                ? memory(output.wanted, buffer(output.wantedBytes)) : plainResult
            arguments.append(dnnl_exec_arg_t(arg: output.argument, memory: wantedResult))
            if scratchpadBytes > 0 {
                arguments.append(dnnl_exec_arg_t(arg: DNNL_ARG_SCRATCHPAD, memory: memory(scratchpad, buffer(scratchpadBytes))))
            }
            dnnl_primitive_execute(primitive, stream, Int32(arguments.count), arguments)
            if reorderingOutput, let reorder = output.reorder {
                execute(reorder, from: wantedResult, to: plainResult, stream)
            }
        }

        /// Reorders an output in the primitive's own layout into the plain one.
        func reorderOutput(from wanted: UnsafeRawPointer, to plain: UnsafeMutableRawPointer) {
            guard let reorder = output.reorder else {
                plain.copyMemory(from: wanted, byteCount: output.wantedBytes)
                return
            }
            swiftdl_dnnl_use_calling_thread_only()
            var stream: dnnl_stream_t?, from: dnnl_memory_t?, to: dnnl_memory_t?
            dnnl_stream_create(&stream, engine, UInt32(dnnl_stream_default_flags.rawValue))
            dnnl_memory_create(&from, &output.wanted, engine, UnsafeMutableRawPointer(mutating: wanted))
            dnnl_memory_create(&to, &output.plain, engine, plain)
            execute(reorder, from: from, to: to, stream)
            dnnl_memory_destroy(from)
            dnnl_memory_destroy(to)
            dnnl_stream_destroy(stream)
        }
    }
}

/// One of the three products on oneDNN as a kernel described as data: the product, its layout,
/// and which of its activation operands are given or taken in the primitives' own layout
/// (channels in blocks) instead of the plain one. Eager calls use the plain layout throughout;
/// an accelerated plan passes activations between oneDNN products and the batch-norm kernels
/// in the blocked layout, skipping the reorders (see ``ChannelBlockingKernel``).
struct DNNLConvolutionKernel: Kernel {
    /// Which product: the convolution (inputs `[x, filters, bias?]`, output y), the transposed
    /// convolution (`[y, filters, bias?]`, output x) or the filter correlation (`[x, y]`, output
    /// the filters' shape).
    enum Product: Hashable {
        case convolution(bias: Bool), transposed(bias: Bool), correlation

        /// Whether this is the transposed convolution.
        var isTransposed: Bool {
            if case .transposed = self { true } else { false }
        }
    }

    let product: Product
    let layout: ConvolutionLayout
    /// The activation inputs (0, and 1 for the correlation) given in the primitives' own layout.
    var ownLayoutInputs: Set<Int> = []
    /// Whether the output (of the convolution or the transposed convolution) is written in the
    /// primitives' own layout.
    var ownLayoutOutput = false
    /// Whether the last run found primitives for its shapes (it writes nothing otherwise).
    let ran = DNNLConvolution.Flag()

    /// The kind of oneDNN primitive that computes the product.
    fileprivate var primitiveKind: DNNLConvolution.Kind {
        switch product {
        case .convolution(let bias): .forward(bias: bias)
        case .transposed: .backwardData
        case .correlation: .backwardWeights
        }
    }

    /// The primitive for each part size of the batch, or nil when oneDNN has none.
    fileprivate func primitives() -> [Int: DNNLConvolution.Primitive]? {
        let size = DNNLConvolution.partSize(layout.batch)
        var primitives = [Int: DNNLConvolution.Primitive]()
        for images in Set([size, layout.batch % size]) where images > 0 {
            guard let primitive = DNNLConvolution.cache.primitive(primitiveKind, layout.with(batch: images)) else { return nil }
            primitives[images] = primitive
        }
        return primitives
    }

    func run(_ inputs: KernelInputs, _ output: UnsafeMutableRawPointer) {
        let destination = output.assumingMemoryBound(to: Float.self)
        guard product == .correlation else {
            ran.value = DNNLConvolution.product(self, inputs, into: destination)
            return
        }
        guard let primitives = primitives() else {
            ran.value = false
            return
        }
        DNNLConvolution.correlate(self, primitives, inputs, into: destination)
        ran.value = true
    }
}

extension DNNLConvolutionKernel: ChannelBlockingKernel {
    /// The activation operands whose primitives (every part's) want them channel-blocked.
    var blockableOperands: [BlockableOperand] {
        guard let primitives = primitives()?.values else { return [] }
        let input = ChannelLayout(outer: layout.batch, channels: layout.channels, inner: layout.planeSize)
        let output = ChannelLayout(outer: layout.batch, channels: layout.filters, inner: layout.positionCount)
        let operands: [(KernelOperand, ChannelLayout, (DNNLConvolution.Primitive) -> ChannelBlocking?)] = switch product {
        case .convolution: [(.input(0), input, { $0.inputBlockings[0] }), (.output, output, { $0.outputBlocking })]
        case .transposed: [(.input(0), output, { $0.inputBlockings[0] }), (.output, input, { $0.outputBlocking })]
        case .correlation: [(.input(0), input, { $0.inputBlockings[0] }), (.input(1), output, { $0.inputBlockings[1] })]
        }
        return operands.compactMap { operand, layout, blocking in
            let wanted = Set(primitives.map(blocking))
            guard wanted.count == 1, let only = wanted.first, case .blocked = only else { return nil }
            return BlockableOperand(operand: operand, layout: layout, wanted: only)
        }
    }

    func with(_ blockings: [KernelOperand: ChannelBlocking]) -> any Kernel {
        var kernel = DNNLConvolutionKernel(product: product, layout: layout)
        for (operand, blocking) in blockings where blocking != .plain {
            switch operand {
            case .input(let index): kernel.ownLayoutInputs.insert(index)
            case .output: kernel.ownLayoutOutput = true
            }
        }
        return kernel
    }
}

/// Copies a float32 activation `[outer, channels, inner]` from one channel blocking into
/// another with oneDNN's reorder, the images shared among the cores in parts: what an
/// accelerated plan inserts where an array computed in one layout is read in the other.
struct ChannelReorder: Kernel {
    let layout: ChannelLayout
    let from: ChannelBlocking, to: ChannelBlocking

    func run(_ inputs: KernelInputs, _ output: UnsafeMutableRawPointer) {
        let plane = layout.channels * layout.inner
        let source = inputs[0].assumingMemoryBound(to: Float.self), destination = output.assumingMemoryBound(to: Float.self)
        Parallel.share(count: layout.outer, part: DNNLConvolution.partSize(layout.outer), scratch: {}) { images, _ in
            DNNLConvolution.reorders.reorder(source + images.lowerBound * plane, into: destination + images.lowerBound * plane,
                                             ChannelLayout(outer: images.count, channels: layout.channels, inner: layout.inner),
                                             from: from, to: to)
        }
    }
}

extension DNNLConvolution {
    /// The reorder primitives made so far, by layout and blockings.
    fileprivate static let reorders = ReorderCache()

    /// A few dozen reorder primitives between channel blockings, made once for each layout and
    /// then reused; a program that meets more layouts than that starts the cache over.
    fileprivate final class ReorderCache: @unchecked Sendable {
        /// A reorder primitive, destroyed with its holder.
        private final class Reorder {
            let primitive: dnnl_primitive_t
            var source: dnnl_memory_desc_t, target: dnnl_memory_desc_t

            init?(_ layout: ChannelLayout, from: ChannelBlocking, to: ChannelBlocking, engine: dnnl_engine_t) {
                (source, target) = (ReorderCache.description(layout, from), ReorderCache.description(layout, to))
                guard let made = makeReorder(&source, &target, engine) else { return nil }
                primitive = made
            }

            deinit { dnnl_primitive_destroy(primitive) }
        }

        private struct Key: Hashable {
            let layout: ChannelLayout, from: ChannelBlocking, to: ChannelBlocking
        }

        private static let capacity = 64
        private let lock = NSLock()
        private var reorders = [Key: Reorder]()

        /// Copies `layout`'s elements from `source` in blocking `from` into `target` in blocking
        /// `to`, on the calling thread alone.
        func reorder(_ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, _ layout: ChannelLayout,
                     from: ChannelBlocking, to: ChannelBlocking) {
            let key = Key(layout: layout, from: from, to: to)
            let reorder: Reorder? = lock.withLock {
                if let known = reorders[key] { return known }
                if reorders.count >= Self.capacity { reorders.removeAll() }
                let made = engine.flatMap { Reorder(layout, from: from, to: to, engine: $0) }
                reorders[key] = made
                return made
            }
            guard let reorder, let engine else {
                preconditionFailure("oneDNN made no reorder for \(layout) from \(from) to \(to)")
            }
            swiftdl_dnnl_use_calling_thread_only()
            var stream: dnnl_stream_t?, sourceMemory: dnnl_memory_t?, targetMemory: dnnl_memory_t?
            dnnl_stream_create(&stream, engine, UInt32(dnnl_stream_default_flags.rawValue))
            dnnl_memory_create(&sourceMemory, &reorder.source, engine, UnsafeMutableRawPointer(mutating: source))
            dnnl_memory_create(&targetMemory, &reorder.target, engine, target)
            execute(reorder.primitive, from: sourceMemory, to: targetMemory, stream)
            dnnl_memory_destroy(sourceMemory)
            dnnl_memory_destroy(targetMemory)
            dnnl_stream_destroy(stream)
        }

        /// A float32 `[outer, channels, inner]` array in `blocking`.
        private static func description(_ layout: ChannelLayout, _ blocking: ChannelBlocking) -> dnnl_memory_desc_t {
            var description = dnnl_memory_desc_t()
            let tag = switch blocking {
            case .plain: dnnl_abc
            case .blocked(let block): block == 16 ? dnnl_aBc16b : dnnl_aBc8b
            }
            dnnl_memory_desc_init_by_tag(&description, 3, [Int64(layout.outer), Int64(layout.channels), Int64(layout.inner)],
                                         dnnl_f32, tag)
            return description
        }
    }
}

extension ConvolutionLayout {
    /// Elements of one input plane and the windows' positions.
    var planeSize: Int { geometry.inputSize.reduce(1, *) }
    var positionCount: Int { geometry.positionCount }

    /// The same convolution over a batch of `batch` images.
    func with(batch: Int) -> ConvolutionLayout {
        ConvolutionLayout(geometry: geometry, batch: batch, channels: channels, filters: filters, groups: groups)
    }
}

/// A float32 array of `shape` in the plain row-major layout.
private func plainDescription(_ shape: [Int]) -> dnnl_memory_desc_t {
    var description = dnnl_memory_desc_t()
    let tags = [dnnl_a, dnnl_ab, dnnl_abc, dnnl_abcd, dnnl_abcde, dnnl_abcdef]
    dnnl_memory_desc_init_by_tag(&description, Int32(shape.count), shape.map(Int64.init), dnnl_f32, tags[shape.count - 1])
    return description
}

/// A float32 array of `shape` in whichever layout the primitive prefers.
private func anyDescription(_ shape: [Int]) -> dnnl_memory_desc_t {
    var description = dnnl_memory_desc_t()
    dnnl_memory_desc_init_by_tag(&description, Int32(shape.count), shape.map(Int64.init), dnnl_f32, dnnl_format_tag_any)
    return description
}

/// A reorder primitive from `source`'s layout to `target`'s, or nil.
private func makeReorder(_ source: inout dnnl_memory_desc_t, _ target: inout dnnl_memory_desc_t,
                         _ engine: dnnl_engine_t) -> dnnl_primitive_t? {
    var description: dnnl_primitive_desc_t?, reorder: dnnl_primitive_t?
    guard dnnl_reorder_primitive_desc_create(&description, &source, engine, &target, engine, nil) == dnnl_success else {
        return nil
    }
    defer { dnnl_primitive_desc_destroy(description) }
    return dnnl_primitive_create(&reorder, description) == dnnl_success ? reorder : nil
}

/// Runs `reorder` from one memory to another.
private func execute(_ reorder: dnnl_primitive_t, from source: dnnl_memory_t?, to target: dnnl_memory_t?,
                     _ stream: dnnl_stream_t?) {
    let arguments = [dnnl_exec_arg_t(arg: DNNL_ARG_FROM, memory: source), dnnl_exec_arg_t(arg: DNNL_ARG_TO, memory: target)]
    dnnl_primitive_execute(reorder, stream, 2, arguments)
}
