/* mlp.h - a multi-layer perceptron: a stack of Linear layers with one hidden activation.
 *
 * sizes = {d0, d1, ..., dL} gives L layers d0 -> d1 -> ... -> dL; the hidden activation follows every layer but
 * the last, and follows the last one too only when asked (act_last). Layer i's parameters are
 * "<name>.<i>.weight" (d_i, d_{i+1}) and "<name>.<i>.bias" (d_{i+1},). Input (..., d0) -> output (..., dL).
 */
#ifndef VAE_MLP_H
#define VAE_MLP_H

#include "nn/linear.h"

#define VAE_MLP_MAX_LAYERS 16

typedef struct vae_mlp {
    int nlayers;
    vae_linear layer[VAE_MLP_MAX_LAYERS];
    vae_activation act; /* hidden activation */
    int act_last;       /* nonzero: also apply act after the last layer */
} vae_mlp;

/* Declare the layers of an MLP with nsizes - 1 layers (all with bias) in p, zero-filled (initialize with
 * vae_mlp_reset or nn/init.h). On failure (nsizes outside 2..VAE_MLP_MAX_LAYERS+1, a size <= 0, a bad activation:
 * VAE_ERR_ARG; a name taken or too long; OOM) the error goes to err and both `m` and the store are unchanged. */
VAE_API vae_status vae_mlp_init(vae_mlp *m, vae_params *p, const char *name, int nsizes,
                        const int64_t *sizes, vae_activation act, int act_last, vae_error *err);
/* PyTorch's default initialization of every layer, in layer order; on failure nothing is written. */
VAE_API vae_status vae_mlp_reset(const vae_mlp *m, vae_rng *rng, vae_error *err);
/* Forward pass x (..., d0) -> (..., dL), recorded on ctx's tape. NULL on failure (error in ctx). */
VAE_API vae_tensor *vae_mlp_forward(vae_ctx *ctx, const vae_mlp *m, vae_tensor *x);

#endif
