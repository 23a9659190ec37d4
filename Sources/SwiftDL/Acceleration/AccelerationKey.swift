/// What an accelerated function's cache is keyed by: for each argument its type and, for its
/// arrays, their shapes, element types, labels and whether they are traced, never their values;
/// for values that are not arrays (numbers, flags, a network's architecture), the values.
struct AccelerationKey: Hashable {
    /// One array's pattern.
    struct ArrayPattern: Hashable {
        let shape: [Int]
        let dataType: DLDataType
        let labels: String
        let traced: Bool
    }

    var arrays: [ArrayPattern] = []
    /// The arguments' types.
    var types: [ObjectIdentifier] = []
    /// The arguments' other contents, for those that have any.
    var values: [AnyHashable] = []

    /// Whether `arguments`' patterns are this key's, compared piece by piece as they are
    /// visited, without building a key: the cache's check of the last entry used.
    struct Matcher: PatternVisitor {
        let key: AccelerationKey
        private var array = 0, type = 0, value = 0
        private var same = true

        init(_ key: AccelerationKey) { self.key = key }

        /// Whether every piece visited matched and the key has no more.
        var matches: Bool { same && array == key.arrays.count && type == key.types.count && value == key.values.count }

        mutating func add(_ array: DLArray, traced: Bool) {
            guard same, self.array < key.arrays.count else { same = false; return }
            let pattern = key.arrays[self.array]
            same = pattern.dataType == array.dataType && pattern.traced == traced && pattern.shape == array.shape
                && pattern.labels == array.labels
            self.array += 1
        }

        mutating func add(type: ObjectIdentifier) {
            guard same, self.type < key.types.count else { same = false; return }
            same = key.types[self.type] == type
            self.type += 1
        }

        mutating func add(value: AnyHashable) {
            guard same, self.value < key.values.count else { same = false; return }
            same = key.values[self.value] == value
            self.value += 1
        }
    }

    /// Receives an argument's pattern piece by piece: a key keeps it, a ``Matcher`` compares it.
    protocol PatternVisitor {
        mutating func add(_ array: DLArray, traced: Bool)
        mutating func add(type: ObjectIdentifier)
        mutating func add(value: AnyHashable)
    }

    /// Gives `visitor` the pattern of `argument`: its arrays (traced unless their learn-rate
    /// factor is 0), the arrays it reads but does not differentiate (a network's state), its
    /// type, and its other contents.
    static func visit<C: DLArrayContainer, V: PatternVisitor>(_ argument: C, _ visitor: inout V) {
        // A plain array, the common case, without the casts below.
        if C.self == DLArray.self {
            visitor.add(unsafeBitCast(argument, to: DLArray.self), traced: true)
            visitor.add(type: ObjectIdentifier(DLArray.self))
            return
        }
        let mask = argument.trainableMask
        var index = 0
        argument.forEachArray { array in
            visitor.add(array, traced: mask?[index] ?? true)
            index += 1
        }
        var inputs = 0
        argument.forEachInputArray { array in
            inputs += 1
            if inputs > index { visitor.add(array, traced: false) }
        }
        visitor.add(type: ObjectIdentifier(C.self))
        if let keyed = argument as? any DLAccelerationKeyed {
            visitor.add(value: keyed.accelerationKey)
        } else if let hashable = argument as? any Hashable {
            visitor.add(value: AnyHashable(hashable))
        }
    }
}

extension AccelerationKey: AccelerationKey.PatternVisitor {
    mutating func add(_ array: DLArray, traced: Bool) {
        arrays.append(ArrayPattern(shape: array.shape, dataType: array.dataType, labels: array.labels, traced: traced))
    }

    mutating func add(type: ObjectIdentifier) { types.append(type) }

    mutating func add(value: AnyHashable) { values.append(value) }
}

/// A value that tells ``dlaccelerate(_:)`` what, besides its arrays' shapes, types and labels,
/// decides the computation it takes part in, so that two values that differ there get
/// different cached traces.
///
/// ``DLNetwork`` conforms with its architecture (layers, connections and learn-rate factors);
/// a container of your own that holds settings (a flag, a size) conforms with those settings.
/// Values that are `Hashable` are keyed by their value without conforming.
public protocol DLAccelerationKeyed {
    /// The settings that decide the computation, as a hashable value.
    var accelerationKey: AnyHashable { get }
}
