/* A training step in the steady state calls malloc zero times (DESIGN §4: the arena is reused, scratch is kept),
 * for every objective and estimator; and its gradients are bit-identical for 1, 2, 3 and 4 threads.
 * malloc/calloc/realloc are counted by interposing them in this executable (ELF symbol interposition also catches
 * the calls made inside libvae.so); under a sanitizer, which owns malloc, the counting part is skipped. */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "vae.h"

#if defined(__SANITIZE_ADDRESS__)
#define COUNTING 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define COUNTING 0
#endif
#endif
#ifndef COUNTING
#define COUNTING 1
#endif

static volatile long n_alloc;

#if COUNTING
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
void *malloc(size_t n) {
    n_alloc++;
    return __libc_malloc(n);
}
void *calloc(size_t a, size_t b) {
    n_alloc++;
    return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n) {
    n_alloc++;
    return __libc_realloc(p, n);
}
#endif

#define D     784
#define BATCH 20

static float xb[BATCH * D];

static int step(vae_ctx *ctx, vae_net *net, vae_optim *opt, const vae_objective_cfg *cfg,
                vae_objective_state *st) {
    vae_error err = {0};
    vae_ctx_reset(ctx);
    vae_params_zero_grad(net->params);
    vae_objective_out o;
    vae_tensor *x = vae_wrap(ctx, VAE_F32, VAE_SHAPE(BATCH, D), xb);
    if (vae_objective(ctx, net, x, cfg, st, &o) || vae_backward(ctx, o.loss)) {
        fprintf(stderr, "step: %s\n", vae_ctx_message(ctx));
        return 1;
    }
    return opt ? (int)vae_optim_step(opt, &err) : 0;
}

static void make_net(vae_net *net) {
    vae_net_cfg nc;
    vae_net_cfg_default(&nc);
    nc.x_dim = D;
    nc.z_dim = 10;
    nc.nhidden = 2;
    nc.hidden[0] = 200;
    nc.hidden[1] = 100;
    nc.act = VAE_ACT_TANH;
    vae_rng rng;
    vae_rng_seed(&rng, 1);
    vae_error err = {0};
    vae_net_init(net, &nc, &rng, &err);
}

int main(void) {
    vae_rng rng;
    vae_rng_seed(&rng, 2);
    for (int i = 0; i < BATCH * D; i++) xb[i] = vae_rng_uniform(&rng) < 0.3;
    struct {
        const char *spec;
        vae_estimator est;
        vae_baseline bl;
    } cases[] = {{"vae", VAE_EST_REPARAM, VAE_BASELINE_NONE},
                 {"vae", VAE_EST_SCORE, VAE_BASELINE_MA},
                 {"vae:l=3", VAE_EST_STL, VAE_BASELINE_NONE},
                 {"iwae:k=20", VAE_EST_REPARAM, VAE_BASELINE_NONE},
                 {"iwae:k=20", VAE_EST_DREG, VAE_BASELINE_NONE},
                 {"iwae:k=20", VAE_EST_SCORE, VAE_BASELINE_VIMCO},
                 {"vr:alpha=0.5,k=10", VAE_EST_SCORE, VAE_BASELINE_VIMCO},
                 {"miwae:m=3,k=4", VAE_EST_DREG, VAE_BASELINE_NONE},
                 {"ciwae:beta=0.3,k=6", VAE_EST_REPARAM, VAE_BASELINE_NONE}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        vae_objective_cfg cfg;
        vae_objective_cfg_default(&cfg);
        vae_error perr = {0};
        CHECK_MSG(vae_objective_parse_spec(&cfg, cases[c].spec, &perr) == VAE_OK, "%s", perr.msg);
        cfg.estimator = cases[c].est;
        cfg.baseline = cases[c].bl;
        const char *name = vae_estimator_name(cfg.estimator);

        /* 1. gradients bit-identical for 1..4 threads (same weights, same noise) */
        vae_net net;
        make_net(&net);
        int64_t P = vae_params_flat_len(net.params);
        float *g1 = malloc(sizeof(float) * (size_t)P);
        long c0 = n_alloc;
        vae_ctx *ctx = vae_ctx_new(0);
        if (COUNTING) CHECK(n_alloc > c0); /* the counter does see the library's mallocs */
        for (int t = 1; t <= 4; t++) {
            vae_threads_set(t);
            vae_ctx_seed(ctx, 9);
            vae_objective_state st = {0};
            CHECK(step(ctx, &net, NULL, &cfg, &st) == 0);
            if (t == 1)
                memcpy(g1, vae_params_grads(net.params), sizeof(float) * (size_t)P);
            else
                CHECK_MSG(memcmp(g1, vae_params_grads(net.params), sizeof(float) * (size_t)P) == 0,
                          "%s %s: gradients with %d threads differ from 1 thread", cases[c].spec,
                          name, t);
        }
        vae_threads_set(0);

        /* 2. no malloc once warm */
        vae_optim opt;
        vae_optim_config oc = vae_optim_defaults(VAE_OPTIM_ADAM, 1e-3);
        vae_error err = {0};
        CHECK(vae_optim_init(&opt, net.params, &oc, &err) == VAE_OK);
        vae_objective_state st = {0};
        for (int i = 0; i < 3; i++)
            step(ctx, &net, &opt, &cfg, &st); /* warm-up: arena, scratch, pool */
        long before = n_alloc;
        for (int i = 0; i < 5; i++) CHECK(step(ctx, &net, &opt, &cfg, &st) == 0);
        if (COUNTING)
            CHECK_MSG(n_alloc == before, "%s %s: %ld mallocs in 5 steady-state steps",
                      cases[c].spec, name, n_alloc - before);
        free(g1);
        vae_ctx_free(ctx);
        vae_net_free(&net);
    }
    if (!COUNTING) fprintf(stderr, "malloc counting skipped under the sanitizer\n");
    return test_finish();
}
