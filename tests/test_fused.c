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

int main(void) {
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
        vae_ctx_free(c);
    }
    return test_finish();
}
