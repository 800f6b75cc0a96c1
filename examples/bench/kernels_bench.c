/* GEMM benchmark (see kernels_bench.h). */
#include "kernels_bench.h"

#include <stdint.h>
#include <stdlib.h>
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
} peak_ctx;

static void peak_task(void *vctx, int64_t task, int tid) {
    peak_ctx *x = vctx;
    (void)tid;
    x->sink[task] = fma_loop(x->iters);
}

/* Best GFLOP/s of several runs with `nt` threads, one loop per thread. A peak is a best case, hence
 * the max. */
static double measure_peak(int nt, int smoke) {
    peak_ctx x = {.iters = smoke ? 20000 : 200000};
    vae_threads_set(nt);
    vae_parallel_for(nt, peak_task, &x); /* wake the workers, warm up clocks */
    double best = 0;
    for (int r = 0; r < (smoke ? 2 : 15); r++) {
        const double t0 = now_s();
        vae_parallel_for(nt, peak_task, &x);
        const double g = fma_flops_per_iter() * (double)x.iters * nt / (now_s() - t0) * 1e-9;
        if (g > best) best = g;
    }
    return best;
}

/* ---- GEMM shapes ---- */

typedef struct {
    int64_t M, K, N;
    int a_trans; /* A given as a K x M row-major buffer (the weight gradient x^T g) */
} shape;

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median GFLOP/s of repeated sgemm calls with `nt` threads; repeats until the time budget is spent.
 */
static double measure_gemm(const shape *s, const float *A, const float *B, float *C, int nt,
                           int smoke) {
    vae_threads_set(nt);
    const int64_t rsa = s->a_trans ? 1 : s->K, csa = s->a_trans ? s->M : 1;
    const double flops = 2.0 * (double)s->M * (double)s->N * (double)s->K;
    enum { MAXREP = 301 };
    double rate[MAXREP];
    const double budget = smoke ? 0.005 : 0.4;
    vae_sgemm(s->M, s->N, s->K, 1.0f, A, rsa, csa, B, s->N, 1, 0.0f, C, s->N,
              1); /* warm-up: scratch, caches */
    int n = 0;
    const double start = now_s();
    while (n < MAXREP && (n < 3 || now_s() - start < budget)) {
        const double t0 = now_s();
        vae_sgemm(s->M, s->N, s->K, 1.0f, A, rsa, csa, B, s->N, 1, 0.0f, C, s->N, 1);
        rate[n++] = flops / (now_s() - t0) * 1e-9;
    }
    qsort(rate, (size_t)n, sizeof rate[0], cmp_double);
    return n % 2 ? rate[n / 2] : 0.5 * (rate[n / 2 - 1] + rate[n / 2]);
}

int vae_bench_kernels(FILE *out, int smoke) {
    static const shape shapes[] = {
        {100, 784, 400, 0},  {100, 400, 784, 0},    {784, 100, 400, 1},
        {1000, 200, 784, 0}, {1024, 1024, 1024, 0},
    };
    enum { NSHAPES = sizeof shapes / sizeof shapes[0] };
    const int all = vae_threads_get();
    const int counts[2] = {1, all};
    const int ncounts = all > 1 ? 2 : 1;
    double peak[2], g[NSHAPES][2];
    for (int c = 0; c < ncounts; c++) peak[c] = measure_peak(counts[c], smoke);

    for (int i = 0; i < NSHAPES; i++) {
        const shape *s = &shapes[i];
        float *A = malloc(sizeof(float) * (size_t)(s->M * s->K)),
              *B = malloc(sizeof(float) * (size_t)(s->K * s->N));
        float *C = malloc(sizeof(float) * (size_t)(s->M * s->N));
        if (!A || !B || !C) {
            free(A), free(B), free(C);
            vae_threads_set(0);
            return 1;
        }
        for (int64_t j = 0; j < s->M * s->K; j++) A[j] = (float)((j * 7919) % 1000) * 1e-3f - 0.5f;
        for (int64_t j = 0; j < s->K * s->N; j++) B[j] = (float)((j * 104729) % 997) * 1e-3f - 0.5f;
        for (int c = 0; c < ncounts; c++) g[i][c] = measure_gemm(s, A, B, C, counts[c], smoke);
        free(A), free(B), free(C);
    }
    vae_threads_set(0);

    fprintf(out,
            "{\"bench\":\"kernels\",\"gemm_path\":\"%s\",\"threads\":%d,\"smoke\":%s,\"fma_peak_"
            "gflops\":{",
            vae_gemm_path_name(vae_gemm_get_path()), all, smoke ? "true" : "false");
    for (int c = 0; c < ncounts; c++)
        fprintf(out, "%s\"%d\":%.1f", c ? "," : "", counts[c], peak[c]);
    fprintf(out, "},\"sgemm\":[");
    for (int i = 0; i < NSHAPES; i++) {
        const shape *s = &shapes[i];
        fprintf(out, "%s{\"M\":%lld,\"K\":%lld,\"N\":%lld,\"a_transposed\":%s", i ? "," : "",
                (long long)s->M, (long long)s->K, (long long)s->N, s->a_trans ? "true" : "false");
        for (int c = 0; c < ncounts; c++)
            fprintf(out, ",\"t%d_gflops\":%.1f,\"t%d_pct_peak\":%.1f", counts[c], g[i][c],
                    counts[c], 100.0 * g[i][c] / peak[c]);
        fprintf(out, "}");
    }
    fprintf(out, "]}\n");
    fflush(out);
    return 0;
}
