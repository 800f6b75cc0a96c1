/* Unary elementwise kernels and their derivatives.
 *
 * One macro body serves f32 and f64; the math functions are chosen per type below: f32 uses the vectorizable
 * approximations of vmath.h (exp, expm1, log1p, tanh, sigmoid, softplus; <= 3 ulp), f64 uses libm. Each kernel
 * walks runs of the iterator (iter.h); a run whose operands are all unit-stride takes a loop per op with no strides
 * and no switch inside, which gcc vectorizes. Large tensors are split over threads by vae__iter_parallel; every
 * element is computed by the same code whatever the split, so results do not depend on the thread count. Compiled
 * once per ISA (ew_isa.h). */
#include <math.h>

#include "ew_isa.h"
#include "iter.h"
#include "kernels.h"
#include "vmath.h"

/* Numerically stable forms, shared with kernels_fused.c (tensor/vmath.h). */
#define sigmoid_double  vae_sigmoid_d
#define softplus_double vae_softplus_d

#define exp_float      vae_vexpf
#define expm1_float    vae_vexpm1f
#define log1p_float    vae_vlog1pf
#define tanh_float     vae_vtanhf
#define sigmoid_float  vae_vsigmoidf
#define softplus_float vae_vsoftplusf
#define log_float      logf
#define sqrt_float     sqrtf
#define pow_float      powf
#define fabs_float     fabsf
#define exp_double     exp
#define expm1_double   expm1
#define log1p_double   log1p
#define tanh_double    tanh
#define log_double     log
#define sqrt_double    sqrt
#define pow_double     pow
#define fabs_double    fabs

/* Work per element in units of an add, for the threading threshold. */
static double unary_cost(vae_unary op) {
    switch (op) {
    case VAE_U_NEG:
    case VAE_U_SQUARE:
    case VAE_U_ABS:
    case VAE_U_RELU:
    case VAE_U_LEAKY_RELU:
    case VAE_U_ADD_SCALAR:
    case VAE_U_MUL_SCALAR:
    case VAE_U_CLAMP:
        return 1;
    default:
        return 8;
    }
}

typedef struct {
    vae_unary op;
    double p0, p1;
    const void *x, *y, *gy;
    void *out;
} unary_ctx;

#define DEFINE_UNARY(T)                                                                            \
    static inline T fwd_##T(vae_unary op, T v, T p0, T p1) {                                       \
        switch (op) {                                                                              \
        case VAE_U_NEG:                                                                            \
            return -v;                                                                             \
        case VAE_U_EXP:                                                                            \
            return exp_##T(v);                                                                     \
        case VAE_U_LOG:                                                                            \
            return log_##T(v);                                                                     \
        case VAE_U_LOG1P:                                                                          \
            return log1p_##T(v);                                                                   \
        case VAE_U_EXPM1:                                                                          \
            return expm1_##T(v);                                                                   \
        case VAE_U_SQRT:                                                                           \
            return sqrt_##T(v);                                                                    \
        case VAE_U_SQUARE:                                                                         \
            return v * v;                                                                          \
        case VAE_U_ABS:                                                                            \
            return fabs_##T(v);                                                                    \
        case VAE_U_TANH:                                                                           \
            return tanh_##T(v);                                                                    \
        case VAE_U_SIGMOID:                                                                        \
            return sigmoid_##T(v);                                                                 \
        case VAE_U_RELU:                                                                           \
            return v > 0 ? v : 0;                                                                  \
        case VAE_U_SOFTPLUS:                                                                       \
            return softplus_##T(v);                                                                \
        case VAE_U_LOG_SIGMOID:                                                                    \
            return -softplus_##T(-v);                                                              \
        case VAE_U_ELU:                                                                            \
            return v > 0 ? v : p0 * expm1_##T(v);                                                  \
        case VAE_U_LEAKY_RELU:                                                                     \
            return v > 0 ? v : p0 * v;                                                             \
        case VAE_U_ADD_SCALAR:                                                                     \
            return v + p0;                                                                         \
        case VAE_U_MUL_SCALAR:                                                                     \
            return v * p0;                                                                         \
        case VAE_U_POW_SCALAR:                                                                     \
            return pow_##T(v, p0);                                                                 \
        case VAE_U_CLAMP:                                                                          \
            return v < p0 ? p0 : (v > p1 ? p1 : v);                                                \
        default:                                                                                   \
            return 0;                                                                              \
        }                                                                                          \
    }                                                                                              \
    /* f'(x) given x and y = f(x) */                                                               \
    static inline T der_##T(vae_unary op, T v, T y, T p0, T p1) {                                  \
        switch (op) {                                                                              \
        case VAE_U_NEG:                                                                            \
            return -1;                                                                             \
        case VAE_U_EXP:                                                                            \
            return y;                                                                              \
        case VAE_U_LOG:                                                                            \
            return 1 / v;                                                                          \
        case VAE_U_LOG1P:                                                                          \
            return 1 / (1 + v);                                                                    \
        case VAE_U_EXPM1:                                                                          \
            return y + 1;                                                                          \
        case VAE_U_SQRT:                                                                           \
            return (T)0.5 / y;                                                                     \
        case VAE_U_SQUARE:                                                                         \
            return 2 * v;                                                                          \
        case VAE_U_ABS:                                                                            \
            return v > 0 ? 1 : (v < 0 ? -1 : 0);                                                   \
        case VAE_U_TANH:                                                                           \
            return 1 - y * y;                                                                      \
        case VAE_U_SIGMOID:                                                                        \
            return y * (1 - y);                                                                    \
        case VAE_U_RELU:                                                                           \
            return v > 0 ? 1 : 0;                                                                  \
        case VAE_U_SOFTPLUS:                                                                       \
            return sigmoid_##T(v);                                                                 \
        case VAE_U_LOG_SIGMOID:                                                                    \
            return sigmoid_##T(-v);                                                                \
        case VAE_U_ELU:                                                                            \
            return v > 0 ? 1 : y + p0;                                                             \
        case VAE_U_LEAKY_RELU:                                                                     \
            return v > 0 ? 1 : p0;                                                                 \
        case VAE_U_ADD_SCALAR:                                                                     \
            return 1;                                                                              \
        case VAE_U_MUL_SCALAR:                                                                     \
            return p0;                                                                             \
        case VAE_U_POW_SCALAR:                                                                     \
            return p0 == 0 ? 0 : p0 * pow_##T(v, p0 - 1);                                          \
        case VAE_U_CLAMP:                                                                          \
            return (v >= p0 && v <= p1) ? 1 : 0;                                                   \
        default:                                                                                   \
            return 0;                                                                              \
        }                                                                                          \
    }                                                                                              \
    /* o[i] = f(a[i]), all unit stride: one loop per hot op so each vectorizes */                  \
    static void unary_contig_##T(vae_unary op, const T *a, T *o, int64_t n, T p0, T p1) {          \
        switch (op) {                                                                              \
        case VAE_U_EXP:                                                                            \
            for (int64_t i = 0; i < n; i++) o[i] = exp_##T(a[i]);                                  \
            break;                                                                                 \
        case VAE_U_TANH:                                                                           \
            for (int64_t i = 0; i < n; i++) o[i] = tanh_##T(a[i]);                                 \
            break;                                                                                 \
        case VAE_U_SIGMOID:                                                                        \
            for (int64_t i = 0; i < n; i++) o[i] = sigmoid_##T(a[i]);                              \
            break;                                                                                 \
        case VAE_U_SOFTPLUS:                                                                       \
            for (int64_t i = 0; i < n; i++) o[i] = softplus_##T(a[i]);                             \
            break;                                                                                 \
        case VAE_U_RELU:                                                                           \
            for (int64_t i = 0; i < n; i++) o[i] = a[i] > 0 ? a[i] : 0;                            \
            break;                                                                                 \
        case VAE_U_ADD_SCALAR:                                                                     \
            for (int64_t i = 0; i < n; i++) o[i] = a[i] + p0;                                      \
            break;                                                                                 \
        case VAE_U_MUL_SCALAR:                                                                     \
            for (int64_t i = 0; i < n; i++) o[i] = a[i] * p0;                                      \
            break;                                                                                 \
        case VAE_U_NEG:                                                                            \
            for (int64_t i = 0; i < n; i++) o[i] = -a[i];                                          \
            break;                                                                                 \
        case VAE_U_SQUARE:                                                                         \
            for (int64_t i = 0; i < n; i++) o[i] = a[i] * a[i];                                    \
            break;                                                                                 \
        default:                                                                                   \
            for (int64_t i = 0; i < n; i++) o[i] = fwd_##T(op, a[i], p0, p1);                      \
        }                                                                                          \
    }                                                                                              \
    static void unary_run_##T(void *vc, const vae__iter *it, const int64_t *off, int64_t n) {      \
        const unary_ctx *c = vc;                                                                   \
        const T *a = (const T *)c->x + off[0];                                                     \
        T *o = (T *)c->out + off[1], p0 = (T)c->p0, p1 = (T)c->p1;                                 \
        const int64_t sx = it->inner[0], so = it->inner[1];                                        \
        if (sx == 1 && so == 1)                                                                    \
            unary_contig_##T(c->op, a, o, n, p0, p1);                                              \
        else                                                                                       \
            for (int64_t i = 0; i < n; i++) o[i * so] = fwd_##T(c->op, a[i * sx], p0, p1);         \
    }                                                                                              \
    /* g[i] += gy[i] * f'(x[i]), all unit stride */                                                \
    static void unary_grad_contig_##T(vae_unary op, const T *x, const T *y, const T *gy, T *g,     \
                                      int64_t n, T p0, T p1) {                                     \
        switch (op) {                                                                              \
        case VAE_U_TANH:                                                                           \
            for (int64_t i = 0; i < n; i++) g[i] += gy[i] * (1 - y[i] * y[i]);                     \
            break;                                                                                 \
        case VAE_U_SIGMOID:                                                                        \
            for (int64_t i = 0; i < n; i++) g[i] += gy[i] * (y[i] * (1 - y[i]));                   \
            break;                                                                                 \
        case VAE_U_RELU: /* unconditional load: a select, vectorized */                            \
            for (int64_t i = 0; i < n; i++) {                                                      \
                const T gv = gy[i];                                                                \
                g[i] += x[i] > 0 ? gv : 0;                                                         \
            }                                                                                      \
            break;                                                                                 \
        case VAE_U_EXP:                                                                            \
            for (int64_t i = 0; i < n; i++) g[i] += gy[i] * y[i];                                  \
            break;                                                                                 \
        case VAE_U_SOFTPLUS:                                                                       \
            for (int64_t i = 0; i < n; i++) g[i] += gy[i] * sigmoid_##T(x[i]);                     \
            break;                                                                                 \
        default:                                                                                   \
            for (int64_t i = 0; i < n; i++) g[i] += gy[i] * der_##T(op, x[i], y[i], p0, p1);       \
        }                                                                                          \
    }                                                                                              \
    static void unary_grad_run_##T(void *vc, const vae__iter *it, const int64_t *off, int64_t n) { \
        const unary_ctx *c = vc;                                                                   \
        const T *a = (const T *)c->x + off[0], *b = (const T *)c->y + off[1];                      \
        const T *g = (const T *)c->gy + off[2], p0 = (T)c->p0, p1 = (T)c->p1;                      \
        T *o = (T *)c->out + off[3];                                                               \
        const int64_t s0 = it->inner[0], s1 = it->inner[1], s2 = it->inner[2], s3 = it->inner[3];  \
        if (s0 == 1 && s1 == 1 && s2 == 1 && s3 == 1)                                              \
            unary_grad_contig_##T(c->op, a, b, g, o, n, p0, p1);                                   \
        else                                                                                       \
            for (int64_t i = 0; i < n; i++)                                                        \
                o[i * s3] += g[i * s2] * der_##T(c->op, a[i * s0], b[i * s1], p0, p1);             \
    }

DEFINE_UNARY(float)
DEFINE_UNARY(double)

void VAE__EW(vae_k_unary)(vae_unary op, double p0, double p1, const vae_tensor *x, vae_tensor *y) {
    unary_ctx c = {op, p0, p1, x->data, NULL, NULL, vae_tensor_ptr(y)};
    const int64_t *st[2] = {x->stride, y->stride};
    int64_t base[2] = {x->offset, 0};
    vae__iter it;
    vae__iter_init(&it, x->ndim, x->shape, 2, st, base);
    vae__iter_parallel(&it, unary_cost(op),
                       x->dtype == VAE_F64 ? unary_run_double : unary_run_float, &c);
}

void VAE__EW(vae_k_unary_grad)(vae_unary op, double p0, double p1, const vae_tensor *x,
                               const vae_tensor *y, const vae_tensor *gy, vae_tensor *gx) {
    unary_ctx c = {op, p0, p1, x->data, y->data, gy->data, gx->data};
    const int64_t *st[4] = {x->stride, y->stride, gy->stride, gx->stride};
    int64_t base[4] = {x->offset, y->offset, gy->offset, gx->offset};
    vae__iter it;
    vae__iter_init(&it, x->ndim, x->shape, 4, st, base);
    vae__iter_parallel(&it, 1 + unary_cost(op) / 2,
                       x->dtype == VAE_F64 ? unary_grad_run_double : unary_grad_run_float, &c);
}
