import ComplexModule
import Testing
@testable import SwiftDL

@Suite struct GradientCheckTests {
    let x = DLArray([0.3, -1.2, 0.7])

    @Test(arguments: 1...3)
    func tanhTimesInputMatchesFiniteDifferences(order: Int) throws {
        let result = try gradcheck({ (x: DLArray) in try tanh(x) * x }, at: x, order: order)
        #expect(result.passed, "\(result)")
    }

    @Test func binaryOperationsWithBroadcasting() throws {
        let a = try DLArray([0.5, 1.5, -0.4, 2.0, 0.9, -1.1], shape: [2, 3])
        let b = DLArray([1.3, 0.8, -2.1])
        for order in 1...2 {
            let result = try gradcheck({ (xs: [DLArray]) in try xs[0] * xs[1] / (xs[1] * xs[1] + 1) - xs[0] }, at: [a, b], order: order)
            #expect(result.passed, "\(result)")
        }
    }

    @Test func complexProduct() throws {
        let z = try DLArray([Complex(0.3, 0.4), Complex(-1.0, 0.5)], shape: [2])
        for order in 1...2 {
            let result = try gradcheck({ (z: DLArray) in try abs(exp(z) * z) }, at: z, order: order)
            #expect(result.passed, "\(result)")
        }
    }

    @Test func aWrongDerivativeRuleFails() throws {
        // A square whose rule forgets the factor 2: gradcheck must catch it.
        let wrongSquare = { (x: DLArray) -> DLArray in
            dlcustom(output: try x * x, inputs: [x]) { g in [try g * x] }
        }
        let result = try gradcheck(wrongSquare, at: x)
        #expect(!result.passed)
    }
}
