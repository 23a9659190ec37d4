/// The safetensors element types SwiftDL reads and writes.
///
/// The raw values are the names the format uses in a header's `"dtype"`.
enum SafeTensorsDType: String, CaseIterable {
    case bool = "BOOL"
    case float32 = "F32"
    case complex64 = "C64"
    case float64 = "F64"

    /// Every other type the safetensors format defines: valid in a file, but not one SwiftDL holds.
    static let otherFormatNames: Set<String> = [
        "U8", "I8", "F4", "F6_E2M3", "F6_E3M2", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ",
        "F8_E5M2FNUZ", "I16", "U16", "F16", "BF16", "I32", "U32", "I64", "U64",
    ]

    /// The bytes one element occupies.
    var byteCount: Int {
        switch self {
        case .bool: 1
        case .float32: 4
        case .complex64, .float64: 8
        }
    }

    /// The position in the reference implementation's `Dtype` order, which is by increasing
    /// alignment: writers store the tensors of the widest types first, so that with the
    /// 8-byte aligned header every tensor starts at a multiple of its element size.
    var alignmentRank: Int {
        switch self {
        case .bool: 0
        case .float32: 1
        case .complex64: 2
        case .float64: 3
        }
    }

    /// The SwiftDL type that holds this type's elements.
    var dataType: DLDataType {
        switch self {
        case .bool: .bool
        case .float32: .float32
        case .complex64: .complex64
        case .float64: .float64
        }
    }
}

/// One tensor's entry in a safetensors header.
struct SafeTensorsEntry {
    /// The tensor's name, the header's key.
    let name: String
    /// The element type.
    let dtype: SafeTensorsDType
    /// The size of each dimension; empty for a scalar.
    let shape: [Int]
    /// The bytes of the data section (after the header) that hold the elements, row-major.
    let offsets: Range<Int>
}

/// The header of a safetensors file: the tensors' entries and the `__metadata__` strings.
///
/// The layout, as the reference implementation (https://github.com/huggingface/safetensors)
/// writes and checks it: 8 bytes holding the header's length N as a little-endian unsigned
/// integer; N bytes of UTF-8 JSON, an object mapping each tensor name to
/// `{"dtype": …, "shape": […], "data_offsets": [begin, end]}` plus an optional
/// `"__metadata__"` object of strings, padded with spaces to a multiple of 8 bytes; then the data,
/// in which the tensors' byte ranges follow one another from 0 to the end of the file without
/// gaps or overlaps.
struct SafeTensorsHeader {
    /// The key of the metadata object in the header.
    static let metadataKey = "__metadata__"
    /// The longest header the reference implementation accepts.
    static let maximumLength = 100_000_000

    /// The tensors, in the order their data is stored.
    let entries: [SafeTensorsEntry]
    /// The `__metadata__` strings.
    let metadata: [String: String]

    /// A header for tensors of the given types and shapes, laid out as the reference
    /// implementation does: widest types first, then by name (UTF-8 byte order).
    init(layingOut tensors: [(name: String, dtype: SafeTensorsDType, shape: [Int])], metadata: [String: String]) {
        let ordered = tensors.sorted { a, b in
            a.dtype.alignmentRank != b.dtype.alignmentRank
                ? a.dtype.alignmentRank > b.dtype.alignmentRank
                : a.name.utf8.lexicographicallyPrecedes(b.name.utf8)
        }
        var start = 0
        entries = ordered.map { tensor in
            let end = start + tensor.shape.reduce(1, *) * tensor.dtype.byteCount
            defer { start = end }
            return SafeTensorsEntry(name: tensor.name, dtype: tensor.dtype, shape: tensor.shape, offsets: start..<end)
        }
        self.metadata = metadata
    }

    /// The bytes of the data section the tensors cover.
    var dataCount: Int { entries.last?.offsets.upperBound ?? 0 }

    /// The 8-byte length and the JSON text, padded with spaces to a multiple of 8 bytes.
    ///
    /// The JSON is compact, `__metadata__` first (keys sorted, omitted when empty), then the
    /// tensors in data order: for the same tensors this is byte for byte what the reference
    /// implementation writes.
    func encoded() -> [UInt8] {
        var members: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
                .map { "\(jsonQuoted($0.key)):\(jsonQuoted($0.value))" }
            members.append("\(jsonQuoted(Self.metadataKey)):{\(pairs.joined(separator: ","))}")
        }
        for entry in entries {
            let shape = entry.shape.map(String.init).joined(separator: ",")
            members.append("\(jsonQuoted(entry.name)):{\"dtype\":\"\(entry.dtype.rawValue)\",\"shape\":[\(shape)],"
                + "\"data_offsets\":[\(entry.offsets.lowerBound),\(entry.offsets.upperBound)]}")
        }
        var json = Array("{\(members.joined(separator: ","))}".utf8)
        json.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - json.count % 8) % 8))
        return withUnsafeBytes(of: UInt64(json.count).littleEndian, Array.init) + json
    }
}

/// `text` as a JSON string literal, escaped as serde_json (the reference implementation's
/// JSON library) escapes it: quotes, backslashes and control characters; other characters as
/// they are, in UTF-8.
func jsonQuoted(_ text: String) -> String {
    var quoted = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": quoted += "\\\""
        case "\\": quoted += "\\\\"
        case "\n": quoted += "\\n"
        case "\r": quoted += "\\r"
        case "\t": quoted += "\\t"
        case "\u{08}": quoted += "\\b"
        case "\u{0C}": quoted += "\\f"
        case _ where scalar.value < 0x20:
            let hex = String(scalar.value, radix: 16)
            quoted += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: quoted.unicodeScalars.append(scalar)
        }
    }
    return quoted + "\""
}

/// The product of `factors`, or nil when it does not fit an `Int`.
private func checkedProduct(_ factors: [Int]) -> Int? {
    var product = 1
    for factor in factors {
        let (result, overflow) = product.multipliedReportingOverflow(by: factor)
        if overflow { return nil }
        product = result
    }
    return product
}

// MARK: - Reading and checking a header

extension SafeTensorsHeader {
    /// Reads the header at the start of `file` (a whole safetensors file) and checks it against
    /// the data that follows.
    ///
    /// - Returns: the header and the offset in `file` where the data section starts.
    /// - Throws: ``DLError/file(_:)`` naming the first problem found: a truncated length or
    ///   header, a header that is not JSON or not an object of tensor entries, a repeated name,
    ///   an unknown or unsupported dtype, a shape that does not fit its byte range, byte ranges
    ///   that run backwards, overlap, leave gaps or reach outside the data.
    static func read(from file: UnsafeRawBufferPointer) throws -> (header: SafeTensorsHeader, dataStart: Int) {
        guard file.count >= 8 else {
            throw DLError.file("the file is \(file.count) bytes long, too short for the 8-byte header length (truncated?)")
        }
        let declared = (0..<8).reduce(UInt64(0)) { $0 | UInt64(file[$1]) << (8 * UInt64($1)) }
        guard declared <= UInt64(maximumLength) else {
            throw DLError.file(
                "the header length \(declared) is more than the \(maximumLength) bytes safetensors allows (not a safetensors file?)")
        }
        let length = Int(declared)
        guard length <= file.count - 8 else {
            throw DLError.file(
                "the header length says \(length) bytes but only \(file.count - 8) follow the 8-byte length (truncated header)")
        }
        let bytes = Array(file[8..<8 + length])
        let invalidUTF8 = transcode(bytes.makeIterator(), from: UTF8.self, to: UTF32.self, stoppingOnError: true) { _ in }
        guard !invalidUTF8 else { throw DLError.file("the header is not UTF-8 text") }
        let json: HeaderJSON
        do {
            json = try HeaderJSONReader.read(bytes)
        } catch {
            throw DLError.file("the header is not valid JSON: \(error.reason) at byte \(error.offset) of the header")
        }
        let header = try SafeTensorsHeader(json)
        try header.checkOffsets(dataCount: file.count - 8 - length)
        return (header, 8 + length)
    }

    /// The header that `json` describes, each entry checked on its own.
    private init(_ json: HeaderJSON) throws {
        guard case .object(let members) = json else {
            throw DLError.file(
                "the header is \(json.kind), not an object mapping tensor names to {dtype, shape, data_offsets}")
        }
        var seen: Set<String> = []
        var entries: [SafeTensorsEntry] = []
        var metadata: [String: String] = [:]
        for (name, value) in members {
            guard seen.insert(name).inserted else {
                throw DLError.file(name == Self.metadataKey
                    ? "\(Self.metadataKey) appears more than once in the header"
                    : "the tensor name \(jsonQuoted(name)) appears more than once in the header")
            }
            if name == Self.metadataKey {
                metadata = try Self.metadata(value)
            } else {
                entries.append(try Self.entry(name, value))
            }
        }
        self.entries = entries.sorted { ($0.offsets.lowerBound, $0.offsets.upperBound) < ($1.offsets.lowerBound, $1.offsets.upperBound) }
        self.metadata = metadata
    }

    private static func metadata(_ value: HeaderJSON) throws -> [String: String] {
        guard case .object(let members) = value else {
            throw DLError.file("\(metadataKey) is \(value.kind), not an object of strings")
        }
        var metadata: [String: String] = [:]
        for (key, value) in members {
            guard case .string(let text) = value else {
                throw DLError.file("\(metadataKey) must map strings to strings, but \(jsonQuoted(key)) holds \(value.kind)")
            }
            guard metadata.updateValue(text, forKey: key) == nil else {
                throw DLError.file("the key \(jsonQuoted(key)) appears more than once in \(metadataKey)")
            }
        }
        return metadata
    }

    private static func entry(_ name: String, _ value: HeaderJSON) throws -> SafeTensorsEntry {
        let tensor = "tensor \(jsonQuoted(name))"
        guard case .object(let members) = value else {
            throw DLError.file("the entry of \(tensor) is \(value.kind), not an object {dtype, shape, data_offsets}")
        }
        var fields: [String: HeaderJSON] = [:]
        for (field, value) in members {
            guard fields.updateValue(value, forKey: field) == nil else {
                throw DLError.file("the entry of \(tensor) names \(jsonQuoted(field)) more than once")
            }
        }
        guard let dtypeField = fields["dtype"], let shapeField = fields["shape"], let offsetsField = fields["data_offsets"] else {
            let missing = ["dtype", "shape", "data_offsets"].filter { fields[$0] == nil }.joined(separator: ", ")
            throw DLError.file("the entry of \(tensor) has no \(missing)")
        }
        guard case .string(let dtypeName) = dtypeField else {
            throw DLError.file("the dtype of \(tensor) is \(dtypeField.kind), not a string such as \"F32\"")
        }
        guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
            let supported = "SwiftDL reads F32, F64, C64 and BOOL"
            throw DLError.file(SafeTensorsDType.otherFormatNames.contains(dtypeName)
                ? "\(tensor) has dtype \(dtypeName), which SwiftDL cannot hold (\(supported))"
                : "\(tensor) has dtype \(jsonQuoted(dtypeName)), which is not a safetensors dtype (\(supported))")
        }
        let shape: [Int]
        if case .array(let sizes) = shapeField, sizes.allSatisfy({ $0.nonNegativeInteger != nil }) {
            shape = sizes.compactMap(\.nonNegativeInteger)
        } else {
            throw DLError.file("the shape of \(tensor) is not a list of non-negative integers")
        }
        guard case .array(let bounds) = offsetsField, bounds.count == 2,
              let begin = bounds[0].nonNegativeInteger, let end = bounds[1].nonNegativeInteger else {
            throw DLError.file("the data_offsets of \(tensor) are not a pair [begin, end] of non-negative integers")
        }
        guard begin <= end else {
            throw DLError.file("the data_offsets [\(begin), \(end)] of \(tensor) are out of order: the end comes before the beginning")
        }
        guard let byteCount = checkedProduct(shape + [dtype.byteCount]) else {
            throw DLError.file("the shape \(shape) of \(tensor) is too large")
        }
        guard byteCount == end - begin else {
            throw DLError.file("the shape \(shape) of \(tensor) needs \(byteCount) bytes of \(dtype.rawValue) "
                + "but its data_offsets [\(begin), \(end)] hold \(end - begin)")
        }
        return SafeTensorsEntry(name: name, dtype: dtype, shape: shape, offsets: begin..<end)
    }

    /// Checks that the byte ranges (in data order) tile the `dataCount` bytes after the header.
    private func checkOffsets(dataCount: Int) throws {
        for entry in entries where entry.offsets.upperBound > dataCount {
            throw DLError.file("tensor \(jsonQuoted(entry.name)) occupies bytes \(entry.offsets.lowerBound)..<"
                + "\(entry.offsets.upperBound) of the data but only \(dataCount) bytes follow the header "
                + "(the data is shorter than declared: truncated file?)")
        }
        var end = 0
        for (index, entry) in entries.enumerated() {
            if entry.offsets.lowerBound > end {
                throw DLError.file("bytes \(end)..<\(entry.offsets.lowerBound) of the data belong to no tensor "
                    + "(the data_offsets must follow one another from 0)")
            }
            if entry.offsets.lowerBound < end {
                let previous = entries[index - 1]
                throw DLError.file("the data_offsets of tensors \(jsonQuoted(previous.name)) [\(previous.offsets.lowerBound), "
                    + "\(previous.offsets.upperBound)] and \(jsonQuoted(entry.name)) [\(entry.offsets.lowerBound), "
                    + "\(entry.offsets.upperBound)] overlap")
            }
            end = entry.offsets.upperBound
        }
        guard end == dataCount else {
            throw DLError.file("\(dataCount) bytes of data follow the header but its tensors cover only \(end): "
                + "bytes \(end)..<\(dataCount) are outside every tensor's data_offsets")
        }
    }
}
