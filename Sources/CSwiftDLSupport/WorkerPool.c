// A pool of persistent threads that run Parallel's splits. libdispatch parks an idle worker at
// once, so every hand-off of a split wakes a sleeping thread through the scheduler: the MLP GAN
// step hands work to the second core about 18 times and made 37 context switches a step (AMD
// EPYC Zen 4, 2026-12-07). A pool thread here keeps watching for the next job for a short while
// (SPIN_NANOSECONDS) before it sleeps, as OpenMP runtimes and Eigen's pool do, so a job handed
// out soon after the last starts at once.
#include "CSwiftDLSupport.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#if defined(__x86_64__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ __volatile__("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

enum { MAX_POOL_THREADS = 63, SPIN_NANOSECONDS = 200000 };

static pthread_mutex_t submit_lock = PTHREAD_MUTEX_INITIALIZER;   // one job at a time
static pthread_mutex_t sleep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static int started = 0;                                            // under submit_lock
static atomic_uint_fast64_t job_number = 0;
static atomic_int sleepers = 0;
static atomic_int unfinished = 0;                                  // pool threads yet to see the job
static uint64_t first_job_seen[MAX_POOL_THREADS + 1];              // written before each thread starts
static swiftdl_pool_job job_body;
static void *job_context;
static int job_workers;
static _Thread_local int inside_job = 0;

static uint64_t now_nanoseconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void *pool_thread(void *argument) {
    int index = (int)(intptr_t)argument;
    inside_job = 1;
    uint64_t seen = first_job_seen[index];
    for (;;) {
        uint64_t deadline = now_nanoseconds() + SPIN_NANOSECONDS;
        for (unsigned spins = 0; atomic_load(&job_number) == seen; spins++) {
            CPU_RELAX();
            if ((spins & 63) == 63 && now_nanoseconds() > deadline) {
                pthread_mutex_lock(&sleep_lock);
                atomic_fetch_add(&sleepers, 1);
                while (atomic_load(&job_number) == seen) pthread_cond_wait(&wake, &sleep_lock);
                atomic_fetch_sub(&sleepers, 1);
                pthread_mutex_unlock(&sleep_lock);
            }
        }
        // The job cannot change before every pool thread has counted itself off below.
        seen = atomic_load(&job_number);
        if (index < job_workers) job_body(job_context, index);
        atomic_fetch_sub_explicit(&unfinished, 1, memory_order_release);
    }
    return NULL;
}

int swiftdl_pool_run(int workers, swiftdl_pool_job body, void *context) {
    if (workers < 2 || workers > MAX_POOL_THREADS + 1 || inside_job) return 0;
    if (pthread_mutex_trylock(&submit_lock) != 0) return 0;   // another thread's job is running
    while (started < workers - 1) {
        pthread_t thread;
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        first_job_seen[started + 1] = atomic_load(&job_number);
        int failed = pthread_create(&thread, &attributes, pool_thread, (void *)(intptr_t)(started + 1));
        pthread_attr_destroy(&attributes);
        if (failed) {
            pthread_mutex_unlock(&submit_lock);
            return 0;
        }
        started++;
    }
    job_body = body;
    job_context = context;
    job_workers = workers;
    atomic_store(&unfinished, started);
    atomic_fetch_add(&job_number, 1);                       // publishes the job (sequentially consistent)
    if (atomic_load(&sleepers) > 0) {
        pthread_mutex_lock(&sleep_lock);
        pthread_cond_broadcast(&wake);
        pthread_mutex_unlock(&sleep_lock);
    }
    inside_job = 1;
    body(context, 0);
    inside_job = 0;
    for (unsigned spins = 0; atomic_load_explicit(&unfinished, memory_order_acquire) > 0; spins++) {
        if (spins < 4096) CPU_RELAX(); else sched_yield();   // a pool thread preempted by other work
    }
    pthread_mutex_unlock(&submit_lock);
    return 1;
}
