/* The importance-weighted bound (Burda et al. 2016).
 *
 *   L_K(x) = E[ log (1/K) sum_k w_k ],  w_k = p(x|z_k) p(z_k) / q(z_k|x),  z_1..z_K ~ q(z|x)
 *          = logsumexp_k(log w_k) - log K            (K particles vectorized as a leading dim)
 * Gradients for the encoder (estimators.h):
 *   reparam  d/dphi of the bound through z_k = mu + sigma * eps_k
 *   stl      the same with log q evaluated at detached parameters
 *   dreg     sum_k wt_k^2 d log w_k / d z_k  d z_k / d phi,  wt = softmax_k(log w) (Tucker et al. 2018)
 *   score    sum_k sg(signal_k) grad log q(z_k|x) + grad L_K, signal = L_K - b (none, ma) or VIMCO's L - L_{-k}
 * The decoder always gets sum_k wt_k grad_theta log w_k.
 * Shapes: x (B, D), z (K, B, Z), log w (K, B), bound (B).
 */
#include <math.h>

#include "models/objective_internal.h"

static const vae_objective_option iwae_opts[] = {
    {"k", 5, 1, 100000, 1, "particles K per datum"},
};

static vae_status iwae_build(vae_ctx *ctx, vae_net *net, vae_tensor *x, const vae_objective_cfg *c,
                             const vae_objective_state *st, vae_objective_out *out) {
    int64_t K = (int64_t)c->opt[0];
    vae_est_particles p;
    vae_status s = vae_est_draw_particles(ctx, net, x, 1, K, c->estimator, &p);
    if (s) return s;
    vae_tensor *bound =
        vae_add_scalar(ctx, vae_logsumexp(ctx, p.logw, 1, (int[]){0}, 0), -log((double)K));
    vae_tensor *S = vae_est_surrogate(ctx, c->estimator, c->baseline, p.logw, p.logq, bound, st);
    return vae__particle_out(ctx, S, bound, &p, out);
}

static vae_status iwae_check(const vae_objective_cfg *c, vae_error *err) {
    if (c->baseline == VAE_BASELINE_VIMCO && c->opt[0] < 2)
        return vae_error_set(
            err, VAE_ERR_ARG,
            "objective iwae: the vimco baseline needs at least 2 samples (k >= 2)");
    return VAE_OK;
}

const vae_objective_desc vae__objective_iwae = {
    "iwae",
    "importance-weighted bound: logsumexp_k log w_k - log K",
    1,
    iwae_opts,
    (1u << VAE_EST_REPARAM) | (1u << VAE_EST_SCORE) | (1u << VAE_EST_STL) | (1u << VAE_EST_DREG),
    iwae_check,
    iwae_build};
