/* Error paths: every bad shape / argument / dtype gives its code and a message naming the op and the shapes; the
 * first error sticks; NULL flows quietly through a chain; backward's state errors; the arena cap; anomaly mode;
 * bad and huge shapes. Nothing here may crash, print from the library, or leak. */
#include <stdint.h>
#include <string.h>

#include "test.h"
#include "vae.h"

/* y must be NULL with `code` stored and a message holding each non-NULL substring; then the error is cleared. */
static void expect_fail_(vae_ctx *c, const vae_tensor *y, vae_status code, const char *s1,
                         const char *s2, const char *s3, int line) {
    const char *msg = vae_ctx_message(c);
    int ok = y == NULL && vae_ctx_status(c) == code;
    const char *subs[3] = {s1, s2, s3};
    for (int i = 0; i < 3; i++)
        if (subs[i] && !strstr(msg, subs[i])) ok = 0;
    CHECK_MSG(ok, "line %d: want %s error mentioning [%s|%s|%s], got %s (%s) \"%s\"", line,
              vae_status_name(code), s1 ? s1 : "", s2 ? s2 : "", s3 ? s3 : "",
              y ? "a tensor" : "NULL", vae_status_name(vae_ctx_status(c)), msg);
    vae_ctx_clear_error(c);
}
#define EXPECT_FAIL(c, y, code, s1, s2, s3) expect_fail_(c, y, code, s1, s2, s3, __LINE__)

static vae_tensor *Z(vae_ctx *c, int nd, const int64_t *sh) {
    return vae_zeros(c, VAE_F32, nd, sh);
}

static void test_shapes(vae_ctx *c) {
    vae_tensor *a23 = Z(c, VAE_SHAPE(2, 3)), *a4 = Z(c, VAE_SHAPE(4)), *a32 = Z(c, VAE_SHAPE(3, 2));
    EXPECT_FAIL(c, vae_add(c, a23, a4), VAE_ERR_SHAPE, "add", "(2,3)", "(4,)");
    EXPECT_FAIL(c, vae_sub(c, a4, a23), VAE_ERR_SHAPE, "sub", "(4,)", "(2,3)");
    EXPECT_FAIL(c, vae_mul(c, a23, a32), VAE_ERR_SHAPE, "mul", "(2,3)", "(3,2)");
    EXPECT_FAIL(c, vae_div(c, a23, a32), VAE_ERR_SHAPE, "div", "(2,3)", "(3,2)");
    EXPECT_FAIL(c, vae_maximum(c, a23, a4), VAE_ERR_SHAPE, "maximum", "(2,3)", "(4,)");
    EXPECT_FAIL(c, vae_minimum(c, a23, a4), VAE_ERR_SHAPE, "minimum", "(2,3)", "(4,)");
    EXPECT_FAIL(c, vae_where(c, a23, a23, a4), VAE_ERR_SHAPE, "where", "(2,3)", "(4,)");
    EXPECT_FAIL(c, vae_where(c, a4, a23, a23), VAE_ERR_SHAPE, "where", "(4,)", "(2,3)");

    /* matmul: the exact message of the design */
    vae_tensor *x = Z(c, VAE_SHAPE(64, 400)), *w = Z(c, VAE_SHAPE(20, 400));
    CHECK(vae_matmul(c, x, w) == NULL && vae_ctx_status(c) == VAE_ERR_SHAPE);
    CHECK_MSG(strcmp(vae_ctx_message(c), "matmul: (64,400) x (20,400): inner dims 400 != 20") == 0,
              "got \"%s\"", vae_ctx_message(c));
    vae_ctx_clear_error(c);
    EXPECT_FAIL(c, vae_matmul(c, Z(c, VAE_SHAPE(3)), a32), VAE_ERR_SHAPE, "matmul", "(3,)",
                "(3,2)");
    EXPECT_FAIL(c, vae_matmul(c, a23, Z(c, VAE_SHAPE(3))), VAE_ERR_SHAPE, "matmul", "(2,3)",
                "(3,)");
    EXPECT_FAIL(c, vae_matmul(c, Z(c, VAE_SHAPE(2, 3, 4)), Z(c, VAE_SHAPE(3, 4, 5))), VAE_ERR_SHAPE,
                "matmul", "(2,3,4)", "(3,4,5)");
    EXPECT_FAIL(c, vae_matmul(c, Z(c, VAE_SHAPE(2, 3, 4)), Z(c, VAE_SHAPE(3, 4, 5))), VAE_ERR_SHAPE,
                "batch", NULL, NULL);

    /* concat / stack */
    EXPECT_FAIL(c, vae_concat(c, 2, (vae_tensor *[]){a23, a32}, 1), VAE_ERR_SHAPE, "concat",
                "(2,3)", "(3,2)");
    EXPECT_FAIL(c, vae_concat(c, 2, (vae_tensor *[]){a23, a4}, 0), VAE_ERR_SHAPE, "concat", "(2,3)",
                "(4,)");
    EXPECT_FAIL(c, vae_concat(c, 2, (vae_tensor *[]){a23, a23}, 2), VAE_ERR_ARG, "concat", "(2,3)",
                NULL);
    EXPECT_FAIL(c, vae_concat(c, 0, (vae_tensor *[]){a23}, 0), VAE_ERR_ARG, "concat", NULL, NULL);
    EXPECT_FAIL(c, vae_stack(c, 2, (vae_tensor *[]){a23, a32}, 0), VAE_ERR_SHAPE, "stack", "(2,3)",
                "(3,2)");
    EXPECT_FAIL(c, vae_stack(c, 2, (vae_tensor *[]){a23, a23}, 3), VAE_ERR_ARG, "unsqueeze",
                "(2,3)", NULL);

    /* movement */
    EXPECT_FAIL(c, vae_reshape(c, a23, VAE_SHAPE(4, 2)), VAE_ERR_SHAPE, "reshape", "(2,3)",
                "(4,2)");
    EXPECT_FAIL(c, vae_reshape(c, a23, VAE_SHAPE(4, -1)), VAE_ERR_SHAPE, "reshape", "(2,3)",
                "(4,-1)");
    EXPECT_FAIL(c, vae_reshape(c, a23, VAE_SHAPE(-1, -1)), VAE_ERR_SHAPE, "reshape", "(2,3)",
                "(-1,-1)");
    EXPECT_FAIL(c, vae_reshape(c, a23, VAE_SHAPE(0, -1)), VAE_ERR_SHAPE, "reshape", "(2,3)",
                "(0,-1)");
    EXPECT_FAIL(c, vae_reshape(c, a23, VAE_SHAPE(3, -2)), VAE_ERR_SHAPE, "reshape", "(2,3)",
                "(3,-2)");
    EXPECT_FAIL(c, vae_permute(c, a23, (int[]){0, 0}), VAE_ERR_ARG, "permute", "(2,3)", NULL);
    EXPECT_FAIL(c, vae_permute(c, a23, (int[]){0, 2}), VAE_ERR_ARG, "permute", "(2,3)", NULL);
    EXPECT_FAIL(c, vae_transpose(c, a23, 0, 2), VAE_ERR_ARG, "transpose", "(2,3)", NULL);
    EXPECT_FAIL(c, vae_transpose(c, a23, -3, 1), VAE_ERR_ARG, "transpose", "(2,3)", NULL);
    EXPECT_FAIL(c, vae_slice(c, a23, 2, 0, 1, 1), VAE_ERR_ARG, "slice", "(2,3)", NULL);
    EXPECT_FAIL(c, vae_slice(c, a23, 0, 0, 1, 0), VAE_ERR_ARG, "slice", "(2,3)", "step");
    EXPECT_FAIL(c, vae_slice(c, a23, 0, 0, 1, -1), VAE_ERR_ARG, "slice", "(2,3)", "step");
    EXPECT_FAIL(c, vae_expand(c, a23, VAE_SHAPE(2, 4)), VAE_ERR_SHAPE, "expand", "(2,3)", "(2,4)");
    EXPECT_FAIL(c, vae_expand(c, a23, VAE_SHAPE(3)), VAE_ERR_SHAPE, "expand", "(2,3)", "(3,)");
    EXPECT_FAIL(c, vae_expand(c, a23, VAE_SHAPE(-1, 2, 3)), VAE_ERR_SHAPE, "expand", "(2,3)",
                "(-1,2,3)");
    EXPECT_FAIL(c, vae_squeeze(c, a23, 0), VAE_ERR_ARG, "squeeze", "(2,3)", NULL);
    EXPECT_FAIL(c, vae_squeeze(c, a23, 5), VAE_ERR_ARG, "squeeze", "(2,3)", NULL);
    EXPECT_FAIL(c, vae_unsqueeze(c, a23, 4), VAE_ERR_ARG, "unsqueeze", "(2,3)", NULL);
    vae_tensor *d8 = Z(c, VAE_SHAPE(1, 1, 1, 1, 1, 1, 1, 1));
    EXPECT_FAIL(c, vae_unsqueeze(c, d8, 0), VAE_ERR_ARG, "unsqueeze", "(1,1,1,1,1,1,1,1)", NULL);

    /* reductions */
    EXPECT_FAIL(c, vae_sum(c, a23, 1, (int[]){2}, 0), VAE_ERR_ARG, "sum", "(2,3)", "axis 2");
    EXPECT_FAIL(c, vae_mean(c, a23, 2, (int[]){0, -2}, 0), VAE_ERR_ARG, "mean", "(2,3)", NULL);
    EXPECT_FAIL(c, vae_logsumexp(c, a23, 1, (int[]){-3}, 1), VAE_ERR_ARG, "logsumexp", "(2,3)",
                NULL);
    EXPECT_FAIL(c, vae_sum(c, a23, -1, NULL, 0), VAE_ERR_ARG, "sum", NULL, NULL);
    EXPECT_FAIL(c, vae_sum_axis(c, a23, 2, 0), VAE_ERR_ARG, "sum", "(2,3)", NULL);
    vae_tensor *e03 = Z(c, VAE_SHAPE(0, 3));
    EXPECT_FAIL(c, vae_max(c, e03, 1, (int[]){0}, 0), VAE_ERR_SHAPE, "max", "(0,3)", NULL);
    EXPECT_FAIL(c, vae_max(c, e03, 0, NULL, 0), VAE_ERR_SHAPE, "max", "(0,3)", NULL);
    vae_tensor *ok = vae_max(c, e03, 1, (int[]){1}, 0); /* no empty group: (0,) */
    CHECK(ok && ok->ndim == 1 && ok->shape[0] == 0 && vae_ctx_status(c) == VAE_OK);
    /* clamp */
    EXPECT_FAIL(c, vae_clamp(c, a23, 1, 0), VAE_ERR_ARG, "clamp", "(2,3)", NULL);
    EXPECT_FAIL(c, vae_clamp(c, a23, NAN, 0), VAE_ERR_ARG, "clamp", NULL, NULL);
}

static void test_dtypes(vae_ctx *c) {
    vae_tensor *f = Z(c, VAE_SHAPE(2, 3)), *d = vae_zeros(c, VAE_F64, VAE_SHAPE(2, 3));
    vae_tensor *dm = vae_zeros(c, VAE_F64, VAE_SHAPE(3, 2));
    EXPECT_FAIL(c, vae_add(c, f, d), VAE_ERR_DTYPE, "add", "f32", "f64");
    EXPECT_FAIL(c, vae_add(c, f, d), VAE_ERR_DTYPE, "(2,3)", NULL, NULL);
    EXPECT_FAIL(c, vae_mul(c, d, f), VAE_ERR_DTYPE, "mul", "f64", "f32");
    EXPECT_FAIL(c, vae_matmul(c, f, dm), VAE_ERR_DTYPE, "matmul", "(2,3)", "(3,2)");
    EXPECT_FAIL(c, vae_where(c, f, d, d), VAE_ERR_DTYPE, "where", NULL, NULL);
    EXPECT_FAIL(c, vae_concat(c, 2, (vae_tensor *[]){f, d}, 0), VAE_ERR_DTYPE, "concat", "f32",
                "f64");
    EXPECT_FAIL(c, vae_stack(c, 2, (vae_tensor *[]){f, d}, 0), VAE_ERR_DTYPE, "concat", NULL, NULL);
    EXPECT_FAIL(c, vae_cast(c, f, (vae_dtype)7), VAE_ERR_DTYPE, "cast", NULL, NULL);
    EXPECT_FAIL(c, vae_zeros(c, (vae_dtype)2, VAE_SHAPE(2)), VAE_ERR_DTYPE, NULL, NULL, NULL);
    EXPECT_FAIL(c, vae_from_data(c, VAE_F32, VAE_SHAPE(2), (vae_dtype)5, (double[]){1, 2}),
                VAE_ERR_DTYPE, "from_data", NULL, NULL);
}

static void test_sticky_and_null(vae_ctx *c) {
    vae_tensor *a = Z(c, VAE_SHAPE(2, 3)), *b = Z(c, VAE_SHAPE(4));
    CHECK(vae_add(c, a, b) == NULL);
    char first[VAE_ERROR_MSG_LEN];
    snprintf(first, sizeof first, "%s", vae_ctx_message(c));
    CHECK(vae_matmul(c, a, a) == NULL);             /* a second, different error... */
    CHECK(vae_reshape(c, a, VAE_SHAPE(7)) == NULL); /* ...and a third */
    CHECK(vae_ctx_status(c) == VAE_ERR_SHAPE && strcmp(vae_ctx_message(c), first) == 0);
    /* later valid ops still work while the error is stored (only NULL inputs fail) */
    CHECK(vae_exp(c, a) != NULL && strcmp(vae_ctx_message(c), first) == 0);
    vae_ctx_clear_error(c);
    CHECK(vae_ctx_status(c) == VAE_OK && vae_ctx_message(c)[0] == 0);

    /* a whole objective built without checks: NULL flows through, only the first error is kept */
    vae_tensor *w = Z(c, VAE_SHAPE(3, 5));
    vae_tensor *h =
        vae_matmul(c, a, vae_transpose(c, w, 0, 1)); /* (2,3) x (5,3): inner dims 3 != 5 */
    vae_tensor *z = vae_tanh(c, vae_add(c, h, vae_ones(c, VAE_F32, VAE_SHAPE(5))));
    vae_tensor *l = vae_mean(c, vae_sum_axis(c, vae_mul(c, z, z), -1, 0), 0, NULL, 0);
    vae_tensor *cat = vae_concat(c, 2, (vae_tensor *[]){l, z}, 0);
    vae_tensor *st = vae_stack(c, 2, (vae_tensor *[]){cat, l}, 0);
    CHECK(h == NULL && z == NULL && l == NULL && cat == NULL && st == NULL);
    CHECK(vae_ctx_status(c) == VAE_ERR_SHAPE && strstr(vae_ctx_message(c), "inner dims 3 != 5"));
    CHECK(vae_backward(c, l) == VAE_ERR_SHAPE && strstr(vae_ctx_message(c), "matmul:"));
    vae_ctx_clear_error(c);
    /* a NULL input with no earlier error is reported once, as NULL, naming the first op */
    vae_tensor *y = vae_sum_all(c, vae_exp(c, vae_log(c, NULL)));
    CHECK(y == NULL && vae_ctx_status(c) == VAE_ERR_NULL && strstr(vae_ctx_message(c), "log"));
    vae_ctx_clear_error(c);
    EXPECT_FAIL(c, vae_add(c, a, NULL), VAE_ERR_NULL, "add", "input 1", NULL);
    EXPECT_FAIL(c, vae_concat(c, 2, (vae_tensor *[]){a, NULL}, 0), VAE_ERR_NULL, "concat", NULL,
                NULL);
    EXPECT_FAIL(c, vae_bernoulli(c, NULL), VAE_ERR_NULL, "bernoulli", NULL, NULL);
    EXPECT_FAIL(c, vae_wrap(c, VAE_F32, VAE_SHAPE(2), NULL), VAE_ERR_NULL, "wrap", NULL, NULL);
    EXPECT_FAIL(c, vae_from_data(c, VAE_F32, VAE_SHAPE(2), VAE_F32, NULL), VAE_ERR_NULL,
                "from_data", NULL, NULL);
    EXPECT_FAIL(c, vae_arange(c, VAE_F32, 0, 1, 0), VAE_ERR_ARG, "arange", NULL, NULL);
    EXPECT_FAIL(c, vae_arange(c, VAE_F32, 0, INFINITY, 1), VAE_ERR_ARG, "arange", NULL, NULL);
    EXPECT_FAIL(c, vae_arange(c, VAE_F32, 0, 1e16, 1), VAE_ERR_ARG, "arange", NULL, NULL);
    /* a NULL context is harmless everywhere */
    CHECK(vae_exp(NULL, a) == NULL && vae_zeros(NULL, VAE_F32, VAE_SHAPE(2)) == NULL);
    CHECK(vae_concat(NULL, 1, &a, 0) == NULL && vae_backward(NULL, a) == VAE_ERR_NULL);
    CHECK(vae_ctx_status(NULL) == VAE_ERR_NULL && vae_tape_length(NULL) == 0);
    vae_ctx_reset(NULL);
    vae_ctx_free(NULL);
}

static void test_backward_errors(vae_ctx *c) {
    vae_tensor *w = vae_ones(c, VAE_F64, VAE_SHAPE(3));
    CHECK(vae_requires_grad(c, w, 1) == VAE_OK);
    vae_tensor *y = vae_exp(c, w);
    /* non-scalar loss: refused, no gradient written */
    CHECK(vae_backward(c, y) == VAE_ERR_SHAPE && strstr(vae_ctx_message(c), "(3,)"));
    CHECK(w->grad == NULL);
    vae_ctx_clear_error(c);
    /* a loss that does not depend on anything requiring grad */
    vae_tensor *k = vae_sum_all(c, vae_ones(c, VAE_F64, VAE_SHAPE(3)));
    CHECK(vae_backward(c, k) == VAE_ERR_STATE && strstr(vae_ctx_message(c), "backward"));
    vae_ctx_clear_error(c);
    CHECK(vae_backward(c, NULL) == VAE_ERR_NULL);
    vae_ctx_clear_error(c);
    /* seed of the wrong shape */
    CHECK(vae_backward_seeded(c, y, vae_ones(c, VAE_F64, VAE_SHAPE(2))) == VAE_ERR_SHAPE &&
          strstr(vae_ctx_message(c), "(2,)") && strstr(vae_ctx_message(c), "(3,)"));
    vae_ctx_clear_error(c);
    CHECK(vae_backward_seeded(c, y, NULL) == VAE_ERR_SHAPE);
    vae_ctx_clear_error(c);
    CHECK(w->grad == NULL);
    /* the first backward works, the second on the same tape is a state error and changes nothing */
    vae_tensor *L = vae_sum_all(c, y);
    CHECK(vae_backward(c, L) == VAE_OK && w->grad);
    double g0 = w->grad ? vae_get_flat(w->grad, 0) : 0;
    CHECK(vae_backward(c, L) == VAE_ERR_STATE && strstr(vae_ctx_message(c), "reset"));
    CHECK(w->grad && vae_get_flat(w->grad, 0) == g0);
    vae_ctx_clear_error(c);
    /* after a reset, a new graph can run backward again */
    vae_ctx_reset(c);
    w = vae_ones(c, VAE_F64, VAE_SHAPE(3));
    vae_requires_grad(c, w, 1);
    L = vae_sum_all(c, vae_square(c, w));
    /* backward after an error: returns the stored error and keeps its message */
    CHECK(vae_add(c, w, vae_ones(c, VAE_F64, VAE_SHAPE(2))) == NULL);
    CHECK(vae_backward(c, L) == VAE_ERR_SHAPE && strstr(vae_ctx_message(c), "add:"));
    CHECK(w->grad == NULL);
    vae_ctx_clear_error(c);
    CHECK(vae_backward(c, L) == VAE_OK && w->grad && vae_get_flat(w->grad, 2) == 2);
    vae_ctx_reset(c);
    /* requires_grad on a non-leaf, on NULL */
    w = vae_ones(c, VAE_F64, VAE_SHAPE(3));
    vae_requires_grad(c, w, 1);
    y = vae_exp(c, w);
    uint32_t flags = y->flags;
    CHECK(vae_requires_grad(c, y, 0) == VAE_ERR_ARG && strstr(vae_ctx_message(c), "leaf"));
    CHECK(y->flags == flags);
    vae_ctx_clear_error(c);
    CHECK(vae_requires_grad(c, NULL, 1) == VAE_ERR_ARG);
    vae_ctx_clear_error(c);
    vae_ctx_reset(c);
}

static void test_cap(void) {
    const size_t cap = 64 * 1024;
    vae_ctx *c = vae_ctx_new(cap);
    CHECK(c != NULL);
    if (!c) return;
    CHECK(vae_arena_cap(vae_ctx_arena(c)) == cap);
    vae_tensor *big = vae_zeros(c, VAE_F64, VAE_SHAPE(100, 100)); /* 80 KB > 64 KB */
    CHECK(big == NULL && vae_ctx_status(c) == VAE_ERR_OOM);
    CHECK(strstr(vae_ctx_message(c), "cap") && strstr(vae_ctx_message(c), "65536"));
    /* filling the cap in the middle of a graph: every op after returns NULL, backward reports the OOM */
    vae_ctx_clear_error(c);
    vae_tensor *w = vae_ones(c, VAE_F64, VAE_SHAPE(64, 64)); /* 32 KB */
    vae_requires_grad(c, w, 1);
    vae_tensor *h = w;
    for (int i = 0; i < 4 && h; i++) h = vae_tanh(c, h);
    vae_tensor *L = vae_sum_all(c, h);
    CHECK(L == NULL && vae_ctx_status(c) == VAE_ERR_OOM);
    CHECK(vae_backward(c, L) == VAE_ERR_OOM);
    CHECK(vae_arena_used(vae_ctx_arena(c)) <= cap);
    /* usable again after reset + clear_error */
    vae_ctx_reset(c);
    vae_ctx_clear_error(c);
    vae_tensor *x = vae_ones(c, VAE_F64, VAE_SHAPE(16, 16));
    vae_requires_grad(c, x, 1);
    L = vae_sum_all(c, vae_tanh(c, x));
    CHECK(L && vae_backward(c, L) == VAE_OK && vae_ctx_status(c) == VAE_OK);
    CHECK(x->grad && fabs(vae_get_flat(x->grad, 7) - (1 - tanh(1) * tanh(1))) < 1e-12);
    /* backward itself running into the cap: an error, not a crash */
    vae_ctx_reset(c);
    x = vae_ones(c, VAE_F64, VAE_SHAPE(40, 40)); /* 12.8 KB each: x, tanh, grads exceed 64 KB */
    vae_requires_grad(c, x, 1);
    vae_tensor *t = vae_tanh(c, vae_tanh(c, x));
    L = vae_sum_all(c, vae_mul(c, t, x));
    CHECK(L != NULL);
    CHECK(vae_backward(c, L) == VAE_ERR_OOM && vae_ctx_status(c) == VAE_ERR_OOM);
    vae_ctx_free(c);
}

static void test_anomaly(vae_ctx *c) {
    double v[3] = {1, -1, 2};
    vae_tensor *x = vae_from_data(c, VAE_F64, VAE_SHAPE(3), VAE_F64, v);
    /* off: NaN flows silently */
    vae_tensor *y = vae_log(c, x);
    CHECK(y && isnan(vae_get_flat(y, 1)) && vae_ctx_status(c) == VAE_OK);
    CHECK(vae_set_anomaly(c, 1) == 0);
    vae_tensor *z = vae_exp(c, vae_log(c, vae_add_scalar(c, x, 0.5))); /* log(-0.5): NaN */
    CHECK(z == NULL && vae_ctx_status(c) == VAE_ERR_NAN);
    CHECK(strstr(vae_ctx_message(c), "log") && strstr(vae_ctx_message(c), "(3,)"));
    CHECK(!strstr(vae_ctx_message(c), "exp"));
    vae_ctx_clear_error(c);
    vae_tensor *f = vae_full(c, VAE_F32, VAE_SHAPE(2), 100);
    EXPECT_FAIL(c, vae_exp(c, f), VAE_ERR_NAN, "exp", NULL, NULL); /* e^100 overflows f32 */
    EXPECT_FAIL(c, vae_div(c, f, vae_zeros(c, VAE_F32, VAE_SHAPE(2))), VAE_ERR_NAN, "div", NULL,
                NULL);
    EXPECT_FAIL(c,
                vae_matmul(c, vae_reshape(c, f, VAE_SHAPE(1, 2)),
                           vae_full(c, VAE_F32, VAE_SHAPE(2, 1), 3e38f)),
                VAE_ERR_NAN, "matmul", NULL, NULL);
    /* backward: sqrt at 0 is finite forward, infinite slope backward */
    vae_tensor *w = vae_from_data(c, VAE_F64, VAE_SHAPE(3), VAE_F64, (double[]){0, 1, 4});
    vae_requires_grad(c, w, 1);
    vae_tensor *L = vae_sum_all(c, vae_mul_scalar(c, vae_sqrt(c, w), 2));
    CHECK(L && vae_ctx_status(c) == VAE_OK);
    CHECK(vae_backward(c, L) == VAE_ERR_NAN);
    CHECK(strstr(vae_ctx_message(c), "backward") && strstr(vae_ctx_message(c), "sqrt"));
    vae_ctx_clear_error(c);
    vae_set_anomaly(c, 0);
    vae_ctx_reset(c);
    /* with anomaly off the same backward succeeds and yields inf */
    w = vae_from_data(c, VAE_F64, VAE_SHAPE(3), VAE_F64, (double[]){0, 1, 4});
    vae_requires_grad(c, w, 1);
    L = vae_sum_all(c, vae_sqrt(c, w));
    CHECK(vae_backward(c, L) == VAE_OK && w->grad && isinf(vae_get_flat(w->grad, 0)));
    vae_ctx_reset(c);
}

static void test_bad_shapes(vae_ctx *c) {
    EXPECT_FAIL(c, vae_zeros(c, VAE_F32, VAE_SHAPE(2, -3)), VAE_ERR_SHAPE, "negative", "(2,-3)",
                NULL);
    EXPECT_FAIL(c, vae_ones(c, VAE_F64, VAE_SHAPE(-1)), VAE_ERR_SHAPE, "(-1,)", NULL, NULL);
    EXPECT_FAIL(c, vae_zeros(c, VAE_F32, VAE_SHAPE(INT64_C(1) << 40, INT64_C(1) << 40)),
                VAE_ERR_SHAPE, "too many", NULL, NULL);
    EXPECT_FAIL(c, vae_zeros(c, VAE_F32, VAE_SHAPE(INT64_MAX, 2)), VAE_ERR_SHAPE, NULL, NULL, NULL);
    EXPECT_FAIL(c, vae_zeros(c, VAE_F32, VAE_SHAPE(0, INT64_MAX, INT64_MAX)), VAE_ERR_SHAPE, NULL,
                NULL, NULL);
    EXPECT_FAIL(c, vae_zeros(c, VAE_F32, 9, (int64_t[9]){1, 1, 1, 1, 1, 1, 1, 1, 1}), VAE_ERR_SHAPE,
                "ndim 9", NULL, NULL);
    EXPECT_FAIL(c, vae_zeros(c, VAE_F32, -1, NULL), VAE_ERR_SHAPE, NULL, NULL, NULL);
    EXPECT_FAIL(c, vae_zeros(c, VAE_F32, 2, NULL), VAE_ERR_NULL, NULL, NULL, NULL);
    EXPECT_FAIL(c,
                vae_reshape(c, vae_zeros(c, VAE_F32, VAE_SHAPE(2)), 9,
                            (int64_t[9]){2, 1, 1, 1, 1, 1, 1, 1, 1}),
                VAE_ERR_SHAPE, "reshape", NULL, NULL);
    /* huge but representable sizes: malloc fails and the op reports OOM */
    EXPECT_FAIL(c, vae_zeros(c, VAE_F64, VAE_SHAPE(INT64_C(1) << 28, INT64_C(1) << 28)),
                VAE_ERR_OOM, "bytes", NULL, NULL);
    EXPECT_FAIL(c, vae_arange(c, VAE_F64, 0, 1e14, 1), VAE_ERR_OOM, NULL, NULL, NULL);
    /* broadcast results from small read-only inputs: one too large to count, one too large to allocate */
    vae_tensor *one = vae_ones(c, VAE_F32, VAE_SHAPE(1, 1));
    vae_tensor *col31 = vae_expand(c, one, VAE_SHAPE(INT64_C(1) << 31, 1));
    vae_tensor *row31 = vae_expand(c, one, VAE_SHAPE(1, INT64_C(1) << 31));
    vae_tensor *col28 = vae_expand(c, one, VAE_SHAPE(INT64_C(1) << 28, 1));
    vae_tensor *row28 = vae_expand(c, one, VAE_SHAPE(1, INT64_C(1) << 28));
    CHECK(col31 && row31 && col28 && row28 && vae_ctx_status(c) == VAE_OK);
    EXPECT_FAIL(c, vae_add(c, col31, row31), VAE_ERR_SHAPE, "too many", "(2147483648,2147483648)",
                NULL);
    EXPECT_FAIL(c, vae_matmul(c, col31, row31), VAE_ERR_SHAPE, "too many", NULL, NULL);
    EXPECT_FAIL(c, vae_add(c, col28, row28), VAE_ERR_OOM, NULL, NULL, NULL);
    EXPECT_FAIL(c, vae_matmul(c, col28, row28), VAE_ERR_OOM, NULL, NULL, NULL);
    /* the context is fine afterwards */
    vae_ctx_reset(c);
    CHECK(vae_zeros(c, VAE_F32, VAE_SHAPE(3, 3)) != NULL && vae_ctx_status(c) == VAE_OK);
}

int main(void) {
    vae_ctx *c = vae_ctx_new(0);
    CHECK(c != NULL);
    if (!c) return test_finish();
    void (*groups[])(vae_ctx *) = {test_shapes,          test_dtypes,  test_sticky_and_null,
                                   test_backward_errors, test_anomaly, test_bad_shapes};
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        vae_ctx_reset(c);
        vae_ctx_clear_error(c);
        groups[g](c);
        CHECK_MSG(vae_ctx_status(c) == VAE_OK, "group %zu left an error: %s", g,
                  vae_ctx_message(c));
    }
    test_cap();
    vae_ctx_free(c);
    return test_finish();
}
