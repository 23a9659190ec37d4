import Foundation
import Testing
@testable import SwiftDL

@Suite struct AtomicFileTests {
    @Test func writesNewFilesAndReplacesOldOnesLeavingNoTemporaryFile() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let url = folder.file("state.bin")
        let first = Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        try writeAtomically(first, to: url)
        #expect(try Data(contentsOf: url) == first)
        try writeAtomically(Data([1, 2, 3]), to: url)
        #expect(try Data(contentsOf: url) == Data([1, 2, 3]))
        try writeAtomically(Data(), to: url)
        #expect(try Data(contentsOf: url).isEmpty)
        #expect(try folder.names() == ["state.bin"])
    }

    @Test func theFileIsReplacedInOneStep() throws {
        // A reader holding the old file keeps reading the old bytes: the new file is a new
        // inode renamed over the name, never the old file rewritten in place.
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let url = folder.file("weights.safetensors")
        try writeAtomically(Data(repeating: 1, count: 4096), to: url)
        let reader = try FileHandle(forReadingFrom: url)
        defer { try? reader.close() }
        try writeAtomically(Data(repeating: 2, count: 4096), to: url)
        #expect(try reader.readToEnd() == Data(repeating: 1, count: 4096))
        #expect(try Data(contentsOf: url) == Data(repeating: 2, count: 4096))
    }

    @Test func manyWritersLeaveOneCompleteFile() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let url = folder.file("shared.bin")
        let versions = (0..<8).map { Data(repeating: UInt8($0), count: 50_000) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for version in versions { group.addTask { try writeAtomically(version, to: url) } }
            try await group.waitForAll()
        }
        #expect(versions.contains(try Data(contentsOf: url)))
        #expect(try folder.names() == ["shared.bin"])
    }

    @Test func onlyFileURLsCanBeWrittenOrRead() throws {
        let url = try #require(URL(string: "https://example.com/model.safetensors"))
        #expect(errorMessage(DLError.file, { try writeAtomically(Data([1]), to: url) })
            == "cannot write to https://example.com/model.safetensors: only file URLs can be written")
        #expect(errorMessage(DLError.file, { _ = try SafeTensors.read(from: url) })
            == "cannot read https://example.com/model.safetensors: only file URLs can be read")
    }
}
