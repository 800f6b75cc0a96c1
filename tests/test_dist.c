/* Distributions, KL and likelihoods: closed-form values (reference numbers from mpmath at 40
 * digits), gradchecks, sampling statistics with fixed seeds, the sampling node's replay and detach
 * behaviour, the likelihood registry and the error paths. */
#include <math.h>
#include <string.h>

#include "test.h"
#include "vae.h"

#define HALF_LOG_2PI 0.91893853320467274178

static vae_tensor *T64(vae_ctx *c, int nd, const int64_t *shape, const double *v) {
    return vae_from_data(c, VAE_F64, nd, shape, VAE_F64, v);
}
#define TT(c, data, ...) T64(c, VAE_SHAPE(__VA_ARGS__), data)

static vae_tensor *leaf(vae_ctx *c, vae_tensor *t) {
    vae_requires_grad(c, t, 1);
    return t;
}

static int shape_is(const vae_tensor *t, int nd, const int64_t *s) {
    return t && t->ndim == nd && !memcmp(t->shape, s, sizeof(int64_t) * (size_t)nd);
}
#define SHAPE_IS(t, ...) shape_is(t, VAE_SHAPE(__VA_ARGS__))

static int all_finite(const vae_tensor *t) {
    if (!t) return 0;
    for (int64_t i = 0; i < vae_numel(t); i++)
        if (!isfinite(vae_get_flat(t, i))) return 0;
    return 1;
}

/* (2,3) fixtures shared by the Normal tests */
static const double LOC[6] = {0.1, -0.4, 1.2, 0.0, 0.5, -1.0};
static const double LV[6] = {0.2, -0.3, 0.0, 1.1, -1.5, 0.4};
static const double X[6] = {0.3, 0.2, 0.9, -1.0, 0.7, -0.2};
static const double LV2[6] = {-0.1, 0.3, 0.5, 0.0, 0.2, -0.7};

static void test_normal_values(vae_ctx *c) {
    vae_ctx_reset(c);
    vae_tensor *loc = TT(c, LOC, 2, 3), *lv = TT(c, LV, 2, 3), *x = TT(c, X, 2, 3);
    vae_dist *d = vae_normal_logvar(c, loc, lv);
    vae_tensor *lp = vae_dist_log_prob(c, d, x), *H = vae_dist_entropy(c, d);
    CHECK(SHAPE_IS(lp, 2) && SHAPE_IS(H, 2));
    CHECK_NEAR(vae_get_flat(lp, 0), -3.0111648000392583, 1e-13, 1e-13);
    CHECK_NEAR(vae_get_flat(lp, 1), -3.2273873376012236, 1e-13, 1e-13);
    CHECK_NEAR(vae_get_flat(H, 0), 4.2068155996140186, 1e-13, 1e-13);
    CHECK_NEAR(vae_get_flat(H, 1), 4.2568155996140185, 1e-13, 1e-13);
    /* the log-scale parameterization of the same distribution */
    vae_dist *d2 = vae_normal_logscale(c, loc, vae_mul_scalar(c, lv, 0.5));
    vae_tensor *lp2 = vae_dist_log_prob(c, d2, x);
    CHECK_NEAR(vae_get_flat(lp2, 0), vae_get_flat(lp, 0), 1e-14, 1e-14);
    CHECK_NEAR(vae_get_flat(vae_dist_mean(c, d2), 5), -1.0, 0, 0);

    /* params (2,3) with a shared log-scale (3) and x with a particle dim (4,2,3) -> (4,2) */
    double ls3[3] = {0.3, -0.2, 0.1}, xk[24];
    for (int i = 0; i < 24; i++) xk[i] = sin(1.7 * i);
    vae_dist *d3 = vae_normal_logscale(c, loc, TT(c, ls3, 3));
    vae_tensor *lp3 = vae_dist_log_prob(c, d3, TT(c, xk, 4, 2, 3));
    CHECK(SHAPE_IS(lp3, 4, 2));
    double worst = 0;
    for (int k = 0; k < 4; k++)
        for (int b = 0; b < 2; b++) {
            double s = 0;
            for (int j = 0; j < 3; j++) {
                double sg = exp(ls3[j]), r = (xk[k * 6 + b * 3 + j] - LOC[b * 3 + j]) / sg;
                s += -0.5 * r * r - ls3[j] - HALF_LOG_2PI;
            }
            worst = fmax(worst, fabs(s - vae_get_flat(lp3, k * 2 + b)));
        }
    CHECK_MSG(worst < 1e-13, "particle log_prob off by %g", worst);

    /* params (K,B,D) = (4,2,3) and x (B,D) = (2,3) -> (K,B) */
    vae_dist *d4 = vae_normal_logscale(c, TT(c, xk, 4, 2, 3), TT(c, ls3, 3));
    vae_tensor *lp4 = vae_dist_log_prob(c, d4, loc);
    CHECK(SHAPE_IS(lp4, 4, 2));
    CHECK_NEAR(vae_get_flat(lp4, 5), vae_get_flat(lp3, 5), 1e-14, 0); /* symmetric in x and loc */

    /* event_ndim = 0: elementwise; event_ndim = 2: an image-shaped event */
    d->event_ndim = 0;
    CHECK(SHAPE_IS(vae_dist_log_prob(c, d, x), 2, 3));
    d->event_ndim = 2;
    vae_tensor *lpall = vae_dist_log_prob(c, d, x);
    CHECK(lpall && lpall->ndim == 0);
    CHECK_NEAR(vae_item(lpall), -3.0111648000392583 - 3.2273873376012236, 1e-12, 0);
    CHECK(vae_ctx_status(c) == VAE_OK);
}

static void test_std_and_fixed(vae_ctx *c) {
    vae_ctx_reset(c);
    vae_dist *p = vae_std_normal(c, VAE_F64, VAE_SHAPE(2, 3));
    vae_tensor *x = TT(c, X, 2, 3);
    vae_tensor *lp = vae_dist_log_prob(c, p, x), *H = vae_dist_entropy(c, p);
    CHECK(SHAPE_IS(lp, 2) && SHAPE_IS(H, 2));
    double s = 0;
    for (int j = 0; j < 3; j++) s += -0.5 * X[j] * X[j] - HALF_LOG_2PI;
    CHECK_NEAR(vae_get_flat(lp, 0), s, 1e-14, 1e-14);
    CHECK_NEAR(vae_get_flat(H, 1), 3 * (0.5 + HALF_LOG_2PI), 1e-14, 1e-14);
    /* a (3) x against the (2,3) prior still gives the prior's batch (2) */
    CHECK(SHAPE_IS(vae_dist_log_prob(c, p, TT(c, X, 3)), 2));
    int an = 0;
    vae_tensor *kl0 = vae_kl(c, p, p, 0, &an);
    CHECK(an == 1 && SHAPE_IS(kl0, 2) && vae_get_flat(kl0, 0) == 0 && vae_get_flat(kl0, 1) == 0);

    /* fixed sigma = 0.5: log N(x; m, 0.25) */
    vae_tensor *m = TT(c, LOC, 2, 3);
    vae_dist *g = vae_gaussian_fixed(c, m, 0.5);
    vae_tensor *lg = vae_dist_log_prob(c, g, x);
    s = 0;
    for (int j = 3; j < 6; j++) s += -0.5 * pow((X[j] - LOC[j]) / 0.5, 2) - log(0.5) - HALF_LOG_2PI;
    CHECK_NEAR(vae_get_flat(lg, 1), s, 1e-13, 1e-13);
    CHECK(g && g->ops == &vae_normal_ops);
    CHECK(vae_ctx_status(c) == VAE_OK);
    CHECK(vae_gaussian_fixed(c, m, 0.0) == NULL && vae_ctx_status(c) == VAE_ERR_ARG);
    CHECK(strstr(vae_ctx_message(c), "gaussian_fixed") != NULL);
    vae_ctx_clear_error(c);
}

static void test_laplace_bernoulli(vae_ctx *c) {
    vae_ctx_reset(c);
    double ll[4] = {0.2, -1.0, 0.5, 3.0}, ls[4] = {0.1, -0.5, 0.7, 0.0},
           lx[4] = {1.0, -2.5, 0.4, 3.3};
    vae_dist *d = vae_laplace(c, TT(c, ll, 4), TT(c, ls, 4));
    CHECK_NEAR(vae_item(vae_dist_log_prob(c, d, TT(c, lx, 4))), -6.6191990930978815, 1e-13, 1e-13);
    CHECK_NEAR(vae_item(vae_dist_entropy(c, d)), 7.0725887222397814, 1e-13, 1e-13);

    /* logits +-50: the softplus form has no log(0) */
    double bl[6] = {-50, 50, 0.3, -2.0, 50, -50}, bx[6] = {1, 0, 1, 0, 1, 0};
    vae_dist *b = vae_bernoulli_logits(c, TT(c, bl, 6));
    vae_tensor *lp = vae_dist_log_prob(c, b, TT(c, bx, 6));
    CHECK(all_finite(lp));
    CHECK_NEAR(vae_item(lp), -100.6812832555115, 1e-12, 1e-13);
    CHECK_NEAR(vae_item(vae_dist_entropy(c, b)), 1.0473563445122371, 1e-13, 1e-13);
    /* a saturated logit: the entropy (1 + l) e^-l to full relative precision (mpmath: l = 30, 50; f32 at l = 12),
     * where softplus(l) - l sigmoid(l) cancelled */
    double sl[2] = {30, -50};
    vae_tensor *Hs = vae_dist_entropy(c, vae_dist_new(c, &vae_bernoulli_ops, 1, (vae_tensor *[]){TT(c, sl, 2)}));
    CHECK_NEAR(vae_item(Hs), 2.9008631203401870539e-12 + 9.8366242246159806934e-21, 0, 1e-13);
    double s12 = 12;
    vae_tensor *H32 = vae_dist_entropy(c, vae_bernoulli_logits(c, vae_cast(c, TT(c, &s12, 1), VAE_F32)));
    CHECK_NEAR(vae_item(H32), 0.000079874288704309419341, 0, 2e-6);
    vae_tensor *bm = vae_dist_mean(c, b);
    CHECK_NEAR(vae_get_flat(bm, 2), 1 / (1 + exp(-0.3)), 1e-15, 1e-15);
    /* the same in f32 */
    vae_tensor *l32 = vae_cast(c, TT(c, bl, 6), VAE_F32), *x32 = vae_cast(c, TT(c, bx, 6), VAE_F32);
    vae_tensor *lp32 = vae_dist_log_prob(c, vae_bernoulli_logits(c, l32), x32);
    CHECK(all_finite(lp32));
    CHECK_NEAR(vae_item(lp32), -100.6812832555115, 1e-4, 1e-6);

    double ba[3] = {0.3, -1.2, 2.0}, bb[3] = {-0.5, 0.4, 2.5};
    int an = 0;
    vae_tensor *kl = vae_kl(c, vae_bernoulli_logits(c, TT(c, ba, 3)),
                            vae_bernoulli_logits(c, TT(c, bb, 3)), 0, &an);
    CHECK(an == 1);
    CHECK_NEAR(vae_item(kl), 0.37021137608189231, 1e-14, 1e-13);
    CHECK(vae_ctx_status(c) == VAE_OK);
}

static void test_cbernoulli_values(vae_ctx *c) {
    static const double cl[8] = {-3.0, -0.05, 0.08, 0.12, 2.5, 20.0, -0.3, 0.6};
    static const double cx[8] = {0.1, 0.9, 0.5, 0.0, 1.0, 0.7, 0.25, 0.33};
    static const double ref_lp[8] = {
        0.84968146961081126, -0.020104164496613893, -0.00026665244588906827, -0.060599928016452698,
        1.0019412156161933,  -3.0042677243848561,   0.071252808488910691,    -0.11695525541967106};
    static const double ref_mean[8] = {
        0.2809376368420774,  0.4958335069341111,  0.50666595566389805, 0.50999760082256107,
        0.68942548983385199, 0.95000000206115365, 0.47503741982325071, 0.54970254849420408};
    static const double ref_H[8] = {-0.30686855908457911,    -0.00010416015668055487,
                                    -0.00026662400722277248, -0.00059978408225462186,
                                    -0.22550494020082329,    -1.9957323168382171,
                                    -0.0037415825419354672,  -0.014866273676851354};
    for (int dt = 0; dt < 2; dt++) {
        vae_ctx_reset(c);
        vae_dtype t = dt ? VAE_F32 : VAE_F64;
        double tol = dt ? 2e-6 : 1e-13;
        vae_dist *d = vae_cbernoulli_logits(c, vae_cast(c, TT(c, cl, 8), t));
        d->event_ndim = 0; /* elementwise, to compare each */
        vae_tensor *lp = vae_dist_log_prob(c, d, vae_cast(c, TT(c, cx, 8), t));
        vae_tensor *mu = vae_dist_mean(c, d), *H = vae_dist_entropy(c, d);
        CHECK(all_finite(lp) && all_finite(mu) && all_finite(H));
        for (int i = 0; i < 8; i++) {
            CHECK_NEAR(vae_get_flat(lp, i), ref_lp[i], tol, tol);
            CHECK_NEAR(vae_get_flat(mu, i), ref_mean[i], tol, tol);
            CHECK_NEAR(vae_get_flat(H, i), ref_H[i], tol, tol);
        }
        /* lambda = 1/2 exactly (logit 0): the uniform density, log p = 0 for every x, log C = log 2
         */
        double z3[3] = {0, 0, 0}, x3[3] = {0.0, 0.3, 1.0};
        /* anomaly mode: every intermediate value and gradient, chosen branch or not, must be finite
         */
        vae_set_anomaly(c, 1);
        vae_tensor *l0 = leaf(c, vae_cast(c, TT(c, z3, 3), t));
        vae_dist *d0 = vae_cbernoulli_logits(c, l0);
        d0->event_ndim = 0;
        vae_tensor *lp0 = vae_dist_log_prob(c, d0, vae_cast(c, TT(c, x3, 3), t));
        CHECK(all_finite(lp0));
        for (int i = 0; i < 3; i++) CHECK_NEAR(vae_get_flat(lp0, i), 0.0, 1e-15, 0);
        CHECK_NEAR(vae_get_flat(vae_cbernoulli_log_norm(c, l0), 0), log(2.0), dt ? 1e-7 : 1e-16, 0);
        CHECK_NEAR(vae_get_flat(vae_dist_mean(c, d0), 1), 0.5, 1e-16, 0);
        /* no NaN in the gradient at exactly 1/2: d/dl [x l - softplus(l) + log C(l)] = x - 1/2 at l
         * = 0 */
        CHECK(vae_backward(c, vae_sum_all(c, lp0)) == VAE_OK);
        CHECK(all_finite(l0->grad));
        for (int i = 0; i < 3; i++) CHECK_NEAR(vae_get_flat(l0->grad, i), x3[i] - 0.5, 1e-7, 0);
        CHECK_MSG(vae_ctx_status(c) == VAE_OK, "%s", vae_ctx_message(c));
        vae_set_anomaly(c, 0);
    }
    /* continuity at lambda = 1/2 +- 1e-6 (logit +-4e-6, inside the series window) */
    vae_ctx_reset(c);
    double nl[2] = {4.0000000000053336e-06, -4.0000000000053336e-06}, nx[2] = {0.3, 0.3};
    vae_dist *d = vae_cbernoulli_logits(c, TT(c, nl, 2));
    d->event_ndim = 0;
    vae_tensor *lp = vae_dist_log_prob(c, d, TT(c, nx, 2));
    /* x l - softplus(l) + log C cancels terms of size log 2 down to 8e-7: 1e-15 absolute is the
     * honest limit */
    CHECK_NEAR(vae_get_flat(lp, 0), -8.0000066662925585e-07, 1e-15, 0);
    CHECK_NEAR(vae_get_flat(lp, 1), 7.9999933337287733e-07, 1e-15, 0);
    vae_tensor *lc = vae_cbernoulli_log_norm(c, TT(c, nl, 2));
    CHECK_NEAR(vae_get_flat(lc, 0), 0.69314718056127866, 1e-16, 0);
    CHECK_NEAR(vae_get_flat(vae_dist_mean(c, d), 1), 0.49999966666666668, 1e-16, 0);
    /* the series (just inside |l| = 0.1, the f64 window) and the exact form (just outside) join:
     * the step equals the slope d log C / dl = 1/l - 1/sinh(l) times the 2e-12 apart */
    double bd[2] = {0.1 - 1e-12, 0.1 + 1e-12}, slope = 10 - 1 / sinh(0.1);
    vae_tensor *lb = vae_cbernoulli_log_norm(c, TT(c, bd, 2));
    CHECK_NEAR(vae_get_flat(lb, 1) - vae_get_flat(lb, 0), 2e-12 * slope, 1e-15, 0);
    CHECK(vae_ctx_status(c) == VAE_OK);
}

/* ---- gradchecks ---- */

typedef vae_tensor *(*gfn)(vae_ctx *c, vae_tensor *const *x, int n, void *u);
#define G(name, body)                                                                              \
    static vae_tensor *name(vae_ctx *c, vae_tensor *const *x, int n, void *u) {                    \
        (void)n;                                                                                   \
        (void)u;                                                                                   \
        return body;                                                                               \
    }
G(g_normal_lv, vae_dist_log_prob(c, vae_normal_logvar(c, x[0], x[1]), x[2]))
G(g_normal_ls, vae_dist_log_prob(c, vae_normal_logscale(c, x[0], x[1]), x[2]))
G(g_std, vae_dist_log_prob(c, vae_std_normal(c, VAE_F64, VAE_SHAPE(2, 3)), x[0]))
G(g_fixed, vae_dist_log_prob(c, vae_gaussian_fixed(c, x[0], 0.7), x[1]))
G(g_laplace, vae_dist_log_prob(c, vae_laplace(c, x[0], x[1]), x[2]))
G(g_bern, vae_dist_log_prob(c, vae_bernoulli_logits(c, x[0]), x[1]))
G(g_cb, vae_dist_log_prob(c, vae_cbernoulli_logits(c, x[0]), x[1]))
G(g_cb_mean, vae_dist_mean(c, vae_cbernoulli_logits(c, x[0])))
G(g_cb_ent, vae_dist_entropy(c, vae_cbernoulli_logits(c, x[0])))
G(g_normal_ent, vae_dist_entropy(c, vae_normal_logvar(c, x[0], x[1])))
G(g_laplace_ent, vae_dist_entropy(c, vae_laplace(c, x[0], x[1])))
G(g_bern_ent, vae_dist_entropy(c, vae_bernoulli_logits(c, x[0])))
G(g_kl_nn, vae_kl(c, vae_normal_logvar(c, x[0], x[1]), vae_normal_logvar(c, x[2], x[3]), 0, NULL))
G(g_kl_nstd,
  vae_kl(c, vae_normal_logvar(c, x[0], x[1]), vae_std_normal(c, VAE_F64, VAE_SHAPE(2, 3)), 0, NULL))
G(g_kl_dim, vae_kl_normal_std_per_dim(c, vae_normal_logvar(c, x[0], x[1])))
G(g_kl_bern, vae_kl(c, vae_bernoulli_logits(c, x[0]), vae_bernoulli_logits(c, x[1]), 0, NULL))
G(g_rs_with, vae_normal_rsample_with(c, vae_normal_logvar(c, x[0], x[1]), x[2]))

typedef struct gin {
    int nd;
    int64_t shape[4];
    double lo, hi; /* U[lo,hi] when data is NULL */
    const double *data;
    int rg; /* requires grad */
} gin;

typedef struct grow {
    const char *name;
    gfn f;
    int nin;
    gin in[4];
} grow;

static const double CB_L[12] = {-3.0,      -0.2, -0.1, -0.05, 0.0, 1e-7,
                                0.0999999, 0.1,  0.11, 0.5,   2.0, 8.0};
static const double CB_X[12] = {0.1, 0.9, 0.5, 0.2, 0.3, 0.7, 1.0, 0.0, 0.45, 0.6, 0.05, 0.95};
static const double LAP_LOC[6] = {-2.0, -1.5, 1.0,
                                  0.3,  -0.2, 1.4}; /* |x - loc| >= 0.3: no kink within eps */
static const double LAP_X[6] = {-1.0, -2.5, 1.6, -0.4, 0.9, 1.0};
static const double BX[6] = {1, 0, 1, 1, 0, 0};
static const double EPS6[6] = {0.3, -1.2, 0.8, 2.1, -0.4, 0.05};

#define GI(lo_, hi_, ...)                                                                          \
    {                                                                                              \
        .nd = (int)(sizeof((int64_t[]){__VA_ARGS__}) / 8), .shape = {__VA_ARGS__}, .lo = lo_,      \
        .hi = hi_, .rg = 1                                                                         \
    }
#define GD(d_, rg_, ...)                                                                           \
    {                                                                                              \
        .nd = (int)(sizeof((int64_t[]){__VA_ARGS__}) / 8), .shape = {__VA_ARGS__}, .data = d_,     \
        .rg = rg_                                                                                  \
    }

static const grow grows[] = {
    {"normal-logvar", g_normal_lv, 3, {GI(-1, 1, 2, 3), GI(-1, 1, 2, 3), GI(-2, 2, 2, 3)}},
    {"normal-logscale-particles",
     g_normal_ls,
     3,
     {GI(-1, 1, 2, 3), GI(-0.5, 0.5, 3), GI(-2, 2, 4, 2, 3)}},
    {"normal-params-K", g_normal_ls, 3, {GI(-1, 1, 3, 2, 3), GI(-0.5, 0.5, 2, 3), GI(-2, 2, 2, 3)}},
    {"std-normal", g_std, 1, {GI(-2, 2, 2, 3)}},
    {"gaussian-fixed", g_fixed, 2, {GI(-1, 1, 2, 3), GI(-2, 2, 2, 3)}},
    {"laplace", g_laplace, 3, {GD(LAP_LOC, 1, 2, 3), GI(-0.5, 0.5, 2, 3), GD(LAP_X, 1, 2, 3)}},
    {"bernoulli", g_bern, 2, {GI(-5, 5, 2, 3), GD(BX, 1, 2, 3)}},
    {"cbernoulli", g_cb, 2, {GD(CB_L, 1, 2, 6), GD(CB_X, 1, 2, 6)}},
    {"cbernoulli-mean", g_cb_mean, 1, {GD(CB_L, 1, 2, 6)}},
    {"cbernoulli-entropy", g_cb_ent, 1, {GD(CB_L, 1, 2, 6)}},
    {"normal-entropy", g_normal_ent, 2, {GI(-1, 1, 2, 3), GI(-1, 1, 2, 3)}},
    {"laplace-entropy", g_laplace_ent, 2, {GI(-1, 1, 2, 3), GI(-1, 1, 2, 3)}},
    {"bernoulli-entropy", g_bern_ent, 1, {GI(-4, 4, 2, 3)}},
    {"kl-normal-normal",
     g_kl_nn,
     4,
     {GI(-1, 1, 2, 3), GI(-1, 1, 2, 3), GI(-1, 1, 3), GI(-1, 1, 2, 3)}},
    {"kl-normal-std", g_kl_nstd, 2, {GI(-1, 1, 2, 3), GI(-1, 1, 2, 3)}},
    {"kl-per-dim", g_kl_dim, 2, {GI(-1, 1, 2, 3), GI(-1, 1, 2, 3)}},
    {"kl-bernoulli", g_kl_bern, 2, {GI(-3, 3, 2, 3), GI(-3, 3, 2, 3)}},
    {"rsample-with", g_rs_with, 3, {GI(-1, 1, 2, 3), GI(-1, 1, 2, 3), GD(EPS6, 0, 2, 3)}},
};

static void test_gradchecks(void) {
    vae_rng rng;
    vae_rng_seed(&rng, 11);
    for (size_t r = 0; r < sizeof grows / sizeof grows[0]; r++) {
        const grow *R = &grows[r];
        vae_gc_input in[4];
        double buf[4][64];
        memset(in, 0, sizeof in);
        for (int i = 0; i < R->nin; i++) {
            const gin *g = &R->in[i];
            in[i].ndim = g->nd;
            int64_t n = 1;
            for (int k = 0; k < g->nd; k++) n *= (in[i].shape[k] = g->shape[k]);
            for (int64_t k = 0; k < n; k++)
                buf[i][k] = g->data ? g->data[k] : g->lo + (g->hi - g->lo) * vae_rng_uniform(&rng);
            in[i].data = buf[i];
            in[i].requires_grad = g->rg;
        }
        vae_error err = {0};
        vae_gc_result res;
        vae_status s = vae_gradcheck(R->f, NULL, R->nin, in, 1e-6, 1e-7, 1e-6, &res, &err);
        CHECK_MSG(s == VAE_OK, "gradcheck %s: %s", R->name, err.msg);
        CHECK_MSG(res.checked > 0, "gradcheck %s checked nothing", R->name);
        printf("gradcheck %-26s max|err| %.2e over %lld elements\n", R->name, res.max_abs_err,
               (long long)res.checked);
    }
}

/* ---- sampling ---- */

static void test_kl_mc(vae_ctx *c) {
    vae_ctx_reset(c);
    vae_ctx_seed(c, 2024);
    const int64_t S = 200000;
    vae_dist *q = vae_normal_logvar(c, TT(c, LOC, 2, 3), TT(c, LV, 2, 3));
    vae_dist *p = vae_normal_logvar(c, TT(c, X, 2, 3), TT(c, LV2, 2, 3));
    int an = 0;
    vae_tensor *kl = vae_kl(c, q, p, 0, &an);
    CHECK(an == 1 && SHAPE_IS(kl, 2));
    CHECK_NEAR(vae_get_flat(kl, 0), 0.33534512946262213, 1e-14, 1e-13);
    CHECK_NEAR(vae_get_flat(kl, 1), 2.5062832674249127, 1e-14, 1e-13);
    /* the per-sample terms, to know the standard error */
    vae_dist qs = *q;
    vae_tensor *z = vae_dist_rsample(c, &qs, S);
    vae_tensor *diff =
        vae_sub(c, vae_dist_log_prob(c, q, z), vae_dist_log_prob(c, p, z)); /* (S,2) */
    CHECK(SHAPE_IS(diff, S, 2));
    vae_ctx_seed(c, 2024);
    vae_tensor *mc = vae_kl_mc(c, q, p, S);
    CHECK(SHAPE_IS(mc, 2) && q->eps == NULL); /* q's own eps untouched */
    for (int b = 0; b < 2 && diff; b++) {
        double m = 0, v = 0;
        for (int64_t s = 0; s < S; s++) m += vae_get_flat(diff, s * 2 + b);
        m /= (double)S;
        for (int64_t s = 0; s < S; s++) v += pow(vae_get_flat(diff, s * 2 + b) - m, 2);
        double se = sqrt(v / (double)(S - 1) / (double)S);
        CHECK_MSG(fabs(m - vae_get_flat(kl, b)) < 4 * se, "MC KL %g vs analytic %g (se %g)", m,
                  vae_get_flat(kl, b), se);
        CHECK_NEAR(vae_get_flat(mc, b), m, 1e-12, 1e-12); /* same seed, same estimate */
    }
    /* normal || std-normal: table entry, and the per-dimension version sums to it */
    vae_dist *prior = vae_std_normal(c, VAE_F64, VAE_SHAPE(2, 3));
    vae_tensor *kls = vae_kl(c, q, prior, 0, &an);
    CHECK(an == 1);
    CHECK_NEAR(vae_get_flat(kls, 0), 0.83611048942094379, 1e-14, 1e-13);
    CHECK_NEAR(vae_get_flat(kls, 1), 1.4845604408680668, 1e-14, 1e-13);
    vae_tensor *per = vae_kl_normal_std_per_dim(c, q);
    CHECK(SHAPE_IS(per, 2, 3));
    CHECK_NEAR(vae_item(vae_sum_all(c, per)), 0.83611048942094379 + 1.4845604408680668, 1e-13, 0);
    /* no table entry: Laplace(m, b) || N(0,1) by Monte Carlo; exact value -1 - log 2b + log(2 pi)/2
     * + (m^2 + 2b^2)/2 */
    double lm[1] = {0.4}, lb[1] = {log(0.8)};
    vae_dist *lq = vae_laplace(c, TT(c, lm, 1), TT(c, lb, 1));
    vae_tensor *kll = vae_kl(c, lq, vae_std_normal(c, VAE_F64, VAE_SHAPE(1)), S, &an);
    double exact = -1 - log(1.6) + HALF_LOG_2PI + (0.16 + 2 * 0.64) / 2;
    CHECK(an == 0 && kll && kll->ndim == 0);
    CHECK_NEAR(vae_item(kll), exact, 0.01, 0); /* sd of the terms < 1.5, so 4 se < 0.013 */
    /* p with more batch dims than q: (3,1) prior batch against a (1) q -> (3) */
    vae_dist *p3 = vae_normal_logscale(c, vae_zeros(c, VAE_F64, VAE_SHAPE(3, 1)),
                                       vae_zeros(c, VAE_F64, VAE_SHAPE(3, 1)));
    vae_tensor *kl3 = vae_kl_mc(c, lq, p3, 1000);
    CHECK(SHAPE_IS(kl3, 3));
    CHECK(vae_ctx_status(c) == VAE_OK);
}

static void test_moments(vae_ctx *c) {
    vae_ctx_reset(c);
    vae_ctx_seed(c, 99);
    const int64_t N = 50000;
    vae_dist *d = vae_normal_logvar(c, TT(c, LOC, 2, 3), TT(c, LV, 2, 3));
    CHECK(SHAPE_IS(vae_dist_rsample(c, d, 0), 2, 3));
    vae_tensor *z = vae_dist_rsample(c, d, N);
    CHECK(SHAPE_IS(z, N, 2, 3) && SHAPE_IS(d->eps, N, 2, 3));
    double ll[1] = {0.7}, lb[1] = {log(1.3)};
    vae_dist *l = vae_laplace(c, TT(c, ll, 1), TT(c, lb, 1));
    vae_tensor *zl = vae_dist_rsample(c, l, N);
    CHECK(SHAPE_IS(zl, N, 1));
    for (int j = 0; j < 7 && z && zl; j++) {
        int lap = j == 6;
        double mu = lap ? 0.7 : LOC[j], var = lap ? 2 * 1.3 * 1.3 : exp(LV[j]), m = 0, v = 0;
        const vae_tensor *t = lap ? zl : z;
        int64_t stride = lap ? 1 : 6, off = lap ? 0 : j;
        for (int64_t s = 0; s < N; s++) m += vae_get_flat(t, s * stride + off);
        m /= (double)N;
        for (int64_t s = 0; s < N; s++) v += pow(vae_get_flat(t, s * stride + off) - m, 2);
        v /= (double)(N - 1);
        /* se of the variance: sqrt((kurtosis - 1) / N) var; kurtosis 3 (normal) or 6 (Laplace) */
        double se_m = sqrt(var / (double)N), se_v = var * sqrt((lap ? 5.0 : 2.0) / (double)N);
        CHECK_MSG(fabs(m - mu) < 4 * se_m, "component %d: mean %g vs %g (se %g)", j, m, mu, se_m);
        CHECK_MSG(fabs(v - var) < 4 * se_v, "component %d: var %g vs %g (se %g)", j, v, var, se_v);
    }
    /* Bernoulli and continuous-Bernoulli samples: the support and the mean */
    double bl[2] = {0.8, -2.0};
    vae_dist *b = vae_bernoulli_logits(c, TT(c, bl, 2));
    vae_dist *cb = vae_cbernoulli_logits(c, TT(c, bl, 2));
    vae_tensor *xb = vae_dist_sample(c, b, N), *xc = vae_dist_sample(c, cb, N),
               *mc = vae_dist_mean(c, cb);
    CHECK(SHAPE_IS(xb, N, 2) && SHAPE_IS(xc, N, 2));
    int binary = xb != NULL;
    for (int j = 0; j < 2 && xb && xc; j++) {
        double p = 1 / (1 + exp(-bl[j])), mb = 0, m = 0, v = 0, lo = 1, hi = 0;
        for (int64_t s = 0; s < N; s++) {
            double xv = vae_get_flat(xc, s * 2 + j), bv = vae_get_flat(xb, s * 2 + j);
            m += xv;
            mb += bv;
            lo = fmin(lo, xv);
            hi = fmax(hi, xv);
            binary &= bv == 0 || bv == 1;
        }
        m /= (double)N;
        mb /= (double)N;
        for (int64_t s = 0; s < N; s++) v += pow(vae_get_flat(xc, s * 2 + j) - m, 2);
        v /= (double)(N - 1);
        CHECK_MSG(fabs(mb - p) < 4 * sqrt(p * (1 - p) / (double)N), "bernoulli mean %g vs %g", mb,
                  p);
        CHECK(lo >= 0 && hi <= 1 && binary);
        CHECK_MSG(fabs(m - vae_get_flat(mc, j)) < 4 * sqrt(v / (double)N), "cb mean %g vs %g", m,
                  vae_get_flat(mc, j));
    }
    CHECK(vae_ctx_status(c) == VAE_OK);
}

/* d/dmu E[z^2] = 2 mu and d/dsigma E[z^2] = 2 sigma through z = mu + sigma eps. */
static void test_pathwise(vae_ctx *c) {
    vae_ctx_reset(c);
    vae_ctx_seed(c, 5);
    const int64_t N = 100000;
    double mu[3] = {0.5, -1.0, 2.0}, sg[3] = {0.7, 1.3, 0.4};
    vae_tensor *m = leaf(c, TT(c, mu, 3)), *s = leaf(c, TT(c, sg, 3));
    vae_dist *d = vae_normal_logscale(c, m, vae_log(c, s));
    vae_tensor *z = vae_dist_rsample(c, d, N);
    vae_tensor *loss = vae_mul_scalar(c, vae_sum_all(c, vae_square(c, z)), 1.0 / (double)N);
    CHECK(vae_backward(c, loss) == VAE_OK);
    for (int j = 0; j < 3 && m->grad && s->grad; j++) {
        double se_mu = 2 * sg[j] / sqrt((double)N),
               se_sg = 2 * sqrt((mu[j] * mu[j] + 2 * sg[j] * sg[j]) / (double)N);
        CHECK_MSG(fabs(vae_get_flat(m->grad, j) - 2 * mu[j]) < 4 * se_mu, "dmu %g",
                  vae_get_flat(m->grad, j));
        CHECK_MSG(fabs(vae_get_flat(s->grad, j) - 2 * sg[j]) < 4 * se_sg, "dsigma %g",
                  vae_get_flat(s->grad, j));
    }
}

static void test_replay_and_detach(vae_ctx *c) {
    vae_ctx_reset(c);
    vae_tensor *loc = leaf(c, TT(c, LOC, 2, 3)), *lv = leaf(c, TT(c, LV, 2, 3));
    vae_dist *d = vae_normal_logvar(c, loc, lv);
    vae_tensor *z1 = vae_dist_rsample(c, d, 3);
    vae_tensor *eps = d->eps;
    vae_tensor *z2 = vae_normal_rsample_with(c, d, eps);
    CHECK(SHAPE_IS(z1, 3, 2, 3) && SHAPE_IS(z2, 3, 2, 3) && d->eps == eps);
    int same = z1 && z2;
    for (int64_t i = 0; same && i < vae_numel(z1); i++)
        same = vae_get_flat(z1, i) == vae_get_flat(z2, i);
    CHECK(same);
    CHECK(z1 && (z1->flags & VAE_TF_REQUIRES_GRAD));
    CHECK(eps && !(eps->flags & VAE_TF_REQUIRES_GRAD));

    /* sample: no gradient path, for every distribution */
    vae_dist *ds[4] = {d, vae_laplace(c, loc, lv), vae_bernoulli_logits(c, loc),
                       vae_cbernoulli_logits(c, loc)};
    for (int i = 0; i < 4; i++) {
        vae_tensor *x = vae_dist_sample(c, ds[i], 2);
        CHECK_MSG(SHAPE_IS(x, 2, 2, 3) && !(x->flags & VAE_TF_REQUIRES_GRAD) && !x->node,
                  "%s sample", vae_dist_name(ds[i]));
    }
    CHECK(vae_grad_enabled(c)); /* the no-grad scope was restored */

    /* STL by hand: log q_detached(mu + sigma eps): d/dmu = -eps/sigma, d/dlogvar = -eps^2/2 */
    vae_tensor *lp = vae_dist_log_prob(c, vae_dist_detached(c, d), z2);
    CHECK(vae_backward(c, vae_sum_all(c, lp)) == VAE_OK);
    double worst = 0;
    for (int j = 0; j < 6 && loc->grad && lv->grad; j++) {
        double gm = 0, gv = 0, sig = exp(0.5 * LV[j]);
        for (int k = 0; k < 3; k++) {
            double e = vae_get_flat(eps, k * 6 + j);
            gm += -e / sig;
            gv += -e * e / 2;
        }
        worst = fmax(worst,
                     fabs(vae_get_flat(loc->grad, j) - gm) + fabs(vae_get_flat(lv->grad, j) - gv));
    }
    CHECK_MSG(loc->grad && worst < 1e-12, "STL gradient off by %g", worst);

    /* a detached distribution gives no gradient to its parameters but passes it to x: -(x -
     * mu)/sigma^2 */
    vae_ctx_reset(c);
    loc = leaf(c, TT(c, LOC, 2, 3));
    lv = leaf(c, TT(c, LV, 2, 3));
    vae_tensor *x = leaf(c, TT(c, X, 2, 3));
    vae_dist *dd = vae_dist_detached(c, vae_normal_logvar(c, loc, lv));
    CHECK(vae_backward(c, vae_sum_all(c, vae_dist_log_prob(c, dd, x))) == VAE_OK);
    int zero = 1;
    for (int j = 0; j < 6; j++) {
        zero &= !loc->grad || vae_get_flat(loc->grad, j) == 0;
        zero &= !lv->grad || vae_get_flat(lv->grad, j) == 0;
    }
    CHECK(zero);
    CHECK(x->grad != NULL);
    for (int j = 0; j < 6 && x->grad; j++)
        CHECK_NEAR(vae_get_flat(x->grad, j), -(X[j] - LOC[j]) / exp(LV[j]), 1e-14, 1e-13);
}

/* ---- likelihoods ---- */

static vae_dist *make_tight(vae_ctx *c, vae_tensor *out, const double *opts) {
    (void)opts;
    return vae_gaussian_fixed(c, out, 0.1);
}
static const vae_likelihood tight = {"gaussian-tight", 1, make_tight, "Gaussian, sigma 0.1"};

/* A test-only likelihood with three parameters per dim: (a | b | c) -> N(a + b, exp(c)). */
static vae_dist *make_tri(vae_ctx *c, vae_tensor *out, const double *opts) {
    (void)opts;
    vae_tensor *p[3];
    if (vae_likelihood_split(c, "tri", out, 3, p)) return NULL;
    return vae_normal_logvar(c, vae_add(c, p[0], p[1]), p[2]);
}
static const vae_likelihood tri = {"tri", 3, make_tri, "test: a | b | c -> N(a + b, exp(c))"};

static void test_likelihoods(vae_ctx *c) {
    vae_ctx_reset(c);
    const char *names[5] = {"bernoulli", "gaussian", "gaussian-learned", "laplace", "cbernoulli"};
    for (int i = 0; i < 5; i++) CHECK_MSG(vae_likelihood_find(names[i]) != NULL, "%s", names[i]);
    CHECK(vae_likelihood_find("nope") == NULL && vae_likelihood_find(NULL) == NULL);
    int n0 = vae_likelihood_list(NULL, 0);
    CHECK(n0 >= 5);

    /* decoder output (2,6): gaussian-learned reads mean (2,3) | log-variance (2,3) */
    double out[12];
    for (int i = 0; i < 6; i++)
        out[(i / 3) * 6 + i % 3] = LOC[i], out[(i / 3) * 6 + 3 + i % 3] = LV[i];
    vae_tensor *o = TT(c, out, 2, 6), *x = TT(c, X, 2, 3);
    const vae_likelihood *gl = vae_likelihood_find("gaussian-learned");
    CHECK(gl && gl->params_per_dim == 2);
    vae_tensor *lp = vae_dist_log_prob(c, vae_likelihood_make(c, gl, o, NULL), x);
    CHECK_NEAR(vae_get_flat(lp, 0), -3.0111648000392583, 1e-13, 1e-13);
    CHECK_NEAR(vae_get_flat(lp, 1), -3.2273873376012236, 1e-13, 1e-13);
    vae_tensor *gm = vae_likelihood_mean(c, gl, o, NULL);
    CHECK(SHAPE_IS(gm, 2, 3) && vae_get_flat(gm, 4) == LOC[4]);
    /* pictures: sigmoid for Bernoulli, the CB mean, the mean for the fixed Gaussian; opts give
     * sigma */
    vae_tensor *o3 = TT(c, LOC, 2, 3);
    CHECK_NEAR(vae_get_flat(vae_likelihood_mean(c, vae_likelihood_find("bernoulli"), o3, NULL), 2),
               1 / (1 + exp(-1.2)), 1e-15, 0);
    CHECK_NEAR(vae_get_flat(vae_likelihood_mean(c, vae_likelihood_find("cbernoulli"), o3, NULL), 2),
               vae_get_flat(vae_dist_mean(c, vae_cbernoulli_logits(c, o3)), 2), 0, 0);
    double sigma = 0.5;
    vae_tensor *lg = vae_dist_log_prob(
        c, vae_likelihood_make(c, vae_likelihood_find("gaussian"), o3, &sigma), x);
    CHECK_NEAR(vae_get_flat(lg, 0),
               vae_get_flat(vae_dist_log_prob(c, vae_gaussian_fixed(c, o3, 0.5), x), 0), 0, 0);
    vae_dist *ld = vae_likelihood_make(c, vae_likelihood_find("laplace"), o, NULL);
    CHECK(ld && ld->ops == &vae_laplace_ops && SHAPE_IS(vae_dist_mean(c, ld), 2, 3));
    CHECK(vae_ctx_status(c) == VAE_OK);

    /* runtime registration */
    CHECK(vae_likelihood_register(&tight) == VAE_OK);
    CHECK(vae_likelihood_find("gaussian-tight") == &tight);
    CHECK(vae_likelihood_list(NULL, 0) == n0 + 1);
    const vae_likelihood *all[64];
    int n = vae_likelihood_list(all, 64);
    CHECK(n == n0 + 1 && all[n - 1] == &tight && !strcmp(all[0]->name, "bernoulli"));
    CHECK(vae_likelihood_register(&tight) == VAE_ERR_ARG); /* name taken */
    vae_likelihood bad = {"bad", VAE_LIK_MAX_PARAMS + 1, make_tight, ""};
    CHECK(vae_likelihood_register(&bad) == VAE_ERR_ARG);
    bad.params_per_dim = 0;
    CHECK(vae_likelihood_register(&bad) == VAE_ERR_ARG);
    CHECK(vae_likelihood_register(NULL) == VAE_ERR_ARG);
    vae_tensor *lt = vae_dist_log_prob(c, vae_likelihood_make(c, &tight, o3, NULL), o3);
    CHECK_NEAR(vae_get_flat(lt, 0), 3 * (-log(0.1) - HALF_LOG_2PI), 1e-13, 0);

    /* three parameters per dim: decoder output (2,9) = a | b | c, each (2,3) */
    CHECK(vae_likelihood_register(&tri) == VAE_OK);
    double o9[18];
    for (int i = 0; i < 6; i++) {
        double a = 0.3 * i - 0.7, b = LOC[i] - a;
        o9[(i / 3) * 9 + i % 3] = a, o9[(i / 3) * 9 + 3 + i % 3] = b;
        o9[(i / 3) * 9 + 6 + i % 3] = LV[i];
    }
    vae_tensor *lp3 = vae_dist_log_prob(
        c, vae_likelihood_make(c, vae_likelihood_find("tri"), TT(c, o9, 2, 9), NULL), x);
    CHECK(SHAPE_IS(lp3, 2));
    /* same values as gaussian-learned with mean = a + b = LOC and log-variance LV */
    CHECK_NEAR(vae_get_flat(lp3, 0), -3.0111648000392583, 1e-13, 1e-13);
    CHECK_NEAR(vae_get_flat(lp3, 1), -3.2273873376012236, 1e-13, 1e-13);
    /* a (2,4) output is not a multiple of 3 */
    CHECK(vae_likelihood_make(c, &tri, TT(c, out, 2, 4), NULL) == NULL &&
          vae_ctx_status(c) == VAE_ERR_SHAPE);
    vae_ctx_clear_error(c);
    /* the split helper takes up to VAE_LIK_MAX_PARAMS parts */
    vae_tensor *parts[VAE_LIK_MAX_PARAMS + 1] = {0};
    double wide[VAE_LIK_MAX_PARAMS];
    for (int i = 0; i < VAE_LIK_MAX_PARAMS; i++) wide[i] = i;
    CHECK(vae_likelihood_split(c, "wide", TT(c, wide, 1, VAE_LIK_MAX_PARAMS), VAE_LIK_MAX_PARAMS,
                               parts) == VAE_OK);
    CHECK(parts[VAE_LIK_MAX_PARAMS - 1] && vae_get_flat(parts[VAE_LIK_MAX_PARAMS - 1], 0) == 63);
    CHECK(vae_likelihood_split(c, "wide", TT(c, wide, 1, VAE_LIK_MAX_PARAMS),
                               VAE_LIK_MAX_PARAMS + 1, parts) == VAE_ERR_ARG);
    vae_ctx_clear_error(c);
    /* a net with it: the decoder's last layer outputs D * 3 */
    vae_net_cfg nc;
    vae_net_cfg_default(&nc);
    nc.x_dim = 5, nc.z_dim = 2, nc.nhidden = 1, nc.hidden[0] = 4, nc.dtype = VAE_F64;
    snprintf(nc.likelihood, sizeof nc.likelihood, "tri");
    vae_net net;
    vae_rng rng;
    vae_rng_seed(&rng, 3);
    vae_error err = {0};
    CHECK_MSG(vae_net_init(&net, &nc, &rng, &err) == VAE_OK, "%s", err.msg);
    double z[4] = {0.1, -0.2, 0.3, 0.4};
    vae_tensor *dm = vae_net_decode_mean(c, &net, TT(c, z, 2, 2));
    CHECK(SHAPE_IS(dm, 2, 5));
    vae_net_free(&net);
    CHECK(vae_ctx_status(c) == VAE_OK);

    /* an odd last dim for a two-parameter likelihood */
    CHECK(vae_likelihood_make(c, gl, o3, NULL) == NULL);
    CHECK(vae_ctx_status(c) == VAE_ERR_SHAPE);
    CHECK_MSG(strstr(vae_ctx_message(c), "gaussian-learned") && strstr(vae_ctx_message(c), "(2,3)"),
              "%s", vae_ctx_message(c));
    vae_ctx_clear_error(c);
}

/* ---- error paths ---- */

static void test_errors(vae_ctx *c) {
    vae_ctx_reset(c);
    double v[20] = {0};
    vae_dist *d = vae_normal_logvar(c, TT(c, v, 4, 5), TT(c, v, 4, 5));
    CHECK(vae_dist_log_prob(c, d, TT(c, v, 3, 5)) == NULL);
    CHECK(vae_ctx_status(c) == VAE_ERR_SHAPE);
    CHECK_MSG(strstr(vae_ctx_message(c), "normal.log_prob") &&
                  strstr(vae_ctx_message(c), "(3,5)") && strstr(vae_ctx_message(c), "(4,5)"),
              "%s", vae_ctx_message(c));
    vae_ctx_clear_error(c);
    /* event dims must match exactly */
    CHECK(vae_dist_log_prob(c, d, TT(c, v, 4, 1)) == NULL && vae_ctx_status(c) == VAE_ERR_SHAPE);
    vae_ctx_clear_error(c);

    vae_dist *b = vae_bernoulli_logits(c, TT(c, v, 4, 5));
    CHECK(vae_dist_rsample(c, b, 1) == NULL);
    CHECK(vae_ctx_status(c) == VAE_ERR_UNSUPPORTED && strstr(vae_ctx_message(c), "bernoulli"));
    vae_ctx_clear_error(c);
    CHECK(!vae_dist_has_rsample(b) && vae_dist_has_rsample(d));
    CHECK(vae_dist_rsample(c, vae_cbernoulli_logits(c, TT(c, v, 4, 5)), 0) == NULL);
    CHECK(vae_ctx_status(c) == VAE_ERR_UNSUPPORTED && strstr(vae_ctx_message(c), "cbernoulli"));
    vae_ctx_clear_error(c);

    CHECK(vae_dist_sample(c, d, -1) == NULL && vae_ctx_status(c) == VAE_ERR_ARG);
    vae_ctx_clear_error(c);
    CHECK(vae_dist_log_prob(c, d, vae_cast(c, TT(c, v, 4, 5), VAE_F32)) == NULL);
    CHECK(vae_ctx_status(c) == VAE_ERR_DTYPE);
    vae_ctx_clear_error(c);
    CHECK(vae_normal_logvar(c, TT(c, v, 4, 5), TT(c, v, 3, 5)) == NULL &&
          vae_ctx_status(c) == VAE_ERR_SHAPE);
    CHECK(strstr(vae_ctx_message(c), "normal"));
    vae_ctx_clear_error(c);
    d->event_ndim = 3;
    CHECK(vae_dist_log_prob(c, d, TT(c, v, 4, 5)) == NULL && vae_ctx_status(c) == VAE_ERR_ARG);
    d->event_ndim = 1;
    vae_ctx_clear_error(c);
    CHECK(vae_normal_rsample_with(c, d, TT(c, v, 5, 4)) == NULL &&
          vae_ctx_status(c) == VAE_ERR_SHAPE);
    vae_ctx_clear_error(c);
    CHECK(vae_normal_rsample_with(c, b, TT(c, v, 4, 5)) == NULL &&
          vae_ctx_status(c) == VAE_ERR_ARG);
    vae_ctx_clear_error(c);
    CHECK(vae_kl_normal_std_per_dim(c, b) == NULL && vae_ctx_status(c) == VAE_ERR_ARG);
    vae_ctx_clear_error(c);
    CHECK(vae_kl(c, d, vae_std_normal(c, VAE_F64, VAE_SHAPE(4, 6)), 0, NULL) == NULL);
    CHECK_MSG(vae_ctx_status(c) == VAE_ERR_SHAPE && strstr(vae_ctx_message(c), "(4,5)") &&
                  strstr(vae_ctx_message(c), "(4,6)"),
              "%s", vae_ctx_message(c));
    vae_ctx_clear_error(c);
    CHECK(vae_kl(c, vae_laplace(c, TT(c, v, 4, 5), TT(c, v, 4, 5)), d, 0, NULL) == NULL);
    CHECK(vae_ctx_status(c) == VAE_ERR_UNSUPPORTED && strstr(vae_ctx_message(c), "laplace"));
    vae_ctx_clear_error(c);
    CHECK(vae_std_normal(c, VAE_F64, 9, (int64_t[9]){1, 1, 1, 1, 1, 1, 1, 1, 1}) == NULL);
    CHECK(vae_ctx_status(c) != VAE_OK);
    vae_ctx_clear_error(c);

    /* NULL propagates quietly; the first error sticks */
    CHECK(vae_normal_logvar(c, NULL, TT(c, v, 4, 5)) == NULL && vae_ctx_status(c) == VAE_OK);
    CHECK(vae_dist_log_prob(c, vae_bernoulli_logits(c, NULL), TT(c, v, 4, 5)) == NULL);
    CHECK(vae_ctx_status(c) == VAE_ERR_NULL);
    vae_ctx_clear_error(c);
    CHECK(vae_dist_log_prob(c, d, TT(c, v, 3, 5)) == NULL);
    CHECK(vae_dist_entropy(c, NULL) == NULL && vae_kl(c, NULL, d, 0, NULL) == NULL);
    CHECK(vae_ctx_status(c) == VAE_ERR_SHAPE); /* still the first */
    vae_ctx_clear_error(c);
}

int main(void) {
    vae_ctx *c = vae_ctx_new(0);
    if (!c) return 1;
    test_normal_values(c);
    test_std_and_fixed(c);
    test_laplace_bernoulli(c);
    test_cbernoulli_values(c);
    test_gradchecks();
    test_kl_mc(c);
    test_moments(c);
    test_pathwise(c);
    test_replay_and_detach(c);
    test_likelihoods(c);
    test_errors(c);
    if (vae_ctx_status(c)) fprintf(stderr, "context error: %s\n", vae_ctx_message(c));
    vae_ctx_free(c);
    return test_finish();
}
