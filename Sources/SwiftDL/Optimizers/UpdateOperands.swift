/// The arrays an optimizer step works on, read from the caller's containers and checked against
/// each other: the parameters, their gradients (in the parameters' element types) and their
/// learn-rate factors.
///
/// Every optimizer compares containers array by array, in the order of
/// ``DLArrayContainer/forEachArray(_:)``: the gradients and the states must hold as many arrays
/// as the parameters, each of its parameter's shape.
struct UpdateOperands {
    /// The optimizer's name, which starts every message.
    let function: String
    /// The parameters' arrays, in the container's order.
    let parameters: [DLArray]
    /// The gradients' arrays, in their parameters' element types.
    let gradients: [DLArray]
    /// One learn-rate factor per parameter array (see ``DLLearnRateScaled``).
    let learnRateFactors: [Double]

    /// Reads and checks `parameters` and `gradients`.
    /// - Parameter allowComplex: whether complex parameters are accepted (else they are an error).
    /// - Throws: ``DLError/invalidArgument(_:)`` when the containers hold different numbers of
    ///   arrays or the learn-rate factors are not one non-negative finite number per array,
    ///   ``DLError/shapeMismatch(_:)`` when a gradient's shape is not its parameter's, and
    ///   ``DLError/unsupportedType(_:)`` for parameters or gradients of the wrong element type.
    init<P: DLArrayContainer>(_ function: String, parameters: P, gradients: P, allowComplex: Bool) throws {
        self.function = function
        self.parameters = try floatingArrays(of: parameters, function: function, allowComplex: allowComplex)
        learnRateFactors = try SwiftDL.learnRateFactors(of: parameters, count: self.parameters.count, function: function)
        let gradientArrays = gradients.flattenedArrays
        try checkStructure(gradientArrays, named: "gradients", function: function, matching: self.parameters)
        self.gradients = try zip(gradientArrays, self.parameters).enumerated().map { index, pair in
            try converted(pair.0, like: pair.1, named: "gradients array \(index)", function: function)
        }
    }

    /// The arrays of an optimizer state such as the average gradient, checked against the
    /// parameters and in their element types (arrays of the right type are returned as they
    /// are); nil when the state is nil or holds no arrays, as MATLAB's `[]` before the first step.
    /// - Throws: ``DLError/invalidArgument(_:)`` or ``DLError/shapeMismatch(_:)`` when a
    ///   non-empty state does not have the parameters' structure.
    func state<S: DLArrayContainer>(_ state: S?, named name: String) throws -> [DLArray]? {
        guard let arrays = state?.flattenedArrays, !arrays.isEmpty || parameters.isEmpty else { return nil }
        try checkStructure(arrays, named: name, function: function, matching: parameters)
        return try zip(arrays, parameters).enumerated().map { index, pair in
            try converted(pair.0, like: pair.1, named: "\(name) array \(index)", function: function)
        }
    }
}

/// The arrays of `container`, checked to be floating-point (and real unless `allowComplex`).
/// - Parameter kind: what the arrays are, for messages: "parameter" or "gradients".
/// - Throws: ``DLError/unsupportedType(_:)`` naming the first array of another element type.
func floatingArrays<C: DLArrayContainer>(of container: C, kind: String = "parameter", function: String,
                                         allowComplex: Bool) throws -> [DLArray] {
    let arrays = container.flattenedArrays
    for (index, array) in arrays.enumerated() {
        guard array.dataType.isFloatingPoint, allowComplex || !array.dataType.isComplex else {
            throw DLError.unsupportedType("""
                \(function): \(kind) array \(index) is \(array.dataType); it must be a \
                \(allowComplex ? "floating-point" : "real floating-point (float32 or float64)") array
                """)
        }
    }
    return arrays
}

/// The learn-rate factors of `container`'s arrays: its own when it is ``DLLearnRateScaled``,
/// else 1 for every array.
/// - Throws: ``DLError/invalidArgument(_:)`` unless there is one non-negative finite factor per array.
func learnRateFactors<C: DLArrayContainer>(of container: C, count: Int, function: String) throws -> [Double] {
    guard let factors = (container as? any DLLearnRateScaled)?.learnRateFactors else {
        return Array(repeating: 1, count: count)
    }
    guard factors.count == count else {
        throw DLError.invalidArgument("""
            \(function): the parameters give \(factors.count) learn-rate factors for \(count) arrays; \
            learnRateFactors must have one factor per array
            """)
    }
    if let index = factors.firstIndex(where: { !($0.isFinite && $0 >= 0) }) {
        throw DLError.invalidArgument("""
            \(function): the learn-rate factor of parameter array \(index) is \(factors[index]); \
            factors must be finite and non-negative (0 freezes an array)
            """)
    }
    return factors
}

/// Checks that `arrays` pair one by one with `reference`, the parameters' arrays: as many
/// arrays, each of its parameter's shape.
/// - Throws: ``DLError/invalidArgument(_:)`` for a different number of arrays,
///   ``DLError/shapeMismatch(_:)`` for a different shape.
func checkStructure(_ arrays: [DLArray], named name: String, function: String, matching reference: [DLArray],
                    referenceName: String = "parameters") throws {
    guard arrays.count == reference.count else {
        throw DLError.invalidArgument("""
            \(function): \(arrays.count) arrays in \(name) but \(reference.count) in \(referenceName); they \
            must have the same structure (dlgradient(loss, parameters) returns gradients in the parameters' structure)
            """)
    }
    for (index, (array, parameter)) in zip(arrays, reference).enumerated() where array.shape != parameter.shape {
        throw DLError.shapeMismatch("""
            \(function): \(name) array \(index) has shape \(array.shape) but \(referenceName) array \(index) \
            has shape \(parameter.shape); they must have the same structure
            """)
    }
}

/// `array` in `parameter`'s element type: itself when it has that type, else an untraced copy
/// with its labels.
/// - Throws: ``DLError/unsupportedType(_:)`` for a bool array, or a complex one for a real parameter.
private func converted(_ array: DLArray, like parameter: DLArray, named name: String, function: String) throws -> DLArray {
    guard array.dataType.isFloatingPoint, parameter.dataType.isComplex || !array.dataType.isComplex else {
        throw DLError.unsupportedType("""
            \(function): \(name) is \(array.dataType) but its parameter is \(parameter.dataType); \
            it must be a \(parameter.dataType.isComplex ? "floating-point" : "real floating-point") array
            """)
    }
    if array.dataType == parameter.dataType { return array }
    return extractdata(array).storageConverted(to: parameter.dataType).withLabels(array.labels)
}

/// Throws ``DLError/invalidArgument(_:)`` with `message` unless `condition` holds: the check of
/// an optimizer's setting.
func requireSetting(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    guard condition else { throw DLError.invalidArgument(message()) }
}

/// New arrays with `parameter`'s shape, element type `T` and labels, whose elements `body`
/// writes, chunk by chunk across the cores, from the elements of `inputs` (each with
/// `parameter`'s count, of type `T`): a fused, untraced elementwise update.
func elementwiseUpdate<T: DLFloatingElement>(
    _ type: T.Type, like parameter: DLArray, inputs: [DLArray], outputCount: Int,
    _ body: @escaping (_ range: Range<Int>, _ inputs: [UnsafeMutablePointer<T>], _ outputs: [UnsafeMutablePointer<T>]) -> Void
) -> [DLArray] {
    let update = ElementwiseUpdate(T.self, like: parameter, inputs: inputs, outputCount: outputCount, body)
    ElementwiseUpdate.run([update])
    return update.outputs
}

/// A fused, untraced elementwise update of one array, prepared but not yet run: its output
/// arrays (allocated, not yet written) and the work that writes them. An optimizer prepares one
/// per parameter array and runs them all with ``run(_:)``, as one loop split across the cores:
/// the arrays of a small network are each too small to be worth splitting on their own.
struct ElementwiseUpdate {
    /// The arrays the work writes, with the parameter's shape, element type and labels.
    let outputs: [DLArray]
    /// The number of elements of each input and output.
    let count: Int
    /// Writes output elements `range` from the same elements of the inputs.
    let work: (_ range: Range<Int>) -> Void

    /// Prepares the update whose `body` writes `outputCount` new arrays like `parameter`, range
    /// by range, from the elements of `inputs` (each with `parameter`'s count, of type `T`).
    ///
    /// Output `k` is written in place into `inPlace[k]` when that is given: an array among the
    /// inputs that nothing else holds (see ``DLArray/isUniquelyHeld(like:)``), whose output
    /// pointer is then its input pointer. The others are new arrays.
    init<T: DLFloatingElement>(
        _ type: T.Type, like parameter: DLArray, inputs: [DLArray], outputCount: Int, inPlace: [DLArray?] = [],
        _ body: @escaping (_ range: Range<Int>, _ inputs: [UnsafeMutablePointer<T>], _ outputs: [UnsafeMutablePointer<T>]) -> Void
    ) {
        count = parameter.count
        let outputs = (0..<outputCount).map { k in
            k < inPlace.count ? inPlace[k] ?? Self.newOutput(T.self, like: parameter) : Self.newOutput(T.self, like: parameter)
        }
        let sources = inputs.map { $0.storage.pointer(as: T.self) }
        let destinations = outputs.map { $0.storage.pointer(as: T.self) }
        // The work holds the inputs, so that their elements live until it has run.
        work = { range in withExtendedLifetime(inputs) { body(range, sources, destinations) } }
        self.outputs = outputs
    }

    /// A new array like `parameter` (its shape, element type `T` and labels), not yet written.
    private static func newOutput<T: DLFloatingElement>(_ type: T.Type, like parameter: DLArray) -> DLArray {
        DLArray(storage: Storage.allocate(count: parameter.count, dataType: T.dataType), shape: parameter.shape,
                labels: parameter.labels)
    }

    /// Runs the updates' work as one loop over all their elements, in chunks across the cores
    /// (see ``Parallel/forEachChunk(count:grain:_:)``); a chunk may end inside one array and the
    /// next begin there. Each element is written by one fused expression of its own inputs, so
    /// the results do not depend on where the chunks fall.
    static func run(_ updates: [ElementwiseUpdate]) {
        var starts = [0]
        for update in updates { starts.append(starts[starts.count - 1] + update.count) }
        Parallel.forEachChunk(count: starts[starts.count - 1]) { chunk in
            var index = starts.lastIndex { $0 <= chunk.lowerBound }!
            while index < updates.count && starts[index] < chunk.upperBound {
                let range = max(chunk.lowerBound, starts[index]) ..< min(chunk.upperBound, starts[index + 1])
                if !range.isEmpty { updates[index].work(range.lowerBound - starts[index] ..< range.upperBound - starts[index]) }
                index += 1
            }
        }
    }
}

extension DLArray {
    /// Whether an optimizer may write this array's elements in place: no other array, view or
    /// container holds them (Swift's `isKnownUniquelyReferenced`), they are an array like
    /// `parameter` (its shape and labels) that no trace records, and no ``dlaccelerate(_:)``
    /// capture runs on this thread (which sees only kernels' writes).
    mutating func isUniquelyHeld(like parameter: DLArray) -> Bool {
        KernelCapture.current == nil && !storage.isView && isKnownUniquelyReferenced(&storage)
            && shape == parameter.shape && labels == parameter.labels && node == nil
    }
}
