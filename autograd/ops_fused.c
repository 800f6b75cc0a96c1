/* Fused ops for the hot paths of VAE training. Each computes in one pass what the composed form computes in
 * several (and keeps one node on the tape instead of several temporaries); each has a gradcheck row. */
#include <math.h>
#include <string.h>

#include "autograd/ops.h"
#include "internal.h"

/* ---- linear: y = act(x @ W + b); node->ip[0] = act, p[0] = alpha ---- */

/* The activation's derivative from its OUTPUT y alone, so forward keeps no pre-activation copy:
 * relu/leaky: sign of y = sign of pre; tanh 1-y^2; sigmoid y(1-y); elu (y>0 ? 1 : y+alpha);
 * softplus: sigmoid(pre) = 1 - e^{-y} = -expm1(-y). */
#define ACT_BODIES(T)                                                                              \
    static inline T act_##T(vae_act a, T v, T alpha) {                                             \
        switch (a) {                                                                               \
        case VAE_ACT_RELU: return v > 0 ? v : 0;                                                   \
        case VAE_ACT_TANH: return tanh##T##_(v);                                                   \
        case VAE_ACT_SIGMOID: return v >= 0 ? 1 / (1 + exp##T##_(-v)) : exp##T##_(v) / (1 + exp##T##_(v)); \
        case VAE_ACT_SOFTPLUS: return (v > 0 ? v : 0) + log1p##T##_(exp##T##_(-(v > 0 ? v : -v))); \
        case VAE_ACT_ELU: return v > 0 ? v : alpha * expm1##T##_(v);                               \
        case VAE_ACT_LEAKY_RELU: return v > 0 ? v : alpha * v;                                     \
        default: return v;                                                                         \
        }                                                                                          \
    }                                                                                              \
    static inline T dact_##T(vae_act a, T y, T alpha) {                                            \
        switch (a) {                                                                               \
        case VAE_ACT_RELU: return y > 0 ? 1 : 0;                                                   \
        case VAE_ACT_TANH: return 1 - y * y;                                                       \
        case VAE_ACT_SIGMOID: return y * (1 - y);                                                  \
        case VAE_ACT_SOFTPLUS: return -expm1##T##_(-y);                                            \
        case VAE_ACT_ELU: return y > 0 ? 1 : y + alpha;                                            \
        case VAE_ACT_LEAKY_RELU: return y > 0 ? 1 : alpha;                                         \
        default: return 1;                                                                         \
        }                                                                                          \
    }

#define tanhfloat_ tanhf
#define expfloat_ expf
#define log1pfloat_ log1pf
#define expm1float_ expm1f
#define tanhdouble_ tanh
#define expdouble_ exp
#define log1pdouble_ log1p
#define expm1double_ expm1
ACT_BODIES(float)
ACT_BODIES(double)

/* y (rows, n) contiguous: y = act(y + b) in place, b (n,) contiguous or NULL. */
#define BIAS_ACT(T)                                                                                \
    static void bias_act_##T(T *y, const T *b, int64_t rows, int64_t n, vae_act a, T alpha) {      \
        for (int64_t r = 0; r < rows; r++) {                                                       \
            T *o = y + r * n;                                                                      \
            if (b)                                                                                 \
                for (int64_t j = 0; j < n; j++) o[j] += b[j];                                      \
            if (a == VAE_ACT_RELU)                                                                 \
                for (int64_t j = 0; j < n; j++) o[j] = o[j] > 0 ? o[j] : 0;                        \
            else if (a != VAE_ACT_IDENTITY)                                                        \
                for (int64_t j = 0; j < n; j++) o[j] = act_##T(a, o[j], alpha);                    \
        }                                                                                          \
    }                                                                                              \
    /* g = gy * act'(y), both (rows, n) contiguous */                                              \
    static void dpre_##T(T *g, const T *gy, const T *y, int64_t m, vae_act a, T alpha) {           \
        if (a == VAE_ACT_IDENTITY) memcpy(g, gy, sizeof(T) * (size_t)m);                           \
        else if (a == VAE_ACT_RELU)                                                                \
            for (int64_t i = 0; i < m; i++) g[i] = y[i] > 0 ? gy[i] : 0;                           \
        else                                                                                       \
            for (int64_t i = 0; i < m; i++) g[i] = gy[i] * dact_##T(a, y[i], alpha);               \
    }
BIAS_ACT(float)
BIAS_ACT(double)

/* A 2-d (rows, cols) view of t (..., cols), given that t is contiguous. */
static vae_tensor as_rows(const vae_tensor *t) {
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

vae_tensor *vae_linear_act(vae_ctx *ctx, vae_tensor *x, vae_tensor *W, vae_tensor *b, vae_act act,
                           double alpha) {
    vae_tensor *in[3] = {x, W, b};
    if (!vae__inputs_ok(ctx, "linear", 2, (const vae_tensor *const *)in)) return NULL;
    char b1[160], b2[160];
    if (act < 0 || act >= VAE_ACT_COUNT_ ||
        ((act == VAE_ACT_ELU || act == VAE_ACT_LEAKY_RELU) && !(alpha > 0)))
        return vae__fail(ctx, VAE_ERR_ARG, "linear: bad activation %d (alpha %g)", (int)act, alpha);
    if (x->ndim < 1 || W->ndim != 2 || x->shape[x->ndim - 1] != W->shape[0])
        return vae__fail(ctx, VAE_ERR_SHAPE, "linear: x %s, W %s: need x (..., in) and W (in, out)",
                         vae__shape(b1, sizeof b1, x), vae__shape(b2, sizeof b2, W));
    if (b && (b->ndim != 1 || b->shape[0] != W->shape[1]))
        return vae__fail(ctx, VAE_ERR_SHAPE, "linear: bias %s does not match W %s",
                         vae__shape(b1, sizeof b1, b), vae__shape(b2, sizeof b2, W));
    if (!vae__same_dtype(ctx, "linear", x, W) || (b && !vae__same_dtype(ctx, "linear", W, b))) return NULL;
    vae_tensor *xc = vae_contiguous(ctx, x); /* rows of x must fold into one GEMM; usually a no-op */
    vae_tensor *bc = b ? vae_contiguous(ctx, b) : NULL;
    if (!xc || (b && !bc)) return NULL;
    int64_t shape[VAE_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[x->ndim - 1] = W->shape[1];
    vae_tensor *y = vae__out(ctx, x->dtype, x->ndim, shape);
    if (!y) return NULL;
    vae_tensor x2 = as_rows(xc), y2 = as_rows(y);
    vae_k_matmul(&x2, W, &y2, 0.0);
    int64_t rows = y2.shape[0], n = y2.shape[1];
    if (y->dtype == VAE_F64)
        bias_act_double(y->data, bc ? vae_tensor_ptr(bc) : NULL, rows, n, act, alpha);
    else
        bias_act_float(y->data, bc ? vae_tensor_ptr(bc) : NULL, rows, n, act, (float)alpha);
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
    vae_tensor *g = vae__out(ctx, y->dtype, y->ndim, y->shape); /* dL/dpre */
    if (!g) return;
    int64_t m = vae_numel(y);
    if (y->dtype == VAE_F64)
        dpre_double(g->data, y->grad->data, y->data, m, (vae_act)n->ip[0], n->p[0]);
    else
        dpre_float(g->data, y->grad->data, y->data, m, (vae_act)n->ip[0], (float)n->p[0]);
    vae_tensor g2 = as_rows(g), x2 = as_rows(x);
    if (b && (b->flags & VAE_TF_REQUIRES_GRAD)) vae__accum(ctx, b, &g2); /* column sums */
    if (W->flags & VAE_TF_REQUIRES_GRAD) { /* dW += x^T g: one GEMM over all rows */
        vae_tensor *gW = vae__grad(ctx, W);
        if (!gW) return;
        vae_tensor xt = x2;
        xt.shape[0] = x2.shape[1];
        xt.shape[1] = x2.shape[0];
        xt.stride[0] = x2.stride[1];
        xt.stride[1] = x2.stride[0];
        vae_k_matmul(&xt, &g2, gW, 1.0);
    }
    if (x->flags & VAE_TF_REQUIRES_GRAD) { /* dx += g W^T */
        vae_tensor *gx = vae__grad(ctx, x);
        if (!gx) return;
        vae_tensor gx2 = as_rows(gx), Wt = *W;
        Wt.shape[0] = W->shape[1];
        Wt.shape[1] = W->shape[0];
        Wt.stride[0] = W->stride[1];
        Wt.stride[1] = W->stride[0];
        vae_k_matmul(&g2, &Wt, &gx2, 1.0);
    }
}

/* ---- Bernoulli log-likelihood from logits, summed over the last dim ---- */

/* Broadcast shape of two tensors, and the output shape without its last dim. */
static int lp_shapes(vae_ctx *ctx, const char *op, const vae_tensor *a, const vae_tensor *b, int *nd,
                     int64_t *full) {
    char b1[160], b2[160];
    if (a->ndim < 1 || b->ndim < 1 || !vae_broadcast_shape(a->ndim, a->shape, b->ndim, b->shape, nd, full)) {
        vae__fail(ctx, VAE_ERR_SHAPE, "%s: %s and %s do not broadcast (need (..., D) each)", op,
                  vae__shape(b1, sizeof b1, a), vae__shape(b2, sizeof b2, b));
        return 0;
    }
    return 1;
}

#define BERN(T)                                                                                    \
    static inline T softplus_##T(T v) {                                                            \
        return (v > 0 ? v : 0) + log1p##T##_(exp##T##_(-(v > 0 ? v : -v)));                        \
    }                                                                                              \
    /* out[r] = sum_d x*l - softplus(l) over rows of the broadcast (rows, D) problem */            \
    static void bern_fwd_##T(const vae_tensor *l, const vae_tensor *x, int nd, const int64_t *full, \
                             T *out) {                                                             \
        int64_t sl[VAE_MAX_DIMS], sx[VAE_MAX_DIMS], D = full[nd - 1], rows = 1;                    \
        vae_broadcast_strides(l, nd, full, sl);                                                    \
        vae_broadcast_strides(x, nd, full, sx);                                                    \
        for (int i = 0; i < nd - 1; i++) rows *= full[i];                                          \
        const T *lp = l->data, *xp = x->data;                                                      \
        int64_t idx[VAE_MAX_DIMS] = {0};                                                           \
        for (int64_t r = 0; r < rows; r++) {                                                       \
            int64_t ol = l->offset, ox = x->offset;                                                \
            for (int i = 0; i < nd - 1; i++) {                                                     \
                ol += idx[i] * sl[i];                                                              \
                ox += idx[i] * sx[i];                                                              \
            }                                                                                      \
            const T *a = lp + ol, *c = xp + ox;                                                    \
            int64_t s0 = sl[nd - 1], s1 = sx[nd - 1];                                              \
            T acc = 0;                                                                             \
            for (int64_t d = 0; d < D; d++) acc += c[d * s1] * a[d * s0] - softplus_##T(a[d * s0]); \
            out[r] = acc;                                                                          \
            for (int i = nd - 2; i >= 0; i--) {                                                    \
                if (++idx[i] < full[i]) break;                                                     \
                idx[i] = 0;                                                                        \
            }                                                                                      \
        }                                                                                          \
    }
BERN(float)
BERN(double)

vae_tensor *vae_bernoulli_logits_lp(vae_ctx *ctx, vae_tensor *logits, vae_tensor *x) {
    vae_tensor *in[2] = {logits, x};
    if (!vae__inputs_ok(ctx, "bernoulli_logits_lp", 2, (const vae_tensor *const *)in)) return NULL;
    if (!vae__same_dtype(ctx, "bernoulli_logits_lp", logits, x)) return NULL;
    int nd;
    int64_t full[VAE_MAX_DIMS];
    if (!lp_shapes(ctx, "bernoulli_logits_lp", logits, x, &nd, full)) return NULL;
    vae_tensor *y = vae__out(ctx, logits->dtype, nd - 1, full);
    if (!y) return NULL;
    if (y->dtype == VAE_F64) bern_fwd_double(logits, x, nd, full, y->data);
    else bern_fwd_float(logits, x, nd, full, y->data);
    if (vae__wants_grad(ctx, 2, in) && !vae__record(ctx, VAE_OP_BERNOULLI_LOGITS_LP, y, 2, in)) return NULL;
    return vae__done(ctx, VAE_OP_BERNOULLI_LOGITS_LP, y);
}

void vae__bw_bernoulli_lp(vae_ctx *ctx, vae_node *n) {
    vae_tensor *l = n->in[0], *x = n->in[1], *y = n->out;
    int nd;
    int64_t full[VAE_MAX_DIMS];
    vae_broadcast_shape(l->ndim, l->shape, x->ndim, x->shape, &nd, full);
    /* gy broadcast along the summed last dim */
    vae_tensor gyb = *y->grad;
    gyb.ndim = nd;
    memcpy(gyb.shape, full, sizeof full);
    vae_contiguous_strides(nd - 1, y->shape, gyb.stride);
    gyb.stride[nd - 1] = 0;
    if (l->flags & VAE_TF_REQUIRES_GRAD) { /* dl = gy * (x - sigmoid(l)) */
        vae_tensor *s = vae__out(ctx, l->dtype, nd, full), *t = vae__out(ctx, l->dtype, nd, full);
        if (!s || !t) return;
        vae_tensor lb = *l;
        lb.ndim = nd;
        memcpy(lb.shape, full, sizeof full);
        vae_broadcast_strides(l, nd, full, lb.stride);
        vae_k_unary(VAE_U_SIGMOID, 0, 0, &lb, s);
        vae_k_binary(VAE_B_SUB, x, s, t);
        vae_k_binary(VAE_B_MUL, t, &gyb, t);
        vae__accum(ctx, l, t);
    }
    if (x->flags & VAE_TF_REQUIRES_GRAD) { /* dx = gy * l */
        vae_tensor *t = vae__out(ctx, x->dtype, nd, full);
        if (!t) return;
        vae_k_binary(VAE_B_MUL, l, &gyb, t);
        vae__accum(ctx, x, t);
    }
}

/* ---- KL(N(mu, e^lv) || N(0, I)) summed over the last dim ---- */

vae_tensor *vae_normal_kl_std(vae_ctx *ctx, vae_tensor *mu, vae_tensor *lv) {
    vae_tensor *in[2] = {mu, lv};
    if (!vae__inputs_ok(ctx, "normal_kl_std", 2, (const vae_tensor *const *)in)) return NULL;
    char b1[160], b2[160];
    if (!vae_same_shape(mu, lv) || mu->ndim < 1)
        return vae__fail(ctx, VAE_ERR_SHAPE, "normal_kl_std: mu %s and logvar %s must have one shape (..., Z)",
                         vae__shape(b1, sizeof b1, mu), vae__shape(b2, sizeof b2, lv));
    if (!vae__same_dtype(ctx, "normal_kl_std", mu, lv)) return NULL;
    vae_tensor *y = vae__out(ctx, mu->dtype, mu->ndim - 1, mu->shape);
    if (!y) return NULL;
    int64_t Z = mu->shape[mu->ndim - 1], rows = Z ? vae_numel(mu) / Z : vae_numel(y);
    for (int64_t r = 0; r < rows; r++) {
        double acc = 0; /* f64 accumulation: Z is small, precision matters for the ELBO */
        for (int64_t j = 0; j < Z; j++) {
            double m = vae_get_flat(mu, r * Z + j), v = vae_get_flat(lv, r * Z + j);
            acc += m * m + exp(v) - 1 - v;
        }
        vae_set_flat(y, r, 0.5 * acc);
    }
    if (vae__wants_grad(ctx, 2, in) && !vae__record(ctx, VAE_OP_NORMAL_KL_STD, y, 2, in)) return NULL;
    return vae__done(ctx, VAE_OP_NORMAL_KL_STD, y);
}

void vae__bw_normal_kl_std(vae_ctx *ctx, vae_node *n) {
    vae_tensor *mu = n->in[0], *lv = n->in[1], *gy = n->out->grad;
    int64_t Z = mu->shape[mu->ndim - 1], m = vae_numel(mu);
    vae_tensor *gm = (mu->flags & VAE_TF_REQUIRES_GRAD) ? vae__grad(ctx, mu) : NULL;
    vae_tensor *gl = (lv->flags & VAE_TF_REQUIRES_GRAD) ? vae__grad(ctx, lv) : NULL;
    for (int64_t i = 0; i < m; i++) {
        double g = vae_get_flat(gy, i / Z);
        if (gm) vae_set_flat(gm, i, vae_get_flat(gm, i) + g * vae_get_flat(mu, i));
        if (gl) vae_set_flat(gl, i, vae_get_flat(gl, i) + g * 0.5 * expm1(vae_get_flat(lv, i)));
    }
}
