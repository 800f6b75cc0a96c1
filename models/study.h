/* study.h - gradient-estimator variance study with unbiased statistics and standard errors.
 *
 * For fixed weights and a fixed batch, draw R independent gradient estimates g_1..g_R of the bound (each with
 * fresh noise) and estimate, per parameter group G (Rainforth et al. 2018, with the noise corrections):
 *
 *   ||E g||^2   unbiased:  ||gbar||^2 - tr(S) / R        (S the unbiased sample covariance; ||gbar||^2 alone is
 *                                                        inflated by tr(Cov) / R, which is what made the old SNR
 *                                                        of a small-mean estimator fall like 1 / sqrt(R))
 *   tr Cov g    unbiased:  tr(S) = sum_i s_i^2
 *   SNR         sqrt(||E g||^2 / tr Cov g), from the two estimates above
 *   mean SNR    mean over the group's parameters of sqrt(max(0, gbar_i^2 - s_i^2 / R) / s_i^2) (still biased up
 *               where a parameter's own SNR is below ~1 / sqrt(R): the clamp at 0 keeps noise)
 * each with a standard error from the delete-one-batch jackknife over VAE_STUDY_BATCHES interleaved batches of the
 * draws (draw r in batch r mod VAE_STUDY_BATCHES). When the estimate of ||E g||^2 is within 2 standard errors of
 * 0, R is too small to tell the SNR from 0: snr_resolved is 0, snr.est is NAN and snr_upper bounds it.
 *
 * Against a reference gradient g_ref (vae_study_ref: typically the reparameterized gradient of the same objective
 * with R_ref >> R draws, or an exact gradient with var = NULL), also: the unbiased squared bias
 * ||E g - E g_ref||^2 (its noise terms tr(S)/R and tr(S_ref)/R_ref removed), the relative bias
 * sqrt(bias^2) / ||E g_ref||, the cosine between the means (noise-corrected norms), and the relative error
 * ||gbar_R' - g_ref|| / ||g_ref|| of the mean of the first R' draws for R' = 1, 2, 5, 10, 20, ... <= R (an
 * unbiased estimator's falls like 1 / sqrt(R'), a biased one's levels off at its bias).
 *
 * Groups (vae_study_row.group, names as in the JSON): "total"; "encoder" (enc.*) and "decoder" (dec.*); the
 * encoder's mean head "encoder.mu" and log-variance head "encoder.logvar" (the last encoder layer outputs 2Z:
 * columns [0, Z) of its weight (in, 2Z) and bias give mu, columns [Z, 2Z) give logvar); then every parameter
 * tensor by its name ("enc.0.weight", ..., "dec.1.bias"). Parameters of other names count in "total" only, except
 * NVIL's baseline "bl.*", which is trained on its own regression, not the bound, and is left out of "total".
 * Discrete latents (discrete.h): the encoder's last layer outputs Z logits, so "encoder.mu"/"encoder.logvar" are
 * empty; the natural reference is the exact gradient by summation (vae_discrete_exact_grad, var = NULL).
 */
#ifndef VAE_STUDY_H
#define VAE_STUDY_H

#include "models/objective.h"

#define VAE_STUDY_BATCHES 10 /* jackknife batches of the R draws */
#define VAE_STUDY_MAX_GROUPS                                                                       \
    48 /* 5 fixed groups + one per parameter tensor (a net of <= 8 hidden layers) */
#define VAE_STUDY_MAX_PREFIX 16 /* points of the error-vs-R' curve */
#define VAE_STUDY_NVIL_STEPS 300  /* NVIL: Adam steps fitting b(x) on the batch before the draws ... */
#define VAE_STUDY_NVIL_LR    3e-3 /* ... at this rate (vae_nvil_fit) */

enum {
    VAE_STUDY_TOTAL,
    VAE_STUDY_ENCODER,
    VAE_STUDY_DECODER,
    VAE_STUDY_ENC_MU,
    VAE_STUDY_ENC_LOGVAR,
    VAE_STUDY_FIRST_TENSOR /* index of the first per-tensor group */
};

/* An estimate and its standard error (NAN when it cannot be estimated, e.g. with fewer than 3 draws). */
typedef struct vae_study_stat {
    double est, se;
} vae_study_stat;

typedef struct vae_study_group {
    char name[48];
    int64_t numel;
    vae_study_stat mean_norm2; /* ||E g||^2, unbiased */
    vae_study_stat trace_cov;  /* tr Cov g = sum of per-parameter variances, unbiased */
    vae_study_stat snr;        /* sqrt(||E g||^2 / tr Cov); est = NAN when !snr_resolved */
    int snr_resolved; /* 1: mean_norm2 > 2 se above 0; 0: the SNR is indistinguishable from 0 */
    double snr_upper; /* sqrt(max(0, mean_norm2 + 2 se) / tr Cov): an upper bound when unresolved */
    double snr_plugin; /* ||gbar|| / sqrt(tr S), the biased plug-in value (for comparison only) */
    vae_study_stat mean_snr; /* mean per-parameter SNR from the unbiased E g_i^2 */
    /* against the reference (all NAN without one) */
    vae_study_stat bias_norm2; /* ||E g - E g_ref||^2, unbiased (can be < 0 by noise) */
    vae_study_stat rel_bias;   /* sqrt(max(0, bias_norm2)) / ||E g_ref|| */
    vae_study_stat
        cosine;       /* <gbar, g_ref> / sqrt(||E g||^2 ||E g_ref||^2) (noise-corrected norms) */
    double ref_norm2; /* ||E g_ref||^2, unbiased */
    double prefix_err
        [VAE_STUDY_MAX_PREFIX]; /* ||gbar_R' - g_ref|| / ||g_ref||, R' = row.prefix_r[i] */
} vae_study_group;

typedef struct vae_study_row {
    char objective[128]; /* the objective's spec, e.g. "iwae:k=5" (vae_objective_spec) */
    vae_estimator estimator;
    vae_baseline baseline;
    int64_t draws;
    double bound_mean; /* mean of the bound over the draws */
    int has_ref;       /* the reference statistics are filled */
    int nprefix;
    int64_t prefix_r[VAE_STUDY_MAX_PREFIX];
    int ngroups;
    vae_study_group group[VAE_STUDY_MAX_GROUPS];
} vae_study_row;

/* A reference gradient over the flat parameter buffer (vae_params_flat_len entries, f64, as the mean/var outputs
 * of vae_study_run): its mean, its per-element variance of one draw (NULL: exact, no noise) and its draw count. */
typedef struct vae_study_ref {
    const double *mean, *var;
    int64_t draws;
} vae_study_ref;

/* Draw `draws` (>= 2) estimates of the gradient of the bound for batch x (B, D) (f32 caller buffer) under cfg,
 * and fill row (ref may be NULL). When mean/var are non-NULL they receive per-element means and unbiased variances
 * over the flat parameter buffer (vae_params_flat_len entries, f64, indexed like the buffer: see
 * vae_params_offset). A moving-average baseline first takes 20 unrecorded steps to settle; an NVIL baseline's b(x)
 * is first fitted on the batch (vae_nvil_fit, VAE_STUDY_NVIL_STEPS steps: the "bl.*" values change). Needs about
 * 2 * VAE_STUDY_BATCHES + 1 doubles per parameter of scratch. The model's gradient buffer is overwritten (left
 * zero); its values are not. ctx is used as scratch. On failure returns the code with the message in ctx, and row,
 * mean and var are unchanged. */
VAE_API vae_status vae_study_run(vae_ctx *ctx, vae_net *net, const float *x, int64_t B,
                                 const vae_objective_cfg *cfg, int64_t draws,
                                 const vae_study_ref *ref, vae_study_row *row, double *mean,
                                 double *var);

/* The group named name in row, or NULL. */
VAE_API const vae_study_group *vae_study_find(const vae_study_row *row, const char *name);

#endif
