/* The f32 Adam/AdamW update (kernels.h), here rather than in nn/optim.c so that it is compiled once
 * per ISA (ew_isa.h) like the other hot elementwise loops. Float arithmetic over one range of
 * elements per thread; each element's update is independent, so the result does not depend on
 * the thread count. */
#include <math.h>

#include "ew_isa.h"
#include "scratch.h"
#include "threadpool.h"

typedef struct adam32_job {
    float *x, *m, *v;
    const float *g;
    vae_k_adam a;
} adam32_job;

static void adam32_range(void *ctx, int64_t i0, int64_t i1) {
    const adam32_job *j = ctx;
    float *restrict x = j->x, *restrict m = j->m, *restrict v = j->v;
    const float *restrict g = j->g;
    const float b1 = j->a.b1, b2 = j->a.b2, c1 = 1 - j->a.b1, c2 = 1 - j->a.b2, wd = j->a.wd,
                eps = j->a.eps;
    const float step = j->a.step_size, inv = j->a.inv_sqrt_bc2, decay = j->a.decay;
    for (int64_t i = i0; i < i1; i++) {
        float xi = x[i] * decay, gi = g[i] + wd * xi;
        float mi = b1 * m[i] + c1 * gi, vi = b2 * v[i] + c2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        x[i] = xi - step * mi / (sqrtf(vi) * inv + eps);
    }
}

void VAE__EW(vae_k_adam_f32)(float *x, float *m, float *v, const float *g, int64_t n,
                             const vae_k_adam *a, const vae_owner_map *own) {
    /* One contiguous range per thread, each always on the same thread (vae__parallel_ranges): its moments m and v
     * (touched only here), its parameters and, zeroed by vae_k_zero_shares over the same ranges, its gradients stay
     * in that core's cache. 653k parameters (W1) on 2 threads alone: 119 -> 76 us per update (medians of 200)
     * against 16k-element chunks claimed in turn. With the parameter store's owner map each thread takes the rows of
     * the weights that its GEMM tasks read and write (README, stop 25). */
    adam32_job j = {x, m, v, g, *a};
    if (n > 0) vae__parallel_owned(n, own, adam32_range, &j);
}

/* Sum of squares (kernels.h): fixed chunks (their size depends only on n) on the pool, each summed in SUMSQ_LANES
 * interleaved f64 partial sums (element i to lane i % SUMSQ_LANES) folded in a fixed tree, the chunks added in
 * order. 32 lanes are four independent zmm (eight ymm) chains of adds, so the loop runs at the loads' speed rather
 * than at one add's latency per vector; every ISA and thread count adds in the same order. */
enum { SUMSQ_MAX_CHUNKS = 256, SUMSQ_MIN_CHUNK = 16384, SUMSQ_LANES = 32 };

typedef struct sumsq_job {
    const void *x;
    int64_t n, chunk;
    int f64;
    double part[SUMSQ_MAX_CHUNKS];
} sumsq_job;

static void sumsq_task(void *ctx, int64_t task, int thread_id) {
    sumsq_job *j = ctx;
    (void)thread_id;
    const int64_t i0 = task * j->chunk, i1 = i0 + j->chunk < j->n ? i0 + j->chunk : j->n;
    double acc[SUMSQ_LANES] = {0}, tail = 0;
    int64_t i = i0;
    if (j->f64) {
        const double *restrict g = j->x;
        for (; i + SUMSQ_LANES <= i1; i += SUMSQ_LANES)
            for (int l = 0; l < SUMSQ_LANES; l++) acc[l] += g[i + l] * g[i + l];
        for (; i < i1; i++) tail += g[i] * g[i];
    } else {
        const float *restrict g = j->x;
        for (; i + SUMSQ_LANES <= i1; i += SUMSQ_LANES)
            for (int l = 0; l < SUMSQ_LANES; l++) acc[l] += (double)g[i + l] * (double)g[i + l];
        for (; i < i1; i++) tail += (double)g[i] * (double)g[i];
    }
    for (int w = SUMSQ_LANES / 2; w > 0; w /= 2)
        for (int l = 0; l < w; l++) acc[l] += acc[l + w];
    j->part[task] = acc[0] + tail;
}

double VAE__EW(vae_k_sumsq)(const void *x, int64_t n, int f64) {
    if (!x || n <= 0) return 0;
    sumsq_job j = {.x = x, .n = n, .f64 = f64};
    j.chunk = (n + SUMSQ_MAX_CHUNKS - 1) / SUMSQ_MAX_CHUNKS;
    if (j.chunk < SUMSQ_MIN_CHUNK) j.chunk = SUMSQ_MIN_CHUNK;
    const int64_t nchunks = (n + j.chunk - 1) / j.chunk;
    vae_parallel_for(nchunks, sumsq_task, &j);
    double s = 0;
    for (int64_t c = 0; c < nchunks; c++) s += j.part[c];
    return s;
}
