/* Objectives: forward identities that must hold exactly or in expectation, and gradchecks with the noise fixed. */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "vae.h"
#include "models/eval.h"
#include "models/objective.h"
#include "objective_gradcheck.h"

#define D 6
#define B 4

static double xdata[B * D] = {1, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1, 0,
                              1, 1, 0, 0, 0, 1, 0, 0, 1, 1, 1, 1};

static void small_net(vae_net *net, vae_dtype dt, const char *lik, uint64_t seed) {
    vae_net_cfg nc;
    vae_net_cfg_default(&nc);
    nc.x_dim = D;
    nc.z_dim = 2;
    nc.hidden[0] = 5;
    nc.act = VAE_ACT_TANH;
    nc.dtype = dt;
    snprintf(nc.likelihood, sizeof nc.likelihood, "%s", lik);
    vae_rng rng;
    vae_rng_seed(&rng, seed);
    vae_error err = {0};
    if (vae_net_init(net, &nc, &rng, &err)) fprintf(stderr, "net: %s\n", err.msg);
}

/* cfg := defaults, then the objective of spec */
static void use(vae_objective_cfg *cfg, const char *spec) {
    vae_error err = {0};
    vae_objective_cfg_default(cfg);
    CHECK_MSG(vae_objective_parse_spec(cfg, spec, &err) == VAE_OK, "%s: %s", spec, err.msg);
}

/* mean over `reps` independent draws of the batch-mean bound */
static double mean_bound(vae_ctx *ctx, vae_net *net, const vae_objective_cfg *cfg, int reps,
                         double *se) {
    double s = 0, s2 = 0;
    vae_objective_state st = {0};
    *se = NAN;
    for (int r = 0; r < reps; r++) {
        vae_ctx_reset(ctx);
        vae_tensor *x = vae_from_data(ctx, VAE_F64, VAE_SHAPE(B, D), VAE_F64, xdata);
        vae_objective_out o;
        if (vae_objective(ctx, net, x, cfg, &st, &o)) return NAN;
        s += o.bound_mean;
        s2 += o.bound_mean * o.bound_mean;
    }
    double m = s / reps;
    *se = sqrt((s2 / reps - m * m) / reps);
    return m;
}

/* Gradcheck of an objective w.r.t. every parameter, with the noise fixed by reseeding: the MLP layers are pointed
 * at gradcheck's leaf tensors (enc.0.weight, enc.0.bias, ..., dec.*) for the evaluation, then restored. */
int main(void) {
    vae_ctx *ctx = vae_ctx_new(0);
    vae_ctx_seed(ctx, 1);
    vae_net net;
    small_net(&net, VAE_F64, "bernoulli", 3);
    vae_objective_cfg cfg;

    /* 1. analytic-KL and MC-KL ELBOs agree in expectation */
    vae_objective_cfg_default(&cfg);
    double se_a, se_m;
    double ea = mean_bound(ctx, &net, &cfg, 4000, &se_a);
    use(&cfg, "vae:mc-kl=1");
    double em = mean_bound(ctx, &net, &cfg, 4000, &se_m);
    CHECK_MSG(fabs(ea - em) < 4 * sqrt(se_a * se_a + se_m * se_m),
              "analytic %.4f+-%.4f vs MC %.4f+-%.4f", ea, se_a, em, se_m);
    CHECK(se_m > se_a); /* the MC KL adds noise */

    /* 2. IWAE with K = 1 equals the MC-KL ELBO for the same noise */
    {
        vae_objective_cfg a, b;
        use(&a, "vae:mc-kl=1");
        use(&b, "iwae:k=1");
        vae_objective_state st = {0};
        vae_objective_out oa, ob;
        vae_ctx_reset(ctx);
        vae_ctx_seed(ctx, 5);
        vae_objective(ctx, &net, vae_from_data(ctx, VAE_F64, VAE_SHAPE(B, D), VAE_F64, xdata), &a,
                      &st, &oa);
        vae_ctx_seed(ctx, 5);
        vae_objective(ctx, &net, vae_from_data(ctx, VAE_F64, VAE_SHAPE(B, D), VAE_F64, xdata), &b,
                      &st, &ob);
        CHECK(vae_ctx_status(ctx) == VAE_OK);
        for (int i = 0; i < B; i++)
            CHECK_NEAR(vae_get_flat(oa.bound, i), vae_get_flat(ob.bound, i), 1e-12, 1e-12);
    }

    /* 3. the IWAE bound is non-decreasing in K on average, and the IS estimate of log p(x) is above the ELBO */
    {
        double prev = -INFINITY, prev_se = 0;
        int64_t ks[4] = {1, 5, 20, 100};
        for (int i = 0; i < 4; i++) {
            use(&cfg, "iwae");
            vae_objective_set(&cfg, "k", (double)ks[i], NULL);
            double se, m = mean_bound(ctx, &net, &cfg, 1000, &se);
            CHECK_MSG(m > prev - 3 * sqrt(se * se + prev_se * prev_se),
                      "K=%lld: %.4f < previous %.4f", (long long)ks[i], m, prev);
            if (i == 3) CHECK(m > ea + 4 * se_a); /* strictly better than the ELBO by K = 100 */
            prev = m;
            prev_se = se;
        }
        float xf[B * D];
        for (int i = 0; i < B * D; i++) xf[i] = (float)xdata[i];
        vae_eval_cfg ec;
        vae_eval_cfg_default(&ec);
        ec.is_samples = 2000;
        ec.max_floats = 3000; /* force several chunks */
        vae_eval_result r;
        CHECK_MSG(vae_evaluate(ctx, &net, xf, B, &ec, &r, NULL, NULL) == VAE_OK, "%s",
                  vae_ctx_message(ctx));
        CHECK_MSG(r.loglik > ea, "IS log p(x) %.4f vs ELBO %.4f", r.loglik, ea);
        CHECK_NEAR(r.loglik, prev, 0.05, 0); /* K=2000 IS close to the K=100 IWAE bound */
        CHECK(r.active_units >= 0 && r.active_units <= 2);
        CHECK_NEAR(r.kl_per_dim[0] + r.kl_per_dim[1], r.kl, 1e-9, 1e-9);
        vae_eval_result_free(&r);
        /* one error channel: a call that takes a context reports into it */
        CHECK(vae_evaluate(ctx, &net, xf, 0, &ec, &r, NULL, NULL) == VAE_ERR_ARG);
        CHECK(vae_ctx_status(ctx) == VAE_ERR_ARG &&
              strstr(vae_ctx_message(ctx), "evaluate: no examples"));
        vae_ctx_clear_error(ctx);
        float mu[B * 2];
        CHECK(vae_encode_all(ctx, &net, xf, B, 4, mu, NULL) == VAE_OK);
        CHECK(vae_study_run(ctx, &net, xf, B, &cfg, 1, NULL, &(vae_study_row){0}, NULL, NULL) ==
              VAE_ERR_ARG);
        CHECK(vae_ctx_status(ctx) == VAE_ERR_ARG &&
              strstr(vae_ctx_message(ctx), "study: need at least 2 draws"));
        vae_ctx_clear_error(ctx);
    }

    /* 4. beta-VAE terms: warm-up weight, free bits, capacity */
    {
        use(&cfg, "beta-vae:beta=4,warmup=10");
        vae_objective_state st = {.step = 5};
        vae_objective_out o;
        vae_ctx_reset(ctx);
        vae_objective(ctx, &net, vae_from_data(ctx, VAE_F64, VAE_SHAPE(B, D), VAE_F64, xdata), &cfg,
                      &st, &o);
        CHECK_NEAR(vae_objective_out_value(&o, "kl_weight"), 2.0, 1e-12, 0);
        CHECK_NEAR(vae_objective_out_value(&o, "beta"), 4.0, 0, 0);
        CHECK(st.step == 6);
        use(&cfg, "beta-vae:beta=4,gamma=100,cmax=25,csteps=100");
        st.step = 50;
        vae_objective(ctx, &net, vae_from_data(ctx, VAE_F64, VAE_SHAPE(B, D), VAE_F64, xdata), &cfg,
                      &st, &o);
        CHECK_NEAR(vae_objective_out_value(&o, "capacity"), 12.5, 1e-12, 0);
        /* loss = -mean rec + gamma |mean KL - C| exactly */
        double expect = -vae_objective_out_value(&o, "rec") +
                        100 * fabs(vae_objective_out_value(&o, "kl") - 12.5);
        CHECK_NEAR(vae_item(o.loss), expect, 1e-9, 1e-9);
        vae_error err = {0};
        CHECK(vae_objective_set(&cfg, "free-bits", 0.5, &err) == VAE_OK);
        CHECK(vae_objective_check(&cfg, &err) == VAE_ERR_ARG); /* not both */
        vae_objective_cfg_default(&cfg);
        cfg.estimator = VAE_EST_DREG;
        vae_error_clear(&err);
        CHECK(vae_objective_check(&cfg, &err) == VAE_ERR_ARG && strstr(err.msg, "dreg"));
        vae_objective_cfg_default(&cfg);
        cfg.estimator = VAE_EST_SCORE;
        cfg.baseline = VAE_BASELINE_VIMCO;
        CHECK(vae_objective_check(&cfg, &err) == VAE_ERR_ARG); /* needs samples > 1 */
        /* the other refused combinations, each with a message naming what is wrong */
        for (int k = 0; k < 7; k++) {
            vae_objective_cfg_default(&cfg);
            const char *word = "";
            switch (k) {
            case 0:
                cfg.baseline = VAE_BASELINE_MA, word = "baseline";
                break; /* needs score */
            case 1:
                cfg.opt[0] = 0, word = "l = 0 is out of range 1..100000";
                break;
            case 2:
                use(&cfg, "iwae:k=1"), cfg.estimator = VAE_EST_SCORE;
                cfg.baseline = VAE_BASELINE_VIMCO, word = "k >= 2";
                break;
            case 3:
                use(&cfg, "beta-vae:free-bits=0.5,mc-kl=1"), word = "analytic";
                break;
            case 4:
                cfg.estimator = VAE_EST_SCORE, cfg.baseline_decay = 1.0, word = "decay";
                break;
            case 5:
                use(&cfg, "beta-vae"), cfg.opt[2] = -1, word = "beta = -1";
                break;
            default:
                use(&cfg, "beta-vae"), cfg.opt[3] = -3, word = "warmup";
                break;
            }
            vae_error_clear(&err);
            CHECK_MSG(vae_objective_check(&cfg, &err) == VAE_ERR_ARG && strstr(err.msg, word),
                      "case %d: %s", k, err.msg);
        }
        /* a batch of the wrong width is a shape error naming both */
        vae_objective_cfg_default(&cfg);
        vae_ctx_reset(ctx);
        vae_tensor *bad = vae_zeros(ctx, VAE_F64, VAE_SHAPE(3, 5));
        CHECK(vae_objective(ctx, &net, bad, &cfg, &st, &o) == VAE_ERR_SHAPE);
        CHECK(strstr(vae_ctx_message(ctx), "(3,5)") != NULL);
        vae_ctx_clear_error(ctx);
    }
    /* 5. gradcheck of every objective (pathwise estimator, fixed noise) w.r.t. all parameters */
    {
        vae_objective_cfg c;
        use(&c, "vae:l=2");
        gradcheck_objective(&net, &c, xdata, B, D, 0, "vae analytic KL, L=2");
        use(&c, "vae:l=2,mc-kl=1");
        gradcheck_objective(&net, &c, xdata, B, D, 0, "vae MC KL, L=2");
        use(&c, "beta-vae:beta=4,warmup=10");
        c.data_size = 1000;
        gradcheck_objective(&net, &c, xdata, B, D, 0, "beta-vae warm-up, N/M");
        use(&c, "beta-vae:beta=4,warmup=10,free-bits=0.3");
        gradcheck_objective(&net, &c, xdata, B, D, 0, "beta-vae free bits");
        use(&c, "beta-vae:beta=4,warmup=10,gamma=10,cmax=5,csteps=100");
        gradcheck_objective(&net, &c, xdata, B, D, 0, "beta-vae capacity");
        use(&c, "iwae:k=3");
        gradcheck_objective(&net, &c, xdata, B, D, 0, "iwae K=3");
        vae_net gnet;
        small_net(&gnet, VAE_F64, "gaussian-learned", 4);
        vae_objective_cfg_default(&c);
        gradcheck_objective(&gnet, &c, xdata, B, D, 0, "vae gaussian-learned");
        use(&c, "iwae:k=4");
        gradcheck_objective(&gnet, &c, xdata, B, D, 0, "iwae gaussian-learned");
        vae_net_free(&gnet);
    }
    vae_net_free(&net);
    vae_ctx_free(ctx);
    return test_finish();
}
