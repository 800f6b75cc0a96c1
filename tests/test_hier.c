/* Two stochastic layers (models/vae_net_hier.c): the ELBO and the IWAE bound against a hand computation with
 * replayed noise, gradchecks of log q(z1, z2|x) and log p(z1, z2) and of the IWAE loss through z2(z1), STL and
 * DReG against finite differences of their defining path functions, active units per layer on a constructed
 * net, the model text and a save/load round trip, and a short training run that must improve the bound. */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "vae.h"
#include "models/eval.h"
#include "models/model.h"
#include "models/objective.h"
#include "nn/dataset.h"

#define D  4
#define B  2
#define Z  2
#define Z2 2
#define KP 3 /* particles */

static const double xdata[B * D] = {1, 0, 1, 1, 0, 1, 1, 0};

static void tiny_cfg(vae_net_cfg *nc) {
    vae_net_cfg_default(nc);
    nc->x_dim = D, nc->z_dim = Z, nc->nhidden = 1, nc->hidden[0] = 3;
    nc->z2_dim = Z2, nc->nhidden2 = 1, nc->hidden2[0] = 3;
    nc->act = VAE_ACT_TANH;
    nc->dtype = VAE_F64;
}

static int tiny_net(vae_net *net, uint64_t seed) {
    vae_net_cfg nc;
    tiny_cfg(&nc);
    vae_rng rng;
    vae_rng_seed(&rng, seed);
    vae_error err = {0};
    vae_status s = vae_net_init(net, &nc, &rng, &err);
    CHECK_MSG(s == VAE_OK, "init: %s", err.msg);
    return s == VAE_OK;
}

/* ---- the hand computation ---- */

/* v (m->layer[0].in) -> out, tanh between layers */
static void mlp_hand(const vae_mlp *m, const double *v, double *out) {
    double a[64], b[64];
    int64_t n = m->layer[0].in;
    memcpy(a, v, sizeof(double) * (size_t)n);
    for (int l = 0; l < m->nlayers; l++) {
        const vae_linear *L = &m->layer[l];
        for (int64_t j = 0; j < L->out; j++) {
            double s = vae_get_flat(L->b, j);
            for (int64_t i = 0; i < L->in; i++) s += a[i] * vae_get_flat(L->w, i * L->out + j);
            b[j] = l + 1 < m->nlayers ? tanh(s) : s;
        }
        n = L->out;
        memcpy(a, b, sizeof(double) * (size_t)n);
    }
    memcpy(out, a, sizeof(double) * (size_t)n);
}

static double log_normal(const double *z, const double *mu, const double *lv, int n) {
    double s = 0;
    for (int j = 0; j < n; j++) {
        double m = mu ? mu[j] : 0, v = lv ? lv[j] : 0, r = z[j] - m;
        s += -0.5 * r * r / exp(v) - 0.5 * v - 0.91893853320467274178;
    }
    return s;
}

/* log w = log p(x|z1) + log p(z2) + log p(z1|z2) - log q(z1|x) - log q(z2|z1) for noise e1 (Z), e2 (Z2) */
static double log_w_hand(const vae_net *net, const double *x, const double *e1, const double *e2) {
    double h[2 * Z], h2[2 * Z2], hp[2 * Z], lg[D], z1[Z], z2[Z2];
    mlp_hand(&net->enc, x, h);
    for (int j = 0; j < Z; j++) z1[j] = h[j] + exp(0.5 * h[Z + j]) * e1[j];
    mlp_hand(&net->enc2, z1, h2);
    for (int j = 0; j < Z2; j++) z2[j] = h2[j] + exp(0.5 * h2[Z2 + j]) * e2[j];
    mlp_hand(&net->dec2, z2, hp);
    mlp_hand(&net->dec, z1, lg);
    double lpx = 0;
    for (int d = 0; d < D; d++)
        lpx += x[d] * lg[d] - (lg[d] > 0 ? lg[d] + log1p(exp(-lg[d])) : log1p(exp(lg[d])));
    double lq = log_normal(z1, h, h + Z, Z) + log_normal(z2, h2, h2 + Z2, Z2);
    double lp = log_normal(z2, NULL, NULL, Z2) + log_normal(z1, hp, hp + Z, Z);
    return lpx + lp - lq;
}

/* the objective's bound (B) with the noise replayed from e (k * B * Z values for z1, then k * B * Z2 for z2) */
static int bound_replayed(vae_net *net, const char *spec, const double *e, int64_t ne,
                          double *bound) {
    vae_ctx *ctx = vae_ctx_new(0);
    vae_error err = {0};
    vae_objective_cfg c;
    vae_objective_cfg_default(&c);
    CHECK_MSG(vae_objective_parse_spec(&c, spec, &err) == VAE_OK, "%s", err.msg);
    vae_ctx_replay_normals(ctx, e, ne);
    vae_objective_state st = {0};
    vae_objective_out o;
    vae_tensor *x = vae_from_data(ctx, VAE_F64, VAE_SHAPE(B, D), VAE_F64, xdata);
    vae_status s = vae_objective(ctx, net, x, &c, &st, &o);
    CHECK_MSG(s == VAE_OK, "%s: %s", spec, vae_ctx_message(ctx));
    CHECK(vae_ctx_replay_left(ctx) == 0); /* every replayed value used: z1's and z2's */
    for (int b = 0; s == VAE_OK && b < B; b++) bound[b] = vae_get_flat(o.bound, b);
    vae_ctx_free(ctx);
    return s == VAE_OK;
}

static void test_bounds_by_hand(void) {
    vae_net net;
    if (!tiny_net(&net, 11)) return;
    double e[KP * B * (Z + Z2)];
    vae_rng rng;
    vae_rng_seed(&rng, 5);
    for (size_t i = 0; i < sizeof e / sizeof *e; i++) e[i] = vae_rng_normal(&rng);
    const double *e1 = e, *e2 = e + KP * B * Z; /* (K, B, Z) then (K, B, Z2) */
    double lw[KP][B];
    for (int k = 0; k < KP; k++)
        for (int b = 0; b < B; b++)
            lw[k][b] = log_w_hand(&net, xdata + b * D, e1 + (k * B + b) * Z, e2 + (k * B + b) * Z2);
    double iwae[B], elbo[B];
    CHECK(bound_replayed(&net, "iwae:k=3", e, KP * B * (Z + Z2), iwae));
    CHECK(bound_replayed(&net, "vae:l=3", e, KP * B * (Z + Z2), elbo));
    for (int b = 0; b < B; b++) {
        double m = fmax(lw[0][b], fmax(lw[1][b], lw[2][b])), s = 0, mean = 0;
        for (int k = 0; k < KP; k++) s += exp(lw[k][b] - m), mean += lw[k][b] / KP;
        CHECK_NEAR(iwae[b], m + log(s / KP), 1e-10, 1e-10);
        CHECK_NEAR(elbo[b], mean, 1e-10, 1e-10);
        CHECK(iwae[b] >= elbo[b]);
    }
    printf("by hand: IWAE (K=3) %.6f %.6f, ELBO (L=3) %.6f %.6f\n", iwae[0], iwae[1], elbo[0],
           elbo[1]);

    /* vae_evaluate's ELBO (L = 1): its reconstruction and Monte-Carlo KL at the first replayed particle */
    vae_ctx *ctx = vae_ctx_new(0);
    double big[4096];
    memcpy(big, e, sizeof(double) * B * Z);
    memcpy(big + B * Z, e2, sizeof(double) * B * Z2);
    for (int i = B * (Z + Z2); i < 4096; i++)
        big[i] = vae_rng_normal(&rng); /* the moments' draws */
    vae_ctx_replay_normals(ctx, big, 4096);
    vae_eval_cfg ec;
    vae_eval_cfg_default(&ec);
    ec.is_samples = 0;
    float xf[B * D];
    for (int i = 0; i < B * D; i++) xf[i] = (float)xdata[i];
    vae_eval_result r;
    double ex[B];
    CHECK_MSG(vae_evaluate(ctx, &net, xf, B, &ec, &r, ex, NULL) == VAE_OK, "%s",
              vae_ctx_message(ctx));
    for (int b = 0; b < B; b++) CHECK_NEAR(ex[b], lw[0][b], 1e-10, 1e-10);
    double ks = 0;
    for (int j = 0; j < Z + Z2; j++) ks += r.kl_per_dim[j];
    CHECK_NEAR(ks, r.kl, 1e-10, 1e-10); /* the chain-rule parts add up to the KL */
    CHECK(r.z_dim == Z + Z2 && r.nlayers == 2 && r.layer_dim[0] == Z && r.layer_dim[1] == Z2);
    vae_eval_result_free(&r);
    vae_ctx_free(ctx);

    /* the analytic-KL weightings refuse a model whose KL has no closed form */
    vae_objective_cfg c;
    vae_objective_cfg_default(&c);
    vae_error err = {0};
    vae_objective_parse_spec(&c, "beta-vae:free-bits=0.5", &err);
    ctx = vae_ctx_new(0);
    vae_objective_state st = {0};
    vae_objective_out o;
    vae_tensor *x = vae_from_data(ctx, VAE_F64, VAE_SHAPE(B, D), VAE_F64, xdata);
    CHECK(vae_objective(ctx, &net, x, &c, &st, &o) == VAE_ERR_ARG);
    CHECK(strstr(vae_ctx_message(ctx), "analytic KL") != NULL);
    vae_ctx_free(ctx);
    vae_net_free(&net);
}

/* ---- gradchecks ---- */

typedef struct gc_user {
    vae_net *net;
    int what; /* 0: sum log q(z|x) at a fixed z, 1: sum log p(z), 2: the IWAE loss (reparam, K = 3) */
    int mlp; /* whose weights are the inputs (the gradcheck takes a few inputs at a time) */
} gc_user;

static vae_mlp *mlps(vae_net *net, int i) {
    vae_mlp *m[4] = {&net->enc, &net->dec, &net->enc2, &net->dec2};
    return m[i];
}

static const double zfix[B * (Z + Z2)] = {0.3, -1.2, 0.5, 0.1, -0.7, 0.9, -0.2, 1.4};

static vae_tensor *gc_fn(vae_ctx *ctx, vae_tensor *const *in, int nin, void *u) {
    gc_user *g = u;
    vae_mlp *m = mlps(g->net, g->mlp);
    vae_linear saved[VAE_MLP_MAX_LAYERS];
    (void)nin;
    for (int i = 0; i < m->nlayers; i++) {
        saved[i] = m->layer[i];
        m->layer[i].w = in[2 * i];
        m->layer[i].b = in[2 * i + 1];
    }
    vae_ctx_seed(ctx, 99);
    vae_tensor *x = vae_from_data(ctx, VAE_F64, VAE_SHAPE(B, D), VAE_F64, xdata);
    vae_tensor *z = vae_from_data(ctx, VAE_F64, VAE_SHAPE(B, Z + Z2), VAE_F64, zfix), *y = NULL;
    if (g->what == 0) y = vae_dist_log_prob(ctx, vae_net_encode(ctx, g->net, x, NULL, NULL), z);
    if (g->what == 1) y = vae_dist_log_prob(ctx, vae_net_prior(ctx, g->net), z);
    if (g->what == 2) {
        vae_objective_cfg c;
        vae_objective_cfg_default(&c);
        vae_objective_parse_spec(&c, "iwae:k=3", NULL);
        vae_objective_state st = {0};
        vae_objective_out o;
        y = vae_objective(ctx, g->net, x, &c, &st, &o) ? NULL : o.loss;
    }
    for (int i = 0; i < m->nlayers; i++) m->layer[i] = saved[i];
    return y;
}

static void test_gradcheck(void) {
    vae_net net;
    if (!tiny_net(&net, 12)) return;
    /* log q: q(z1|x)'s and q(z2|z1)'s weights; log p: p(z1|z2)'s; the IWAE loss: all four nets */
    static const struct {
        int what, mlp;
        const char *name;
    } rows[] = {{0, 0, "log q(z1,z2|x) enc"},  {0, 2, "log q(z1,z2|x) enc.z2"},
                {1, 3, "log p(z1,z2) dec.z1"}, {2, 0, "iwae loss enc"},
                {2, 1, "iwae loss dec"},       {2, 2, "iwae loss enc.z2"},
                {2, 3, "iwae loss dec.z1"}};
    for (size_t r = 0; r < sizeof rows / sizeof *rows; r++) {
        vae_mlp *m = mlps(&net, rows[r].mlp);
        vae_gc_input in[2 * VAE_MLP_MAX_LAYERS];
        double *bufs[2 * VAE_MLP_MAX_LAYERS];
        int n = 0;
        for (int i = 0; i < m->nlayers; i++)
            for (int t = 0; t < 2; t++) {
                vae_tensor *p = t ? m->layer[i].b : m->layer[i].w;
                memset(&in[n], 0, sizeof in[n]);
                in[n].ndim = p->ndim;
                memcpy(in[n].shape, p->shape, sizeof in[n].shape);
                bufs[n] = malloc(sizeof(double) * (size_t)vae_numel(p));
                vae_tensor_to_f64(p, bufs[n]);
                in[n].data = bufs[n];
                in[n].requires_grad = 1;
                n++;
            }
        gc_user u = {&net, rows[r].what, rows[r].mlp};
        vae_error err = {0};
        vae_gc_result res;
        vae_status s = vae_gradcheck(gc_fn, &u, n, in, 1e-6, 1e-7, 1e-5, &res, &err);
        CHECK_MSG(s == VAE_OK, "gradcheck %s: %s", rows[r].name, err.msg);
        CHECK(res.checked >= 20);
        printf("gradcheck %-24s max|err| %.2e over %lld elements\n", rows[r].name, res.max_abs_err,
               (long long)res.checked);
        for (int i = 0; i < n; i++) free(bufs[i]);
    }
    vae_net_free(&net);
}

/* ---- STL and DReG against finite differences of their path functions ----
 * With phi0 the current encoder weights held fixed inside q (a frozen copy of the net), and z_k(phi) drawn with
 * the same noise:  STL's encoder gradient is d/dphi of  -(1/B) sum_b [log p(x, z(phi)) - log q_phi0(z(phi)|x)]
 * (L = 1), IWAE-STL's of  -(1/B) sum_b sum_k wt_kb [...]_k  and DReG's of  -(1/B) sum_b sum_k wt_kb^2 [...]_k,
 * [...]_k = log p(x, z_k(phi)) - log q_phi0(z_k(phi)|x), with wt the normalized weights at phi0 (constants). Dropping z1's path into q(z2|z1) (or keeping the weights'
 * score) changes these numbers. */

static double path_fn(vae_net *net, vae_net *frozen, int64_t k, const double *c) {
    vae_ctx *ctx = vae_ctx_new(0);
    vae_ctx_seed(ctx, 77);
    vae_tensor *x = vae_from_data(ctx, VAE_F64, VAE_SHAPE(B, D), VAE_F64, xdata);
    vae_tensor *z =
        vae_dist_rsample(ctx, vae_net_encode(ctx, net, x, NULL, NULL), k); /* (k, B, Z+Z2) */
    vae_tensor *lw = vae_sub(ctx,
                             vae_add(ctx, vae_dist_log_prob(ctx, vae_net_decode(ctx, net, z), x),
                                     vae_dist_log_prob(ctx, vae_net_prior(ctx, net), z)),
                             vae_dist_log_prob(ctx, vae_net_encode(ctx, frozen, x, NULL, NULL), z));
    double s = 0;
    for (int64_t i = 0; lw && i < k * B; i++) s += (c ? c[i] : 1.0) * vae_get_flat(lw, i);
    if (!lw) CHECK_MSG(0, "path fn: %s", vae_ctx_message(ctx));
    vae_ctx_free(ctx);
    return -s / B;
}

static void check_path_gradient(const char *spec, vae_estimator est, int64_t k) {
    vae_net net, frozen;
    if (!tiny_net(&net, 13) || !tiny_net(&frozen, 13)) return;
    vae_ctx *ctx = vae_ctx_new(0);
    vae_ctx_seed(ctx, 77);
    vae_objective_cfg c;
    vae_objective_cfg_default(&c);
    vae_objective_parse_spec(&c, spec, NULL);
    c.estimator = est;
    vae_objective_state st = {0};
    vae_objective_out o;
    vae_tensor *x = vae_from_data(ctx, VAE_F64, VAE_SHAPE(B, D), VAE_F64, xdata);
    vae_params_zero_grad(net.params);
    vae_status s = vae_objective(ctx, &net, x, &c, &st, &o);
    if (!s) s = vae_backward(ctx, o.loss);
    CHECK_MSG(s == VAE_OK, "%s: %s", spec, vae_ctx_message(ctx));
    /* the normalized weights at phi0 from the same noise: the importance-weighted bound's gradient is
     * sum_k wt_k d log w_k (STL), DReG's sum_k wt_k^2 d log w_k / d z_k d z_k / d phi */
    double wt2[16] = {0};
    if (k > 1) {
        vae_ctx *c2 = vae_ctx_new(0);
        vae_ctx_seed(c2, 77);
        vae_est_particles p;
        vae_tensor *x2 = vae_from_data(c2, VAE_F64, VAE_SHAPE(B, D), VAE_F64, xdata);
        CHECK(vae_est_draw_particles(c2, &net, x2, 1, k, VAE_EST_REPARAM, &p) == VAE_OK);
        vae_tensor *w = vae_est_weights(c2, p.logw, 0);
        for (int64_t i = 0; i < k * B; i++)
            wt2[i] =
                est == VAE_EST_DREG ? vae_get_flat(w, i) * vae_get_flat(w, i) : vae_get_flat(w, i);
        vae_ctx_free(c2);
    }
    double *val = vae_params_values(net.params), *grad = vae_params_grads(net.params);
    double worst = 0;
    int64_t checked = 0;
    for (int i = 0; i < vae_params_count(net.params); i++) {
        vae_tensor *p = vae_params_get(net.params, i);
        if (strncmp(p->name, "enc.", 4))
            continue; /* the decoder's gradient is the plain pathwise one */
        int64_t off = vae_params_offset(net.params, i);
        for (int64_t j = 0; j < vae_numel(p); j++) {
            double v = val[off + j], h = 1e-6;
            val[off + j] = v + h;
            double fp = path_fn(&net, &frozen, k, k > 1 ? wt2 : NULL);
            val[off + j] = v - h;
            double fm = path_fn(&net, &frozen, k, k > 1 ? wt2 : NULL);
            val[off + j] = v;
            double num = (fp - fm) / (2 * h), err = fabs(num - grad[off + j]);
            if (err > worst) worst = err;
            CHECK_MSG(err <= 1e-6 + 1e-5 * fabs(num), "%s %s[%lld]: backward %.9g, path fn %.9g",
                      spec, p->name, (long long)j, grad[off + j], num);
            checked++;
        }
    }
    printf("%s %-4s encoder gradient = its path function's: max|err| %.2e over %lld elements\n",
           spec, vae_estimator_name(est), worst, (long long)checked);
    CHECK(checked > 40);
    vae_ctx_free(ctx);
    vae_net_free(&net);
    vae_net_free(&frozen);
}

/* ---- the score function agrees with the pathwise gradient in mean ----
 * For the IWAE bound (K = 3), the score-function estimator with VIMCO's baseline and the reparameterized one have
 * the same expectation for every encoder parameter (log q(z1, z2|x) differentiated with z fixed against the path
 * through z1 and z2(z1)): compared coordinate by coordinate with their standard errors over R draws. */
static void test_score_vs_reparam(void) {
    vae_net net;
    if (!tiny_net(&net, 14)) return;
    enum { R = 3000, P = 64 };
    int64_t np = vae_params_flat_len(net.params);
    double *sum[2], *sq[2];
    for (int e = 0; e < 2; e++)
        sum[e] = calloc((size_t)np, sizeof(double)), sq[e] = calloc((size_t)np, sizeof(double));
    vae_ctx *ctx = vae_ctx_new(0);
    vae_ctx_seed(ctx, 21);
    for (int e = 0; e < 2; e++) {
        vae_objective_cfg c;
        vae_objective_cfg_default(&c);
        vae_objective_parse_spec(&c, "iwae:k=3", NULL);
        c.estimator = e ? VAE_EST_SCORE : VAE_EST_REPARAM;
        c.baseline = e ? VAE_BASELINE_VIMCO : VAE_BASELINE_NONE;
        for (int r = 0; r < R; r++) {
            vae_ctx_reset(ctx);
            vae_params_zero_grad(net.params);
            vae_objective_state st = {0};
            vae_objective_out o;
            vae_tensor *x = vae_from_data(ctx, VAE_F64, VAE_SHAPE(B, D), VAE_F64, xdata);
            vae_status s = vae_objective(ctx, &net, x, &c, &st, &o);
            if (!s) s = vae_backward(ctx, o.loss);
            if (s) {
                CHECK_MSG(0, "%s", vae_ctx_message(ctx));
                break;
            }
            const double *g = vae_params_grads(net.params);
            for (int64_t i = 0; i < np; i++) sum[e][i] += g[i], sq[e][i] += g[i] * g[i];
        }
    }
    double worst = 0;
    int64_t n = 0;
    for (int i = 0; i < vae_params_count(net.params); i++) {
        vae_tensor *p = vae_params_get(net.params, i);
        if (strncmp(p->name, "enc.", 4)) continue;
        for (int64_t j = 0, off = vae_params_offset(net.params, i); j < vae_numel(p); j++) {
            double m[2], v[2];
            for (int e = 0; e < 2; e++) {
                m[e] = sum[e][off + j] / R;
                v[e] = (sq[e][off + j] / R - m[e] * m[e]) / (R - 1);
            }
            double zsc = fabs(m[0] - m[1]) / sqrt(v[0] + v[1] + 1e-300);
            if (zsc > worst) worst = zsc;
            n++;
        }
    }
    printf("score (vimco) vs reparam, iwae K=3, %d draws: largest |difference| / se over %lld "
           "encoder coordinates "
           "%.2f\n",
           R, (long long)n, worst);
    CHECK(n > 40);
    CHECK_MSG(worst < 4.5, "score and reparam means differ by %.2f standard errors", worst);
    for (int e = 0; e < 2; e++) free(sum[e]), free(sq[e]);
    vae_ctx_free(ctx);
    vae_net_free(&net);
}

/* ---- active units per layer ---- */

static void set(vae_tensor *t, int64_t i, double v) {
    vae_set_flat(t, i, v);
}

static void test_active_units(void) {
    /* no hidden layers: mu1 = (2 x0, 0), lv1 = -8; mu2 = (z1_0, 0.5 z1_1), lv2 = (-1, -1). Over x, E[z1_0] = 2 x0
     * varies, E[z1_1] = 0 does not; E[z2_0|x] = E[z1_0] = 2 x0 varies, E[z2_1|x] = 0.5 E[z1_1] = 0 does not:
     * one active unit per layer. */
    vae_net_cfg nc;
    tiny_cfg(&nc);
    nc.x_dim = 3, nc.nhidden = 0, nc.nhidden2 = 0;
    vae_net net;
    vae_rng rng;
    vae_rng_seed(&rng, 1);
    vae_error err = {0};
    if (vae_net_init(&net, &nc, &rng, &err)) {
        CHECK_MSG(0, "%s", err.msg);
        return;
    }
    memset(vae_params_values(net.params), 0,
           sizeof(double) * (size_t)vae_params_flat_len(net.params));
    const vae_linear *e = &net.enc.layer[0], *e2 = &net.enc2.layer[0]; /* w (3, 4), (2, 4) */
    set(e->w, 0 * 4 + 0, 2.0);
    set(e->b, 2, -8), set(e->b, 3, -8);
    set(e2->w, 0 * 4 + 0, 1.0), set(e2->w, 1 * 4 + 1, 0.5);
    set(e2->b, 2, -1), set(e2->b, 3, -1);
    enum { N = 200 };
    float x[N * 3];
    for (int i = 0; i < N; i++)
        x[i * 3] = (float)(i % 2), x[i * 3 + 1] = 1, x[i * 3 + 2] = (float)(i % 3 == 0);
    vae_ctx *ctx = vae_ctx_new(0);
    vae_ctx_seed(ctx, 3);
    vae_eval_cfg ec;
    vae_eval_cfg_default(&ec);
    ec.is_samples = 10;
    vae_eval_result r;
    CHECK_MSG(vae_evaluate(ctx, &net, x, N, &ec, &r, NULL, NULL) == VAE_OK, "%s",
              vae_ctx_message(ctx));
    CHECK(r.nlayers == 2 && r.layer_active[0] == 1 && r.layer_active[1] == 1 &&
          r.active_units == 2);
    CHECK_NEAR(r.au_var[0], 1.0, 1e-9, 0); /* Var(2 x0), x0 in {0, 1} half each */
    CHECK(r.au_var[1] < 1e-12);
    CHECK_NEAR(r.au_var[2], 1.0, 0.01, 0); /* Var_x of the 100-draw mean of z1_0 */
    CHECK(r.au_var[3] < 1e-4);
    printf("active units per layer %d + %d, Var_x E_q[u]: %.4f %.2g | %.4f %.2g\n",
           r.layer_active[0], r.layer_active[1], r.au_var[0], r.au_var[1], r.au_var[2],
           r.au_var[3]);
    vae_eval_result_free(&r);
    /* vae_encode_all: the marginal moments, z2's by total variance: Var[z2_0] = e^-1 + e^-8 */
    float mu[N * 4], lv[N * 4];
    CHECK(vae_encode_all(ctx, &net, x, N, 50, mu, lv) == VAE_OK);
    CHECK_NEAR(mu[1 * 4 + 0], 2.0, 1e-6, 0);
    CHECK_NEAR(mu[1 * 4 + 2], 2.0, 0.01, 0);
    CHECK_NEAR(lv[0], -8, 1e-6, 0);
    CHECK_NEAR(exp(lv[1 * 4 + 2]), exp(-1) + exp(-8), 1e-4, 0.05);
    vae_ctx_free(ctx);
    vae_net_free(&net);
}

/* ---- model text, save/load, prior samples, errors ---- */

static void test_model_io(void) {
    vae_model_desc d;
    vae_model_desc_default(&d);
    tiny_cfg(&d.net);
    d.net.nhidden2 = 2, d.net.hidden2[1] = 5;
    char *text;
    size_t len;
    vae_error err = {0};
    CHECK(vae_model_desc_write(&d, &text, &len, &err) == VAE_OK);
    CHECK(strstr(text, "\nlatent2 2\n") && strstr(text, "\nhidden2 3,5\n"));
    vae_model_desc e;
    vae_model_desc_default(&e);
    CHECK_MSG(vae_model_desc_parse(text, len, &e, &err) == VAE_OK, "%s", err.msg);
    CHECK(e.net.z2_dim == 2 && e.net.nhidden2 == 2 && e.net.hidden2[0] == 3 &&
          e.net.hidden2[1] == 5);
    free(text);
    vae_model_desc_default(&d); /* one layer: no new keys, so older readers see the same text */
    d.net.x_dim = 4;
    CHECK(vae_model_desc_write(&d, &text, &len, &err) == VAE_OK);
    CHECK(!strstr(text, "latent2") && !strstr(text, "hidden2"));
    free(text);
    const char *bad = "vae-run 1\nx_dim 4\nlatent2 -3\n";
    vae_model_desc_default(&e);
    CHECK(vae_model_desc_parse(bad, strlen(bad), &e, &err) != VAE_OK && strstr(err.msg, "latent2"));

    /* save and load: the same log-density */
    vae_model m, m2;
    vae_model_desc_default(&d);
    tiny_cfg(&d.net);
    vae_rng rng;
    vae_rng_seed(&rng, 4);
    CHECK(vae_model_init(&m, &d, &rng, &err) == VAE_OK);
    const char *path = "test_hier_model.vae";
    CHECK_MSG(vae_model_save(path, &m, &err) == VAE_OK, "%s", err.msg);
    CHECK_MSG(vae_model_load(path, &m2, &err) == VAE_OK, "%s", err.msg);
    remove(path);
    vae_ctx *ctx = vae_ctx_new(0);
    vae_tensor *z = vae_from_data(ctx, VAE_F64, VAE_SHAPE(B, Z + Z2), VAE_F64, zfix);
    vae_tensor *x = vae_from_data(ctx, VAE_F64, VAE_SHAPE(B, D), VAE_F64, xdata);
    vae_tensor *a = vae_dist_log_prob(ctx, vae_net_encode(ctx, &m.net, x, NULL, NULL), z);
    vae_tensor *b = vae_dist_log_prob(ctx, vae_net_encode(ctx, &m2.net, x, NULL, NULL), z);
    vae_tensor *pa = vae_dist_log_prob(ctx, vae_net_prior(ctx, &m.net), z);
    vae_tensor *pb = vae_dist_log_prob(ctx, vae_net_prior(ctx, &m2.net), z);
    CHECK(a && b && vae_get_flat(a, 1) == vae_get_flat(b, 1) &&
          vae_get_flat(pa, 0) == vae_get_flat(pb, 0));
    CHECK(vae_net_latent_dim(&m2.net) == Z + Z2 && vae_net_stoch_layers(&m2.net, NULL) == 2);

    /* prior samples: z2 ~ N(0, I), z1 | z2; shape (k, Z + Z2), finite log-density, decodable */
    vae_tensor *s = vae_dist_sample(ctx, vae_net_prior(ctx, &m.net), 5);
    CHECK(s && s->ndim == 2 && s->shape[0] == 5 && s->shape[1] == Z + Z2);
    vae_tensor *ls = vae_dist_log_prob(ctx, vae_net_prior(ctx, &m.net), s);
    CHECK(ls && isfinite(vae_get_flat(ls, 4)));
    vae_tensor *xm = vae_net_decode_mean(ctx, &m.net, s);
    CHECK(xm && xm->shape[0] == 5 && xm->shape[1] == D);
    /* the mean path of encode: (B, Z + Z2) */
    vae_tensor *mu, *lv;
    CHECK(vae_net_encode(ctx, &m.net, x, &mu, &lv) && mu->shape[1] == Z + Z2 &&
          lv->shape[1] == Z + Z2);
    /* a z without z2 is an error naming both widths, not a silent slice */
    vae_tensor *zs = vae_slice(ctx, z, -1, 0, Z, 1);
    CHECK(vae_net_decode(ctx, &m.net, zs) == NULL && vae_ctx_status(ctx) == VAE_ERR_SHAPE);
    CHECK(strstr(vae_ctx_message(ctx), "concat(z1, z2)") != NULL);
    vae_ctx_free(ctx);
    vae_model_free(&m);
    vae_model_free(&m2);
    /* bad sizes are refused */
    vae_net net;
    vae_net_cfg nc;
    tiny_cfg(&nc);
    nc.hidden2[0] = 0;
    vae_error err2 = {0};
    vae_status bs = vae_net_init(&net, &nc, &rng, &err2);
    CHECK_MSG(bs == VAE_ERR_ARG && strstr(err2.msg, "hidden2"), "%d %s", (int)bs, err2.msg);
}

/* ---- training improves the bound ---- */

static void test_training(const char *spec, vae_estimator est, const vae_dataset *train,
                          const float *xt, int64_t nt) {
    vae_net_cfg nc;
    vae_net_cfg_default(&nc);
    nc.x_dim = train->d, nc.z_dim = 8, nc.hidden[0] = 64, nc.z2_dim = 4, nc.nhidden2 = 1,
    nc.hidden2[0] = 32;
    nc.act = VAE_ACT_TANH;
    vae_rng rng;
    vae_rng_seed(&rng, 42);
    vae_net net;
    vae_optim opt;
    vae_error err = {0};
    vae_optim_config oc = vae_optim_defaults(VAE_OPTIM_ADAM, 3e-3);
    if (vae_net_init(&net, &nc, &rng, &err) || vae_optim_init(&opt, net.params, &oc, &err)) {
        CHECK_MSG(0, "setup: %s", err.msg);
        return;
    }
    vae_objective_cfg cfg;
    vae_objective_cfg_default(&cfg);
    vae_objective_parse_spec(&cfg, spec, &err);
    cfg.estimator = est;
    vae_objective_state st = {0};
    vae_ctx *ctx = vae_ctx_new(0);
    vae_eval_cfg ec;
    vae_eval_cfg_default(&ec);
    ec.is_samples = 100;
    vae_eval_result r0, r1;
    vae_ctx_seed(ctx, 9);
    CHECK(vae_evaluate(ctx, &net, xt, nt, &ec, &r0, NULL, NULL) == VAE_OK);
    vae_ctx_seed(ctx, 7);
    enum { STEPS = 400, BATCH = 50 };
    float *xb = malloc(sizeof(float) * BATCH * (size_t)train->d);
    vae_batch_iter it;
    vae_batch_iter_init(&it, train->n, BATCH, 3, 1, &err);
    const int64_t *idx;
    for (int step = 0; step < STEPS;) {
        int64_t m = vae_batch_iter_next(&it, &idx);
        if (m == 0) continue;
        vae_dataset_binarize_dynamic(train, xb, idx, m, &rng, &err);
        vae_ctx_reset(ctx);
        vae_params_zero_grad(net.params);
        vae_objective_out o;
        vae_status s = vae_objective(ctx, &net, vae_wrap(ctx, VAE_F32, VAE_SHAPE(m, train->d), xb),
                                     &cfg, &st, &o);
        if (!s) s = vae_backward(ctx, o.loss);
        if (!s) s = vae_optim_step(&opt, &err);
        if (s) {
            CHECK_MSG(0, "%s step %d: %s %s", spec, step, vae_ctx_message(ctx), err.msg);
            break;
        }
        step++;
    }
    vae_ctx_seed(ctx, 9);
    CHECK(vae_evaluate(ctx, &net, xt, nt, &ec, &r1, NULL, NULL) == VAE_OK);
    printf("train %-9s %-7s 400 steps: IS log p(x) %.2f -> %.2f, ELBO %.2f -> %.2f, active units "
           "%d + %d\n",
           spec, vae_estimator_name(est), r0.loglik, r1.loglik, r0.elbo, r1.elbo,
           r1.layer_active[0], r1.layer_active[1]);
    /* untrained about -256 log 2 = -177 nats on 16x16 sprites */
    CHECK_MSG(r1.loglik > r0.loglik + 60, "%s: log p(x) %.2f -> %.2f", spec, r0.loglik, r1.loglik);
    CHECK_MSG(r1.elbo > r0.elbo + 60, "%s: ELBO %.2f -> %.2f", spec, r0.elbo, r1.elbo);
    CHECK(r1.loglik >= r1.elbo - 0.5);
    CHECK(r1.layer_active[0] >= 1);
    vae_eval_result_free(&r0);
    vae_eval_result_free(&r1);
    vae_batch_iter_free(&it);
    free(xb);
    vae_ctx_free(ctx);
    vae_net_free(&net);
}

int main(void) {
    test_bounds_by_hand();
    test_gradcheck();
    check_path_gradient("vae", VAE_EST_STL, 1);
    check_path_gradient("iwae:k=3", VAE_EST_STL, 3);
    check_path_gradient("iwae:k=3", VAE_EST_DREG, 3);
    test_score_vs_reparam();
    test_active_units();
    test_model_io();

    vae_dataset train, test;
    vae_error err = {0};
    if (vae_dataset_load("sprites:16", &train, &test, &err)) {
        CHECK_MSG(0, "load: %s", err.msg);
        return test_finish();
    }
    enum { NT = 300 };
    float *xt = malloc(sizeof(float) * NT * (size_t)test.d);
    int64_t idx[NT];
    for (int i = 0; i < NT; i++) idx[i] = i;
    vae_rng rng;
    vae_rng_seed(&rng, 5);
    vae_dataset_binarize_dynamic(&test, xt, idx, NT, &rng, &err);
    test_training("vae", VAE_EST_REPARAM, &train, xt, NT);
    test_training("iwae:k=5", VAE_EST_REPARAM, &train, xt, NT);
    test_training("iwae:k=5", VAE_EST_DREG, &train, xt, NT);
    free(xt);
    vae_dataset_free(&train);
    vae_dataset_free(&test);
    return test_finish();
}
