/* Threaded elementwise, accumulate and fused kernels give the same bits for 1, 2, 3 and 4 threads (memcmp against
 * the 1-thread result), below and above the threading threshold, on contiguous, broadcast and transposed inputs,
 * f32 and f64. */
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
    for (int64_t i = 0; t && i < vae_numel(t); i++) vae_set_flat(t, i, scale * vae_rng_normal(&g_rng));
    return t;
}

static size_t nbytes(const vae_tensor *t) { return (size_t)vae_numel(t) * vae_dtype_size(t->dtype); }

/* Run `body` with 1..4 threads on a fresh copy of `init` in `out`; 1 when every result equals the 1-thread one. */
typedef void (*body_fn)(void *ctx, vae_tensor *out);
static int same_bits(body_fn body, void *ctx, vae_tensor *out, const vae_tensor *init) {
    size_t n = nbytes(out);
    void *ref = malloc(n ? n : 1);
    int ok = ref != NULL;
    for (int nt = 1; ok && nt <= 4; nt++) {
        vae_threads_set(nt);
        memcpy(out->data, init->data, n);
        body(ctx, out);
        if (nt == 1) memcpy(ref, out->data, n);
        else ok = memcmp(ref, out->data, n) == 0;
    }
    vae_threads_set(0);
    free(ref);
    return ok;
}

typedef struct {
    int kind, op;
    const vae_tensor *a, *b, *c;
} call;

enum { K_UNARY, K_UNARY_GRAD, K_BINARY, K_BINARY_GRAD, K_WHERE, K_COPY, K_FILL, K_ACCUM, K_BIAS_ACT, K_ACT_GRAD,
       K_BERN, K_BERN_GRAD };

static void run_call(void *vc, vae_tensor *out) {
    const call *c = vc;
    switch (c->kind) {
    case K_UNARY: vae_k_unary((vae_unary)c->op, 0.3, 0.7, c->a, out); break;
    case K_UNARY_GRAD: vae_k_unary_grad((vae_unary)c->op, 0.3, 0.7, c->a, c->b, c->c, out); break;
    case K_BINARY: vae_k_binary((vae_binary)c->op, c->a, c->b, out); break;
    case K_BINARY_GRAD: vae_k_binary_grad((vae_binary)c->op, 1, c->a, c->b, c->c, c->c, out); break;
    case K_WHERE: vae_k_where(c->c, c->a, c->b, out); break;
    case K_COPY: vae_k_copy(out, c->a); break;
    case K_FILL: vae_k_fill(out, 0.25); break;
    case K_ACCUM: { /* out viewed with a's shape: stride 0 where out was broadcast */
        vae_tensor v = *out;
        v.ndim = c->a->ndim;
        memcpy(v.shape, c->a->shape, sizeof v.shape);
        vae_broadcast_strides(out, c->a->ndim, c->a->shape, v.stride);
        vae_k_accum(&v, c->a);
        break;
    }
    case K_BIAS_ACT: vae_k_bias_act(out, c->b, (vae_kact)c->op, 0.5); break;
    case K_ACT_GRAD: vae_k_act_grad((vae_kact)c->op, 0.5, c->a, c->b, out); break;
    case K_BERN: vae_k_bernoulli_lp(c->a, c->b, out); break;
    case K_BERN_GRAD: vae_k_bernoulli_lp_grad(c->a, c->b, c->c, out, c->op); break;
    default: break;
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
    vae_tensor *out_lp = rnd(dt, 3, lp, 1), *init_lp = rnd(dt, 3, lp, 1), *gy_lp = rnd(dt, 3, lp, 1);
    vae_tensor *db = rnd(dt, 1, bias, 1), *init_db = rnd(dt, 1, bias, 1), *xrt_src = rnd(dt, 3, tfull, 1);
    vae_tensor *orow = rnd(dt, 2, row, 1), *init_row = rnd(dt, 2, row, 1);
    if (!a || !b || !g || !o || !init || !y || !xr || !mask || !bv || !out_lp || !init_lp || !gy_lp || !db ||
        !init_db || !xrt_src || !orow || !init_row) {
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
    const vae_unary uops[] = {VAE_U_EXP, VAE_U_TANH, VAE_U_SIGMOID, VAE_U_SOFTPLUS, VAE_U_RELU, VAE_U_ELU,
                              VAE_U_LOG1P, VAE_U_MUL_SCALAR, VAE_U_CLAMP};
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
#undef SAME
}

int main(void) {
    g_ar = vae_arena_new(0);
    vae_rng_seed(&g_rng, 11);
    for (int dt = 0; dt < 2; dt++) {
        vae_dtype T = dt ? VAE_F64 : VAE_F32;
        check_size(T, 2, 3, 5);      /* tiny: serial everywhere */
        check_size(T, 3, 20, 100);   /* 6k elements: below the threshold for cheap ops, above for costly */
        check_size(T, 50, 20, 199);  /* 199k: split, odd row length so chunk edges fall mid-row */
        check_size(T, 7, 100, 784);  /* W1-like rows */
        vae_arena_reset(g_ar);
    }
    vae_arena_free(g_ar);
    return test_finish();
}
