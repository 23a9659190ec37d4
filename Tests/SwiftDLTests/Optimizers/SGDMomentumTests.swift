import Testing
@testable import SwiftDL

@Suite struct SGDMomentumTests {
    @Test func twoStepsByHand() throws {
        // v = γv − αg; p = p + v, with α = 0.1, γ = 0.9.
        let (p1, v1) = try sgdmupdate(DLArray([1.0, -2.0]), DLArray([0.5, 1.0]), nil, learnRate: 0.1, momentum: 0.9)
        expectElements(v1, [-0.05, -0.1])
        expectElements(p1, [0.95, -2.1])
        let (p2, v2) = try sgdmupdate(p1, DLArray([-0.25, 2.0]), v1, learnRate: 0.1, momentum: 0.9)
        expectElements(v2, [0.9 * -0.05 - 0.1 * -0.25, 0.9 * -0.1 - 0.1 * 2])
        expectElements(p2, [0.93, -2.39], tolerance: 1e-15)
    }

    @Test func defaultsAreMATLABs() throws {
        // α = 0.01, γ = 0.9: a velocity of 1 and a gradient of 1 give 0.9 − 0.01.
        let (p, v) = try sgdmupdate(DLArray([0.0]), DLArray([1.0]), DLArray([1.0]))
        expectElements(v, [0.89])
        expectElements(p, [0.89])
    }

    @Test func complexParametersStepAlongTheirGradients() throws {
        let z = try DLArray([1.0, 2.0], shape: [2]).converted(to: .complex128)
        let g = try complex(DLArray([0.5]), DLArray([-1.0]))
        let (p, v) = try sgdmupdate([z, try complex(DLArray([0.0]), DLArray([0.0]))], [DLArray.zeros(like: z), g],
                                    nil, learnRate: 0.1)
        #expect(p[1].dataType == .complex128 && v[1].dataType == .complex128)
        expectElements(real(p[1]), [-0.05])
        expectElements(imag(p[1]), [0.1])
        expectSameBits(real(p[0]), DLArray([1.0, 2.0]))
    }

    @Test func errors() throws {
        expectError(containing: "momentum must be in [0, 1], got 1.5") {
            _ = try sgdmupdate(DLArray([1.0]), DLArray([1.0]), nil, momentum: 1.5)
        }
        let shape = errorMessage(DLError.shapeMismatch) {
            _ = try sgdmupdate([DLArray([1.0, 2])], [DLArray([1.0, 2])], [DLArray([1.0, 2, 3])])
        }
        #expect(shape.contains("sgdmupdate: velocity array 0 has shape [3] but parameters array 0 has shape [2]"), "\(shape)")
        let structure = errorMessage(DLError.invalidArgument) {
            _ = try sgdmupdate(["w": DLArray([1.0])], [:], nil)
        }
        #expect(structure.contains("sgdmupdate: 0 arrays in gradients but 1 in parameters"), "\(structure)")
        let type = errorMessage(DLError.unsupportedType) {
            _ = try sgdmupdate(DLArray([true]), DLArray([true]), nil)
        }
        #expect(type.contains("parameter array 0 is bool"), "\(type)")
    }
}
