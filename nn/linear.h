/* linear.h - activations and the Linear layer y = act(x @ W + b).
 *
 * W has shape (in, out) and b shape (out,) (the transpose of PyTorch's weight layout, so the forward is a plain
 * matmul with no transpose). x has shape (..., in): any leading dims broadcast, e.g. (B, in) for a batch or
 * (K, B, in) for K importance samples per datum; y has shape (..., out).
 */
#ifndef VAE_LINEAR_H
#define VAE_LINEAR_H

#include <stdint.h>

#include "autograd/context.h"
#include "autograd/ops.h" /* vae_act: the activation kinds, shared with the fused linear op */
#include "nn/params.h"
#include "tensor/rng.h"

/* An activation and its parameter (`alpha`: ELU's alpha, leaky ReLU's negative slope; ignored otherwise). */
typedef struct vae_activation {
    vae_act kind;
    double alpha;
} vae_activation;

/* The activation `kind` with its usual parameter (ELU alpha 1, leaky ReLU slope 0.01). Never fails. */
VAE_API vae_activation vae_act_default(vae_act kind);
/* Short stable name ("relu", "leaky_relu", ...); "unknown" for a bad kind. */
VAE_API const char *vae_act_name(vae_act kind);
/* The kind called `name` (as vae_act_name writes it); -1 when there is none. */
VAE_API int vae_act_from_name(const char *name);
/* act(x) through the autograd ops (recorded on the tape); NULL with VAE_ERR_ARG in ctx for a bad kind, and NULL
 * quietly for a NULL x. */
VAE_API vae_tensor *vae_act_apply(vae_ctx *ctx, vae_tensor *x, vae_activation act);

typedef struct vae_linear {
    int64_t in, out;
    vae_tensor *w; /* (in, out), a parameter */
    vae_tensor *b; /* (out,), a parameter; NULL for a layer without bias */
} vae_linear;

/* Declare the layer's parameters "<name>.weight" (in, out) and, when `bias` is nonzero, "<name>.bias" (out,) in p
 * (zero-filled: initialize them with vae_linear_reset or nn/init.h). On failure (bad sizes: VAE_ERR_ARG; a name
 * taken or too long; OOM) the error goes to err and both `l` and the store are unchanged. */
VAE_API vae_status vae_linear_init(vae_linear *l, vae_params *p, const char *name, int64_t in, int64_t out,
                           int bias, vae_error *err);
/* PyTorch's default initialization of the layer (vae_init_linear_default); on failure nothing is written. */
VAE_API vae_status vae_linear_reset(const vae_linear *l, vae_rng *rng, vae_error *err);
/* y = act(x @ W + b): x (..., in) -> y (..., out), recorded on ctx's tape. NULL on failure (error in ctx, e.g. a
 * last dim that is not `in` or a dtype other than the store's). */
VAE_API vae_tensor *vae_linear_forward(vae_ctx *ctx, const vae_linear *l, vae_tensor *x,
                               vae_activation act);

#endif
