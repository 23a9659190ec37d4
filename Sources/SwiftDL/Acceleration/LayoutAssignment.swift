/// A kernel call as an ``AccelerationPlan`` arranges it: the kernel's work, the values (the
/// plan's places) it reads and writes, and the number of captured calls that ran before the
/// one it comes from (checks of values read into Swift after that many calls go before it).
struct PlannedCall {
    var kernel: KernelReplay
    /// The kernel, when it can take activations channel-blocked.
    var blocking: (any ChannelBlockingKernel)?
    var inputs: [Int]
    var output: Int
    let specification: KernelOutput
    let origin: Int
    /// Whether the layout pass gave the call blocked operands, or inserted it as a reorder.
    var takesBlocked = false
    var isReorder = false
}

/// The plan's layout pass: which activations stay in oneDNN's channel-blocked layout.
///
/// Each oneDNN convolution reorders its activation operands between the plain layout and its
/// own blocked one; an activation passed from one oneDNN product to another, or read by several,
/// is reordered at every call. The pass looks at every value that a channel-blocking kernel
/// wants blocked and keeps it blocked where that saves reorders:
/// - when its producer can write it blocked (a oneDNN product wanting that layout, or a kernel
///   taking any layout), the producer does, the kernels that can read it blocked do, and one
///   explicit reorder makes the plain copy if anything else reads it (a returned value, a
///   checked one, a kernel that needs it plain);
/// - otherwise (computed plain, an input or a constant) one explicit reorder makes a blocked
///   copy when two or more oneDNN products want it, and they read that copy.
///
/// Each value is decided alone. Kernels that take any layout (batch norms, the (leaky) ReLU,
/// a batch's sum for a bias gradient) may get their operands in different layouts and then
/// transpose tile by tile inside, one pass where a reorder would add another: a batch norm
/// after a convolution and before a fully connected layer reads its input blocked and writes
/// its output plain; the leaky ReLU after a one-channel (im2col) convolution reads plain and
/// writes blocked for the next oneDNN convolution.
///
/// Reorders copy elements, and every kernel computes the same values in either layout, so the
/// plan's results keep the bits of the eager calls.
enum LayoutAssignment {
    /// A blockable operand of a call: the call, which operand, and what its kernel says of it.
    private struct Slot {
        let call: Int
        let operand: BlockableOperand

        /// Whether the kernel takes the operand in `blocked`: it wants that, or any blocking.
        func takes(_ blocked: ChannelBlocking) -> Bool { operand.wanted == nil || operand.wanted == blocked }
    }

    /// The block that most of `slots` want (the larger of a tie), or nil when none wants one.
    private static func mostWantedBlock(_ slots: [Slot]) -> Int? {
        let wanted = slots.compactMap { slot -> Int? in
            if case .blocked(let block) = slot.operand.wanted { block } else { nil }
        }
        return Dictionary(grouping: wanted, by: { $0 }).max { ($0.value.count, $0.key) < ($1.value.count, $1.key) }?.key
    }

    /// `program` (live calls) with activations kept blocked where that saves reorders, the
    /// new values' places appended to `places`. Values in `plainOnly` (returned or checked) are
    /// always available plain.
    static func assign(_ program: [PlannedCall], places: inout [AccelerationPlan.Place],
                       plainOnly: Set<Int>) -> [PlannedCall] {
        // Every value's blockable slots, and whether something reads it in a slot that is not.
        var producers: [Int: Slot] = [:]
        var consumers: [Int: [Slot]] = [:]
        var readPlain = plainOnly
        let operandsOfCalls = program.map { $0.blocking?.blockableOperands ?? [] }
        for (index, call) in program.enumerated() {
            let operands = operandsOfCalls[index]
            for (k, value) in call.inputs.enumerated() {
                if let operand = operands.first(where: { $0.operand == .input(k) }) {
                    consumers[value, default: []].append(Slot(call: index, operand: operand))
                } else {
                    readPlain.insert(value)
                }
            }
            if let operand = operands.first(where: { $0.operand == .output }) {
                producers[call.output] = Slot(call: index, operand: operand)
            }
        }

        var decisions: [Int: Decision] = [:]
        for value in Set(producers.keys).union(consumers.keys) {
            decisions[value] = decide(producer: producers[value], consumers: consumers[value] ?? [],
                                      readPlain: readPlain.contains(value))
        }

        var program = program
        var blockings: [Int: [KernelOperand: ChannelBlocking]] = [:]
        var insertedAfter: [Int: [PlannedCall]] = [:], insertedBefore: [Int: [PlannedCall]] = [:]
        for value in decisions.keys.sorted() {
            let copy = places.count
            places.append(.buffer(-1))
            switch decisions[value]! {
            case .written(let blocked, let layout, let readers, let plainCopy):
                let producer = producers[value]!
                program[producer.call].output = copy
                blockings[producer.call, default: [:]][.output] = blocked
                if plainCopy {
                    insertedAfter[producer.call, default: []].append(
                        reorder(layout, from: blocked, to: .plain, reading: copy, writing: value,
                                origin: program[producer.call].origin))
                }
                for slot in readers {
                    redirect(&program[slot.call], slot.operand.operand, from: value, to: copy)
                    blockings[slot.call, default: [:]][slot.operand.operand] = blocked
                }
            case .copied(let blocked, let layout, let readers):
                insertedBefore[readers[0].call, default: []].append(
                    reorder(layout, from: .plain, to: blocked, reading: value, writing: copy,
                            origin: program[readers[0].call].origin))
                for slot in readers {
                    redirect(&program[slot.call], slot.operand.operand, from: value, to: copy)
                    blockings[slot.call, default: [:]][slot.operand.operand] = blocked
                }
            }
        }

        var arranged: [PlannedCall] = []
        for (index, var call) in program.enumerated() {
            arranged += insertedBefore[index] ?? []
            if let operands = blockings[index], let kernel = call.blocking?.with(operands) {
                call.kernel = kernel.makeReplay()
                call.blocking = nil
                call.takesBlocked = true
            }
            arranged.append(call)
            arranged += insertedAfter[index] ?? []
        }
        return arranged
    }

    /// Where a value kept blocked comes from.
    private enum Decision {
        /// Its producer writes it blocked, `readers` read it so, and a reorder makes the plain
        /// value for the others when `plainCopy`.
        case written(ChannelBlocking, ChannelLayout, readers: [Slot], plainCopy: Bool)
        /// It is computed plain, and a reorder makes the blocked copy that `readers` read.
        case copied(ChannelBlocking, ChannelLayout, readers: [Slot])
    }

    /// How the value with these slots is kept blocked, or nil when plain saves as many reorders:
    /// in the blocking most of its slots want, if they agree on its layout. `producer` is nil
    /// when the value is written plain (by a kernel that cannot, or it is an input or a
    /// constant); `readPlain`: a kernel, a check or the caller reads it plain.
    private static func decide(producer: Slot?, consumers: [Slot], readPlain: Bool) -> Decision? {
        let slots = (producer.map { [$0] } ?? []) + consumers
        guard let block = mostWantedBlock(slots),
              let layout = slots.first?.operand.layout, slots.allSatisfy({ $0.operand.layout == layout }),
              layout.channels % block == 0
        else { return nil }
        let blocked = ChannelBlocking.blocked(block)
        if let producer, producer.takes(blocked) {
            // Written blocked: worth it unless the plain copy costs what it saves.
            let needsPlain = readPlain || consumers.contains { !$0.takes(blocked) }
            let saved = slots.filter { $0.operand.wanted == blocked }.count
            guard (needsPlain ? 1 : 0) < saved else { return nil }
            return .written(blocked, layout, readers: consumers.filter { $0.takes(blocked) }, plainCopy: needsPlain)
        }
        // Computed plain: one reorder for two or more readers that want it blocked.
        let readers = consumers.filter { $0.operand.wanted == blocked }
        return readers.count >= 2 ? .copied(blocked, layout, readers: readers) : nil
    }

    /// Points `call`'s input `operand` at `copy` instead of `value`.
    private static func redirect(_ call: inout PlannedCall, _ operand: KernelOperand, from value: Int, to copy: Int) {
        guard case .input(let k) = operand else { return }
        precondition(call.inputs[k] == value, "a blockable operand reads another value")
        call.inputs[k] = copy
    }

    /// A call that reorders the float32 activation `reading` (in `from`) into `writing` (in `to`).
    private static func reorder(_ layout: ChannelLayout, from: ChannelBlocking, to: ChannelBlocking,
                                reading: Int, writing: Int, origin: Int) -> PlannedCall {
        PlannedCall(kernel: ChannelReorder(layout: layout, from: from, to: to).makeReplay(), blocking: nil,
                    inputs: [reading], output: writing,
                    specification: KernelOutput(count: layout.count, dataType: .float32), origin: origin, isReorder: true)
    }
}
