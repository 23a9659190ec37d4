#ifndef CSWIFTDL_SUPPORT_H
#define CSWIFTDL_SUPPORT_H

/// The derivative trace active on the calling thread (an unretained Swift object), or NULL.
/// Each thread has its own, so two threads can run dlfeval at the same time.
extern _Thread_local void *swiftdl_current_trace;

static inline void *swiftdl_get_current_trace(void) { return swiftdl_current_trace; }
static inline void swiftdl_set_current_trace(void *trace) { swiftdl_current_trace = trace; }

/// The kernel capture of `dlaccelerate` running on this thread, if any (a KernelCapture).
extern _Thread_local void *swiftdl_current_capture;

static inline void *swiftdl_get_current_capture(void) { return swiftdl_current_capture; }
static inline void swiftdl_set_current_capture(void *capture) { swiftdl_current_capture = capture; }

/// Asks the core to start loading the cache line holding `address`, which is read soon
/// (a hint: an address outside the program's memory is ignored, not a fault).
static inline void swiftdl_prefetch(const void *address) { __builtin_prefetch(address); }

/// The body of a pool job: called once for each worker index of the job.
typedef void (*swiftdl_pool_job)(void *context, int worker);

/// Runs `body(context, i)` for every `i` in `0..<workers` at once, `0` on the calling thread and
/// the others on whichever thread claims them first: the pool's persistent threads (started when
/// first needed) or the calling thread, which also runs them all while another program shares
/// its core. Returns when all have returned. Returns 0 without running anything when the pool
/// cannot take the job: fewer than 2 or more than 64 workers, a call from inside a pool job, or
/// another thread's job running; the caller then runs the work another way.
int swiftdl_pool_run(int workers, swiftdl_pool_job body, void *context);

/// Prepares OpenBLAS once: on a CPU that OpenBLAS mistakes for an older core (Debian's 0.3.21
/// runs Haswell's or even Prescott's SSE3 kernels on recent Xeons with AVX-512), it switches
/// OpenBLAS to the kernels ``swiftdl_better_blas_core`` names, and makes idle OpenBLAS threads
/// sleep at once instead of spinning. OPENBLAS_CORETYPE and OPENBLAS_THREAD_TIMEOUT set by the
/// user are respected. Returns the name of the core OpenBLAS uses afterwards.
const char *swiftdl_prepare_blas(void);

/// The OpenBLAS core type (an OPENBLAS_CORETYPE value) whose kernels suit this CPU better than
/// those of `core` (a name OpenBLAS reports): SKYLAKEX on a CPU with AVX-512 whose kernels are
/// not AVX-512 ones, HASWELL on an AVX2 CPU given pre-AVX2 kernels; NULL when `core` suits it.
const char *swiftdl_better_blas_core(const char *core);

/// Gathers eight rows of `count` float32 elements, `rowStride` elements apart from `source`,
/// into vectors of eight `tileStride` apart: `tile[tileStride·j + k] = source[k·rowStride + j]`
/// (a plain activation's eight channels at each of `count` positions, as the batch-norm kernels
/// and oneDNN's blocked layout hold them).
void swiftdl_gather_channel_vectors_f32(const float *source, long rowStride, long count, float *tile, long tileStride);

/// The inverse of ``swiftdl_gather_channel_vectors_f32``: `target[k·rowStride + j] =
/// tile[tileStride·j + k]` for `k < 8`, `j < count`.
void swiftdl_scatter_channel_vectors_f32(const float *tile, long tileStride, long count, float *target, long rowStride);

/// One Adam step over `count` elements of float32 arrays: the new average gradient
/// `m' = decay·m + complement·g`, average squared gradient `v' = squaredDecay·v +
/// squaredComplement·g²` and parameter `p' = p − rate·m'/(√v' + epsilon)`. The outputs must
/// not overlap the inputs.
void swiftdl_adam_step_f32(long count, const float *restrict p, const float *restrict g,
                           const float *restrict m, const float *restrict v, float *restrict newP,
                           float *restrict newM, float *restrict newV, float rate, float decay,
                           float complement, float squaredDecay, float squaredComplement, float epsilon);

/// ``swiftdl_adam_step_f32`` for float64 arrays.
void swiftdl_adam_step_f64(long count, const double *restrict p, const double *restrict g,
                           const double *restrict m, const double *restrict v, double *restrict newP,
                           double *restrict newM, double *restrict newV, double rate, double decay,
                           double complement, double squaredDecay, double squaredComplement, double epsilon);

/// ``swiftdl_adam_step_f32`` with the averages `m` and `v` updated in place: the same bits. `m`,
/// `v`, `p`, `g` and `newP` must not overlap.
void swiftdl_adam_step_in_place_f32(long count, const float *restrict p, const float *restrict g,
                                    float *restrict m, float *restrict v, float *restrict newP,
                                    float rate, float decay, float complement, float squaredDecay,
                                    float squaredComplement, float epsilon);

/// ``swiftdl_adam_step_in_place_f32`` for float64 arrays.
void swiftdl_adam_step_in_place_f64(long count, const double *restrict p, const double *restrict g,
                                    double *restrict m, double *restrict v, double *restrict newP,
                                    double rate, double decay, double complement, double squaredDecay,
                                    double squaredComplement, double epsilon);

/// e^x of `count` float32 elements of `x` into `y` (which may be `x`): a degree-7 polynomial on
/// the reduced argument, within 1.5 ulp, IEEE at ±0, subnormals, ±∞ and NaN. Vectorized for the
/// widest of AVX-512, AVX2 and SSE2 that the CPU has, with the same bits on every one.
void swiftdl_exp_f32(long count, const float *x, float *y);

/// tanh x of `count` float32 elements, as ``swiftdl_exp_f32``: within 2 ulp.
void swiftdl_tanh_f32(long count, const float *x, float *y);

/// The logistic sigmoid 1/(1 + e^-x) of `count` float32 elements, as ``swiftdl_exp_f32``:
/// within 3 ulp, never overflowing.
void swiftdl_sigmoid_f32(long count, const float *x, float *y);

/// `g` where `x > 0`, else `scale · g` (0 when `scale` is 0), of `count` float32 elements into
/// `y` (which may be `g` or `x`): the leaky ReLU of `x` when `g` is `x`, and the gradient through
/// it when `g` is the output's gradient. One multiply and a comparison per element, so the same
/// bits on every CPU; vectorized as ``swiftdl_exp_f32``.
void swiftdl_slope_scaled_f32(long count, const float *g, const float *x, float scale, float *y);

/// Box–Muller's standard normal numbers √(−2·log u)·cos(2π·v) of `count` pairs (u, v) of
/// doubles, `pairs[2i]` = u in (0, 1] and `pairs[2i + 1]` = v in [0, 1), rounded to float32:
/// each the float of the double formula with glibc's scalar log and cos, to the bit, computed
/// with libmvec's vector functions where x86-64 Linux has them.
void swiftdl_box_muller_f32(long count, const double *pairs, float *out);

/// The unnormalized discrete Fourier transform (FFTW, any length) of `outer`·`inner` complex
/// float64 sequences of `length` elements, stored interleaved (re, im) as an
/// `outer × length × inner` row-major array; the result has the same layout. `backward` picks
/// the sign +1 in the exponent (the inverse transform without its 1/length). `input` is not
/// changed and must not overlap `output`. Returns 0 when FFTW cannot plan the transform.
int swiftdl_dft_f64(const double *input, double *output, long length, long outer, long inner, int backward);

#endif
