/* estimators.h - gradient estimators as building blocks any objective calls.
 *
 * An objective's build function draws z, evaluates log-densities and returns a per-datum surrogate S (B,) whose
 * gradient is the chosen estimator of the gradient of its bound; these calls are that plumbing. Estimators (for
 * the encoder parameters phi; the decoder always gets its exact pathwise gradient):
 *   REPARAM  pathwise: z = mu + sigma * eps
 *   SCORE    REINFORCE: z sampled without a path; S = sum_k sg(f_k - b_k) log q(z_k|x) + f, baseline b:
 *            NONE, MA (moving average of f across steps), VIMCO (leave-one-out over the K samples; K > 1)
 *   STL      sticking the landing (Roeder et al. 2017): log q evaluated with detached variational parameters
 *   DREG     doubly reparameterized (Tucker et al. 2018): STL's log q, plus the path gradient into z_k scaled by
 *            the normalized weight wt_k (vae_grad_scale), so sum_k wt_k d log w_k becomes sum_k wt_k^2 d log w_k
 *   GUMBEL   discrete latents only: the Gumbel-softmax / Concrete relaxation at q's temperature (discrete.h), a
 *            pathwise gradient of the relaxed objective (biased for the discrete ELBO; unbiased as T -> 0)
 * Baseline NVIL (Mnih & Gregor 2014): signal f - c - b(x), c the moving average of f (the MA value) and b(x) a
 * small MLP ("bl.*") that vae_objective trains to regress the bound minus c: (sg(bound - c) - b(x))^2.
 * REPARAM, STL and DREG need a reparameterizable q: vae_objective refuses them on discrete latents.
 * Shapes: particles lead, K (or groups * K), then the batch B: z (K, B, Z), log w and log q (K, B), bound (B).
 * Every call returns NULL on failure with the error in ctx (a NULL input gives NULL), like the ops.
 */
#ifndef VAE_ESTIMATORS_H
#define VAE_ESTIMATORS_H

#include "models/vae_net.h"

typedef enum vae_estimator {
    VAE_EST_REPARAM,
    VAE_EST_SCORE,
    VAE_EST_STL,
    VAE_EST_DREG,
    VAE_EST_GUMBEL,
    VAE_EST_COUNT_
} vae_estimator;
typedef enum vae_baseline {
    VAE_BASELINE_NONE,
    VAE_BASELINE_MA,
    VAE_BASELINE_VIMCO,
    VAE_BASELINE_NVIL,
    VAE_BASELINE_COUNT_
} vae_baseline;

/* State an objective carries across steps (model lifetime): the step count for annealing and the MA baseline
 * (b <- decay * b + (1 - decay) * mean signal, updated by vae_objective). */
typedef struct vae_objective_state {
    int64_t step;
    double baseline;
    int baseline_ready;
    /* NVIL: this step's learned baseline b(x) (B) (step lifetime: set and cleared by vae_objective; NULL else) */
    vae_tensor *nvil_b;
} vae_objective_state;

/* Names ("reparam", "score", "stl", "dreg", "gumbel"; "none", "ma", "vimco", "nvil") and reverse lookups (-1 when
 * unknown). */
VAE_API const char *vae_estimator_name(vae_estimator e);
VAE_API const char *vae_baseline_name(vae_baseline b);
VAE_API int vae_estimator_parse(const char *s);
VAE_API int vae_baseline_parse(const char *s);

/* k draws z (k, B, Z) from q as est needs them: rsample (a path to phi) except for SCORE (detached sample) and
 * GUMBEL (the relaxed sample at q's temperature, discrete.h). */
VAE_API vae_tensor *vae_est_draw_z(vae_ctx *ctx, vae_dist *q, int64_t k, vae_estimator est);
/* log q(z|x) (k, B) as est needs it: with detached parameters for STL and DREG (phi reaches it only through z). */
VAE_API vae_tensor *vae_est_log_q(vae_ctx *ctx, vae_dist *q, vae_tensor *z, vae_estimator est);

/* The particles of an importance-weighted bound: q = encode(x), z (groups * k, B, Z) drawn for est, and
 * log w = log p(x|z) + log p(z) - log q(z|x) (groups * k, B), with its parts. For DREG the weights are first
 * computed without a tape (one extra decoder forward) and z passes through vae_grad_scale(z, wt), wt normalized
 * within each group of k. On failure returns the code (message in ctx) and leaves *p unchanged. */
typedef struct vae_est_particles {
    vae_dist *q;                             /* q(z|x) over (B, Z) */
    vae_tensor *z;                           /* (groups * k, B, Z) */
    vae_tensor *logpx, *logpz, *logq, *logw; /* (groups * k, B) */
} vae_est_particles;
VAE_API vae_status vae_est_draw_particles(vae_ctx *ctx, vae_net *net, vae_tensor *x, int64_t groups,
                                          int64_t k, vae_estimator est, vae_est_particles *p);

/* Normalized importance weights wt = softmax over `axis` of log w, as constants (no gradient path). */
VAE_API vae_tensor *vae_est_weights(vae_ctx *ctx, vae_tensor *logw, int axis);
/* VIMCO's per-particle learning signals (Mnih & Rezende 2016) for L = log (1/K) sum_j w_j, logw (K, B), K >= 2:
 * L - L_{-k}, where L_{-k} replaces log w_k by the mean of the others. Constants (K, B). */
VAE_API vae_tensor *vae_est_vimco(vae_ctx *ctx, vae_tensor *logw);
/* Learning signals f - b (K, B) as constants, f (K, B): b = 0 (NONE), ma (MA), the leave-one-out mean of the
 * other samples of the same datum (VIMCO; K >= 2). */
VAE_API vae_tensor *vae_est_signal(vae_ctx *ctx, vae_tensor *f, vae_baseline bl, double ma);
/* The signals f - b (K, B) of a baseline as est_signal, with b from the objective's state: the MA value (MA),
 * c + b(x) from st->nvil_b (NVIL), leave-one-out (VIMCO). VAE_ERR_ARG for NVIL without st->nvil_b. */
VAE_API vae_tensor *vae_est_signal_st(vae_ctx *ctx, vae_tensor *f, vae_baseline bl,
                                      const vae_objective_state *st);
/* Score-function surrogate (B,): sum_k sg(signal_k) log q(z_k|x) + f, signal (K, B) or (1, B), logq (K, B),
 * f (B) (NULL: the score term alone). */
VAE_API vae_tensor *vae_est_score(vae_ctx *ctx, vae_tensor *signal, vae_tensor *logq,
                                  vae_tensor *f);
/* The per-datum surrogate (B,) for a bound of the importance-weighted family (bound a function of log w (K, B)):
 * the bound itself for the pathwise estimators (REPARAM, STL, and DREG given particles from
 * vae_est_draw_particles, and GUMBEL), and for SCORE sum_k sg(bound - b) log q(z_k|x) + bound, with b the MA value
 * of st (MA), c + b(x) (NVIL) or VIMCO's leave-one-out bound (then the signal is per particle). */
VAE_API vae_tensor *vae_est_surrogate(vae_ctx *ctx, vae_estimator est, vae_baseline bl,
                                      vae_tensor *logw, vae_tensor *logq, vae_tensor *bound,
                                      const vae_objective_state *st);

#endif
