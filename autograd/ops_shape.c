/* Movement ops. A view's backward replays the same view on the input's (contiguous) gradient buffer and
 * accumulates the output gradient through it: permute <-> inverse permute, slice <-> scatter into the slice,
 * expand <-> sum over the expanded dims (stride 0), reshape/squeeze/unsqueeze <-> reshape. */
#include <string.h>

#include "autograd/ops.h"
#include "internal.h"

/* Put a view (already validated) into the arena and record it. ip holds the op's arguments. */
static vae_tensor *emit_view(vae_ctx *ctx, int op, vae_tensor *x, const vae_tensor *v,
                             const int64_t *ip, int nip) {
    vae_tensor *y = vae_arena_alloc(ctx->arena, sizeof *y, &ctx->err);
    if (!y) return NULL;
    *y = *v;
    if (vae__wants_grad(ctx, 1, &x)) {
        vae_node *n = vae__record(ctx, op, y, 1, &x);
        if (!n) return NULL;
        memcpy(n->ip, ip, sizeof(int64_t) * (size_t)nip);
    }
    return y;
}

static int ok1(vae_ctx *ctx, const char *op, vae_tensor *x) {
    return vae__inputs_ok(ctx, op, 1, (const vae_tensor *const *)&x);
}

vae_tensor *vae_reshape(vae_ctx *ctx, vae_tensor *x, int ndim, const int64_t *shape) {
    if (!ok1(ctx, "reshape", x)) return NULL;
    if (ndim > 0 && !shape) return vae__fail(ctx, VAE_ERR_NULL, "reshape: NULL shape");
    vae_tensor v;
    int64_t sh[VAE_MAX_DIMS];
    vae_status s = vae_view_reshape(x, ndim, shape, &v, sh, &ctx->err);
    int64_t ip[VAE_MAX_DIMS + 1] = {ndim};
    if (s == VAE_ERR_UNSUPPORTED) { /* strides forbid a view: copy, then view the copy */
        vae_tensor *c = vae__out(ctx, x->dtype, x->ndim, x->shape);
        if (!c) return NULL;
        vae_k_copy(c, x);
        if (vae_view_reshape(c, ndim, shape, &v, sh, &ctx->err) != VAE_OK) return NULL;
        v.root = c; /* the copy owns the storage */
    } else if (s != VAE_OK)
        return NULL;
    memcpy(ip + 1, sh, sizeof(int64_t) * (size_t)ndim);
    return emit_view(ctx, VAE_OP_RESHAPE, x, &v, ip, ndim + 1);
}

vae_tensor *vae_permute(vae_ctx *ctx, vae_tensor *x, const int *perm) {
    if (!ok1(ctx, "permute", x)) return NULL;
    if (!perm && x->ndim) return vae__fail(ctx, VAE_ERR_NULL, "permute: NULL perm");
    vae_tensor v;
    if (vae_view_permute(x, perm, &v, &ctx->err) != VAE_OK) return NULL;
    int64_t ip[VAE_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++) ip[i] = perm[i];
    return emit_view(ctx, VAE_OP_PERMUTE, x, &v, ip, x->ndim);
}

vae_tensor *vae_transpose(vae_ctx *ctx, vae_tensor *x, int d0, int d1) {
    if (!ok1(ctx, "transpose", x)) return NULL;
    int a = vae_norm_axis(d0, x->ndim), c = vae_norm_axis(d1, x->ndim);
    if (a < 0 || c < 0) {
        char b[160];
        return vae__fail(ctx, VAE_ERR_ARG, "transpose: axes (%d,%d) out of range for %s", d0, d1,
                         vae__shape(b, sizeof b, x));
    }
    int perm[VAE_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++) perm[i] = i;
    perm[a] = c;
    perm[c] = a;
    return vae_permute(ctx, x, perm);
}

vae_tensor *vae_slice(vae_ctx *ctx, vae_tensor *x, int axis, int64_t start, int64_t stop,
                      int64_t step) {
    if (!ok1(ctx, "slice", x)) return NULL;
    vae_tensor v;
    if (vae_view_slice(x, axis, start, stop, step, &v, &ctx->err) != VAE_OK) return NULL;
    int ax = vae_norm_axis(axis, x->ndim);
    /* normalized start, so backward can replay with plain arguments */
    int64_t st = (v.offset - x->offset) / (x->stride[ax] ? x->stride[ax] : 1);
    if (x->stride[ax] == 0) st = start < 0 ? start + x->shape[ax] : start;
    /* the tightest stop (last index + 1): st + shape * step could overflow for a huge step */
    int64_t ip[4] = {ax, st, v.shape[ax] ? st + (v.shape[ax] - 1) * step + 1 : st, step};
    return emit_view(ctx, VAE_OP_SLICE, x, &v, ip, 4);
}

vae_tensor *vae_expand(vae_ctx *ctx, vae_tensor *x, int ndim, const int64_t *shape) {
    if (!ok1(ctx, "expand", x)) return NULL;
    if (ndim > 0 && !shape) return vae__fail(ctx, VAE_ERR_NULL, "expand: NULL shape");
    vae_tensor v;
    if (vae_view_expand(x, ndim, shape, &v, &ctx->err) != VAE_OK) return NULL;
    int64_t ip[VAE_MAX_DIMS + 1] = {ndim};
    memcpy(ip + 1, v.shape, sizeof(int64_t) * (size_t)ndim);
    return emit_view(ctx, VAE_OP_EXPAND, x, &v, ip, ndim + 1);
}

vae_tensor *vae_squeeze(vae_ctx *ctx, vae_tensor *x, int axis) {
    if (!ok1(ctx, "squeeze", x)) return NULL;
    vae_tensor v;
    if (vae_view_squeeze(x, axis, &v, &ctx->err) != VAE_OK) return NULL;
    int64_t ip[1] = {vae_norm_axis(axis, x->ndim)};
    return emit_view(ctx, VAE_OP_SQUEEZE, x, &v, ip, 1);
}

vae_tensor *vae_unsqueeze(vae_ctx *ctx, vae_tensor *x, int axis) {
    if (!ok1(ctx, "unsqueeze", x)) return NULL;
    vae_tensor v;
    if (vae_view_unsqueeze(x, axis, &v, &ctx->err) != VAE_OK) return NULL;
    int64_t ip[1] = {vae_norm_axis(axis, x->ndim + 1)};
    return emit_view(ctx, VAE_OP_UNSQUEEZE, x, &v, ip, 1);
}

void vae__bw_view(vae_ctx *ctx, vae_node *n) {
    vae_tensor *x = n->in[0];
    if (!(x->flags & VAE_TF_REQUIRES_GRAD)) return;
    /* A reshape, permute or (un)squeeze maps every element of x to exactly one of the output: when x has no
     * gradient yet, the output's gradient is copied into a fresh one (no zero fill, no read-add-write). A slice
     * or expand covers part of x, or x more than once: those add into a zeroed gradient. */
    int fresh = 0, onto = n->op == VAE_OP_RESHAPE || n->op == VAE_OP_PERMUTE ||
                          n->op == VAE_OP_SQUEEZE || n->op == VAE_OP_UNSQUEEZE;
    vae_tensor *gx = onto ? vae__grad_fresh(ctx, x, &fresh) : vae__grad(ctx, x);
    if (!gx) return;
    vae_tensor gv;
    vae_status s = VAE_OK;
    const int64_t *ip = n->ip;
    switch (n->op) {
    case VAE_OP_RESHAPE:
        s = vae_view_reshape(gx, (int)ip[0], ip + 1, &gv, NULL, &ctx->err);
        break;
    case VAE_OP_PERMUTE: {
        int perm[VAE_MAX_DIMS];
        for (int i = 0; i < x->ndim; i++) perm[i] = (int)ip[i];
        s = vae_view_permute(gx, perm, &gv, &ctx->err);
        break;
    }
    case VAE_OP_SLICE:
        s = vae_view_slice(gx, (int)ip[0], ip[1], ip[2], ip[3], &gv, &ctx->err);
        break;
    case VAE_OP_EXPAND:
        s = vae_view_expand(gx, (int)ip[0], ip + 1, &gv, &ctx->err);
        break;
    case VAE_OP_SQUEEZE:
        s = vae_view_squeeze(gx, (int)ip[0], &gv, &ctx->err);
        break;
    case VAE_OP_UNSQUEEZE:
        s = vae_view_unsqueeze(gx, (int)ip[0], &gv, &ctx->err);
        break;
    default:
        s = VAE_ERR_STATE;
    }
    if (s != VAE_OK) {
        vae_error_set(&ctx->err, VAE_ERR_STATE, "backward of %s: gradient view failed",
                      vae_op_name(n->op));
        return;
    }
    if (fresh)
        vae_k_copy(&gv, n->out->grad);
    else
        vae_k_accum(&gv, n->out->grad);
}

/* ---- copies ---- */

static vae_tensor *copy_op(vae_ctx *ctx, int op, vae_tensor *x, vae_dtype dt) {
    vae_tensor *y = vae__out(ctx, dt, x->ndim, x->shape);
    if (!y) return NULL;
    vae_k_copy(y, x);
    if (vae__wants_grad(ctx, 1, &x) && !vae__record(ctx, op, y, 1, &x)) return NULL;
    return vae__done(ctx, op, y);
}

vae_tensor *vae_contiguous(vae_ctx *ctx, vae_tensor *x) {
    if (!ok1(ctx, "contiguous", x)) return NULL;
    if (vae_is_contiguous(x) && !(x->flags & VAE_TF_READONLY)) return x;
    return copy_op(ctx, VAE_OP_CONTIGUOUS, x, x->dtype);
}

vae_tensor *vae_cast(vae_ctx *ctx, vae_tensor *x, vae_dtype dt) {
    if (!ok1(ctx, "cast", x)) return NULL;
    if (dt != VAE_F32 && dt != VAE_F64)
        return vae__fail(ctx, VAE_ERR_DTYPE, "cast: unknown dtype %d", (int)dt);
    if (x->dtype == dt) return x;
    return copy_op(ctx, VAE_OP_CAST, x, dt);
}

void vae__bw_copy(vae_ctx *ctx, vae_node *n) {
    vae_tensor *x = n->in[0], *gy = n->out->grad;
    if (!(x->flags & VAE_TF_REQUIRES_GRAD)) return;
    if (gy->dtype == x->dtype) {
        vae__accum(ctx, x, gy);
        return;
    }
    vae_tensor *t = vae__out(ctx, x->dtype, x->ndim, x->shape);
    if (!t) return;
    vae_k_copy(t, gy); /* converts the gradient back to x's dtype */
    vae__accum(ctx, x, t);
}

vae_tensor *vae_detach(vae_ctx *ctx, vae_tensor *x) {
    if (!ok1(ctx, "detach", x)) return NULL;
    vae_tensor *y = vae_arena_alloc(ctx->arena, sizeof *y, &ctx->err);
    if (!y) return NULL;
    *y = *x;
    y->flags &= ~(uint32_t)(VAE_TF_REQUIRES_GRAD | VAE_TF_PARAM);
    y->grad = NULL;
    y->node = NULL;
    if (!x->root || x->root == x) y->root = x;
    return y;
}

/* ---- concat / stack: node->ins = inputs, ip[0] = axis ---- */

vae_tensor *vae_concat(vae_ctx *ctx, int n, vae_tensor *const *xs, int axis) {
    if (!ctx) return NULL;
    if (n < 1 || !xs)
        return vae__fail(ctx, VAE_ERR_ARG, "concat: need at least one tensor (got %d)", n);
    if (!vae__inputs_ok(ctx, "concat", n, (const vae_tensor *const *)xs)) return NULL;
    const vae_tensor *x0 = xs[0];
    int ax = vae_norm_axis(axis, x0->ndim);
    char b1[160], b2[160];
    if (ax < 0)
        return vae__fail(ctx, VAE_ERR_ARG, "concat: axis %d out of range for %s", axis,
                         vae__shape(b1, sizeof b1, x0));
    int64_t shape[VAE_MAX_DIMS];
    memcpy(shape, x0->shape, sizeof shape);
    shape[ax] = 0;
    for (int i = 0; i < n; i++) {
        const vae_tensor *x = xs[i];
        if (!vae__same_dtype(ctx, "concat", x0, x)) return NULL;
        int ok = x->ndim == x0->ndim;
        for (int d = 0; ok && d < x0->ndim; d++)
            if (d != ax && x->shape[d] != x0->shape[d]) ok = 0;
        if (!ok)
            return vae__fail(ctx, VAE_ERR_SHAPE, "concat: %s and %s differ outside axis %d",
                             vae__shape(b1, sizeof b1, x0), vae__shape(b2, sizeof b2, x), ax);
        shape[ax] += x->shape[ax];
    }
    vae_tensor *y = vae__out(ctx, x0->dtype, x0->ndim, shape);
    if (!y) return NULL;
    int64_t off = 0;
    for (int i = 0; i < n; i++) {
        vae_tensor part;
        vae_view_slice(y, ax, off, off + xs[i]->shape[ax], 1, &part, &ctx->err);
        vae_k_copy(&part, xs[i]);
        off += xs[i]->shape[ax];
    }
    if (vae__wants_grad(ctx, n, xs)) {
        vae_tensor **ins = vae_arena_alloc(ctx->arena, sizeof *ins * (size_t)n, &ctx->err);
        if (!ins) return NULL;
        memcpy(ins, xs, sizeof *ins * (size_t)n);
        vae_node *node = vae__record(ctx, VAE_OP_CONCAT, y, 0, NULL);
        if (!node) return NULL;
        node->ins = ins;
        node->nin = n;
        node->ip[0] = ax;
    }
    return vae__done(ctx, VAE_OP_CONCAT, y);
}

void vae__bw_concat(vae_ctx *ctx, vae_node *n) {
    int ax = (int)n->ip[0];
    int64_t off = 0;
    for (int i = 0; i < n->nin; i++) {
        vae_tensor *x = n->ins[i];
        vae_tensor part;
        vae_view_slice(n->out->grad, ax, off, off + x->shape[ax], 1, &part, &ctx->err);
        off += x->shape[ax];
        vae__accum(ctx, x, &part);
    }
}

vae_tensor *vae_stack(vae_ctx *ctx, int n, vae_tensor *const *xs, int axis) {
    if (!ctx) return NULL;
    if (n < 1 || !xs)
        return vae__fail(ctx, VAE_ERR_ARG, "stack: need at least one tensor (got %d)", n);
    if (!vae__inputs_ok(ctx, "stack", n, (const vae_tensor *const *)xs)) return NULL;
    vae_tensor **u = vae_arena_alloc(ctx->arena, sizeof *u * (size_t)n, &ctx->err);
    if (!u) return NULL;
    for (int i = 0; i < n; i++) {
        if (!vae_same_shape(xs[i], xs[0])) {
            char b1[160], b2[160];
            return vae__fail(ctx, VAE_ERR_SHAPE, "stack: %s and %s differ",
                             vae__shape(b1, sizeof b1, xs[0]), vae__shape(b2, sizeof b2, xs[i]));
        }
        u[i] = vae_unsqueeze(ctx, xs[i], axis);
        if (!u[i]) return NULL;
    }
    return vae_concat(ctx, n, u, axis);
}
