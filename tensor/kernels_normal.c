/* The diagonal Normal log-density, elementwise with broadcasting, and its partials (kernels.h): one pass for what
 * models/dist_normal.c composed from seven ops (exp, sub, div, square, mul_scalar, sub, add_scalar), with the same
 * operations in the same order, so the same bits. Compiled once per ISA (ew_isa.h): f32 exp from vmath.h, as the
 * exp op's; f64 libm. Threaded over element ranges by vae__iter_parallel: the same bits for any thread count. */
#include <math.h>

#include "ew_isa.h"
#include "iter.h"
#include "view.h"
#include "vmath.h"
#ifdef __AVX512F__
#include "vmath_x16.h"
#endif

#define HALF_LOG_2PI 0.91893853320467274178 /* log(2 pi) / 2 */

typedef struct {
    const void *x, *mu, *s, *gy;
    void *y, *gx, *gmu, *gs;
} lpdf_ctx;

#define lpdf_exp_float  vae_vexpf
#define lpdf_exp_double exp

/* lpdf_head_T / lpdf_grad_head_T: the unit-stride loops' leading whole vectors in the AVX-512 f32 variant, 8 vectors
 * at a time (e^s through vmath_x16.h, then the operations of lpdf_T / lpdf_grad_contig_T below in their order: the
 * same bits); they return how many elements they did, 0 elsewhere. The scalar loops run a chain of ~40 dependent
 * operations per vector (exp, then two divisions) at its latency. */
#ifdef __AVX512F__
VAE__X16_INLINE void lpdf_x16(const float *x, const float *mu, const float *s, float *y, int nu) {
    __m512 sigma[VAE__X16_U];
    for (int u = 0; u < nu; u++) sigma[u] = _mm512_loadu_ps(s + 16 * u);
    vae__x16_exp(sigma, nu);
    for (int u = 0; u < nu; u++) {
        const __m512 r = _mm512_div_ps(
            _mm512_sub_ps(_mm512_loadu_ps(x + 16 * u), _mm512_loadu_ps(mu + 16 * u)), sigma[u]);
        const __m512 q = _mm512_mul_ps(_mm512_mul_ps(r, r), _mm512_set1_ps(-0.5f));
        _mm512_storeu_ps(y + 16 * u, _mm512_add_ps(_mm512_sub_ps(q, _mm512_loadu_ps(s + 16 * u)),
                                                   _mm512_set1_ps((float)-HALF_LOG_2PI)));
    }
}
static int64_t lpdf_head_float(int64_t n, const float *x, const float *mu, const float *s,
                               float *y) {
    int64_t i = 0;
    for (; i + 16 * VAE__X16_U <= n; i += 16 * VAE__X16_U)
        lpdf_x16(x + i, mu + i, s + i, y + i, VAE__X16_U);
    for (; i + 16 <= n; i += 16) lpdf_x16(x + i, mu + i, s + i, y + i, 1);
    return i;
}
VAE__X16_INLINE void lpdf_grad_x16(const float *x, const float *mu, const float *s, const float *gy,
                                   float *gx, float *gmu, float *gs, int nu) {
    __m512 sigma[VAE__X16_U];
    for (int u = 0; u < nu; u++) sigma[u] = _mm512_loadu_ps(s + 16 * u);
    vae__x16_exp(sigma, nu);
    for (int u = 0; u < nu; u++) {
        const __m512 r = _mm512_div_ps(
            _mm512_sub_ps(_mm512_loadu_ps(x + 16 * u), _mm512_loadu_ps(mu + 16 * u)), sigma[u]);
        const __m512 g = _mm512_loadu_ps(gy + 16 * u);
        const __m512 d = _mm512_div_ps(_mm512_mul_ps(g, r), sigma[u]);
        _mm512_storeu_ps(gmu + 16 * u, d);
        _mm512_storeu_ps(gx + 16 * u, vae__x16_neg(d));
        _mm512_storeu_ps(gs + 16 * u, _mm512_mul_ps(g, _mm512_sub_ps(_mm512_mul_ps(r, r),
                                                                     _mm512_set1_ps(1.0f))));
    }
}
static int64_t lpdf_grad_head_float(int64_t n, const float *x, const float *mu, const float *s,
                                    const float *gy, float *gx, float *gmu, float *gs) {
    int64_t i = 0;
    for (; i + 16 * VAE__X16_U <= n; i += 16 * VAE__X16_U)
        lpdf_grad_x16(x + i, mu + i, s + i, gy + i, gx + i, gmu + i, gs + i, VAE__X16_U);
    for (; i + 16 <= n; i += 16)
        lpdf_grad_x16(x + i, mu + i, s + i, gy + i, gx + i, gmu + i, gs + i, 1);
    return i;
}
#endif
#define LPDF_NO_HEAD(T)                                                                            \
    static inline int64_t lpdf_head_##T(int64_t n, const T *x, const T *mu, const T *s, T *y) {    \
        (void)n, (void)x, (void)mu, (void)s, (void)y;                                              \
        return 0;                                                                                  \
    }                                                                                              \
    static inline int64_t lpdf_grad_head_##T(int64_t n, const T *x, const T *mu, const T *s,       \
                                             const T *gy, T *gx, T *gmu, T *gs) {                  \
        (void)n, (void)x, (void)mu, (void)s, (void)gy, (void)gx, (void)gmu, (void)gs;              \
        return 0;                                                                                  \
    }
#ifndef __AVX512F__
LPDF_NO_HEAD(float)
#endif
LPDF_NO_HEAD(double)

/* Operands of a run: 0 x, 1 mu, 2 s, 3 y (forward) or gy (backward; gx, gmu, gs share its layout). The unit-stride
 * loop vectorizes; mu and s of stride 0 (the standard Normal prior: one 0 each) take e^s once. */
#define LPDF(T)                                                                                                     \
    static inline T lpdf_##T(T x, T mu, T s, T sigma) {                                                             \
        const T r = (x - mu) / sigma;                                                                               \
        return r * r * (T)-0.5 - s + (T)-HALF_LOG_2PI;                                                              \
    }                                                                                                               \
    static void lpdf_run_##T(void *vc, const vae__iter *it, const int64_t *off, int64_t n) {                        \
        const lpdf_ctx *c = vc;                                                                                     \
        const T *x = (const T *)c->x + off[0], *mu = (const T *)c->mu + off[1];                                     \
        const T *s = (const T *)c->s + off[2];                                                                      \
        T *restrict y = (T *)c->y + off[3];                                                                         \
        const int64_t s0 = it->inner[0], s1 = it->inner[1], s2 = it->inner[2], s3 = it->inner[3];                   \
        if (s0 == 1 && s1 == 1 && s2 == 1 && s3 == 1) {                                                             \
            for (int64_t i = lpdf_head_##T(n, x, mu, s, y); i < n; i++)                                             \
                y[i] = lpdf_##T(x[i], mu[i], s[i], lpdf_exp_##T(s[i]));                                             \
        } else if (s1 == 0 && s2 == 0) {                                                                            \
            const T m = mu[0], sv = s[0], sigma = lpdf_exp_##T(sv);                                                 \
            if (s0 == 1 && s3 == 1)                                                                                 \
                for (int64_t i = 0; i < n; i++) y[i] = lpdf_##T(x[i], m, sv, sigma);                                \
            else                                                                                                    \
                for (int64_t i = 0; i < n; i++) y[i * s3] = lpdf_##T(x[i * s0], m, sv, sigma);                      \
        } else {                                                                                                    \
            for (int64_t i = 0; i < n; i++) {                                                                       \
                const T sv = s[i * s2];                                                                             \
                y[i * s3] = lpdf_##T(x[i * s0], mu[i * s1], sv, lpdf_exp_##T(sv));                                  \
            }                                                                                                       \
        }                                                                                                           \
    }                                                                                                               \
    /* The unit-stride loop of the three partials below, its pointers restrict parameters: gcc does not vectorize \
     * it with 7 pointers it must assume may alias (too many run-time overlap checks). */ \
    static inline void lpdf_grad_contig_##T(int64_t n, const T *restrict x, const T *restrict mu,                   \
                                            const T *restrict s, const T *restrict gy,                              \
                                            T *restrict gx, T *restrict gmu, T *restrict gs) {                      \
        for (int64_t i = lpdf_grad_head_##T(n, x, mu, s, gy, gx, gmu, gs); i < n; i++) {                            \
            const T sigma = lpdf_exp_##T(s[i]), r = (x[i] - mu[i]) / sigma;                                         \
            const T d = gy[i] * r / sigma;                                                                          \
            gmu[i] = d;                                                                                             \
            gx[i] = -d;                                                                                             \
            gs[i] = gy[i] * (r * r - 1);                                                                            \
        }                                                                                                           \
    }                                                                                                               \
    /* r = (x - mu) / sigma: gmu = gy r / sigma, gx = -gmu, gs = gy (r^2 - 1); gx only when gmu is NULL (the     \
     * prior's constant parameters) */  \
    static void lpdf_grad_run_##T(void *vc, const vae__iter *it, const int64_t *off, int64_t n) {                   \
        const lpdf_ctx *c = vc;                                                                                     \
        const T *x = (const T *)c->x + off[0], *mu = (const T *)c->mu + off[1];                                     \
        const T *s = (const T *)c->s + off[2], *gy = (const T *)c->gy + off[3];                                     \
        T *gx = (T *)c->gx + off[3];                                                                                \
        const int64_t s0 = it->inner[0], s1 = it->inner[1], s2 = it->inner[2], s3 = it->inner[3];                   \
        if (!c->gmu && s0 == 1 && s1 == 0 && s2 == 0 && s3 == 1) {                                                  \
            const T m = mu[0], sigma = lpdf_exp_##T(s[0]);                                                          \
            for (int64_t i = 0; i < n; i++) gx[i] = -(gy[i] * ((x[i] - m) / sigma) / sigma);                        \
            return;                                                                                                 \
        }                                                                                                           \
        if (!c->gmu) {                                                                                              \
            for (int64_t i = 0; i < n; i++) {                                                                       \
                const T sigma = lpdf_exp_##T(s[i * s2]), r = (x[i * s0] - mu[i * s1]) / sigma;                      \
                gx[i * s3] = -(gy[i * s3] * r / sigma);                                                             \
            }                                                                                                       \
            return;                                                                                                 \
        }                                                                                                           \
        T *gmu = (T *)c->gmu + off[3], *gs = (T *)c->gs + off[3];                                                   \
        if (s0 == 1 && s1 == 1 && s2 == 1 && s3 == 1) {                                                             \
            lpdf_grad_contig_##T(n, x, mu, s, gy, gx, gmu, gs);                                                     \
        } else {                                                                                                    \
            for (int64_t i = 0; i < n; i++) {                                                                       \
                const T sigma = lpdf_exp_##T(s[i * s2]), r = (x[i * s0] - mu[i * s1]) / sigma;                      \
                const T g = gy[i * s3], d = g * r / sigma;                                                          \
                gmu[i * s3] = d;                                                                                    \
                gx[i * s3] = -d;                                                                                    \
                gs[i * s3] = g * (r * r - 1);                                                                       \
            }                                                                                                       \
        }                                                                                                           \
    }
LPDF(float)
LPDF(double)

/* Iterate over t's shape (y's, or gy's) with x, mu, s broadcast to it; t's own elements from offset t_off. */
static void lpdf_iter(const vae_tensor *x, const vae_tensor *mu, const vae_tensor *s,
                      const vae_tensor *t, int64_t t_off, double cost, vae__run_fn fn,
                      lpdf_ctx *c) {
    const vae_tensor *in[3] = {x, mu, s};
    int64_t st[3][VAE_MAX_DIMS], base[4];
    const int64_t *sp[4];
    for (int k = 0; k < 3; k++) {
        vae_broadcast_strides(in[k], t->ndim, t->shape, st[k]);
        sp[k] = st[k];
        base[k] = in[k]->offset;
    }
    sp[3] = t->stride;
    base[3] = t_off;
    vae__iter it;
    vae__iter_init(&it, t->ndim, t->shape, 4, sp, base);
    vae__iter_parallel(&it, cost, fn, c);
}

void VAE__EW(vae_k_normal_lpdf)(const vae_tensor *x, const vae_tensor *mu, const vae_tensor *s,
                                vae_tensor *y) {
    lpdf_ctx c = {x->data, mu->data, s->data, NULL, y->data, NULL, NULL, NULL};
    lpdf_iter(x, mu, s, y, y->offset, 12, y->dtype == VAE_F64 ? lpdf_run_double : lpdf_run_float,
              &c);
}

void VAE__EW(vae_k_normal_lpdf_grad)(const vae_tensor *x, const vae_tensor *mu, const vae_tensor *s,
                                     const vae_tensor *gy, vae_tensor *gx, vae_tensor *gmu,
                                     vae_tensor *gs) {
    /* gy, gx, gmu, gs contiguous, one shape: one element offset from their own starts serves all four */
    lpdf_ctx c = {x->data,
                  mu->data,
                  s->data,
                  vae_tensor_ptr(gy),
                  NULL,
                  vae_tensor_ptr(gx),
                  gmu && gs ? vae_tensor_ptr(gmu) : NULL,
                  gmu && gs ? vae_tensor_ptr(gs) : NULL};
    lpdf_iter(x, mu, s, gy, 0, 16,
              gy->dtype == VAE_F64 ? lpdf_grad_run_double : lpdf_grad_run_float, &c);
}
