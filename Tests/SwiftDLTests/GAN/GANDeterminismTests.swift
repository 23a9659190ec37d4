import Foundation
import Testing
@testable import GANKit
@testable import SwiftDL

/// The same bits however busy the machine: GAN steps repeated while other threads load the
/// cores (the convolutions share their batches among the cores as the cores come free).
@Suite struct GANDeterminismTests {
    /// Every learnable and state value of both players, as bits.
    static func bits(_ trainer: GANTrainer) -> [UInt32] {
        [trainer.generator.learnables, trainer.generator.state, trainer.discriminator.learnables, trainer.discriminator.state]
            .flatMap { table in table.rows.flatMap { $0.value.scalars(as: Float.self).map(\.bitPattern) } }
    }

    @Test(arguments: [GANLoss.nonSaturating, .wassersteinGP])
    func dcganStepsGiveTheSameBitsOnABusyMachine(_ loss: GANLoss) throws {
        var settings = GANSettings(dataset: .mnist, seed: 5)
        settings.batchSize = 8
        settings.loss = loss
        let images = DLArray.rand([16, 1, 28, 28], type: .float32, labels: "BCSS", seed: 6) * 2 - 1
        let data = try GANData(images: images, as: .mnist)
        func train() throws -> [UInt32] {
            var trainer = try GANTrainer(settings: settings, data: data)
            for _ in 0..<2 { try trainer.step() }
            return Self.bits(trainer)
        }
        let quiet = try train()
        try MachineLoad.during(threads: 1) {
            for run in 1...3 {
                let busy = try train()
                #expect(firstDifference(busy, quiet) == nil, "run \(run): \(firstDifference(busy, quiet) ?? "")")
            }
        }
    }
}
