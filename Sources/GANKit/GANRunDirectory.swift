import Foundation
import SwiftDL
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The output directory of a run, held for the run's life: a lock on it (`flock` of its `.lock`
/// file) keeps a second run out, and what interrupted writes left behind is removed.
final class GANRunDirectory {
    /// The directory.
    let url: URL
    private let lockDescriptor: Int32

    /// The files of a run that a new run would replace.
    static let runFiles = ["checkpoint.safetensors", "log.jsonl", "summary.json", "samples.png", "training.png"]
    /// The name of the lock file.
    static let lockName = ".lock"

    /// Checks, changing no file, that `url` can hold a run: it is a directory or can be made one,
    /// no other run is using it, and (unless `resume` or `overwrite`) it holds no run's files.
    /// - Throws: `DLError.invalidArgument` naming the problem.
    static func check(_ url: URL, resume: Bool, overwrite: Bool) throws {
        let path = url.path
        var ancestor = url
        while !FileManager.default.fileExists(atPath: ancestor.path) && ancestor.path != "/" {
            ancestor = ancestor.deletingLastPathComponent()
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: ancestor.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw DLError.invalidArgument(ancestor == url
                ? "--output \(path) is a file, not a directory"
                : "--output \(path) cannot be a directory: \(ancestor.path) is a file")
        }
        guard ancestor == url else { return }
        let lock = url.appendingPathComponent(lockName).path
        if FileManager.default.fileExists(atPath: lock) {
            let descriptor = open(lock, O_RDONLY | O_CLOEXEC)
            if descriptor >= 0 {
                defer { close(descriptor) }
                if flock(descriptor, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK { throw busy(url) }
            }
        }
        guard !resume && !overwrite else { return }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        let found = runFiles.filter(names.contains) + names.filter(isSamplePicture).sorted().prefix(1)
        if !found.isEmpty {
            throw DLError.invalidArgument("\(path) holds a run already (\(found.joined(separator: ", "))): continue it with --resume, or replace it with --overwrite")
        }
    }

    private static func busy(_ url: URL) -> DLError {
        DLError.invalidArgument("another gan run is using \(url.path) (it holds \(url.appendingPathComponent(lockName).path)); wait for it to end or choose another --output")
    }

    private static func isSamplePicture(_ name: String) -> Bool { name.hasPrefix("samples-") && name.hasSuffix(".png") }

    /// Creates the directory if need be and locks it for the life of this object.
    /// - Throws: `DLError.file` when it cannot be created or locked,
    ///   `DLError.invalidArgument` when another run holds it.
    init(claiming url: URL) throws {
        self.url = url
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw DLError.file("cannot create the output directory \(url.path): \(error.localizedDescription)")
        }
        let lock = url.appendingPathComponent(Self.lockName).path
        lockDescriptor = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard lockDescriptor >= 0 else {
            throw DLError.file("cannot create the lock file \(lock): \(String(cString: strerror(errno)))")
        }
        guard flock(lockDescriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(lockDescriptor)
            throw Self.busy(url)
        }
    }

    deinit { close(lockDescriptor) }

    /// Removes the temporary files (`.<name>.<UUID>.tmp`) of atomic writes cut short by a kill.
    func removeStaleTemporaryFiles() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        for name in names where name.hasPrefix(".") && name.hasSuffix(".tmp") {
            let parts = name.dropLast(4).split(separator: ".")
            guard let last = parts.last, UUID(uuidString: String(last)) != nil else { continue }
            try? FileManager.default.removeItem(at: url.appendingPathComponent(name))
        }
    }

    /// Removes an earlier run's files, so that a new run's directory holds only its own.
    func removeRunFiles() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        for name in names where Self.runFiles.contains(name) || Self.isSamplePicture(name) {
            try? FileManager.default.removeItem(at: url.appendingPathComponent(name))
        }
    }
}
