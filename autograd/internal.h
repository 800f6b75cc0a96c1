/* internal.h - (private to autograd/ and layers above that add ops) the context, tape nodes and op helpers.
 *
 * An op builder follows one pattern:
 *   1. validate inputs (NULL in -> NULL out quietly; shape/dtype errors name the op and the shapes),
 *   2. allocate the output in the arena (vae__out),
 *   3. run the kernel,
 *   4. vae__record(...) when an input requires grad (stores what backward needs in the node),
 *   5. return vae__done(ctx, node-or-op, out) (anomaly check).
 * Backward functions read node->out->grad and accumulate into inputs with vae__accum (which un-broadcasts).
 */
#ifndef VAE_AUTOGRAD_INTERNAL_H
#define VAE_AUTOGRAD_INTERNAL_H

#include "autograd/context.h"
#include "autograd/op_table.h"
#include "tensor/kernels.h"
#include "tensor/view.h"

#define VAE_NODE_MAX_IN 4

typedef struct vae_node {
    struct vae_node *prev; /* tape order: creation order is topological */
    int op;                /* vae_op */
    int nin;
    vae_tensor *out;
    vae_tensor *in[VAE_NODE_MAX_IN]; /* NULL entries for inputs that need no grad are allowed */
    vae_tensor **ins;                /* for variadic ops (concat): nin inputs */
    double p[4];                     /* scalar arguments */
    int64_t ip[VAE_MAX_DIMS + 4];    /* integer arguments */
    void *saved;                     /* op-specific data cached by forward (e.g. arg-max indices) */
} vae_node;

struct vae_ctx {
    vae_arena *arena;
    vae_error err;
    vae_rng rng;
    int64_t noise_total, noise_lo; /* vae_ctx_set_noise_rows; noise_total 0 = off */
    vae_node *tape;                /* last node */
    int64_t tape_len;
    int grad_enabled;
    int anomaly;
    int backward_done;
    uint64_t ops_seen[(VAE_OP_COUNT_ + 63) / 64];
    const double *replay; /* vae_ctx_replay_normals: vae_randn reads replay[replay_pos..replay_n) */
    int64_t replay_n, replay_pos;
    struct vae_profile *prof; /* vae_ctx_set_profile; NULL = off */
    int64_t prof_mark;        /* ns: the latest op start or end (profile.c) */
};

typedef void (*vae__backward_fn)(vae_ctx *ctx, vae_node *n);

/* Set the context's error (first sticks); returns NULL so builders can `return vae__fail(...)`. */
vae_tensor *vae__fail(vae_ctx *ctx, vae_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* 1 when ctx is usable and all n inputs are non-NULL; a NULL input with no earlier error records VAE_ERR_NULL
 * naming `op`. */
int vae__inputs_ok(vae_ctx *ctx, const char *op, int n, const vae_tensor *const *in);
/* 1 when a and b share a dtype, else records VAE_ERR_DTYPE naming op. */
int vae__same_dtype(vae_ctx *ctx, const char *op, const vae_tensor *a, const vae_tensor *b);
/* New contiguous output in the arena. */
vae_tensor *vae__out(vae_ctx *ctx, vae_dtype dt, int ndim, const int64_t *shape);
/* 1 when grad mode is on and any of the n inputs requires grad. */
int vae__wants_grad(const vae_ctx *ctx, int n, vae_tensor *const *in);
/* Append a node for `out` (marking it as requiring grad); NULL (error set) on OOM. */
vae_node *vae__record(vae_ctx *ctx, int op, vae_tensor *out, int nin, vae_tensor *const *in);
/* Anomaly check after forward; returns out, or NULL with VAE_ERR_NAN. */
vae_tensor *vae__done(vae_ctx *ctx, int op, vae_tensor *out);
/* The gradient buffer of t (contiguous, t's shape), allocated zeroed on first use; NULL on OOM. */
vae_tensor *vae__grad(vae_ctx *ctx, vae_tensor *t);
/* Like vae__grad, but a gradient allocated now is NOT zeroed and *fresh is set to 1 (else 0): the caller must then
 * write every element (instead of adding), which saves the memset and a pass of adds. NULL on OOM. */
vae_tensor *vae__grad_fresh(vae_ctx *ctx, vae_tensor *t, int *fresh);
/* x->grad += g summed over the dims where x was broadcast (x must broadcast to g's shape). No-op when x is NULL
 * or does not require grad. */
void vae__accum(vae_ctx *ctx, vae_tensor *x, const vae_tensor *g);
/* Format a tensor's shape into buf (for messages). */
const char *vae__shape(char *buf, int len, const vae_tensor *t);
/* A contiguous t (..., cols) viewed as 2-d rows (numel / cols, cols), for the row kernels (GEMM, bias + act). */
vae_tensor vae__as_rows(const vae_tensor *t);
/* 1 when act (with alpha: ELU and leaky ReLU need alpha > 0) is a fused op's valid activation, else 0 with
 * VAE_ERR_ARG naming op in ctx. */
int vae__act_ok(vae_ctx *ctx, const char *op, int act, double alpha); /* act: a vae_act */

/* Profile hooks (profile.c), called only when ctx->prof is set: an op starts (vae__inputs_ok), an op ends
 * (vae__done: its forward time is from the latest mark), a backward function took ns. */
void vae__prof_start(vae_ctx *ctx);
void vae__prof_forward(vae_ctx *ctx, int op);
void vae__prof_backward(vae_ctx *ctx, int op, int64_t ns);

/* Backward functions named in op_table.h. */
#define VAE_X_DECL(e, name, arity, bw) void vae__bw_##bw(vae_ctx *ctx, vae_node *n);
VAE_OPS(VAE_X_DECL)
#undef VAE_X_DECL

#endif
