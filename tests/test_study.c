/* The estimator study's statistics (models/study.h), against truths known in closed form:
 *  1. synthetic draws g = mu + sigma * eps with known mu and sigma: the unbiased ||E g||^2 and tr Cov lie within
 *     3 standard errors of the truth, the SNR at R = 100 and R = 1600 agree within their standard errors (the
 *     plug-in SNR of a small-mean gradient does not: it falls like 1 / sqrt(R)), and a zero mean reads as
 *     "indistinguishable from 0";
 *  2. a linear-Gaussian VAE whose expected ELBO has a closed form, built with the library's ops: its gradient is
 *     the exact E g. Every estimator's mean lies within 3 standard errors of it (bias^2 against the exact
 *     reference, per group), and the score function's encoder SNR does not drift with R;
 *  3. the groups of a net: the encoder's mean and log-variance heads split the last layer's columns. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/study_internal.h"
#include "test.h"
#include "vae.h"

/* ---- 1. synthetic draws ---- */
#define P 8
static const double mu_true[P] = {0.02, -0.01, 0.03, 0, 0.01, -0.02, 0.015, 0.005};
static const double sd_true[P] = {1, 0.5, 2, 1, 0.7, 1.5, 1, 0.3};

static void synthetic(int64_t R, double scale_mu, uint64_t seed, vae_study_row *row) {
    vae__study_layout lay;
    memset(&lay, 0, sizeof lay);
    lay.ngroups = 1;
    strcpy(lay.name[0], "total");
    lay.natoms = 1;
    lay.atom[0] = (vae__study_atom){0, 1, P, 0, P, 1};
    vae__study_acc acc;
    vae_error err = {0};
    CHECK(vae__study_acc_init(&acc, P, R, &lay, NULL, &err) == VAE_OK);
    vae_rng rng;
    vae_rng_seed(&rng, seed);
    double g[P];
    for (int64_t r = 0; r < R; r++) {
        for (int i = 0; i < P; i++)
            g[i] = scale_mu * mu_true[i] + sd_true[i] * vae_rng_normal(&rng);
        vae__study_acc_add(&acc, g, VAE_F64, 1);
    }
    memset(row, 0, sizeof *row);
    vae__study_acc_finish(&acc, row, NULL, NULL);
    vae__study_acc_free(&acc);
}

static void test_synthetic(void) {
    double m2 = 0, tr = 0;
    for (int i = 0; i < P; i++) m2 += 100 * mu_true[i] * mu_true[i], tr += sd_true[i] * sd_true[i];
    double snr = sqrt(m2 / tr); /* 0.071: a small-mean gradient, like the score function's */
    /* over 20 seeds at R = 1600, the estimates' z-scores against the truth: |z| < 3.5 each, mean z^2 near 1
     * (the standard errors are honest) */
    double z2u = 0, z2t = 0, maxz = 0;
    int nseed = 20;
    for (int s = 0; s < nseed; s++) {
        vae_study_row row;
        synthetic(1600, 10, 100 + (uint64_t)s, &row);
        const vae_study_group *g = &row.group[0];
        double zu = (g->mean_norm2.est - m2) / g->mean_norm2.se,
               zt = (g->trace_cov.est - tr) / g->trace_cov.se;
        z2u += zu * zu / nseed, z2t += zt * zt / nseed;
        maxz = fmax(maxz, fmax(fabs(zu), fabs(zt)));
    }
    printf("synthetic: ||E g||^2 = %.4f, tr Cov = %.3f, SNR = %.4f; mean z^2 %.2f, %.2f; max |z| "
           "%.2f\n",
           m2, tr, snr, z2u, z2t, maxz);
    CHECK_MSG(maxz < 3.5, "max |z| %.2f", maxz);
    CHECK_MSG(z2u > 0.4 && z2u < 2.0, "||E g||^2: mean z^2 %.2f", z2u);
    CHECK_MSG(z2t > 0.4 && z2t < 2.0, "tr Cov: mean z^2 %.2f", z2t);

    /* the SNR does not drift with R (a larger mean: resolved at R = 100 too) */
    vae_study_row a, b;
    synthetic(100, 30, 7, &a);
    synthetic(1600, 30, 8, &b);
    const vae_study_group *ga = &a.group[0], *gb = &b.group[0];
    printf("SNR (true %.3f): R=100 %.3f +- %.3f   R=1600 %.3f +- %.3f\n", 3 * snr, ga->snr.est,
           ga->snr.se, gb->snr.est, gb->snr.se);
    CHECK(ga->snr_resolved && gb->snr_resolved);
    CHECK_MSG(fabs(ga->snr.est - gb->snr.est) <
                  2 * sqrt(ga->snr.se * ga->snr.se + gb->snr.se * gb->snr.se),
              "SNR %.4f vs %.4f", ga->snr.est, gb->snr.est);
    CHECK(fabs(gb->snr.est - 3 * snr) < 3 * gb->snr.se);

    /* a zero mean: ||E g||^2 within 2 SE of 0 -> unresolved, snr NAN, an upper bound; the plug-in SNR
     * ||gbar|| / sqrt(tr S) of the old study reads 1 / sqrt(R) instead */
    int unresolved = 0;
    for (int s = 0; s < 10; s++) {
        synthetic(100, 0, 300 + (uint64_t)s, &a);
        unresolved += !a.group[0].snr_resolved && isnan(a.group[0].snr.est) &&
                      a.group[0].snr_upper > 0 && a.group[0].snr_upper < 0.2;
    }
    CHECK_MSG(unresolved >= 9, "%d of 10 zero-mean studies unresolved", unresolved);
    synthetic(1600, 0, 400, &b);
    printf("zero mean: plug-in SNR R=100 %.4f, R=1600 %.4f\n", a.group[0].snr_plugin,
           b.group[0].snr_plugin);
    CHECK(a.group[0].snr_plugin > 2 * b.group[0].snr_plugin); /* E ||gbar||^2 = tr Cov / R */
    /* three draws still give standard errors; two do not (and then nothing is resolved) */
    synthetic(3, 10, 9, &a);
    CHECK(!isnan(a.group[0].mean_norm2.se) && a.draws == 3);
    synthetic(2, 10, 9, &a);
    CHECK(isnan(a.group[0].mean_norm2.se) && !a.group[0].snr_resolved);
}

/* ---- 2. the linear-Gaussian VAE ---- */
#define D  5
#define Z  2
#define NB 4
static const float xdata[NB * D] = {0.5f,  -1.0f, 0.3f,  1.2f, 0.0f, -0.4f, 0.8f,
                                    1.1f,  -0.2f, 0.6f,  0.9f, 0.1f, -0.7f, 0.4f,
                                    -1.3f, 0.2f,  -0.5f, 0.0f, 1.0f, 0.7f};

/* Exact gradient of mean_b ELBO_b for encoder x -> (mu | logvar) linear, decoder x ~ N(z W + c, I):
 *   ELBO = -D/2 log 2pi - 1/2 [ ||x - mu W - c||^2 + sum_j exp(logvar_j) ||W_j||^2 ] - KL(q || N(0, I)) */
static void exact_gradient(vae_ctx *ctx, vae_net *net, double *g) {
    vae_ctx_reset(ctx);
    vae_params_zero_grad(net->params);
    vae_tensor *x = vae_cast(ctx, vae_wrap(ctx, VAE_F32, VAE_SHAPE(NB, D), (void *)xdata), VAE_F64);
    vae_tensor *mu, *lv;
    vae_net_encode(ctx, net, x, &mu, &lv);
    vae_tensor *W = vae_params_find(net->params, "dec.0.weight"),
               *c = vae_params_find(net->params, "dec.0.bias");
    vae_tensor *r = vae_sub(ctx, x, vae_linear_act(ctx, mu, W, c, VAE_ACT_IDENTITY, 0));
    vae_tensor *sq = vae_sum_axis(ctx, vae_square(ctx, r), 1, 0);                 /* (B) */
    vae_tensor *wn = vae_sum_axis(ctx, vae_square(ctx, W), 1, 0);                 /* (Z) */
    vae_tensor *tr = vae_sum_axis(ctx, vae_mul(ctx, vae_exp(ctx, lv), wn), 1, 0); /* (B) */
    vae_tensor *elbo = vae_sub(ctx, vae_mul_scalar(ctx, vae_add(ctx, sq, tr), -0.5),
                               vae_normal_kl_std(ctx, mu, lv));
    vae_tensor *loss = vae_neg(ctx, vae_mean(ctx, elbo, 0, NULL, 0));
    CHECK_MSG(vae_backward(ctx, loss) == VAE_OK, "%s", vae_ctx_message(ctx));
    int64_t n = vae_params_flat_len(net->params);
    const double *gr = vae_params_grads(net->params);
    for (int64_t i = 0; i < n; i++) g[i] = -gr[i];
    vae_params_zero_grad(net->params);
    vae_ctx_reset(ctx);
}

static void study(vae_ctx *ctx, vae_net *net, const char *spec, vae_estimator e, vae_baseline bl,
                  int64_t R, const vae_study_ref *ref, vae_study_row *row) {
    vae_objective_cfg c;
    vae_objective_cfg_default(&c);
    vae_error err = {0};
    CHECK(vae_objective_parse_spec(&c, spec, &err) == VAE_OK);
    c.estimator = e, c.baseline = bl;
    vae_status s = vae_study_run(ctx, net, xdata, NB, &c, R, ref, row, NULL, NULL);
    CHECK_MSG(s == VAE_OK, "%s", vae_ctx_message(ctx));
}

static void test_linear_gaussian(void) {
    vae_ctx *ctx = vae_ctx_new(0);
    vae_net net;
    vae_net_cfg nc;
    vae_net_cfg_default(&nc);
    nc.x_dim = D, nc.z_dim = Z, nc.nhidden = 0, nc.dtype = VAE_F64;
    snprintf(nc.likelihood, sizeof nc.likelihood, "gaussian");
    vae_rng rng;
    vae_rng_seed(&rng, 5);
    vae_error err = {0};
    CHECK(vae_net_init(&net, &nc, &rng, &err) == VAE_OK);
    int64_t n = vae_params_flat_len(net.params);
    double *exact = calloc((size_t)n, sizeof *exact);
    exact_gradient(ctx, &net, exact);
    vae_study_ref ref = {exact, NULL, 0}; /* exact: no noise */
    struct {
        const char *spec;
        vae_estimator e;
        vae_baseline bl;
    } rows[] = {{"vae", VAE_EST_REPARAM, VAE_BASELINE_NONE},
                {"vae:l=2", VAE_EST_SCORE, VAE_BASELINE_NONE},
                {"vae:l=2", VAE_EST_SCORE, VAE_BASELINE_VIMCO},
                {"vae:l=2", VAE_EST_STL, VAE_BASELINE_NONE}};
    vae_study_row row;
    vae_ctx_seed(ctx, getenv("STUDY_SEED") ? (uint64_t)atoi(getenv("STUDY_SEED")) : 77);
    for (size_t k = 0; k < sizeof rows / sizeof *rows; k++) {
        study(ctx, &net, rows[k].spec, rows[k].e, rows[k].bl, 1600, &ref, &row);
        for (int g = VAE_STUDY_TOTAL; g < VAE_STUDY_FIRST_TENSOR; g++) {
            const vae_study_group *gr = &row.group[g];
            double z = gr->bias_norm2.est / gr->bias_norm2.se;
            CHECK_MSG(fabs(z) < 3, "%s %s/%s %s: bias^2 %.3g +- %.3g", rows[k].spec,
                      vae_estimator_name(rows[k].e), vae_baseline_name(rows[k].bl), gr->name,
                      gr->bias_norm2.est, gr->bias_norm2.se);
            /* the unbiased ||E g||^2 against the exact one (4 SE: the jackknife's 9 degrees of freedom) */
            double zu = (gr->mean_norm2.est - gr->ref_norm2) / gr->mean_norm2.se;
            CHECK_MSG(fabs(zu) < 4, "%s %s: ||E g||^2 %.4g +- %.3g, exact %.4g",
                      vae_estimator_name(rows[k].e), gr->name, gr->mean_norm2.est,
                      gr->mean_norm2.se, gr->ref_norm2);
        }
        const vae_study_group *en = &row.group[VAE_STUDY_ENCODER];
        printf(
            "%-8s %-7s/%-5s encoder: bias^2 %9.2e +- %8.2e  cos %.3f +- %.3f  SNR %.3f +- %.3f\n",
            rows[k].spec, vae_estimator_name(rows[k].e), vae_baseline_name(rows[k].bl),
            en->bias_norm2.est, en->bias_norm2.se, en->cosine.est, en->cosine.se, en->snr.est,
            en->snr.se);
        CHECK(row.nprefix == 10 && row.prefix_r[9] == 1000); /* 1, 2, 5, ..., 1000 */
    }
    /* the score function's encoder SNR at R = 100 and R = 1600 agree within their standard errors */
    vae_study_row a, b;
    study(ctx, &net, "vae", VAE_EST_SCORE, VAE_BASELINE_NONE, 100, &ref, &a);
    study(ctx, &net, "vae", VAE_EST_SCORE, VAE_BASELINE_NONE, 1600, &ref, &b);
    const vae_study_group *ea = &a.group[VAE_STUDY_ENCODER], *eb = &b.group[VAE_STUDY_ENCODER];
    printf(
        "score encoder SNR: R=100 %.3f +- %.3f (plug-in %.3f)  R=1600 %.3f +- %.3f (plug-in %.3f)  "
        "exact ||E g||^2 %.4f\n",
        ea->snr.est, ea->snr.se, ea->snr_plugin, eb->snr.est, eb->snr.se, eb->snr_plugin,
        eb->ref_norm2);
    CHECK(eb->snr_resolved);
    if (ea->snr_resolved)
        CHECK_MSG(fabs(ea->snr.est - eb->snr.est) <
                      2 * sqrt(ea->snr.se * ea->snr.se + eb->snr.se * eb->snr.se),
                  "SNR %.3f vs %.3f", ea->snr.est, eb->snr.est);
    else
        CHECK(ea->snr_upper > eb->snr.est); /* the bound holds */
    /* the error of the mean of the first R' draws falls for an unbiased estimator */
    CHECK(b.group[VAE_STUDY_TOTAL].prefix_err[9] < 0.5 * b.group[VAE_STUDY_TOTAL].prefix_err[2]);
    free(exact);
    vae_net_free(&net);
    vae_ctx_free(ctx);
}

/* ---- 3. groups ---- */
static void test_groups(void) {
    vae_net net;
    vae_net_cfg nc;
    vae_net_cfg_default(&nc);
    nc.x_dim = 6, nc.z_dim = 3, nc.nhidden = 1, nc.hidden[0] = 4;
    vae_rng rng;
    vae_rng_seed(&rng, 1);
    vae_error err = {0};
    CHECK(vae_net_init(&net, &nc, &rng, &err) == VAE_OK);
    vae__study_layout lay;
    vae__study_layout_net(&net, &lay);
    CHECK(lay.ngroups == VAE_STUDY_FIRST_TENSOR + 8); /* enc.0/1, dec.0/1: weight and bias each */
    CHECK(strcmp(lay.name[VAE_STUDY_ENC_MU], "encoder.mu") == 0);
    CHECK(strcmp(lay.name[VAE_STUDY_FIRST_TENSOR], "enc.0.weight") == 0);
    int64_t cnt[VAE_STUDY_MAX_GROUPS] = {0};
    for (int a = 0; a < lay.natoms; a++)
        for (int g = 0; g < lay.ngroups; g++)
            if (lay.atom[a].groups >> g & 1)
                cnt[g] += lay.atom[a].rows * (lay.atom[a].c1 - lay.atom[a].c0);
    CHECK(cnt[VAE_STUDY_ENC_MU] == 4 * 3 + 3 && cnt[VAE_STUDY_ENC_LOGVAR] == 4 * 3 + 3);
    CHECK(cnt[VAE_STUDY_ENCODER] == 6 * 4 + 4 + 4 * 6 + 6);
    CHECK(cnt[VAE_STUDY_TOTAL] == vae_params_numel(net.params));
    CHECK(cnt[VAE_STUDY_ENCODER] + cnt[VAE_STUDY_DECODER] == cnt[VAE_STUDY_TOTAL]);
    /* the mu columns of the head weight: element (r, c) with c < Z */
    int hw = vae_params_index(net.params, "enc.1.weight");
    int64_t off = vae_params_offset(net.params, hw);
    int found = 0;
    for (int a = 0; a < lay.natoms; a++)
        if (lay.atom[a].groups >> VAE_STUDY_ENC_MU & 1 && lay.atom[a].off == off)
            found = lay.atom[a].rows == 4 && lay.atom[a].ld == 6 && lay.atom[a].c1 == 3;
    CHECK(found);
    vae_net_free(&net);
}

int main(void) {
    test_synthetic();
    test_groups();
    test_linear_gaussian();
    return test_finish();
}
