/* The conditional VAE (Sohn, Lee & Yan 2015; Kingma et al. 2014, M2 with y observed).
 *
 *   log p(x|y) >= E_q(z|x,y)[ log p(x|z,y) ] - KL( q(z|x,y) || p(z|y) )
 *   q(z|x,y) = N(mu, diag exp(logvar)) = encoder(concat(x, onehot y))
 *   p(x|z,y) = likelihood(decoder(concat(z, onehot y)))
 *   p(z|y)   = N(mu_y, diag exp(logvar_y)),  (mu_y, logvar_y) = onehot(y) W + b   (an embedding; or N(0, I))
 * The objectives are the plain ones: the net carries the batch's labels (vae_net_set_labels) and its encode,
 * prior and decode use them. Shapes: x (B, D), y (B,), z (..., B, Z), onehot (B, C).
 */
#include <inttypes.h>
#include <string.h>

#include "models/dist_builtin.h"
#include "models/vae_net_internal.h"

#define MAX_CLASSES 100000

vae_status vae__cond_init(vae_net *net, vae_error *err) {
    const vae_net_cfg *c = &net->cfg;
    if (c->n_classes < 1 || c->n_classes > MAX_CLASSES)
        return vae_error_set(err, VAE_ERR_ARG,
                             "vae_net: %" PRId64 " classes; a conditional VAE needs 1..%d",
                             c->n_classes, MAX_CLASSES);
    if (c->cond_prior != VAE_COND_PRIOR_LEARNED && c->cond_prior != VAE_COND_PRIOR_NORMAL)
        return vae_error_set(err, VAE_ERR_ARG, "vae_net: unknown conditional prior %d",
                             (int)c->cond_prior);
    if (c->cond_prior == VAE_COND_PRIOR_NORMAL) return VAE_OK;
    int64_t sizes[2] = {c->n_classes, 2 * c->z_dim};
    /* left at zero (weights and bias): p(z|y) starts as N(0, I), the unconditional prior */
    return vae_mlp_init(&net->prior, net->params, "prior", 2, sizes,
                        vae_act_default(VAE_ACT_IDENTITY), 0, err);
}

int vae_net_conditional(const vae_net *net) {
    return net && net->cfg.n_classes > 0;
}

vae_status vae_net_set_labels(vae_net *net, const int64_t *y, int64_t n, vae_error *err) {
    if (!net) return vae_error_set(err, VAE_ERR_NULL, "vae_net_set_labels: NULL net");
    if (!vae_net_conditional(net)) return VAE_OK;
    if (y && n < 0)
        return vae_error_set(err, VAE_ERR_ARG, "vae_net_set_labels: %" PRId64 " labels", n);
    for (int64_t i = 0; y && i < n; i++)
        if (y[i] < 0 || y[i] >= net->cfg.n_classes)
            return vae_error_set(err, VAE_ERR_ARG,
                                 "conditional VAE: label %" PRId64 " (row %" PRId64
                                 ") is outside the model's classes 0..%" PRId64,
                                 y[i], i, net->cfg.n_classes - 1);
    net->labels = y;
    net->nlabels = y ? n : 0;
    net->label_lo = 0;
    net->label_m = net->nlabels;
    return VAE_OK;
}

void vae_net_select_labels(vae_net *net, int64_t i0, int64_t m) {
    if (!vae_net_conditional(net) || !net->labels) return;
    net->label_lo = i0;
    net->label_m = m;
}

/* onehot(y) of the current batch: (B, C); NULL with the reason in ctx when the labels do not fit B rows */
static vae_tensor *onehot(vae_ctx *ctx, vae_net *net, int64_t B) {
    int64_t C = net->cfg.n_classes;
    if (!net->labels) {
        vae_error_set(vae_ctx_error(ctx), VAE_ERR_ARG,
                      "conditional VAE: no labels set for the batch (vae_net_set_labels)");
        return NULL;
    }
    if (net->label_m != B || net->label_lo < 0 || net->label_lo + B > net->nlabels) {
        vae_error_set(vae_ctx_error(ctx), VAE_ERR_SHAPE,
                      "conditional VAE: a batch of %" PRId64 " rows but labels rows [%" PRId64
                      ", %" PRId64 ") of %" PRId64,
                      B, net->label_lo, net->label_lo + net->label_m, net->nlabels);
        return NULL;
    }
    vae_tensor *oh = vae_zeros(ctx, net->cfg.dtype, VAE_SHAPE(B, C));
    for (int64_t b = 0; oh && b < B; b++)
        vae_set_flat(oh, b * C + net->labels[net->label_lo + b], 1.0);
    return oh;
}

vae_tensor *vae__cond_input(vae_ctx *ctx, vae_net *net, vae_tensor *t) {
    if (!t) return NULL;
    if (t->ndim < 2) {
        vae_error_set(vae_ctx_error(ctx), VAE_ERR_SHAPE,
                      "conditional VAE: input has %d dims, needs (..., B, k)", t->ndim);
        return NULL;
    }
    vae_tensor *oh = onehot(ctx, net, t->shape[t->ndim - 2]);
    if (oh && t->ndim > 2) { /* (K, B, Z): the same y for every particle */
        int64_t shape[VAE_MAX_DIMS];
        memcpy(shape, t->shape, sizeof(int64_t) * (size_t)t->ndim);
        shape[t->ndim - 1] = net->cfg.n_classes;
        oh = vae_expand(ctx, oh, t->ndim, shape);
    }
    vae_tensor *parts[2] = {t, oh};
    return oh ? vae_concat(ctx, 2, parts, -1) : NULL;
}

vae_dist *vae__cond_prior(vae_ctx *ctx, vae_net *net) {
    int64_t Z = net->cfg.z_dim;
    if (net->cfg.cond_prior == VAE_COND_PRIOR_NORMAL)
        return vae_std_normal(ctx, net->cfg.dtype, 1, &Z);
    vae_tensor *oh = onehot(ctx, net, net->label_m);
    vae_tensor *h = oh ? vae_mlp_forward(ctx, &net->prior, oh) : NULL; /* (B, 2Z) */
    return vae_normal_logvar(ctx, vae_slice(ctx, h, -1, 0, Z, 1),
                             vae_slice(ctx, h, -1, Z, 2 * Z, 1));
}
