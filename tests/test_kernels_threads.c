/* Threaded elementwise, accumulate, fused and Adam kernels give the same bits for 1, 2, 3 and 4 threads and for every
 * ISA variant this CPU runs (vae_simd_set_path): memcmp against the portable 1-thread result, below and above the
 * threading threshold, on contiguous, broadcast and transposed inputs, f32 and f64, plus special values. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/kernels.h"
#include "tensor/rng.h"
#include "tensor/threadpool.h"
#include "tensor/view.h"
#include "test.h"

static vae_arena *g_ar;
static vae_rng g_rng;

static vae_tensor *rnd(vae_dtype dt, int nd, const int64_t *shape, double scale) {
    vae_tensor *t = vae_tensor_alloc(g_ar, NULL, dt, nd, shape);
    for (int64_t i = 0; t && i < vae_numel(t); i++)
        vae_set_flat(t, i, scale * vae_rng_normal(&g_rng));
    return t;
}

static size_t nbytes(const vae_tensor *t) {
    return (size_t)vae_numel(t) * vae_dtype_size(t->dtype);
}

/* Set by check_special: a NaN result may be any NaN. IEEE 754 does not say which NaN an operation with two NaN
 * operands returns; x86 returns the first, and each ISA variant's code may order a commutative operation's operands
 * differently, so with NaN inputs only "NaN or not" is the same on every path. Every other result is compared bit
 * for bit. */
static int g_any_nan;

static int equal(const void *ref, const void *out, size_t n) {
    if (!g_any_nan) return memcmp(ref, out, n) == 0;
    const float *a = ref, *b = out;
    for (size_t i = 0; i < n / sizeof(float); i++)
        if (!(a[i] != a[i] && b[i] != b[i]) && memcmp(&a[i], &b[i], sizeof(float))) return 0;
    return 1;
}

/* Run `body` with 1..4 threads and each available ISA path on a fresh copy of `init` in `out`; 1 when every result
 * equals the portable 1-thread one. */
typedef void (*body_fn)(void *ctx, vae_tensor *out);
static int same_bits(body_fn body, void *ctx, vae_tensor *out, const vae_tensor *init) {
    size_t n = nbytes(out);
    void *ref = malloc(n ? n : 1);
    int ok = ref != NULL;
    for (int p = VAE_SIMD_PORTABLE; ok && p < VAE_SIMD_PATH_COUNT_; p++) {
        if (vae_simd_set_path((vae_simd_path)p) != VAE_OK) continue;
        for (int nt = 1; ok && nt <= 4; nt++) {
            vae_threads_set(nt);
            memcpy(out->data, init->data, n);
            body(ctx, out);
            if (p == VAE_SIMD_PORTABLE && nt == 1)
                memcpy(ref, out->data, n);
            else
                ok = equal(ref, out->data, n);
        }
    }
    vae_simd_set_path(VAE_SIMD_AUTO);
    vae_threads_set(0);
    free(ref);
    return ok;
}

typedef struct {
    int kind, op;
    const vae_tensor *a, *b, *c;
} call;

enum {
    K_UNARY,
    K_UNARY_GRAD,
    K_BINARY,
    K_BINARY_GRAD,
    K_WHERE,
    K_COPY,
    K_FILL,
    K_ACCUM,
    K_BIAS_ACT,
    K_ACT_GRAD,
    K_BERN,
    K_BERN_GRAD,
    K_ADAM,
    K_NLPDF,
    K_NLPDF_GRAD
};

static void run_call(void *vc, vae_tensor *out) {
    const call *c = vc;
    switch (c->kind) {
    case K_UNARY:
        vae_k_unary((vae_unary)c->op, 0.3, 0.7, c->a, out);
        break;
    case K_UNARY_GRAD:
        vae_k_unary_grad((vae_unary)c->op, 0.3, 0.7, c->a, c->b, c->c, out);
        break;
    case K_BINARY:
        vae_k_binary((vae_binary)c->op, c->a, c->b, out);
        break;
    case K_BINARY_GRAD:
        vae_k_binary_grad((vae_binary)c->op, 1, c->a, c->b, c->c, c->c, out);
        break;
    case K_WHERE:
        vae_k_where(c->c, c->a, c->b, out);
        break;
    case K_COPY:
        vae_k_copy(out, c->a);
        break;
    case K_FILL:
        vae_k_fill(out, 0.25);
        break;
    case K_ACCUM: { /* out viewed with a's shape: stride 0 where out was broadcast */
        vae_tensor v = *out;
        v.ndim = c->a->ndim;
        memcpy(v.shape, c->a->shape, sizeof v.shape);
        vae_broadcast_strides(out, c->a->ndim, c->a->shape, v.stride);
        vae_k_accum(&v, c->a);
        break;
    }
    case K_BIAS_ACT:
        vae_k_bias_act(out, c->b, (vae_kact)c->op, 0.5);
        break;
    case K_ACT_GRAD:
        vae_k_act_grad((vae_kact)c->op, 0.5, c->a, c->b, out);
        break;
    case K_BERN:
        vae_k_bernoulli_lp(c->a, c->b, out);
        break;
    case K_BERN_GRAD:
        vae_k_bernoulli_lp_grad(c->a, c->b, c->c, out, c->op);
        break;
    case K_ADAM: { /* out holds x, m, v (n each; v made >= 0 by the caller's init), c->a the gradient */
        const vae_k_adam h = {0.9f, 0.999f, 0.01f, 1e-8f, 1e-3f, 1.3f, 0.999f};
        const int64_t n = vae_numel(c->a);
        float *x = out->data;
        vae_k_adam_f32(x, x + n, x + 2 * n, c->a->data, n, &h, NULL, NULL);
        break;
    }
    case K_NLPDF: /* x, mu, log-scale */
        vae_k_normal_lpdf(c->a, c->b, c->c, out);
        break;
    case K_NLPDF_GRAD: { /* out (3, ...x's shape): gx, gmu, gs (op 1: gx alone); gy = x */
        vae_tensor g[3];
        for (int k = 0; k < 3; k++) {
            g[k] = *c->a;
            g[k].data = (char *)out->data + (size_t)k * nbytes(c->a);
            g[k].offset = 0;
            vae_contiguous_strides(g[k].ndim, g[k].shape, g[k].stride);
        }
        vae_k_normal_lpdf_grad(c->a, c->b, c->c, c->a, &g[0], c->op ? NULL : &g[1], c->op ? NULL : &g[2]);
        break;
    }
    default:
        break;
    }
}

static vae_tensor transposed(const vae_tensor *t) {
    vae_tensor v;
    vae_view_transpose(t, -1, -2, &v, NULL);
    return v;
}

static void check_size(vae_dtype dt, int64_t K, int64_t B, int64_t D) {
    int64_t full[3] = {K, B, D}, row[2] = {B, D}, lp[3] = {K, B, 1}, bias[1] = {D};
    int64_t tfull[3] = {K, D, B};
    vae_tensor *a = rnd(dt, 3, full, 3), *b = rnd(dt, 3, full, 1), *g = rnd(dt, 3, full, 1);
    vae_tensor *o = rnd(dt, 3, full, 1), *init = rnd(dt, 3, full, 1), *y = rnd(dt, 3, full, 0.5);
    vae_tensor *xr = rnd(dt, 2, row, 1), *mask = rnd(dt, 2, row, 1), *bv = rnd(dt, 1, bias, 0.1);
    vae_tensor *out_lp = rnd(dt, 3, lp, 1), *init_lp = rnd(dt, 3, lp, 1),
               *gy_lp = rnd(dt, 3, lp, 1);
    vae_tensor *db = rnd(dt, 1, bias, 1), *init_db = rnd(dt, 1, bias, 1),
               *xrt_src = rnd(dt, 3, tfull, 1);
    vae_tensor *orow = rnd(dt, 2, row, 1), *init_row = rnd(dt, 2, row, 1);
    if (!a || !b || !g || !o || !init || !y || !xr || !mask || !bv || !out_lp || !init_lp ||
        !gy_lp || !db || !init_db || !xrt_src || !orow || !init_row) {
        CHECK(0);
        return;
    }
    for (int64_t i = 0; i < vae_numel(xr); i++) vae_set_flat(xr, i, vae_get_flat(xr, i) > 0);
    for (int64_t i = 0; i < vae_numel(mask); i++) vae_set_flat(mask, i, vae_get_flat(mask, i) > 0);
    vae_tensor at = transposed(xrt_src); /* (K, B, D) with the last two dims swapped in memory */
    const char *dn = dt == VAE_F64 ? "f64" : "f32";
#define SAME(label, out, init, ...)                                                                \
    do {                                                                                           \
        call c_ = {__VA_ARGS__};                                                                   \
        CHECK_MSG(same_bits(run_call, &c_, out, init), "%s %s (%lld,%lld,%lld)", label, dn,        \
                  (long long)K, (long long)B, (long long)D);                                       \
    } while (0)
    const vae_unary uops[] = {VAE_U_EXP,   VAE_U_TANH,  VAE_U_SIGMOID,     VAE_U_SOFTPLUS,
                              VAE_U_RELU,  VAE_U_ELU,   VAE_U_LOG1P,       VAE_U_MUL_SCALAR,
                              VAE_U_CLAMP, VAE_U_EXPM1, VAE_U_LOG_SIGMOID, VAE_U_SQRT};
    for (size_t i = 0; i < sizeof uops / sizeof uops[0]; i++) {
        SAME("unary", o, init, K_UNARY, uops[i], a, NULL, NULL);
        SAME("unary transposed", o, init, K_UNARY, uops[i], &at, NULL, NULL);
        SAME("unary_grad", o, init, K_UNARY_GRAD, uops[i], a, y, b);
    }
    for (int op = 0; op < VAE_B_COUNT_; op++) {
        SAME("binary", o, init, K_BINARY, op, a, b, NULL);
        SAME("binary broadcast", o, init, K_BINARY, op, a, xr, NULL);
        SAME("binary transposed", o, init, K_BINARY, op, &at, xr, NULL);
        SAME("binary_grad", o, init, K_BINARY_GRAD, op, a, xr, y);
    }
    SAME("where", o, init, K_WHERE, 0, a, &at, mask);
    SAME("copy broadcast", o, init, K_COPY, 0, xr, NULL, NULL);
    SAME("copy transposed", o, init, K_COPY, 0, &at, NULL, NULL);
    SAME("fill", o, init, K_FILL, 0, NULL, NULL, NULL);
    SAME("accum", o, init, K_ACCUM, 0, a, NULL, NULL);
    SAME("accum transposed", o, init, K_ACCUM, 0, &at, NULL, NULL);
    SAME("accum bias (column sums)", db, init_db, K_ACCUM, 0, a, NULL, NULL);
    SAME("accum over K", orow, init_row, K_ACCUM, 0, a, NULL, NULL);
    SAME("accum row sums", out_lp, init_lp, K_ACCUM, 0, a, NULL, NULL);
    for (int act = 0; act < VAE_KACT_COUNT_; act++) {
        SAME("bias_act", o, a, K_BIAS_ACT, act, NULL, bv, NULL);
        SAME("act_grad", o, init, K_ACT_GRAD, act, y, b, NULL);
    }
    SAME("bernoulli_lp", out_lp, init_lp, K_BERN, 0, a, xr, NULL);
    SAME("bernoulli_lp transposed", out_lp, init_lp, K_BERN, 0, &at, xr, NULL);
    SAME("bernoulli_lp_grad", o, init, K_BERN_GRAD, 0, a, xr, gy_lp);
    SAME("bernoulli_lp_grad +=", o, init, K_BERN_GRAD, 1, &at, xr, gy_lp);
    { /* x (K, B, D) against (B, D) parameters; against a transposed x and one scalar log-scale */
        vae_tensor *s0 = vae_tensor_alloc(g_ar, NULL, dt, 0, NULL);
        int64_t s3[2] = {3, vae_numel(a)};
        vae_tensor *g3 = rnd(dt, 2, s3, 1), *g30 = rnd(dt, 2, s3, 1);
        CHECK(s0 && g3 && g30);
        if (s0 && g3 && g30) {
            vae_set_flat(s0, 0, -0.3);
            SAME("normal_lpdf", o, init, K_NLPDF, 0, a, xr, mask);
            SAME("normal_lpdf transposed", o, init, K_NLPDF, 0, &at, xr, s0);
            SAME("normal_lpdf_grad", g3, g30, K_NLPDF_GRAD, 0, a, xr, mask);
            SAME("normal_lpdf_grad scalar", g3, g30, K_NLPDF_GRAD, 0, a, xr, s0);
            SAME("normal_lpdf_grad gx alone", g3, g30, K_NLPDF_GRAD, 1, a, xr, mask);
            SAME("normal_lpdf_grad gx alone, scalars", g3, g30, K_NLPDF_GRAD, 1, a, s0, s0);
        }
    }
    if (dt == VAE_F32) { /* x, m, v in one (3, K*B*D) buffer; v = |init| */
        int64_t s3[2] = {3, vae_numel(a)};
        vae_tensor *xmv = rnd(dt, 2, s3, 1), *xmv0 = rnd(dt, 2, s3, 1);
        CHECK(xmv && xmv0);
        if (xmv && xmv0) {
            float *v = (float *)xmv0->data + 2 * vae_numel(a);
            for (int64_t i = 0; i < vae_numel(a); i++) v[i] = v[i] < 0 ? -v[i] : v[i];
            SAME("adam_f32", xmv, xmv0, K_ADAM, 0, g, NULL, NULL);
        }
    }
#undef SAME
}

/* f32 inputs spread over every exponent (bit patterns stepped by a prime: NaNs, infinities, subnormals, +-0) plus
 * the edges of vmath.h (-1 for log1p, the clamps of exp/expm1/tanh): each unary op, its gradient, each activation,
 * the Bernoulli pair and the Normal log-density pair give the same results on every ISA path (bits, but any NaN for a
 * NaN: see g_any_nan). */
static void check_special(void) {
    static const float edge[] = {
        -1.0f, -1.0000001f, -0.99999994f,       -104.0f, -103.99999f, 89.0f, 88.72f, -20.0f,
        9.1f,  -9.1f,       24.0f * 0.6931472f, 1e-30f,  -1e-30f,     0.0f,  -0.0f};
    int64_t shape[2] = {64, 1031}; /* odd rows: vector bodies and scalar tails both see specials */
    vae_tensor *a = rnd(VAE_F32, 2, shape, 1), *y = rnd(VAE_F32, 2, shape, 1),
               *o = rnd(VAE_F32, 2, shape, 1);
    vae_tensor *init = rnd(VAE_F32, 2, shape, 1), *bias = rnd(VAE_F32, 1, shape + 1, 0.1);
    int64_t lps[2] = {64, 1};
    vae_tensor *lp = rnd(VAE_F32, 2, lps, 1), *lp0 = rnd(VAE_F32, 2, lps, 1);
    if (!a || !y || !o || !init || !bias || !lp || !lp0) {
        CHECK(0);
        return;
    }
    g_any_nan = 1;
    float *pa = a->data;
    const int64_t n = vae_numel(a), ne = (int64_t)(sizeof edge / sizeof edge[0]);
    for (int64_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)i * 65537u * 257u + 0x9e3779b9u;
        memcpy(&pa[i], &u, sizeof u);
        if (i % 5 == 0) pa[i] = edge[(i / 5) % ne];
    }
    for (int op = 0; op < VAE_U_COUNT_; op++) {
        call c = {K_UNARY, op, a, NULL, NULL}, cg = {K_UNARY_GRAD, op, a, y, y};
        CHECK_MSG(same_bits(run_call, &c, o, init), "special values: unary %d", op);
        CHECK_MSG(same_bits(run_call, &cg, o, init), "special values: unary_grad %d", op);
    }
    for (int act = 0; act < VAE_KACT_COUNT_; act++) {
        call c = {K_BIAS_ACT, act, NULL, bias, NULL}, cg = {K_ACT_GRAD, act, a, y, NULL};
        CHECK_MSG(same_bits(run_call, &c, o, a), "special values: bias_act %d", act);
        CHECK_MSG(same_bits(run_call, &cg, o, init), "special values: act_grad %d", act);
    }
    call cb = {K_BERN, 0, a, y, NULL}, cbg = {K_BERN_GRAD, 0, a, y, lp0};
    CHECK_MSG(same_bits(run_call, &cb, lp, lp0), "special values: bernoulli_lp");
    CHECK_MSG(same_bits(run_call, &cbg, o, init), "special values: bernoulli_lp_grad");
    /* the Normal log-density pair with special x and special log-scales (e^s: 0, subnormal, inf) */
    int64_t s3[2] = {3, n};
    vae_tensor *g3 = rnd(VAE_F32, 2, s3, 1), *g30 = rnd(VAE_F32, 2, s3, 1);
    CHECK(g3 && g30);
    if (g3 && g30) {
        call cn = {K_NLPDF, 0, a, y, a}, cng = {K_NLPDF_GRAD, 0, a, y, a};
        CHECK_MSG(same_bits(run_call, &cn, o, init), "special values: normal_lpdf");
        CHECK_MSG(same_bits(run_call, &cng, g3, g30), "special values: normal_lpdf_grad");
    }
    g_any_nan = 0;
}

int main(void) {
    CHECK(vae_simd_set_path(VAE_SIMD_PATH_COUNT_) == VAE_ERR_ARG);
    CHECK(vae_simd_set_path(VAE_SIMD_PORTABLE) == VAE_OK &&
          vae_simd_get_path() == VAE_SIMD_PORTABLE);
    CHECK(vae_simd_set_path(VAE_SIMD_AUTO) == VAE_OK && vae_simd_get_path() != VAE_SIMD_AUTO);
    CHECK(strcmp(vae_simd_path_name(VAE_SIMD_AVX512), "avx512") == 0);
    for (int p = VAE_SIMD_PORTABLE; p < VAE_SIMD_PATH_COUNT_; p++)
        printf("simd path %s: %s\n", vae_simd_path_name((vae_simd_path)p),
               vae_simd_set_path((vae_simd_path)p) == VAE_OK ? "tested" : "not available");
    vae_simd_set_path(VAE_SIMD_AUTO);
    g_ar = vae_arena_new(0);
    vae_rng_seed(&g_rng, 11);
    for (int dt = 0; dt < 2; dt++) {
        vae_dtype T = dt ? VAE_F64 : VAE_F32;
        check_size(T, 2, 3, 5); /* tiny: serial everywhere */
        check_size(T, 3, 20,
                   100); /* 6k elements: below the threshold for cheap ops, above for costly */
        check_size(T, 50, 20, 199); /* 199k: split, odd row length so chunk edges fall mid-row */
        check_size(T, 7, 100, 784); /* W1-like rows */
        vae_arena_reset(g_ar);
    }
    check_special();
    vae_arena_free(g_ar);
    return test_finish();
}
