/* The f32 Adam/AdamW update (kernels.h), here rather than in nn/optim.c so that it is compiled once
 * per ISA (ew_isa.h) like the other hot elementwise loops. Float arithmetic over one range of
 * elements per thread; each element's update is independent, so the result does not depend on
 * the thread count. */
#include <math.h>

#include "ew_isa.h"
#include "scratch.h"
#include "threadpool.h"

/* vae_k_sumsq's chunks and lanes: chunk c is elements [c len, (c+1) len), len = vae_k_sumsq_chunk(n) */
enum { SUMSQ_LANES = 32, ADAM_BLOCK = 1024 /* a multiple of SUMSQ_LANES: 4 KB of each array, in L1 */ };
_Static_assert(ADAM_BLOCK % SUMSQ_LANES == 0, "a block must end on a whole group of lanes");

typedef struct adam32_job {
    float *x, *m, *v;
    const float *g;
    vae_k_adam a;
    int64_t chunk;    /* with part: vae_k_sumsq's chunk length for the whole n */
    double *part;     /* NULL, or the sum of squares of g in each chunk (vae_k_sumsq's partial sums) */
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

/* Squares of g[i], g[i+1], ... to lanes 0, 1, ... for every whole group of SUMSQ_LANES elements in [i, end);
 * returns where it stopped. */
static int64_t lanes_f32(double *restrict acc, const float *restrict g, int64_t i, int64_t end) {
    for (; i + SUMSQ_LANES <= end; i += SUMSQ_LANES)
        for (int l = 0; l < SUMSQ_LANES; l++) acc[l] += (double)g[i + l] * (double)g[i + l];
    return i;
}

/* The lanes folded in a fixed tree, then the tail (the elements after the last whole group). */
static double fold_lanes(double *acc, double tail) {
    for (int w = SUMSQ_LANES / 2; w > 0; w /= 2)
        for (int l = 0; l < w; l++) acc[l] += acc[l + w];
    return acc[0] + tail;
}

/* The squares of g[i, end) added one after the other (a chunk's tail after its last whole group of lanes). */
static double tail_f32(const float *g, int64_t i, int64_t end) {
    double tail = 0;
    for (; i < end; i++) tail += (double)g[i] * (double)g[i];
    return tail;
}

/* One chunk's sum of squares of f32 values, in vae_k_sumsq's order. */
static double sumsq_chunk_f32(const float *g, int64_t i0, int64_t i1) {
    double acc[SUMSQ_LANES] = {0};
    const int64_t i = lanes_f32(acc, g, i0, i1);
    return fold_lanes(acc, tail_f32(g, i, i1));
}

/* Adam over whole chunks [i0, i1) (chunk-aligned), each block's gradient squared into the lanes right after its
 * update, while it is in L1: the same order as sumsq_chunk_f32, so the same partial sums, in one pass. */
static void adam32_sumsq_range(void *ctx, int64_t i0, int64_t i1) {
    const adam32_job *j = ctx;
    for (int64_t c0 = i0; c0 < i1; c0 += j->chunk) {
        const int64_t c1 = c0 + j->chunk < i1 ? c0 + j->chunk : i1;
        double acc[SUMSQ_LANES] = {0};
        int64_t i = c0;
        for (int64_t b0 = c0; b0 < c1; b0 += ADAM_BLOCK) {
            const int64_t b1 = b0 + ADAM_BLOCK < c1 ? b0 + ADAM_BLOCK : c1;
            adam32_range(ctx, b0, b1);
            i = lanes_f32(acc, j->g, i, b1);
        }
        j->part[c0 / j->chunk] = fold_lanes(acc, tail_f32(j->g, i, c1));
    }
}

/* The pool will run the ranges of `own` as the map says, and every one starts and ends on a chunk boundary (or n). */
static int chunk_aligned(const vae_owner_map *own, int64_t n, int64_t chunk) {
    if (!vae__owner_map_fits(own, n)) return 0;
    for (int i = 0; i < own->count; i++)
        if (own->lo[i] % chunk || (own->hi[i] % chunk && own->hi[i] != n)) return 0;
    return 1;
}

void VAE__EW(vae_k_adam_f32)(float *x, float *m, float *v, const float *g, int64_t n,
                             const vae_k_adam *a, const vae_owner_map *own, double *sumsq) {
    /* One contiguous range per thread, each always on the same thread (vae__parallel_ranges): its moments m and v
     * (touched only here), its parameters and, zeroed by vae_k_zero_shares over the same ranges, its gradients stay
     * in that core's cache. 653k parameters (W1) on 2 threads alone: 119 -> 76 us per update (medians of 200)
     * against 16k-element chunks claimed in turn. With the parameter store's owner map each thread takes the rows of
     * the weights that its GEMM tasks read and write (README, stop 25), in whole chunks of the sum of squares, which
     * then rides along (the gradient norm that vae train logs every step: a second pass over 2.6 MB otherwise). */
    if (sumsq) *sumsq = 0;
    if (n <= 0) return;
    adam32_job j = {x, m, v, g, *a, vae_k_sumsq_chunk(n), NULL};
    const int serial = vae_threads_get() == 1;
    if (sumsq && (serial || chunk_aligned(own, n, j.chunk))) {
        double part[VAE__SUMSQ_MAX_CHUNKS];
        j.part = part;
        if (serial)
            adam32_sumsq_range(&j, 0, n);
        else
            vae__parallel_owned(n, own, adam32_sumsq_range, &j);
        const int64_t nchunks = (n + j.chunk - 1) / j.chunk;
        double s = 0;
        for (int64_t c = 0; c < nchunks; c++) s += part[c];
        *sumsq = s;
        return;
    }
    vae__parallel_owned(n, own, adam32_range, &j);
    if (sumsq) *sumsq = VAE__EW(vae_k_sumsq)(g, n, 0); /* g is unchanged by the update */
}

typedef struct sumsq_job {
    const void *x;
    int64_t n, chunk;
    int f64;
    double part[VAE__SUMSQ_MAX_CHUNKS];
} sumsq_job;

static void sumsq_task(void *ctx, int64_t task, int thread_id) {
    sumsq_job *j = ctx;
    (void)thread_id;
    const int64_t i0 = task * j->chunk, i1 = i0 + j->chunk < j->n ? i0 + j->chunk : j->n;
    if (!j->f64) {
        j->part[task] = sumsq_chunk_f32(j->x, i0, i1);
        return;
    }
    const double *restrict g = j->x;
    double acc[SUMSQ_LANES] = {0}, tail = 0;
    int64_t i = i0;
    for (; i + SUMSQ_LANES <= i1; i += SUMSQ_LANES)
        for (int l = 0; l < SUMSQ_LANES; l++) acc[l] += g[i + l] * g[i + l];
    for (; i < i1; i++) tail += g[i] * g[i];
    j->part[task] = fold_lanes(acc, tail);
}

/* Sum of squares (kernels.h): fixed chunks (their length depends only on n, vae_k_sumsq_chunk) on the pool, each
 * summed in SUMSQ_LANES interleaved f64 partial sums (element i0 + k of the chunk to lane k % SUMSQ_LANES) folded in
 * a fixed tree, the chunks added in order. 32 lanes are four independent zmm (eight ymm) chains of adds, so the loop
 * runs at the loads' speed rather than at one add's latency per vector; every ISA and thread count adds in the same
 * order. */
double VAE__EW(vae_k_sumsq)(const void *x, int64_t n, int f64) {
    if (!x || n <= 0) return 0;
    sumsq_job j = {.x = x, .n = n, .chunk = vae_k_sumsq_chunk(n), .f64 = f64};
    const int64_t nchunks = (n + j.chunk - 1) / j.chunk;
    vae_parallel_for(nchunks, sumsq_task, &j);
    double s = 0;
    for (int64_t c = 0; c < nchunks; c++) s += j.part[c];
    return s;
}
