import Foundation
import Testing
@testable import SwiftDL

/// The float32 vector forms of tanh, exp and sigmoid against Foundation's scalar functions.
@Suite struct VectorMathTests {
    /// Dense points: every 4099th float32 bit pattern of [-110, 110] (positive and negative),
    /// which covers subnormals, the reduction's breakpoints, overflow and underflow, plus ±0,
    /// ±∞ and the extremes.
    static let points: [Float] = {
        var values: [Float] = [0, -0.0, .infinity, -.infinity, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
                               .leastNormalMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 0.625, -0.625]
        var bits: UInt32 = 0
        while Float(bitPattern: bits) <= 110 {
            let x = Float(bitPattern: bits)
            values += [x, -x]
            bits += 4099
        }
        return values
    }()

    /// The distance from `y` to the exact value `exact`, in units in the last place of the
    /// float32 nearest to it (of the least normal magnitude for subnormal results).
    static func ulps(_ y: Float, _ exact: Double) -> Double {
        if y.isNaN || exact.isNaN { return y.isNaN && exact.isNaN ? 0 : .infinity }
        if y.isInfinite || Float(exact).isInfinite { return y == Float(exact) ? 0 : .infinity }
        let unit = Double(max(Float(exact).magnitude, .leastNormalMagnitude).ulp)
        return Swift.abs(Double(y) - exact) / unit
    }

    /// The largest error of `function` over ``points`` in ulps, and a point where it occurs.
    static func largestError(_ function: (DLArray) -> DLArray, exact: (Double) -> Double) -> (ulps: Double, at: Float) {
        let results = function(DLArray(points)).scalars(as: Float.self)
        var worst = (ulps: 0.0, at: Float(0))
        for (x, y) in zip(points, results) {
            let error = ulps(y, exact(Double(x)))
            if error > worst.ulps { worst = (error, x) }
        }
        return worst
    }

    @Test func tanhIsWithinTwoUlps() {
        let worst = Self.largestError({ tanh($0) }, exact: { Foundation.tanh($0) })
        #expect(worst.ulps <= 2, "tanh is \(worst.ulps) ulp off at \(worst.at)")
    }

    @Test func expIsWithinOneAndAHalfUlps() {
        let worst = Self.largestError({ exp($0) }, exact: { Foundation.exp($0) })
        #expect(worst.ulps <= 1.5, "exp is \(worst.ulps) ulp off at \(worst.at)")
    }

    @Test func sigmoidIsWithinThreeUlps() {
        let worst = Self.largestError({ sigmoid($0) }, exact: { 1 / (1 + Foundation.exp(-$0)) })
        #expect(worst.ulps <= 3, "sigmoid is \(worst.ulps) ulp off at \(worst.at)")
    }

    @Test func specialValues() {
        let subnormal = Float(bitPattern: 0x0001_16C2)  // about 1e-40
        let x: [Float] = [0, -0.0, .infinity, -.infinity, .nan, subnormal, -subnormal, 100, -100, 88.8, -200]
        let t = tanh(DLArray(x)).scalars(as: Float.self)
        #expect(Array(t[0..<4]) == [0, 0, 1, -1])
        #expect(t[1].sign == .minus && t[0].sign == .plus)
        #expect(t[4].isNaN)
        #expect(t[5] == subnormal && t[6] == -subnormal)
        #expect(t[7] == 1 && t[8] == -1)
        let e = exp(DLArray(x)).scalars(as: Float.self)
        #expect(e[0] == 1 && e[1] == 1 && e[2] == .infinity && e[3] == 0 && e[4].isNaN)
        #expect(e[5] == 1 && e[6] == 1)
        #expect(e[9] == .infinity && e[10] == 0)
        let s = sigmoid(DLArray(x)).scalars(as: Float.self)
        #expect(s[0] == 0.5 && s[2] == 1 && s[3] == 0 && s[4].isNaN && s[7] == 1 && s[10] == 0)
    }

    /// Arrays whose length is not a multiple of the vector width, and the vector and scalar
    /// lanes of one array, agree with the function applied element by element.
    @Test(arguments: [1, 7, 8, 9, 17, 1000])
    func everyLengthMatchesElementByElement(count: Int) {
        let values = (0..<count).map { Float($0) * 0.37 - 3 }
        let whole = tanh(DLArray(values)).scalars(as: Float.self)
        let single = values.map { tanh(DLArray([$0])).scalars(as: Float.self)[0] }
        #expect(whole == single)
    }
}
