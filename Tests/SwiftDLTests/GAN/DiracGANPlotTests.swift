import GANKit
import Testing
@testable import SwiftDL

@Suite struct DiracGANPlotTests {
    /// Each panel shows its method's trajectory: the black start dot at (1, 0.5) and the red
    /// cross at the equilibrium, in the square that every panel shares.
    @Test func panelsMarkTheStartAndTheEquilibrium() throws {
        let start = DiracGANPoint(theta: 1, psi: 0.5)
        let methods: [DiracGANMethod] = [.simultaneousGradientDescent, .gradientPenalty(gamma: 1), .alternatingGradientDescent]
        let (image, paths) = try DiracGAN.trajectoryPlot(from: start, methods: methods, learnRate: 0.1, steps: 200,
                                                         panelSize: 300)
        // A 40-pixel heading over two rows of two 300-pixel panels.
        #expect((image.width, image.height) == (600, 640))
        #expect(paths.count == 3 && paths.allSatisfy { $0.count == 201 && $0[0] == start })
        #expect(paths[1] == (try DiracGAN.trajectory(from: start, method: methods[1], learnRate: 0.1, steps: 200)))
        let half = 1.1 * paths.joined().map { max(abs($0.theta), abs($0.psi)) }.max()!
        for panel in 0..<3 {
            var crop = RGBImage(width: 300, height: 300)
            crop.draw(image, x: -300 * (panel % 2), y: -40 - 300 * (panel / 2))
            let area = try plotArea(of: crop)
            let center = SIMD2(Double(area.left) + Double(area.width) / 2, Double(area.top) + Double(area.height) / 2)
            let pixelsPerUnit = Double(min(area.width, area.height)) / (2 * half)
            let startPixel = center + pixelsPerUnit * SIMD2(start.theta, -start.psi)
            #expect(crop[Int(startPixel.x), Int(startPixel.y)] == .black, "panel \(panel)")
            let red = (-1...1).contains { dx in
                (-1...1).contains { dy in crop[Int(center.x) + dx, Int(center.y) + dy] == .red }
            }
            #expect(red, "panel \(panel)")
        }
        // The fourth cell is empty.
        #expect(image[450, 490] == .white && image[599, 639] == .white)
    }

    @Test func mistakesAreErrors() {
        let start = DiracGANPoint(theta: 1, psi: 1)
        expectError(containing: "at least one method") {
            _ = try DiracGAN.trajectoryPlot(from: start, methods: [], learnRate: 0.1, steps: 10)
        }
        expectError(containing: "at least 200 pixels, not 100") {
            _ = try DiracGAN.trajectoryPlot(from: start, methods: [.alternatingGradientDescent], learnRate: 0.1, steps: 10,
                                            panelSize: 100)
        }
        expectError(containing: "steps", "-1") {
            _ = try DiracGAN.trajectoryPlot(from: start, methods: [.alternatingGradientDescent], learnRate: 0.1, steps: -1)
        }
    }
}
