/* dist_builtin.h - the built-in distributions: Normal, standard Normal, fixed-sigma Gaussian,
 * Laplace, Bernoulli and continuous Bernoulli.
 *
 * Each constructor takes the step's parameter tensors (any broadcastable shapes, one dtype),
 * returns a distribution in the context's arena with event_ndim = 1, or NULL with the error in the
 * context (NULL inputs give NULL quietly). The ops objects are public so that code can ask what a
 * distribution is (d->ops == &vae_normal_ops).
 */
#ifndef VAE_DIST_BUILTIN_H
#define VAE_DIST_BUILTIN_H

#include "models/dist.h"

VAE_API extern const vae_dist_ops vae_normal_ops; /* param: loc, log-scale, scale */
VAE_API extern const vae_dist_ops
    vae_std_normal_ops;                    /* the same layout, loc = 0, log-scale = 0, scale = 1 */
VAE_API extern const vae_dist_ops vae_laplace_ops; /* param: loc, log-scale, scale */
VAE_API extern const vae_dist_ops vae_bernoulli_ops;  /* param: logits */
VAE_API extern const vae_dist_ops vae_cbernoulli_ops; /* param: logits */
VAE_API extern const vae_dist_ops vae_beta_ops;       /* param: a, b; c[0] = eps of the clamp of x */
VAE_API extern const vae_dist_ops vae_poisson_ops;    /* param: log-rate, rate */

/* Diagonal Normal N(loc, exp(logvar)); NULL on failure (shapes that do not broadcast, dtypes that
 * differ). */
VAE_API vae_dist *vae_normal_logvar(vae_ctx *ctx, vae_tensor *loc, vae_tensor *logvar);
/* Diagonal Normal N(loc, exp(log_scale)^2); NULL on failure. */
VAE_API vae_dist *vae_normal_logscale(vae_ctx *ctx, vae_tensor *loc, vae_tensor *log_scale);
/* The standard Normal prior N(0, I) of the given shape (no parameter memory: stride-0 views); NULL
 * (VAE_ERR_ARG or VAE_ERR_SHAPE) on a bad shape. */
VAE_API vae_dist *vae_std_normal(vae_ctx *ctx, vae_dtype dt, int ndim, const int64_t *shape);
/* Gaussian likelihood N(mean, sigma^2 I) with a fixed sigma (a Normal, so KL, rsample and replay
 * work); VAE_ERR_ARG unless sigma is finite and > 0. */
VAE_API vae_dist *vae_gaussian_fixed(vae_ctx *ctx, vae_tensor *mean, double sigma);
/* z = loc + scale * eps for a Normal (or standard Normal) with the caller's noise eps (shape (...,
 * d's shape)), recorded in d->eps: replaying noise gives identical z and keeps the path to the
 * parameters. VAE_ERR_ARG when d is not a Normal, VAE_ERR_SHAPE / VAE_ERR_DTYPE when eps does not
 * fit. */
VAE_API vae_tensor *vae_normal_rsample_with(vae_ctx *ctx, vae_dist *d, vae_tensor *eps);

/* Laplace(loc, b = exp(log_scale)); rsample by the inverse CDF. NULL on failure. */
VAE_API vae_dist *vae_laplace(vae_ctx *ctx, vae_tensor *loc, vae_tensor *log_scale);

/* Bernoulli with p = sigmoid(logits) (the stable softplus form); sample only. NULL on failure. */
VAE_API vae_dist *vae_bernoulli_logits(vae_ctx *ctx, vae_tensor *logits);

/* log C(lambda) elementwise from logits (logits' shape), stable at and near lambda = 1/2; NULL on
 * failure. */
VAE_API vae_tensor *vae_cbernoulli_log_norm(vae_ctx *ctx, vae_tensor *logits);
/* Continuous Bernoulli on [0,1] with lambda = sigmoid(logits) (Loaiza-Ganem & Cunningham 2019);
 * sample only (by the inverse CDF). NULL on failure. */
VAE_API vae_dist *vae_cbernoulli_logits(vae_ctx *ctx, vae_tensor *logits);

/* Beta(a, b) on (0,1) with concentrations a, b > 0 (models/lik_beta.c); sample only (Gamma draws). log_prob
 * clamps x to [c0, 1 - c0] when d->c[0] = c0 > 0 (0 here; the "beta" likelihood sets its eps). NULL on failure. */
VAE_API vae_dist *vae_beta(vae_ctx *ctx, vae_tensor *a, vae_tensor *b);
/* Poisson with rate exp(log_rate) (models/lik_poisson.c); sample only. NULL on failure. */
VAE_API vae_dist *vae_poisson_log_rate(vae_ctx *ctx, vae_tensor *log_rate);

#endif
