/* view.h - views: new geometry over the same storage, never a copy.
 *
 * Each function fills a caller-provided `out` struct from `x` and returns VAE_OK, or sets err (naming the op and
 * shapes) and returns its code, leaving `out` unchanged. `out` shares x's data and root; autograd fields are cleared.
 * autograd/ wraps these as differentiable ops, and applies the same function to gradient buffers in backward.
 */
#ifndef VAE_VIEW_H
#define VAE_VIEW_H

#include "tensor/tensor.h"

/* Normalize a possibly negative axis (-1 = last) for an ndim-d tensor; -1 when out of range. */
VAE_API int vae_norm_axis(int axis, int ndim);

/* Reshape as a view. One entry of `shape` may be -1 (inferred). Returns VAE_OK when a view is possible; when the
 * element count fits but the strides do not allow a view, returns VAE_ERR_UNSUPPORTED WITHOUT setting err (the
 * caller copies instead); other failures set err. `resolved` (may be NULL) receives the shape with -1 filled in. */
VAE_API vae_status vae_view_reshape(const vae_tensor *x, int ndim, const int64_t *shape, vae_tensor *out,
                            int64_t *resolved, vae_error *err);
/* Reorder dims: out dim i is x dim perm[i]; perm must be a permutation of 0..ndim-1. */
VAE_API vae_status vae_view_permute(const vae_tensor *x, const int *perm, vae_tensor *out, vae_error *err);
/* Swap two dims (negative axes allowed). */
VAE_API vae_status vae_view_transpose(const vae_tensor *x, int d0, int d1, vae_tensor *out, vae_error *err);
/* Elements start, start+step, ... < stop along `axis` (Python semantics: negative start/stop count from the end
 * and are clamped to [0, n]; step >= 1). */
VAE_API vae_status vae_view_slice(const vae_tensor *x, int axis, int64_t start, int64_t stop, int64_t step,
                          vae_tensor *out, vae_error *err);
/* Broadcast to `shape` (right-aligned; a size-1 or missing dim becomes stride 0; -1 keeps x's size). The result
 * is read-only when any dim was expanded. */
VAE_API vae_status vae_view_expand(const vae_tensor *x, int ndim, const int64_t *shape, vae_tensor *out,
                           vae_error *err);
/* Remove `axis`, which must have size 1. */
VAE_API vae_status vae_view_squeeze(const vae_tensor *x, int axis, vae_tensor *out, vae_error *err);
/* Insert a size-1 dim at `axis` (0..ndim, negative counts from the end of the result). */
VAE_API vae_status vae_view_unsqueeze(const vae_tensor *x, int axis, vae_tensor *out, vae_error *err);

/* NumPy broadcast of two shapes into (*nout, out). Returns 0 and leaves outputs unchanged when incompatible. */
VAE_API int vae_broadcast_shape(int na, const int64_t *sa, int nb, const int64_t *sb, int *nout,
                        int64_t *out);
/* Strides that read x as if it had `shape` (x must broadcast to it): 0 on expanded or missing dims. */
VAE_API void vae_broadcast_strides(const vae_tensor *x, int ndim, const int64_t *shape, int64_t *strides);

#endif
