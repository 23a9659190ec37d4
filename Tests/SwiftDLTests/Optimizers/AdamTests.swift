import Foundation
import Testing
@testable import SwiftDL

@Suite struct AdamTests {
    let parameter = DLArray([1.0, -2.0])
    let gradient1 = DLArray([0.5, 1.0])
    let gradient2 = DLArray([-0.25, 2.0])

    @Test func twoStepsByHand() throws {
        // A large epsilon, so that MATLAB's placement (added to √v, the bias correction in the
        // learn rate) shows: PyTorch's (added to √v̂) would give another step.
        let (rate, b1, b2, eps) = (0.1, 0.9, 0.999, 0.1)
        let (p1, m1, v1) = try adamupdate(parameter, gradient1, nil, nil, iteration: 1, learnRate: rate,
                                          gradientDecay: b1, squaredGradientDecay: b2, epsilon: eps)
        // m = 0.1 g, v = 0.001 g², step = α √(1 − 0.999)/(1 − 0.9) · m/(√v + ε).
        let m1Expected = [0.05, 0.1], v1Expected = [0.00025, 0.001]
        expectElements(m1, m1Expected, "m1")
        expectElements(v1, v1Expected, tolerance: 1e-17, "v1")
        let correction1 = 0.001.squareRoot() / 0.1
        let p1Expected = (0..<2).map { [1.0, -2][$0] - rate * correction1 * m1Expected[$0] / (v1Expected[$0].squareRoot() + eps) }
        expectElements(p1, p1Expected, "p1")
        // With PyTorch's placement the first element would move by α·m̂/(√v̂ + ε) instead.
        let torchStep = rate * (m1Expected[0] / 0.1) / ((v1Expected[0] / 0.001).squareRoot() + eps)
        #expect(Swift.abs((1 - doubleElements(p1)[0]) - torchStep) > 1e-3)

        let (p2, m2, v2) = try adamupdate(p1, gradient2, m1, v1, iteration: 2, learnRate: rate,
                                          gradientDecay: b1, squaredGradientDecay: b2, epsilon: eps)
        let m2Expected = [0.9 * 0.05 + 0.1 * -0.25, 0.9 * 0.1 + 0.1 * 2]
        let v2Expected = [0.999 * 0.00025 + 0.001 * 0.0625, 0.999 * 0.001 + 0.001 * 4]
        expectElements(m2, m2Expected, "m2")
        expectElements(v2, v2Expected, tolerance: 1e-17, "v2")
        let correction2 = (1 - 0.999 * 0.999).squareRoot() / (1 - 0.9 * 0.9)
        let p2Expected = (0..<2).map { p1Expected[$0] - rate * correction2 * m2Expected[$0] / (v2Expected[$0].squareRoot() + eps) }
        expectElements(p2, p2Expected, "p2")
    }

    @Test func defaultsAreMATLABs() throws {
        // lr 0.001, β₁ 0.9, β₂ 0.999, ε 1e-8: the first step is α·sign(g) up to ε.
        let (p, _, _) = try adamupdate(parameter, gradient1, nil, nil, iteration: 1)
        let correction = 0.001.squareRoot() / 0.1
        let expected = [1 - 0.001 * correction * 0.05 / ((0.00025).squareRoot() + 1e-8),
                        -2 - 0.001 * correction * 0.1 / ((0.001).squareRoot() + 1e-8)]
        expectElements(p, expected)
        #expect(Swift.abs(doubleElements(p)[0] - (1 - 0.001)) < 1e-9)
    }

    @Test func emptyContainersStartTheAverages() throws {
        // An empty array of arrays means "no state yet", as MATLAB's [].
        let parameters = [parameter, DLArray([3.0])]
        let gradients = [gradient1, DLArray([-1.0])]
        let fromNil = try adamupdate(parameters, gradients, nil, nil, iteration: 1)
        let fromEmpty = try adamupdate(parameters, gradients, [], [], iteration: 1)
        for i in 0..<2 {
            expectSameBits(fromEmpty.parameters[i], fromNil.parameters[i])
            expectSameBits(fromEmpty.averageGradient[i], fromNil.averageGradient[i])
        }
        // State from zeros is the same as no state.
        let zeros = parameters.map { DLArray.zeros(like: $0) }
        let fromZeros = try adamupdate(parameters, gradients, zeros, zeros, iteration: 1)
        for i in 0..<2 { expectSameBits(fromZeros.parameters[i], fromNil.parameters[i]) }
    }

    @Test func keepsTypesShapesAndLabelsWithoutTracing() throws {
        let weights = try DLArray([Float(0.5), -1, 2, 0.25, 1, -0.5], shape: [2, 3], labels: "BC")
        let gradients = try DLArray([Float(0.1), 0.2, -0.3, 0.4, -0.5, 0.6], shape: [2, 3], labels: "BC")
        let (p, m, v) = try adamupdate(weights, gradients, nil, nil, iteration: 1, learnRate: 0.01)
        for array in [p, m, v] {
            #expect(array.dataType == .float32 && array.shape == [2, 3] && array.labels == "BC" && !array.isTraced)
        }
        // Float32 arithmetic: within float precision of the float64 step.
        let (p64, _, _) = try adamupdate(weights.converted(to: .float64), gradients.converted(to: .float64), nil, nil,
                                         iteration: 1, learnRate: 0.01)
        expectElements(p, doubleElements(p64), tolerance: 1e-6)
        // Gradients of another real type are converted to the parameters' type.
        let (mixed, _, _) = try adamupdate(weights, gradients.converted(to: .float64), nil, nil, iteration: 1, learnRate: 0.01)
        expectSameBits(mixed, p)
        // Traced parameters (inside dlfeval) give untraced results.
        let traced = try dlfeval({ (w: DLArray) in try adamupdate(w, gradients, nil, nil, iteration: 1).parameters }, weights)
        #expect(!traced.isTraced)
    }

    @Test func dictionariesAndNestedContainers() throws {
        let parameters: [String: [DLArray]] = ["layer": [parameter, DLArray([3.0])]]
        let gradients = parameters.mapValues { $0.map { DLArray.ones(like: $0) } }
        let (p, m, _) = try adamupdate(parameters, gradients, nil, nil, iteration: 1, learnRate: 0.5)
        // The first step of Adam moves every element by α (up to ε) against its gradient's sign.
        expectElements(p["layer"]![0], [0.5, -2.5], tolerance: 1e-6)
        expectElements(p["layer"]![1], [2.5], tolerance: 1e-6)
        expectElements(m["layer"]![1], [0.1], tolerance: 1e-16)
    }

    @Test func errors() throws {
        let parameters = [parameter, DLArray([3.0])]
        let message = errorMessage(DLError.invalidArgument) {
            _ = try adamupdate(parameters, [gradient1, DLArray([1.0]), DLArray([1.0])], nil, nil, iteration: 1)
        }
        #expect(message.contains("adamupdate: 3 arrays in gradients but 2 in parameters"), "\(message)")
        let shape = errorMessage(DLError.shapeMismatch) {
            _ = try adamupdate(parameters, [gradient1, DLArray([1.0, 2.0])], nil, nil, iteration: 1)
        }
        #expect(shape.contains("gradients array 1 has shape [2] but parameters array 1 has shape [1]"), "\(shape)")
        let state = errorMessage(DLError.shapeMismatch) {
            _ = try adamupdate(parameters, [gradient1, DLArray([1.0])], [gradient1, DLArray([1.0, 2])],
                               [gradient1, DLArray([1.0])], iteration: 2)
        }
        #expect(state.contains("averageGradient array 1 has shape [2]"), "\(state)")
        expectError(containing: "both be nil") {
            _ = try adamupdate(parameters, parameters, parameters, nil, iteration: 2)
        }
        expectError(containing: "iteration must be a positive integer", "got 0") {
            _ = try adamupdate(parameter, gradient1, nil, nil, iteration: 0)
        }
        expectError(containing: "gradientDecay must be in [0, 1), got 1.0") {
            _ = try adamupdate(parameter, gradient1, nil, nil, iteration: 1, gradientDecay: 1)
        }
        expectError(containing: "epsilon must be finite and positive") {
            _ = try adamupdate(parameter, gradient1, nil, nil, iteration: 1, epsilon: 0)
        }
        expectError(containing: "learnRate must be finite and non-negative") {
            _ = try adamupdate(parameter, gradient1, nil, nil, iteration: 1, learnRate: -1)
        }
        let complex = DLArray([1.0, 2.0]).converted(to: .complex128)
        let type = errorMessage(DLError.unsupportedType) { _ = try adamupdate(complex, complex, nil, nil, iteration: 1) }
        #expect(type.contains("parameter array 0 is complex128"), "\(type)")
        let complexGradient = errorMessage(DLError.unsupportedType) {
            _ = try adamupdate(parameter, complex, nil, nil, iteration: 1)
        }
        #expect(complexGradient.contains("gradients array 0 is complex128 but its parameter is float64"), "\(complexGradient)")
    }

    /// A network's arrays are updated in one loop split across the cores, whose chunks end
    /// inside arrays (here inside the first one and between the others): every array gets the
    /// same bits as when it is updated alone, which splits nothing (each is below the size worth
    /// splitting), the float32 and the float64 one alike.
    @Test func arraysUpdatedTogetherMatchArraysUpdatedAlone() throws {
        let sizes = [200_000, 90_000, 5], types: [DLDataType] = [.float32, .float64, .float32]
        let parameters = sizes.indices.map { DLArray.randn([sizes[$0]], type: types[$0], seed: UInt64($0)) }
        let gradients = sizes.indices.map { DLArray.randn([sizes[$0]], type: types[$0], seed: UInt64(10 + $0)) }
        let first = try adamupdate(parameters, gradients, nil, nil, iteration: 1)
        let together = try adamupdate(first.parameters, gradients, first.averageGradient, first.averageSquaredGradient,
                                      iteration: 2, learnRate: 0.01)
        for i in sizes.indices {
            let alone = try adamupdate(first.parameters[i], gradients[i], first.averageGradient[i],
                                       first.averageSquaredGradient[i], iteration: 2, learnRate: 0.01)
            for (name, a, b) in [("parameters", together.parameters[i], alone.parameters),
                                 ("averageGradient", together.averageGradient[i], alone.averageGradient),
                                 ("averageSquaredGradient", together.averageSquaredGradient[i], alone.averageSquaredGradient)] {
                #expect(firstDifference(a.scalars(as: Double.self).map(\.bitPattern), b.scalars(as: Double.self).map(\.bitPattern)) == nil,
                        "array \(i) \(name)")
            }
        }
    }

    /// Averages that the caller hands over (its last copies) are updated in place: the returned
    /// averages live in the same memory, with the same bits as a step on averages the caller still
    /// holds, which stay unchanged. Float32 and float64, split across the cores and not.
    @Test func averagesNothingElseHoldsAreUpdatedInPlace() throws {
        let shapes = [[300_000], [37], [2, 3]], types: [DLDataType] = [.float32, .float64, .float32]
        let sizes = shapes.indices
        let parameters = sizes.map { DLArray.randn(shapes[$0], type: types[$0], labels: $0 == 2 ? "BC" : "", seed: UInt64($0)) }
        let gradients = sizes.indices.map { DLArray.randn(parameters[$0].shape, type: types[$0], seed: UInt64(10 + $0)) }
        func firstStep() throws -> (parameters: [DLArray], m: [DLArray]?, v: [DLArray]?) {
            let step = try adamupdate(parameters, parameters.map { $0 * 0.5 }, nil, nil, iteration: 1)
            return (step.parameters, step.averageGradient, step.averageSquaredGradient)
        }
        let held = try firstStep()
        let heldValues = held.m!.map { $0.scalars(as: Double.self) }
        let reference = try adamupdate(held.parameters, gradients, held.m, held.v, iteration: 2, learnRate: 0.01)
        for i in sizes {
            #expect(held.m![i].scalars(as: Double.self) == heldValues[i], "held average \(i) was written")
        }

        var (updated, m, v) = try firstStep()
        let addresses = (m!.map { Int(bitPattern: $0.storage.unsafeElements) }, v!.map { Int(bitPattern: $0.storage.unsafeElements) })
        let inPlace = try adamupdate(updated, gradients, m.take(), v.take(), iteration: 2, learnRate: 0.01)
        updated = inPlace.parameters
        #expect(inPlace.averageGradient.map { Int(bitPattern: $0.storage.unsafeElements) } == addresses.0)
        #expect(inPlace.averageSquaredGradient.map { Int(bitPattern: $0.storage.unsafeElements) } == addresses.1)
        for i in sizes {
            expectSameBits(updated[i], reference.parameters[i], "parameters \(i)")
            expectSameBits(inPlace.averageGradient[i], reference.averageGradient[i], "averageGradient \(i)")
            expectSameBits(inPlace.averageSquaredGradient[i], reference.averageSquaredGradient[i], "averageSquaredGradient \(i)")
        }
    }
}
