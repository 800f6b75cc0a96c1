/* The Beta likelihood for data in (0,1) (grey-level pixels, proportions), in one file: the distribution, its
 * likelihood "beta" (registered as a built-in in likelihood.c), nothing else. No backward code: every gradient
 * comes from the ops (lgamma's is digamma).
 *
 *   p(x | a, b) = x^(a-1) (1 - x)^(b-1) / B(a, b),   log B(a, b) = lgamma(a) + lgamma(b) - lgamma(a + b)
 *   log p(x)    = (a - 1) log x + (b - 1) log(1 - x) - log B(a, b)
 *   E[x] = a / (a + b)
 *   H    = log B(a, b) - (a - 1) psi(a) - (b - 1) psi(b) + (a + b - 2) psi(a + b)
 *
 * Decoder output (..., 2D) = raw a | raw b, a = softplus(raw a), b = softplus(raw b): positive, smooth, and linear
 * (not exponential) for large outputs, so a saturated unit cannot overflow the concentrations.
 * Data at exactly 0 or 1 (binarized pixels) has log p = +-inf for a, b != 1, so the likelihood clamps x to
 * [eps, 1 - eps] first: eps = opts[0] (--lik-param), default 1e-4. param[0] = a, param[1] = b; c[0] = eps.
 */
#include <math.h>

#include "autograd/ops.h"
#include "models/dist_builtin.h"
#include "models/dist_internal.h"
#include "models/likelihood.h"

#define BETA_EPS_DEFAULT 1e-4

/* log B(a, b) elementwise (the broadcast shape of a and b) */
static vae_tensor *log_beta_fn(vae_ctx *ctx, vae_tensor *a, vae_tensor *b) {
    return vae_sub(ctx, vae_add(ctx, vae_lgamma(ctx, a), vae_lgamma(ctx, b)),
                   vae_lgamma(ctx, vae_add(ctx, a, b)));
}

/* (a - 1) log x + (b - 1) log(1 - x) - log B(a, b), summed over the event; x clamped to [eps, 1 - eps] when
 * eps > 0 (x is data: the clamp's zero gradient outside is harmless). */
static vae_tensor *beta_log_prob(vae_ctx *ctx, const vae_dist *d, vae_tensor *x) {
    vae_tensor *a = d->param[0], *b = d->param[1];
    if (d->c[0] > 0) x = vae_clamp(ctx, x, d->c[0], 1 - d->c[0]);
    vae_tensor *ta = vae_mul(ctx, vae_add_scalar(ctx, a, -1), vae_log(ctx, x));
    vae_tensor *tb = vae_mul(ctx, vae_add_scalar(ctx, b, -1), vae_log1p(ctx, vae_neg(ctx, x)));
    return vae_dist_sum_event(ctx, d, vae_sub(ctx, vae_add(ctx, ta, tb), log_beta_fn(ctx, a, b)));
}

/* log of a Gamma(a, 1) draw (Marsaglia & Tsang 2000; for a < 1 the boost G(a) = G(a + 1) U^(1/a), kept in logs
 * so that a tiny a cannot underflow the draw to 0). */
static double log_gamma_draw(vae_rng *r, double a) {
    double boost = 0;
    if (a < 1) {
        boost = log(vae_rng_uniform_pos(r)) / a;
        a += 1;
    }
    const double dd = a - 1.0 / 3, c = 1 / sqrt(9 * dd);
    for (;;) {
        double z, v;
        do {
            z = vae_rng_normal(r);
            v = 1 + c * z;
        } while (v <= 0);
        v = v * v * v;
        double u = vae_rng_uniform_pos(r);
        if (log(u) < 0.5 * z * z + dd - dd * v + dd * log(v)) return log(dd * v) + boost;
    }
}

/* x = Ga / (Ga + Gb) = sigmoid(log Ga - log Gb), Ga ~ Gamma(a), Gb ~ Gamma(b). Not reparameterized (no rsample):
 * rejection sampling has no fixed noise to replay, so d->eps is left NULL. */
static vae_tensor *beta_sample(vae_ctx *ctx, vae_dist *d, int64_t k) {
    int64_t shape[VAE_MAX_DIMS];
    int nd = vae_dist_sample_shape(ctx, d, k, shape);
    vae_tensor *a = vae_dist_param_full(ctx, d, 0), *b = vae_dist_param_full(ctx, d, 1);
    if (nd < 0 || !a || !b) return NULL;
    vae_tensor *x = vae_zeros(ctx, a->dtype, nd, shape);
    if (!x) return NULL;
    vae_rng *rng = vae_ctx_rng(ctx);
    int64_t n = vae_numel(a); /* particle i / n reads the same parameters */
    for (int64_t i = 0, m = vae_numel(x); i < m; i++) {
        double la = log_gamma_draw(rng, vae_get_flat(a, i % n)),
               lb = log_gamma_draw(rng, vae_get_flat(b, i % n));
        vae_set_flat(x, i, 1 / (1 + exp(lb - la)));
    }
    d->eps = NULL;
    return x;
}

static vae_tensor *beta_mean(vae_ctx *ctx, const vae_dist *d) {
    return vae_div(ctx, d->param[0], vae_add(ctx, d->param[0], d->param[1]));
}

static vae_tensor *beta_entropy(vae_ctx *ctx, const vae_dist *d) {
    vae_tensor *a = d->param[0], *b = d->param[1], *s = vae_add(ctx, a, b);
    vae_tensor *t = vae_sub(ctx, log_beta_fn(ctx, a, b),
                            vae_mul(ctx, vae_add_scalar(ctx, a, -1), vae_digamma(ctx, a)));
    t = vae_sub(ctx, t, vae_mul(ctx, vae_add_scalar(ctx, b, -1), vae_digamma(ctx, b)));
    t = vae_add(ctx, t, vae_mul(ctx, vae_add_scalar(ctx, s, -2), vae_digamma(ctx, s)));
    return vae_dist_sum_event(ctx, d, t);
}

const vae_dist_ops vae_beta_ops = {
    .name = "beta",
    .log_prob = beta_log_prob,
    .sample = beta_sample,
    .rsample = NULL,
    .mean = beta_mean,
    .entropy = beta_entropy,
    .detached = vae_dist_detach_params,
};

vae_dist *vae_beta(vae_ctx *ctx, vae_tensor *a, vae_tensor *b) {
    if (!ctx || !a || !b) return NULL;
    vae_tensor *p[2] = {a, b};
    return vae_dist_new(ctx, &vae_beta_ops, 2, p); /* c[0] = 0: no clamp */
}

/* The likelihood: decoder output (..., 2D) = raw a | raw b. */
vae_dist *vae__lik_beta_make(vae_ctx *ctx, vae_tensor *out, const double *opts) {
    double eps = opts && opts[0] != 0 ? opts[0] : BETA_EPS_DEFAULT;
    if (!(eps > 0 && eps < 0.5)) {
        vae_error_set(vae_ctx_error(ctx), VAE_ERR_ARG, "beta: eps %g (opts[0], --lik-param) must be in (0, 0.5)",
                      eps);
        return NULL;
    }
    vae_tensor *p[2];
    if (vae_likelihood_split(ctx, "beta", out, 2, p)) return NULL;
    vae_dist *d = vae_beta(ctx, vae_softplus(ctx, p[0]), vae_softplus(ctx, p[1]));
    if (d) d->c[0] = eps;
    return d;
}
