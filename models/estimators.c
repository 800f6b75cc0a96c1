/* Estimator building blocks (estimators.h): how z is drawn, how log q is evaluated, importance weights, and the
 * score-function surrogates with their baselines, all as tensor ops (no scalar loops). */
#include "models/estimators.h"

#include <math.h>
#include <string.h>

#include "models/discrete.h"
#include "models/dist_builtin.h"

static const char *const est_names[VAE_EST_COUNT_] = {"reparam", "score", "stl", "dreg", "gumbel"};
static const char *const bl_names[VAE_BASELINE_COUNT_] = {"none", "ma", "vimco", "nvil"};

const char *vae_estimator_name(vae_estimator e) {
    return (unsigned)e < VAE_EST_COUNT_ ? est_names[e] : "?";
}
const char *vae_baseline_name(vae_baseline b) {
    return (unsigned)b < VAE_BASELINE_COUNT_ ? bl_names[b] : "?";
}
static int lookup(const char *s, const char *const *names, int n) {
    for (int i = 0; s && i < n; i++)
        if (strcmp(s, names[i]) == 0) return i;
    return -1;
}
int vae_estimator_parse(const char *s) {
    return lookup(s, est_names, VAE_EST_COUNT_);
}
int vae_baseline_parse(const char *s) {
    return lookup(s, bl_names, VAE_BASELINE_COUNT_);
}

vae_tensor *vae_est_draw_z(vae_ctx *ctx, vae_dist *q, int64_t k, vae_estimator est) {
    if (est == VAE_EST_SCORE)
        return vae_detach(ctx, vae_dist_sample(ctx, q, k)); /* no path to phi */
    if (est == VAE_EST_GUMBEL) /* the relaxed sample at q's temperature (discrete.h) */
        return vae_gumbel_softmax(ctx, q, k, q ? q->c[VAE_DIST_C_TEMPERATURE] : 0,
                                  q && q->c[VAE_DIST_C_HARD] != 0);
    return vae_dist_rsample(ctx, q, k);                     /* z = mu + sigma * eps */
}

vae_tensor *vae_est_log_q(vae_ctx *ctx, vae_dist *q, vae_tensor *z, vae_estimator est) {
    /* STL and DReG drop the score term: log q sees phi only through z */
    if (est == VAE_EST_STL || est == VAE_EST_DREG)
        return vae_dist_log_prob(ctx, vae_dist_detached(ctx, q), z);
    return vae_dist_log_prob(ctx, q, z);
}

/* log w (n, B) for z (n, B, Z) and its parts */
static vae_tensor *log_weights(vae_ctx *ctx, vae_net *net, vae_dist *q, vae_tensor *x,
                               vae_tensor *z, vae_estimator est, vae_est_particles *p) {
    vae_dist *prior = vae_net_prior(ctx, net);
    p->logpx = vae_dist_log_prob(ctx, vae_net_decode(ctx, net, z), x);
    p->logpz = vae_dist_log_prob(ctx, prior, z);
    p->logq = vae_est_log_q(ctx, q, z, est);
    return vae_sub(ctx, vae_add(ctx, p->logpx, p->logpz), p->logq);
}

vae_status vae_est_draw_particles(vae_ctx *ctx, vae_net *net, vae_tensor *x, int64_t groups,
                                  int64_t k, vae_estimator est, vae_est_particles *out) {
    if (vae_ctx_status(ctx)) return vae_ctx_status(ctx);
    if (groups < 1 || k < 1 || groups > INT64_MAX / k)
        return vae_error_set(vae_ctx_error(ctx), VAE_ERR_ARG,
                             "particles: %lld groups of %lld particles: both must be >= 1",
                             (long long)groups, (long long)k);
    vae_est_particles p = {0};
    p.q = vae_net_encode(ctx, net, x, NULL, NULL);
    p.z = vae_est_draw_z(ctx, p.q, groups * k, est); /* (groups * k, B, Z) */
    if (est == VAE_EST_DREG && p.z) {
        /* the normalized weights depend on the forward pass they scale, so they come from a tape-free pass
         * first; the second pass then carries wt (groups * k, B, 1) into z's backward */
        int was = vae_set_grad_enabled(ctx, 0);
        vae_est_particles tmp;
        vae_tensor *lw0 = log_weights(ctx, net, p.q, x, vae_detach(ctx, p.z), est, &tmp);
        vae_set_grad_enabled(ctx, was);
        int64_t B = p.z->shape[1];
        vae_tensor *wt = vae_est_weights(ctx, vae_reshape(ctx, lw0, VAE_SHAPE(groups, k, B)), 1);
        p.z = vae_grad_scale(ctx, p.z, vae_reshape(ctx, wt, VAE_SHAPE(groups * k, B, 1)));
    }
    p.logw = p.z ? log_weights(ctx, net, p.q, x, p.z, est, &p) : NULL;
    if (!p.logw) return vae_ctx_status(ctx) ? vae_ctx_status(ctx) : VAE_ERR_NULL;
    *out = p;
    return VAE_OK;
}

vae_tensor *vae_est_weights(vae_ctx *ctx, vae_tensor *logw, int axis) {
    vae_tensor *lw = vae_detach(ctx, logw);
    return vae_exp(ctx, vae_sub(ctx, lw, vae_logsumexp(ctx, lw, 1, &axis, 1)));
}

vae_tensor *vae_est_vimco(vae_ctx *ctx, vae_tensor *logw) {
    vae_tensor *lw = vae_detach(ctx, logw); /* (K, B) */
    if (!lw) return NULL;
    int64_t K = lw->ndim == 2 ? lw->shape[0] : 0, B = lw->ndim == 2 ? lw->shape[1] : 0;
    if (K < 2) {
        char b[160];
        vae_error_set(vae_ctx_error(ctx), VAE_ERR_SHAPE,
                      "vimco: log w %s: need (K, B) with K >= 2 particles",
                      vae_shape_str(b, sizeof b, lw->ndim, lw->shape));
        return NULL;
    }
    /* m_k = mean of the others (K, B); M[k, j] = j == k ? m_k : log w_j (K, K, B); L_{-k} = logmeanexp_j M[k, j] */
    vae_tensor *m =
        vae_mul_scalar(ctx, vae_sub(ctx, vae_sum_axis(ctx, lw, 0, 1), lw), 1.0 / (double)(K - 1));
    vae_tensor *ar = vae_arange(ctx, lw->dtype, 0, (double)K, 1);
    vae_tensor *off = vae_clamp(ctx,
                                vae_abs(ctx, vae_sub(ctx, vae_reshape(ctx, ar, VAE_SHAPE(K, 1, 1)),
                                                     vae_reshape(ctx, ar, VAE_SHAPE(1, K, 1)))),
                                0, 1); /* (K, K, 1): 1 off the diagonal */
    vae_tensor *M = vae_where(ctx, off, vae_reshape(ctx, lw, VAE_SHAPE(1, K, B)),
                              vae_reshape(ctx, m, VAE_SHAPE(K, 1, B)));
    vae_tensor *Lk = vae_logsumexp(ctx, M, 1, (int[]){1}, 0); /* (K, B), both without the - log K */
    vae_tensor *L = vae_logsumexp(ctx, lw, 1, (int[]){0}, 1); /* (1, B) */
    return vae_sub(ctx, L, Lk);
}

vae_tensor *vae_est_signal(vae_ctx *ctx, vae_tensor *f, vae_baseline bl, double ma) {
    vae_tensor *fd = vae_detach(ctx, f); /* (K, B) */
    if (!fd) return NULL;
    switch (bl) {
    case VAE_BASELINE_MA:
        return vae_add_scalar(ctx, fd, -ma);
    case VAE_BASELINE_VIMCO: {
        int64_t K = fd->ndim >= 1 ? fd->shape[0] : 0;
        if (K < 2) {
            vae_error_set(vae_ctx_error(ctx), VAE_ERR_ARG,
                          "signal: the vimco baseline needs K >= 2 samples (got %lld)",
                          (long long)K);
            return NULL;
        }
        /* f_k - (sum_j f_j - f_k) / (K - 1) = (K f_k - sum_j f_j) / (K - 1) */
        return vae_mul_scalar(
            ctx, vae_sub(ctx, vae_mul_scalar(ctx, fd, (double)K), vae_sum_axis(ctx, fd, 0, 1)),
            1.0 / (double)(K - 1));
    }
    default:
        return fd;
    }
}

vae_tensor *vae_est_signal_st(vae_ctx *ctx, vae_tensor *f, vae_baseline bl,
                              const vae_objective_state *st) {
    double c = st && st->baseline_ready ? st->baseline : 0.0;
    if (bl != VAE_BASELINE_NVIL) return vae_est_signal(ctx, f, bl, c);
    if (!st || !st->nvil_b) {
        if (f) vae_error_set(vae_ctx_error(ctx), VAE_ERR_ARG,
                             "signal: the nvil baseline needs b(x) in the objective state (vae_objective sets it)");
        return NULL;
    }
    /* f (K, B) - c - b(x) (B): centred by the running mean, then by the learned input-dependent part */
    vae_tensor *fd = vae_detach(ctx, f);
    return vae_sub(ctx, vae_add_scalar(ctx, fd, -c), vae_detach(ctx, st->nvil_b));
}

vae_tensor *vae_est_score(vae_ctx *ctx, vae_tensor *signal, vae_tensor *logq, vae_tensor *f) {
    /* its gradient is sum_k signal_k grad log q(z_k|x) (REINFORCE) plus f's own */
    vae_tensor *s = vae_sum_axis(ctx, vae_mul(ctx, vae_detach(ctx, signal), logq), 0, 0);
    return f ? vae_add(ctx, s, f) : s;
}

vae_tensor *vae_est_surrogate(vae_ctx *ctx, vae_estimator est, vae_baseline bl, vae_tensor *logw,
                              vae_tensor *logq, vae_tensor *bound, const vae_objective_state *st) {
    if (est != VAE_EST_SCORE) return bound;
    vae_tensor *signal;
    if (bl == VAE_BASELINE_VIMCO)
        signal = vae_est_vimco(ctx, logw);
    else
        signal = vae_est_signal_st(ctx, vae_unsqueeze(ctx, bound, 0), bl, st);
    return vae_est_score(ctx, signal, logq, bound);
}
