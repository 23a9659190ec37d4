import ComplexModule
import SeedExamples
import Testing
@testable import SwiftDL

/// The examples of MATLAB's dlgradient page, with the values the page prints.
@Suite struct SeedExampleTests {
    @Test func rosenbrockValueAndGradient() throws {
        let (fval, gradval) = try dlfeval(rosenbrock, DLArray([-1.0, 2.0]))
        #expect(fval.scalars(as: Double.self) == [104])
        #expect(gradval.scalars(as: Double.self) == [396, 200])
        #expect(gradval.shape == [2])
        #expect(fval.description == "  1x1 dlarray\n\n   104\n\n")
        #expect(gradval.description == "  1x2 dlarray\n\n   396   200\n\n")
    }

    @Test func rosenbrockOfTwoInputs() throws {
        let (y, dydx1, dydx2) = try dlfeval(rosenbrock2, DLArray(-1.0), DLArray(2.0))
        #expect(y.scalar(as: Double.self) == 104)
        #expect(dydx1.scalar(as: Double.self) == 396)
        #expect(dydx2.scalar(as: Double.self) == 200)
    }

    @Test func gradientOverTheUnitSquareMatchesTheAnalyticGradient() throws {
        let samples = try rosenbrockGradientGrid(size: 10)
        #expect(samples.count == 100)
        for sample in samples {
            let (a, b) = rosenbrockAnalyticGradient(sample.x1, sample.x2)
            #expect(abs(sample.dydx1 - a) <= 1e-12 * max(1, abs(a)))
            #expect(abs(sample.dydx2 - b) <= 1e-12 * max(1, abs(b)))
            let x1 = sample.x1, x2 = sample.x2
            #expect(abs(sample.value - (100 * (x2 - x1 * x1) * (x2 - x1 * x1) + (1 - x1) * (1 - x1))) <= 1e-12)
        }
        // A corner of the grid, by hand: at (1, 0) the gradient is (400, -200).
        let corner = try #require(samples.first { $0.x1 == 1 && $0.x2 == 0 })
        #expect(corner.dydx1 == 400 && corner.dydx2 == -200)
    }

    @Test func complexGradientIsTwoMinusThreeIEverywhere() throws {
        let grid = try complexGrid(size: 100)
        let (y, gradient) = try dlfeval(complexGradient, grid)
        #expect(gradient.shape == [100, 100])
        #expect(gradient.dataType == .complex128)
        #expect(gradient.scalars(as: Complex<Double>.self).allSatisfy { $0 == Complex(2, -3) })
        // The value is Re((2+3i)x) = 2 Re x - 3 Im x.
        let z = grid.scalars(as: Complex<Double>.self), values = y.scalars(as: Double.self)
        for (point, value) in zip(z, values) {
            #expect(abs(value - (2 * point.real - 3 * point.imaginary)) <= 1e-12)
        }
        #expect(gradient[0, 0].description == "  1x1 dlarray\n\n   2.0000 - 3.0000i\n\n")
    }

    @Test func ganGradientsDoNotDependOnTheOrderOfTheCalls() throws {
        let first = try ganGradients(order: .generatorFirst)
        let second = try ganGradients(order: .discriminatorFirst)
        for key in ["W1", "b1", "W2", "b2"] {
            let a = first.generator[key]!.scalars(as: Double.self).map(\.bitPattern)
            let b = second.generator[key]!.scalars(as: Double.self).map(\.bitPattern)
            #expect(a == b, "generator \(key)")
            let c = first.discriminator[key]!.scalars(as: Double.self).map(\.bitPattern)
            let d = second.discriminator[key]!.scalars(as: Double.self).map(\.bitPattern)
            #expect(c == d, "discriminator \(key)")
            #expect(first.generator[key]!.shape == makePerceptron(inputs: 4, hidden: 8, outputs: 2, seed: 7)[key]!.shape)
        }
        // The gradients are real, nonzero numbers.
        #expect(first.generator["W2"]!.scalars(as: Double.self).contains { $0 != 0 })
        #expect(first.discriminator["W1"]!.scalars(as: Double.self).allSatisfy { $0.isFinite })
    }

    @Test func ganGradientsMatchFiniteDifferences() throws {
        // The discriminator's gradient of lossD, checked by gradcheck independently of the example.
        let g = makePerceptron(inputs: 4, hidden: 8, outputs: 2, seed: 7)
        let d = makePerceptron(inputs: 2, hidden: 8, outputs: 1, seed: 8)
        var random = DLRandomGenerator(seed: 9)
        let noise = DLArray.randn([16, 4], using: &random)
        let result = try gradcheck({ (d: PerceptronParameters) in
            let fake = try perceptron(g, noise)
            return -mean(log(1 - sigmoid(try perceptron(d, fake))))
        }, at: d)
        #expect(result.passed, "\(result)")
    }
}
