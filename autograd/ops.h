/* ops.h - every tensor op, eager and differentiable.
 *
 * Conventions for every builder here:
 *  - returns a new tensor in the context's arena (valid until vae_ctx_reset), or NULL on failure;
 *  - on failure the FIRST error sticks in the context (vae_ctx_status / vae_ctx_message) with a message naming the
 *    op and the shapes, e.g. "matmul: (64,400) x (20,400): inner dims 400 != 20";
 *  - a NULL input gives NULL (and VAE_ERR_NULL only if no earlier error explains it), so an objective can be built
 *    without checks and checked once at the end;
 *  - inputs of a binary op must share a dtype (f32 or f64); shapes broadcast NumPy-style;
 *  - when grad mode is on and an input requires grad, the op is recorded on the tape.
 * Views (reshape when possible, permute, transpose, slice, expand, squeeze, unsqueeze, detach) share storage with
 * their input; everything else allocates a fresh contiguous output.
 */
#ifndef VAE_OPS_H
#define VAE_OPS_H

#include "autograd/context.h"
#include "tensor/tensor.h"

/* ---- creation (leaves: no grad unless vae_requires_grad is called) ---- */
VAE_API vae_tensor *vae_zeros(vae_ctx *ctx, vae_dtype dt, int ndim, const int64_t *shape);
VAE_API vae_tensor *vae_ones(vae_ctx *ctx, vae_dtype dt, int ndim, const int64_t *shape);
VAE_API vae_tensor *vae_full(vae_ctx *ctx, vae_dtype dt, int ndim, const int64_t *shape, double value);
/* 0-d tensor holding v. */
VAE_API vae_tensor *vae_scalar(vae_ctx *ctx, vae_dtype dt, double v);
/* 1-d tensor start, start+step, ... < stop (step != 0). */
VAE_API vae_tensor *vae_arange(vae_ctx *ctx, vae_dtype dt, double start, double stop, double step);
/* Copy of a caller's row-major buffer whose element type is `src_dt` into a new tensor of dtype dt. */
VAE_API vae_tensor *vae_from_data(vae_ctx *ctx, vae_dtype dt, int ndim, const int64_t *shape,
                          vae_dtype src_dt, const void *src);
/* Tensor over a caller's row-major buffer (caller lifetime: never copied, never freed). */
VAE_API vae_tensor *vae_wrap(vae_ctx *ctx, vae_dtype dt, int ndim, const int64_t *shape, void *data);
/* Triangular 0/1 mask (rows, cols) of dtype dt: m[i][j] = 1 where j - i <= k (lower != 0: torch.tril of ones with
 * diagonal k) or j - i >= k (lower = 0: torch.triu). For MADE's autoregressive masks: lower with k = -1 is strictly
 * lower. A constant. VAE_ERR_SHAPE for a negative size. */
VAE_API vae_tensor *vae_tri_mask(vae_ctx *ctx, vae_dtype dt, int64_t rows, int64_t cols, int64_t k, int lower);
/* Samples from the context's RNG: N(0,1), U[0,1), and Bernoulli(p) elementwise with p's shape (no gradient).
 * vae_randn reads the replayed values instead while vae_ctx_replay_normals is on (context.h). */
VAE_API vae_tensor *vae_randn(vae_ctx *ctx, vae_dtype dt, int ndim, const int64_t *shape);
VAE_API vae_tensor *vae_rand(vae_ctx *ctx, vae_dtype dt, int ndim, const int64_t *shape);
VAE_API vae_tensor *vae_bernoulli(vae_ctx *ctx, const vae_tensor *p);

/* ---- unary elementwise ---- */
VAE_API vae_tensor *vae_neg(vae_ctx *ctx, vae_tensor *x);
VAE_API vae_tensor *vae_exp(vae_ctx *ctx, vae_tensor *x);
VAE_API vae_tensor *vae_log(vae_ctx *ctx, vae_tensor *x);
VAE_API vae_tensor *vae_log1p(vae_ctx *ctx, vae_tensor *x);
VAE_API vae_tensor *vae_expm1(vae_ctx *ctx, vae_tensor *x);
VAE_API vae_tensor *vae_sqrt(vae_ctx *ctx, vae_tensor *x);
VAE_API vae_tensor *vae_square(vae_ctx *ctx, vae_tensor *x);
VAE_API vae_tensor *vae_abs(vae_ctx *ctx, vae_tensor *x);
VAE_API vae_tensor *vae_tanh(vae_ctx *ctx, vae_tensor *x);
VAE_API vae_tensor *vae_sigmoid(vae_ctx *ctx, vae_tensor *x);
VAE_API vae_tensor *vae_relu(vae_ctx *ctx, vae_tensor *x);
/* log(1 + e^x), stable for any x. */
VAE_API vae_tensor *vae_softplus(vae_ctx *ctx, vae_tensor *x);
/* log sigmoid(x) = -softplus(-x), stable for any x. */
VAE_API vae_tensor *vae_log_sigmoid(vae_ctx *ctx, vae_tensor *x);
/* x > 0 ? x : alpha * (e^x - 1). */
VAE_API vae_tensor *vae_elu(vae_ctx *ctx, vae_tensor *x, double alpha);
/* x > 0 ? x : slope * x. */
VAE_API vae_tensor *vae_leaky_relu(vae_ctx *ctx, vae_tensor *x, double slope);
VAE_API vae_tensor *vae_add_scalar(vae_ctx *ctx, vae_tensor *x, double c);
VAE_API vae_tensor *vae_mul_scalar(vae_ctx *ctx, vae_tensor *x, double c);
/* x^p elementwise (p a scalar). */
VAE_API vae_tensor *vae_pow_scalar(vae_ctx *ctx, vae_tensor *x, double p);
/* min(max(x, lo), hi); the gradient passes where lo <= x <= hi. VAE_ERR_ARG when lo > hi. */
VAE_API vae_tensor *vae_clamp(vae_ctx *ctx, vae_tensor *x, double lo, double hi);
/* log |Gamma(x)|, +inf at x = 0, -1, -2, ...; its gradient is digamma(x). Relative error < 1e-13 in f64 for x > 0
 * (f32: evaluated in double, rounded once). Thread-safe, unlike libm's lgamma. */
VAE_API vae_tensor *vae_lgamma(vae_ctx *ctx, vae_tensor *x);
/* digamma(x) = d lgamma / dx (-inf at 0, NaN at -1, -2, ... as PyTorch); its gradient is trigamma(x). Relative
 * error < 1e-13 in f64 for x > 0 except within ~1e-3 of its root 1.4616..., where it is < 1e-15 absolute. */
VAE_API vae_tensor *vae_digamma(vae_ctx *ctx, vae_tensor *x);

/* ---- binary elementwise (broadcasting) ---- */
VAE_API vae_tensor *vae_add(vae_ctx *ctx, vae_tensor *a, vae_tensor *b);
VAE_API vae_tensor *vae_sub(vae_ctx *ctx, vae_tensor *a, vae_tensor *b);
VAE_API vae_tensor *vae_mul(vae_ctx *ctx, vae_tensor *a, vae_tensor *b);
VAE_API vae_tensor *vae_div(vae_ctx *ctx, vae_tensor *a, vae_tensor *b);
/* Elementwise max/min; on ties the gradient goes to a. */
VAE_API vae_tensor *vae_maximum(vae_ctx *ctx, vae_tensor *a, vae_tensor *b);
VAE_API vae_tensor *vae_minimum(vae_ctx *ctx, vae_tensor *a, vae_tensor *b);
/* mask != 0 ? a : b, all three broadcast; the gradient goes to the chosen branch (none to mask). */
VAE_API vae_tensor *vae_where(vae_ctx *ctx, vae_tensor *mask, vae_tensor *a, vae_tensor *b);
/* Comparisons with broadcasting: 1 where a > b (gt), a < b (lt), a >= b (ge), a <= b (le), a == b (eq), else 0,
 * in the inputs' dtype (they must share it). Constants: never recorded, no gradient (feed them to vae_where or
 * vae_mul). NaN compares false everywhere. */
VAE_API vae_tensor *vae_gt(vae_ctx *ctx, vae_tensor *a, vae_tensor *b);
VAE_API vae_tensor *vae_lt(vae_ctx *ctx, vae_tensor *a, vae_tensor *b);
VAE_API vae_tensor *vae_ge(vae_ctx *ctx, vae_tensor *a, vae_tensor *b);
VAE_API vae_tensor *vae_le(vae_ctx *ctx, vae_tensor *a, vae_tensor *b);
VAE_API vae_tensor *vae_eq(vae_ctx *ctx, vae_tensor *a, vae_tensor *b);
/* Gradient scaling: the value of x (a copy, x's shape), whose backward passes s * dL/dy to x. s is a constant that
 * broadcasts to x's shape (same dtype); it gets no gradient even when it requires one. An estimator's tool: DReG
 * scales the path gradient into z_k by its normalized weight. VAE_ERR_SHAPE naming both shapes when s does not
 * broadcast to x's shape. */
VAE_API vae_tensor *vae_grad_scale(vae_ctx *ctx, vae_tensor *x, vae_tensor *s);

/* ---- reductions: `axes` lists naxes axes (negative allowed); naxes = 0 reduces over all axes ---- */
VAE_API vae_tensor *vae_sum(vae_ctx *ctx, vae_tensor *x, int naxes, const int *axes, int keepdim);
VAE_API vae_tensor *vae_mean(vae_ctx *ctx, vae_tensor *x, int naxes, const int *axes, int keepdim);
/* Max; the gradient goes to the first arg-max of each group. VAE_ERR_SHAPE when a group is empty. */
VAE_API vae_tensor *vae_max(vae_ctx *ctx, vae_tensor *x, int naxes, const int *axes, int keepdim);
/* log sum exp, stable; a group that is all -inf gives -inf with a zero (finite) gradient. */
VAE_API vae_tensor *vae_logsumexp(vae_ctx *ctx, vae_tensor *x, int naxes, const int *axes, int keepdim);
/* Shorthands over a single axis. */
VAE_API vae_tensor *vae_sum_axis(vae_ctx *ctx, vae_tensor *x, int axis, int keepdim);
VAE_API vae_tensor *vae_mean_axis(vae_ctx *ctx, vae_tensor *x, int axis, int keepdim);
/* Sum of all elements (0-d). */
VAE_API vae_tensor *vae_sum_all(vae_ctx *ctx, vae_tensor *x);

/* ---- along one axis (negative counts from the end); VAE_ERR_ARG naming the shape when axis is out of range ---- */
/* exp(x) / sum exp(x) along axis, stable (the max is subtracted first); x's shape. A line whose max is +-inf or NaN
 * gives NaN (as PyTorch). */
VAE_API vae_tensor *vae_softmax(vae_ctx *ctx, vae_tensor *x, int axis);
/* x - logsumexp(x) along axis, stable; x's shape. Entries of -inf in a line with a finite max give -inf. */
VAE_API vae_tensor *vae_log_softmax(vae_ctx *ctx, vae_tensor *x, int axis);
/* Running sum along axis: y_i = x_0 + ... + x_i, or with exclusive != 0 y_i = x_0 + ... + x_(i-1) (y_0 = 0).
 * Sums run in double for f32 too. */
VAE_API vae_tensor *vae_cumsum(vae_ctx *ctx, vae_tensor *x, int axis, int exclusive);

/* ---- linear algebra ---- */
/* (..., M, K) @ (..., K, N) -> (..., M, N); both operands at least 2-d; leading (batch) dims broadcast. */
VAE_API vae_tensor *vae_matmul(vae_ctx *ctx, vae_tensor *a, vae_tensor *b);

/* ---- fused ops (one tape node each; same values as their composed forms) ---- */
/* Activations for vae_linear_act. ELU and leaky ReLU take `alpha` (alpha > 0). */
typedef enum vae_act {
    VAE_ACT_IDENTITY,
    VAE_ACT_RELU,
    VAE_ACT_TANH,
    VAE_ACT_SIGMOID,
    VAE_ACT_SOFTPLUS,
    VAE_ACT_ELU,
    VAE_ACT_LEAKY_RELU,
    VAE_ACT_COUNT_
} vae_act;
/* act(x @ W + b): x (..., in), W (in, out), b (out,) or NULL -> (..., out). Leading dims of x (batch, particles)
 * are folded into one GEMM. VAE_ERR_ARG for alpha <= 0 with ELU/leaky ReLU or an unknown activation. */
VAE_API vae_tensor *vae_linear_act(vae_ctx *ctx, vae_tensor *x, vae_tensor *W, vae_tensor *b, vae_act act,
                           double alpha);
/* Bernoulli log-likelihood from logits, summed over the last dim: sum_d x_d l_d - softplus(l_d).
 * logits (..., D) and x (..., D) broadcast; the result has the broadcast shape without its last dim. */
VAE_API vae_tensor *vae_bernoulli_logits_lp(vae_ctx *ctx, vae_tensor *logits, vae_tensor *x);
/* KL(N(mu, exp(logvar)) || N(0, I)) summed over the last dim: 0.5 sum (mu^2 + exp(lv) - 1 - lv).
 * mu and logvar have the same shape (..., Z); the result is (...). */
VAE_API vae_tensor *vae_normal_kl_std(vae_ctx *ctx, vae_tensor *mu, vae_tensor *logvar);
/* log N(x; mu, sigma^2) elementwise with sigma = exp(log_scale): -((x - mu) / sigma)^2 / 2 - log_scale - log(2 pi) / 2.
 * x, mu and log_scale broadcast (the result has the broadcast shape); one pass and one tape node for the seven ops
 * of the composed form, with its bits. Every Normal's log_prob (models/dist_normal.c) is this, summed over the
 * event. */
VAE_API vae_tensor *vae_normal_logpdf(vae_ctx *ctx, vae_tensor *x, vae_tensor *mu, vae_tensor *log_scale);

/* ---- convolutions (PyTorch's layouts; one tape node each) ---- */
/* 2-d cross-correlation with zero padding: x (..., C, H, W), w (O, C, kh, kw), b (O,) or NULL ->
 * (..., O, OH, OW), OH = (H + 2 padding - kh) / stride + 1 (floor). Leading dims of x (batch, particles) are
 * images; x may have any strides. VAE_ERR_SHAPE naming both shapes for a channel or bias mismatch or an empty
 * output; VAE_ERR_ARG for stride < 1 or padding < 0. */
VAE_API vae_tensor *vae_conv2d(vae_ctx *ctx, vae_tensor *x, vae_tensor *w, vae_tensor *b, int stride, int padding);
/* Transposed convolution (the gradient of conv2d with respect to its input): x (..., C, H, W), w (C, O, kh, kw),
 * b (O,) or NULL -> (..., O, OH, OW), OH = (H - 1) stride - 2 padding + kh + output_padding. Errors as
 * vae_conv2d, and VAE_ERR_ARG unless 0 <= output_padding < stride. */
VAE_API vae_tensor *vae_conv_transpose2d(vae_ctx *ctx, vae_tensor *x, vae_tensor *w, vae_tensor *b, int stride,
                                         int padding, int output_padding);
/* y = act(conv(x, w) + b) as one node: the activation runs in place on the fresh output and the backward reads
 * act' from it (as vae_linear_act; ELU and leaky ReLU take alpha > 0, else VAE_ERR_ARG). It saves the activation's
 * own tensor, node and passes. */
VAE_API vae_tensor *vae_conv2d_act(vae_ctx *ctx, vae_tensor *x, vae_tensor *w, vae_tensor *b, int stride,
                                   int padding, vae_act act, double alpha);
VAE_API vae_tensor *vae_conv_transpose2d_act(vae_ctx *ctx, vae_tensor *x, vae_tensor *w, vae_tensor *b,
                                             int stride, int padding, int output_padding, vae_act act,
                                             double alpha);

/* ---- movement ---- */
/* Reshape (one dim may be -1): a view when the strides allow, otherwise a contiguous copy. */
VAE_API vae_tensor *vae_reshape(vae_ctx *ctx, vae_tensor *x, int ndim, const int64_t *shape);
VAE_API vae_tensor *vae_permute(vae_ctx *ctx, vae_tensor *x, const int *perm);
VAE_API vae_tensor *vae_transpose(vae_ctx *ctx, vae_tensor *x, int d0, int d1);
/* start:stop:step along axis (Python semantics, step >= 1). */
VAE_API vae_tensor *vae_slice(vae_ctx *ctx, vae_tensor *x, int axis, int64_t start, int64_t stop,
                      int64_t step);
/* Broadcast view to `shape` (read-only when a dim is expanded). */
VAE_API vae_tensor *vae_expand(vae_ctx *ctx, vae_tensor *x, int ndim, const int64_t *shape);
VAE_API vae_tensor *vae_squeeze(vae_ctx *ctx, vae_tensor *x, int axis);
VAE_API vae_tensor *vae_unsqueeze(vae_ctx *ctx, vae_tensor *x, int axis);
/* Contiguous copy (x itself when already contiguous and not a broadcast view). */
VAE_API vae_tensor *vae_contiguous(vae_ctx *ctx, vae_tensor *x);
/* Convert to dtype dt (x itself when already dt). */
VAE_API vae_tensor *vae_cast(vae_ctx *ctx, vae_tensor *x, vae_dtype dt);
/* Join n tensors along an existing axis (all other dims equal). */
VAE_API vae_tensor *vae_concat(vae_ctx *ctx, int n, vae_tensor *const *xs, int axis);
/* Join n same-shape tensors along a new axis. */
VAE_API vae_tensor *vae_stack(vae_ctx *ctx, int n, vae_tensor *const *xs, int axis);
/* Same values, no gradient path (stop-gradient): a view that is never recorded and never requires grad. */
VAE_API vae_tensor *vae_detach(vae_ctx *ctx, vae_tensor *x);

#endif
