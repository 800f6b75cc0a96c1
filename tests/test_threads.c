/* Thread pool: every task runs exactly once, nested calls run serially, thread-count settings are
 * validated, pinned jobs run task t on thread t % n, vae__share's split, vae_k_zero_shares, and sgemm/dgemm results
 * are bit-identical for 1..4 threads, over every kind of task grid and with two callers at once. */
#include "test.h"
#include "tensor/gemm.h"
#include "tensor/gemm_hint.h"
#include "tensor/kernels.h"
#include "tensor/rng.h"
#include "tensor/threadpool.h"
#include "tensor/scratch.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    atomic_int *hits;
    atomic_int bad_tid;
    int nested;
} count_ctx;

static void count_inner(void *vctx, int64_t t, int tid) {
    count_ctx *x = vctx;
    (void)tid;
    atomic_fetch_add(&x->hits[t], 1);
}

static void count_task(void *vctx, int64_t t, int tid) {
    count_ctx *x = vctx;
    if (tid < 0 || tid >= vae_threads_get()) atomic_store(&x->bad_tid, 1);
    atomic_fetch_add(&x->hits[t], 1);
    if (x->nested && t == 0) {
        /* A nested call runs serially on this thread and must not deadlock; it counts
         * tasks 1..ntasks-1 again. */
        atomic_int tmp[8];
        for (int i = 0; i < 8; i++) atomic_init(&tmp[i], 0);
        count_ctx inner = {.hits = tmp};
        vae_parallel_for(8, count_inner, &inner);
        int all = 1;
        for (int i = 0; i < 8; i++) all &= atomic_load(&tmp[i]) == 1;
        if (!all) atomic_store(&x->bad_tid, 1);
    }
}

static int cover_once(int64_t n, int nested) {
    atomic_int *hits = malloc(sizeof(atomic_int) * (size_t)(n ? n : 1));
    if (!hits) return 0;
    for (int64_t i = 0; i < n; i++) atomic_init(&hits[i], 0);
    count_ctx x = {.hits = hits, .nested = nested};
    atomic_init(&x.bad_tid, 0);
    vae_parallel_for(n, count_task, &x);
    int ok = !atomic_load(&x.bad_tid);
    for (int64_t i = 0; i < n; i++) ok &= atomic_load(&hits[i]) == 1;
    free(hits);
    return ok;
}

/* Pinned jobs: each task once, task t on thread t % n where n = min(threads, tasks) (n = 1: serial). */
typedef struct {
    atomic_int hits[64];
    atomic_int tid[64];
} pin_ctx;

static void pin_task(void *vctx, int64_t t, int tid) {
    pin_ctx *x = vctx;
    atomic_fetch_add(&x->hits[t], 1);
    atomic_store(&x->tid[t], tid);
}

static int pinned_ok(int64_t n) {
    pin_ctx x;
    for (int i = 0; i < 64; i++) atomic_init(&x.hits[i], 0), atomic_init(&x.tid[i], -1);
    vae__parallel_pinned(n, pin_task, &x);
    const int64_t nt = vae_threads_get() < n ? vae_threads_get() : n;
    int ok = 1;
    for (int64_t t = 0; t < n; t++)
        ok &= atomic_load(&x.hits[t]) == 1 && atomic_load(&x.tid[t]) == (int)(t % nt);
    return ok;
}

/* vae__parallel_ranges: each element of [0, n) in exactly one range, ranges on 16-element boundaries */
static void range_hit(void *vctx, int64_t i0, int64_t i1) {
    unsigned char *hits = vctx;
    for (int64_t i = i0; i < i1; i++) hits[i]++;
    if (i0 % 16) hits[i0] += 100; /* a misaligned start shows as a count > 1 */
}

static int ranges_once(int64_t n) {
    unsigned char *hits = calloc((size_t)n + 1, 1);
    if (!hits) return 0;
    vae__parallel_ranges(n, range_hit, hits);
    int ok = hits[n] == 0;
    for (int64_t i = 0; i < n; i++) ok &= hits[i] == 1;
    free(hits);
    return ok;
}

static void test_pinned_and_shares(void) {
    for (int nt = 1; nt <= 4; nt++) {
        CHECK(vae_threads_set(nt) == VAE_OK);
        const int64_t counts[] = {1, 2, 3, 4, 9, 64};
        for (int c = 0; c < 6; c++)
            CHECK_MSG(pinned_ok(counts[c]), "pinned: threads=%d ntasks=%lld", nt,
                      (long long)counts[c]);
        for (int rep = 0; rep < 200; rep++)
            if (!pinned_ok(nt)) {
                CHECK_MSG(0, "rapid pinned jobs, threads=%d rep=%d", nt, rep);
                break;
            }
        /* the split: ranges of len (a multiple of 16, >= min) covering [0, n) */
        int64_t len;
        int k = vae__share(100000, 16, 1000, &len);
        CHECK(len % 16 == 0 && len >= 1000 && k == (100000 + len - 1) / len && k <= nt &&
              (k - 1) * len < 100000);
        CHECK(vae__share(10, 16, 16384, &len) == 1 && len == 16384);
        CHECK(vae__share(0, 16, 16, &len) == 0);
        CHECK_MSG(ranges_once(1) && ranges_once(16384) && ranges_once(100003),
                  "parallel_ranges, threads=%d", nt);
        /* zeroing by shares: every element, nothing beyond */
        float *z = malloc(sizeof(float) * 70001);
        if (z) {
            for (int i = 0; i < 70001; i++) z[i] = 1.0f;
            vae_k_zero_shares(z, 70000, sizeof(float), NULL);
            int all = z[70000] == 1.0f;
            for (int i = 0; i < 70000; i++) all &= z[i] == 0.0f;
            CHECK_MSG(all, "zero_shares, threads=%d", nt);
            free(z);
        }
    }
    CHECK(vae_threads_set(0) == VAE_OK);
}

/* A job that runs each of its tasks exactly once, in a tight alternation of dynamic jobs (which the caller may finish
 * alone before a worker looks) and pinned jobs (whose tasks no one claims: a worker that entered one twice would run
 * its task twice). A worker that read the generation of one job and then found the next one published could enter
 * that next job again after running it (W1 training on 2 threads diverged in the last bits about once in 5,000
 * steps: an accumulating GEMM task or an Adam range applied twice). */
static void count_once_task(void *vctx, int64_t t, int tid) {
    (void)tid;
    atomic_fetch_add((atomic_int *)vctx + t, 1);
}

static void no_task(void *vctx, int64_t t, int tid) {
    (void)vctx, (void)t, (void)tid;
}

static void test_pinned_runs_once(void) {
    for (int nt = 2; nt <= 3; nt++) {
        CHECK(vae_threads_set(nt) == VAE_OK);
        atomic_int cnt[3];
        int bad = 0, reps = 0;
        for (int rep = 0; rep < 100000 && !bad; rep++, reps++) {
            for (int t = 0; t < nt; t++) atomic_store(&cnt[t], 0);
            vae_parallel_for(nt, no_task, NULL);
            vae__parallel_pinned(nt, count_once_task, cnt);
            for (int t = 0; t < nt; t++) bad |= atomic_load(&cnt[t]) != 1;
            /* a late second run would land after the call returned: look again after the next job */
            vae_parallel_for(nt, no_task, NULL);
            for (int t = 0; t < nt; t++) bad |= atomic_load(&cnt[t]) != 1;
        }
        CHECK_MSG(!bad, "%d threads: a pinned task ran more than once (after %d jobs)", nt, reps);
    }
    CHECK(vae_threads_set(0) == VAE_OK);
}

/* One product of the shapes below, A (M x K) and B (K x N) row-major or transposed. */
typedef struct {
    int64_t M, N, K;
    int ta, tb, dbl;
    const void *A, *B;
    void *C;
} gemm_job;

static void gemm_job_run(gemm_job *g) {
    const int64_t rsa = g->ta ? 1 : g->K, csa = g->ta ? g->M : 1;
    const int64_t rsb = g->tb ? 1 : g->N, csb = g->tb ? g->K : 1;
    if (g->dbl)
        vae_dgemm(g->M, g->N, g->K, 1.0, g->A, rsa, csa, g->B, rsb, csb, 0.0, g->C, g->N, 1);
    else
        vae_sgemm(g->M, g->N, g->K, 1.0f, g->A, rsa, csa, g->B, rsb, csb, 0.0f, g->C, g->N, 1);
}

static void *gemm_job_thread(void *arg) {
    gemm_job_run(arg);
    return NULL;
}

/* The task grids (gemm.c, vae__gemm_grid): with 2-4 threads these shapes split 1 x n, n x 1 and 2 x 2, with
 * several K chunks, partial edge panels, B read in place or packed, tasks reading A in place (N <= 32 per task)
 * beside tasks packing it, and two A blocks per task (6000 x 1024, 4200 x 1024). Each result must equal the
 * 1-thread one bit for bit; then two user threads run their products at once on 2 threads (one gets the pool, the
 * other runs its tasks serially) and must agree too. */
static void test_gemm_grids(void) {
    static const int64_t shapes[][3] = {{100, 400, 784}, {1000, 200, 784}, {300, 517, 1100}, {64, 60, 300},
                                        {1000, 1000, 300}, {600, 700, 1100}, {6000, 40, 1024}, {40, 1000, 900},
                                        {4200, 700, 1024}};
    const int nshapes = (int)(sizeof shapes / sizeof shapes[0]);
    vae_rng r;
    vae_rng_seed(&r, 11);
    for (int sh = 0; sh < nshapes; sh++)
        for (int v = 0; v < 3; v++) { /* v: 0 row-major f32, 1 both transposed f32, 2 row-major f64 */
            const int64_t M = shapes[sh][0], N = shapes[sh][1], K = shapes[sh][2];
            const int dbl = v == 2, es = dbl ? 8 : 4;
            if (dbl && M * N * K > 200000000) continue; /* f64 on the smaller shapes only */
            char *A = malloc((size_t)(M * K * es)), *B = malloc((size_t)(K * N * es));
            char *C[5];
            for (int i = 0; i < 5; i++) C[i] = malloc((size_t)(M * N * es));
            int ok = A && B && C[0] && C[1] && C[2] && C[3] && C[4];
            CHECK(ok);
            if (ok) {
                for (int64_t i = 0; i < M * K; i++)
                    dbl ? (((double *)A)[i] = vae_rng_normal(&r)) : (((float *)A)[i] = (float)vae_rng_normal(&r));
                for (int64_t i = 0; i < K * N; i++)
                    dbl ? (((double *)B)[i] = vae_rng_normal(&r)) : (((float *)B)[i] = (float)vae_rng_normal(&r));
                for (int nt = 1; nt <= 4; nt++) {
                    CHECK(vae_threads_set(nt) == VAE_OK);
                    gemm_job g = {M, N, K, v == 1, v == 1, dbl, A, B, C[nt - 1]};
                    gemm_job_run(&g);
                    if (nt > 1)
                        CHECK_MSG(memcmp(C[0], C[nt - 1], (size_t)(M * N * es)) == 0,
                                  "%s %lldx%lldx%lld (%s): 1 vs %d threads", dbl ? "dgemm" : "sgemm", (long long)M,
                                  (long long)N, (long long)K, v == 1 ? "transposed" : "row-major", nt);
                }
                /* two callers at once on 2 threads */
                CHECK(vae_threads_set(2) == VAE_OK);
                gemm_job g1 = {M, N, K, v == 1, v == 1, dbl, A, B, C[1]}, g2 = g1;
                g2.C = C[4];
                pthread_t th;
                const int started = pthread_create(&th, NULL, gemm_job_thread, &g2) == 0;
                gemm_job_run(&g1);
                if (started)
                    pthread_join(th, NULL);
                else
                    gemm_job_run(&g2);
                CHECK_MSG(memcmp(C[0], C[1], (size_t)(M * N * es)) == 0 &&
                              memcmp(C[0], C[4], (size_t)(M * N * es)) == 0,
                          "%lldx%lldx%lld: two concurrent callers differ from 1 thread", (long long)M, (long long)N,
                          (long long)K);
            }
            free(A), free(B);
            for (int i = 0; i < 5; i++) free(C[i]);
        }
    CHECK(vae_threads_set(0) == VAE_OK);
}

/* x[0..n) = standard normal draws of r, as floats */
static void fill_normal(float *x, int64_t n, vae_rng *r) {
    for (int64_t i = 0; i < n; i++) x[i] = (float)vae_rng_normal(r);
}

/* A row-major A is read in place by the kernel (ukr_da), a transposed one packed: the same kernel arithmetic, so the
 * same bits, for the AVX2 and AVX-512 kernels, 1 and 2 threads, edge panels and several K chunks included. */
static void test_gemm_direct_a(void) {
    static const int64_t shapes[][3] = {{100, 400, 784}, {100, 40, 400}, {37, 70, 1100}, {1000, 200, 784}, {13, 5, 3}};
    vae_rng r;
    vae_rng_seed(&r, 12);
    for (int sh = 0; sh < 5; sh++) {
        const int64_t M = shapes[sh][0], N = shapes[sh][1], K = shapes[sh][2];
        float *A = malloc(sizeof(float) * (size_t)(M * K)), *At = malloc(sizeof(float) * (size_t)(M * K));
        float *B = malloc(sizeof(float) * (size_t)(K * N)), *C1 = malloc(sizeof(float) * (size_t)(M * N)),
              *C2 = malloc(sizeof(float) * (size_t)(M * N));
        CHECK(A && At && B && C1 && C2);
        if (A && At && B && C1 && C2) {
            fill_normal(A, M * K, &r);
            for (int64_t i = 0; i < M; i++)
                for (int64_t k = 0; k < K; k++) At[k * M + i] = A[i * K + k];
            fill_normal(B, K * N, &r);
            for (int path = VAE_GEMM_AVX2; path <= VAE_GEMM_AVX512; path++) {
                if (vae_gemm_set_path((vae_gemm_path)path) != VAE_OK) continue; /* not on this CPU */
                for (int nt = 1; nt <= 2; nt++) {
                    CHECK(vae_threads_set(nt) == VAE_OK);
                    vae_sgemm(M, N, K, 1.0f, A, K, 1, B, N, 1, 0.0f, C1, N, 1);
                    vae_sgemm(M, N, K, 1.0f, At, 1, M, B, N, 1, 0.0f, C2, N, 1);
                    CHECK_MSG(memcmp(C1, C2, sizeof(float) * (size_t)(M * N)) == 0,
                              "%lldx%lldx%lld, %s, %d threads: A in place and A packed differ", (long long)M,
                              (long long)N, (long long)K, vae_gemm_path_name((vae_gemm_path)path), nt);
                }
            }
            CHECK(vae_gemm_set_path(VAE_GEMM_AUTO) == VAE_OK);
        }
        free(A), free(At), free(B), free(C1), free(C2);
    }
    CHECK(vae_threads_set(0) == VAE_OK);
}

/* The linear op's hints (gemm_hint.h) change which thread computes what, never a bit between thread counts: for
 * 1-4 threads, products under VAE__GEMM_PINNED equal the unhinted 1-thread product, and under VAE__GEMM_KSPLIT
 * (K in two chunks: 300 - two chunks under the hint only -, 600, 784, 1024, split on 2 threads; 100, 1100, alpha
 * != 1 not split) the hinted 1-thread product, with beta 0 and 1, f32 and f64, C contiguous or strided. */
static void test_gemm_hints(void) {
    static const int64_t shapes[][3] = {{100, 400, 784}, {100, 784, 600}, {20, 200, 784}, {333, 129, 1024},
                                        {100, 400, 300}, {64, 50, 1100}, {784, 400, 100}};
    const int nsh = (int)(sizeof shapes / sizeof shapes[0]);
    vae_rng r;
    vae_rng_seed(&r, 12);
    for (int sh = 0; sh < nsh; sh++)
        for (int v = 0; v < 4; v++) { /* v: f32 beta 0, f32 beta 1 strided C, f32 alpha 0.5, f64 beta 1 */
            const int64_t M = shapes[sh][0], N = shapes[sh][1], K = shapes[sh][2];
            const int dbl = v == 3, es = dbl ? 8 : 4, csc = v == 1 ? 2 : 1;
            const double alpha = v == 2 ? 0.5 : 1.0, beta = v == 1 || v == 3 ? 1.0 : 0.0;
            char *A = malloc((size_t)(M * K * es)), *B = malloc((size_t)(K * N * es)), *C0 = malloc((size_t)(M * N * csc * es));
            char *R = malloc((size_t)(M * N * csc * es)), *C = malloc((size_t)(M * N * csc * es));
            CHECK(A && B && C0 && R && C);
            if (A && B && C0 && R && C) {
                for (int64_t i = 0; i < M * K; i++)
                    dbl ? (((double *)A)[i] = vae_rng_normal(&r)) : (((float *)A)[i] = (float)vae_rng_normal(&r));
                for (int64_t i = 0; i < K * N; i++)
                    dbl ? (((double *)B)[i] = vae_rng_normal(&r)) : (((float *)B)[i] = (float)vae_rng_normal(&r));
                for (int64_t i = 0; i < M * N * csc; i++)
                    dbl ? (((double *)C0)[i] = vae_rng_normal(&r)) : (((float *)C0)[i] = (float)vae_rng_normal(&r));
                for (int hint = 0; hint < 3; hint++)
                    for (int nt = 1; nt <= 4; nt++) {
                        CHECK(vae_threads_set(nt) == VAE_OK);
                        /* the reference: unhinted on 1 thread, and for the K split its own 1-thread product */
                        char *out = (hint == 0 || hint == 2) && nt == 1 ? R : C;
                        memcpy(out, C0, (size_t)(M * N * csc * es));
                        const vae__gemm_hint_kind old = vae__gemm_hint((vae__gemm_hint_kind)hint);
                        if (dbl)
                            vae_dgemm(M, N, K, alpha, (double *)A, K, 1, (double *)B, N, 1, beta, (double *)out,
                                      N * csc, csc);
                        else
                            vae_sgemm(M, N, K, (float)alpha, (float *)A, K, 1, (float *)B, N, 1, (float)beta,
                                      (float *)out, N * csc, csc);
                        vae__gemm_hint(old);
                        if (out != R)
                            CHECK_MSG(memcmp(R, C, (size_t)(M * N * csc * es)) == 0,
                                      "%lldx%lldx%lld variant %d, hint %d, %d threads: differs from 1 thread",
                                      (long long)M, (long long)N, (long long)K, v, hint, nt);
                    }
            }
            free(A), free(B), free(C0), free(R), free(C);
        }
    CHECK(vae_threads_set(0) == VAE_OK);
}

/* Two user threads run K-split products at once on 2 pool threads: the main one small products, over and over, the
 * other four large ones, each larger than the last (above 2 MiB of partial sums). Whichever thread does not get the
 * pool runs its products serially; the other's partial buffers then raise the mark to which the pool regrows the
 * workers' buffers at the end of a job. A split product's partial must live through the gap between its two jobs:
 * it is in the calling thread's scratch (in a worker's, the regrowth freed it there: AddressSanitizer's CI run
 * would report the read). */
typedef struct {
    int64_t M, N, K, reps, grow; /* product r has M + r * grow rows */
    const float *A, *B, *want;   /* want: the 1-thread product of the most rows */
    float *C;
    atomic_int *stop; /* NULL: run reps products; else run until it is set (at most reps) */
    int bad;
} ksplit_job;

static void *ksplit_loop(void *arg) {
    ksplit_job *j = arg;
    const vae__gemm_hint_kind old = vae__gemm_hint(VAE__GEMM_KSPLIT);
    for (int64_t r = 0; r < j->reps && !j->bad && !(j->stop && atomic_load(j->stop)); r++) {
        const int64_t M = j->M + r * j->grow;
        vae_sgemm(M, j->N, j->K, 1.0f, j->A, j->K, 1, j->B, j->N, 1, 0.0f, j->C, j->N, 1);
        j->bad |= memcmp(j->C, j->want, sizeof(float) * (size_t)(M * j->N)) != 0; /* row i never depends on M */
    }
    vae__gemm_hint(old);
    return NULL;
}

static void *ksplit_loop_then_stop(void *arg) {
    ksplit_job *j = arg;
    ksplit_loop(j);
    atomic_store(j->stop, 1);
    return NULL;
}

static void test_ksplit_two_callers(void) {
    enum { N = 400, K = 600 };
    const int64_t m0[2] = {100, 1400}, grow[2] = {0, 1400}, reps[2] = {100000, 4};
    float *buf[2][4] = {{NULL}};
    ksplit_job jobs[2];
    atomic_int stop;
    atomic_init(&stop, 0);
    vae_rng r;
    vae_rng_seed(&r, 17);
    int ok = 1;
    CHECK(vae_threads_set(1) == VAE_OK);
    for (int u = 0; u < 2; u++) {
        const int64_t M = m0[u] + (reps[u] - 1) * grow[u];
        buf[u][0] = malloc(sizeof(float) * (size_t)(M * K)), buf[u][1] = malloc(sizeof(float) * (size_t)(K * N));
        buf[u][2] = malloc(sizeof(float) * (size_t)(M * N)), buf[u][3] = malloc(sizeof(float) * (size_t)(M * N));
        ok &= buf[u][0] && buf[u][1] && buf[u][2] && buf[u][3];
        if (!ok) continue;
        fill_normal(buf[u][0], M * K, &r);
        fill_normal(buf[u][1], K * N, &r);
        jobs[u] = (ksplit_job){m0[u],     N,         K,         reps[u],         grow[u], buf[u][0],
                               buf[u][1], buf[u][2], buf[u][3], &stop, 0};
        const vae__gemm_hint_kind old = vae__gemm_hint(VAE__GEMM_KSPLIT); /* the reference: 1 thread, same chunks */
        vae_sgemm(M, N, K, 1.0f, buf[u][0], K, 1, buf[u][1], N, 1, 0.0f, buf[u][2], N, 1);
        vae__gemm_hint(old);
    }
    CHECK(ok);
    if (ok) {
        CHECK(vae_threads_set(2) == VAE_OK);
        pthread_t th;
        if (pthread_create(&th, NULL, ksplit_loop_then_stop, &jobs[1]) == 0) {
            ksplit_loop(&jobs[0]);
            pthread_join(th, NULL);
        } else {
            ksplit_loop_then_stop(&jobs[1]);
        }
        CHECK_MSG(!jobs[0].bad && !jobs[1].bad, "K-split products from two threads at once differ (%d, %d)",
                  jobs[0].bad, jobs[1].bad);
    }
    for (int u = 0; u < 2; u++)
        for (int i = 0; i < 4; i++) free(buf[u][i]);
    CHECK(vae_threads_set(0) == VAE_OK);
}

/* An owner map (threadpool.h) decides which thread zeroes and updates which ranges: every element once, and the
 * same Adam bits as the even split; a map for another n or thread count is ignored (even split, same bits). Adam's
 * sum of squares of the gradient has vae_k_sumsq's bits whether it is formed in the update's pass (1 thread, or a
 * map of whole chunks) or by a second pass (a map that cuts a chunk, or one that is ignored). The gradient is also
 * tried zero outside one chunk, where the total is that chunk's sum and so shows a change of its last bit. */
static void test_owner_map(void) {
    enum { N = 100003 };
    const int64_t C = vae_k_sumsq_chunk(N);
    const int64_t lo[] = {0, 40000, 40001, 90000}, hi[] = {40000, 40001, 90000, N};
    const int64_t alo[] = {0, 5 * C, 6 * C, 20 * C}, ahi[] = {5 * C, 6 * C, 20 * C, N};
    const int who[] = {1, 0, 1, 0};
    const vae_owner_map maps[2] = {{2, 4, N, lo, hi, who}, {2, 4, N, alo, ahi, who}};
    CHECK(C == 4096 && 24 * C < N && 25 * C > N);
    float *x = malloc(sizeof(float) * 4 * N), *y = malloc(sizeof(float) * 4 * N),
          *z = malloc(sizeof(float) * 4 * N);
    CHECK(x && y && z);
    if (!x || !y || !z) {
        free(x), free(y), free(z);
        return;
    }
    const vae_k_adam a = {0.9f, 0.999f, 0.01f, 1e-8f, 1e-3f, 1.5f, 0.9999f};
    const int64_t keep[3][2] = {{0, N}, {5 * C, 6 * C}, {24 * C, N}}; /* where the gradient is not zero */
    for (int pat = 0; pat < 3; pat++) {
        vae_rng r;
        vae_rng_seed(&r, 13);
        for (int64_t i = 0; i < 4 * N; i++) x[i] = (float)vae_rng_normal(&r) * (i % 5 == 0 ? 30.0f : 1.0f);
        for (int64_t i = N; i < 3 * N; i++) x[i] = x[i] * x[i]; /* v >= 0 */
        for (int64_t i = 0; i < N; i++)
            if (i < keep[pat][0] || i >= keep[pat][1]) x[3 * N + i] = 0;
        memcpy(y, x, sizeof(float) * 4 * N);
        CHECK(vae_threads_set(1) == VAE_OK);
        const double want = vae_k_sumsq(x + 3 * N, N, 0);
        double got = -1;
        vae_k_adam_f32(x, x + N, x + 2 * N, x + 3 * N, N, &a, NULL, &got);
        CHECK_MSG(memcmp(&got, &want, sizeof got) == 0,
                  "pattern %d: Adam's sum of squares on 1 thread: %.17g, want %.17g",
                  pat, got, want);
        for (int mi = 0; mi < 2; mi++)
            for (int nt = 2; nt <= 3; nt++) { /* the map on 2 threads; ignored on 3 */
                CHECK(vae_threads_set(nt) == VAE_OK);
                memcpy(z, y, sizeof(float) * 4 * N);
                got = -1;
                vae_k_adam_f32(z, z + N, z + 2 * N, z + 3 * N, N, &a, &maps[mi], mi ? &got : NULL);
                CHECK_MSG(memcmp(x, z, sizeof(float) * 3 * N) == 0, "Adam with owner map %d, %d threads", mi, nt);
                CHECK_MSG(!mi || memcmp(&got, &want, sizeof got) == 0,
                          "pattern %d: Adam's sum of squares, map %d, %d threads: %.17g, want %.17g", pat, mi, nt, got,
                          want);
                vae_k_zero_shares(z + 3 * N, N, sizeof(float), &maps[mi]);
                int zeroed = 1;
                for (int64_t i = 0; i < N; i++) zeroed &= z[3 * N + i] == 0;
                CHECK_MSG(zeroed, "zero_shares with owner map %d, %d threads", mi, nt);
            }
    }
    CHECK(vae_threads_set(0) == VAE_OK);
    free(x), free(y), free(z);
}

int main(void) {
    test_pinned_runs_once();
    test_gemm_direct_a();
    test_ksplit_two_callers();
    /* Settings. */
    const int def = vae_threads_get();
    CHECK(def >= 1 && def <= VAE_THREADS_MAX);
    CHECK(vae_threads_set(-1) == VAE_ERR_ARG);
    CHECK(vae_threads_set(VAE_THREADS_MAX + 1) == VAE_ERR_ARG);
    CHECK(vae_threads_get() == def);
    CHECK(vae_threads_set(3) == VAE_OK);
    CHECK(vae_threads_get() == 3);
    CHECK(vae_threads_set(0) == VAE_OK);
    CHECK(vae_threads_get() == def);

    /* Coverage for several thread counts and task counts, including more threads than tasks. */
    for (int nt = 1; nt <= 4; nt++) {
        CHECK(vae_threads_set(nt) == VAE_OK);
        const int64_t counts[] = {0, 1, 2, 3, 7, 100, 10007};
        for (int c = 0; c < 7; c++)
            CHECK_MSG(cover_once(counts[c], 0), "threads=%d ntasks=%lld", nt, (long long)counts[c]);
        CHECK_MSG(cover_once(64, 1), "nested, threads=%d", nt);
        for (int rep = 0; rep < 200; rep++) /* many short jobs back to back: wake/finish races */
            if (!cover_once(5, 0)) {
                CHECK_MSG(0, "rapid jobs, threads=%d rep=%d", nt, rep);
                break;
            }
    }
    vae_parallel_for(5, NULL, NULL); /* NULL fn is ignored */
    test_pinned_and_shares();

    /* Bit-identical GEMM for 1..4 threads on a shape that splits into many tasks. */
    const int64_t M = 500, N = 700, K = 600;
    float *A = malloc(sizeof(float) * (size_t)(M * K)),
          *B = malloc(sizeof(float) * (size_t)(K * N));
    float *C[4];
    double *dA = malloc(sizeof(double) * (size_t)(M * K)),
           *dB = malloc(sizeof(double) * (size_t)(K * N));
    double *dC[4];
    vae_rng r;
    vae_rng_seed(&r, 7);
    for (int64_t i = 0; i < M * K; i++) dA[i] = A[i] = (float)vae_rng_normal(&r);
    for (int64_t i = 0; i < K * N; i++) dB[i] = B[i] = (float)vae_rng_normal(&r);
    for (int nt = 1; nt <= 4; nt++) {
        CHECK(vae_threads_set(nt) == VAE_OK);
        C[nt - 1] = malloc(sizeof(float) * (size_t)(M * N));
        dC[nt - 1] = malloc(sizeof(double) * (size_t)(M * N));
        /* A transposed (column-major) to exercise the strided packing too. */
        vae_sgemm(M, N, K, 1.0f, A, 1, M, B, N, 1, 0.0f, C[nt - 1], N, 1);
        vae_dgemm(M, N, K, 1.0, dA, 1, M, dB, N, 1, 0.0, dC[nt - 1], N, 1);
    }
    for (int nt = 2; nt <= 4; nt++) {
        CHECK_MSG(memcmp(C[0], C[nt - 1], sizeof(float) * (size_t)(M * N)) == 0,
                  "sgemm 1 vs %d threads", nt);
        CHECK_MSG(memcmp(dC[0], dC[nt - 1], sizeof(double) * (size_t)(M * N)) == 0,
                  "dgemm 1 vs %d threads", nt);
    }
    for (int i = 0; i < 4; i++) free(C[i]), free(dC[i]);
    free(A), free(B), free(dA), free(dB);
    CHECK(vae_threads_set(0) == VAE_OK);
    test_gemm_grids();
    test_gemm_hints();
    test_owner_map();

    /* Scratch: aligned, reused when large enough, bad slots refused. */
    void *s1 = vae__thread_scratch(2, 100);
    CHECK(s1 && ((uintptr_t)s1 & 63) == 0);
    CHECK(vae__thread_scratch(2, 64) == s1);
    CHECK(vae__thread_scratch(-1, 8) == NULL && vae__thread_scratch(VAE__SCRATCH_SLOTS, 8) == NULL);
    return test_finish();
}
