/* discrete_internal.h - (not installed) the hooks of the discrete latents (discrete.c) in vae_net.c and
 * objective.c: one call each, so the shared files carry one `if` per hook. */
#ifndef VAE_DISCRETE_INTERNAL_H
#define VAE_DISCRETE_INTERNAL_H

#include "models/discrete.h"

/* vae_net_init: the latent kind's sizes (categorical: C >= 2 dividing z_dim) and the baseline size. */
vae_status vae__discrete_cfg_check(const vae_net_cfg *cfg, vae_error *err);
/* vae_net_init: declare and initialize the NVIL baseline MLP "bl" (D -> H tanh -> 1). */
vae_status vae__baseline_net_init(vae_net *net, vae_rng *rng, vae_error *err);
/* vae_net_encode for discrete latents: q(z|x) from the logits h (B, Z), carrying net's relaxation; *mu = the
 * probabilities, *lv = the logits (either may be NULL). */
vae_dist *vae__discrete_q(vae_ctx *ctx, vae_net *net, vae_tensor *h, vae_tensor **mu,
                          vae_tensor **lv);
/* vae_net_prior for discrete latents: the uniform prior. */
vae_dist *vae__discrete_prior(vae_ctx *ctx, vae_net *net);
/* vae_objective, before the build: set the net's relaxation (gumbel) and st->nvil_b (NVIL). */
vae_status vae__discrete_begin(vae_ctx *ctx, vae_net *net, vae_tensor *x,
                               const vae_objective_cfg *cfg, vae_objective_state *st);
/* vae_objective, after a successful build: the hard-sample bound (gumbel), NVIL's regression term; clears what
 * begin set. Call it on failure too (with s != VAE_OK it only clears). Returns s or a new failure. */
vae_status vae__discrete_end(vae_ctx *ctx, vae_net *net, vae_tensor *x,
                             const vae_objective_cfg *cfg, vae_objective_state *st,
                             vae_objective_out *out, vae_status s);

#endif
