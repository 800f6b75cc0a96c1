/* objective_internal.h - (not installed) what the built-in objective files share with objective.c. */
#ifndef VAE_OBJECTIVE_INTERNAL_H
#define VAE_OBJECTIVE_INTERNAL_H

#include "models/objective.h"

/* Mean of a tensor's values (for reports; 0 for an empty or NULL tensor). */
double vae__mean_value(const vae_tensor *t);
/* loss = -mean_b S_b, S (B,) */
vae_tensor *vae__loss(vae_ctx *ctx, vae_tensor *surrogate);
/* The outputs of a bound over particles p: loss = -mean_b S_b (S (B,) the estimator's surrogate), the bound (B,)
 * detached, its mean, and the logs rec = E log p(x|z), kl = E log q - E log p(z), elbo = E log w. Returns the ctx's
 * status when S or bound is NULL. */
vae_status vae__particle_out(vae_ctx *ctx, vae_tensor *S, vae_tensor *bound,
                             const vae_est_particles *p, vae_objective_out *out);
/* The built-in descriptors, in registry order. */
extern const vae_objective_desc vae__objective_vae, vae__objective_beta_vae, vae__objective_iwae,
    vae__objective_vr, vae__objective_miwae, vae__objective_ciwae;

#endif
