/* Bernoulli from logits l (p = sigmoid(l)): param[0] = logits. */
#include <math.h>

#include "autograd/ops.h"
#include "models/dist_builtin.h"
#include "models/dist_internal.h"

/* log p(x) = x log p + (1 - x) log(1 - p) = -x softplus(-l) - (1 - x) softplus(l), summed over the event: no
 * log(0) for any l, and no cancellation when l saturates (the equal x l - softplus(l) gives 0 for x = 1,
 * l = 36 in f64 instead of -2.3e-16). */
vae_tensor *vae__bernoulli_lp_terms(vae_ctx *ctx, vae_tensor *l, vae_tensor *x) {
    vae_tensor *t1 = vae_mul(ctx, x, vae_softplus(ctx, vae_neg(ctx, l)));
    vae_tensor *t0 = vae_mul(ctx, vae_add_scalar(ctx, vae_neg(ctx, x), 1.0), vae_softplus(ctx, l));
    return vae_neg(ctx, vae_add(ctx, t1, t0));
}

static vae_tensor *bernoulli_log_prob(vae_ctx *ctx, const vae_dist *d, vae_tensor *x) {
    vae_tensor *l = d->param[0];
    /* one event dim (the usual (..., D) pixels): the fused op does it in one pass, one tape node */
    if (d->event_ndim == 1) return vae_bernoulli_logits_lp(ctx, l, x);
    return vae_dist_sum_event(ctx, d, vae__bernoulli_lp_terms(ctx, l, x));
}

vae_tensor *vae__logits_sample(vae_ctx *ctx, vae_dist *d, int64_t k,
                               double (*icdf)(double logit, double u)) {
    int64_t shape[VAE_MAX_DIMS];
    int nd = vae_dist_sample_shape(ctx, d, k, shape);
    if (nd < 0) return NULL;
    vae_tensor *l = d->param[0];
    vae_tensor *u = vae_rand(ctx, l->dtype, nd, shape);
    vae_tensor *x = vae_zeros(ctx, l->dtype, nd, shape);
    if (!u || !x) return NULL;
    int64_t n = vae_numel(l);
    /* particle i / n reads the same logits */
    for (int64_t i = 0, m = vae_numel(x); i < m; i++)
        vae_set_flat(x, i, icdf(vae_get_flat(l, i % n), vae_get_flat(u, i)));
    d->eps = u;
    return x;
}

/* x = [u < sigmoid(l)]. */
static double bernoulli_icdf(double l, double u) {
    return u < 1 / (1 + exp(-l)) ? 1.0 : 0.0;
}

static vae_tensor *bernoulli_sample(vae_ctx *ctx, vae_dist *d, int64_t k) {
    return vae__logits_sample(ctx, d, k, bernoulli_icdf);
}

static vae_tensor *bernoulli_mean(vae_ctx *ctx, const vae_dist *d) {
    return vae_sigmoid(ctx, d->param[0]);
}

/* H = -p log p - (1 - p) log(1 - p) = softplus(l) - l sigmoid(l), summed over the event. */
/* H = -q log q - (1 - q) log(1 - q) = q softplus(-l) + (1 - q) softplus(l), q = sigmoid(l) = exp(-softplus(-l)),
 * 1 - q = exp(-softplus(l)): two non-negative terms. The shorter softplus(l) - l sigmoid(l) cancels when the logit
 * saturates (l = 30: 30 + 9e-14 - 30 + 3e-12 for an entropy of 2.9e-12). */
static vae_tensor *bernoulli_entropy(vae_ctx *ctx, const vae_dist *d) {
    vae_tensor *l = d->param[0];
    vae_tensor *sp = vae_softplus(ctx, l), *spn = vae_softplus(ctx, vae_neg(ctx, l));
    vae_tensor *t = vae_add(ctx, vae_mul(ctx, vae_exp(ctx, vae_neg(ctx, spn)), spn),
                            vae_mul(ctx, vae_exp(ctx, vae_neg(ctx, sp)), sp));
    return vae_dist_sum_event(ctx, d, t);
}

const vae_dist_ops vae_bernoulli_ops = {
    .name = "bernoulli",
    .log_prob = bernoulli_log_prob,
    .sample = bernoulli_sample,
    .rsample = NULL, /* discrete: no reparameterization */
    .mean = bernoulli_mean,
    .entropy = bernoulli_entropy,
    .detached = vae_dist_detach_params,
};

vae_dist *vae_bernoulli_logits(vae_ctx *ctx, vae_tensor *logits) {
    if (!ctx || !logits) return NULL;
    return vae_dist_new(ctx, &vae_bernoulli_ops, 1, &logits);
}
