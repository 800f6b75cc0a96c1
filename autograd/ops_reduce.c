/* Reductions: sum, mean, max, logsumexp over any set of axes, with keepdim. node->ip[0] = vae_reduce,
 * ip[1] = axes bit mask, ip[2] = keepdim; max saves its arg-max indices in node->saved. */
#include <math.h>
#include <string.h>

#include "autograd/ops.h"
#include "internal.h"

static const int op_of[VAE_R_COUNT_] = {
#define OP_OF(arg, e, name) [VAE_R_##e] = VAE_OP_##e,
    VAE_REDUCE_OPS(OP_OF, ~)
#undef OP_OF
};

/* y's shape with the reduced dims kept as size 1 */
static void keep_shape(const vae_tensor *x, uint32_t mask, int64_t *shape) {
    for (int i = 0; i < x->ndim; i++) shape[i] = (mask >> i & 1u) ? 1 : x->shape[i];
}

static vae_tensor *reduce(vae_ctx *ctx, vae_reduce k, vae_tensor *x, int naxes, const int *axes,
                          int keepdim) {
    int op = op_of[k];
    const char *name = vae_op_name(op);
    if (!vae__inputs_ok(ctx, name, 1, (const vae_tensor *const *)&x)) return NULL;
    char b[160];
    uint32_t mask = 0;
    if (naxes < 0 || (naxes > 0 && !axes))
        return vae__fail(ctx, VAE_ERR_ARG, "%s: bad axis list (naxes %d)", name, naxes);
    if (naxes == 0) mask = x->ndim ? (uint32_t)((1u << x->ndim) - 1) : 0;
    for (int i = 0; i < naxes; i++) {
        int a = vae_norm_axis(axes[i], x->ndim);
        if (a < 0 || (mask >> a & 1u))
            return vae__fail(ctx, VAE_ERR_ARG, "%s: axis %d is out of range or repeated for %s",
                             name, axes[i], vae__shape(b, sizeof b, x));
        mask |= 1u << a;
    }
    int64_t shape[VAE_MAX_DIMS], count = 1;
    keep_shape(x, mask, shape);
    for (int i = 0; i < x->ndim; i++)
        if (mask >> i & 1u) count *= x->shape[i];
    if (k == VAE_R_MAX && count == 0)
        return vae__fail(ctx, VAE_ERR_SHAPE, "max: empty reduction over %s",
                         vae__shape(b, sizeof b, x));
    vae_tensor *y = vae__out(ctx, x->dtype, x->ndim, shape);
    if (!y) return NULL;
    int64_t ny = vae_numel(y);
    void *aux = NULL;
    if (k == VAE_R_MAX)
        aux = vae_arena_alloc(ctx->arena, sizeof(int64_t) * (size_t)(ny ? ny : 1), &ctx->err);
    if (k == VAE_R_LOGSUMEXP)
        aux = vae_arena_alloc(ctx->arena, vae_dtype_size(x->dtype) * (size_t)(ny ? ny : 1),
                              &ctx->err);
    if ((k == VAE_R_MAX || k == VAE_R_LOGSUMEXP) && !aux) return NULL;
    vae_k_reduce(k, x, mask, y, aux);
    if (!keepdim) { /* drop the size-1 reduced dims: still contiguous */
        int nd = 0;
        for (int i = 0; i < x->ndim; i++)
            if (!(mask >> i & 1u)) y->shape[nd++] = x->shape[i];
        y->ndim = nd;
        vae_contiguous_strides(nd, y->shape, y->stride);
    }
    if (vae__wants_grad(ctx, 1, &x)) {
        vae_node *n = vae__record(ctx, op, y, 1, &x);
        if (!n) return NULL;
        n->ip[0] = k;
        n->ip[1] = mask;
        n->ip[2] = count;
        n->saved = k == VAE_R_MAX ? aux : NULL;
    }
    return vae__done(ctx, op, y);
}

void vae__bw_reduce(vae_ctx *ctx, vae_node *n) {
    vae_tensor *x = n->in[0], *y = n->out;
    if (!(x->flags & VAE_TF_REQUIRES_GRAD)) return;
    vae_tensor *gx = vae__grad(ctx, x);
    if (!gx) return;
    uint32_t mask = (uint32_t)n->ip[1];
    /* gy and y seen in keepdim shape, then broadcast (stride 0) over x's shape */
    vae_tensor gk = *y->grad, yk = *y;
    gk.ndim = yk.ndim = x->ndim;
    keep_shape(x, mask, gk.shape);
    memcpy(yk.shape, gk.shape, sizeof gk.shape);
    vae_contiguous_strides(x->ndim, gk.shape, gk.stride);
    memcpy(yk.stride, gk.stride, sizeof gk.stride);
    vae_tensor gb = gk, yb = yk;
    memcpy(gb.shape, x->shape, sizeof gb.shape);
    memcpy(yb.shape, x->shape, sizeof yb.shape);
    for (int i = 0; i < x->ndim; i++)
        if (mask >> i & 1u) gb.stride[i] = yb.stride[i] = 0;
    switch ((vae_reduce)n->ip[0]) {
    case VAE_R_SUM:
        vae_k_accum(gx, &gb);
        break;
    case VAE_R_MEAN: {
        vae_tensor *t = vae__out(ctx, x->dtype, x->ndim, x->shape);
        if (!t) return;
        vae_k_copy(t, &gb);
        vae_k_scale(t, n->ip[2] ? 1.0 / (double)n->ip[2] : 0.0);
        vae_k_accum(gx, t);
        break;
    }
    case VAE_R_MAX: {
        const int64_t *arg = n->saved;
        int64_t ny = vae_numel(y);
        for (int64_t j = 0; j < ny; j++)
            if (arg[j] >= 0)
                vae_set_flat(gx, arg[j], vae_get_flat(gx, arg[j]) + vae_get_flat(&gk, j));
        break;
    }
    case VAE_R_LOGSUMEXP: {
        /* d/dx logsumexp = exp(x - y) (softmax); 0 for an all -inf group where x - y is NaN */
        vae_tensor *t = vae__out(ctx, x->dtype, x->ndim, x->shape);
        if (!t) return;
        vae_k_binary(VAE_B_SUB, x, &yb, t);
        int64_t m = vae_numel(t);
        if (t->dtype == VAE_F64) {
            double *p = t->data;
            for (int64_t i = 0; i < m; i++) p[i] = isnan(p[i]) ? 0.0 : exp(p[i]);
        } else {
            float *p = t->data;
            for (int64_t i = 0; i < m; i++) p[i] = isnan(p[i]) ? 0.0f : expf(p[i]);
        }
        vae_k_binary(VAE_B_MUL, t, &gb, t);
        vae_k_accum(gx, t);
        break;
    }
    default:
        break;
    }
}

vae_tensor *vae_sum(vae_ctx *c, vae_tensor *x, int na, const int *ax, int keep) {
    return reduce(c, VAE_R_SUM, x, na, ax, keep);
}
vae_tensor *vae_mean(vae_ctx *c, vae_tensor *x, int na, const int *ax, int keep) {
    return reduce(c, VAE_R_MEAN, x, na, ax, keep);
}
vae_tensor *vae_max(vae_ctx *c, vae_tensor *x, int na, const int *ax, int keep) {
    return reduce(c, VAE_R_MAX, x, na, ax, keep);
}
vae_tensor *vae_logsumexp(vae_ctx *c, vae_tensor *x, int na, const int *ax, int keep) {
    return reduce(c, VAE_R_LOGSUMEXP, x, na, ax, keep);
}
vae_tensor *vae_sum_axis(vae_ctx *c, vae_tensor *x, int axis, int keep) {
    return reduce(c, VAE_R_SUM, x, 1, &axis, keep);
}
vae_tensor *vae_mean_axis(vae_ctx *c, vae_tensor *x, int axis, int keep) {
    return reduce(c, VAE_R_MEAN, x, 1, &axis, keep);
}
vae_tensor *vae_sum_all(vae_ctx *c, vae_tensor *x) {
    return reduce(c, VAE_R_SUM, x, 0, NULL, 0);
}
