/* eval.h - evaluation of a trained model on a data set.
 *
 *   log p(x) ~= log (1/K) sum_k p(x|z_k) p(z_k) / q(z_k|x),  z_k ~ q(z|x), K = 5000 (Burda et al. 2016),
 *   computed in chunks of particles whose logsumexps are combined, so memory stays bounded for any K.
 *   ELBO and its parts with the analytic KL (reconstruction averaged over L samples per example; discrete latents:
 *   the closed-form KL to the uniform prior, discrete.h); KL per latent dim; active units (Burda et al.: a dim is
 *   active when Var_x( E_q[z_j | x] ) > 0.01).
 * Two stochastic layers (vae_net.h): z = concat(z1, z2); the ELBO's KL is Monte Carlo, at the same L samples as
 *   the reconstruction, split per unit by the chain rule (z1 units: log q(z1_j|x) - log p(z1_j|z2); z2 units:
 *   log q(z2_j|z1) - log p(z2_j)); E_q[z2|x] = E_q(z1|x)[mu2(z1)] (Burda's second-layer active units) is
 *   estimated from cfg.moment_samples draws of z1 per example.
 * Model families (flow_prior.h): log p(x) uses the flow's log q(z_K|x) and the model's prior; the ELBO's KL is Monte
 *   Carlo (on the same L samples) when vae_net_analytic_kl is 0. kl_per_dim and active units are statistics of the
 *   encoder's Gaussian (mu, logvar): for a flow they describe the base q_0(z_0|x), not q(z_K|x), and kl_per_dim is
 *   always KL(q_0j || N(0, 1)) (with a mixture prior there is no per-dimension KL to the prior).
 * Standard errors: of a mean over examples, sd / sqrt(n) (sd with n - 1); of one example's IS estimate across its
 *   K particles, by the delta method, SE(log p^) ~ sd(w) / (sqrt(K) mean(w)) = sqrt((K S2 / S1^2 - 1) / (K - 1))
 *   with S1 = sum_k w_k, S2 = sum_k w_k^2 (computed in log space).
 * Discrete latents with a small space: the exact log p(x) by summation is vae_discrete_exact_loglik (discrete.h).
 * A conditional model (vae_net_conditional) is evaluated on the labels set with vae_net_set_labels for the n rows
 *   of x: log p(x|y); its KL is the Monte-Carlo one when the prior is learned.
 * The evaluation uses `ctx` as scratch (it resets it between chunks) and draws from ctx's RNG.
 */
#ifndef VAE_EVAL_H
#define VAE_EVAL_H

#include "models/vae_net.h"

#define VAE_EVAL_MOMENT_SAMPLES                                                                    \
    100 /* default draws z1 ~ q(z1|x) behind E_q[z2|x] and Var_q[z2|x] (two layers) */

typedef struct vae_eval_cfg {
    int64_t is_samples;  /* K for the IS estimate; 0 skips it (default 5000) */
    int64_t batch;       /* examples per step (default 100) */
    int64_t max_floats;  /* cap on the decoder output of one chunk, in elements (default 8M) */
    double au_threshold; /* active-unit threshold (default 0.01) */
    int64_t
        elbo_samples; /* L: samples z ~ q(z|x) per example for the ELBO's reconstruction (default 1) */
    int64_t
        moment_samples; /* two stochastic layers: draws z1 behind E_q[z2|x] (default VAE_EVAL_MOMENT_SAMPLES) */
    int64_t
        weight_samples; /* a full-VB decoder: average over S draws of theta, log p(x) = log (1/S) sum_s
                               p^(x|theta_s); 0 = its current weights (the posterior mean unless resampled) */
} vae_eval_cfg;

typedef struct vae_eval_result {
    int64_t n;
    double loglik;        /* mean IS log p(x) (NAN when skipped) */
    double elbo, rec, kl; /* means: ELBO = rec - kl */
    double loglik_se,
        elbo_se; /* standard errors of the two means across examples (NAN when n < 2 or skipped) */
    int active_units;
    int64_t z_dim;
    double *kl_per_dim; /* (Z) mean KL of each latent dim */
    double *au_var;     /* (Z) Var_x E_q[z_j|x] */
    int nlayers;        /* stochastic layers (1 or 2); z holds them side by side */
    int64_t layer_dim[VAE_NET_MAX_STOCH];
    int layer_active[VAE_NET_MAX_STOCH]; /* active units per layer (they sum to active_units) */
} vae_eval_result;

VAE_API void vae_eval_cfg_default(vae_eval_cfg *cfg);
/* Evaluate on x (n, D) row-major f32 (caller buffer). Per-example outputs (each n entries, may be NULL):
 * ex_elbo (one-sample ELBO with analytic KL) and ex_loglik (IS estimate). On failure returns the code with the
 * message in ctx; res is then left zeroed (nothing to free). */
VAE_API vae_status vae_evaluate(vae_ctx *ctx, vae_net *net, const float *x, int64_t n,
                                const vae_eval_cfg *cfg, vae_eval_result *res, double *ex_elbo,
                                double *ex_loglik);
/* vae_evaluate, and also each example's IS standard error across its K particles (delta method, above) into
 * ex_loglik_se (n entries, may be NULL; NAN when K < 2). */
VAE_API vae_status vae_evaluate_ex(vae_ctx *ctx, vae_net *net, const float *x, int64_t n,
                                   const vae_eval_cfg *cfg, vae_eval_result *res, double *ex_elbo,
                                   double *ex_loglik, double *ex_loglik_se);
/* Free the arrays of a result; zeroed or NULL is harmless. */
VAE_API void vae_eval_result_free(vae_eval_result *res);

/* Latent means and log-variances of x (n, D) into mu and logvar (n, Z each, may be NULL): q(z|x)'s. With two
 * stochastic layers, the posterior's marginal moments per unit of z = (z1, z2) (Z + Z2 columns): exact for z1,
 * for z2 E[mu2(z1)] and E[exp lv2(z1)] + Var[mu2(z1)] over VAE_EVAL_MOMENT_SAMPLES draws z1 ~ q(z1|x) from ctx's
 * RNG. On failure returns the code with the message in ctx. */
VAE_API vae_status vae_encode_all(vae_ctx *ctx, vae_net *net, const float *x, int64_t n,
                                  int64_t batch, float *mu, float *logvar);

#endif
