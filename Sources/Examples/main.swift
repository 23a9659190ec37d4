import SwiftDL
func rosenbrock(_ x: DLArray) throws -> (DLArray, DLArray) {
    let y = try 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2
    return (y, try dlgradient(y, x))
}
let (fval, gradval) = try dlfeval(rosenbrock, DLArray([-1.0, 2.0]))
print("fval =", fval)
print("gradval =", gradval)
