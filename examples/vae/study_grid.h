/* study_grid.h - the estimator study over a grid of estimators x K (models/study.h), shared by
 * `vae estimators` and `vae train --study-every`: parsing the estimator list, running every row
 * with one reparameterized reference per K, the rows as JSON, and the pictures. */
#ifndef VAE_CLI_STUDY_GRID_H
#define VAE_CLI_STUDY_GRID_H

#include "json.h"
#include "models/study.h"
#include "progress.h"

#define STUDY_MAX_EST 16
#define STUDY_MAX_KS  16

typedef struct est_spec {
    char label[32]; /* as given: "score:vimco" */
    vae_estimator est;
    vae_baseline bl;
    double temperature; /* gumbel:T (1 when not given) */
    int straight_through; /* gumbel-st:T */
} est_spec;

typedef struct study_grid {
    int nes, nks;
    est_spec es[STUDY_MAX_EST];
    int64_t ks[STUDY_MAX_KS];
    const char *kkey;         /* the option --ks sets ("k", "l"), or NULL: one row per estimator */
    int64_t draws, ref_draws; /* R, and R_ref of the reference (0: none) */
    vae_study_row *rows;      /* (nes * nks), row e * nks + k */
    char *skipped;            /* a combination that does not exist (VIMCO at K = 1, ...) */
    vae_study_row *refs; /* (nks) the reference rows (reparam with ref_draws), when has_ref[k] */
    char *has_ref;
    int exact_ref; /* discrete latents: the reference is the exact gradient by summation (no row in refs) */
} study_grid;

/* "reparam,score,score:ma,score:vimco,stl,dreg" -> specs (also score:nvil, gumbel:T and gumbel-st:T for a
 * temperature T, straight-through); the count, or -1 with msg. */
int study_parse_estimators(const char *s, est_spec *out, int max, char *msg, size_t n);
/* Allocate the rows for es x ks (ks NULL/nks 0: the objective has no K). 0, or -1 on OOM. */
int study_grid_init(study_grid *g, const est_spec *es, int nes, const int64_t *ks, int nks,
                    int64_t draws, int64_t ref_draws);
void study_grid_free(study_grid *g);
/* Run every row on batch x (B, D) for the objective base (its estimator replaced per row); rows whose estimator
 * does not fit the latents are skipped. The reference: the reparameterized gradient, or for discrete latents
 * under the "vae" objective (beta = 1) the exact gradient by summation (vae_discrete_exact_grad). Progress p may
 * be NULL. 0, or -1 with msg. */
int study_grid_run(study_grid *g, vae_ctx *ctx, vae_net *net, const float *x, int64_t B,
                   const vae_objective_cfg *base, progress *p, char *msg, size_t n);
/* The rows as a JSON array member "rows"; all_groups 0 keeps the five fixed groups only. */
void study_grid_json(const study_grid *g, json *j, int all_groups);
/* estimators_snr.png (encoder SNR vs K with error bars), estimators_variance.png (tr Cov vs K) and
 * estimators_bias.png (error of the mean of R' draws vs R', the largest K) in dir. 0 or -1 with
 * msg. */
int study_grid_pictures(const study_grid *g, const char *dir, char *msg, size_t n);

#endif
