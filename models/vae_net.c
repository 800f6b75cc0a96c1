#include "vae_net.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nn/init.h"

void vae_net_cfg_default(vae_net_cfg *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->x_dim = 784;
    cfg->z_dim = 20;
    cfg->nhidden = 1;
    cfg->hidden[0] = 400;
    cfg->act = VAE_ACT_RELU;
    cfg->act_alpha = 0.01;
    snprintf(cfg->likelihood, sizeof cfg->likelihood, "bernoulli");
    cfg->lik_opts[0] = 1.0;
    cfg->dtype = VAE_F32;
    cfg->init = VAE_INIT_PYTORCH;
    cfg->init_sigma = 0.01;
}

static vae_status add_layer(vae_net *net, const char *group, int i, int64_t in, int64_t out, vae_tensor **w,
                            vae_tensor **b, vae_error *err) {
    char name[64];
    snprintf(name, sizeof name, "%s.%d.weight", group, i);
    *w = vae_params_add(net->params, name, VAE_SHAPE(in, out), err);
    snprintf(name, sizeof name, "%s.%d.bias", group, i);
    *b = vae_params_add(net->params, name, VAE_SHAPE(out), err);
    return (*w && *b) ? VAE_OK : (err && err->code ? err->code : VAE_ERR_OOM);
}

static vae_status init_layer(const vae_net_cfg *cfg, vae_tensor *w, vae_tensor *b, vae_rng *rng, vae_error *err) {
    switch (cfg->init) {
    case VAE_INIT_XAVIER:
        if (vae_init_xavier_uniform(w, 1.0, rng, err)) return err->code;
        return vae_init_constant(b, 0.0, err);
    case VAE_INIT_NORMAL:
        if (vae_init_normal(w, 0.0, cfg->init_sigma, rng, err)) return err->code;
        return vae_init_normal(b, 0.0, cfg->init_sigma, rng, err);
    default: return vae_init_linear_default(w, b, rng, err);
    }
}

vae_status vae_net_init(vae_net *net, const vae_net_cfg *cfg, vae_rng *rng, vae_error *err) {
    memset(net, 0, sizeof *net);
    if (cfg->x_dim < 1 || cfg->z_dim < 1 || cfg->nhidden < 0 || cfg->nhidden > VAE_NET_MAX_HIDDEN)
        return vae_error_set(err, VAE_ERR_ARG, "vae_net: bad sizes (x_dim %lld, z_dim %lld, %d hidden layers)",
                             (long long)cfg->x_dim, (long long)cfg->z_dim, cfg->nhidden);
    for (int i = 0; i < cfg->nhidden; i++)
        if (cfg->hidden[i] < 1)
            return vae_error_set(err, VAE_ERR_ARG, "vae_net: hidden layer %d has size %lld", i,
                                 (long long)cfg->hidden[i]);
    const vae_likelihood *lik = vae_likelihood_find(cfg->likelihood);
    if (!lik)
        return vae_error_set(err, VAE_ERR_ARG, "vae_net: unknown likelihood '%s'", cfg->likelihood);
    net->cfg = *cfg;
    net->lik = lik;
    net->params = vae_params_new(cfg->dtype);
    if (!net->params) return vae_error_set(err, VAE_ERR_OOM, "vae_net: out of memory");
    /* encoder: D -> h1 -> ... -> hn -> 2Z */
    int64_t in = cfg->x_dim;
    net->nenc = cfg->nhidden + 1;
    for (int i = 0; i < net->nenc; i++) {
        int64_t out = i < cfg->nhidden ? cfg->hidden[i] : 2 * cfg->z_dim;
        if (add_layer(net, "enc", i, in, out, &net->enc_w[i], &net->enc_b[i], err)) goto fail;
        in = out;
    }
    /* decoder: Z -> hn -> ... -> h1 -> D * params_per_dim */
    in = cfg->z_dim;
    net->ndec = cfg->nhidden + 1;
    for (int i = 0; i < net->ndec; i++) {
        int64_t out = i < cfg->nhidden ? cfg->hidden[cfg->nhidden - 1 - i] : cfg->x_dim * lik->params_per_dim;
        if (add_layer(net, "dec", i, in, out, &net->dec_w[i], &net->dec_b[i], err)) goto fail;
        in = out;
    }
    for (int i = 0; i < net->nenc; i++)
        if (init_layer(cfg, net->enc_w[i], net->enc_b[i], rng, err)) goto fail;
    for (int i = 0; i < net->ndec; i++)
        if (init_layer(cfg, net->dec_w[i], net->dec_b[i], rng, err)) goto fail;
    return VAE_OK;
fail:;
    vae_status s = err && err->code ? err->code : VAE_ERR_OOM;
    vae_net_free(net);
    return s;
}

void vae_net_free(vae_net *net) {
    if (!net) return;
    vae_params_free(net->params);
    memset(net, 0, sizeof *net);
}

void vae_net_init_output_bias(vae_net *net, const float *mean) {
    if (!net->params || !mean || net->lik->params_per_dim != 1) return;
    if (strcmp(net->lik->name, "bernoulli") && strcmp(net->lik->name, "cbernoulli")) return;
    vae_init_bias_logit_mean(net->dec_b[net->ndec - 1], mean, 1e-3, NULL);
}

/* Hidden layers with the configured activation, the last layer linear. */
static vae_tensor *mlp(vae_ctx *ctx, const vae_net *net, vae_tensor *const *w, vae_tensor *const *b, int n,
                       vae_tensor *h) {
    for (int i = 0; i < n; i++)
        h = vae_linear_act(ctx, h, w[i], b[i], i + 1 < n ? net->cfg.act : VAE_ACT_IDENTITY, net->cfg.act_alpha);
    return h;
}

vae_dist *vae_net_encode(vae_ctx *ctx, vae_net *net, vae_tensor *x) {
    int64_t Z = net->cfg.z_dim;
    vae_tensor *h = mlp(ctx, net, net->enc_w, net->enc_b, net->nenc, x); /* (B, 2Z) */
    vae_tensor *mu = vae_slice(ctx, h, -1, 0, Z, 1), *lv = vae_slice(ctx, h, -1, Z, 2 * Z, 1);
    if (!mu || !lv) return NULL;
    return vae_normal_logvar(ctx, mu, lv);
}

vae_dist *vae_net_decode(vae_ctx *ctx, vae_net *net, vae_tensor *z) {
    vae_tensor *out = mlp(ctx, net, net->dec_w, net->dec_b, net->ndec, z);
    if (!out) return NULL;
    return net->lik->make(ctx, out, net->cfg.lik_opts);
}

int64_t vae_net_group_numel(const vae_net *net, int decoder) {
    int64_t n = 0;
    int cnt = vae_params_count(net->params);
    for (int i = 0; i < cnt; i++) {
        vae_tensor *t = vae_params_get(net->params, i);
        if ((strncmp(t->name, "dec.", 4) == 0) == (decoder != 0)) n += vae_numel(t);
    }
    return n;
}
