/// `bytes` as space-separated hexadecimal pairs, for messages.
func hexBytes(_ bytes: some Collection<UInt8>) -> String {
    bytes.map { byte in
        let digits = String(byte, radix: 16)
        return byte < 16 ? "0" + digits : digits
    }.joined(separator: " ")
}

/// `value` in hexadecimal with all its digits, as `0x00000803`, for messages.
func hexNumber<T: FixedWidthInteger & UnsignedInteger>(_ value: T) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: T.bitWidth / 4 - digits.count) + digits
}
