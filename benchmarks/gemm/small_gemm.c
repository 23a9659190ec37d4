// The MLP GAN's float32 products (batch 64) on OpenBLAS, BLIS and oneDNN, side by side.
//
// Every product of one MLP GAN step (benchmarks/peers/README.md: G 64 -> 256 -> 256 -> 784,
// D 784 -> 256 -> 256 -> 1, batch 64) in the three forms the forward and backward passes use,
// row-major: the forward x*W (NN), the input gradient g*W^T (NT) and the weight gradient x^T*g
// (TN). Each library runs on 1 thread and on 2 threads (its own pool), and "split" runs two
// threads that each call the library single-threaded on half of the columns (the split SwiftDL
// can make itself). The libraries take turns shape by shape, round by round, so a load on the
// machine falls on all of them alike; the median over rounds is printed, in GFLOP/s.
//
//   cc -O2 -fopenmp small_gemm.c -o small_gemm -lopenblas -ldnnl -ldl
//   ./small_gemm [rounds]
//
// BLIS is loaded with dlopen (RTLD_LOCAL): its library also defines cblas_sgemm, which must
// stay OpenBLAS's here.
#include <cblas.h>
#include <dlfcn.h>
#include <oneapi/dnnl/dnnl.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef long dim_t;
// BLIS's typed API: bli_sgemm(transa, transb, m, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc).
typedef void (*bli_sgemm_t)(int, int, dim_t, dim_t, dim_t, float *, float *, dim_t, dim_t, float *, dim_t, dim_t,
                            float *, float *, dim_t, dim_t);
static bli_sgemm_t bli_sgemm_p;
static void (*bli_set_threads_p)(dim_t);
static char *(*bli_arch_string_p)(int);
static int (*bli_arch_query_id_p)(void);
enum { BLIS_NO_TRANSPOSE = 0x0, BLIS_TRANSPOSE = 0x8 };

typedef struct { const char *name; char ta, tb; int m, n, k, perStep; } Shape;

// Rows of x (64) by the layer widths; perStep: how many times one alternating step makes it.
static const Shape shapes[] = {
    {"G fc1 x*W", 'N', 'N', 64, 256, 64, 2},     {"G fc2 x*W", 'N', 'N', 64, 256, 256, 2},
    {"G fc3 x*W", 'N', 'N', 64, 784, 256, 2},    {"D fc1 x*W", 'N', 'N', 64, 256, 784, 3},
    {"D fc2 x*W", 'N', 'N', 64, 256, 256, 3},    {"D out x*W", 'N', 'N', 64, 1, 256, 3},
    {"G fc2 g*W'", 'N', 'T', 64, 256, 256, 1},   {"G fc3 g*W'", 'N', 'T', 64, 256, 784, 1},
    {"D fc1 g*W'", 'N', 'T', 64, 784, 256, 1},   {"D fc2 g*W'", 'N', 'T', 64, 256, 256, 3},
    {"D out g*W'", 'N', 'T', 64, 256, 1, 3},     {"G fc1 x'*g", 'T', 'N', 64, 256, 64, 1},
    {"G fc2 x'*g", 'T', 'N', 256, 256, 64, 1},   {"G fc3 x'*g", 'T', 'N', 256, 784, 64, 1},
    {"D fc1 x'*g", 'T', 'N', 784, 256, 64, 2},   {"D fc2 x'*g", 'T', 'N', 256, 256, 64, 2},
    {"D out x'*g", 'T', 'N', 256, 1, 64, 2},
};
enum { SHAPES = sizeof shapes / sizeof shapes[0] };

typedef enum { OPENBLAS, BLIS, ONEDNN } Library;
static const char *libraryNames[] = {"OpenBLAS", "BLIS", "oneDNN"};

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

// C[:, n0..<n1] = op(A) * op(B)[:, n0..<n1] on the calling thread's library setting.
static void gemm(Library library, const Shape *s, const float *a, const float *b, float *c, int n0, int n1) {
    int m = s->m, n = n1 - n0, k = s->k;
    int lda = s->ta == 'N' ? k : m, ldb = s->tb == 'N' ? s->n : k, ldc = s->n;
    const float *bPart = s->tb == 'N' ? b + n0 : b + (long)n0 * ldb;
    float *cPart = c + n0;
    float one = 1, zero = 0;
    switch (library) {
    case OPENBLAS:
        cblas_sgemm(CblasRowMajor, s->ta == 'N' ? CblasNoTrans : CblasTrans, s->tb == 'N' ? CblasNoTrans : CblasTrans,
                    m, n, k, 1, a, lda, bPart, ldb, 0, cPart, ldc);
        break;
    case BLIS:
        bli_sgemm_p(s->ta == 'N' ? BLIS_NO_TRANSPOSE : BLIS_TRANSPOSE, s->tb == 'N' ? BLIS_NO_TRANSPOSE : BLIS_TRANSPOSE,
                    m, n, k, &one, (float *)a, lda, 1, (float *)bPart, ldb, 1, &zero, cPart, ldc, 1);
        break;
    case ONEDNN:
        dnnl_sgemm(s->ta, s->tb, m, n, k, 1, a, lda, bPart, ldb, 0, cPart, ldc);
        break;
    }
}

static void setThreads(Library library, int threads) {
    switch (library) {
    case OPENBLAS: openblas_set_num_threads(threads); break;
    case BLIS: bli_set_threads_p(threads); break;
    case ONEDNN: omp_set_num_threads(threads); break;
    }
}

// mode 0: 1 thread; 1: the library's 2 threads; 2: split in two halves of columns, each on one thread.
static double seconds(Library library, int mode, const Shape *s, const float *a, const float *b, float *c) {
    setThreads(library, mode == 1 ? 2 : 1);
    double flops = 2.0 * s->m * s->n * s->k;
    int calls = (int)(2e7 / flops) + 3;
    double best = 1e30;
    for (int repeat = 0; repeat < 3; repeat++) {
        double start = now();
        for (int call = 0; call < calls; call++) {
            if (mode == 2 && s->n >= 2) {
#pragma omp parallel num_threads(2)
                {
                    int half = (s->n / 2 + 15) / 16 * 16, t = omp_get_thread_num();
                    if (library == ONEDNN) omp_set_num_threads(1);
                    gemm(library, s, a, b, c, t == 0 ? 0 : half, t == 0 ? half : s->n);
                }
            } else {
                gemm(library, s, a, b, c, 0, s->n);
            }
        }
        double t = (now() - start) / calls;
        if (t < best) best = t;
    }
    return best;
}

static int compareDoubles(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 5;
    void *blis = dlopen("libblis.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!blis) { fprintf(stderr, "small_gemm: %s\n", dlerror()); return 1; }
    bli_sgemm_p = (bli_sgemm_t)dlsym(blis, "bli_sgemm");
    bli_set_threads_p = (void (*)(dim_t))dlsym(blis, "bli_thread_set_num_threads");
    bli_arch_string_p = (char *(*)(int))dlsym(blis, "bli_arch_string");
    bli_arch_query_id_p = (int (*)(void))dlsym(blis, "bli_arch_query_id");
    printf("OpenBLAS %s (%s); BLIS arch %s; oneDNN %d.%d.%d\n", openblas_get_config(), openblas_get_corename(),
           bli_arch_string_p(bli_arch_query_id_p()), dnnl_version()->major, dnnl_version()->minor, dnnl_version()->patch);

    float *a = malloc(sizeof(float) * 784 * 784), *b = malloc(sizeof(float) * 784 * 784);
    float *c = malloc(sizeof(float) * 784 * 784), *reference = malloc(sizeof(float) * 784 * 784);
    for (int i = 0; i < 784 * 784; i++) { a[i] = (float)rand() / RAND_MAX - 0.5f; b[i] = (float)rand() / RAND_MAX - 0.5f; }

    enum { MODES = 3, LIBRARIES = 3 };
    static double results[SHAPES][LIBRARIES][MODES][64];
    for (int s = 0; s < SHAPES; s++) {
        // Check each library against OpenBLAS on this shape before timing it.
        setThreads(OPENBLAS, 1);
        gemm(OPENBLAS, &shapes[s], a, b, reference, 0, shapes[s].n);
        for (int library = BLIS; library <= ONEDNN; library++) {
            setThreads(library, 1);
            memset(c, 0, sizeof(float) * shapes[s].m * shapes[s].n);
            gemm(library, &shapes[s], a, b, c, 0, shapes[s].n);
            for (int i = 0; i < shapes[s].m * shapes[s].n; i++) {
                float d = c[i] - reference[i];
                if (d > 1e-3f || d < -1e-3f) { fprintf(stderr, "%s differs on %s at %d\n", libraryNames[library], shapes[s].name, i); return 1; }
            }
        }
    }
    for (int round = 0; round < rounds; round++) {
        for (int s = 0; s < SHAPES; s++) {
            for (int mode = 0; mode < MODES; mode++) {
                for (int i = 0; i < LIBRARIES; i++) {
                    int library = (i + round + s) % LIBRARIES;
                    results[s][library][mode][round] =
                        2.0 * shapes[s].m * shapes[s].n * shapes[s].k / seconds(library, mode, &shapes[s], a, b, c) / 1e9;
                    if (getenv("SMALL_GEMM_VERBOSE"))
                        fprintf(stderr, "round %d %s %s mode %d: %.1f GFLOP/s\n", round, shapes[s].name, libraryNames[library],
                                mode, results[s][library][mode][round]);
                }
            }
        }
    }
    printf("| product | m x n x k | per step | OpenBLAS 1t | BLIS 1t | oneDNN 1t | OpenBLAS 2t | BLIS 2t | oneDNN 2t | OpenBLAS split | BLIS split | oneDNN split |\n");
    printf("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    double stepTime[LIBRARIES][MODES] = {{0}};
    for (int s = 0; s < SHAPES; s++) {
        const Shape *shape = &shapes[s];
        printf("| %s (%c%c) | %dx%dx%d | %d |", shape->name, shape->ta, shape->tb, shape->m, shape->n, shape->k, shape->perStep);
        for (int mode = 0; mode < MODES; mode++) {
            for (int library = 0; library < LIBRARIES; library++) {
                qsort(results[s][library][mode], rounds, sizeof(double), compareDoubles);
                double median = results[s][library][mode][rounds / 2];
                stepTime[library][mode] += shape->perStep * 2.0 * shape->m * shape->n * shape->k / (median * 1e9);
                printf(" %.1f |", median);
            }
        }
        printf("\n");
    }
    printf("| all products of one step | | | ");
    for (int mode = 0; mode < MODES; mode++)
        for (int library = 0; library < LIBRARIES; library++) printf("%.3f ms | ", stepTime[library][mode] * 1e3);
    printf("\n");
    return 0;
}
