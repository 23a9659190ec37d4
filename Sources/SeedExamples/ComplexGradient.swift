import ComplexModule
import SwiftDL

/// MATLAB's `complexFun`: f(x) = (2+3i)·x.
public func complexFun(_ x: DLArray) throws -> DLArray {
    try DLArray(Complex<Double>(2, 3)).converted(to: x.dataType) * x
}

/// MATLAB's `gradFun`: the real part of f, and the gradient of its sum with respect to x
/// (complex, so `allowComplex` is set). The gradient is 2−3i everywhere: the direction of
/// steepest ascent of Re((2+3i)x).
public func complexGradient(_ x: DLArray) throws -> (value: DLArray, gradient: DLArray) {
    let y = real(try complexFun(x))
    return (y, try dlgradient(sum(y), x, allowComplex: true))
}

/// The grid of MATLAB's example: `linspace(-2,2,n) + 1i*linspace(-2,2,n).'`, an n×n complex array.
public func complexGrid(size n: Int) throws -> DLArray {
    let steps = (0..<n).map { -2 + 4 * Double($0) / Double(n - 1) }
    var values: [Complex<Double>] = []
    for row in steps { for column in steps { values.append(Complex(column, row)) } }
    return try DLArray(values, shape: [n, n])
}
