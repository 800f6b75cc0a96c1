/* kernels_axis.h - kernels that work along one axis: softmax, log-softmax, cumulative sum, and their gradients.
 *
 * Same contract as kernels.h: no validation, no allocation (autograd/ops_axis.c checks and allocates). `axis` is
 * in [0, ndim); every operand has x's shape, any strides (x may be a broadcast view; outputs must not be). Each
 * line along the axis is computed by the same serial code whatever the thread split, so results do not depend on
 * the thread count. Sums along a line run in double for both dtypes.
 */
#ifndef VAE_KERNELS_AXIS_H
#define VAE_KERNELS_AXIS_H

#include "tensor/tensor.h"

/* y = softmax(x) along axis (log = 0) or log_softmax(x) = x - logsumexp(x) (log = 1), stable (the line's max is
 * subtracted first). A line whose max is +-inf or NaN gives NaN, as PyTorch does. */
VAE_API void vae_k_softmax(const vae_tensor *x, int axis, int log, vae_tensor *y);
/* gx += dL/dx from y (the forward's output) and gy = dL/dy:
 *   softmax:     gx += y * (gy - sum_axis(gy * y))
 *   log_softmax: gx += gy - exp(y) * sum_axis(gy) */
VAE_API void vae_k_softmax_grad(int axis, int log, const vae_tensor *y, const vae_tensor *gy,
                                vae_tensor *gx);
/* Cumulative sum along axis: y_i = sum_{j <= i} x_j (exclusive: j < i, so y_0 = 0); reverse = 1 runs from the end
 * (y_i = sum_{j >= i} x_j, exclusive j > i), which is the gradient of the forward one. accumulate = 1 adds into y
 * instead of writing it. */
VAE_API void vae_k_cumsum(const vae_tensor *x, int axis, int exclusive, int reverse, vae_tensor *y,
                          int accumulate);

#endif
