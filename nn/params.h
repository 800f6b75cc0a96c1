/* params.h - the parameter store: model-lifetime memory for values, gradients and optimizer state.
 *
 * One store holds every trainable tensor of a model in ONE flat buffer of values, ONE flat buffer of gradients of
 * the same layout, and up to VAE_PARAMS_MAX_SLOTS flat buffers of optimizer state (Adam's m and v, SGD's momentum,
 * Adagrad's sum of squares), each created on demand. A parameter is a named, contiguous `vae_tensor` viewing its
 * range of the value buffer, flagged VAE_TF_PARAM | VAE_TF_REQUIRES_GRAD, whose `grad` views the same range of the
 * gradient buffer, so autograd's backward accumulates straight into the flat gradient buffer. Zero-grad is one
 * memset, an optimizer step one loop, a checkpoint one write.
 *
 * Layout: parameters are laid out in the order they were added; each starts on a 64-byte boundary, so there may be
 * a few padding elements between them. Padding is always zero in every buffer and stays zero under every optimizer
 * (zero value, zero gradient, zero state give a zero update), so loops may run over the whole flat length.
 *
 * Growth: parameters may be added at any time. The `vae_tensor *` returned by vae_params_add (and its `grad`) is a
 * stable struct that stays valid until the store is freed; when the buffers grow they move, and every parameter's
 * `data` pointer is re-pointed. Hence raw pointers into the buffers (vae_params_values, vae_tensor_ptr of a
 * parameter, views of a parameter built in a context's arena) are valid only until the next vae_params_add: add
 * parameters while building the model, not in the middle of a training step.
 */
#ifndef VAE_PARAMS_H
#define VAE_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "tensor/error.h"
#include "tensor/tensor.h"
#include "tensor/threadpool.h"

/* Most optimizer state slots a store can hold (Adam uses 2). */
#define VAE_PARAMS_MAX_SLOTS 4
/* Longest parameter name in bytes (without the NUL). */
#define VAE_PARAMS_MAX_NAME 255

typedef struct vae_params vae_params;

/* New empty store whose buffers all have dtype dt (VAE_F32 or VAE_F64). NULL when dt is invalid or malloc fails. */
VAE_API vae_params *vae_params_new(vae_dtype dt);
/* Free the store, its buffers and every parameter tensor it handed out; NULL is harmless. */
VAE_API void vae_params_free(vae_params *p);

/* Add a zero-initialized parameter `name` of the given shape and return it (stable until the store is freed).
 * Fails, returning NULL with the error in err and the store unchanged, on a NULL/empty/too-long/duplicate name
 * (VAE_ERR_ARG), a bad shape (VAE_ERR_SHAPE) or OOM. */
VAE_API vae_tensor *vae_params_add(vae_params *p, const char *name, int ndim, const int64_t *shape,
                           vae_error *err);
/* Remove the parameters added after the first n (their tensors become invalid); used to roll back a model whose
 * construction failed half-way. Does nothing when n >= count or p is NULL. */
VAE_API void vae_params_truncate(vae_params *p, int n);

/* Store dtype; VAE_F32 for NULL. */
VAE_API vae_dtype vae_params_dtype(const vae_params *p);
/* Number of parameter tensors (0 for NULL). */
VAE_API int vae_params_count(const vae_params *p);
/* Sum of the parameters' element counts, without padding (0 for NULL). */
VAE_API int64_t vae_params_numel(const vae_params *p);
/* Length in elements of each flat buffer, padding included (0 for NULL). */
VAE_API int64_t vae_params_flat_len(const vae_params *p);
/* The i-th parameter in order of addition; NULL when i is out of range. */
VAE_API vae_tensor *vae_params_get(const vae_params *p, int i);
/* Element offset of the i-th parameter in every flat buffer; -1 when i is out of range. */
VAE_API int64_t vae_params_offset(const vae_params *p, int i);
/* The parameter called `name`, or NULL when there is none. */
VAE_API vae_tensor *vae_params_find(const vae_params *p, const char *name);
/* Index of the parameter called `name`, or -1 when there is none. */
VAE_API int vae_params_index(const vae_params *p, const char *name);

/* The flat value and gradient buffers (flat_len elements of the store dtype); NULL when empty or p is NULL.
 * Valid until the next vae_params_add. */
VAE_API void *vae_params_values(const vae_params *p);
VAE_API void *vae_params_grads(const vae_params *p);
/* Set every gradient to zero, on the pool by the owner map below; NULL is harmless. */
VAE_API void vae_params_zero_grad(vae_params *p);
/* Which pool thread zeroes and updates which elements of the flat buffers (threadpool.h): each weight of at least
 * 64k elements split by rows in vae_threads_get() parts, the rows that the linear op's GEMM tasks give each thread,
 * smaller parameters whole to the least loaded thread, then every range snapped to whole chunks of
 * vae_k_sumsq_chunk(flat length) (each chunk to the thread owning its middle element, so that Adam can form the
 * gradient norm in its update pass, tensor/kernels.h). Rebuilt when the thread count or the parameters change (no
 * allocation otherwise); NULL for 1 or more than 64 threads, NULL p, an empty store, or no memory (the passes then
 * split evenly, with the same results). Valid until the next call, vae_params_add or vae_params_truncate. */
VAE_API const vae_owner_map *vae_params_owner_map(vae_params *p);

/* Make sure state slots 0..nslots-1 exist (new slots are zero-filled; existing ones are kept). Fails with
 * VAE_ERR_ARG (nslots outside 0..VAE_PARAMS_MAX_SLOTS) or VAE_ERR_OOM, leaving the store unchanged. */
VAE_API vae_status vae_params_ensure_slots(vae_params *p, int nslots, vae_error *err);
/* Number of state slots that exist (0 for NULL). */
VAE_API int vae_params_slots(const vae_params *p);
/* Flat buffer of state slot `slot` (flat_len elements); NULL when the slot does not exist or the store is empty.
 * Valid until the next vae_params_add. */
VAE_API void *vae_params_slot(const vae_params *p, int slot);
/* Zero every existing state slot (a fresh optimizer); NULL is harmless. */
VAE_API void vae_params_zero_slots(vae_params *p);

#endif
