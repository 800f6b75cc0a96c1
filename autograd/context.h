/* context.h - the autograd context: step arena + tape + sticky error + grad mode + RNG.
 *
 * One context per thread of work. A training step is: vae_ctx_reset, build the objective with the ops in ops.h
 * (each op runs eagerly and records itself on the tape when an input requires grad), check vae_ctx_status once,
 * vae_backward, optimizer step. Everything allocated during the step lives in the context's arena and is invalid
 * after the next reset.
 */
#ifndef VAE_CONTEXT_H
#define VAE_CONTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "tensor/arena.h"
#include "tensor/error.h"
#include "tensor/rng.h"
#include "tensor/tensor.h"

typedef struct vae_ctx vae_ctx;

/* New context whose arena may hold at most arena_cap bytes (0 = no cap); RNG seeded with 0. NULL on OOM. */
VAE_API vae_ctx *vae_ctx_new(size_t arena_cap);
/* Free the context and its arena; NULL is harmless. */
VAE_API void vae_ctx_free(vae_ctx *ctx);
/* Start a new step: forget the tape and every arena tensor (O(1), memory kept). The error and RNG state stay. */
VAE_API void vae_ctx_reset(vae_ctx *ctx);

/* The first error since the last clear (VAE_OK if none), and its message ("" if none). */
VAE_API vae_status vae_ctx_status(const vae_ctx *ctx);
VAE_API const char *vae_ctx_message(const vae_ctx *ctx);
/* Forget the stored error. */
VAE_API void vae_ctx_clear_error(vae_ctx *ctx);
/* The error record, for layers above that report into the same sticky error. */
VAE_API vae_error *vae_ctx_error(vae_ctx *ctx);

VAE_API vae_arena *vae_ctx_arena(vae_ctx *ctx);
VAE_API vae_rng *vae_ctx_rng(vae_ctx *ctx);
/* Reseed the context's RNG. */
VAE_API void vae_ctx_seed(vae_ctx *ctx, uint64_t seed);
/* Noise replay (golden tests, common random numbers): until called again, every vae_randn draw (all Normal
 * rsample/sample noise) takes its values in order from normals[0..n) instead of the RNG; the caller keeps the
 * buffer alive. A draw that needs more values than remain fails with VAE_ERR_ARG (in ctx) and consumes none.
 * normals NULL or n 0 ends the replay. */
VAE_API void vae_ctx_replay_normals(vae_ctx *ctx, const double *normals, int64_t n);
/* How many replayed values are still unread (0 when not replaying). */
VAE_API int64_t vae_ctx_replay_left(const vae_ctx *ctx);
/* Data-parallel noise: this ctx computes rows [lo, lo + b) of a batch of `total` rows. From now on vae_randn and
 * vae_rand draw, for a shape (..., b, E) (the batch dim is the second to last; the only dim of a 1-D shape), the
 * values a shape (..., total, E) would get from the same RNG state and keep rows [lo, lo + b): the shard sees the
 * single-process noise of its rows and the RNG advances as in the single-process run. A shape whose batch dim does
 * not fit (lo + b > total) draws as usual. total = 0 turns it off (the default). Samplers that read vae_ctx_rng
 * directly (the Laplace distribution) are not windowed. */
VAE_API void vae_ctx_set_noise_rows(vae_ctx *ctx, int64_t total, int64_t lo);

/* Grad mode: when off, ops record nothing (a no-grad scope). Returns the previous setting. */
VAE_API int vae_set_grad_enabled(vae_ctx *ctx, int enabled);
VAE_API int vae_grad_enabled(const vae_ctx *ctx);
/* Anomaly mode: when on, the first op whose output (forward) or input gradient (backward) holds NaN/Inf fails
 * with VAE_ERR_NAN naming that op. Returns the previous setting. */
VAE_API int vae_set_anomaly(vae_ctx *ctx, int enabled);

/* Mark a leaf tensor (one not produced by a recorded op) as requiring grad, or not. VAE_ERR_ARG (in ctx) for a
 * NULL tensor or a non-leaf; then nothing changes. */
VAE_API vae_status vae_requires_grad(vae_ctx *ctx, vae_tensor *t, int on);

/* Backward from a single-element loss: dL/dt is accumulated (+=) into t->grad of every tensor that requires grad
 * (parameters' gradients go to their own buffers). Fails (code returned and stored, gradients of parameters
 * possibly partly accumulated only on OOM) when the context already holds an error, loss is NULL or not a single
 * element, nothing requires grad, or backward already ran since the last reset (VAE_ERR_STATE). */
VAE_API vae_status vae_backward(vae_ctx *ctx, vae_tensor *loss);
/* Same, seeding dL/dy with the values of `seed` (y's shape, any dtype) instead of 1; y may be any shape. */
VAE_API vae_status vae_backward_seeded(vae_ctx *ctx, vae_tensor *y, const vae_tensor *seed);

/* Number of ops recorded on the tape since the last reset. */
VAE_API int64_t vae_tape_length(const vae_ctx *ctx);
/* 1 when op `op` (a vae_op) has been recorded by this context since its creation (the gradcheck meta-test). */
VAE_API int vae_ctx_op_seen(const vae_ctx *ctx, int op);

#endif
