/* The Renyi variational bound VR-alpha (Li & Turner 2016).
 *
 *   L_alpha(x) = 1/(1 - alpha) log (1/K) sum_k w_k^(1 - alpha),   w_k = p(x, z_k) / q(z_k|x),  z_k ~ q(z|x)
 *              = [ logsumexp_k((1 - alpha) log w_k) - log K ] / (1 - alpha)
 *   alpha = 0: the IWAE bound;  alpha -> 1: the ELBO, mean_k log w_k (alpha = 1 is taken as that limit exactly);
 *   alpha < 0 gives bounds above the IWAE bound (not lower bounds on log p(x) for large |alpha|).
 * Gradient (reparam): sum_k wt_k grad log w_k with wt = softmax_k((1 - alpha) log w). The score estimator's
 * VIMCO signals are the IWAE ones of (1 - alpha) log w, divided by (1 - alpha).
 * Shapes: x (B, D), z (K, B, Z), log w (K, B), bound (B).
 */
#include <math.h>

#include "models/objective_internal.h"

enum { O_ALPHA, O_K };
static const vae_objective_option vr_opts[] = {
    {"alpha", 0.5, -100, 100, 0, "Renyi order alpha (0: IWAE, 1: ELBO)"},
    {"k", 5, 1, 100000, 1, "particles K per datum"},
};

static vae_status vr_build(vae_ctx *ctx, vae_net *net, vae_tensor *x, const vae_objective_cfg *c,
                           const vae_objective_state *st, vae_objective_out *out) {
    double alpha = c->opt[O_ALPHA], a1 = 1.0 - alpha;
    int64_t K = (int64_t)c->opt[O_K];
    vae_est_particles p;
    vae_status s = vae_est_draw_particles(ctx, net, x, 1, K, c->estimator, &p);
    if (s) return s;
    vae_tensor *bound, *S;
    if (alpha == 1.0) {
        bound = vae_mean_axis(ctx, p.logw, 0, 0);
        S = vae_est_surrogate(ctx, c->estimator, c->baseline, NULL, p.logq, bound, st);
    } else {
        vae_tensor *scaled = vae_mul_scalar(ctx, p.logw, a1); /* (1 - alpha) log w (K, B) */
        bound = vae_mul_scalar(
            ctx, vae_add_scalar(ctx, vae_logsumexp(ctx, scaled, 1, (int[]){0}, 0), -log((double)K)),
            1.0 / a1);
        if (c->estimator == VAE_EST_SCORE && c->baseline == VAE_BASELINE_VIMCO)
            S = vae_est_score(ctx, vae_mul_scalar(ctx, vae_est_vimco(ctx, scaled), 1.0 / a1),
                              p.logq, bound);
        else
            S = vae_est_surrogate(ctx, c->estimator, c->baseline, p.logw, p.logq, bound, st);
    }
    return vae__particle_out(ctx, S, bound, &p, out);
}

static vae_status vr_check(const vae_objective_cfg *c, vae_error *err) {
    if (c->baseline == VAE_BASELINE_VIMCO && (c->opt[O_K] < 2 || c->opt[O_ALPHA] == 1.0))
        return vae_error_set(
            err, VAE_ERR_ARG,
            "objective vr: the vimco baseline needs k >= 2 and alpha != 1 (got k=%g, alpha=%g)",
            c->opt[O_K], c->opt[O_ALPHA]);
    return VAE_OK;
}

const vae_objective_desc vae__objective_vr = {
    "vr",    "Renyi VR-alpha bound: log mean_k w_k^(1-alpha) / (1-alpha)",          2,
    vr_opts, (1u << VAE_EST_REPARAM) | (1u << VAE_EST_SCORE) | (1u << VAE_EST_STL), vr_check,
    vr_build};
