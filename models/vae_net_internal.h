/* vae_net_internal.h - (not installed) the model families' hooks that vae_net.c, objective.c and eval.c call.
 * Each is called behind one `if` on the net's configuration, so the plain VAE's path is unchanged. */
#ifndef VAE_NET_INTERNAL_H
#define VAE_NET_INTERNAL_H

#include "models/eval.h"
#include "models/objective.h"
#include "models/vae_net.h"

/* ---- convolutional pair (vae_net_conv.c) ---- */
/* 1 when cfg asks for the convolutional pair (cfg->net "conv"). */
int vae__net_is_conv(const vae_net_cfg *cfg);
/* The conv pair's parameters in net->params (already created, empty) and their initialization; on failure the
 * code with a message in err (the caller frees the net). */
vae_status vae__net_conv_init(vae_net *net, vae_rng *rng, vae_error *err);
/* x (..., D) -> encoder output (..., 2Z); NULL on failure (ctx error). */
vae_tensor *vae__net_conv_encode(vae_ctx *ctx, vae_net *net, vae_tensor *x);
/* z (..., Z) -> decoder output (..., P*D) in the likelihood's layout; NULL on failure. */
vae_tensor *vae__net_conv_decode(vae_ctx *ctx, vae_net *net, vae_tensor *z);
/* The output layer's bias at the mean logit of each channel (mean: D pixel means). */
void vae__net_conv_init_output_bias(vae_net *net, const float *mean);

/* ---- conditional VAE (vae_net_cond.c) ---- */
/* Check the cfg's class count and build the learned prior's layer C -> 2Z ("prior.0.*", zero mean and log-
 * variance at start: p(z|y) = N(0, I) until trained). */
vae_status vae__cond_init(vae_net *net, vae_error *err);
/* concat(t, onehot y) along the last dim: t (..., B, k) -> (..., B, k + C), y the current batch's labels
 * broadcast over t's leading dims. NULL (ctx error) when no labels are set or their count is not B. */
vae_tensor *vae__cond_input(vae_ctx *ctx, vae_net *net, vae_tensor *t);
/* p(z|y) for the current batch: batch (B), event (Z); or N(0, I) under VAE_COND_PRIOR_NORMAL. */
vae_dist *vae__cond_prior(vae_ctx *ctx, vae_net *net);

/* ---- full VB decoder (bayes_decoder.c) ---- */
/* Add rho parameters "dec.<i>.weight_rho" / ".bias_rho" beside every decoder layer (sigma = softplus(rho),
 * started at VAE__BAYES_SIGMA0) and the weight noise buffers. */
#define VAE__BAYES_SIGMA0 1e-3
vae_status vae__bayes_init(vae_net *net, vae_error *err);
void vae__bayes_free(vae_net *net);
/* The decoder's output (..., out) for its input h (..., in) under the net's weight mode. */
vae_tensor *vae__bayes_forward(vae_ctx *ctx, vae_net *net, vae_tensor *h);
/* vae_objective's hooks: begin draws theta for this minibatch (or turns on the local reparameterization) and
 * returns the mode to restore; end adds the parameter KL to o->loss with weight 1 (N/M-scaled loss) or 1/N (mean
 * loss), logs it as "weight_kl" (per datum) and restores the mode. */
vae_weight_mode vae__bayes_begin(vae_ctx *ctx, vae_net *net);
vae_status vae__bayes_end(vae_ctx *ctx, vae_net *net, const vae_objective_cfg *cfg,
                          vae_weight_mode restore, vae_objective_out *o);
/* vae_evaluate_ex over cfg->weight_samples draws of theta: log p(x) per example is the log-mean-exp over the
 * draws of its IS estimate; ELBO parts are means over the draws. */
vae_status vae__bayes_evaluate(vae_ctx *ctx, vae_net *net, const float *x, int64_t n,
                               const vae_eval_cfg *cfg, vae_eval_result *res, double *ex_elbo,
                               double *ex_loglik, double *ex_loglik_se);

#endif
