/* ew_isa.h - (private) the per-ISA variants of the f32-heavy elementwise kernels.
 *
 * kernels_unary.c, kernels_fused.c and kernels_optim.c are each compiled once per ISA (meson.build:
 * baseline, AVX2+FMA, AVX-512) with -DVAE_EW_ISA=<suffix>, so that gcc vectorizes the same vmath.h
 * code 4, 8 or 16 lanes wide. Their entry points are named VAE__EW(vae_k_unary) =
 * vae_k_unary_<suffix>; ew_dispatch.c defines the public vae_k_* and calls the variant chosen once
 * from CPUID (or VAE_SIMD / vae_simd_set_path).
 *
 * Every variant is compiled with -ffp-contract=off and none calls fma(): each lane does the same
 * IEEE operations in the same order as the scalar code, so all variants give the same bits
 * (tests/test_kernels_threads.c). Only a NaN result may differ in sign or payload: from two NaN
 * operands x86 returns the first, and gcc may order a commutative operation's operands differently
 * in each variant. */
#ifndef VAE_EW_ISA_H
#define VAE_EW_ISA_H

#include "kernels.h"

#ifndef VAE_EW_ISA
#define VAE_EW_ISA portable
#endif
#define VAE__EW_CAT_(a, b) a##_##b
#define VAE__EW_CAT(a, b)  VAE__EW_CAT_(a, b)
#define VAE__EW(name)      VAE__EW_CAT(name, VAE_EW_ISA)

/* vae_k_sumsq's chunks: at most this many, of at least VAE__SUMSQ_MIN_CHUNK elements (vae_k_sumsq_chunk). */
enum { VAE__SUMSQ_MAX_CHUNKS = 256, VAE__SUMSQ_MIN_CHUNK = 4096 };

/* The entry points of one variant, with the contracts of kernels.h. */
#define VAE__EW_PROTOS(sfx)                                                                        \
    void vae_k_unary_##sfx(vae_unary op, double p0, double p1, const vae_tensor *x,                \
                           vae_tensor *y);                                                         \
    void vae_k_unary_grad_##sfx(vae_unary op, double p0, double p1, const vae_tensor *x,           \
                                const vae_tensor *y, const vae_tensor *gy, vae_tensor *gx);        \
    void vae_k_bias_act_##sfx(vae_tensor *y, const vae_tensor *b, vae_kact act, double alpha);     \
    void vae_k_act_grad_##sfx(vae_kact act, double alpha, const vae_tensor *y,                     \
                              const vae_tensor *gy, vae_tensor *g);                                \
    void vae_k_bernoulli_lp_##sfx(const vae_tensor *l, const vae_tensor *x, vae_tensor *out);      \
    void vae_k_bernoulli_lp_grad_##sfx(const vae_tensor *l, const vae_tensor *x,                   \
                                       const vae_tensor *gy, vae_tensor *g, int accumulate);       \
    void vae_k_adam_f32_##sfx(float *x, float *m, float *v, const float *g, int64_t n,             \
                              const vae_k_adam *a, const vae_owner_map *own, double *sumsq);

VAE__EW_PROTOS(portable)
VAE__EW_PROTOS(avx2)
VAE__EW_PROTOS(avx512)

/* The counter-based Bernoulli draws (kernels_rng.c), the f32 Gaussian KL pair (kernels_fused.c), the sum of
 * squares (kernels_optim.c) and the Normal log-density pair (kernels_normal.c). */
#define VAE__EW_PROTOS2(sfx)                                                                       \
    void vae_k_bernoulli_keyed_f32_##sfx(uint64_t key, uint64_t ctr0, const float *p, int64_t d,   \
                                         const int64_t *idx, int64_t m, float *out);               \
    void vae_k_normal_kl_std_f32_##sfx(const float *mu, int64_t smu, const float *lv, int64_t slv, \
                                       int64_t rows, int64_t Z, float *y);                         \
    void vae_k_normal_kl_std_grad_f32_##sfx(const float *mu, int64_t smu, const float *lv,         \
                                            int64_t slv, const float *gy, int64_t rows, int64_t Z, \
                                            float *gm, float *gl);                                 \
    double vae_k_sumsq_##sfx(const void *x, int64_t n, int f64);                                 \
    void vae_k_normal_lpdf_##sfx(const vae_tensor *x, const vae_tensor *mu, const vae_tensor *s,   \
                                 vae_tensor *y);                                                   \
    void vae_k_normal_lpdf_grad_##sfx(const vae_tensor *x, const vae_tensor *mu,                   \
                                      const vae_tensor *s, const vae_tensor *gy, vae_tensor *gx,   \
                                      vae_tensor *gmu, vae_tensor *gs);

VAE__EW_PROTOS2(portable)
VAE__EW_PROTOS2(avx2)
VAE__EW_PROTOS2(avx512)

#endif
