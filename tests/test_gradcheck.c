/* Gradcheck of every differentiable op on contiguous, transposed and broadcast inputs, plus the meta-test: every
 * op in the op table must appear on the tape of at least one row here. */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "vae.h"

typedef vae_tensor *(*row_fn)(vae_ctx *c, vae_tensor *const *x, int n, void *u);

#define U1(fn_name, call)                                                                          \
    static vae_tensor *fn_name(vae_ctx *c, vae_tensor *const *x, int n, void *u) {                 \
        (void)n;                                                                                   \
        (void)u;                                                                                   \
        return call;                                                                               \
    }

U1(f_neg, vae_neg(c, x[0]))
U1(f_exp, vae_exp(c, x[0]))
U1(f_log, vae_log(c, x[0]))
U1(f_log1p, vae_log1p(c, x[0]))
U1(f_expm1, vae_expm1(c, x[0]))
U1(f_sqrt, vae_sqrt(c, x[0]))
U1(f_square, vae_square(c, x[0]))
U1(f_abs, vae_abs(c, x[0]))
U1(f_tanh, vae_tanh(c, x[0]))
U1(f_sigmoid, vae_sigmoid(c, x[0]))
U1(f_relu, vae_relu(c, x[0]))
U1(f_softplus, vae_softplus(c, x[0]))
U1(f_log_sigmoid, vae_log_sigmoid(c, x[0]))
U1(f_elu, vae_elu(c, x[0], 0.7))
U1(f_leaky, vae_leaky_relu(c, x[0], 0.1))
U1(f_add_s, vae_add_scalar(c, x[0], 1.5))
U1(f_mul_s, vae_mul_scalar(c, x[0], -2.5))
U1(f_pow_s, vae_pow_scalar(c, x[0], 2.5))
U1(f_clamp, vae_clamp(c, x[0], -0.5, 0.5))
U1(f_lgamma, vae_lgamma(c, x[0]))
U1(f_digamma, vae_digamma(c, x[0]))
U1(f_softmax, vae_softmax(c, x[0], -1))
U1(f_log_softmax, vae_log_softmax(c, x[0], 1))
U1(f_cumsum, vae_cumsum(c, x[0], 0, 0))
U1(f_add, vae_add(c, x[0], x[1]))
U1(f_sub, vae_sub(c, x[0], x[1]))
U1(f_mul, vae_mul(c, x[0], x[1]))
U1(f_div, vae_div(c, x[0], x[1]))
U1(f_maximum, vae_maximum(c, x[0], x[1]))
U1(f_minimum, vae_minimum(c, x[0], x[1]))
U1(f_where, vae_where(c, x[0], x[1], x[2]))
/* grad_scale's backward (s * g) differs from its forward's derivative (1) by design; adding (s - 1) * sg(x) makes
 * the forward's derivative s too, so finite differences check the scaled backward. s = 0.5 + 1.5 * mask. */
static vae_tensor *f_grad_scale(vae_ctx *c, vae_tensor *const *x, int n, void *u) {
    (void)n;
    (void)u;
    vae_tensor *s = vae_add_scalar(c, vae_mul_scalar(c, x[1], 1.5), 0.5);
    return vae_add(c, vae_grad_scale(c, x[0], s),
                   vae_mul(c, vae_add_scalar(c, s, -1.0), vae_detach(c, x[0])));
}
U1(f_sum0, vae_sum_axis(c, x[0], 0, 0))
U1(f_sum_all, vae_sum_all(c, x[0]))
U1(f_mean1, vae_mean_axis(c, x[0], -1, 1))
U1(f_max1, vae_max(c, x[0], 1, (int[]){1}, 0))
U1(f_lse, vae_logsumexp(c, x[0], 1, (int[]){-1}, 1))
U1(f_lse02, vae_logsumexp(c, x[0], 2, (int[]){0, 2}, 0))
U1(f_matmul, vae_matmul(c, x[0], x[1]))
U1(f_reshape, vae_mul(c, vae_reshape(c, x[0], VAE_SHAPE(2, 6)), x[1]))
U1(f_permute, vae_mul(c, vae_permute(c, x[0], (int[]){2, 0, 1}), x[1]))
/* x used by a view and by another op: the view's backward runs first (it copies into a fresh gradient that the
 * square then adds to), or last (it adds) */
U1(f_view_first, vae_mul(c, vae_reshape(c, vae_square(c, x[0]), VAE_SHAPE(2, 6)),
                         vae_permute(c, x[0], (int[]){1, 0})))
U1(f_view_last, vae_mul(c, vae_permute(c, x[0], (int[]){1, 0}),
                        vae_reshape(c, vae_square(c, x[0]), VAE_SHAPE(2, 6))))
U1(f_slice, vae_mul(c, vae_slice(c, x[0], 1, 1, 6, 2), x[1]))
U1(f_expand, vae_mul(c, vae_expand(c, x[0], VAE_SHAPE(3, 4)), x[1]))
U1(f_squeeze, vae_mul(c, vae_squeeze(c, x[0], 1), x[1]))
U1(f_unsqueeze, vae_mul(c, vae_unsqueeze(c, x[0], 0), x[1]))
U1(f_contig, vae_mul(c, vae_contiguous(c, x[0]), x[1]))
U1(f_cast, vae_cast(c, vae_mul(c, vae_cast(c, x[0], VAE_F32), vae_cast(c, x[1], VAE_F32)), VAE_F64))
U1(f_concat, vae_concat(c, 2, x, 1))
U1(f_stack, vae_stack(c, 2, x, 0))
/* fused ops: every activation of linear, with batch dims folded into one GEMM */
static vae_tensor *f_linear(vae_ctx *c, vae_tensor *const *x, int n, void *u) {
    (void)n;
    int act = *(const int *)u;
    return vae_linear_act(c, x[0], x[1], x[2], (vae_act)act, 0.3);
}
U1(f_linear_nobias, vae_linear_act(c, x[0], x[1], NULL, VAE_ACT_TANH, 0))
U1(f_bern_lp, vae_bernoulli_logits_lp(c, x[0], x[1]))
U1(f_kl_std, vae_normal_kl_std(c, x[0], x[1]))
U1(f_normal_logpdf, vae_normal_logpdf(c, x[0], x[1], x[2]))
/* convolutions: one row each for the meta-test; tests/test_conv.c has the full grid and the PyTorch values */
U1(f_conv2d, vae_conv2d(c, x[0], x[1], x[2], 2, 1))
U1(f_convt2d, vae_conv_transpose2d(c, x[0], x[1], x[2], 2, 1, 1))
/* the fused conv + activation (nn/conv.h's layers): conv (u = act) and transposed conv (u = act + 100) */
static vae_tensor *f_conv_act(vae_ctx *c, vae_tensor *const *x, int n, void *u) {
    (void)n;
    int a = *(const int *)u;
    if (a >= 100)
        return vae_conv_transpose2d_act(c, x[0], x[1], x[2], 2, 1, 1, (vae_act)(a - 100), 0.3);
    return vae_conv2d_act(c, x[0], x[1], x[2], 2, 1, (vae_act)a, 0.3);
}

typedef struct row {
    const char *name;
    row_fn f;
    int nin;
    vae_gc_input in[3];
    double lo, hi;     /* input values drawn from U[lo, hi] */
    double atol, rtol; /* per-row tolerance */
    double eps;        /* finite-difference step; 0 = 1e-6 */
} row;

#define IN(nd, ...)                                                                                \
    { .ndim = nd, .shape = {__VA_ARGS__}, .requires_grad = 1 }
#define INT(nd, ...)                                                                               \
    { .ndim = nd, .shape = {__VA_ARGS__}, .requires_grad = 1, .layout = VAE_GC_TRANSPOSED }
#define INC(nd, ...)                                                                               \
    { .ndim = nd, .shape = {__VA_ARGS__}, .requires_grad = 0 }

static row rows[] = {
    {"neg", f_neg, 1, {IN(2, 3, 4)}, -2, 2, 1e-6, 1e-6, 0},
    {"exp", f_exp, 1, {INT(2, 3, 4)}, -2, 2, 1e-6, 1e-6, 0},
    {"log", f_log, 1, {IN(2, 3, 4)}, 0.2, 3, 1e-6, 1e-6, 0},
    {"log1p", f_log1p, 1, {IN(1, 7)}, -0.5, 3, 1e-6, 1e-6, 0},
    {"expm1", f_expm1, 1, {INT(2, 2, 3)}, -2, 2, 1e-6, 1e-6, 0},
    {"sqrt", f_sqrt, 1, {IN(2, 3, 4)}, 0.2, 3, 1e-6, 1e-6, 0},
    {"square", f_square, 1, {INT(2, 3, 4)}, -2, 2, 1e-6, 1e-6, 0},
    {"abs", f_abs, 1, {IN(2, 3, 4)}, 0.1, 2, 1e-6, 1e-6, 0},
    {"abs-neg", f_abs, 1, {IN(1, 5)}, -2, -0.1, 1e-6, 1e-6, 0},
    {"tanh", f_tanh, 1, {INT(2, 3, 4)}, -2, 2, 1e-6, 1e-6, 0},
    {"sigmoid", f_sigmoid, 1, {IN(2, 3, 4)}, -6, 6, 1e-6, 1e-6, 0},
    {"relu", f_relu, 1, {IN(2, 3, 4)}, 0.05, 2, 1e-6, 1e-6, 0},
    {"relu-neg", f_relu, 1, {IN(1, 4)}, -2, -0.05, 1e-6, 1e-6, 0},
    {"softplus", f_softplus, 1, {INT(2, 3, 4)}, -30, 30, 1e-6, 1e-6, 0},
    {"log_sigmoid", f_log_sigmoid, 1, {IN(2, 3, 4)}, -30, 30, 1e-6, 1e-6, 0},
    {"elu", f_elu, 1, {IN(2, 3, 4)}, -2, 2, 1e-6, 1e-6, 0},
    {"leaky_relu", f_leaky, 1, {IN(2, 3, 4)}, -2, 2, 1e-6, 1e-6, 0},
    {"add_scalar", f_add_s, 1, {IN(2, 3, 4)}, -2, 2, 1e-6, 1e-6, 0},
    {"mul_scalar", f_mul_s, 1, {INT(2, 3, 4)}, -2, 2, 1e-6, 1e-6, 0},
    {"pow_scalar", f_pow_s, 1, {IN(2, 3, 4)}, 0.2, 2, 1e-6, 1e-6, 0},
    {"clamp", f_clamp, 1, {IN(2, 3, 4)}, -1, 1, 1e-6, 1e-6, 0},
    {"lgamma", f_lgamma, 1, {INT(2, 3, 4)}, 0.2, 5, 1e-6, 1e-6, 0},
    {"digamma", f_digamma, 1, {IN(2, 3, 4)}, 0.3, 5, 1e-6, 1e-6, 0},
    {"softmax-last-T", f_softmax, 1, {INT(2, 3, 4)}, -3, 3, 1e-6, 1e-6, 0},
    {"log_softmax-axis1", f_log_softmax, 1, {IN(3, 2, 3, 4)}, -3, 3, 1e-6, 1e-6, 0},
    {"cumsum-axis0-T", f_cumsum, 1, {INT(2, 3, 4)}, -2, 2, 1e-6, 1e-6, 0},
    {"add-bcast", f_add, 2, {IN(2, 3, 4), IN(1, 4)}, -2, 2, 1e-6, 1e-6, 0},
    {"sub-bcast", f_sub, 2, {IN(2, 3, 1), INT(2, 3, 4)}, -2, 2, 1e-6, 1e-6, 0},
    {"mul-bcast", f_mul, 2, {IN(3, 2, 1, 4), IN(2, 3, 1)}, -2, 2, 1e-6, 1e-6, 0},
    {"div", f_div, 2, {INT(2, 3, 4), IN(2, 3, 4)}, 0.5, 2, 1e-6, 1e-6, 0},
    {"div-bcast", f_div, 2, {IN(2, 3, 4), {.ndim = 0, .requires_grad = 1}}, 0.5, 2, 1e-6, 1e-6, 0},
    {"maximum", f_maximum, 2, {IN(2, 3, 4), IN(1, 4)}, -2, 2, 1e-6, 1e-6, 0},
    {"minimum", f_minimum, 2, {INT(2, 3, 4), IN(2, 3, 4)}, -2, 2, 1e-6, 1e-6, 0},
    {"where", f_where, 3, {INC(2, 3, 4), IN(2, 3, 4), IN(1, 4)}, -2, 2, 1e-6, 1e-6, 0},
    {"grad_scale-bcast", f_grad_scale, 2, {INT(3, 2, 3, 4), INC(3, 2, 3, 1)}, -2, 2, 1e-6, 1e-6, 0},
    {"sum-axis0", f_sum0, 1, {INT(2, 3, 4)}, -2, 2, 1e-6, 1e-6, 0},
    {"sum-all", f_sum_all, 1, {IN(3, 2, 3, 4)}, -2, 2, 1e-6, 1e-6, 0},
    {"mean-keepdim", f_mean1, 1, {INT(2, 3, 4)}, -2, 2, 1e-6, 1e-6, 0},
    {"max-axis1", f_max1, 1, {IN(2, 3, 5)}, -2, 2, 1e-6, 1e-6, 0},
    {"logsumexp-last", f_lse, 1, {INT(2, 3, 4)}, -5, 5, 1e-6, 1e-6, 0},
    {"logsumexp-0,2", f_lse02, 1, {IN(3, 2, 3, 4)}, -5, 5, 1e-6, 1e-6, 0},
    {"matmul", f_matmul, 2, {IN(2, 3, 4), IN(2, 4, 5)}, -1, 1, 1e-6, 1e-6, 0},
    {"matmul-T", f_matmul, 2, {INT(2, 3, 4), INT(2, 4, 5)}, -1, 1, 1e-6, 1e-6, 0},
    {"matmul-batch-bcast", f_matmul, 2, {IN(3, 2, 3, 4), IN(2, 4, 5)}, -1, 1, 1e-6, 1e-6, 0},
    {"matmul-batch-both", f_matmul, 2, {IN(4, 2, 1, 3, 4), INT(3, 3, 4, 2)}, -1, 1, 1e-6, 1e-6, 0},
    {"reshape", f_reshape, 2, {INT(3, 2, 3, 2), IN(2, 2, 6)}, -2, 2, 1e-6, 1e-6, 0},
    {"permute", f_permute, 2, {IN(3, 2, 3, 4), IN(3, 4, 2, 3)}, -2, 2, 1e-6, 1e-6, 0},
    {"view-first", f_view_first, 1, {IN(2, 6, 2)}, -2, 2, 1e-6, 1e-6, 0},
    {"view-last", f_view_last, 1, {IN(2, 6, 2)}, -2, 2, 1e-6, 1e-6, 0},
    {"slice", f_slice, 2, {IN(2, 3, 7), IN(2, 3, 3)}, -2, 2, 1e-6, 1e-6, 0},
    {"expand", f_expand, 2, {IN(2, 1, 4), IN(2, 3, 4)}, -2, 2, 1e-6, 1e-6, 0},
    {"squeeze", f_squeeze, 2, {IN(2, 3, 1), IN(1, 3)}, -2, 2, 1e-6, 1e-6, 0},
    {"unsqueeze", f_unsqueeze, 2, {IN(1, 4), IN(2, 3, 4)}, -2, 2, 1e-6, 1e-6, 0},
    {"contiguous", f_contig, 2, {INT(2, 3, 4), IN(2, 3, 4)}, -2, 2, 1e-6, 1e-6, 0},
    /* through f32: a bilinear function, so a large step is exact and keeps f32 rounding out of the difference */
    {"cast", f_cast, 2, {IN(2, 3, 4), IN(2, 3, 4)}, -2, 2, 1e-4, 1e-4, 0.05},
    {"concat", f_concat, 2, {IN(2, 3, 2), INT(2, 3, 4)}, -2, 2, 1e-6, 1e-6, 0},
    {"stack", f_stack, 2, {IN(2, 3, 4), INT(2, 3, 4)}, -2, 2, 1e-6, 1e-6, 0},
    {"linear-nobias-T", f_linear_nobias, 2, {INT(2, 3, 4), INT(2, 4, 5)}, -1, 1, 1e-6, 1e-6, 0},
    {"bernoulli_logits_lp", f_bern_lp, 2, {IN(3, 2, 3, 4), IN(2, 3, 4)}, -3, 3, 1e-6, 1e-6, 0},
    /* logits broadcast against x: the backward sums the logits' gradient over the broadcast dim */
    {"bernoulli_logits_lp-bcast", f_bern_lp, 2, {INT(2, 3, 4), IN(3, 2, 3, 4)}, -3, 3, 1e-6, 1e-6, 0},
    {"normal_kl_std", f_kl_std, 2, {IN(2, 3, 4), INT(2, 3, 4)}, -2, 2, 1e-6, 1e-6, 0},
    /* z (K, B, Z) against a posterior's (B, Z) parameters, as in IWAE; and x against a (Z,) mean, scalar log-scale */
    {"normal_logpdf-bcast", f_normal_logpdf, 3, {IN(3, 2, 3, 4), IN(2, 3, 4), INT(2, 3, 4)}, -1.5, 1.5, 1e-6, 1e-6,
     0},
    {"normal_logpdf-scalar", f_normal_logpdf, 3, {INT(2, 3, 4), IN(1, 4), {.ndim = 0, .requires_grad = 1}}, -1.5,
     1.5, 1e-6, 1e-6, 0},
    {"conv", f_conv2d, 3, {IN(4, 2, 2, 5, 4), IN(4, 3, 2, 3, 3), IN(1, 3)}, -1, 1, 1e-6, 1e-6, 0},
    {"convt", f_convt2d, 3, {IN(4, 2, 2, 3, 2), IN(4, 2, 3, 3, 3), IN(1, 3)}, -1, 1, 1e-6, 1e-6, 0},
};

int main(void) {
    uint64_t seen[2] = {0, 0};
    vae_rng rng;
    vae_rng_seed(&rng, 7);
    int nrows = (int)(sizeof rows / sizeof rows[0]);
    for (int r = 0; r < nrows; r++) {
        row *R = &rows[r];
        double *bufs[3] = {0};
        for (int i = 0; i < R->nin; i++) {
            int64_t n = 1;
            for (int d = 0; d < R->in[i].ndim; d++) n *= R->in[i].shape[d];
            bufs[i] = malloc(sizeof(double) * (size_t)n);
            for (int64_t j = 0; j < n; j++) {
                double v = R->lo + (R->hi - R->lo) * vae_rng_uniform(&rng);
                if (!R->in[i].requires_grad) v = vae_rng_uniform(&rng) < 0.5; /* a 0/1 mask */
                bufs[i][j] = v;
            }
            R->in[i].data = bufs[i];
        }
        vae_error err = {0};
        vae_gc_result res;
        vae_status s = vae_gradcheck(R->f, NULL, R->nin, R->in, R->eps > 0 ? R->eps : 1e-6, R->atol,
                                     R->rtol, &res, &err);
        CHECK_MSG(s == VAE_OK, "row %s: %s", R->name, err.msg);
        CHECK_MSG(res.checked > 0, "row %s checked nothing", R->name);
        printf("%-22s max|err| %.2e over %lld elements\n", R->name, res.max_abs_err,
               (long long)res.checked);
        seen[0] |= res.ops[0];
        seen[1] |= res.ops[1];
        for (int i = 0; i < R->nin; i++) free(bufs[i]);
    }
    /* linear with every activation on (K, B, in) inputs: leading dims fold into one GEMM */
    for (int act = 0; act < VAE_ACT_COUNT_; act++) {
        double xv[2 * 3 * 4], wv[4 * 5], bv[5];
        for (int i = 0; i < 24; i++) xv[i] = -1 + 2 * vae_rng_uniform(&rng);
        for (int i = 0; i < 20; i++) wv[i] = -1 + 2 * vae_rng_uniform(&rng);
        for (int i = 0; i < 5; i++) bv[i] = -0.5 + vae_rng_uniform(&rng);
        vae_gc_input in[3] = {{.ndim = 3, .shape = {2, 3, 4}, .data = xv, .requires_grad = 1},
                              {.ndim = 2, .shape = {4, 5}, .data = wv, .requires_grad = 1},
                              {.ndim = 1, .shape = {5}, .data = bv, .requires_grad = 1}};
        vae_error err = {0};
        vae_gc_result res;
        CHECK_MSG(vae_gradcheck(f_linear, &act, 3, in, 1e-6, 1e-6, 1e-6, &res, &err) == VAE_OK,
                  "linear act %d: %s", act, err.msg);
        seen[0] |= res.ops[0];
        seen[1] |= res.ops[1];
    }
    /* conv2d and conv_transpose2d with every fused activation, on (2 images, 2 channels) inputs */
    for (int t = 0; t < 2; t++)
        for (int act = 0; act < VAE_ACT_COUNT_; act++) {
            double xv[2 * 2 * 5 * 4], wv[3 * 2 * 3 * 3], bv[3];
            for (int i = 0; i < 80; i++) xv[i] = -1 + 2 * vae_rng_uniform(&rng);
            for (int i = 0; i < 54; i++) wv[i] = -1 + 2 * vae_rng_uniform(&rng);
            for (int i = 0; i < 3; i++) bv[i] = -0.5 + vae_rng_uniform(&rng);
            /* conv: w (O 3, C 2, 3, 3); transposed: w (C 2, O 3, 3, 3) */
            vae_gc_input in[3] = {
                {.ndim = 4, .shape = {2, 2, 5, 4}, .data = xv, .requires_grad = 1},
                {.ndim = 4, .shape = {t ? 2 : 3, t ? 3 : 2, 3, 3}, .data = wv, .requires_grad = 1},
                {.ndim = 1, .shape = {3}, .data = bv, .requires_grad = 1}};
            int u = act + 100 * t;
            vae_error err = {0};
            vae_gc_result res;
            CHECK_MSG(vae_gradcheck(f_conv_act, &u, 3, in, 1e-6, 1e-6, 1e-6, &res, &err) == VAE_OK,
                      "%s act %d: %s", t ? "conv_transpose2d" : "conv2d", act, err.msg);
            CHECK(res.checked > 0);
            seen[0] |= res.ops[0];
            seen[1] |= res.ops[1];
        }
    /* The expanded layout: a (1,4) leaf presented as (3,4) to a unary op. */
    {
        double v[4] = {0.3, -0.2, 0.9, 1.4};
        vae_gc_input in = {.ndim = 2,
                           .shape = {1, 4},
                           .data = v,
                           .requires_grad = 1,
                           .layout = VAE_GC_EXPANDED,
                           .expand_ndim = 2,
                           .expand = {3, 4}};
        vae_error err = {0};
        vae_gc_result res;
        CHECK_MSG(vae_gradcheck(f_tanh, NULL, 1, &in, 1e-6, 1e-6, 1e-6, &res, &err) == VAE_OK, "%s",
                  err.msg);
        seen[0] |= res.ops[0];
        seen[1] |= res.ops[1];
    }
    /* gradcheck itself must catch a wrong gradient: clamp's gradient is 0 outside [lo,hi], so checking it at a
     * kink-free point with a deliberately wrong function pair is not possible; instead check that it reports the
     * mismatch of max's gradient at an exact tie (numeric 0.5 each, analytic all to the first). */
    {
        double v[2] = {1.0, 1.0};
        vae_gc_input in = {.ndim = 2, .shape = {1, 2}, .data = v, .requires_grad = 1};
        vae_error err = {0};
        vae_gc_result res;
        CHECK(vae_gradcheck(f_max1, NULL, 1, &in, 1e-6, 1e-6, 1e-6, &res, &err) ==
              VAE_ERR_MISMATCH);
        CHECK(strstr(err.msg, "analytic") != NULL);
    }
    /* Meta-test: every op of the table was exercised by some row. */
    for (int op = 0; op < VAE_OP_COUNT_; op++) {
        int hit = (int)(seen[op / 64] >> (op % 64) & 1u);
        CHECK_MSG(hit, "op '%s' has no gradcheck row", vae_op_name(op));
    }
    return test_finish();
}
