import RealModule
import ComplexModule

/// An n-dimensional array whose operations can be traced for automatic differentiation.
///
/// A `DLArray` is a value: copies share their storage until one of them is written to
/// (copy-on-write). Elements are stored contiguously in row-major order (the last dimension
/// varies fastest). The element type is one of ``DLDataType``.
///
/// Inside ``dlfeval(_:_:)->Result``, arrays passed as arguments are traced: every operation on them is
/// recorded so that ``dlgradient(_:_:retainData:enableHigherDerivatives:allowComplex:)`` can
/// differentiate the result. Outside `dlfeval` nothing is recorded and nothing is paid.
///
/// An array can carry dimension labels (see ``labels``): `S` spatial, `C` channel, `B` batch,
/// `T` time and `U` unspecified, one letter per dimension.
///
/// ```swift
/// let x = DLArray([-1.0, 2.0])              // 1x2 float64
/// let images = DLArray.zeros([64, 1, 28, 28], labels: "BCSS")
/// ```
public struct DLArray: @unchecked Sendable {
    /// The elements, and in the storage's header this array's shape, labels and trace node:
    /// copying a `DLArray` is one retain, and a computed array is one allocation.
    var storage: Storage

    init(storage: Storage, shape: [Int], labels: String = "", node: TraceNode? = nil) {
        self.storage = storage.claim(shape: shape, labels: labels, node: node)
            ? storage : Storage.view(of: storage, shape: shape, labels: labels, node: node)
    }

    /// The size of each dimension; an empty shape is a scalar.
    public var shape: [Int] { storage.headerPointer.pointee.shape }

    /// The dimension labels, one letter per dimension, or an empty string for an unlabeled array.
    ///
    /// Labels are kept in SwiftDL's canonical order, which is MATLAB's order read backwards
    /// because SwiftDL is row-major: `U…`, `T`, `B`, `C`, `S…`. MATLAB's `"SSCB"` image batch
    /// (column-major H×W×C×N) is SwiftDL's `"BCSS"` (row-major N×C×W×H), the same memory.
    public internal(set) var labels: String {
        get { storage.headerPointer.pointee.labels }
        set {
            if isKnownUniquelyReferenced(&storage) {
                storage.headerPointer.pointee.labels = newValue
            } else {
                storage = .view(of: storage, shape: shape, labels: newValue, node: node)
            }
        }
    }

    /// The trace node that produced this value, when it was computed inside `dlfeval`.
    var node: TraceNode? {
        get { storage.headerPointer.pointee.node }
        set {
            if isKnownUniquelyReferenced(&storage) {
                storage.headerPointer.pointee.node = newValue
            } else {
                storage = .view(of: storage, shape: shape, labels: labels, node: newValue)
            }
        }
    }

    /// The element type.
    public var dataType: DLDataType { storage.dataType }

    /// The number of dimensions.
    public var rank: Int { storage.headerPointer.pointee.shape.count }

    /// The number of elements.
    public var count: Int { storage.count }

    /// Whether this value is being traced by the `dlfeval` running on this thread.
    public var isTraced: Bool { node.map { Trace.recordingTrace(for: $0) != nil } ?? false }

    /// Makes the elements unique before a write: shared ones (or a view's) are copied into a
    /// storage of this array's own.
    mutating func makeStorageUnique() {
        KernelCapture.current?.noteUntracedWrite("an array written in place")
        if storage.isView || !isKnownUniquelyReferenced(&storage) {
            let (shape, labels, node) = (self.shape, self.labels, self.node)
            storage = storage.copy()
            _ = storage.claim(shape: shape, labels: labels, node: node)
        }
    }
}

// MARK: - Creating arrays from Swift values

extension DLArray {
    /// A one-dimensional array of the given elements.
    ///
    /// `DLArray([-1.0, 2.0])` is a `float64` array of shape `[2]`, printed as `1x2 dlarray`.
    public init<T: DLElement>(_ elements: [T]) {
        self.init(storage: Storage.make(elements), shape: [elements.count])
    }

    /// An array of the given shape holding `elements` in row-major order.
    ///
    /// - Parameters:
    ///   - elements: the elements, row-major; their count must be the product of `shape`.
    ///   - shape: the size of each dimension.
    ///   - labels: optional dimension labels (see ``labels``); given in any order, the data is
    ///     permuted into canonical order, as MATLAB's `dlarray(X, fmt)` does.
    /// - Throws: ``DLError/invalidArgument(_:)`` when the count or the labels do not fit the shape.
    public init<T: DLElement>(_ elements: [T], shape: [Int], labels: String = "") throws {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw DLError.invalidArgument("shape \(shape) has a negative size")
        }
        guard shape.reduce(1, *) == elements.count else {
            throw DLError.invalidArgument(
                "\(elements.count) elements do not fill shape \(shape), which holds \(shape.reduce(1, *))")
        }
        let plain = DLArray(storage: Storage.make(elements), shape: shape)
        self = try labels.isEmpty ? plain : plain.labeled(labels)
    }

    /// A two-dimensional array from its rows.
    /// - Throws: ``DLError/invalidArgument(_:)`` when the rows differ in length.
    public init<T: DLElement>(rows: [[T]]) throws {
        let columns = rows.first?.count ?? 0
        guard rows.allSatisfy({ $0.count == columns }) else {
            throw DLError.invalidArgument("rows have different lengths: \(rows.map(\.count))")
        }
        try self.init(rows.flatMap { $0 }, shape: [rows.count, columns])
    }

    /// A scalar (rank-0) array.
    public init<T: DLElement>(_ scalar: T) {
        self.init(storage: Storage.make([scalar]), shape: [])
    }

    /// A `float64` scalar from an integer, for convenience: `DLArray(3)`.
    public init(_ scalar: Int) {
        self.init(Double(scalar))
    }
}

extension Storage {
    /// Storage holding a copy of `elements`.

    static func make<T: DLElement>(_ elements: [T]) -> Storage {
        let storage = constant(count: elements.count, dataType: T.dataType)
        elements.withUnsafeBufferPointer { source in
            if let base = source.baseAddress {
                storage.pointer(as: T.self).initialize(from: base, count: source.count)
            }
        }
        return storage
    }
}

// MARK: - Reading values back

extension DLArray {
    /// The elements in row-major order, converted to `T`.
    ///
    /// Real values convert to any floating-point or complex type; complex values convert only
    /// to complex types (take ``real(_:)`` first to read a real part); `bool` reads as 0 and 1.
    public func scalars<T: DLElement>(as type: T.Type = T.self) -> [T] {
        let converted = T.dataType == dataType ? self : self.storageConverted(to: T.dataType)
        return Array(UnsafeBufferPointer(start: converted.storage.pointer(as: T.self), count: count))
    }

    /// The single element of a one-element array, converted to `T` (see ``scalars(as:)``).
    ///
    /// - Precondition: the array has exactly one element.
    public func scalar<T: DLElement>(as type: T.Type = T.self) -> T {
        precondition(count == 1, "scalar(as:) needs a one-element array, this one has shape \(shape)")
        return scalars(as: T.self)[0]
    }
}

/// The values of `x` without its trace: a `DLArray` that nothing is recorded for,
/// as MATLAB's `extractdata` returns the plain numbers. Labels are dropped too.
///
/// A value computed from `extractdata` is a constant: differentiating it gives an error.
public func extractdata(_ x: DLArray) -> DLArray {
    DLArray(storage: x.storage, shape: x.shape)
}
