/* Ops along one axis: softmax, log-softmax, cumsum. Each builder and its backward sit together; the kernels are in
 * tensor/kernels_axis.c. node->ip[0] = axis (normalized), ip[1] = log (softmax) / exclusive (cumsum). */
#include "autograd/ops.h"
#include "internal.h"
#include "tensor/kernels_axis.h"

/* The axis of x named by `axis` (negative counts from the end), or -1 after recording VAE_ERR_ARG. */
static int axis_or_fail(vae_ctx *ctx, const char *name, vae_tensor *x, int axis) {
    int a = vae_norm_axis(axis, x->ndim);
    if (a < 0 || x->ndim == 0) {
        char b[160];
        vae__fail(ctx, VAE_ERR_ARG, "%s: axis %d is out of range for %s", name, axis,
                  vae__shape(b, sizeof b, x));
        return -1;
    }
    return a;
}

/* ---- softmax / log_softmax: x (..., n, ...) -> y of x's shape, normalized along `axis` ----
 * forward   y = exp(x - m) / sum exp(x - m)       (m = max along the axis)     log: y = x - m - log sum exp(x - m)
 * backward  gx += y * (gy - sum(gy * y))                                       log: gx += gy - exp(y) * sum(gy) */

static vae_tensor *softmax(vae_ctx *ctx, int op, vae_tensor *x, int axis) {
    const char *name = vae_op_name(op);
    if (!vae__inputs_ok(ctx, name, 1, (const vae_tensor *const *)&x)) return NULL;
    int a = axis_or_fail(ctx, name, x, axis), log = op == VAE_OP_LOG_SOFTMAX;
    if (a < 0) return NULL;
    vae_tensor *y = vae__out(ctx, x->dtype, x->ndim, x->shape);
    if (!y) return NULL;
    vae_k_softmax(x, a, log, y);
    if (vae__wants_grad(ctx, 1, &x)) {
        vae_node *n = vae__record(ctx, op, y, 1, &x);
        if (!n) return NULL;
        n->ip[0] = a;
        n->ip[1] = log;
    }
    return vae__done(ctx, op, y);
}

void vae__bw_softmax(vae_ctx *ctx, vae_node *n) {
    vae_tensor *x = n->in[0];
    if (!(x->flags & VAE_TF_REQUIRES_GRAD)) return;
    vae_tensor *gx = vae__grad(ctx, x); /* contiguous, x's shape = y's shape */
    if (gx) vae_k_softmax_grad((int)n->ip[0], (int)n->ip[1], n->out, n->out->grad, gx);
}

vae_tensor *vae_softmax(vae_ctx *ctx, vae_tensor *x, int axis) {
    return softmax(ctx, VAE_OP_SOFTMAX, x, axis);
}
vae_tensor *vae_log_softmax(vae_ctx *ctx, vae_tensor *x, int axis) {
    return softmax(ctx, VAE_OP_LOG_SOFTMAX, x, axis);
}

/* ---- cumsum: y_i = sum_{j <= i} x_j along `axis` (exclusive: j < i) ----
 * backward  gx_j += sum_{i >= j} gy_i (exclusive: i > j): the same sum run from the end */

vae_tensor *vae_cumsum(vae_ctx *ctx, vae_tensor *x, int axis, int exclusive) {
    if (!vae__inputs_ok(ctx, "cumsum", 1, (const vae_tensor *const *)&x)) return NULL;
    int a = axis_or_fail(ctx, "cumsum", x, axis);
    if (a < 0) return NULL;
    vae_tensor *y = vae__out(ctx, x->dtype, x->ndim, x->shape);
    if (!y) return NULL;
    vae_k_cumsum(x, a, exclusive != 0, 0, y, 0);
    if (vae__wants_grad(ctx, 1, &x)) {
        vae_node *n = vae__record(ctx, VAE_OP_CUMSUM, y, 1, &x);
        if (!n) return NULL;
        n->ip[0] = a;
        n->ip[1] = exclusive != 0;
    }
    return vae__done(ctx, VAE_OP_CUMSUM, y);
}

void vae__bw_cumsum(vae_ctx *ctx, vae_node *n) {
    vae_tensor *x = n->in[0];
    if (!(x->flags & VAE_TF_REQUIRES_GRAD)) return;
    vae_tensor *gx = vae__grad(ctx, x);
    if (gx) vae_k_cumsum(n->out->grad, (int)n->ip[0], (int)n->ip[1], 1, gx, 1);
}
