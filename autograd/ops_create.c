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

/* n random values of vae_randn / vae_rand in order, as doubles, into out (converted to the output dtype when dst is
 * not NULL: dst[i] of dtype dt; out is then scratch). Normals in blocks (vae_rng_normal_n: the same values as one
 * vae_rng_normal call each). */
enum { DRAW_BLOCK = 256 };
static void draw_n(vae_rng *r, int normal, vae_dtype dt, int64_t n, void *dst) {
    double out[DRAW_BLOCK];
    for (int64_t i0 = 0; i0 < n; i0 += DRAW_BLOCK) {
        const int64_t m = n - i0 < DRAW_BLOCK ? n - i0 : DRAW_BLOCK;
        if (normal)
            vae_rng_normal_n(r, out, m);
        else /* f32: 24 bits, exact in float: a 53-bit double just under 1 would round to 1.0f, outside [0, 1) */
            for (int64_t k = 0; k < m; k++)
                out[k] = dt == VAE_F64 ? vae_rng_uniform(r)
                                       : (double)((float)(vae_rng_u64(r) >> 40) * 0x1.0p-24f);
        if (dst && dt == VAE_F64)
            memcpy((double *)dst + i0, out, sizeof(double) * (size_t)m);
        else if (dst)
            for (int64_t k = 0; k < m; k++) ((float *)dst)[i0 + k] = (float)out[k];
    }
}

/* Fill t with draws; under vae_ctx_set_noise_rows, as rows [lo, lo + b) of a (..., total, E) draw. */
static vae_tensor *fill_random(vae_ctx *ctx, vae_tensor *t, int normal) {
    int64_t n = vae_numel(t), outer = 1, inner = 1, b = 0, skip_lo = 0, skip_hi = 0;
    if (ctx->noise_total > 0 && t->ndim >= 1) {
        int bd = t->ndim >= 2 ? t->ndim - 2 : 0;
        for (int d = 0; d < bd; d++) outer *= t->shape[d];
        for (int d = bd + 1; d < t->ndim; d++) inner *= t->shape[d];
        b = t->shape[bd];
        if (ctx->noise_lo + b <= ctx->noise_total) {
            skip_lo = ctx->noise_lo * inner;
            skip_hi = (ctx->noise_total - ctx->noise_lo - b) * inner;
        }
    }
    if (skip_lo == 0 && skip_hi == 0) outer = 1, inner = n, b = 1;
    const int64_t keep = b * inner;
    const size_t esize = t->dtype == VAE_F64 ? sizeof(double) : sizeof(float);
    for (int64_t o = 0; o < outer; o++) {
        draw_n(&ctx->rng, normal, t->dtype, skip_lo, NULL);
        draw_n(&ctx->rng, normal, t->dtype, keep, (char *)t->data + (size_t)(o * keep) * esize);
        draw_n(&ctx->rng, normal, t->dtype, skip_hi, NULL);
    }
    return t;
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
    return fill_random(ctx, t, 1);
}

vae_tensor *vae_rand(vae_ctx *ctx, vae_dtype dt, int ndim, const int64_t *shape) {
    if (!ctx) return NULL;
    vae_tensor *t = vae__out(ctx, dt, ndim, shape);
    return t ? fill_random(ctx, t, 0) : NULL;
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
