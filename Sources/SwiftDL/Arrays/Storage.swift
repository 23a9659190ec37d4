import RealModule
/// The header of a ``Storage`` block: how many elements it holds and of which type.

struct StorageHeader {
    let count: Int
    let dataType: DLDataType
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

    /// The number of elements (read through a pointer: the header never changes, so the
    /// exclusivity check a read of `header` would make is not needed).
    var count: Int { withUnsafeMutablePointerToHeader { $0.pointee.count } }

    /// The element type.
    var dataType: DLDataType { withUnsafeMutablePointerToHeader { $0.pointee.dataType } }

    /// The address of the first element; valid while this storage is alive.
    var rawPointer: UnsafeMutableRawPointer {
        withUnsafeMutablePointerToElements { UnsafeMutableRawPointer($0) }
    }

    /// The elements as a typed pointer; `T` must be the Swift type of ``dataType``.
    func pointer<T: DLElement>(as type: T.Type) -> UnsafeMutablePointer<T> {
        rawPointer.assumingMemoryBound(to: T.self)
    }

    /// A copy of this storage.
    func copy() -> Storage {
        let other = Storage.allocate(count: count, dataType: dataType)
        other.rawPointer.copyMemory(from: rawPointer, byteCount: count * dataType.byteCount)
        return other
    }
}
