/* Two stochastic layers (Burda et al. 2016, section 5; their MNIST model 784-100-100-(100)-50-50-(50), tanh):
 *
 *   generative  p(x, z1, z2) = p(z2) p(z1|z2) p(x|z1)
 *               p(z2) = N(0, I),  p(z1|z2) = N(mu_p(z2), diag exp lv_p(z2)),  p(x|z1) = the likelihood
 *   inference   q(z1, z2|x) = q(z1|x) q(z2|z1)
 *               q(z1|x) = N(mu1(x), diag exp lv1(x)),  q(z2|z1) = N(mu2(z1), diag exp lv2(z1))
 *
 * Every objective and estimator runs unchanged on one latent z = concat(z1, z2) (..., Z + Z2):
 *   log q(z|x) = log q(z1|x) + log q(z2|z1),   log p(z) = log p(z2) + log p(z1|z2),
 *   rsample: z1 = mu1 + s1 e1, then z2 = mu2(z1) + s2(z1) e2 (the path reaches phi through both layers).
 * STL and DReG need log q with the variational parameters stopped but z's path kept (Roeder et al. 2017): the
 * detached q evaluates q(z1|x) at detached (mu1, lv1) and q(z2|z1) by re-running its MLP on the live z1 with
 * detached weights, so d log q / d phi flows only through z = (z1, z2(z1)).
 * MLPs: x -> hidden -> 2Z (net->enc), z1 -> hidden2 -> 2 Z2 (net->enc2); z2 -> hidden2 reversed -> 2Z
 * (net->dec2), z1 -> hidden reversed -> D * P (net->dec); each head is (mean | log-variance).
 */
#include "models/vae_net_hier.h"

#include <string.h>

#include "models/dist_builtin.h"

/* ---- the hierarchical distribution over z = concat(z1, z2) ---- */

typedef struct hier_dist {
    vae_dist
        base; /* param[0]: zeros of the full shape (batch..., Z + Z2), what the wrappers check z against */
    const vae_mlp
        *mlp; /* the conditional layer: q(z2|z1) (enc2) for q, p(z1|z2) (dec2) for the prior */
    vae_dist
        *top; /* the layer drawn first: q(z1|x) (B, Z) for q, p(z2) = N(0, I) (Z2) for the prior */
    int64_t Z, Z2;
    int prior;    /* 0: q, top = z1 = z[..., :Z]; 1: prior, top = z2 = z[..., Z:] */
    int detached; /* 1: the conditional MLP runs on detached weights */
} hier_dist;

static const vae_dist_ops hier_q_ops, hier_prior_ops;

/* N(loc, exp(lv)) from a head h (..., 2E): loc = h[..., :E], lv = h[..., E:] */
static vae_dist *gauss_head(vae_ctx *ctx, vae_tensor *h, int64_t E) {
    return vae_normal_logvar(ctx, vae_slice(ctx, h, -1, 0, E, 1),
                             vae_slice(ctx, h, -1, E, 2 * E, 1));
}

/* m(in), with m's weights detached when det: the output then reaches the parameters only through `in` */
static vae_tensor *mlp_run(vae_ctx *ctx, const vae_mlp *m, vae_tensor *in, int det) {
    if (!det) return vae_mlp_forward(ctx, m, in);
    vae_mlp d = *m;
    for (int i = 0; i < d.nlayers; i++) {
        d.layer[i].w = vae_detach(ctx, m->layer[i].w);
        d.layer[i].b = m->layer[i].b ? vae_detach(ctx, m->layer[i].b) : NULL;
        if (!d.layer[i].w) return NULL;
    }
    return vae_mlp_forward(ctx, &d, in);
}

/* the top layer's and the conditional layer's slices of z (..., Z + Z2) */
static void split(vae_ctx *ctx, const hier_dist *h, vae_tensor *z, vae_tensor **top,
                  vae_tensor **cond) {
    vae_tensor *z1 = vae_slice(ctx, z, -1, 0, h->Z, 1),
               *z2 = vae_slice(ctx, z, -1, h->Z, h->Z + h->Z2, 1);
    *top = h->prior ? z2 : z1;
    *cond = h->prior ? z1 : z2;
}

/* the conditional layer's distribution given the top layer's value t (..., Et) */
static vae_dist *cond_dist(vae_ctx *ctx, const hier_dist *h, vae_tensor *t) {
    return gauss_head(ctx, mlp_run(ctx, h->mlp, t, h->detached), h->prior ? h->Z : h->Z2);
}

/* log-densities of z's two layers: summed over their units (event 1, each (...)), or per unit (event 0,
 * (..., Et) and (..., Ec)); *lt for the top layer, *lc for the conditional one */
static void layer_log_probs(vae_ctx *ctx, const hier_dist *h, vae_tensor *z, int per_unit,
                            vae_tensor **lt, vae_tensor **lc) {
    vae_tensor *t, *c;
    split(ctx, h, z, &t, &c);
    vae_dist *dc = cond_dist(ctx, h, t);
    vae_dist top = *h->top; /* a shallow copy whose event we may change */
    if (per_unit && dc) top.event_ndim = 0, dc->event_ndim = 0;
    *lt = vae_dist_log_prob(ctx, &top, t);
    *lc = vae_dist_log_prob(ctx, dc, c);
}

static vae_tensor *hier_log_prob(vae_ctx *ctx, const vae_dist *d, vae_tensor *z) {
    vae_tensor *lt, *lc;
    layer_log_probs(ctx, (const hier_dist *)d, z, 0, &lt, &lc);
    return vae_add(ctx, lt, lc);
}

/* top ~ its layer, then cond ~ p(cond | top); z and eps put back in z's order (z1, z2) */
static vae_tensor *hier_rsample(vae_ctx *ctx, vae_dist *d, int64_t k) {
    hier_dist *h = (hier_dist *)d;
    vae_tensor *t = vae_dist_rsample(ctx, h->top, k); /* (k, batch..., Et) */
    vae_dist *dc = cond_dist(ctx, h, t);
    vae_tensor *c = vae_dist_rsample(ctx, dc, 0); /* (k, batch..., Ec) */
    if (!c) return NULL;
    vae_tensor *z[2] = {h->prior ? c : t, h->prior ? t : c},
               *e[2] = {h->prior ? dc->eps : h->top->eps, h->prior ? h->top->eps : dc->eps};
    vae_tensor *zz = vae_concat(ctx, 2, z, -1);
    d->eps = zz ? vae_concat(ctx, 2, e, -1) : NULL; /* (k, batch..., Z + Z2) */
    return zz;
}

static vae_dist *hier_detached(vae_ctx *ctx, const vae_dist *d) {
    const hier_dist *h = (const hier_dist *)d;
    hier_dist *c = vae_arena_alloc(vae_ctx_arena(ctx), sizeof *c, vae_ctx_error(ctx));
    if (!c) return NULL;
    *c = *h;
    c->detached = 1;
    c->top = vae_dist_detached(ctx, h->top);
    return c->top ? &c->base : NULL;
}

static const vae_dist_ops hier_q_ops = {
    .name = "hier_normal",
    .log_prob = hier_log_prob,
    .sample = NULL, /* rsample under the wrapper's no-grad scope */
    .rsample = hier_rsample,
    .detached = hier_detached,
};
static const vae_dist_ops hier_prior_ops = {
    .name = "hier_prior",
    .log_prob = hier_log_prob,
    .rsample = hier_rsample,
    .detached = hier_detached,
};

/* A hierarchical distribution of full shape (batch..., Z + Z2) given by ref's shape with its last dim widened */
static vae_dist *hier_new(vae_ctx *ctx, const vae_net *net, vae_dist *top, const vae_tensor *ref,
                          int prior) {
    if (!top || !ref) return NULL;
    int64_t shape[VAE_MAX_DIMS];
    memcpy(shape, ref->shape, sizeof(int64_t) * (size_t)ref->ndim);
    shape[ref->ndim - 1] = net->cfg.z_dim + net->cfg.z2_dim;
    vae_tensor *zeros = vae_expand(ctx, vae_scalar(ctx, net->cfg.dtype, 0.0), ref->ndim, shape);
    vae_dist *b =
        zeros ? vae_dist_new(ctx, prior ? &hier_prior_ops : &hier_q_ops, 1, &zeros) : NULL;
    hier_dist *h = b ? vae_arena_calloc(vae_ctx_arena(ctx), sizeof *h, vae_ctx_error(ctx)) : NULL;
    if (!h) return NULL;
    h->base = *b;
    h->mlp = prior ? &net->dec2 : &net->enc2;
    h->top = top;
    h->Z = net->cfg.z_dim, h->Z2 = net->cfg.z2_dim;
    h->prior = prior;
    return &h->base;
}

/* ---- the hooks ---- */

vae_status vae__hier_init(vae_net *net, vae_rng *rng, vae_error *err) {
    const vae_net_cfg *c = &net->cfg;
    if (c->z2_dim < 1 || c->z2_dim > INT64_MAX / 4 || c->nhidden2 < 0 ||
        c->nhidden2 > VAE_NET_MAX_HIDDEN)
        return vae_error_set(err, VAE_ERR_ARG,
                             "vae_net: bad second stochastic layer (z2_dim %lld, %d hidden)",
                             (long long)c->z2_dim, c->nhidden2);
    for (int i = 0; i < c->nhidden2; i++)
        if (c->hidden2[i] < 1)
            return vae_error_set(err, VAE_ERR_ARG, "vae_net: hidden2 layer %d has size %lld", i,
                                 (long long)c->hidden2[i]);
    vae_activation act = {c->act, c->act_alpha};
    int64_t sizes[VAE_NET_MAX_HIDDEN + 2];
    int n = c->nhidden2 + 2;
    /* q(z2|z1): Z -> hidden2 -> 2 Z2 */
    sizes[0] = c->z_dim;
    for (int i = 0; i < c->nhidden2; i++) sizes[i + 1] = c->hidden2[i];
    sizes[n - 1] = 2 * c->z2_dim;
    if (vae_mlp_init(&net->enc2, net->params, "enc.z2", n, sizes, act, 0, err)) return err->code;
    /* p(z1|z2): Z2 -> hidden2 reversed -> 2 Z */
    sizes[0] = c->z2_dim;
    for (int i = 0; i < c->nhidden2; i++) sizes[i + 1] = c->hidden2[c->nhidden2 - 1 - i];
    sizes[n - 1] = 2 * c->z_dim;
    if (vae_mlp_init(&net->dec2, net->params, "dec.z1", n, sizes, act, 0, err)) return err->code;
    vae_status s = vae__net_init_layers(c, &net->enc2, rng, err);
    return s ? s : vae__net_init_layers(c, &net->dec2, rng, err);
}

vae_dist *vae__hier_encode(vae_ctx *ctx, vae_net *net, vae_tensor *x, vae_tensor **mu_out,
                           vae_tensor **lv_out) {
    int64_t Z = net->cfg.z_dim, Z2 = net->cfg.z2_dim;
    vae_tensor *h = vae_mlp_forward(ctx, &net->enc, x); /* (B, 2Z) */
    vae_tensor *mu = vae_slice(ctx, h, -1, 0, Z, 1), *lv = vae_slice(ctx, h, -1, Z, 2 * Z, 1);
    vae_dist *q = hier_new(ctx, net, vae_normal_logvar(ctx, mu, lv), mu, 0);
    if (!q) return NULL;
    if (mu_out || lv_out) {                                    /* the mean path: q(z2|z1 = mu1) */
        vae_tensor *h2 = vae_mlp_forward(ctx, &net->enc2, mu); /* (B, 2 Z2) */
        vae_tensor *m[2] = {mu, vae_slice(ctx, h2, -1, 0, Z2, 1)},
                   *v[2] = {lv, vae_slice(ctx, h2, -1, Z2, 2 * Z2, 1)};
        vae_tensor *mm = vae_concat(ctx, 2, m, -1), *vv = vae_concat(ctx, 2, v, -1);
        if (!mm || !vv) return NULL;
        if (mu_out) *mu_out = mm;
        if (lv_out) *lv_out = vv;
    }
    return q;
}

vae_dist *vae__hier_prior(vae_ctx *ctx, vae_net *net) {
    vae_dist *top = vae_std_normal(ctx, net->cfg.dtype, 1, &net->cfg.z2_dim);
    return hier_new(ctx, net, top, top ? top->param[0] : NULL, 1);
}

vae_tensor *vae__hier_z1(vae_ctx *ctx, const vae_net *net, vae_tensor *z) {
    if (!ctx || !z) return NULL;
    int64_t Z = net->cfg.z_dim, W = Z + net->cfg.z2_dim;
    if (z->ndim < 1 || z->shape[z->ndim - 1] != W) {
        char b[160];
        vae_error_set(
            vae_ctx_error(ctx), VAE_ERR_SHAPE,
            "decode: z %s: the two-layer model's latent is concat(z1, z2), last dim %lld + %lld",
            vae_shape_str(b, sizeof b, z->ndim, z->shape), (long long)Z,
            (long long)net->cfg.z2_dim);
        return NULL;
    }
    return vae_slice(ctx, z, -1, 0, Z, 1);
}

/* ---- evaluation ---- */

vae_status vae__hier_moments(vae_ctx *ctx, vae_net *net, vae_tensor *x, int64_t S,
                             vae_tensor **mean, vae_tensor **logvar) {
    int64_t Z = net->cfg.z_dim, Z2 = net->cfg.z2_dim;
    vae_tensor *h = vae_mlp_forward(ctx, &net->enc, x); /* (B, 2Z) */
    vae_tensor *mu = vae_slice(ctx, h, -1, 0, Z, 1), *lv = vae_slice(ctx, h, -1, Z, 2 * Z, 1);
    vae_tensor *z1 =
        vae_dist_sample(ctx, vae_normal_logvar(ctx, mu, lv), S > 0 ? S : 1); /* (S, B, Z) */
    vae_tensor *h2 = vae_mlp_forward(ctx, &net->enc2, z1);                   /* (S, B, 2 Z2) */
    vae_tensor *mu2 = vae_slice(ctx, h2, -1, 0, Z2, 1),
               *lv2 = vae_slice(ctx, h2, -1, Z2, 2 * Z2, 1);
    vae_tensor *m2 = vae_mean_axis(ctx, mu2, 0, 0); /* (B, Z2) */
    vae_tensor *spread = vae_mean_axis(ctx, vae_square(ctx, vae_sub(ctx, mu2, m2)), 0, 0);
    vae_tensor *v2 = vae_add(ctx, vae_mean_axis(ctx, vae_exp(ctx, lv2), 0, 0), spread);
    vae_tensor *m[2] = {mu, m2}, *v[2] = {lv, vae_log(ctx, v2)};
    vae_tensor *mm = vae_concat(ctx, 2, m, -1), *vv = vae_concat(ctx, 2, v, -1);
    if (!mm || !vv) return vae_ctx_status(ctx) ? vae_ctx_status(ctx) : VAE_ERR_NULL;
    if (mean) *mean = mm;
    if (logvar) *logvar = vv;
    return VAE_OK;
}

vae_tensor *vae__hier_log_ratio_units(vae_ctx *ctx, vae_net *net, const vae_dist *q,
                                      vae_tensor *z) {
    if (!ctx || !q || !z) return NULL;
    if (q->ops != &hier_q_ops) {
        vae_error_set(vae_ctx_error(ctx), VAE_ERR_ARG,
                      "hier: log ratio of a %s, not the two-layer posterior", vae_dist_name(q));
        return NULL;
    }
    const hier_dist *hq = (const hier_dist *)q, *hp = (const hier_dist *)vae__hier_prior(ctx, net);
    if (!hp) return NULL;
    vae_tensor *q1, *q2, *p2, *p1; /* per unit: q(z1|x), q(z2|z1), p(z2), p(z1|z2) */
    layer_log_probs(ctx, hq, z, 1, &q1, &q2);
    layer_log_probs(ctx, hp, z, 1, &p2, &p1);
    vae_tensor *r[2] = {vae_sub(ctx, q1, p1), vae_sub(ctx, q2, p2)}; /* (..., Z), (..., Z2) */
    return vae_concat(ctx, 2, r, -1);
}
