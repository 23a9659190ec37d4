// The examples of MATLAB's dlgradient page and the GAN question of the seeds, run with SwiftDL,
// and the Dirac-GAN picture (written to docs/dirac-gan.png under the current folder).
import ComplexModule
import GANKit
import SeedExamples
import SwiftDL

func section(_ title: String) { print("\n== \(title) ==\n") }

do {
    section("rosenbrock: value and gradient at [-1, 2]")
    let (fval, gradval) = try dlfeval(rosenbrock, DLArray([-1.0, 2.0]))
    print("fval = \n\(fval)gradval = \n\(gradval)")

    section("rosenbrock2: two inputs")
    let (y, dydx1, dydx2) = try dlfeval(rosenbrock2, DLArray(-1.0), DLArray(2.0))
    print("fval = \n\(y)dydx1 = \n\(dydx1)dydx2 = \n\(dydx2)")

    section("gradient over a 10x10 grid of the unit square")
    let samples = try rosenbrockGradientGrid(size: 10)
    let deviation = samples.map { sample -> Double in
        let (a, b) = rosenbrockAnalyticGradient(sample.x1, sample.x2)
        return max(abs(sample.dydx1 - a), abs(sample.dydx2 - b))
    }.max() ?? 0
    print("   x1       x2      dy/dx1     dy/dx2")
    for sample in samples.prefix(5) {
        print(String(format: "%6.3f   %6.3f   %9.4f  %9.4f", sample.x1, sample.x2, sample.dydx1, sample.dydx2))
    }
    print("   ... \(samples.count) points; largest difference from the analytic gradient: \(deviation)")

    section("complexFun: gradient of sum(real((2+3i)x)) over the complex plane")
    let (_, gradient) = try dlfeval(complexGradient, try complexGrid(size: 100))
    let values = gradient.scalars(as: Complex<Double>.self)
    let allEqual = values.allSatisfy { $0 == Complex(2, -3) }
    print("grad(1,1) = \n\(gradient[0, 0])every one of the \(values.count) gradients is 2 - 3i: \(allEqual)")

    section("GAN: D's and G's gradients from one trace, in either order")
    let first = try ganGradients(order: .generatorFirst)
    let second = try ganGradients(order: .discriminatorFirst)
    func bits(_ p: PerceptronParameters) -> [UInt64] {
        p.keys.sorted().flatMap { p[$0]!.scalars(as: Double.self).map(\.bitPattern) }
    }
    let identical = bits(first.generator) == bits(second.generator)
        && bits(first.discriminator) == bits(second.discriminator)
    print("generator first, then discriminator (retainData on the first): dL_G/dW2 =\n\(first.generator["W2"]!)")
    print("identical bit for bit in either order: \(identical)")

    section("Dirac-GAN: four training methods in the (theta, psi) plane")
    let methods: [DiracGANMethod] = [.simultaneousGradientDescent, .alternatingGradientDescent,
                                     .gradientPenalty(gamma: 1), .consensusOptimization(gamma: 1)]
    let (picture, paths) = try DiracGAN.trajectoryPlot(from: DiracGANPoint(theta: 1, psi: 1), methods: methods,
                                                       learnRate: 0.1, steps: 1000)
    let docs = URL(fileURLWithPath: "docs", isDirectory: true)
    try FileManager.default.createDirectory(at: docs, withIntermediateDirectories: true)
    let pictureURL = docs.appendingPathComponent("dirac-gan.png")
    try picture.writePNG(to: pictureURL)
    print("wrote \(pictureURL.standardizedFileURL.path) (\(picture.width)x\(picture.height))")
    print("distance from the equilibrium (0, 0) after \(paths[0].count - 1) steps of size 0.1 from (1, 1):")
    for (method, path) in zip(methods, paths) {
        print("  \(String(describing: method).padding(toLength: 40, withPad: " ", startingAt: 0))"
              + String(format: "%.3g", path[path.count - 1].distanceFromEquilibrium))
    }
} catch {
    print("error: \(error)")
    exit(1)
}

import Foundation
