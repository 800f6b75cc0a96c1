/* threadpool.h - the process-wide worker pool and per-thread scratch memory.
 *
 * The pool is created on the first parallel call and reused. The thread count is, in order of
 * precedence: vae_threads_set(n), the env variable VAE_NUM_THREADS, the Meson option
 * `default_threads`, the number of online cores. Work is split into tasks that each write a
 * disjoint output, so results never depend on which thread ran a task, nor on how many threads
 * there are.
 */
#ifndef VAE_THREADPOOL_H
#define VAE_THREADPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define VAE_THREADS_MAX 256

/* Number of threads parallel calls use (>= 1), including the calling thread. Never fails. */
VAE_API int vae_threads_get(void);

/* Use n threads (1 <= n <= VAE_THREADS_MAX); n == 0 restores the default. VAE_ERR_ARG (setting
 * unchanged) for other values. Thread-safe; takes effect at the next parallel call. */
VAE_API vae_status vae_threads_set(int n);

/* Run fn(ctx, task, thread_id) once for every task in [0, ntasks) and return when all are done. The
 * calling thread takes part; tasks are claimed dynamically, so fn must write disjoint outputs per
 * task. thread_id is in [0, vae_threads_get()) and unique among the threads of this one call (use
 * it to index per-call partial buffers). Runs serially, in task order, when: ntasks <= 1, one
 * thread is configured, the call is nested inside a task, another thread's parallel call is in
 * flight, or worker threads could not be created. Never fails. */
VAE_API void vae_parallel_for(int64_t ntasks, void (*fn)(void *ctx, int64_t task, int thread_id),
                      void *ctx);

/* Which thread of a pinned pass (the optimizer's update, the gradient zeroing) takes which elements of a flat buffer
 * of n elements: the ranges [lo[i], hi[i]) with who[i] == t go to thread t of nthreads. Built by the parameter store
 * (nn/params.c) so that each thread updates the rows of a weight that its GEMM tasks read and write (README,
 * Performance, stop 25). Whoever builds one guarantees that its ranges cover [0, n) exactly once; a pass given a map
 * for another n or another thread count than the pool's (or NULL) ignores it and splits n evenly, with the same
 * results. */
typedef struct vae_owner_map {
    int nthreads, count;
    int64_t n;
    const int64_t *lo, *hi;
    const int *who;
} vae_owner_map;

#endif
