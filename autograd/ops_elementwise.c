/* Unary and binary elementwise ops and where(): builders and backward. */
#include <string.h>

#include "autograd/ops.h"
#include "internal.h"

/* ---- unary: node->ip[0] = vae_unary, node->p[0..1] = its scalar parameters ---- */

static vae_tensor *unary(vae_ctx *ctx, int op, vae_unary k, vae_tensor *x, double p0, double p1) {
    const char *name = vae_op_name(op);
    if (!vae__inputs_ok(ctx, name, 1, (const vae_tensor *const *)&x)) return NULL;
    vae_tensor *y = vae__out(ctx, x->dtype, x->ndim, x->shape);
    if (!y) return NULL;
    vae_k_unary(k, p0, p1, x, y);
    if (vae__wants_grad(ctx, 1, &x)) {
        vae_node *n = vae__record(ctx, op, y, 1, &x);
        if (!n) return NULL;
        n->ip[0] = k;
        n->p[0] = p0;
        n->p[1] = p1;
    }
    return vae__done(ctx, op, y);
}

void vae__bw_unary(vae_ctx *ctx, vae_node *n) {
    vae_tensor *x = n->in[0];
    if (!(x->flags & VAE_TF_REQUIRES_GRAD)) return;
    vae_tensor *gx = vae__grad(ctx, x);
    if (gx) vae_k_unary_grad((vae_unary)n->ip[0], n->p[0], n->p[1], x, n->out, n->out->grad, gx);
}

vae_tensor *vae_neg(vae_ctx *c, vae_tensor *x) {
    return unary(c, VAE_OP_NEG, VAE_U_NEG, x, 0, 0);
}
vae_tensor *vae_exp(vae_ctx *c, vae_tensor *x) {
    return unary(c, VAE_OP_EXP, VAE_U_EXP, x, 0, 0);
}
vae_tensor *vae_log(vae_ctx *c, vae_tensor *x) {
    return unary(c, VAE_OP_LOG, VAE_U_LOG, x, 0, 0);
}
vae_tensor *vae_log1p(vae_ctx *c, vae_tensor *x) {
    return unary(c, VAE_OP_LOG1P, VAE_U_LOG1P, x, 0, 0);
}
vae_tensor *vae_expm1(vae_ctx *c, vae_tensor *x) {
    return unary(c, VAE_OP_EXPM1, VAE_U_EXPM1, x, 0, 0);
}
vae_tensor *vae_sqrt(vae_ctx *c, vae_tensor *x) {
    return unary(c, VAE_OP_SQRT, VAE_U_SQRT, x, 0, 0);
}
vae_tensor *vae_square(vae_ctx *c, vae_tensor *x) {
    return unary(c, VAE_OP_SQUARE, VAE_U_SQUARE, x, 0, 0);
}
vae_tensor *vae_abs(vae_ctx *c, vae_tensor *x) {
    return unary(c, VAE_OP_ABS, VAE_U_ABS, x, 0, 0);
}
vae_tensor *vae_tanh(vae_ctx *c, vae_tensor *x) {
    return unary(c, VAE_OP_TANH, VAE_U_TANH, x, 0, 0);
}
vae_tensor *vae_sigmoid(vae_ctx *c, vae_tensor *x) {
    return unary(c, VAE_OP_SIGMOID, VAE_U_SIGMOID, x, 0, 0);
}
vae_tensor *vae_relu(vae_ctx *c, vae_tensor *x) {
    return unary(c, VAE_OP_RELU, VAE_U_RELU, x, 0, 0);
}
vae_tensor *vae_softplus(vae_ctx *c, vae_tensor *x) {
    return unary(c, VAE_OP_SOFTPLUS, VAE_U_SOFTPLUS, x, 0, 0);
}
vae_tensor *vae_log_sigmoid(vae_ctx *c, vae_tensor *x) {
    return unary(c, VAE_OP_LOG_SIGMOID, VAE_U_LOG_SIGMOID, x, 0, 0);
}
vae_tensor *vae_elu(vae_ctx *c, vae_tensor *x, double alpha) {
    return unary(c, VAE_OP_ELU, VAE_U_ELU, x, alpha, 0);
}
vae_tensor *vae_leaky_relu(vae_ctx *c, vae_tensor *x, double slope) {
    return unary(c, VAE_OP_LEAKY_RELU, VAE_U_LEAKY_RELU, x, slope, 0);
}
vae_tensor *vae_add_scalar(vae_ctx *c, vae_tensor *x, double v) {
    return unary(c, VAE_OP_ADD_SCALAR, VAE_U_ADD_SCALAR, x, v, 0);
}
vae_tensor *vae_mul_scalar(vae_ctx *c, vae_tensor *x, double v) {
    return unary(c, VAE_OP_MUL_SCALAR, VAE_U_MUL_SCALAR, x, v, 0);
}
vae_tensor *vae_pow_scalar(vae_ctx *c, vae_tensor *x, double p) {
    return unary(c, VAE_OP_POW_SCALAR, VAE_U_POW_SCALAR, x, p, 0);
}
vae_tensor *vae_clamp(vae_ctx *c, vae_tensor *x, double lo, double hi) {
    if (c && x && !(lo <= hi)) {
        char b[160];
        return vae__fail(c, VAE_ERR_ARG, "clamp: %s: lo %g > hi %g", vae__shape(b, sizeof b, x), lo,
                         hi);
    }
    return unary(c, VAE_OP_CLAMP, VAE_U_CLAMP, x, lo, hi);
}
vae_tensor *vae_lgamma(vae_ctx *c, vae_tensor *x) {
    return unary(c, VAE_OP_LGAMMA, VAE_U_LGAMMA, x, 0, 0);
}
vae_tensor *vae_digamma(vae_ctx *c, vae_tensor *x) {
    return unary(c, VAE_OP_DIGAMMA, VAE_U_DIGAMMA, x, 0, 0);
}

/* ---- binary: node->ip[0] = vae_binary ---- */

static int broadcast_or_fail(vae_ctx *ctx, const char *name, const vae_tensor *a,
                             const vae_tensor *b, int *nd, int64_t *shape) {
    if (vae_broadcast_shape(a->ndim, a->shape, b->ndim, b->shape, nd, shape)) return 1;
    char b1[160], b2[160];
    vae__fail(ctx, VAE_ERR_SHAPE, "%s: %s and %s do not broadcast", name,
              vae__shape(b1, sizeof b1, a), vae__shape(b2, sizeof b2, b));
    return 0;
}

static vae_tensor *binary(vae_ctx *ctx, int op, vae_binary k, vae_tensor *a, vae_tensor *b) {
    const char *name = vae_op_name(op);
    vae_tensor *in[2] = {a, b};
    if (!vae__inputs_ok(ctx, name, 2, (const vae_tensor *const *)in)) return NULL;
    if (!vae__same_dtype(ctx, name, a, b)) return NULL;
    int nd;
    int64_t shape[VAE_MAX_DIMS];
    if (!broadcast_or_fail(ctx, name, a, b, &nd, shape)) return NULL;
    vae_tensor *y = vae__out(ctx, a->dtype, nd, shape);
    if (!y) return NULL;
    vae_k_binary(k, a, b, y);
    if (vae__wants_grad(ctx, 2, in)) {
        vae_node *n = vae__record(ctx, op, y, 2, in);
        if (!n) return NULL;
        n->ip[0] = k;
    }
    return vae__done(ctx, op, y);
}

void vae__bw_binary(vae_ctx *ctx, vae_node *n) {
    vae_tensor *y = n->out, *gy = y->grad;
    for (int side = 0; side < 2; side++) {
        vae_tensor *x = n->in[side];
        if (!(x->flags & VAE_TF_REQUIRES_GRAD)) continue;
        /* add/sub with matching shapes need no temporary: accumulate gy (negated for sub's b) directly */
        if (n->ip[0] == VAE_B_ADD || (n->ip[0] == VAE_B_SUB && side == 0)) {
            vae__accum(ctx, x, gy);
            continue;
        }
        vae_tensor *g = vae__out(ctx, y->dtype, y->ndim, y->shape);
        if (!g) return;
        vae_k_binary_grad((vae_binary)n->ip[0], side, n->in[0], n->in[1], y, gy, g);
        vae__accum(ctx, x, g);
    }
}

vae_tensor *vae_add(vae_ctx *c, vae_tensor *a, vae_tensor *b) {
    return binary(c, VAE_OP_ADD, VAE_B_ADD, a, b);
}
vae_tensor *vae_sub(vae_ctx *c, vae_tensor *a, vae_tensor *b) {
    return binary(c, VAE_OP_SUB, VAE_B_SUB, a, b);
}
vae_tensor *vae_mul(vae_ctx *c, vae_tensor *a, vae_tensor *b) {
    return binary(c, VAE_OP_MUL, VAE_B_MUL, a, b);
}
vae_tensor *vae_div(vae_ctx *c, vae_tensor *a, vae_tensor *b) {
    return binary(c, VAE_OP_DIV, VAE_B_DIV, a, b);
}
vae_tensor *vae_maximum(vae_ctx *c, vae_tensor *a, vae_tensor *b) {
    return binary(c, VAE_OP_MAXIMUM, VAE_B_MAXIMUM, a, b);
}
vae_tensor *vae_minimum(vae_ctx *c, vae_tensor *a, vae_tensor *b) {
    return binary(c, VAE_OP_MINIMUM, VAE_B_MINIMUM, a, b);
}

/* ---- where(mask, a, b) ---- */

vae_tensor *vae_where(vae_ctx *ctx, vae_tensor *mask, vae_tensor *a, vae_tensor *b) {
    vae_tensor *in[3] = {mask, a, b};
    if (!vae__inputs_ok(ctx, "where", 3, (const vae_tensor *const *)in)) return NULL;
    if (!vae__same_dtype(ctx, "where", a, b) || !vae__same_dtype(ctx, "where", mask, a))
        return NULL;
    int nd, nd2;
    int64_t s1[VAE_MAX_DIMS], shape[VAE_MAX_DIMS];
    if (!broadcast_or_fail(ctx, "where", a, b, &nd, s1)) return NULL;
    if (!vae_broadcast_shape(mask->ndim, mask->shape, nd, s1, &nd2, shape)) {
        char b1[160], b2[160];
        return vae__fail(ctx, VAE_ERR_SHAPE, "where: mask %s does not broadcast with %s",
                         vae__shape(b1, sizeof b1, mask), vae_shape_str(b2, sizeof b2, nd, s1));
    }
    vae_tensor *y = vae__out(ctx, a->dtype, nd2, shape);
    if (!y) return NULL;
    vae_k_where(mask, a, b, y);
    vae_tensor *grad_in[3] = {NULL, a, b}; /* the mask gets no gradient */
    if (vae__wants_grad(ctx, 3, grad_in) && !vae__record(ctx, VAE_OP_WHERE, y, 3, in)) return NULL;
    return vae__done(ctx, VAE_OP_WHERE, y);
}

void vae__bw_where(vae_ctx *ctx, vae_node *n) {
    for (int side = 0; side < 2; side++) {
        vae_tensor *x = n->in[1 + side];
        if (!(x->flags & VAE_TF_REQUIRES_GRAD)) continue;
        vae_tensor *g = vae__out(ctx, n->out->dtype, n->out->ndim, n->out->shape);
        if (!g) return;
        vae_k_where_grad(n->in[0], side, n->out->grad, g);
        vae__accum(ctx, x, g);
    }
}

/* ---- grad_scale(x, s): y = x; dL/dx += s * dL/dy (s constant, broadcast to x's shape) ---- */

vae_tensor *vae_grad_scale(vae_ctx *ctx, vae_tensor *x, vae_tensor *s) {
    vae_tensor *in[2] = {x, s};
    if (!vae__inputs_ok(ctx, "grad_scale", 2, (const vae_tensor *const *)in)) return NULL;
    if (!vae__same_dtype(ctx, "grad_scale", x, s)) return NULL;
    int nd;
    int64_t shape[VAE_MAX_DIMS];
    if (!vae_broadcast_shape(x->ndim, x->shape, s->ndim, s->shape, &nd, shape) || nd != x->ndim ||
        memcmp(shape, x->shape, sizeof(int64_t) * (size_t)nd) != 0) {
        char b1[160], b2[160];
        return vae__fail(ctx, VAE_ERR_SHAPE, "grad_scale: scale %s does not broadcast to x %s",
                         vae__shape(b1, sizeof b1, s), vae__shape(b2, sizeof b2, x));
    }
    vae_tensor *y = vae__out(ctx, x->dtype, x->ndim, x->shape);
    if (!y) return NULL;
    vae_k_copy(y, x);
    vae_tensor *grad_in[2] = {x, NULL}; /* s is a constant: only x's gradient decides recording */
    if (vae__wants_grad(ctx, 2, grad_in) && !vae__record(ctx, VAE_OP_GRAD_SCALE, y, 2, in))
        return NULL;
    return vae__done(ctx, VAE_OP_GRAD_SCALE, y);
}

void vae__bw_grad_scale(vae_ctx *ctx, vae_node *n) {
    vae_tensor *x = n->in[0];
    if (!(x->flags & VAE_TF_REQUIRES_GRAD)) return;
    vae_tensor *g = vae__out(ctx, n->out->dtype, n->out->ndim, n->out->shape);
    if (!g) return;
    vae_k_binary(VAE_B_MUL, n->out->grad, n->in[1], g); /* s * dL/dy, s broadcast */
    vae__accum(ctx, x, g);
}
