/* minimal_vae.c - train a VAE on the built-in sprites with the C API (the README's example). */
#include <stdio.h>
#include <stdlib.h>
#include "vae.h"
#include "examples/io/dataset.h"

int main(int argc, char **argv) {
    int steps = argc > 1 ? atoi(argv[1]) : 2000;
    vae_error err = {0};
    vae_dataset train = {0};
    if (vae_dataset_load("sprites", &train, NULL, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
    vae_net_cfg nc;                                /* 1024-400-(10) ReLU, Bernoulli likelihood */
    vae_net_cfg_default(&nc);
    nc.x_dim = train.d, nc.z_dim = 10;
    vae_rng rng;
    vae_rng_seed(&rng, 1);
    vae_net net;
    vae_optim adam;
    vae_optim_config oc = vae_optim_defaults(VAE_OPTIM_ADAM, 1e-3);
    if (vae_net_init(&net, &nc, &rng, &err) || vae_optim_init(&adam, net.params, &oc, &err))
        return fprintf(stderr, "%s\n", err.msg), 1;
    vae_objective_cfg obj;                         /* ELBO, reparameterized, analytic KL */
    vae_objective_cfg_default(&obj);
    vae_objective_state st = {0};
    vae_ctx *ctx = vae_ctx_new(0);
    float *x = malloc(sizeof(float) * 100 * train.d);
    int64_t idx[100];
    for (int step = 1; step <= steps; step++) {
        for (int i = 0; i < 100; i++) idx[i] = (int64_t)vae_rng_below(&rng, (uint64_t)train.n);
        vae_dataset_binarize_dynamic(&train, x, idx, 100, &rng, &err);
        vae_ctx_reset(ctx);                        /* O(1): the step's tensors live in the arena */
        vae_params_zero_grad(net.params);
        vae_objective_out out;
        vae_tensor *xb = vae_wrap(ctx, VAE_F32, VAE_SHAPE(100, train.d), x);
        if (vae_objective(ctx, &net, xb, &obj, &st, &out) || vae_backward(ctx, out.loss) ||
            vae_optim_step(&adam, &err))
            return fprintf(stderr, "%s %s\n", vae_ctx_message(ctx), err.msg), 1;
        if (step % 500 == 0 || step == steps) printf("step %d  ELBO %.2f nats\n", step, out.bound_mean);
    }
    free(x), vae_ctx_free(ctx), vae_net_free(&net), vae_dataset_free(&train);
    return 0;
}
