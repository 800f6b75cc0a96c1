/* Full variational Bayes over the decoder's parameters (Kingma & Welling 2014, appendix F).
 *
 *   q(theta) = N(mu, diag sigma^2),  sigma = softplus(rho),   p(theta) = N(0, s^2 I)
 *   L(phi, mu, rho) = sum_{i=1..N} E_q(theta) ELBO(x_i; phi, theta) - KL( q(theta) || p(theta) )
 *   minibatch of M:  loss = -(N/M) sum_b ELBO(x_b; theta) + KL,   theta = mu + sigma * zeta, zeta ~ N(0, I)
 *                    drawn once per minibatch; with the batch-mean loss the KL enters as KL / N.
 *   KL = sum_j [ log(s / sigma_j) + (sigma_j^2 + mu_j^2) / (2 s^2) - 1/2 ]            (closed form)
 * Local reparameterization (Kingma, Salimans & Welling 2015): for a layer h (..., in) -> a (..., out),
 *   a = h mu_W + mu_b + sqrt( h^2 sigma_W^2 + sigma_b^2 ) * eps,  eps ~ N(0, I) per datum and unit,
 * the same marginal for each a as theta-sampling, with less gradient variance.
 * mu is the plain decoder's "dec.<i>.weight"/"dec.<i>.bias"; rho is "dec.<i>.weight_rho"/"dec.<i>.bias_rho".
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/numeric_internal.h"
#include "models/bayes_decoder.h"
#include "models/vae_net_internal.h"
#include "nn/init.h"

struct vae_bayes {
    int nlayers;
    vae_tensor *rho_w[VAE_MLP_MAX_LAYERS],
        *rho_b[VAE_MLP_MAX_LAYERS];                                /* parameters, like w and b */
    void *zeta_w[VAE_MLP_MAX_LAYERS], *zeta_b[VAE_MLP_MAX_LAYERS]; /* noise, the net's dtype */
    vae_weight_mode mode;
    int64_t n_data;
};

void vae__bayes_free(vae_net *net) {
    if (!net || !net->bayes) return;
    for (int i = 0; i < net->bayes->nlayers; i++)
        free(net->bayes->zeta_w[i]), free(net->bayes->zeta_b[i]);
    free(net->bayes);
    net->bayes = NULL;
}

vae_status vae__bayes_init(vae_net *net, vae_error *err) {
    double s = net->cfg.prior_scale;
    if (!(s >= 0 && s <= 1e6))
        return vae_error_set(err, VAE_ERR_ARG, "vae_net: prior scale %g is out of range (0, 1e6]",
                             s);
    vae_bayes *b = calloc(1, sizeof *b);
    if (!b) return vae_error_set(err, VAE_ERR_OOM, "vae_net: out of memory");
    net->bayes = b;
    size_t esz = net->cfg.dtype == VAE_F64 ? sizeof(double) : sizeof(float);
    double rho0 = log(expm1(VAE__BAYES_SIGMA0)); /* softplus(rho0) = sigma0 */
    for (int i = 0; i < net->dec.nlayers; i++) {
        const vae_linear *l = &net->dec.layer[i];
        char name[64];
        snprintf(name, sizeof name, "dec.%d.weight_rho", i);
        b->rho_w[i] = vae_params_add(net->params, name, 2, (int64_t[]){l->in, l->out}, err);
        snprintf(name, sizeof name, "dec.%d.bias_rho", i);
        b->rho_b[i] = b->rho_w[i] ? vae_params_add(net->params, name, 1, &l->out, err) : NULL;
        b->zeta_w[i] = calloc((size_t)(l->in * l->out), esz);
        b->zeta_b[i] = calloc((size_t)l->out, esz);
        b->nlayers = i + 1;
        if (!b->rho_b[i]) return err && err->code ? err->code : VAE_ERR_OOM;
        if (!b->zeta_w[i] || !b->zeta_b[i])
            return vae_error_set(err, VAE_ERR_OOM, "vae_net: out of memory");
        if (vae_init_constant(b->rho_w[i], rho0, err) || vae_init_constant(b->rho_b[i], rho0, err))
            return err->code;
    }
    return VAE_OK;
}

static void fill_normal(void *buf, int64_t n, vae_dtype dt, vae_rng *rng) {
    for (int64_t j = 0; j < n; j++) {
        double v = vae_rng_normal(rng);
        if (dt == VAE_F64)
            ((double *)buf)[j] = v;
        else
            ((float *)buf)[j] = (float)v;
    }
}

void vae_net_resample_weights(vae_net *net, vae_rng *rng) {
    if (!net || !net->bayes || !rng) return;
    vae_bayes *b = net->bayes;
    for (int i = 0; i < b->nlayers; i++) {
        const vae_linear *l = &net->dec.layer[i];
        fill_normal(b->zeta_w[i], l->in * l->out, net->cfg.dtype, rng);
        fill_normal(b->zeta_b[i], l->out, net->cfg.dtype, rng);
    }
    b->mode = VAE_WEIGHTS_SAMPLE;
}

void vae_net_set_weight_mode(vae_net *net, vae_weight_mode mode) {
    if (net && net->bayes && (mode == VAE_WEIGHTS_MEAN || mode == VAE_WEIGHTS_LOCAL))
        net->bayes->mode = mode;
}

void vae_net_set_data_size(vae_net *net, int64_t n) {
    if (net && net->bayes && n >= 0) net->bayes->n_data = n;
}

/* theta = mu + softplus(rho) * zeta for one parameter */
static vae_tensor *draw(vae_ctx *ctx, vae_tensor *mu, vae_tensor *rho, vae_tensor *zeta) {
    return vae_add(ctx, mu, vae_mul(ctx, vae_softplus(ctx, rho), zeta));
}

vae_tensor *vae_bayes_linear(vae_ctx *ctx, vae_tensor *h, vae_tensor *mu_w, vae_tensor *mu_b,
                             vae_tensor *rho_w, vae_tensor *rho_b, vae_tensor *zeta_w,
                             vae_tensor *zeta_b, vae_activation act) {
    if (!ctx || !h || !mu_w || !mu_b || !rho_w || !rho_b) return NULL;
    if (!zeta_w != !zeta_b) {
        vae_error_set(vae_ctx_error(ctx), VAE_ERR_ARG,
                      "bayes_linear: give both zeta_w and zeta_b, or neither");
        return NULL;
    }
    if (zeta_w) /* one theta for the batch */
        return vae_linear_act(ctx, h, draw(ctx, mu_w, rho_w, zeta_w),
                              draw(ctx, mu_b, rho_b, zeta_b), act.kind, act.alpha);
    /* local: a ~ N(h mu_W + mu_b, h^2 sigma_W^2 + sigma_b^2), (..., out) */
    vae_tensor *mean = vae_linear_act(ctx, h, mu_w, mu_b, VAE_ACT_IDENTITY, 1.0);
    vae_tensor *var =
        vae_linear_act(ctx, vae_square(ctx, h), vae_square(ctx, vae_softplus(ctx, rho_w)),
                       vae_square(ctx, vae_softplus(ctx, rho_b)), VAE_ACT_IDENTITY, 1.0);
    vae_tensor *eps = mean ? vae_randn(ctx, mean->dtype, mean->ndim, mean->shape) : NULL;
    return vae_act_apply(ctx, vae_add(ctx, mean, vae_mul(ctx, vae_sqrt(ctx, var), eps)), act);
}

vae_tensor *vae__bayes_forward(vae_ctx *ctx, vae_net *net, vae_tensor *h) {
    const vae_bayes *b = net->bayes;
    const vae_mlp *m = &net->dec;
    for (int i = 0; i < m->nlayers && h; i++) {
        const vae_linear *l = &m->layer[i];
        vae_activation act = i == m->nlayers - 1 ? vae_act_default(VAE_ACT_IDENTITY) : m->act;
        if (b->mode == VAE_WEIGHTS_MEAN)
            h = vae_linear_act(ctx, h, l->w, l->b, act.kind, act.alpha);
        else if (b->mode == VAE_WEIGHTS_SAMPLE)
            h = vae_bayes_linear(ctx, h, l->w, l->b, b->rho_w[i], b->rho_b[i],
                                 vae_wrap(ctx, l->w->dtype, l->w->ndim, l->w->shape, b->zeta_w[i]),
                                 vae_wrap(ctx, l->b->dtype, l->b->ndim, l->b->shape, b->zeta_b[i]),
                                 act);
        else
            h = vae_bayes_linear(ctx, h, l->w, l->b, b->rho_w[i], b->rho_b[i], NULL, NULL, act);
    }
    return h;
}

vae_tensor *vae_bayes_kl(vae_ctx *ctx, vae_tensor *mu, vae_tensor *rho, double s) {
    if (!ctx || !mu || !rho) return NULL;
    if (!(s > 0) || !isfinite(s)) {
        vae_error_set(vae_ctx_error(ctx), VAE_ERR_ARG, "bayes_kl: prior scale %g must be > 0", s);
        return NULL;
    }
    if (vae_numel(mu) != vae_numel(rho) || mu->ndim != rho->ndim) {
        vae_error_set(vae_ctx_error(ctx), VAE_ERR_SHAPE, "bayes_kl: mu and rho differ in shape");
        return NULL;
    }
    vae_tensor *sig = vae_softplus(ctx, rho);
    vae_tensor *quad = vae_mul_scalar(ctx, vae_add(ctx, vae_square(ctx, sig), vae_square(ctx, mu)),
                                      1.0 / (2 * s * s));
    vae_tensor *t = vae_sum_all(ctx, vae_sub(ctx, quad, vae_log(ctx, sig)));
    return vae_add_scalar(ctx, t, (double)vae_numel(mu) * (log(s) - 0.5));
}

vae_tensor *vae_net_weight_kl(vae_ctx *ctx, vae_net *net) {
    if (!ctx || !net) return NULL;
    if (!net->bayes) return vae_scalar(ctx, net->cfg.dtype, 0.0);
    double s = net->cfg.prior_scale > 0 ? net->cfg.prior_scale : 1.0;
    vae_tensor *kl = NULL;
    for (int i = 0; i < net->bayes->nlayers; i++) {
        const vae_linear *l = &net->dec.layer[i];
        vae_tensor *t = vae_add(ctx, vae_bayes_kl(ctx, l->w, net->bayes->rho_w[i], s),
                                vae_bayes_kl(ctx, l->b, net->bayes->rho_b[i], s));
        kl = kl ? vae_add(ctx, kl, t) : t;
    }
    return kl;
}

vae_weight_mode vae__bayes_begin(vae_ctx *ctx, vae_net *net) {
    vae_weight_mode prev = net->bayes->mode;
    if (net->cfg.local_reparam)
        net->bayes->mode = VAE_WEIGHTS_LOCAL;
    else
        vae_net_resample_weights(net, vae_ctx_rng(ctx));
    return prev;
}

vae_status vae__bayes_end(vae_ctx *ctx, vae_net *net, const vae_objective_cfg *cfg,
                          vae_weight_mode restore, vae_objective_out *o) {
    net->bayes->mode = restore;
    /* KL / N here; the N/M scaling that follows (data_size = N) makes it the whole KL */
    double N = cfg->data_size > 0 ? cfg->data_size : (double)net->bayes->n_data;
    if (!(N > 0))
        return vae_error_set(vae_ctx_error(ctx), VAE_ERR_ARG,
                             "full VB decoder: the parameter KL needs the training set's size "
                             "(vae_net_set_data_size, or the N/M scaling)");
    vae_tensor *kl = vae_net_weight_kl(ctx, net);
    o->loss = vae_add(ctx, o->loss, vae_mul_scalar(ctx, kl, 1.0 / N));
    if (!o->loss) return vae_ctx_status(ctx);
    vae_objective_out_log(o, "weight_kl", vae_item(kl) / N);
    return VAE_OK;
}

vae_status vae__bayes_evaluate(vae_ctx *ctx, vae_net *net, const float *x, int64_t n,
                               const vae_eval_cfg *cfg, vae_eval_result *res, double *ex_elbo,
                               double *ex_loglik, double *ex_loglik_se) {
    memset(res, 0, sizeof *res);
    int64_t S = cfg->weight_samples;
    vae_eval_cfg one = *cfg;
    one.weight_samples = 0;
    double *ll = malloc(sizeof(double) * (size_t)n * 4), *el = ll + n, *acc = ll + 2 * n,
           *esum = ll + 3 * n;
    if (!ll || n < 1) {
        free(ll);
        return vae_error_set(vae_ctx_error(ctx), n < 1 ? VAE_ERR_ARG : VAE_ERR_OOM, "evaluate: %s",
                             n < 1 ? "no examples" : "out of memory");
    }
    for (int64_t i = 0; i < n; i++) acc[i] = -INFINITY, esum[i] = 0;
    vae_weight_mode prev = net->bayes->mode;
    double rec = 0, kl = 0;
    vae_status st = VAE_OK;
    for (int64_t s = 0; s < S && !st; s++) {
        vae_net_resample_weights(net, vae_ctx_rng(ctx));
        vae_eval_result r;
        if ((st = vae_evaluate_ex(ctx, net, x, n, &one, &r, el, ll, NULL))) break;
        rec += r.rec / (double)S, kl += r.kl / (double)S;
        for (int64_t i = 0; i < n; i++)
            acc[i] = vae__logaddexp(acc[i], ll[i]), esum[i] += el[i] / (double)S;
        if (s == 0) /* the encoder is not Bayesian: its statistics are the same for every draw */
            *res = r;
        else
            vae_eval_result_free(&r);
    }
    net->bayes->mode = prev;
    if (st) {
        vae_eval_result_free(res);
        memset(res, 0, sizeof *res);
        free(ll);
        return st;
    }
    double s1 = 0, s2 = 0, e1 = 0, e2 = 0;
    for (int64_t i = 0; i < n; i++) {
        double l = acc[i] - log((double)S); /* log (1/S) sum_s p^(x | theta_s) */
        s1 += l, s2 += l * l, e1 += esum[i], e2 += esum[i] * esum[i];
        if (ex_loglik) ex_loglik[i] = cfg->is_samples > 0 ? l : NAN;
        if (ex_elbo) ex_elbo[i] = esum[i];
        if (ex_loglik_se) ex_loglik_se[i] = NAN;
    }
    double m = (double)n;
    res->loglik = cfg->is_samples > 0 ? s1 / m : NAN;
    res->loglik_se =
        cfg->is_samples > 0 && n > 1 ? sqrt(fmax(s2 - s1 * s1 / m, 0) / (m - 1) / m) : NAN;
    res->elbo = e1 / m;
    res->elbo_se = n > 1 ? sqrt(fmax(e2 - e1 * e1 / m, 0) / (m - 1) / m) : NAN;
    res->rec = rec, res->kl = kl;
    free(ll);
    return VAE_OK;
}
