/* The distribution wrappers (argument checks shared by every distribution) and the helpers for
 * writing one. */
#include "models/dist.h"

#include <string.h>

#include "autograd/ops.h"
#include "tensor/view.h"

static vae_error *E(vae_ctx *ctx) {
    return vae_ctx_error(ctx);
}

const char *vae_dist_name(const vae_dist *d) {
    return d && d->ops && d->ops->name ? d->ops->name : "(null)";
}

int vae_dist_has_rsample(const vae_dist *d) {
    return d && d->ops && d->ops->rsample;
}

int vae_dist_shape(const vae_dist *d, int64_t *shape) {
    if (!d) return -1;
    int nd = 0;
    for (int i = 0; i < VAE_DIST_MAX_PARAMS; i++) {
        const vae_tensor *p = d->param[i];
        if (!p) continue;
        int64_t out[VAE_MAX_DIMS];
        int nout;
        if (!vae_broadcast_shape(nd, shape, p->ndim, p->shape, &nout, out)) return -1;
        nd = nout;
        memcpy(shape, out, sizeof(int64_t) * (size_t)nd);
    }
    return nd;
}

/* 1 when d is usable (records VAE_ERR_NULL naming `what` for a NULL d with no earlier error); fills
 * its shape. */
static int dist_ok(vae_ctx *ctx, const vae_dist *d, const char *what, int *nd, int64_t *shape) {
    if (!ctx) return 0;
    if (!d || !d->ops) {
        vae_error_set(E(ctx), VAE_ERR_NULL, "dist.%s: NULL distribution", what);
        return 0;
    }
    *nd = vae_dist_shape(d, shape);
    if (*nd < 0) {
        vae_error_set(E(ctx), VAE_ERR_SHAPE, "%s.%s: parameters do not broadcast", vae_dist_name(d),
                      what);
        return 0;
    }
    if (d->event_ndim < 0 || d->event_ndim > *nd) {
        char b[160];
        vae_error_set(E(ctx), VAE_ERR_ARG, "%s.%s: event_ndim %d out of range for shape %s",
                      vae_dist_name(d), what, d->event_ndim,
                      vae_shape_str(b, sizeof b, *nd, shape));
        return 0;
    }
    return 1;
}

vae_tensor *vae_dist_log_prob(vae_ctx *ctx, const vae_dist *d, vae_tensor *x) {
    int nd;
    int64_t shape[VAE_MAX_DIMS];
    if (!dist_ok(ctx, d, "log_prob", &nd, shape)) return NULL;
    if (!x) {
        vae_error_set(E(ctx), VAE_ERR_NULL, "%s.log_prob: NULL x", vae_dist_name(d));
        return NULL;
    }
    char b1[160], b2[160];
    int e = d->event_ndim, fits = x->ndim >= e;
    for (int i = 1; fits && i <= e; i++) fits = x->shape[x->ndim - i] == shape[nd - i];
    int nout;
    int64_t out[VAE_MAX_DIMS];
    if (!fits || !vae_broadcast_shape(x->ndim, x->shape, nd, shape, &nout, out)) {
        vae_error_set(
            E(ctx), VAE_ERR_SHAPE,
            "%s.log_prob: x %s does not fit parameters %s (event: last %d dims must be equal, the "
            "rest must broadcast)",
            vae_dist_name(d), vae_shape_str(b1, sizeof b1, x->ndim, x->shape),
            vae_shape_str(b2, sizeof b2, nd, shape), e);
        return NULL;
    }
    vae_dtype dt = d->param[0] ? d->param[0]->dtype : x->dtype;
    if (x->dtype != dt) {
        vae_error_set(E(ctx), VAE_ERR_DTYPE, "%s.log_prob: x is %s but parameters are %s",
                      vae_dist_name(d), vae_dtype_name(x->dtype), vae_dtype_name(dt));
        return NULL;
    }
    return d->ops->log_prob(ctx, d, x);
}

int vae_dist_sample_shape(vae_ctx *ctx, const vae_dist *d, int64_t k, int64_t *shape) {
    int nd;
    int64_t s[VAE_MAX_DIMS];
    if (!dist_ok(ctx, d, "sample", &nd, s)) return -1;
    if (k < 0) {
        vae_error_set(E(ctx), VAE_ERR_ARG, "%s.sample: k = %lld particles; need k >= 0",
                      vae_dist_name(d), (long long)k);
        return -1;
    }
    if (k > 0 && nd == VAE_MAX_DIMS) {
        vae_error_set(E(ctx), VAE_ERR_SHAPE, "%s.sample: a particle dim would exceed %d dims",
                      vae_dist_name(d), VAE_MAX_DIMS);
        return -1;
    }
    int lead = k > 0;
    if (lead) shape[0] = k;
    memcpy(shape + lead, s, sizeof(int64_t) * (size_t)nd);
    return nd + lead;
}

vae_tensor *vae_dist_sample(vae_ctx *ctx, vae_dist *d, int64_t k) {
    int64_t shape[VAE_MAX_DIMS];
    if (vae_dist_sample_shape(ctx, d, k, shape) < 0) return NULL;
    /* The no-grad scope is what guarantees "no gradient path", whatever the implementation
     * composes. */
    if (!d->ops->sample && !d->ops->rsample) {
        vae_error_set(E(ctx), VAE_ERR_UNSUPPORTED, "%s.sample: no sampler", vae_dist_name(d));
        return NULL;
    }
    int prev = vae_set_grad_enabled(ctx, 0);
    vae_tensor *y = d->ops->sample ? d->ops->sample(ctx, d, k) : d->ops->rsample(ctx, d, k);
    vae_set_grad_enabled(ctx, prev);
    if (y && (y->flags & VAE_TF_REQUIRES_GRAD))
        y = vae_detach(ctx, y); /* e.g. a parameter returned as is */
    return y;
}

vae_tensor *vae_dist_rsample(vae_ctx *ctx, vae_dist *d, int64_t k) {
    int64_t shape[VAE_MAX_DIMS];
    if (vae_dist_sample_shape(ctx, d, k, shape) < 0) return NULL;
    if (!d->ops->rsample) {
        vae_error_set(
            E(ctx), VAE_ERR_UNSUPPORTED,
            "%s.rsample: not reparameterizable (use sample with a score-function estimator)",
            vae_dist_name(d));
        return NULL;
    }
    return d->ops->rsample(ctx, d, k);
}

vae_tensor *vae_dist_mean(vae_ctx *ctx, const vae_dist *d) {
    int nd;
    int64_t shape[VAE_MAX_DIMS];
    if (!dist_ok(ctx, d, "mean", &nd, shape)) return NULL;
    if (!d->ops->mean) {
        vae_error_set(E(ctx), VAE_ERR_UNSUPPORTED, "%s.mean: not available", vae_dist_name(d));
        return NULL;
    }
    return d->ops->mean(ctx, d);
}

vae_tensor *vae_dist_entropy(vae_ctx *ctx, const vae_dist *d) {
    int nd;
    int64_t shape[VAE_MAX_DIMS];
    if (!dist_ok(ctx, d, "entropy", &nd, shape)) return NULL;
    if (!d->ops->entropy) {
        vae_error_set(E(ctx), VAE_ERR_UNSUPPORTED, "%s.entropy: no closed form", vae_dist_name(d));
        return NULL;
    }
    return d->ops->entropy(ctx, d);
}

vae_dist *vae_dist_detached(vae_ctx *ctx, const vae_dist *d) {
    int nd;
    int64_t shape[VAE_MAX_DIMS];
    if (!dist_ok(ctx, d, "detached", &nd, shape)) return NULL;
    return d->ops->detached ? d->ops->detached(ctx, d) : vae_dist_detach_params(ctx, d);
}

/* ---- helpers for writing a distribution ---- */

vae_dist *vae_dist_new(vae_ctx *ctx, const vae_dist_ops *ops, int nparam,
                       vae_tensor *const *param) {
    if (!ctx) return NULL;
    const char *name = ops && ops->name ? ops->name : "dist";
    if (!ops || !ops->log_prob || nparam < 1 || nparam > VAE_DIST_MAX_PARAMS || !param) {
        vae_error_set(E(ctx), VAE_ERR_ARG, "%s: bad distribution definition (%d parameters)", name,
                      nparam);
        return NULL;
    }
    for (int i = 0; i < nparam; i++)
        if (!param[i]) {
            vae_error_set(E(ctx), VAE_ERR_NULL, "%s: parameter %d is NULL", name, i);
            return NULL;
        }
    int nd = 0;
    int64_t shape[VAE_MAX_DIMS];
    for (int i = 0; i < nparam; i++) {
        char b1[160], b2[160];
        const vae_tensor *p = param[i];
        if (p->dtype != param[0]->dtype) {
            vae_error_set(E(ctx), VAE_ERR_DTYPE, "%s: parameter %d is %s but parameter 0 is %s",
                          name, i, vae_dtype_name(p->dtype), vae_dtype_name(param[0]->dtype));
            return NULL;
        }
        int64_t out[VAE_MAX_DIMS];
        int nout;
        if (!vae_broadcast_shape(nd, shape, p->ndim, p->shape, &nout, out)) {
            vae_error_set(E(ctx), VAE_ERR_SHAPE, "%s: parameter %d %s does not broadcast with %s",
                          name, i, vae_shape_str(b1, sizeof b1, p->ndim, p->shape),
                          vae_shape_str(b2, sizeof b2, nd, shape));
            return NULL;
        }
        nd = nout;
        memcpy(shape, out, sizeof out);
    }
    vae_dist *d = vae_arena_calloc(vae_ctx_arena(ctx), sizeof *d, E(ctx));
    if (!d) return NULL;
    d->ops = ops;
    for (int i = 0; i < nparam; i++) d->param[i] = param[i];
    d->event_ndim = nd > 0 ? 1 : 0;
    return d;
}

vae_tensor *vae_dist_sum_event(vae_ctx *ctx, const vae_dist *d, vae_tensor *t) {
    if (!ctx || !d || !t) return NULL;
    int e = d->event_ndim;
    if (e == 0) return t;
    int axes[VAE_MAX_DIMS];
    for (int i = 0; i < e; i++) axes[i] = -1 - i;
    return vae_sum(ctx, t, e, axes, 0);
}

vae_dist *vae_dist_detach_params(vae_ctx *ctx, const vae_dist *d) {
    if (!ctx || !d) return NULL;
    vae_dist *c = vae_arena_alloc(vae_ctx_arena(ctx), sizeof *c, E(ctx));
    if (!c) return NULL;
    *c = *d;
    for (int i = 0; i < VAE_DIST_MAX_PARAMS; i++)
        if (d->param[i] && !(c->param[i] = vae_detach(ctx, d->param[i]))) return NULL;
    return c;
}

vae_tensor *vae_dist_param_full(vae_ctx *ctx, const vae_dist *d, int i) {
    if (!ctx || !d || i < 0 || i >= VAE_DIST_MAX_PARAMS || !d->param[i]) return NULL;
    int64_t shape[VAE_MAX_DIMS];
    int nd = vae_dist_shape(d, shape);
    if (nd < 0) return NULL;
    if (d->param[i]->ndim == nd && !memcmp(d->param[i]->shape, shape, sizeof(int64_t) * (size_t)nd))
        return d->param[i];
    return vae_expand(ctx, d->param[i], nd, shape);
}
