/* The VAE and beta-VAE objectives (Kingma & Welling 2014; Higgins et al. 2017; Burgess et al. 2018).
 *
 *   ELBO(x)   = E_q(z|x)[ log p(x|z) ] - KL( q(z|x) || p(z) ),   p(z) = N(0, I)
 *   SGVB B:     (1/L) sum_l log p(x|z_l) - KL_analytic                         (mc-kl = 0)
 *   SGVB A:     (1/L) sum_l [ log p(x|z_l) + log p(z_l) - log q(z_l|x) ]        (mc-kl = 1; STL always)
 *   beta-VAE:   E_q[log p(x|z)] - beta_t KL,  beta_t = beta * min(1, step / warmup)   (linear KL warm-up)
 *   free bits:  E_q[log p(x|z)] - beta_t sum_j max(lambda, KL_j),  KL_j = batch mean KL of latent dim j
 *   capacity:   E_q[log p(x|z)] - gamma |KL - C_t|,  C_t = C_max * min(1, step / steps)
 * The reported bound is always the plain ELBO; the weighting changes only the loss.
 * Shapes: x (B, D), z (L, B, Z), log p(x|z) (L, B), bound (B).
 */
#include <math.h>

#include "models/dist_builtin.h"
#include "models/kl.h"
#include "models/objective_internal.h"

enum { O_L, O_MC_KL, O_BETA, O_WARMUP, O_FREE_BITS, O_GAMMA, O_CMAX, O_CSTEPS, O_COUNT };

static const vae_objective_option elbo_opts[O_COUNT] = {
    {"l", 1, 1, 100000, 1, "samples z_l ~ q(z|x) per datum"},
    {"mc-kl", 0, 0, 1, 1,
     "1: Monte-Carlo KL, log q(z|x) - log p(z) (SGVB A), instead of the analytic KL"},
    {"beta", 1, 0, 1e6, 0, "weight on the KL"},
    {"warmup", 0, 0, 1e15, 1,
     "linear KL warm-up: the weight rises from 0 to beta over this many steps"},
    {"free-bits", 0, 0, 1e6, 0, "lambda > 0: KL term sum_j max(lambda, KL_j) (0 = off)"},
    {"gamma", 0, 0, 1e6, 0, "capacity weight: loss -rec + gamma |KL - C| (0 = off)"},
    {"cmax", 0, 0, 1e6, 0, "capacity: C rises linearly from 0 to cmax nats ..."},
    {"csteps", 0, 0, 1e15, 1, "... over this many steps"},
};

/* the "vae" descriptor has only the first two options: the others read as their defaults */
static double opt(const vae_objective_cfg *c, int i) {
    return i < c->desc->nopts ? c->opt[i] : elbo_opts[i].def;
}
static double ramp(int64_t step, double steps) {
    return steps > 0 && (double)step < steps ? (double)step / steps : 1.0;
}
static int analytic_kl(const vae_objective_cfg *c) { /* STL needs the Monte-Carlo form */
    return opt(c, O_MC_KL) == 0 && c->estimator != VAE_EST_STL;
}
/* ... and a model whose KL has the closed form (a plain Gaussian posterior against N(0, I)) */
static int use_analytic_kl(const vae_objective_cfg *c, const vae_net *net) {
    return analytic_kl(c) && vae_net_analytic_kl(net);
}

/* E_q log p(x|z) per sample: (L, B) */
static vae_tensor *reconstruction(vae_ctx *ctx, vae_net *net, vae_tensor *x, vae_tensor *z) {
    return vae_dist_log_prob(ctx, vae_net_decode(ctx, net, z), x);
}

/* Monte-Carlo KL per sample, log q(z|x) - log p(z): (L, B) */
static vae_tensor *kl_monte_carlo(vae_ctx *ctx, vae_net *net, vae_dist *q, vae_tensor *z,
                                  vae_estimator est) {
    vae_dist *prior = vae_net_prior(ctx, net);
    return vae_sub(ctx, vae_est_log_q(ctx, q, z, est), vae_dist_log_prob(ctx, prior, z));
}

/* The beta-VAE weighting of the analytic KL kl (B,): the scalar KL term of the loss, one of
 *   beta_t mean_b KL_b,   beta_t sum_j max(lambda, mean_b KL_bj),   gamma |mean_b KL_b - C_t|. */
static vae_tensor *weighted_kl(vae_ctx *ctx, const vae_objective_cfg *c,
                               const vae_objective_state *st, vae_dist *q, vae_tensor *kl,
                               vae_objective_out *out) {
    double w = vae_objective_out_value(out, "kl_weight");
    if (opt(c, O_FREE_BITS) > 0) {
        vae_tensor *kd = vae_mean_axis(ctx, vae_kl_normal_std_per_dim(ctx, q), 0, 0); /* (Z) */
        vae_tensor *lam = kd ? vae_full(ctx, kd->dtype, VAE_SHAPE(1), opt(c, O_FREE_BITS)) : NULL;
        return vae_mul_scalar(ctx, vae_sum_all(ctx, vae_maximum(ctx, kd, lam)), w);
    }
    if (opt(c, O_GAMMA) > 0) {
        double C = opt(c, O_CMAX) * ramp(st->step, opt(c, O_CSTEPS));
        vae_objective_out_log(out, "capacity", C);
        vae_tensor *gap = vae_add_scalar(ctx, vae_mean(ctx, kl, 0, NULL, 0), -C);
        return vae_mul_scalar(ctx, vae_abs(ctx, gap), opt(c, O_GAMMA));
    }
    return vae_mul_scalar(ctx, vae_mean(ctx, kl, 0, NULL, 0), w);
}

static vae_status elbo_build(vae_ctx *ctx, vae_net *net, vae_tensor *x, const vae_objective_cfg *c,
                             const vae_objective_state *st, vae_objective_out *out) {
    vae_estimator est = c->estimator;
    int64_t L = (int64_t)opt(c, O_L);
    double beta = opt(c, O_BETA),
           w = beta * ramp(st->step, opt(c, O_WARMUP)); /* KL weight this step */
    vae_objective_out_log(out, "kl_weight", w);
    vae_objective_out_log(out, "beta", beta);

    if ((opt(c, O_FREE_BITS) > 0 || opt(c, O_GAMMA) > 0) && !vae_net_analytic_kl(net))
        return vae_error_set(vae_ctx_error(ctx), VAE_ERR_ARG,
                             "objective %s: free bits and capacity need the analytic KL, which this "
                             "model (its prior or posterior family) does not have",
                             c->desc->name);
    vae_tensor *mu, *lv; /* (B, Z) */
    vae_dist *q = vae_net_encode(ctx, net, x, &mu, &lv);
    vae_tensor *z = vae_est_draw_z(ctx, q, L, est);     /* (L, B, Z) */
    vae_tensor *logpx = reconstruction(ctx, net, x, z); /* (L, B) */
    vae_tensor *f, *kl_term = NULL, *bound, *kl;        /* f (L, B): what the estimator averages */
    if (use_analytic_kl(c, net)) {
        kl = vae_normal_kl_std(ctx, mu, lv); /* (B) */
        f = logpx;
        bound = vae_sub(ctx, vae_mean_axis(ctx, logpx, 0, 0), kl);
        kl_term = weighted_kl(ctx, c, st, q, kl, out);
    } else {
        kl = kl_monte_carlo(ctx, net, q, z, est); /* (L, B) */
        f = vae_sub(ctx, logpx, vae_mul_scalar(ctx, kl, w));
        bound = vae_mean_axis(ctx, vae_sub(ctx, logpx, vae_detach(ctx, kl)), 0, 0);
    }
    /* per-datum surrogate S_b whose gradient is the estimator: mean_l f, or for the score function
     * (1/L) [ sum_l sg(f_l - b_l) log q(z_l|x) + sum_l f_l ] */
    vae_tensor *S;
    if (est == VAE_EST_SCORE) {
        vae_tensor *signal = vae_est_signal_st(ctx, f, c->baseline, st);
        S = vae_mul_scalar(
            ctx,
            vae_est_score(ctx, signal, vae_dist_log_prob(ctx, q, z), vae_sum_axis(ctx, f, 0, 0)),
            1.0 / (double)L);
    } else
        S = vae_mean_axis(ctx, f, 0, 0);
    vae_tensor *loss = vae__loss(ctx, S);
    if (kl_term) loss = vae_add(ctx, loss, kl_term);
    if (!loss || !bound) return vae_ctx_status(ctx);

    out->loss = loss;
    out->bound = vae_detach(ctx, bound);
    out->bound_mean = vae__mean_value(bound);
    out->signal_mean = vae__mean_value(f);
    vae_objective_out_log(out, "rec", vae__mean_value(logpx));
    vae_objective_out_log(out, "kl", vae__mean_value(kl));
    vae_objective_out_log(out, "elbo", out->bound_mean);
    return VAE_OK;
}

static vae_status elbo_check(const vae_objective_cfg *c, vae_error *err) {
    if (c->baseline == VAE_BASELINE_VIMCO && opt(c, O_L) < 2)
        return vae_error_set(err, VAE_ERR_ARG,
                             "objective %s: the vimco baseline needs at least 2 samples (l >= 2)",
                             c->desc->name);
    int weighting = opt(c, O_FREE_BITS) > 0 || opt(c, O_GAMMA) > 0;
    if (weighting && !analytic_kl(c))
        return vae_error_set(
            err, VAE_ERR_ARG,
            "objective %s: free bits and capacity need the analytic KL (not mc-kl or stl)",
            c->desc->name);
    if (opt(c, O_FREE_BITS) > 0 && opt(c, O_GAMMA) > 0)
        return vae_error_set(err, VAE_ERR_ARG,
                             "objective %s: choose free bits or capacity, not both", c->desc->name);
    return VAE_OK;
}

#define ELBO_ESTIMATORS                                                                            \
    ((1u << VAE_EST_REPARAM) | (1u << VAE_EST_SCORE) | (1u << VAE_EST_STL) | (1u << VAE_EST_GUMBEL))

const vae_objective_desc vae__objective_vae = {
    "vae",
    "ELBO: E_q log p(x|z) - KL(q(z|x) || p(z)), L samples, analytic or Monte-Carlo KL",
    2,
    elbo_opts,
    ELBO_ESTIMATORS,
    elbo_check,
    elbo_build};
const vae_objective_desc vae__objective_beta_vae = {
    "beta-vae",      "E_q log p(x|z) - beta_t KL, with KL warm-up, free bits or Burgess's capacity",
    O_COUNT,         elbo_opts,
    ELBO_ESTIMATORS, elbo_check,
    elbo_build};
