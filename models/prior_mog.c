/* The mixture-of-Gaussians prior and the mixture distribution it (and the VampPrior) is made of.
 *
 *   p(z) = sum_k pi_k N(z; m_k, diag v_k),  pi = softmax(logits),  v_k = exp(logvar_k)
 *   log p(z) = logsumexp_k [ log pi_k + log N(z; m_k, v_k) ]
 *   log N(z; m_k, v_k) = -1/2 [ z^2 . (1/v_k) - 2 z . (m_k / v_k) + m_k^2 . (1/v_k) ] - 1/2 sum_j log v_kj
 *                        - Z/2 log 2 pi
 * The quadratic is expanded into two (..., Z) x (Z, K) products, so no (..., K, Z) tensor is formed (eval draws
 * thousands of particles per datum; the VampPrior has hundreds of components).
 * Shapes: z (..., Z), mean and logvar (K, Z), logits (K) -> log p(z) (...).
 */
#include <math.h>

#include "models/flow_prior_internal.h"

#define HALF_LOG_2PI 0.91893853320467274178

typedef struct mixture {
    vae_dist base; /* param[0]: a (Z) zero view that gives the shape and dtype */
    vae_tensor *mean, *logvar, *log_pi; /* (K, Z), (K, Z), (K) */
} mixture;

vae_tensor *vae__mixture_log_prob(vae_ctx *ctx, vae_tensor *z, vae_tensor *mean, vae_tensor *logvar,
                                  vae_tensor *log_pi) {
    if (!ctx || !z || !mean || !logvar || !log_pi) return NULL;
    int one = z->ndim == 1;
    vae_tensor *x = one ? vae_unsqueeze(ctx, z, 0) : z;
    vae_tensor *iv = vae_exp(ctx, vae_neg(ctx, logvar)); /* 1/v (K, Z) */
    vae_tensor *miv = vae_mul(ctx, mean, iv);            /* m/v (K, Z) */
    vae_tensor *ivT = vae_transpose(ctx, iv, 0, 1), *mivT = vae_transpose(ctx, miv, 0, 1);
    vae_activation none = vae_act_default(VAE_ACT_IDENTITY);
    vae_tensor *q =
        vae_sub(ctx, vae_linear_act(ctx, vae_square(ctx, x), ivT, NULL, none.kind, 1),
                vae_mul_scalar(ctx, vae_linear_act(ctx, x, mivT, NULL, none.kind, 1), 2));
    int64_t Z = mean->shape[1];
    /* per component: log pi_k - 1/2 m_k^2 . (1/v_k) - 1/2 sum_j log v_kj - Z/2 log 2 pi  (K) */
    vae_tensor *c = vae_sum(ctx, vae_add(ctx, vae_mul(ctx, mean, miv), logvar), 1, (int[]){1}, 0);
    c = vae_add(ctx, log_pi,
                vae_add_scalar(ctx, vae_mul_scalar(ctx, c, -0.5), -(double)Z * HALF_LOG_2PI));
    vae_tensor *lp =
        vae_logsumexp(ctx, vae_add(ctx, vae_mul_scalar(ctx, q, -0.5), c), 1, (int[]){-1}, 0);
    return one ? vae_squeeze(ctx, lp, 0) : lp;
}

static vae_tensor *mixture_log_prob(vae_ctx *ctx, const vae_dist *d, vae_tensor *x) {
    const mixture *m = (const mixture *)d;
    return vae__mixture_log_prob(ctx, x, m->mean, m->logvar, m->log_pi);
}

/* ancestral draws (no gradient): k ~ Categorical(pi), z = m_k + sqrt(v_k) eps, from ctx's RNG */
static vae_tensor *mixture_sample(vae_ctx *ctx, vae_dist *d, int64_t k) {
    const mixture *m = (const mixture *)d;
    int64_t shape[VAE_MAX_DIMS];
    int nd = vae_dist_sample_shape(ctx, d, k, shape);
    if (nd < 0) return NULL;
    int64_t n = k > 0 ? k : 1, K = m->mean->shape[0], Z = m->mean->shape[1];
    double *buf =
        vae_arena_alloc(vae_ctx_arena(ctx), sizeof(double) * (size_t)(n * Z), vae_ctx_error(ctx));
    if (!buf) return NULL;
    vae_rng *rng = vae_ctx_rng(ctx);
    for (int64_t i = 0; i < n; i++) {
        double u = vae_rng_uniform(rng), acc = 0;
        int64_t c = K - 1;
        for (int64_t j = 0; j < K; j++) {
            acc += exp(vae_get_flat(m->log_pi, j));
            if (u < acc) {
                c = j;
                break;
            }
        }
        for (int64_t j = 0; j < Z; j++)
            buf[i * Z + j] = vae_get_flat(m->mean, c * Z + j) +
                             exp(0.5 * vae_get_flat(m->logvar, c * Z + j)) * vae_rng_normal(rng);
    }
    return vae_from_data(ctx, m->mean->dtype, nd, shape, VAE_F64, buf);
}

static vae_dist *mixture_detached(vae_ctx *ctx, const vae_dist *d) {
    const mixture *m = (const mixture *)d;
    return vae_gaussian_mixture(ctx, vae_detach(ctx, m->mean), vae_detach(ctx, m->logvar),
                                vae_detach(ctx, m->log_pi));
}

const vae_dist_ops vae_mixture_ops = {
    .name = "gaussian_mixture",
    .log_prob = mixture_log_prob,
    .sample = mixture_sample,
    .detached = mixture_detached,
};

vae_dist *vae_gaussian_mixture(vae_ctx *ctx, vae_tensor *mean, vae_tensor *logvar,
                               vae_tensor *logits) {
    if (!ctx || !mean || !logvar) return NULL;
    char b1[160], b2[160];
    int bad = mean->ndim != 2 || logvar->ndim != 2 || mean->shape[0] != logvar->shape[0] ||
              mean->shape[1] != logvar->shape[1] || mean->dtype != logvar->dtype;
    if (!bad && logits)
        bad =
            logits->ndim != 1 || logits->shape[0] != mean->shape[0] || logits->dtype != mean->dtype;
    if (bad) {
        vae_error_set(
            vae_ctx_error(ctx), VAE_ERR_SHAPE,
            "gaussian_mixture: mean %s and logvar %s must be (K, Z) of one dtype, logits (K)",
            vae_shape_str(b1, sizeof b1, mean->ndim, mean->shape),
            vae_shape_str(b2, sizeof b2, logvar->ndim, logvar->shape));
        return NULL;
    }
    int64_t K = mean->shape[0], Z = mean->shape[1];
    /* log pi = logits - logsumexp(logits) (the log-softmax), or -log K */
    vae_tensor *log_pi = logits ? vae_sub(ctx, logits, vae_logsumexp(ctx, logits, 1, (int[]){0}, 1))
                                : vae_full(ctx, mean->dtype, VAE_SHAPE(K), -log((double)K));
    vae_tensor *carrier = vae_expand(ctx, vae_scalar(ctx, mean->dtype, 0.0), 1, &Z);
    if (!log_pi || !carrier) return NULL;
    mixture *m = vae_arena_calloc(vae_ctx_arena(ctx), sizeof *m, vae_ctx_error(ctx));
    vae_dist *tmp = m ? vae_dist_new(ctx, &vae_mixture_ops, 1, &carrier) : NULL;
    if (!tmp) return NULL;
    m->base = *tmp;
    m->mean = mean, m->logvar = logvar, m->log_pi = log_pi;
    return &m->base;
}

/* ---- the MoG prior of a net ---- */

vae_dist *vae__family_prior(vae_ctx *ctx, vae_net *net) {
    vae__family *f = net->family;
    if (f->prior == VAE_PRIOR_MOG)
        return vae_gaussian_mixture(ctx, f->mog_mean, f->mog_logvar, f->mog_logits);
    if (f->prior == VAE_PRIOR_VAMP) return vae__vamp_prior(ctx, net);
    return vae_std_normal(ctx, net->cfg.dtype, 1, &net->cfg.z_dim);
}
