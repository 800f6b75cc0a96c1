/* End to end: a small VAE trained for a few seconds on the built-in sprites reaches a stated ELBO, and an IWAE
 * (K = 5) trained with the same number of updates on the same data reaches a better IS log-likelihood. */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "vae.h"
#include "nn/dataset.h"
#include "models/eval.h"
#include "models/objective.h"

#define STEPS 1500
#define BATCH 100
#define NTEST 1000

static vae_dataset train, test;
static float *xtest;

/* Train with Adam from a fixed seed and return the evaluation on the test set. */
static vae_eval_result run(const char *spec, vae_estimator est) {
    vae_eval_result r;
    memset(&r, 0, sizeof r);
    vae_error err = {0};
    vae_net_cfg nc;
    vae_net_cfg_default(&nc);
    nc.x_dim = train.d;
    nc.z_dim = 8;
    nc.hidden[0] = 128;
    vae_rng rng;
    vae_rng_seed(&rng, 42);
    vae_net net;
    vae_optim opt;
    vae_optim_config oc = vae_optim_defaults(VAE_OPTIM_ADAM, 2e-3);
    if (vae_net_init(&net, &nc, &rng, &err) || vae_optim_init(&opt, net.params, &oc, &err)) {
        CHECK_MSG(0, "setup: %s", err.msg);
        return r;
    }
    vae_objective_cfg cfg;
    vae_objective_cfg_default(&cfg);
    vae_objective_parse_spec(&cfg, spec, &err);
    cfg.estimator = est;
    vae_objective_state st = {0};
    vae_ctx *ctx = vae_ctx_new(0);
    vae_ctx_seed(ctx, 7);
    float *xb = malloc(sizeof(float) * BATCH * (size_t)train.d);
    vae_batch_iter it;
    vae_batch_iter_init(&it, train.n, BATCH, 3, 1, &err);
    const int64_t *idx;
    for (int step = 0; step < STEPS;) {
        int64_t m = vae_batch_iter_next(&it, &idx);
        if (m == 0) continue; /* next epoch */
        vae_dataset_binarize_dynamic(&train, xb, idx, m, &rng, &err);
        vae_ctx_reset(ctx);
        vae_params_zero_grad(net.params);
        vae_objective_out o;
        vae_status s = vae_objective(ctx, &net, vae_wrap(ctx, VAE_F32, VAE_SHAPE(m, train.d), xb),
                                     &cfg, &st, &o);
        if (!s) s = vae_backward(ctx, o.loss);
        if (!s) s = vae_optim_step(&opt, &err);
        if (s) {
            CHECK_MSG(0, "step %d: %s %s", step, vae_ctx_message(ctx), err.msg);
            break;
        }
        step++;
    }
    vae_eval_cfg ec;
    vae_eval_cfg_default(&ec);
    ec.is_samples = 500;
    vae_ctx_seed(ctx, 99); /* the same evaluation noise for both models */
    CHECK_MSG(vae_evaluate(ctx, &net, xtest, NTEST, &ec, &r, NULL, NULL) == VAE_OK,
              "eval: %s", vae_ctx_message(ctx));
    vae_batch_iter_free(&it);
    free(xb);
    vae_ctx_free(ctx);
    vae_net_free(&net);
    return r;
}

int main(void) {
    vae_error err = {0};
    /* 16x16 sprites keep the test to a few seconds; pixels binarized once for a fixed test set */
    if (vae_dataset_load("sprites:16", &train, &test, &err)) {
        CHECK_MSG(0, "load: %s", err.msg);
        return test_finish();
    }
    xtest = malloc(sizeof(float) * NTEST * (size_t)test.d);
    int64_t idx[NTEST];
    for (int i = 0; i < NTEST; i++) idx[i] = i;
    vae_rng rng;
    vae_rng_seed(&rng, 5);
    vae_dataset_binarize_dynamic(&test, xtest, idx, NTEST, &rng, &err);

    vae_eval_result v = run("vae", VAE_EST_REPARAM);
    vae_eval_result w = run("iwae:k=5", VAE_EST_REPARAM);
    printf("VAE : test ELBO %.2f  IS log p(x) %.2f  KL %.2f  active units %d\n", v.elbo, v.loglik,
           v.kl, v.active_units);
    printf("IWAE: test ELBO %.2f  IS log p(x) %.2f  KL %.2f  active units %d\n", w.elbo, w.loglik,
           w.kl, w.active_units);
    /* untrained: about -256 log 2 = -177 nats; a trained model explains the sprites in a few tens of nats */
    CHECK_MSG(v.elbo > -30.0, "VAE test ELBO %.2f should pass -30", v.elbo);
    CHECK(v.loglik >= v.elbo);
    CHECK_MSG(w.loglik > v.loglik, "IWAE IS log-likelihood %.3f should beat the VAE's %.3f",
              w.loglik, v.loglik);
    CHECK(v.active_units >= 2);
    vae_eval_result_free(&v);
    vae_eval_result_free(&w);
    free(xtest);
    vae_dataset_free(&train);
    vae_dataset_free(&test);
    return test_finish();
}
