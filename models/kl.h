/* kl.h - KL(q || p): analytic for known pairs, Monte Carlo otherwise, and the per-dimension
 * Normal || N(0, I) KL.
 *
 * The analytic table is looked up by the two distributions' ops pointers:
 *   normal || normal, normal || std_normal, std_normal || normal, std_normal || std_normal
 *   (the fixed-sigma Gaussian is a normal), bernoulli || bernoulli.
 * Results are summed over the event dims and have the broadcast batch shape of q and p.
 */
#ifndef VAE_KL_H
#define VAE_KL_H

#include <stdint.h>

#include "models/dist.h"

/* KL(q || p) with the batch shape: analytic when the pair is in the table, else the Monte-Carlo
 * estimate with mc_samples draws of q (vae_kl_mc). *used_analytic (may be NULL) says which.
 * VAE_ERR_SHAPE naming both shapes when q and p do not fit (different event shapes, batches that do
 * not broadcast); VAE_ERR_UNSUPPORTED when there is no analytic entry and mc_samples <= 0. */
VAE_API vae_tensor *vae_kl(vae_ctx *ctx, const vae_dist *q, const vae_dist *p, int64_t mc_samples,
                   int *used_analytic);
/* KL(q || p) ~ (1/S) sum_s log q(z_s) - log p(z_s), z_s ~ q, S = mc_samples > 0: z comes from
 * rsample when q has one (the estimate's gradient is the pathwise one), else from sample (then the
 * gradient with respect to q's parameters is NOT the KL's gradient: only the log q term's). q's
 * recorded eps is left unchanged. VAE_ERR_ARG when mc_samples <= 0, shape errors as vae_kl. */
VAE_API vae_tensor *vae_kl_mc(vae_ctx *ctx, const vae_dist *q, const vae_dist *p, int64_t mc_samples);
/* KL(q || N(0, I)) per element, not summed (q's shape, e.g. (B, Z)), for free bits and
 * per-dimension reports: (expm1(lv) - lv + mu^2) / 2 with lv = log sigma^2 (never negative near
 * lv = 0). VAE_ERR_ARG when q is not a normal. */
VAE_API vae_tensor *vae_kl_normal_std_per_dim(vae_ctx *ctx, const vae_dist *q);

#endif
