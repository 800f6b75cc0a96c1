/* The objective registry, spec parsing, the generic checks, and the dispatch with the bookkeeping every objective
 * shares (N/M scaling, step count, moving-average baseline). The bounds are in elbo.c, iwae.c, vr.c, miwae.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/flow_prior.h"
#include "models/discrete_internal.h"
#include "models/objective_internal.h"
#include "models/vae_net_internal.h"

#define USER_SLOTS 32

static const vae_objective_desc *const builtins[] = {
    &vae__objective_vae, &vae__objective_beta_vae, &vae__objective_iwae,
    &vae__objective_vr,  &vae__objective_miwae,    &vae__objective_ciwae,
};
#define NBUILTIN ((int)(sizeof builtins / sizeof *builtins))
static const vae_objective_desc *user[USER_SLOTS];
static int nuser;

const vae_objective_desc *vae_objective_find(const char *name) {
    if (!name) return NULL;
    for (int i = 0; i < NBUILTIN; i++)
        if (strcmp(builtins[i]->name, name) == 0) return builtins[i];
    for (int i = 0; i < nuser; i++)
        if (strcmp(user[i]->name, name) == 0) return user[i];
    return NULL;
}

int vae_objective_list(const vae_objective_desc **out, int max) {
    for (int i = 0; i < NBUILTIN + nuser && i < max; i++)
        out[i] = i < NBUILTIN ? builtins[i] : user[i - NBUILTIN];
    return NBUILTIN + nuser;
}

vae_status vae_objective_register(const vae_objective_desc *d) {
    if (!d || !d->name || !d->name[0] || !d->build || d->nopts < 0 ||
        d->nopts > VAE_OBJECTIVE_MAX_OPTS || (d->nopts > 0 && !d->opts) ||
        !(d->estimators & ((1u << VAE_EST_COUNT_) - 1)))
        return VAE_ERR_ARG;
    for (int i = 0; i < d->nopts; i++) {
        const vae_objective_option *o = &d->opts[i];
        if (!o->name || !o->name[0] || !(o->min <= o->def && o->def <= o->max)) return VAE_ERR_ARG;
    }
    if (strchr(d->name, ':') || strchr(d->name, ',') || vae_objective_find(d->name))
        return VAE_ERR_ARG;
    if (nuser == USER_SLOTS) return VAE_ERR_OOM;
    user[nuser++] = d;
    return VAE_OK;
}

static const vae_objective_desc *desc_of(const vae_objective_cfg *c) {
    return c->desc ? c->desc : &vae__objective_vae;
}

static void set_defaults(vae_objective_cfg *c, const vae_objective_desc *d) {
    c->desc = d;
    memset(c->opt, 0, sizeof c->opt);
    for (int i = 0; i < d->nopts; i++) c->opt[i] = d->opts[i].def;
}

void vae_objective_cfg_default(vae_objective_cfg *cfg) {
    memset(cfg, 0, sizeof *cfg);
    set_defaults(cfg, &vae__objective_vae);
    cfg->estimator = VAE_EST_REPARAM;
    cfg->baseline = VAE_BASELINE_NONE;
    cfg->baseline_decay = 0.9;
    cfg->temperature = 1.0, cfg->temp_anneal = 0.0, cfg->temp_min = 0.5;
}

static int opt_index(const vae_objective_desc *d, const char *key, size_t len) {
    for (int i = 0; i < d->nopts; i++)
        if (strlen(d->opts[i].name) == len && strncmp(d->opts[i].name, key, len) == 0) return i;
    return -1;
}

static void list_keys(const vae_objective_desc *d, char *b, size_t n) {
    b[0] = 0;
    for (int i = 0; i < d->nopts; i++)
        snprintf(b + strlen(b), n - strlen(b), "%s%s", i ? ", " : "", d->opts[i].name);
    if (!d->nopts) snprintf(b, n, "none");
}

static vae_status check_value(const vae_objective_desc *d, int i, double v, vae_error *err) {
    const vae_objective_option *o = &d->opts[i];
    if (!(v >= o->min && v <= o->max))
        return vae_error_set(err, VAE_ERR_ARG, "objective %s: %s = %g is out of range %g..%g",
                             d->name, o->name, v, o->min, o->max);
    if (o->integer && v != floor(v))
        return vae_error_set(err, VAE_ERR_ARG, "objective %s: %s = %g must be a whole number",
                             d->name, o->name, v);
    return VAE_OK;
}

vae_status vae_objective_set(vae_objective_cfg *cfg, const char *key, double v, vae_error *err) {
    const vae_objective_desc *d = desc_of(cfg);
    int i = key ? opt_index(d, key, strlen(key)) : -1;
    if (i < 0) {
        char keys[256];
        list_keys(d, keys, sizeof keys);
        return vae_error_set(err, VAE_ERR_ARG, "objective %s: unknown option \"%s\" (valid: %s)",
                             d->name, key ? key : "(null)", keys);
    }
    if (check_value(d, i, v, err)) return err->code;
    cfg->desc = d;
    cfg->opt[i] = v;
    return VAE_OK;
}

double vae_objective_get(const vae_objective_cfg *cfg, const char *key) {
    const vae_objective_desc *d = desc_of(cfg);
    int i = key ? opt_index(d, key, strlen(key)) : -1;
    return i < 0 ? NAN : cfg->opt[i];
}

vae_status vae_objective_parse_spec(vae_objective_cfg *cfg, const char *spec, vae_error *err) {
    if (!spec) return vae_error_set(err, VAE_ERR_ARG, "objective: NULL spec");
    const char *colon = strchr(spec, ':');
    size_t nlen = colon ? (size_t)(colon - spec) : strlen(spec);
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)(nlen < 63 ? nlen : 63), spec);
    const vae_objective_desc *d = nlen < 63 ? vae_objective_find(name) : NULL;
    if (!d) {
        const vae_objective_desc *all[NBUILTIN + USER_SLOTS];
        int n = vae_objective_list(all, NBUILTIN + USER_SLOTS);
        char names[512] = "";
        for (int i = 0; i < n; i++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
                     all[i]->name);
        return vae_error_set(err, VAE_ERR_ARG, "objective: unknown \"%s\" (registered: %s)", name,
                             names);
    }
    vae_objective_cfg c = *cfg;
    set_defaults(&c, d);
    for (const char *p = colon ? colon + 1 : NULL;
         p;) { /* an empty item ("k=5,") is an error too */
        const char *end = strchr(p, ','), *eq = strchr(p, '=');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (!eq || eq >= p + len)
            return vae_error_set(err, VAE_ERR_ARG, "objective %s: \"%.*s\" is not key=value",
                                 d->name, (int)len, p);
        int i = opt_index(d, p, (size_t)(eq - p));
        if (i < 0) {
            char keys[256];
            list_keys(d, keys, sizeof keys);
            return vae_error_set(err, VAE_ERR_ARG,
                                 "objective %s: unknown option \"%.*s\" (valid: %s)", d->name,
                                 (int)(eq - p), p, keys);
        }
        char num[64], *stop;
        size_t vlen = len - (size_t)(eq + 1 - p);
        snprintf(num, sizeof num, "%.*s", (int)(vlen < 63 ? vlen : 63), eq + 1);
        double v = strtod(num, &stop);
        if (!num[0] || *stop || vlen >= 63)
            return vae_error_set(err, VAE_ERR_ARG, "objective %s: %s = \"%s\" is not a number",
                                 d->name, d->opts[i].name, num);
        if (check_value(d, i, v, err)) return err->code;
        c.opt[i] = v;
        p = end ? end + 1 : NULL;
    }
    *cfg = c;
    return VAE_OK;
}

int vae_objective_spec(const vae_objective_cfg *cfg, char *buf, size_t n) {
    const vae_objective_desc *d = desc_of(cfg);
    char tmp[512];
    int len = snprintf(tmp, sizeof tmp, "%s", d->name);
    for (int i = 0, first = 1; i < d->nopts && len < (int)sizeof tmp; i++) {
        if (cfg->opt[i] == d->opts[i].def) continue;
        len += snprintf(tmp + len, sizeof tmp - (size_t)len, "%c%s=%.17g", first ? ':' : ',',
                        d->opts[i].name, cfg->opt[i]);
        first = 0;
    }
    return snprintf(buf, n, "%s", tmp);
}

vae_status vae_objective_check(const vae_objective_cfg *c, vae_error *err) {
    const vae_objective_desc *d = desc_of(c);
    if ((unsigned)c->estimator >= VAE_EST_COUNT_ || (unsigned)c->baseline >= VAE_BASELINE_COUNT_)
        return vae_error_set(err, VAE_ERR_ARG, "objective: unknown estimator %d or baseline %d",
                             (int)c->estimator, (int)c->baseline);
    for (int i = 0; i < d->nopts; i++)
        if (check_value(d, i, c->opt[i], err)) return err->code;
    if (!(d->estimators & (1u << c->estimator))) {
        char ok[128] = "";
        for (int e = 0; e < VAE_EST_COUNT_; e++)
            if (d->estimators & (1u << e))
                snprintf(ok + strlen(ok), sizeof ok - strlen(ok), "%s%s", ok[0] ? ", " : "",
                         vae_estimator_name((vae_estimator)e));
        return vae_error_set(err, VAE_ERR_ARG,
                             "objective %s: the %s estimator is not supported (supported: %s)",
                             d->name, vae_estimator_name(c->estimator), ok);
    }
    if (c->baseline != VAE_BASELINE_NONE && c->estimator != VAE_EST_SCORE)
        return vae_error_set(err, VAE_ERR_ARG,
                             "objective: baseline %s needs the score estimator (got %s)",
                             vae_baseline_name(c->baseline), vae_estimator_name(c->estimator));
    if (!(c->baseline_decay >= 0 && c->baseline_decay < 1))
        return vae_error_set(err, VAE_ERR_ARG, "objective: baseline decay %g must be in [0, 1)",
                             c->baseline_decay);
    if (!(c->data_size >= 0) || !isfinite(c->data_size))
        return vae_error_set(err, VAE_ERR_ARG, "objective: data size %g must be >= 0",
                             c->data_size);
    if (c->estimator == VAE_EST_GUMBEL &&
        !(c->temperature > 0 && c->temperature <= 1e3 && c->temp_anneal >= 0 && c->temp_anneal <= 1 &&
          c->temp_min > 0 && c->temp_min <= c->temperature))
        return vae_error_set(err, VAE_ERR_ARG,
                             "objective: gumbel temperature %g, anneal rate %g, minimum %g: need "
                             "0 < minimum <= temperature <= 1000 and a rate in [0, 1]",
                             c->temperature, c->temp_anneal, c->temp_min);
    vae_objective_cfg r = *c; /* the objective's own check and build see desc resolved */
    r.desc = d;
    return d->check ? d->check(&r, err) : VAE_OK;
}

vae_status vae_objective(vae_ctx *ctx, vae_net *net, vae_tensor *x, const vae_objective_cfg *cfg,
                         vae_objective_state *st, vae_objective_out *out) {
    vae_error *err = vae_ctx_error(ctx);
    if (vae_ctx_status(ctx)) return vae_ctx_status(ctx);
    if (vae_objective_check(cfg, err)) return err->code;
    if (vae_net_family_check(&net->cfg, cfg->estimator, err)) return err->code; /* flows: reparam only */
    if (!x) return vae_error_set(err, VAE_ERR_NULL, "objective: NULL batch");
    if (x->ndim != 2 || x->shape[1] != net->cfg.x_dim || x->dtype != net->cfg.dtype) {
        char b[160];
        return vae_error_set(
            err, VAE_ERR_SHAPE, "objective: batch %s %s does not fit a model of %lld inputs (%s)",
            vae_dtype_name(x->dtype), vae_shape_str(b, sizeof b, x->ndim, x->shape),
            (long long)net->cfg.x_dim, vae_dtype_name(net->cfg.dtype));
    }
    if (vae_objective_check_net(cfg, net, err)) return err->code;
    vae_objective_out o;
    memset(&o, 0, sizeof o);
    vae_objective_cfg r = *cfg;
    r.desc = desc_of(cfg);
    vae_weight_mode wm =
        net->bayes ? vae__bayes_begin(ctx, net) : VAE_WEIGHTS_MEAN; /* theta per minibatch */
    vae_status s = vae__discrete_begin(ctx, net, x, &r, st); /* gumbel's temperature, NVIL's b(x) */
    if (s == VAE_OK) s = r.desc->build(ctx, net, x, &r, st, &o);
    if (net->bayes) { /* + KL(q(theta) || p(theta)) / N, before the N/M scaling */
        vae_status sb = vae__bayes_end(ctx, net, &r, wm, &o);
        s = s ? s : (o.loss ? sb : s);
    }
    if (s == VAE_OK && (!o.loss || !o.bound || vae_ctx_status(ctx)))
        s = vae_ctx_status(ctx)
                ? vae_ctx_status(ctx)
                : vae_error_set(err, VAE_ERR_NULL, "objective %s: build gave no loss or bound",
                                desc_of(cfg)->name);
    if (s == VAE_OK && cfg->data_size > 0) { /* -(N/M) sum_b = -N mean_b: the same scaling for every term */
        o.loss = vae_mul_scalar(ctx, o.loss, cfg->data_size);
        if (!o.loss) s = vae_ctx_status(ctx);
    }
    s = vae__discrete_end(ctx, net, x, &r, st, &o, s); /* the hard-sample bound, NVIL's regression */
    if (s != VAE_OK) return s;
    *out = o;
    st->step++;
    if (!st->baseline_ready) {
        st->baseline = o.signal_mean;
        st->baseline_ready = 1;
    } else
        st->baseline =
            cfg->baseline_decay * st->baseline + (1 - cfg->baseline_decay) * o.signal_mean;
    return VAE_OK;
}

void vae_objective_out_log(vae_objective_out *out, const char *name, double value) {
    for (int i = 0; i < out->nlog; i++)
        if (strcmp(out->log[i].name, name) == 0) {
            out->log[i].value = value;
            return;
        }
    if (out->nlog < VAE_OBJECTIVE_MAX_LOGS)
        out->log[out->nlog++] = (vae_objective_log){name, value};
}

double vae_objective_out_value(const vae_objective_out *out, const char *name) {
    for (int i = 0; name && i < out->nlog; i++)
        if (strcmp(out->log[i].name, name) == 0) return out->log[i].value;
    return NAN;
}

double vae__mean_value(const vae_tensor *t) {
    int64_t n = t ? vae_numel(t) : 0;
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += vae_get_flat(t, i);
    return n ? s / (double)n : 0.0;
}

vae_tensor *vae__loss(vae_ctx *ctx, vae_tensor *surrogate) {
    return vae_neg(ctx, vae_mean(ctx, surrogate, 0, NULL, 0));
}

vae_status vae__particle_out(vae_ctx *ctx, vae_tensor *S, vae_tensor *bound,
                             const vae_est_particles *p, vae_objective_out *out) {
    vae_tensor *loss = vae__loss(ctx, S);
    if (!loss || !bound) return vae_ctx_status(ctx) ? vae_ctx_status(ctx) : VAE_ERR_NULL;
    out->loss = loss;
    out->bound = vae_detach(ctx, bound);
    out->bound_mean = out->signal_mean = vae__mean_value(bound);
    vae_objective_out_log(out, "rec", vae__mean_value(p->logpx));
    vae_objective_out_log(out, "kl", vae__mean_value(p->logq) - vae__mean_value(p->logpz));
    vae_objective_out_log(out, "elbo", vae__mean_value(p->logw));
    return VAE_OK;
}
