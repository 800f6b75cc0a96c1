/* families.h - the CLI side of the model families (models/vae_net.h): the conditional VAE's labels, the full-VB
 * decoder's options, and their pictures. */
#ifndef VAE_CLI_FAMILIES_H
#define VAE_CLI_FAMILIES_H

#include <stddef.h>
#include <stdint.h>

#include "models/vae_net.h"
#include "nn/dataset.h"
#include "options.h"
#include "run_config.h"

typedef struct family_opts {
    int cond;               /* --cond (or --model cvae) */
    const char *cond_prior; /* --cond-prior learned|normal */
    int bayes;              /* --bayes-decoder */
    double prior_scale;     /* --prior-scale */
    int local_reparam;      /* --local-reparam */
    int64_t label_column;   /* --label-column (1-based; 0 = none) */
} family_opts;

/* The `vae train` option rows (not clang-formatted: one row a line). */
/* clang-format off */
#define FAMILY_TRAIN_OPTS(o)                                                                                       \
    {"label-column", "N", CLI_OPT_INT, &(o)->label_column, 1, 1048576, NULL, "tabular data: column N (1-based) holds class labels, not features (for --cond, --labels)", 0}, \
    {"cond", NULL, CLI_OPT_FLAG, &(o)->cond, 0, 0, NULL, "conditional VAE on the data's labels: q(z|x,y), p(x|z,y), p(z|y) (any objective)", 0}, \
    {"cond-prior", "P", CLI_OPT_CHOICE, &(o)->cond_prior, 0, 0, "learned|normal", "conditional VAE's p(z|y): learned|normal (learned)", 0}, \
    {"bayes-decoder", NULL, CLI_OPT_FLAG, &(o)->bayes, 0, 0, NULL, "full VB: a Gaussian q(theta) over the decoder's weights (Kingma & Welling, app. F)", 0}, \
    {"prior-scale", "S", CLI_OPT_REAL, &(o)->prior_scale, 1e-6, 1e6, NULL, "--bayes-decoder: p(theta) = N(0, S^2 I) (1)", 0}, \
    {"local-reparam", NULL, CLI_OPT_FLAG, &(o)->local_reparam, 0, 0, NULL, "--bayes-decoder: train with the local reparameterization (Kingma et al. 2015)", 0}
/* clang-format on */

/* Check the options that go together and store them in c (cvae_model: --model cvae was given). Prints a usage
 * error and returns CLI_EXIT_USAGE on a bad combination, else 0. */
int family_config(const char *cmd, const family_opts *o, int cvae_model, cli_opt *tab, int ntab,
                  run_config *c);
/* Once the training data is loaded: a conditional run takes its class count from the labels (max + 1). -1 with
 * msg when the data has no labels. */
int family_after_data(run_config *c, const vae_dataset *train, char *msg, size_t n);
/* Point a conditional net at the labels of ds's first m rows, and a full-VB net at the training set's size
 * n_train (0 = leave it). -1 with msg when the net is conditional and ds has no labels (or one out of range). */
int family_prepare(vae_net *net, const vae_dataset *ds, int64_t m, int64_t n_train, char *msg,
                   size_t n);
/* The labels of a minibatch's rows idx[0..m) into y and onto the net (no-op for other nets). -1 with msg. */
int family_batch(vae_net *net, const vae_dataset *ds, const int64_t *idx, int64_t m, int64_t *y,
                 char *msg, size_t n);
/* n latent draws z (n, Z) from the model's prior: N(0, I) (as n * Z draws of rng), or p(z|y) of a conditional
 * net with y[i] (n, caller's, left set on the net for decoding) the class of row i: cls >= 0 for every row, else
 * rows of `cols` draws per class in turn. -1 with msg. */
int family_prior_z(vae_ctx *ctx, vae_net *net, int64_t n, int cols, int64_t cls, vae_rng *rng,
                   int64_t *y, float *z, char *msg, size_t msglen);
/* For a full-VB decoder: weight_uncertainty.png, 8 draws z ~ p(z) decoded under S weight draws: the row of
 * mean images over the draws above the row of their per-pixel standard deviation (scaled to the largest).
 * No-op (0) for other nets and tabular data. */
int family_pictures(vae_ctx *ctx, vae_net *net, const run_config *cfg, const char *dir, char *msg,
                    size_t msglen);

#endif
