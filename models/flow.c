/* Flows in the posterior and the glue of the model families (flow_prior.h): spec parsing and checks, the
 * parameters a flow or prior adds to a vae_net, and the flow posterior as a vae_dist.
 *
 *   z_0 ~ q_0(z|x) = N(mu(x), diag exp(logvar(x))),  z_k = f_k(z_{k-1}),  k = 1..K
 *   log q(z_K|x) = log q_0(z_0|x) - sum_k log |det d f_k / d z_{k-1}|
 *
 * The posterior caches (z_K, log q(z_K|x)) for every z it draws: log_prob answers only for those tensors (the
 * density at any other z needs f^-1). Shapes: x (B, D), context h (B, C), z (k, B, Z) or (B, Z), log q (k, B).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/flow_prior_internal.h"
#include "nn/init.h"

/* ---- specs and checks ---- */

/* "NAME:K" with NAME one of names[0..n) (index into *which) and K in 1..kmax */
static vae_status parse_spec(const char *what, const char *spec, const char *const *names, int n,
                             int kmax, int *which, int *k, vae_error *err) {
    const char *colon = strchr(spec, ':');
    size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
    for (int i = 0; i < n; i++) {
        if (strlen(names[i]) != len || strncmp(spec, names[i], len)) continue;
        char *end;
        long v = colon ? strtol(colon + 1, &end, 10) : 0;
        if (!colon || end == colon + 1 || *end || v < 1 || v > kmax)
            return vae_error_set(err, VAE_ERR_ARG, "%s \"%.40s\": give %s:K with K in 1..%d", what,
                                 spec, names[i], kmax);
        *which = i;
        *k = (int)v;
        return VAE_OK;
    }
    return vae_error_set(err, VAE_ERR_ARG, "%s \"%.40s\": unknown (choose %s:K or %s:K)", what,
                         spec, names[0], names[1]);
}

vae_status vae_flow_spec_parse(const char *spec, vae_flow_kind *kind, int *k, vae_error *err) {
    static const char *const names[] = {"planar", "iaf"};
    int which = -1, kk = 0;
    if (spec && spec[0] && strcmp(spec, "none") &&
        parse_spec("flow", spec, names, 2, VAE_FLOW_MAX_STEPS, &which, &kk, err))
        return err ? err->code : VAE_ERR_ARG;
    if (kind) *kind = which == 0 ? VAE_FLOW_PLANAR : which == 1 ? VAE_FLOW_IAF : VAE_FLOW_NONE;
    if (k) *k = kk;
    return VAE_OK;
}

vae_status vae_prior_spec_parse(const char *spec, vae_prior_kind *kind, int *k, vae_error *err) {
    static const char *const names[] = {"mog", "vamp"};
    int which = -1, kk = 0;
    if (spec && spec[0] && strcmp(spec, "normal") &&
        parse_spec("prior", spec, names, 2, VAE_PRIOR_MAX_COMPONENTS, &which, &kk, err))
        return err ? err->code : VAE_ERR_ARG;
    if (kind)
        *kind = which == 0 ? VAE_PRIOR_MOG : which == 1 ? VAE_PRIOR_VAMP : VAE_PRIOR_STD_NORMAL;
    if (k) *k = kk;
    return VAE_OK;
}

vae_status vae_net_family_check(const vae_net_cfg *cfg, vae_estimator est, vae_error *err) {
    vae_flow_kind fk;
    vae_prior_kind pk;
    vae_status s = vae_flow_spec_parse(cfg->flow, &fk, NULL, err);
    if (!s) s = vae_prior_spec_parse(cfg->prior, &pk, NULL, err);
    if (s) return s;
    if (cfg->latent_kind != VAE_LATENT_GAUSSIAN &&
        (fk != VAE_FLOW_NONE || pk != VAE_PRIOR_STD_NORMAL || cfg->z2_dim))
        return vae_error_set(err, VAE_ERR_ARG,
                             "discrete latents take one latent layer with the uniform prior: not with "
                             "%s",
                             fk != VAE_FLOW_NONE ? "a posterior flow"
                             : cfg->z2_dim       ? "two stochastic layers"
                                                 : "a learned prior");
    if ((fk != VAE_FLOW_NONE || pk != VAE_PRIOR_STD_NORMAL) && cfg->z2_dim)
        return vae_error_set(err, VAE_ERR_ARG,
                             "%s%s%s%s with two stochastic layers: not supported (the flow and the "
                             "mixture priors act on a single Gaussian latent); use one of them",
                             fk != VAE_FLOW_NONE ? "flow " : "", cfg->flow,
                             fk != VAE_FLOW_NONE && pk != VAE_PRIOR_STD_NORMAL ? ", prior " :
                             pk != VAE_PRIOR_STD_NORMAL ? "prior " : "",
                             cfg->prior);
    if (fk != VAE_FLOW_NONE && pk == VAE_PRIOR_VAMP)
        return vae_error_set(
            err, VAE_ERR_ARG,
            "flow %s with prior %s: the VampPrior needs q(z|u_k) at any z, which a flow "
            "posterior gives only through its inverse (not available); use --prior mog:K",
            cfg->flow, cfg->prior);
    if (fk != VAE_FLOW_NONE && est != VAE_EST_REPARAM)
        return vae_error_set(
            err, VAE_ERR_ARG,
            "flow %s: the %s estimator needs log q(z|x) %s, which a flow posterior "
            "gives only through its inverse (not available); use --estimator reparam",
            cfg->flow, vae_estimator_name(est),
            est == VAE_EST_SCORE ? "at a fixed z" : "with detached parameters");
    return VAE_OK;
}

/* ---- the parameters ---- */

static int64_t ctx_dim(const vae_net_cfg *c) {
    return c->nhidden ? c->hidden[c->nhidden - 1] : c->x_dim;
}

static vae_status add_param(vae_net *net, vae_tensor **t, const char *name, int64_t r, int64_t c,
                            double mean, double sd, vae_rng *rng, vae_error *err) {
    int64_t shape[2] = {r, c};
    *t = vae_params_add(net->params, name, c ? 2 : 1, shape, err);
    if (!*t) return err ? err->code : VAE_ERR_OOM;
    return sd > 0 ? vae_init_normal(*t, mean, sd, rng, err) : vae_init_constant(*t, mean, err);
}

static vae_status iaf_init(vae_net *net, vae__family *f, vae_rng *rng, vae_error *err) {
    int64_t Z = net->cfg.z_dim, C = f->ctx_dim, H = f->made_hidden, K = f->nflow;
    size_t per = (size_t)(Z * H + H * 2 * Z), esz = net->cfg.dtype == VAE_F64 ? 8 : 4;
    f->iaf = calloc((size_t)(3 * K), sizeof *f->iaf);
    f->masks = malloc(sizeof(double) * per * (size_t)K);
    f->masks_dt = malloc(esz * per * (size_t)K);
    if (!f->iaf || !f->masks || !f->masks_dt)
        return vae_error_set(err, VAE_ERR_OOM, "vae_net: out of memory for the flow");
    for (int64_t t = 0; t < K; t++) {
        static const char *const part[3] = {"in", "ctx", "out"};
        const int64_t in[3] = {Z, C, H}, out[3] = {H, H, 2 * Z};
        for (int p = 0; p < 3; p++) {
            char name[64];
            snprintf(name, sizeof name, "enc.flow.%lld.%s", (long long)t, part[p]);
            vae_linear *l = &f->iaf[3 * t + p];
            vae_status s = vae_linear_init(l, net->params, name, in[p], out[p], p != 1, err);
            if (!s) s = vae_init_linear_default(l->w, l->b, rng, err);
            if (s) return s;
        }
        /* s starts near +2 (sigma ~ 0.88): each step starts close to the identity, as the paper advises */
        vae_tensor *bo = f->iaf[3 * t + 2].b;
        for (int64_t i = Z; i < 2 * Z; i++) vae_set_flat(bo, i, 2.0);
        double *m = f->masks + per * (size_t)t;
        vae_made_masks(Z, H, (int)(t % 2), m, m + Z * H); /* odd steps reverse the order */
    }
    for (size_t i = 0; i < per * (size_t)K; i++) {
        if (esz == 8)
            ((double *)f->masks_dt)[i] = f->masks[i];
        else
            ((float *)f->masks_dt)[i] = (float)f->masks[i];
    }
    return VAE_OK;
}

vae_status vae__family_init(vae_net *net, vae_rng *rng, vae_error *err) {
    const vae_net_cfg *c = &net->cfg;
    vae_flow_kind fk;
    vae_prior_kind pk;
    int nf, np;
    vae_status s = vae_net_family_check(c, VAE_EST_REPARAM, err);
    if (!s) s = vae_flow_spec_parse(c->flow, &fk, &nf, err);
    if (!s) s = vae_prior_spec_parse(c->prior, &pk, &np, err);
    if (s || (fk == VAE_FLOW_NONE && pk == VAE_PRIOR_STD_NORMAL)) return s;
    vae__family *f = calloc(1, sizeof *f);
    if (!f) return vae_error_set(err, VAE_ERR_OOM, "vae_net: out of memory");
    net->family = f; /* vae_net_free releases it on a later failure */
    *f = (vae__family){.flow = fk, .nflow = nf, .prior = pk, .nprior = np, .ctx_dim = ctx_dim(c)};
    f->made_hidden = c->nhidden ? c->hidden[c->nhidden - 1] : 2 * c->z_dim;
    int64_t Z = c->z_dim;
    if (fk == VAE_FLOW_PLANAR) {
        s = vae_linear_init(&f->amort, net->params, "enc.flow.amort", f->ctx_dim, nf * (2 * Z + 1),
                            1, err);
        if (!s) s = vae_init_linear_default(f->amort.w, f->amort.b, rng, err);
    } else if (fk == VAE_FLOW_IAF)
        s = iaf_init(net, f, rng, err);
    if (!s && pk == VAE_PRIOR_MOG) {
        s = add_param(net, &f->mog_mean, "prior.mog.mean", np, Z, 0, 1, rng, err);
        if (!s) s = add_param(net, &f->mog_logvar, "prior.mog.logvar", np, Z, 0, 0, rng, err);
        if (!s) s = add_param(net, &f->mog_logits, "prior.mog.logits", np, 0, 0, 0, rng, err);
    } else if (!s && pk == VAE_PRIOR_VAMP)
        s = add_param(net, &f->vamp_u, "prior.vamp.u", np, c->x_dim, 0.05, 0.01, rng, err);
    return s;
}

void vae__family_free(vae__family *f) {
    if (!f) return;
    free(f->iaf);
    free(f->masks);
    free(f->masks_dt);
    free(f);
}

/* ---- the encoder ---- */

int vae__encoder_base(vae_ctx *ctx, const vae_net *net, vae_tensor *x, vae_tensor **mu,
                      vae_tensor **logvar, vae_tensor **h) {
    const vae_mlp *m = &net->enc;
    int64_t Z = net->cfg.z_dim;
    vae_tensor *t = x;
    for (int i = 0; i + 1 < m->nlayers; i++) t = vae_linear_forward(ctx, &m->layer[i], t, m->act);
    if (h) *h = t;
    vae_tensor *out = vae_linear_forward(ctx, &m->layer[m->nlayers - 1], t,
                                         vae_act_default(VAE_ACT_IDENTITY)); /* (B, 2Z) */
    *mu = vae_slice(ctx, out, -1, 0, Z, 1);
    *logvar = vae_slice(ctx, out, -1, Z, 2 * Z, 1);
    return *mu && *logvar ? 0 : -1;
}

/* ---- the flow posterior ---- */

typedef struct flow_entry {
    vae_tensor *z, *logq; /* z_K and log q(z_K|x) */
    int no_path; /* drawn with grad mode off (sample): log q has no path to the parameters */
    struct flow_entry *next;
} flow_entry;

typedef struct flow_q {
    vae_dist base; /* param[] = the base Normal's (loc, log-scale, scale): shape (B, Z) */
    vae_dist *q0;  /* N(mu, diag exp(logvar)) */
    const vae_net *net;
    vae_tensor *h;     /* (B, C) context */
    vae_tensor *amort; /* planar: (B, K (2Z + 1)) = [u_1 w_1 b_1 u_2 ...] */
    flow_entry *cache;
} flow_q;

/* z_0 (..., B, Z) -> z_K, with sum_k log|det| (..., B) in *ld */
static vae_tensor *push(vae_ctx *ctx, const flow_q *q, vae_tensor *z, vae_tensor **ld) {
    const vae__family *f = q->net->family;
    int64_t Z = q->net->cfg.z_dim, H = f->made_hidden, step = 2 * Z + 1;
    size_t per = (size_t)(Z * H + H * 2 * Z), esz = q->net->cfg.dtype == VAE_F64 ? 8 : 4;
    vae_tensor *sum = NULL;
    for (int k = 0; k < f->nflow && z; k++) {
        vae_tensor *ldk = NULL;
        if (f->flow == VAE_FLOW_PLANAR) {
            int64_t o = k * step;
            z = vae_planar_flow(ctx, z, vae_slice(ctx, q->amort, -1, o, o + Z, 1),
                                vae_slice(ctx, q->amort, -1, o + Z, o + 2 * Z, 1),
                                vae_slice(ctx, q->amort, -1, o + 2 * Z, o + step, 1), &ldk);
        } else {
            char *m = (char *)f->masks_dt + esz * per * (size_t)k;
            const vae_linear *l = &f->iaf[3 * k];
            vae_made made = {
                l[0].w,
                l[0].b,
                l[1].w,
                l[2].w,
                l[2].b,
                vae_wrap(ctx, q->net->cfg.dtype, VAE_SHAPE(Z, H), m),
                vae_wrap(ctx, q->net->cfg.dtype, VAE_SHAPE(H, 2 * Z), m + esz * (size_t)(Z * H)),
                {q->net->cfg.act, q->net->cfg.act_alpha}};
            z = vae_iaf_step(ctx, &made, z, q->h, &ldk);
        }
        sum = sum ? vae_add(ctx, sum, ldk) : ldk;
    }
    *ld = sum;
    return z;
}

static vae_tensor *flow_rsample(vae_ctx *ctx, vae_dist *d, int64_t k) {
    flow_q *q = (flow_q *)d;
    vae_tensor *z0 = vae_dist_rsample(ctx, q->q0, k), *ld = NULL;
    vae_tensor *lq0 = vae_dist_log_prob(ctx, q->q0, z0);
    vae_tensor *z = push(ctx, q, z0, &ld);
    vae_tensor *logq = vae_sub(ctx, lq0, ld);
    flow_entry *e =
        logq ? vae_arena_alloc(vae_ctx_arena(ctx), sizeof *e, vae_ctx_error(ctx)) : NULL;
    if (!e) return NULL;
    *e = (flow_entry){z, logq, !vae_grad_enabled(ctx), q->cache};
    q->cache = e;
    d->eps = q->q0->eps;
    return z;
}

static vae_tensor *flow_log_prob(vae_ctx *ctx, const vae_dist *d, vae_tensor *x) {
    const flow_q *q = (const flow_q *)d;
    for (const flow_entry *e = q->cache; e; e = e->next) {
        if (e->z != x) continue;
        if (e->no_path && vae_grad_enabled(ctx)) {
            vae_error_set(
                vae_ctx_error(ctx), VAE_ERR_UNSUPPORTED,
                "flow posterior: log_prob with gradients at a z drawn by sample (no path): the "
                "score function's grad log q(z|x) at a fixed z needs the flow's inverse (not "
                "available); use rsample (the reparam estimator)");
            return NULL;
        }
        return e->logq;
    }
    char b[160];
    vae_error_set(
        vae_ctx_error(ctx), VAE_ERR_UNSUPPORTED,
        "flow posterior: log_prob at a z %s it did not draw: the density at a given z needs the "
        "flow's inverse (not available); evaluate log q at the tensor rsample/sample returned",
        vae_shape_str(b, sizeof b, x->ndim, x->shape));
    return NULL;
}

static vae_dist *flow_detached(vae_ctx *ctx, const vae_dist *d) {
    (void)d;
    vae_error_set(
        vae_ctx_error(ctx), VAE_ERR_UNSUPPORTED,
        "flow posterior: log q with detached parameters (the stl and dreg estimators) needs the "
        "flow's inverse (not available); use the reparam estimator");
    return NULL;
}

const vae_dist_ops vae_flow_posterior_ops = {
    .name = "flow_posterior",
    .log_prob = flow_log_prob,
    .sample = flow_rsample, /* the wrapper's no-grad scope cuts the path */
    .rsample = flow_rsample,
    .detached = flow_detached,
};

vae_dist *vae__family_encode(vae_ctx *ctx, vae_net *net, vae_tensor *x, vae_tensor **mu_out,
                             vae_tensor **lv_out) {
    vae_tensor *mu, *lv, *h;
    if (vae__encoder_base(ctx, net, x, &mu, &lv, &h)) return NULL;
    if (mu_out) *mu_out = mu;
    if (lv_out) *lv_out = lv;
    vae_dist *q0 = vae_normal_logvar(ctx, mu, lv);
    if (!q0 || net->family->flow == VAE_FLOW_NONE) return q0;
    flow_q *q = vae_arena_calloc(vae_ctx_arena(ctx), sizeof *q, vae_ctx_error(ctx));
    vae_dist *tmp = q ? vae_dist_new(ctx, &vae_flow_posterior_ops, 3, q0->param) : NULL;
    if (!tmp) return NULL;
    q->base = *tmp;
    q->q0 = q0;
    q->net = net;
    q->h = h;
    if (net->family->flow == VAE_FLOW_PLANAR &&
        !(q->amort =
              vae_linear_forward(ctx, &net->family->amort, h, vae_act_default(VAE_ACT_IDENTITY))))
        return NULL;
    return &q->base;
}

/* ---- drawing from the prior ---- */

vae_status vae_net_prior_draw(vae_ctx *ctx, vae_net *net, int64_t n, vae_rng *rng, float *z) {
    int64_t Z = vae_net_latent_dim(net);
    if (!net->cfg.z2_dim && (!net->family || net->family->prior == VAE_PRIOR_STD_NORMAL)) {
        for (int64_t i = 0; i < n * Z; i++) z[i] = (float)vae_rng_normal(rng);
        return VAE_OK;
    }
    vae_ctx_reset(ctx);
    int prev = vae_set_grad_enabled(ctx, 0);
    vae_rng *cr = vae_ctx_rng(ctx), saved = *cr;
    *cr = *rng;
    vae_tensor *s = vae_dist_sample(ctx, vae_net_prior(ctx, net), n); /* (n, Z) */
    for (int64_t i = 0; s && i < n * Z; i++) z[i] = (float)vae_get_flat(s, i);
    *rng = *cr;
    *cr = saved;
    vae_set_grad_enabled(ctx, prev);
    vae_status st = s ? VAE_OK : vae_ctx_status(ctx);
    vae_ctx_reset(ctx);
    return st;
}
