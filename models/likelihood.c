/* The likelihood registry and the built-in likelihoods. */
#include "models/likelihood.h"

#include <string.h>

#include "autograd/ops.h"
#include "models/dist_builtin.h"
#include "models/dist_internal.h"

#define USER_SLOTS 32

vae_status vae_likelihood_split(vae_ctx *ctx, const char *who, vae_tensor *out, int n,
                                vae_tensor **parts) {
    if (!ctx) return VAE_ERR_NULL;
    vae_error *err = vae_ctx_error(ctx);
    if (!out || !parts) return vae_error_set(err, VAE_ERR_NULL, "%s: NULL decoder output", who);
    if (n < 1 || n > VAE_LIK_MAX_PARAMS)
        return vae_error_set(err, VAE_ERR_ARG, "%s: split in %d parts; need 1..%d", who, n,
                             VAE_LIK_MAX_PARAMS);
    int64_t last = out->ndim ? out->shape[out->ndim - 1] : 0;
    if (out->ndim == 0 || last % n) {
        char b[160];
        return vae_error_set(err, VAE_ERR_SHAPE,
                             "%s: decoder output %s: last dim is not a multiple of %d", who,
                             vae_shape_str(b, sizeof b, out->ndim, out->shape), n);
    }
    vae_tensor *p[VAE_LIK_MAX_PARAMS] = {0};
    int64_t D = last / n;
    for (int i = 0; i < n; i++)
        if (!(p[i] = vae_slice(ctx, out, -1, i * D, (i + 1) * D, 1))) return vae_ctx_status(ctx);
    memcpy(parts, p, sizeof(vae_tensor *) * (size_t)n);
    return VAE_OK;
}

static vae_dist *make_bernoulli(vae_ctx *ctx, vae_tensor *out, const double *opts) {
    (void)opts;
    return vae_bernoulli_logits(ctx, out);
}

static vae_dist *make_gaussian(vae_ctx *ctx, vae_tensor *out, const double *opts) {
    return vae_gaussian_fixed(ctx, out,
                              opts && opts[0] > 0 ? opts[0] : 1.0); /* sigma; 0 = default 1 */
}

static vae_dist *make_gaussian_learned(vae_ctx *ctx, vae_tensor *out, const double *opts) {
    (void)opts;
    vae_tensor *p[2];
    if (vae_likelihood_split(ctx, "gaussian-learned", out, 2, p)) return NULL;
    return vae_normal_logvar(ctx, p[0], p[1]);
}

static vae_dist *make_laplace(vae_ctx *ctx, vae_tensor *out, const double *opts) {
    (void)opts;
    vae_tensor *p[2];
    if (vae_likelihood_split(ctx, "laplace", out, 2, p)) return NULL;
    return vae_laplace(ctx, p[0], p[1]);
}

static vae_dist *make_cbernoulli(vae_ctx *ctx, vae_tensor *out, const double *opts) {
    (void)opts;
    return vae_cbernoulli_logits(ctx, out);
}

static const vae_likelihood builtins[] = {
    {"bernoulli", 1, make_bernoulli, "Bernoulli from logits (binary data); mean = sigmoid(logits)"},
    {"gaussian", 1, make_gaussian,
     "Gaussian with fixed sigma = opts[0] (default 1); decoder gives the mean"},
    {"gaussian-learned", 2, make_gaussian_learned, "Gaussian; decoder gives mean | log-variance"},
    {"laplace", 2, make_laplace, "Laplace; decoder gives loc | log-scale"},
    {"cbernoulli", 1, make_cbernoulli, "continuous Bernoulli from logits (data in [0,1])"},
    {"beta", 2, vae__lik_beta_make,
     "Beta (data in (0,1), clamped to [eps, 1-eps], eps = opts[0], default 1e-4); decoder gives a | b before "
     "softplus"},
    {"poisson", 1, vae__lik_poisson_make, "Poisson (count data); decoder gives the log-rate"},
};
#define NBUILTIN ((int)(sizeof builtins / sizeof builtins[0]))

static const vae_likelihood *user[USER_SLOTS];
static int nuser;

const vae_likelihood *vae_likelihood_find(const char *name) {
    if (!name) return NULL;
    for (int i = 0; i < NBUILTIN; i++)
        if (!strcmp(builtins[i].name, name)) return &builtins[i];
    for (int i = 0; i < nuser; i++)
        if (!strcmp(user[i]->name, name)) return user[i];
    return NULL;
}

vae_status vae_likelihood_register(const vae_likelihood *lik) {
    if (!lik || !lik->name || !lik->name[0] || !lik->make || lik->params_per_dim < 1 ||
        lik->params_per_dim > VAE_LIK_MAX_PARAMS)
        return VAE_ERR_ARG;
    if (vae_likelihood_find(lik->name)) return VAE_ERR_ARG;
    if (nuser == USER_SLOTS) return VAE_ERR_OOM;
    user[nuser++] = lik;
    return VAE_OK;
}

int vae_likelihood_list(const vae_likelihood **out, int max) {
    int total = NBUILTIN + nuser;
    for (int i = 0; out && i < max && i < total; i++)
        out[i] = i < NBUILTIN ? &builtins[i] : user[i - NBUILTIN];
    return total;
}

vae_dist *vae_likelihood_make(vae_ctx *ctx, const vae_likelihood *lik, vae_tensor *out,
                              const double *opts) {
    if (!ctx || !out) return NULL;
    if (!lik || !lik->make) {
        vae_error_set(vae_ctx_error(ctx), VAE_ERR_NULL, "likelihood: NULL likelihood");
        return NULL;
    }
    int64_t last = out->ndim ? out->shape[out->ndim - 1] : 0;
    if (out->ndim == 0 || last % lik->params_per_dim) {
        char b[160];
        vae_error_set(vae_ctx_error(ctx), VAE_ERR_SHAPE,
                      "likelihood %s: decoder output %s: last dim is not a multiple of %d",
                      lik->name, vae_shape_str(b, sizeof b, out->ndim, out->shape),
                      lik->params_per_dim);
        return NULL;
    }
    return lik->make(ctx, out, opts);
}

vae_tensor *vae_likelihood_mean(vae_ctx *ctx, const vae_likelihood *lik, vae_tensor *out,
                                const double *opts) {
    return vae_dist_mean(ctx, vae_likelihood_make(ctx, lik, out, opts));
}
