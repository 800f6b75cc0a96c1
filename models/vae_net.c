#include "vae_net.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "models/discrete_internal.h"
#include "models/flow_prior_internal.h"
#include "models/vae_net_hier.h"
#include "models/vae_net_internal.h"
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
    /* lik_opts all 0: each likelihood's own defaults */
    cfg->dtype = VAE_F32;
    cfg->init = VAE_INIT_PYTORCH;
    cfg->init_sigma = 0.01;
    snprintf(cfg->net, sizeof cfg->net, "mlp");
}

vae_status vae__net_init_layers(const vae_net_cfg *cfg, const vae_mlp *m, vae_rng *rng,
                                vae_error *err) {
    if (cfg->init == VAE_INIT_PYTORCH) return vae_mlp_reset(m, rng, err);
    for (int i = 0; i < m->nlayers; i++) {
        const vae_linear *l = &m->layer[i];
        vae_status s = cfg->init == VAE_INIT_XAVIER
                           ? vae_init_xavier_uniform(l->w, 1.0, rng, err)
                           : vae_init_normal(l->w, 0.0, cfg->init_sigma, rng, err);
        if (!s)
            s = cfg->init == VAE_INIT_XAVIER
                    ? vae_init_constant(l->b, 0.0, err)
                    : vae_init_normal(l->b, 0.0, cfg->init_sigma, rng, err);
        if (s) return s;
    }
    return VAE_OK;
}

vae_status vae_net_init(vae_net *net, const vae_net_cfg *cfg, vae_rng *rng, vae_error *err) {
    memset(net, 0, sizeof *net);
    if (cfg->x_dim < 1 || cfg->x_dim > INT64_MAX / VAE_LIK_MAX_PARAMS || cfg->z_dim < 1 ||
        cfg->nhidden < 0 || cfg->nhidden > VAE_NET_MAX_HIDDEN)
        return vae_error_set(err, VAE_ERR_ARG,
                             "vae_net: bad sizes (x_dim %lld, z_dim %lld, %d hidden layers)",
                             (long long)cfg->x_dim, (long long)cfg->z_dim, cfg->nhidden);
    for (int i = 0; i < cfg->nhidden; i++)
        if (cfg->hidden[i] < 1)
            return vae_error_set(err, VAE_ERR_ARG, "vae_net: hidden layer %d has size %lld", i,
                                 (long long)cfg->hidden[i]);
    if (cfg->nconv_hidden < 0 || cfg->nconv_hidden > VAE_NET_MAX_HIDDEN)
        return vae_error_set(err, VAE_ERR_ARG, "vae_net: %d conv_hidden layers (0..%d)",
                             cfg->nconv_hidden, VAE_NET_MAX_HIDDEN);
    for (int i = 0; i < cfg->nconv_hidden; i++)
        if (cfg->conv_hidden[i] < 1)
            return vae_error_set(err, VAE_ERR_ARG, "vae_net: conv_hidden layer %d has size %lld",
                                 i, (long long)cfg->conv_hidden[i]);
    if (cfg->nconv_hidden && !vae__net_is_conv(cfg))
        return vae_error_set(err, VAE_ERR_ARG, "vae_net: conv_hidden is for the conv net; an "
                                               "MLP's layers are hidden");
    if (vae__discrete_cfg_check(cfg, err)) return err ? err->code : VAE_ERR_ARG;
    const vae_likelihood *lik = vae_likelihood_find(cfg->likelihood);
    if (!lik)
        return vae_error_set(err, VAE_ERR_ARG, "vae_net: unknown likelihood '%s'", cfg->likelihood);
    if (cfg->net[0] && strcmp(cfg->net, "mlp") && !vae__net_is_conv(cfg))
        return vae_error_set(err, VAE_ERR_ARG, "vae_net: unknown net '%.16s' (mlp or conv)",
                             cfg->net);
    if (vae__net_is_conv(cfg) && (cfg->z2_dim || cfg->flow[0] || cfg->prior[0]))
        return vae_error_set(err, VAE_ERR_ARG,
                             "vae_net: the conv net has one Gaussian latent and N(0, I): not with %s",
                             cfg->z2_dim ? "two stochastic layers"
                             : cfg->flow[0] ? "a posterior flow"
                                            : "a learned prior");
    if ((cfg->n_classes || cfg->bayes_decoder) &&
        (vae__net_is_conv(cfg) || cfg->z2_dim || cfg->flow[0] || cfg->prior[0] ||
         cfg->latent_kind != VAE_LATENT_GAUSSIAN))
        return vae_error_set(err, VAE_ERR_ARG,
                             "vae_net: the %s takes the MLP net with one Gaussian latent: not with %s",
                             cfg->n_classes ? "conditional VAE" : "Bayesian decoder",
                             vae__net_is_conv(cfg) ? "the conv net"
                             : cfg->z2_dim         ? "two stochastic layers"
                             : cfg->flow[0]        ? "a posterior flow"
                             : cfg->prior[0]       ? "a learned prior"
                                                   : "discrete latents");
    net->cfg = *cfg;
    net->lik = lik;
    net->params = vae_params_new(cfg->dtype);
    if (!net->params) return vae_error_set(err, VAE_ERR_OOM, "vae_net: out of memory");
    if (vae__net_is_conv(cfg)) {
        if (vae__net_conv_init(net, rng, err)) goto fail;
        return VAE_OK;
    }
    int64_t sizes[VAE_NET_MAX_HIDDEN + 2];
    int n = cfg->nhidden + 2;
    vae_activation act = {cfg->act, cfg->act_alpha};
    /* encoder: D -> h1 -> ... -> hn -> 2Z (mu and log-variance side by side), or Z logits (discrete) */
    sizes[0] = cfg->x_dim + cfg->n_classes; /* a conditional encoder reads concat(x, onehot y) */
    for (int i = 0; i < cfg->nhidden; i++) sizes[i + 1] = cfg->hidden[i];
    sizes[n - 1] = cfg->latent_kind == VAE_LATENT_GAUSSIAN ? 2 * cfg->z_dim : cfg->z_dim;
    if (vae_mlp_init(&net->enc, net->params, "enc", n, sizes, act, 0, err)) goto fail;
    /* decoder: Z -> hn -> ... -> h1 -> D * params_per_dim */
    sizes[0] = cfg->z_dim + cfg->n_classes; /* ... and its decoder concat(z, onehot y) */
    for (int i = 0; i < cfg->nhidden; i++) sizes[i + 1] = cfg->hidden[cfg->nhidden - 1 - i];
    sizes[n - 1] = cfg->x_dim * lik->params_per_dim;
    if (vae_mlp_init(&net->dec, net->params, "dec", n, sizes, act, 0, err)) goto fail;
    if (vae__net_init_layers(cfg, &net->enc, rng, err) ||
        vae__net_init_layers(cfg, &net->dec, rng, err))
        goto fail;
    if (cfg->z2_dim && vae__hier_init(net, rng, err)) goto fail; /* two stochastic layers */
    if (vae__family_init(net, rng, err)) goto fail; /* flow / prior parameters, when cfg asks for them */
    if (cfg->baseline_hidden > 0 && vae__baseline_net_init(net, rng, err)) goto fail;
    if (cfg->n_classes && vae__cond_init(net, err)) goto fail;
    if (cfg->bayes_decoder && vae__bayes_init(net, err)) goto fail;
    return VAE_OK;
fail:;
    vae_status s = err && err->code ? err->code : VAE_ERR_OOM;
    vae_net_free(net);
    return s;
}

void vae_net_free(vae_net *net) {
    if (!net) return;
    vae__family_free(net->family);
    vae__bayes_free(net);
    vae_params_free(net->params);
    memset(net, 0, sizeof *net);
}

void vae_net_init_output_bias(vae_net *net, const float *mean) {
    if (!net->params || !mean || net->lik->params_per_dim != 1) return;
    if (strcmp(net->lik->name, "bernoulli") && strcmp(net->lik->name, "cbernoulli")) return;
    if (vae__net_is_conv(&net->cfg)) {
        vae__net_conv_init_output_bias(net, mean);
        return;
    }
    vae_init_bias_logit_mean(net->dec.layer[net->dec.nlayers - 1].b, mean, 1e-3, NULL);
}

vae_dist *vae_net_encode(vae_ctx *ctx, vae_net *net, vae_tensor *x, vae_tensor **mu_out,
                         vae_tensor **lv_out) {
    if (net->cfg.z2_dim) return vae__hier_encode(ctx, net, x, mu_out, lv_out);
    if (net->family) return vae__family_encode(ctx, net, x, mu_out, lv_out);
    int64_t Z = net->cfg.z_dim;
    if (net->cfg.n_classes) x = vae__cond_input(ctx, net, x);
    vae_tensor *h = vae__net_is_conv(&net->cfg) ? vae__net_conv_encode(ctx, net, x)
                                                : vae_mlp_forward(ctx, &net->enc, x); /* (B, 2Z), or (B, Z) logits */
    if (net->cfg.latent_kind != VAE_LATENT_GAUSSIAN) return vae__discrete_q(ctx, net, h, mu_out, lv_out);
    vae_tensor *mu = vae_slice(ctx, h, -1, 0, Z, 1), *lv = vae_slice(ctx, h, -1, Z, 2 * Z, 1);
    if (!mu || !lv) return NULL;
    if (mu_out) *mu_out = mu;
    if (lv_out) *lv_out = lv;
    return vae_normal_logvar(ctx, mu, lv);
}

vae_dist *vae_net_prior(vae_ctx *ctx, vae_net *net) {
    if (net->cfg.z2_dim) return vae__hier_prior(ctx, net);
    if (net->family) return vae__family_prior(ctx, net);
    if (net->cfg.latent_kind != VAE_LATENT_GAUSSIAN) return vae__discrete_prior(ctx, net);
    if (net->cfg.n_classes) return vae__cond_prior(ctx, net);
    return vae_std_normal(ctx, net->cfg.dtype, 1, &net->cfg.z_dim);
}

int vae_net_analytic_kl(const vae_net *net) {
    /* two stochastic layers, a flow, a mixture or learned conditional prior: Monte-Carlo KL; discrete latents: the
     * objectives' KL is Gaussian (their closed form is vae_discrete_kl) */
    return net->cfg.z2_dim == 0 && !net->family && net->cfg.latent_kind == VAE_LATENT_GAUSSIAN &&
           (!net->cfg.n_classes || net->cfg.cond_prior == VAE_COND_PRIOR_NORMAL);
}

int64_t vae_net_latent_dim(const vae_net *net) {
    return net->cfg.z_dim + net->cfg.z2_dim;
}

int vae_net_stoch_layers(const vae_net *net, int64_t *dims) {
    if (dims) dims[0] = net->cfg.z_dim, dims[1] = net->cfg.z2_dim;
    return net->cfg.z2_dim ? 2 : 1;
}

/* The decoder's output (..., D * P) for z (..., Z); a conditional decoder reads concat(z, onehot y). */
static vae_tensor *decoder(vae_ctx *ctx, vae_net *net, vae_tensor *z) {
    if (net->cfg.n_classes) z = vae__cond_input(ctx, net, z);
    if (vae__net_is_conv(&net->cfg)) return vae__net_conv_decode(ctx, net, z);
    return net->bayes ? vae__bayes_forward(ctx, net, z) : vae_mlp_forward(ctx, &net->dec, z);
}

vae_dist *vae_net_decode(vae_ctx *ctx, vae_net *net, vae_tensor *z) {
    if (net->cfg.z2_dim) z = vae__hier_z1(ctx, net, z); /* p(x|z1) */
    return vae_likelihood_make(ctx, net->lik, decoder(ctx, net, z), net->cfg.lik_opts);
}

vae_tensor *vae_net_decode_mean(vae_ctx *ctx, vae_net *net, vae_tensor *z) {
    if (net->cfg.z2_dim) z = vae__hier_z1(ctx, net, z);
    return vae_likelihood_mean(ctx, net->lik, decoder(ctx, net, z), net->cfg.lik_opts);
}
