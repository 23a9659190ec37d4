// A pool of persistent threads that run Parallel's splits. libdispatch parks an idle worker at
// once, so every hand-off of a split wakes a sleeping thread through the scheduler: the MLP GAN
// step hands work to the second core about 18 times and made 37 context switches a step (AMD
// EPYC Zen 4, 2026-12-07). A pool thread here keeps watching for the next job for a short while
// (SPIN_NANOSECONDS) before it sleeps, as OpenMP runtimes and Eigen's pool do, so a job handed
// out soon after the last starts at once.
//
// The indices of a job are claimed, not assigned: the calling thread runs index 0 and then, like
// the pool's threads, takes whichever indices nobody has claimed yet. When another program holds
// the second core, a pool thread that the scheduler has not run yet claims nothing, and the
// caller does that index itself instead of waiting for it: the MLP GAN step with the other core
// held by `yes` ran at 101-118 steps/s when each index belonged to one thread (three times
// slower than on a quiet machine). The caller waits only for indices already claimed, and sleeps
// after a short spin, so that the scheduler can move a preempted pool thread onto its core.
// While the caller's own core is shared with another program it runs jobs alone (works_alone):
// the same step, the other core held by `yes`, runs at 202-211 steps/s, the speed of one thread.
// What an index computes never depends on the thread that runs it, so neither do the results.
#define _GNU_SOURCE                 // RUSAGE_THREAD
#include "CSwiftDLSupport.h"
#include <pthread.h>
#include <sys/resource.h>
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

enum {
    MAX_POOL_THREADS = 63,
    SPIN_NANOSECONDS = 200000,          // a pool thread's watch for the next job
    FINISH_SPIN_NANOSECONDS = 20000,    // the caller's watch for claimed indices to finish
    INDEX_BITS = 16,                    // a claim word: job number, index count, next index
    SHARE_WINDOW_NANOSECONDS = 4000000, // see works_alone
    SHARED_PREEMPTIONS = 4,
    MIN_ALONE_NANOSECONDS = 10000000,
    MAX_ALONE_NANOSECONDS = 320000000
};

static pthread_mutex_t submit_lock = PTHREAD_MUTEX_INITIALIZER;   // one job at a time
static pthread_mutex_t sleep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;             // a new job (pool threads wait)
static pthread_cond_t finished = PTHREAD_COND_INITIALIZER;         // the job's last index (the caller waits)
static int started = 0;                                            // under submit_lock
// (job number << 2 INDEX_BITS) | (index count << INDEX_BITS) | next unclaimed index, in one word so
// that a claim, a compare-and-swap, sees a job's number and size together: a thread that saw an
// earlier job can never claim an index of a later one, nor an index past the end of its own.
static atomic_uint_fast64_t claims = 0;
static atomic_int sleepers = 0;
static atomic_int unfinished = 0;                                  // indices not yet returned
static atomic_int caller_sleeping = 0;
static swiftdl_pool_job job_body;                                  // valid while an index is unfinished
static void *job_context;
static _Thread_local int inside_job = 0;
static atomic_uint_fast64_t alone_until = 0;                       // see works_alone
static uint64_t window_start = 0;                                  // under submit_lock
static long window_preemptions = 0;                                // under submit_lock
static uint64_t alone_span = MIN_ALONE_NANOSECONDS;                // under submit_lock

static uint64_t now_nanoseconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

// The number of times the scheduler has taken the calling thread's core away from it (Linux;
// elsewhere 0).
static long preemptions(void) {
#if defined(RUSAGE_THREAD)
    struct rusage usage;
    return getrusage(RUSAGE_THREAD, &usage) == 0 ? usage.ru_nivcsw : 0;
#else
    return 0;
#endif
}

// Whether the caller runs a job alone, its pool threads asleep: while its core is shared with
// another program. Three runnable threads on two cores take turns, and a pool thread woken for
// a job lands on the caller's core and preempts it: the MLP GAN step, the other core held by
// `yes`, ran at 121-140 steps/s with claimed indices but no working alone, against 205-223 on
// the calling thread alone (its
// main thread preempted 2,300 times a second, 30 on a quiet machine; AMD EPYC Zen 4,
// 2026-12-07). The caller counts its preemptions over windows of SHARE_WINDOW_NANOSECONDS;
// after a window with at least SHARED_PREEMPTIONS of them it works alone for a span, then
// tries the pool again; a span that ends with the core still shared is followed by one twice
// as long (up to MAX_ALONE_NANOSECONDS).
static int works_alone(void) {
    uint64_t now = now_nanoseconds(), until = atomic_load(&alone_until);
    if (now < until) return 1;
    if (now - window_start < SHARE_WINDOW_NANOSECONDS) return 0;
    long count = preemptions();
    int shared = count - window_preemptions >= SHARED_PREEMPTIONS;
    window_start = now;
    window_preemptions = count;
    if (shared) {
        int again = now - until <= 3 * SHARE_WINDOW_NANOSECONDS;   // shared again right after a span
        if (!again) alone_span = MIN_ALONE_NANOSECONDS;
        else if (2 * alone_span <= MAX_ALONE_NANOSECONDS) alone_span *= 2;
        atomic_store(&alone_until, now + alone_span);
    }
    return shared;
}

static uint64_t job_of(uint64_t claim) { return claim >> (2 * INDEX_BITS); }
static int claim_field(uint64_t claim, int shift) { return (int)((claim >> shift) & ((1u << INDEX_BITS) - 1)); }

// Claims the next index of job `job`, or returns -1 when that job has none left or is over.
static int claim_index(uint64_t job) {
    uint64_t claim = atomic_load(&claims);
    while (job_of(claim) == job) {
        if (claim_field(claim, 0) >= claim_field(claim, INDEX_BITS)) return -1;   // next index, index count
        if (atomic_compare_exchange_weak(&claims, &claim, claim + 1)) return claim_field(claim, 0);
    }
    return -1;
}

// Runs index `index` of the current job and counts it off, waking the caller after the last.
static void run_index(int index) {
    job_body(job_context, index);
    if (atomic_fetch_sub(&unfinished, 1) == 1 && atomic_load(&caller_sleeping)) {
        pthread_mutex_lock(&sleep_lock);
        pthread_cond_signal(&finished);
        pthread_mutex_unlock(&sleep_lock);
    }
}

static void *pool_thread(void *argument) {
    (void)argument;
    inside_job = 1;
    uint64_t seen = job_of(atomic_load(&claims));
    for (;;) {
        uint64_t deadline = now_nanoseconds() + SPIN_NANOSECONDS;
        for (unsigned spins = 0; job_of(atomic_load(&claims)) == seen; spins++) {
            CPU_RELAX();
            if ((spins & 63) != 63) continue;
            uint64_t now = now_nanoseconds();
            if (now > deadline || now < atomic_load(&alone_until)) {   // idle a while, or the caller works alone
                pthread_mutex_lock(&sleep_lock);
                atomic_fetch_add(&sleepers, 1);
                while (job_of(atomic_load(&claims)) == seen) pthread_cond_wait(&wake, &sleep_lock);
                atomic_fetch_sub(&sleepers, 1);
                pthread_mutex_unlock(&sleep_lock);
            }
        }
        seen = job_of(atomic_load(&claims));
        for (int index; (index = claim_index(seen)) >= 0;) run_index(index);
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
        int failed = pthread_create(&thread, &attributes, pool_thread, NULL);
        pthread_attr_destroy(&attributes);
        if (failed) break;                                     // the threads there are claim more
        started++;
    }
    if (started == 0) {
        pthread_mutex_unlock(&submit_lock);
        return 0;
    }
    if (works_alone()) {
        inside_job = 1;
        for (int index = 0; index < workers; index++) body(context, index);
        inside_job = 0;
        pthread_mutex_unlock(&submit_lock);
        return 1;
    }
    job_body = body;
    job_context = context;
    atomic_store(&unfinished, workers);
    uint64_t job = job_of(atomic_load(&claims)) + 1;
    atomic_store(&claims, (job << (2 * INDEX_BITS)) | ((uint64_t)workers << INDEX_BITS) | 1);   // publishes the job; index 0 is the caller's
    if (atomic_load(&sleepers) > 0) {
        pthread_mutex_lock(&sleep_lock);
        pthread_cond_broadcast(&wake);
        pthread_mutex_unlock(&sleep_lock);
    }
    inside_job = 1;
    run_index(0);
    for (int index; (index = claim_index(job)) >= 0;) run_index(index);
    inside_job = 0;
    uint64_t deadline = now_nanoseconds() + FINISH_SPIN_NANOSECONDS;
    for (unsigned spins = 0; atomic_load(&unfinished) > 0; spins++) {
        CPU_RELAX();
        if ((spins & 63) == 63 && now_nanoseconds() > deadline) {
            // A pool thread preempted inside its index: sleep, so its core or this one can run it.
            pthread_mutex_lock(&sleep_lock);
            atomic_store(&caller_sleeping, 1);
            while (atomic_load(&unfinished) > 0) pthread_cond_wait(&finished, &sleep_lock);
            atomic_store(&caller_sleeping, 0);
            pthread_mutex_unlock(&sleep_lock);
        }
    }
    pthread_mutex_unlock(&submit_lock);
    return 1;
}
