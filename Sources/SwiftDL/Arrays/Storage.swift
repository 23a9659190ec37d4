/// The header of a ``Storage`` block: how many elements it holds and of which type, and the
/// description of the first array made on it (shape, labels, trace node), so that a freshly
/// computed array is a single allocation.
struct StorageHeader {
    let count: Int
    let dataType: DLDataType
    /// Whether an array has taken the fields below as its own.
    var claimed = false
    var shape: [Int] = []
    var labels: String = ""
    var node: TraceNode?
}

/// A contiguous, 16-byte aligned block of elements, allocated in one piece with its header.
///
/// ``DLArray`` shares a storage between copies and copies it before a write when it is shared
/// (copy-on-write). Storage is never resized.
final class Storage: ManagedBuffer<StorageHeader, SIMD2<Double>> {
    /// Allocates uninitialized storage for `count` elements of `dataType`.
    static func allocate(count: Int, dataType: DLDataType) -> Storage {
        let words = (count * dataType.byteCount + 15) / 16
        let buffer = Storage.create(minimumCapacity: words) { _ in
            StorageHeader(count: count, dataType: dataType)
        }
        return unsafeDowncast(buffer, to: Storage.self)
    }

    /// Allocates storage for `count` elements of `dataType`, every byte zero
    /// (zero is `0`, `0+0i` and `false` in every type).
    static func zeroed(count: Int, dataType: DLDataType) -> Storage {
        let storage = allocate(count: count, dataType: dataType)
        storage.rawPointer.initializeMemory(as: UInt8.self, repeating: 0, count: count * dataType.byteCount)
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
    var rawPointer: UnsafeMutableRawPointer {
        withUnsafeMutablePointerToElements { UnsafeMutableRawPointer($0) }
    }

    /// The elements as a typed pointer; `T` must be the Swift type of ``dataType``.
    func pointer<T: DLElement>(as type: T.Type) -> UnsafeMutablePointer<T> {
        rawPointer.assumingMemoryBound(to: T.self)
    }

    /// An unclaimed copy of the elements.
    func copy() -> Storage {
        let other = Storage.allocate(count: count, dataType: dataType)
        other.rawPointer.copyMemory(from: rawPointer, byteCount: count * dataType.byteCount)
        return other
    }
}
