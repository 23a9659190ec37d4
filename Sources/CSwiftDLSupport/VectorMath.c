#include "CSwiftDLSupport.h"

// Float32 exp, tanh and sigmoid over arrays, sixteen lanes at a time, in code built three times
// (AVX-512, AVX2 and the x86-64 baseline's SSE2; other CPUs build the generic code once) and
// chosen when first called. Every operation is an IEEE one on single lanes (adds, multiplies, a
// division, comparisons and bit operations) and contraction into fused multiply-adds is off, so
// every build, and every CPU, gives the same bits for an element, wherever it falls in a vector.
#pragma clang fp contract(off)
// The functions on vectors are always inlined into their target's loop: no call passes a vector
// between code of different targets, so the ABI that the warning is about is never used.
#if defined(__x86_64__)
#pragma clang diagnostic ignored "-Wpsabi"
#endif

typedef float swiftdl_floats __attribute__((ext_vector_type(16)));
typedef int swiftdl_ints __attribute__((ext_vector_type(16)));
typedef unsigned swiftdl_words __attribute__((ext_vector_type(16)));

#define SWIFTDL_LANES 16
#define SWIFTDL_BITS(v) ((swiftdl_words)(v))
#define SWIFTDL_FLOATS(w) ((swiftdl_floats)(w))
// `a` where `mask` (all ones or all zeros per lane, as comparisons give) is set, else `b`.
#define SWIFTDL_SELECT(mask, a, b) \
    SWIFTDL_FLOATS((SWIFTDL_BITS(a) & (swiftdl_words)(mask)) | (SWIFTDL_BITS(b) & ~(swiftdl_words)(mask)))

// The functions for one target: `SUFFIX` names them, `TARGET` is the target attribute.
#define SWIFTDL_VECTOR_MATH(SUFFIX, TARGET)                                                        \
    /* e^x: x = n·ln 2 + r with |r| ≤ ln 2 / 2, a degree-7 polynomial for e^r (Cephes'       */  \
    /* coefficients), and the scale 2^n applied in two halves so that subnormal results      */  \
    /* round once and large ones overflow to ∞.                                               */  \
    TARGET static inline __attribute__((always_inline)) swiftdl_floats exp_##SUFFIX(swiftdl_floats x) { \
        /* Beyond these bounds the result is 0 or ∞ (e^-104 is below half the least subnormal). */ \
        swiftdl_floats clamped = SWIFTDL_SELECT(x < -104.0f, (swiftdl_floats)(-104.0f), x);         \
        clamped = SWIFTDL_SELECT(clamped > 89.0f, (swiftdl_floats)(89.0f), clamped);                 \
        /* n = round(x / ln 2), through the bits of x / ln 2 + 1.5·2^23: its low mantissa bits. */ \
        const float magic = 12582912.0f;                                                         \
        swiftdl_floats shifted = clamped * 1.44269504f + magic;                                  \
        swiftdl_floats n = shifted - magic;                                                      \
        swiftdl_floats r = (clamped - n * 0.693359375f) - n * -2.1219444e-4f;                   \
        swiftdl_floats p = (swiftdl_floats)(1.98756915e-4f);                                     \
        p = p * r + 1.39819995e-3f;                                                              \
        p = p * r + 8.3334519e-3f;                                                               \
        p = p * r + 4.16657959e-2f;                                                              \
        p = p * r + 1.66666655e-1f;                                                              \
        p = p * r + 5.00000012e-1f;                                                              \
        swiftdl_floats er = p * (r * r) + r + 1.0f;                                              \
        swiftdl_words exponent = SWIFTDL_BITS(shifted) - 0x4B400000u;                            \
        swiftdl_words half = (swiftdl_words)((swiftdl_ints)exponent >> 1);                      \
        swiftdl_floats scale1 = SWIFTDL_FLOATS((half + 127u) << 23);                             \
        swiftdl_floats scale2 = SWIFTDL_FLOATS((exponent - half + 127u) << 23);                  \
        swiftdl_floats result = er * scale1 * scale2;                                            \
        return SWIFTDL_SELECT(x != x, x, result);                                                \
    }                                                                                            \
                                                                                                 \
    /* tanh x: for |x| < 0.625, |x| + |x|³·P(x²) (a degree-4 minimax fit); above,            */  \
    /* 1 − 2/(e^2|x| + 1), where |x| > 9 gives 1; then x's sign.                               */  \
    TARGET static inline __attribute__((always_inline)) swiftdl_floats tanh_##SUFFIX(swiftdl_floats x) { \
        const swiftdl_words signBit = (swiftdl_words)(0x80000000u);                             \
        swiftdl_words bits = SWIFTDL_BITS(x);                                                    \
        swiftdl_floats magnitude = SWIFTDL_FLOATS(bits & ~signBit);                              \
        swiftdl_floats z = x * x;                                                                \
        swiftdl_floats p = (swiftdl_floats)(-5.71574876e-3f);                                    \
        p = p * z + 2.06499025e-2f;                                                              \
        p = p * z + -5.37435263e-2f;                                                             \
        p = p * z + 1.33314967e-1f;                                                              \
        p = p * z + -3.33332837e-1f;                                                             \
        swiftdl_floats small = magnitude + magnitude * z * p;                                    \
        swiftdl_floats e = exp_##SUFFIX(2.0f * SWIFTDL_SELECT(magnitude > 10.0f, (swiftdl_floats)(10.0f), magnitude)); \
        swiftdl_floats large = 1.0f - 2.0f / (e + 1.0f);                                         \
        swiftdl_floats unsignedResult = SWIFTDL_SELECT(magnitude < 0.625f, small, large);        \
        swiftdl_floats result = SWIFTDL_FLOATS(SWIFTDL_BITS(unsignedResult) | (bits & signBit)); \
        return SWIFTDL_SELECT(x != x, x, result);                                                \
    }                                                                                            \
                                                                                                 \
    /* 1/(1 + e^-x) for x ≥ 0, e^x/(1 + e^x) elsewhere (NaN included): e never overflows.     */  \
    TARGET static inline __attribute__((always_inline)) swiftdl_floats sigmoid_##SUFFIX(swiftdl_floats x) { \
        swiftdl_floats e = exp_##SUFFIX(SWIFTDL_SELECT(x > 0.0f, -x, x));                        \
        return SWIFTDL_SELECT(x >= 0.0f, 1.0f / (1.0f + e), e / (1.0f + e));                     \
    }                                                                                            \
                                                                                                 \
    SWIFTDL_VECTOR_LOOP(exp, SUFFIX, TARGET)                                                     \
    SWIFTDL_VECTOR_LOOP(tanh, SUFFIX, TARGET)                                                    \
    SWIFTDL_VECTOR_LOOP(sigmoid, SUFFIX, TARGET)                                                 \
                                                                                                 \
    /* g where x > 0, else scale·g (0 for a zero scale, even for an infinite g). */             \
    TARGET static inline __attribute__((always_inline)) swiftdl_floats slope_##SUFFIX(           \
        swiftdl_floats g, swiftdl_floats x, float scale) {                                       \
        swiftdl_floats negative = scale == 0.0f ? (swiftdl_floats)(0.0f) : scale * g;           \
        return SWIFTDL_SELECT(x > 0.0f, g, negative);                                           \
    }                                                                                            \
                                                                                                 \
    TARGET static void slope_loop_##SUFFIX(long count, const float *g, const float *x, float scale, float *y) { \
        long i = 0;                                                                              \
        for (; i + SWIFTDL_LANES <= count; i += SWIFTDL_LANES) {                                 \
            swiftdl_floats vg, vx;                                                               \
            __builtin_memcpy(&vg, g + i, sizeof vg);                                             \
            __builtin_memcpy(&vx, x + i, sizeof vx);                                             \
            vg = slope_##SUFFIX(vg, vx, scale);                                                  \
            __builtin_memcpy(y + i, &vg, sizeof vg);                                             \
        }                                                                                        \
        if (i < count) {                                                                         \
            swiftdl_floats vg = (swiftdl_floats)(0.0f), vx = (swiftdl_floats)(0.0f);             \
            __builtin_memcpy(&vg, g + i, (unsigned long)(count - i) * sizeof(float));           \
            __builtin_memcpy(&vx, x + i, (unsigned long)(count - i) * sizeof(float));           \
            vg = slope_##SUFFIX(vg, vx, scale);                                                  \
            __builtin_memcpy(y + i, &vg, (unsigned long)(count - i) * sizeof(float));           \
        }                                                                                        \
    }

// The loop applying `FUNCTION` to `count` elements: whole vectors, then the last elements in a
// vector padded with zeros (a lane's result does not depend on the other lanes).
#define SWIFTDL_VECTOR_LOOP(FUNCTION, SUFFIX, TARGET)                                            \
    TARGET static void FUNCTION##_loop_##SUFFIX(long count, const float *x, float *y) {         \
        long i = 0;                                                                              \
        for (; i + SWIFTDL_LANES <= count; i += SWIFTDL_LANES) {                                 \
            swiftdl_floats v;                                                                    \
            __builtin_memcpy(&v, x + i, sizeof v);                                               \
            v = FUNCTION##_##SUFFIX(v);                                                          \
            __builtin_memcpy(y + i, &v, sizeof v);                                               \
        }                                                                                        \
        if (i < count) {                                                                         \
            swiftdl_floats v = (swiftdl_floats)(0.0f);                                           \
            __builtin_memcpy(&v, x + i, (unsigned long)(count - i) * sizeof(float));            \
            v = FUNCTION##_##SUFFIX(v);                                                          \
            __builtin_memcpy(y + i, &v, (unsigned long)(count - i) * sizeof(float));            \
        }                                                                                        \
    }

typedef void (*swiftdl_float_loop)(long, const float *, float *);

#if defined(__x86_64__)
SWIFTDL_VECTOR_MATH(avx512, __attribute__((target("avx512f"))))
SWIFTDL_VECTOR_MATH(avx2, __attribute__((target("avx2"))))
SWIFTDL_VECTOR_MATH(base, )

// The widest build this CPU runs (the answer does not change during a run).
#define SWIFTDL_DISPATCH(FUNCTION)                                                               \
    void swiftdl_##FUNCTION##_f32(long count, const float *x, float *y) {                        \
        static swiftdl_float_loop loop;                                                          \
        swiftdl_float_loop chosen = __atomic_load_n(&loop, __ATOMIC_RELAXED);                    \
        if (!chosen) {                                                                           \
            __builtin_cpu_init();                                                                \
            chosen = __builtin_cpu_supports("avx512f") ? FUNCTION##_loop_avx512                  \
                   : __builtin_cpu_supports("avx2") ? FUNCTION##_loop_avx2 : FUNCTION##_loop_base; \
            __atomic_store_n(&loop, chosen, __ATOMIC_RELAXED);                                   \
        }                                                                                        \
        chosen(count, x, y);                                                                     \
    }
#else
SWIFTDL_VECTOR_MATH(base, )
#define SWIFTDL_DISPATCH(FUNCTION)                                                               \
    void swiftdl_##FUNCTION##_f32(long count, const float *x, float *y) { FUNCTION##_loop_base(count, x, y); }
#endif

SWIFTDL_DISPATCH(exp)
SWIFTDL_DISPATCH(tanh)
SWIFTDL_DISPATCH(sigmoid)

typedef void (*swiftdl_slope_loop)(long, const float *, const float *, float, float *);

void swiftdl_slope_scaled_f32(long count, const float *g, const float *x, float scale, float *y) {
#if defined(__x86_64__)
    static swiftdl_slope_loop loop;
    swiftdl_slope_loop chosen = __atomic_load_n(&loop, __ATOMIC_RELAXED);
    if (!chosen) {
        __builtin_cpu_init();
        chosen = __builtin_cpu_supports("avx512f") ? slope_loop_avx512
               : __builtin_cpu_supports("avx2") ? slope_loop_avx2 : slope_loop_base;
        __atomic_store_n(&loop, chosen, __ATOMIC_RELAXED);
    }
    chosen(count, g, x, scale, y);
#else
    slope_loop_base(count, g, x, scale, y);
#endif
}
