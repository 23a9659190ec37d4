import Foundation
import SwiftDL
#if MPI
import CMPI
#endif

/// A communicator whose workers are the processes of an MPI job (`mpirun -np N`, `srun`), on
/// one machine or many: worker `index` is MPI rank `index − 1` of `MPI_COMM_WORLD`.
///
/// Each collective is one MPI call: ``DLCommunicator/plus(_:)`` packs a container's arrays
/// into one contiguous buffer per precision and reduces it with one in-place `MPI_Allreduce`
/// (Horovod's tensor fusion). MPI chooses the order in which it adds the workers' values, so
/// sums may differ from ``DLThreadCommunicator``'s in the last bits; every rank receives the
/// same result.
///
/// MPI is optional: the library is built with it only with the package trait `MPI`
/// (`swift build --traits default,MPI`, which needs Open MPI's `ompi-c` found by pkg-config; see
/// `scripts/bootstrap.sh --mpi`). Without it, ``world()`` throws and ``isAvailable`` is false.
///
/// ```swift
/// let communicator = try MPICommunicator.world()
/// defer { communicator.finalize() }
/// let sizes = try workerMiniBatchSizes(128, workers: communicator.count)
/// ```
public final class MPICommunicator: DLCommunicator, @unchecked Sendable {
    /// This process's worker number, its MPI rank plus 1.
    public let index: Int
    /// The number of processes in the job.
    public let count: Int
    /// Serializes the calls into MPI, which is initialized with `MPI_THREAD_SERIALIZED`.
    private let lock = NSLock()

    /// Whether this build of SwiftDL was made with MPI (the package trait `MPI`).
    public static var isAvailable: Bool {
        #if MPI
        true
        #else
        false
        #endif
    }

    /// Whether this process was started by an MPI launcher (`mpirun`, `mpiexec`, `srun`), as
    /// the variables the launchers set tell.
    public static var isLaunchedByMPI: Bool {
        let environment = ProcessInfo.processInfo.environment
        return ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"].contains { environment[$0] != nil }
    }

    private init(index: Int, count: Int) { (self.index, self.count) = (index, count) }

    /// The communicator of every process of the job (`MPI_COMM_WORLD`), initializing MPI
    /// with `MPI_Init_thread` (serialized calls) on the first call. Errors are returned by
    /// MPI, not fatal, and thrown as ``DLError/communication(_:)``.
    ///
    /// - Throws: ``DLError/communication(_:)`` when this build has no MPI, or MPI fails to
    ///   start or does not offer serialized calls from several threads.
    public static func world() throws -> MPICommunicator {
        #if MPI
        var initialized: Int32 = 0
        try check(MPI_Initialized(&initialized), "MPI_Initialized")
        if initialized == 0 {
            var provided: Int32 = 0
            try check(MPI_Init_thread(nil, nil, swiftdl_mpi_thread_serialized(), &provided), "MPI_Init_thread")
            guard provided >= swiftdl_mpi_thread_serialized() else {
                throw DLError.communication("MPI_Init_thread: this MPI does not allow calls from several threads one at a time (MPI_THREAD_SERIALIZED)")
            }
        }
        let world = swiftdl_mpi_comm_world()
        try check(MPI_Comm_set_errhandler(world, swiftdl_mpi_errors_return()), "MPI_Comm_set_errhandler")
        var rank: Int32 = 0, size: Int32 = 0
        try check(MPI_Comm_rank(world, &rank), "MPI_Comm_rank")
        try check(MPI_Comm_size(world, &size), "MPI_Comm_size")
        return MPICommunicator(index: Int(rank) + 1, count: Int(size))
        #else
        throw DLError.communication("""
            this build of SwiftDL has no MPI: install Open MPI (scripts/bootstrap.sh --mpi) and build with \
            swift build --traits default,MPI
            """)
        #endif
    }

    /// Ends MPI in this process (`MPI_Finalize`), after the last collective; later calls do
    /// nothing.
    public func finalize() {
        #if MPI
        lock.lock()
        defer { lock.unlock() }
        var finalized: Int32 = 0
        MPI_Finalized(&finalized)
        if finalized == 0 { MPI_Finalize() }
        #endif
    }

    /// One in-place `MPI_Allreduce` with `MPI_SUM` (in pieces of at most 2³¹ − 1 elements).
    public func sumInPlace(_ buffer: UnsafeMutableRawBufferPointer, elementType: DLDataType) throws {
        #if MPI
        let (type, size) = switch elementType {
        case .float32: (swiftdl_mpi_float(), 4)
        case .float64: (swiftdl_mpi_double(), 8)
        default: preconditionFailure("sumInPlace takes float32 or float64 elements, got \(elementType)")
        }
        try allreduce(buffer, elementSize: size, type: type, operation: swiftdl_mpi_sum(), name: "MPI_Allreduce (sum)")
        #else
        try Self.unavailable()
        #endif
    }

    /// One in-place `MPI_Allreduce` with `MPI_MAX` over 64-bit integers.
    public func maximumInPlace(_ values: inout [Int64]) throws {
        #if MPI
        try values.withUnsafeMutableBytes { buffer in
            try allreduce(buffer, elementSize: 8, type: swiftdl_mpi_int64(), operation: swiftdl_mpi_max(),
                          name: "MPI_Allreduce (maximum)")
        }
        #else
        try Self.unavailable()
        #endif
    }

    /// `MPI_Bcast` of the bytes from rank `root − 1`.
    public func broadcastInPlace(_ buffer: UnsafeMutableRawBufferPointer, from root: Int) throws {
        #if MPI
        lock.lock()
        defer { lock.unlock() }
        var offset = 0
        repeat {
            let piece = min(buffer.count - offset, Int(Int32.max))
            try Self.check(MPI_Bcast(buffer.baseAddress.map { $0 + offset }, Int32(piece), swiftdl_mpi_byte(),
                                     Int32(root - 1), swiftdl_mpi_comm_world()), "MPI_Bcast")
            offset += piece
        } while offset < buffer.count
        #else
        try Self.unavailable()
        #endif
    }

    /// `MPI_Barrier`.
    public func barrier() throws {
        #if MPI
        lock.lock()
        defer { lock.unlock() }
        try Self.check(MPI_Barrier(swiftdl_mpi_comm_world()), "MPI_Barrier")
        #else
        try Self.unavailable()
        #endif
    }

    #if MPI
    private func allreduce(_ buffer: UnsafeMutableRawBufferPointer, elementSize: Int, type: MPI_Datatype?,
                           operation: MPI_Op?, name: String) throws {
        lock.lock()
        defer { lock.unlock() }
        let elements = buffer.count / elementSize
        var offset = 0
        repeat {
            let piece = min(elements - offset, Int(Int32.max))
            try Self.check(MPI_Allreduce(swiftdl_mpi_in_place(), buffer.baseAddress.map { $0 + offset * elementSize },
                                         Int32(piece), type, operation, swiftdl_mpi_comm_world()), name)
            offset += piece
        } while offset < elements
    }

    /// Throws MPI's message for a failed call.
    private static func check(_ code: Int32, _ call: String) throws {
        guard code != swiftdl_mpi_success() else { return }
        var text = [CChar](repeating: 0, count: Int(swiftdl_mpi_max_error_string()) + 1)
        var length: Int32 = 0
        MPI_Error_string(code, &text, &length)
        let message = String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        throw DLError.communication("\(call) failed: \(message) (a process of the job may have ended)")
    }
    #else
    private static func unavailable() throws -> Never {
        _ = try world()
        preconditionFailure("world() throws without MPI")
    }
    #endif
}
