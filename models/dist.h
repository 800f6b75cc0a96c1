/* dist.h - the distribution interface: log_prob, sample, rsample, mean, entropy, detached.
 *
 * A distribution is a small vtable plus the tensors of its parameters. It is built from one step's
 * tensors, so it lives in the context's arena (step lifetime) and is invalid after vae_ctx_reset.
 *
 * Shapes. The distribution's shape is the broadcast of its parameters' shapes; its last
 * `event_ndim` dims are the event (default 1, 0 for a 0-d distribution), the dims before are the
 * batch. log_prob(x) broadcasts x against the batch (x's event dims must equal the distribution's)
 * and sums over the event:
 *     params (B,D),   x (B,D)   -> (B)
 *     params (K,B,D), x (B,D)   -> (K,B)
 *     params (B,D),   x (K,B,D) -> (K,B)   (K particles drawn by rsample(d, K))
 * sample/rsample(d, k) return the distribution's shape, with a leading particle dim of size k
 * when k > 0.
 *
 * Errors follow ops.h: every function returns NULL with the first error stuck in the context
 * (naming the distribution and the shapes), and a NULL distribution or tensor gives NULL quietly.
 */
#ifndef VAE_DIST_H
#define VAE_DIST_H

#include <stdint.h>

#include "autograd/context.h"
#include "tensor/tensor.h"

#define VAE_DIST_MAX_PARAMS 4

typedef struct vae_dist vae_dist;

/* What a distribution implements. The wrappers below validate arguments first, so an implementation
 * may assume x fits the distribution (shape and dtype) and k >= 0. */
typedef struct vae_dist_ops {
    const char *name;
    /* log density/mass of x summed over the event dims: the batch shape broadcast with x's leading
     * dims. */
    vae_tensor *(*log_prob)(vae_ctx *, const vae_dist *, vae_tensor *x);
    /* draws without a gradient path (the wrapper runs it in a no-grad scope); k > 0 prepends a
     * particle dim. NULL: rsample is used (still without a path). */
    vae_tensor *(*sample)(vae_ctx *, vae_dist *, int64_t k);
    /* reparameterized draws (gradient flows to the parameters); NULL when not reparameterizable. */
    vae_tensor *(*rsample)(vae_ctx *, vae_dist *, int64_t k);
    /* the mean, with the distribution's shape. */
    vae_tensor *(*mean)(vae_ctx *, const vae_dist *);
    /* entropy summed over the event dims (batch shape); NULL when there is no closed form. */
    vae_tensor *(*entropy)(vae_ctx *, const vae_dist *);
    /* the same distribution with detached parameters; NULL means vae_dist_detach_params, which
     * fits every distribution whose param[] holds all its tensors. */
    vae_dist *(*detached)(vae_ctx *, const vae_dist *);
} vae_dist_ops;

struct vae_dist {
    const vae_dist_ops *ops;
    vae_tensor
        *param[VAE_DIST_MAX_PARAMS]; /* meaning set by each distribution; unused entries NULL */
    double c[4];                     /* fixed scalars (e.g. a Student-t's degrees of freedom) */
    int event_ndim;  /* trailing dims summed by log_prob/entropy; may be set by the user */
    vae_tensor *eps; /* noise of the last (r)sample: standardized for location-scale
                      * families (z = loc + scale * eps), the uniforms for inverse-CDF
                      * samplers; no gradient */
};

/* ---- using a distribution ---- */

/* log p(x) summed over the event dims (see the shape rules above); VAE_ERR_SHAPE naming both shapes
 * when x does not fit, VAE_ERR_DTYPE when dtypes differ. */
VAE_API vae_tensor *vae_dist_log_prob(vae_ctx *ctx, const vae_dist *d, vae_tensor *x);
/* k draws (k = 0: one draw without the particle dim) with no gradient path; records d->eps.
 * VAE_ERR_ARG when k < 0. */
VAE_API vae_tensor *vae_dist_sample(vae_ctx *ctx, vae_dist *d, int64_t k);
/* k reparameterized draws (gradient flows to the parameters); records d->eps. VAE_ERR_UNSUPPORTED
 * naming the distribution when it is not reparameterizable, VAE_ERR_ARG when k < 0. */
VAE_API vae_tensor *vae_dist_rsample(vae_ctx *ctx, vae_dist *d, int64_t k);
/* The mean (the distribution's shape); NULL with the error on failure. */
VAE_API vae_tensor *vae_dist_mean(vae_ctx *ctx, const vae_dist *d);
/* Entropy summed over the event dims; VAE_ERR_UNSUPPORTED naming the distribution when there is no
 * closed form. */
VAE_API vae_tensor *vae_dist_entropy(vae_ctx *ctx, const vae_dist *d);
/* The same distribution whose parameters are detached (no gradient reaches them; x and z still
 * carry theirs), as STL and DReG need; NULL on OOM. */
VAE_API vae_dist *vae_dist_detached(vae_ctx *ctx, const vae_dist *d);
/* The distribution's name ("normal"); "(null)" for NULL. */
VAE_API const char *vae_dist_name(const vae_dist *d);
/* 1 when rsample exists. */
VAE_API int vae_dist_has_rsample(const vae_dist *d);
/* The distribution's shape (broadcast of its parameters) into shape[VAE_MAX_DIMS]; returns ndim, or
 * -1 when d is NULL or its parameters do not broadcast. */
VAE_API int vae_dist_shape(const vae_dist *d, int64_t *shape);

/* ---- writing a distribution (see examples/likelihood_student_t.c) ---- */

/* New distribution in ctx's arena with nparam (1..4) parameter tensors, which must share a dtype
 * and broadcast; event_ndim = 1 (0 for 0-d). NULL on a NULL parameter (quietly),
 * VAE_ERR_SHAPE/VAE_ERR_DTYPE naming the distribution and the shapes, or OOM. */
VAE_API vae_dist *vae_dist_new(vae_ctx *ctx, const vae_dist_ops *ops, int nparam, vae_tensor *const *param);
/* Sum an elementwise tensor (..., event dims) over d's last event_ndim dims; NULL on failure. */
VAE_API vae_tensor *vae_dist_sum_event(vae_ctx *ctx, const vae_dist *d, vae_tensor *elementwise);
/* The shape of k draws from d ((k, shape...) when k > 0) into shape[VAE_MAX_DIMS]; returns ndim, or
 * -1 with the error in ctx. */
VAE_API int vae_dist_sample_shape(vae_ctx *ctx, const vae_dist *d, int64_t k, int64_t *shape);
/* A copy of d with every parameter detached; fits the `detached` slot of any distribution. NULL on
 * OOM. */
VAE_API vae_dist *vae_dist_detach_params(vae_ctx *ctx, const vae_dist *d);
/* Parameter i broadcast (as a view) to d's full shape; NULL on failure. */
VAE_API vae_tensor *vae_dist_param_full(vae_ctx *ctx, const vae_dist *d, int i);

#endif
