/* study_internal.h - (not installed) the statistics of the estimator study, apart from the model: an accumulator
 * of gradient draws over a flat buffer and the groups it reports, so the statistics can be tested on synthetic
 * draws with a known mean and covariance. */
#ifndef VAE_STUDY_INTERNAL_H
#define VAE_STUDY_INTERNAL_H

#include "models/study.h"

/* A block of a group's elements in the flat buffer: rows rows of ld elements from off, columns [c0, c1) of each
 * (a whole contiguous tensor is rows = 1, ld = c1 = numel, c0 = 0). groups: bit g set = belongs to group g. */
typedef struct vae__study_atom {
    int64_t off, rows, ld, c0, c1;
    uint64_t groups;
} vae__study_atom;

#define VAE__STUDY_MAX_ATOMS (2 * VAE_STUDY_MAX_GROUPS)

typedef struct vae__study_layout {
    int natoms, ngroups;
    vae__study_atom atom[VAE__STUDY_MAX_ATOMS];
    char name[VAE_STUDY_MAX_GROUPS][48];
} vae__study_layout;

/* The running sums: per jackknife batch b and element i, S[b][i] = sum of (g - c) and Q[b][i] = sum of (g - c)^2
 * over the batch's draws, with c the first draw (a shift against cancellation). */
typedef struct vae__study_acc {
    int64_t P, n;                  /* elements; draws added */
    int64_t nb[VAE_STUDY_BATCHES]; /* draws per batch */
    double *c, *S, *Q;             /* (P), (BATCHES, P), (BATCHES, P) */
    const vae__study_layout *lay;
    const vae_study_ref *ref; /* may be NULL */
    int nprefix;
    int64_t prefix_r[VAE_STUDY_MAX_PREFIX];
    double prefix_err[VAE_STUDY_MAX_PREFIX][VAE_STUDY_MAX_GROUPS];
} vae__study_acc;

/* Prepare for up to `draws` draws of P elements (ref may be NULL; lay and ref are kept by pointer). VAE_ERR_OOM
 * (acc zeroed) when the sums do not fit. */
vae_status vae__study_acc_init(vae__study_acc *acc, int64_t P, int64_t draws,
                               const vae__study_layout *lay, const vae_study_ref *ref,
                               vae_error *err);
/* Add one draw g (P elements of dtype dt, times sign: -1 turns a loss gradient into a bound gradient). */
void vae__study_acc_add(vae__study_acc *acc, const void *g, vae_dtype dt, double sign);
/* The statistics of the draws so far (>= 2) into row's groups, prefix curve and draws (the rest of row is
 * kept); mean/var (P, may be NULL) receive the per-element mean and unbiased variance. */
void vae__study_acc_finish(const vae__study_acc *acc, vae_study_row *row, double *mean,
                           double *var);
void vae__study_acc_free(vae__study_acc *acc);

/* The groups of a vae_net (see study.h). */
void vae__study_layout_net(const vae_net *net, vae__study_layout *lay);

#endif
