/* model_check [--plugin FILE]... CHECKPOINT - what a user's program does with a checkpoint of
 * `vae train`: one vae_model_load call, then encode, decode and log p(x|z) on a few inputs. Prints
 * one line "ok likelihood=L x_dim=D z_dim=Z logp=V" and exits 0, or the error and exits 1. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "vae.h"

int main(int argc, char **argv) {
    vae_error err = {0};
    int i = 1;
    for (; i + 1 < argc && strcmp(argv[i], "--plugin") == 0; i += 2)
        if (vae_plugin_load(argv[i + 1], &err)) {
            fprintf(stderr, "model_check: %s\n", err.msg);
            return 1;
        }
    if (i + 1 != argc) {
        fprintf(stderr, "usage: model_check [--plugin FILE]... CHECKPOINT\n");
        return 2;
    }
    vae_model m;
    if (vae_model_load(argv[i], &m, &err)) {
        fprintf(stderr, "model_check: %s\n", err.msg);
        return 1;
    }
    vae_ctx *c = vae_ctx_new(0);
    int64_t D = m.desc.net.x_dim;
    vae_tensor *x = c ? vae_zeros(c, m.desc.net.dtype, VAE_SHAPE(3, D)) : NULL;
    for (int64_t k = 0; x && k < 3 * D; k++) vae_set_flat(x, k, 0.5 + 0.5 * sin((double)k));
    vae_tensor *mu = NULL;
    vae_net_encode(c, &m.net, x, &mu, NULL);
    vae_tensor *lp = vae_dist_log_prob(c, vae_net_decode(c, &m.net, mu), x);
    int ok = lp && isfinite(vae_get_flat(lp, 0));
    if (ok)
        printf("ok likelihood=%s x_dim=%lld z_dim=%lld logp=%.6g\n", m.desc.net.likelihood,
               (long long)D, (long long)m.desc.net.z_dim, vae_get_flat(lp, 0));
    else
        fprintf(stderr, "model_check: %s\n", c ? vae_ctx_message(c) : "out of memory");
    vae_ctx_free(c);
    vae_model_free(&m);
    return ok ? 0 : 1;
}
