/* NVIL's input-dependent baseline (Mnih & Gregor 2014), for the score-function estimator (discrete.h).
 *
 *   signal_k(x) = f_k(x) - c - b(x),   c = running mean of f (the MA value),   b = MLP D -> H tanh -> 1 ("bl.*")
 *   b is trained alongside the model to minimize E[(sg(bound(x) - c) - b(x))^2] (vae_objective adds that term).
 * Any function of x keeps the estimator unbiased (E_q[grad log q] = 0); a good b(x) removes the part of the
 * signal's variance that is explained by the datum, which a constant c cannot.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "autograd/ops.h"
#include "models/discrete_internal.h"

vae_status vae__baseline_net_init(vae_net *net, vae_rng *rng, vae_error *err) {
    int64_t sizes[3] = {net->cfg.x_dim, net->cfg.baseline_hidden, 1};
    vae_activation act = {VAE_ACT_TANH, 0};
    vae_status s = vae_mlp_init(&net->bl, net->params, "bl", 3, sizes, act, 0, err);
    return s ? s : vae_mlp_reset(&net->bl, rng, err);
}

vae_tensor *vae_net_baseline(vae_ctx *ctx, vae_net *net, vae_tensor *x) {
    if (!ctx || !x) return NULL;
    if (net->bl.nlayers == 0) {
        vae_error_set(vae_ctx_error(ctx), VAE_ERR_ARG,
                      "net_baseline: the net has no baseline network (baseline_hidden = 0)");
        return NULL;
    }
    return vae_squeeze(ctx, vae_mlp_forward(ctx, &net->bl, x), -1); /* (B, 1) -> (B) */
}

vae_status vae_nvil_fit(vae_ctx *ctx, vae_net *net, const float *x, int64_t B,
                        const vae_objective_cfg *cfg, vae_objective_state *st, int64_t steps,
                        double lr, double *mse) {
    vae_error *err = vae_ctx_error(ctx);
    if (cfg->baseline != VAE_BASELINE_NVIL || cfg->estimator != VAE_EST_SCORE || !(lr > 0))
        return vae_error_set(err, VAE_ERR_ARG,
                             "nvil_fit: needs the score estimator with the nvil "
                             "baseline and a rate > 0");
    vae_params *p = net->params;
    int64_t P = vae_params_flat_len(p);
    double *m = calloc((size_t)P * 2, sizeof(double));
    if (!m) return vae_error_set(err, VAE_ERR_OOM, "nvil_fit: out of memory");
    double *v = m + P;
    vae_objective_state local = {0};
    if (!st) st = &local;
    int f64 = net->cfg.dtype == VAE_F64, cnt = vae_params_count(p);
    vae_status s = VAE_OK;
    for (int64_t t = 1; t <= steps && s == VAE_OK; t++) {
        vae_ctx_reset(ctx);
        vae_params_zero_grad(p);
        vae_tensor *xb = vae_cast(
            ctx, vae_wrap(ctx, VAE_F32, VAE_SHAPE(B, net->cfg.x_dim), (void *)x), net->cfg.dtype);
        vae_objective_out o;
        s = vae_objective(ctx, net, xb, cfg, st, &o);
        if (s == VAE_OK) s = vae_backward(ctx, o.loss);
        if (s != VAE_OK) break;
        if (mse) *mse = vae_objective_out_value(&o, "nvil_mse");
        /* Adam (betas 0.9, 0.999) on the bl.* parameters only */
        double b1 = 0.9, b2 = 0.999, c1 = 1 - pow(b1, (double)t), c2 = 1 - pow(b2, (double)t);
        for (int i = 0; i < cnt; i++) {
            vae_tensor *w = vae_params_get(p, i);
            if (strncmp(w->name, "bl.", 3) != 0) continue;
            int64_t off = vae_params_offset(p, i), n = vae_numel(w);
            for (int64_t j = off; j < off + n; j++) {
                double g =
                    f64 ? ((double *)vae_params_grads(p))[j] : ((float *)vae_params_grads(p))[j];
                m[j] = b1 * m[j] + (1 - b1) * g;
                v[j] = b2 * v[j] + (1 - b2) * g * g;
                double d = lr * (m[j] / c1) / (sqrt(v[j] / c2) + 1e-8);
                if (f64)
                    ((double *)vae_params_values(p))[j] -= d;
                else
                    ((float *)vae_params_values(p))[j] -= (float)d;
            }
        }
    }
    free(m);
    vae_params_zero_grad(p);
    vae_ctx_reset(ctx);
    return s;
}
