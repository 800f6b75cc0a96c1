/* Initializers: validate first, then fill in row-major order, so a failure never leaves a half-written tensor. */
#include "init.h"

#include <math.h>

typedef enum { DIST_UNIFORM, DIST_NORMAL, DIST_CONSTANT } dist_kind;

static vae_status check_writable(const char *op, const vae_tensor *t, vae_error *err) {
    if (!t) return vae_error_set(err, VAE_ERR_NULL, "%s: NULL tensor", op);
    if (t->flags & VAE_TF_READONLY)
        return vae_error_set(err, VAE_ERR_ARG, "%s: tensor is a read-only broadcast view", op);
    return VAE_OK;
}

/* Fill t with U(a, b), N(a, b^2) or the constant a. Arguments already validated. */
static void fill(vae_tensor *t, dist_kind k, double a, double b, vae_rng *rng) {
    int64_t n = vae_numel(t);
    for (int64_t i = 0; i < n; i++) {
        double v = k == DIST_UNIFORM  ? a + (b - a) * vae_rng_uniform(rng)
                   : k == DIST_NORMAL ? a + b * vae_rng_normal(rng)
                                      : a;
        vae_set_flat(t, i, v);
    }
}

static vae_status fill_checked(const char *op, vae_tensor *t, dist_kind k, double a, double b,
                               vae_rng *rng, vae_error *err) {
    vae_status st = check_writable(op, t, err);
    if (st) return st;
    if (k != DIST_CONSTANT && !rng) return vae_error_set(err, VAE_ERR_NULL, "%s: NULL rng", op);
    if (!isfinite(a) || !isfinite(b) || (k == DIST_UNIFORM && a > b) || (k == DIST_NORMAL && b < 0))
        return vae_error_set(err, VAE_ERR_ARG, "%s: bad distribution parameters (%g, %g)", op, a,
                             b);
    fill(t, k, a, b, rng);
    return VAE_OK;
}

/* fan_in = shape[0], fan_out = shape[1] of a 2-d (in, out) weight. */
static vae_status fans(const char *op, const vae_tensor *w, double *fin, double *fout,
                       vae_error *err) {
    vae_status st = check_writable(op, w, err);
    if (st) return st;
    if (w->ndim != 2 || w->shape[0] <= 0 || w->shape[1] <= 0) {
        char b[160];
        return vae_error_set(err, VAE_ERR_SHAPE,
                             "%s: weight %s must be 2-d (in, out) with nonzero fans", op,
                             vae_shape_str(b, sizeof b, w->ndim, w->shape));
    }
    *fin = (double)w->shape[0];
    *fout = (double)w->shape[1];
    return VAE_OK;
}

double vae_init_kaiming_gain(double a) {
    return sqrt(2.0 / (1.0 + a * a));
}

vae_status vae_init_uniform(vae_tensor *t, double lo, double hi, vae_rng *rng, vae_error *err) {
    return fill_checked("init_uniform", t, DIST_UNIFORM, lo, hi, rng, err);
}

vae_status vae_init_normal(vae_tensor *t, double mean, double std, vae_rng *rng, vae_error *err) {
    return fill_checked("init_normal", t, DIST_NORMAL, mean, std, rng, err);
}

vae_status vae_init_constant(vae_tensor *t, double v, vae_error *err) {
    return fill_checked("init_constant", t, DIST_CONSTANT, v, 0, NULL, err);
}

vae_status vae_init_xavier_uniform(vae_tensor *w, double gain, vae_rng *rng, vae_error *err) {
    double fi = 0, fo = 0;
    vae_status st = fans("init_xavier_uniform", w, &fi, &fo, err);
    if (st) return st;
    double b = fabs(gain) * sqrt(6.0 / (fi + fo));
    return fill_checked("init_xavier_uniform", w, DIST_UNIFORM, -b, b, rng, err);
}

vae_status vae_init_xavier_normal(vae_tensor *w, double gain, vae_rng *rng, vae_error *err) {
    double fi = 0, fo = 0;
    vae_status st = fans("init_xavier_normal", w, &fi, &fo, err);
    if (st) return st;
    return fill_checked("init_xavier_normal", w, DIST_NORMAL, 0, fabs(gain) * sqrt(2.0 / (fi + fo)),
                        rng, err);
}

vae_status vae_init_kaiming_uniform(vae_tensor *w, double a, vae_rng *rng, vae_error *err) {
    double fi = 0, fo = 0;
    vae_status st = fans("init_kaiming_uniform", w, &fi, &fo, err);
    if (st) return st;
    double b = sqrt(3.0) * vae_init_kaiming_gain(a) / sqrt(fi);
    return fill_checked("init_kaiming_uniform", w, DIST_UNIFORM, -b, b, rng, err);
}

vae_status vae_init_kaiming_normal(vae_tensor *w, double a, vae_rng *rng, vae_error *err) {
    double fi = 0, fo = 0;
    vae_status st = fans("init_kaiming_normal", w, &fi, &fo, err);
    if (st) return st;
    return fill_checked("init_kaiming_normal", w, DIST_NORMAL, 0,
                        vae_init_kaiming_gain(a) / sqrt(fi), rng, err);
}

vae_status vae_init_linear_default(vae_tensor *w, vae_tensor *b, vae_rng *rng, vae_error *err) {
    double fi = 0, fo = 0;
    vae_status st = fans("init_linear_default", w, &fi, &fo, err);
    if (st) return st;
    if (!rng) return vae_error_set(err, VAE_ERR_NULL, "init_linear_default: NULL rng");
    if (b) {
        if ((st = check_writable("init_linear_default", b, err))) return st;
        if (b->ndim != 1 || b->shape[0] != w->shape[1]) {
            char b1[160], b2[160];
            return vae_error_set(err, VAE_ERR_SHAPE,
                                 "init_linear_default: bias %s does not fit weight %s",
                                 vae_shape_str(b1, sizeof b1, b->ndim, b->shape),
                                 vae_shape_str(b2, sizeof b2, w->ndim, w->shape));
        }
    }
    /* kaiming_uniform(a = sqrt(5)): sqrt(3) * sqrt(2 / 6) / sqrt(fan_in) = 1 / sqrt(fan_in) */
    double bound = 1.0 / sqrt(fi);
    fill(w, DIST_UNIFORM, -bound, bound, rng);
    if (b) fill(b, DIST_UNIFORM, -bound, bound, rng);
    return VAE_OK;
}

vae_status vae_init_bias_logit_mean(vae_tensor *bias, const float *data_mean, double eps,
                                    vae_error *err) {
    vae_status st = check_writable("init_bias_logit_mean", bias, err);
    if (st) return st;
    if (!data_mean) return vae_error_set(err, VAE_ERR_NULL, "init_bias_logit_mean: NULL data_mean");
    if (!(eps > 0 && eps < 0.5))
        return vae_error_set(err, VAE_ERR_ARG, "init_bias_logit_mean: eps %g is outside (0, 0.5)",
                             eps);
    int64_t n = vae_numel(bias);
    for (int64_t i = 0; i < n; i++) {
        double p = data_mean[i];
        if (!(p >= eps)) p = eps; /* also maps NaN to eps */
        if (p > 1 - eps) p = 1 - eps;
        vae_set_flat(bias, i, log(p / (1 - p)));
    }
    return VAE_OK;
}
