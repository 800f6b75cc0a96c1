/* The objective registry and the VR-alpha, MIWAE and CIWAE bounds: spec parsing and its errors, user
 * registration, the limits that tie the bounds together (replaying the same noise by reseeding the context),
 * the estimator building blocks against hand-written loops, and gradchecks of the new bounds with the noise fixed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "vae.h"
#include "objective_gradcheck.h"

#define D 6
#define B 4
#define K 5

static double xdata[B * D] = {1, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1, 0,
                              1, 1, 0, 0, 0, 1, 0, 0, 1, 1, 1, 1};

/* A user's objective in one file: the K-sample Monte-Carlo ELBO, (1/K) sum_k log w_k, with any estimator the
 * particles support. */
static const vae_objective_option mc_opts[] = {{"k", 3, 1, 1000, 1, "samples per datum"}};
static vae_status mc_build(vae_ctx *ctx, vae_net *net, vae_tensor *x, const vae_objective_cfg *c,
                           const vae_objective_state *st, vae_objective_out *out) {
    vae_est_particles p;
    vae_status s = vae_est_draw_particles(ctx, net, x, 1, (int64_t)c->opt[0], c->estimator, &p);
    if (s) return s;
    vae_tensor *bound = vae_mean_axis(ctx, p.logw, 0, 0); /* (B) */
    vae_tensor *S = vae_est_surrogate(ctx, c->estimator, c->baseline, p.logw, p.logq, bound, st);
    out->loss = vae_neg(ctx, vae_mean(ctx, S, 0, NULL, 0));
    out->bound = vae_detach(ctx, bound);
    if (!out->loss) return vae_ctx_status(ctx);
    out->bound_mean = out->signal_mean = vae_item(vae_mean(ctx, bound, 0, NULL, 0));
    vae_objective_out_log(out, "elbo", out->bound_mean);
    return VAE_OK;
}
static const vae_objective_desc mc_elbo = {"mc-elbo",
                                           "(1/K) sum_k log w_k",
                                           1,
                                           mc_opts,
                                           (1u << VAE_EST_REPARAM) | (1u << VAE_EST_STL),
                                           NULL,
                                           mc_build};

static void small_net(vae_net *net) {
    vae_net_cfg nc;
    vae_net_cfg_default(&nc);
    nc.x_dim = D;
    nc.z_dim = 2;
    nc.hidden[0] = 5;
    nc.act = VAE_ACT_TANH;
    nc.dtype = VAE_F64;
    vae_rng rng;
    vae_rng_seed(&rng, 3);
    vae_error err = {0};
    CHECK_MSG(vae_net_init(net, &nc, &rng, &err) == VAE_OK, "%s", err.msg);
}

static vae_objective_cfg spec(const char *s) {
    vae_objective_cfg c;
    vae_objective_cfg_default(&c);
    vae_error err = {0};
    CHECK_MSG(vae_objective_parse_spec(&c, s, &err) == VAE_OK, "%s: %s", s, err.msg);
    return c;
}

/* the per-datum bound of spec s on the fixed batch with the noise of seed */
static void bound_of(vae_ctx *ctx, vae_net *net, const char *s, uint64_t seed, double *b) {
    vae_objective_cfg c = spec(s);
    vae_objective_state st = {0};
    vae_objective_out o;
    vae_ctx_reset(ctx);
    vae_ctx_seed(ctx, seed);
    vae_tensor *x = vae_from_data(ctx, VAE_F64, VAE_SHAPE(B, D), VAE_F64, xdata);
    vae_status rc = vae_objective(ctx, net, x, &c, &st, &o);
    CHECK_MSG(rc == VAE_OK, "%s: %s", s, vae_ctx_message(ctx));
    for (int i = 0; i < B; i++) b[i] = rc ? NAN : vae_get_flat(o.bound, i);
}

static void same_bound(vae_ctx *ctx, vae_net *net, const char *a, const char *b, double tol) {
    double x[B], y[B], worst = 0;
    bound_of(ctx, net, a, 7, x);
    bound_of(ctx, net, b, 7, y);
    for (int i = 0; i < B; i++) worst = fmax(worst, fabs(x[i] - y[i]));
    CHECK_MSG(worst <= tol, "%s vs %s: max |diff| %.3g > %.3g", a, b, worst, tol);
    printf("%-26s = %-22s max|diff| %.2e\n", a, b, worst);
}

static void spec_error(const char *s, const char *word) {
    vae_objective_cfg c = spec("iwae:k=9"), before = c;
    vae_error err = {0};
    CHECK_MSG(vae_objective_parse_spec(&c, s, &err) == VAE_ERR_ARG && strstr(err.msg, word),
              "spec \"%s\": %s (want \"%s\")", s, err.msg, word);
    CHECK_MSG(memcmp(&c, &before, sizeof c) == 0, "spec \"%s\" changed cfg on failure", s);
}

static void check_error(const char *s, vae_estimator e, vae_baseline bl, const char *word) {
    vae_objective_cfg c = spec(s);
    c.estimator = e;
    c.baseline = bl;
    vae_error err = {0};
    CHECK_MSG(vae_objective_check(&c, &err) == VAE_ERR_ARG && strstr(err.msg, word),
              "%s with %s:%s: %s (want \"%s\")", s, vae_estimator_name(e), vae_baseline_name(bl),
              err.msg, word);
}

/* gradcheck of a spec w.r.t. every parameter with the noise fixed (reseeded per evaluation) */
/* every parameter of the net, noise fixed; step 5 so warm-up weights are inside their ramp */
static void gradcheck_spec(vae_net *net, const char *s) {
    vae_objective_cfg c = spec(s);
    gradcheck_objective(net, &c, xdata, B, D, 5, s);
}

int main(void) {
    vae_ctx *ctx = vae_ctx_new(0);
    vae_net net;
    small_net(&net);

    /* 1. specs: values, canonical form, defaults, and every refused spec with its message */
    {
        vae_objective_cfg c = spec("vr:k=7,alpha=0.25");
        CHECK(strcmp(c.desc->name, "vr") == 0);
        CHECK(vae_objective_get(&c, "k") == 7 && vae_objective_get(&c, "alpha") == 0.25);
        CHECK(isnan(vae_objective_get(&c, "beta")));
        char buf[128];
        CHECK(vae_objective_spec(&c, buf, sizeof buf) == (int)strlen("vr:alpha=0.25,k=7"));
        CHECK_MSG(strcmp(buf, "vr:alpha=0.25,k=7") == 0, "%s", buf);
        c = spec("miwae");
        CHECK(vae_objective_get(&c, "m") == 4 && vae_objective_get(&c, "k") == 8);
        vae_objective_spec(&c, buf, sizeof buf);
        CHECK(strcmp(buf, "miwae") == 0);
        /* a zeroed configuration reads as the default "vae" with options 0: l = 0 is out of range */
        vae_objective_cfg z;
        memset(&z, 0, sizeof z);
        vae_error zerr = {0};
        CHECK(vae_objective_check(&z, &zerr) == VAE_ERR_ARG &&
              strstr(zerr.msg, "objective vae: l = 0"));
        z.opt[0] = 1;
        CHECK(vae_objective_check(&z, &zerr) == VAE_OK);
        spec_error("gan", "registered: vae, beta-vae, iwae, vr, miwae, ciwae");
        spec_error("iwae:alpha=1", "valid: k");
        spec_error("vr:beta=1", "valid: alpha, k");
        spec_error("iwae:k=0", "k = 0 is out of range 1..100000");
        spec_error("ciwae:beta=1.5", "out of range 0..1");
        spec_error("iwae:k=2.5", "whole number");
        spec_error("iwae:k=five", "not a number");
        spec_error("iwae:k", "not key=value");
        spec_error("vr:alpha=0.5,", "not key=value");
        vae_error err = {0};
        CHECK(vae_objective_set(&c, "q", 1, &err) == VAE_ERR_ARG && strstr(err.msg, "valid: m, k"));
        check_error("vr", VAE_EST_DREG, VAE_BASELINE_NONE, "supported: reparam, score, stl");
        check_error("vr:alpha=1", VAE_EST_SCORE, VAE_BASELINE_VIMCO, "alpha != 1");
        check_error("vr:k=1", VAE_EST_SCORE, VAE_BASELINE_VIMCO, "k >= 2");
        check_error("miwae", VAE_EST_SCORE, VAE_BASELINE_VIMCO, "vimco");
        check_error("miwae:m=1000,k=1000", VAE_EST_REPARAM, VAE_BASELINE_NONE, "m * k");
        check_error("ciwae", VAE_EST_DREG, VAE_BASELINE_NONE, "dreg");
        check_error("iwae", VAE_EST_STL, VAE_BASELINE_MA, "needs the score estimator");
    }

    /* 2. user registration: runs by name; duplicates, incomplete descriptors and full slots refused */
    {
        const vae_objective_desc *all[64];
        int n0 = vae_objective_list(all, 64);
        CHECK(n0 == 6);
        CHECK(vae_objective_register(&mc_elbo) == VAE_OK);
        CHECK(vae_objective_register(&mc_elbo) == VAE_ERR_ARG); /* name taken */
        vae_objective_desc bad = mc_elbo;
        bad.name = "mc2";
        bad.build = NULL;
        CHECK(vae_objective_register(&bad) == VAE_ERR_ARG);
        bad = mc_elbo, bad.name = "mc2", bad.estimators = 0;
        CHECK(vae_objective_register(&bad) == VAE_ERR_ARG);
        static const vae_objective_option off[] = {{"k", 0, 1, 10, 1, "default below min"}};
        bad = mc_elbo, bad.name = "mc2", bad.opts = off;
        CHECK(vae_objective_register(&bad) == VAE_ERR_ARG);
        bad = mc_elbo, bad.name = "iwae";
        CHECK(vae_objective_register(&bad) == VAE_ERR_ARG);
        CHECK(vae_objective_register(NULL) == VAE_ERR_ARG);
        CHECK(vae_objective_list(all, 64) == 7 && all[6] == &mc_elbo);
        CHECK(vae_objective_find("mc-elbo") == &mc_elbo);
        /* the user's K-sample ELBO is the Monte-Carlo-KL VAE with L = K, to rounding */
        same_bound(ctx, &net, "mc-elbo:k=4", "vae:l=4,mc-kl=1", 1e-10);
        check_error("mc-elbo", VAE_EST_SCORE, VAE_BASELINE_NONE, "supported: reparam, stl");
        static char names[40][16];
        static vae_objective_desc many[40];
        vae_status last = VAE_OK;
        int added = 0;
        for (int i = 0; i < 40 && last == VAE_OK; i++) {
            snprintf(names[i], sizeof names[i], "user%d", i);
            many[i] = mc_elbo;
            many[i].name = names[i];
            last = vae_objective_register(&many[i]);
            added += last == VAE_OK;
        }
        CHECK(last == VAE_ERR_OOM && added == 31); /* 32 user slots, one taken by mc-elbo */
    }

    /* 3. the bounds' limits on the same noise */
    {
        char a[64];
        snprintf(a, sizeof a, "iwae:k=%d", K);
        same_bound(ctx, &net, "vr:alpha=0,k=5", a, 1e-12);
        same_bound(ctx, &net, "miwae:m=1,k=5", a, 0);
        same_bound(ctx, &net, "ciwae:beta=0,k=5", a, 1e-12);
        same_bound(ctx, &net, "vr:alpha=1,k=5", "vae:l=5,mc-kl=1", 1e-10);
        same_bound(ctx, &net, "ciwae:beta=1,k=5", "vae:l=5,mc-kl=1", 1e-10);
        same_bound(ctx, &net, "vr:alpha=0.999999,k=5", "vae:l=5,mc-kl=1", 1e-4);
        same_bound(ctx, &net, "miwae:m=3,k=1", "vae:l=3,mc-kl=1", 1e-10);
        /* VR-alpha decreases in alpha (Li & Turner, Thm 1), CIWAE is linear in beta */
        double v0[B], v5[B], v9[B], c0[B], c5[B], c1[B];
        bound_of(ctx, &net, "vr:alpha=0,k=5", 7, v0);
        bound_of(ctx, &net, "vr:alpha=0.5,k=5", 7, v5);
        bound_of(ctx, &net, "vr:alpha=0.9,k=5", 7, v9);
        bound_of(ctx, &net, "ciwae:beta=0,k=5", 7, c0);
        bound_of(ctx, &net, "ciwae:beta=0.5,k=5", 7, c5);
        bound_of(ctx, &net, "ciwae:beta=1,k=5", 7, c1);
        for (int i = 0; i < B; i++) {
            CHECK_MSG(v0[i] >= v5[i] && v5[i] >= v9[i], "datum %d: %g %g %g", i, v0[i], v5[i],
                      v9[i]);
            CHECK_NEAR(c5[i], 0.5 * (c0[i] + c1[i]), 1e-12, 1e-12);
        }
    }

    /* 4. estimator building blocks against hand-written loops: normalized weights and VIMCO's signals */
    {
        double lw[3 * 2] = {-1.0, 2.0, 0.5, -3.0, -2.0, 1.0}; /* (K=3, B=2) */
        vae_ctx_reset(ctx);
        vae_tensor *t = vae_from_data(ctx, VAE_F64, VAE_SHAPE(3, 2), VAE_F64, lw);
        vae_tensor *w = vae_est_weights(ctx, t, 0), *v = vae_est_vimco(ctx, t);
        vae_tensor *sg = vae_est_signal(ctx, t, VAE_BASELINE_VIMCO, 0);
        CHECK(w && v && sg && !(w->flags & VAE_TF_REQUIRES_GRAD));
        for (int b = 0; b < 2; b++) {
            double m = fmax(fmax(lw[b], lw[2 + b]), lw[4 + b]), s = 0;
            for (int k = 0; k < 3; k++) s += exp(lw[2 * k + b] - m);
            double L = m + log(s);
            for (int k = 0; k < 3; k++) {
                CHECK_NEAR(vae_get_flat(w, 2 * k + b), exp(lw[2 * k + b] - L), 1e-14, 1e-12);
                double mk = 0, acc = 0;
                for (int j = 0; j < 3; j++) mk += j == k ? 0 : lw[2 * j + b] / 2;
                for (int j = 0; j < 3; j++) acc += exp(j == k ? mk : lw[2 * j + b]);
                CHECK_NEAR(vae_get_flat(v, 2 * k + b), L - log(acc), 1e-13, 1e-12);
                CHECK_NEAR(vae_get_flat(sg, 2 * k + b), lw[2 * k + b] - mk, 1e-14, 1e-12);
            }
        }
        vae_tensor *one = vae_from_data(ctx, VAE_F64, VAE_SHAPE(1, 2), VAE_F64, lw);
        CHECK(vae_est_vimco(ctx, one) == NULL && vae_ctx_status(ctx) == VAE_ERR_SHAPE);
        CHECK(strstr(vae_ctx_message(ctx), "(1,2)") != NULL);
        vae_ctx_clear_error(ctx);
        /* grad_scale: identity forward, s * g backward */
        vae_ctx_reset(ctx);
        double xv[3] = {0.5, -1, 2}, sv[3] = {2, 0.5, -1};
        vae_tensor *x = vae_from_data(ctx, VAE_F64, VAE_SHAPE(3), VAE_F64, xv);
        vae_requires_grad(ctx, x, 1);
        vae_tensor *y =
            vae_grad_scale(ctx, x, vae_from_data(ctx, VAE_F64, VAE_SHAPE(3), VAE_F64, sv));
        CHECK(vae_backward(ctx, vae_sum_all(ctx, vae_mul_scalar(ctx, y, 3.0))) == VAE_OK);
        for (int i = 0; i < 3; i++) {
            CHECK(vae_get_flat(y, i) == xv[i]);
            CHECK_NEAR(vae_get_flat(x->grad, i), 3.0 * sv[i], 1e-15, 0);
        }
        CHECK(vae_grad_scale(ctx, x, vae_zeros(ctx, VAE_F64, VAE_SHAPE(2))) == NULL);
        CHECK_MSG(vae_ctx_status(ctx) == VAE_ERR_SHAPE && strstr(vae_ctx_message(ctx), "(2,)"),
                  "%s", vae_ctx_message(ctx));
        vae_ctx_clear_error(ctx);
    }

    /* 5. gradcheck of the new bounds (pathwise gradient, noise fixed) */
    gradcheck_spec(&net, "vr:alpha=0.5,k=4");
    gradcheck_spec(&net, "vr:alpha=-0.5,k=3");
    gradcheck_spec(&net, "vr:alpha=1,k=3");
    gradcheck_spec(&net, "miwae:m=2,k=3");
    gradcheck_spec(&net, "ciwae:beta=0.3,k=4");
    gradcheck_spec(&net, "mc-elbo:k=2");

    vae_net_free(&net);
    vae_ctx_free(ctx);
    return test_finish();
}
