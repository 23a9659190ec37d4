import CSwiftDLSupport
import ComplexModule

// The discrete Fourier transform along one dimension, by FFTW (any length: mixed radix, and
// Bluestein's or Rader's algorithm for large prime factors). Both transforms are linear; their
// derivative rules are the adjoint transforms (conjugate Wirtinger convention), written with
// the transforms themselves, so derivatives of every order exist. FFTW's double-precision
// library does every transform: complex64 data is widened and narrowed around it, a linear
// cost beside the transform's n·log n.

/// The discrete Fourier transform of `x` along `dim`, `y[k] = Σ x[j]·e^(-2πi·jk/n)`, as
/// MATLAB's `fft(X, n, dim)` and PyTorch's `torch.fft.fft(x, n, dim)`.
///
/// - Parameters:
///   - x: a real or complex array; real input gives a complex result of the same precision.
///   - n: the transform length: `x` is cut to its first `n` elements along `dim`, or padded
///     with zeros to `n`. Defaults to the size of `dim`.
///   - dim: the dimension transformed; defaults to the last one (PyTorch's default: MATLAB's
///     is the first non-singleton one, and SwiftDL is row-major).
/// - Returns: a complex array with size `n` along `dim`, traced: its gradient is
///   `n·ifft(g)`, that of a real input its real part.
/// - Throws: ``DLError/invalidArgument(_:)`` for a dimension out of range, `n < 1` or a scalar.
public func fft(_ x: DLArray, n: Int? = nil, dim: Int? = nil) throws -> DLArray {
    try fourierTransform(x, n: n, dim: dim, inverse: false)
}

/// The inverse discrete Fourier transform of `x` along `dim`,
/// `y[j] = (1/n)·Σ x[k]·e^(2πi·jk/n)`, as MATLAB's `ifft(X, n, dim)` and PyTorch's
/// `torch.fft.ifft`: `ifft(fft(x))` is `x` (as a complex array). Arguments as ``fft(_:n:dim:)``;
/// the gradient is `fft(g)/n`.
/// - Throws: ``DLError/invalidArgument(_:)`` for a dimension out of range, `n < 1` or a scalar.
public func ifft(_ x: DLArray, n: Int? = nil, dim: Int? = nil) throws -> DLArray {
    try fourierTransform(x, n: n, dim: dim, inverse: true)
}

func fourierTransform(_ x: DLArray, n: Int?, dim: Int?, inverse: Bool) throws -> DLArray {
    let name = inverse ? "ifft" : "fft"
    guard x.rank > 0 else { throw DLError.invalidArgument("\(name) needs an array of rank 1 or more; this one is a scalar") }
    let axis = try checkedDimension(dim ?? x.rank - 1, of: x, name)
    let length = n ?? x.shape[axis]
    guard length >= 1 else {
        throw DLError.invalidArgument("\(name): the transform length n must be 1 or more, got \(length)")
    }
    let complexType: DLDataType = x.dataType == .float64 || x.dataType == .complex128 ? .complex128 : .complex64
    let resized = try resized(x.converted(to: complexType), to: length, dim: axis)
    let transformed = try discreteFourierTransform(resized, dim: axis, backward: inverse)
    return (inverse ? transformed / Double(length) : transformed).withLabels(x.labels)
}

/// `x` cut to its first `length` positions along `dim`, or padded with zeros to `length`.
func resized(_ x: DLArray, to length: Int, dim: Int) throws -> DLArray {
    let size = x.shape[dim]
    if length == size { return x }
    if length < size { return try x.slice(dim: dim, range: 0..<length) }
    var padding = x.shape
    padding[dim] = length - size
    return try cat([stripdims(x), DLArray.zeros(padding, type: x.dataType)], dim: dim)
}

/// The unnormalized transform of a complex array along `dim` (sign -1 in the exponent, +1
/// when `backward`). The adjoint of one is the other, which is its rule.
func discreteFourierTransform(_ x: DLArray, dim: Int, backward: Bool) throws -> DLArray {
    let (outer, length, inner) = splitAround(x.shape, dim)
    let source = extractdata(x).storageConverted(to: .complex128)
    let output = Storage.allocate(count: x.count, dataType: .complex128)
    if x.count > 0 {
        let planned = swiftdl_dft_f64(
            UnsafeRawPointer(source.storage.rawPointer).assumingMemoryBound(to: Double.self),
            output.rawPointer.assumingMemoryBound(to: Double.self),
            length, outer, inner, backward ? 1 : 0)
        guard planned != 0 else {
            throw DLError.invalidArgument("fft: FFTW could not plan a transform of length \(length) (\(outer)×\(inner) of them)")
        }
    }
    let value = DLArray(storage: output, shape: x.shape).storageConverted(to: x.dataType)
    return value.recorded(from: x) { g in try discreteFourierTransform(g, dim: dim, backward: !backward) }
}
