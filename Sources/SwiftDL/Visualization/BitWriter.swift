/// Writes a DEFLATE stream's bits (RFC 1951): each value least significant bit first, packed
/// from the least significant bit of each byte, through a 64-bit buffer.
struct BitWriter {
    /// The whole bytes written.
    private(set) var bytes: [UInt8]
    private var buffer: UInt64 = 0
    private var count = 0

    /// A writer that appends to `bytes`, reserving room for about `capacity` more bytes.
    init(appendingTo bytes: [UInt8], capacity: Int) {
        self.bytes = bytes
        self.bytes.reserveCapacity(bytes.count + capacity)
    }

    /// Writes the low `bitCount` bits of `value` (`bitCount` ≤ 32; the bits above are zero).
    @inline(__always)
    mutating func write(_ value: UInt32, bitCount: Int) {
        buffer |= UInt64(value) &<< UInt64(count)
        count &+= bitCount
        if count >= 32 {
            let word = UInt32(truncatingIfNeeded: buffer)
            bytes.append(UInt8(truncatingIfNeeded: word))
            bytes.append(UInt8(truncatingIfNeeded: word >> 8))
            bytes.append(UInt8(truncatingIfNeeded: word >> 16))
            bytes.append(UInt8(truncatingIfNeeded: word >> 24))
            buffer &>>= 32
            count &-= 32
        }
    }

    /// Writes zero bits up to the next byte boundary and moves the buffered bytes out.
    mutating func alignToByte() {
        while count > 0 {
            bytes.append(UInt8(truncatingIfNeeded: buffer))
            buffer &>>= 8
            count = max(count - 8, 0)
        }
        buffer = 0
    }

    /// Appends `data` as whole bytes (after ``alignToByte()``).
    mutating func append(_ data: UnsafeBufferPointer<UInt8>) {
        precondition(count == 0, "bytes can only be appended at a byte boundary")
        bytes.append(contentsOf: data)
    }
}
