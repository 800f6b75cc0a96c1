/* Autograd semantics: accumulation over several uses, fresh gradients after a reset, the no-grad scope, seeded
 * backward, tape length, a 2-layer MLP against hand-derived gradients, and the arena's malloc-free steady state. */
#include <math.h>
#include <string.h>

#include "test.h"
#include "vae.h"

static vae_tensor *vec(vae_ctx *c, int64_t n, const double *v) {
    return vae_from_data(c, VAE_F64, 1, &n, VAE_F64, v);
}

static int grad_is(const vae_tensor *t, int64_t n, const double *want, double tol) {
    if (!t || !t->grad || vae_numel(t->grad) != n) return 0;
    for (int64_t i = 0; i < n; i++)
        if (fabs(vae_get_flat(t->grad, i) - want[i]) > tol * (1 + fabs(want[i]))) return 0;
    return 1;
}

static void test_accumulation(vae_ctx *c) {
    /* w used twice in one expression: d/dw (w*w + 3w) = 2w + 3 */
    vae_tensor *w = vec(c, 3, (double[]){1, -2, 0.5});
    vae_requires_grad(c, w, 1);
    vae_tensor *L = vae_sum_all(c, vae_add(c, vae_mul(c, w, w), vae_mul_scalar(c, w, 3)));
    CHECK(vae_backward(c, L) == VAE_OK);
    CHECK(grad_is(w, 3, (double[]){5, -1, 4}, 1e-15));
    vae_ctx_reset(c);
    /* three separate branches into one leaf, one of them through a broadcast */
    w = vec(c, 2, (double[]){0.5, 2});
    vae_requires_grad(c, w, 1);
    vae_tensor *b1 = vae_sum_all(c, vae_exp(c, w));                                        /* e^w */
    vae_tensor *b2 = vae_sum_all(c, vae_mul(c, vae_ones(c, VAE_F64, VAE_SHAPE(3, 2)), w)); /* 3 */
    vae_tensor *b3 = vae_sum_all(c, vae_log(c, w));                                        /* 1/w */
    L = vae_add(c, vae_add(c, b1, b2), b3);
    CHECK(vae_backward(c, L) == VAE_OK);
    CHECK(grad_is(w, 2, (double[]){exp(0.5) + 3 + 2, exp(2.0) + 3 + 0.5}, 1e-14));
    /* a constant input gets no gradient buffer at all */
    vae_ctx_reset(c);
    w = vec(c, 2, (double[]){1, 2});
    vae_tensor *k = vec(c, 2, (double[]){3, 4});
    vae_requires_grad(c, w, 1);
    CHECK(vae_backward(c, vae_sum_all(c, vae_mul(c, w, k))) == VAE_OK);
    CHECK(grad_is(w, 2, (double[]){3, 4}, 0) && k->grad == NULL);
    vae_ctx_reset(c);
}

/* the same step twice: gradients of the second are not added to the first */
static void test_fresh_after_reset(vae_ctx *c) {
    double wbuf[3] = {1, 2, 3}, first[3] = {0}, second[3] = {0};
    vae_tensor *mid_first = NULL;
    for (int step = 0; step < 2; step++) {
        vae_ctx_reset(c);
        vae_tensor *w = vae_wrap(c, VAE_F64, VAE_SHAPE(3), wbuf);
        vae_requires_grad(c, w, 1);
        CHECK(w->grad == NULL);
        vae_tensor *mid = vae_square(c, w);
        CHECK(mid->grad == NULL);
        vae_tensor *L = vae_sum_all(c, vae_tanh(c, mid));
        CHECK(vae_backward(c, L) == VAE_OK);
        double *dst = step ? second : first;
        for (int i = 0; i < 3; i++) dst[i] = vae_get_flat(w->grad, i);
        CHECK(mid->grad && vae_get_flat(mid->grad, 0) == 1 - tanh(1) * tanh(1));
        if (!step) mid_first = mid;
    }
    CHECK(memcmp(first, second, sizeof first) == 0);
    CHECK(first[0] == 2 * 1 * (1 - tanh(1) * tanh(1)));
    CHECK(mid_first != NULL); /* (its memory now belongs to step 2: never read after a reset) */
    CHECK(wbuf[0] == 1 && wbuf[2] == 3); /* backward never writes to the caller's values */
    vae_ctx_reset(c);
}

static void test_no_grad(vae_ctx *c) {
    vae_tensor *w = vec(c, 2, (double[]){1, 2});
    vae_requires_grad(c, w, 1);
    CHECK(vae_grad_enabled(c) == 1);
    int64_t len = vae_tape_length(c);
    CHECK(vae_set_grad_enabled(c, 0) == 1 && vae_grad_enabled(c) == 0);
    vae_tensor *y =
        vae_sum_all(c, vae_exp(c, vae_transpose(c, vae_reshape(c, w, VAE_SHAPE(1, 2)), 0, 1)));
    vae_tensor *z = vae_concat(c, 2, (vae_tensor *[]){w, w}, 0);
    CHECK(y && z && vae_tape_length(c) == len);
    CHECK(!(y->flags & VAE_TF_REQUIRES_GRAD) && y->node == NULL &&
          !(z->flags & VAE_TF_REQUIRES_GRAD));
    CHECK(vae_set_grad_enabled(c, 1) == 0);
    /* a loss built in the scope has no path back: backward refuses, w gets nothing */
    CHECK(vae_backward(c, y) == VAE_ERR_STATE && w->grad == NULL);
    vae_ctx_clear_error(c);
    /* mixing: the part computed under no-grad is a constant */
    vae_set_grad_enabled(c, 0);
    vae_tensor *cst = vae_mul(c, w, w);
    vae_set_grad_enabled(c, 1);
    vae_tensor *L = vae_sum_all(c, vae_mul(c, cst, w)); /* d/dw (stop(w^2) * w) = w^2 */
    CHECK(vae_backward(c, L) == VAE_OK && grad_is(w, 2, (double[]){1, 4}, 0));
    vae_ctx_reset(c);
}

static void test_seeded(vae_ctx *c) {
    vae_tensor *x = vec(c, 3, (double[]){1, 2, 3});
    vae_requires_grad(c, x, 1);
    vae_tensor *y = vae_mul_scalar(c, x, 2);
    float seed32[3] = {1, -1, 0.5f};
    vae_tensor *seed = vae_from_data(c, VAE_F32, VAE_SHAPE(3), VAE_F32, seed32); /* any dtype */
    CHECK(vae_backward_seeded(c, y, seed) == VAE_OK);
    CHECK(grad_is(x, 3, (double[]){2, -2, 1}, 0));
    CHECK(y->grad && vae_get_flat(y->grad, 1) == -1);
    vae_ctx_reset(c);
    /* a (2,2) output through a matmul: dA = S B^T */
    vae_tensor *A = vae_from_data(c, VAE_F64, VAE_SHAPE(2, 2), VAE_F64, (double[]){1, 2, 3, 4});
    vae_tensor *B = vae_from_data(c, VAE_F64, VAE_SHAPE(2, 2), VAE_F64, (double[]){5, 6, 7, 8});
    vae_requires_grad(c, A, 1);
    vae_tensor *S = vae_from_data(c, VAE_F64, VAE_SHAPE(2, 2), VAE_F64, (double[]){1, 0, 0, 2});
    CHECK(vae_backward_seeded(c, vae_matmul(c, A, B), S) == VAE_OK);
    CHECK(grad_is(A, 4, (double[]){5, 7, 12, 16}, 0));
    vae_ctx_reset(c);
}

static void test_tape_length(vae_ctx *c) {
    CHECK(vae_tape_length(c) == 0);
    vae_tensor *x = vec(c, 4, (double[]){1, 2, 3, 4}), *k = vec(c, 4, (double[]){1, 1, 1, 1});
    vae_tensor *kk = vae_add(c, vae_exp(c, k), k); /* nothing requires grad: not recorded */
    CHECK(kk && vae_tape_length(c) == 0);
    vae_requires_grad(c, x, 1);
    vae_tensor *y = vae_exp(c, x);          /* 1 */
    y = vae_add(c, y, kk);                  /* 2 */
    y = vae_reshape(c, y, VAE_SHAPE(2, 2)); /* 3: views are ops too */
    y = vae_transpose(c, y, 0, 1);          /* 4 */
    CHECK(vae_tape_length(c) == 4);
    vae_tensor *d = vae_detach(c, y);                           /* not recorded */
    vae_tensor *s = vae_stack(c, 2, (vae_tensor *[]){y, d}, 0); /* y's unsqueeze: 5, concat: 6 */
    CHECK(s && vae_tape_length(c) == 6);
    vae_tensor *L = vae_sum_all(c, s); /* 7 */
    CHECK(vae_tape_length(c) == 7);
    CHECK(vae_ctx_op_seen(c, VAE_OP_CONCAT) && vae_ctx_op_seen(c, VAE_OP_UNSQUEEZE));
    CHECK(vae_backward(c, L) == VAE_OK && vae_tape_length(c) == 7); /* backward adds no nodes */
    CHECK(grad_is(x, 4, (double[]){exp(1.0), exp(2.0), exp(3.0), exp(4.0)}, 1e-15));
    vae_ctx_reset(c);
    CHECK(vae_tape_length(c) == 0);
}

/* ---- a 2-layer MLP: L = mean((tanh(x W1 + b1) W2 + b2 - t)^2), gradients derived by hand ---- */

enum { NB = 3, NI = 4, NH = 5, NO = 2 };

static void test_mlp(vae_ctx *c) {
    double x[NB][NI], W1[NI][NH], b1[NH], W2[NH][NO], b2[NO], t[NB][NO];
    vae_rng r;
    vae_rng_seed(&r, 5);
    double *all[] = {&x[0][0], &W1[0][0], b1, &W2[0][0], b2, &t[0][0]};
    int sizes[] = {NB * NI, NI * NH, NH, NH * NO, NO, NB * NO};
    for (int a = 0; a < 6; a++)
        for (int i = 0; i < sizes[a]; i++) all[a][i] = 2 * vae_rng_uniform(&r) - 1;
    /* forward + backward by hand */
    double h[NB][NH], y[NB][NO], dy[NB][NO], dh[NB][NH], dz[NB][NH];
    double gW1[NI][NH] = {{0}}, gb1[NH] = {0}, gW2[NH][NO] = {{0}}, gb2[NO] = {0},
           gx[NB][NI] = {{0}}, L = 0;
    for (int n = 0; n < NB; n++) {
        for (int j = 0; j < NH; j++) {
            double z = b1[j];
            for (int i = 0; i < NI; i++) z += x[n][i] * W1[i][j];
            h[n][j] = tanh(z);
        }
        for (int o = 0; o < NO; o++) {
            y[n][o] = b2[o];
            for (int j = 0; j < NH; j++) y[n][o] += h[n][j] * W2[j][o];
            double e = y[n][o] - t[n][o];
            L += e * e / (NB * NO);
            dy[n][o] = 2 * e / (NB * NO); /* dL/dy */
        }
    }
    for (int n = 0; n < NB; n++) {
        for (int o = 0; o < NO; o++) {
            gb2[o] += dy[n][o];
            for (int j = 0; j < NH; j++) gW2[j][o] += h[n][j] * dy[n][o]; /* h^T dy */
        }
        for (int j = 0; j < NH; j++) {
            dh[n][j] = 0;
            for (int o = 0; o < NO; o++) dh[n][j] += dy[n][o] * W2[j][o]; /* dy W2^T */
            dz[n][j] = dh[n][j] * (1 - h[n][j] * h[n][j]);
            gb1[j] += dz[n][j];
            for (int i = 0; i < NI; i++) {
                gW1[i][j] += x[n][i] * dz[n][j]; /* x^T dz */
                gx[n][i] += dz[n][j] * W1[i][j]; /* dz W1^T */
            }
        }
    }
    /* the same with the library */
    vae_tensor *X = vae_wrap(c, VAE_F64, VAE_SHAPE(NB, NI), x),
               *T = vae_wrap(c, VAE_F64, VAE_SHAPE(NB, NO), t);
    vae_tensor *P1 = vae_wrap(c, VAE_F64, VAE_SHAPE(NI, NH), W1),
               *B1 = vae_wrap(c, VAE_F64, VAE_SHAPE(NH), b1);
    vae_tensor *P2 = vae_wrap(c, VAE_F64, VAE_SHAPE(NH, NO), W2),
               *B2 = vae_wrap(c, VAE_F64, VAE_SHAPE(NO), b2);
    vae_tensor *leaves[] = {X, P1, B1, P2, B2};
    for (int i = 0; i < 5; i++) vae_requires_grad(c, leaves[i], 1);
    vae_tensor *H = vae_tanh(c, vae_add(c, vae_matmul(c, X, P1), B1));
    vae_tensor *Y = vae_add(c, vae_matmul(c, H, P2), B2);
    vae_tensor *loss = vae_mean(c, vae_square(c, vae_sub(c, Y, T)), 0, NULL, 0);
    CHECK(loss && vae_ctx_status(c) == VAE_OK);
    CHECK_NEAR(vae_item(loss), L, 1e-15, 1e-13);
    CHECK(vae_backward(c, loss) == VAE_OK);
    CHECK(grad_is(P1, NI * NH, &gW1[0][0], 1e-13));
    CHECK(grad_is(B1, NH, gb1, 1e-13));
    CHECK(grad_is(P2, NH * NO, &gW2[0][0], 1e-13));
    CHECK(grad_is(B2, NO, gb2, 1e-13));
    CHECK(grad_is(X, NB * NI, &gx[0][0], 1e-13));
    CHECK(T->grad == NULL);
    vae_ctx_reset(c);
}

/* ---- steady state: after warm-up, a step makes no malloc and uses the same number of bytes ---- */

static double sx[256 * 300], sw1[300 * 200], sw2[200 * 10];

static void one_step(vae_ctx *c) {
    vae_ctx_reset(c);
    vae_tensor *x = vae_wrap(c, VAE_F64, VAE_SHAPE(256, 300), sx);
    vae_tensor *w1 = vae_wrap(c, VAE_F64, VAE_SHAPE(300, 200), sw1);
    vae_tensor *w2 = vae_wrap(c, VAE_F64, VAE_SHAPE(200, 10), sw2);
    vae_requires_grad(c, w1, 1);
    vae_requires_grad(c, w2, 1);
    vae_tensor *h = vae_relu(c, vae_matmul(c, x, w1)); /* (256,200): 400 KB, and its grads */
    vae_tensor *o = vae_logsumexp(c, vae_matmul(c, h, w2), 1, (int[]){1}, 0);
    vae_tensor *L = vae_mean(c, o, 0, NULL, 0);
    CHECK(vae_backward(c, L) == VAE_OK);
}

static void test_steady_state(void) {
    vae_ctx *c = vae_ctx_new(0);
    CHECK(c != NULL);
    if (!c) return;
    for (int i = 0; i < 256 * 300; i++) sx[i] = (i % 17) * 0.1 - 0.8;
    for (int i = 0; i < 300 * 200; i++) sw1[i] = (i % 13) * 0.01 - 0.06;
    for (int i = 0; i < 200 * 10; i++) sw2[i] = (i % 7) * 0.02 - 0.06;
    vae_arena *a = vae_ctx_arena(c);
    one_step(c);
    size_t m1 = vae_arena_mallocs(a), u1 = vae_arena_used(a);
    CHECK(u1 > ((size_t)1 << 20)); /* the step outgrew the first 1 MiB block */
    one_step(c);
    size_t m2 = vae_arena_mallocs(a), u2 = vae_arena_used(a);
    CHECK(m2 > m1); /* the reset merged the blocks: one more block */
    CHECK(u2 == u1);
    for (int s = 0; s < 3; s++) {
        one_step(c);
        CHECK_MSG(vae_arena_mallocs(a) == m2, "step %d made %zu new mallocs", s + 3,
                  vae_arena_mallocs(a) - m2);
        CHECK(vae_arena_used(a) == u2);
    }
    CHECK(vae_arena_peak(a) == u2);
    vae_ctx_free(c);
}

int main(void) {
    vae_ctx *c = vae_ctx_new(0);
    CHECK(c != NULL);
    if (!c) return test_finish();
    void (*groups[])(vae_ctx *) = {test_accumulation, test_fresh_after_reset, test_no_grad,
                                   test_seeded,       test_tape_length,       test_mlp};
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        vae_ctx_reset(c);
        groups[g](c);
        CHECK_MSG(vae_ctx_status(c) == VAE_OK, "group %zu left an error: %s", g,
                  vae_ctx_message(c));
        vae_ctx_clear_error(c);
    }
    vae_ctx_free(c);
    test_steady_state();
    return test_finish();
}
