/* The importance-weighted bound (Burda et al. 2016) and its estimators.
 *
 *   L_K(x) = E[ log (1/K) sum_k w_k ],  w_k = p(x|z_k) p(z_k) / q(z_k|x),  z_1..z_K ~ q(z|x)
 *          = logsumexp_k(log w_k) - log K            (K particles vectorized as a leading dim)
 * Gradients for the encoder:
 *   reparam  d/dphi of the bound through z_k = mu + sigma * eps_k
 *   stl      the same with log q evaluated at detached parameters
 *   dreg     sum_k wt_k^2 d log w_k / d z_k  d z_k / d phi,  wt = softmax_k(log w) (Tucker et al. 2018)
 *   score    sum_k sg(signal_k) grad log q(z_k|x) + grad L_K, signal = L_K - b (none, ma) or VIMCO's L - L_{-k}
 * The decoder always gets sum_k wt_k grad_theta log w_k.
 * Shapes: x (B, D), z (K, B, Z), log w (K, B), bound (B).
 */
#include <math.h>
#include <string.h>

#include "objective.h"

vae_status vae__iwae(vae_ctx *ctx, vae_net *net, vae_tensor *x, const vae_objective_cfg *cfg,
                     const vae_objective_state *st, vae_objective_out *out, double *f_mean) {
    vae_estimator est = cfg->estimator;
    int64_t K = cfg->samples;
    vae_dist *q = vae_net_encode(ctx, net, x, NULL, NULL);
    if (!q) return vae_ctx_status(ctx);
    vae_tensor *z = vae__draw_z(ctx, q, K, est); /* (K, B, Z) */
    vae_tensor *scale = NULL;
    if (est == VAE_EST_DREG && z) {
        /* z' = sg(z) + s * (z - sg(z)) equals z in value, and passes s * dL/dz' back to z. s (K, B, 1) is filled
         * with the normalized weights after the forward pass (they depend on z), before backward reads it: that
         * turns the path gradient sum_k wt_k dlogw_k into DReG's sum_k wt_k^2 dlogw_k. */
        int64_t sshape[3] = {K, z->shape[1], 1};
        scale = vae_ones(ctx, z->dtype, 3, sshape);
        vae_tensor *zs = vae_detach(ctx, z);
        z = vae_add(ctx, zs, vae_mul(ctx, scale, vae_sub(ctx, z, zs)));
    }
    vae_dist *px = vae_net_decode(ctx, net, z);
    vae_dist *prior = vae_std_normal(ctx, net->cfg.dtype, 1, &net->cfg.z_dim);
    vae_tensor *logpx = vae_dist_log_prob(ctx, px, x);    /* (K, B) */
    vae_tensor *logpz = vae_dist_log_prob(ctx, prior, z); /* (K, B) */
    vae_tensor *logq = vae__log_q(ctx, q, z, est);        /* (K, B) */
    vae_tensor *logw = vae_sub(ctx, vae_add(ctx, logpx, logpz), logq);
    vae_tensor *bound =
        vae_add_scalar(ctx, vae_logsumexp(ctx, logw, 1, (int[]){0}, 0), -log((double)K));
    if (!bound) return vae_ctx_status(ctx);

    vae_tensor *S;
    if (est == VAE_EST_DREG) {
        /* wt = softmax over k of log w, as constants; S = sum_k wt_k log w_k gives the decoder's IWAE gradient */
        int64_t B = logw->shape[1];
        vae_tensor *wt = vae_zeros(ctx, logw->dtype, 2, logw->shape);
        if (!wt) return vae_ctx_status(ctx);
        for (int64_t b = 0; b < B; b++) {
            double lse = vae_get_flat(bound, b) + log((double)K);
            for (int64_t k = 0; k < K; k++) {
                double v = exp(vae_get_flat(logw, k * B + b) - lse);
                vae_set_flat(wt, k * B + b, v);
                vae_set_flat(scale, k * B + b, v);
            }
        }
        S = vae_sum_axis(ctx, vae_mul(ctx, wt, logw), 0, 0);
    } else if (est == VAE_EST_SCORE) {
        vae_tensor *signal;
        if (cfg->baseline == VAE_BASELINE_VIMCO)
            signal = vae__vimco_signal(ctx, logw, bound);
        else
            signal = vae__signal(ctx, vae_reshape(ctx, vae_detach(ctx, bound), VAE_SHAPE(1, -1)),
                                 cfg->baseline, st);
        S = vae_add(ctx, vae__score_surrogate(ctx, signal, logq), bound);
    } else
        S = bound;
    vae_tensor *loss = vae__loss(ctx, S);
    if (!loss) return vae_ctx_status(ctx);
    out->loss = loss;
    out->bound = vae_detach(ctx, bound);
    out->bound_mean = vae__mean_value(bound);
    out->rec_mean = vae__mean_value(logpx);
    out->kl_mean = vae__mean_value(logq) - vae__mean_value(logpz);
    out->kl_weight = 1.0;
    *f_mean = out->bound_mean;
    return VAE_OK;
}
