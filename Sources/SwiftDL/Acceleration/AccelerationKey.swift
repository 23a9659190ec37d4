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

    /// Adds an argument: its arrays' patterns and its other contents.
    mutating func append<C: DLArrayContainer>(_ argument: C) {
        let mask = argument.trainableMask
        var index = 0
        argument.forEachArray { array in
            arrays.append(ArrayPattern(shape: array.shape, dataType: array.dataType, labels: array.labels,
                                       traced: mask?[index] ?? true))
            index += 1
        }
        // Arrays read but not differentiated (a network's state) count with their patterns too.
        var inputs = 0
        argument.forEachInputArray { array in
            inputs += 1
            if inputs > index {
                arrays.append(ArrayPattern(shape: array.shape, dataType: array.dataType, labels: array.labels, traced: false))
            }
        }
        types.append(ObjectIdentifier(C.self))
        if let keyed = argument as? any DLAccelerationKeyed {
            values.append(keyed.accelerationKey)
        } else if !(argument is DLArray), let hashable = argument as? any Hashable {
            values.append(AnyHashable(hashable))
        }
    }
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
