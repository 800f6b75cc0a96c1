/* Discrete latents (models/discrete.h), fixed seeds: the Categorical's values and gradients, the Gumbel-softmax
 * path, the exact log p(x) and ELBO by summation against the IS / Monte-Carlo estimates, the score estimator with
 * every baseline unbiased against the exact gradient, NVIL's variance reduction, and the refusals. */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "vae.h"
#include "models/eval.h"
#include "models/study.h"

#define D 6
#define B 3

static const float xdata[B * D] = {1, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1, 0, 1, 1, 0, 0, 0, 1};

/* a small net: D -> 8 -> latent, Bernoulli decoder, f64 */
static void make_net(vae_net *net, const char *kind, int64_t bl_hidden, uint64_t seed) {
    vae_net_cfg cfg;
    vae_net_cfg_default(&cfg);
    cfg.x_dim = D, cfg.nhidden = 1, cfg.hidden[0] = 8, cfg.dtype = VAE_F64, cfg.act = VAE_ACT_TANH;
    cfg.baseline_hidden = bl_hidden;
    vae_error err = {0};
    CHECK_MSG(vae_latent_kind_parse(&cfg, kind, &err) == VAE_OK, "%s", err.msg);
    vae_rng rng;
    vae_rng_seed(&rng, seed);
    CHECK_MSG(vae_net_init(net, &cfg, &rng, &err) == VAE_OK, "%s", err.msg);
    /* larger encoder weights than PyTorch's init, so q(z|x) is far from uniform and differs across x */
    vae_tensor *w = net->enc.layer[net->enc.nlayers - 1].w;
    for (int64_t i = 0; i < vae_numel(w); i++) vae_set_flat(w, i, vae_get_flat(w, i) * 6);
}

static vae_tensor *xbatch(vae_ctx *ctx) {
    return vae_cast(ctx, vae_wrap(ctx, VAE_F32, VAE_SHAPE(B, D), (void *)xdata), VAE_F64);
}

/* ---- the Categorical ---- */

static void test_categorical_values(vae_ctx *ctx) {
    vae_ctx_reset(ctx);
    double l[6] = {0.5, -1.0, 2.0, 0.0, 0.3, -0.7}; /* N = 2 variables of C = 3 */
    vae_tensor *lt = vae_from_data(ctx, VAE_F64, VAE_SHAPE(6), VAE_F64, l);
    vae_dist *q = vae_categorical_logits(ctx, lt, 3);
    double x[6] = {0, 0, 1, 1, 0, 0};
    vae_tensor *lp =
        vae_dist_log_prob(ctx, q, vae_from_data(ctx, VAE_F64, VAE_SHAPE(6), VAE_F64, x));
    double lse1 = log(exp(0.5) + exp(-1.0) + exp(2.0)), lse2 = log(1 + exp(0.3) + exp(-0.7));
    CHECK_NEAR(vae_get_flat(lp, 0), (2.0 - lse1) + (0.0 - lse2), 1e-12, 0);
    /* entropy and the KL to uniform: H + KL = N log C */
    double H = vae_get_flat(vae_dist_entropy(ctx, q), 0),
           kl = vae_get_flat(vae_discrete_kl(ctx, q), 0);
    CHECK_NEAR(H + kl, 2 * log(3.0), 1e-12, 0);
    /* the prior: -N log C for any one-hot z */
    vae_net_cfg cfg;
    vae_net_cfg_default(&cfg);
    cfg.dtype = VAE_F64;
    vae_error err = {0};
    CHECK(vae_latent_kind_parse(&cfg, "categorical:2x3", &err) == VAE_OK && cfg.z_dim == 6);
    CHECK_NEAR(
        vae_get_flat(vae_dist_log_prob(ctx, vae_discrete_prior(ctx, &cfg),
                                       vae_from_data(ctx, VAE_F64, VAE_SHAPE(6), VAE_F64, x)),
                     0),
        -2 * log(3.0), 1e-12, 0);
    CHECK(vae_latent_kind_parse(&cfg, "bernoulli:5", &err) == VAE_OK && cfg.z_dim == 5);
    CHECK(vae_latent_kind_parse(&cfg, "categorical:3x1", &err) == VAE_ERR_ARG && cfg.z_dim == 5);
    CHECK(vae_latent_kind_parse(&cfg, "categorical:3", &err) == VAE_ERR_ARG);
    /* Gumbel-max samples: class frequencies match pi within 4 SE */
    vae_tensor *s = vae_dist_sample(ctx, q, 20000); /* (20000, 6) */
    vae_tensor *pi = vae_dist_mean(ctx, q);
    double worst = 0;
    for (int j = 0; j < 6; j++) {
        double f = 0, p = vae_get_flat(pi, j);
        for (int64_t r = 0; r < 20000; r++) f += vae_get_flat(s, r * 6 + j);
        f /= 20000;
        double z = fabs(f - p) / sqrt(p * (1 - p) / 20000);
        worst = z > worst ? z : worst;
    }
    CHECK_MSG(worst < 4, "Gumbel-max frequencies: worst |z| %.2f", worst);
    CHECK(vae_ctx_status(ctx) == VAE_OK);
}

/* gradcheck rows: the categorical log_prob (logits and a relaxed x) and the Gumbel-softmax sample path */
static const double gl[6] = {0.5, -1.0, 2.0, 0.0, 0.3, -0.7};
static const double gx[12] = {0.2, 0.3, 0.5, 0.6, 0.1, 0.3, 0.1, 0.1, 0.8, 0.3, 0.3, 0.4};
static const double gu[12] = {0.31, 0.72, 0.05, 0.5,  0.93, 0.41,
                              0.66, 0.12, 0.37, 0.84, 0.25, 0.58};

static vae_tensor *f_cat_lp(vae_ctx *ctx, vae_tensor *const *in, int n, void *u) {
    (void)n, (void)u;
    return vae_dist_log_prob(ctx, vae_categorical_logits(ctx, in[0], 3), in[1]);
}
static vae_tensor *f_gumbel(vae_ctx *ctx, vae_tensor *const *in, int n, void *u) {
    (void)n;
    const int *mode = u; /* {categorical?, hard?} */
    vae_dist *q =
        mode[0] ? vae_categorical_logits(ctx, in[0], 3) : vae_bernoulli_logits(ctx, in[0]);
    return vae_gumbel_softmax_with(ctx, q, in[1], 0.7, mode[1]);
}

static void test_gradcheck_rows(void) {
    vae_error err = {0};
    vae_gc_result res;
    vae_gc_input in[2] = {{.ndim = 2, .shape = {2, 6}, .data = gx, .requires_grad = 1},
                          {.ndim = 2, .shape = {2, 6}, .data = gx, .requires_grad = 1}};
    in[0] = (vae_gc_input){.ndim = 1, .shape = {6}, .data = gl, .requires_grad = 1};
    CHECK_MSG(vae_gradcheck(f_cat_lp, NULL, 2, in, 1e-6, 1e-7, 1e-6, &res, &err) == VAE_OK,
              "categorical log_prob: %s", err.msg);
    /* logits (2, 6) (a batch), uniforms constant (2, 6) */
    double l2[12];
    for (int i = 0; i < 12; i++) l2[i] = gl[i % 6] * (i < 6 ? 1 : -0.5);
    vae_gc_input gin[2] = {{.ndim = 2, .shape = {2, 6}, .data = l2, .requires_grad = 1},
                           {.ndim = 2, .shape = {2, 6}, .data = gu, .requires_grad = 0}};
    for (int cat = 0; cat <= 1; cat++) {
        int mode[2] = {cat, 0};
        CHECK_MSG(vae_gradcheck(f_gumbel, mode, 2, gin, 1e-6, 1e-7, 1e-6, &res, &err) == VAE_OK,
                  "gumbel-softmax (%s): %s", cat ? "categorical" : "bernoulli", err.msg);
        CHECK(res.checked == 12);
        gin[0].layout = VAE_GC_TRANSPOSED; /* strided logits */
        CHECK_MSG(vae_gradcheck(f_gumbel, mode, 2, gin, 1e-6, 1e-7, 1e-6, &res, &err) == VAE_OK,
                  "gumbel-softmax transposed: %s", err.msg);
        gin[0].layout = VAE_GC_CONTIGUOUS;
    }
}

/* straight-through: forward = the hard sample, gradient = the relaxed one; low T: y -> the hard sample */
static void test_gumbel_limits(vae_ctx *ctx) {
    vae_ctx_reset(ctx);
    vae_tensor *l = vae_from_data(ctx, VAE_F64, VAE_SHAPE(6), VAE_F64, gl);
    for (int cat = 0; cat <= 1; cat++) {
        vae_dist *q = cat ? vae_categorical_logits(ctx, l, 3) : vae_bernoulli_logits(ctx, l);
        vae_ctx_seed(ctx, 7);
        vae_tensor *y = vae_gumbel_softmax(ctx, q, 2000, 1e-3, 0); /* (2000, 6) */
        vae_tensor *h = vae_gumbel_hard(ctx, q);
        vae_ctx_seed(ctx, 7);
        vae_tensor *st = vae_gumbel_softmax(ctx, q, 2000, 1e-3, 1);
        double dev = 0, stdev = 0, far = 0;
        for (int64_t i = 0; i < vae_numel(y); i++) {
            double d = fabs(vae_get_flat(y, i) - vae_get_flat(h, i));
            dev += d / (double)vae_numel(y);
            far += d > 0.1;
            stdev = fmax(stdev, fabs(vae_get_flat(st, i) - vae_get_flat(h, i)));
        }
        /* only near-ties (|s_a - s_b| ~ T) stay soft: a fraction of order T of the entries */
        CHECK_MSG(dev < 2e-3 && far < 0.005 * (double)vae_numel(y),
                  "T = 1e-3: mean |y - hard| %.2e, %g entries off by > 0.1", dev, far);
        CHECK_MSG(stdev == 0, "straight-through forward differs from the hard sample by %g", stdev);
        /* at T = 1 the relaxed sample is far from one-hot */
        vae_tensor *y1 = vae_gumbel_softmax(ctx, q, 2000, 1.0, 0);
        h = vae_gumbel_hard(ctx, q);
        double dev1 = 0;
        for (int64_t i = 0; i < vae_numel(y1); i++)
            dev1 += fabs(vae_get_flat(y1, i) - vae_get_flat(h, i)) / (double)vae_numel(y1);
        CHECK_MSG(dev1 > 0.05, "T = 1: mean |y - hard| %.3f", dev1);
    }
    CHECK(vae_gumbel_softmax(ctx, vae_bernoulli_logits(ctx, l), 1, 0.0, 0) == NULL &&
          vae_ctx_status(ctx) == VAE_ERR_ARG);
    vae_ctx_clear_error(ctx);
    vae_objective_cfg oc;
    vae_objective_cfg_default(&oc);
    oc.temperature = 2, oc.temp_anneal = 1e-3, oc.temp_min = 0.5;
    CHECK_NEAR(vae_gumbel_temperature(&oc, 0), 2, 1e-12, 0);
    CHECK_NEAR(vae_gumbel_temperature(&oc, 1000), 2 * exp(-1.0), 1e-12, 0);
    CHECK_NEAR(vae_gumbel_temperature(&oc, 100000), 0.5, 1e-12, 0);
}

/* ---- enumeration: exact log p(x) and ELBO ---- */

static void test_exact(vae_ctx *ctx) {
    const char *kinds[2] = {"categorical:2x3", "bernoulli:3"};
    for (int k = 0; k < 2; k++) {
        vae_net net;
        make_net(&net, kinds[k], 0, 11 + k);
        CHECK(vae_discrete_num_configs(&net) == (k ? 8 : 9));
        double exact[B];
        CHECK_MSG(vae_discrete_exact_loglik(ctx, &net, xdata, B, 0, exact) == VAE_OK, "%s",
                  vae_ctx_message(ctx));
        vae_eval_cfg ec;
        vae_eval_cfg_default(&ec);
        ec.is_samples = 2000;
        vae_eval_result res;
        double ll[B], se[B], elbo[B];
        vae_ctx_seed(ctx, 3);
        CHECK_MSG(vae_evaluate_ex(ctx, &net, xdata, B, &ec, &res, elbo, ll, se) == VAE_OK, "%s",
                  vae_ctx_message(ctx));
        for (int b = 0; b < B; b++) {
            CHECK_MSG(fabs(ll[b] - exact[b]) < 3 * se[b] + 1e-9,
                      "%s x%d: IS %.6f vs exact %.6f (se %.2e)", kinds[k], b, ll[b], exact[b],
                      se[b]);
            CHECK_MSG(se[b] > 0 && se[b] < 0.05, "IS se %g", se[b]);
        }
        vae_eval_result_free(&res);
        /* the exact ELBO <= log p(x); the closed-form KL of eval agrees with the enumeration */
        vae_ctx_reset(ctx);
        vae_tensor *x = xbatch(ctx);
        vae_tensor *e = vae_discrete_exact_elbo(ctx, &net, x);
        vae_dist *q = vae_net_encode(ctx, &net, x, NULL, NULL);
        vae_tensor *z =
            vae_reshape(ctx, vae_discrete_configs(ctx, &net, 0, vae_discrete_num_configs(&net)),
                        VAE_SHAPE(vae_discrete_num_configs(&net), 1, 3 * (k ? 1 : 2)));
        vae_tensor *lq = vae_dist_log_prob(ctx, q, z);                        /* (M, B) */
        vae_tensor *lp = vae_dist_log_prob(ctx, vae_net_prior(ctx, &net), z); /* (M, 1) */
        vae_tensor *kl = vae_discrete_kl(ctx, q);
        CHECK_MSG(e && lq && lp && kl, "%s", vae_ctx_message(ctx));
        if (!e || !lq || !lp || !kl) continue;
        for (int b = 0; b < B; b++) {
            double klb = 0, qs = 0;
            for (int64_t m = 0; m < vae_discrete_num_configs(&net); m++) {
                double a = vae_get_flat(lq, m * B + b);
                qs += exp(a);
                klb += exp(a) * (a - vae_get_flat(lp, m));
            }
            CHECK_NEAR(qs, 1.0, 1e-12, 0);
            CHECK_NEAR(vae_get_flat(kl, b), klb, 1e-10, 0);
            CHECK(vae_get_flat(e, b) <= exact[b] + 1e-12);
            CHECK_MSG(fabs(vae_get_flat(e, b) - elbo[b]) < 1.0,
                      "exact ELBO %g vs eval's one-sample %g", vae_get_flat(e, b), elbo[b]);
        }
        vae_net_free(&net);
    }
}

/* the gumbel estimator reports the true discrete ELBO (hard samples): its mean over steps matches the exact ELBO,
 * while the relaxed bound it optimizes does not; the temperature follows the annealing schedule */
static void test_gumbel_bound(vae_ctx *ctx) {
    vae_net net;
    make_net(&net, "categorical:2x3", 0, 21);
    vae_ctx_reset(ctx);
    vae_tensor *e = vae_discrete_exact_elbo(ctx, &net, xbatch(ctx));
    double exact = 0;
    for (int b = 0; b < B; b++) exact += vae_get_flat(e, b) / B;
    vae_objective_cfg oc;
    vae_objective_cfg_default(&oc);
    oc.estimator = VAE_EST_GUMBEL, oc.temperature = 2, oc.temp_anneal = 1e-3, oc.temp_min = 1;
    vae_objective_state st = {0};
    double s1 = 0, s2 = 0, r1 = 0, T = 0;
    int n = 2000;
    vae_ctx_seed(ctx, 5);
    for (int i = 0; i < n; i++) {
        vae_objective_out o;
        vae_ctx_reset(ctx);
        if (vae_objective(ctx, &net, xbatch(ctx), &oc, &st, &o)) break;
        s1 += o.bound_mean, s2 += o.bound_mean * o.bound_mean;
        r1 += vae_objective_out_value(&o, "relaxed_bound");
        T = vae_objective_out_value(&o, "temperature");
    }
    CHECK_MSG(vae_ctx_status(ctx) == VAE_OK, "%s", vae_ctx_message(ctx));
    double m = s1 / n, se = sqrt((s2 / n - m * m) / (n - 1));
    CHECK_MSG(fabs(m - exact) < 4 * se,
              "gumbel's reported bound %.4f +- %.4f vs the exact ELBO %.4f", m, se, exact);
    CHECK_MSG(fabs(r1 / n - exact) > 10 * se,
              "the relaxed bound %.4f should differ from the ELBO %.4f", r1 / n, exact);
    CHECK_NEAR(T, fmax(1.0, 2 * exp(-1e-3 * (n - 1))), 1e-12, 0);
    CHECK(net.relax_temperature == 0 && st.step == n);
    vae_net_free(&net);
}

/* ---- estimators against the exact gradient ---- */

#define DRAWS 4000

static vae_status study(vae_ctx *ctx, vae_net *net, const char *spec, vae_estimator est,
                        vae_baseline bl, double T, const vae_study_ref *ref, vae_study_row *row) {
    vae_objective_cfg oc;
    vae_objective_cfg_default(&oc);
    vae_error err = {0};
    CHECK(vae_objective_parse_spec(&oc, spec, &err) == VAE_OK);
    oc.estimator = est, oc.baseline = bl, oc.temperature = T;
    vae_ctx_seed(ctx, 99);
    vae_status s = vae_study_run(ctx, net, xdata, B, &oc, DRAWS, ref, row, NULL, NULL);
    CHECK_MSG(s == VAE_OK, "%s", vae_ctx_message(ctx));
    return s;
}

static void test_unbiased(vae_ctx *ctx) {
    vae_net net;
    make_net(&net, "categorical:2x3", 16, 5);
    /* a decoder that makes x_0 likely and the others not: the bound differs by ~10 nats across the batch, the
     * part of the signal's spread a constant baseline cannot remove and b(x) can */
    vae_tensor *ob = net.dec.layer[net.dec.nlayers - 1].b;
    for (int j = 0; j < D; j++) vae_set_flat(ob, j, xdata[j] > 0 ? 3.0 : -3.0);
    int64_t P = vae_params_flat_len(net.params);
    double *g = malloc(sizeof(double) * (size_t)P);
    CHECK_MSG(vae_discrete_exact_grad(ctx, &net, xdata, B, g) == VAE_OK, "%s",
              vae_ctx_message(ctx));
    vae_study_ref ref = {g, NULL, 0};
    static vae_study_row row, ma;
    struct {
        const char *spec;
        vae_baseline bl;
    } cases[4] = {{"vae", VAE_BASELINE_NONE},
                  {"vae", VAE_BASELINE_MA},
                  {"vae:l=4", VAE_BASELINE_VIMCO},
                  {"vae", VAE_BASELINE_NVIL}};
    for (int c = 0; c < 4; c++) {
        if (study(ctx, &net, cases[c].spec, VAE_EST_SCORE, cases[c].bl, 1, &ref, &row)) continue;
        for (int gi = VAE_STUDY_ENCODER; gi <= VAE_STUDY_DECODER; gi++) {
            const vae_study_group *gr = &row.group[gi];
            CHECK_MSG(fabs(gr->bias_norm2.est) < 3 * gr->bias_norm2.se,
                      "score:%s %s: bias^2 %.3g +- %.3g (|E g|^2 %.3g)",
                      vae_baseline_name(cases[c].bl), gr->name, gr->bias_norm2.est,
                      gr->bias_norm2.se, gr->ref_norm2);
            printf("score:%-6s %-8s rel bias %.4f +- %.4f  tr Cov %.4g +- %.3g\n",
                   vae_baseline_name(cases[c].bl), gr->name, gr->rel_bias.est, gr->rel_bias.se,
                   gr->trace_cov.est, gr->trace_cov.se);
        }
        if (cases[c].bl == VAE_BASELINE_MA) ma = row;
        if (cases[c].bl ==
            VAE_BASELINE_NVIL) { /* the fitted b(x) removes what the constant c cannot */
            const vae_study_group *n = &row.group[VAE_STUDY_ENCODER],
                                  *m = &ma.group[VAE_STUDY_ENCODER];
            CHECK_MSG(n->trace_cov.est + 3 * n->trace_cov.se < m->trace_cov.est,
                      "nvil tr Cov %.4g +- %.3g vs ma %.4g +- %.3g", n->trace_cov.est,
                      n->trace_cov.se, m->trace_cov.est, m->trace_cov.se);
        }
    }
    /* the relaxation is biased at T = 1: the study resolves it against the exact gradient */
    if (!study(ctx, &net, "vae", VAE_EST_GUMBEL, VAE_BASELINE_NONE, 1.0, &ref, &row)) {
        const vae_study_group *gr = &row.group[VAE_STUDY_ENCODER];
        CHECK_MSG(gr->bias_norm2.est > 3 * gr->bias_norm2.se, "gumbel T=1: bias^2 %.3g +- %.3g",
                  gr->bias_norm2.est, gr->bias_norm2.se);
        printf("gumbel T=1 encoder rel bias %.4f +- %.4f\n", gr->rel_bias.est, gr->rel_bias.se);
    }
    free(g);
    vae_net_free(&net);
}

/* NVIL: fitting b(x) lowers its regression residual; the objective's gradient of bl.* is only that regression */
static void test_nvil_fit(vae_ctx *ctx) {
    vae_net net;
    make_net(&net, "bernoulli:3", 16, 8);
    vae_objective_cfg oc;
    vae_objective_cfg_default(&oc);
    oc.estimator = VAE_EST_SCORE, oc.baseline = VAE_BASELINE_NVIL;
    vae_objective_state st = {0};
    double mse0 = NAN, mse1 = NAN;
    vae_ctx_seed(ctx, 4);
    CHECK(vae_nvil_fit(ctx, &net, xdata, B, &oc, &st, 1, 3e-3, &mse0) == VAE_OK);
    CHECK(vae_nvil_fit(ctx, &net, xdata, B, &oc, &st, 400, 3e-3, &mse1) == VAE_OK);
    CHECK_MSG(mse1 < 0.5 * mse0, "nvil mse %.4g -> %.4g", mse0, mse1);
    CHECK(st.nvil_b == NULL && st.step == 401);
    oc.baseline = VAE_BASELINE_MA;
    CHECK(vae_nvil_fit(ctx, &net, xdata, B, &oc, NULL, 1, 3e-3, NULL) == VAE_ERR_ARG);
    vae_ctx_clear_error(ctx);
    vae_net_free(&net);
}

/* ---- refusals ---- */

static void test_refusals(vae_ctx *ctx) {
    vae_net net, gauss;
    make_net(&net, "categorical:2x3", 0, 1);
    make_net(&gauss, "gaussian", 0, 1);
    const struct {
        vae_net *net;
        const char *spec;
        vae_estimator est;
        vae_baseline bl;
        const char *msg;
    } cases[] = {
        {&net, "vae", VAE_EST_REPARAM, VAE_BASELINE_NONE, "discrete"},
        {&net, "vae:mc-kl=1", VAE_EST_STL, VAE_BASELINE_NONE, "discrete"},
        {&net, "iwae", VAE_EST_DREG, VAE_BASELINE_NONE, "discrete"},
        {&gauss, "vae", VAE_EST_GUMBEL, VAE_BASELINE_NONE, "Gaussian"},
        {&net, "vae", VAE_EST_SCORE, VAE_BASELINE_NVIL, "baseline network"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        vae_objective_cfg oc;
        vae_objective_cfg_default(&oc);
        vae_error err = {0};
        vae_objective_parse_spec(&oc, cases[i].spec, &err);
        oc.estimator = cases[i].est, oc.baseline = cases[i].bl;
        vae_objective_state st = {0};
        vae_objective_out o;
        vae_ctx_reset(ctx);
        vae_status s = vae_objective(ctx, cases[i].net, xbatch(ctx), &oc, &st, &o);
        CHECK_MSG(s == VAE_ERR_ARG && strstr(vae_ctx_message(ctx), cases[i].msg),
                  "case %zu: status %d, \"%s\"", i, (int)s, vae_ctx_message(ctx));
        vae_ctx_clear_error(ctx);
    }
    /* the gumbel temperatures are checked */
    vae_objective_cfg oc;
    vae_objective_cfg_default(&oc);
    oc.estimator = VAE_EST_GUMBEL;
    oc.temperature = 0.1; /* below the default minimum 0.5 */
    vae_error err = {0};
    CHECK(vae_objective_check(&oc, &err) == VAE_ERR_ARG && strstr(err.msg, "temperature"));
    /* a discrete model's description survives the checkpoint text */
    vae_model_desc d;
    vae_model_desc_default(&d);
    d.net = net.cfg;
    d.net.baseline_hidden = 12;
    char *text;
    size_t len;
    CHECK(vae_model_desc_write(&d, &text, &len, &err) == VAE_OK);
    vae_model_desc e;
    vae_model_desc_default(&e);
    CHECK_MSG(vae_model_desc_parse(text, len, &e, &err) == VAE_OK, "%s", err.msg);
    CHECK(e.net.latent_kind == VAE_LATENT_CATEGORICAL && e.net.latent_classes == 3 &&
          e.net.z_dim == 6 && e.net.baseline_hidden == 12);
    free(text);
    vae_net_free(&net);
    vae_net_free(&gauss);
}

int main(void) {
    vae_ctx *ctx = vae_ctx_new(0);
    test_categorical_values(ctx);
    test_gradcheck_rows();
    test_gumbel_limits(ctx);
    test_exact(ctx);
    test_gumbel_bound(ctx);
    test_nvil_fit(ctx);
    test_unbiased(ctx);
    test_refusals(ctx);
    vae_ctx_free(ctx);
    printf("%d passed, %d failed\n", test_passed_, test_failed_);
    return test_failed_ ? 1 : 0;
}
