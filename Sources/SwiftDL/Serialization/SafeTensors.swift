import Foundation

/// Named arrays in files of the safetensors format (https://github.com/huggingface/safetensors),
/// which PyTorch, NumPy, JAX and most deep-learning tools read and write.
///
/// ```swift
/// try SafeTensors.write(["conv1.weight": w, "conv1.bias": b], metadata: ["epochs": "4"], to: url)
/// let (tensors, metadata) = try SafeTensors.read(from: url)
/// ```
///
/// In Python, `safetensors.numpy.load_file(path)` or `safetensors.torch.load_file(path)` read
/// the file (see `scripts/check_safetensors.py`).
///
/// Element types map to safetensors dtypes as follows: `float32` is `F32`, `float64` is `F64`,
/// `bool` is `BOOL` and `complex64` is `C64` (safetensors 0.7 and later read it as
/// `complex64`). The format has no `complex128`: such an array is stored as `F64` with a last
/// dimension of 2 holding the real and imaginary parts (PyTorch's `torch.view_as_real` layout,
/// so `torch.view_as_complex` or NumPy's `.view(np.complex128)[..., 0]` recover it), and the
/// metadata entry `"swiftdl.complex.<name>": "complex128"` tells ``read(from:)`` to turn it back
/// into a `complex128` array. Dimension labels are kept in the metadata too, as
/// `"swiftdl.labels.<name>": "BCSS"`; metadata keys starting with `swiftdl.` are SwiftDL's own.
///
/// Values are stored bit for bit (NaN payloads and negative zeros included), row-major and
/// little-endian. Arrays are stored as values: a traced array is saved without its trace.
public enum SafeTensors {
    /// The prefix of the metadata keys SwiftDL writes for itself.
    static let reservedPrefix = "swiftdl."
    /// The prefix of the metadata keys holding dimension labels, followed by the tensor's name.
    static let labelsPrefix = "swiftdl.labels."
    /// The prefix of the metadata keys marking `complex128` arrays stored as `F64`.
    static let complexPrefix = "swiftdl.complex."

    /// Writes `tensors` and `metadata` to a safetensors file at `url`, atomically (see
    /// ``writeAtomically(_:to:)``): an existing file is replaced only once the new one is
    /// complete, and left unchanged by an error.
    ///
    /// The file is laid out as the reference implementation lays it out: the JSON header padded
    /// with spaces to a multiple of 8 bytes, tensors of the widest types first and then by name,
    /// so each starts at a multiple of its element size.
    ///
    /// - Parameters:
    ///   - tensors: the arrays by name; any name but `"__metadata__"`.
    ///   - metadata: strings stored in the header's `"__metadata__"` object; keys starting with
    ///     `swiftdl.` are reserved.
    ///   - url: the file to write; its folder must exist.
    /// - Throws: ``DLError/invalidArgument(_:)`` for a reserved tensor name or metadata key,
    ///   ``DLError/file(_:)`` when the file cannot be written.
    public static func write(_ tensors: [String: DLArray], metadata: [String: String] = [:], to url: URL) throws {
        try writeAtomically(Data(encoded(tensors, metadata: metadata)), to: url)
    }

    /// Reads the arrays and the metadata of the safetensors file at `url`.
    ///
    /// Arrays come back with the element types, shapes, labels and values they were written
    /// with; `swiftdl.` metadata entries are applied to them and left out of the returned
    /// metadata. Files written by other tools are read as long as their dtypes are `F32`,
    /// `F64`, `C64` or `BOOL`.
    ///
    /// - Throws: ``DLError/file(_:)`` naming the problem when there is no such file, or its
    ///   header length or header is truncated, the header is not JSON or not the expected
    ///   structure, a tensor name is repeated, a dtype is unknown or not one SwiftDL holds, a
    ///   shape does not match its byte range, byte ranges run backwards, overlap, leave gaps or
    ///   reach past the data, the data is shorter than declared, a `BOOL` byte is not 0 or 1,
    ///   or a `swiftdl.` metadata entry does not fit its tensor.
    public static func read(from url: URL) throws -> (tensors: [String: DLArray], metadata: [String: String]) {
        guard url.isFileURL else { throw DLError.file("cannot read \(url): only file URLs can be read") }
        let path = url.path
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw DLError.file("cannot read safetensors file \(path): there is no such file")
        }
        guard !isFolder.boolValue else { throw DLError.file("cannot read safetensors file \(path): it is a folder") }
        let contents: Data
        do {
            // Read, not mapped: a mapped file that another program truncates would crash the reader.
            contents = try Data(contentsOf: url)
        } catch {
            throw DLError.file("cannot read safetensors file \(path): \(error.localizedDescription)")
        }
        do {
            return try contents.withUnsafeBytes { try decoded($0) }
        } catch let error as DLError {
            throw DLError.file("cannot read safetensors file \(path): \(error.message)")
        }
    }

    // MARK: - Encoding

    /// The bytes of a safetensors file holding `tensors` and `metadata`.
    static func encoded(_ tensors: [String: DLArray], metadata: [String: String]) throws -> [UInt8] {
        if let key = metadata.keys.sorted().first(where: { $0.hasPrefix(reservedPrefix) }) {
            throw DLError.invalidArgument(
                "metadata key \(jsonQuoted(key)) starts with \(reservedPrefix), which is reserved for SwiftDL's own entries")
        }
        var metadata = metadata
        var layout: [(name: String, dtype: SafeTensorsDType, shape: [Int])] = []
        for (name, array) in tensors {
            guard name != SafeTensorsHeader.metadataKey else {
                throw DLError.invalidArgument(
                    "a tensor cannot be named \(SafeTensorsHeader.metadataKey): the safetensors header keeps its metadata under that name")
            }
            switch array.dataType {
            case .float32: layout.append((name, .float32, array.shape))
            case .float64: layout.append((name, .float64, array.shape))
            case .bool: layout.append((name, .bool, array.shape))
            case .complex64: layout.append((name, .complex64, array.shape))
            case .complex128:
                layout.append((name, .float64, array.shape + [2]))
                metadata[complexPrefix + name] = DLDataType.complex128.rawValue
            }
            if !array.labels.isEmpty { metadata[labelsPrefix + name] = array.labels }
        }
        let header = SafeTensorsHeader(layingOut: layout, metadata: metadata)
        var bytes = header.encoded()
        let dataStart = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: header.dataCount))
        bytes.withUnsafeMutableBytes { file in
            for entry in header.entries {
                let array = tensors[entry.name]!
                let destination = UnsafeMutableRawBufferPointer(rebasing: file[(dataStart + entry.offsets.lowerBound)...]
                    .prefix(entry.offsets.count))
                withExtendedLifetime(array) {
                    destination.copyMemory(from: UnsafeRawBufferPointer(start: array.storage.rawPointer, count: entry.offsets.count))
                }
                convertElementsBetweenHostAndLittleEndian(destination, width: entry.dtype.scalarByteCount)
            }
        }
        return bytes
    }

    // MARK: - Decoding

    /// The arrays and metadata in `file`, the bytes of a safetensors file.
    static func decoded(_ file: UnsafeRawBufferPointer) throws -> (tensors: [String: DLArray], metadata: [String: String]) {
        let (header, dataStart) = try SafeTensorsHeader.read(from: file)
        var tensors: [String: DLArray] = [:]
        for entry in header.entries {
            let source = UnsafeRawBufferPointer(rebasing: file[(dataStart + entry.offsets.lowerBound)...].prefix(entry.offsets.count))
            if entry.dtype == .bool, let index = source.firstIndex(where: { $0 > 1 }) {
                throw DLError.file("tensor \(jsonQuoted(entry.name)) is BOOL but element \(index) is the byte \(source[index]); "
                    + "BOOL elements are 0 or 1")
            }
            let storage = Storage.allocate(count: entry.shape.reduce(1, *), dataType: entry.dtype.dataType)
            let destination = UnsafeMutableRawBufferPointer(start: storage.rawPointer, count: source.count)
            destination.copyMemory(from: source)
            convertElementsBetweenHostAndLittleEndian(destination, width: entry.dtype.scalarByteCount)
            tensors[entry.name] = DLArray(storage: storage, shape: entry.shape)
        }
        var metadata = header.metadata
        let own = metadata.filter { $0.key.hasPrefix(reservedPrefix) }
        for key in own.keys { metadata[key] = nil }
        for (key, value) in own.sorted(by: { $0.key < $1.key }) where key.hasPrefix(complexPrefix) {
            let name = String(key.dropFirst(complexPrefix.count))
            tensors[name] = try complexArray(stored: tensors[name], name: name, key: key, value: value)
        }
        for (key, value) in own.sorted(by: { $0.key < $1.key }) where !key.hasPrefix(complexPrefix) {
            guard key.hasPrefix(labelsPrefix) else {
                throw DLError.file("the metadata key \(jsonQuoted(key)) starts with \(reservedPrefix) but is not one SwiftDL writes "
                    + "(\(labelsPrefix)<name> or \(complexPrefix)<name>)")
            }
            let name = String(key.dropFirst(labelsPrefix.count))
            guard let array = tensors[name] else {
                throw DLError.file("the metadata \(jsonQuoted(key)) gives labels to a tensor \(jsonQuoted(name)) the file does not hold")
            }
            do {
                tensors[name] = try array.labeled(value)
            } catch let error as DLError {
                throw DLError.file("the metadata \(jsonQuoted(key)): \(jsonQuoted(value)) does not fit tensor \(jsonQuoted(name)) "
                    + "of shape \(array.shape): \(error.message)")
            }
        }
        return (tensors, metadata)
    }

    /// The `complex128` array that `stored`, an `F64` array whose last dimension of 2 holds
    /// real and imaginary parts, represents, as the metadata entry `key: value` says.
    private static func complexArray(stored: DLArray?, name: String, key: String, value: String) throws -> DLArray {
        guard let stored else {
            throw DLError.file("the metadata \(jsonQuoted(key)) describes a tensor \(jsonQuoted(name)) the file does not hold")
        }
        guard value == DLDataType.complex128.rawValue else {
            throw DLError.file("the metadata \(jsonQuoted(key)) is \(jsonQuoted(value)); SwiftDL stores only complex128 arrays "
                + "this way (\"complex128\")")
        }
        guard stored.dataType == .float64, stored.shape.last == 2 else {
            throw DLError.file("the metadata \(jsonQuoted(key)) says tensor \(jsonQuoted(name)) is complex128, stored as F64 with a "
                + "last dimension of 2 (real, imaginary), but it is \(stored.dataType) of shape \(stored.shape)")
        }
        let storage = Storage.allocate(count: stored.count / 2, dataType: .complex128)
        withExtendedLifetime(stored) {
            storage.rawPointer.copyMemory(from: stored.storage.rawPointer, byteCount: stored.count * 8)
        }
        return DLArray(storage: storage, shape: Array(stored.shape.dropLast()))
    }
}

extension SafeTensorsDType {
    /// The bytes of one real number in an element: a complex element is two of them, each
    /// stored little-endian on its own.
    var scalarByteCount: Int { self == .complex64 ? 4 : byteCount }
}

/// Converts the numbers in `bytes`, each `width` bytes wide, between this machine's byte order
/// and the little-endian order of safetensors files (the same conversion both ways): nothing to
/// do on little-endian machines (x86-64, arm64), a reversal of each number's bytes on others.
private func convertElementsBetweenHostAndLittleEndian(_ bytes: UnsafeMutableRawBufferPointer, width: Int) {
    #if _endian(big)
    guard width > 1 else { return }
    for start in stride(from: 0, to: bytes.count, by: width) {
        UnsafeMutableRawBufferPointer(rebasing: bytes[start..<start + width]).reverse()
    }
    #endif
}
