import ComplexModule
import Foundation
import Testing
@testable import SwiftDL

@Suite struct DLGradientErrorTests {
    let x = DLArray([1.0, 2.0])

    @Test func outsideDlfeval() {
        expectError(containing: "inside a function evaluated by dlfeval") {
            _ = try dlgradient(sum(x), x)
        }
    }

    @Test func nonScalarValue() {
        expectError(containing: "non-scalar", "shape [2]") {
            _ = try dlfeval({ x in try dlgradient(x * x, x) }, x)
        }
    }

    @Test func complexValue() {
        let z = DLArray([Complex(1.0, 1.0)])
        expectError(containing: "must be a traced real dlarray scalar", "complex128") {
            _ = try dlfeval({ z in try dlgradient(sum(z * z), z, allowComplex: true) }, z)
        }
    }

    @Test func valueComputedFromExtractdata() {
        expectError(containing: "not traced", "extractdata") {
            _ = try dlfeval({ x in try dlgradient(sum(extractdata(x) * 2), x) }, x)
        }
    }

    @Test func variableCreatedOutsideDlfeval() {
        let outside = DLArray([3.0])
        expectError(containing: "x2 is not traced by this dlfeval", "pass it to dlfeval") {
            _ = try dlfeval({ x in try dlgradient(sum(x * 2), x, outside) }, x)
        }
    }

    @Test func variableFromAnEnclosingDlfevalIsNotTracedByTheInnerOne() {
        expectError(containing: "not traced by this dlfeval") {
            _ = try dlfeval({ outer in
                try dlfeval({ inner in try dlgradient(sum(inner * outer), outer) }, DLArray([1.0, 1.0]))
            }, x)
        }
    }

    @Test func complexVariableNeedsAllowComplex() {
        let z = DLArray([Complex(1.0, 2.0)])
        expectError(containing: "allowComplex: true") {
            _ = try dlfeval({ z in try dlgradient(sum(real(z * z)), z) }, z)
        }
    }

    @Test func boolVariable() {
        expectError(containing: "bool") {
            _ = try dlfeval({ (x: DLArray, b: DLArray) in try dlgradient(sum(x), x, b) }, x, DLArray([true]))
        }
    }

    @Test func valueThatDependsOnNoVariable() {
        expectError(containing: "does not depend on any of the arrays") {
            _ = try dlfeval({ (a: DLArray, b: DLArray) in try dlgradient(sum(a * 3), b) }, x, x)
        }
    }

    @Test func secondGradientWithoutRetainData() {
        expectError(containing: "retainData: true") {
            _ = try dlfeval({ x in
                let y = sum(exp(x))
                _ = try dlgradient(y, x)
                return try dlgradient(y, x)
            }, x)
        }
    }

    @Test func shapeErrorsAreThrownNotTrapped() {
        expectError(containing: "[2]", "[3]") {
            _ = try DLArray([1.0, 2.0]) + DLArray([1.0, 2.0, 3.0])
        }
        expectError(containing: "2x3", "2x3") {
            _ = try mtimes(DLArray.zeros([2, 3]), DLArray.zeros([2, 3]))
        }
    }
}

@Suite struct DLGradientTests {
    @Test func retainDataLetsSeveralCallsShareOneTrace() throws {
        let (first, second) = try dlfeval({ (x: DLArray) in
            let y = sum(try exp(x) * x)
            return (try dlgradient(y, x, retainData: true), try dlgradient(y, x))
        }, DLArray([0.5, -1.0]))
        #expect(first.scalars(as: Double.self) == second.scalars(as: Double.self))
        let expected = [0.5, -1.0].map { Foundation.exp($0) * ($0 + 1) }
        #expect(zip(first.scalars(as: Double.self), expected).allSatisfy { abs($0 - $1) < 1e-14 })
    }

    @Test func higherDerivativesToThirdOrder() throws {
        // y = x³: y' = 3x², y'' = 6x, y''' = 6.
        let (d1, d2, d3) = try dlfeval({ (x: DLArray) in
            let y = sum(x ** 3)
            let g1 = try dlgradient(y, x, enableHigherDerivatives: true)
            let g2 = try dlgradient(sum(g1), x, enableHigherDerivatives: true)
            let g3 = try dlgradient(sum(g2), x)
            return (g1, g2, g3)
        }, DLArray([2.0, -1.5]))
        #expect(d1.scalars(as: Double.self) == [12, 6.75])
        #expect(d2.scalars(as: Double.self) == [12, -9])
        #expect(d3.scalars(as: Double.self) == [6, 6])
    }

    @Test func gradientsWithoutHigherDerivativesAreConstants() {
        expectError(containing: "not traced") {
            _ = try dlfeval({ (x: DLArray) in
                let g = try dlgradient(sum(x ** 3), x)
                return try dlgradient(sum(g), x)
            }, DLArray([2.0]))
        }
    }

    @Test func hessianVectorProduct() throws {
        // f = x₀² x₁ + sin x₁; H = [[2x₁, 2x₀], [2x₀, -sin x₁]].
        let v = DLArray([1.0, -2.0])
        let hv = try dlfeval({ (x: DLArray) in
            let f = try x[0] ** 2 * x[1] + sin(x[1])
            let g = try dlgradient(f, x, enableHigherDerivatives: true)
            return try dlgradient(sum(g * v), x)
        }, DLArray([0.5, 1.2]))
        let expected = [2 * 1.2 * 1 + 2 * 0.5 * -2, 2 * 0.5 * 1 - Foundation.sin(1.2) * -2]
        #expect(zip(hv.scalars(as: Double.self), expected).allSatisfy { abs($0 - $1) < 1e-14 })
    }

    @Test func gradientWithRespectToAnIntermediateValue() throws {
        let (dz, dx) = try dlfeval({ (x: DLArray) in
            let z = x * 3
            let y = sum(try z * z)
            return try dlgradient(y, z, x)
        }, DLArray([1.0, 2.0]))
        #expect(dz.scalars(as: Double.self) == [6, 12])
        #expect(dx.scalars(as: Double.self) == [18, 36])
    }

    @Test func unusedVariablesGetZerosOfTheirShapeAndType() throws {
        let (ga, gb) = try dlfeval({ (a: DLArray, b: DLArray) in try dlgradient(sum(a * a), a, b) },
                                   DLArray([1.0, 2.0]), DLArray.ones([2, 3], type: .float32, labels: "BC"))
        #expect(ga.scalars(as: Double.self) == [2, 4])
        #expect(gb.shape == [2, 3] && gb.dataType == .float32 && gb.labels == "BC")
        #expect(gb.scalars(as: Float.self) == [Float](repeating: 0, count: 6))
    }

    @Test func float32VariablesGetFloat32Gradients() throws {
        let g = try dlfeval({ x in try dlgradient(sum(x * x), x) }, DLArray([Float(1.5), 2]))
        #expect(g.dataType == .float32)
        #expect(g.scalars(as: Float.self) == [3, 4])
    }

    @Test func theSameArrayTwice() throws {
        let (a, b) = try dlfeval({ (x: DLArray) in try dlgradient(sum(x * x), x, x) }, DLArray([3.0]))
        #expect(a.scalars(as: Double.self) == [6] && b.scalars(as: Double.self) == [6])
    }

    @Test func valuesReturnedFromDlfevalAreNotTraced() throws {
        let x = DLArray([1.0])
        let y = dlfeval({ x in
            #expect(x.isTraced)
            return exp(x)
        }, x)
        #expect(!y.isTraced)
        #expect(!x.isTraced)
        #expect(!exp(y).isTraced)
        #expect(exp(y).node == nil)
    }

    @Test func nestedDlfevalsHaveTheirOwnTraces() throws {
        let (inner, outer) = try dlfeval({ (x: DLArray) in
            let y = sum(try x * x)
            let inner = try dlfeval({ z in try dlgradient(sum(z ** 3), z) }, DLArray([2.0]))
            return (inner, try dlgradient(y * 2, x))
        }, DLArray([1.0, -1.0]))
        #expect(inner.scalars(as: Double.self) == [12])
        #expect(outer.scalars(as: Double.self) == [4, -4])
    }

    @Test func twoThreadsDifferentiateAtOnce() async throws {
        func work(_ offset: Double) throws -> [Double] {
            var results: [Double] = []
            for step in 0..<200 {
                let point = DLArray([offset + Double(step) * 0.01, 2.0])
                let (_, gradient) = try dlfeval(rosenbrockForThreads, point)
                results += gradient.scalars(as: Double.self)
            }
            return results
        }
        let expectedA = try work(-1), expectedB = try work(0.5)
        async let a = Task.detached { try work(-1) }.value
        async let b = Task.detached { try work(0.5) }.value
        let (resultA, resultB) = try await (a, b)
        #expect(resultA == expectedA)
        #expect(resultB == expectedB)
    }
}

private func rosenbrockForThreads(_ x: DLArray) throws -> (DLArray, DLArray) {
    let y = try 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2
    return (y, try dlgradient(y, x))
}

/// A user type holding arrays, differentiated through `DLArrayContainer`.
struct Affine: DLArrayContainer, Equatable {
    var weights: DLArray
    var bias: DLArray
    func forEachArray(_ body: (DLArray) throws -> Void) rethrows {
        try body(weights)
        try body(bias)
    }
    func mapArrays(_ transform: (DLArray) throws -> DLArray) rethrows -> Affine {
        Affine(weights: try transform(weights), bias: try transform(bias))
    }
    static func == (a: Affine, b: Affine) -> Bool {
        a.weights.scalars(as: Double.self) == b.weights.scalars(as: Double.self)
            && a.bias.scalars(as: Double.self) == b.bias.scalars(as: Double.self)
    }
}

@Suite struct ContainerGradientTests {
    @Test func nestedContainersKeepTheirStructure() throws {
        let parameters: [String: [DLArray?]] = [
            "first": [DLArray([1.0, 2.0]), nil],
            "second": [DLArray([3.0]), DLArray([4.0, 5.0])],
        ]
        let gradients = try dlfeval({ (p: [String: [DLArray?]]) in
            let y = try sum(p["first"]![0]! * p["first"]![0]!) + sum(p["second"]![1]! * 3)
            return try dlgradient(y, p)
        }, parameters)
        #expect(gradients["first"]![0]!.scalars(as: Double.self) == [2, 4])
        #expect(gradients["first"]![1] == nil)
        #expect(gradients["second"]![0]!.scalars(as: Double.self) == [0])
        #expect(gradients["second"]![1]!.scalars(as: Double.self) == [3, 3])
    }

    @Test func dictionariesPairUpByKeyWhateverTheirInsertionOrder() throws {
        let keys = ["w1", "b1", "w2", "b2", "w3", "b3"]
        var forward: [String: DLArray] = [:], backward: [String: DLArray] = [:]
        for (k, key) in keys.enumerated() { forward[key] = DLArray([Double(k)]) }
        for (k, key) in keys.enumerated().reversed() { backward[key] = DLArray([Double(k) * 10]) }
        let sum = try dlupdate({ a, b in try a + b }, forward, backward)
        for (k, key) in keys.enumerated() { #expect(sum[key]!.scalars(as: Double.self) == [Double(k) * 11]) }
    }

    @Test func userTypes() throws {
        let layer = Affine(weights: try DLArray([1.0, 2.0, 3.0, 4.0], shape: [2, 2]), bias: DLArray([0.5, -0.5]))
        let input = try DLArray([1.0, -1.0], shape: [1, 2])
        let gradient = try dlfeval({ (layer: Affine) in
            let y = try sum(mtimes(input, layer.weights) + layer.bias)
            return try dlgradient(y, layer)
        }, layer)
        // y = Σ_j (Σ_i x_i W_ij + b_j): dW_ij = x_i, db_j = 1.
        #expect(gradient == Affine(weights: try DLArray([1.0, 1.0, -1.0, -1.0], shape: [2, 2]), bias: DLArray([1.0, 1.0])))
    }

    @Test func gradcheckOnAUserType() throws {
        let layer = Affine(weights: DLArray.randn([3, 2], seed: 1), bias: DLArray.randn([2], seed: 2))
        let input = DLArray.randn([4, 3], seed: 3)
        for order in 1...2 {
            let result = try gradcheck({ (l: Affine) in try tanh(mtimes(input, l.weights) + l.bias) }, at: layer, order: order)
            #expect(result.passed, "\(result)")
        }
    }
}

/// Two named parameters, one of which can be frozen.
struct ScaledParameters: DLLearnRateScaled {
    var weights: DLArray
    var bias: DLArray
    var learnRateFactors: [Double]
    func forEachArray(_ body: (DLArray) throws -> Void) rethrows {
        try body(weights)
        try body(bias)
    }
    func mapArrays(_ transform: (DLArray) throws -> DLArray) rethrows -> ScaledParameters {
        ScaledParameters(weights: try transform(weights), bias: try transform(bias), learnRateFactors: learnRateFactors)
    }
}

@Suite struct FrozenParameterTests {
    @Test func frozenArraysAreNotTracedNorDifferentiated() throws {
        let parameters = ScaledParameters(weights: DLArray([2.0, 3.0]), bias: DLArray([0.5]), learnRateFactors: [0, 1])
        let (gradient, weightsTraced, biasTraced) = try dlfeval({ (p: ScaledParameters) in
            let y = try sum(p.weights * p.weights) + sum(p.bias * 4)
            return (try dlgradient(y, p), p.weights.isTraced, p.bias.isTraced)
        }, parameters)
        #expect(!weightsTraced && biasTraced)
        #expect(gradient.weights.scalars(as: Double.self) == [0, 0])
        #expect(gradient.bias.scalars(as: Double.self) == [4])
        #expect(gradient.learnRateFactors == [0, 1])
    }

    @Test func aFrozenArrayIsAConstantEvenWhenItIsTheOnlyVariable() throws {
        let parameters = ScaledParameters(weights: DLArray([2.0]), bias: DLArray([1.0]), learnRateFactors: [0, 0])
        let gradient = try dlfeval({ (p: ScaledParameters, x: DLArray) in
            try dlgradient(sum(p.weights * x), p)
        }, parameters, DLArray([3.0]))
        #expect(gradient.weights.scalars(as: Double.self) == [0])
    }
}
