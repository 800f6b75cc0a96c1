/* minimal_vae.c - train a VAE on the built-in sprites with the C API (the README's example). */
#include <stdio.h>
#include <stdlib.h>
#include "vae.h"

int main(int argc, char **argv) {
    int steps = argc > 1 ? atoi(argv[1]) : 2000;
    vae_error err = {0};
    vae_dataset data = {0};
    vae_net_cfg nc; /* defaults: one hidden layer of 400 ReLU, Bernoulli decoder, f32 */
    vae_net_cfg_default(&nc);
    if (vae_dataset_load("sprites", &data, NULL, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
    nc.x_dim = data.d, nc.z_dim = 10;
    vae_rng rng;
    vae_rng_seed(&rng, 1);
    vae_net net;
    vae_optim adam;
    vae_optim_config oc = vae_optim_defaults(VAE_OPTIM_ADAM, 1e-3);
    vae_objective_cfg obj; /* ELBO, reparameterized, analytic KL */
    vae_objective_cfg_default(&obj);
    vae_objective_state st = {0};
    vae_ctx *ctx = vae_ctx_new(0);
    float *x = malloc(sizeof(float) * 100 * data.d);
    int64_t idx[100];
    if (vae_net_init(&net, &nc, &rng, &err) || vae_optim_init(&adam, net.params, &oc, &err))
        return 1;
    for (int step = 1; step <= steps; step++) {
        for (int i = 0; i < 100; i++) idx[i] = (int64_t)vae_rng_below(&rng, (uint64_t)data.n);
        vae_dataset_binarize_dynamic(&data, x, idx, 100, &rng, &err);
        vae_ctx_reset(ctx); /* O(1): last step's tensors are gone */
        vae_params_zero_grad(net.params);
        vae_objective_out out;
        if (vae_objective(ctx, &net, vae_wrap(ctx, VAE_F32, VAE_SHAPE(100, data.d), x), &obj, &st,
                          &out) ||
            vae_backward(ctx, out.loss) || vae_optim_step(&adam, &err))
            return fprintf(stderr, "%s %s\n", vae_ctx_message(ctx), err.msg), 1;
        if (step % 500 == 0) printf("step %d  ELBO %.2f nats\n", step, out.bound_mean);
    }
    free(x), vae_ctx_free(ctx), vae_net_free(&net), vae_dataset_free(&data);
    return 0;
}
