import Testing
@testable import SwiftDL

/// The first element where two arrays differ, or nil when they are equal bit for bit.
func firstDifference(_ a: DLArray, _ b: DLArray) -> (index: Int, a: Double, b: Double)? {
    guard a.shape == b.shape else { return (-1, Double(a.count), Double(b.count)) }
    let x = a.scalars(as: Double.self), y = b.scalars(as: Double.self)
    for i in x.indices where x[i].bitPattern != y[i].bitPattern { return (i, x[i], y[i]) }
    return nil
}

private func rosenbrock(_ x: DLArray) throws -> (DLArray, DLArray) {
    let y = try 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2
    return (y, try dlgradient(y, x))
}

@Suite struct DLAccelerateTests {
    @Test func rosenbrockReplaysWithNewValues() throws {
        let accelerated = dlaccelerate(rosenbrock)
        let (y0, g0) = try dlfeval(accelerated, DLArray([-1.0, 2.0]))
        #expect(y0.scalar(as: Double.self) == 104)
        #expect(g0.scalars(as: Double.self) == [-396, 200])
        for point in [[0.5, 0.25], [1.5, -2.0], [-1.0, 2.0]] {
            let (y, g) = try dlfeval(accelerated, DLArray(point))
            let (ey, eg) = try dlfeval(rosenbrock, DLArray(point))
            #expect(firstDifference(y, ey) == nil)
            #expect(firstDifference(g, eg) == nil)
        }
        #expect(accelerated.hitRate == 75)
        #expect(accelerated.lastEagerReason == nil, "\(accelerated.lastEagerReason ?? "")")
    }
}
