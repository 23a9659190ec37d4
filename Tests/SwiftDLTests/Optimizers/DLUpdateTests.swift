import Testing
@testable import SwiftDL

@Suite struct DLUpdateTests {
    @Test func mapsOneContainer() throws {
        let parameters: [String: DLArray] = ["w": DLArray([1.0, -2]), "b": DLArray([0.5])]
        let halved = dlupdate({ $0 * 0.5 }, parameters)
        expectElements(halved["w"]!, [0.5, -1])
        expectElements(halved["b"]!, [0.25])
    }

    @Test func combinesContainersArrayByArray() throws {
        let parameters = [DLArray([1.0, -2]), DLArray([4.0])]
        let gradients = [DLArray([0.5, 0.5]), DLArray([-1.0])]
        // Gradient descent by hand: w − 0.1 g.
        let descended = try dlupdate({ w, g in try w - 0.1 * g }, parameters, gradients)
        expectElements(descended[0], [0.95, -2.05])
        expectElements(descended[1], [4.1])
        let momentum = [DLArray([1.0, 1]), DLArray([2.0])]
        let combined = try dlupdate({ w, g, v in try w + v - g }, parameters, gradients, momentum)
        expectElements(combined[0], [1.5, -1.5])
        expectElements(combined[1], [7])
    }

    @Test func isTracedInsideDLFeval() throws {
        // d/dx Σ (x²) through dlupdate is 2x.
        let gradient = try dlfeval({ (x: [DLArray]) in
            let squared = try dlupdate({ try $0 * $0 }, x)
            return try dlgradient(sum(squared[0]) + sum(squared[1]), x)
        }, [DLArray([1.0, -3]), DLArray([2.0])])
        expectElements(gradient[0], [2, -6])
        expectElements(gradient[1], [4])
    }

    @Test func structureMismatches() throws {
        let structure = errorMessage(DLError.invalidArgument) {
            _ = try dlupdate({ a, b in try a + b }, [DLArray([1.0])], [DLArray([1.0]), DLArray([2.0])])
        }
        #expect(structure.contains("dlupdate: 2 arrays in container 2 but 1 in container 1"), "\(structure)")
        let shape = errorMessage(DLError.shapeMismatch) {
            _ = try dlupdate({ a, b, c in try a + b + c }, [DLArray([1.0])], [DLArray([1.0])], [DLArray([1.0, 2])])
        }
        #expect(shape.contains("container 3 array 0 has shape [2] but container 1 array 0 has shape [1]"), "\(shape)")
    }
}
