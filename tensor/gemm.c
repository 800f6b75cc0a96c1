/* GEMM front end: argument edge cases, path selection, task grid, and the portable micro-kernels.
 * The blocked driver is the template gemm_driver.h; the SIMD micro-kernels live in gemm_avx2.c and
 * gemm_avx512.c. */
#include "gemm.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu.h"
#include "gemm_hint.h"
#include "gemm_kernels.h"
#include "threadpool.h"
#include "scratch.h"

/* ---- portable micro-kernels: plain C, full nr-wide rows so the inner loop has a constant trip
 * count ---- */

enum { PS_MR = 4, PS_NR = 8, PD_MR = 4, PD_NR = 4 };

static void ukr_s_portable(int64_t kc, const float *a, const float *b, int64_t ldb, float *c,
                           int64_t rsc, int64_t csc, int m, int n, float alpha, float beta) {
    float acc[PS_MR][PS_NR] = {{0}};
    for (int64_t k = 0; k < kc; k++, a += m, b += ldb)
        for (int i = 0; i < m; i++)
            for (int j = 0; j < PS_NR; j++) acc[i][j] += a[i] * b[j];
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            float *cij = c + i * rsc + j * csc;
            *cij = beta != 0 ? beta * *cij + alpha * acc[i][j] : alpha * acc[i][j];
        }
}

static void ukr_d_portable(int64_t kc, const double *a, const double *b, int64_t ldb, double *c,
                           int64_t rsc, int64_t csc, int m, int n, double alpha, double beta) {
    double acc[PD_MR][PD_NR] = {{0}};
    for (int64_t k = 0; k < kc; k++, a += m, b += ldb)
        for (int i = 0; i < m; i++)
            for (int j = 0; j < PD_NR; j++) acc[i][j] += a[i] * b[j];
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double *cij = c + i * rsc + j * csc;
            *cij = beta != 0 ? beta * *cij + alpha * acc[i][j] : alpha * acc[i][j];
        }
}

static const vae__sgemm_kernel sgemm_portable = {ukr_s_portable, NULL, NULL, PS_MR, PS_NR,
                                                 PS_NR,          256,  512,  NULL, NULL, NULL, NULL, NULL};
static const vae__dgemm_kernel dgemm_portable = {ukr_d_portable, NULL, NULL, PD_MR, PD_NR,
                                                 PD_NR,          256,  256,  NULL, NULL, NULL, NULL, NULL};

/* ---- the caller's hint (gemm_hint.h) ---- */

static _Thread_local vae__gemm_hint_kind tl_hint;

vae__gemm_hint_kind vae__gemm_hint(vae__gemm_hint_kind h) {
    const vae__gemm_hint_kind old = tl_hint;
    tl_hint = h;
    return old;
}

/* ---- task grid ---- */

/* Part `idx` of `parts` near-equal pieces of [0, total), piece boundaries on multiples of `align`.
 */
static void vae__gemm_split(int64_t total, int64_t parts, int64_t idx, int64_t align, int64_t *lo,
                            int64_t *hi) {
    const int64_t units = (total + align - 1) / align;
    int64_t a = units * idx / parts * align, b = units * (idx + 1) / parts * align;
    *lo = a < total ? a : total;
    *hi = b < total ? b : total;
}

/* Below this many flops a product runs on the calling thread: waking workers costs more than it
 * saves. */
#define GEMM_PARALLEL_FLOPS 2e6
/* Cost of moving one operand element into a task (packing it, or streaming it in place), in flops of micro-kernel
 * time: a load and a store, from L3 in a training step, whose working set exceeds L2 (half a cycle per element at
 * ~64 flops per cycle). 16 (in-cache packing) split W1's 100x784 @ 784x400 products by rows, each thread then
 * streaming all of the weights; with 32 they split by columns, each thread reading half: W1 on 2 threads +4.7% +- 3.6%
 * (8 alternations, ahead in 7), W2 and W3 +1.5% +- 1.3% and +2.4% +- 1.9%. */
#define GEMM_PACK_COST 32.0

/* Pick the task grid tm x tn minimizing the modelled time of the busiest thread: compute plus the
 * packing that each task repeats (its A rows and its B columns, once each). The grid only
 * decides which thread computes which part of C; every element's value is the same for every grid. nt: the
 * threads that will run the tasks (the caller passes 1 inside a pool task).
 */
static void vae__gemm_grid(int64_t M, int64_t N, int64_t K, int mr, int nr, int nr_pad, int nt, int64_t *tm,
                           int64_t *tn) {
    *tm = *tn = 1;
    if (nt <= 1 || 2.0 * (double)M * (double)N * (double)K < GEMM_PARALLEL_FLOPS) return;
    const int64_t mmax = (M + mr - 1) / mr, nunits = (N + nr_pad - 1) / nr_pad;
    double best = -1;
    for (int64_t tasks = nt; tasks <= 4 * (int64_t)nt; tasks += nt)
        for (int64_t a = 1; a <= tasks; a++) {
            if (tasks % a) continue;
            const int64_t b = tasks / a;
            if (a > mmax || b > nunits) continue;
            const double mt = (double)((M + a - 1) / a);
            const double ntile = (double)((nunits + b - 1) / b * nr_pad);
            const double ntile_nr =
                (double)(((int64_t)ntile + nr - 1) / nr * nr); /* work incl. edge panels */
            const double task =
                2.0 * mt * ntile_nr * (double)K + GEMM_PACK_COST * (double)K * (mt + ntile);
            const double t = (double)((tasks + nt - 1) / nt) * task;
            if (best < 0 || t < best * 0.999) {
                best = t;
                *tm = a;
                *tn = b;
            }
        }
}

/* Under the K-split hint (gemm_hint.h), a K of at least this many (and at most one chunk) is summed in two halves: W1's
 * decoder weight (K = 400) then stays with the threads that own its rows; W1 on 2 threads 63.8k -> 68.1k samples/s
 * (README, stop 25). Below it the halves would be too short to pay for the second pass over C. */
#define GEMM_KSPLIT_MIN_K 256
/* Read B in place (no packing) when at most this many A micro-panels share it (see gemm_driver.h).
 */
#define GEMM_DIRECT_B_PANELS 16
/* Read a row-major A in place (the kernel's ukr_da) instead of packing it, for any N (until stop 26 only when the
 * task's N fit one micro-panel): in a W1 step on 2 threads, the two ways alternating call by call in one process
 * (two runs), 100x400x784 188 -> 181 and 186 -> 171 us, 100x40x400 17.0 -> 15.6 and 17.2 -> 14.6 us (each of 2
 * threads splitting N packed all of A, fetched from the other core); W1/W2/W3 on 2 threads +4% to +6% (README,
 * Performance, stop 26). Hot in cache it makes no difference; with 4 KB rows (1024^3) it was 10-20% slower, hence
 * the stride rule in gemm_driver.h. */
#define GEMM_DIRECT_A 1
/* Elements a kernel's pack_a_rows may write past a panel (gemm_kernels.h). */
#define GEMM_PACK_SLACK 16
/* Most bytes of packed A one task keeps per K chunk (an L3-sized block). */
#define GEMM_A_BLOCK_BYTES ((int64_t)4 << 20)

#define DRV_T      float
#define DRV_KERNEL vae__sgemm_kernel
#define DRV_(name) s_##name
#include "gemm_driver.h"
#undef DRV_T
#undef DRV_KERNEL
#undef DRV_

#define DRV_T      double
#define DRV_KERNEL vae__dgemm_kernel
#define DRV_(name) d_##name
#include "gemm_driver.h"
#undef DRV_T
#undef DRV_KERNEL
#undef DRV_

/* ---- path selection ---- */

static atomic_int g_path = -1; /* resolved vae_gemm_path; -1 until first use */

static int path_available(vae_gemm_path p) {
    switch (p) {
    case VAE_GEMM_PORTABLE:
        return 1;
#if defined(VAE_HAVE_AVX2)
    case VAE_GEMM_AVX2:
        return vae_cpu_has_avx2_fma();
#endif
#if defined(VAE_HAVE_AVX512)
    case VAE_GEMM_AVX512:
        return vae_cpu_has_avx512f();
#endif
    default:
        return 0;
    }
}

static vae_gemm_path best_path(void) {
    if (path_available(VAE_GEMM_AVX512)) return VAE_GEMM_AVX512;
    if (path_available(VAE_GEMM_AVX2)) return VAE_GEMM_AVX2;
    return VAE_GEMM_PORTABLE;
}

const char *vae_gemm_path_name(vae_gemm_path p) {
    static const char *names[VAE_GEMM_PATH_COUNT_] = {"auto", "portable", "avx2", "avx512"};
    if ((int)p < 0 || p >= VAE_GEMM_PATH_COUNT_) return "unknown";
    return names[p];
}

vae_gemm_path vae_gemm_get_path(void) {
    int p = atomic_load_explicit(&g_path, memory_order_relaxed);
    if (p >= 0) return (vae_gemm_path)p;
    vae_gemm_path want = best_path();
    const char *env = getenv("VAE_GEMM_PATH");
    if (env)
        for (int i = VAE_GEMM_PORTABLE; i < VAE_GEMM_PATH_COUNT_; i++)
            if (strcmp(env, vae_gemm_path_name((vae_gemm_path)i)) == 0 &&
                path_available((vae_gemm_path)i))
                want = (vae_gemm_path)i;
    int expected = -1; /* a concurrent vae_gemm_set_path wins over the env default */
    atomic_compare_exchange_strong(&g_path, &expected, (int)want);
    return (vae_gemm_path)atomic_load(&g_path);
}

vae_status vae_gemm_set_path(vae_gemm_path p) {
    if ((int)p < 0 || p >= VAE_GEMM_PATH_COUNT_) return VAE_ERR_ARG;
    if (p == VAE_GEMM_AUTO) p = best_path();
    if (!path_available(p)) return VAE_ERR_UNSUPPORTED;
    atomic_store(&g_path, (int)p);
    return VAE_OK;
}

static const vae__sgemm_kernel *s_kernel(void) {
    switch (vae_gemm_get_path()) {
#if defined(VAE_HAVE_AVX512)
    case VAE_GEMM_AVX512:
        return &vae__sgemm_avx512;
#endif
#if defined(VAE_HAVE_AVX2)
    case VAE_GEMM_AVX2:
        return &vae__sgemm_avx2;
#endif
    default:
        return &sgemm_portable;
    }
}

static const vae__dgemm_kernel *d_kernel(void) {
    switch (vae_gemm_get_path()) {
#if defined(VAE_HAVE_AVX512)
    case VAE_GEMM_AVX512:
        return &vae__dgemm_avx512;
#endif
#if defined(VAE_HAVE_AVX2)
    case VAE_GEMM_AVX2:
        return &vae__dgemm_avx2;
#endif
    default:
        return &dgemm_portable;
    }
}

/* ---- accounting (gemm.h) ---- */

static atomic_int g_stats_on;
static atomic_int_fast64_t g_stats_calls, g_stats_flops, g_stats_ns, g_stats_task_ns;

void vae_gemm_stats_enable(int on) {
    atomic_store(&g_stats_on, on != 0);
}

vae_gemm_stats vae_gemm_stats_get(void) {
    vae_gemm_stats s = {atomic_load(&g_stats_calls), (double)atomic_load(&g_stats_flops),
                        1e-9 * (double)atomic_load(&g_stats_ns),
                        1e-9 * (double)atomic_load(&g_stats_task_ns)};
    return s;
}

void vae_gemm_stats_reset(void) {
    atomic_store(&g_stats_calls, 0);
    atomic_store(&g_stats_flops, 0);
    atomic_store(&g_stats_ns, 0);
    atomic_store(&g_stats_task_ns, 0);
}

static int64_t stats_now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Start of a counted call: its start time, or -1 when not counted. */
static int64_t stats_begin(void) {
    if (!atomic_load_explicit(&g_stats_on, memory_order_relaxed)) return -1;
    return stats_now_ns();
}

static void stats_end(int64_t t0, int64_t M, int64_t N, int64_t K) {
    if (t0 < 0) return;
    atomic_fetch_add(vae__pool_in_task() ? &g_stats_task_ns : &g_stats_ns, stats_now_ns() - t0);
    atomic_fetch_add(&g_stats_calls, 1);
    atomic_fetch_add(&g_stats_flops, 2 * M * N * K);
}

/* ---- public entry points ---- */

void vae_sgemm(int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t rsa,
               int64_t csa, const float *B, int64_t rsb, int64_t csb, float beta, float *C,
               int64_t rsc, int64_t csc) {
    if (M <= 0 || N <= 0 || !C) return;
    if (K <= 0 || alpha == 0 || !A || !B) {
        if (beta == 1) return;
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                float *c = C + i * rsc + j * csc;
                *c = beta == 0 ? 0.0f : beta * *c;
            }
        return;
    }
    const int64_t t0 = stats_begin();
    s_run(s_kernel(), M, N, K, alpha, A, rsa, csa, B, rsb, csb, beta, C, rsc, csc);
    stats_end(t0, M, N, K);
}

void vae_dgemm(int64_t M, int64_t N, int64_t K, double alpha, const double *A, int64_t rsa,
               int64_t csa, const double *B, int64_t rsb, int64_t csb, double beta, double *C,
               int64_t rsc, int64_t csc) {
    if (M <= 0 || N <= 0 || !C) return;
    if (K <= 0 || alpha == 0 || !A || !B) {
        if (beta == 1) return;
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                double *c = C + i * rsc + j * csc;
                *c = beta == 0 ? 0.0 : beta * *c;
            }
        return;
    }
    const int64_t t0 = stats_begin();
    d_run(d_kernel(), M, N, K, alpha, A, rsa, csa, B, rsb, csb, beta, C, rsc, csc);
    stats_end(t0, M, N, K);
}
