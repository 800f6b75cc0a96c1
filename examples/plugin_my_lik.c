/* plugin_my_lik.c - a likelihood as a plugin: "my-lik", a Gaussian whose decoder gives the mean and,
 * through softplus, the scale: (..., 2D) = mean | pre-scale, sigma = softplus(pre-scale) + 1e-3.
 *
 *   cc -shared -fPIC $(pkg-config --cflags vae) plugin_my_lik.c -o my_lik.so
 *   vae train --plugin ./my_lik.so --likelihood my-lik
 */
#include "vae.h"

static vae_dist *make_my_lik(vae_ctx *ctx, vae_tensor *out, const double *opts) {
    (void)opts;
    vae_tensor *p[2]; /* mean (..., D) | pre-scale (..., D) */
    if (vae_likelihood_split(ctx, "my-lik", out, 2, p)) return NULL;
    vae_tensor *sigma = vae_add_scalar(ctx, vae_softplus(ctx, p[1]), 1e-3);
    return vae_normal_logvar(ctx, p[0], vae_mul_scalar(ctx, vae_log(ctx, sigma), 2));
}

static const vae_likelihood my_lik = {
    .name = "my-lik",
    .params_per_dim = 2,
    .make = make_my_lik,
    .help = "Gaussian; decoder gives mean | softplus pre-scale (plugin example)",
};

/* The entry point vae_plugin_load calls (models/plugin.h). */
VAE_API vae_status VAE_PLUGIN_INIT(vae_error *err) {
    if (vae_likelihood_register(&my_lik))
        return vae_error_set(err, VAE_ERR_ARG, "cannot register \"my-lik\" (name taken?)");
    return VAE_OK;
}
