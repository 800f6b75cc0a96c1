/* Fused kernels of the hot VAE paths: bias + activation of a linear layer and its derivative, and the Bernoulli
 * log-likelihood from logits with its gradient. */
#include <math.h>
#include <string.h>

#include "kernels.h"
#include "view.h"

/* The activation's derivative from its OUTPUT y alone, so forward keeps no pre-activation copy:
 * relu/leaky: sign of y = sign of pre; tanh 1-y^2; sigmoid y(1-y); elu (y>0 ? 1 : y+alpha);
 * softplus: sigmoid(pre) = 1 - e^{-y} = -expm1(-y). */
#define ACT_BODIES(T)                                                                              \
    static inline T act_##T(vae_kact a, T v, T alpha) {                                            \
        switch (a) {                                                                               \
        case VAE_KACT_RELU: return v > 0 ? v : 0;                                                  \
        case VAE_KACT_TANH: return tanh##T##_(v);                                                  \
        case VAE_KACT_SIGMOID:                                                                     \
            return v >= 0 ? 1 / (1 + exp##T##_(-v)) : exp##T##_(v) / (1 + exp##T##_(v));          \
        case VAE_KACT_SOFTPLUS: return (v > 0 ? v : 0) + log1p##T##_(exp##T##_(-(v > 0 ? v : -v))); \
        case VAE_KACT_ELU: return v > 0 ? v : alpha * expm1##T##_(v);                              \
        case VAE_KACT_LEAKY_RELU: return v > 0 ? v : alpha * v;                                    \
        default: return v;                                                                         \
        }                                                                                          \
    }                                                                                              \
    static inline T dact_##T(vae_kact a, T y, T alpha) {                                           \
        switch (a) {                                                                               \
        case VAE_KACT_RELU: return y > 0 ? 1 : 0;                                                  \
        case VAE_KACT_TANH: return 1 - y * y;                                                      \
        case VAE_KACT_SIGMOID: return y * (1 - y);                                                 \
        case VAE_KACT_SOFTPLUS: return -expm1##T##_(-y);                                           \
        case VAE_KACT_ELU: return y > 0 ? 1 : y + alpha;                                           \
        case VAE_KACT_LEAKY_RELU: return y > 0 ? 1 : alpha;                                        \
        default: return 1;                                                                         \
        }                                                                                          \
    }

#define tanhfloat_   tanhf
#define expfloat_    expf
#define log1pfloat_  log1pf
#define expm1float_  expm1f
#define tanhdouble_  tanh
#define expdouble_   exp
#define log1pdouble_ log1p
#define expm1double_ expm1
ACT_BODIES(float)
ACT_BODIES(double)

/* y (rows, n) contiguous: y = act(y + b) in place, b (n,) contiguous or NULL. */
#define BIAS_ACT(T)                                                                                \
    static void bias_act_##T(T *y, const T *b, int64_t rows, int64_t n, vae_kact a, T alpha) {     \
        for (int64_t r = 0; r < rows; r++) {                                                       \
            T *o = y + r * n;                                                                      \
            if (b)                                                                                 \
                for (int64_t j = 0; j < n; j++) o[j] += b[j];                                      \
            if (a == VAE_KACT_RELU)                                                                \
                for (int64_t j = 0; j < n; j++) o[j] = o[j] > 0 ? o[j] : 0;                        \
            else if (a != VAE_KACT_IDENTITY)                                                       \
                for (int64_t j = 0; j < n; j++) o[j] = act_##T(a, o[j], alpha);                    \
        }                                                                                          \
    }                                                                                              \
    /* g = gy * act'(y), all (m,) contiguous */                                                    \
    static void dpre_##T(T *g, const T *gy, const T *y, int64_t m, vae_kact a, T alpha) {          \
        if (a == VAE_KACT_IDENTITY) memcpy(g, gy, sizeof(T) * (size_t)m);                          \
        else if (a == VAE_KACT_RELU)                                                               \
            for (int64_t i = 0; i < m; i++) g[i] = y[i] > 0 ? gy[i] : 0;                           \
        else                                                                                       \
            for (int64_t i = 0; i < m; i++) g[i] = gy[i] * dact_##T(a, y[i], alpha);               \
    }
BIAS_ACT(float)
BIAS_ACT(double)

void vae_k_bias_act(vae_tensor *y, const vae_tensor *b, vae_kact act, double alpha) {
    int64_t n = y->ndim ? y->shape[y->ndim - 1] : 1, m = vae_numel(y), rows = n ? m / n : 0;
    if (y->dtype == VAE_F64)
        bias_act_double(vae_tensor_ptr(y), b ? vae_tensor_ptr(b) : NULL, rows, n, act, alpha);
    else
        bias_act_float(vae_tensor_ptr(y), b ? vae_tensor_ptr(b) : NULL, rows, n, act, (float)alpha);
}

void vae_k_act_grad(vae_kact act, double alpha, const vae_tensor *y, const vae_tensor *gy, vae_tensor *g) {
    int64_t m = vae_numel(y);
    if (y->dtype == VAE_F64)
        dpre_double(vae_tensor_ptr(g), vae_tensor_ptr(gy), vae_tensor_ptr(y), m, act, alpha);
    else
        dpre_float(vae_tensor_ptr(g), vae_tensor_ptr(gy), vae_tensor_ptr(y), m, act, (float)alpha);
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

/* The full broadcast shape (..., D): out's shape plus the last dim of l or x, whichever is not 1. */
static int full_shape(const vae_tensor *l, const vae_tensor *x, int64_t *full) {
    int nd = 0;
    vae_broadcast_shape(l->ndim, l->shape, x->ndim, x->shape, &nd, full);
    return nd;
}

void vae_k_bernoulli_lp(const vae_tensor *l, const vae_tensor *x, vae_tensor *out) {
    int64_t full[VAE_MAX_DIMS];
    int nd = full_shape(l, x, full);
    if (l->dtype == VAE_F64) bern_fwd_double(l, x, nd, full, vae_tensor_ptr(out));
    else bern_fwd_float(l, x, nd, full, vae_tensor_ptr(out));
}

void vae_k_bernoulli_lp_grad(const vae_tensor *l, const vae_tensor *x, const vae_tensor *gy, vae_tensor *g,
                             int accumulate) {
    (void)accumulate; /* the composed form writes */
    int64_t full[VAE_MAX_DIMS];
    int nd = full_shape(l, x, full);
    vae_tensor gyb = *gy, lb = *l; /* gy broadcast along the summed last dim; l seen with the full shape */
    gyb.ndim = lb.ndim = nd;
    memcpy(gyb.shape, full, sizeof full);
    memcpy(lb.shape, full, sizeof full);
    vae_contiguous_strides(nd - 1, full, gyb.stride);
    gyb.stride[nd - 1] = 0;
    vae_broadcast_strides(l, nd, full, lb.stride);
    vae_k_unary(VAE_U_SIGMOID, 0, 0, &lb, g);
    vae_k_binary(VAE_B_SUB, x, g, g);
    vae_k_binary(VAE_B_MUL, g, &gyb, g);
}
