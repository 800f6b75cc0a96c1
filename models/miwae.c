/* MIWAE and CIWAE (Rainforth et al. 2018, "Tighter variational bounds are not necessarily better").
 *
 *   MIWAE_{M,K}(x) = (1/M) sum_m [ logsumexp_k log w_mk - log K ],   M groups of K particles z_mk ~ q(z|x)
 *   CIWAE_beta(x)  = beta ELBO_K + (1 - beta) IWAE_K,  ELBO_K = (1/K) sum_k log w_k  (the same K particles)
 * M = 1 is the IWAE bound, K = 1 the ELBO averaged over M samples; beta = 1 the ELBO, beta = 0 the IWAE bound.
 * DReG applies to MIWAE group by group (weights normalized within each group of K).
 * Shapes: x (B, D), z (M K, B, Z), log w (M K, B) viewed as (M, K, B), bound (B).
 */
#include <math.h>

#include "models/objective_internal.h"

/* The bound's surrogate under the configured estimator, and the outputs. */
static vae_status finish(vae_ctx *ctx, const vae_objective_cfg *c, const vae_objective_state *st,
                         const vae_est_particles *p, vae_tensor *bound, vae_objective_out *out) {
    vae_tensor *S = vae_est_surrogate(ctx, c->estimator, c->baseline, p->logw, p->logq, bound, st);
    return vae__particle_out(ctx, S, bound, p, out);
}

static const vae_objective_option miwae_opts[] = {
    {"m", 4, 1, 100000, 1, "groups M (outer average)"},
    {"k", 8, 1, 100000, 1, "particles K per group (inner importance-weighted bound)"},
};

static vae_status miwae_build(vae_ctx *ctx, vae_net *net, vae_tensor *x, const vae_objective_cfg *c,
                              const vae_objective_state *st, vae_objective_out *out) {
    int64_t M = (int64_t)c->opt[0], K = (int64_t)c->opt[1];
    vae_est_particles p;
    vae_status s = vae_est_draw_particles(ctx, net, x, M, K, c->estimator, &p);
    if (s) return s;
    vae_tensor *lw = vae_reshape(ctx, p.logw, VAE_SHAPE(M, K, x->shape[0])); /* (M, K, B) */
    vae_tensor *iwae_m =
        vae_add_scalar(ctx, vae_logsumexp(ctx, lw, 1, (int[]){1}, 0), -log((double)K));
    return finish(ctx, c, st, &p, vae_mean_axis(ctx, iwae_m, 0, 0), out);
}

static vae_status miwae_check(const vae_objective_cfg *c, vae_error *err) {
    if (c->baseline == VAE_BASELINE_VIMCO)
        return vae_error_set(err, VAE_ERR_ARG,
                             "objective %s: the vimco baseline is for one group of particles "
                             "(use iwae, or the ma baseline)",
                             c->desc->name);
    if (c->opt[0] * c->opt[1] > 100000)
        return vae_error_set(err, VAE_ERR_ARG,
                             "objective miwae: m * k = %g particles is above 100000",
                             c->opt[0] * c->opt[1]);
    return VAE_OK;
}

static const vae_objective_option ciwae_opts[] = {
    {"beta", 0.5, 0, 1, 0, "weight of the ELBO (1: ELBO, 0: IWAE)"},
    {"k", 8, 1, 100000, 1, "particles K per datum"},
};

static vae_status ciwae_build(vae_ctx *ctx, vae_net *net, vae_tensor *x, const vae_objective_cfg *c,
                              const vae_objective_state *st, vae_objective_out *out) {
    double beta = c->opt[0];
    int64_t K = (int64_t)c->opt[1];
    vae_est_particles p;
    vae_status s = vae_est_draw_particles(ctx, net, x, 1, K, c->estimator, &p);
    if (s) return s;
    vae_tensor *elbo = vae_mean_axis(ctx, p.logw, 0, 0);
    vae_tensor *iwae =
        vae_add_scalar(ctx, vae_logsumexp(ctx, p.logw, 1, (int[]){0}, 0), -log((double)K));
    vae_tensor *bound =
        vae_add(ctx, vae_mul_scalar(ctx, elbo, beta), vae_mul_scalar(ctx, iwae, 1.0 - beta));
    return finish(ctx, c, st, &p, bound, out);
}

const vae_objective_desc vae__objective_miwae = {
    "miwae",
    "MIWAE: mean over M groups of the K-particle IWAE bound",
    2,
    miwae_opts,
    (1u << VAE_EST_REPARAM) | (1u << VAE_EST_SCORE) | (1u << VAE_EST_STL) | (1u << VAE_EST_DREG),
    miwae_check,
    miwae_build};
const vae_objective_desc vae__objective_ciwae = {
    "ciwae",    "CIWAE: beta ELBO_K + (1 - beta) IWAE_K on the same particles",        2,
    ciwae_opts, (1u << VAE_EST_REPARAM) | (1u << VAE_EST_SCORE) | (1u << VAE_EST_STL), miwae_check,
    ciwae_build};
