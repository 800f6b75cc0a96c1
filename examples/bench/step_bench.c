/* step_bench - the time of one training step (objective, backward, Adam) on the reference workload W3 (784-200-200-(50)
 * tanh, IWAE K = 5, batch 20, synthetic binary data): small shapes, where what every op pays besides its kernel
 * (checks, tape, arena) weighs most. Prints one JSON line: the minimum, median and mean step time over STEPS steps
 * (after 50 warm-up steps) and the tape nodes per step. Used to measure the stale-tensor check (README, "What the
 * tool promises"): run it from a release build and from one configured with -Dc_args=-DVAE_NO_STALE_CHECK.
 * Usage: step_bench [STEPS] (default 1000); VAE_NUM_THREADS sets the threads. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "vae.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    int steps = argc > 1 ? atoi(argv[1]) : 1000, warm = 50;
    if (steps < 1) steps = 1;
    enum { B = 20, D = 784 };
    vae_error err = {0};
    vae_net_cfg nc;
    vae_net_cfg_default(&nc);
    nc.x_dim = D, nc.z_dim = 50, nc.nhidden = 2, nc.hidden[0] = 200, nc.hidden[1] = 200;
    nc.act = VAE_ACT_TANH;
    vae_rng rng;
    vae_rng_seed(&rng, 1);
    vae_net net;
    vae_optim adam;
    vae_optim_config oc = vae_optim_defaults(VAE_OPTIM_ADAM, 1e-3);
    vae_objective_cfg obj;
    vae_objective_cfg_default(&obj);
    vae_objective_state st = {0};
    vae_ctx *ctx = vae_ctx_new(0);
    float *x = malloc(sizeof(float) * B * D);
    double *t = malloc(sizeof(double) * (size_t)steps);
    if (!ctx || !x || !t || vae_objective_parse_spec(&obj, "iwae:k=5", &err) ||
        vae_net_init(&net, &nc, &rng, &err) || vae_optim_init(&adam, net.params, &oc, &err))
        return fprintf(stderr, "step_bench: %s\n", err.msg[0] ? err.msg : "out of memory"), 1;
    for (int i = 0; i < B * D; i++) x[i] = vae_rng_uniform(&rng) < 0.3 ? 1.0f : 0.0f;
    int64_t nodes = 0;
    for (int s = -warm; s < steps; s++) {
        double t0 = now();
        vae_ctx_reset(ctx);
        vae_params_zero_grad(net.params);
        vae_objective_out out;
        if (vae_objective(ctx, &net, vae_wrap(ctx, VAE_F32, VAE_SHAPE(B, D), x), &obj, &st, &out) ||
            vae_backward(ctx, out.loss) || vae_optim_step(&adam, &err))
            return fprintf(stderr, "step_bench: %s %s\n", vae_ctx_message(ctx), err.msg), 1;
        nodes = vae_tape_length(ctx);
        if (s >= 0) t[s] = now() - t0;
    }
    double mean = 0;
    for (int s = 0; s < steps; s++) mean += t[s] / steps;
    qsort(t, (size_t)steps, sizeof *t, cmp);
    printf("{\"bench\":\"step\",\"workload\":\"W3 784-200-200-(50) tanh IWAE K=5 batch "
           "20\",\"steps\":%d,"
           "\"tape_nodes\":%lld,\"min_ms\":%.4f,\"median_ms\":%.4f,\"mean_ms\":%.4f}\n",
           steps, (long long)nodes, 1e3 * t[0], 1e3 * t[steps / 2], 1e3 * mean);
    free(x), free(t);
    vae_ctx_free(ctx);
    vae_net_free(&net);
    return 0;
}
