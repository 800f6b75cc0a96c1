/* rng.h - xoshiro256** random numbers with explicit state (no globals).
 *
 * Reproducible from a seed on every platform. Independent streams come from vae_rng_split (a 2^128 jump),
 * so per-thread or per-purpose streams never overlap.
 */
#ifndef VAE_RNG_H
#define VAE_RNG_H

#include <stdint.h>

#include "tensor/error.h"

typedef struct vae_rng {
    uint64_t s[4];
    double spare; /* second normal from the polar method */
    int has_spare;
} vae_rng;

/* Seed the state from a 64-bit seed (splitmix64 expansion). Never fails. */
VAE_API void vae_rng_seed(vae_rng *r, uint64_t seed);
/* Next raw 64-bit output. */
VAE_API uint64_t vae_rng_u64(vae_rng *r);
/* Uniform double in [0, 1) with 53 random bits. */
VAE_API double vae_rng_uniform(vae_rng *r);
/* Uniform double in (0, 1): never 0, safe for log(). */
VAE_API double vae_rng_uniform_pos(vae_rng *r);
/* Uniform integer in [0, n) without modulo bias; returns 0 when n == 0. */
VAE_API uint64_t vae_rng_below(vae_rng *r, uint64_t n);
/* Standard normal N(0,1) (Marsaglia polar method). */
VAE_API double vae_rng_normal(vae_rng *r);
/* out[i] = vae_rng_normal(r) for i in [0, n), in order: the same values bit for bit and the same state after, about
 * twice as fast (the transcendental part runs over blocks of pairs). */
VAE_API void vae_rng_normal_n(vae_rng *r, double *out, int64_t n);
/* 1 with probability p (p clamped to [0,1]), else 0. */
VAE_API int vae_rng_bernoulli(vae_rng *r, double p);
/* out[i] = 1 with probability p[i], else 0, for i in [0, n): the same draws and results as
 * out[i] = vae_rng_bernoulli(r, p[i]) in order, without a call per element (dynamic binarization). */
VAE_API void vae_rng_bernoulli_f32(vae_rng *r, const float *p, float *out, int64_t n);
/* Dynamic binarization of m rows of d probabilities, counter-based: out (m, d) row i = Bernoulli draws of row
 * idx[i] of p (row i when idx is NULL). Takes one 64-bit key from r (when m > 0 and d > 0; else r is unchanged);
 * element (i, j) then depends only on (key, i*d + j, its p) (vae_k_bernoulli_keyed_f32 in kernels.h), so the rows
 * are split over the thread pool and vectorized, with the same bits for any thread count or ISA. A different stream
 * from vae_rng_bernoulli_f32's. */
VAE_API void vae_rng_bernoulli_rows_f32(vae_rng *r, const float *p, int64_t d, const int64_t *idx,
                                        int64_t m, float *out);
/* Make `child` an independent stream: copy `parent`, then advance the parent by 2^128 steps. */
VAE_API void vae_rng_split(vae_rng *parent, vae_rng *child);
/* Fisher-Yates shuffle of idx[0..n). */
VAE_API void vae_rng_shuffle_i64(vae_rng *r, int64_t *idx, int64_t n);

#endif
