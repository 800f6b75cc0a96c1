/* study.h - gradient-estimator variance study.
 *
 * For fixed weights and a fixed batch, draw R independent gradient estimates of the bound (each with fresh noise)
 * and report, per parameter group (encoder "enc.*", decoder "dec.*"): the mean over parameters of |E g|, of Var g,
 * of the per-parameter signal-to-noise ratio SNR = |E g| / std g (Rainforth et al. 2018), and the group SNR
 * ||E g|| / sqrt(sum Var g). Any registered objective can be studied (its bound's gradient); run it over several
 * K for IWAE to see the encoder's SNR fall as K grows (reparam) and DReG restore it.
 */
#ifndef VAE_STUDY_H
#define VAE_STUDY_H

#include "models/objective.h"

typedef struct vae_study_group {
    int64_t numel;
    double mean_abs_mean, mean_var, mean_snr, group_snr;
} vae_study_group;

typedef struct vae_study_row {
    char objective[128]; /* the objective's spec, e.g. "iwae:k=5" (vae_objective_spec) */
    vae_estimator estimator;
    vae_baseline baseline;
    int64_t draws;
    double bound_mean; /* mean of the bound over the draws */
    vae_study_group enc, dec;
} vae_study_row;

/* Draw `draws` estimates of the gradient of the bound for batch x (B, D) (f32 caller buffer) under cfg, and fill
 * row. When mean/var are non-NULL they receive per-element statistics over the flat parameter buffer
 * (vae_params_flat_len entries, f64, indexed like the buffer: see vae_params_offset). The model's gradient buffer
 * is overwritten; its values are not. ctx is used as scratch. On failure returns the code with the message in ctx. */
VAE_API vae_status vae_study_run(vae_ctx *ctx, vae_net *net, const float *x, int64_t B,
                         const vae_objective_cfg *cfg, int64_t draws, vae_study_row *row,
                         double *mean, double *var);

#endif
