/* The VAE and beta-VAE objectives (Kingma & Welling 2014; Higgins et al. 2017; Burgess et al. 2018).
 *
 *   ELBO(x)   = E_q(z|x)[ log p(x|z) ] - KL( q(z|x) || p(z) ),   p(z) = N(0, I)
 *   SGVB B:     (1/L) sum_l log p(x|z_l) - KL_analytic                         (analytic_kl = 1)
 *   SGVB A:     (1/L) sum_l [ log p(x|z_l) + log p(z_l) - log q(z_l|x) ]        (analytic_kl = 0)
 *   beta-VAE:   E_q[log p(x|z)] - beta_t KL,  beta_t = beta * min(1, step / warmup)   (linear KL warm-up)
 *   free bits:  E_q[log p(x|z)] - beta_t sum_j max(lambda, KL_j),  KL_j = batch mean KL of latent dim j
 *   capacity:   E_q[log p(x|z)] - gamma |KL - C_t|,  C_t = C_max * min(1, step / steps)
 * Shapes: x (B, D), z (L, B, Z), log p(x|z) (L, B), bound (B).
 */
#include <math.h>

#include "models/kl.h"
#include "objective.h"

static double ramp(int64_t step, int64_t steps) {
    return steps > 0 && step < steps ? (double)step / (double)steps : 1.0;
}

vae_status vae__elbo(vae_ctx *ctx, vae_net *net, vae_tensor *x, const vae_objective_cfg *cfg,
                     const vae_objective_state *st, vae_objective_out *out, double *f_mean) {
    vae_estimator est = cfg->estimator;
    int64_t L = cfg->samples;
    double w = cfg->beta * ramp(st->step, cfg->warmup_steps); /* KL weight this step */
    int analytic = cfg->analytic_kl && est != VAE_EST_STL;    /* STL needs the Monte-Carlo form */

    vae_tensor *mu, *lv; /* (B, Z) */
    vae_dist *q = vae_net_encode(ctx, net, x, &mu, &lv);
    if (!q) return vae_ctx_status(ctx);
    vae_tensor *z = vae__draw_z(ctx, q, L, est);       /* (L, B, Z) */
    vae_dist *px = vae_net_decode(ctx, net, z);        /* over (L, B, D) */
    vae_tensor *logpx = vae_dist_log_prob(ctx, px, x); /* (L, B) */
    vae_tensor *kl = vae_normal_kl_std(ctx, mu, lv);   /* (B), analytic */
    if (!logpx || !kl) return vae_ctx_status(ctx);

    vae_tensor *f, *kl_term = NULL, *bound;
    double kl_report;
    if (analytic) {
        f = logpx;
        kl_report = vae__mean_value(kl);
        bound = vae_sub(ctx, vae_mean_axis(ctx, logpx, 0, 0), kl);
        if (cfg->free_bits > 0) { /* sum_j max(lambda, mean_b KL_bj) */
            vae_tensor *kd = vae_mean_axis(ctx, vae_kl_normal_std_per_dim(ctx, q), 0, 0); /* (Z) */
            vae_tensor *lam =
                vae_full(ctx, kd ? kd->dtype : net->cfg.dtype, VAE_SHAPE(1), cfg->free_bits);
            kl_term = vae_mul_scalar(ctx, vae_sum_all(ctx, vae_maximum(ctx, kd, lam)), w);
        } else if (cfg->capacity_gamma > 0) { /* gamma |mean_b KL_b - C_t| */
            out->capacity = cfg->capacity_max * ramp(st->step, cfg->capacity_steps);
            kl_term = vae_mul_scalar(
                ctx,
                vae_abs(ctx, vae_add_scalar(ctx, vae_mean(ctx, kl, 0, NULL, 0), -out->capacity)),
                cfg->capacity_gamma);
        } else
            kl_term = vae_mul_scalar(ctx, vae_mean(ctx, kl, 0, NULL, 0), w);
    } else {
        vae_dist *prior = vae_std_normal(ctx, net->cfg.dtype, 1, &net->cfg.z_dim);
        vae_tensor *logpz = vae_dist_log_prob(ctx, prior, z); /* (L, B) */
        vae_tensor *logq = vae__log_q(ctx, q, z, est);        /* (L, B) */
        vae_tensor *klmc = vae_sub(ctx, logq, logpz);
        f = vae_sub(ctx, logpx, vae_mul_scalar(ctx, klmc, w));
        if (!f) return vae_ctx_status(ctx);
        kl_report = vae__mean_value(klmc);
        bound = vae_mean_axis(ctx, vae_sub(ctx, logpx, vae_detach(ctx, klmc)), 0, 0);
    }
    /* per-datum surrogate S_b whose gradient is the estimator */
    vae_tensor *S;
    if (est == VAE_EST_SCORE) {
        vae_tensor *signal = vae__signal(ctx, vae_detach(ctx, f), cfg->baseline, st);
        vae_tensor *logq_full = vae_dist_log_prob(ctx, q, z); /* grad to phi through mu, logvar */
        S = vae_mul_scalar(
            ctx,
            vae_add(ctx, vae__score_surrogate(ctx, signal, logq_full), vae_sum_axis(ctx, f, 0, 0)),
            1.0 / (double)L);
    } else
        S = vae_mean_axis(ctx, f, 0, 0);
    vae_tensor *loss = vae__loss(ctx, S);
    if (kl_term) loss = vae_add(ctx, loss, kl_term);
    if (!loss || !bound) return vae_ctx_status(ctx);

    out->loss = loss;
    out->bound = vae_detach(ctx, bound);
    out->bound_mean = vae__mean_value(bound);
    out->rec_mean = vae__mean_value(logpx);
    out->kl_mean = kl_report;
    out->kl_weight = w;
    *f_mean = vae__mean_value(f);
    return VAE_OK;
}
