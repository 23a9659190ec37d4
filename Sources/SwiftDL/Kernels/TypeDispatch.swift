import RealModule
import ComplexModule

/// A computation that is generic over the floating-point element types; ``dispatchFloating``
/// runs its specialization for an array's type, so loops inside never dispatch per element.
protocol FloatingKernel {
    associatedtype Output
    func run<T: DLFloatingElement>(_ type: T.Type) -> Output
}

/// A computation that is generic over the real element types.
protocol RealKernel {
    associatedtype Output
    func run<T: DLRealElement>(_ type: T.Type) -> Output
}

/// A computation generic over every element type's memory layout (for copies).
protocol LayoutKernel {
    associatedtype Output
    func run<T>(_ type: T.Type) -> Output
}

/// Runs `kernel` specialized for the floating-point type `dataType`.

func dispatchFloating<K: FloatingKernel>(_ dataType: DLDataType, _ kernel: K) -> K.Output {
    switch dataType {
    case .float32, .bool: kernel.run(Float.self)
    case .float64: kernel.run(Double.self)
    case .complex64: kernel.run(Complex<Float>.self)
    case .complex128: kernel.run(Complex<Double>.self)
    }
}

/// Runs `kernel` specialized for the real type `dataType` (complex types are an error for the caller).

func dispatchReal<K: RealKernel>(_ dataType: DLDataType, _ kernel: K) -> K.Output {
    switch dataType {
    case .float64, .complex128: kernel.run(Double.self)
    default: kernel.run(Float.self)
    }
}

/// Runs `kernel` with a trivial type of the same size as `dataType`'s elements.

func dispatchLayout<K: LayoutKernel>(_ dataType: DLDataType, _ kernel: K) -> K.Output {
    switch dataType.byteCount {
    case 1: kernel.run(UInt8.self)
    case 4: kernel.run(UInt32.self)
    case 8: kernel.run(UInt64.self)
    default: kernel.run(SIMD2<UInt64>.self)
    }
}
