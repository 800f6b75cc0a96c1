/* The tape: recording nodes, the reverse walk, and gradient accumulation with un-broadcasting. */
#include <string.h>

#include "autograd/profile.h"
#include "internal.h"

extern const vae__backward_fn vae__backward_table[];

int vae__wants_grad(const vae_ctx *ctx, int n, vae_tensor *const *in) {
    if (!ctx->grad_enabled) return 0;
    for (int i = 0; i < n; i++)
        if (in[i] && (in[i]->flags & VAE_TF_REQUIRES_GRAD)) return 1;
    return 0;
}

vae_node *vae__record(vae_ctx *ctx, int op, vae_tensor *out, int nin, vae_tensor *const *in) {
    vae_node *n = vae_arena_alloc(ctx->arena, sizeof *n, &ctx->err);
    if (!n) return NULL;
    memset(n, 0, sizeof *n);
    n->op = op;
    n->out = out;
    n->nin = nin;
    for (int i = 0; i < nin && i < VAE_NODE_MAX_IN; i++) n->in[i] = in[i];
    n->prev = ctx->tape;
    ctx->tape = n;
    ctx->tape_len++;
    ctx->ops_seen[op / 64] |= (uint64_t)1 << (op % 64);
    out->node = n;
    out->flags |= VAE_TF_REQUIRES_GRAD;
    return n;
}

vae_tensor *vae__done(vae_ctx *ctx, int op, vae_tensor *out) {
    if (ctx->prof) vae__prof_forward(ctx, op);
    if (out && ctx->anomaly && !vae_k_all_finite(out)) {
        char b[160];
        return vae__fail(ctx, VAE_ERR_NAN, "anomaly: %s produced NaN/Inf in its output %s",
                         vae_op_name(op), vae__shape(b, sizeof b, out));
    }
    return out;
}

vae_tensor *vae__grad(vae_ctx *ctx, vae_tensor *t) {
    if (t->grad) return t->grad;
    vae_tensor *g = vae__out(ctx, t->dtype, t->ndim, t->shape);
    if (!g) return NULL;
    memset(g->data, 0, (size_t)vae_numel(g) * vae_dtype_size(g->dtype));
    t->grad = g;
    return g;
}

vae_tensor *vae__grad_fresh(vae_ctx *ctx, vae_tensor *t, int *fresh) {
    *fresh = t->grad == NULL;
    if (*fresh) t->grad = vae__out(ctx, t->dtype, t->ndim, t->shape);
    return t->grad;
}

void vae__accum(vae_ctx *ctx, vae_tensor *x, const vae_tensor *g) {
    if (!x || !(x->flags & VAE_TF_REQUIRES_GRAD)) return;
    vae_tensor *gx = vae__grad(ctx, x);
    if (!gx) return;
    /* View gx with g's shape: stride 0 along the dims where x was broadcast, so those terms sum up. */
    vae_tensor v = *gx;
    v.ndim = g->ndim;
    memcpy(v.shape, g->shape, sizeof v.shape);
    vae_broadcast_strides(gx, g->ndim, g->shape, v.stride);
    vae_k_accum(&v, g);
}

static vae_status backward_from(vae_ctx *ctx, vae_tensor *y, const vae_tensor *seed) {
    char b[160];
    if (!ctx) return VAE_ERR_NULL;
    if (ctx->err.code) return ctx->err.code;
    if (!y) return vae_error_set(&ctx->err, VAE_ERR_NULL, "backward: NULL loss");
    if (ctx->backward_done)
        return vae_error_set(&ctx->err, VAE_ERR_STATE,
                             "backward: already ran on this tape; reset the context first");
    if (!(y->flags & VAE_TF_REQUIRES_GRAD))
        return vae_error_set(&ctx->err, VAE_ERR_STATE,
                             "backward: the loss %s does not depend on anything that requires grad",
                             vae__shape(b, sizeof b, y));
    vae_tensor *g = vae__grad(ctx, y);
    if (!g) return ctx->err.code;
    if (seed)
        vae_k_copy(g, seed);
    else
        vae_k_fill(g, 1.0);
    ctx->backward_done = 1;
    for (vae_node *n = ctx->tape; n; n = n->prev) {
        if (!n->out->grad) continue; /* no gradient flows through this node */
        if (ctx->prof) {
            const int64_t t0 = vae_profile_now_ns();
            vae__backward_table[n->op](ctx, n);
            vae__prof_backward(ctx, n->op, vae_profile_now_ns() - t0);
        } else {
            vae__backward_table[n->op](ctx, n);
        }
        if (ctx->err.code) return ctx->err.code;
        if (ctx->anomaly) {
            int nin = n->ins ? n->nin : (n->nin < VAE_NODE_MAX_IN ? n->nin : VAE_NODE_MAX_IN);
            for (int i = 0; i < nin; i++) {
                vae_tensor *x = n->ins ? n->ins[i] : n->in[i];
                if (x && x->grad && !vae_k_all_finite(x->grad))
                    return vae_error_set(
                        &ctx->err, VAE_ERR_NAN,
                        "anomaly: backward of %s produced NaN/Inf in the gradient of "
                        "input %d %s",
                        vae_op_name(n->op), i, vae__shape(b, sizeof b, x));
            }
        }
    }
    return VAE_OK;
}

vae_status vae_backward(vae_ctx *ctx, vae_tensor *loss) {
    if (ctx && !ctx->err.code && loss && vae_numel(loss) != 1) {
        char b[160];
        return vae_error_set(&ctx->err, VAE_ERR_SHAPE,
                             "backward: the loss must be a single element, got %s",
                             vae__shape(b, sizeof b, loss));
    }
    return backward_from(ctx, loss, NULL);
}

vae_status vae_backward_seeded(vae_ctx *ctx, vae_tensor *y, const vae_tensor *seed) {
    if (ctx && !ctx->err.code && y && (!seed || !vae_same_shape(y, seed))) {
        char b1[160], b2[160];
        return vae_error_set(&ctx->err, VAE_ERR_SHAPE, "backward: seed %s does not match output %s",
                             seed ? vae__shape(b1, sizeof b1, seed) : "NULL",
                             vae__shape(b2, sizeof b2, y));
    }
    return backward_from(ctx, y, seed);
}
