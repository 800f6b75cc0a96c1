/* Configuration, dispatch and bookkeeping of the objectives (the math is in elbo.c and iwae.c). */
#include "objective.h"

#include <math.h>
#include <string.h>

static const char *const kind_names[VAE_OBJ_COUNT_] = {"vae", "beta-vae", "iwae"};
static const char *const est_names[VAE_EST_COUNT_] = {"reparam", "score", "stl", "dreg"};
static const char *const bl_names[VAE_BASELINE_COUNT_] = {"none", "ma", "vimco"};

const char *vae_objective_name(vae_objective_kind k) {
    return (unsigned)k < VAE_OBJ_COUNT_ ? kind_names[k] : "?";
}
const char *vae_estimator_name(vae_estimator e) {
    return (unsigned)e < VAE_EST_COUNT_ ? est_names[e] : "?";
}
const char *vae_baseline_name(vae_baseline b) {
    return (unsigned)b < VAE_BASELINE_COUNT_ ? bl_names[b] : "?";
}

static int lookup(const char *s, const char *const *names, int n) {
    for (int i = 0; s && i < n; i++)
        if (strcmp(s, names[i]) == 0) return i;
    return -1;
}
int vae_objective_parse(const char *s) {
    return lookup(s, kind_names, VAE_OBJ_COUNT_);
}
int vae_estimator_parse(const char *s) {
    return lookup(s, est_names, VAE_EST_COUNT_);
}
int vae_baseline_parse(const char *s) {
    return lookup(s, bl_names, VAE_BASELINE_COUNT_);
}

void vae_objective_cfg_default(vae_objective_cfg *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->kind = VAE_OBJ_VAE;
    cfg->estimator = VAE_EST_REPARAM;
    cfg->baseline = VAE_BASELINE_NONE;
    cfg->baseline_decay = 0.9;
    cfg->samples = 1;
    cfg->analytic_kl = 1;
    cfg->beta = 1.0;
}

vae_status vae_objective_check(const vae_objective_cfg *c, vae_error *err) {
    if ((unsigned)c->kind >= VAE_OBJ_COUNT_ || (unsigned)c->estimator >= VAE_EST_COUNT_ ||
        (unsigned)c->baseline >= VAE_BASELINE_COUNT_)
        return vae_error_set(err, VAE_ERR_ARG,
                             "objective: unknown objective, estimator or baseline");
    if (c->samples < 1 || c->samples > 100000)
        return vae_error_set(err, VAE_ERR_ARG,
                             "objective: samples/particles %lld must be in 1..100000",
                             (long long)c->samples);
    if (c->estimator == VAE_EST_DREG && c->kind != VAE_OBJ_IWAE)
        return vae_error_set(err, VAE_ERR_ARG,
                             "objective: the dreg estimator is for iwae only (got %s)",
                             vae_objective_name(c->kind));
    if (c->baseline != VAE_BASELINE_NONE && c->estimator != VAE_EST_SCORE)
        return vae_error_set(err, VAE_ERR_ARG,
                             "objective: baseline %s needs the score estimator (got %s)",
                             vae_baseline_name(c->baseline), vae_estimator_name(c->estimator));
    if (c->baseline == VAE_BASELINE_VIMCO && c->samples < 2)
        return vae_error_set(err, VAE_ERR_ARG,
                             "objective: the vimco baseline needs at least 2 samples");
    if (!(c->baseline_decay >= 0 && c->baseline_decay < 1))
        return vae_error_set(err, VAE_ERR_ARG, "objective: baseline decay %g must be in [0, 1)",
                             c->baseline_decay);
    if (!(c->beta >= 0) || !isfinite(c->beta))
        return vae_error_set(err, VAE_ERR_ARG, "objective: beta %g must be >= 0", c->beta);
    if (c->warmup_steps < 0 || c->capacity_steps < 0 || !(c->free_bits >= 0) ||
        !(c->capacity_gamma >= 0) || !(c->capacity_max >= 0) || !(c->data_size >= 0))
        return vae_error_set(err, VAE_ERR_ARG,
                             "objective: warm-up, free bits, capacity and data size must be >= 0");
    int beta_terms = c->free_bits > 0 || c->capacity_gamma > 0;
    if (beta_terms && c->kind == VAE_OBJ_IWAE)
        return vae_error_set(err, VAE_ERR_ARG,
                             "objective: free bits and capacity apply to vae/beta-vae, not iwae");
    if (beta_terms && (!c->analytic_kl || c->estimator == VAE_EST_STL))
        return vae_error_set(
            err, VAE_ERR_ARG,
            "objective: free bits and capacity need the analytic KL (not --mc-kl or stl)");
    if (c->free_bits > 0 && c->capacity_gamma > 0)
        return vae_error_set(err, VAE_ERR_ARG, "objective: choose free bits or capacity, not both");
    return VAE_OK;
}

vae_status vae_objective(vae_ctx *ctx, vae_net *net, vae_tensor *x, const vae_objective_cfg *cfg,
                         vae_objective_state *st, vae_objective_out *out) {
    vae_error *err = vae_ctx_error(ctx);
    if (vae_ctx_status(ctx)) return vae_ctx_status(ctx);
    if (vae_objective_check(cfg, err)) return err->code;
    if (!x) return vae_error_set(err, VAE_ERR_NULL, "objective: NULL batch");
    if (x->ndim != 2 || x->shape[1] != net->cfg.x_dim || x->dtype != net->cfg.dtype) {
        char b[160];
        return vae_error_set(
            err, VAE_ERR_SHAPE, "objective: batch %s %s does not fit a model of %lld inputs (%s)",
            vae_dtype_name(x->dtype), vae_shape_str(b, sizeof b, x->ndim, x->shape),
            (long long)net->cfg.x_dim, vae_dtype_name(net->cfg.dtype));
    }
    vae_objective_out o;
    memset(&o, 0, sizeof o);
    double f_mean = 0;
    vae_status s = cfg->kind == VAE_OBJ_IWAE ? vae__iwae(ctx, net, x, cfg, st, &o, &f_mean)
                                             : vae__elbo(ctx, net, x, cfg, st, &o, &f_mean);
    if (s == VAE_OK && (!o.loss || vae_ctx_status(ctx)))
        s = vae_ctx_status(ctx) ? vae_ctx_status(ctx) : VAE_ERR_NULL;
    if (s != VAE_OK) return s;
    if (cfg->data_size > 0) { /* -(N/M) sum_b = -N mean_b: the same scaling for every term */
        o.loss = vae_mul_scalar(ctx, o.loss, cfg->data_size);
        if (!o.loss) return vae_ctx_status(ctx);
    }
    *out = o;
    st->step++;
    if (!st->baseline_ready) {
        st->baseline = f_mean;
        st->baseline_ready = 1;
    } else
        st->baseline = cfg->baseline_decay * st->baseline + (1 - cfg->baseline_decay) * f_mean;
    return VAE_OK;
}
