import RealModule
extension DLArray {
    /// The values converted to `type`; traced, so gradients flow back converted to this
    /// array's type. Converting complex to real keeps the real part (see also ``real(_:)``);
    /// conversions to and from `bool` are not differentiated.
    public func converted(to type: DLDataType) -> DLArray {
        if type == dataType { return self }
        let source = dataType
        let result = storageConverted(to: type)
        guard source != .bool && type != .bool else { return result }
        return result.recorded(from: self) { gradient in gradient.converted(to: source) }
    }
}

/// A scalar of `value` stored in the type `like` uses for arithmetic.
func scalarOperand(_ value: Double, like x: DLArray) -> DLArray {
    let type = x.dataType == .bool ? DLDataType.float32 : x.dataType
    let storage = Storage.constant(count: 1, dataType: type)
    storage.fill(with: value)
    return DLArray(storage: storage, shape: [])
}

extension BinaryOperands {
    /// Two arrays of the same shape and type (the caller guarantees it), labels from `a`.
    init(sameShape a: DLArray, _ b: DLArray) {
        precondition(a.shape == b.shape && a.dataType == b.dataType, "same-shape operands differ: \(a.shape) \(b.shape)")
        self.a = a
        self.b = b
        self.shape = a.shape
        self.labels = a.labels
    }

    /// A Swift scalar and an array.
    init(scalar: Double, _ b: DLArray) {
        self.a = scalarOperand(scalar, like: b)
        self.b = b.dataType == .bool ? b.converted(to: .float32) : b
        self.shape = b.shape
        self.labels = b.labels
    }
}

extension DLArray {
    /// The gradient of a broadcast: sums this array over the dimensions that broadcasting
    /// added or stretched, so that it has `target` shape.
    func summed(toShape target: [Int]) throws -> DLArray {
        if shape == target { return self }
        let offset = rank - target.count
        let dims = (0..<rank).filter { k in k < offset || (target[k - offset] == 1 && shape[k] != 1) }
        let reduced = dims.isEmpty ? self : try sum(self, dims: dims)
        return try reshape(reduced, target)
    }

    /// This array broadcast to `target` (sizes 1 stretched, leading dimensions added); traced,
    /// with the summation back as its gradient.
    public func broadcast(to target: [Int]) throws -> DLArray {
        if shape == target { return self }
        guard broadcastShape(shape, target) == target else {
            throw DLError.shapeMismatch("cannot broadcast an array of shape \(shape) to shape \(target)")
        }
        let result = gathered(shape: target, view: StridedView(offset: 0, strides: broadcastStrides(shape, to: target)))
            .withLabels(rank == target.count ? labels : "")
        let original = shape
        return result.recorded(from: self) { gradient in try gradient.summed(toShape: original) }
    }
}
