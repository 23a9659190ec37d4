/// The header of a ``Storage`` block: how many elements it holds and of which type, and the
/// array it describes (shape, labels, trace node), so that a computed array is one allocation.
struct StorageHeader {
    let count: Int
    let dataType: DLDataType
    /// For a view, the storage that holds the elements; nil when they follow this header.
    var base: Storage?
    /// Whether an array has taken the fields below as its own.
    var claimed = false
    var shape: [Int] = []
    var labels: String = ""
    var node: TraceNode?
}

/// A contiguous, 8-byte aligned block of elements, allocated in one piece with its header, which
/// describes one array: a `DLArray` is a single reference to its storage.
///
/// Another array on the same elements (a reshape, a relabeling, a traced copy) is a *view*: a
/// storage with no elements of its own whose header names the base storage. Copies of a
/// `DLArray` share its storage; a copy that changes its labels or node becomes a view, and one
/// that writes its elements gets a copy of them first (copy-on-write). Storage is never resized.
final class Storage: ManagedBuffer<StorageHeader, UInt64> {
    /// Allocates uninitialized storage for `count` elements of `dataType`, for code that fills it
    /// with Swift loops outside a ``Kernel``.
    ///
    /// While ``dlaccelerate(_:)`` captures a function, such storage may hold values computed
    /// from the function's inputs that the capture cannot see, so the capture is marked as not
    /// replayable (`file` and `line` name the place); creations of constants use
    /// ``constant(count:dataType:)`` and kernels ``kernelOutput(_:)`` instead.
    static func allocate(count: Int, dataType: DLDataType,
                         file: StaticString = #fileID, line: UInt = #line) -> Storage {
        KernelCapture.current?.noteUntracedWrite("storage filled outside a kernel at \(file):\(line)")
        return unchecked(count: count, dataType: dataType)
    }

    /// Allocates uninitialized storage for a constant: elements set from Swift values (a literal,
    /// a fill, a random draw) that do not depend on any array.
    static func constant(count: Int, dataType: DLDataType) -> Storage {
        unchecked(count: count, dataType: dataType)
    }

    /// Allocates uninitialized storage, with no check.
    static func unchecked(count: Int, dataType: DLDataType) -> Storage {
        let words = (count * dataType.byteCount + 7) / 8
        let buffer = Storage.create(minimumCapacity: words) { _ in
            StorageHeader(count: count, dataType: dataType)
        }
        return unsafeDowncast(buffer, to: Storage.self)
    }

    /// Allocates storage for `count` elements of `dataType`, every byte zero
    /// (zero is `0`, `0+0i` and `false` in every type), to be filled outside a kernel (see
    /// ``allocate(count:dataType:file:line:)``).
    static func zeroed(count: Int, dataType: DLDataType,
                       file: StaticString = #fileID, line: UInt = #line) -> Storage {
        let storage = allocate(count: count, dataType: dataType, file: file, line: line)
        storage.unsafeElements.initializeMemory(as: UInt8.self, repeating: 0, count: count * dataType.byteCount)
        return storage
    }

    /// Zeroed storage for a constant array of zeros.
    static func zeroedConstant(count: Int, dataType: DLDataType) -> Storage {
        let storage = unchecked(count: count, dataType: dataType)
        storage.unsafeElements.initializeMemory(as: UInt8.self, repeating: 0, count: count * dataType.byteCount)
        return storage
    }

    /// The header, read and written through a pointer: the fields are only written while the
    /// storage is uniquely referenced, so the exclusivity check of `header` is not needed.
    var headerPointer: UnsafeMutablePointer<StorageHeader> {
        withUnsafeMutablePointerToHeader { $0 }
    }

    /// The number of elements.
    var count: Int { headerPointer.pointee.count }

    /// The element type.
    var dataType: DLDataType { headerPointer.pointee.dataType }

    /// A view of `storage`'s elements describing another array.
    static func view(of storage: Storage, shape: [Int], labels: String, node: TraceNode?) -> Storage {
        let base = storage.headerPointer.pointee.base ?? storage
        let buffer = Storage.create(minimumCapacity: 0) { _ in
            StorageHeader(count: base.count, dataType: base.dataType, base: base, claimed: true,
                          shape: shape, labels: labels, node: node)
        }
        return unsafeDowncast(buffer, to: Storage.self)
    }

    /// Whether this storage is a view of another one's elements.
    var isView: Bool { headerPointer.pointee.base != nil }

    /// Makes the header describe an array, if no array has claimed it yet.
    /// - Returns: whether the header now describes that array.
    func claim(shape: [Int], labels: String, node: TraceNode?) -> Bool {
        let header = headerPointer
        guard !header.pointee.claimed else { return false }
        header.pointee.claimed = true
        header.pointee.shape = shape
        header.pointee.labels = labels
        header.pointee.node = node
        return true
    }

    /// The address of the first element; valid while this storage is alive.
    ///
    /// Swift code that reads elements through it outside a ``Kernel`` while ``dlaccelerate(_:)``
    /// captures a function makes the values it read a guard of the cached plan.
    var rawPointer: UnsafeMutableRawPointer {
        KernelCapture.current?.noteRead(self)
        return unsafeElements
    }

    /// The address of the first element, for kernels and for code that does not read values.
    var unsafeElements: UnsafeMutableRawPointer {
        if let base = headerPointer.pointee.base { return base.unsafeElements }
        return withUnsafeMutablePointerToElements { UnsafeMutableRawPointer($0) }
    }

    /// The elements as a typed pointer; `T` must be the Swift type of ``dataType``.
    func pointer<T: DLElement>(as type: T.Type) -> UnsafeMutablePointer<T> {
        rawPointer.assumingMemoryBound(to: T.self)
    }

    /// An unclaimed copy of the elements.
    func copy(file: StaticString = #fileID, line: UInt = #line) -> Storage {
        let other = Storage.allocate(count: count, dataType: dataType, file: file, line: line)
        other.rawPointer.copyMemory(from: rawPointer, byteCount: count * dataType.byteCount)
        return other
    }
}
