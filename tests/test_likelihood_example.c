/* The worked example (examples/likelihood_student_t.c): its log_prob against a closed form, a
 * gradcheck row, registration by name, and its samples' spread. */
#include <math.h>
#include <string.h>

#include "test.h"
#include "vae.h"

/* from examples/likelihood_student_t.c */
vae_dist *vae_student_t(vae_ctx *ctx, vae_tensor *loc, vae_tensor *log_scale, double df);
vae_status vae_likelihood_student_t_register(void);

static vae_tensor *T3(vae_ctx *c, const double *v) {
    return vae_from_data(c, VAE_F64, VAE_SHAPE(3), VAE_F64, v);
}

static vae_tensor *g_t(vae_ctx *c, vae_tensor *const *x, int n, void *u) {
    (void)n;
    (void)u;
    return vae_dist_log_prob(c, vae_student_t(c, x[0], x[1], 4.0), x[2]);
}

int main(void) {
    vae_ctx *c = vae_ctx_new(0);
    if (!c) return 1;
    static const double loc[3] = {0.0, 1.0, -2.0}, ls[3] = {0.0, 0.5, -0.3},
                        x[3] = {0.5, -3.0, -2.1};

    /* sum_j lgamma(5/2) - lgamma(2) - log(4 pi)/2 - s_j - 5/2 log(1 + r_j^2/4), reference from
     * mpmath */
    vae_dist *d = vae_student_t(c, T3(c, loc), T3(c, ls), 4.0);
    vae_tensor *lp = vae_dist_log_prob(c, d, T3(c, x));
    CHECK(lp && lp->ndim == 0);
    CHECK_NEAR(vae_item(lp), -5.5674928000546755, 1e-13, 1e-13);
    CHECK(!strcmp(vae_dist_name(d), "student_t"));

    /* gradcheck w.r.t. loc, log-scale and x (contiguous, then loc broadcast over a particle dim) */
    double a[24], b[6], xx[24];
    for (int i = 0; i < 24; i++) a[i] = sin(0.9 * i), xx[i] = 2 * cos(1.3 * i);
    for (int i = 0; i < 6; i++) b[i] = 0.3 * sin(2.1 * i);
    vae_gc_input in[3] = {
        {.ndim = 2, .shape = {2, 3}, .data = a, .requires_grad = 1},
        {.ndim = 2, .shape = {2, 3}, .data = b, .requires_grad = 1},
        {.ndim = 2, .shape = {2, 3}, .data = xx, .requires_grad = 1},
    };
    vae_error err = {0};
    vae_gc_result res;
    CHECK_MSG(vae_gradcheck(g_t, NULL, 3, in, 1e-6, 1e-7, 1e-6, &res, &err) == VAE_OK, "%s",
              err.msg);
    in[2].ndim = 3, in[2].shape[0] = 4, in[2].shape[1] = 2, in[2].shape[2] = 3;
    CHECK_MSG(vae_gradcheck(g_t, NULL, 3, in, 1e-6, 1e-7, 1e-6, &res, &err) == VAE_OK, "%s",
              err.msg);
    printf("gradcheck student-t max|err| %.2e over %lld elements\n", res.max_abs_err,
           (long long)res.checked);

    /* registered by name, then made from a decoder output (1,6) = loc | log-scale */
    CHECK(vae_likelihood_find("student-t") == NULL);
    CHECK(vae_likelihood_student_t_register() == VAE_OK);
    CHECK(vae_likelihood_student_t_register() == VAE_ERR_ARG);
    const vae_likelihood *lik = vae_likelihood_find("student-t");
    CHECK(lik && lik->params_per_dim == 2);
    double out[6] = {0.0, 1.0, -2.0, 0.0, 0.5, -0.3}, df = 4.0;
    vae_tensor *o = vae_from_data(c, VAE_F64, VAE_SHAPE(1, 6), VAE_F64, out);
    vae_tensor *lp2 = vae_dist_log_prob(c, vae_likelihood_make(c, lik, o, &df),
                                        vae_reshape(c, T3(c, x), VAE_SHAPE(1, 3)));
    CHECK_NEAR(vae_get_flat(lp2, 0), -5.5674928000546755, 1e-13, 1e-13);
    CHECK(vae_get_flat(vae_likelihood_mean(c, lik, o, NULL), 1) == 1.0);

    /* samples: median loc, P(T < 1) = 0.8183912661754387 for df = 5 (mpmath); no entropy */
    vae_ctx_seed(c, 3);
    double z0[1] = {0.0};
    vae_tensor *zero = vae_from_data(c, VAE_F64, VAE_SHAPE(1), VAE_F64, z0);
    vae_dist *t5 = vae_student_t(c, zero, zero, 5.0);
    const int64_t N = 100000;
    vae_tensor *s = vae_dist_rsample(c, t5, N);
    int64_t below = 0;
    for (int64_t i = 0; s && i < N; i++) below += vae_get_flat(s, i) < 1.0;
    double p = 0.8183912661754387;
    CHECK_MSG(fabs((double)below / (double)N - p) < 4 * sqrt(p * (1 - p) / (double)N),
              "P(T<1) = %g", (double)below / (double)N);
    CHECK(vae_dist_entropy(c, t5) == NULL && vae_ctx_status(c) == VAE_ERR_UNSUPPORTED);
    vae_ctx_clear_error(c);
    CHECK(vae_student_t(c, zero, zero, -1.0) == NULL && vae_ctx_status(c) == VAE_ERR_ARG);
    vae_ctx_free(c);
    return test_finish();
}
