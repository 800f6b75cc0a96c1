/* run_config.h - everything a training run was configured with, and where it stands, as text.
 *
 * The text goes into the checkpoint's metadata blob, so eval, sample, encode, score, export and
 * estimators rebuild the model (and the data pre-processing: binarization, [0,1] scaling, CSV
 * standardization) from the checkpoint alone, and `train --resume` continues where it stopped.
 * Format: one "key value" per line, '#' comments, first line "vae-run 1". Unknown keys are ignored
 * (so newer files stay readable); every known value is checked, and a missing or bad one is an
 * error naming the key: the checkpoint may be hostile. The keys that describe the model
 * (architecture, likelihood, objective names, data scaling, plugins) are the library's
 * (models/model.h: vae_model_desc_write/parse), so vae_model_load opens a checkpoint of `vae train`;
 * this file adds the training keys (data spec, objective settings, optimizer, where training stands).
 */
#ifndef VAE_CLI_RUN_CONFIG_H
#define VAE_CLI_RUN_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "models/model.h"
#include "models/objective.h"
#include "models/vae_net.h"
#include "tensor/rng.h"

#define RUN_CONFIG_VERSION 1
#define RUN_MAX_HIDDEN     VAE_NET_MAX_HIDDEN
#define RUN_MAX_COLUMNS    (1 << 20) /* most CSV columns whose standardization the text may carry */
#define RUN_MAX_LABELS     256       /* most classes --labels may list */

typedef struct run_config {
    /* data */
    char data[512];        /* the --data spec */
    int64_t n_train;       /* cap on training examples (0 = all) */
    double valid_fraction; /* held out of the training set (0 = none) */
    int nlabels;           /* --labels: keep only examples with one of these labels (0 = all) */
    int64_t labels[RUN_MAX_LABELS]; /* written as "labels 0,1,2", only when nlabels > 0 */
    int64_t
        label_column; /* --label-column: tabular data's column (1-based) of class labels (0 = none) */
    char binarize[16]; /* dynamic | threshold | none (resolved: never "auto" once stored) */
    int64_t seed;
    /* model */
    char model
        [32]; /* the objective's name (vae, beta-vae, iwae, vr, miwae, ciwae, or a registered one) */
    char likelihood[32];
    double
        lik_param; /* the likelihood's option (gaussian: sigma; student-t: degrees of freedom); 0 = default */
    int64_t latent;
    int nhidden;
    int64_t hidden[RUN_MAX_HIDDEN];
    char activation[16];
    char dtype[8]; /* f32 | f64 */
    /* two stochastic layers (Burda et al. 2016): latent2 > 0 adds z2 above z1 (= latent); the model keys
     * latent2/hidden2 (models/model.c) */
    int64_t latent2; /* 0 = one stochastic layer */
    int nhidden2;
    int64_t hidden2[RUN_MAX_HIDDEN];
    /* model families (models/flow_prior.h): "" = none; keys "flow" and "prior" of the model text */
    char flow[32];  /* planar:K | iaf:K */
    char prior[32]; /* mog:K | vamp:K */
    /* model families (models/vae_net.h; all 0 = off), stored through the model's keys (models/model.c) */
    int64_t classes; /* conditional VAE: labels 0..classes-1 (from the training data's labels) */
    char cond_prior[16]; /* its p(z|y): learned | normal */
    int bayes_decoder;   /* full VB over the decoder */
    double prior_scale;  /* its p(theta) = N(0, s^2 I) */
    int local_reparam;   /* train it with the local reparameterization */
    /* objective: its spec (vae_objective_parse_spec) plus estimator and baseline. A configuration from before
     * the spec existed has objective "" and the legacy fields below (model, samples, beta, ...), which
     * run_config_objective maps onto a spec; they are read from such files but no longer written. */
    char objective[256];
    int64_t samples;
    double beta;
    int64_t kl_warmup;
    double free_bits;
    double cap_gamma, cap_max;
    int64_t cap_steps;
    int mc_kl;
    int n_over_m; /* 1: loss = -(N/M) sum over the batch (AEVB's minibatch estimator of the data-set sum) */
    char estimator[16], baseline[16];
    /* discrete latents and the gumbel estimator (models/discrete.h) */
    char latent_kind[32];    /* gaussian | categorical:NxC | bernoulli:N (the model key latent_kind) */
    int64_t baseline_hidden; /* NVIL's b(x) hidden units, 0 = none (the model key baseline_net) */
    double temperature, temp_anneal, temp_min; /* T_t = max(temp_min, T exp(-anneal t)) when anneal > 0 */
    int straight_through;
    /* optimization */
    char optimizer[16];
    double lr;
    char schedule[16]; /* constant | step | cosine | burda */
    int64_t warmup;
    int64_t
        lr_decay_every; /* step schedule: decay every this many steps (0 = a third of the run) */
    double lr_gamma;    /* step schedule factor */
    double weight_decay, clip_norm;
    double adam_beta1, adam_beta2, opt_eps; /* 0 = the optimizer's default (absent in older runs) */
    int64_t batch, epochs;
    /* data geometry and pre-processing, filled when the training data is first loaded */
    int64_t x_dim;
    int h, w, c;
    int tabular; /* 1: CSV-like data (pictures become CSV files) */
    int scaled;  /* 1: x was mapped from [scale_lo, scale_hi] to [0, 1] */
    double scale_lo, scale_hi;
    int64_t nstd;               /* columns of col_mean / col_std (0 = not standardized) */
    double *col_mean, *col_std; /* owned */
    /* where training stands (for --resume) */
    int64_t epochs_done;    /* completed epochs */
    int64_t batch_in_epoch; /* batches of epoch `epochs_done` already taken */
    int64_t step;           /* optimizer steps so far */
    vae_rng rng_ctx, rng_data;
    int64_t obj_step;
    double obj_baseline;
    int obj_baseline_ready;
    double part_bound, part_rec, part_kl,
        part_elbo;  /* sums over the batches of the unfinished epoch */
    double elapsed; /* training seconds so far */
    /* plugins the run needs (absolute paths), loaded by every command that opens the run */
    int nplugins;
    char plugins[VAE_MODEL_MAX_PLUGINS][VAE_PLUGIN_PATH_MAX];
    /* network family (models/vae_net_conv.c): keys "net", "conv_channels", "conv_hidden" of models/model.c */
    char net[16];       /* mlp | conv */
    int64_t conv_ch[2]; /* conv: its two channel counts (0 = 16, 32) */
    int nconv_hidden;   /* conv: its fc hidden sizes (0 layers: one linear layer each side) */
    int64_t conv_hidden[RUN_MAX_HIDDEN];
} run_config;

/* The defaults of `vae train` (sprites, VAE, Bernoulli, Adam, ...). */
void run_config_default(run_config *c);
/* Release the standardization arrays; the struct stays usable. */
void run_config_free(run_config *c);
/* Deep copy (arrays included); returns 0, or -1 on OOM. */
int run_config_copy(run_config *dst, const run_config *src);
/* 0 when every field is in range and the combination is valid (objective_check included); else -1
 * with the reason in msg ("latent: 0 is out of range 1..4096"). */
int run_config_check(const run_config *c, char *msg, size_t msglen);
/* The text form in a malloc'd NUL-terminated buffer (*len without the NUL); 0, or -1 on OOM. */
int run_config_to_text(const run_config *c, char **text, size_t *len);
/* Parse `len` bytes of text into c (defaults first, then the keys found), then run_config_check. On
 * failure returns -1 with the reason in msg and leaves c holding defaults (nothing to free beyond
 * run_config_free). */
int run_config_from_text(const char *text, size_t len, run_config *c, char *msg, size_t msglen);

/* Set c's label filter from "0,1,2" (comma-separated integers in [0, 2^31 - 1], at most
 * RUN_MAX_LABELS). Returns 0, or -1 with the reason in msg and c unchanged. */
int run_config_set_labels(run_config *c, const char *text, char *msg, size_t msglen);

/* The model description of this run (models/model.h); d borrows c's standardization arrays: do
 * not free them through d. */
void run_config_model_desc(const run_config *c, vae_model_desc *d);
/* Record every plugin loaded so far (vae_plugin_list) as the run's plugins; -1 with msg when there
 * are more than VAE_MODEL_MAX_PLUGINS. */
int run_config_set_plugins(run_config *c, char *msg, size_t msglen);
/* Load the plugins named by "plugin" lines of a run configuration's text (before
 * run_config_from_text, whose check needs their likelihoods registered). 0, or -1 with msg naming
 * the plugin and why it cannot be loaded. */
int run_config_load_plugins(const char *text, size_t len, char *msg, size_t msglen);
/* The library configurations this run describes. */
void run_config_net_cfg(const run_config *c, vae_net_cfg *net);
/* The objective: from c->objective, or from the legacy fields when it is empty; data_size > 0 turns on the N/M
 * scaling when c->n_over_m. 0, or -1 with the reason in msg (an unknown objective or option). */
int run_config_objective(const run_config *c, int64_t data_size, vae_objective_cfg *obj, char *msg,
                         size_t msglen);
/* The spec the legacy fields (model, samples, mc_kl, beta, kl_warmup, free_bits, cap_*) describe. */
void run_config_legacy_spec(const run_config *c, char *buf, size_t n);

#endif
