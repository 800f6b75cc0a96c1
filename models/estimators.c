/* Estimator mechanics shared by the objectives: how z is drawn, how log q is evaluated, score-function
 * surrogates and their baselines. */
#include <math.h>

#include "objective.h"

vae_tensor *vae__draw_z(vae_ctx *ctx, vae_dist *q, int64_t k, vae_estimator est) {
    if (est == VAE_EST_SCORE)
        return vae_detach(ctx, vae_dist_sample(ctx, q, k)); /* no path to phi */
    return vae_dist_rsample(ctx, q, k);                     /* z = mu + sigma * eps */
}

vae_tensor *vae__log_q(vae_ctx *ctx, vae_dist *q, vae_tensor *z, vae_estimator est) {
    /* STL and DReG drop the score term: log q sees phi only through z */
    if (est == VAE_EST_STL || est == VAE_EST_DREG)
        return vae_dist_log_prob(ctx, vae_dist_detached(ctx, q), z);
    return vae_dist_log_prob(ctx, q, z);
}

double vae__mean_value(const vae_tensor *t) {
    int64_t n = vae_numel(t);
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += vae_get_flat(t, i);
    return n ? s / (double)n : 0.0;
}

/* sum_k sg(signal_k) * log q(z_k|x): its gradient is sum_k signal_k grad log q(z_k|x) (REINFORCE) */
vae_tensor *vae__score_surrogate(vae_ctx *ctx, vae_tensor *signal, vae_tensor *logq) {
    return vae_sum_axis(ctx, vae_mul(ctx, vae_detach(ctx, signal), logq), 0, 0);
}

vae_tensor *vae__signal(vae_ctx *ctx, vae_tensor *f, vae_baseline bl,
                        const vae_objective_state *st) {
    if (!f) return NULL;
    vae_tensor *s = vae_zeros(ctx, f->dtype, f->ndim, f->shape);
    if (!s) return NULL;
    int64_t k = f->shape[0], B = vae_numel(f) / (k ? k : 1);
    for (int64_t b = 0; b < B; b++) {
        double tot = 0;
        for (int64_t i = 0; i < k; i++) tot += vae_get_flat(f, i * B + b);
        for (int64_t i = 0; i < k; i++) {
            double fi = vae_get_flat(f, i * B + b), base = 0;
            if (bl == VAE_BASELINE_MA) base = st->baseline_ready ? st->baseline : 0.0;
            if (bl == VAE_BASELINE_VIMCO)
                base = (tot - fi) / (double)(k - 1); /* leave-one-out mean */
            vae_set_flat(s, i * B + b, fi - base);
        }
    }
    return s;
}

/* VIMCO (Mnih & Rezende 2016): L = log (1/K) sum_j w_j; L_{-k} replaces log w_k by the mean of the others;
 * the learning signal of particle k is L - L_{-k}. logw (K, B), bound (B). */
vae_tensor *vae__vimco_signal(vae_ctx *ctx, vae_tensor *logw, vae_tensor *bound) {
    if (!logw || !bound) return NULL;
    int64_t K = logw->shape[0], B = logw->shape[1];
    vae_tensor *s = vae_zeros(ctx, logw->dtype, 2, logw->shape);
    double *lw =
        vae_arena_alloc(vae_ctx_arena(ctx), sizeof(double) * (size_t)K, vae_ctx_error(ctx));
    if (!s || !lw) return NULL;
    for (int64_t b = 0; b < B; b++) {
        double tot = 0;
        for (int64_t k = 0; k < K; k++) tot += lw[k] = vae_get_flat(logw, k * B + b);
        double L = vae_get_flat(bound, b);
        for (int64_t k = 0; k < K; k++) {
            double mk = (tot - lw[k]) / (double)(K - 1), m = mk;
            for (int64_t j = 0; j < K; j++)
                if (j != k && lw[j] > m) m = lw[j];
            double acc = exp(mk - m);
            for (int64_t j = 0; j < K; j++)
                if (j != k) acc += exp(lw[j] - m);
            double Lk = m + log(acc) - log((double)K);
            vae_set_flat(s, k * B + b, L - Lk);
        }
    }
    return s;
}

vae_tensor *vae__loss(vae_ctx *ctx, vae_tensor *surrogate) {
    return vae_neg(ctx, vae_mean(ctx, surrogate, 0, NULL, 0));
}
