#include "eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/numeric_internal.h"
#include "models/discrete.h"
#include "models/vae_net_hier.h"
#include "models/vae_net_internal.h"

void vae_eval_cfg_default(vae_eval_cfg *cfg) {
    cfg->is_samples = 5000;
    cfg->batch = 100;
    cfg->max_floats = 8 << 20;
    cfg->au_threshold = 0.01;
    cfg->elbo_samples = 1;
    cfg->moment_samples = VAE_EVAL_MOMENT_SAMPLES;
    cfg->weight_samples = 0;
}

/* x rows [i0, i0+m) as a tensor of the model's dtype in a freshly reset ctx */
static vae_tensor *batch_tensor(vae_ctx *ctx, const vae_net *net, const float *x, int64_t i0,
                                int64_t m) {
    vae_ctx_reset(ctx);
    int64_t D = net->cfg.x_dim;
    vae_tensor *t = vae_wrap(ctx, VAE_F32, VAE_SHAPE(m, D), (void *)(x + i0 * D));
    return vae_cast(ctx, t, net->cfg.dtype);
}

/* The error is in the context already (the builder that failed put it there). */
static vae_status fail(vae_ctx *ctx) {
    return vae_ctx_status(ctx) ? vae_ctx_status(ctx) : VAE_ERR_NULL;
}

vae_status vae_encode_all(vae_ctx *ctx, vae_net *net, const float *x, int64_t n, int64_t batch,
                          float *mu, float *logvar) {
    int64_t Z = vae_net_latent_dim(net);
    if (batch < 1) batch = 100;
    int prev = vae_set_grad_enabled(ctx, 0);
    for (int64_t i0 = 0; i0 < n; i0 += batch) {
        int64_t m = n - i0 < batch ? n - i0 : batch;
        vae_net_select_labels(net, i0, m);
        vae_tensor *qm = NULL, *qv = NULL, *xb = batch_tensor(ctx, net, x, i0, m);
        if (net->cfg.z2_dim) /* two layers: the posterior's moments, z2's by sampling z1 */
            vae__hier_moments(ctx, net, xb, VAE_EVAL_MOMENT_SAMPLES, &qm, &qv);
        else
            vae_net_encode(ctx, net, xb, &qm, &qv);
        if (!qm || !qv || vae_ctx_status(ctx)) {
            vae_set_grad_enabled(ctx, prev);
            return fail(ctx);
        }
        for (int64_t j = 0; j < m * Z; j++) {
            if (mu) mu[i0 * Z + j] = (float)vae_get_flat(qm, j);
            if (logvar) logvar[i0 * Z + j] = (float)vae_get_flat(qv, j);
        }
    }
    vae_set_grad_enabled(ctx, prev);
    return VAE_OK;
}

vae_status vae_evaluate(vae_ctx *ctx, vae_net *net, const float *x, int64_t n,
                        const vae_eval_cfg *cfg, vae_eval_result *res, double *ex_elbo,
                        double *ex_loglik) {
    return vae_evaluate_ex(ctx, net, x, n, cfg, res, ex_elbo, ex_loglik, NULL);
}

/* sd / sqrt(n) of values whose sum and sum of squares are s1, s2 (NAN for n < 2) */
static double std_error(double s1, double s2, int64_t n) {
    if (n < 2) return NAN;
    double m = s1 / (double)n, var = (s2 - s1 * m) / (double)(n - 1);
    return sqrt(var > 0 ? var / (double)n : 0.0);
}

vae_status vae_evaluate_ex(vae_ctx *ctx, vae_net *net, const float *x, int64_t n,
                           const vae_eval_cfg *cfg, vae_eval_result *res, double *ex_elbo,
                           double *ex_loglik, double *ex_loglik_se) {
    memset(res, 0, sizeof *res);
    if (n < 1 || !x) return vae_error_set(vae_ctx_error(ctx), VAE_ERR_ARG, "evaluate: no examples");
    if (net->bayes && cfg->weight_samples > 0)
        return vae__bayes_evaluate(ctx, net, x, n, cfg, res, ex_elbo, ex_loglik, ex_loglik_se);
    int64_t Z = vae_net_latent_dim(net), D = net->cfg.x_dim;
    int64_t batch = cfg->batch > 0 ? cfg->batch : 100, K = cfg->is_samples;
    double *kl = calloc((size_t)Z, sizeof *kl), *au = calloc((size_t)Z, sizeof *au);
    double *s1 = calloc((size_t)Z, sizeof *s1), *acc = malloc(sizeof(double) * (size_t)batch * 2);
    if (!kl || !au || !s1 || !acc) {
        free(kl), free(au), free(s1), free(acc);
        return vae_error_set(vae_ctx_error(ctx), VAE_ERR_OOM, "evaluate: out of memory");
    }
    int prev = vae_set_grad_enabled(ctx, 0);
    double sum_elbo = 0, sum_rec = 0, sum_kl = 0, sum_ll = 0, sq_elbo = 0, sq_ll = 0;
    double *acc2 = acc + batch; /* log sum_k w_k^2, for the per-example standard error */
    int64_t L = cfg->elbo_samples > 0 ? cfg->elbo_samples : 1;
    vae_status st = VAE_OK;
    int64_t lik_params = net->lik->params_per_dim;
    for (int64_t i0 = 0; i0 < n && st == VAE_OK; i0 += batch) {
        int64_t m = n - i0 < batch ? n - i0 : batch;
        /* ELBO parts and latent statistics */
        vae_net_select_labels(net, i0, m);
        vae_tensor *xb = batch_tensor(ctx, net, x, i0, m);
        vae_tensor *qm = NULL, *qv = NULL;
        vae_dist *q = vae_net_encode(ctx, net, xb, &qm, &qv);
        vae_tensor *z = q ? vae_dist_sample(ctx, q, L) : NULL; /* (L, m, Z) */
        vae_tensor *rec =
            vae_mean_axis(ctx, vae_dist_log_prob(ctx, vae_net_decode(ctx, net, z), xb), 0, 0);
        /* KL: analytic for a Gaussian q against N(0, I), or the closed form of discrete latents against the uniform
         * prior per unit (B, Z); else Monte Carlo on the same z: two layers split per unit (m, Z) with
         * qm = E_q[z|x], flows and mixture priors as a whole */
        vae_tensor *kld = NULL, *klb = NULL;
        if (net->cfg.z2_dim) {
            kld = vae_mean_axis(ctx, vae__hier_log_ratio_units(ctx, net, q, z), 0, 0);
            qm = NULL;
            vae__hier_moments(
                ctx, net, xb,
                cfg->moment_samples > 0 ? cfg->moment_samples : VAE_EVAL_MOMENT_SAMPLES, &qm, NULL);
            klb = qm ? vae_sum_axis(ctx, kld, -1, 0) : NULL;
        } else if (q && vae_net_discrete(net)) {
            kld = vae_discrete_kl_terms(ctx, q);
            klb = vae_sum_axis(ctx, kld, -1, 0);
        } else if (q)
            klb = vae_net_analytic_kl(net)
                      ? vae_normal_kl_std(ctx, qm, qv)
                      : vae_mean_axis(ctx,
                                      vae_sub(ctx, vae_dist_log_prob(ctx, q, z),
                                              vae_dist_log_prob(ctx, vae_net_prior(ctx, net), z)),
                                      0, 0);
        if (!rec || !klb) {
            st = fail(ctx);
            break;
        }
        for (int64_t b = 0; b < m; b++) {
            double r = vae_get_flat(rec, b), k = vae_get_flat(klb, b);
            sum_rec += r;
            sum_kl += k;
            sum_elbo += r - k;
            sq_elbo += (r - k) * (r - k);
            if (ex_elbo) ex_elbo[i0 + b] = r - k;
            if (ex_loglik_se && K <= 0) ex_loglik_se[i0 + b] = NAN;
            for (int64_t j = 0; j < Z; j++) {
                double mu = vae_get_flat(qm, b * Z + j);
                if (kld)
                    kl[j] += vae_get_flat(kld, b * Z + j);
                else {
                    double lv = vae_get_flat(qv, b * Z + j);
                    kl[j] += 0.5 * (mu * mu + (expm1(lv) - lv));
                }
                s1[j] += mu;
                au[j] += mu * mu;
            }
        }
        if (K <= 0) continue;
        /* IS estimate: chunks of particles, combined by logaddexp */
        int64_t chunk = cfg->max_floats / (m * D * lik_params);
        if (chunk < 1) chunk = 1;
        if (chunk > K) chunk = K;
        for (int64_t b = 0; b < m; b++) acc[b] = acc2[b] = -INFINITY;
        for (int64_t k0 = 0; k0 < K; k0 += chunk) {
            int64_t c = K - k0 < chunk ? K - k0 : chunk;
            xb = batch_tensor(ctx, net, x, i0, m);
            q = vae_net_encode(ctx, net, xb, NULL, NULL);
            z = q ? vae_dist_sample(ctx, q, c) : NULL; /* (c, m, Z) */
            vae_tensor *lpx = vae_dist_log_prob(ctx, vae_net_decode(ctx, net, z), xb);
            vae_tensor *lpz = vae_dist_log_prob(ctx, vae_net_prior(ctx, net), z);
            vae_tensor *lq = q ? vae_dist_log_prob(ctx, q, z) : NULL;
            vae_tensor *lw = vae_sub(ctx, vae_add(ctx, lpx, lpz), lq); /* (c, m) */
            vae_tensor *lse = vae_logsumexp(ctx, lw, 1, (int[]){0}, 0);
            vae_tensor *lse2 = vae_logsumexp(ctx, vae_mul_scalar(ctx, lw, 2.0), 1, (int[]){0}, 0);
            if (!lse || !lse2) {
                st = fail(ctx);
                break;
            }
            for (int64_t b = 0; b < m; b++) {
                acc[b] = vae__logaddexp(acc[b], vae_get_flat(lse, b));
                acc2[b] = vae__logaddexp(acc2[b], vae_get_flat(lse2, b));
            }
        }
        for (int64_t b = 0; st == VAE_OK && b < m; b++) {
            double ll = acc[b] - log((double)K);
            sum_ll += ll;
            sq_ll += ll * ll;
            if (ex_loglik) ex_loglik[i0 + b] = ll;
            if (ex_loglik_se) { /* sqrt((K S2 / S1^2 - 1) / (K - 1)) */
                double r = (double)K * exp(acc2[b] - 2 * acc[b]) - 1;
                ex_loglik_se[i0 + b] = K > 1 ? sqrt((r > 0 ? r : 0) / (double)(K - 1)) : NAN;
            }
        }
    }
    vae_set_grad_enabled(ctx, prev);
    vae_ctx_reset(ctx);
    free(acc);
    if (st != VAE_OK) {
        free(kl), free(au), free(s1);
        return st;
    }
    int active = 0;
    for (int64_t j = 0; j < Z; j++) {
        double mean = s1[j] / (double)n;
        au[j] = au[j] / (double)n - mean * mean; /* population variance over x of E_q[z_j] */
        if (au[j] < 0) au[j] = 0;
        kl[j] /= (double)n;
        active += au[j] > cfg->au_threshold;
        res->layer_active[j < net->cfg.z_dim ? 0 : 1] += au[j] > cfg->au_threshold;
    }
    res->nlayers = vae_net_stoch_layers(net, res->layer_dim);
    free(s1);
    res->n = n;
    res->loglik = K > 0 ? sum_ll / (double)n : NAN;
    res->elbo = sum_elbo / (double)n;
    res->loglik_se = K > 0 ? std_error(sum_ll, sq_ll, n) : NAN;
    res->elbo_se = std_error(sum_elbo, sq_elbo, n);
    res->rec = sum_rec / (double)n;
    res->kl = sum_kl / (double)n;
    res->active_units = active;
    res->z_dim = Z;
    res->kl_per_dim = kl;
    res->au_var = au;
    return VAE_OK;
}

void vae_eval_result_free(vae_eval_result *res) {
    if (!res) return;
    free(res->kl_per_dim);
    free(res->au_var);
    memset(res, 0, sizeof *res);
}
