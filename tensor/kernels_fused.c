/* Fused kernels of the hot VAE paths: bias + activation of a linear layer and its derivative, and the Bernoulli
 * log-likelihood from logits with its gradient. f32 uses the vectorizable vmath.h functions, f64 libm. Threads
 * split rows (bias_act, the Bernoulli row sums: one output per row, summed by one thread in a fixed order) or
 * element ranges (the gradients), so results are the same for any thread count. Compiled once per ISA
 * (ew_isa.h). */
#include <math.h>
#include <string.h>

#include "ew_isa.h"
#include "iter.h"
#include "kernels.h"
#include "threadpool.h"
#include "view.h"
#include "vmath.h"
#ifdef __AVX512F__
#include "vmath_x16.h"
#endif

/* The activation's derivative from its OUTPUT y alone, so forward keeps no pre-activation copy:
 * relu/leaky: sign of y = sign of pre; tanh 1-y^2; sigmoid y(1-y); elu (y>0 ? 1 : y+alpha);
 * softplus: sigmoid(pre) = 1 - e^{-y} = -expm1(-y). */
#define ACT_BODIES(T)                                                                              \
    static inline T act_##T(vae_kact a, T v, T alpha) {                                            \
        switch (a) {                                                                               \
        case VAE_KACT_RELU:                                                                        \
            return v > 0 ? v : 0;                                                                  \
        case VAE_KACT_TANH:                                                                        \
            return tanh##T##_(v);                                                                  \
        case VAE_KACT_SIGMOID:                                                                     \
            return sigmoid_##T(v);                                                                 \
        case VAE_KACT_SOFTPLUS:                                                                    \
            return softplus_##T(v);                                                                \
        case VAE_KACT_ELU:                                                                         \
            return v > 0 ? v : alpha * expm1##T##_(v);                                             \
        case VAE_KACT_LEAKY_RELU:                                                                  \
            return v > 0 ? v : alpha * v;                                                          \
        default:                                                                                   \
            return v;                                                                              \
        }                                                                                          \
    }                                                                                              \
    static inline T dact_##T(vae_kact a, T y, T alpha) {                                           \
        switch (a) {                                                                               \
        case VAE_KACT_RELU:                                                                        \
            return y > 0 ? 1 : 0;                                                                  \
        case VAE_KACT_TANH:                                                                        \
            return 1 - y * y;                                                                      \
        case VAE_KACT_SIGMOID:                                                                     \
            return y * (1 - y);                                                                    \
        case VAE_KACT_SOFTPLUS:                                                                    \
            return -expm1##T##_(-y);                                                               \
        case VAE_KACT_ELU:                                                                         \
            return y > 0 ? 1 : y + alpha;                                                          \
        case VAE_KACT_LEAKY_RELU:                                                                  \
            return y > 0 ? 1 : alpha;                                                              \
        default:                                                                                   \
            return 1;                                                                              \
        }                                                                                          \
    }

/* one definition of each function for both files of kernels (tensor/vmath.h): f32 vectorizable, f64 libm */
#define tanhfloat_      vae_vtanhf
#define expm1float_     vae_vexpm1f
#define tanhdouble_     tanh
#define expm1double_    expm1
#define sigmoid_float   vae_vsigmoidf
#define sigmoid_double  vae_sigmoid_d
#define softplus_float  vae_vsoftplusf
#define softplus_double vae_softplus_d
ACT_BODIES(float)
ACT_BODIES(double)

/* act_head_T(a, o, n): tanh, sigmoid or softplus of a row's leading whole AVX-512 vectors in place, 8 at a time
 * (vmath_x16.h: the bits of vmath.h's functions); returns how many elements it did, 0 for other activations and
 * outside the AVX-512 f32 variant. */
#ifdef __AVX512F__
static int64_t act_head_float(vae_kact a, float *o, int64_t n) {
    switch (a) {
    case VAE_KACT_TANH:
        return vae__x16_map_tanh(o, o, n);
    case VAE_KACT_SIGMOID:
        return vae__x16_map_sigmoid(o, o, n);
    case VAE_KACT_SOFTPLUS:
        return vae__x16_map_softplus(o, o, n);
    default:
        return 0;
    }
}
#else
static inline int64_t act_head_float(vae_kact a, float *o, int64_t n) {
    (void)a, (void)o, (void)n;
    return 0;
}
#endif
static inline int64_t act_head_double(vae_kact a, double *o, int64_t n) {
    (void)a, (void)o, (void)n;
    return 0;
}

/* y (rows, n) contiguous: y = act(y + b) in place, b (n,) contiguous or NULL. */
#define BIAS_ACT(T)                                                                                \
    static void bias_act_##T(T *y, const T *b, int64_t rows, int64_t n, vae_kact a, T alpha) {     \
        for (int64_t r = 0; r < rows; r++) {                                                       \
            T *o = y + r * n;                                                                      \
            if (b)                                                                                 \
                for (int64_t j = 0; j < n; j++) o[j] += b[j];                                      \
            switch (a) { /* one loop per activation so each vectorizes */                          \
            case VAE_KACT_IDENTITY:                                                                \
                break;                                                                             \
            case VAE_KACT_RELU:                                                                    \
                for (int64_t j = 0; j < n; j++) o[j] = o[j] > 0 ? o[j] : 0;                        \
                break;                                                                             \
            case VAE_KACT_TANH:                                                                    \
                for (int64_t j = act_head_##T(a, o, n); j < n; j++) o[j] = tanh##T##_(o[j]);       \
                break;                                                                             \
            case VAE_KACT_SIGMOID:                                                                 \
                for (int64_t j = act_head_##T(a, o, n); j < n; j++)                                \
                    o[j] = act_##T(VAE_KACT_SIGMOID, o[j], alpha);                                 \
                break;                                                                             \
            case VAE_KACT_SOFTPLUS:                                                                \
                for (int64_t j = act_head_##T(a, o, n); j < n; j++)                                \
                    o[j] = act_##T(VAE_KACT_SOFTPLUS, o[j], alpha);                                \
                break;                                                                             \
            default:                                                                               \
                for (int64_t j = 0; j < n; j++) o[j] = act_##T(a, o[j], alpha);                    \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
    /* g = gy * act'(y), all (m,) contiguous */                                                    \
    static void dpre_##T(T *g, const T *gy, const T *y, int64_t m, vae_kact a, T alpha) {          \
        if (a == VAE_KACT_IDENTITY)                                                                \
            memcpy(g, gy, sizeof(T) * (size_t)m);                                                  \
        else if (a == VAE_KACT_RELU)                                                               \
            for (int64_t i = 0; i < m; i++) { /* unconditional load: a select, vectorized */       \
                const T gv = gy[i];                                                                \
                g[i] = y[i] > 0 ? gv : 0;                                                          \
            }                                                                                      \
        else if (a == VAE_KACT_TANH)                                                               \
            for (int64_t i = 0; i < m; i++) g[i] = gy[i] * (1 - y[i] * y[i]);                      \
        else                                                                                       \
            for (int64_t i = 0; i < m; i++) g[i] = gy[i] * dact_##T(a, y[i], alpha);               \
    }
BIAS_ACT(float)
BIAS_ACT(double)

typedef struct {
    void *y;
    const void *b, *gy, *x;
    int f64;
    vae_kact act;
    double alpha;
    int64_t rows, n, ntasks;
} fused_ctx;

/* Rows [r0, r1) of y = act(y + b); row blocks, so each task writes whole rows. */
static void bias_act_task(void *vc, int64_t task, int tid) {
    const fused_ctx *c = vc;
    int64_t r0, r1;
    (void)tid;
    vae__split(c->rows, c->ntasks, task, 1, &r0, &r1);
    if (c->f64)
        bias_act_double((double *)c->y + r0 * c->n, c->b, r1 - r0, c->n, c->act, c->alpha);
    else
        bias_act_float((float *)c->y + r0 * c->n, c->b, r1 - r0, c->n, c->act, (float)c->alpha);
}

static double act_cost(vae_kact a) {
    return a == VAE_KACT_IDENTITY || a == VAE_KACT_RELU ? 1 : 8;
}

void VAE__EW(vae_k_bias_act)(vae_tensor *y, const vae_tensor *b, vae_kact act, double alpha) {
    int64_t n = y->ndim ? y->shape[y->ndim - 1] : 1, m = vae_numel(y), rows = n ? m / n : 0;
    fused_ctx c = {vae_tensor_ptr(y),
                   b ? vae_tensor_ptr(b) : NULL,
                   NULL,
                   NULL,
                   y->dtype == VAE_F64,
                   act,
                   alpha,
                   rows,
                   n,
                   1};
    c.ntasks = vae__par_tasks((double)m * act_cost(act));
    if (c.ntasks > rows) c.ntasks = rows;
    if (c.ntasks > 1)
        vae_parallel_for(c.ntasks, bias_act_task, &c);
    else if (rows > 0)
        bias_act_task(&c, 0, 0);
}

static void act_grad_run(void *vc, const vae__iter *it, const int64_t *off, int64_t len) {
    const fused_ctx *c = vc;
    (void)it;
    if (c->f64)
        dpre_double((double *)c->y + off[0], (const double *)c->gy + off[0],
                    (const double *)c->b + off[0], len, c->act, c->alpha);
    else
        dpre_float((float *)c->y + off[0], (const float *)c->gy + off[0],
                   (const float *)c->b + off[0], len, c->act, (float)c->alpha);
}

void VAE__EW(vae_k_act_grad)(vae_kact act, double alpha, const vae_tensor *y, const vae_tensor *gy,
                             vae_tensor *g) {
    const int64_t m = vae_numel(y), one = 1, base = 0;
    const int64_t *st[1] = {&one};
    vae__iter it; /* all three contiguous with one shape: one flat run */
    vae__iter_init(&it, 1, &m, 1, st, &base);
    fused_ctx c = {vae_tensor_ptr(g),
                   vae_tensor_ptr(y),
                   vae_tensor_ptr(gy),
                   NULL,
                   y->dtype == VAE_F64,
                   act,
                   alpha,
                   0,
                   0,
                   1};
    vae__iter_parallel(&it, act_cost(act) / 2, act_grad_run, &c);
}

/* The Bernoulli problem seen as (rows, D): l and x broadcast to the full shape (..., D). */
typedef struct {
    const vae_tensor *l, *x;
    const void *gy; /* (rows,) contiguous: out's gradient (backward only) */
    void *out;      /* forward: (rows,); backward: g (rows, D) contiguous */
    int nd, accumulate;
    int64_t full[VAE_MAX_DIMS], sl[VAE_MAX_DIMS], sx[VAE_MAX_DIMS], rows, D, ntasks;
} bern_ctx;

/* Element offsets of row r in l and x. */
static void bern_row(const bern_ctx *c, int64_t r, int64_t *ol, int64_t *ox) {
    *ol = c->l->offset;
    *ox = c->x->offset;
    for (int i = c->nd - 2; i >= 0; i--) {
        const int64_t q = r % c->full[i];
        r /= c->full[i];
        *ol += q * c->sl[i];
        *ox += q * c->sx[i];
    }
}

enum { LANES = 16 };

/* log Bern(x; sigmoid(l)) = -x softplus(-l) - (1 - x) softplus(l)
 *   = -(softplus(-|l|) + x max(-l, 0) + (1 - x) max(l, 0)):
 * one log1p(e^-|l|) per element, as x l - softplus(l), without its cancellation when the logit saturates
 * (x = 1, l = 36 in f64: 0 instead of -2.3e-16; f32, l = 10: 8e-3 relative error). Its derivative
 * x - sigmoid(l) = x sigmoid(-l) - (1 - x) sigmoid(l) from e = e^-|l| the same way:
 * (x e - (1 - x)) / (1 + e) for l >= 0, (x - (1 - x) e) / (1 + e) below. */
#define bern_exp_float  vae_vexpf
#define bern_exp_double exp
#define bern_l1pe_float vae_vlog1p_expnf /* log1p(e^-a), a >= 0 */
static inline double bern_l1pe_double(double a) {
    return log1p(exp(-a));
}
#define BERN_TERMS(T)                                                                              \
    static inline T bern_lp_##T(T x, T l) {                                                        \
        const T a = l < 0 ? -l : l;                                                                \
        return -(bern_l1pe_##T(a) + x * (l < 0 ? a : 0) + (1 - x) * (l > 0 ? a : 0));              \
    }                                                                                              \
    static inline T bern_dl_##T(T x, T l) {                                                        \
        const T e = bern_exp_##T(l < 0 ? l : -l);                                                  \
        return (l >= 0 ? x * e - (1 - x) : x - (1 - x) * e) / (1 + e);                             \
    }
BERN_TERMS(float)
BERN_TERMS(double)

/* bern_lp_head_T / bern_dl_head_T: a unit-stride row's leading whole AVX-512 vectors, 8 at a time (vmath_x16.h),
 * with the same operations in the same order as the terms above, so the same bits; they return how many elements
 * they did, 0 outside the AVX-512 f32 variant. a = |l| by clearing the sign bit (only a NaN's sign differs, and
 * the result is NaN either way); (l < 0 ? a : 0) = max(-l, 0) and (l > 0 ? a : 0) = max(l, 0), MAXPS returning
 * its second operand for a NaN and for two zeros, as the selects do. */
#ifdef __AVX512F__
/* lane += bern_lp(x, l) of vectors u < nu, in order */
VAE__X16_INLINE void bern_lp_x16(const float *x, const float *l, int nu, __m512 *lane) {
    const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f);
    __m512 t[VAE__X16_U];
    for (int u = 0; u < nu; u++)
        t[u] = _mm512_castsi512_ps(_mm512_and_si512(
            _mm512_castps_si512(_mm512_loadu_ps(l + 16 * u)), _mm512_set1_epi32(0x7fffffff)));
    vae__x16_log1p_expn(t, nu);
    for (int u = 0; u < nu; u++) {
        const __m512 lv = _mm512_loadu_ps(l + 16 * u), xv = _mm512_loadu_ps(x + 16 * u);
        const __m512 sa = _mm512_max_ps(vae__x16_neg(lv), zero), sb = _mm512_max_ps(lv, zero);
        const __m512 s = _mm512_add_ps(_mm512_add_ps(t[u], _mm512_mul_ps(xv, sa)),
                                       _mm512_mul_ps(_mm512_sub_ps(one, xv), sb));
        *lane = _mm512_add_ps(*lane, vae__x16_neg(s));
    }
}

/* the forward's lanes (element d in lane d % 16, LANES = 16) over the row's whole vectors */
static int64_t bern_lp_head_float(const float *x, const float *l, int64_t D, float *lanes) {
    __m512 lane = _mm512_setzero_ps();
    int64_t d = 0;
    for (; d + 16 * VAE__X16_U <= D; d += 16 * VAE__X16_U)
        bern_lp_x16(x + d, l + d, VAE__X16_U, &lane);
    for (; d + 16 <= D; d += 16) bern_lp_x16(x + d, l + d, 1, &lane);
    _mm512_storeu_ps(lanes, lane);
    return d;
}

/* g (=, or += when accumulate) gr * bern_dl(x, l) of vectors u < nu */
VAE__X16_INLINE void bern_dl_x16(const float *x, const float *l, float gr, float *g, int accumulate,
                                 int nu) {
    const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f);
    __m512 e[VAE__X16_U];
    for (int u = 0; u < nu; u++) { /* e^(l < 0 ? l : -l) */
        const __m512 lv = _mm512_loadu_ps(l + 16 * u);
        e[u] = _mm512_mask_mov_ps(vae__x16_neg(lv), _mm512_cmp_ps_mask(lv, zero, _CMP_LT_OQ), lv);
    }
    vae__x16_exp(e, nu);
    for (int u = 0; u < nu; u++) {
        const __m512 lv = _mm512_loadu_ps(l + 16 * u), xv = _mm512_loadu_ps(x + 16 * u);
        const __m512 omx = _mm512_sub_ps(one, xv);
        const __m512 pos = _mm512_sub_ps(_mm512_mul_ps(xv, e[u]), omx); /* l >= 0 */
        const __m512 neg = _mm512_sub_ps(xv, _mm512_mul_ps(omx, e[u])); /* below, or NaN */
        const __m512 num = _mm512_mask_mov_ps(neg, _mm512_cmp_ps_mask(lv, zero, _CMP_GE_OQ), pos);
        __m512 v = _mm512_mul_ps(_mm512_set1_ps(gr), _mm512_div_ps(num, _mm512_add_ps(one, e[u])));
        if (accumulate) v = _mm512_add_ps(_mm512_loadu_ps(g + 16 * u), v);
        _mm512_storeu_ps(g + 16 * u, v);
    }
}

static int64_t bern_dl_head_float(const float *x, const float *l, float gr, float *g, int64_t D,
                                  int accumulate) {
    int64_t d = 0;
    for (; d + 16 * VAE__X16_U <= D; d += 16 * VAE__X16_U)
        bern_dl_x16(x + d, l + d, gr, g + d, accumulate, VAE__X16_U);
    for (; d + 16 <= D; d += 16) bern_dl_x16(x + d, l + d, gr, g + d, accumulate, 1);
    return d;
}
#endif
#define BERN_NO_HEAD(T)                                                                            \
    static inline int64_t bern_lp_head_##T(const T *x, const T *l, int64_t D, T *lanes) {          \
        (void)x, (void)l, (void)D, (void)lanes;                                                    \
        return 0;                                                                                  \
    }                                                                                              \
    static inline int64_t bern_dl_head_##T(const T *x, const T *l, T gr, T *g, int64_t D, int a) { \
        (void)x, (void)l, (void)gr, (void)g, (void)D, (void)a;                                     \
        return 0;                                                                                  \
    }
#ifndef __AVX512F__
BERN_NO_HEAD(float)
#endif
BERN_NO_HEAD(double)
#define BERN(T)                                                                                      \
    /* Rows of out = sum_d bern_lp(x, l). A unit-stride row sums in LANES fixed interleaved        \
     * partial sums (element d goes to lane d % LANES, lanes folded in a fixed tree), which gcc     \
     * vectorizes without reassociating anything (the AVX-512 f32 variant fills the lanes of the   \
     * whole vectors in bern_lp_head_float); a strided row sums left to right. Either way the      \
     * order depends only on D and the layout, never on the thread split (whole rows per task). */ \
    static void bern_fwd_task_##T(void *vc, int64_t task, int tid) {                                 \
        const bern_ctx *c = vc;                                                                      \
        int64_t r0, r1, D = c->D, s0 = c->sl[c->nd - 1], s1 = c->sx[c->nd - 1];                      \
        (void)tid;                                                                                   \
        vae__split(c->rows, c->ntasks, task, 1, &r0, &r1);                                           \
        for (int64_t r = r0; r < r1; r++) {                                                          \
            int64_t ol, ox;                                                                          \
            bern_row(c, r, &ol, &ox);                                                                \
            const T *a = (const T *)c->l->data + ol, *x = (const T *)c->x->data + ox;                \
            T acc = 0;                                                                               \
            if (s0 == 1 && s1 == 1) {                                                                \
                T lane[LANES] = {0};                                                                 \
                int64_t d = bern_lp_head_##T(x, a, D, lane);                                         \
                for (; d + LANES <= D; d += LANES)                                                   \
                    for (int k = 0; k < LANES; k++) lane[k] += bern_lp_##T(x[d + k], a[d + k]);      \
                for (; d < D; d++) acc += bern_lp_##T(x[d], a[d]);                                   \
                for (int w = LANES / 2; w > 0; w /= 2)                                               \
                    for (int k = 0; k < w; k++) lane[k] += lane[k + w];                              \
                acc = lane[0] + acc;                                                                 \
            } else {                                                                                 \
                for (int64_t d = 0; d < D; d++) acc += bern_lp_##T(x[d * s1], a[d * s0]);            \
            }                                                                                        \
            ((T *)c->out)[r] = acc;                                                                  \
        }                                                                                            \
    }                                                                                                \
    /* Rows of g (=, or += when accumulating) gy[r] * (x - sigmoid(l)) = gy[r] * bern_dl(x, l),    \
     * from e = exp(-|l|) so nothing overflows. */ \
    static void bern_bwd_task_##T(void *vc, int64_t task, int tid) {                                 \
        const bern_ctx *c = vc;                                                                      \
        int64_t r0, r1, D = c->D, s0 = c->sl[c->nd - 1], s1 = c->sx[c->nd - 1];                      \
        (void)tid;                                                                                   \
        vae__split(c->rows, c->ntasks, task, 1, &r0, &r1);                                           \
        for (int64_t r = r0; r < r1; r++) {                                                          \
            int64_t ol, ox;                                                                          \
            bern_row(c, r, &ol, &ox);                                                                \
            const T *a = (const T *)c->l->data + ol, *x = (const T *)c->x->data + ox;                \
            const T gr = ((const T *)c->gy)[r];                                                      \
            T *g = (T *)c->out + r * D;                                                              \
            const int64_t d0 =                                                                       \
                s0 == 1 && s1 == 1 ? bern_dl_head_##T(x, a, gr, g, D, c->accumulate) : 0;            \
            if (s0 == 1 && s1 == 1 && c->accumulate)                                                 \
                for (int64_t d = d0; d < D; d++) g[d] += gr * bern_dl_##T(x[d], a[d]);               \
            else if (s0 == 1 && s1 == 1)                                                             \
                for (int64_t d = d0; d < D; d++) g[d] = gr * bern_dl_##T(x[d], a[d]);                \
            else                                                                                     \
                for (int64_t d = 0; d < D; d++) {                                                    \
                    const T v = gr * bern_dl_##T(x[d * s1], a[d * s0]);                              \
                    g[d] = c->accumulate ? g[d] + v : v;                                             \
                }                                                                                    \
        }                                                                                            \
    }
BERN(float)
BERN(double)

static void bern_init(bern_ctx *c, const vae_tensor *l, const vae_tensor *x, const void *gy,
                      void *out, int accumulate) {
    c->l = l;
    c->x = x;
    c->gy = gy;
    c->out = out;
    c->accumulate = accumulate;
    c->nd = 0;
    vae_broadcast_shape(l->ndim, l->shape, x->ndim, x->shape, &c->nd, c->full);
    vae_broadcast_strides(l, c->nd, c->full, c->sl);
    vae_broadcast_strides(x, c->nd, c->full, c->sx);
    c->D = c->full[c->nd - 1];
    c->rows = 1;
    for (int i = 0; i < c->nd - 1; i++) c->rows *= c->full[i];
    c->ntasks = vae__par_tasks((double)c->rows * (double)c->D * 8);
    if (c->ntasks > c->rows) c->ntasks = c->rows;
}

void VAE__EW(vae_k_bernoulli_lp)(const vae_tensor *l, const vae_tensor *x, vae_tensor *out) {
    bern_ctx c;
    bern_init(&c, l, x, NULL, vae_tensor_ptr(out), 0);
    if (c.rows <= 0) return;
    vae_parallel_for(c.ntasks, l->dtype == VAE_F64 ? bern_fwd_task_double : bern_fwd_task_float,
                     &c);
}

void VAE__EW(vae_k_bernoulli_lp_grad)(const vae_tensor *l, const vae_tensor *x,
                                      const vae_tensor *gy, vae_tensor *g, int accumulate) {
    bern_ctx c;
    bern_init(&c, l, x, vae_tensor_ptr(gy), vae_tensor_ptr(g), accumulate);
    if (c.rows <= 0 || c.D <= 0) return;
    vae_parallel_for(c.ntasks, l->dtype == VAE_F64 ? bern_bwd_task_double : bern_bwd_task_float,
                     &c);
}

/* ---- KL(N(mu, e^lv) || N(0, I)) of f32 rows: the closed form and its gradient (kernels.h) ----
 * In f64, like the scalar op it replaces (an f32 lv is exact in f64): x = n ln2 + r (|r| <= ln2/2, Cody-Waite), and
 * expm1(r) = r + r^2 P(r) with P the Taylor series of (e^r - 1 - r) / r^2 to r^12 (truncation < 2e-17 relative). The
 * KL term e^v - 1 - v is r^2 P(r) itself when n = 0 (|v| < 0.35: no cancellation, full relative accuracy near v = 0,
 * where expm1(v) - v would lose everything to rounding), else expm1(v) - v (|v| > 0.34: expm1 >= 1.4 |v|, a loss of
 * under 2 bits of f64). Branch-free, so gcc vectorizes it in every ISA variant with the same bits (no FMA). */
static inline double kl_pow2(int64_t n) { /* 2^n, -1022 <= n <= 1023 */
    const uint64_t u = (uint64_t)(n + 1023) << 52;
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* *em1 = expm1(x) and the return value = expm1(x) - x, for x in f64 (NaN propagates). */
static inline double kl_terms(double x, double *em1) {
    const double c = x < -40.0 ? -40.0 : x > 700.0 ? 700.0 : x; /* e^-40 - 1 rounds to -1 */
    const double shifter = 0x1.8p52, t = c * 0x1.71547652b82fep0 + shifter; /* round(c / ln2) */
    uint64_t tb, sb;
    memcpy(&tb, &t, sizeof tb);
    memcpy(&sb, &shifter, sizeof sb);
    const int64_t n = (int64_t)(tb - sb);
    const double nd = t - shifter;
    const double r = (c - nd * 0x1.62e42fee00000p-1) - nd * 0x1.a39ef35793c76p-33; /* ln2 hi + lo */
    double p = 1.0 / 6227020800.0;                                                 /* 1/13! */
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    const double rr = r * r * p, q = r + rr, s = kl_pow2(n);
    const double e = s * q + (s - 1.0);
    *em1 = n == 0 ? q : e;
    return n == 0 ? rr : e - x;
}

enum { KL_CHUNK = 64 };

/* Each row's terms mu^2 + (e^lv - 1 - lv), KL_CHUNK at a time (vectorized), then summed left to right in f64 by one
 * thread: the bits do not depend on the ISA or thread count. Rows are few (a batch of latent vectors): no threads. */
void VAE__EW(vae_k_normal_kl_std_f32)(const float *mu, int64_t smu, const float *lv, int64_t slv,
                                      int64_t rows, int64_t Z, float *y) {
    double t[KL_CHUNK];
    for (int64_t r = 0; r < rows; r++) {
        const float *m = mu + r * smu, *v = lv + r * slv;
        double acc = 0;
        for (int64_t j0 = 0; j0 < Z; j0 += KL_CHUNK) {
            const int c = Z - j0 < KL_CHUNK ? (int)(Z - j0) : KL_CHUNK;
            for (int j = 0; j < c; j++) {
                const double mj = m[j0 + j];
                double em1;
                t[j] = mj * mj + kl_terms(v[j0 + j], &em1);
            }
            for (int j = 0; j < c; j++) acc += t[j];
        }
        y[r] = (float)(0.5 * acc);
    }
}

/* gm += gy[r] mu, gl += gy[r] / 2 expm1(lv), in f64 rounded once to f32; gm, gl (rows, Z) contiguous or NULL. */
void VAE__EW(vae_k_normal_kl_std_grad_f32)(const float *mu, int64_t smu, const float *lv,
                                           int64_t slv, const float *gy, int64_t rows, int64_t Z,
                                           float *gm, float *gl) {
    for (int64_t r = 0; r < rows; r++) {
        const float *restrict m = mu + r * smu, *restrict v = lv + r * slv;
        const double g = gy[r], gh = g * 0.5;
        if (gm) {
            float *restrict o = gm + r * Z;
            for (int64_t j = 0; j < Z; j++) o[j] = (float)((double)o[j] + g * (double)m[j]);
        }
        if (gl) {
            float *restrict o = gl + r * Z;
            for (int64_t j = 0; j < Z; j++) {
                double em1;
                (void)kl_terms(v[j], &em1);
                o[j] = (float)((double)o[j] + gh * em1);
            }
        }
    }
}
