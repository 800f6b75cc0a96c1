/* vae_net_internal.h - (private to models/) the network families behind vae_net.h's calls. */
#ifndef VAE_NET_INTERNAL_H
#define VAE_NET_INTERNAL_H

#include "models/vae_net.h"

/* 1 when cfg asks for the convolutional pair (cfg->net "conv"). */
int vae__net_is_conv(const vae_net_cfg *cfg);
/* The conv pair's parameters in net->params (already created, empty) and their initialization; on failure the
 * code with a message in err (the caller frees the net). */
vae_status vae__net_conv_init(vae_net *net, vae_rng *rng, vae_error *err);
/* x (..., D) -> encoder output (..., 2Z); NULL on failure (ctx error). */
vae_tensor *vae__net_conv_encode(vae_ctx *ctx, vae_net *net, vae_tensor *x);
/* z (..., Z) -> decoder output (..., P*D) in the likelihood's layout; NULL on failure. */
vae_tensor *vae__net_conv_decode(vae_ctx *ctx, vae_net *net, vae_tensor *z);
/* The output layer's bias at the mean logit of each channel (mean: D pixel means). */
void vae__net_conv_init_output_bias(vae_net *net, const float *mean);

#endif
