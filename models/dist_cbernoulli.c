/* Continuous Bernoulli on [0,1] (Loaiza-Ganem & Cunningham 2019) from logits l,
 * lambda = sigmoid(l): param[0] = logits.
 *
 *   p(x | lambda) = C(lambda) lambda^x (1 - lambda)^(1 - x),
 *   C(lambda) = 2 artanh(1 - 2 lambda) / (1 - 2 lambda)  (lambda != 1/2),  C(1/2) = 2.
 *
 * In logits everything simplifies: 1 - 2 lambda = -tanh(l/2) and 2 artanh(1 - 2 lambda) = -l, so
 *   C = l / tanh(l/2) = 2 u coth u,  u = l/2  (even in l),
 *   E[x] = (1 + coth u - 1/u) / 2.
 * Both exact forms cancel catastrophically (and divide 0 by 0) near l = 0, so inside a small
 * window |l| < w their Taylor series are used instead, selected with where(). Each branch is fed
 * inputs that are safe for it (the "double where"), so the branch that is not chosen never
 * produces NaN/Inf in value or gradient.
 */
#include <math.h>

#include "autograd/ops.h"
#include "models/dist_builtin.h"
#include "models/dist_internal.h"

#define LOG2 0.69314718055994530942

/* Half-width of the Taylor window in logits. The exact form's relative error grows like eps_machine
 * / l^2 near 0 and the truncated series' like u^10 (log C) or u^9 (mean), so the crossover sits
 * where both are below the dtype's rounding: f64 |l| < 0.1 (series error ~2e-16), f32 |l| < 0.5
 * (~2e-9, exact-form error ~1e-6). */
static double window(vae_dtype dt) {
    return dt == VAE_F64 ? 0.1 : 0.5;
}

/* A constant 0/1 tensor (l's shape): 1 where |l| < w. It carries no gradient, as a branch selector
 * should not. */
static vae_tensor *small_mask(vae_ctx *ctx, vae_tensor *l) {
    vae_tensor *m = vae_zeros(ctx, l->dtype, l->ndim, l->shape);
    if (!m) return NULL;
    double w = window(l->dtype);
    for (int64_t i = 0, n = vae_numel(l); i < n; i++)
        vae_set_flat(m, i, fabs(vae_get_flat(l, i)) < w);
    return m;
}

/* Branch inputs: |l| kept away from 0 for the exact form (1 inside the window), u = l/2 kept small
 * for the series (0 outside the window). */
static void branch_inputs(vae_ctx *ctx, vae_tensor *l, vae_tensor *small, vae_tensor **a_ok,
                          vae_tensor **u_ok) {
    vae_dtype dt = l->dtype;
    *a_ok = vae_where(ctx, small, vae_scalar(ctx, dt, 1.0), vae_abs(ctx, l));
    *u_ok = vae_mul_scalar(ctx, vae_where(ctx, small, l, vae_scalar(ctx, dt, 0.0)), 0.5);
}

/* log C(l) = log(a) - log tanh(a/2), a = |l|; near 0:
 * log C = log 2 + u^2/3 - 7u^4/90 + 62u^6/2835 - 127u^8/18900 + O(u^10), u = l/2. */
vae_tensor *vae_cbernoulli_log_norm(vae_ctx *ctx, vae_tensor *l) {
    if (!ctx || !l) return NULL;
    vae_tensor *small = small_mask(ctx, l), *a, *u;
    if (!small) return NULL;
    branch_inputs(ctx, l, small, &a, &u);
    vae_tensor *exact =
        vae_sub(ctx, vae_log(ctx, a), vae_log(ctx, vae_tanh(ctx, vae_mul_scalar(ctx, a, 0.5))));
    vae_tensor *v = vae_square(ctx, u);
    vae_tensor *s = vae_add_scalar(ctx, vae_mul_scalar(ctx, v, -127.0 / 18900), 62.0 / 2835);
    s = vae_add_scalar(ctx, vae_mul(ctx, s, v), -7.0 / 90);
    s = vae_add_scalar(ctx, vae_mul(ctx, s, v), 1.0 / 3);
    s = vae_add_scalar(ctx, vae_mul(ctx, s, v), LOG2);
    return vae_where(ctx, small, s, exact);
}

/* E[x] = (1 + L(u)) / 2 with the Langevin function L(u) = coth u - 1/u, u = l/2; near 0:
 * L(u) = u/3 - u^3/45 + 2u^5/945 - u^7/4725 + O(u^9). */
static vae_tensor *cb_mean(vae_ctx *ctx, const vae_dist *d) {
    vae_tensor *l = d->param[0];
    vae_tensor *small = small_mask(ctx, l), *a, *u;
    if (!small) return NULL;
    branch_inputs(ctx, l, small, &a, &u);
    /* exact branch on l itself with |l| replaced by 1 inside the window: sign matters for L (odd)
     */
    vae_tensor *h = vae_mul_scalar(ctx, vae_where(ctx, small, a, l), 0.5);
    vae_tensor *one = vae_scalar(ctx, l->dtype, 1.0);
    vae_tensor *exact = vae_sub(ctx, vae_div(ctx, one, vae_tanh(ctx, h)), vae_div(ctx, one, h));
    vae_tensor *v = vae_square(ctx, u);
    vae_tensor *s = vae_add_scalar(ctx, vae_mul_scalar(ctx, v, -1.0 / 4725), 2.0 / 945);
    s = vae_add_scalar(ctx, vae_mul(ctx, s, v), -1.0 / 45);
    s = vae_add_scalar(ctx, vae_mul(ctx, s, v), 1.0 / 3);
    s = vae_mul(ctx, s, u);
    return vae_mul_scalar(ctx, vae_add_scalar(ctx, vae_where(ctx, small, s, exact), 1.0), 0.5);
}

/* log p(x) = x log lambda + (1 - x) log(1 - lambda) + log C = -x softplus(-l) - (1 - x) softplus(l)
 * + log C(l), summed over the event. */
static vae_tensor *cb_log_prob(vae_ctx *ctx, const vae_dist *d, vae_tensor *x) {
    vae_tensor *l = d->param[0];
    vae_tensor *t = vae__bernoulli_lp_terms(ctx, l, x);
    return vae_dist_sum_event(ctx, d, vae_add(ctx, t, vae_cbernoulli_log_norm(ctx, l)));
}

/* log p is linear in x, so H = -E[log p(X)] = -(E[x] l - softplus(l) + log C(l)), summed over the
 * event. */
static vae_tensor *cb_entropy(vae_ctx *ctx, const vae_dist *d) {
    vae_tensor *l = d->param[0];
    vae_tensor *t = vae_sub(ctx, vae_mul(ctx, cb_mean(ctx, d), l), vae_softplus(ctx, l));
    t = vae_add(ctx, t, vae_cbernoulli_log_norm(ctx, l));
    return vae_dist_sum_event(ctx, d, vae_neg(ctx, t));
}

/* Inverse CDF. F(x) = (lambda^x (1 - lambda)^(1 - x) + lambda - 1) / (2 lambda - 1) solves, in
 * logits, to x = log1p(u expm1(l)) / l; for l > 0 rewritten as 1 + log(u + (1 - u) e^-l) / l so e^l
 * cannot overflow. u ~ U[0,1) is recorded as d->eps. */
static double cb_icdf(double l, double u) {
    double x;
    if (fabs(l) < 1e-12)
        x = u; /* uniform at lambda = 1/2; the error of this shortcut is O(l) */
    else if (l > 0)
        x = 1 + log(u + (1 - u) * exp(-l)) / l;
    else
        x = log1p(u * expm1(l)) / l;
    return x < 0 ? 0 : x > 1 ? 1 : x;
}

static vae_tensor *cb_sample(vae_ctx *ctx, vae_dist *d, int64_t k) {
    return vae__logits_sample(ctx, d, k, cb_icdf);
}

const vae_dist_ops vae_cbernoulli_ops = {
    .name = "cbernoulli",
    .log_prob = cb_log_prob,
    .sample = cb_sample,
    .rsample = NULL, /* the inverse CDF is differentiable, but it is not offered as a
                        reparameterization here */
    .mean = cb_mean,
    .entropy = cb_entropy,
    .detached = vae_dist_detach_params,
};

vae_dist *vae_cbernoulli_logits(vae_ctx *ctx, vae_tensor *logits) {
    if (!ctx || !logits) return NULL;
    return vae_dist_new(ctx, &vae_cbernoulli_ops, 1, &logits);
}
