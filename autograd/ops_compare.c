/* Constant masks: elementwise comparisons (broadcast, 0/1 of the inputs' dtype) and triangular masks. None is
 * recorded on the tape: a mask selects (vae_where, vae_mul), it carries no gradient. */
#include "autograd/ops.h"
#include "internal.h"

static vae_tensor *compare(vae_ctx *ctx, vae_binary k, const char *name, vae_tensor *a,
                           vae_tensor *b) {
    vae_tensor *in[2] = {a, b};
    if (!vae__inputs_ok(ctx, name, 2, (const vae_tensor *const *)in)) return NULL;
    if (!vae__same_dtype(ctx, name, a, b)) return NULL;
    int nd;
    int64_t shape[VAE_MAX_DIMS];
    if (!vae_broadcast_shape(a->ndim, a->shape, b->ndim, b->shape, &nd, shape)) {
        char b1[160], b2[160];
        return vae__fail(ctx, VAE_ERR_SHAPE, "%s: %s and %s do not broadcast", name,
                         vae__shape(b1, sizeof b1, a), vae__shape(b2, sizeof b2, b));
    }
    vae_tensor *y = vae__out(ctx, a->dtype, nd, shape);
    if (y) vae_k_binary(k, a, b, y);
    return y;
}

vae_tensor *vae_gt(vae_ctx *c, vae_tensor *a, vae_tensor *b) {
    return compare(c, VAE_B_GT, "gt", a, b);
}
vae_tensor *vae_lt(vae_ctx *c, vae_tensor *a, vae_tensor *b) {
    return compare(c, VAE_B_LT, "lt", a, b);
}
vae_tensor *vae_ge(vae_ctx *c, vae_tensor *a, vae_tensor *b) {
    return compare(c, VAE_B_GE, "ge", a, b);
}
vae_tensor *vae_le(vae_ctx *c, vae_tensor *a, vae_tensor *b) {
    return compare(c, VAE_B_LE, "le", a, b);
}
vae_tensor *vae_eq(vae_ctx *c, vae_tensor *a, vae_tensor *b) {
    return compare(c, VAE_B_EQ, "eq", a, b);
}

/* m[i][j] = 1 when j - i <= k (lower) or j - i >= k (upper): torch.tril / torch.triu of a ones matrix with
 * diagonal = k. (rows, cols). */
vae_tensor *vae_tri_mask(vae_ctx *ctx, vae_dtype dt, int64_t rows, int64_t cols, int64_t k,
                         int lower) {
    if (!ctx) return NULL;
    if (rows < 0 || cols < 0)
        return vae__fail(ctx, VAE_ERR_SHAPE, "tri_mask: (%lld,%lld): negative size",
                         (long long)rows, (long long)cols);
    vae_tensor *m = vae__out(ctx, dt, 2, (int64_t[]){rows, cols});
    if (!m) return NULL;
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++) {
            int on = lower ? j - i <= k : j - i >= k;
            if (dt == VAE_F64)
                ((double *)m->data)[i * cols + j] = on;
            else
                ((float *)m->data)[i * cols + j] = (float)on;
        }
    return m;
}
