/* likelihood_student_t.c - a worked example: a new likelihood in one file, with no backward code.
 *
 * The Student-t likelihood is a heavy-tailed alternative to the Gaussian for real-valued data with
 * outliers. The decoder outputs (..., 2D) = loc | log-scale; the degrees of freedom nu are fixed
 * (opts[0], default 4).
 *
 * Three steps:
 *   1. the distribution's functions, composed from differentiable ops (autograd supplies
 *      every gradient);
 *   2. a vae_dist_ops table naming them, and a constructor;
 *   3. a vae_likelihood descriptor and a function that registers it, after which
 *      vae_likelihood_find("student-t") finds it like a built-in;
 *   4. (optional) the plugin entry point, so that the same file builds as a shared object that
 *      any program loads at run time (meson builds examples/likelihood_student_t.so):
 *        cc -shared -fPIC $(pkg-config --cflags vae) likelihood_student_t.c -o student_t.so
 *        vae_plugin_load("./student_t.so", &err)     (or: vae eval --plugin ./student_t.so)
 *      The `vae` CLI links this file in and registers it at start-up instead.
 */
#include <math.h>

#include "vae.h"

/* Prototypes (a real project would put them in a header). */
vae_dist *vae_student_t(vae_ctx *ctx, vae_tensor *loc, vae_tensor *log_scale, double df);
vae_status vae_likelihood_student_t_register(void);

/* ---- 1. the distribution ----
 * param[0] = loc mu, param[1] = log-scale s, param[2] = scale sigma = exp(s); c[0] = nu,
 * c[1] = lgamma((nu+1)/2) - lgamma(nu/2) - log(nu pi)/2 (nu is fixed: computed once, in C). */

/* log p(x) = c1 - log sigma - (nu+1)/2 log(1 + ((x - mu)/sigma)^2 / nu), summed over the event. */
static vae_tensor *student_t_log_prob(vae_ctx *ctx, const vae_dist *d, vae_tensor *x) {
    double nu = d->c[0];
    vae_tensor *r = vae_div(ctx, vae_sub(ctx, x, d->param[0]), d->param[2]); /* (x - mu) / sigma */
    vae_tensor *tail =
        vae_log1p(ctx, vae_mul_scalar(ctx, vae_square(ctx, r), 1 / nu)); /* log(1 + r^2/nu) */
    vae_tensor *t = vae_sub(ctx, vae_mul_scalar(ctx, tail, -(nu + 1) / 2), d->param[1]);
    return vae_dist_sum_event(ctx, d, vae_add_scalar(ctx, t, d->c[1]));
}

/* z = mu + sigma * T, T ~ t(nu) by Bailey's polar method: (u, v) uniform in the unit disc,
 * w = u^2 + v^2, T = u sqrt(nu (w^(-2/nu) - 1) / w). T is the recorded noise, so the gradient
 * reaches mu and sigma. */
static vae_tensor *student_t_rsample(vae_ctx *ctx, vae_dist *d, int64_t k) {
    int64_t shape[VAE_MAX_DIMS];
    int nd = vae_dist_sample_shape(ctx, d, k, shape);
    if (nd < 0) return NULL;
    vae_tensor *T = vae_zeros(ctx, d->param[0]->dtype, nd, shape);
    if (!T) return NULL;
    vae_rng *rng = vae_ctx_rng(ctx);
    double nu = d->c[0];
    for (int64_t i = 0, n = vae_numel(T); i < n; i++) {
        double u, v, w;
        do {
            u = 2 * vae_rng_uniform(rng) - 1;
            v = 2 * vae_rng_uniform(rng) - 1;
            w = u * u + v * v;
        } while (w >= 1 || w == 0);
        vae_set_flat(T, i, u * sqrt(nu * (pow(w, -2 / nu) - 1) / w));
    }
    d->eps = T;
    return vae_add(ctx, d->param[0], vae_mul(ctx, d->param[2], T));
}

/* The mean is mu (for nu > 1; it does not exist otherwise, and mu is still the natural picture). */
static vae_tensor *student_t_mean(vae_ctx *ctx, const vae_dist *d) {
    return vae_dist_param_full(ctx, d, 0);
}

/* ---- 2. the ops table and a constructor ---- */

static const vae_dist_ops student_t_ops = {
    .name = "student_t",
    .log_prob = student_t_log_prob,
    .sample = student_t_rsample, /* vae_dist_sample runs it without a gradient path */
    .rsample = student_t_rsample,
    .mean = student_t_mean,
    .entropy = NULL, /* needs the digamma function: not offered, vae_dist_entropy says so */
    .detached = vae_dist_detach_params,
};

/* Student-t(loc, exp(log_scale), df); NULL with the error in ctx (VAE_ERR_ARG unless df is finite
 * and > 0). */
vae_dist *vae_student_t(vae_ctx *ctx, vae_tensor *loc, vae_tensor *log_scale, double df) {
    if (!ctx || !loc || !log_scale) return NULL;
    if (!(df > 0) || !isfinite(df)) {
        vae_error_set(vae_ctx_error(ctx), VAE_ERR_ARG, "student_t: df %g must be finite and > 0",
                      df);
        return NULL;
    }
    vae_tensor *p[3] = {loc, log_scale, vae_exp(ctx, log_scale)};
    vae_dist *d = p[2] ? vae_dist_new(ctx, &student_t_ops, 3, p) : NULL;
    if (d) {
        d->c[0] = df;
        d->c[1] = lgamma((df + 1) / 2) - lgamma(df / 2) - 0.5 * log(df * 3.14159265358979323846);
    }
    return d;
}

/* ---- 3. the likelihood: decoder output (..., 2D) = loc | log-scale ---- */

static vae_dist *make_student_t(vae_ctx *ctx, vae_tensor *decoder_out, const double *opts) {
    vae_tensor *p[2];
    if (vae_likelihood_split(ctx, "student-t", decoder_out, 2, p)) return NULL;
    return vae_student_t(ctx, p[0], p[1], opts && opts[0] > 0 ? opts[0] : 4.0); /* 0 = default */
}

static const vae_likelihood student_t_likelihood = {
    .name = "student-t",
    .params_per_dim = 2,
    .make = make_student_t,
    .help = "Student-t with df = opts[0] (default 4); decoder gives loc | log-scale",
};

/* Make "student-t" available by name; VAE_ERR_ARG when it is already registered. */
vae_status vae_likelihood_student_t_register(void) {
    return vae_likelihood_register(&student_t_likelihood);
}

/* ---- 4. the plugin entry point (models/plugin.h) ---- */

VAE_API vae_status VAE_PLUGIN_INIT(vae_error *err) {
    if (vae_likelihood_student_t_register())
        return vae_error_set(err, VAE_ERR_ARG, "\"student-t\" is registered already");
    return VAE_OK;
}
