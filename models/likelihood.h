/* likelihood.h - how a decoder's output parameterizes p(x | z), and a registry of them by name.
 *
 * A likelihood turns the decoder output (..., D * params_per_dim) into a distribution over
 * x (..., D): with P parameters per dim the output is split in P blocks of D along the last dim,
 * (first D | second D | ...), P in 1..VAE_LIK_MAX_PARAMS (a mixture of K logistics needs 3K).
 * Built in (name, params per dim: what the decoder outputs):
 *   "bernoulli"        1: logits                         (binary or binarized data)
 *   "gaussian"         1: mean; sigma = opts[0] (0 or NULL: default 1)
 *   "gaussian-learned" 2: mean | log-variance
 *   "laplace"          2: loc | log-scale
 *   "cbernoulli"       1: logits of the continuous Bernoulli (data in [0,1])
 *   "beta"             2: a | b before softplus (data in (0,1); x clamped to [eps, 1-eps], eps = opts[0] or 1e-4)
 *   "poisson"          1: log-rate (count data)
 * A user's file can add one at run time with vae_likelihood_register (see
 * examples/likelihood_student_t.c). The registry is process-wide and not locked: register before
 * starting threads.
 */
#ifndef VAE_LIKELIHOOD_H
#define VAE_LIKELIHOOD_H

#include "models/dist.h"

#define VAE_LIK_MAX_PARAMS 64 /* most decoder outputs per data dim */
#define VAE_LIK_MAX_OPTS   8  /* most likelihood options (vae_net_cfg.lik_opts) */

typedef struct vae_likelihood {
    const char *name;
    int params_per_dim; /* decoder outputs per data dim, 1..VAE_LIK_MAX_PARAMS: 1 (logits/mean),
                           2 (e.g. mean | log-variance), 3K for a mixture of K logistics */
    /* the distribution over x from decoder_out (..., D * params_per_dim); opts may be NULL
     * (defaults), else VAE_LIK_MAX_OPTS values (0 = that option's default) */
    vae_dist *(*make)(vae_ctx *, vae_tensor *decoder_out, const double *opts);
    const char *help; /* one line: the parameters and options */
} vae_likelihood;

/* The likelihood registered under `name`, or NULL when there is none (or name is NULL). */
VAE_API const vae_likelihood *vae_likelihood_find(const char *name);
/* Add a likelihood (the descriptor is kept by pointer: it must outlive its use, e.g. a static).
 * Returns VAE_OK; VAE_ERR_ARG for a NULL or incomplete descriptor (name, make, params_per_dim
 * in 1..VAE_LIK_MAX_PARAMS) or a name already taken; VAE_ERR_OOM when the registry's 32 user slots are full. On
 * failure nothing changes. */
VAE_API vae_status vae_likelihood_register(const vae_likelihood *lik);
/* Store up to max registered likelihoods (built-ins first, then in registration order) in out (may
 * be NULL when max is 0); returns how many exist. */
VAE_API int vae_likelihood_list(const vae_likelihood **out, int max);

/* The distribution over x from decoder_out, checking that its last dim is a multiple of
 * params_per_dim; NULL with VAE_ERR_SHAPE (naming the likelihood and the shape) otherwise, or the
 * likelihood's own error. */
VAE_API vae_dist *vae_likelihood_make(vae_ctx *ctx, const vae_likelihood *lik, vae_tensor *decoder_out,
                              const double *opts);
/* The mean of that distribution, for pictures: sigmoid(logits) for Bernoulli, the CB mean for the
 * continuous Bernoulli, the mean for Gaussians; NULL on failure. */
VAE_API vae_tensor *vae_likelihood_mean(vae_ctx *ctx, const vae_likelihood *lik, vae_tensor *decoder_out,
                                const double *opts);
/* Split decoder_out (..., n * D) along the last dim into n views parts[0..n) of shape (..., D),
 * n in 1..VAE_LIK_MAX_PARAMS. Returns VAE_OK, or the error (also stored in ctx, naming `who` and
 * the shape; parts unchanged) when n is out of range or the last dim is not a multiple of n. */
VAE_API vae_status vae_likelihood_split(vae_ctx *ctx, const char *who, vae_tensor *decoder_out, int n,
                                vae_tensor **parts);

#endif
