/* test_cvae_bayes - the conditional VAE and full variational Bayes over the decoder (models/vae_net_cond.c,
 * models/bayes_decoder.c): the parameter KL against its closed form and its N/M scaling in the loss, gradchecks of
 * the Bayesian layer (theta-sampling and local reparameterization) and of the conditional prior inside whole
 * objectives, label handling, model text keys, and a short training run whose class-conditional decodings land
 * nearest their own class. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "vae.h"

static vae_net_cfg small_cfg(int64_t D, int64_t Z, int64_t H) {
    vae_net_cfg c;
    vae_net_cfg_default(&c);
    c.x_dim = D, c.z_dim = Z, c.nhidden = 1, c.hidden[0] = H;
    c.act = VAE_ACT_TANH;
    c.dtype = VAE_F64;
    return c;
}

/* every parameter of the store to values in [-a, a] (rho too: sigma = softplus(rho) then spreads around 0.7) */
static void scramble(vae_params *p, uint64_t seed, double a) {
    vae_rng r;
    vae_rng_seed(&r, seed);
    for (int i = 0; i < vae_params_count(p); i++) {
        vae_tensor *t = vae_params_get(p, i);
        for (int64_t j = 0; j < vae_numel(t); j++)
            vae_set_flat(t, j, a * (2 * vae_rng_uniform(&r) - 1));
    }
}

static double softplus(double x) {
    return x > 30 ? x : log1p(exp(x));
}

/* ---- full VB: the KL against the closed form, and its weight in the loss ---- */
static void test_weight_kl(void) {
    /* one element by hand: mu 0.5, rho 0 (sigma = log 2), s = 2 */
    vae_ctx *ctx = vae_ctx_new(0);
    vae_tensor *mu = vae_full(ctx, VAE_F64, VAE_SHAPE(1), 0.5),
               *rho = vae_zeros(ctx, VAE_F64, VAE_SHAPE(1));
    double sg = log(2.0), want = log(2.0 / sg) + (sg * sg + 0.25) / 8.0 - 0.5;
    CHECK_NEAR(vae_item(vae_bayes_kl(ctx, mu, rho, 2.0)), want, 1e-14, 1e-12);
    CHECK(vae_bayes_kl(ctx, mu, rho, 0.0) == NULL && vae_ctx_status(ctx) == VAE_ERR_ARG);
    vae_ctx_clear_error(ctx);

    /* the whole decoder: sum over every (weight, rho) pair of the store */
    vae_net_cfg c = small_cfg(5, 2, 4);
    c.bayes_decoder = 1, c.prior_scale = 1.5;
    vae_net net;
    vae_rng rng;
    vae_rng_seed(&rng, 1);
    vae_error err = {0};
    CHECK(vae_net_init(&net, &c, &rng, &err) == VAE_OK);
    scramble(net.params, 2, 1.0);
    double kl = 0;
    int pairs = 0;
    for (int i = 0; i < 4; i++) {
        char base[32], name[48];
        snprintf(base, sizeof base, "dec.%d.%s", i / 2, i % 2 ? "bias" : "weight");
        snprintf(name, sizeof name, "%s_rho", base);
        vae_tensor *m = vae_params_find(net.params, base), *r = vae_params_find(net.params, name);
        CHECK(m != NULL && r != NULL && vae_numel(m) == vae_numel(r));
        for (int64_t j = 0; m && r && j < vae_numel(m); j++) {
            double s = 1.5, sig = softplus(vae_get_flat(r, j)), u = vae_get_flat(m, j);
            kl += log(s / sig) + (sig * sig + u * u) / (2 * s * s) - 0.5;
        }
        pairs += m && r;
    }
    CHECK(vae_params_count(net.params) == 4 + 4 + 4); /* enc, dec, dec rho */
    CHECK(pairs == 4);                                /* dec.0 and dec.1, weight and bias */
    vae_ctx_reset(ctx);
    CHECK_NEAR(vae_item(vae_net_weight_kl(ctx, &net)), kl, 1e-10, 1e-12);
    printf("weight KL %.6f (closed form %.6f)\n", vae_item(vae_net_weight_kl(ctx, &net)), kl);

    /* the loss: mean form -mean_b ELBO_b + KL / N, and the N/M form -(N/M) sum_b ELBO_b + KL = N * (mean form) */
    const int64_t B = 4, N = 1000;
    double x[4 * 5];
    for (int i = 0; i < B * 5; i++) x[i] = (i * 7 % 3) == 0;
    vae_objective_cfg oc;
    vae_objective_cfg_default(&oc);
    vae_objective_state st = {0};
    vae_objective_out o;
    vae_ctx_reset(ctx);
    vae_tensor *xt = vae_from_data(ctx, VAE_F64, VAE_SHAPE(B, 5), VAE_F64, x);
    CHECK(vae_objective(ctx, &net, xt, &oc, &st, &o) == VAE_ERR_ARG); /* N unknown */
    vae_ctx_clear_error(ctx);
    vae_net_set_data_size(&net, N);
    double loss[2], bound[2], logged;
    for (int k = 0; k < 2; k++) {
        oc.data_size = k ? (double)N : 0.0;
        vae_ctx_reset(ctx);
        vae_ctx_seed(ctx, 7);
        xt = vae_from_data(ctx, VAE_F64, VAE_SHAPE(B, 5), VAE_F64, x);
        CHECK(vae_objective(ctx, &net, xt, &oc, &st, &o) == VAE_OK);
        loss[k] = vae_item(o.loss), bound[k] = o.bound_mean;
        logged = vae_objective_out_value(&o, "weight_kl");
    }
    CHECK_NEAR(bound[1], bound[0], 0, 1e-12); /* the same theta and z: seeded alike */
    CHECK_NEAR(loss[0], -bound[0] + kl / N, 1e-10, 1e-10);
    CHECK_NEAR(loss[1], -(double)N * bound[1] + kl, 1e-7, 1e-10);
    CHECK_NEAR(loss[1], (double)N * loss[0], 1e-7, 1e-10);
    CHECK_NEAR(logged, kl / N, 1e-12, 1e-10);
    /* theta is drawn per minibatch: another seed, another theta, another bound; the net's own mode is kept */
    vae_ctx_reset(ctx);
    vae_ctx_seed(ctx, 8);
    xt = vae_from_data(ctx, VAE_F64, VAE_SHAPE(B, 5), VAE_F64, x);
    CHECK(vae_objective(ctx, &net, xt, &oc, &st, &o) == VAE_OK);
    CHECK(fabs(o.bound_mean - bound[1]) > 1e-6);
    /* mean weights: decode equals the plain MLP's forward */
    vae_ctx_reset(ctx);
    vae_tensor *z = vae_full(ctx, VAE_F64, VAE_SHAPE(3, 2), 0.3);
    vae_tensor *a = vae_net_decode_mean(ctx, &net, z),
               *b = vae_sigmoid(ctx, vae_mlp_forward(ctx, &net.dec, z));
    double d = 0;
    for (int64_t j = 0; a && b && j < vae_numel(a); j++)
        d = fmax(d, fabs(vae_get_flat(a, j) - vae_get_flat(b, j)));
    CHECK(a && b && d < 1e-14);
    vae_net_free(&net);
    vae_ctx_free(ctx);
}

/* ---- gradchecks ---- */
typedef struct layer_user {
    const double *zw, *zb; /* NULL: local reparameterization */
    int64_t in, out;
} layer_user;

static vae_tensor *bayes_layer_fn(vae_ctx *ctx, vae_tensor *const *t, int nin, void *u) {
    layer_user *g = u;
    (void)nin;
    vae_ctx_seed(ctx, 5); /* the local reparameterization's eps: the same on every call */
    vae_tensor *zw =
        g->zw ? vae_from_data(ctx, VAE_F64, VAE_SHAPE(g->in, g->out), VAE_F64, g->zw) : NULL;
    vae_tensor *zb = g->zb ? vae_from_data(ctx, VAE_F64, VAE_SHAPE(g->out), VAE_F64, g->zb) : NULL;
    return vae_bayes_linear(ctx, t[0], t[1], t[2], t[3], t[4], zw, zb,
                            vae_act_default(VAE_ACT_TANH));
}

static vae_tensor *bayes_kl_fn(vae_ctx *ctx, vae_tensor *const *t, int nin, void *u) {
    (void)nin, (void)u;
    return vae_bayes_kl(ctx, t[0], t[1], 0.7);
}

static void set_input(vae_gc_input *in, int ndim, const int64_t *shape, const double *data) {
    memset(in, 0, sizeof *in);
    in->ndim = ndim;
    memcpy(in->shape, shape, sizeof(int64_t) * (size_t)ndim);
    in->data = data;
    in->requires_grad = 1;
}

static void test_gradcheck_layer(void) {
    enum { IN = 4, OUT = 3 };
    double h[2 * 3 * IN], mw[IN * OUT], mb[OUT], rw[IN * OUT], rb[OUT], zw[IN * OUT], zb[OUT];
    vae_rng r;
    vae_rng_seed(&r, 3);
    for (int i = 0; i < 2 * 3 * IN; i++) h[i] = vae_rng_normal(&r);
    for (int i = 0; i < IN * OUT; i++)
        mw[i] = 0.5 * vae_rng_normal(&r), rw[i] = vae_rng_normal(&r) - 1,
        zw[i] = vae_rng_normal(&r);
    for (int i = 0; i < OUT; i++)
        mb[i] = 0.5 * vae_rng_normal(&r), rb[i] = vae_rng_normal(&r) - 1,
        zb[i] = vae_rng_normal(&r);
    vae_gc_input in[5];
    set_input(&in[0], 3, (int64_t[]){2, 3, IN}, h); /* h with a leading particle dim */
    set_input(&in[1], 2, (int64_t[]){IN, OUT}, mw);
    set_input(&in[2], 1, (int64_t[]){OUT}, mb);
    set_input(&in[3], 2, (int64_t[]){IN, OUT}, rw);
    set_input(&in[4], 1, (int64_t[]){OUT}, rb);
    for (int local = 0; local < 2; local++) {
        layer_user u = {local ? NULL : zw, local ? NULL : zb, IN, OUT};
        vae_error err = {0};
        vae_gc_result res;
        vae_status s = vae_gradcheck(bayes_layer_fn, &u, 5, in, 1e-6, 1e-7, 1e-5, &res, &err);
        CHECK_MSG(s == VAE_OK, "bayes_linear (%s): %s", local ? "local" : "theta", err.msg);
        CHECK(res.checked == 2 * 3 * IN + 2 * (IN * OUT + OUT));
        printf("gradcheck bayes_linear %-6s max|err| %.2e over %lld inputs\n",
               local ? "local" : "theta", res.max_abs_err, (long long)res.checked);
    }
    vae_gc_input kin[2];
    set_input(&kin[0], 2, (int64_t[]){IN, OUT}, mw);
    set_input(&kin[1], 2, (int64_t[]){IN, OUT}, rw);
    vae_error err = {0};
    vae_gc_result res;
    CHECK_MSG(vae_gradcheck(bayes_kl_fn, NULL, 2, kin, 1e-6, 1e-7, 1e-6, &res, &err) == VAE_OK,
              "bayes_kl: %s", err.msg);
}

/* the cVAE objective with enc, dec and the prior's layer replaced by the gradcheck's inputs */
typedef struct cond_user {
    vae_net *net;
    const vae_objective_cfg *cfg;
    const double *x;
    int64_t B, D;
} cond_user;

static vae_tensor *cond_fn(vae_ctx *ctx, vae_tensor *const *in, int nin, void *u) {
    cond_user *g = u;
    vae_mlp *m[3] = {&g->net->enc, &g->net->dec, &g->net->prior};
    vae_linear saved[3][VAE_MLP_MAX_LAYERS];
    int k = 0;
    (void)nin;
    for (int j = 0; j < 3; j++)
        for (int i = 0; i < m[j]->nlayers; i++) {
            saved[j][i] = m[j]->layer[i];
            m[j]->layer[i].w = in[k++];
            m[j]->layer[i].b = in[k++];
        }
    vae_ctx_seed(ctx, 99);
    vae_tensor *x = vae_from_data(ctx, VAE_F64, VAE_SHAPE(g->B, g->D), VAE_F64, g->x);
    vae_objective_state st = {0};
    vae_objective_out o;
    vae_status s = vae_objective(ctx, g->net, x, g->cfg, &st, &o);
    for (int j = 0; j < 3; j++)
        for (int i = 0; i < m[j]->nlayers; i++) m[j]->layer[i] = saved[j][i];
    return s ? NULL : o.loss;
}

static void test_gradcheck_cond(void) {
    vae_net_cfg c = small_cfg(5, 2, 4);
    c.n_classes = 3;
    c.nhidden = 0; /* enc, dec and prior: one layer each (gradcheck takes at most 8 inputs) */
    vae_net net;
    vae_rng rng;
    vae_rng_seed(&rng, 4);
    vae_error err = {0};
    CHECK(vae_net_init(&net, &c, &rng, &err) == VAE_OK);
    CHECK(vae_params_find(net.params, "prior.0.weight") != NULL);
    CHECK(vae_net_analytic_kl(&net) == 0); /* a learned prior: Monte-Carlo KL */
    scramble(net.params, 5, 0.6);
    const int64_t B = 3;
    static const int64_t y[3] = {2, 0, 1};
    double x[3 * 5];
    for (int i = 0; i < B * 5; i++) x[i] = (i % 4) == 1;
    CHECK(vae_net_set_labels(&net, y, B, &err) == VAE_OK);
    const char *specs[] = {"vae", "iwae:k=3"}; /* iwae: z (K, B, Z) with y broadcast over K */
    for (int k = 0; k < 2; k++) {
        vae_objective_cfg oc;
        vae_objective_cfg_default(&oc);
        CHECK(vae_objective_parse_spec(&oc, specs[k], &err) == VAE_OK);
        cond_user u = {&net, &oc, x, B, 5};
        int n = vae_params_count(net.params);
        vae_gc_input in[16];
        double *bufs[16];
        for (int i = 0; i < n; i++) {
            vae_tensor *p = vae_params_get(net.params, i);
            set_input(&in[i], p->ndim, p->shape, NULL);
            bufs[i] = malloc(sizeof(double) * (size_t)vae_numel(p));
            vae_tensor_to_f64(p, bufs[i]);
            in[i].data = bufs[i];
        }
        vae_gc_result res;
        vae_status s = vae_gradcheck(cond_fn, &u, n, in, 1e-6, 1e-6, 1e-5, &res, &err);
        CHECK_MSG(s == VAE_OK, "cvae %s: %s", specs[k], err.msg);
        CHECK(res.checked == vae_params_numel(net.params));
        printf("gradcheck cvae %-8s max|err| %.2e over %lld parameters (prior included)\n",
               specs[k], res.max_abs_err, (long long)res.checked);
        for (int i = 0; i < n; i++) free(bufs[i]);
    }
    /* the prior: p(z|y) = N(onehot(y) W + b) exactly */
    vae_ctx *ctx = vae_ctx_new(0);
    vae_dist *p = vae_net_prior(ctx, &net);
    vae_tensor *loc = p ? vae_dist_mean(ctx, p) : NULL;
    vae_tensor *W = net.prior.layer[0].w, *b0 = net.prior.layer[0].b;
    CHECK(loc && loc->ndim == 2 && loc->shape[0] == 3 && loc->shape[1] == 2);
    for (int i = 0; loc && i < 3; i++)
        for (int j = 0; j < 2; j++)
            CHECK_NEAR(vae_get_flat(loc, i * 2 + j),
                       vae_get_flat(W, y[i] * 4 + j) + vae_get_flat(b0, j), 1e-15, 0);
    /* labels: out of range, missing, a batch of another size */
    static const int64_t bad[2] = {0, 3};
    CHECK(vae_net_set_labels(&net, bad, 2, &err) == VAE_ERR_ARG);
    CHECK(net.labels == y); /* unchanged */
    vae_ctx_reset(ctx);
    vae_tensor *x2 = vae_zeros(ctx, VAE_F64, VAE_SHAPE(2, 5));
    CHECK(vae_net_encode(ctx, &net, x2, NULL, NULL) == NULL &&
          vae_ctx_status(ctx) == VAE_ERR_SHAPE);
    vae_ctx_clear_error(ctx);
    vae_net_set_labels(&net, NULL, 0, &err);
    vae_ctx_reset(ctx);
    x2 = vae_zeros(ctx, VAE_F64, VAE_SHAPE(2, 5)); /* the reset invalidated the old x2 */
    CHECK(vae_net_encode(ctx, &net, x2, NULL, NULL) == NULL && vae_ctx_status(ctx) == VAE_ERR_ARG);
    vae_ctx_clear_error(ctx);
    vae_ctx_free(ctx);
    vae_net_free(&net);
}

/* ---- model text: the keys round-trip, and a file without them is the plain VAE ---- */
static void test_model_text(void) {
    vae_model_desc d, e;
    vae_model_desc_default(&d);
    d.net.x_dim = 6;
    d.net.n_classes = 7, d.net.cond_prior = VAE_COND_PRIOR_NORMAL;
    d.net.bayes_decoder = 1, d.net.prior_scale = 0.25, d.net.local_reparam = 1;
    char *text;
    size_t len;
    vae_error err = {0};
    CHECK(vae_model_desc_write(&d, &text, &len, &err) == VAE_OK);
    vae_model_desc_default(&e);
    CHECK(vae_model_desc_parse(text, len, &e, &err) == VAE_OK);
    CHECK(e.net.n_classes == 7 && e.net.cond_prior == VAE_COND_PRIOR_NORMAL &&
          e.net.bayes_decoder == 1 && e.net.prior_scale == 0.25 && e.net.local_reparam == 1);
    free(text);
    const char *old = "vae-run 1\nx_dim 6\nlatent 2\nhidden 3\n";
    vae_model_desc_default(&e);
    CHECK(vae_model_desc_parse(old, strlen(old), &e, &err) == VAE_OK);
    CHECK(e.net.n_classes == 0 && e.net.bayes_decoder == 0);
    const char *badp = "vae-run 1\nx_dim 6\ncond_prior flat\n";
    CHECK(vae_model_desc_parse(badp, strlen(badp), &e, &err) == VAE_ERR_FORMAT);
}

/* ---- conditioning works: after a short training, class c's decodings are nearest class c's data mean ---- */
enum { C = 4, D = 16, N = 800 };

static void test_conditioning(void) {
    static float x[N * D];
    static int64_t y[N], yb[50];
    static double mean[C][D];
    int cnt[C] = {0};
    vae_rng r;
    vae_rng_seed(&r, 11);
    for (int i = 0; i < N;
         i++) { /* class c lights its own block of 4 pixels (p 0.9), the rest with p 0.1 */
        y[i] = i % C;
        for (int j = 0; j < D; j++) {
            x[i * D + j] = vae_rng_uniform(&r) < (j / 4 == y[i] ? 0.9 : 0.1);
            mean[y[i]][j] += x[i * D + j];
        }
        cnt[y[i]]++;
    }
    for (int c = 0; c < C; c++)
        for (int j = 0; j < D; j++) mean[c][j] /= cnt[c];
    vae_net_cfg cfg = small_cfg(D, 2, 32);
    cfg.dtype = VAE_F32, cfg.act = VAE_ACT_RELU, cfg.n_classes = C;
    vae_net net;
    vae_error err = {0};
    vae_rng_seed(&r, 12);
    CHECK(vae_net_init(&net, &cfg, &r, &err) == VAE_OK);
    vae_optim opt;
    vae_optim_config ocfg = vae_optim_defaults(VAE_OPTIM_ADAM, 1e-2);
    CHECK(vae_optim_init(&opt, net.params, &ocfg, &err) == VAE_OK);
    vae_objective_cfg oc;
    vae_objective_cfg_default(&oc);
    vae_objective_state st = {0};
    vae_ctx *ctx = vae_ctx_new(0);
    vae_ctx_seed(ctx, 13);
    static float xb[50 * D];
    for (int step = 0; step < 400; step++) {
        for (int b = 0; b < 50; b++) {
            int i = (int)(vae_rng_u64(&r) % N);
            memcpy(xb + b * D, x + i * D, sizeof(float) * D);
            yb[b] = y[i];
        }
        CHECK(step || vae_net_set_labels(&net, yb, 50, &err) == VAE_OK);
        vae_ctx_reset(ctx);
        vae_params_zero_grad(net.params);
        vae_objective_out o;
        if (vae_objective(ctx, &net, vae_wrap(ctx, VAE_F32, VAE_SHAPE(50, D), xb), &oc, &st, &o) ||
            vae_backward(ctx, o.loss) || vae_optim_step(&opt, &err)) {
            CHECK_MSG(0, "training step %d: %s", step, vae_ctx_message(ctx));
            break;
        }
    }
    /* decoded means of z ~ p(z|y = c), 64 draws per class */
    static int64_t yc[C * 64];
    static float z[C * 64 * 2];
    for (int i = 0; i < C * 64; i++) yc[i] = i / 64;
    CHECK(vae_net_set_labels(&net, yc, C * 64, &err) == VAE_OK);
    vae_ctx_reset(ctx);
    vae_dist *p = vae_net_prior(ctx, &net);
    vae_tensor *zt = p ? vae_dist_sample(ctx, p, 1) : NULL; /* (1, C*64, 2) */
    vae_tensor *xm = zt ? vae_net_decode_mean(ctx, &net, vae_squeeze(ctx, zt, 0)) : NULL;
    CHECK(xm != NULL);
    (void)z;
    int right = 0;
    for (int c = 0; xm && c < C; c++) {
        double avg[D] = {0}, dist[C] = {0};
        for (int k = 0; k < 64; k++)
            for (int j = 0; j < D; j++) avg[j] += vae_get_flat(xm, (c * 64 + k) * D + j) / 64;
        int best = 0;
        for (int c2 = 0; c2 < C; c2++) {
            for (int j = 0; j < D; j++) dist[c2] += (avg[j] - mean[c2][j]) * (avg[j] - mean[c2][j]);
            if (dist[c2] < dist[best]) best = c2;
        }
        printf("class %d: squared distance to its own mean %.3f, to the nearest other %.3f\n", c,
               dist[c],
               dist[(c + 1) % C] < dist[(c + 2) % C] ? dist[(c + 1) % C] : dist[(c + 2) % C]);
        right += best == c;
    }
    CHECK(right == C);
    /* vae_evaluate on labelled data: log p(x|y) finite, and the labels picked per batch */
    vae_net_set_labels(&net, y, 200, &err);
    vae_eval_cfg ec;
    vae_eval_cfg_default(&ec);
    ec.is_samples = 50, ec.batch = 64;
    vae_eval_result res;
    CHECK(vae_evaluate(ctx, &net, x, 200, &ec, &res, NULL, NULL) == VAE_OK);
    CHECK(isfinite(res.loglik) && res.loglik >= res.elbo - 0.5 && res.loglik < 0);
    printf("cvae log p(x|y) %.3f, ELBO %.3f on 200 examples\n", res.loglik, res.elbo);
    vae_eval_result_free(&res);
    vae_ctx_free(ctx);
    vae_net_free(&net);
}

/* ---- a tabular label column becomes the labels ---- */
static void test_take_labels(void) {
    vae_dataset ds;
    memset(&ds, 0, sizeof ds);
    vae_error err = {0};
    CHECK(vae_dataset_alloc(&ds, 3, 3, &err) == VAE_OK);
    const float v[9] = {0.5f, 2, 7, 1.5f, 0, 8, 2.5f, 1, 9};
    memcpy(ds.x, v, sizeof v);
    CHECK(vae_dataset_take_labels(&ds, 0, &err) == VAE_ERR_ARG); /* 0.5 is no class */
    CHECK(ds.d == 3 && ds.labels == NULL && ds.x[0] == 0.5f);    /* unchanged */
    CHECK(vae_dataset_take_labels(&ds, 3, &err) == VAE_ERR_ARG);
    CHECK(vae_dataset_take_labels(&ds, 1, &err) == VAE_OK);
    CHECK(ds.d == 2 && ds.labels && ds.labels[0] == 2 && ds.labels[1] == 0 && ds.labels[2] == 1);
    const float rest[6] = {0.5f, 7, 1.5f, 8, 2.5f, 9};
    CHECK(memcmp(ds.x, rest, sizeof rest) == 0);
    CHECK(vae_dataset_take_labels(&ds, 0, &err) == VAE_ERR_STATE);
    vae_dataset_free(&ds);
}

int main(void) {
    test_take_labels();
    test_weight_kl();
    test_gradcheck_layer();
    test_gradcheck_cond();
    test_model_text();
    test_conditioning();
    return test_finish();
}
