/* plugin_mc_elbo.c - an objective as a plugin: "mc-elbo", the K-sample Monte-Carlo ELBO
 *
 *   mc-elbo(x) = (1/K) sum_k log w_k,   w_k = p(x|z_k) p(z_k) / q(z_k|x),   z_k ~ q(z|x)
 *   Shapes: x (B, D), log w (K, B), bound (B).
 *
 *   cc -shared -fPIC $(pkg-config --cflags vae) plugin_mc_elbo.c -o mc_elbo.so
 *   vae train --plugin ./mc_elbo.so --objective mc-elbo:k=8
 */
#include "vae.h"

static const vae_objective_option mc_opts[] = {{"k", 3, 1, 1000, 1, "samples per datum"}};

static vae_status mc_build(vae_ctx *ctx, vae_net *net, vae_tensor *x, const vae_objective_cfg *c,
                           const vae_objective_state *st, vae_objective_out *out) {
    vae_est_particles
        p; /* z (K, B, Z) drawn as the estimator needs, and log p(x|z), log p(z), log q, log w (K, B) */
    vae_status s = vae_est_draw_particles(ctx, net, x, 1, (int64_t)c->opt[0], c->estimator, &p);
    if (s) return s;
    vae_tensor *bound = vae_mean_axis(ctx, p.logw, 0, 0); /* (B) */
    vae_tensor *S = vae_est_surrogate(ctx, c->estimator, c->baseline, p.logw, p.logq, bound, st);
    out->loss = vae_neg(ctx, vae_mean(ctx, S, 0, NULL, 0)); /* vae_objective adds the N/M scaling */
    out->bound = vae_detach(ctx, bound);
    if (!out->loss) return vae_ctx_status(ctx);
    out->bound_mean = out->signal_mean = vae_item(vae_mean(ctx, bound, 0, NULL, 0));
    vae_objective_out_log(out, "elbo", out->bound_mean); /* named values go to log.jsonl */
    return VAE_OK;
}

static const vae_objective_desc mc_elbo = {
    .name = "mc-elbo",
    .help = "(1/K) sum_k log w_k: the K-sample Monte-Carlo ELBO (plugin example)",
    .nopts = 1,
    .opts = mc_opts,
    .estimators = (1u << VAE_EST_REPARAM) | (1u << VAE_EST_SCORE) | (1u << VAE_EST_STL),
    .check = NULL, /* option combinations beyond each option's range */
    .build = mc_build,
};

/* The entry point vae_plugin_load calls (models/plugin.h). */
VAE_API vae_status VAE_PLUGIN_INIT(vae_error *err) {
    if (vae_objective_register(&mc_elbo))
        return vae_error_set(err, VAE_ERR_ARG, "cannot register \"mc-elbo\" (name taken?)");
    return VAE_OK;
}
