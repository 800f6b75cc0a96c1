/* objective.h - the VAE, beta-VAE and IWAE objectives and their gradient estimators.
 *
 * One call builds, for a batch x (B, D), a scalar surrogate `loss` whose gradient (vae_backward) is the chosen
 * estimator of the gradient of the negative bound, plus the bound's values for reporting. The formulas are in
 * elbo.c (VAE, beta-VAE) and iwae.c (IWAE); estimator mechanics in estimators.c.
 *
 * Estimators (for the encoder; the decoder always gets its exact pathwise gradient):
 *   REPARAM  pathwise: z = mu + sigma * eps
 *   SCORE    REINFORCE: z sampled without a path; surrogate sg(f - b) * log q(z|x) + f, baseline b:
 *            NONE, MA (moving average of f), VIMCO (leave-one-out over the samples; needs samples > 1)
 *   STL      sticking the landing (Roeder et al. 2017): log q evaluated with detached variational parameters
 *   DREG     doubly reparameterized (Tucker et al. 2018), IWAE only
 */
#ifndef VAE_OBJECTIVE_H
#define VAE_OBJECTIVE_H

#include "models/vae_net.h"

typedef enum vae_objective_kind {
    VAE_OBJ_VAE,
    VAE_OBJ_BETA_VAE,
    VAE_OBJ_IWAE,
    VAE_OBJ_COUNT_
} vae_objective_kind;
typedef enum vae_estimator {
    VAE_EST_REPARAM,
    VAE_EST_SCORE,
    VAE_EST_STL,
    VAE_EST_DREG,
    VAE_EST_COUNT_
} vae_estimator;
typedef enum vae_baseline {
    VAE_BASELINE_NONE,
    VAE_BASELINE_MA,
    VAE_BASELINE_VIMCO,
    VAE_BASELINE_COUNT_
} vae_baseline;

typedef struct vae_objective_cfg {
    vae_objective_kind kind;
    vae_estimator estimator;
    vae_baseline baseline;
    double baseline_decay; /* MA baseline: b <- decay * b + (1 - decay) * mean f (default 0.9) */
    int64_t samples;       /* L samples per datum (VAE, beta-VAE) or K particles (IWAE); >= 1 */
    int analytic_kl;       /* VAE/beta-VAE: 1 = analytic KL (SGVB B), 0 = Monte-Carlo KL (SGVB A) */
    double beta;           /* beta-VAE weight on the KL (1 = VAE) */
    int64_t
        warmup_steps; /* linear KL warm-up: the KL weight rises from 0 to beta over this many steps */
    double
        free_bits; /* lambda > 0: KL term sum_j max(lambda, KL_j) (KL_j = batch-mean KL of dim j) */
    double capacity_gamma;  /* gamma > 0: Burgess et al. loss -rec + gamma |KL - C| */
    double capacity_max;    /* C rises linearly from 0 to capacity_max (nats) ... */
    int64_t capacity_steps; /* ... over this many steps */
    double
        data_size; /* N > 0: loss = -(N/M) sum_b bound_b (AEVB's minibatch scaling); 0: -mean_b */
} vae_objective_cfg;

/* State carried across steps (model lifetime): the step count for annealing and the MA baseline. */
typedef struct vae_objective_state {
    int64_t step;
    double baseline;
    int baseline_ready;
} vae_objective_state;

typedef struct vae_objective_out {
    vae_tensor *loss;  /* scalar surrogate to minimize */
    vae_tensor *bound; /* (B,) per-datum bound: the ELBO, or the IWAE bound (no gradient path) */
    double bound_mean; /* batch means of the bound and its parts */
    double rec_mean;   /* E_q log p(x|z) */
    double kl_mean;    /* KL(q(z|x) || p(z)) (analytic when available, else MC) */
    double kl_weight;  /* the KL weight used this step (beta * warm-up) */
    double capacity;   /* C used this step (capacity objective) */
} vae_objective_out;

/* Defaults: VAE, reparameterized, analytic KL, 1 sample, beta 1, decay 0.9. */
VAE_API void vae_objective_cfg_default(vae_objective_cfg *cfg);
/* Check a configuration (combinations included: DReG needs IWAE, VIMCO needs samples > 1, free bits and capacity
 * need the analytic KL, ...). Returns VAE_OK or VAE_ERR_ARG with the reason in err. */
VAE_API vae_status vae_objective_check(const vae_objective_cfg *cfg, vae_error *err);
/* Build the objective for x (B, D) in ctx. On success fills out and advances st->step and the MA baseline.
 * On failure returns the code (the message is in ctx and err) and leaves st unchanged. */
VAE_API vae_status vae_objective(vae_ctx *ctx, vae_net *net, vae_tensor *x, const vae_objective_cfg *cfg,
                         vae_objective_state *st, vae_objective_out *out);

/* Names for options and reports ("vae", "beta-vae", "iwae"; "reparam", "score", "stl", "dreg"; "none", "ma",
 * "vimco"), and the reverse lookups (-1 when unknown). */
VAE_API const char *vae_objective_name(vae_objective_kind k);
VAE_API const char *vae_estimator_name(vae_estimator e);
VAE_API const char *vae_baseline_name(vae_baseline b);
VAE_API int vae_objective_parse(const char *s);
VAE_API int vae_estimator_parse(const char *s);
VAE_API int vae_baseline_parse(const char *s);

/* ---- shared by elbo.c and iwae.c (estimators.c) ---- */
/* z (k, B, Z) from q by the estimator: rsample for pathwise estimators, a detached sample for SCORE. */
vae_tensor *vae__draw_z(vae_ctx *ctx, vae_dist *q, int64_t k, vae_estimator est);
/* log q(z|x) as the estimator needs it: with detached parameters for STL and DReG. */
vae_tensor *vae__log_q(vae_ctx *ctx, vae_dist *q, vae_tensor *z, vae_estimator est);
/* Score-function surrogate sum of sg(signal) * logq + f, everything (k, B): returns (B,) summed over k. */
vae_tensor *vae__score_surrogate(vae_ctx *ctx, vae_tensor *signal, vae_tensor *logq);
/* Learning signals (k, B) = f - b for baseline kind bl (f values (k, B)); MA uses st->baseline. A constant
 * tensor (no gradient). */
vae_tensor *vae__signal(vae_ctx *ctx, vae_tensor *f, vae_baseline bl,
                        const vae_objective_state *st);
/* VIMCO signals for IWAE: L - L_{-k} per particle, logw (K, B) values. */
vae_tensor *vae__vimco_signal(vae_ctx *ctx, vae_tensor *logw, vae_tensor *bound);
/* Loss from per-datum surrogate values (B,): -mean over the batch (vae_objective applies the N/M scaling). */
vae_tensor *vae__loss(vae_ctx *ctx, vae_tensor *surrogate);
double vae__mean_value(const vae_tensor *t);

vae_status vae__elbo(vae_ctx *ctx, vae_net *net, vae_tensor *x, const vae_objective_cfg *cfg,
                     const vae_objective_state *st, vae_objective_out *out, double *f_mean);
vae_status vae__iwae(vae_ctx *ctx, vae_net *net, vae_tensor *x, const vae_objective_cfg *cfg,
                     const vae_objective_state *st, vae_objective_out *out, double *f_mean);

#endif
