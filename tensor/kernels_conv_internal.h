/* kernels_conv_internal.h - the conv2d kernels' variants that keep the forward pass's im2col matrix for the
 * backward pass (private to the library: not installed; used by autograd/ops_conv.c). */
#ifndef VAE_KERNELS_CONV_INTERNAL_H
#define VAE_KERNELS_CONV_INTERNAL_H

#include <stdint.h>

#include "tensor.h"

/* Elements of conv2d's im2col matrix for x, w, y: (C*kh*kw) x (images * OH * OW). */
int64_t vae__k_conv2d_col_elems(const vae_tensor *x, const vae_tensor *w, const vae_tensor *y);
/* vae_k_conv2d that, when keep is non-NULL (vae__k_conv2d_col_elems elements of x's dtype), builds the im2col
 * matrix in keep, (C*kh*kw, images*OH*OW) with columns (image, oh, ow), instead of in scratch, and leaves it there. */
int vae__k_conv2d_keep(const vae_tensor *x, const vae_tensor *w, const vae_tensor *b, vae_tensor *y,
                       int64_t s, int64_t p, void *keep);
/* vae_k_conv2d_grad that reads the weight gradient's im2col matrix from kept (as left by vae__k_conv2d_keep for
 * the same x) instead of recomputing it; kept NULL: recompute. */
int vae__k_conv2d_grad_kept(const vae_tensor *x, const vae_tensor *w, const vae_tensor *gy,
                            vae_tensor *gx, vae_tensor *gw, vae_tensor *gb, int64_t s, int64_t p,
                            const void *kept);

/* Tests: which loops im2col/col2im take (kernels_conv_isa.c): 0 the fastest that applies (default), 1 the row loops
 * (the reference), 2 the phase planes without the stride-2 AVX-512 path. Every choice gives the same bits. */
void vae__k_conv_set_path(int path);

#endif
