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
#include "special.h"
#include "vmath.h"
#ifdef __AVX512F__
#include "vmath_x16.h"
#endif

/* The dtype-generic math of the VAE_UNARY_OPS rows (kernels.h): f32 uses the vectorizable approximations of vmath.h
 * (numerically stable sigmoid/softplus shared with kernels_fused.c), f64 uses libm. */
#define U_EXP(v)      _Generic((v), float : vae_vexpf, default : exp)(v)
#define U_EXPM1(v)    _Generic((v), float : vae_vexpm1f, default : expm1)(v)
#define U_LOG1P(v)    _Generic((v), float : vae_vlog1pf, default : log1p)(v)
#define U_TANH(v)     _Generic((v), float : vae_vtanhf, default : tanh)(v)
#define U_SIGMOID(v)  _Generic((v), float : vae_vsigmoidf, default : vae_sigmoid_d)(v)
#define U_SOFTPLUS(v) _Generic((v), float : vae_vsoftplusf, default : vae_softplus_d)(v)
#define U_LOG(v)      _Generic((v), float : logf, default : log)(v)
#define U_SQRT(v)     _Generic((v), float : sqrtf, default : sqrt)(v)
#define U_FABS(v)     _Generic((v), float : fabsf, default : fabs)(v)
#define U_POW(v, p)   _Generic((v), float : powf, default : pow)(v, p)
/* lgamma and its derivatives: evaluated in double for both dtypes (special.h: libm's lgamma is not thread-safe) */
#define U_LGAMMA(v)   _Generic((v), float : vae__lgammaf, default : vae__lgamma)(v)
#define U_DIGAMMA(v)  _Generic((v), float : vae__digammaf, default : vae__digamma)(v)
#define U_TRIGAMMA(v) _Generic((v), float : vae__trigammaf, default : vae__trigamma)(v)

/* Work per element in units of an add, for the threading threshold. */
static double unary_cost(vae_unary op) {
    static const double cost[VAE_U_COUNT_] = {
#define COST_ROW(arg, e, name, cost, f, df) [VAE_U_##e] = cost,
        VAE_UNARY_OPS(COST_ROW, ~)
#undef COST_ROW
    };
    return (unsigned)op < VAE_U_COUNT_ ? cost[op] : 8;
}

typedef struct {
    vae_unary op;
    double p0, p1;
    const void *x, *y, *gy;
    void *out;
} unary_ctx;

/* One case per row of VAE_UNARY_OPS: y = f(v), and f'(v) given v and y. */
#define FWD_CASE(T, e, name, cost, f, df)                                                          \
    case VAE_U_##e:                                                                                \
        return (T)(f);
#define DER_CASE(T, e, name, cost, f, df)                                                          \
    case VAE_U_##e:                                                                                \
        return (T)(df);
/* o[i] = f(a[i]), all unit stride: one loop per op, with no switch or stride inside, so each vectorizes */
#define FWD_LOOP(T, e, name, cost, f, df)                                                          \
    case VAE_U_##e:                                                                                \
        for (int64_t i = 0; i < n; i++) {                                                          \
            const T v = a[i];                                                                      \
            o[i] = (T)(f);                                                                         \
        }                                                                                          \
        break;
/* g[i] += gy[i] * f'(x[i]), all unit stride; every load is unconditional (selects, vectorized) */
#define DER_LOOP(T, e, name, cost, f, df)                                                          \
    case VAE_U_##e:                                                                                \
        for (int64_t i = 0; i < n; i++) {                                                          \
            const T v = x[i], y = yv[i];                                                           \
            (void)v, (void)y;                                                                      \
            g[i] += gy[i] * (T)(df);                                                               \
        }                                                                                          \
        break;

/* unary_head_T: the AVX-512 f32 variant's exp, tanh, sigmoid and softplus of a unit-stride run's leading whole
 * vectors, 8 vectors at a time (vmath_x16.h: the same bits as vmath.h's functions); returns how many elements it
 * did, else 0. */
#ifdef __AVX512F__
static int64_t unary_head_float(vae_unary op, const float *a, float *o, int64_t n) {
    switch (op) {
    case VAE_U_EXP:
        return vae__x16_map_exp(a, o, n);
    case VAE_U_TANH:
        return vae__x16_map_tanh(a, o, n);
    case VAE_U_SIGMOID:
        return vae__x16_map_sigmoid(a, o, n);
    case VAE_U_SOFTPLUS:
        return vae__x16_map_softplus(a, o, n);
    default:
        return 0;
    }
}
#else
static inline int64_t unary_head_float(vae_unary op, const float *a, float *o, int64_t n) {
    (void)op, (void)a, (void)o, (void)n;
    return 0;
}
#endif
static inline int64_t unary_head_double(vae_unary op, const double *a, double *o, int64_t n) {
    (void)op, (void)a, (void)o, (void)n;
    return 0;
}

#define DEFINE_UNARY(T)                                                                            \
    static inline T fwd_##T(vae_unary op, T v, T p0, T p1) {                                       \
        (void)p1;                                                                                  \
        switch (op) {                                                                              \
            VAE_UNARY_OPS(FWD_CASE, T)                                                             \
        default:                                                                                   \
            return 0;                                                                              \
        }                                                                                          \
    }                                                                                              \
    static inline T der_##T(vae_unary op, T v, T y, T p0, T p1) {                                  \
        (void)p1;                                                                                  \
        switch (op) {                                                                              \
            VAE_UNARY_OPS(DER_CASE, T)                                                             \
        default:                                                                                   \
            return 0;                                                                              \
        }                                                                                          \
    }                                                                                              \
    static void unary_contig_##T(vae_unary op, const T *a, T *o, int64_t n, T p0, T p1) {          \
        switch (op) {                                                                              \
            VAE_UNARY_OPS(FWD_LOOP, T)                                                             \
        default:                                                                                   \
            break;                                                                                 \
        }                                                                                          \
    }                                                                                              \
    static void unary_run_##T(void *vc, const vae__iter *it, const int64_t *off, int64_t n) {      \
        const unary_ctx *c = vc;                                                                   \
        const T *a = (const T *)c->x + off[0];                                                     \
        T *o = (T *)c->out + off[1], p0 = (T)c->p0, p1 = (T)c->p1;                                 \
        const int64_t sx = it->inner[0], so = it->inner[1];                                        \
        if (sx == 1 && so == 1) {                                                                  \
            const int64_t h = unary_head_##T(c->op, a, o, n);                                      \
            unary_contig_##T(c->op, a + h, o + h, n - h, p0, p1);                                  \
        } else {                                                                                   \
            for (int64_t i = 0; i < n; i++) o[i * so] = fwd_##T(c->op, a[i * sx], p0, p1);         \
        }                                                                                          \
    }                                                                                              \
    static void unary_grad_contig_##T(vae_unary op, const T *x, const T *yv, const T *gy, T *g,    \
                                      int64_t n, T p0, T p1) {                                     \
        switch (op) {                                                                              \
            VAE_UNARY_OPS(DER_LOOP, T)                                                             \
        default:                                                                                   \
            break;                                                                                 \
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
