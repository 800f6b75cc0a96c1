/* Two pool tasks that must run at once (each waits for the other to arrive) ping-pong a cache line, then pass over
 * buffers of their own or of each other (cores_bench.h). */
#include "cores_bench.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tensor/threadpool.h"

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return 1e9 * (double)t.tv_sec + (double)t.tv_nsec;
}

enum { REPS = 15, MAXREPS = 15 };

typedef struct cores_ctx {
    _Alignas(64) atomic_int line; /* the ping-pong line */
    _Alignas(64) atomic_int arrive;
    atomic_int gen; /* barrier generation */
    atomic_int failed;
    int rounds, reps;
    float *buf[2];
    size_t n;
    double rt[MAXREPS], own[2][MAXREPS], handed[2][MAXREPS];
} cores_ctx;

/* Both tasks meet here; 0, or 1 when the other did not come within 50 ms (the call ran serially). */
static int barrier(cores_ctx *c) {
    const int g = atomic_load(&c->gen);
    if (atomic_fetch_add(&c->arrive, 1) == 1) {
        atomic_store(&c->arrive, 0);
        atomic_fetch_add(&c->gen, 1);
        return 0;
    }
    const double t0 = now_ns();
    while (atomic_load(&c->gen) == g) {
        if (now_ns() - t0 > 5e7 || atomic_load(&c->failed)) {
            atomic_store(&c->failed, 1);
            return 1;
        }
        sched_yield();
    }
    return 0;
}

/* b = b * 0.999 + 0.001 over n floats: each element read and written once. The AVX2 copy of the loop (when the CPU
 * has it) keeps the pass at the caches' speed rather than at what 16-byte vectors can issue. */
#define PASS_LOOP(b, n)                                                                            \
    for (size_t i = 0; i < (n); i++) (b)[i] = (b)[i] * 0.999f + 0.001f
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2"))) static void pass_avx2(float *b, size_t n) {
    PASS_LOOP(b, n);
}
#endif
static void pass_plain(float *b, size_t n) {
    PASS_LOOP(b, n);
}

/* One pass; returns its ns. Bytes moved: 2 n sizeof(float). */
static double pass(float *b, size_t n) {
    const double t0 = now_ns();
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx2"))
        pass_avx2(b, n);
    else
#endif
        pass_plain(b, n);
    return now_ns() - t0;
}

static void cores_task(void *vc, int64_t task, int tid) {
    cores_ctx *c = vc;
    const int me = (int)task;
    (void)tid;
    for (int r = 0; r < c->reps; r++) {
        if (barrier(c)) return;
        /* ping-pong: task 0 writes odd values, task 1 answers with the next even one */
        const double t0 = now_ns();
        for (int i = 0; i < c->rounds; i++) {
            const int want = 2 * (r * c->rounds + i) + me;
            /* two threads on one core (more threads than cores): yield, or each hand-over waits a time slice */
            for (int spin = 0; atomic_load_explicit(&c->line, memory_order_acquire) != want; spin++) {
                if (atomic_load_explicit(&c->failed, memory_order_relaxed)) return;
                if (spin > 4096) sched_yield();
            }
            atomic_store_explicit(&c->line, want + 1, memory_order_release);
        }
        if (me == 0) c->rt[r] = (now_ns() - t0) / c->rounds;
        /* own: each task's buffer, last written by itself */
        if (barrier(c)) return;
        c->own[me][r] = pass(c->buf[me], c->n);
        /* handed over: the other task's buffer, which it wrote last */
        if (barrier(c)) return;
        c->handed[me][r] = pass(c->buf[1 - me], c->n);
        if (barrier(c)) return;
        pass(c->buf[me], c->n); /* own again, so the next round's "own" finds it here */
    }
}

static int cmp(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, int n) {
    double s[2 * MAXREPS];
    memcpy(s, v, sizeof(double) * (size_t)n);
    qsort(s, (size_t)n, sizeof s[0], cmp);
    return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

int vae_bench_cores_run(vae_bench_cores *r, int smoke) {
    memset(r, 0, sizeof *r);
    if (vae_threads_get() < 2) return 1;
    cores_ctx *c = aligned_alloc(64, sizeof(cores_ctx));
    if (!c) return 1;
    memset(c, 0, sizeof *c);
    c->rounds = smoke ? 100 : 20000;
    c->reps = smoke ? 1 : REPS;
    r->mb = smoke ? 0.25 : 4; /* in L3, beyond L2 */
    c->n = (size_t)(r->mb * 1e6 / sizeof(float));
    int rc = 1;
    for (int i = 0; i < 2; i++) {
        c->buf[i] = malloc(c->n * sizeof(float));
        if (!c->buf[i]) goto done;
        for (size_t k = 0; k < c->n; k++) c->buf[i][k] = 1.0f;
    }
    const int prev = vae_threads_get();
    vae_threads_set(2);
    vae_parallel_for(2, cores_task, c);
    vae_threads_set(prev);
    if (atomic_load(&c->failed)) goto done;
    double own[2 * MAXREPS], handed[2 * MAXREPS];
    for (int k = 0; k < c->reps; k++)
        for (int t = 0; t < 2; t++) {
            own[2 * k + t] = 2.0 * (double)(c->n * sizeof(float)) / c->own[t][k];
            handed[2 * k + t] = 2.0 * (double)(c->n * sizeof(float)) / c->handed[t][k];
        }
    r->round_trip_ns = median(c->rt, c->reps);
    r->own_gbs = median(own, 2 * c->reps);
    r->handed_gbs = median(handed, 2 * c->reps);
    rc = 0;
done:
    free(c->buf[0]);
    free(c->buf[1]);
    free(c);
    if (rc) memset(r, 0, sizeof *r);
    return rc;
}
