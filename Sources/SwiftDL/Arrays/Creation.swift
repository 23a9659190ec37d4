import RealModule
import ComplexModule

extension DLArray {
    /// An array of zeros.
    public static func zeros(_ shape: [Int], type: DLDataType = .float64, labels: String = "") -> DLArray {
        precondition(shape.allSatisfy { $0 >= 0 }, "shape \(shape) has a negative size")
        return DLArray(storage: .zeroedConstant(count: shape.reduce(1, *), dataType: type), shape: shape)
            .withCanonicalLabels(labels)
    }

    /// An array of ones.
    public static func ones(_ shape: [Int], type: DLDataType = .float64, labels: String = "") -> DLArray {
        full(shape, value: 1, type: type, labels: labels)
    }

    /// An array whose every element is `value`.
    public static func full(_ shape: [Int], value: Double, type: DLDataType = .float64,
                            labels: String = "") -> DLArray {
        precondition(shape.allSatisfy { $0 >= 0 }, "shape \(shape) has a negative size")
        let storage = Storage.constant(count: shape.reduce(1, *), dataType: type)
        storage.fill(with: value)
        return DLArray(storage: storage, shape: shape).withCanonicalLabels(labels)
    }

    /// An array of zeros with the shape, type and labels of `other` (MATLAB's `zeros(…, "like", x)`).
    public static func zeros(like other: DLArray) -> DLArray {
        DLArray(storage: .zeroedConstant(count: other.count, dataType: other.dataType),
                shape: other.shape, labels: other.labels)
    }

    /// An array of ones with the shape, type and labels of `other`.
    public static func ones(like other: DLArray) -> DLArray {
        full(like: other, value: 1)
    }

    /// An array filled with `value` with the shape, type and labels of `other`.
    public static func full(like other: DLArray, value: Double) -> DLArray {
        let storage = Storage.constant(count: other.count, dataType: other.dataType)
        storage.fill(with: value)
        return DLArray(storage: storage, shape: other.shape, labels: other.labels)
    }

    /// Applies canonical labels to a freshly made array whose shape is already in label order.
    func withCanonicalLabels(_ labels: String) -> DLArray {
        if labels.isEmpty { return self }
        do { return try self.labeled(labels) } catch { preconditionFailure("\(error)") }
    }
}

extension Storage {
    /// Sets every element to `value` (the real part, for complex storage; nonzero is `true`).

    func fill(with value: Double) {
        switch dataType {
        case .float32: pointer(as: Float.self).update(repeating: Float(value), count: count)
        case .float64: pointer(as: Double.self).update(repeating: value, count: count)
        case .complex64: pointer(as: Complex<Float>.self).update(repeating: Complex(Float(value)), count: count)
        case .complex128: pointer(as: Complex<Double>.self).update(repeating: Complex(value), count: count)
        case .bool: pointer(as: Bool.self).update(repeating: value != 0, count: count)
        }
    }
}
