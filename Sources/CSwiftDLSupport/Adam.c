#include "CSwiftDLSupport.h"
#include <math.h>

// Swift's squareRoot() on Linux calls sqrtf/sqrt, whose errno check keeps the loop scalar; the
// element-wise builtin has no errno, so these loops compile to packed square roots and
// divisions. Contraction into fused multiply-adds is off so the results are the same on every
// CPU (and the same as the expression written out in Swift).
#pragma clang fp contract(off)

#if __has_builtin(__builtin_elementwise_sqrt)
#define SWIFTDL_SQRT(x) __builtin_elementwise_sqrt(x)
#else
#define SWIFTDL_SQRT(x) sqrt(x)
#endif

// Each loop is compiled for AVX-512, AVX2 and the baseline, the loader picking one for the CPU
// (the same bits: every operation is exactly rounded and nothing is contracted).
#if defined(__x86_64__) && defined(__linux__) && __has_attribute(target_clones)
#define SWIFTDL_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SWIFTDL_CLONES
#endif

#define SWIFTDL_ADAM_STEP(NAME, T)                                                               \
    SWIFTDL_CLONES void NAME(long count, const T *restrict p, const T *restrict g, const T *restrict m,       \
              const T *restrict v, T *restrict newP, T *restrict newM, T *restrict newV,       \
              T rate, T decay, T complement, T squaredDecay, T squaredComplement, T epsilon) { \
        for (long i = 0; i < count; i++) {                                                     \
            T average = decay * m[i] + complement * g[i];                                      \
            T squaredAverage = squaredDecay * v[i] + squaredComplement * (g[i] * g[i]);        \
            newM[i] = average;                                                                 \
            newV[i] = squaredAverage;                                                          \
            newP[i] = p[i] + -rate * (average / (SWIFTDL_SQRT(squaredAverage) + epsilon));     \
        }                                                                                      \
    }

SWIFTDL_ADAM_STEP(swiftdl_adam_step_f32, float)
SWIFTDL_ADAM_STEP(swiftdl_adam_step_f64, double)

// The same step with the averages updated in place (`m` and `v` are read and written through one
// pointer each), for averages that nothing else holds: no new arrays, and no cache lines of
// fresh memory read before they are written.
#define SWIFTDL_ADAM_STEP_IN_PLACE(NAME, T)                                                      \
    SWIFTDL_CLONES void NAME(long count, const T *restrict p, const T *restrict g, T *restrict m, T *restrict v, \
              T *restrict newP, T rate, T decay, T complement, T squaredDecay,                   \
              T squaredComplement, T epsilon) {                                                  \
        for (long i = 0; i < count; i++) {                                                     \
            T average = decay * m[i] + complement * g[i];                                      \
            T squaredAverage = squaredDecay * v[i] + squaredComplement * (g[i] * g[i]);        \
            m[i] = average;                                                                    \
            v[i] = squaredAverage;                                                             \
            newP[i] = p[i] + -rate * (average / (SWIFTDL_SQRT(squaredAverage) + epsilon));     \
        }                                                                                      \
    }

SWIFTDL_ADAM_STEP_IN_PLACE(swiftdl_adam_step_in_place_f32, float)
SWIFTDL_ADAM_STEP_IN_PLACE(swiftdl_adam_step_in_place_f64, double)
