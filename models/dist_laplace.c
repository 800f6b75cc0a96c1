/* Laplace(loc, b) with b = exp(log-scale): param[0] = loc, param[1] = log b, param[2] = b. */
#include <math.h>

#include "autograd/ops.h"
#include "models/dist_builtin.h"

#define LOG2 0.69314718055994530942

/* log p(x) = -|x - mu| / b - log b - log 2, summed over the event (not differentiable in x or mu at
 * x = mu). */
static vae_tensor *laplace_log_prob(vae_ctx *ctx, const vae_dist *d, vae_tensor *x) {
    vae_tensor *r = vae_div(ctx, vae_abs(ctx, vae_sub(ctx, x, d->param[0])), d->param[2]);
    vae_tensor *t = vae_sub(ctx, vae_neg(ctx, r), d->param[1]);
    return vae_dist_sum_event(ctx, d, vae_add_scalar(ctx, t, -LOG2));
}

/* z = mu + b * e with e the standard Laplace by the inverse CDF: for u ~ U(0,1),
 * e = F^-1(u) = log(2u) when u < 1/2, else -log(2(1 - u)). */
static vae_tensor *laplace_rsample(vae_ctx *ctx, vae_dist *d, int64_t k) {
    int64_t shape[VAE_MAX_DIMS];
    int nd = vae_dist_sample_shape(ctx, d, k, shape);
    if (nd < 0) return NULL;
    vae_tensor *e = vae_zeros(ctx, d->param[0]->dtype, nd, shape);
    if (!e) return NULL;
    vae_rng *rng = vae_ctx_rng(ctx);
    for (int64_t i = 0, n = vae_numel(e); i < n; i++) {
        double u = vae_rng_uniform_pos(rng); /* in (0,1): both logs finite */
        vae_set_flat(e, i, u < 0.5 ? log(2 * u) : -log(2 * (1 - u)));
    }
    d->eps = e;
    return vae_add(ctx, d->param[0], vae_mul(ctx, d->param[2], e));
}

static vae_tensor *laplace_mean(vae_ctx *ctx, const vae_dist *d) {
    return vae_dist_param_full(ctx, d, 0);
}

/* H = sum over the event of 1 + log 2 + log b. */
static vae_tensor *laplace_entropy(vae_ctx *ctx, const vae_dist *d) {
    return vae_dist_sum_event(ctx, d,
                              vae_add_scalar(ctx, vae_dist_param_full(ctx, d, 1), 1 + LOG2));
}

const vae_dist_ops vae_laplace_ops = {
    .name = "laplace",
    .log_prob = laplace_log_prob,
    .sample = laplace_rsample,
    .rsample = laplace_rsample,
    .mean = laplace_mean,
    .entropy = laplace_entropy,
    .detached = vae_dist_detach_params,
};

vae_dist *vae_laplace(vae_ctx *ctx, vae_tensor *loc, vae_tensor *log_scale) {
    if (!ctx || !loc || !log_scale) return NULL;
    vae_tensor *p[3] = {loc, log_scale, vae_exp(ctx, log_scale)};
    return p[2] ? vae_dist_new(ctx, &vae_laplace_ops, 3, p) : NULL;
}
