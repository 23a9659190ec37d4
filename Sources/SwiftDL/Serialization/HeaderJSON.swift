/// A JSON value as read from a safetensors header.
///
/// Objects keep their members in order, repeated names included, so that a header naming a
/// tensor twice can be rejected rather than silently keeping one of them; numbers keep their
/// literal text, so that offsets and sizes are read exactly.
indirect enum HeaderJSON {
    case object([(name: String, value: HeaderJSON)])
    case array([HeaderJSON])
    case string(String)
    case number(String)
    case bool(Bool)
    case null

    /// The value as a non-negative integer, if it is written as one (no fraction, no exponent)
    /// and fits an `Int`.
    var nonNegativeInteger: Int? {
        guard case .number(let literal) = self, literal.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            return nil
        }
        return Int(literal)
    }

    /// What kind of value this is, for error messages ("a number", "an object").
    var kind: String {
        switch self {
        case .object: "an object"
        case .array: "a list"
        case .string: "a string"
        case .number: "a number"
        case .bool: "a boolean"
        case .null: "null"
        }
    }
}

/// Why a header is not valid JSON, and where.
struct HeaderJSONError: Error {
    /// What is wrong.
    let reason: String
    /// The byte of the header where it was found.
    let offset: Int
}

/// A strict reader of JSON text (RFC 8259) for safetensors headers: no comments, no trailing
/// commas, no lone surrogates, no control characters in strings, nothing but whitespace after
/// the value, and nesting at most ``maximumDepth`` deep (a header needs three levels), so that a
/// hostile header cannot exhaust the stack.
struct HeaderJSONReader {
    /// The deepest nesting of lists and objects accepted.
    static let maximumDepth = 32

    private let bytes: [UInt8]
    private var position = 0
    private var depth = 0

    /// Reads the single JSON value that `bytes` (UTF-8) hold.
    static func read(_ bytes: [UInt8]) throws(HeaderJSONError) -> HeaderJSON {
        var reader = HeaderJSONReader(bytes: bytes)
        reader.skipWhitespace()
        let value = try reader.readValue()
        reader.skipWhitespace()
        guard reader.position == bytes.count else { throw reader.failure("unexpected text after the end of the JSON value") }
        return value
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private func failure(_ reason: String) -> HeaderJSONError {
        HeaderJSONError(reason: reason, offset: position)
    }

    private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func skipWhitespace() {
        while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { position += 1 }
    }

    private mutating func expect(_ byte: UInt8, _ what: String) throws(HeaderJSONError) {
        guard current == byte else { throw failure("expected \(what)") }
        position += 1
    }

    private mutating func readValue() throws(HeaderJSONError) -> HeaderJSON {
        guard let byte = current else { throw failure("the text ends where a value was expected") }
        switch byte {
        case UInt8(ascii: "{"): return try readNested { (reader) throws(HeaderJSONError) in try reader.readObject() }
        case UInt8(ascii: "["): return try readNested { (reader) throws(HeaderJSONError) in try reader.readArray() }
        case UInt8(ascii: "\""): return .string(try readString())
        case UInt8(ascii: "t"): try readWord("true"); return .bool(true)
        case UInt8(ascii: "f"): try readWord("false"); return .bool(false)
        case UInt8(ascii: "n"): try readWord("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try readNumber())
        default: throw failure("expected a value")
        }
    }

    private mutating func readNested(
        _ body: (inout HeaderJSONReader) throws(HeaderJSONError) -> HeaderJSON
    ) throws(HeaderJSONError) -> HeaderJSON {
        guard depth < Self.maximumDepth else { throw failure("lists and objects nest more than \(Self.maximumDepth) deep") }
        depth += 1
        defer { depth -= 1 }
        return try body(&self)
    }

    private mutating func readObject() throws(HeaderJSONError) -> HeaderJSON {
        position += 1
        var members: [(name: String, value: HeaderJSON)] = []
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            position += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else { throw failure("expected a member name in quotes") }
            let name = try readString()
            skipWhitespace()
            try expect(UInt8(ascii: ":"), "':' after a member name")
            skipWhitespace()
            members.append((name, try readValue()))
            skipWhitespace()
            if current == UInt8(ascii: ",") {
                position += 1
                continue
            }
            try expect(UInt8(ascii: "}"), "',' or '}' in an object")
            return .object(members)
        }
    }

    private mutating func readArray() throws(HeaderJSONError) -> HeaderJSON {
        position += 1
        var elements: [HeaderJSON] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            position += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try readValue())
            skipWhitespace()
            if current == UInt8(ascii: ",") {
                position += 1
                continue
            }
            try expect(UInt8(ascii: "]"), "',' or ']' in a list")
            return .array(elements)
        }
    }

    private mutating func readWord(_ word: StaticString) throws(HeaderJSONError) {
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        guard bytes[position...].starts(with: expected) else { throw failure("expected a value") }
        position += expected.count
    }

    private mutating func readDigits() -> Int {
        let start = position
        while let byte = current, byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") { position += 1 }
        return position - start
    }

    private mutating func readNumber() throws(HeaderJSONError) -> String {
        let start = position
        if current == UInt8(ascii: "-") { position += 1 }
        let leadingZero = current == UInt8(ascii: "0")
        let integerDigits = readDigits()
        guard integerDigits > 0 else { throw failure("expected digits in a number") }
        guard !(leadingZero && integerDigits > 1) else { throw failure("a number starts with a superfluous 0") }
        if current == UInt8(ascii: ".") {
            position += 1
            guard readDigits() > 0 else { throw failure("expected digits after the decimal point") }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            position += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
            guard readDigits() > 0 else { throw failure("expected digits in an exponent") }
        }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    private mutating func readString() throws(HeaderJSONError) -> String {
        position += 1
        var utf8: [UInt8] = []
        while true {
            guard let byte = current else { throw failure("a string is not closed") }
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: utf8, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try readEscape(into: &utf8)
            case 0..<0x20:
                position -= 1
                throw failure("a control character (byte \(byte)) inside a string must be escaped")
            default:
                utf8.append(byte)
            }
        }
    }

    private mutating func readEscape(into utf8: inout [UInt8]) throws(HeaderJSONError) {
        guard let byte = current else { throw failure("a string is not closed") }
        position += 1
        let simple: [UInt8: UInt8] = [
            UInt8(ascii: "\""): 0x22, UInt8(ascii: "\\"): 0x5C, UInt8(ascii: "/"): 0x2F, UInt8(ascii: "b"): 0x08,
            UInt8(ascii: "f"): 0x0C, UInt8(ascii: "n"): 0x0A, UInt8(ascii: "r"): 0x0D, UInt8(ascii: "t"): 0x09,
        ]
        if let replacement = simple[byte] {
            utf8.append(replacement)
            return
        }
        guard byte == UInt8(ascii: "u") else { throw failure("unknown escape \\\(Character(Unicode.Scalar(byte)))") }
        var code = try readHexQuad()
        if (0xD800..<0xDC00).contains(code) {
            guard current == UInt8(ascii: "\\"), position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "u") else {
                throw failure("a \\u escape holds an unpaired surrogate")
            }
            position += 2
            let low = try readHexQuad()
            guard (0xDC00..<0xE000).contains(low) else { throw failure("a \\u escape holds an unpaired surrogate") }
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00..<0xE000).contains(code) {
            throw failure("a \\u escape holds an unpaired surrogate")
        }
        guard let scalar = Unicode.Scalar(code) else { throw failure("a \\u escape is not a character") }
        utf8.append(contentsOf: String(Character(scalar)).utf8)
    }

    private mutating func readHexQuad() throws(HeaderJSONError) -> UInt32 {
        var code: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = current, let digit = Character(Unicode.Scalar(byte)).hexDigitValue else {
                throw failure("a \\u escape needs four hexadecimal digits")
            }
            code = code << 4 | UInt32(digit)
            position += 1
        }
        return code
    }
}
