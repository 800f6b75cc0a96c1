/* Unary elementwise kernels and their derivatives. tgmath.h picks expf/exp etc. from the operand type, so one
 * macro body serves f32 and f64. */
#include <tgmath.h>

#include "iter.h"
#include "kernels.h"

/* Numerically stable forms: softplus(x) = max(x,0) + log1p(exp(-|x|)); sigmoid without overflow. */
#define DEFINE_UNARY(T)                                                                            \
    static inline T softplus_##T(T v) { return (v > 0 ? v : 0) + log1p(exp(-fabs(v))); }          \
    static inline T sigmoid_##T(T v) {                                                             \
        if (v >= 0) return 1 / (1 + exp(-v));                                                      \
        T e = exp(v);                                                                              \
        return e / (1 + e);                                                                        \
    }                                                                                              \
    static inline T fwd_##T(vae_unary op, T v, T p0, T p1) {                                       \
        switch (op) {                                                                              \
        case VAE_U_NEG: return -v;                                                                 \
        case VAE_U_EXP: return exp(v);                                                             \
        case VAE_U_LOG: return log(v);                                                             \
        case VAE_U_LOG1P: return log1p(v);                                                         \
        case VAE_U_EXPM1: return expm1(v);                                                         \
        case VAE_U_SQRT: return sqrt(v);                                                           \
        case VAE_U_SQUARE: return v * v;                                                           \
        case VAE_U_ABS: return fabs(v);                                                            \
        case VAE_U_TANH: return tanh(v);                                                           \
        case VAE_U_SIGMOID: return sigmoid_##T(v);                                                 \
        case VAE_U_RELU: return v > 0 ? v : 0;                                                     \
        case VAE_U_SOFTPLUS: return softplus_##T(v);                                               \
        case VAE_U_LOG_SIGMOID: return -softplus_##T(-v);                                          \
        case VAE_U_ELU: return v > 0 ? v : p0 * expm1(v);                                          \
        case VAE_U_LEAKY_RELU: return v > 0 ? v : p0 * v;                                          \
        case VAE_U_ADD_SCALAR: return v + p0;                                                      \
        case VAE_U_MUL_SCALAR: return v * p0;                                                      \
        case VAE_U_POW_SCALAR: return pow(v, p0);                                                  \
        case VAE_U_CLAMP: return v < p0 ? p0 : (v > p1 ? p1 : v);                                  \
        default: return 0;                                                                         \
        }                                                                                          \
    }                                                                                              \
    /* f'(x) given x and y = f(x) */                                                               \
    static inline T der_##T(vae_unary op, T v, T y, T p0, T p1) {                                  \
        switch (op) {                                                                              \
        case VAE_U_NEG: return -1;                                                                 \
        case VAE_U_EXP: return y;                                                                  \
        case VAE_U_LOG: return 1 / v;                                                              \
        case VAE_U_LOG1P: return 1 / (1 + v);                                                      \
        case VAE_U_EXPM1: return y + 1;                                                            \
        case VAE_U_SQRT: return (T)0.5 / y;                                                        \
        case VAE_U_SQUARE: return 2 * v;                                                           \
        case VAE_U_ABS: return v > 0 ? 1 : (v < 0 ? -1 : 0);                                       \
        case VAE_U_TANH: return 1 - y * y;                                                         \
        case VAE_U_SIGMOID: return y * (1 - y);                                                    \
        case VAE_U_RELU: return v > 0 ? 1 : 0;                                                     \
        case VAE_U_SOFTPLUS: return sigmoid_##T(v);                                                \
        case VAE_U_LOG_SIGMOID: return sigmoid_##T(-v);                                            \
        case VAE_U_ELU: return v > 0 ? 1 : y + p0;                                                 \
        case VAE_U_LEAKY_RELU: return v > 0 ? 1 : p0;                                              \
        case VAE_U_ADD_SCALAR: return 1;                                                           \
        case VAE_U_MUL_SCALAR: return p0;                                                          \
        case VAE_U_POW_SCALAR: return p0 == 0 ? 0 : p0 * pow(v, p0 - 1);                           \
        case VAE_U_CLAMP: return (v >= p0 && v <= p1) ? 1 : 0;                                     \
        default: return 0;                                                                         \
        }                                                                                          \
    }                                                                                              \
    static void unary_##T(vae_unary op, T p0, T p1, const vae_tensor *x, vae_tensor *y) {         \
        const T *xp = x->data;                                                                     \
        T *yp = vae_tensor_ptr(y);                                                                 \
        const int64_t *st[2] = {x->stride, y->stride};                                             \
        int64_t base[2] = {x->offset, 0};                                                          \
        vae__iter it;                                                                              \
        vae__iter_init(&it, x->ndim, x->shape, 2, st, base);                                       \
        int64_t n = it.n, sx = it.inner[0];                                                        \
        for (int64_t r = 0; r < it.rows; r++, vae__iter_next(&it)) {                               \
            const T *a = xp + it.off[0];                                                           \
            T *o = yp + it.off[1];                                                                 \
            /* switch outside the loop so each case is a tight, vectorizable loop */               \
            switch (op) {                                                                          \
            case VAE_U_ADD_SCALAR:                                                                 \
                for (int64_t i = 0; i < n; i++) o[i] = a[i * sx] + p0;                             \
                break;                                                                             \
            case VAE_U_MUL_SCALAR:                                                                 \
                for (int64_t i = 0; i < n; i++) o[i] = a[i * sx] * p0;                             \
                break;                                                                             \
            case VAE_U_RELU:                                                                       \
                for (int64_t i = 0; i < n; i++) o[i] = a[i * sx] > 0 ? a[i * sx] : 0;              \
                break;                                                                             \
            default:                                                                               \
                for (int64_t i = 0; i < n; i++) o[i] = fwd_##T(op, a[i * sx], p0, p1);             \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
    static void unary_grad_##T(vae_unary op, T p0, T p1, const vae_tensor *x, const vae_tensor *y, \
                               const vae_tensor *gy, vae_tensor *gx) {                             \
        const T *xp = x->data, *yp = y->data, *gyp = gy->data;                                     \
        T *gxp = gx->data;                                                                         \
        const int64_t *st[4] = {x->stride, y->stride, gy->stride, gx->stride};                     \
        int64_t base[4] = {x->offset, y->offset, gy->offset, gx->offset};                          \
        vae__iter it;                                                                              \
        vae__iter_init(&it, x->ndim, x->shape, 4, st, base);                                       \
        int64_t n = it.n, s0 = it.inner[0], s1 = it.inner[1], s2 = it.inner[2], s3 = it.inner[3];  \
        for (int64_t r = 0; r < it.rows; r++, vae__iter_next(&it)) {                               \
            const T *a = xp + it.off[0], *b = yp + it.off[1], *g = gyp + it.off[2];                \
            T *o = gxp + it.off[3];                                                                \
            for (int64_t i = 0; i < n; i++)                                                        \
                o[i * s3] += g[i * s2] * der_##T(op, a[i * s0], b[i * s1], p0, p1);                \
        }                                                                                          \
    }

DEFINE_UNARY(float)
DEFINE_UNARY(double)

void vae_k_unary(vae_unary op, double p0, double p1, const vae_tensor *x, vae_tensor *y) {
    if (x->dtype == VAE_F64) unary_double(op, p0, p1, x, y);
    else unary_float(op, (float)p0, (float)p1, x, y);
}

void vae_k_unary_grad(vae_unary op, double p0, double p1, const vae_tensor *x, const vae_tensor *y,
                      const vae_tensor *gy, vae_tensor *gx) {
    if (x->dtype == VAE_F64) unary_grad_double(op, p0, p1, x, y, gy, gx);
    else unary_grad_float(op, (float)p0, (float)p1, x, y, gy, gx);
}
