/* flow_prior_internal.h - (not installed) the flow / prior state of a vae_net and the hooks vae_net.c calls. */
#ifndef VAE_FLOW_PRIOR_INTERNAL_H
#define VAE_FLOW_PRIOR_INTERNAL_H

#include "models/flow_prior.h"

typedef struct vae_net_family {
    vae_flow_kind flow;
    int nflow; /* flow steps K */
    vae_prior_kind prior;
    int nprior;      /* mixture components / pseudo-inputs K */
    int64_t ctx_dim; /* C: size of the encoder's last hidden layer (x_dim without hidden layers) */
    int64_t made_hidden; /* H of each IAF step's MADE */
    vae_linear amort;    /* planar: C -> K (2Z + 1), "enc.flow.amort" */
    vae_linear *iaf;     /* iaf: 3 per step: in (Z -> H), ctx (C -> H, no bias), out (H -> 2Z) */
    double *masks;       /* iaf: per step mask_in (Z, H) then mask_out (H, 2Z), in f64 */
    void *masks_dt;      /* the same in the net's dtype (what vae_wrap presents) */
    vae_tensor *mog_mean, *mog_logvar, *mog_logits; /* (K, Z), (K, Z), (K) */
    vae_tensor *vamp_u;                             /* (K, D) pseudo-inputs */
} vae__family;

/* Build net->family from net->cfg.flow / prior when either is set (parameters added to net->params and
 * initialized from rng); leaves it NULL otherwise. On failure returns the code with err set. */
vae_status vae__family_init(vae_net *net, vae_rng *rng, vae_error *err);
void vae__family_free(vae__family *f);
/* vae_net_encode for a net with a family: the base Gaussian (mu, logvar out as usual), pushed through the flow. */
vae_dist *vae__family_encode(vae_ctx *ctx, vae_net *net, vae_tensor *x, vae_tensor **mu,
                             vae_tensor **logvar);
/* vae_net_prior for a net with a family. */
vae_dist *vae__family_prior(vae_ctx *ctx, vae_net *net);
/* The encoder's base Gaussian: mu, logvar (B, Z) and its last hidden layer h (B, C) (x without hidden layers),
 * computed layer by layer (the same values as vae_mlp_forward). 0 on success, -1 with the ctx error. */
int vae__encoder_base(vae_ctx *ctx, const vae_net *net, vae_tensor *x, vae_tensor **mu,
                      vae_tensor **logvar, vae_tensor **h);
/* Log-density of a diagonal-Gaussian mixture at z (..., Z): logsumexp_k [log pi_k + log N(z; mean_k, lv_k)],
 * log pi (K) (prior_mog.c; used by the vamp prior too). */
vae_tensor *vae__mixture_log_prob(vae_ctx *ctx, vae_tensor *z, vae_tensor *mean, vae_tensor *logvar,
                                  vae_tensor *log_pi);
/* The vamp prior's components: the encoder's (mu, logvar) of the pseudo-inputs (prior_vamp.c). */
vae_dist *vae__vamp_prior(vae_ctx *ctx, vae_net *net);

#endif
