import RealModule
import ComplexModule

/// A function of one element, defined for real and complex types.
protocol FloatingUnaryFunction {
    static func apply<T: DLFloatingElement>(_ x: T) -> T
    /// The fewest elements per core worth splitting a map of this function for
    /// (``Parallel/functionGrain`` unless the function is as cheap as an add).
    static var grain: Int { get }
}

extension FloatingUnaryFunction {
    static var grain: Int { Parallel.functionGrain }
}

/// A function of one element, defined for real types.
protocol RealUnaryFunction {
    static func apply<T: DLRealElement>(_ x: T) -> T
    /// The fewest elements per core worth splitting a map of this function for
    /// (``Parallel/functionGrain`` unless the function is as cheap as an add).
    static var grain: Int { get }
}

extension RealUnaryFunction {
    static var grain: Int { Parallel.functionGrain }
}

/// A function of two elements, defined for real and complex types.
protocol FloatingBinaryFunction {
    static func apply<T: DLFloatingElement>(_ a: T, _ b: T) -> T
    /// The fewest elements per core worth splitting a map of this function for
    /// (``Parallel/elementGrain`` unless the function is transcendental).
    static var grain: Int { get }
}

extension FloatingBinaryFunction {
    static var grain: Int { Parallel.elementGrain }
}

/// A function of two elements, defined for real types.
protocol RealBinaryFunction {
    static func apply<T: DLRealElement>(_ a: T, _ b: T) -> T
    /// The fewest elements per core worth splitting a map of this function for
    /// (``Parallel/elementGrain`` unless the function is transcendental).
    static var grain: Int { get }
}

extension RealBinaryFunction {
    static var grain: Int { Parallel.elementGrain }
}

/// A test of two real elements (a comparison).
protocol RealPredicate {
    static func apply<T: DLRealElement>(_ a: T, _ b: T) -> Bool
}

// MARK: - Maps over one array

/// A function of one element that loops take as a generic parameter, so that each loop is
/// specialized for it and calls it directly (a closure captured by a parallel loop's body is
/// called indirectly, once per element, and the loop does not vectorize).
protocol ElementMapping {
    associatedtype Input: DLElement
    associatedtype Output: DLElement
    func callAsFunction(_ x: Input) -> Output
}

/// A function of two elements that loops take as a generic parameter (see ``ElementMapping``).
protocol ElementPairMapping {
    associatedtype Input: DLElement
    associatedtype Output: DLElement
    func callAsFunction(_ a: Input, _ b: Input) -> Output
}

/// A closure as an ``ElementMapping``, for the maps off the hot paths (conversions, complex parts).
struct ClosureMapping<Input: DLElement, Output: DLElement>: ElementMapping {
    let body: (Input) -> Output
    func callAsFunction(_ x: Input) -> Output { body(x) }
}

/// A closure as an ``ElementPairMapping``.
struct ClosurePairMapping<Input: DLElement, Output: DLElement>: ElementPairMapping {
    let body: (Input, Input) -> Output
    func callAsFunction(_ a: Input, _ b: Input) -> Output { body(a, b) }
}

/// `function` applied to every element of one array.
struct ElementMap<M: ElementMapping>: ElementwiseKernel {
    let function: M
    let count: Int
    let grain: Int

    func run(_ inputs: KernelInputs, _ output: UnsafeMutableRawPointer, elements: Range<Int>) {
        let source = inputs[0].assumingMemoryBound(to: M.Input.self)
        let destination = output.assumingMemoryBound(to: M.Output.self)
        for i in elements { destination[i] = function(source[i]) }
    }
}

/// Applies `function` to every element of `x`, across the cores when there are at least
/// `grain` elements per core.
func mapElements<M: ElementMapping>(_ x: DLArray, grain: Int = Parallel.elementGrain, _ function: M) -> DLArray {
    let output = ElementMap(function: function, count: x.count, grain: grain)
        .output(reading: x, KernelOutput(count: x.count, dataType: M.Output.dataType))
    return DLArray(storage: output, shape: x.shape, labels: x.labels)
}

/// Applies `function` to every element of `x` (of type `T`), giving elements of type `U`.
func mapElements<T: DLElement, U: DLElement>(_ x: DLArray, grain: Int = Parallel.elementGrain,
                                             _ function: @escaping (T) -> U) -> DLArray {
    mapElements(x, grain: grain, ClosureMapping(body: function))
}

/// `F` as an ``ElementMapping`` of `T`.
struct FloatingMapping<F: FloatingUnaryFunction, T: DLFloatingElement>: ElementMapping {
    @inline(__always) func callAsFunction(_ x: T) -> T { F.apply(x) }
}

/// `F` as an ``ElementMapping`` of `T`.
struct RealMapping<F: RealUnaryFunction, T: DLRealElement>: ElementMapping {
    @inline(__always) func callAsFunction(_ x: T) -> T { F.apply(x) }
}

struct FloatingMap<F: FloatingUnaryFunction>: FloatingKernel {
    let x: DLArray
    func run<T: DLFloatingElement>(_ type: T.Type) -> DLArray {
        if T.self == Float.self, let vectorized = F.self as? any FloatVectorFunction.Type {
            return mapFloatVectors(x, grain: F.grain, vectorized)
        }
        return mapElements(x, grain: F.grain, FloatingMapping<F, T>())
    }
}

struct RealMap<F: RealUnaryFunction>: RealKernel {
    let x: DLArray
    func run<T: DLRealElement>(_ type: T.Type) -> DLArray {
        if T.self == Float.self, let vectorized = F.self as? any FloatVectorFunction.Type {
            return mapFloatVectors(x, grain: F.grain, vectorized)
        }
        return mapElements(x, grain: F.grain, RealMapping<F, T>())
    }
}

extension DLArray {
    /// The elementwise result of `F` (bool arrays are read as float32).
    func mapFloating<F: FloatingUnaryFunction>(_ function: F.Type) -> DLArray {
        let x = dataType == .bool ? storageConverted(to: .float32) : self
        return dispatchFloating(x.dataType, FloatingMap<F>(x: x))
    }

    /// The elementwise result of the real function `F`.
    /// - Precondition: the array is real (callers check and throw for complex input).
    func mapReal<F: RealUnaryFunction>(_ function: F.Type) -> DLArray {
        let x = dataType == .bool ? storageConverted(to: .float32) : self
        precondition(!x.dataType.isComplex, "real function applied to a complex array")
        return dispatchReal(x.dataType, RealMap<F>(x: x))
    }
}

// MARK: - Maps over two broadcast arrays

/// The shape two shapes broadcast to, by NumPy's and MATLAB's rule: shapes are aligned at their
/// last dimension and each pair of sizes must be equal or contain a 1.
func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
    if a == b { return a }
    let rank = max(a.count, b.count)
    var result = [Int](repeating: 1, count: rank)
    for k in 0..<rank {
        let sa = k < rank - a.count ? 1 : a[k - (rank - a.count)]
        let sb = k < rank - b.count ? 1 : b[k - (rank - b.count)]
        if sa == sb || sb == 1 { result[k] = sa } else if sa == 1 { result[k] = sb } else { return nil }
    }
    return result
}

/// The row-major strides of a contiguous array of this shape.
func contiguousStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var step = 1
    for k in (0..<shape.count).reversed() {
        strides[k] = step
        step *= shape[k]
    }
    return strides
}

/// The strides that read an array of `shape` broadcast to `target` (0 along broadcast dimensions).
func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
    let own = contiguousStrides(shape)
    let offset = target.count - shape.count
    return (0..<target.count).map { k in
        k < offset || shape[k - offset] == 1 ? 0 : own[k - offset]
    }
}

/// Calls `body(elements, offsetA, offsetB)` for every row (run of the last dimension) of an
/// array of `shape` read through two strided views: `elements` are the row's positions in a
/// contiguous array of `shape`, the offsets where the row starts in each view. Rows are split
/// across cores when there are at least `grain` elements per core.
@inline(__always)
func forEachRow(shape: [Int], stridesA: [Int], stridesB: [Int], grain: Int = Parallel.elementGrain,
                _ body: (_ elements: Range<Int>, _ offsetA: Int, _ offsetB: Int) -> Void) {
    let rank = shape.count
    let length = shape[rank - 1]
    let rows = shape.dropLast().reduce(1, *)
    Parallel.forEachChunk(count: rows, grain: max(1, grain / max(length, 1))) { range in
        var index = [Int](repeating: 0, count: rank)
        // Position of the first row of the chunk.
        var remainder = range.lowerBound
        for k in stride(from: rank - 2, through: 0, by: -1) {
            index[k] = remainder % shape[k]
            remainder /= shape[k]
        }
        for row in range {
            var offsetA = 0, offsetB = 0
            for k in 0..<(rank - 1) {
                offsetA += index[k] * stridesA[k]
                offsetB += index[k] * stridesB[k]
            }
            body(row * length ..< (row + 1) * length, offsetA, offsetB)
            var k = rank - 2
            while k >= 0 {
                index[k] += 1
                if index[k] < shape[k] { break }
                index[k] = 0
                k -= 1
            }
        }
    }
}

/// The same walk over fewer, longer dimensions: size-1 dimensions are dropped and each pair of
/// adjacent dimensions that both views step through as one (each view's outer stride is its
/// inner stride times the inner size, which holds for broadcast dimensions, of stride 0, too)
/// becomes one. A per-channel bias added to `[N, C, H, W]` is then walked in rows of `H·W`
/// instead of `W`.
func mergedDimensions(_ shape: [Int], _ stridesA: [Int], _ stridesB: [Int]) -> ([Int], [Int], [Int]) {
    var dims: [(size: Int, a: Int, b: Int)] = []
    for k in shape.indices where shape[k] != 1 {
        if let last = dims.last, last.a == stridesA[k] * shape[k], last.b == stridesB[k] * shape[k] {
            dims[dims.count - 1] = (last.size * shape[k], stridesA[k], stridesB[k])
        } else {
            dims.append((shape[k], stridesA[k], stridesB[k]))
        }
    }
    if dims.isEmpty { dims = [(1, 0, 0)] }
    return (dims.map(\.size), dims.map(\.a), dims.map(\.b))
}

/// `function` applied to pairs of elements of two arrays of the same count, or of one array and
/// a one-element array.
struct ElementZip<M: ElementPairMapping>: ElementwiseKernel {
    let function: M
    let count: Int
    let grain: Int
    /// Whether `a` (`b`) is a single element paired with every element of the other.
    let aIsScalar: Bool, bIsScalar: Bool

    func run(_ inputs: KernelInputs, _ output: UnsafeMutableRawPointer, elements: Range<Int>) {
        let pa = inputs[0].assumingMemoryBound(to: M.Input.self)
        let pb = inputs[1].assumingMemoryBound(to: M.Input.self)
        let destination = output.assumingMemoryBound(to: M.Output.self)
        switch (aIsScalar, bIsScalar) {
        case (false, true):
            let scalar = pb[0]
            for i in elements { destination[i] = function(pa[i], scalar) }
        case (true, false):
            let scalar = pa[0]
            for i in elements { destination[i] = function(scalar, pb[i]) }
        default:
            for i in elements { destination[i] = function(pa[i], pb[i]) }
        }
    }
}

/// `function` applied to the elements of two arrays broadcast to `shape` by strides.
struct BroadcastZip<M: ElementPairMapping>: Kernel {
    let function: M
    let shape: [Int], stridesA: [Int], stridesB: [Int]
    let grain: Int

    func run(_ inputs: KernelInputs, _ output: UnsafeMutableRawPointer) {
        let pa = inputs[0].assumingMemoryBound(to: M.Input.self)
        let pb = inputs[1].assumingMemoryBound(to: M.Input.self)
        let destination = output.assumingMemoryBound(to: M.Output.self)
        let innerA = stridesA[shape.count - 1], innerB = stridesB[shape.count - 1]
        forEachRow(shape: shape, stridesA: stridesA, stridesB: stridesB, grain: grain) { outRange, offsetA, offsetB in
            // The common row kinds get loops the compiler vectorizes (indexed from pointers to
            // the row's start: no overflow-checked index arithmetic in the loop).
            let row = destination + outRange.lowerBound, rowA = pa + offsetA, rowB = pb + offsetB
            switch (innerA, innerB) {
            case (1, 1):
                for j in 0..<outRange.count { row[j] = function(rowA[j], rowB[j]) }
            case (1, 0):
                let scalar = rowB[0]
                for j in 0..<outRange.count { row[j] = function(rowA[j], scalar) }
            case (0, 1):
                let scalar = rowA[0]
                for j in 0..<outRange.count { row[j] = function(scalar, rowB[j]) }
            default:
                var ia = 0, ib = 0
                for j in 0..<outRange.count {
                    row[j] = function(rowA[ia], rowB[ib])
                    ia += innerA
                    ib += innerB
                }
            }
        }
    }
}

/// Applies `function` to the elements of `a` and `b` broadcast to `shape`, across the cores
/// when there are at least `grain` elements per core.
func zipElements<M: ElementPairMapping>(_ a: DLArray, _ b: DLArray, shape: [Int],
                                        grain: Int = Parallel.elementGrain, _ function: M) -> DLArray {
    let count = shape.reduce(1, *)
    let specification = KernelOutput(count: count, dataType: M.Output.dataType)
    let output: Storage
    if count == 0 {
        output = Storage.kernelOutput(specification)
    } else if (a.count == count || a.count == 1) && (b.count == count || b.count == 1) {
        output = ElementZip(function: function, count: count, grain: grain,
                            aIsScalar: a.count != count, bIsScalar: b.count != count)
            .output(reading: a, b, specification)
    } else {
        let (merged, stridesA, stridesB) = mergedDimensions(
            shape, broadcastStrides(a.shape, to: shape), broadcastStrides(b.shape, to: shape))
        output = BroadcastZip(function: function, shape: merged, stridesA: stridesA, stridesB: stridesB, grain: grain)
            .output(reading: a, b, specification)
    }
    return DLArray(storage: output, shape: shape)
}

/// Applies `function` to the elements of `a` and `b` (both of type `T`) broadcast to `shape`,
/// giving elements of type `U`.
func zipElements<T: DLElement, U: DLElement>(_ a: DLArray, _ b: DLArray, shape: [Int],
                                             grain: Int = Parallel.elementGrain,
                                             _ function: @escaping (T, T) -> U) -> DLArray {
    zipElements(a, b, shape: shape, grain: grain, ClosurePairMapping(body: function))
}

/// `F` as an ``ElementPairMapping`` of `T`.
struct FloatingPairMapping<F: FloatingBinaryFunction, T: DLFloatingElement>: ElementPairMapping {
    @inline(__always) func callAsFunction(_ a: T, _ b: T) -> T { F.apply(a, b) }
}

/// `F` as an ``ElementPairMapping`` of `T`.
struct RealPairMapping<F: RealBinaryFunction, T: DLRealElement>: ElementPairMapping {
    @inline(__always) func callAsFunction(_ a: T, _ b: T) -> T { F.apply(a, b) }
}

/// The test `F` as an ``ElementPairMapping`` of `T`.
struct PredicateMapping<F: RealPredicate, T: DLRealElement>: ElementPairMapping {
    @inline(__always) func callAsFunction(_ a: T, _ b: T) -> Bool { F.apply(a, b) }
}

/// `F` of each element and a constant: `x op c`, or `c op x` when `constantFirst`.
struct ConstantMapping<F: FloatingBinaryFunction, T: DLFloatingElement>: ElementMapping {
    let constant: T, constantFirst: Bool
    @inline(__always) func callAsFunction(_ x: T) -> T { constantFirst ? F.apply(constant, x) : F.apply(x, constant) }
}

/// `F` applied to every element and a Swift scalar (`x op c`, or `c op x` when `scalarFirst`).
struct FloatingScalarMap<F: FloatingBinaryFunction>: FloatingKernel {
    let x: DLArray, scalar: Double, scalarFirst: Bool
    func run<T: DLFloatingElement>(_ type: T.Type) -> DLArray {
        mapElements(x, grain: F.grain, ConstantMapping<F, T>(constant: T(dlValue: scalar), constantFirst: scalarFirst))
    }
}

struct FloatingZip<F: FloatingBinaryFunction>: FloatingKernel {
    let a: DLArray, b: DLArray, shape: [Int]
    func run<T: DLFloatingElement>(_ type: T.Type) -> DLArray {
        zipElements(a, b, shape: shape, grain: F.grain, FloatingPairMapping<F, T>())
    }
}

struct RealZip<F: RealBinaryFunction>: RealKernel {
    let a: DLArray, b: DLArray, shape: [Int]
    func run<T: DLRealElement>(_ type: T.Type) -> DLArray {
        zipElements(a, b, shape: shape, grain: F.grain, RealPairMapping<F, T>())
    }
}

struct RealTest<F: RealPredicate>: RealKernel {
    let a: DLArray, b: DLArray, shape: [Int]
    func run<T: DLRealElement>(_ type: T.Type) -> DLArray {
        zipElements(a, b, shape: shape, PredicateMapping<F, T>())
    }
}

/// Two arrays brought to a common type and their broadcast shape, ready for a binary kernel.
struct BinaryOperands {
    let a: DLArray
    let b: DLArray
    let shape: [Int]
    let labels: String

    /// Checks that `a` and `b` broadcast, converts them to the promoted type (traced, so the
    /// conversion is differentiated) and works out the result's labels.
    init(_ a: DLArray, _ b: DLArray, operation: String) throws {
        guard let shape = broadcastShape(a.shape, b.shape) else {
            throw DLError.shapeMismatch(
                "\(operation): arrays of shapes \(a.shape) and \(b.shape) cannot be broadcast together (sizes must match or be 1, aligned at the last dimension)")
        }
        self.labels = try resultLabels(a, b, shape: shape, operation: operation)
        var type = DLDataType.promoted(a.dataType, b.dataType)
        if type == .bool { type = .float32 }
        self.a = a.dataType == type ? a : a.converted(to: type)
        self.b = b.dataType == type ? b : b.converted(to: type)
        self.shape = shape
    }
}

/// The labels of the result of a binary operation: those of the labeled operand; two labeled
/// operands must agree, as in MATLAB.
func resultLabels(_ a: DLArray, _ b: DLArray, shape: [Int], operation: String) throws -> String {
    switch (a.labels.isEmpty, b.labels.isEmpty) {
    case (true, true): return ""
    case (false, true): return a.rank == shape.count ? a.labels : ""
    case (true, false): return b.rank == shape.count ? b.labels : ""
    case (false, false):
        guard a.labels == b.labels else {
            throw DLError.invalidArgument(
                "\(operation): operands have different dimension labels \"\(a.labels)\" and \"\(b.labels)\"; use stripdims or relabel one of them")
        }
        return a.labels
    }
}

// MARK: - Type conversion

extension DLArray {
    /// The same values stored as `type`, without tracing (complex to real keeps the real part).
    func storageConverted(to type: DLDataType) -> DLArray {
        if type == dataType { return self }
        switch dataType {
        case .float32: return converting(from: Float.self, to: type)
        case .float64: return converting(from: Double.self, to: type)
        case .complex64: return converting(from: Complex<Float>.self, to: type)
        case .complex128: return converting(from: Complex<Double>.self, to: type)
        case .bool: return converting(from: Bool.self, to: type)
        }
    }

    private func converting<Source: DLElement>(from source: Source.Type, to type: DLDataType) -> DLArray {
        switch type {
        case .float32: mapElements(self) { (v: Source) in Float(doubleParts: v.doubleParts) }
        case .float64: mapElements(self) { (v: Source) in Double(doubleParts: v.doubleParts) }
        case .complex64: mapElements(self) { (v: Source) in Complex<Float>(doubleParts: v.doubleParts) }
        case .complex128: mapElements(self) { (v: Source) in Complex<Double>(doubleParts: v.doubleParts) }
        case .bool: mapElements(self) { (v: Source) in Bool(doubleParts: v.doubleParts) }
        }
    }
}
