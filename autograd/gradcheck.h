/* gradcheck.h - compare backward's gradients with central differences, in f64.
 *
 * The function under test builds any tensor y from its inputs; gradcheck checks the gradient of
 * L = sum_i w_i * y_i for fixed random weights w (so every output component is checked), against
 * (L(x + eps) - L(x - eps)) / (2 eps) for every element of every input that requires grad.
 */
#ifndef VAE_GRADCHECK_H
#define VAE_GRADCHECK_H

#include <stdint.h>

#include "autograd/context.h"
#include "tensor/tensor.h"

/* Builds the output from the inputs (in order). May use ctx's RNG only if it reseeds it identically each call. */
typedef vae_tensor *(*vae_gradcheck_fn)(vae_ctx *ctx, vae_tensor *const *in, int nin, void *user);

typedef enum vae_gc_layout {
    VAE_GC_CONTIGUOUS = 0,
    VAE_GC_TRANSPOSED, /* stored with the last two dims swapped and presented through a transpose view */
    VAE_GC_EXPANDED, /* presented as a broadcast (stride-0) view to `expand` */
} vae_gc_layout;

typedef struct vae_gc_input {
    int ndim;
    int64_t shape[VAE_MAX_DIMS];
    const double *data; /* row-major values (caller-owned, numel entries) */
    int requires_grad;  /* 0: a constant input (not checked) */
    vae_gc_layout layout;
    int expand_ndim; /* VAE_GC_EXPANDED: the presented shape */
    int64_t expand[VAE_MAX_DIMS];
} vae_gc_input;

typedef struct vae_gc_result {
    double max_abs_err; /* over all checked elements */
    int worst_input;    /* where the largest violation (or error) is */
    int64_t worst_index;
    double analytic, numeric;
    int64_t checked; /* number of elements compared */
    uint64_t ops[2]; /* bit set of the vae_op values recorded while building the output */
} vae_gc_result;

/* Run the check with step eps (e.g. 1e-6) and tolerance |a - n| <= atol + rtol * |n| per element. Returns VAE_OK
 * when every element passes; VAE_ERR_MISMATCH when one does not (err names the input, element and both values);
 * the function's own error, or VAE_ERR_OOM / VAE_ERR_ARG, otherwise. `res` (may be NULL) is filled in all cases
 * where the function ran. */
VAE_API vae_status vae_gradcheck(vae_gradcheck_fn f, void *user, int nin, const vae_gc_input *in,
                         double eps, double atol, double rtol, vae_gc_result *res, vae_error *err);

#endif
