#include "CSwiftDLSupport.h"
#include <cblas.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

_Thread_local void *swiftdl_current_trace = NULL;
_Thread_local void *swiftdl_current_capture = NULL;

// Present in OpenBLAS builds with DYNAMIC_ARCH (Debian's); weak so other builds still link.
extern void gotoblas_dynamic_init(void) __attribute__((weak));
extern void gotoblas_dynamic_quit(void) __attribute__((weak));
extern char *openblas_get_corename(void) __attribute__((weak));
extern void openblas_read_env(void) __attribute__((weak));
extern int blas_thread_init(void) __attribute__((weak));
extern int blas_thread_shutdown_(void) __attribute__((weak));

static int cpu_has_avx512(void) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
#else
    return 0;
#endif
}

// glibc serves each allocation above 128 KiB-32 MiB (its adaptive threshold) with its own mmap
// and returns it with munmap, so every new activation or gradient of a training step is fresh
// memory whose pages fault in one by one (a tenth of a DCGAN step here). Keeping blocks of up to
// 256 MiB in the heap lets them be reused from step to step. Runs when the library loads; the
// user's MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ settings are left alone.
__attribute__((constructor)) static void swiftdl_prepare_memory(void) {
#if defined(__GLIBC__)
    if (getenv("MALLOC_MMAP_THRESHOLD_") == NULL) mallopt(M_MMAP_THRESHOLD, 256 << 20);
    if (getenv("MALLOC_TRIM_THRESHOLD_") == NULL) mallopt(M_TRIM_THRESHOLD, 512 << 20);
#endif
}

static int cpu_has_avx2_fma(void) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

static int is_one_of(const char *core, const char *const *names) {
    for (; *names != NULL; names++) {
        if (strcasecmp(core, *names) == 0) return 1;
    }
    return 0;
}

// OpenBLAS picks weaker kernels for cores it does not know: Debian 12's 0.3.21 falls back to
// Haswell's, Sandy Bridge's or even Prescott's SSE3 kernels on recent Xeons (sgemm 2048 ran at
// 27 GFLOP/s on Prescott's on a 2-core Xeon of family 6 model 207, 212 on SkylakeX's).
const char *swiftdl_better_blas_core(const char *core) {
    static const char *const avx512_cores[] = {"SkylakeX", "Cooperlake", "SapphireRapids", NULL};
    static const char *const pre_avx2_cores[] = {"Prescott", "Core2", "Penryn", "Dunnington", "Nehalem",
                                                 "Sandybridge", "Atom", "Unknown", NULL};
    if (cpu_has_avx512()) return is_one_of(core, avx512_cores) ? NULL : "SKYLAKEX";
    if (cpu_has_avx2_fma() && is_one_of(core, pre_avx2_cores)) return "HASWELL";
    return NULL;
}

const char *swiftdl_prepare_blas(void) {
    if (openblas_get_corename == NULL) return "unknown";
    const char *core = openblas_get_corename();
    const char *wanted = core != NULL ? swiftdl_better_blas_core(core) : NULL;
    if (getenv("OPENBLAS_CORETYPE") == NULL && wanted != NULL
        && gotoblas_dynamic_init != NULL && gotoblas_dynamic_quit != NULL) {
        setenv("OPENBLAS_CORETYPE", wanted, 1);
        gotoblas_dynamic_quit();
        gotoblas_dynamic_init();
        unsetenv("OPENBLAS_CORETYPE");
    }
    // OpenBLAS's idle workers spin (sched_yield) for about 2^28 cycles after each product,
    // which takes a core from SwiftDL's own parallel loops on small machines. Restart the pool
    // with a short spin, unless the user chose OPENBLAS_THREAD_TIMEOUT.
    if (getenv("OPENBLAS_THREAD_TIMEOUT") == NULL && openblas_read_env != NULL
        && blas_thread_init != NULL && blas_thread_shutdown_ != NULL) {
        blas_thread_shutdown_();
        setenv("OPENBLAS_THREAD_TIMEOUT", "4", 1);
        openblas_read_env();
        unsetenv("OPENBLAS_THREAD_TIMEOUT");
        blas_thread_init();
    }
    return openblas_get_corename();
}
