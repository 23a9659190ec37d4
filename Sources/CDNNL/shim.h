// The C API of oneDNN (libdnnl-dev; Homebrew's onednn), which ships no pkg-config file.
#include <oneapi/dnnl/dnnl.h>
#include <dlfcn.h>

// Makes the OpenMP parallel regions that oneDNN starts from the calling thread use that thread
// alone: SwiftDL shares a convolution's batch, or a product's blocks, among the cores itself.
// oneDNN sizes its work split by the thread count when a primitive is created and runs it with
// that count, so this is called before creating primitives, before running them and before each
// sgemm. A build of oneDNN without OpenMP has no such setting, and nothing is done. The lookup
// of omp_set_num_threads is made once per process, not per call (a product per layer calls this).
static inline void swiftdl_dnnl_use_calling_thread_only(void) {
    static void (*set_num_threads)(int);
    static int looked_up;
    if (!__atomic_load_n(&looked_up, __ATOMIC_ACQUIRE)) {
        __atomic_store_n(&set_num_threads, (void (*)(int))dlsym(RTLD_DEFAULT, "omp_set_num_threads"), __ATOMIC_RELAXED);
        __atomic_store_n(&looked_up, 1, __ATOMIC_RELEASE);
    }
    void (*set)(int) = __atomic_load_n(&set_num_threads, __ATOMIC_RELAXED);
    if (set) set(1);
}
