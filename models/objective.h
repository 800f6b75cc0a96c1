/* objective.h - objectives as descriptors in a registry, like likelihoods (likelihood.h).
 *
 * An objective is a bound on log p(x) written with the model's encode / sample / decode calls. Its descriptor
 * names it, lists its numeric options (name, default, range, help), says which gradient estimators it supports,
 * checks option combinations, and builds, for a batch x (B, D), the per-datum bound (B,) and a scalar surrogate
 * loss whose gradient (vae_backward) is the chosen estimator of the gradient of the negative bound. The estimator
 * (estimators.h) and its baseline are choices separate from the objective; the objective applies them.
 *
 * Built in (one file each, the formula in a comment at its top; spec NAME[:key=value,...]):
 *   vae       ELBO, analytic or Monte-Carlo KL, L samples          l=1 mc-kl=0                   (elbo.c)
 *   beta-vae  ELBO with beta, linear KL warm-up, free bits, and    l=1 mc-kl=0 beta=1 warmup=0   (elbo.c)
 *             Burgess's capacity -rec + gamma |KL - C|             free-bits=0 gamma=0 cmax=0 csteps=0
 *   iwae      importance-weighted bound, K particles              k=5                           (iwae.c)
 *   vr        Renyi VR-alpha bound                                 alpha=0.5 k=5                 (vr.c)
 *   miwae     mean over M groups of the IWAE bound of K           m=4 k=8                       (miwae.c)
 *   ciwae     beta ELBO + (1 - beta) IWAE on the same K particles  beta=0.5 k=8                  (miwae.c)
 * A user's file adds one with vae_objective_register (see the README, "Writing your own objective"). The registry
 * is process-wide and not locked: register before starting threads.
 *
 * Generic to every objective (vae_objective applies them): the N/M minibatch scaling (data_size), the step count
 * for annealing and the moving-average baseline (vae_objective_state, estimators.h).
 */
#ifndef VAE_OBJECTIVE_H
#define VAE_OBJECTIVE_H

#include <stddef.h>

#include "models/estimators.h"

#define VAE_OBJECTIVE_MAX_OPTS 12 /* options per objective */
#define VAE_OBJECTIVE_MAX_LOGS 8  /* named values an objective reports per step */

typedef struct vae_objective_option {
    const char *name; /* key in a spec ("k", "alpha", "free-bits") */
    double def, min, max;
    int integer;      /* 1: whole numbers only */
    const char *help; /* one line */
} vae_objective_option;

typedef struct vae_objective_desc vae_objective_desc;

/* A configured objective: which one, its option values, and the estimator it is optimized with. */
typedef struct vae_objective_cfg {
    const vae_objective_desc *desc;     /* NULL reads as the built-in "vae" */
    double opt[VAE_OBJECTIVE_MAX_OPTS]; /* option values, in desc->opts order */
    vae_estimator estimator;
    vae_baseline baseline;
    double baseline_decay; /* MA baseline: b <- decay * b + (1 - decay) * mean signal (0.9) */
    double
        data_size; /* N > 0: loss = -(N/M) sum_b S_b (AEVB's minibatch scaling); 0: -mean_b S_b */
    /* the gumbel estimator (discrete.h): T_t = max(temp_min, temperature exp(-temp_anneal t)) when temp_anneal > 0,
     * else temperature; straight_through: hard one-hot forward, relaxed gradient */
    double temperature, temp_anneal, temp_min; /* defaults 1, 0, 0.5 */
    int straight_through;
} vae_objective_cfg;

typedef struct vae_objective_log {
    const char *name; /* static string: "rec", "kl", "kl_weight", "beta", "capacity", "elbo", ... */
    double value;     /* batch mean */
} vae_objective_log;

typedef struct vae_objective_out {
    vae_tensor *loss;   /* scalar surrogate to minimize */
    vae_tensor *bound;  /* (B,) per-datum bound, no gradient path */
    double bound_mean;  /* its batch mean */
    double signal_mean; /* what a moving-average baseline tracks (the mean score-function signal) */
    int nlog;
    vae_objective_log log[VAE_OBJECTIVE_MAX_LOGS]; /* what the objective reports, by name */
} vae_objective_out;

struct vae_objective_desc {
    const char *name; /* as in specs and --objective */
    const char *help; /* one line: the bound */
    int nopts;
    const vae_objective_option *opts; /* nopts entries (<= VAE_OBJECTIVE_MAX_OPTS) */
    unsigned estimators;              /* supported estimators: bit (1u << VAE_EST_...) each */
    /* Option combinations beyond each option's own range (may be NULL): VAE_OK or VAE_ERR_ARG with the reason. */
    vae_status (*check)(const vae_objective_cfg *cfg, vae_error *err);
    /* For x (B, D): set out->bound (B,), out->loss = -mean_b S_b with S (B,) the estimator's surrogate (before
     * the N/M scaling), out->bound_mean, out->signal_mean and the named logs (vae_objective_out_log). Returns the
     * ctx's status on failure. */
    vae_status (*build)(vae_ctx *ctx, vae_net *net, vae_tensor *x, const vae_objective_cfg *cfg,
                        const vae_objective_state *st, vae_objective_out *out);
};

/* ---- registry ---- */
/* The objective registered under name, or NULL (also for NULL). */
VAE_API const vae_objective_desc *vae_objective_find(const char *name);
/* Add an objective (kept by pointer: it must outlive its use, e.g. a static). VAE_ERR_ARG for a NULL or
 * incomplete descriptor (name, build, nopts in 0..VAE_OBJECTIVE_MAX_OPTS with named options whose default lies
 * in [min, max], at least one estimator) or a name already taken; VAE_ERR_OOM when the 32 user slots are full.
 * On failure nothing changes. */
VAE_API vae_status vae_objective_register(const vae_objective_desc *desc);
/* Store up to max registered objectives (built-ins first) in out (NULL when max is 0); returns how many exist. */
VAE_API int vae_objective_list(const vae_objective_desc **out, int max);

/* ---- configuration ---- */
/* Defaults: "vae" with its default options, reparameterized, no baseline, decay 0.9, no N/M scaling, gumbel
 * temperature 1 without annealing (minimum 0.5). */
VAE_API void vae_objective_cfg_default(vae_objective_cfg *cfg);
/* Parse a spec "NAME[:key=value,...]" into cfg's objective and options (the rest of cfg is kept). VAE_ERR_ARG
 * with a message for an unknown name (listing the registered ones), an unknown key (listing the valid keys), a
 * value that is not a number, not whole for an integer option, or out of its range (naming the range); on
 * failure cfg is unchanged. */
VAE_API vae_status vae_objective_parse_spec(vae_objective_cfg *cfg, const char *spec,
                                            vae_error *err);
/* Set one option by name (same checks and messages as a spec; cfg unchanged on failure). */
VAE_API vae_status vae_objective_set(vae_objective_cfg *cfg, const char *key, double value,
                                     vae_error *err);
/* An option's value, or NAN when the objective has no such option. */
VAE_API double vae_objective_get(const vae_objective_cfg *cfg, const char *key);
/* The canonical spec ("iwae:k=5", options that differ from their defaults) into buf (always terminated when
 * n > 0); returns the length it needs, as snprintf. */
VAE_API int vae_objective_spec(const vae_objective_cfg *cfg, char *buf, size_t n);
/* Check a configuration: option ranges, the estimator is one the objective supports, a baseline only with the
 * score estimator, the decay and data size, the gumbel temperatures, then the objective's own check. VAE_OK or
 * VAE_ERR_ARG (reason in err). */
VAE_API vae_status vae_objective_check(const vae_objective_cfg *cfg, vae_error *err);
/* Check that cfg's estimator and baseline fit net's latents: REPARAM/STL/DREG need a reparameterizable
 * (Gaussian) q, GUMBEL discrete latents, NVIL the net's baseline network. VAE_OK or VAE_ERR_ARG (reason in err). */
VAE_API vae_status vae_objective_check_net(const vae_objective_cfg *cfg, const vae_net *net,
                                           vae_error *err);

/* ---- building ---- */
/* Build the objective for x (B, D) in ctx. On success fills out, applies the N/M scaling, and advances st->step
 * and the MA baseline. For the gumbel estimator the bound (and the logs rec, kl, elbo) come from a tape-free pass
 * with hard samples z ~ q (the true discrete bound), the relaxed one is logged as "relaxed_bound", the temperature
 * as "temperature". For the NVIL baseline the loss also carries (after the N/M scaling) the baseline's regression
 * mean_b (sg(bound_b - c) - b(x_b))^2, logged as "nvil_mse". On failure returns the code (the message is in ctx and err) and leaves st unchanged. */
VAE_API vae_status vae_objective(vae_ctx *ctx, vae_net *net, vae_tensor *x,
                                 const vae_objective_cfg *cfg, vae_objective_state *st,
                                 vae_objective_out *out);
/* For build functions: record a named value (name a static string; replaces an earlier value of that name;
 * ignored when the VAE_OBJECTIVE_MAX_LOGS slots are full). */
VAE_API void vae_objective_out_log(vae_objective_out *out, const char *name, double value);
/* A logged value by name, or NAN when the objective did not report it. */
VAE_API double vae_objective_out_value(const vae_objective_out *out, const char *name);

#endif
