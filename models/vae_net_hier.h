/* vae_net_hier.h - internal: the two-stochastic-layer model behind vae_net's hooks (not installed).
 *
 * vae_net.c calls these when cfg.z2_dim > 0 (one `if` per hook); eval.c calls the last two. The latent z is
 * concat(z1, z2) (..., Z + Z2) everywhere.
 */
#ifndef VAE_NET_HIER_H
#define VAE_NET_HIER_H

#include "models/vae_net.h"

/* PyTorch / Xavier / Normal initialization of an MLP's layers as cfg->init says (defined in vae_net.c). */
vae_status vae__net_init_layers(const vae_net_cfg *cfg, const vae_mlp *m, vae_rng *rng,
                                vae_error *err);

/* Check the z2 block of cfg and declare + initialize q(z2|z1) ("enc.z2.*") and p(z1|z2) ("dec.z1.*") in
 * net->params, after the encoder and decoder. The error goes to err; net's store may hold a part. */
vae_status vae__hier_init(vae_net *net, vae_rng *rng, vae_error *err);
/* q(z1, z2|x) for x (B, D), a distribution over (B, Z + Z2); *mu, *logvar (B, Z + Z2) of the mean path when
 * non-NULL (vae_net_encode). NULL on failure. */
vae_dist *vae__hier_encode(vae_ctx *ctx, vae_net *net, vae_tensor *x, vae_tensor **mu,
                           vae_tensor **logvar);
/* p(z1, z2) = p(z2) p(z1|z2) over (Z + Z2); sample draws z2 ~ N(0, I), then z1 | z2. NULL on failure. */
vae_dist *vae__hier_prior(vae_ctx *ctx, vae_net *net);
/* z1 = z[..., :Z] of z (..., Z + Z2); VAE_ERR_SHAPE naming both widths when z's last dim is not Z + Z2. */
vae_tensor *vae__hier_z1(vae_ctx *ctx, const vae_net *net, vae_tensor *z);

/* The posterior's marginal moments per unit for x (B, D): mean and log-variance (B, Z + Z2). Exact for z1
 * (mu1, lv1); for z2, from S draws z1_s ~ q(z1|x): E[z2] = mean_s mu2(z1_s), Var[z2] = mean_s exp(lv2(z1_s)) +
 * var_s mu2(z1_s) (total variance). Draws from ctx's RNG; NULL outputs on failure (ctx error). */
vae_status vae__hier_moments(vae_ctx *ctx, vae_net *net, vae_tensor *x, int64_t S,
                             vae_tensor **mean, vae_tensor **logvar);
/* The KL's chain-rule parts per unit at z (..., Z + Z2) drawn from q: log q(z1_j|x) - log p(z1_j|z2) for the
 * z1 units and log q(z2_j|z1) - log p(z2_j) for the z2 units, (..., Z + Z2); their sum over units is
 * log q(z|x) - log p(z). q is vae__hier_encode's. NULL on failure. */
vae_tensor *vae__hier_log_ratio_units(vae_ctx *ctx, vae_net *net, const vae_dist *q, vae_tensor *z);

#endif
