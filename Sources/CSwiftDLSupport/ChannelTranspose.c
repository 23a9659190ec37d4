#include "CSwiftDLSupport.h"

// Kernels that mix activation layouts (see ChannelBlocking.swift) move eight channels at a time
// between the plain layout, where each channel's positions are together, and vectors of the
// channels at one position (the batch-norm kernels' channel vectors, oneDNN's blocked layout),
// a tile at a time. Swift builds a vector from eight strided scalars one lane at a time; these
// loops transpose 8×8 blocks in AVX registers where the CPU has AVX2, and move the rest (and
// everything elsewhere) element by element. Only elements move: the results are the same bits
// on every CPU.

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/// Transposes the 8×8 block in `r` (row k in r[k]) in place.
__attribute__((target("avx2"), always_inline)) static inline void transpose8x8(__m256 r[8]) {
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    r[0] = _mm256_permute2f128_ps(s0, s4, 0x20); r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
    r[2] = _mm256_permute2f128_ps(s2, s6, 0x20); r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
    r[4] = _mm256_permute2f128_ps(s0, s4, 0x31); r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
    r[6] = _mm256_permute2f128_ps(s2, s6, 0x31); r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

/// The whole 8×8 blocks of ``swiftdl_gather_channel_vectors_f32``; returns the positions done.
__attribute__((target("avx2"))) static long gather_avx2(const float *source, long rowStride, long count, float *tile, long tileStride) {
    long j = 0;
    for (; j + 8 <= count; j += 8) {
        __m256 r[8];
        for (int k = 0; k < 8; k++) r[k] = _mm256_loadu_ps(source + k * rowStride + j);
        transpose8x8(r);
        for (int k = 0; k < 8; k++) _mm256_storeu_ps(tile + (j + k) * tileStride, r[k]);
    }
    return j;
}

/// The whole 8×8 blocks of ``swiftdl_scatter_channel_vectors_f32``; returns the positions done.
__attribute__((target("avx2"))) static long scatter_avx2(const float *tile, long tileStride, long count, float *target, long rowStride) {
    long j = 0;
    for (; j + 8 <= count; j += 8) {
        __m256 r[8];
        for (int k = 0; k < 8; k++) r[k] = _mm256_loadu_ps(tile + (j + k) * tileStride);
        transpose8x8(r);
        for (int k = 0; k < 8; k++) _mm256_storeu_ps(target + k * rowStride + j, r[k]);
    }
    return j;
}

static int has_avx2(void) { return __builtin_cpu_supports("avx2"); }
#else
static int has_avx2(void) { return 0; }
static long gather_avx2(const float *source, long rowStride, long count, float *tile, long tileStride) { return 0; }
static long scatter_avx2(const float *tile, long tileStride, long count, float *target, long rowStride) { return 0; }
#endif

void swiftdl_gather_channel_vectors_f32(const float *source, long rowStride, long count, float *tile, long tileStride) {
    long j = has_avx2() ? gather_avx2(source, rowStride, count, tile, tileStride) : 0;
    for (; j < count; j++) {
        for (int k = 0; k < 8; k++) tile[j * tileStride + k] = source[k * rowStride + j];
    }
}

void swiftdl_scatter_channel_vectors_f32(const float *tile, long tileStride, long count, float *target, long rowStride) {
    long j = has_avx2() ? scatter_avx2(tile, tileStride, count, target, rowStride) : 0;
    for (; j < count; j++) {
        for (int k = 0; k < 8; k++) target[k * rowStride + j] = tile[j * tileStride + k];
    }
}
