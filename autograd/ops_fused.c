/* Fused ops for the hot paths of VAE training. Each computes in one pass what the composed form computes in
 * several (and keeps one node on the tape instead of several temporaries); each has a gradcheck row. */
#include <math.h>
#include <string.h>

#include "autograd/ops.h"
#include "internal.h"
#include "tensor/gemm_hint.h"

/* ---- linear: y = act(x @ W + b); node->ip[0] = act, p[0] = alpha ---- */

_Static_assert((int)VAE_ACT_IDENTITY == (int)VAE_KACT_IDENTITY &&
                   (int)VAE_ACT_RELU == (int)VAE_KACT_RELU &&
                   (int)VAE_ACT_TANH == (int)VAE_KACT_TANH &&
                   (int)VAE_ACT_SIGMOID == (int)VAE_KACT_SIGMOID &&
                   (int)VAE_ACT_SOFTPLUS == (int)VAE_KACT_SOFTPLUS &&
                   (int)VAE_ACT_ELU == (int)VAE_KACT_ELU &&
                   (int)VAE_ACT_LEAKY_RELU == (int)VAE_KACT_LEAKY_RELU &&
                   (int)VAE_ACT_COUNT_ == (int)VAE_KACT_COUNT_,
               "vae_act and the kernels' vae_kact must agree");

vae_tensor vae__as_rows(const vae_tensor *t) {
    vae_tensor v = *t;
    int64_t cols = t->ndim ? t->shape[t->ndim - 1] : 1;
    int64_t n = vae_numel(t);
    v.ndim = 2;
    v.shape[0] = cols ? n / cols : 0;
    v.shape[1] = cols;
    v.stride[0] = cols;
    v.stride[1] = 1;
    return v;
}

int vae__act_ok(vae_ctx *ctx, const char *op, int act, double alpha) {
    if (act >= 0 && act < VAE_ACT_COUNT_ &&
        ((act != VAE_ACT_ELU && act != VAE_ACT_LEAKY_RELU) || alpha > 0))
        return 1;
    vae__fail(ctx, VAE_ERR_ARG, "%s: bad activation %d (alpha %g)", op, act, alpha);
    return 0;
}

vae_tensor *vae_linear_act(vae_ctx *ctx, vae_tensor *x, vae_tensor *W, vae_tensor *b, vae_act act,
                           double alpha) {
    vae_tensor *in[3] = {x, W, b};
    if (!vae__inputs_ok(ctx, "linear", 2, (const vae_tensor *const *)in)) return NULL;
    char b1[160], b2[160];
    if (!vae__act_ok(ctx, "linear", act, alpha)) return NULL;
    if (x->ndim < 1 || W->ndim != 2 || x->shape[x->ndim - 1] != W->shape[0])
        return vae__fail(ctx, VAE_ERR_SHAPE, "linear: x %s, W %s: need x (..., in) and W (in, out)",
                         vae__shape(b1, sizeof b1, x), vae__shape(b2, sizeof b2, W));
    if (b && (b->ndim != 1 || b->shape[0] != W->shape[1]))
        return vae__fail(ctx, VAE_ERR_SHAPE, "linear: bias %s does not match W %s",
                         vae__shape(b1, sizeof b1, b), vae__shape(b2, sizeof b2, W));
    if (!vae__same_dtype(ctx, "linear", x, W) || (b && !vae__same_dtype(ctx, "linear", W, b)))
        return NULL;
    vae_tensor *xc =
        vae_contiguous(ctx, x); /* rows of x must fold into one GEMM; usually a no-op */
    vae_tensor *bc = b ? vae_contiguous(ctx, b) : NULL;
    if (!xc || (b && !bc)) return NULL;
    int64_t shape[VAE_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[x->ndim - 1] = W->shape[1];
    vae_tensor *y = vae__out(ctx, x->dtype, x->ndim, shape);
    if (!y) return NULL;
    vae_tensor x2 = vae__as_rows(xc), y2 = vae__as_rows(y);
    /* W's rows are K: each thread sums over the rows it owns (gemm_hint.h) */
    const vae__gemm_hint_kind hint = vae__gemm_hint(VAE__GEMM_KSPLIT);
    vae_k_matmul(&x2, W, &y2, 0.0);
    vae__gemm_hint(hint);
    vae_k_bias_act(y, bc, (vae_kact)act, alpha);
    vae_tensor *rec[3] = {xc, W, bc};
    if (vae__wants_grad(ctx, 3, rec)) {
        vae_node *nd = vae__record(ctx, VAE_OP_LINEAR, y, 3, rec);
        if (!nd) return NULL;
        nd->ip[0] = act;
        nd->p[0] = alpha;
    }
    return vae__done(ctx, VAE_OP_LINEAR, y);
}

void vae__bw_linear(vae_ctx *ctx, vae_node *n) {
    vae_tensor *x = n->in[0], *W = n->in[1], *b = n->in[2], *y = n->out;
    vae_tensor *g =
        y->grad; /* dL/dpre; for the identity that is dL/dy itself, used without a copy */
    if ((vae_kact)n->ip[0] != VAE_KACT_IDENTITY) {
        if (!(g = vae__out(ctx, y->dtype, y->ndim, y->shape))) return;
        vae_k_act_grad((vae_kact)n->ip[0], n->p[0], y, y->grad, g);
    }
    vae_tensor g2 = vae__as_rows(g), x2 = vae__as_rows(x);
    if (b && (b->flags & VAE_TF_REQUIRES_GRAD)) vae__accum(ctx, b, &g2); /* column sums */
    /* dW's rows and dx's columns are W's rows: their tasks run on the threads that own them (gemm_hint.h) */
    const vae__gemm_hint_kind hint = vae__gemm_hint(VAE__GEMM_PINNED);
    if (W->flags & VAE_TF_REQUIRES_GRAD) { /* dW += x^T g: one GEMM over all rows */
        vae_tensor *gW = vae__grad(ctx, W);
        if (!gW) goto done;
        vae_tensor xt = x2;
        xt.shape[0] = x2.shape[1];
        xt.shape[1] = x2.shape[0];
        xt.stride[0] = x2.stride[1];
        xt.stride[1] = x2.stride[0];
        vae_k_matmul(&xt, &g2, gW, 1.0);
    }
    if (x->flags & VAE_TF_REQUIRES_GRAD) { /* dx += g W^T, or dx = g W^T into a fresh gradient */
        int fresh;
        vae_tensor *gx = vae__grad_fresh(ctx, x, &fresh);
        if (!gx) goto done;
        vae_tensor gx2 = vae__as_rows(gx), Wt = *W;
        Wt.shape[0] = W->shape[1];
        Wt.shape[1] = W->shape[0];
        Wt.stride[0] = W->stride[1];
        Wt.stride[1] = W->stride[0];
        vae_k_matmul(&g2, &Wt, &gx2, fresh ? 0.0 : 1.0);
    }
done:
    vae__gemm_hint(hint);
}

/* ---- Bernoulli log-likelihood from logits, summed over the last dim ---- */

/* Broadcast shape of two tensors, and the output shape without its last dim. */
static int lp_shapes(vae_ctx *ctx, const char *op, const vae_tensor *a, const vae_tensor *b,
                     int *nd, int64_t *full) {
    char b1[160], b2[160];
    if (a->ndim < 1 || b->ndim < 1 ||
        !vae_broadcast_shape(a->ndim, a->shape, b->ndim, b->shape, nd, full)) {
        vae__fail(ctx, VAE_ERR_SHAPE, "%s: %s and %s do not broadcast (need (..., D) each)", op,
                  vae__shape(b1, sizeof b1, a), vae__shape(b2, sizeof b2, b));
        return 0;
    }
    return 1;
}

vae_tensor *vae_bernoulli_logits_lp(vae_ctx *ctx, vae_tensor *logits, vae_tensor *x) {
    vae_tensor *in[2] = {logits, x};
    if (!vae__inputs_ok(ctx, "bernoulli_logits_lp", 2, (const vae_tensor *const *)in)) return NULL;
    if (!vae__same_dtype(ctx, "bernoulli_logits_lp", logits, x)) return NULL;
    int nd;
    int64_t full[VAE_MAX_DIMS];
    if (!lp_shapes(ctx, "bernoulli_logits_lp", logits, x, &nd, full)) return NULL;
    vae_tensor *y = vae__out(ctx, logits->dtype, nd - 1, full);
    if (!y) return NULL;
    vae_k_bernoulli_lp(logits, x, y);
    if (vae__wants_grad(ctx, 2, in) && !vae__record(ctx, VAE_OP_BERNOULLI_LOGITS_LP, y, 2, in))
        return NULL;
    return vae__done(ctx, VAE_OP_BERNOULLI_LOGITS_LP, y);
}

void vae__bw_bernoulli_lp(vae_ctx *ctx, vae_node *n) {
    vae_tensor *l = n->in[0], *x = n->in[1], *y = n->out;
    int nd;
    int64_t full[VAE_MAX_DIMS];
    vae_broadcast_shape(l->ndim, l->shape, x->ndim, x->shape, &nd, full);
    if (l->flags & VAE_TF_REQUIRES_GRAD) { /* dl = gy * (x - sigmoid(l)) */
        if (l->ndim == nd && memcmp(l->shape, full, sizeof(int64_t) * (size_t)nd) == 0) {
            int fresh; /* l not broadcast: write or add straight into its gradient */
            vae_tensor *gl = vae__grad_fresh(ctx, l, &fresh);
            if (!gl) return;
            vae_k_bernoulli_lp_grad(l, x, y->grad, gl, !fresh);
        } else {
            vae_tensor *t = vae__out(ctx, l->dtype, nd, full);
            if (!t) return;
            vae_k_bernoulli_lp_grad(l, x, y->grad, t, 0);
            vae__accum(ctx, l, t);
        }
    }
    if (x->flags & VAE_TF_REQUIRES_GRAD) { /* dx = gy * l, gy broadcast along the summed last dim */
        vae_tensor gyb = *y->grad;
        gyb.ndim = nd;
        memcpy(gyb.shape, full, sizeof full);
        vae_contiguous_strides(nd - 1, y->shape, gyb.stride);
        gyb.stride[nd - 1] = 0;
        vae_tensor *t = vae__out(ctx, x->dtype, nd, full);
        if (!t) return;
        vae_k_binary(VAE_B_MUL, l, &gyb, t);
        vae__accum(ctx, x, t);
    }
}

/* ---- KL(N(mu, e^lv) || N(0, I)) summed over the last dim ---- */

/* 1 when t (..., Z) is rows of unit stride along Z at a fixed row stride (*rs): a contiguous tensor or a column
 * slice of one, such as mu and logvar cut from one encoder output (B, 2Z). Then the f32 kernels take it as is. */
static int kl_rows(const vae_tensor *t, int64_t *rs) {
    const int nd = t->ndim;
    const int64_t Z = t->shape[nd - 1];
    if (Z > 1 && t->stride[nd - 1] != 1) return 0;
    *rs = Z;
    int64_t span = -1; /* the stride the next outer dim needs: inner stride x inner size */
    for (int i = nd - 2; i >= 0; i--) {
        if (t->shape[i] == 1) continue;
        if (span < 0)
            *rs = t->stride[i];
        else if (t->stride[i] != span)
            return 0;
        span = t->stride[i] * t->shape[i];
    }
    return 1;
}

vae_tensor *vae_normal_kl_std(vae_ctx *ctx, vae_tensor *mu, vae_tensor *lv) {
    vae_tensor *in[2] = {mu, lv};
    if (!vae__inputs_ok(ctx, "normal_kl_std", 2, (const vae_tensor *const *)in)) return NULL;
    char b1[160], b2[160];
    if (!vae_same_shape(mu, lv) || mu->ndim < 1)
        return vae__fail(ctx, VAE_ERR_SHAPE,
                         "normal_kl_std: mu %s and logvar %s must have one shape (..., Z)",
                         vae__shape(b1, sizeof b1, mu), vae__shape(b2, sizeof b2, lv));
    if (!vae__same_dtype(ctx, "normal_kl_std", mu, lv)) return NULL;
    vae_tensor *y = vae__out(ctx, mu->dtype, mu->ndim - 1, mu->shape);
    if (!y) return NULL;
    int64_t Z = mu->shape[mu->ndim - 1], rows = Z ? vae_numel(mu) / Z : vae_numel(y);
    int64_t smu, slv;
    if (mu->dtype == VAE_F32 && kl_rows(mu, &smu) && kl_rows(lv, &slv)) {
        vae_k_normal_kl_std_f32(vae_tensor_ptr(mu), smu, vae_tensor_ptr(lv), slv, rows, Z,
                                vae_tensor_ptr(y));
        goto record;
    }
    for (int64_t r = 0; r < rows; r++) {
        double acc = 0; /* f64 accumulation: Z is small, precision matters for the ELBO */
        for (int64_t j = 0; j < Z; j++) {
            double m = vae_get_flat(mu, r * Z + j), v = vae_get_flat(lv, r * Z + j);
            acc += m * m + (expm1(v) - v); /* not exp(v) - 1 - v: that cancels near v = 0 */
        }
        vae_set_flat(y, r, 0.5 * acc);
    }
record:
    if (vae__wants_grad(ctx, 2, in) && !vae__record(ctx, VAE_OP_NORMAL_KL_STD, y, 2, in))
        return NULL;
    return vae__done(ctx, VAE_OP_NORMAL_KL_STD, y);
}

void vae__bw_normal_kl_std(vae_ctx *ctx, vae_node *n) {
    vae_tensor *mu = n->in[0], *lv = n->in[1], *gy = n->out->grad;
    int64_t Z = mu->shape[mu->ndim - 1], m = vae_numel(mu);
    vae_tensor *gm = (mu->flags & VAE_TF_REQUIRES_GRAD) ? vae__grad(ctx, mu) : NULL;
    vae_tensor *gl = (lv->flags & VAE_TF_REQUIRES_GRAD) ? vae__grad(ctx, lv) : NULL;
    int64_t smu, slv;
    if (mu->dtype == VAE_F32 && Z > 0 && vae_is_contiguous(gy) && kl_rows(mu, &smu) &&
        kl_rows(lv, &slv)) { /* gm, gl: contiguous (vae__grad) */
        vae_k_normal_kl_std_grad_f32(vae_tensor_ptr(mu), smu, vae_tensor_ptr(lv), slv,
                                     vae_tensor_ptr(gy), m / Z, Z, gm ? vae_tensor_ptr(gm) : NULL,
                                     gl ? vae_tensor_ptr(gl) : NULL);
        return;
    }
    for (int64_t i = 0; i < m; i++) {
        double g = vae_get_flat(gy, i / Z);
        if (gm) vae_set_flat(gm, i, vae_get_flat(gm, i) + g * vae_get_flat(mu, i));
        if (gl) vae_set_flat(gl, i, vae_get_flat(gl, i) + g * 0.5 * expm1(vae_get_flat(lv, i)));
    }
}

/* ---- log N(x; mu, e^s), elementwise with broadcasting ---- */

vae_tensor *vae_normal_logpdf(vae_ctx *ctx, vae_tensor *x, vae_tensor *mu, vae_tensor *log_scale) {
    vae_tensor *in[3] = {x, mu, log_scale};
    if (!vae__inputs_ok(ctx, "normal_logpdf", 3, (const vae_tensor *const *)in)) return NULL;
    if (!vae__same_dtype(ctx, "normal_logpdf", x, mu) ||
        !vae__same_dtype(ctx, "normal_logpdf", x, log_scale))
        return NULL;
    int nd, nd2;
    int64_t full[VAE_MAX_DIMS], full2[VAE_MAX_DIMS];
    if (!vae_broadcast_shape(x->ndim, x->shape, mu->ndim, mu->shape, &nd, full) ||
        !vae_broadcast_shape(nd, full, log_scale->ndim, log_scale->shape, &nd2, full2)) {
        char b1[160], b2[160], b3[160];
        return vae__fail(ctx, VAE_ERR_SHAPE, "normal_logpdf: x %s, mu %s and log_scale %s do not broadcast",
                         vae__shape(b1, sizeof b1, x), vae__shape(b2, sizeof b2, mu),
                         vae__shape(b3, sizeof b3, log_scale));
    }
    vae_tensor *y = vae__out(ctx, x->dtype, nd2, full2);
    if (!y) return NULL;
    vae_k_normal_lpdf(x, mu, log_scale, y);
    if (vae__wants_grad(ctx, 3, in) && !vae__record(ctx, VAE_OP_NORMAL_LOGPDF, y, 3, in)) return NULL;
    return vae__done(ctx, VAE_OP_NORMAL_LOGPDF, y);
}

/* The partials in one pass into y-shaped temporaries, each then summed over where its input was broadcast: all three,
 * or x's alone when neither parameter requires grad (a prior's constants). */
void vae__bw_normal_logpdf(vae_ctx *ctx, vae_node *n) {
    vae_tensor *y = n->out, *g[3] = {NULL, NULL, NULL};
    const int params = ((n->in[1]->flags | n->in[2]->flags) & VAE_TF_REQUIRES_GRAD) != 0;
    for (int i = 0; i < (params ? 3 : 1); i++)
        if (!(g[i] = vae__out(ctx, y->dtype, y->ndim, y->shape))) return;
    vae_k_normal_lpdf_grad(n->in[0], n->in[1], n->in[2], y->grad, g[0], g[1], g[2]);
    for (int i = 0; i < 3; i++)
        if (g[i]) vae__accum(ctx, n->in[i], g[i]);
}
