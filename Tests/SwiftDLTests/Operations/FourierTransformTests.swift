import ComplexModule
import Foundation
import Testing
@testable import SwiftDL

private typealias Support = ElementwiseTestSupport

@Suite struct FourierTransformTests {
    /// The complex (or real) array `name` of a fixture, stored as `name_re`, `name_im`.
    private func complexArray(_ fixture: Fixture, _ name: String) throws -> DLArray {
        guard let re = try? fixture.array(name + "_re") else { return try fixture.array(name) }
        return try complex(re, fixture.array(name + "_im"))
    }

    private func expectComplexClose(_ actual: DLArray, _ expected: DLArray, tolerance: Double, _ what: String,
                                    sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(actual.dataType.isComplex == expected.dataType.isComplex, "\(what): type \(actual.dataType)",
                sourceLocation: sourceLocation)
        expectClose(real(actual), real(expected), tolerance: tolerance, what + " (real)", sourceLocation: sourceLocation)
        expectClose(imag(actual), imag(expected), tolerance: tolerance, what + " (imaginary)", sourceLocation: sourceLocation)
    }

    @Test(arguments: ["fft_last", "fft_first", "fft_pad", "fft_cut", "ifft_last", "ifft_pad_first", "fft_real", "fft_prime"])
    func transformsAndGradientsMatchPyTorch(name: String) throws {
        let fixture = try Fixture("functions", name)
        let x = try complexArray(fixture, "x")
        let dim = try fixture.integers("dim")[0]
        let n = try? fixture.integers("n")[0]
        let transform: (DLArray) throws -> DLArray = name.hasPrefix("ifft")
            ? { try ifft($0, n: n, dim: dim) } : { try fft($0, n: n, dim: dim) }
        expectComplexClose(try transform(x), try complexArray(fixture, "y"), tolerance: 1e-12, name)
        let upstream = try complexArray(fixture, "upstream")
        let gradient = try dlfeval({ (x: DLArray) in
            try dlgradient(sum(real(transform(x) * conj(upstream))), x, allowComplex: true)
        }, x)
        expectComplexClose(gradient, try complexArray(fixture, "dx"), tolerance: 1e-12, name + " gradient")
    }

    @Test func knownTransformsAndRoundTrip() throws {
        // The transform of an impulse is all ones; of a constant, n at frequency 0.
        Support.expectComplexValues(try fft(DLArray([1.0, 0, 0, 0])), Array(repeating: Complex(1, 0), count: 4))
        Support.expectComplexValues(try fft(DLArray([2.0, 2, 2])), [Complex(6, 0), Complex(0, 0), Complex(0, 0)])
        // e^(2πi·j/5) has all its energy at frequency 1.
        let wave = (0..<5).map { Complex<Double>.exp(Complex(0, 2 * Double.pi * Double($0) / 5)) }
        Support.expectComplexValues(try fft(DLArray(wave)), [0, 5, 0, 0, 0].map { Complex(Double($0), 0) })
        // ifft(fft(x)) = x for a length with a large prime factor (Bluestein's / Rader's case).
        let x = try DLArray((0..<2 * 3 * 97).map { sin(Double($0)) }, shape: [2, 3, 97])
        let back = try ifft(fft(x, dim: 2), dim: 2)
        expectClose(real(back), x, tolerance: 1e-13, "round trip")
        expectClose(imag(back), DLArray.zeros(x.shape), tolerance: 1e-13, "round trip imaginary")
    }

    @Test func singlePrecisionGivesComplex64() throws {
        let y = try fft(DLArray([Float(1), 2, 3, 4]))
        #expect(y.dataType == .complex64)
        Support.expectComplexValues(y, [Complex(10, 0), Complex(-2, 2), Complex(-2, 0), Complex(-2, -2)], tolerance: 1e-6)
    }

    @Test func gradientsMatchFiniteDifferencesToOrderTwo() throws {
        let x = try DLArray((0..<12).map { cos(Double($0) * 0.7) }, shape: [3, 4])
        let z = try complex(x, DLArray((0..<12).map { sin(Double($0) * 1.3) }, shape: [3, 4]))
        // |fft|² and the real part of a product are nonlinear, so order 2 checks the rules' own rules.
        for (input, dims) in [(x, [0, 1]), (z, [0, 1])] {
            for dim in dims {
                try Support.expectGradcheck({ (x: DLArray) in
                    let y = try fft(x, n: 6, dim: dim)
                    return try real(y * conj(y))
                }, at: input)
                try Support.expectGradcheck({ (x: DLArray) in
                    let y = try ifft(x, n: 3, dim: dim)
                    return try real(y * y)
                }, at: input)
            }
        }
    }

    @Test func badArgumentsThrow() throws {
        Support.expectError(.invalidArgument, mentioning: ["fft", "dimension 2"]) { _ = try fft(DLArray.zeros([2, 2]), dim: 2) }
        Support.expectError(.invalidArgument, mentioning: ["n must be 1 or more"]) { _ = try ifft(DLArray([1.0]), n: 0) }
        Support.expectError(.invalidArgument, mentioning: ["scalar"]) { _ = try fft(DLArray(1.0)) }
    }
}
