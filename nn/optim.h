/* optim.h - first-order optimizers over a parameter store's flat buffers, and gradient clipping.
 *
 * Each step is ONE loop over the flat value, gradient and state buffers (state lives in the store's slots, so a
 * checkpoint of the store carries it). Updates follow PyTorch's definitions, computed in double per element;
 * t is the step count after increment (the first step has t = 1), g the gradient, theta the value:
 *   SGD      g += wd*theta; if momentum mu: buf = mu*buf + g, g = nesterov ? g + mu*buf : buf; theta -= lr*g
 *   Adam     g += wd*theta (L2: the gradient of a N(0, 1/wd) weight prior, as in AEVB's MAP variant);
 *            m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
 *            theta -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 *   AdamW    theta *= 1 - lr*wd (decoupled decay), then Adam with wd = 0
 *   Adagrad  g += wd*theta; s += g^2; theta -= lr * g / (sqrt(s) + eps)
 * Weight decay applies to every parameter, biases included. State slots: SGD with momentum 1 (buf), Adam/AdamW 2
 * (m, v), Adagrad 1 (s); all start at zero.
 */
#ifndef VAE_OPTIM_H
#define VAE_OPTIM_H

#include <stdint.h>

#include "nn/params.h"

typedef enum vae_optim_kind {
    VAE_OPTIM_NONE = 0, /* no optimizer (a checkpoint of weights only) */
    VAE_OPTIM_SGD,
    VAE_OPTIM_ADAM,
    VAE_OPTIM_ADAMW,
    VAE_OPTIM_ADAGRAD,
    VAE_OPTIM_COUNT_
} vae_optim_kind;

typedef struct vae_optim_config {
    vae_optim_kind kind;
    double lr;
    double momentum;     /* SGD: in [0, 1) */
    int nesterov;        /* SGD: Nesterov momentum (needs momentum > 0) */
    double beta1, beta2; /* Adam/AdamW: in [0, 1) */
    double eps;          /* Adam/AdamW/Adagrad: added to the denominator, > 0 */
    double weight_decay; /* >= 0; L2 added to the gradient, except AdamW (decoupled) */
} vae_optim_config;

typedef struct vae_optim {
    vae_params *params;
    vae_optim_config
        cfg; /* may be edited between steps (e.g. cfg.lr from a schedule); checked at each step */
    int64_t step; /* number of steps taken */
} vae_optim;

/* PyTorch's defaults for `kind` with learning rate lr: momentum 0, betas (0.9, 0.999), eps 1e-8 (Adagrad 1e-10),
 * weight decay 0 (AdamW 0.01). Never fails (the result is checked when used). */
VAE_API vae_optim_config vae_optim_defaults(vae_optim_kind kind, double lr);
/* Short stable name ("sgd", "adam", "adamw", "adagrad", "none"); "unknown" for a bad kind. */
VAE_API const char *vae_optim_name(vae_optim_kind kind);
/* Number of state slots the configuration uses (0..2); 0 for NULL or an unknown kind. */
VAE_API int vae_optim_slots(const vae_optim_config *cfg);
/* VAE_OK when cfg is a valid configuration of a real optimizer, else VAE_ERR_ARG in err naming the field. */
VAE_API vae_status vae_optim_check(const vae_optim_config *cfg, vae_error *err);

/* Set up `o` over p with step 0, creating the state slots it needs and zeroing every state slot (a fresh
 * optimizer). On failure (invalid cfg: VAE_ERR_ARG; OOM) the error goes to err and o and p are unchanged. */
VAE_API vae_status vae_optim_init(vae_optim *o, vae_params *p, const vae_optim_config *cfg, vae_error *err);
/* One update of every parameter from its gradient in the flat buffers; increments o->step. On failure (o->cfg
 * made invalid, VAE_ERR_ARG; NULL: VAE_ERR_NULL; OOM creating slots) nothing changes. */
VAE_API vae_status vae_optim_step(vae_optim *o, vae_error *err);
/* vae_optim_step that also stores in *grad_norm (when not NULL; on success) the global L2 norm of the gradient the
 * step used: the value vae_grad_norm gives before the step. The f32 Adam/AdamW pass forms it while it reads the
 * gradient (vae train logs it every step without a pass of its own); the other optimizers take one pass. */
VAE_API vae_status vae_optim_step_norm(vae_optim *o, double *grad_norm, vae_error *err);

/* Global L2 norm of all gradients in the store (0 for NULL or empty); a double sum over fixed chunks
 * on the pool, the same value for any thread count. */
VAE_API double vae_grad_norm(const vae_params *p);
/* Scale all gradients by max_norm / norm when the global norm exceeds max_norm, so that it becomes max_norm;
 * returns the norm before clipping. Gradients are left alone when the norm is not finite (the caller sees NaN/Inf
 * in the result) or max_norm is not > 0; returns NaN for a NULL store. */
VAE_API double vae_clip_grad_norm(vae_params *p, double max_norm);

#endif
