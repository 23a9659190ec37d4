import Testing
@testable import SwiftDL

/// Training on parts of a mini-batch on several workers gives what one process computes on
/// the whole mini-batch: gradients, synchronized batch statistics, aggregated state.
@Suite struct DataParallelTests {
    /// Convolution, batch normalization over the batch and both spatial dimensions, ReLU,
    /// fully connected: float64, so that only the order of sums separates the runs.
    static func network() throws -> DLNetwork {
        var net = try DLNetwork([
            ConvolutionLayer(kernel: [2, 2], filters: 3, padding: 0, name: "conv"),
            BatchNormalizationLayer(name: "bn"),
            ActivationLayer(.relu),
            FlattenLayer(),
            FullyConnectedLayer(outputSize: 2, name: "fc"),
        ])
        try net.initialize(DLArray.zeros([1, 2, 3, 3], type: .float64, labels: "BCSS"), seed: 11)
        return net
    }

    static let batchSize = 7
    static let images = DLArray.randn([batchSize, 2, 3, 3], seed: 21).scalars(as: Double.self)
    static let targets = DLArray.randn([batchSize, 2], seed: 22).scalars(as: Double.self)

    /// Observations `range` of the batch: images "BCSS" and targets "BC".
    static func slice(_ range: Range<Int>) throws -> (images: DLArray, targets: DLArray) {
        (try DLArray(Array(images[(range.lowerBound * 18)..<(range.upperBound * 18)]), shape: [range.count, 2, 3, 3], labels: "BCSS"),
         try DLArray(Array(targets[(range.lowerBound * 2)..<(range.upperBound * 2)]), shape: [range.count, 2], labels: "BC"))
    }

    /// The mean over the observations of the squared error, its gradients and the updated state.
    static func lossGradientsAndState(_ net: DLNetwork, _ batch: (images: DLArray, targets: DLArray)) throws
        -> (DLParameterTable, DLParameterTable) {
        try dlfeval({ (net: DLNetwork) in
            let (y, state) = try net.forward(batch.images)
            let error = try y - batch.targets
            let loss = try sum(error * error) / Double(batch.images.shape[0])
            return (try dlgradient(loss, net.learnables), state)
        }, net)
    }

    @Test(arguments: [2, 3])
    func workersGiveTheWholeBatchsGradientsAndState(workers: Int) throws {
        let net = try Self.network()
        let (expectedGradients, expectedState) = try Self.lossGradientsAndState(net, try Self.slice(0..<Self.batchSize))
        let sizes = try workerMiniBatchSizes(Self.batchSize, workers: workers)
        #expect(sizes == (workers == 2 ? [4, 3] : [3, 2, 2]))
        let results = try spmd(workers: workers) { communicator in
            let start = sizes[..<(communicator.index - 1)].reduce(0, +)
            let batch = try Self.slice(start..<(start + sizes[communicator.index - 1]))
            let synchronized = net.synchronizingBatchStatistics(over: communicator)
            let (gradients, state) = try Self.lossGradientsAndState(synchronized, batch)
            let factor = Double(sizes[communicator.index - 1]) / Double(Self.batchSize)
            return (try aggregateGradients(gradients, factor: factor, over: communicator), state)
        }
        // Relative to the largest gradient of the network: the convolution's bias, followed by
        // batch normalization, has a gradient of zero up to rounding.
        let largestGradient = expectedGradients.flattenedArrays.flatMap { $0.scalars(as: Double.self).map(abs) }.max()!
        for (gradients, state) in results {
            for (row, expected) in zip(gradients.rows, expectedGradients.rows) {
                expectRelativelyClose(row.value, expected.value, relative: 1e-6, scale: largestGradient,
                                      "\(row.layer)/\(row.parameter) gradient")
            }
            for (row, expected) in zip(state.rows, expectedState.rows) {
                expectRelativelyClose(row.value, expected.value, relative: 1e-6, "\(row.layer)/\(row.parameter)")
            }
        }
        // The workers hold the same bits.
        for (gradients, _) in results.dropFirst() {
            #expect(zip(gradients.rows, results[0].0.rows).allSatisfy { $0.value.scalars(as: Double.self) == $1.value.scalars(as: Double.self) })
        }
    }

    @Test(arguments: [2, 3])
    func aggregateStateCombinesBatchStatisticsByTheLawOfTotalVariance(workers: Int) throws {
        let x = try Self.slice(0..<Self.batchSize).images
        let dims = [0, 2, 3]
        let whole = try centeredStatistics(x, over: dims)
        let sizes = try workerMiniBatchSizes(Self.batchSize, workers: workers)
        let results = try spmd(workers: workers) { communicator in
            let start = sizes[..<(communicator.index - 1)].reduce(0, +)
            let part = try Self.slice(start..<(start + sizes[communicator.index - 1])).images
            let statistics = try centeredStatistics(part, over: dims)
            let state = DLParameterTable(rows: [
                .init(layer: "bn", parameter: "TrainedMean", value: try reshape(statistics.mean, [2]), learnRateFactor: 0),
                .init(layer: "bn", parameter: "TrainedVariance", value: try reshape(statistics.variance, [2]), learnRateFactor: 0),
            ])
            return try aggregateState(state, factor: Double(sizes[communicator.index - 1]) / Double(Self.batchSize), over: communicator)
        }
        for state in results {
            expectRelativelyClose(state["bn", "TrainedMean"]!, try reshape(whole.mean, [2]), relative: 1e-12, "mean")
            expectRelativelyClose(state["bn", "TrainedVariance"]!, try reshape(whole.variance, [2]), relative: 1e-12, "variance")
        }
    }

    @Test func aggregateStateNeedsMeansAndVariancesInPairs() throws {
        let messages = try spmd(workers: 2) { communicator in
            let state = DLParameterTable(rows: [.init(layer: "bn", parameter: "TrainedMean", value: DLArray([1.0, 2.0]))])
            return errorMessage(DLError.invalidArgument) { _ = try aggregateState(state, factor: 0.5, over: communicator) }
        }
        #expect(messages.allSatisfy { $0.contains("layer bn has a TrainedMean without a TrainedVariance of shape [2]") })
    }

    @Test func workerMiniBatchSizesAreFloorPlusRemainder() throws {
        #expect(try workerMiniBatchSizes(128, workers: 3) == [43, 43, 42])
        #expect(try workerMiniBatchSizes(10, workers: 4) == [3, 3, 2, 2])
        #expect(try workerMiniBatchSizes(2, workers: 3) == [1, 1, 0])
        expectError(containing: "workers must be at least 1, got 0") { _ = try workerMiniBatchSizes(8, workers: 0) }
        expectError(containing: "miniBatchSize must be non-negative, got -1") { _ = try workerMiniBatchSizes(-1, workers: 2) }
    }

    @Test func partitionsTogetherGiveTheWholeQueuesMiniBatches() throws {
        let data = try DLArray((0..<10).map(Double.init), shape: [10, 1], labels: "BC")
        let whole = try MinibatchQueue([data], miniBatchSize: 4, generator: DLRandomGenerator(seed: 5))
        let parts = try (1...3).map { index in
            try MinibatchQueue([data], miniBatchSize: 4, generator: DLRandomGenerator(seed: 5)).partition(workers: 3, index: index)
        }
        #expect(parts.map(\.miniBatchSize) == [2, 1, 1])
        for epoch in 0..<2 {
            if epoch == 1 { whole.shuffle(); parts.forEach { $0.shuffle() } }
            var batches = 0
            while whole.hasdata {
                let expected = try whole.next()[0].scalars(as: Double.self)
                let slices = try parts.map { try $0.next()[0].scalars(as: Double.self) }
                #expect(slices.flatMap { $0 } == expected, "epoch \(epoch) batch \(batches)")
                #expect(slices.map(\.count) == (expected.count == 4 ? [2, 1, 1] : [1, 1, 0]))
                batches += 1
            }
            #expect(batches == 3 && parts.allSatisfy { !$0.hasdata })
        }
        expectError(containing: "index must be in 1...3, got 4") { _ = try whole.partition(workers: 3, index: 4) }
        expectError(containing: "workers must be at least 1, got 0") { _ = try whole.partition(workers: 0, index: 1) }
    }

    /// The README's loop: `workers` workers train 12 Adam steps on their slices of batches of
    /// 16 and end with the parameters of one process.
    static func trainedLearnables(workers: Int) throws -> [(initial: DLParameterTable, trained: DLParameterTable)] {
        let inputs = DLArray.randn([64, 3], labels: "BC", seed: 31)
        let targets = try sin(sum(inputs, dims: [1]))
        @Sendable func network(seed: UInt64) throws -> DLNetwork {
            var net = try DLNetwork([FullyConnectedLayer(outputSize: 8, name: "fc1"), BatchNormalizationLayer(name: "bn"),
                                     ActivationLayer(.tanh), FullyConnectedLayer(outputSize: 1, name: "fc2")])
            try net.initialize(DLArray.zeros([1, 3], labels: "BC"), seed: seed)
            try net.setLearnRateFactor(layer: "fc1", parameter: "Bias", 0)
            return net
        }
        return try spmd(workers: workers) { communicator in        // or MPICommunicator.world()
            let queue = try MinibatchQueue([inputs, targets], miniBatchSize: 16, partialMiniBatch: .discard,
                                           generator: DLRandomGenerator(seed: 1))
                .partition(workers: communicator.count, index: communicator.index)
            let factor = Double(queue.miniBatchSize) / 16          // this worker's share of the batch
            var net = try network(seed: UInt64(communicator.index))
            net.learnables = try communicator.broadcast(net.learnables, from: 1)
            let initial = net.learnables
            var average: DLParameterTable?, averageSquared: DLParameterTable?
            for iteration in 1...12 {
                if !queue.hasdata { queue.shuffle() }
                let batch = try queue.next()
                let (gradients, state) = try dlfeval({ (net: DLNetwork) in
                    let (y, state) = try net.synchronizingBatchStatistics(over: communicator).forward(batch[0])
                    let error = try y - batch[1]
                    let loss = try sum(error * error) / Double(batch[0].shape[0])
                    return (try dlgradient(loss, net.learnables), state)
                }, net)
                let aggregated = try aggregateGradients(gradients, factor: factor, over: communicator)
                (net.learnables, average, averageSquared) = try adamupdate(net.learnables, aggregated, average, averageSquared,
                                                                           iteration: iteration, learnRate: 0.01)
                net.state = state
            }
            return (initial, net.learnables)
        }
    }

    @Test func theReadmeLoopOnThreeWorkersFollowsOneProcess() throws {
        let one = try Self.trainedLearnables(workers: 1)[0]
        let three = try Self.trainedLearnables(workers: 3)
        // Training moved the weights, and each worker started from worker 1's.
        let moved = zip(one.trained["fc2", "Weights"]!.scalars(as: Double.self), one.initial["fc2", "Weights"]!.scalars(as: Double.self))
        #expect(moved.map { abs($0 - $1) }.max()! > 0.01)
        for (initial, trained) in three {
            #expect(initial["fc1", "Weights"]!.scalars(as: Double.self) == one.initial["fc1", "Weights"]!.scalars(as: Double.self))
            for (row, expected) in zip(trained.rows, one.trained.rows) {
                expectRelativelyClose(row.value, expected.value, relative: 1e-9, "\(row.layer)/\(row.parameter)")
            }
        }
    }

    @Test func synchronizedSumDifferentiatesAsTheGlobalLoss() throws {
        // Worker w's loss is Lw = cw·Σ y² of the synchronized sum y = x₁ + x₂, with shares fw
        // of the global loss J = f₁L₁ + f₂L₂. Then ∂J/∂xw = (f₁c₁ + f₂c₂)·2y, which each
        // worker's gradient times its share must be: with c = (1, 3), f = (3/4, 1/4), y = (3, 2),
        // that is 1.5·(6, 4) = (9, 6). (A plain sum of the gradients would give 4·(6, 4)·fw.)
        let shares = [0.75, 0.25], weights = [1.0, 3.0]
        let gradients = try spmd(workers: 2) { communicator in
            let x = DLArray([Double(communicator.index), 1.0])
            let (share, weight) = (shares[communicator.index - 1], weights[communicator.index - 1])
            let g = try dlfeval({ (x: DLArray) in
                let y = try synchronizedSum(x, over: communicator, share: share)
                return try dlgradient(weight * sum(y * y), x)
            }, x)
            return (g * share).scalars(as: Double.self)
        }
        for g in gradients {
            #expect(zip(g, [9.0, 6]).allSatisfy { abs($0 - $1) <= 1e-12 }, "\(g)")
        }
        expectError(containing: "share must be in (0, 1], got 0") {
            _ = try spmd(workers: 1) { communicator in try synchronizedSum(DLArray([1.0]), over: communicator, share: 0) }
        }
    }

    /// The workers' sum is a kernel: an accelerated function with synchronized sums in its
    /// forward and backward passes replays them on every worker, with the eager results.
    @Test func acceleratedSynchronizedSumsReplay() throws {
        let results = try spmd(workers: 3) { communicator in
            let share = [0.5, 0.25, 0.25][communicator.index - 1]
            let f = { (x: DLArray) in
                let y = try synchronizedSum(x, over: communicator, share: share)
                let g = try dlgradient(sum(y * y * x), x, enableHigherDerivatives: true)
                return (extractdata(y), try dlgradient(sum(g * g), x))
            }
            let accelerated = dlaccelerate(f)
            var differences: [String] = []
            for round in 0..<3 {
                let x = DLArray.randn([4], type: .float32, seed: UInt64(10 * round + communicator.index))
                let (y, h) = try dlfeval(accelerated, x)
                let (yEager, hEager) = try dlfeval(f, x)
                differences += [firstDifference(y, yEager), firstDifference(h, hEager)].compactMap { $0 }
            }
            return (differences, accelerated.lastEagerReason, accelerated.hitRate)
        }
        for (worker, (differences, reason, hitRate)) in results.enumerated() {
            #expect(differences.isEmpty, "worker \(worker + 1): \(differences)")
            #expect(reason == nil, "worker \(worker + 1): \(reason ?? "")")
            #expect(abs(hitRate - 200.0 / 3) < 1e-9, "worker \(worker + 1)")   // two replays of three calls
        }
    }

    /// A communicator whose sums fail once `failing` is set.
    final class FailingCommunicator: DLCommunicator, @unchecked Sendable {
        var failing = false
        var index: Int { 1 }
        var count: Int { 1 }
        func sumInPlace(_ buffer: UnsafeMutableRawBufferPointer, elementType: DLDataType) throws {
            if failing { throw DLError.communication("worker 2 left the group") }
        }
        func maximumInPlace(_ values: inout [Int64]) throws {}
        func broadcastInPlace(_ buffer: UnsafeMutableRawBufferPointer, from root: Int) throws {}
        func barrier() throws {}
    }

    /// A communicator of one worker that counts its sums.
    final class CountingCommunicator: DLCommunicator, @unchecked Sendable {
        var sums = 0
        var index: Int { 1 }
        var count: Int { 1 }
        func sumInPlace(_ buffer: UnsafeMutableRawBufferPointer, elementType: DLDataType) throws { sums += 1 }
        func maximumInPlace(_ values: inout [Int64]) throws {}
        func broadcastInPlace(_ buffer: UnsafeMutableRawBufferPointer, from root: Int) throws {}
        func barrier() throws {}
    }

    /// A replay whose check fails before any exchange runs the function again eagerly; one whose
    /// check fails after an exchange throws instead of repeating the exchange on this worker alone
    /// (the other workers, whose replays passed, would not take part in it).
    @Test func aCheckFailingAfterACollectiveThrowsInsteadOfRunningEagerly() throws {
        let communicator = CountingCommunicator()
        let after = dlaccelerate { (x: DLArray) throws -> DLArray in
            let y = try synchronizedSum(x, over: communicator, share: 1)
            let positive = x.scalars(as: Double.self)[0] > 0   // read after the exchange
            return positive ? y * 2 : y * 3
        }
        #expect(try dlfeval(after, DLArray([1.0, 2.0])).scalars(as: Double.self) == [2, 4])
        #expect(communicator.sums == 1)
        #expect(try dlfeval(after, DLArray([1.0, 2.0])).scalars(as: Double.self) == [2, 4])   // replayed
        #expect(communicator.sums == 2 && after.hitRate == 50)
        expectError(containing: "after the replay had exchanged data with the other workers") {
            _ = try dlfeval(after, DLArray([-1.0, 2.0]))
        }
        #expect(communicator.sums == 3)   // the replay's exchange, not repeated

        let before = dlaccelerate { (x: DLArray) throws -> DLArray in
            let positive = x.scalars(as: Double.self)[0] > 0   // read before the exchange
            let y = try synchronizedSum(x, over: communicator, share: 1)
            return positive ? y * 2 : y * 3
        }
        communicator.sums = 0
        _ = try dlfeval(before, DLArray([1.0, 2.0]))
        #expect(try dlfeval(before, DLArray([-1.0, 2.0])).scalars(as: Double.self) == [-3, 6])   // eager again
        #expect(communicator.sums == 2 && before.lastEagerReason != nil)
    }

    /// A failed exchange inside a replayed plan throws the communicator's error, as eagerly.
    @Test func aFailedCollectiveInAReplayThrows() throws {
        let communicator = FailingCommunicator()
        let accelerated = dlaccelerate { (x: DLArray) in
            let y = try synchronizedSum(x, over: communicator, share: 1)
            return try dlgradient(sum(y * y), x)
        }
        let x = DLArray([1.0, 2.0])
        let g = try dlfeval(accelerated, x)
        #expect(g.scalars(as: Double.self) == [2, 4])
        #expect(try dlfeval(accelerated, DLArray([3.0, 1.0])).scalars(as: Double.self) == [6, 2])
        #expect(accelerated.hitRate == 50)
        communicator.failing = true
        expectError(containing: "worker 2 left the group") { _ = try dlfeval(accelerated, x) }
        #expect(accelerated.lastEagerReason == nil)
        communicator.failing = false
        #expect(try dlfeval(accelerated, x).scalars(as: Double.self) == [2, 4])
    }
}

/// Expects `actual` to match `expected` within `relative` times `scale` (by default the
/// largest magnitude of `expected`), reporting the first element that does not.
func expectRelativelyClose(_ actual: DLArray, _ expected: DLArray, relative: Double, scale: Double? = nil, _ what: String,
                           sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.shape == expected.shape, "\(what): shape \(actual.shape) against \(expected.shape)", sourceLocation: sourceLocation)
    let a = actual.scalars(as: Double.self), e = expected.scalars(as: Double.self)
    let scale = scale ?? max(e.map(abs).max() ?? 0, .leastNormalMagnitude)
    if let k = a.indices.first(where: { abs(a[$0] - e[$0]) > relative * scale }) {
        Issue.record("\(what): element \(k) is \(a[k]), expected \(e[k]) (scale \(scale))", sourceLocation: sourceLocation)
    }
}
