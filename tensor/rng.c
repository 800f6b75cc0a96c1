#include "rng.h"

#include "kernels.h"

#include <math.h>
#include <string.h>

static uint64_t rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void vae_rng_seed(vae_rng *r, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
    r->has_spare = 0;
    r->spare = 0.0;
}

/* xoshiro256** step. static so that loops in this file inline it (an exported function of a shared library may be
 * interposed, so gcc calls it through the PLT). */
static inline uint64_t next(uint64_t *s) {
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t vae_rng_u64(vae_rng *r) {
    return next(r->s);
}

static inline double uniform(uint64_t *s) {
    return (double)(next(s) >> 11) * 0x1.0p-53;
}

double vae_rng_uniform(vae_rng *r) {
    return uniform(r->s);
}

/* 52 bits, not 53: k + 0.5 is exact only for k < 2^52; with 53 bits the top value (2^53 - 0.5) rounds to 2^53,
 * which returned exactly 1.0. Range [2^-53, 1 - 2^-53]. */
double vae_rng_uniform_pos(vae_rng *r) {
    return ((double)(next(r->s) >> 12) + 0.5) * 0x1.0p-52;
}

uint64_t vae_rng_below(vae_rng *r, uint64_t n) {
    if (n == 0) return 0;
    uint64_t limit = UINT64_MAX - UINT64_MAX % n; /* reject the biased tail */
    uint64_t x;
    do x = next(r->s);
    while (x >= limit);
    return x % n;
}

double vae_rng_normal(vae_rng *r) {
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    double u, v, s;
    do {
        u = 2.0 * uniform(r->s) - 1.0; /* inlined: not through the PLT (W2 draws 50k per step) */
        v = 2.0 * uniform(r->s) - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    double m = sqrt(-2.0 * log(s) / s);
    r->spare = v * m;
    r->has_spare = 1;
    return u * m;
}

/* The polar method over blocks of pairs, in three passes: the draws, then each step of m = sqrt(-2 log(s) / s) over
 * the whole block (its pairs are independent: the logs pipeline, the square roots and divisions vectorize, correctly
 * rounded in either form), then the products. The draws test candidates without a branch: a round draws as many
 * candidate pairs as the block still needs and keeps the accepted ones in order (the 21% rejections of the one-pair
 * loop were mispredicted branches). A round of k candidates accepts at most k pairs, so the block fills exactly at
 * its last candidate and no draw is taken beyond vae_rng_normal's: the same draws, operations and values bit for bit,
 * and the same state after (the spare included). */
enum { NORMAL_BLOCK = 64 };

void vae_rng_normal_n(vae_rng *r, double *out, int64_t n) {
    int64_t i = 0;
    if (n > 0 && r->has_spare) {
        out[i++] = r->spare;
        r->has_spare = 0;
    }
    double u[NORMAL_BLOCK], v[NORMAL_BLOCK], s[NORMAL_BLOCK], m[NORMAL_BLOCK];
    while (i < n) {
        const int64_t left = (n - i + 1) / 2, pairs = left < NORMAL_BLOCK ? left : NORMAL_BLOCK;
        int64_t got = 0;
        while (got < pairs)
            for (int64_t c = pairs - got; c > 0; c--) { /* got < pairs at every store */
                const double a = 2.0 * uniform(r->s) - 1.0, b = 2.0 * uniform(r->s) - 1.0;
                const double q = a * a + b * b;
                u[got] = a, v[got] = b, s[got] = q;
                got += (q < 1.0) & (q != 0.0);
            }
        for (int64_t p = 0; p < pairs; p++) m[p] = log(s[p]);
        for (int64_t p = 0; p < pairs; p++) m[p] = sqrt(-2.0 * m[p] / s[p]);
        for (int64_t p = 0; p < pairs; p++) {
            out[i++] = u[p] * m[p];
            r->spare = v[p] * m[p]; /* as vae_rng_normal leaves it, also once returned */
            if (i < n)
                out[i++] = r->spare;
            else /* an odd count: the second of the last pair waits for the next call */
                r->has_spare = 1;
        }
    }
}

int vae_rng_bernoulli(vae_rng *r, double p) {
    return uniform(r->s) < p;
}

/* Two passes over chunks of BERN_CHUNK elements: the serial xoshiro chain writes each draw's 53 bits split
 * into two int32 halves (hi 31 bits, lo 22 bits), then a branch-free loop, which the compiler vectorizes (int32 ->
 * double conversions exist on every x86-64), rebuilds u = hi * 2^22 + lo exactly (an integer < 2^53) and compares
 * u * 2^-53 < p[i] as vae_rng_bernoulli does: the same draws and the same results, bit for bit. The old single loop
 * took a mispredicted branch on every grey pixel and converted one int64 at a time (~10% of a W1 step). */
enum { BERN_CHUNK = 256 };

void vae_rng_bernoulli_f32(vae_rng *r, const float *p, float *out, int64_t n) {
    uint64_t s[4]; /* a local copy of the state stays in registers */
    memcpy(s, r->s, sizeof s);
    int32_t hi[BERN_CHUNK], lo[BERN_CHUNK];
    for (int64_t i0 = 0; i0 < n; i0 += BERN_CHUNK) {
        const int c = n - i0 < BERN_CHUNK ? (int)(n - i0) : BERN_CHUNK;
        /* p is usually a data set row at a random index, not in cache: fetch this chunk's and the
         * next chunk's lines while the chain runs (64-byte lines, 16 floats). */
        for (int64_t j = 0; j < 2 * BERN_CHUNK && i0 + j < n; j += 16)
            __builtin_prefetch(p + i0 + j);
        for (int j = 0; j < c; j++) {
            const uint64_t u = next(s) >> 11;
            hi[j] = (int32_t)(u >> 22);
            lo[j] = (int32_t)(u & 0x3fffff);
        }
        const float *pc = p + i0;
        float *oc = out + i0;
        for (int j = 0; j < c; j++) {
            const double u = (double)hi[j] * 0x1.0p22 + (double)lo[j];
            oc[j] = (float)(u * 0x1.0p-53 < (double)pc[j]);
        }
    }
    memcpy(r->s, s, sizeof s);
}

void vae_rng_bernoulli_rows_f32(vae_rng *r, const float *p, int64_t d, const int64_t *idx,
                                int64_t m, float *out) {
    if (m <= 0 || d <= 0) return;
    vae_k_bernoulli_keyed_f32(next(r->s), 0, p, d, idx, m, out);
}

/* The published xoshiro256 jump polynomial: equivalent to 2^128 calls of next(). */
static void jump(vae_rng *r) {
    static const uint64_t J[] = {0x180ec6d33cfd0abaULL, 0xd5a61266f0c9392cULL,
                                 0xa9582618e03fc9aaULL, 0x39abdc4529b1661cULL};
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (int i = 0; i < 4; i++)
        for (int b = 0; b < 64; b++) {
            if (J[i] & (UINT64_C(1) << b)) {
                s0 ^= r->s[0];
                s1 ^= r->s[1];
                s2 ^= r->s[2];
                s3 ^= r->s[3];
            }
            vae_rng_u64(r);
        }
    r->s[0] = s0;
    r->s[1] = s1;
    r->s[2] = s2;
    r->s[3] = s3;
}

void vae_rng_split(vae_rng *parent, vae_rng *child) {
    memcpy(child->s, parent->s, sizeof child->s);
    child->has_spare = 0;
    child->spare = 0.0;
    jump(parent);
}

void vae_rng_shuffle_i64(vae_rng *r, int64_t *idx, int64_t n) {
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)vae_rng_below(r, (uint64_t)i + 1);
        int64_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}
