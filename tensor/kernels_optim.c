/* The f32 Adam/AdamW update (kernels.h), here rather than in nn/optim.c so that it is compiled once
 * per ISA (ew_isa.h) like the other hot elementwise loops. Float arithmetic over fixed chunks split
 * across the thread pool; each element's update is independent, so the result does not depend on
 * the thread count. */
#include <math.h>

#include "ew_isa.h"
#include "threadpool.h"

typedef struct adam32_job {
    float *x, *m, *v;
    const float *g;
    int64_t n;
    vae_k_adam a;
} adam32_job;

#define ADAM_CHUNK 16384

static void adam32_task(void *ctx, int64_t task, int thread_id) {
    const adam32_job *j = ctx;
    (void)thread_id;
    int64_t i0 = task * ADAM_CHUNK, i1 = i0 + ADAM_CHUNK < j->n ? i0 + ADAM_CHUNK : j->n;
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
                             const vae_k_adam *a) {
    adam32_job j = {x, m, v, g, n, *a};
    if (n > 0) vae_parallel_for((n + ADAM_CHUNK - 1) / ADAM_CHUNK, adam32_task, &j);
}
