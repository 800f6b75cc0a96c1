/* dist_internal.h - helpers shared by the distribution files (private to the library: not installed). */
#ifndef VAE_DIST_INTERNAL_H
#define VAE_DIST_INTERNAL_H

#include "models/dist.h"

/* Shared by the two Bernoulli files: k draws x_i = icdf(l_i, u_i) from the logits
 * param[0], u ~ U[0,1) recorded as d->eps; NULL with the error in ctx. */
vae_tensor *vae__logits_sample(vae_ctx *ctx, vae_dist *d, int64_t k,
                               double (*icdf)(double logit, double u));

/* -x softplus(-l) - (1 - x) softplus(l) elementwise (= x l - softplus(l) without its cancellation for a
 * saturated logit): the Bernoulli and continuous-Bernoulli log-likelihood terms. NULL on failure. */
vae_tensor *vae__bernoulli_lp_terms(vae_ctx *ctx, vae_tensor *l, vae_tensor *x);

/* The "beta" and "poisson" likelihoods' constructors (lik_beta.c, lik_poisson.c), rows of likelihood.c's
 * built-in table. */
vae_dist *vae__lik_beta_make(vae_ctx *ctx, vae_tensor *decoder_out, const double *opts);
vae_dist *vae__lik_poisson_make(vae_ctx *ctx, vae_tensor *decoder_out, const double *opts);

#endif
