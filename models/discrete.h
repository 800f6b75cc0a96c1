/* discrete.h - discrete latent variables: a Categorical q(z|x) with one-hot events, the uniform prior, the
 * Gumbel-softmax / Concrete relaxation, enumeration of a small latent space (exact log p(x) and exact ELBO
 * gradients) and NVIL's learned baseline.
 *
 * Latents (vae_net_cfg.latent_kind, spec "categorical:NxC" or "bernoulli:N"):
 *   categorical  z = (z_1, ..., z_N), each z_n one-hot over C classes, laid out as (..., N * C) for the decoder;
 *                q(z|x) = prod_n Cat(z_n; pi_n = softmax(l_n(x))),   p(z) = prod_n 1/C:  log p(z) = -N log C
 *   bernoulli    z in {0, 1}^N, q(z|x) = prod_n Bern(sigmoid(l_n(x))),  p(z) = 2^-N:    log p(z) = -N log 2
 * The encoder outputs the logits l (B, Z). Closed-form KL to the uniform prior (vae_discrete_kl):
 *   categorical  KL = sum_n sum_c pi_nc (log pi_nc + log C);   bernoulli  KL = sum_n [p log 2p + (1-p) log 2(1-p)]
 *
 * Gumbel-softmax / Concrete (Jang et al. 2017; Maddison et al. 2017), with g = -log(-log u), u ~ U(0, 1):
 *   categorical  y_nc = softmax_c((l_nc + g_nc) / T)               (the relaxed one-hot of variable n)
 *   bernoulli    y_n  = sigmoid((l_n + log u - log(1 - u)) / T)     (the binary Concrete)
 *   hard         h = one_hot(argmax_c (l + g)) (resp. [l + log u - log(1 - u) > 0]): an exact sample of q, from
 *                the same noise (the Gumbel-max trick); straight-through returns h + y - sg(y) (forward h,
 *                gradient of y).
 * The relaxed objective the gumbel estimator optimizes (vae_est_draw_z draws y, the objective is unchanged):
 *   E_y[ log p(x|y) + log p(y) - log q(y|x) ]
 * where the decoder sees y, and log q(y|x) and log p(y) are the CATEGORICAL's (Bernoulli's) log-mass formula
 * evaluated at the relaxed value, sum_j y_j log pi_j (resp. y log p + (1 - y) log(1 - p)), not the Concrete
 * density (Maddison et al.'s choice; Jang et al.'s released example uses the closed-form KL, vae_discrete_kl);
 * log p(y) = -N log C exactly since each y_n sums to 1. As T -> 0 it tends to the ELBO.
 * The bound vae_objective REPORTS for the gumbel estimator is the true discrete one, from a tape-free pass with
 * hard samples z ~ q, so runs with any estimator are comparable.
 *
 * A discrete q(z|x) carries its relaxation in its scalars: c[VAE_DIST_C_TEMPERATURE] (T; 0 = none) and
 * c[VAE_DIST_C_HARD] (straight-through), copied from vae_net.relax_* by vae_net_encode.
 *
 * Errors follow ops.h: NULL (tensor/dist) or a status, with the message in ctx.
 */
#ifndef VAE_DISCRETE_H
#define VAE_DISCRETE_H

#include <stddef.h>

#include "models/objective.h"
#include "models/vae_net.h"

#define VAE_DISCRETE_MAX_ENUM  65536 /* most configurations enumerated for exact sums */
#define VAE_DIST_C_CLASSES     0     /* c[] slots of a discrete q(z|x) */
#define VAE_DIST_C_TEMPERATURE 1
#define VAE_DIST_C_HARD        2

VAE_API extern const vae_dist_ops vae_categorical_ops; /* param: logits (..., N * C); c[0] = C */

/* Categorical over one-hot events: logits (..., N * C) read as N groups of C (log pi = l - logsumexp over each
 * group). log_prob(x) = sum_j x_j log pi_j over the event (x one-hot, or relaxed); sample by Gumbel-max (records
 * the uniforms in eps); no rsample. VAE_ERR_SHAPE unless the last dim is a multiple of classes >= 2. */
VAE_API vae_dist *vae_categorical_logits(vae_ctx *ctx, vae_tensor *logits, int64_t classes);
/* The uniform prior of a net's discrete latent (event (Z)); NULL (VAE_ERR_ARG) for a Gaussian net. */
VAE_API vae_dist *vae_discrete_prior(vae_ctx *ctx, const vae_net_cfg *cfg);
/* 1 when the net's latents are discrete. */
VAE_API int vae_net_discrete(const vae_net *net);

/* Parse "gaussian", "categorical:NxC" (N, C >= 1, C >= 2) or "bernoulli:N" into the cfg's latent_kind,
 * latent_classes and z_dim (N * C, or N). VAE_ERR_ARG with the reason in err; cfg unchanged on failure. */
VAE_API vae_status vae_latent_kind_parse(vae_net_cfg *cfg, const char *spec, vae_error *err);
/* The cfg's latent spec ("gaussian", "categorical:4x8", "bernoulli:16") into buf, as snprintf. */
VAE_API int vae_latent_kind_spec(const vae_net_cfg *cfg, char *buf, size_t n);

/* Per-unit KL(q || uniform) (B, Z) of a discrete q from vae_net_encode (summed over the last dim: the KL (B)). */
VAE_API vae_tensor *vae_discrete_kl_terms(vae_ctx *ctx, const vae_dist *q);
/* KL(q(z|x) || p(z)) (B) in closed form. */
VAE_API vae_tensor *vae_discrete_kl(vae_ctx *ctx, const vae_dist *q);

/* k relaxed draws (k, B, Z) (k = 0: (B, Z)) from a discrete q at temperature T > 0 (hard: straight-through);
 * gradient flows to q's logits. Records the uniforms in q->eps. VAE_ERR_ARG for T <= 0 or a non-discrete q. */
VAE_API vae_tensor *vae_gumbel_softmax(vae_ctx *ctx, vae_dist *q, int64_t k, double temperature,
                                       int hard);
/* The same with the caller's uniforms u (..., q's shape), each in (0, 1) (replay, gradcheck). */
VAE_API vae_tensor *vae_gumbel_softmax_with(vae_ctx *ctx, vae_dist *q, vae_tensor *u,
                                            double temperature, int hard);
/* The hard sample (one-hot argmax / threshold) of the last vae_gumbel_softmax on q, from q->eps: an exact draw
 * of q. NULL when q has no recorded noise. */
VAE_API vae_tensor *vae_gumbel_hard(vae_ctx *ctx, const vae_dist *q);

/* The annealed temperature of the gumbel estimator at step t: T_t = max(temp_min, T exp(-anneal t)) when
 * anneal > 0 (Jang et al.), else T. */
VAE_API double vae_gumbel_temperature(const vae_objective_cfg *cfg, int64_t step);

/* Number of latent configurations (C^N or 2^N), or -1 when the net is Gaussian or there are more than
 * VAE_DISCRETE_MAX_ENUM. */
VAE_API int64_t vae_discrete_num_configs(const vae_net *net);
/* Configurations m0 .. m1-1 (in mixed radix, variable 0 fastest) as z (m1 - m0, Z); NULL on failure. */
VAE_API vae_tensor *vae_discrete_configs(vae_ctx *ctx, const vae_net *net, int64_t m0, int64_t m1);
/* The exact ELBO by summation, sum_z q(z|x) [log p(x|z) + log p(z) - log q(z|x)] (B), for x (B, D), on the tape
 * (its gradient is the exact ELBO gradient). VAE_ERR_ARG when the space is not enumerable. */
VAE_API vae_tensor *vae_discrete_exact_elbo(vae_ctx *ctx, vae_net *net, vae_tensor *x);
/* The exact gradient of mean_b ELBO(x_b) for x (B, D) (f32 caller buffer) into grad (vae_params_flat_len
 * doubles, indexed like the flat buffer; what a vae_study_ref with var = NULL takes). Uses ctx as scratch and
 * leaves the gradient buffer zero. On failure returns the code (message in ctx) and grad is unchanged. */
VAE_API vae_status vae_discrete_exact_grad(vae_ctx *ctx, vae_net *net, const float *x, int64_t B,
                                           double *grad);
/* Exact log p(x) = logsumexp_z [log p(x|z) + log p(z)] of x (n, D) (f32 caller buffer) into ll (n doubles),
 * by summation over all configurations, in chunks of at most max_floats decoder outputs. Uses ctx as scratch.
 * VAE_ERR_ARG when the space is not enumerable; on failure ll is unspecified. */
VAE_API vae_status vae_discrete_exact_loglik(vae_ctx *ctx, vae_net *net, const float *x, int64_t n,
                                             int64_t max_floats, double *ll);

/* NVIL's input-dependent baseline b(x) (B) for x (B, D) (Mnih & Gregor 2014); VAE_ERR_ARG when the net has no
 * baseline network (cfg.baseline_hidden = 0). */
VAE_API vae_tensor *vae_net_baseline(vae_ctx *ctx, vae_net *net, vae_tensor *x);
/* Fit b(x) alone on the batch x (B, D) (f32 caller buffer) under cfg (the score estimator with the nvil
 * baseline): `steps` Adam steps of rate lr on the "bl.*" parameters through vae_objective, the rest of the model
 * fixed. st (may be NULL) carries the running mean c across the steps, as training would. The last step's mean
 * squared residual goes to *mse (may be NULL). Leaves the gradient buffer zero. On failure returns the code
 * (message in ctx). */
VAE_API vae_status vae_nvil_fit(vae_ctx *ctx, vae_net *net, const float *x, int64_t B,
                                const vae_objective_cfg *cfg, vae_objective_state *st,
                                int64_t steps, double lr, double *mse);

#endif
