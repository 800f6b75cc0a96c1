/* Categorical over one-hot events from logits (discrete.h): param[0] = logits (..., N * C), c[0] = C.
 *
 *   log pi_nc = l_nc - logsumexp_c' l_nc'            (each of the N groups of C)
 *   log q(x)  = sum_n sum_c x_nc log pi_nc           (x one-hot: the log mass; x relaxed: its linear extension)
 *   H         = -sum_n sum_c pi_nc log pi_nc
 * Sampling by Gumbel-max: x_n = one_hot(argmax_c (l_nc + g_nc)), g = -log(-log u), u ~ U(0, 1) kept in eps.
 */
#include <math.h>

#include "autograd/ops.h"
#include "models/discrete.h"
#include "models/dist_internal.h"

/* log pi (the logits' shape): l - logsumexp over each group of C, written with existing ops */
static vae_tensor *log_pi(vae_ctx *ctx, const vae_dist *d) {
    vae_tensor *l = d->param[0];
    if (!l) return NULL;
    int64_t C = (int64_t)d->c[VAE_DIST_C_CLASSES], shape[VAE_MAX_DIMS];
    int nd = l->ndim;
    for (int i = 0; i < nd - 1; i++) shape[i] = l->shape[i];
    shape[nd - 1] = l->shape[nd - 1] / C, shape[nd] = C; /* (..., N, C) */
    vae_tensor *g = vae_reshape(ctx, l, nd + 1, shape);
    vae_tensor *lp = vae_sub(ctx, g, vae_logsumexp(ctx, g, 1, (int[]){-1}, 1));
    return vae_reshape(ctx, lp, nd, l->shape);
}

static vae_tensor *categorical_log_prob(vae_ctx *ctx, const vae_dist *d, vae_tensor *x) {
    return vae_dist_sum_event(ctx, d, vae_mul(ctx, x, log_pi(ctx, d)));
}

/* Gumbel-max, one group of C at a time: the particle dim reads the same logits (i % n). */
static vae_tensor *categorical_sample(vae_ctx *ctx, vae_dist *d, int64_t k) {
    int64_t shape[VAE_MAX_DIMS];
    int nd = vae_dist_sample_shape(ctx, d, k, shape);
    if (nd < 0) return NULL;
    vae_tensor *l = vae_dist_param_full(ctx, d, 0);
    vae_tensor *u = l ? vae_rand(ctx, l->dtype, nd, shape) : NULL;
    vae_tensor *x = l ? vae_zeros(ctx, l->dtype, nd, shape) : NULL;
    if (!u || !x) return NULL;
    int64_t C = (int64_t)d->c[VAE_DIST_C_CLASSES], n = vae_numel(l), m = vae_numel(x);
    for (int64_t i0 = 0; i0 < m; i0 += C) {
        int64_t best = 0;
        double bv = -INFINITY;
        for (int64_t c = 0; c < C; c++) {
            double uu = fmax(vae_get_flat(u, i0 + c), 1e-30);
            double v = vae_get_flat(l, (i0 + c) % n) - log(-log(uu));
            if (v > bv) bv = v, best = c;
        }
        vae_set_flat(x, i0 + best, 1.0);
    }
    d->eps = u;
    return x;
}

static vae_tensor *categorical_mean(vae_ctx *ctx, const vae_dist *d) {
    return vae_exp(ctx, log_pi(ctx, d));
}

static vae_tensor *categorical_entropy(vae_ctx *ctx, const vae_dist *d) {
    vae_tensor *lp = log_pi(ctx, d);
    return vae_neg(ctx, vae_dist_sum_event(ctx, d, vae_mul(ctx, vae_exp(ctx, lp), lp)));
}

const vae_dist_ops vae_categorical_ops = {
    .name = "categorical",
    .log_prob = categorical_log_prob,
    .sample = categorical_sample,
    .rsample = NULL, /* discrete: relax it with vae_gumbel_softmax instead */
    .mean = categorical_mean,
    .entropy = categorical_entropy,
    .detached = vae_dist_detach_params,
};

vae_dist *vae_categorical_logits(vae_ctx *ctx, vae_tensor *logits, int64_t classes) {
    if (!ctx || !logits) return NULL;
    if (classes < 2 || logits->ndim < 1 || logits->shape[logits->ndim - 1] % classes != 0) {
        char b[160];
        vae_error_set(
            vae_ctx_error(ctx), VAE_ERR_SHAPE,
            "categorical: logits %s: the last dim must be N groups of C = %lld >= 2 classes",
            vae_shape_str(b, sizeof b, logits->ndim, logits->shape), (long long)classes);
        return NULL;
    }
    vae_dist *d = vae_dist_new(ctx, &vae_categorical_ops, 1, &logits);
    if (d) d->c[VAE_DIST_C_CLASSES] = (double)classes;
    return d;
}
