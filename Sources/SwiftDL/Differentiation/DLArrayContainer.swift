import RealModule
/// A value holding `DLArray`s that `dlfeval` can trace and `dlgradient` can differentiate with
/// respect to: an array itself, or any nesting of containers of arrays.
///
/// `DLArray`, `Array`, `Dictionary` (with comparable keys, visited in key order) and `Optional`
/// conform; so can your own types, by listing
/// their arrays in a fixed order:
///
/// ```swift
/// struct Affine: DLArrayContainer {
///     var weights: DLArray
///     var bias: DLArray
///     func forEachArray(_ body: (DLArray) throws -> Void) rethrows {
///         try body(weights); try body(bias)
///     }
///     func mapArrays(_ transform: (DLArray) throws -> DLArray) rethrows -> Affine {
///         Affine(weights: try transform(weights), bias: try transform(bias))
///     }
/// }
/// ```
///
/// Both methods must visit the arrays in the same order; `dlgradient` relies on it to return
/// gradients in the same structure as its input.
public protocol DLArrayContainer {
    /// Calls `body` on every array held, in a fixed order.
    func forEachArray(_ body: (DLArray) throws -> Void) rethrows
    /// A copy with every array replaced by `transform` of it, visiting in the same order as
    /// ``forEachArray(_:)``.
    func mapArrays(_ transform: (DLArray) throws -> DLArray) rethrows -> Self
    /// Calls `body` on every array a computation on this value reads, in a fixed order: the
    /// arrays of ``forEachArray(_:)`` and any others that change between calls without being
    /// differentiated, such as a network's state. ``dlaccelerate(_:)`` makes them the inputs of
    /// its cached traces. By default, the arrays of ``forEachArray(_:)``; a container that holds
    /// networks forwards this to them.
    func forEachInputArray(_ body: (DLArray) throws -> Void) rethrows
    /// A copy with every array of ``forEachInputArray(_:)`` replaced by `transform` of it, in
    /// that order. By default, ``mapArrays(_:)``.
    func mapInputArrays(_ transform: (DLArray) throws -> DLArray) rethrows -> Self
}

/// A container whose arrays have learn-rate factors, as a network's learnable parameters do.
///
/// A factor of 0 freezes an array: `dlfeval` does not trace it, `dlgradient` returns zeros for
/// it without differentiating, and the optimizers leave it unchanged. Other factors scale the
/// learning rate of that array in every optimizer.
public protocol DLLearnRateScaled: DLArrayContainer {
    /// One factor per array, in the order of ``DLArrayContainer/forEachArray(_:)``.
    var learnRateFactors: [Double] { get }
}

extension DLArrayContainer {
    /// Visits the arrays of ``forEachArray(_:)``.
    public func forEachInputArray(_ body: (DLArray) throws -> Void) rethrows { try forEachArray(body) }
    /// Maps the arrays of ``mapArrays(_:)``.
    public func mapInputArrays(_ transform: (DLArray) throws -> DLArray) rethrows -> Self { try mapArrays(transform) }

    /// Whether each array, in order, takes part in differentiation: false for arrays with a
    /// learn-rate factor of 0 (see ``DLLearnRateScaled``), true otherwise.
    var trainableMask: [Bool]? {
        (self as? any DLLearnRateScaled)?.learnRateFactors.map { $0 != 0 }
    }

    /// The arrays held, in the container's order.
    public var flattenedArrays: [DLArray] {
        var arrays: [DLArray] = []
        forEachArray { arrays.append($0) }
        return arrays
    }

    /// A copy whose arrays are `arrays`, in the container's order.
    /// - Precondition: `arrays` has one element per array held.
    public func replacingArrays(with arrays: [DLArray]) -> Self {
        var iterator = arrays.makeIterator()
        let result = mapArrays { _ in
            guard let next = iterator.next() else { preconditionFailure("too few arrays to fill the container") }
            return next
        }
        precondition(iterator.next() == nil, "too many arrays for the container")
        return result
    }
}

extension DLArray: DLArrayContainer {
    /// Calls `body` on this array.
    public func forEachArray(_ body: (DLArray) throws -> Void) rethrows { try body(self) }
    /// `transform` of this array.
    public func mapArrays(_ transform: (DLArray) throws -> DLArray) rethrows -> DLArray { try transform(self) }
}

extension Array: DLArrayContainer where Element: DLArrayContainer {
    /// Visits the elements' arrays in order.
    public func forEachArray(_ body: (DLArray) throws -> Void) rethrows {
        for element in self { try element.forEachArray(body) }
    }
    /// Maps the elements' arrays in order.
    public func mapArrays(_ transform: (DLArray) throws -> DLArray) rethrows -> [Element] {
        try map { try $0.mapArrays(transform) }
    }
    /// Visits the elements' input arrays in order.
    public func forEachInputArray(_ body: (DLArray) throws -> Void) rethrows {
        for element in self { try element.forEachInputArray(body) }
    }
    /// Maps the elements' input arrays in order.
    public func mapInputArrays(_ transform: (DLArray) throws -> DLArray) rethrows -> [Element] {
        try map { try $0.mapInputArrays(transform) }
    }
}

extension Dictionary: DLArrayContainer where Key: Comparable, Value: DLArrayContainer {
    /// Visits the values' arrays in the order of their sorted keys, so that two dictionaries with
    /// the same keys (parameters and their gradients) pair up whatever their insertion order.
    public func forEachArray(_ body: (DLArray) throws -> Void) rethrows {
        for key in keys.sorted() { try self[key]!.forEachArray(body) }
    }
    /// Maps the values' arrays in the order of their sorted keys; the keys stay.
    public func mapArrays(_ transform: (DLArray) throws -> DLArray) rethrows -> [Key: Value] {
        var result: [Key: Value] = [:]
        result.reserveCapacity(count)
        for key in keys.sorted() { result[key] = try self[key]!.mapArrays(transform) }
        return result
    }
    /// Visits the values' input arrays in the order of their sorted keys.
    public func forEachInputArray(_ body: (DLArray) throws -> Void) rethrows {
        for key in keys.sorted() { try self[key]!.forEachInputArray(body) }
    }
    /// Maps the values' input arrays in the order of their sorted keys; the keys stay.
    public func mapInputArrays(_ transform: (DLArray) throws -> DLArray) rethrows -> [Key: Value] {
        var result: [Key: Value] = [:]
        result.reserveCapacity(count)
        for key in keys.sorted() { result[key] = try self[key]!.mapInputArrays(transform) }
        return result
    }
}

extension Optional: DLArrayContainer where Wrapped: DLArrayContainer {
    /// Visits the wrapped value's arrays, if any.
    public func forEachArray(_ body: (DLArray) throws -> Void) rethrows {
        try self?.forEachArray(body)
    }
    /// Maps the wrapped value's arrays; nil stays nil.
    public func mapArrays(_ transform: (DLArray) throws -> DLArray) rethrows -> Wrapped? {
        try self.map { try $0.mapArrays(transform) }
    }
    /// Visits the wrapped value's input arrays, if any.
    public func forEachInputArray(_ body: (DLArray) throws -> Void) rethrows {
        try self?.forEachInputArray(body)
    }
    /// Maps the wrapped value's input arrays; nil stays nil.
    public func mapInputArrays(_ transform: (DLArray) throws -> DLArray) rethrows -> Wrapped? {
        try self.map { try $0.mapInputArrays(transform) }
    }
}

/// A Swift value that holds no arrays, so that functions given to ``dlfeval(_:_:)->Result`` and
/// ``dlaccelerate(_:)`` can take settings (a count, a flag, a rate) beside their arrays;
/// an accelerated function keys its traces by these values.
public protocol DLArrayFreeValue: DLArrayContainer, Hashable {}

extension DLArrayFreeValue {
    /// Visits nothing: the value holds no arrays.
    public func forEachArray(_ body: (DLArray) throws -> Void) rethrows {}
    /// The value itself.
    public func mapArrays(_ transform: (DLArray) throws -> DLArray) rethrows -> Self { self }
}

extension Int: DLArrayFreeValue {}
extension Double: DLArrayFreeValue {}
extension Float: DLArrayFreeValue {}
extension Bool: DLArrayFreeValue {}
extension String: DLArrayFreeValue {}
