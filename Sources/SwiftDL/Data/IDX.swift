import Foundation

/// The contents of an IDX file, the format of MNIST and Fashion-MNIST: a 4-byte magic number
/// (two zero bytes, the element type, the number of dimensions), the size of each dimension as
/// a big-endian 32-bit number, then the elements in row-major order.
///
/// SwiftDL reads files of unsigned bytes (element type `0x08`), such as images (magic number
/// `0x00000803`: count, rows, columns) and labels (`0x00000801`: count). A file may be
/// gzip-compressed: compression is recognised by gzip's magic bytes, not by the file name.
///
/// ```swift
/// let labels = try IDXFile.read("mnist/train-labels-idx1-ubyte.gz")
/// labels.shape            // [60000]
/// labels.bytes.prefix(5)  // [5, 0, 4, 1, 9]
/// ```
public struct IDXFile: Equatable, Sendable {
    /// The size of each dimension: `[count, rows, columns]` for images, `[count]` for labels.
    public let shape: [Int]
    /// The elements, in row-major order.
    public let bytes: [UInt8]

    /// The magic number of the file: `0x00000800` plus the number of dimensions.
    public var magic: UInt32 { 0x0800 | UInt32(shape.count) }

    /// Reads the IDX file at `path`, raw or gzip-compressed.
    ///
    /// - Throws: ``DLError/file(_:)``, naming the path: when the file is missing or unreadable,
    ///   when its gzip compression is corrupt or truncated, and for the errors of
    ///   ``decode(_:source:)``.
    public static func read(_ path: String) throws -> IDXFile {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DLError.file("no such file: \(path)")
        }
        guard !isDirectory.boolValue else { throw DLError.file("\(path) is a directory, not an IDX file") }
        var contents: [UInt8]
        do {
            contents = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw DLError.file("cannot read \(path): \(error.localizedDescription)")
        }
        if Gzip.isCompressed(contents) {
            do {
                contents = try Gzip.decompress(contents)
            } catch let error as DLError {
                throw DLError.file("\(path): \(error.message)")
            }
        }
        return try decode(contents, source: path)
    }

    /// Decodes the (uncompressed) contents of an IDX file.
    ///
    /// - Parameters:
    ///   - contents: the bytes of the file.
    ///   - source: what the bytes are, to begin error messages with (a path).
    /// - Throws: ``DLError/file(_:)`` when the magic number is not an IDX one, the element type
    ///   is not unsigned bytes, or the data is shorter or longer than the header says (the
    ///   message gives both sizes).
    public static func decode(_ contents: [UInt8], source: String = "IDX data") throws -> IDXFile {
        guard contents.count >= 4 else {
            throw DLError.file(
                "\(source): truncated: \(contents.count) bytes, an IDX file starts with a 4-byte magic number")
        }
        let magic = contents[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        guard contents[0] == 0, contents[1] == 0, contents[3] > 0 else {
            throw DLError.file(
                "\(source): not an IDX file: its magic number is \(hexNumber(magic)); an IDX file starts with two zero bytes, the element type and the number of dimensions (0x00000803 for images, 0x00000801 for labels)")
        }
        guard contents[2] == 0x08 else {
            throw DLError.file(
                "\(source): IDX element type \(hexNumber(contents[2])) (\(typeName(contents[2]))) in magic number \(hexNumber(magic)) is not supported; SwiftDL reads unsigned-byte IDX files (type 0x08)")
        }
        let rank = Int(contents[3])
        let headerSize = 4 + 4 * rank
        guard contents.count >= headerSize else {
            throw DLError.file(
                "\(source): truncated header: \(rank) dimensions need a \(headerSize)-byte header, the data has \(contents.count) bytes")
        }
        let shape = (0..<rank).map { k in
            contents[(4 + 4 * k)..<(8 + 4 * k)].reduce(0) { $0 << 8 | Int($1) }
        }
        let sizes = shape.map(String.init).joined(separator: "x")
        var elementCount = 1
        for size in shape {
            let (product, overflow) = elementCount.multipliedReportingOverflow(by: size)
            guard !overflow else { throw DLError.file("\(source): the dimensions \(sizes) are too large; the header is corrupt") }
            elementCount = product
        }
        let dataSize = contents.count - headerSize
        guard dataSize == elementCount else {
            let problem = dataSize < elementCount ? "truncated" : "too long"
            throw DLError.file(
                "\(source): \(problem): the header says \(sizes) = \(elementCount) bytes of elements after the \(headerSize)-byte header, the file has \(dataSize)")
        }
        return IDXFile(shape: shape, bytes: Array(contents[headerSize...]))
    }
}

/// The name of an IDX element type code.
private func typeName(_ code: UInt8) -> String {
    switch code {
    case 0x08: "unsigned byte"
    case 0x09: "signed byte"
    case 0x0B: "16-bit integer"
    case 0x0C: "32-bit integer"
    case 0x0D: "float32"
    case 0x0E: "float64"
    default: "not an IDX type"
    }
}
