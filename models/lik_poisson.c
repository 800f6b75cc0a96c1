/* The Poisson likelihood for count data, in one file: the distribution and its likelihood "poisson" (registered as
 * a built-in in likelihood.c). No backward code.
 *
 *   p(x | rate) = rate^x e^(-rate) / x!,   rate = exp(l) (l = the decoder's output: the log link of a GLM)
 *   log p(x)    = x l - exp(l) - lgamma(x + 1)
 *   E[x] = rate
 *
 * param[0] = log-rate l, param[1] = rate. x should hold non-negative integers; other values get the same formula
 * (a smooth extension through lgamma), not an error.
 */
#include <math.h>

#include "autograd/ops.h"
#include "models/dist_builtin.h"
#include "models/dist_internal.h"
#include "models/likelihood.h"
#include "tensor/special.h"

static vae_tensor *poisson_log_prob(vae_ctx *ctx, const vae_dist *d, vae_tensor *x) {
    vae_tensor *t = vae_sub(ctx, vae_mul(ctx, x, d->param[0]), d->param[1]);
    return vae_dist_sum_event(ctx, d, vae_sub(ctx, t, vae_lgamma(ctx, vae_add_scalar(ctx, x, 1))));
}

/* One draw: inversion by sequential search for rate < 10, else Hormann's transformed rejection (PTRS, 1993). */
static double poisson_draw(vae_rng *r, double mu) {
    if (!(mu > 0)) return 0;
    if (mu < 10) {
        double u = vae_rng_uniform(r), p = exp(-mu), cdf = p, k = 0;
        while (u > cdf && k < 1000) {
            k += 1;
            p *= mu / k;
            cdf += p;
        }
        return k;
    }
    const double smu = sqrt(mu), b = 0.931 + 2.53 * smu, a = -0.059 + 0.02483 * b;
    const double inv_alpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2),
                 lmu = log(mu);
    for (;;) {
        double U = vae_rng_uniform(r) - 0.5, V = vae_rng_uniform_pos(r), us = 0.5 - fabs(U);
        double k = floor((2 * a / us + b) * U + mu + 0.43);
        if (us >= 0.07 && V <= vr) return k;
        if (k < 0 || (us < 0.013 && V > us)) continue;
        if (log(V) + log(inv_alpha) - log(a / (us * us) + b) <= -mu + k * lmu - vae__lgamma(k + 1))
            return k;
    }
}

/* Not reparameterizable (discrete); d->eps is left NULL. */
static vae_tensor *poisson_sample(vae_ctx *ctx, vae_dist *d, int64_t k) {
    int64_t shape[VAE_MAX_DIMS];
    int nd = vae_dist_sample_shape(ctx, d, k, shape);
    vae_tensor *rate = vae_dist_param_full(ctx, d, 1);
    if (nd < 0 || !rate) return NULL;
    vae_tensor *x = vae_zeros(ctx, rate->dtype, nd, shape);
    if (!x) return NULL;
    vae_rng *rng = vae_ctx_rng(ctx);
    int64_t n = vae_numel(rate);
    for (int64_t i = 0, m = vae_numel(x); i < m; i++)
        vae_set_flat(x, i, poisson_draw(rng, vae_get_flat(rate, i % n)));
    d->eps = NULL;
    return x;
}

static vae_tensor *poisson_mean(vae_ctx *ctx, const vae_dist *d) {
    return vae_dist_param_full(ctx, d, 1);
}

const vae_dist_ops vae_poisson_ops = {
    .name = "poisson",
    .log_prob = poisson_log_prob,
    .sample = poisson_sample,
    .rsample = NULL,
    .mean = poisson_mean,
    .entropy = NULL, /* an infinite series: not offered */
    .detached = vae_dist_detach_params,
};

vae_dist *vae_poisson_log_rate(vae_ctx *ctx, vae_tensor *log_rate) {
    if (!ctx || !log_rate) return NULL;
    vae_tensor *p[2] = {log_rate, vae_exp(ctx, log_rate)};
    return p[1] ? vae_dist_new(ctx, &vae_poisson_ops, 2, p) : NULL;
}

/* The likelihood: decoder output (..., D) = log-rate. */
vae_dist *vae__lik_poisson_make(vae_ctx *ctx, vae_tensor *out, const double *opts) {
    (void)opts;
    return vae_poisson_log_rate(ctx, out);
}
