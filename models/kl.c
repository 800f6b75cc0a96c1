/* KL divergences: the analytic table, the Monte-Carlo fallback and the per-dimension
 * Normal || N(0, I) KL. */
#include "models/kl.h"

#include <string.h>

#include "autograd/ops.h"
#include "models/dist_builtin.h"
#include "tensor/view.h"

typedef vae_tensor *(*kl_fn)(vae_ctx *ctx, const vae_dist *q, const vae_dist *p);

/* The elementwise KLs below return the broadcast of q's and p's shapes; vae_kl sums the event dims.
 */

/* e^v - 1 - v as expm1(v) - v: never negative, and near v = 0 (a posterior variance close to the prior's) its
 * error is an ulp of v, where (e^v - 1) - v computed as written loses everything to the rounding of e^v near 1
 * (f32, v = -1e-4: -8.3e-9 instead of 5e-9). */
static vae_tensor *expm1_minus(vae_ctx *ctx, vae_tensor *v) {
    return vae_sub(ctx, vae_expm1(ctx, v), v);
}

/* KL(N(mq, sq^2) || N(mp, sp^2)) = log(sp/sq) + (sq^2 + (mq - mp)^2) / (2 sp^2) - 1/2
 *   = ( expm1(v) - v + ((mq - mp)/sp)^2 ) / 2,   v = 2 (lsq - lsp) = log (sq/sp)^2. */
static vae_tensor *kl_normal_normal(vae_ctx *ctx, const vae_dist *q, const vae_dist *p) {
    vae_tensor *v = vae_mul_scalar(ctx, vae_sub(ctx, q->param[1], p->param[1]), 2.0);
    vae_tensor *r = vae_div(ctx, vae_sub(ctx, q->param[0], p->param[0]), p->param[2]);
    return vae_mul_scalar(ctx, vae_add(ctx, expm1_minus(ctx, v), vae_square(ctx, r)), 0.5);
}

/* KL(N(mu, sigma^2) || N(0, 1)) = (sigma^2 + mu^2 - 1)/2 - log sigma = ( expm1(lv) - lv + mu^2 ) / 2,
 * lv = 2 log sigma. */
static vae_tensor *kl_normal_std(vae_ctx *ctx, const vae_dist *q, const vae_dist *p) {
    (void)p;
    vae_tensor *lv = vae_mul_scalar(ctx, q->param[1], 2.0);
    return vae_mul_scalar(ctx, vae_add(ctx, expm1_minus(ctx, lv), vae_square(ctx, q->param[0])),
                          0.5);
}

/* KL(Bern(sigmoid(a)) || Bern(sigmoid(b))) = q (log q - log p) + (1 - q)(log(1 - q) - log(1 - p))
 * with log sigmoid(x) = -softplus(-x), log(1 - sigmoid(x)) = -softplus(x), kept term by term:
 *   q (softplus(-b) - softplus(-a)) + (1 - q)(softplus(b) - softplus(a)),
 *   q = exp(-softplus(-a)), 1 - q = exp(-softplus(a)).
 * The shorter sigmoid(a) (a - b) + softplus(b) - softplus(a) cancels when a logit saturates (a = 30, b = 20:
 * 10 + 20 - 30 for a KL of 2e-9), and so do its gradients (sigmoid(b) - sigmoid(a)); q from exp(-softplus)
 * gives q's derivative as q (1 - q) with 1 - q from its own softplus, not 1 minus a rounded q. */
static vae_tensor *kl_bernoulli(vae_ctx *ctx, const vae_dist *q, const vae_dist *p) {
    vae_tensor *a = q->param[0], *b = p->param[0];
    vae_tensor *spa = vae_softplus(ctx, a), *spna = vae_softplus(ctx, vae_neg(ctx, a));
    vae_tensor *spb = vae_softplus(ctx, b), *spnb = vae_softplus(ctx, vae_neg(ctx, b));
    vae_tensor *qa = vae_exp(ctx, vae_neg(ctx, spna)), *qb = vae_exp(ctx, vae_neg(ctx, spa));
    return vae_add(ctx, vae_mul(ctx, qa, vae_sub(ctx, spnb, spna)),
                   vae_mul(ctx, qb, vae_sub(ctx, spb, spa)));
}

/* t as a (broadcast view of) shape; t itself when it already has it. */
static vae_tensor *expand_to(vae_ctx *ctx, vae_tensor *t, int nd, const int64_t *shape) {
    if (!t || (t->ndim == nd && !memcmp(t->shape, shape, sizeof(int64_t) * (size_t)nd))) return t;
    return vae_expand(ctx, t, nd, shape);
}

static const struct {
    const vae_dist_ops *q, *p;
    kl_fn f;
} kl_table[] = {
    {&vae_normal_ops, &vae_std_normal_ops, kl_normal_std},
    {&vae_normal_ops, &vae_normal_ops, kl_normal_normal},
    {&vae_std_normal_ops, &vae_normal_ops, kl_normal_normal},
    {&vae_std_normal_ops, &vae_std_normal_ops, kl_normal_normal},
    {&vae_bernoulli_ops, &vae_bernoulli_ops, kl_bernoulli},
};

static kl_fn kl_lookup(const vae_dist *q, const vae_dist *p) {
    for (size_t i = 0; i < sizeof kl_table / sizeof kl_table[0]; i++)
        if (kl_table[i].q == q->ops && kl_table[i].p == p->ops) return kl_table[i].f;
    return NULL;
}

/* 1 when q and p can be compared: same dtype, same event ndim and event dims, broadcastable
 * batches. *extra gets how many more batch dims the broadcast batch has than q's. */
static int kl_pair_ok(vae_ctx *ctx, const char *op, const vae_dist *q, const vae_dist *p,
                      int *extra) {
    if (!ctx) return 0;
    if (!q || !p || !q->ops || !p->ops) {
        vae_error_set(vae_ctx_error(ctx), VAE_ERR_NULL, "%s: NULL distribution", op);
        return 0;
    }
    int64_t sq[VAE_MAX_DIMS], sp[VAE_MAX_DIMS], out[VAE_MAX_DIMS];
    int nq = vae_dist_shape(q, sq), np = vae_dist_shape(p, sp), nout = 0, e = q->event_ndim;
    int ok = nq >= 0 && np >= 0 && e == p->event_ndim && e >= 0 && e <= nq && e <= np;
    for (int i = 1; ok && i <= e; i++) ok = sq[nq - i] == sp[np - i];
    ok = ok && vae_broadcast_shape(nq, sq, np, sp, &nout, out);
    if (!ok) {
        char b1[160], b2[160];
        vae_error_set(vae_ctx_error(ctx), VAE_ERR_SHAPE,
                      "%s: %s %s (event dims %d) vs %s %s (event dims %d): event shapes differ or "
                      "batches do not "
                      "broadcast",
                      op, vae_dist_name(q), nq >= 0 ? vae_shape_str(b1, sizeof b1, nq, sq) : "(?)",
                      q->event_ndim, vae_dist_name(p),
                      np >= 0 ? vae_shape_str(b2, sizeof b2, np, sp) : "(?)", p->event_ndim);
        return 0;
    }
    if (q->param[0]->dtype != p->param[0]->dtype) {
        vae_error_set(vae_ctx_error(ctx), VAE_ERR_DTYPE, "%s: %s is %s but %s is %s", op,
                      vae_dist_name(q), vae_dtype_name(q->param[0]->dtype), vae_dist_name(p),
                      vae_dtype_name(p->param[0]->dtype));
        return 0;
    }
    *extra = nout - nq;
    return 1;
}

vae_tensor *vae_kl_mc(vae_ctx *ctx, const vae_dist *q, const vae_dist *p, int64_t mc_samples) {
    int extra;
    if (!kl_pair_ok(ctx, "kl_mc", q, p, &extra)) return NULL;
    if (mc_samples <= 0) {
        vae_error_set(vae_ctx_error(ctx), VAE_ERR_ARG,
                      "kl_mc: %s || %s: mc_samples = %lld; need > 0", vae_dist_name(q),
                      vae_dist_name(p), (long long)mc_samples);
        return NULL;
    }
    vae_dist qs = *q; /* a copy takes the draw's eps, so the caller's q keeps its own */
    vae_tensor *z = vae_dist_has_rsample(q) ? vae_dist_rsample(ctx, &qs, mc_samples)
                                            : vae_dist_sample(ctx, &qs, mc_samples);
    /* z (S, q's shape); when p has more batch dims, insert size-1 dims after S so both log probs
     * broadcast */
    for (int i = 0; i < extra; i++) z = vae_unsqueeze(ctx, z, 1);
    vae_tensor *diff =
        vae_sub(ctx, vae_dist_log_prob(ctx, q, z), vae_dist_log_prob(ctx, p, z)); /* (S, batch) */
    return vae_mean_axis(ctx, diff, 0, 0);
}

vae_tensor *vae_kl(vae_ctx *ctx, const vae_dist *q, const vae_dist *p, int64_t mc_samples,
                   int *used_analytic) {
    int extra;
    if (!kl_pair_ok(ctx, "kl", q, p, &extra)) return NULL;
    kl_fn f = kl_lookup(q, p);
    if (used_analytic) *used_analytic = f != NULL;
    if (f) {
        /* the elementwise KL has the broadcast of the parameters; make it the broadcast of both
         * shapes */
        int64_t sq[VAE_MAX_DIMS], sp[VAE_MAX_DIMS], shape[VAE_MAX_DIMS];
        int nd, nq = vae_dist_shape(q, sq), np = vae_dist_shape(p, sp);
        vae_broadcast_shape(nq, sq, np, sp, &nd, shape);
        return vae_dist_sum_event(ctx, q, expand_to(ctx, f(ctx, q, p), nd, shape));
    }
    if (mc_samples <= 0) {
        vae_error_set(vae_ctx_error(ctx), VAE_ERR_UNSUPPORTED,
                      "kl: no analytic KL for %s || %s and mc_samples = %lld", vae_dist_name(q),
                      vae_dist_name(p), (long long)mc_samples);
        return NULL;
    }
    return vae_kl_mc(ctx, q, p, mc_samples);
}

vae_tensor *vae_kl_normal_std_per_dim(vae_ctx *ctx, const vae_dist *q) {
    if (!ctx || !q) return NULL;
    if (q->ops != &vae_normal_ops && q->ops != &vae_std_normal_ops) {
        vae_error_set(vae_ctx_error(ctx), VAE_ERR_ARG,
                      "kl_normal_std_per_dim: q is %s, need a normal", vae_dist_name(q));
        return NULL;
    }
    int64_t shape[VAE_MAX_DIMS];
    int nd = vae_dist_shape(q, shape);
    return expand_to(ctx, kl_normal_std(ctx, q, NULL), nd, shape);
}
