#include "study.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Welford's running mean and sum of squared deviations, per flat parameter element. */
static void welford(double *m, double *m2, const void *g, vae_dtype dt, int64_t P, int64_t count) {
    for (int64_t i = 0; i < P; i++) {
        double v = -(dt == VAE_F64 ? ((const double *)g)[i]
                                   : (double)((const float *)g)[i]); /* bound = -loss */
        double d = v - m[i];
        m[i] += d / (double)count;
        m2[i] += d * (v - m[i]);
    }
}

static void group_stats(const vae_net *net, const double *m, const double *var, int decoder,
                        vae_study_group *g) {
    memset(g, 0, sizeof *g);
    double norm2 = 0, vsum = 0;
    int cnt = vae_params_count(net->params);
    for (int i = 0; i < cnt; i++) {
        vae_tensor *t = vae_params_get(net->params, i);
        if ((strncmp(t->name, "dec.", 4) == 0) != (decoder != 0)) continue;
        int64_t off = vae_params_offset(net->params, i), n = vae_numel(t);
        for (int64_t j = off; j < off + n; j++) {
            g->mean_abs_mean += fabs(m[j]);
            g->mean_var += var[j];
            if (var[j] > 0) g->mean_snr += fabs(m[j]) / sqrt(var[j]);
            norm2 += m[j] * m[j];
            vsum += var[j];
        }
        g->numel += n;
    }
    if (g->numel) {
        g->mean_abs_mean /= (double)g->numel;
        g->mean_var /= (double)g->numel;
        g->mean_snr /= (double)g->numel;
    }
    g->group_snr = vsum > 0 ? sqrt(norm2 / vsum) : 0;
}

vae_status vae_study_run(vae_ctx *ctx, vae_net *net, const float *x, int64_t B,
                         const vae_objective_cfg *cfg, int64_t draws, vae_study_row *row,
                         double *mean, double *var) {
    vae_error *err = vae_ctx_error(ctx); /* one channel: the context */
    if (draws < 2)
        return vae_error_set(err, VAE_ERR_ARG, "study: need at least 2 draws (got %lld)",
                             (long long)draws);
    if (vae_objective_check(cfg, err)) return err->code;
    int64_t P = vae_params_flat_len(net->params), D = net->cfg.x_dim; /* padded flat layout */
    double *m = calloc((size_t)P, sizeof *m), *m2 = calloc((size_t)P, sizeof *m2);
    if (!m || !m2) {
        free(m), free(m2);
        return vae_error_set(err, VAE_ERR_OOM, "study: out of memory for %lld parameters",
                             (long long)P);
    }
    vae_objective_state st = {0};
    double bound_sum = 0;
    vae_status s = VAE_OK;
    /* a moving-average baseline needs a few steps to settle before its estimates are representative */
    int64_t warm = cfg->baseline == VAE_BASELINE_MA ? 20 : 0;
    for (int64_t r = 0; r < warm + draws; r++) {
        vae_ctx_reset(ctx);
        vae_params_zero_grad(net->params);
        vae_tensor *xb =
            vae_cast(ctx, vae_wrap(ctx, VAE_F32, VAE_SHAPE(B, D), (void *)x), net->cfg.dtype);
        vae_objective_out o;
        s = vae_objective(ctx, net, xb, cfg, &st, &o);
        if (s == VAE_OK) s = vae_backward(ctx, o.loss);
        if (s != VAE_OK) break; /* the message is in ctx */
        if (r < warm) continue;
        bound_sum += o.bound_mean;
        welford(m, m2, vae_params_grads(net->params), vae_params_dtype(net->params), P,
                r - warm + 1);
    }
    vae_ctx_reset(ctx);
    if (s == VAE_OK) {
        for (int64_t i = 0; i < P; i++) m2[i] /= (double)(draws - 1); /* unbiased variance */
        memset(row, 0, sizeof *row);
        vae_objective_spec(cfg, row->objective, sizeof row->objective);
        row->estimator = cfg->estimator;
        row->baseline = cfg->baseline;
        row->draws = draws;
        row->bound_mean = bound_sum / (double)draws;
        group_stats(net, m, m2, 0, &row->enc);
        group_stats(net, m, m2, 1, &row->dec);
        if (mean) memcpy(mean, m, sizeof(double) * (size_t)P);
        if (var) memcpy(var, m2, sizeof(double) * (size_t)P);
    }
    vae_params_zero_grad(net->params);
    free(m), free(m2);
    return s;
}
