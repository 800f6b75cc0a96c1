/* Counter-based Bernoulli draws for dynamic binarization (vae_k_bernoulli_keyed_f32 in kernels.h),
 * compiled once per ISA (ew_isa.h) so that gcc runs 2, 4 or 8 lanes of the hash at once.
 *
 * Element c of a call (c = ctr0 + i*d + j for row i, column j) draws
 *     h = splitmix64(key + (c + 1) * 0x9e3779b97f4a7c15),   u = h >> 33   (31 bits)
 *     out = (double)u < (double)p * 2^31 ? 1 : 0,
 * i.e. the output of a SplitMix64 generator seeded with `key`, at position c + 1, read at random access. P(out = 1)
 * = ceil(p 2^31) / 2^31 for p in [0, 1] (error below 5e-10); p <= 0 or NaN gives 0, p >= 1 gives 1. Each element
 * depends only on (key, c, p): any split over rows or threads gives the same bits, and the integer ops and the
 * exact int32 -> double compare are the same in every ISA variant. */
#include "ew_isa.h"
#include "iter.h"
#include "threadpool.h"

typedef struct {
    uint64_t key, ctr0;
    const float *p;
    const int64_t *idx;
    int64_t d, m, ntasks;
    float *out;
} bern_keyed_job;

/* One row of d draws at counters c0 + 1, c0 + 2, ... The loop is branch-free uint64 arithmetic that gcc
 * vectorizes (vpmullq with AVX-512 DQ, emulated 32x32 products on AVX2 and SSE2). */
static void keyed_row(uint64_t key, uint64_t c0, const float *restrict p, float *restrict out,
                      int64_t d) {
    const uint64_t gamma = 0x9e3779b97f4a7c15ULL;
    const uint64_t base = key + (c0 + 1) * gamma;
    for (int64_t j = 0; j < d; j++) {
        uint64_t z = base + (uint64_t)j * gamma;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        z ^= z >> 31;
        const int32_t u = (int32_t)(z >> 33);
        out[j] = (double)u < (double)p[j] * 0x1.0p31 ? 1.0f : 0.0f;
    }
}

static void keyed_task(void *vc, int64_t task, int tid) {
    const bern_keyed_job *j = vc;
    int64_t r0, r1;
    (void)tid;
    vae__split(j->m, j->ntasks, task, 1, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        const float *src = j->p + (j->idx ? j->idx[r] : r) * j->d;
        /* rows are at random indices of a data set far larger than the caches, and the hash is cheaper than the
         * misses: fetch the next row's lines (64 bytes, 16 floats) while this one is drawn */
        if (r + 1 < r1) { /* 1 row ahead: 72 -> 53 us for 100 MNIST rows; 2 or 4 rows: no better */
            const float *nx = j->p + (j->idx ? j->idx[r + 1] : r + 1) * j->d;
            for (int64_t k = 0; k < j->d; k += 16) __builtin_prefetch(nx + k);
        }
        keyed_row(j->key, j->ctr0 + (uint64_t)(r * j->d), src, j->out + r * j->d, j->d);
    }
}

void VAE__EW(vae_k_bernoulli_keyed_f32)(uint64_t key, uint64_t ctr0, const float *p, int64_t d,
                                        const int64_t *idx, int64_t m, float *out) {
    if (m <= 0 || d <= 0) return;
    /* ~6 adds' worth of work per element; whole rows per task */
    int64_t nt = vae__par_tasks((double)m * (double)d * 6);
    bern_keyed_job j = {key, ctr0, p, idx, d, m, nt > m ? m : nt, out};
    vae_parallel_for(j.ntasks, keyed_task, &j);
}
