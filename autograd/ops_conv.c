/* conv2d and conv_transpose2d (PyTorch's layouts and output sizes), their builders and backward side by side.
 * The kernels (tensor/kernels_conv.c) read x through its strides, so leading dims (K, B, C, H, W) and permuted
 * views cost no copy; the transposed conv's forward is the conv's input gradient and the other way round.
 *   conv2d:           OH = (H + 2p - kh) / s + 1                 (floor)
 *   conv_transpose2d: OH = (H - 1) s - 2p + kh + output_padding  (0 <= output_padding < s) */
#include <string.h>

#include "autograd/ops.h"
#include "internal.h"
#include "tensor/kernels_conv_internal.h"

/* Largest im2col matrix (elements) a recorded conv2d keeps for its backward pass (128 MiB in f32); a larger one is
 * recomputed there. */
#define KEEP_MAX (INT64_C(1) << 25)

/* Record the error and return 0 (for the checks below). */
#define fail0(...) (vae__fail(__VA_ARGS__), 0)

/* Checks shared by both ops (1 = fine; else 0 with the error in ctx). */
static int conv_check(vae_ctx *ctx, const char *op, const vae_tensor *x, const vae_tensor *w,
                      const vae_tensor *b, int transposed, int stride, int padding, int opad) {
    char b1[160], b2[160];
    if (x->ndim < 3)
        return fail0(ctx, VAE_ERR_SHAPE, "%s: x %s and w %s: x must be (..., C, H, W)", op,
                     vae__shape(b1, sizeof b1, x), vae__shape(b2, sizeof b2, w));
    if (w->ndim != 4 || w->shape[2] < 1 || w->shape[3] < 1)
        return fail0(ctx, VAE_ERR_SHAPE, "%s: x %s and w %s: w must be (%s, kh, kw)", op,
                     vae__shape(b1, sizeof b1, x), vae__shape(b2, sizeof b2, w),
                     transposed ? "C, O" : "O, C");
    int64_t C = x->shape[x->ndim - 3], Cw = w->shape[transposed ? 0 : 1];
    if (C != Cw)
        return fail0(ctx, VAE_ERR_SHAPE, "%s: x %s and w %s: x has %lld channels but w takes %lld",
                     op, vae__shape(b1, sizeof b1, x), vae__shape(b2, sizeof b2, w), (long long)C,
                     (long long)Cw);
    if (stride < 1 || padding < 0 || opad < 0 || (transposed && opad >= stride))
        return fail0(ctx, VAE_ERR_ARG,
                     "%s: x %s and w %s: stride %d, padding %d, output_padding %d: need "
                     "stride >= 1, padding >= 0%s",
                     op, vae__shape(b1, sizeof b1, x), vae__shape(b2, sizeof b2, w), stride,
                     padding, opad, transposed ? ", 0 <= output_padding < stride" : "");
    int64_t O = w->shape[transposed ? 1 : 0];
    if (b && (b->ndim != 1 || b->shape[0] != O))
        return fail0(ctx, VAE_ERR_SHAPE, "%s: bias %s does not match w %s (want (%lld))", op,
                     vae__shape(b1, sizeof b1, b), vae__shape(b2, sizeof b2, w), (long long)O);
    if (!vae__same_dtype(ctx, op, x, w) || (b && !vae__same_dtype(ctx, op, w, b))) return 0;
    return 1;
}

/* Build y = act(op(x, w) + b): shapes checked by the caller, output spatial size oh x ow. The activation runs in
 * place on the fresh y, so the node's backward reads act' from its output (node ip[3] = act, p[0] = alpha). */
static vae_tensor *conv_build(vae_ctx *ctx, int op, const char *name, vae_tensor *x, vae_tensor *w,
                              vae_tensor *b, int64_t O, int64_t oh, int64_t ow, int stride,
                              int padding, int opad, vae_act act, double alpha) {
    char b1[160], b2[160];
    if (oh < 1 || ow < 1)
        return vae__fail(ctx, VAE_ERR_SHAPE,
                         "%s: x %s and w %s with stride %d, padding %d: output would be %lldx%lld",
                         name, vae__shape(b1, sizeof b1, x), vae__shape(b2, sizeof b2, w), stride,
                         padding, (long long)oh, (long long)ow);
    vae_tensor *wc = vae_contiguous(ctx, w); /* parameters already are: no copy */
    if (!wc) return NULL;
    int64_t shape[VAE_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[x->ndim - 3] = O;
    shape[x->ndim - 2] = oh;
    shape[x->ndim - 1] = ow;
    vae_tensor *y = vae__out(ctx, x->dtype, x->ndim, shape);
    if (!y) return NULL;
    vae_tensor *rec[3] = {x, wc, b};
    int grad = vae__wants_grad(ctx, 3, rec);
    /* A recorded conv2d whose w needs a gradient keeps its im2col matrix in the arena: backward's dW = gy @ col^T
     * reads it instead of building it again (the matrix is C*kh*kw times x's size; beyond KEEP_MAX, or when the
     * arena cannot hold it, backward recomputes it). */
    void *keep = NULL;
    if (op == VAE_OP_CONV2D && grad && (wc->flags & VAE_TF_REQUIRES_GRAD)) {
        int64_t n = vae__k_conv2d_col_elems(x, wc, y);
        vae_error e = {VAE_OK, ""};
        if (n > 0 && n <= KEEP_MAX)
            keep = vae_arena_alloc(ctx->arena, (size_t)n * vae_dtype_size(x->dtype), &e);
    }
    int rc = op == VAE_OP_CONV2D ? vae__k_conv2d_keep(x, wc, b, y, stride, padding, keep)
                                 : vae_k_conv_transpose2d(x, wc, b, y, stride, padding);
    if (rc)
        return vae__fail(ctx, VAE_ERR_OOM, "%s: x %s: out of memory for the im2col buffers", name,
                         vae__shape(b1, sizeof b1, x));
    if (act != VAE_ACT_IDENTITY) {
        vae_tensor y2 = vae__as_rows(y);
        vae_k_bias_act(&y2, NULL, (vae_kact)act, alpha);
    }
    if (grad) {
        vae_node *nd = vae__record(ctx, op, y, 3, rec);
        if (!nd) return NULL;
        nd->ip[0] = stride;
        nd->ip[1] = padding;
        nd->ip[2] = opad;
        nd->ip[3] = act;
        nd->p[0] = alpha;
        nd->saved = keep; /* conv2d: the im2col matrix, or NULL */
    }
    return vae__done(ctx, op, y);
}

vae_tensor *vae_conv2d(vae_ctx *ctx, vae_tensor *x, vae_tensor *w, vae_tensor *b, int stride,
                       int padding) {
    return vae_conv2d_act(ctx, x, w, b, stride, padding, VAE_ACT_IDENTITY, 0.0);
}

vae_tensor *vae_conv2d_act(vae_ctx *ctx, vae_tensor *x, vae_tensor *w, vae_tensor *b, int stride,
                           int padding, vae_act act, double alpha) {
    vae_tensor *in[2] = {x, w};
    if (!vae__inputs_ok(ctx, "conv2d", 2, (const vae_tensor *const *)in)) return NULL;
    if (!vae__act_ok(ctx, "conv2d", act, alpha)) return NULL;
    if (!conv_check(ctx, "conv2d", x, w, b, 0, stride, padding, 0)) return NULL;
    int64_t H = x->shape[x->ndim - 2] + 2 * (int64_t)padding,
            W = x->shape[x->ndim - 1] + 2 * (int64_t)padding;
    int64_t oh = H < w->shape[2] ? 0 : (H - w->shape[2]) / stride + 1;
    int64_t ow = W < w->shape[3] ? 0 : (W - w->shape[3]) / stride + 1;
    return conv_build(ctx, VAE_OP_CONV2D, "conv2d", x, w, b, w->shape[0], oh, ow, stride, padding,
                      0, act, alpha);
}

vae_tensor *vae_conv_transpose2d(vae_ctx *ctx, vae_tensor *x, vae_tensor *w, vae_tensor *b,
                                 int stride, int padding, int output_padding) {
    return vae_conv_transpose2d_act(ctx, x, w, b, stride, padding, output_padding,
                                    VAE_ACT_IDENTITY, 0.0);
}

vae_tensor *vae_conv_transpose2d_act(vae_ctx *ctx, vae_tensor *x, vae_tensor *w, vae_tensor *b,
                                     int stride, int padding, int output_padding, vae_act act,
                                     double alpha) {
    vae_tensor *in[2] = {x, w};
    if (!vae__inputs_ok(ctx, "conv_transpose2d", 2, (const vae_tensor *const *)in)) return NULL;
    if (!vae__act_ok(ctx, "conv_transpose2d", act, alpha)) return NULL;
    if (!conv_check(ctx, "conv_transpose2d", x, w, b, 1, stride, padding, output_padding))
        return NULL;
    int64_t oh =
        (x->shape[x->ndim - 2] - 1) * stride - 2 * (int64_t)padding + w->shape[2] + output_padding;
    int64_t ow =
        (x->shape[x->ndim - 1] - 1) * stride - 2 * (int64_t)padding + w->shape[3] + output_padding;
    return conv_build(ctx, VAE_OP_CONV_TRANSPOSE2D, "conv_transpose2d", x, w, b, w->shape[1], oh,
                      ow, stride, padding, output_padding, act, alpha);
}

/* Gradients of x, w and b (each when it requires grad), added into their buffers by the kernel; with an
 * activation, of gy * act'(pre) computed from the output first. */
static void conv_backward(vae_ctx *ctx, vae_node *n, int transposed) {
    vae_tensor *x = n->in[0], *w = n->in[1], *b = n->in[2], *y = n->out, *gy = y->grad;
    if ((vae_act)n->ip[3] != VAE_ACT_IDENTITY) {
        vae_tensor *g = vae__out(ctx, y->dtype, y->ndim, y->shape);
        if (!g) return;
        vae_tensor g2 = vae__as_rows(g), y2 = vae__as_rows(y), gy2 = vae__as_rows(gy);
        vae_k_act_grad((vae_kact)n->ip[3], n->p[0], &y2, &gy2, &g2);
        gy = g;
    }
    vae_tensor *gx = NULL, *gw = NULL, *gb = NULL;
    if ((x->flags & VAE_TF_REQUIRES_GRAD) && !(gx = vae__grad(ctx, x))) return;
    if ((w->flags & VAE_TF_REQUIRES_GRAD) && !(gw = vae__grad(ctx, w))) return;
    if (b && (b->flags & VAE_TF_REQUIRES_GRAD) && !(gb = vae__grad(ctx, b))) return;
    int rc = transposed
                 ? vae_k_conv_transpose2d_grad(x, w, gy, gx, gw, gb, n->ip[0], n->ip[1])
                 : vae__k_conv2d_grad_kept(x, w, gy, gx, gw, gb, n->ip[0], n->ip[1], n->saved);
    if (rc) {
        char b1[160];
        vae__fail(ctx, VAE_ERR_OOM, "%s backward: x %s: out of memory for the im2col buffers",
                  transposed ? "conv_transpose2d" : "conv2d", vae__shape(b1, sizeof b1, x));
    }
}

void vae__bw_conv2d(vae_ctx *ctx, vae_node *n) {
    conv_backward(ctx, n, 0);
}

void vae__bw_conv_transpose2d(vae_ctx *ctx, vae_node *n) {
    conv_backward(ctx, n, 1);
}
