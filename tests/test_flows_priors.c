/* Flows in the posterior and richer priors (models/flow_prior.h):
 *  - planar and IAF log|det| against the log-determinant of a finite-difference Jacobian, and IAF's triangular
 *    (autoregressive) structure;
 *  - the VampPrior with one pseudo-input against a hand computation of q(z|u_1) (encoder by hand);
 *  - the mixture's log-density against its formula, its ancestral sampler's moments, and KL(q || MoG) by Monte
 *    Carlo against numerical integration in 1-D;
 *  - gradcheck rows for the flow steps, the mixture log-density and whole objectives of flow / prior models;
 *  - the flow posterior's cache and its refusals (other z, detached parameters, estimators, vamp + flow);
 *  - the model text round trip (keys flow / prior; absent = none);
 *  - a planar-flow + MoG-prior model and an IAF + VampPrior model train (the bound improves) with iwae and vae. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "vae.h"
#include "models/flow_prior_internal.h"

#define LOG_2PI 1.83787706640934548356

/* log|det A| of an n x n matrix (row-major, overwritten) by Gaussian elimination with partial pivoting */
static double logabsdet(double *a, int n) {
    double s = 0;
    for (int c = 0; c < n; c++) {
        int p = c;
        for (int r = c + 1; r < n; r++)
            if (fabs(a[r * n + c]) > fabs(a[p * n + c])) p = r;
        for (int k = 0; k < n && p != c; k++) {
            double t = a[c * n + k];
            a[c * n + k] = a[p * n + k];
            a[p * n + k] = t;
        }
        s += log(fabs(a[c * n + c]));
        for (int r = c + 1; r < n; r++) {
            double f = a[r * n + c] / a[c * n + c];
            for (int k = c; k < n; k++) a[r * n + k] -= f * a[c * n + k];
        }
    }
    return s;
}

static vae_tensor *t64(vae_ctx *ctx, int nd, const int64_t *shape, const double *v) {
    return vae_from_data(ctx, VAE_F64, nd, shape, VAE_F64, v);
}

static void fill(double *v, int n, double lo, double hi, vae_rng *r) {
    for (int i = 0; i < n; i++) v[i] = lo + (hi - lo) * vae_rng_uniform(r);
}

/* ---- the flow steps: log|det| against a finite-difference Jacobian ---- */

#define FZ 4 /* latent size of the Jacobian checks */
#define FH 6 /* MADE hidden size */
#define FC 3 /* context size */

typedef struct flow_params {
    int kind; /* 0 planar, 1 iaf */
    int reverse;
    double u[FZ], w[FZ], b[1];
    double w_in[FZ * FH], b_in[FH], w_ctx[FC * FH], w_out[FH * 2 * FZ], b_out[2 * FZ], h[FC];
    double m_in[FZ * FH], m_out[FH * 2 * FZ];
} flow_params;

/* f(z) for one z (FZ) into out, log|det| returned */
static double flow_apply(vae_ctx *ctx, const flow_params *p, const double *z, double *out) {
    vae_ctx_reset(ctx);
    vae_tensor *zt = t64(ctx, 1, (int64_t[]){FZ}, z), *ld = NULL, *f;
    if (p->kind == 0)
        f = vae_planar_flow(ctx, zt, t64(ctx, 1, (int64_t[]){FZ}, p->u),
                            t64(ctx, 1, (int64_t[]){FZ}, p->w), t64(ctx, 1, (int64_t[]){1}, p->b),
                            &ld);
    else {
        vae_made m = {
            t64(ctx, VAE_SHAPE(FZ, FH), p->w_in),      t64(ctx, VAE_SHAPE(FH), p->b_in),
            t64(ctx, VAE_SHAPE(FC, FH), p->w_ctx),     t64(ctx, VAE_SHAPE(FH, 2 * FZ), p->w_out),
            t64(ctx, VAE_SHAPE(2 * FZ), p->b_out),     t64(ctx, VAE_SHAPE(FZ, FH), p->m_in),
            t64(ctx, VAE_SHAPE(FH, 2 * FZ), p->m_out), vae_act_default(VAE_ACT_TANH)};
        f = vae_iaf_step(ctx, &m, zt, t64(ctx, VAE_SHAPE(FC), p->h), &ld);
    }
    if (!f || !ld) {
        CHECK_MSG(0, "flow: %s", vae_ctx_message(ctx));
        return NAN;
    }
    for (int i = 0; i < FZ; i++) out[i] = vae_get_flat(f, i);
    return vae_get_flat(ld, 0);
}

static void check_jacobian(vae_ctx *ctx, const flow_params *p, const char *what) {
    vae_rng r;
    vae_rng_seed(&r, 3);
    for (int trial = 0; trial < 3; trial++) {
        double z[FZ], zp[FZ], f1[FZ], f2[FZ], J[FZ * FZ], out[FZ];
        fill(z, FZ, -1.5, 1.5, &r);
        double ld = flow_apply(ctx, p, z, out), h = 1e-6;
        for (int j = 0; j < FZ; j++) { /* column j: d f / d z_j */
            memcpy(zp, z, sizeof z);
            zp[j] = z[j] + h;
            flow_apply(ctx, p, zp, f1);
            zp[j] = z[j] - h;
            flow_apply(ctx, p, zp, f2);
            for (int i = 0; i < FZ; i++) J[i * FZ + j] = (f1[i] - f2[i]) / (2 * h);
        }
        if (p->kind ==
            1) { /* dz'_i/dz_j = 0 unless j comes before i in the step's order (or j = i) */
            double worst = 0;
            for (int i = 0; i < FZ; i++)
                for (int j = 0; j < FZ; j++) {
                    int before = p->reverse ? j > i : j < i;
                    if (i != j && !before && fabs(J[i * FZ + j]) > worst)
                        worst = fabs(J[i * FZ + j]);
                }
            CHECK_MSG(worst < 1e-8, "%s: Jacobian not triangular (|J| %g above it)", what, worst);
        }
        double fd = logabsdet(J, FZ);
        CHECK_MSG(fabs(fd - ld) < 1e-7, "%s trial %d: log|det| %.10f, finite differences %.10f",
                  what, trial, ld, fd);
        if (trial == 0)
            printf("%-14s log|det| %.8f  finite-difference Jacobian %.8f\n", what, ld, fd);
    }
}

static void test_flow_jacobians(vae_ctx *ctx) {
    vae_rng r;
    vae_rng_seed(&r, 17);
    flow_params p;
    memset(&p, 0, sizeof p);
    fill(p.u, FZ, -1.5, 1.5, &r);
    fill(p.w, FZ, -1.5, 1.5, &r);
    p.b[0] = 0.3;
    check_jacobian(ctx, &p, "planar");
    /* u opposite to w: w.u < -1 would make the raw planar map non-invertible; u^ keeps det > 0 */
    for (int i = 0; i < FZ; i++) p.u[i] = -2 * p.w[i];
    check_jacobian(ctx, &p, "planar w.u<-1");
    p.kind = 1;
    fill(p.w_in, FZ * FH, -1, 1, &r);
    fill(p.b_in, FH, -0.5, 0.5, &r);
    fill(p.w_ctx, FC * FH, -1, 1, &r);
    fill(p.w_out, FH * 2 * FZ, -1, 1, &r);
    fill(p.b_out, 2 * FZ, -0.5, 0.5, &r);
    fill(p.h, FC, -1, 1, &r);
    for (p.reverse = 0; p.reverse < 2; p.reverse++) {
        vae_made_masks(FZ, FH, p.reverse, p.m_in, p.m_out);
        check_jacobian(ctx, &p, p.reverse ? "iaf reversed" : "iaf");
    }
}

/* ---- gradcheck rows ---- */

static vae_tensor *g_planar(vae_ctx *ctx, vae_tensor *const *in, int nin, void *u) {
    (void)nin, (void)u;
    vae_tensor *ld, *f = vae_planar_flow(ctx, in[0], in[1], in[2], in[3], &ld);
    /* f (L, B, Z) and log|det| (L, B) in one output */
    return vae_concat(ctx, 2, (vae_tensor *[]){f, vae_unsqueeze(ctx, ld, 2)}, 2);
}

static vae_tensor *g_iaf(vae_ctx *ctx, vae_tensor *const *in, int nin, void *u) {
    (void)nin, (void)u;
    double mi[3 * 5], mo[5 * 6];
    vae_made_masks(3, 5, 1, mi, mo);
    vae_made m = {in[2],
                  in[3],
                  in[4],
                  in[5],
                  in[6],
                  t64(ctx, VAE_SHAPE(3, 5), mi),
                  t64(ctx, VAE_SHAPE(5, 6), mo),
                  vae_act_default(VAE_ACT_TANH)};
    vae_tensor *ld, *f = vae_iaf_step(ctx, &m, in[0], in[1], &ld);
    return vae_concat(ctx, 2, (vae_tensor *[]){f, vae_unsqueeze(ctx, ld, 2)}, 2);
}

static vae_tensor *g_mixture(vae_ctx *ctx, vae_tensor *const *in, int nin, void *u) {
    (void)nin, (void)u;
    return vae_dist_log_prob(ctx, vae_gaussian_mixture(ctx, in[1], in[2], in[3]), in[0]);
}

static vae_tensor *g_mixture_uniform(vae_ctx *ctx, vae_tensor *const *in, int nin, void *u) {
    (void)nin, (void)u;
    return vae_dist_log_prob(ctx, vae_gaussian_mixture(ctx, in[1], in[2], NULL), in[0]);
}

typedef struct gshape {
    int nd;
    int64_t s[3];
    double lo, hi;
} gshape;

static void gradcheck_row(const char *name, vae_gradcheck_fn f, int nin, const gshape *g) {
    vae_rng r;
    vae_rng_seed(&r, 23);
    vae_gc_input in[8];
    double buf[8][64];
    memset(in, 0, sizeof in);
    for (int i = 0; i < nin; i++) {
        in[i].ndim = g[i].nd;
        int64_t n = 1;
        for (int k = 0; k < g[i].nd; k++) n *= (in[i].shape[k] = g[i].s[k]);
        fill(buf[i], (int)n, g[i].lo, g[i].hi, &r);
        in[i].data = buf[i];
        in[i].requires_grad = 1;
    }
    vae_error err = {0};
    vae_gc_result res;
    vae_status s = vae_gradcheck(f, NULL, nin, in, 1e-6, 1e-7, 1e-6, &res, &err);
    CHECK_MSG(s == VAE_OK, "gradcheck %s: %s", name, err.msg);
    CHECK(res.checked > 10);
    printf("gradcheck %-18s max|err| %.2e over %lld elements\n", name, res.max_abs_err,
           (long long)res.checked);
}

static void test_gradchecks(void) {
    /* z (L, B, Z) with amortized parameters (B, Z), (B, 1): the broadcast a flow posterior uses */
    gshape planar[4] = {{3, {2, 3, 4}, -1.5, 1.5},
                        {2, {3, 4}, -1.5, 1.5},
                        {2, {3, 4}, -1.5, 1.5},
                        {2, {3, 1}, -0.5, 0.5}};
    gradcheck_row("planar", g_planar, 4, planar);
    gshape iaf[7] = {{3, {2, 2, 3}, -1.5, 1.5}, {2, {2, 2}, -1, 1}, {2, {3, 5}, -1, 1},
                     {1, {5}, -0.5, 0.5},       {2, {2, 5}, -1, 1}, {2, {5, 6}, -1, 1},
                     {1, {6}, -0.5, 0.5}};
    gradcheck_row("iaf", g_iaf, 7, iaf);
    gshape mix[4] = {
        {3, {2, 3, 2}, -2, 2}, {2, {4, 2}, -1.5, 1.5}, {2, {4, 2}, -1, 1}, {1, {4}, -1, 1}};
    gradcheck_row("mixture log_prob", g_mixture, 4, mix);
    gradcheck_row("mixture uniform", g_mixture_uniform, 3, mix);
    gshape one[4] = {{1, {2}, -2, 2}, {2, {3, 2}, -1.5, 1.5}, {2, {3, 2}, -1, 1}, {1, {3}, -1, 1}};
    gradcheck_row("mixture 1-d z", g_mixture, 4, one);
}

/* ---- the mixture: formula, sampler, KL by Monte Carlo against numerical integration ---- */

static double mix_logpdf_1d(double z, int K, const double *m, const double *lv,
                            const double *logits) {
    double mx = -INFINITY, s = 0, lse = -INFINITY;
    for (int k = 0; k < K; k++) lse = fmax(lse, logits[k]);
    double z0 = 0;
    for (int k = 0; k < K; k++) z0 += exp(logits[k] - lse);
    double lz = lse + log(z0), t[8];
    for (int k = 0; k < K; k++) {
        t[k] = logits[k] - lz - 0.5 * (LOG_2PI + lv[k] + (z - m[k]) * (z - m[k]) / exp(lv[k]));
        mx = fmax(mx, t[k]);
    }
    for (int k = 0; k < K; k++) s += exp(t[k] - mx);
    return mx + log(s);
}

static void test_mixture(vae_ctx *ctx) {
    enum { K = 3 };
    const double m[K] = {-2.0, 0.5, 3.0}, lv[K] = {-0.5, 0.3, 0.0}, logits[K] = {0.2, -0.4, 1.0};
    vae_ctx_reset(ctx);
    vae_dist *p =
        vae_gaussian_mixture(ctx, t64(ctx, VAE_SHAPE(K, 1), m), t64(ctx, VAE_SHAPE(K, 1), lv),
                             t64(ctx, VAE_SHAPE(K), logits));
    const double zs[5] = {-3, -0.7, 0, 1.2, 4.5};
    vae_tensor *lp = vae_dist_log_prob(ctx, p, t64(ctx, VAE_SHAPE(5, 1), zs));
    CHECK(lp && lp->ndim == 1 && lp->shape[0] == 5);
    for (int i = 0; lp && i < 5; i++)
        CHECK_NEAR(vae_get_flat(lp, i), mix_logpdf_1d(zs[i], K, m, lv, logits), 1e-12, 1e-12);

    /* ancestral sampler: mean sum_k pi_k m_k and variance sum_k pi_k (v_k + m_k^2) - mean^2 */
    double pi[K], zsum = 0, mean = 0, second = 0;
    for (int k = 0; k < K; k++) zsum += exp(logits[k]);
    for (int k = 0; k < K; k++) {
        pi[k] = exp(logits[k]) / zsum;
        mean += pi[k] * m[k];
        second += pi[k] * (exp(lv[k]) + m[k] * m[k]);
    }
    double var = second - mean * mean;
    vae_ctx_seed(ctx, 5);
    const int64_t N = 200000;
    vae_tensor *s = vae_dist_sample(ctx, p, N);
    CHECK(s && s->ndim == 2 && s->shape[0] == N && s->shape[1] == 1);
    double s1 = 0, s2 = 0;
    for (int64_t i = 0; s && i < N; i++) {
        double v = vae_get_flat(s, i);
        s1 += v, s2 += v * v;
    }
    double sm = s1 / N, sv = s2 / N - sm * sm;
    printf("mixture sampler: mean %.4f (exact %.4f), variance %.4f (exact %.4f)\n", sm, mean, sv,
           var);
    CHECK_NEAR(sm, mean, 4 * sqrt(var / N), 0);
    CHECK_NEAR(sv, var, 0.03 * var, 0);

    /* KL(N(mq, sq^2) || p): Monte Carlo with the objectives' estimator log q(z) - log p(z), z ~ q, against
     * Simpson's rule on [-14, 14] */
    const double mq = 0.8, lvq = -0.4;
    double kl_num = 0, h = 28.0 / 40000;
    for (int i = 0; i <= 40000; i++) {
        double z = -14 + h * i, lq = -0.5 * (LOG_2PI + lvq + (z - mq) * (z - mq) / exp(lvq));
        double wgt = (i == 0 || i == 40000) ? 1 : (i % 2 ? 4 : 2);
        kl_num += wgt * exp(lq) * (lq - mix_logpdf_1d(z, K, m, lv, logits));
    }
    kl_num *= h / 3;
    vae_ctx_seed(ctx, 8);
    vae_dist *q =
        vae_normal_logvar(ctx, vae_scalar(ctx, VAE_F64, mq), vae_scalar(ctx, VAE_F64, lvq));
    vae_tensor *loc = t64(ctx, VAE_SHAPE(1), &mq), *lvt = t64(ctx, VAE_SHAPE(1), &lvq);
    q = vae_normal_logvar(ctx, loc, lvt);
    vae_tensor *z = vae_dist_rsample(ctx, q, N); /* (N, 1) */
    vae_tensor *d =
        vae_sub(ctx, vae_dist_log_prob(ctx, q, z), vae_dist_log_prob(ctx, p, z)); /* (N) */
    double k1 = 0, k2 = 0;
    for (int64_t i = 0; d && i < N; i++) {
        double v = vae_get_flat(d, i);
        k1 += v, k2 += v * v;
    }
    double kl_mc = k1 / N, se = sqrt((k2 / N - kl_mc * kl_mc) / N);
    printf("KL(q || MoG) 1-d: Monte Carlo %.5f +- %.5f, numerical integration %.5f\n", kl_mc, se,
           kl_num);
    CHECK(d != NULL);
    CHECK(kl_num > 0.1); /* a real KL, not a degenerate case */
    CHECK_NEAR(kl_mc, kl_num, 4 * se, 0);
    /* vae_kl falls back to Monte Carlo for this pair (there is no closed form) */
    int analytic = 1;
    vae_tensor *klt = vae_kl(ctx, q, p, 1000, &analytic);
    CHECK(klt && analytic == 0);
}

/* ---- nets with a flow or a prior ---- */

static vae_status make_net(vae_net *net, const char *flow, const char *prior, int64_t D, int64_t Z,
                           int64_t H, vae_dtype dt, vae_act act, uint64_t seed) {
    vae_net_cfg c;
    vae_net_cfg_default(&c);
    c.x_dim = D, c.z_dim = Z, c.hidden[0] = H, c.nhidden = H > 0, c.dtype = dt, c.act = act;
    snprintf(c.flow, sizeof c.flow, "%s", flow);
    snprintf(c.prior, sizeof c.prior, "%s", prior);
    vae_rng r;
    vae_rng_seed(&r, seed);
    vae_error err = {0};
    vae_status s = vae_net_init(net, &c, &r, &err);
    if (s) printf("net %s/%s: %s\n", flow, prior, err.msg);
    return s;
}

/* VampPrior with one pseudo-input: p(z) = q(z|u_1); the encoder computed by hand from its weights */
static void test_vamp_one(vae_ctx *ctx) {
    enum { D = 3, H = 4, Z = 2 };
    vae_net net;
    if (make_net(&net, "", "vamp:1", D, Z, H, VAE_F64, VAE_ACT_TANH, 4)) {
        CHECK(0);
        return;
    }
    const vae__family *f = net.family;
    CHECK(f && f->vamp_u && f->vamp_u->shape[0] == 1 && f->vamp_u->shape[1] == D);
    CHECK(!vae_net_analytic_kl(&net));
    double u[D], hid[H], out[2 * Z];
    for (int i = 0; i < D; i++) u[i] = vae_get_flat(f->vamp_u, i);
    const vae_linear *l0 = &net.enc.layer[0], *l1 = &net.enc.layer[1]; /* W (in, out) */
    for (int j = 0; j < H; j++) {
        double a = vae_get_flat(l0->b, j);
        for (int i = 0; i < D; i++) a += u[i] * vae_get_flat(l0->w, i * H + j);
        hid[j] = tanh(a);
    }
    for (int j = 0; j < 2 * Z; j++) {
        double a = vae_get_flat(l1->b, j);
        for (int i = 0; i < H; i++) a += hid[i] * vae_get_flat(l1->w, i * 2 * Z + j);
        out[j] = a;
    }
    const double zs[3][Z] = {{0.1, -0.3}, {1.5, 0.7}, {-2.0, 2.0}};
    vae_ctx_reset(ctx);
    vae_tensor *lp =
        vae_dist_log_prob(ctx, vae_net_prior(ctx, &net), t64(ctx, VAE_SHAPE(3, Z), &zs[0][0]));
    CHECK_MSG(lp != NULL, "%s", vae_ctx_message(ctx));
    for (int s = 0; lp && s < 3; s++) {
        double want = 0;
        for (int j = 0; j < Z; j++) {
            double mu = out[j], lv = out[Z + j];
            want += -0.5 * (LOG_2PI + lv + (zs[s][j] - mu) * (zs[s][j] - mu) / exp(lv));
        }
        CHECK_NEAR(vae_get_flat(lp, s), want, 1e-12, 1e-12);
        if (s == 0)
            printf("vamp:1 log p(z) %.12f, q(z|u_1) by hand %.12f\n", vae_get_flat(lp, s), want);
    }
    /* prior draws have the prior's shape; vae_net_prior_draw gives n * Z finite values */
    float zd[10 * Z];
    vae_rng r;
    vae_rng_seed(&r, 1);
    CHECK(vae_net_prior_draw(ctx, &net, 10, &r, zd) == VAE_OK);
    int finite = 1;
    for (int i = 0; i < 10 * Z; i++) finite &= isfinite(zd[i]);
    CHECK(finite);
    vae_net_free(&net);
}

/* the flow posterior: cache, shapes, refusals, and log q against a by-hand composition */
static void test_flow_posterior(vae_ctx *ctx) {
    enum { D = 5, H = 6, Z = 3, B = 4 };
    double xv[B * D];
    vae_rng r;
    vae_rng_seed(&r, 9);
    fill(xv, B * D, 0, 1, &r);
    const char *flows[2] = {"planar:3", "iaf:2"};
    for (int fi = 0; fi < 2; fi++) {
        vae_net net;
        if (make_net(&net, flows[fi], "mog:4", D, Z, H, VAE_F64, VAE_ACT_TANH, 6)) {
            CHECK(0);
            continue;
        }
        vae_ctx_reset(ctx);
        vae_ctx_clear_error(ctx);
        vae_tensor *x = t64(ctx, VAE_SHAPE(B, D), xv), *mu, *lv;
        vae_dist *q = vae_net_encode(ctx, &net, x, &mu, &lv);
        CHECK(q && q->ops == &vae_flow_posterior_ops && mu && mu->shape[1] == Z);
        vae_tensor *z = vae_dist_rsample(ctx, q, 7);
        vae_tensor *lq = vae_dist_log_prob(ctx, q, z);
        CHECK(z && z->ndim == 3 && z->shape[0] == 7 && z->shape[1] == B && z->shape[2] == Z);
        CHECK(lq && lq->ndim == 2 && lq->shape[0] == 7 && lq->shape[1] == B);
        /* log q(z_K) = log q_0(z_0) - sum log|det|: z_0 = mu + sigma eps from the recorded noise */
        vae_tensor *z0 =
            vae_add(ctx, mu, vae_mul(ctx, vae_exp(ctx, vae_mul_scalar(ctx, lv, 0.5)), q->eps));
        vae_tensor *lq0 = vae_dist_log_prob(ctx, vae_normal_logvar(ctx, mu, lv), z0);
        double gap = 0; /* log q_0 - log q = sum log|det| must vary with z (a non-trivial flow) */
        for (int i = 0; lq && lq0 && i < 7 * B; i++)
            gap += fabs(vae_get_flat(lq0, i) - vae_get_flat(lq, i));
        CHECK_MSG(gap > 1e-3, "%s: log q equals the base log q_0", flows[fi]);
        /* the planar case by hand from the amortized parameters */
        if (fi == 0 && z0) {
            const vae__family *f = net.family;
            vae_tensor *am = vae_linear_forward(
                ctx, &f->amort,
                vae_tanh(ctx, vae_linear_forward(ctx, &net.enc.layer[0], x,
                                                 vae_act_default(VAE_ACT_IDENTITY))),
                vae_act_default(VAE_ACT_IDENTITY));
            vae_tensor *zz = z0, *ld, *sum = NULL;
            for (int k = 0; k < 3; k++) {
                int64_t o = k * (2 * Z + 1);
                zz = vae_planar_flow(ctx, zz, vae_slice(ctx, am, 1, o, o + Z, 1),
                                     vae_slice(ctx, am, 1, o + Z, o + 2 * Z, 1),
                                     vae_slice(ctx, am, 1, o + 2 * Z, o + 2 * Z + 1, 1), &ld);
                sum = sum ? vae_add(ctx, sum, ld) : ld;
            }
            vae_tensor *want = vae_sub(ctx, lq0, sum);
            double worst = 0;
            for (int i = 0; want && i < 7 * B; i++) {
                worst = fmax(worst, fabs(vae_get_flat(want, i) - vae_get_flat(lq, i)));
                worst = fmax(worst, fabs(vae_get_flat(zz, i * Z) - vae_get_flat(z, i * Z)));
            }
            CHECK_MSG(want && worst < 1e-12, "planar posterior vs by hand: %g", worst);
        }
        /* a z it did not draw, or a copy of it, is refused */
        CHECK(vae_dist_log_prob(ctx, q, vae_detach(ctx, z)) == NULL);
        CHECK(vae_ctx_status(ctx) == VAE_ERR_UNSUPPORTED &&
              strstr(vae_ctx_message(ctx), "inverse"));
        vae_ctx_clear_error(ctx);
        CHECK(vae_dist_detached(ctx, q) == NULL && vae_ctx_status(ctx) == VAE_ERR_UNSUPPORTED);
        vae_ctx_clear_error(ctx);
        /* a sample (no path) is fine for evaluation (grad mode off) and refused for a score-function log q */
        vae_tensor *zs = vae_dist_sample(ctx, q, 2);
        CHECK(zs && vae_dist_log_prob(ctx, q, zs) == NULL &&
              vae_ctx_status(ctx) == VAE_ERR_UNSUPPORTED);
        vae_ctx_clear_error(ctx);
        int prev = vae_set_grad_enabled(ctx, 0);
        CHECK(vae_dist_log_prob(ctx, q, zs) != NULL);
        vae_set_grad_enabled(ctx, prev);
        /* estimators: only reparam, refused by the objective at configuration */
        vae_error err = {0};
        CHECK(vae_net_family_check(&net.cfg, VAE_EST_REPARAM, &err) == VAE_OK);
        const vae_estimator bad[3] = {VAE_EST_SCORE, VAE_EST_STL, VAE_EST_DREG};
        for (int e = 0; e < 3; e++) {
            vae_objective_cfg oc;
            vae_objective_cfg_default(&oc);
            vae_objective_parse_spec(&oc, "iwae:k=3", &err);
            oc.estimator = bad[e];
            vae_objective_state st = {0};
            vae_objective_out o;
            vae_ctx_reset(ctx);
            vae_ctx_clear_error(ctx);
            vae_status s = vae_objective(ctx, &net, t64(ctx, VAE_SHAPE(B, D), xv), &oc, &st, &o);
            CHECK_MSG(s == VAE_ERR_ARG && strstr(vae_ctx_message(ctx), vae_estimator_name(bad[e])),
                      "%s with %s: %d %s", flows[fi], vae_estimator_name(bad[e]), s,
                      vae_ctx_message(ctx));
        }
        vae_ctx_clear_error(ctx);
        vae_net_free(&net);
    }
    /* vamp with a flow, bad specs */
    vae_net net;
    vae_net_cfg c;
    vae_net_cfg_default(&c);
    snprintf(c.flow, sizeof c.flow, "iaf:2");
    snprintf(c.prior, sizeof c.prior, "vamp:3");
    vae_error err = {0};
    CHECK(vae_net_family_check(&c, VAE_EST_REPARAM, &err) == VAE_ERR_ARG &&
          strstr(err.msg, "VampPrior"));
    vae_rng_seed(&r, 1);
    CHECK(vae_net_init(&net, &c, &r, &err) == VAE_ERR_ARG && net.params == NULL);
    const char *bad_flow[] = {"planar", "planar:0", "iaf:65", "real-nvp:2", "iaf:2x", "planar:"};
    for (int i = 0; i < 6; i++)
        CHECK(vae_flow_spec_parse(bad_flow[i], NULL, NULL, &err) == VAE_ERR_ARG);
    const char *bad_prior[] = {"mog", "mog:0", "vamp:5000", "gmm:3"};
    for (int i = 0; i < 4; i++)
        CHECK(vae_prior_spec_parse(bad_prior[i], NULL, NULL, &err) == VAE_ERR_ARG);
    vae_flow_kind fk;
    int k;
    CHECK(vae_flow_spec_parse("iaf:12", &fk, &k, &err) == VAE_OK && fk == VAE_FLOW_IAF && k == 12);
    CHECK(vae_flow_spec_parse("none", &fk, &k, &err) == VAE_OK && fk == VAE_FLOW_NONE);
}

/* the whole objective's gradient with respect to every parameter, flow and prior ones included: every place the
 * net holds a parameter pointer is pointed at the gradcheck's input of that parameter (restored after) */
typedef struct obj_user {
    vae_net *net;
    const vae_objective_cfg *cfg;
    const double *x;
    int64_t B, D;
    int nslots;
    vae_tensor **slot[64]; /* where the net holds a parameter */
    int index[64];         /* which parameter */
    int first;             /* the gradcheck's inputs are parameters first.. (at most 8 at a time) */
} obj_user;

static void add_slot(obj_user *u, vae_tensor **t) {
    if (!t || !*t) return;
    for (int i = 0; i < vae_params_count(u->net->params); i++)
        if (vae_params_get(u->net->params, i) == *t && u->nslots < 64) {
            u->slot[u->nslots] = t;
            u->index[u->nslots++] = i;
        }
}

static void collect_slots(obj_user *u) {
    vae_net *n = u->net;
    vae_mlp *m[2] = {&n->enc, &n->dec};
    for (int j = 0; j < 2; j++)
        for (int i = 0; i < m[j]->nlayers; i++)
            add_slot(u, &m[j]->layer[i].w), add_slot(u, &m[j]->layer[i].b);
    vae__family *f = n->family;
    add_slot(u, &f->amort.w), add_slot(u, &f->amort.b);
    for (int i = 0; f->iaf && i < 3 * f->nflow; i++)
        add_slot(u, &f->iaf[i].w), add_slot(u, &f->iaf[i].b);
    add_slot(u, &f->mog_mean), add_slot(u, &f->mog_logvar), add_slot(u, &f->mog_logits),
        add_slot(u, &f->vamp_u);
}

static vae_tensor *g_objective(vae_ctx *ctx, vae_tensor *const *in, int nin, void *u) {
    obj_user *g = u;
    vae_tensor *saved[64];
    for (int i = 0; i < g->nslots; i++) {
        saved[i] = *g->slot[i];
        int j = g->index[i] - g->first;
        if (j >= 0 && j < nin) *g->slot[i] = in[j];
    }
    vae_ctx_seed(ctx, 99);
    vae_objective_state st = {0};
    vae_objective_out o;
    vae_status s =
        vae_objective(ctx, g->net, t64(ctx, VAE_SHAPE(g->B, g->D), g->x), g->cfg, &st, &o);
    for (int i = 0; i < g->nslots; i++) *g->slot[i] = saved[i];
    return s ? NULL : o.loss;
}

static void gradcheck_family(const char *flow, const char *prior, const char *spec) {
    enum { D = 4, H = 5, Z = 2, B = 3 };
    vae_net net;
    if (make_net(&net, flow, prior, D, Z, H, VAE_F64, VAE_ACT_TANH, 12)) {
        CHECK(0);
        return;
    }
    double x[B * D];
    vae_rng r;
    vae_rng_seed(&r, 2);
    for (int i = 0; i < B * D; i++) x[i] = vae_rng_uniform(&r) < 0.5;
    vae_objective_cfg oc;
    vae_objective_cfg_default(&oc);
    vae_error err = {0};
    vae_objective_parse_spec(&oc, spec, &err);
    obj_user u = {&net, &oc, x, B, D, 0, {0}, {0}, 0};
    collect_slots(&u);
    int n = vae_params_count(net.params);
    CHECK_MSG(u.nslots == n, "%d of %d parameters found in the net", u.nslots, n);
    vae_gc_input in[64];
    double *bufs[64], worst = 0;
    int64_t checked = 0;
    for (int i = 0; i < n; i++) {
        vae_tensor *p = vae_params_get(net.params, i);
        memset(&in[i], 0, sizeof in[i]);
        in[i].ndim = p->ndim;
        memcpy(in[i].shape, p->shape, sizeof in[i].shape);
        bufs[i] = malloc(sizeof(double) * (size_t)vae_numel(p));
        vae_tensor_to_f64(p, bufs[i]);
        in[i].data = bufs[i];
        in[i].requires_grad = 1;
    }
    for (u.first = 0; u.first < n; u.first += 8) { /* gradcheck takes 8 inputs at a time */
        int cnt = n - u.first < 8 ? n - u.first : 8;
        vae_gc_result res;
        vae_status s =
            vae_gradcheck(g_objective, &u, cnt, in + u.first, 1e-6, 1e-6, 1e-5, &res, &err);
        CHECK_MSG(s == VAE_OK, "gradcheck %s %s %s: %s", flow, prior, spec, err.msg);
        worst = fmax(worst, res.max_abs_err);
        checked += res.checked;
    }
    CHECK(checked > 60);
    printf("gradcheck objective %-8s %-7s %-9s max|err| %.2e over %lld parameters\n", flow, prior,
           spec, worst, (long long)checked);
    for (int i = 0; i < n; i++) free(bufs[i]);
    vae_net_free(&net);
}

/* ---- the model text ---- */

static void test_model_text(void) {
    vae_model_desc d;
    vae_model_desc_default(&d);
    d.net.x_dim = 6;
    snprintf(d.net.flow, sizeof d.net.flow, "planar:2");
    snprintf(d.net.prior, sizeof d.net.prior, "mog:3");
    char *text;
    size_t len;
    vae_error err = {0};
    CHECK(vae_model_desc_write(&d, &text, &len, &err) == VAE_OK);
    CHECK(strstr(text, "flow planar:2\n") && strstr(text, "prior mog:3\n"));
    vae_model_desc e;
    vae_model_desc_default(&e);
    CHECK(vae_model_desc_parse(text, len, &e, &err) == VAE_OK);
    CHECK(strcmp(e.net.flow, "planar:2") == 0 && strcmp(e.net.prior, "mog:3") == 0);
    free(text);
    /* an older file (no keys) is the plain model; a bad value names the key */
    const char *old = "vae-run 1\nx_dim 6\nlatent 2\n";
    vae_model_desc_default(&e);
    CHECK(vae_model_desc_parse(old, strlen(old), &e, &err) == VAE_OK && !e.net.flow[0] &&
          !e.net.prior[0]);
    const char *badt = "vae-run 1\nx_dim 6\nflow planar:x\n";
    CHECK(vae_model_desc_parse(badt, strlen(badt), &e, &err) == VAE_ERR_ARG &&
          strstr(err.msg, "flow"));
    /* save and load a model with a flow and a prior: the same parameters come back */
    vae_model m, l;
    vae_rng r;
    vae_rng_seed(&r, 3);
    d.net.z_dim = 2;
    d.net.hidden[0] = 5;
    CHECK(vae_model_init(&m, &d, &r, &err) == VAE_OK);
    const char *path = "test_flows_priors_model.vae";
    CHECK(vae_model_save(path, &m, &err) == VAE_OK);
    CHECK_MSG(vae_model_load(path, &l, &err) == VAE_OK, "%s", err.msg);
    CHECK(l.net.family && l.net.family->flow == VAE_FLOW_PLANAR && l.net.family->nprior == 3);
    vae_tensor *a = vae_params_find(m.net.params, "prior.mog.mean"),
               *b = vae_params_find(l.net.params, "prior.mog.mean");
    CHECK(a && b && vae_get_flat(a, 3) == vae_get_flat(b, 3));
    remove(path);
    vae_model_free(&m);
    vae_model_free(&l);
}

/* ---- training: the bound improves ---- */

static void test_training(vae_dataset *train) {
    const struct {
        const char *flow, *prior, *spec;
    } runs[4] = {{"planar:4", "mog:5", "iwae:k=4"},
                 {"planar:4", "mog:5", "vae"},
                 {"iaf:2", "", "vae"},
                 {"", "vamp:10", "iwae:k=4"}};
    for (int ri = 0; ri < 4; ri++) {
        vae_net net;
        if (make_net(&net, runs[ri].flow, runs[ri].prior, train->d, 8, 64, VAE_F32, VAE_ACT_RELU,
                     42)) {
            CHECK(0);
            continue;
        }
        vae_error err = {0};
        vae_optim opt;
        vae_optim_config ocfg = vae_optim_defaults(VAE_OPTIM_ADAM, 2e-3);
        CHECK(vae_optim_init(&opt, net.params, &ocfg, &err) == VAE_OK);
        vae_objective_cfg cfg;
        vae_objective_cfg_default(&cfg);
        vae_objective_parse_spec(&cfg, runs[ri].spec, &err);
        vae_objective_state st = {0};
        vae_ctx *ctx = vae_ctx_new(0);
        vae_ctx_seed(ctx, 7);
        enum { BATCH = 50, STEPS = 400, NEVAL = 200 };
        float *xb = malloc(sizeof(float) * BATCH * (size_t)train->d);
        float *xe = malloc(sizeof(float) * NEVAL * (size_t)train->d);
        int64_t idx[NEVAL];
        for (int i = 0; i < NEVAL; i++) idx[i] = i;
        vae_rng rng;
        vae_rng_seed(&rng, 5);
        vae_dataset_binarize_dynamic(train, xe, idx, NEVAL, &rng, &err);
        double before = 0, after = 0;
        for (int phase = 0; phase < 2;
             phase++) { /* the bound on fixed data and noise, before and after */
            vae_ctx_reset(ctx);
            vae_ctx_seed(ctx, 11);
            vae_objective_state s0 = {0};
            vae_objective_out o;
            int prev = vae_set_grad_enabled(ctx, 0);
            vae_status s = vae_objective(
                ctx, &net, vae_wrap(ctx, VAE_F32, VAE_SHAPE(NEVAL, train->d), xe), &cfg, &s0, &o);
            vae_set_grad_enabled(ctx, prev);
            CHECK_MSG(s == VAE_OK, "eval: %s", vae_ctx_message(ctx));
            *(phase ? &after : &before) = s ? NAN : o.bound_mean;
            for (int step = 0; phase == 0 && step < STEPS; step++) {
                int64_t bi[BATCH];
                for (int i = 0; i < BATCH; i++)
                    bi[i] = (int64_t)vae_rng_below(&rng, (uint64_t)train->n);
                vae_dataset_binarize_dynamic(train, xb, bi, BATCH, &rng, &err);
                vae_ctx_reset(ctx);
                vae_params_zero_grad(net.params);
                vae_objective_out to;
                s = vae_objective(ctx, &net, vae_wrap(ctx, VAE_F32, VAE_SHAPE(BATCH, train->d), xb),
                                  &cfg, &st, &to);
                if (!s) s = vae_backward(ctx, to.loss);
                if (!s) s = vae_optim_step(&opt, &err);
                if (s) {
                    CHECK_MSG(0, "step %d: %s %s", step, vae_ctx_message(ctx), err.msg);
                    break;
                }
            }
        }
        printf("train %-9s %-8s %-9s bound %.2f -> %.2f after %d steps\n",
               runs[ri].flow[0] ? runs[ri].flow : "-",
               runs[ri].prior[0] ? runs[ri].prior : "normal", runs[ri].spec, before, after, STEPS);
        /* untrained about -177 nats (256 pixels at p = 1/2); the sprites are explained in tens of nats */
        CHECK_MSG(after > before + 60 && after > -110, "%s/%s %s: bound %.2f -> %.2f",
                  runs[ri].flow, runs[ri].prior, runs[ri].spec, before, after);
        free(xb), free(xe);
        vae_ctx_free(ctx);
        vae_net_free(&net);
    }
}

int main(void) {
    vae_ctx *ctx = vae_ctx_new(0);
    test_flow_jacobians(ctx);
    test_gradchecks();
    test_mixture(ctx);
    test_vamp_one(ctx);
    test_flow_posterior(ctx);
    gradcheck_family("planar:2", "mog:3", "vae");
    gradcheck_family("iaf:2", "mog:2", "iwae:k=3");
    gradcheck_family("", "vamp:2", "iwae:k=3");
    test_model_text();
    vae_ctx_free(ctx);
    vae_dataset train, test;
    vae_error err = {0};
    if (vae_dataset_load("sprites:16", &train, &test, &err) == VAE_OK) {
        test_training(&train);
        vae_dataset_free(&train);
        vae_dataset_free(&test);
    } else
        CHECK_MSG(0, "sprites: %s", err.msg);
    return test_finish();
}
