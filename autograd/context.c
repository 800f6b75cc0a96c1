#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "tensor/scratch.h"

vae_ctx *vae_ctx_new(size_t arena_cap) {
    vae_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return NULL;
    ctx->arena = vae_arena_new(arena_cap);
    if (!ctx->arena) {
        free(ctx);
        return NULL;
    }
    ctx->grad_enabled = 1;
    vae_rng_seed(&ctx->rng, 0);
    return ctx;
}

void vae_ctx_free(vae_ctx *ctx) {
    if (!ctx) return;
    vae_arena_free(ctx->arena);
    free(ctx);
}

void vae_ctx_reset(vae_ctx *ctx) {
    if (!ctx) return;
    vae_arena_reset(ctx->arena);
    ctx->tape = NULL;
    ctx->tape_len = 0;
    ctx->backward_done = 0;
}

vae_status vae_ctx_status(const vae_ctx *ctx) {
    return ctx ? ctx->err.code : VAE_ERR_NULL;
}
const char *vae_ctx_message(const vae_ctx *ctx) {
    return ctx ? ctx->err.msg : "NULL context";
}
void vae_ctx_clear_error(vae_ctx *ctx) {
    if (ctx) vae_error_clear(&ctx->err);
}
vae_error *vae_ctx_error(vae_ctx *ctx) {
    return ctx ? &ctx->err : NULL;
}
vae_arena *vae_ctx_arena(vae_ctx *ctx) {
    return ctx ? ctx->arena : NULL;
}
vae_rng *vae_ctx_rng(vae_ctx *ctx) {
    return ctx ? &ctx->rng : NULL;
}
void vae_ctx_seed(vae_ctx *ctx, uint64_t seed) {
    if (ctx) vae_rng_seed(&ctx->rng, seed);
}
void vae_ctx_replay_normals(vae_ctx *ctx, const double *normals, int64_t n) {
    if (!ctx) return;
    ctx->replay = normals && n > 0 ? normals : NULL;
    ctx->replay_n = ctx->replay ? n : 0;
    ctx->replay_pos = 0;
}
int64_t vae_ctx_replay_left(const vae_ctx *ctx) {
    return ctx && ctx->replay ? ctx->replay_n - ctx->replay_pos : 0;
}
void vae_ctx_set_noise_rows(vae_ctx *ctx, int64_t total, int64_t lo) {
    if (!ctx) return;
    ctx->noise_total = total > 0 && lo >= 0 && lo < total ? total : 0;
    ctx->noise_lo = ctx->noise_total ? lo : 0;
}

int vae_set_grad_enabled(vae_ctx *ctx, int enabled) {
    if (!ctx) return 0;
    int prev = ctx->grad_enabled;
    ctx->grad_enabled = enabled != 0;
    return prev;
}
int vae_grad_enabled(const vae_ctx *ctx) {
    return ctx ? ctx->grad_enabled : 0;
}
int vae_set_anomaly(vae_ctx *ctx, int enabled) {
    if (!ctx) return 0;
    int prev = ctx->anomaly;
    ctx->anomaly = enabled != 0;
    return prev;
}

vae_status vae_requires_grad(vae_ctx *ctx, vae_tensor *t, int on) {
    if (!ctx) return VAE_ERR_NULL;
    if (!t) return vae_error_set(&ctx->err, VAE_ERR_ARG, "requires_grad: NULL tensor");
    if (t->node)
        return vae_error_set(&ctx->err, VAE_ERR_ARG,
                             "requires_grad: tensor is the output of an op, not a leaf");
    if (on)
        t->flags |= VAE_TF_REQUIRES_GRAD;
    else
        t->flags &= ~(uint32_t)VAE_TF_REQUIRES_GRAD;
    return VAE_OK;
}

int64_t vae_tape_length(const vae_ctx *ctx) {
    return ctx ? ctx->tape_len : 0;
}
int vae_ctx_op_seen(const vae_ctx *ctx, int op) {
    if (!ctx || op < 0 || op >= VAE_OP_COUNT_) return 0;
    return (int)(ctx->ops_seen[op / 64] >> (op % 64) & 1u);
}

vae_tensor *vae__fail(vae_ctx *ctx, vae_status code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vae_error_setv(&ctx->err, code, fmt, ap);
    va_end(ap);
    return NULL;
}

int vae__inputs_ok(vae_ctx *ctx, const char *op, int n, const vae_tensor *const *in) {
    if (!ctx) return 0;
    if (ctx->prof) vae__prof_start(ctx);
    for (int i = 0; i < n; i++)
        if (!in[i]) {
            /* NULL usually means an earlier op failed: that error is already stored and explains it */
            vae_error_set(&ctx->err, VAE_ERR_NULL, "%s: input %d is NULL", op, i);
            return 0;
        }
#ifndef VAE_NO_STALE_CHECK
    /* A tensor of this context's arena from an earlier generation was kept across vae_ctx_reset: its struct
     * and data may now belong to other tensors. (Poisoned memory, in debug builds, reads as a foreign arena
     * id 0xA5A5A5A5: refused too.) */
    uint32_t id, gen;
    vae__arena_stamp(ctx->arena, &id, &gen);
    for (int i = 0; i < n; i++) {
        const vae_tensor *t = in[i];
        if ((t->arena_id == id && t->arena_gen != gen) || t->arena_id == 0xA5A5A5A5u) {
            vae_error_set(&ctx->err, VAE_ERR_STATE,
                          "%s: input %d is stale: allocated before the last vae_ctx_reset", op, i);
            return 0;
        }
    }
#endif
    return 1;
}

int vae__same_dtype(vae_ctx *ctx, const char *op, const vae_tensor *a, const vae_tensor *b) {
    if (a->dtype == b->dtype) return 1;
    char b1[160], b2[160];
    vae_error_set(&ctx->err, VAE_ERR_DTYPE, "%s: %s %s vs %s %s: dtypes differ", op,
                  vae_dtype_name(a->dtype), vae__shape(b1, sizeof b1, a), vae_dtype_name(b->dtype),
                  vae__shape(b2, sizeof b2, b));
    return 0;
}

vae_tensor *vae__out(vae_ctx *ctx, vae_dtype dt, int ndim, const int64_t *shape) {
    return vae_tensor_alloc(ctx->arena, &ctx->err, dt, ndim, shape);
}

const char *vae__shape(char *buf, int len, const vae_tensor *t) {
    return vae_shape_str(buf, len, t->ndim, t->shape);
}
