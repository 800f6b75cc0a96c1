/* conv.h - the 2-d convolution and transposed-convolution layers, y = act(conv(x, W) + b).
 *
 * PyTorch's layouts: x (..., C_in, H, W) -> y (..., C_out, OH, OW); a conv weight is (C_out, C_in, k, k) and a
 * transposed-conv weight (C_in, C_out, k, k), both with a bias (C_out,). Leading dims of x are images (a batch, or
 * K particles of a batch). Output sizes are those of autograd/ops.h's vae_conv2d / vae_conv_transpose2d.
 */
#ifndef VAE_CONV_H
#define VAE_CONV_H

#include <stdint.h>

#include "nn/linear.h"

typedef struct vae_conv2d_layer {
    int64_t in, out;        /* channels */
    int k, stride, padding; /* square kernel k x k */
    int output_padding;     /* transposed layer only */
    int transposed;         /* 1: a transposed convolution */
    vae_tensor *w;          /* (out, in, k, k), or (in, out, k, k) when transposed; a parameter */
    vae_tensor *b;          /* (out,), a parameter; NULL for a layer without bias */
} vae_conv2d_layer;

/* Declare a convolution's parameters "<name>.weight" (out, in, k, k) and, when `bias` is nonzero, "<name>.bias"
 * (out,) in p (zero-filled: initialize with vae_conv2d_layer_reset). On failure (sizes or k < 1, stride < 1,
 * padding < 0: VAE_ERR_ARG; a name taken or too long; OOM) the error goes to err and `l` and the store are
 * unchanged. */
VAE_API vae_status vae_conv2d_layer_init(vae_conv2d_layer *l, vae_params *p, const char *name,
                                         int64_t in, int64_t out, int k, int stride, int padding,
                                         int bias, vae_error *err);
/* The same for a transposed convolution: "<name>.weight" is (in, out, k, k); VAE_ERR_ARG also unless
 * 0 <= output_padding < stride. */
VAE_API vae_status vae_conv_transpose2d_layer_init(vae_conv2d_layer *l, vae_params *p,
                                                   const char *name, int64_t in, int64_t out, int k,
                                                   int stride, int padding, int output_padding,
                                                   int bias, vae_error *err);
/* PyTorch's default initialization (nn.Conv2d / nn.ConvTranspose2d reset_parameters): W and b ~ U(-1/sqrt(fan_in),
 * 1/sqrt(fan_in)) with fan_in = weight.shape[1] * k * k (in * k * k for a conv, out * k * k for a transposed
 * conv, as PyTorch computes it from the weight's layout); W is drawn first, then b. On failure nothing is
 * written. */
VAE_API vae_status vae_conv2d_layer_reset(const vae_conv2d_layer *l, vae_rng *rng, vae_error *err);
/* y = act(conv(x) + b), recorded on ctx's tape. NULL on failure (error in ctx, e.g. x's channels are not `in`). */
VAE_API vae_tensor *vae_conv2d_layer_forward(vae_ctx *ctx, const vae_conv2d_layer *l, vae_tensor *x,
                                             vae_activation act);

#endif
