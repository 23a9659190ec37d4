// The MPI C API for SwiftDLMPI. MPI's handles (MPI_COMM_WORLD, MPI_DOUBLE, MPI_SUM…) are
// macros that Swift cannot import in Open MPI, so they are returned by small functions.
#ifndef SWIFTDL_CMPI_SHIM_H
#define SWIFTDL_CMPI_SHIM_H

#include <mpi.h>

static inline MPI_Comm swiftdl_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype swiftdl_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype swiftdl_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype swiftdl_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Datatype swiftdl_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Op swiftdl_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op swiftdl_mpi_max(void) { return MPI_MAX; }
static inline void *swiftdl_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Errhandler swiftdl_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline int swiftdl_mpi_success(void) { return MPI_SUCCESS; }
static inline int swiftdl_mpi_thread_serialized(void) { return MPI_THREAD_SERIALIZED; }
static inline int swiftdl_mpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }

#endif
