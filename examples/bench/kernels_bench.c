/* GEMM benchmark (see kernels_bench.h). */
#include "kernels_bench.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tensor/cpu.h"
#include "tensor/gemm.h"
#include "tensor/threadpool.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- FMA peak: NACC independent accumulator chains cover FMA latency x pipes (4 x 2 on Zen 5)
 * with room. ---- */

enum { NACC = 24 };

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx512f"))) static float fma_loop_512(int64_t iters) {
    __m512 acc[NACC];
    const __m512 m = _mm512_set1_ps(0.999999f), a = _mm512_set1_ps(1e-6f);
    for (int i = 0; i < NACC; i++) acc[i] = _mm512_set1_ps((float)i);
    for (int64_t t = 0; t < iters; t++) {
        /* Fully unrolled so the chains live in registers, not in a stack array. */
        _Pragma("GCC unroll 24") for (int i = 0; i < NACC; i++) acc[i] =
            _mm512_fmadd_ps(acc[i], m, a);
    }
    __m512 s = acc[0];
    for (int i = 1; i < NACC; i++) s = _mm512_add_ps(s, acc[i]);
    return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx2,fma"))) static float fma_loop_256(int64_t iters) {
    __m256 acc[12]; /* 16 ymm registers: 12 chains + 2 constants */
    const __m256 m = _mm256_set1_ps(0.999999f), a = _mm256_set1_ps(1e-6f);
    for (int i = 0; i < 12; i++) acc[i] = _mm256_set1_ps((float)i);
    for (int64_t t = 0; t < iters; t++) {
        _Pragma("GCC unroll 12") for (int i = 0; i < 12; i++) acc[i] =
            _mm256_fmadd_ps(acc[i], m, a);
    }
    float out[8], s = 0;
    for (int i = 1; i < 12; i++) acc[0] = _mm256_add_ps(acc[0], acc[i]);
    _mm256_storeu_ps(out, acc[0]);
    for (int i = 0; i < 8; i++) s += out[i];
    return s;
}
#endif

static float fma_loop_scalar(int64_t iters) {
    float acc[NACC];
    for (int i = 0; i < NACC; i++) acc[i] = (float)i;
    for (int64_t t = 0; t < iters; t++) {
        _Pragma("GCC unroll 24") for (int i = 0; i < NACC; i++) acc[i] = acc[i] * 0.999999f + 1e-6f;
    }
    float s = 0;
    for (int i = 0; i < NACC; i++) s += acc[i];
    return s;
}

/* Flops one iteration of the widest loop does, and the loop itself. */
static double fma_flops_per_iter(void) {
#if defined(__x86_64__) || defined(__i386__)
    if (vae_cpu_has_avx512f()) return NACC * 16 * 2;
    if (vae_cpu_has_avx2_fma()) return 12 * 8 * 2;
#endif
    return NACC * 2;
}

static float fma_loop(int64_t iters) {
#if defined(__x86_64__) || defined(__i386__)
    if (vae_cpu_has_avx512f()) return fma_loop_512(iters);
    if (vae_cpu_has_avx2_fma()) return fma_loop_256(iters);
#endif
    return fma_loop_scalar(iters);
}

typedef struct {
    int64_t iters;
    volatile float sink[VAE_THREADS_MAX];
    double cpu[VAE_THREADS_MAX]; /* CPU seconds the thread running each task spent in its loop */
} peak_ctx;

static double thread_cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void peak_task(void *vctx, int64_t task, int tid) {
    peak_ctx *x = vctx;
    (void)tid;
    const double c0 = thread_cpu_s();
    x->sink[task] = fma_loop(x->iters);
    x->cpu[task] = thread_cpu_s() - c0;
}

/* Iterations of the FMA loop that take about `seconds` on one thread. */
static int64_t calibrate(double seconds) {
    int64_t iters = 1000;
    volatile float sink; /* keeps the pure loop from being optimized away */
    for (;;) {
        const double t0 = now_s();
        sink = fma_loop(iters);
        (void)sink;
        const double dt = now_s() - t0;
        if (dt > 0.01 || iters > ((int64_t)1 << 40))
            return (int64_t)((double)iters * seconds / dt) + 1;
        iters *= 4;
    }
}

/* The peak is a best case, hence the best of several windows. Each window is one parallel call in
 * which every thread runs the loop for >= 100 ms, so waking the pool (microseconds) cannot distort
 * it, and the per-thread work is the same at every thread count: with t threads the window should
 * be as long as with one, and the 2-thread figure at most twice the 1-thread one.
 * Two figures per window: flops per wall second, and the sum over threads of each thread's flops
 * per CPU second it got. On a machine shared with other processes the wall figure falls with the
 * load while the CPU figure stays at what the cores do when they run, so the CPU figure is the
 * peak GEMMs are rated against: a busy machine can make a GEMM look worse, never better. */
void vae_bench_peaks(vae_bench_counts *c, int smoke) {
    const int prev_threads = vae_threads_get();
    const double window = smoke ? 0.003 : 0.12;
    peak_ctx x = {.iters = calibrate(window)};
    for (int k = 0; k < c->n; k++) {
        const int nt = c->t[k];
        vae_threads_set(nt);
        vae_parallel_for(nt, peak_task, &x); /* wake the workers, bring clocks up */
        double best = 0, wbest = 0, bcpu = 0;
        /* A window that came out shorter than asked (the calibration ran on a busier machine)
         * is not counted: the loop is lengthened and run again. */
        for (int r = 0, tries = 0; r < (smoke ? 1 : 5) && tries < 20; tries++) {
            const double t0 = now_s();
            vae_parallel_for(nt, peak_task, &x);
            const double dt = now_s() - t0;
            if (!smoke && dt < 0.1) {
                x.iters = (int64_t)((double)x.iters * window / dt) + 1;
                continue;
            }
            const double f = fma_flops_per_iter() * (double)x.iters, g = f * nt / dt * 1e-9;
            double gc = 0;
            for (int t = 0; t < nt; t++) gc += f / (x.cpu[t] > 0 ? x.cpu[t] : dt) * 1e-9;
            if (g > best) best = g, wbest = dt;
            if (gc > bcpu) bcpu = gc;
            r++;
        }
        if (best > c->peak_wall[k]) c->peak_wall[k] = best, c->window_s[k] = wbest;
        if (bcpu > c->peak[k]) c->peak[k] = bcpu;
    }
    vae_threads_set(prev_threads);
}

/* ---- pool wake-up ---- */

/* Every thread of the call must take part: each task waits (up to 10 ms, in case the call runs
 * serially) until all `nt` tasks have started, so the round trip includes waking every worker and
 * the barrier at the end. */
typedef struct wake_ctx {
    atomic_int arrived;
    int nt;
} wake_ctx;

static void wake_task(void *vctx, int64_t task, int tid) {
    wake_ctx *x = vctx;
    (void)task, (void)tid;
    atomic_fetch_add(&x->arrived, 1);
    const double t0 = now_s();
    while (atomic_load(&x->arrived) < x->nt && now_s() - t0 < 0.01) {
    }
}

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof v[0], cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Median round trip of an all-thread vae_parallel_for with empty tasks, microseconds. */
static double measure_wake(int nt, int cold, int smoke) {
    enum { NMAX = 2000 };
    static double t[NMAX];
    const int n = smoke ? 5 : cold ? 41 : NMAX, prev_threads = vae_threads_get();
    vae_threads_set(nt);
    wake_ctx x = {.nt = nt};
    vae_parallel_for(nt, wake_task, &x);
    for (int i = 0; i < n; i++) {
        if (cold) {
            const struct timespec ts = {0, 5000000};
            nanosleep(&ts, NULL);
        }
        atomic_store(&x.arrived, 0);
        const double t0 = now_s();
        vae_parallel_for(nt, wake_task, &x);
        t[i] = 1e6 * (now_s() - t0);
    }
    vae_threads_set(prev_threads);
    return median(t, n);
}

/* ---- GEMM shapes ---- */

/* sgemm GFLOP/s for each thread count, interleaved: every round times one block of calls per
 * count, so both counts see the same machine load; medians over rounds. A block repeats the call
 * for >= 1 ms so that a worker that fell asleep between blocks costs little. */
static void measure_gemm(int64_t M, int64_t K, int64_t N, int a_trans, const float *A,
                         const float *B, float *C, const vae_bench_counts *c, int smoke,
                         double *out) {
    const int prev_threads = vae_threads_get();
    const int64_t rsa = a_trans ? 1 : K, csa = a_trans ? M : 1;
    const double flops = 2.0 * (double)M * (double)N * (double)K;
    enum { MAXR = 201 };
    double rate[VAE_BENCH_NCOUNTS][MAXR];
    int reps[VAE_BENCH_NCOUNTS];
    for (int k = 0; k < c->n; k++) { /* warm-up (scratch, caches) and block size */
        vae_threads_set(c->t[k]);
        vae_sgemm(M, N, K, 1.0f, A, rsa, csa, B, N, 1, 0.0f, C, N, 1);
    }
    const double t0 = now_s();
    vae_sgemm(M, N, K, 1.0f, A, rsa, csa, B, N, 1, 0.0f, C, N, 1);
    const double one = now_s() - t0;
    reps[0] = (int)(1e-3 / (one > 1e-7 ? one : 1e-7)) + 1;
    const double budget = smoke ? 0.005 : 0.8;
    int n = 0;
    const double start = now_s();
    while (n < MAXR && (n < 3 || now_s() - start < budget)) {
        for (int k = 0; k < c->n; k++) {
            vae_threads_set(c->t[k]);
            const double s0 = now_s();
            for (int i = 0; i < reps[0]; i++)
                vae_sgemm(M, N, K, 1.0f, A, rsa, csa, B, N, 1, 0.0f, C, N, 1);
            rate[k][n] = flops * reps[0] / (now_s() - s0) * 1e-9;
        }
        n++;
    }
    for (int k = 0; k < c->n; k++) out[k] = median(rate[k], n);
    vae_threads_set(prev_threads);
}

int vae_bench_kernels_run(vae_bench_kernels_res *r, int smoke) {
    static const int64_t shapes[VAE_BENCH_NSHAPES][4] = {
        {100, 784, 400, 0},  {100, 400, 784, 0},    {784, 100, 400, 1},
        {1000, 200, 784, 0}, {1024, 1024, 1024, 0},
    };
    r->gemm_path = vae_gemm_path_name(vae_gemm_get_path());
    r->smoke = smoke;
    if (!(r->c.peak[0] > 0)) { /* not measured by the caller */
        const int all = vae_threads_get();
        r->c.n = all > 1 ? 2 : 1;
        r->c.t[0] = 1;
        r->c.t[1] = all;
        vae_bench_peaks(&r->c, smoke);
    }
    const int all = r->c.t[r->c.n - 1];
    r->wake_hot_us = all > 1 ? measure_wake(all, 0, smoke) : 0;
    r->wake_cold_us = all > 1 ? measure_wake(all, 1, smoke) : 0;
    if (all > 1) vae_bench_cores_run(&r->cores, smoke); /* zeroed when two threads did not run at once */
    for (int i = 0; i < VAE_BENCH_NSHAPES; i++) {
        const int64_t M = shapes[i][0], K = shapes[i][1], N = shapes[i][2];
        r->gemm[i].M = M, r->gemm[i].K = K, r->gemm[i].N = N,
        r->gemm[i].a_trans = (int)shapes[i][3];
        float *A = malloc(sizeof(float) * (size_t)(M * K)),
              *B = malloc(sizeof(float) * (size_t)(K * N));
        float *C = malloc(sizeof(float) * (size_t)(M * N));
        if (!A || !B || !C) {
            free(A), free(B), free(C);
            return 1;
        }
        for (int64_t j = 0; j < M * K; j++) A[j] = (float)((j * 7919) % 1000) * 1e-3f - 0.5f;
        for (int64_t j = 0; j < K * N; j++) B[j] = (float)((j * 104729) % 997) * 1e-3f - 0.5f;
        measure_gemm(M, K, N, r->gemm[i].a_trans, A, B, C, &r->c, smoke, r->gemm[i].gflops);
        free(A), free(B), free(C);
    }
    return 0;
}

void vae_bench_kernels_json(FILE *out, const vae_bench_kernels_res *r) {
    const vae_bench_counts *c = &r->c;
    fprintf(out, "{\"bench\":\"kernels\",\"gemm_path\":\"%s\",\"threads\":%d,\"smoke\":%s",
            r->gemm_path, c->t[c->n - 1], r->smoke ? "true" : "false");
    fprintf(out, ",\"fma_peak_gflops\":{");
    for (int k = 0; k < c->n; k++) fprintf(out, "%s\"%d\":%.1f", k ? "," : "", c->t[k], c->peak[k]);
    fprintf(out, "},\"fma_peak_wall_gflops\":{");
    for (int k = 0; k < c->n; k++)
        fprintf(out, "%s\"%d\":%.1f", k ? "," : "", c->t[k], c->peak_wall[k]);
    fprintf(out, "},\"fma_peak_window_s\":{");
    for (int k = 0; k < c->n; k++)
        fprintf(out, "%s\"%d\":%.3f", k ? "," : "", c->t[k], c->window_s[k]);
    fprintf(out, "},\"pool_wake_us\":{\"hot\":%.2f,\"cold\":%.2f}", r->wake_hot_us, r->wake_cold_us);
    fprintf(out,
            ",\"cores\":{\"line_round_trip_ns\":%.1f,\"pass_mb\":%.2f,\"own_gbs\":%.1f,"
            "\"handed_over_gbs\":%.1f},\"sgemm\":[",
            r->cores.round_trip_ns, r->cores.mb, r->cores.own_gbs, r->cores.handed_gbs);
    for (int i = 0; i < VAE_BENCH_NSHAPES; i++) {
        fprintf(out, "%s{\"M\":%lld,\"K\":%lld,\"N\":%lld,\"a_transposed\":%s", i ? "," : "",
                (long long)r->gemm[i].M, (long long)r->gemm[i].K, (long long)r->gemm[i].N,
                r->gemm[i].a_trans ? "true" : "false");
        for (int k = 0; k < c->n; k++)
            fprintf(out, ",\"t%d_gflops\":%.1f,\"t%d_pct_peak\":%.1f", c->t[k],
                    r->gemm[i].gflops[k], c->t[k], 100.0 * r->gemm[i].gflops[k] / c->peak[k]);
        fprintf(out, "}");
    }
    fprintf(out, "]}");
}

int vae_bench_kernels(FILE *out, int smoke) {
    vae_bench_kernels_res r;
    memset(&r, 0, sizeof r);
    if (vae_bench_kernels_run(&r, smoke)) return 1;
    vae_bench_kernels_json(out, &r);
    fprintf(out, "\n");
    fflush(out);
    return 0;
}
