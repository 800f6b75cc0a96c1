/* matmul: (..., M, K) @ (..., K, N) with broadcast batch dims. Backward: dA += dC @ B^T, dB += A^T @ dC, both
 * as strided views (no transposed copies); a broadcast operand's gradient sums over the batch inside the gemm
 * kernel. */
#include <string.h>

#include "autograd/ops.h"
#include "internal.h"

/* View t as C's batch dims (broadcast, stride 0 where t is broadcast) + t's own last two dims, optionally with
 * the last two swapped (transposed). */
static vae_tensor batch_view(const vae_tensor *t, int nd, const int64_t *cshape, int transpose) {
    vae_tensor v = *t;
    int nb = nd - 2, tb = t->ndim - 2;
    for (int i = 0; i < nb; i++) {
        int k = i - (nb - tb);
        v.shape[i] = cshape[i];
        v.stride[i] = (k < 0 || t->shape[k] == 1) ? 0 : t->stride[k];
    }
    int r = transpose ? 1 : 0;
    v.shape[nd - 2] = t->shape[t->ndim - 2 + r];
    v.stride[nd - 2] = t->stride[t->ndim - 2 + r];
    v.shape[nd - 1] = t->shape[t->ndim - 1 - r];
    v.stride[nd - 1] = t->stride[t->ndim - 1 - r];
    v.ndim = nd;
    return v;
}

vae_tensor *vae_matmul(vae_ctx *ctx, vae_tensor *a, vae_tensor *b) {
    vae_tensor *in[2] = {a, b};
    if (!vae__inputs_ok(ctx, "matmul", 2, (const vae_tensor *const *)in)) return NULL;
    char b1[160], b2[160];
    if (a->ndim < 2 || b->ndim < 2)
        return vae__fail(ctx, VAE_ERR_SHAPE, "matmul: %s x %s: both operands must be at least 2-d",
                         vae__shape(b1, sizeof b1, a), vae__shape(b2, sizeof b2, b));
    int64_t K = a->shape[a->ndim - 1];
    if (b->shape[b->ndim - 2] != K)
        return vae__fail(ctx, VAE_ERR_SHAPE, "matmul: %s x %s: inner dims %lld != %lld",
                         vae__shape(b1, sizeof b1, a), vae__shape(b2, sizeof b2, b), (long long)K,
                         (long long)b->shape[b->ndim - 2]);
    if (!vae__same_dtype(ctx, "matmul", a, b)) return NULL;
    int nb;
    int64_t shape[VAE_MAX_DIMS];
    if (!vae_broadcast_shape(a->ndim - 2, a->shape, b->ndim - 2, b->shape, &nb, shape))
        return vae__fail(ctx, VAE_ERR_SHAPE, "matmul: %s x %s: batch dims do not broadcast",
                         vae__shape(b1, sizeof b1, a), vae__shape(b2, sizeof b2, b));
    int nd = nb + 2;
    shape[nb] = a->shape[a->ndim - 2];
    shape[nb + 1] = b->shape[b->ndim - 1];
    vae_tensor *y = vae__out(ctx, a->dtype, nd, shape);
    if (!y) return NULL;
    vae_tensor av = batch_view(a, nd, shape, 0), bv = batch_view(b, nd, shape, 0);
    vae_k_matmul(&av, &bv, y, 0.0);
    if (vae__wants_grad(ctx, 2, in) && !vae__record(ctx, VAE_OP_MATMUL, y, 2, in)) return NULL;
    return vae__done(ctx, VAE_OP_MATMUL, y);
}

void vae__bw_matmul(vae_ctx *ctx, vae_node *n) {
    vae_tensor *a = n->in[0], *b = n->in[1], *y = n->out, *gy = y->grad;
    int nd = y->ndim;
    if (a->flags & VAE_TF_REQUIRES_GRAD) {
        vae_tensor *ga = vae__grad(ctx, a);
        if (!ga) return;
        vae_tensor gav = batch_view(ga, nd, y->shape, 0), btv = batch_view(b, nd, y->shape, 1);
        vae_k_matmul(gy, &btv, &gav, 1.0);
    }
    if (b->flags & VAE_TF_REQUIRES_GRAD) {
        vae_tensor *gb = vae__grad(ctx, b);
        if (!gb) return;
        vae_tensor gbv = batch_view(gb, nd, y->shape, 0), atv = batch_view(a, nd, y->shape, 1);
        vae_k_matmul(&atv, gy, &gbv, 1.0);
    }
}
