import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes `data` to the file at `url` atomically: either the whole of `data` is there
/// afterwards, or the file is as it was.
///
/// The data goes to a new temporary file in the same folder (named `.<name>.<random>.tmp`),
/// is flushed to the disk, and the temporary file is then renamed over `url` (a rename within a
/// folder replaces a file in one step). A run interrupted at any point leaves the old file
/// whole; an error removes the temporary file and leaves the old file unchanged. New files get
/// the permissions of the process's umask, as any file it creates.
///
/// Use it for everything SwiftDL saves: weights, optimizer states, checkpoints, images.
///
/// - Throws: ``DLError/file(_:)`` when `url` is not a file URL, its folder does not exist or
///   cannot be written, `url` is a folder, or writing fails (a full disk, for example).
public func writeAtomically(_ data: Data, to url: URL) throws {
    guard url.isFileURL else { throw DLError.file("cannot write to \(url): only file URLs can be written") }
    let path = url.path
    let folder = url.deletingLastPathComponent().path
    let temporary = url.deletingLastPathComponent()
        .appendingPathComponent(".\(String(decoding: url.lastPathComponent.utf8.prefix(100), as: UTF8.self))"
            + ".\(UUID().uuidString).tmp").path

    func failure(_ reason: String, code: Int32) -> DLError {
        let cause: String
        switch code {
        case ENOENT: cause = "the folder \(folder) does not exist"
        case ENOTDIR: cause = "\(folder) is not a folder"
        case EACCES, EPERM, EROFS: cause = "the folder \(folder) cannot be written (\(String(cString: strerror(code))))"
        case EISDIR: cause = "it is a folder"
        default: cause = String(cString: strerror(code))
        }
        return DLError.file("cannot write \(path): \(reason): \(cause); \(path) is unchanged")
    }

    let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
    guard descriptor >= 0 else { throw failure("cannot create a temporary file beside it", code: errno) }
    do {
        try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            var written = 0
            while written < bytes.count {
                let result = write(descriptor, bytes.baseAddress! + written, bytes.count - written)
                if result < 0 && errno == EINTR { continue }
                guard result > 0 else { throw failure("writing the data failed", code: result < 0 ? errno : EIO) }
                written += result
            }
        }
        guard fsync(descriptor) == 0 else { throw failure("flushing the data to the disk failed", code: errno) }
    } catch {
        close(descriptor)
        unlink(temporary)
        throw error
    }
    guard close(descriptor) == 0 else {
        let code = errno
        unlink(temporary)
        throw failure("closing the temporary file failed", code: code)
    }
    guard rename(temporary, path) == 0 else {
        let code = errno
        unlink(temporary)
        throw failure("replacing it failed", code: code)
    }
    // Make the rename itself durable; the file is already in place, so this is best effort.
    let folderDescriptor = open(folder.isEmpty ? "." : folder, O_RDONLY | O_CLOEXEC)
    if folderDescriptor >= 0 {
        _ = fsync(folderDescriptor)
        close(folderDescriptor)
    }
}
