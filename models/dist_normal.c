/* Diagonal Normal (loc + log-scale or log-variance), the standard Normal prior, and the fixed-sigma
 * Gaussian. param[0] = loc, param[1] = log-scale s, param[2] = scale sigma = exp(s); each
 * broadcasts to the shape. */
#include <math.h>

#include "autograd/ops.h"
#include "models/dist_builtin.h"

#define HALF_LOG_2PI 0.91893853320467274178 /* log(2 pi) / 2 */

/* log N(x; mu, sigma) = -((x - mu) / sigma)^2 / 2 - log sigma - log(2 pi) / 2 (the fused op; the same bits as composing
 * it from sub, div, square, ...), summed over the event. x broadcasts against the parameters, so the standard Normal
 * prior (mu a stride-0 zero, log sigma one 0) gives -x^2 / 2 - log(2 pi) / 2 over the distribution's shape. */
static vae_tensor *normal_log_prob(vae_ctx *ctx, const vae_dist *d, vae_tensor *x) {
    return vae_dist_sum_event(ctx, d, vae_normal_logpdf(ctx, x, d->param[0], d->param[1]));
}

vae_tensor *vae_normal_rsample_with(vae_ctx *ctx, vae_dist *d, vae_tensor *eps) {
    if (!ctx || !d || !eps) return NULL;
    if (d->ops != &vae_normal_ops && d->ops != &vae_std_normal_ops) {
        vae_error_set(vae_ctx_error(ctx), VAE_ERR_ARG,
                      "normal.rsample_with: the distribution is %s, not normal", vae_dist_name(d));
        return NULL;
    }
    int64_t shape[VAE_MAX_DIMS];
    int nd = vae_dist_shape(d, shape), fits = eps->ndim >= nd;
    for (int i = 1; fits && i <= nd; i++) fits = eps->shape[eps->ndim - i] == shape[nd - i];
    if (!fits) {
        char b1[160], b2[160];
        vae_error_set(vae_ctx_error(ctx), VAE_ERR_SHAPE,
                      "normal.rsample_with: eps %s does not end with the distribution's shape %s",
                      vae_shape_str(b1, sizeof b1, eps->ndim, eps->shape),
                      vae_shape_str(b2, sizeof b2, nd, shape));
        return NULL;
    }
    if (eps->dtype != d->param[0]->dtype) {
        vae_error_set(vae_ctx_error(ctx), VAE_ERR_DTYPE,
                      "normal.rsample_with: eps is %s but parameters are %s",
                      vae_dtype_name(eps->dtype), vae_dtype_name(d->param[0]->dtype));
        return NULL;
    }
    d->eps = eps;
    /* z = mu + sigma * eps: (k, batch..., event...) when eps has a particle dim; the gradient
     * reaches mu, sigma */
    return vae_add(ctx, d->param[0], vae_mul(ctx, d->param[2], eps));
}

static vae_tensor *normal_rsample(vae_ctx *ctx, vae_dist *d, int64_t k) {
    int64_t shape[VAE_MAX_DIMS];
    int nd = vae_dist_sample_shape(ctx, d, k, shape);
    if (nd < 0) return NULL;
    return vae_normal_rsample_with(ctx, d, vae_randn(ctx, d->param[0]->dtype, nd, shape));
}

static vae_tensor *normal_mean(vae_ctx *ctx, const vae_dist *d) {
    return vae_dist_param_full(ctx, d, 0);
}

/* H = sum over the event of log sigma + (1 + log 2 pi) / 2. */
static vae_tensor *normal_entropy(vae_ctx *ctx, const vae_dist *d) {
    vae_tensor *s = vae_dist_param_full(ctx, d, 1);
    return vae_dist_sum_event(ctx, d, vae_add_scalar(ctx, s, 0.5 + HALF_LOG_2PI));
}

/* The standard Normal's parameters are constants: detaching changes nothing. */
static vae_dist *std_normal_detached(vae_ctx *ctx, const vae_dist *d) {
    (void)ctx;
    return (vae_dist *)d;
}

const vae_dist_ops vae_normal_ops = {
    .name = "normal",
    .log_prob = normal_log_prob,
    .sample = normal_rsample, /* the wrapper's no-grad scope cuts the path */
    .rsample = normal_rsample,
    .mean = normal_mean,
    .entropy = normal_entropy,
    .detached = vae_dist_detach_params,
};

const vae_dist_ops vae_std_normal_ops = {
    .name = "std_normal",
    .log_prob = normal_log_prob,
    .sample = normal_rsample,
    .rsample = normal_rsample,
    .mean = normal_mean,
    .entropy = normal_entropy,
    .detached = std_normal_detached,
};

vae_dist *vae_normal_logscale(vae_ctx *ctx, vae_tensor *loc, vae_tensor *log_scale) {
    if (!ctx || !loc || !log_scale) return NULL;
    vae_tensor *p[3] = {loc, log_scale, vae_exp(ctx, log_scale)};
    return p[2] ? vae_dist_new(ctx, &vae_normal_ops, 3, p) : NULL;
}

vae_dist *vae_normal_logvar(vae_ctx *ctx, vae_tensor *loc, vae_tensor *logvar) {
    if (!ctx || !loc || !logvar) return NULL;
    return vae_normal_logscale(ctx, loc,
                               vae_mul_scalar(ctx, logvar, 0.5)); /* log sigma = log sigma^2 / 2 */
}

vae_dist *vae_std_normal(vae_ctx *ctx, vae_dtype dt, int ndim, const int64_t *shape) {
    if (!ctx) return NULL;
    int64_t n;
    if (!vae_shape_check(vae_ctx_error(ctx), "std_normal", ndim, shape, dt, &n)) return NULL;
    /* loc is a stride-0 view of one zero: an (N, Z) prior costs no (N, Z) memory */
    vae_tensor *p[3] = {vae_expand(ctx, vae_scalar(ctx, dt, 0.0), ndim, shape),
                        vae_scalar(ctx, dt, 0.0), vae_scalar(ctx, dt, 1.0)};
    if (!p[0] || !p[1] || !p[2]) return NULL;
    return vae_dist_new(ctx, &vae_std_normal_ops, 3, p);
}

vae_dist *vae_gaussian_fixed(vae_ctx *ctx, vae_tensor *mean, double sigma) {
    if (!ctx || !mean) return NULL;
    if (!(sigma > 0) || !isfinite(sigma)) {
        vae_error_set(vae_ctx_error(ctx), VAE_ERR_ARG,
                      "gaussian_fixed: sigma %g must be finite and > 0", sigma);
        return NULL;
    }
    return vae_normal_logscale(ctx, mean, vae_scalar(ctx, mean->dtype, log(sigma)));
}
