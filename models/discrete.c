/* Discrete latents (discrete.h): the latent kinds, the uniform prior, the Gumbel-softmax / Concrete relaxation,
 * enumeration of small latent spaces (exact ELBO and log p(x)), and the hooks into vae_net and vae_objective.
 * NVIL's baseline is in discrete_nvil.c. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "autograd/ops.h"
#include "models/numeric_internal.h"
#include "models/discrete_internal.h"
#include "models/dist_builtin.h"

static vae_error *E(vae_ctx *ctx) {
    return vae_ctx_error(ctx);
}

int vae_net_discrete(const vae_net *net) {
    return net && net->cfg.latent_kind != VAE_LATENT_GAUSSIAN;
}

/* ---- latent kinds ---- */

vae_status vae__discrete_cfg_check(const vae_net_cfg *cfg, vae_error *err) {
    int64_t C = cfg->latent_classes;
    switch (cfg->latent_kind) {
    case VAE_LATENT_GAUSSIAN:
    case VAE_LATENT_BERNOULLI:
        break;
    case VAE_LATENT_CATEGORICAL:
        if (C < 2 || cfg->z_dim % C != 0)
            return vae_error_set(err, VAE_ERR_ARG,
                                 "vae_net: categorical latents need C >= 2 classes dividing z_dim "
                                 "(C = %lld, z_dim = %lld)",
                                 (long long)C, (long long)cfg->z_dim);
        break;
    default:
        return vae_error_set(err, VAE_ERR_ARG, "vae_net: unknown latent kind %d",
                             (int)cfg->latent_kind);
    }
    if (cfg->latent_kind != VAE_LATENT_GAUSSIAN &&
        (cfg->z2_dim || cfg->flow[0] || cfg->prior[0] || (cfg->net[0] && strcmp(cfg->net, "mlp"))))
        return vae_error_set(
            err, VAE_ERR_ARG,
            "vae_net: discrete latents take the MLP net with one latent layer and the "
            "uniform prior: not with %s",
            cfg->z2_dim     ? "two stochastic layers"
            : cfg->flow[0]  ? "a posterior flow"
            : cfg->prior[0] ? "a learned prior"
                            : "the conv net");
    if (cfg->baseline_hidden < 0 || cfg->baseline_hidden > 65536)
        return vae_error_set(err, VAE_ERR_ARG,
                             "vae_net: baseline hidden size %lld is out of range 0..65536",
                             (long long)cfg->baseline_hidden);
    return VAE_OK;
}

vae_status vae_latent_kind_parse(vae_net_cfg *cfg, const char *spec, vae_error *err) {
    long long n = 0, c = 0;
    int used = 0;
    if (spec && strcmp(spec, "gaussian") == 0) {
        cfg->latent_kind = VAE_LATENT_GAUSSIAN;
        cfg->latent_classes = 0;
        return VAE_OK;
    }
    if (spec && sscanf(spec, "categorical:%lldx%lld%n", &n, &c, &used) == 2 && !spec[used] &&
        n >= 1 && n <= 4096 && c >= 2 && c <= 4096 && n * c <= 4096) {
        cfg->latent_kind = VAE_LATENT_CATEGORICAL;
        cfg->latent_classes = c;
        cfg->z_dim = n * c;
        return VAE_OK;
    }
    used = 0;
    if (spec && sscanf(spec, "bernoulli:%lld%n", &n, &used) == 1 && !spec[used] && n >= 1 &&
        n <= 4096) {
        cfg->latent_kind = VAE_LATENT_BERNOULLI;
        cfg->latent_classes = 0;
        cfg->z_dim = n;
        return VAE_OK;
    }
    return vae_error_set(
        err, VAE_ERR_ARG,
        "latent kind \"%.60s\": expected gaussian, categorical:NxC (C >= 2, N * C <= 4096) "
        "or bernoulli:N (N <= 4096)",
        spec ? spec : "(null)");
}

int vae_latent_kind_spec(const vae_net_cfg *cfg, char *buf, size_t n) {
    switch (cfg->latent_kind) {
    case VAE_LATENT_CATEGORICAL:
        return snprintf(buf, n, "categorical:%lldx%lld",
                        (long long)(cfg->latent_classes ? cfg->z_dim / cfg->latent_classes : 0),
                        (long long)cfg->latent_classes);
    case VAE_LATENT_BERNOULLI:
        return snprintf(buf, n, "bernoulli:%lld", (long long)cfg->z_dim);
    default:
        return snprintf(buf, n, "gaussian");
    }
}

/* ---- q(z|x) and p(z) ---- */

vae_dist *vae__discrete_q(vae_ctx *ctx, vae_net *net, vae_tensor *h, vae_tensor **mu,
                          vae_tensor **lv) {
    vae_dist *q = net->cfg.latent_kind == VAE_LATENT_CATEGORICAL
                      ? vae_categorical_logits(ctx, h, net->cfg.latent_classes)
                      : vae_bernoulli_logits(ctx, h);
    if (!q) return NULL;
    q->c[VAE_DIST_C_TEMPERATURE] = net->relax_temperature;
    q->c[VAE_DIST_C_HARD] = net->relax_hard;
    if (mu && !(*mu = vae_dist_mean(ctx, q))) return NULL;
    if (lv) *lv = h;
    return q;
}

vae_dist *vae_discrete_prior(vae_ctx *ctx, const vae_net_cfg *cfg) {
    if (!ctx) return NULL;
    if (cfg->latent_kind == VAE_LATENT_GAUSSIAN) {
        vae_error_set(E(ctx), VAE_ERR_ARG, "discrete_prior: the net's latents are Gaussian");
        return NULL;
    }
    /* zero logits: pi = 1/C (p = 1/2), so log p(z) = -N log C (N log 1/2) for any one-hot or relaxed z */
    vae_tensor *l = vae_zeros(ctx, cfg->dtype, 1, &cfg->z_dim);
    return cfg->latent_kind == VAE_LATENT_CATEGORICAL
               ? vae_categorical_logits(ctx, l, cfg->latent_classes)
               : vae_bernoulli_logits(ctx, l);
}

vae_dist *vae__discrete_prior(vae_ctx *ctx, vae_net *net) {
    return vae_discrete_prior(ctx, &net->cfg);
}

static int is_discrete_q(const vae_dist *q) {
    return q && (q->ops == &vae_categorical_ops || q->ops == &vae_bernoulli_ops);
}

static int bad_q(vae_ctx *ctx, const vae_dist *q, const char *what) {
    if (!ctx || !q) return 1;
    if (is_discrete_q(q)) return 0;
    vae_error_set(E(ctx), VAE_ERR_ARG, "%s: q is %s; need a categorical or bernoulli latent", what,
                  vae_dist_name(q));
    return 1;
}

/* KL(q || uniform) per unit: categorical pi (log pi + log C); bernoulli p log 2p + (1 - p) log 2(1 - p) */
vae_tensor *vae_discrete_kl_terms(vae_ctx *ctx, const vae_dist *q) {
    if (bad_q(ctx, q, "discrete_kl")) return NULL;
    vae_tensor *l = q->param[0];
    if (q->ops == &vae_categorical_ops) {
        vae_tensor *pi = vae_dist_mean(ctx, q), *lp = vae_log(ctx, vae_clamp(ctx, pi, 1e-30, 1));
        /* pi log pi is 0 at pi = 0: the clamp keeps log finite, the product then vanishes */
        return vae_mul(ctx, pi, vae_add_scalar(ctx, lp, log(q->c[VAE_DIST_C_CLASSES])));
    }
    /* log 2 - H(p), H = softplus(l) - l sigmoid(l) */
    vae_tensor *H = vae_sub(ctx, vae_softplus(ctx, l), vae_mul(ctx, l, vae_sigmoid(ctx, l)));
    return vae_add_scalar(ctx, vae_neg(ctx, H), log(2.0));
}

vae_tensor *vae_discrete_kl(vae_ctx *ctx, const vae_dist *q) {
    return vae_sum_axis(ctx, vae_discrete_kl_terms(ctx, q), -1, 0);
}

/* ---- the Gumbel-softmax / Concrete relaxation ---- */

/* the perturbed logits s = l + g (categorical) or l + log u - log(1 - u) (bernoulli), u (..., q's shape) */
static vae_tensor *perturbed(vae_ctx *ctx, const vae_dist *q, vae_tensor *u) {
    vae_tensor *l = q->param[0];
    vae_tensor *uc = vae_clamp(ctx, vae_detach(ctx, u), 1e-30, 1.0);
    if (q->ops == &vae_categorical_ops)
        return vae_add(ctx, l, vae_neg(ctx, vae_log(ctx, vae_neg(ctx, vae_log(ctx, uc)))));
    vae_tensor *one_minus = vae_clamp(ctx, vae_add_scalar(ctx, vae_neg(ctx, uc), 1.0), 1e-30, 1.0);
    return vae_add(ctx, l, vae_sub(ctx, vae_log(ctx, uc), vae_log(ctx, one_minus)));
}

/* one_hot(argmax) per group of C (categorical) or [s > 0] (bernoulli), a constant of s's shape */
static vae_tensor *hard_of(vae_ctx *ctx, const vae_dist *q, vae_tensor *s) {
    if (!s) return NULL;
    vae_tensor *h = vae_zeros(ctx, s->dtype, s->ndim, s->shape);
    if (!h) return NULL;
    int64_t m = vae_numel(s);
    if (q->ops == &vae_bernoulli_ops) {
        for (int64_t i = 0; i < m; i++) vae_set_flat(h, i, vae_get_flat(s, i) > 0 ? 1.0 : 0.0);
        return h;
    }
    int64_t C = (int64_t)q->c[VAE_DIST_C_CLASSES];
    for (int64_t i0 = 0; i0 < m; i0 += C) {
        int64_t best = 0;
        for (int64_t c = 1; c < C; c++)
            if (vae_get_flat(s, i0 + c) > vae_get_flat(s, i0 + best)) best = c;
        vae_set_flat(h, i0 + best, 1.0);
    }
    return h;
}

vae_tensor *vae_gumbel_softmax_with(vae_ctx *ctx, vae_dist *q, vae_tensor *u, double T, int hard) {
    if (bad_q(ctx, q, "gumbel_softmax") || !u) return NULL;
    if (!(T > 0) || !isfinite(T)) {
        vae_error_set(
            E(ctx), VAE_ERR_ARG,
            "gumbel_softmax: temperature %g must be > 0 (the gumbel estimator sets it from the "
            "objective's temperature)",
            T);
        return NULL;
    }
    vae_tensor *s = perturbed(ctx, q, u); /* (..., Z) */
    if (!s) return NULL;
    vae_tensor *y;
    if (q->ops == &vae_categorical_ops) {
        int64_t C = (int64_t)q->c[VAE_DIST_C_CLASSES], shape[VAE_MAX_DIMS];
        int nd = s->ndim;
        for (int i = 0; i < nd - 1; i++) shape[i] = s->shape[i];
        shape[nd - 1] = s->shape[nd - 1] / C, shape[nd] = C;
        vae_tensor *g =
            vae_mul_scalar(ctx, vae_reshape(ctx, s, nd + 1, shape), 1.0 / T); /* (..., N, C) */
        g = vae_exp(ctx, vae_sub(ctx, g, vae_logsumexp(ctx, g, 1, (int[]){-1}, 1))); /* softmax_c */
        y = vae_reshape(ctx, g, nd, s->shape);
    } else
        y = vae_sigmoid(ctx, vae_mul_scalar(ctx, s, 1.0 / T));
    q->eps = vae_detach(ctx, u);
    if (!hard) return y;
    /* straight-through: the forward value is the hard sample, the gradient that of y */
    int prev = vae_set_grad_enabled(ctx, 0);
    vae_tensor *h = hard_of(ctx, q, vae_detach(ctx, s));
    vae_set_grad_enabled(ctx, prev);
    return vae_add(ctx, h, vae_sub(ctx, y, vae_detach(ctx, y)));
}

vae_tensor *vae_gumbel_softmax(vae_ctx *ctx, vae_dist *q, int64_t k, double T, int hard) {
    int64_t shape[VAE_MAX_DIMS];
    if (bad_q(ctx, q, "gumbel_softmax")) return NULL;
    int nd = vae_dist_sample_shape(ctx, q, k, shape);
    if (nd < 0) return NULL;
    return vae_gumbel_softmax_with(ctx, q, vae_rand(ctx, q->param[0]->dtype, nd, shape), T, hard);
}

vae_tensor *vae_gumbel_hard(vae_ctx *ctx, const vae_dist *q) {
    if (bad_q(ctx, q, "gumbel_hard") || !q->eps) return NULL;
    int prev = vae_set_grad_enabled(ctx, 0);
    vae_tensor *h = hard_of(ctx, q, vae_detach(ctx, perturbed(ctx, q, q->eps)));
    vae_set_grad_enabled(ctx, prev);
    return h;
}

double vae_gumbel_temperature(const vae_objective_cfg *cfg, int64_t step) {
    if (!(cfg->temp_anneal > 0)) return cfg->temperature;
    return fmax(cfg->temp_min, cfg->temperature * exp(-cfg->temp_anneal * (double)step));
}

/* ---- enumeration ---- */

int64_t vae_discrete_num_configs(const vae_net *net) {
    if (!vae_net_discrete(net)) return -1;
    int64_t C = net->cfg.latent_kind == VAE_LATENT_CATEGORICAL ? net->cfg.latent_classes : 2;
    int64_t N = net->cfg.latent_kind == VAE_LATENT_CATEGORICAL ? net->cfg.z_dim / C
                                                               : net->cfg.z_dim,
            M = 1;
    for (int64_t i = 0; i < N; i++)
        if ((M *= C) > VAE_DISCRETE_MAX_ENUM) return -1;
    return M;
}

static int64_t need_enum(vae_ctx *ctx, const vae_net *net, const char *what) {
    int64_t M = vae_discrete_num_configs(net);
    if (M < 0 && ctx)
        vae_error_set(E(ctx), VAE_ERR_ARG,
                      "%s: needs discrete latents with at most %d configurations (C^N or 2^N)",
                      what, VAE_DISCRETE_MAX_ENUM);
    return M;
}

vae_tensor *vae_discrete_configs(vae_ctx *ctx, const vae_net *net, int64_t m0, int64_t m1) {
    int64_t M = need_enum(ctx, net, "discrete_configs");
    if (M < 0) return NULL;
    if (m0 < 0 || m1 <= m0 || m1 > M) {
        vae_error_set(E(ctx), VAE_ERR_ARG, "discrete_configs: range [%lld, %lld) not in [0, %lld)",
                      (long long)m0, (long long)m1, (long long)M);
        return NULL;
    }
    int cat = net->cfg.latent_kind == VAE_LATENT_CATEGORICAL;
    int64_t Z = net->cfg.z_dim, C = cat ? net->cfg.latent_classes : 2, N = cat ? Z / C : Z;
    vae_tensor *z = vae_zeros(ctx, net->cfg.dtype, VAE_SHAPE(m1 - m0, Z));
    for (int64_t m = m0; z && m < m1; m++)
        for (int64_t j = 0, r = m; j < N; j++, r /= C) /* variable 0 is the fastest digit */
            vae_set_flat(z, (m - m0) * Z + (cat ? j * C + r % C : j), cat ? 1.0 : (double)(r % C));
    return z;
}

/* log p(x|z) + log p(z) (c, B) for configurations [m0, m1) and x (B, D) */
static vae_tensor *log_joint(vae_ctx *ctx, vae_net *net, vae_tensor *x, int64_t m0, int64_t m1,
                             vae_tensor **zout) {
    vae_tensor *z = vae_discrete_configs(ctx, net, m0, m1);
    if (!z) return NULL;
    z = vae_reshape(ctx, z, VAE_SHAPE(m1 - m0, 1, net->cfg.z_dim));
    if (zout) *zout = z;
    vae_tensor *lpx = vae_dist_log_prob(ctx, vae_net_decode(ctx, net, z), x); /* (c, B) */
    vae_tensor *lpz = vae_dist_log_prob(ctx, vae_net_prior(ctx, net), z);     /* (c, 1) */
    return vae_add(ctx, lpx, lpz);
}

vae_tensor *vae_discrete_exact_elbo(vae_ctx *ctx, vae_net *net, vae_tensor *x) {
    int64_t M = need_enum(ctx, net, "discrete_exact_elbo");
    if (M < 0) return NULL;
    vae_tensor *z;
    vae_tensor *lj = log_joint(ctx, net, x, 0, M, &z); /* (M, B) */
    vae_tensor *lq = vae_dist_log_prob(ctx, vae_net_encode(ctx, net, x, NULL, NULL), lj ? z : NULL);
    /* sum_z q(z|x) [log p(x, z) - log q(z|x)] */
    return vae_sum_axis(ctx, vae_mul(ctx, vae_exp(ctx, lq), vae_sub(ctx, lj, lq)), 0, 0);
}

vae_status vae_discrete_exact_grad(vae_ctx *ctx, vae_net *net, const float *x, int64_t B,
                                   double *grad) {
    if (need_enum(ctx, net, "discrete_exact_grad") < 0) return vae_ctx_status(ctx);
    vae_ctx_reset(ctx);
    vae_params_zero_grad(net->params);
    vae_tensor *xb = vae_cast(ctx, vae_wrap(ctx, VAE_F32, VAE_SHAPE(B, net->cfg.x_dim), (void *)x),
                              net->cfg.dtype);
    vae_tensor *L = vae_mean(ctx, vae_discrete_exact_elbo(ctx, net, xb), 0, NULL, 0);
    vae_status s = L ? vae_backward(ctx, L) : vae_ctx_status(ctx);
    if (s == VAE_OK) {
        int64_t P = vae_params_flat_len(net->params);
        const float *gf = vae_params_grads(net->params);
        const double *gd = vae_params_grads(net->params);
        for (int64_t i = 0; i < P; i++) grad[i] = net->cfg.dtype == VAE_F64 ? gd[i] : (double)gf[i];
    }
    vae_params_zero_grad(net->params);
    vae_ctx_reset(ctx);
    return s;
}

vae_status vae_discrete_exact_loglik(vae_ctx *ctx, vae_net *net, const float *x, int64_t n,
                                     int64_t max_floats, double *ll) {
    int64_t M = need_enum(ctx, net, "discrete_exact_loglik");
    if (M < 0) return vae_ctx_status(ctx);
    int64_t D = net->cfg.x_dim, P = net->lik->params_per_dim, bsz = n < 100 ? n : 100;
    if (max_floats < 1) max_floats = 8 << 20;
    int prev = vae_set_grad_enabled(ctx, 0);
    vae_status s = VAE_OK;
    for (int64_t i0 = 0; i0 < n && s == VAE_OK; i0 += bsz) {
        int64_t m = n - i0 < bsz ? n - i0 : bsz;
        int64_t chunk = max_floats / (m * D * P);
        chunk = chunk < 1 ? 1 : chunk > M ? M : chunk;
        for (int64_t b = 0; b < m; b++) ll[i0 + b] = -INFINITY;
        for (int64_t m0 = 0; m0 < M; m0 += chunk) {
            int64_t m1 = M - m0 < chunk ? M : m0 + chunk;
            vae_ctx_reset(ctx);
            vae_tensor *xb = vae_cast(
                ctx, vae_wrap(ctx, VAE_F32, VAE_SHAPE(m, D), (void *)(x + i0 * D)), net->cfg.dtype);
            vae_tensor *lse =
                vae_logsumexp(ctx, log_joint(ctx, net, xb, m0, m1, NULL), 1, (int[]){0}, 0);
            if (!lse) {
                s = vae_ctx_status(ctx) ? vae_ctx_status(ctx) : VAE_ERR_NULL;
                break;
            }
            for (int64_t b = 0; b < m; b++)
                ll[i0 + b] = vae__logaddexp(ll[i0 + b], vae_get_flat(lse, b));
        }
    }
    vae_set_grad_enabled(ctx, prev);
    vae_ctx_reset(ctx);
    return s;
}

/* ---- the hooks into vae_objective ---- */

vae_status vae_objective_check_net(const vae_objective_cfg *cfg, const vae_net *net,
                                   vae_error *err) {
    vae_estimator e = cfg->estimator;
    int pathwise = e == VAE_EST_REPARAM || e == VAE_EST_STL || e == VAE_EST_DREG;
    char kind[64];
    vae_latent_kind_spec(&net->cfg, kind, sizeof kind);
    if (vae_net_discrete(net) && pathwise)
        return vae_error_set(
            err, VAE_ERR_ARG,
            "estimator %s needs a reparameterizable q(z|x), but the latents are discrete "
            "(%s): use score (with a baseline: none, ma, vimco, nvil) or gumbel",
            vae_estimator_name(e), kind);
    if (!vae_net_discrete(net) && e == VAE_EST_GUMBEL)
        return vae_error_set(
            err, VAE_ERR_ARG,
            "estimator gumbel relaxes discrete latents; this model's are Gaussian (use "
            "a latent kind categorical:NxC or bernoulli:N)");
    if (cfg->baseline == VAE_BASELINE_NVIL && net->bl.nlayers == 0)
        return vae_error_set(err, VAE_ERR_ARG,
                             "baseline nvil needs the model's baseline network b(x) (\"bl.*\", "
                             "baseline_hidden > 0; vae train --baseline nvil builds it)");
    return VAE_OK;
}

vae_status vae__discrete_begin(vae_ctx *ctx, vae_net *net, vae_tensor *x,
                               const vae_objective_cfg *cfg, vae_objective_state *st) {
    net->relax_temperature =
        cfg->estimator == VAE_EST_GUMBEL ? vae_gumbel_temperature(cfg, st->step) : 0;
    net->relax_hard = cfg->estimator == VAE_EST_GUMBEL && cfg->straight_through;
    st->nvil_b = NULL;
    if (cfg->baseline == VAE_BASELINE_NVIL && cfg->estimator == VAE_EST_SCORE &&
        !(st->nvil_b = vae_net_baseline(ctx, net, x)))
        return vae_ctx_status(ctx) ? vae_ctx_status(ctx) : VAE_ERR_NULL;
    return VAE_OK;
}

/* the true discrete bound of the same objective: a tape-free build with hard samples z ~ q */
static vae_status hard_bound(vae_ctx *ctx, vae_net *net, vae_tensor *x,
                             const vae_objective_cfg *cfg, const vae_objective_state *st,
                             vae_objective_out *out) {
    vae_objective_cfg h = *cfg;
    h.estimator = VAE_EST_SCORE, h.baseline = VAE_BASELINE_NONE;
    vae_objective_out ho;
    memset(&ho, 0, sizeof ho);
    int prev = vae_set_grad_enabled(ctx, 0);
    vae_status s = h.desc->build(ctx, net, x, &h, st, &ho);
    vae_set_grad_enabled(ctx, prev);
    if (s) return s;
    vae_objective_out_log(out, "relaxed_bound", out->bound_mean);
    vae_objective_out_log(out, "temperature", net->relax_temperature);
    out->bound = ho.bound;
    out->bound_mean = ho.bound_mean;
    static const char *const keep[] = {"rec", "kl", "elbo"};
    for (int i = 0; i < 3; i++) {
        double v = vae_objective_out_value(&ho, keep[i]);
        if (!isnan(v)) vae_objective_out_log(out, keep[i], v);
    }
    return VAE_OK;
}

vae_status vae__discrete_end(vae_ctx *ctx, vae_net *net, vae_tensor *x,
                             const vae_objective_cfg *cfg, vae_objective_state *st,
                             vae_objective_out *out, vae_status s) {
    if (s == VAE_OK && cfg->estimator == VAE_EST_GUMBEL) s = hard_bound(ctx, net, x, cfg, st, out);
    if (s == VAE_OK && st->nvil_b) {
        /* NVIL: b(x) regresses the centred bound, (sg(bound - c) - b(x))^2, its gradient reaching bl.* only */
        double c = st->baseline_ready ? st->baseline : 0.0;
        vae_tensor *r =
            vae_sub(ctx, vae_add_scalar(ctx, vae_detach(ctx, out->bound), -c), st->nvil_b);
        vae_tensor *mse = vae_mean(ctx, vae_square(ctx, r), 0, NULL, 0);
        out->loss = vae_add(ctx, out->loss, mse);
        if (!out->loss)
            s = vae_ctx_status(ctx) ? vae_ctx_status(ctx) : VAE_ERR_NULL;
        else
            vae_objective_out_log(out, "nvil_mse", vae_get_flat(mse, 0));
    }
    net->relax_temperature = 0, net->relax_hard = 0;
    st->nvil_b = NULL;
    return s;
}
