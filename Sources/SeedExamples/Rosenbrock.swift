import SwiftDL

/// Rosenbrock's function of a two-element array and its gradient, as in MATLAB's
/// `rosenbrock.m`: `y = 100 (x₂ − x₁²)² + (1 − x₁)²`. Call it through `dlfeval`.
public func rosenbrock(_ x: DLArray) throws -> (value: DLArray, gradient: DLArray) {
    let y = try 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2
    return (y, try dlgradient(y, x))
}

/// Rosenbrock's function of two scalars and its two partial derivatives, as in MATLAB's
/// `rosenbrock2.m`.
public func rosenbrock2(_ x1: DLArray, _ x2: DLArray) throws -> (value: DLArray, dydx1: DLArray, dydx2: DLArray) {
    let y = try 100 * (x2 - x1 ** 2) ** 2 + (1 - x1) ** 2
    let (dydx1, dydx2) = try dlgradient(y, x1, x2)
    return (y, dydx1, dydx2)
}

/// The analytic gradient of Rosenbrock's function, for checking automatic differentiation.
public func rosenbrockAnalyticGradient(_ x1: Double, _ x2: Double) -> (Double, Double) {
    (-400 * x1 * (x2 - x1 * x1) - 2 * (1 - x1), 200 * (x2 - x1 * x1))
}

/// One point of the gradient field over the unit square.
public struct GradientSample: Sendable {
    /// The point.
    public var x1, x2: Double
    /// The function value and the gradient dlgradient computed there.
    public var value, dydx1, dydx2: Double
}

/// The gradient of Rosenbrock's function at every point of an n×n grid over the unit square,
/// one `dlfeval` per point, as MATLAB's quiver example (`meshgrid(linspace(0,1,10))`).
public func rosenbrockGradientGrid(size n: Int = 10) throws -> [GradientSample] {
    let steps = (0..<n).map { Double($0) / Double(n - 1) }
    var samples: [GradientSample] = []
    // meshgrid(X1 X2) read column by column, as X1(:) in MATLAB.
    for a in steps {
        for b in steps {
            let (y, g1, g2) = try dlfeval(rosenbrock2, DLArray(a), DLArray(b))
            samples.append(GradientSample(x1: a, x2: b, value: y.scalar(as: Double.self),
                                          dydx1: g1.scalar(as: Double.self), dydx2: g2.scalar(as: Double.self)))
        }
    }
    return samples
}
