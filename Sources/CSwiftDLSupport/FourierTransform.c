#include "CSwiftDLSupport.h"
#include <fftw3.h>
#include <pthread.h>

// FFTW's planner is not thread-safe (fftw_execute is): planning and destroying plans take this
// lock, so transforms on several threads at once are safe.
static pthread_mutex_t planner_lock = PTHREAD_MUTEX_INITIALIZER;

int swiftdl_dft_f64(const double *input, double *output, long length, long outer, long inner, int backward) {
    if (length <= 0 || outer <= 0 || inner <= 0) return 1;
    fftw_iodim64 transform = {length, inner, inner};
    fftw_iodim64 batch[2] = {{outer, length * inner, length * inner}, {inner, 1, 1}};
    // FFTW_ESTIMATE plans without running trial transforms, and FFTW_UNALIGNED keeps the plan
    // (so the rounding of the result) the same whatever the buffers' alignment: the same input
    // gives the same bits on every run.
    pthread_mutex_lock(&planner_lock);
    fftw_plan plan = fftw_plan_guru64_dft(1, &transform, 2, batch, (fftw_complex *)input, (fftw_complex *)output,
                                          backward ? FFTW_BACKWARD : FFTW_FORWARD,
                                          FFTW_ESTIMATE | FFTW_UNALIGNED | FFTW_PRESERVE_INPUT);
    pthread_mutex_unlock(&planner_lock);
    if (plan == NULL) return 0;
    fftw_execute_dft(plan, (fftw_complex *)input, (fftw_complex *)output);
    pthread_mutex_lock(&planner_lock);
    fftw_destroy_plan(plan);
    pthread_mutex_unlock(&planner_lock);
    return 1;
}
