#include "gradcheck.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "autograd/ops.h"
#include "internal.h"

#define GC_MAX_IN 8

_Static_assert(VAE_OP_COUNT_ <= 128, "vae_gc_result.ops holds 128 op bits");

typedef struct gc_state {
    vae_gradcheck_fn f;
    void *user;
    int nin;
    const vae_gc_input *in;
    double *buf[GC_MAX_IN]; /* each input's storage, in its stored (maybe transposed) layout */
    int64_t n[GC_MAX_IN];
    double *w; /* weights of the output components */
    int64_t nw;
    vae_tensor *leaf[GC_MAX_IN];
} gc_state;

/* Build the presented inputs from the leaves and evaluate f. */
static vae_tensor *evaluate(vae_ctx *ctx, gc_state *s, int with_grad) {
    vae_ctx_reset(ctx);
    vae_set_grad_enabled(ctx, with_grad);
    vae_tensor *pres[GC_MAX_IN];
    for (int i = 0; i < s->nin; i++) {
        const vae_gc_input *g = &s->in[i];
        int64_t shape[VAE_MAX_DIMS];
        memcpy(shape, g->shape, sizeof shape);
        if (g->layout == VAE_GC_TRANSPOSED) {
            shape[g->ndim - 1] = g->shape[g->ndim - 2];
            shape[g->ndim - 2] = g->shape[g->ndim - 1];
        }
        vae_tensor *t = vae_wrap(ctx, VAE_F64, g->ndim, shape, s->buf[i]);
        if (!t) return NULL;
        if (g->requires_grad) vae_requires_grad(ctx, t, 1);
        s->leaf[i] = t;
        if (g->layout == VAE_GC_TRANSPOSED)
            t = vae_transpose(ctx, t, -1, -2);
        else if (g->layout == VAE_GC_EXPANDED)
            t = vae_expand(ctx, t, g->expand_ndim, g->expand);
        pres[i] = t;
    }
    return s->f(ctx, pres, s->nin, s->user);
}

static double weighted(const gc_state *s, const vae_tensor *y) {
    double L = 0;
    for (int64_t i = 0; i < s->nw; i++) L += s->w[i] * vae_get_flat(y, i);
    return L;
}

vae_status vae_gradcheck(vae_gradcheck_fn f, void *user, int nin, const vae_gc_input *in,
                         double eps, double atol, double rtol, vae_gc_result *res, vae_error *err) {
    if (!f || nin < 0 || nin > GC_MAX_IN || (nin && !in) || !(eps > 0))
        return vae_error_set(err, VAE_ERR_ARG, "gradcheck: bad arguments (nin %d, eps %g)", nin,
                             eps);
    gc_state s;
    memset(&s, 0, sizeof s);
    s.f = f;
    s.user = user;
    s.nin = nin;
    s.in = in;
    vae_gc_result r;
    memset(&r, 0, sizeof r);
    r.worst_input = -1;
    vae_status st = VAE_OK;
    double *ana[GC_MAX_IN] = {0};
    vae_ctx *ctx = vae_ctx_new(0);
    if (!ctx) return vae_error_set(err, VAE_ERR_OOM, "gradcheck: out of memory");

    for (int i = 0; i < nin; i++) {
        int64_t n;
        if (!vae_shape_check(err, "gradcheck", in[i].ndim, in[i].shape, VAE_F64, &n) ||
            (in[i].layout == VAE_GC_TRANSPOSED && in[i].ndim < 2) || (n && !in[i].data)) {
            st = vae_error_set(err, VAE_ERR_ARG, "gradcheck: input %d is invalid", i);
            goto done;
        }
        s.n[i] = n;
        s.buf[i] = malloc(sizeof(double) * (size_t)(n ? n : 1));
        ana[i] = calloc((size_t)(n ? n : 1), sizeof(double));
        if (!s.buf[i] || !ana[i]) {
            st = vae_error_set(err, VAE_ERR_OOM, "gradcheck: out of memory");
            goto done;
        }
        if (in[i].layout ==
            VAE_GC_TRANSPOSED) { /* store x^T so the presented view has x's values */
            int nd = in[i].ndim;
            int64_t R = in[i].shape[nd - 2], C = in[i].shape[nd - 1], mat = R * C;
            for (int64_t b = 0; mat && b < n / mat; b++)
                for (int64_t p = 0; p < R; p++)
                    for (int64_t q = 0; q < C; q++)
                        s.buf[i][b * mat + q * R + p] = in[i].data[b * mat + p * C + q];
        } else
            memcpy(s.buf[i], in[i].data, sizeof(double) * (size_t)n);
    }

    /* analytic pass: backward seeded with w */
    vae_tensor *y = evaluate(ctx, &s, 1);
    if (!y || vae_ctx_status(ctx)) {
        st = vae_error_set(err, vae_ctx_status(ctx) ? vae_ctx_status(ctx) : VAE_ERR_NULL,
                           "gradcheck: function failed: %s", vae_ctx_message(ctx));
        goto done;
    }
    memcpy(r.ops, ctx->ops_seen, sizeof ctx->ops_seen);
    s.nw = vae_numel(y);
    s.w = malloc(sizeof(double) * (size_t)(s.nw ? s.nw : 1));
    vae_tensor *seed = vae_zeros(ctx, y->dtype, y->ndim, y->shape);
    if (!s.w || !seed) {
        st = vae_error_set(err, VAE_ERR_OOM, "gradcheck: out of memory");
        goto done;
    }
    vae_rng rng;
    vae_rng_seed(&rng, 12345);
    for (int64_t i = 0; i < s.nw; i++) {
        s.w[i] = 0.5 + vae_rng_uniform(&rng); /* positive, varied: no accidental cancellation */
        vae_set_flat(seed, i, s.w[i]);
    }
    int any = 0;
    for (int i = 0; i < nin; i++) any |= in[i].requires_grad;
    if (any && (y->flags & VAE_TF_REQUIRES_GRAD)) {
        if (vae_backward_seeded(ctx, y, seed) != VAE_OK) {
            st = vae_error_set(err, vae_ctx_status(ctx), "gradcheck: backward failed: %s",
                               vae_ctx_message(ctx));
            goto done;
        }
        for (int i = 0; i < nin; i++)
            if (in[i].requires_grad && s.leaf[i]->grad) vae_tensor_to_f64(s.leaf[i]->grad, ana[i]);
    }

    /* numeric pass, one element at a time */
    for (int i = 0; i < nin; i++) {
        if (!in[i].requires_grad) continue;
        for (int64_t j = 0; j < s.n[i]; j++) {
            double x0 = s.buf[i][j];
            s.buf[i][j] = x0 + eps;
            vae_tensor *yp = evaluate(ctx, &s, 0);
            double Lp = yp ? weighted(&s, yp) : NAN;
            s.buf[i][j] = x0 - eps;
            vae_tensor *ym = evaluate(ctx, &s, 0);
            double Lm = ym ? weighted(&s, ym) : NAN;
            s.buf[i][j] = x0;
            if (vae_ctx_status(ctx)) {
                st = vae_error_set(err, vae_ctx_status(ctx), "gradcheck: function failed: %s",
                                   vae_ctx_message(ctx));
                goto done;
            }
            double num = (Lp - Lm) / (2 * eps), a = ana[i][j], d = fabs(a - num);
            r.checked++;
            int bad = !(d <= atol + rtol * fabs(num));
            if (d > r.max_abs_err || isnan(d) || (bad && st == VAE_OK)) {
                if (!(r.max_abs_err > d)) r.max_abs_err = isnan(d) ? INFINITY : d;
                r.worst_input = i;
                r.worst_index = j;
                r.analytic = a;
                r.numeric = num;
            }
            if (bad && st == VAE_OK)
                st = vae_error_set(
                    err, VAE_ERR_MISMATCH,
                    "gradcheck: input %d element %lld: analytic %.10g vs numeric %.10g", i,
                    (long long)j, a, num);
        }
    }
done:
    if (res) *res = r;
    for (int i = 0; i < nin; i++) {
        free(s.buf[i]);
        free(ana[i]);
    }
    free(s.w);
    vae_ctx_free(ctx);
    return st;
}
