#ifndef CSWIFTDL_SUPPORT_H
#define CSWIFTDL_SUPPORT_H

/// The derivative trace active on the calling thread (an unretained Swift object), or NULL.
/// Each thread has its own, so two threads can run dlfeval at the same time.
extern _Thread_local void *swiftdl_current_trace;

static inline void *swiftdl_get_current_trace(void) { return swiftdl_current_trace; }
static inline void swiftdl_set_current_trace(void *trace) { swiftdl_current_trace = trace; }

/// Prepares OpenBLAS once: on a CPU with AVX-512 that OpenBLAS mistakes for an older core
/// (Debian's 0.3.21 reports Sapphire Rapids as Haswell), it switches OpenBLAS to its SkylakeX
/// kernels, which run about twice as fast, and makes idle OpenBLAS threads sleep at once instead
/// of spinning. OPENBLAS_CORETYPE and OPENBLAS_THREAD_TIMEOUT set by the user are respected.
/// Returns the name of the core OpenBLAS uses afterwards.
const char *swiftdl_prepare_blas(void);

#endif
