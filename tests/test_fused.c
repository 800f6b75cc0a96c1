/* Fused ops give the same values as their composed forms, in f32 and f64. */
#include <string.h>

#include "test.h"
#include "vae.h"

static double max_diff(const vae_tensor *a, const vae_tensor *b) {
    if (!a || !b || vae_numel(a) != vae_numel(b)) return INFINITY;
    double m = 0;
    for (int64_t i = 0; i < vae_numel(a); i++) {
        double d = fabs(vae_get_flat(a, i) - vae_get_flat(b, i));
        if (d > m || isnan(d)) m = isnan(d) ? INFINITY : d;
    }
    return m;
}

/* log N(z; mu, e^s) for z (4, 5, 3) against (5, 3) parameters (the IWAE posterior's layout) and against the standard
 * Normal's stride-0 zero and scalar 0: the fused op has the composed form's bits, and its gradients (of sum(y * w)
 * for a random w, so every element's weight differs) match the composed form's. */
static void check_normal_logpdf(vae_dtype T) {
    const double tol = T == VAE_F64 ? 1e-12 : 2e-5;
    for (int prior = 0; prior < 2; prior++) {
        double v[2][4][60] = {{{0}}}; /* [composed, fused][y, dz, dmu, ds][element] */
        int64_t nv[4] = {60, 60, prior ? 1 : 15, prior ? 1 : 15};
        for (int fused = 0; fused < 2; fused++) {
            vae_ctx *c = vae_ctx_new(0);
            vae_ctx_seed(c, 11);
            vae_tensor *z = vae_mul_scalar(c, vae_randn(c, T, VAE_SHAPE(4, 5, 3)), 2.0);
            vae_tensor *mu = vae_randn(c, T, VAE_SHAPE(5, 3));
            vae_tensor *s = vae_mul_scalar(c, vae_randn(c, T, VAE_SHAPE(5, 3)), 0.7);
            vae_tensor *w = vae_randn(c, T, VAE_SHAPE(4, 5, 3));
            if (prior) { /* as the standard Normal prior holds them */
                mu = vae_scalar(c, T, 0.0);
                s = vae_scalar(c, T, 0.0);
            }
            vae_requires_grad(c, z, 1);
            vae_requires_grad(c, mu, 1);
            vae_requires_grad(c, s, 1);
            vae_tensor *t;
            if (fused) {
                t = vae_normal_logpdf(c, z, prior ? vae_expand(c, mu, 2, (int64_t[]){5, 3}) : mu, s);
            } else {
                vae_tensor *r = vae_div(c, vae_sub(c, z, mu), vae_exp(c, s));
                t = vae_add_scalar(c, vae_sub(c, vae_mul_scalar(c, vae_square(c, r), -0.5), s),
                                   -0.91893853320467274178);
            }
            CHECK(vae_backward(c, vae_sum_all(c, vae_mul(c, t, w))) == VAE_OK);
            const vae_tensor *out[4] = {t, z->grad, mu->grad, s->grad};
            for (int k = 0; k < 4; k++) {
                CHECK(out[k] && vae_numel(out[k]) == nv[k]);
                if (out[k] && vae_numel(out[k]) == nv[k]) vae_tensor_to_f64(out[k], v[fused][k]);
            }
            vae_ctx_free(c);
        }
        CHECK_MSG(memcmp(v[0][0], v[1][0], sizeof v[0][0]) == 0, "normal_logpdf %s prior %d: not the composed bits",
                  vae_dtype_name(T), prior);
        for (int k = 1; k < 4; k++)
            for (int64_t i = 0; i < nv[k]; i++)
                CHECK_MSG(fabs(v[0][k][i] - v[1][k][i]) <= tol * (1 + fabs(v[0][k][i])),
                          "normal_logpdf %s prior %d: gradient %d element %lld: %.9g vs composed %.9g",
                          vae_dtype_name(T), prior, k, (long long)i, v[1][k][i], v[0][k][i]);
    }
}

int main(void) {
    check_normal_logpdf(VAE_F32);
    check_normal_logpdf(VAE_F64);
    for (int dt = 0; dt < 2; dt++) {
        vae_dtype T = dt ? VAE_F64 : VAE_F32;
        double tol = dt ? 1e-12 : 2e-5;
        vae_ctx *c = vae_ctx_new(0);
        vae_ctx_seed(c, 3);
        vae_tensor *x = vae_randn(c, T, VAE_SHAPE(3, 5, 7));
        vae_tensor *W = vae_randn(c, T, VAE_SHAPE(7, 4));
        vae_tensor *b = vae_randn(c, T, VAE_SHAPE(4));
        vae_tensor *pre = vae_add(c, vae_matmul(c, x, W), b);
        vae_tensor *composed[VAE_ACT_COUNT_] = {pre,
                                                vae_relu(c, pre),
                                                vae_tanh(c, pre),
                                                vae_sigmoid(c, pre),
                                                vae_softplus(c, pre),
                                                vae_elu(c, pre, 0.5),
                                                vae_leaky_relu(c, pre, 0.5)};
        for (int a = 0; a < VAE_ACT_COUNT_; a++) {
            vae_tensor *f = vae_linear_act(c, x, W, b, (vae_act)a, 0.5);
            CHECK_MSG(max_diff(f, composed[a]) <= tol, "linear act %d dtype %d: %g", a, dt,
                      max_diff(f, composed[a]));
        }
        /* a transposed (non-contiguous) x is accepted and gives the same result */
        vae_tensor *xt = vae_transpose(c, vae_contiguous(c, vae_transpose(c, x, 1, 2)), 1, 2);
        CHECK(max_diff(vae_linear_act(c, xt, W, b, VAE_ACT_IDENTITY, 0), pre) <= tol);

        vae_tensor *l =
            vae_mul_scalar(c, vae_randn(c, T, VAE_SHAPE(2, 3, 6)), 10.0); /* large logits too */
        vae_tensor *xb = vae_bernoulli(c, vae_full(c, T, VAE_SHAPE(3, 6), 0.4));
        vae_tensor *lp = vae_sum_axis(c, vae_sub(c, vae_mul(c, xb, l), vae_softplus(c, l)), -1, 0);
        CHECK(max_diff(vae_bernoulli_logits_lp(c, l, xb), lp) <= tol * 10);

        vae_tensor *mu = vae_randn(c, T, VAE_SHAPE(5, 3)), *lv = vae_randn(c, T, VAE_SHAPE(5, 3));
        vae_tensor *kl =
            vae_mul_scalar(c,
                           vae_sum_axis(c,
                                        vae_sub(c, vae_add(c, vae_square(c, mu), vae_exp(c, lv)),
                                                vae_add_scalar(c, lv, 1.0)),
                                        -1, 0),
                           0.5);
        CHECK(max_diff(vae_normal_kl_std(c, mu, lv), kl) <= tol);
        /* shape errors name both shapes */
        CHECK(vae_linear_act(c, x, b, NULL, VAE_ACT_RELU, 0) == NULL);
        CHECK(vae_ctx_status(c) == VAE_ERR_SHAPE);
        CHECK(strstr(vae_ctx_message(c), "(3,5,7)") && strstr(vae_ctx_message(c), "(4,)"));
        vae_ctx_clear_error(c);
        CHECK(vae_normal_kl_std(c, mu, l) == NULL && vae_ctx_status(c) == VAE_ERR_SHAPE);
        vae_ctx_clear_error(c);
        CHECK(vae_normal_logpdf(c, x, mu, lv) == NULL && vae_ctx_status(c) == VAE_ERR_SHAPE);
        CHECK(strstr(vae_ctx_message(c), "normal_logpdf") && strstr(vae_ctx_message(c), "(3,5,7)") &&
              strstr(vae_ctx_message(c), "(5,3)"));
        vae_ctx_clear_error(c); /* a dtype mismatch and a NULL input name the op too */
        vae_tensor *other = vae_randn(c, dt ? VAE_F32 : VAE_F64, VAE_SHAPE(5, 3));
        CHECK(vae_normal_logpdf(c, mu, other, lv) == NULL && vae_ctx_status(c) == VAE_ERR_DTYPE &&
              strstr(vae_ctx_message(c), "normal_logpdf"));
        vae_ctx_clear_error(c);
        CHECK(vae_normal_logpdf(c, mu, NULL, lv) == NULL && vae_ctx_status(c) == VAE_ERR_NULL &&
              strstr(vae_ctx_message(c), "normal_logpdf"));
        vae_ctx_free(c);
    }
    return test_finish();
}
