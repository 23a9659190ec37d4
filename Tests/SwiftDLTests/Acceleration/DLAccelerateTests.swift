import Dispatch
import Foundation
import Testing
@testable import SwiftDL

/// The first element where two arrays differ bit for bit, or nil when they are equal.
func firstDifference(_ a: DLArray, _ b: DLArray) -> String? {
    guard a.shape == b.shape, a.dataType == b.dataType else {
        return "shapes \(a.shape) \(a.dataType) and \(b.shape) \(b.dataType)"
    }
    let x = a.scalars(as: Double.self), y = b.scalars(as: Double.self)
    for i in x.indices where x[i].bitPattern != y[i].bitPattern { return "element \(i): \(x[i]) and \(y[i])" }
    return nil
}

private func rosenbrock(_ x: DLArray) throws -> (DLArray, DLArray) {
    let y = try 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2
    return (y, try dlgradient(y, x))
}

/// f(x)·w summed, its gradient in x, and the gradient of the gradient's squared norm (a
/// second derivative), for a function of one array.
private func derivatives(_ f: @escaping (DLArray) throws -> DLArray) -> (DLArray, DLArray) throws -> (DLArray, DLArray, DLArray) {
    { x, w in
        let value = sum(try f(x) * w)
        let gradient = try dlgradient(value, x, enableHigherDerivatives: true)
        let second = try dlgradient(sum(gradient * gradient), x)
        return (value, gradient, second)
    }
}

private func random(_ shape: [Int], seed: UInt64, type: DLDataType = .float64, labels: String = "") -> DLArray {
    DLArray.randn(shape, type: type, labels: labels, seed: seed)
}

@Suite struct DLAccelerateTests {
    @Test func rosenbrockReplaysNewValuesBitForBit() throws {
        let accelerated = dlaccelerate(rosenbrock)
        let (y0, g0) = try dlfeval(accelerated, DLArray([-1.0, 2.0]))
        #expect(y0.scalar(as: Double.self) == 104)
        #expect(g0.scalars(as: Double.self) == [396, 200])
        for point in [[0.5, 0.25], [1.5, -2.0], [-1.0, 2.0]] {
            let (y, g) = try dlfeval(accelerated, DLArray(point))
            let (ey, eg) = try dlfeval(rosenbrock, DLArray(point))
            #expect(firstDifference(y, ey) == nil)
            #expect(firstDifference(g, eg) == nil)
        }
        #expect(accelerated.hitRate == 75)
        #expect(accelerated.occupancy == 2)
        #expect(accelerated.lastEagerReason == nil)
        let counts = try #require(accelerated.lastTraceCallCounts)
        #expect(counts.fused > 0 && counts.fused <= counts.calls)
    }

    @Test func cacheKeysAreShapesTypesLabelsAndOtherArguments() throws {
        let function = { (x: DLArray, power: Int) throws -> DLArray in
            let y = sum(x ** Double(power))
            return try dlgradient(y, x)
        }
        let accelerated = dlaccelerate(function)
        let x = random([3, 4], seed: 1)
        _ = try dlfeval(accelerated, x, 2)
        #expect(accelerated.cachedTraceCount == 1)
        // New values: a hit.
        let g = try dlfeval(accelerated, random([3, 4], seed: 2), 2)
        #expect(accelerated.cachedTraceCount == 1)
        #expect(accelerated.hitRate == 50)
        #expect(firstDifference(g, 2 * random([3, 4], seed: 2)) == nil)
        // A new shape, type, labels or non-array argument: a new trace each.
        _ = try dlfeval(accelerated, random([4, 3], seed: 1), 2)
        #expect(accelerated.cachedTraceCount == 2)
        _ = try dlfeval(accelerated, random([3, 4], seed: 1, type: .float32), 2)
        #expect(accelerated.cachedTraceCount == 3)
        _ = try dlfeval(accelerated, random([3, 4], seed: 1, labels: "CB"), 2)
        #expect(accelerated.cachedTraceCount == 4)
        let cubic = try dlfeval(accelerated, x, 3)
        #expect(accelerated.cachedTraceCount == 5)
        #expect(firstDifference(cubic, try dlfeval(function, x, 3)) == nil)
        #expect(accelerated.hitRate == 100.0 / 6)
        #expect(accelerated.occupancy == 10)
    }

    @Test func leastRecentlyUsedTraceIsEvictedAndClearCacheEmpties() throws {
        let accelerated = dlaccelerate { (x: DLArray) -> DLArray in try dlgradient(sum(exp(x)), x) }
        accelerated.cacheSize = 2
        _ = try dlfeval(accelerated, random([2], seed: 1))
        _ = try dlfeval(accelerated, random([3], seed: 1))
        _ = try dlfeval(accelerated, random([2], seed: 2))       // [2] is now the most recent
        _ = try dlfeval(accelerated, random([4], seed: 1))       // evicts [3]
        #expect(accelerated.cachedTraceCount == 2)
        #expect(accelerated.occupancy == 100)
        _ = try dlfeval(accelerated, random([2], seed: 3))       // still cached: a hit
        #expect(accelerated.hitRate == 40)
        _ = try dlfeval(accelerated, random([3], seed: 3))       // evicted: a miss
        #expect(accelerated.hitRate == 100.0 / 3)
        accelerated.clearCache()
        #expect(accelerated.cachedTraceCount == 0)
        #expect(accelerated.hitRate == 0)
        #expect(accelerated.occupancy == 0)
    }

    @Test func disabledFunctionRunsEagerly() throws {
        let accelerated = dlaccelerate(rosenbrock)
        accelerated.enabled = false
        for _ in 0..<3 { _ = try dlfeval(accelerated, DLArray([0.5, 0.5])) }
        #expect(accelerated.cachedTraceCount == 0)
        #expect(accelerated.hitRate == 0)
        let (y, _) = try dlfeval(accelerated, DLArray([-1.0, 2.0]))
        #expect(y.scalar(as: Double.self) == 104)
        // Outside dlfeval the function runs as it is, untraced.
        let square = dlaccelerate { (x: DLArray) -> DLArray in try x * x }
        #expect(try square(DLArray([3.0])).scalar(as: Double.self) == 9)
        #expect(square.cachedTraceCount == 0)
    }

    @Test func checkModeCatchesARandomDrawMadeInside() throws {
        var generator = DLRandomGenerator(seed: 7)
        let accelerated = dlaccelerate { (x: DLArray) -> DLArray in
            let noise = DLArray.rand([3], using: &generator)
            return try dlgradient(sum(x * noise), x)
        }
        accelerated.checkMode = .tolerance
        _ = try dlfeval(accelerated, random([3], seed: 1))
        let message = errorMessage(DLError.acceleration) { _ = try dlfeval(accelerated, random([3], seed: 2)) }
        #expect(message.contains("output array 0"), "\(message)")
        #expect(message.contains("argument"), "\(message)")
        // Passed in as an argument, the noise is part of the pattern and no check fails.
        let fixed = dlaccelerate { (x: DLArray, noise: DLArray) -> DLArray in try dlgradient(sum(x * noise), x) }
        fixed.checkMode = .tolerance
        for seed in 1...3 {
            let noise = DLArray.rand([3], using: &generator)
            let g = try dlfeval(fixed, random([3], seed: UInt64(seed)), noise)
            #expect(firstDifference(g, noise) == nil)
        }
        #expect(fixed.hitRate == 100.0 * 2 / 3)
    }

    @Test func aBranchOnAValueIsCheckedAtEachReplay() throws {
        let accelerated = dlaccelerate { (x: DLArray) -> DLArray in
            let positive = sum(x).scalar(as: Double.self) > 0
            return try dlgradient(sum(positive ? exp(x) : sin(x)), x)
        }
        let up = DLArray([1.0, 2.0]), down = DLArray([-1.0, -2.0])
        _ = try dlfeval(accelerated, up)
        let g = try dlfeval(accelerated, down)
        #expect(firstDifference(g, cos(down)) == nil)
        #expect(accelerated.lastEagerReason?.contains("read into Swift") == true)
        let again = try dlfeval(accelerated, up)
        #expect(firstDifference(again, exp(up)) == nil)
        #expect(accelerated.lastEagerReason == nil)
    }

    /// Indices that operations read into Swift only to validate them (embed's words, gather's
    /// positions, class indices, one-hot classes) are checked against their rule on each
    /// replay: new values replay the plan, bit for bit as eager, and a value that breaks the
    /// rule runs eagerly and throws the eager error.
    @Test func validatedIndicesReplayOnNewValues() throws {
        let function = { (weights: DLArray, words: DLArray, classes: DLArray) throws -> (DLArray, DLArray) in
            let vectors = try embed(words, weights)                                  // [5, 3] "BC"
            let column = try reshape(classes, [5, 1])
            let picked = sum(try gather(stripdims(vectors), dim: 1, indices: column))
            let crossEntropy = try indexcrossentropy(softmax(vectors), classes)
            let encoded = try onehotencode(column, featureDim: 1, classCount: 3)
            let loss = try picked + crossEntropy + sum(encoded * stripdims(vectors * vectors))
            return (loss, try dlgradient(loss, weights))
        }
        let accelerated = dlaccelerate(function)
        let weights = random([4, 3], seed: 1)
        let cases: [([Double], [Float])] = [([0, 1, 2, 3, 1], [0, 1, 2, 0, 1]), ([3, 3, 0, 2, 1], [2, 2, 1, 0, 0]),
                                            ([1, 0, 0, 0, 2], [1, 0, 2, 2, 1])]
        for (wordValues, classValues) in cases {
            let words = try DLArray(wordValues, shape: [5], labels: "B"), classes = DLArray(classValues)
            let (loss, gradient) = try dlfeval(accelerated, weights, words, classes)
            let (eagerLoss, eagerGradient) = try dlfeval(function, weights, words, classes)
            #expect(firstDifference(loss, eagerLoss) == nil, "\(wordValues) \(classValues)")
            #expect(firstDifference(gradient, eagerGradient) == nil, "\(wordValues) \(classValues)")
            #expect(accelerated.lastEagerReason == nil, "\(accelerated.lastEagerReason ?? "")")
        }
        #expect(accelerated.cachedTraceCount == 1)
        #expect(accelerated.hitRate == 200.0 / 3)
        // Values that break a rule: the eager error, and the plan still replays afterwards.
        let bad: [([Double], [Float], String)] = [([0, 1, 4, 3, 1], [0, 1, 2, 0, 1], "embed: index 4 is out of range"),
                                                  ([0, 1, 2, 3, 1], [0, 1, 2, 0, 3], "gather: index 3 is out of range"),
                                                  ([0, 1, 2, 3, 1], [0, 1, 0.5, 0, 1], "gather: index 0.5 is not an integer"),
                                                  ([0, -1, 2, 3, 1], [0, 1, 2, 0, 1], "embed: index -1 is out of range")]
        for (wordValues, classValues, expected) in bad {
            let words = try DLArray(wordValues, shape: [5], labels: "B"), classes = DLArray(classValues)
            let replayed = errorMessage(DLError.invalidArgument) { _ = try dlfeval(accelerated, weights, words, classes) }
            let eager = errorMessage(DLError.invalidArgument) { _ = try dlfeval(function, weights, words, classes) }
            #expect(replayed == eager)
            #expect(replayed.hasPrefix(expected), "\(replayed)")
            #expect(accelerated.lastEagerReason?.contains("not a whole number below") == true)
        }
        _ = try dlfeval(accelerated, weights, try DLArray([2.0, 2, 2, 2, 2], shape: [5], labels: "B"), DLArray([Float](repeating: 1, count: 5)))
        #expect(accelerated.lastEagerReason == nil)
        #expect(accelerated.cachedTraceCount == 1)
        // onehotencode takes NaN (an undefined class, a row of NaN): it replays.
        let encode = dlaccelerate { (c: DLArray) -> DLArray in try onehotencode(c, featureDim: 1, classCount: 3, type: .float32) }
        for values in [[0.0, 2], [1, .nan], [.nan, 0]] {
            let c = try DLArray(values, shape: [2, 1])
            let encoded = try dlfeval(encode, c)
            #expect(firstDifference(encoded, try onehotencode(c, featureDim: 1, classCount: 3, type: .float32)) == nil)
            #expect(encode.lastEagerReason == nil)
        }
        #expect(encode.hitRate == 200.0 / 3)
    }

    @Test func twoThreadsShareOneAcceleratedFunction() throws {
        let accelerated = dlaccelerate { (x: DLArray, w: DLArray) -> (DLArray, DLArray) in
            let loss = sum(tanh(try fullyconnectLike(x, w)))
            return (loss, try dlgradient(loss, w))
        }
        let results = ThreadResults(count: 2 * 20)
        DispatchQueue.concurrentPerform(iterations: 2) { thread in
            for k in 0..<20 {
                let x = random([8, 5], seed: UInt64(100 * thread + k)), w = random([5, 3], seed: UInt64(7 + k))
                do {
                    let (loss, g) = try dlfeval(accelerated, x, w)
                    let (eagerLoss, eagerG) = try dlfeval({ (x: DLArray, w: DLArray) in
                        let loss = sum(tanh(try fullyconnectLike(x, w)))
                        return (loss, try dlgradient(loss, w))
                    }, x, w)
                    results.set(thread * 20 + k, firstDifference(loss, eagerLoss) ?? firstDifference(g, eagerG))
                } catch {
                    results.set(thread * 20 + k, "\(error)")
                }
            }
        }
        for (k, result) in results.values.enumerated() { #expect(result == nil, "call \(k): \(result ?? "")") }
        #expect(accelerated.hitRate >= 90)
    }

    @Test func unreplayableCaptureRunsEagerlyAndSaysWhy() throws {
        let accelerated = dlaccelerate { (x: DLArray) -> DLArray in
            var y = x * 2
            y[0] = DLArray(5.0)
            return try dlgradient(sum(y * x), x)
        }
        let x = DLArray([1.0, 2.0, 3.0])
        let g1 = try dlfeval(accelerated, x)
        let g2 = try dlfeval(accelerated, DLArray([4.0, 5.0, 6.0]))
        #expect(g1.scalars(as: Double.self) == [5, 8, 12])
        #expect(g2.scalars(as: Double.self) == [5, 20, 24])
        #expect(accelerated.lastEagerReason?.contains("in place") == true, "\(accelerated.lastEagerReason ?? "")")
    }

    /// Every family of operations, first and second derivatives: replayed on new values, the
    /// accelerated results equal the eager ones bit for bit.
    @Test(arguments: operationFamilies)
    func acceleratedDerivativesEqualEagerOnes(_ family: OperationFamily) throws {
        let function = derivatives(family.function)
        let accelerated = dlaccelerate(function)
        var replays = 0
        for seed in [UInt64(1), 2, 3] {
            let x = random(family.shape, seed: seed, type: family.type, labels: family.labels)
            let w = random(family.outputShape, seed: seed + 10, type: family.type)
            let (value, gradient, second) = try dlfeval(accelerated, x, w)
            let (eagerValue, eagerGradient, eagerSecond) = try dlfeval(function, x, w)
            #expect(firstDifference(value, eagerValue) == nil, "\(family.name) value")
            #expect(firstDifference(gradient, eagerGradient) == nil, "\(family.name) gradient")
            #expect(firstDifference(second, eagerSecond) == nil, "\(family.name) second derivative")
            if accelerated.lastEagerReason == nil { replays += 1 }
        }
        #expect(accelerated.hitRate == 200.0 / 3, "\(family.name): \(accelerated.lastEagerReason ?? "")")
        #expect(replays == 3, "\(family.name): \(accelerated.lastEagerReason ?? "")")
    }

    /// A network's state (batch-normalization statistics) is an input of the cached trace, read
    /// anew on every call, like its learnables; the network's inference pass uses it.
    @Test func networkStateIsReadAnewOnEveryCall() throws {
        let loss = { (net: DLNetwork, x: DLArray) throws -> (DLArray, DLParameterTable, DLParameterTable, DLArray) in
            let (y, state) = try net.forward(x)
            let value = sum(try y * y)
            return (value, try dlgradient(value, net.learnables), state, try net.predict(x))
        }
        let accelerated = dlaccelerate(loss)
        var eagerNet = try DLNetworkTests.classifier(), acceleratedNet = eagerNet
        for seed in [UInt64(1), 2, 3, 4] {
            let x = DLArray.randn([2, 1, 4, 4], labels: "BCSS", seed: seed)
            let a = try dlfeval(accelerated, acceleratedNet, x), e = try dlfeval(loss, eagerNet, x)
            #expect(firstDifference(a.0, e.0) == nil)
            for (ra, re) in zip(a.1.rows + a.2.rows, e.1.rows + e.2.rows) {
                #expect(firstDifference(ra.value, re.value) == nil, "\(ra.layer)/\(ra.parameter)")
            }
            #expect(firstDifference(a.3, e.3) == nil, "inference output")
            acceleratedNet.state = a.2
            eagerNet.state = e.2
        }
        #expect(accelerated.hitRate == 75, "\(accelerated.lastEagerReason ?? "")")
    }

    @Test func acceleratedGradientsMatchFiniteDifferences() throws {
        let f: (DLArray) throws -> DLArray = { x in sum(try tanh(x) * exp(0.5 * x)) }
        let accelerated = dlaccelerate { (x: DLArray) -> (DLArray, DLArray) in
            let y = try f(x)
            return (y, try dlgradient(y, x))
        }
        _ = try dlfeval(accelerated, random([5], seed: 1))
        let x = random([5], seed: 2)
        let (_, gradient) = try dlfeval(accelerated, x)
        #expect(accelerated.hitRate == 50)
        let h = 1e-6, values = x.scalars(as: Double.self), g = gradient.scalars(as: Double.self)
        for i in values.indices {
            var plus = values, minus = values
            plus[i] += h
            minus[i] -= h
            let difference = (try f(DLArray(plus)).scalar(as: Double.self) - f(DLArray(minus)).scalar(as: Double.self)) / (2 * h)
            #expect(abs(difference - g[i]) < 1e-7 * max(1, abs(g[i])), "element \(i)")
        }
    }
}

/// One result slot per call, written from several threads.
private final class ThreadResults: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [String?]
    init(count: Int) { slots = Array(repeating: "not run", count: count) }
    func set(_ index: Int, _ value: String?) { lock.lock(); slots[index] = value; lock.unlock() }
    var values: [String?] { lock.lock(); defer { lock.unlock() }; return slots }
}

private func fullyconnectLike(_ x: DLArray, _ w: DLArray) throws -> DLArray { try pagemtimes(x, w) }

/// An operation family checked through the accelerated path.
struct OperationFamily: CustomTestStringConvertible, Sendable {
    let name: String
    let shape: [Int]
    let outputShape: [Int]
    var type: DLDataType = .float64
    var labels = ""
    let function: @Sendable (DLArray) throws -> DLArray
    var testDescription: String { name }
}

let operationFamilies: [OperationFamily] = [
    OperationFamily(name: "sorting and extrema", shape: [3, 4], outputShape: [3, 4]) { x in
        let sorted = try sort(x, dim: 1).values
        return try sorted * sorted + max(x, dim: 1).values - min(exp(x), dim: 0).values
    },
    OperationFamily(name: "elementary", shape: [3, 5], outputShape: [3, 5]) { x in
        try exp(0.3 * x) * sin(x) + tanh(x) / (2 + cos(x)) + sqrt(x * x + 1) + log(x * x + 2) + sigmoid(x)
    },
    OperationFamily(name: "arithmetic and broadcasting", shape: [4, 3], outputShape: [4, 3]) { x in
        let row = try sum(x, dims: [0])
        return try (x - row / 4) ** 2 * x + x / (row * row + 1) - 3
    },
    OperationFamily(name: "reductions", shape: [4, 3], outputShape: [1, 3]) { x in
        try mean(x * x, dims: [0]) + sum(exp(x), dims: [0])
    },
    OperationFamily(name: "matrix products", shape: [4, 3], outputShape: [4, 2]) { x in
        let w = try DLArray([0.5, -1.0, 2.0, 0.25, -0.5, 1.5], shape: [3, 2])
        return try pagemtimes(tanh(x), w) + pagemtimes(x, .none, w, .none)
    },
    OperationFamily(name: "fully connected", shape: [4, 3], outputShape: [4, 2], labels: "BC") { x in
        let w = try DLArray([0.5, -1.0, 2.0, 0.25, -0.5, 1.5], shape: [3, 2])
        return stripdims(try tanh(fullyconnect(x, w, DLArray([0.1, -0.2]))))
    },
    OperationFamily(name: "activations", shape: [3, 4], outputShape: [3, 4]) { x in
        try leakyrelu(x, scale: 0.2) * elu(x) + gelu(x) + softplus(x) + relu(x) * x
    },
    OperationFamily(name: "softmax and losses", shape: [3, 4], outputShape: [], labels: "BC") { x in
        let targets = try DLArray([1.0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1], shape: [3, 4], labels: "BC")
        return try crossentropy(softmax(x), targets) + mse(x, targets) + binarycrossentropy(logits: x, targets: targets)
    },
    OperationFamily(name: "shape and indexing", shape: [2, 3, 4], outputShape: [4, 6]) { x in
        let p = try permute(x, [2, 0, 1])
        let r = try reshape(p, [4, 6])
        let c = try cat([r.slice(dim: 1, range: 0..<3), r.slice(dim: 1, range: 3..<6) * 2], dim: 1)
        return try c * r + x[1, 2, 3]
    },
    OperationFamily(name: "convolution float64", shape: [2, 2, 5, 5], outputShape: [2, 3, 3, 3], labels: "BCSS") { x in
        let w = DLArray.randn([3, 2, 3, 3], seed: 5)
        return stripdims(try dlconv(x * x, w, DLArray([0.1, 0.2, 0.3])))
    },
    OperationFamily(name: "transposed convolution float64", shape: [2, 3, 3, 3], outputShape: [2, 2, 6, 6], labels: "BCSS") { x in
        let w = DLArray.randn([3, 2, 4, 4], seed: 6)
        return stripdims(try dltranspconv(tanh(x), w, stride: [2], cropping: 1))
    },
    OperationFamily(name: "convolution float32 (oneDNN)", shape: [2, 4, 6, 6], outputShape: [2, 8, 3, 3],
                    type: .float32, labels: "BCSS") { x in
        let w = DLArray.randn([8, 4, 4, 4], type: .float32, seed: 5)
        return stripdims(try dlconv(x * x, w, DLArray.zeros([8], type: .float32), stride: [2], padding: 1))
    },
    OperationFamily(name: "transposed convolution float32 (oneDNN)", shape: [2, 8, 3, 3], outputShape: [2, 4, 6, 6],
                    type: .float32, labels: "BCSS") { x in
        let w = DLArray.randn([8, 4, 4, 4], type: .float32, seed: 6)
        return stripdims(try dltranspconv(tanh(x), w, stride: [2], cropping: 1))
    },
    OperationFamily(name: "batch normalization", shape: [4, 3], outputShape: [4, 3], labels: "BC") { x in
        let result = try batchnorm(x, DLArray([0.1, 0.2, 0.3]), DLArray([1.0, 2.0, 0.5]),
                                   runningMean: DLArray.zeros([3]), runningVariance: DLArray.ones([3]))
        return stripdims(try result.output * result.output)
    },
    OperationFamily(name: "batch normalization of images", shape: [4, 3, 3, 5], outputShape: [4, 3, 3, 5],
                    type: .float32, labels: "BCSS") { x in
        let (offset, scale) = (DLArray([0.1, 0.2, 0.3]).converted(to: .float32), DLArray([1.0, 2.0, 0.5]).converted(to: .float32))
        let result = try batchnorm(x, offset, scale, runningMean: DLArray.zeros([3], type: .float32),
                                   runningVariance: DLArray.ones([3], type: .float32))
        return stripdims(try leakyrelu(result.output, scale: 0.2) * result.output)
    },
    OperationFamily(name: "layer normalization", shape: [4, 3], outputShape: [4, 3], labels: "BC") { x in
        stripdims(try tanh(layernorm(x, DLArray([0.1, 0.2, 0.3]), DLArray([1.0, 2.0, 0.5]))))
    },
    OperationFamily(name: "pooling", shape: [1, 2, 4, 4], outputShape: [1, 2, 2, 2], labels: "BCSS") { x in
        stripdims(try avgpool(x * x, [2, 2], stride: [2]) + avgpool(exp(x), [2, 2], stride: [2]))
    },
    OperationFamily(name: "max pooling", shape: [1, 2, 4, 4], outputShape: [1, 2, 2, 2], labels: "BCSS") { x in
        stripdims(try maxpool(x * x, [2, 2], stride: [2]))
    },
]
