/* Leaf creation: constants, caller buffers and random draws. None of these is recorded on the tape. */
#include <math.h>
#include <string.h>

#include "autograd/ops.h"
#include "internal.h"

vae_tensor *vae_full(vae_ctx *ctx, vae_dtype dt, int ndim, const int64_t *shape, double value) {
    if (!ctx) return NULL;
    vae_tensor *t = vae__out(ctx, dt, ndim, shape);
    if (t) vae_k_fill(t, value);
    return t;
}

vae_tensor *vae_zeros(vae_ctx *ctx, vae_dtype dt, int ndim, const int64_t *shape) {
    return vae_full(ctx, dt, ndim, shape, 0.0);
}

vae_tensor *vae_ones(vae_ctx *ctx, vae_dtype dt, int ndim, const int64_t *shape) {
    return vae_full(ctx, dt, ndim, shape, 1.0);
}

vae_tensor *vae_scalar(vae_ctx *ctx, vae_dtype dt, double v) {
    return vae_full(ctx, dt, 0, NULL, v);
}

vae_tensor *vae_arange(vae_ctx *ctx, vae_dtype dt, double start, double stop, double step) {
    if (!ctx) return NULL;
    if (step == 0 || !isfinite(start) || !isfinite(stop) || !isfinite(step))
        return vae__fail(ctx, VAE_ERR_ARG,
                         "arange: start %g, stop %g, step %g: need finite values and step != 0",
                         start, stop, step);
    double cnt = ceil((stop - start) / step);
    if (cnt < 0) cnt = 0;
    if (cnt > 1e15) return vae__fail(ctx, VAE_ERR_ARG, "arange: %g elements is too many", cnt);
    int64_t n = (int64_t)cnt;
    vae_tensor *t = vae__out(ctx, dt, 1, &n);
    if (!t) return NULL;
    for (int64_t i = 0; i < n; i++) vae_set_flat(t, i, start + (double)i * step);
    return t;
}

vae_tensor *vae_from_data(vae_ctx *ctx, vae_dtype dt, int ndim, const int64_t *shape,
                          vae_dtype src_dt, const void *src) {
    if (!ctx) return NULL;
    vae_tensor *t = vae__out(ctx, dt, ndim, shape);
    if (!t) return NULL;
    int64_t n = vae_numel(t);
    if (n && !src) return vae__fail(ctx, VAE_ERR_NULL, "from_data: NULL source buffer");
    if (src_dt != VAE_F32 && src_dt != VAE_F64)
        return vae__fail(ctx, VAE_ERR_DTYPE, "from_data: unknown source dtype %d", (int)src_dt);
    vae_tensor s = *t;
    s.dtype = src_dt;
    s.data = (void *)src;
    s.offset = 0;
    vae_k_copy(t, &s);
    return t;
}

vae_tensor *vae_wrap(vae_ctx *ctx, vae_dtype dt, int ndim, const int64_t *shape, void *data) {
    if (!ctx) return NULL;
    return vae_tensor_wrap(ctx->arena, &ctx->err, dt, ndim, shape, data);
}

vae_tensor *vae_randn(vae_ctx *ctx, vae_dtype dt, int ndim, const int64_t *shape) {
    if (!ctx) return NULL;
    vae_tensor *t = vae__out(ctx, dt, ndim, shape);
    if (!t) return NULL;
    int64_t n = vae_numel(t);
    if (ctx->replay) { /* vae_ctx_replay_normals: the caller's noise, in order */
        if (n > ctx->replay_n - ctx->replay_pos)
            return vae__fail(ctx, VAE_ERR_ARG, "randn: %lld replayed normals needed, %lld left",
                             (long long)n, (long long)(ctx->replay_n - ctx->replay_pos));
        const double *src = ctx->replay + ctx->replay_pos;
        for (int64_t i = 0; i < n; i++)
            if (dt == VAE_F64)
                ((double *)t->data)[i] = src[i];
            else
                ((float *)t->data)[i] = (float)src[i];
        ctx->replay_pos += n;
        return t;
    }
    if (dt == VAE_F64)
        for (int64_t i = 0; i < n; i++) ((double *)t->data)[i] = vae_rng_normal(&ctx->rng);
    else
        for (int64_t i = 0; i < n; i++) ((float *)t->data)[i] = (float)vae_rng_normal(&ctx->rng);
    return t;
}

vae_tensor *vae_rand(vae_ctx *ctx, vae_dtype dt, int ndim, const int64_t *shape) {
    if (!ctx) return NULL;
    vae_tensor *t = vae__out(ctx, dt, ndim, shape);
    if (!t) return NULL;
    int64_t n = vae_numel(t);
    if (dt == VAE_F64)
        for (int64_t i = 0; i < n; i++) ((double *)t->data)[i] = vae_rng_uniform(&ctx->rng);
    else /* 24 bits, exact in float: a 53-bit double just under 1 would round to 1.0f, outside [0, 1) */
        for (int64_t i = 0; i < n; i++)
            ((float *)t->data)[i] = (float)(vae_rng_u64(&ctx->rng) >> 40) * 0x1.0p-24f;
    return t;
}

vae_tensor *vae_bernoulli(vae_ctx *ctx, const vae_tensor *p) {
    if (!vae__inputs_ok(ctx, "bernoulli", 1, &p)) return NULL;
    vae_tensor *t = vae__out(ctx, p->dtype, p->ndim, p->shape);
    if (!t) return NULL;
    int64_t n = vae_numel(t);
    for (int64_t i = 0; i < n; i++)
        vae_set_flat(t, i, vae_rng_uniform(&ctx->rng) < vae_get_flat(p, i) ? 1.0 : 0.0);
    return t;
}
