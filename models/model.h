/* model.h - a trained model that persists: the net's configuration travels in its checkpoint.
 *
 * vae_model_save writes the weights (nn/checkpoint.h) with a text description of the model in the
 * checkpoint's metadata, and vae_model_load rebuilds the net from that text and loads the weights:
 * one call in a user's program opens a checkpoint written by `vae train` (whose run configuration
 * is this text plus the CLI's training-state keys, which this parser ignores).
 *
 * The text: first line "vae-run 1", then one "key value" per line ('#' starts a comment line).
 * Unknown keys are ignored; a known key with a bad value is an error naming the key. The keys:
 *   x_dim N        data dims D               latent Z             hidden H1,H2,..  (0 = none)
 *   latent2 Z2     hidden2 H1,..: a second stochastic layer z2 above z (vae_net_cfg.z2_dim, hidden2); written
 *                  only for two-layer models (absent = one stochastic layer)
 *   activation A   relu|tanh|softplus|sigmoid|elu|leaky-relu      dtype f32|f64
 *   likelihood L   a registered name         lik_param X          (lik_opts[0]; 0 = default)
 *   lik_opts X,..  all VAE_LIK_MAX_OPTS options (written only when one past the first is non-zero)
 *   model S        the objective's name     objective S          its full spec, NAME[:k=v,...] (absent in
 *                                            older files: then the name and the run's legacy keys say it)
 *   estimator S    reparam|score|stl|dreg   baseline S           none|ma|vimco
 *   h, w, c        image geometry (0 0 0 for tabular data), tabular 0|1
 *   binarize B     dynamic|threshold|none    scaled 0|1, scale_lo X, scale_hi X: x was mapped
 *                  from [scale_lo, scale_hi] to [0, 1]
 *   col_mean X,..  col_std X,..: CSV standardization, x_dim values each (both or neither)
 *   plugin PATH    (repeatable) a plugin the model needs (models/plugin.h); never loaded here
 *   net N          mlp|conv (absent in older files: mlp); a conv net's images are h, w, c above
 *   conv_channels A,B   the conv net's two channel counts (0 = its default, 16, 32)
 *   conv_hidden H,..    the conv net's fc hidden sizes (absent: one linear layer each side)
 * Model families (absent = off):
 *   classes C      conditional VAE over labels 0..C-1     cond_prior learned|normal   p(z|y)
 *   bayes_decoder 1  full VB over the decoder             prior_scale S (0 = 1)       local_reparam 0|1
 */
#ifndef VAE_MODEL_H
#define VAE_MODEL_H

#include <stddef.h>

#include "models/plugin.h"
#include "models/vae_net.h"

#define VAE_MODEL_TEXT_VERSION 1
#define VAE_MODEL_MAX_PLUGINS  8

/* How raw data becomes the model's x: what a user's program must do to its own data. */
typedef struct vae_model_data {
    int h, w, c;       /* image geometry; 0 0 0 for tabular data */
    int tabular;       /* 1: CSV-like data */
    char binarize[16]; /* dynamic | threshold | none */
    int scaled;        /* 1: x = (raw - scale_lo) / (scale_hi - scale_lo) */
    double scale_lo, scale_hi;
    int64_t nstd;               /* columns standardized (0 = none, else x_dim) */
    double *col_mean, *col_std; /* owned (malloc): x = (raw - col_mean) / col_std */
} vae_model_data;

typedef struct vae_model_desc {
    vae_net_cfg net;     /* architecture, likelihood and its options, dtype */
    char model[32];       /* key "model": the objective's name (e.g. "iwae") */
    char objective[256];  /* key "objective": its spec, e.g. "iwae:k=5" (vae_objective_parse_spec); "" in older files */
    char estimator[32];  /* opaque here */
    char baseline[32];   /* opaque here */
    vae_model_data data; /* pre-processing */
    int nplugins;
    char plugins[VAE_MODEL_MAX_PLUGINS][VAE_PLUGIN_PATH_MAX]; /* absolute paths */
} vae_model_desc;

typedef struct vae_model {
    vae_model_desc desc;
    vae_net net; /* built from desc.net, weights loaded */
} vae_model;

/* Defaults: vae_net_cfg_default's net with x_dim 0, objective "vae", estimator "reparam",
 * baseline "none", binarize "none", no scaling, no plugins. */
VAE_API void vae_model_desc_default(vae_model_desc *d);
/* Release the standardization arrays (the struct stays usable); NULL is harmless. */
VAE_API void vae_model_desc_free(vae_model_desc *d);
/* Deep copy; VAE_ERR_OOM (dst untouched) on failure. */
VAE_API vae_status vae_model_desc_copy(vae_model_desc *dst, const vae_model_desc *src,
                                       vae_error *err);
/* VAE_OK when every field is in range (x_dim 0 is allowed: not yet known); else VAE_ERR_ARG with
 * the field in the message. The likelihood's registration is not checked here. */
VAE_API vae_status vae_model_desc_check(const vae_model_desc *d, vae_error *err);
/* The text form, header line included, in a malloc'ed NUL-terminated buffer (*len excludes the
 * NUL). VAE_ERR_OOM on failure, outputs unchanged. */
VAE_API vae_status vae_model_desc_write(const vae_model_desc *d, char **text, size_t *len,
                                        vae_error *err);
/* Parse len bytes of text: keys found overwrite d's fields, the others keep d's values; then
 * vae_model_desc_check. On failure (VAE_ERR_FORMAT for a missing header or a bad value,
 * VAE_ERR_VERSION, VAE_ERR_ARG, VAE_ERR_OOM) d is unchanged. */
VAE_API vae_status vae_model_desc_parse(const char *text, size_t len, vae_model_desc *d,
                                        vae_error *err);

/* The activation's name ("relu"), or "?" ; and the activation called `name`, or -1. */
VAE_API const char *vae_model_act_name(vae_act act);
VAE_API int vae_model_act_parse(const char *name);

/* Build m from a copy of d with fresh weights drawn from rng (vae_net_init). On failure returns the
 * code with a message and leaves m zeroed. */
VAE_API vae_status vae_model_init(vae_model *m, const vae_model_desc *d, vae_rng *rng,
                                  vae_error *err);
/* Write m's weights (no optimizer state) and its description atomically to path (a checkpoint
 * that vae_model_load and the `vae` CLI's eval, sample, ... read). On failure the file at path is
 * unchanged. */
VAE_API vae_status vae_model_save(const char *path, const vae_model *m, vae_error *err);
/* Read the checkpoint at path (written by vae_model_save or `vae train`), rebuild the net from its
 * description and load its weights into *m (free with vae_model_free). Errors: VAE_ERR_IO for a
 * missing file, the checkpoint's codes for a damaged one, VAE_ERR_FORMAT for missing or damaged
 * metadata, VAE_ERR_ARG when the likelihood is not registered (the message names it and the
 * model's plugins: load them first with vae_plugin_load); m is unchanged on failure. */
VAE_API vae_status vae_model_load(const char *path, vae_model *m, vae_error *err);
/* Free the net and the description's arrays; a zeroed or NULL model is harmless. */
VAE_API void vae_model_free(vae_model *m);

#endif
