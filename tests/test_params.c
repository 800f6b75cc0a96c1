/* Parameter store, initializers, Linear and MLP: layout in one flat buffer, growth, zero-grad, backward into the
 * flat gradient buffer, listing/lookup, init distributions, shapes, and gradchecks of Linear and 2-layer MLPs. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "vae.h"

static void test_layout(void) {
    vae_error err = {0};
    vae_params *p = vae_params_new(VAE_F32);
    CHECK(p && vae_params_count(p) == 0 && vae_params_flat_len(p) == 0 && !vae_params_values(p));
    vae_tensor *a = vae_params_add(p, "a", VAE_SHAPE(3, 5), &err);
    vae_tensor *b = vae_params_add(p, "b", VAE_SHAPE(5), &err);
    vae_tensor *c = vae_params_add(p, "c.weight", VAE_SHAPE(2, 2, 2), &err);
    CHECK(a && b && c && err.code == VAE_OK);
    CHECK(vae_params_count(p) == 3 && vae_params_numel(p) == 15 + 5 + 8);
    CHECK(vae_params_flat_len(p) >= vae_params_numel(p));
    char *vals = vae_params_values(p), *grads = vae_params_grads(p);
    vae_tensor *all[3] = {a, b, c};
    int64_t prev_end = 0;
    for (int i = 0; i < 3; i++) {
        vae_tensor *t = all[i];
        int64_t off = vae_params_offset(p, i);
        CHECK(vae_params_get(p, i) == t);
        CHECK(t->flags & VAE_TF_PARAM && t->flags & VAE_TF_REQUIRES_GRAD);
        CHECK(vae_is_contiguous(t) && t->dtype == VAE_F32);
        CHECK(off >= prev_end && off % 16 == 0); /* in order, no overlap, 64-byte aligned */
        CHECK((char *)vae_tensor_ptr(t) == vals + off * 4);
        CHECK(t->grad && (char *)vae_tensor_ptr(t->grad) == grads + off * 4 &&
              vae_same_shape(t, t->grad));
        prev_end = off + vae_numel(t);
        for (int64_t j = 0; j < vae_numel(t); j++) CHECK(vae_get_flat(t, j) == 0.0);
    }
    CHECK(prev_end == vae_params_flat_len(p));
    CHECK(strcmp(a->name, "a") == 0 && strcmp(c->name, "c.weight") == 0);
    CHECK(vae_params_find(p, "b") == b && vae_params_index(p, "c.weight") == 2);
    CHECK(vae_params_find(p, "nope") == NULL && vae_params_index(p, NULL) == -1 &&
          !vae_params_get(p, 3));

    /* errors leave the store unchanged */
    CHECK(!vae_params_add(p, "a", VAE_SHAPE(1), &err) && err.code == VAE_ERR_ARG);
    vae_error_clear(&err);
    CHECK(!vae_params_add(p, "", VAE_SHAPE(1), &err) && err.code == VAE_ERR_ARG);
    vae_error_clear(&err);
    CHECK(!vae_params_add(p, "neg", VAE_SHAPE(-1), &err) && err.code == VAE_ERR_SHAPE);
    vae_error_clear(&err);
    char longname[300];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    CHECK(!vae_params_add(p, longname, VAE_SHAPE(1), &err) && err.code == VAE_ERR_ARG);
    vae_error_clear(&err);
    CHECK(vae_params_count(p) == 3);

    /* zero-grad is one memset over the whole flat buffer */
    for (int64_t j = 0; j < vae_params_flat_len(p); j++) ((float *)vae_params_grads(p))[j] = 1.5f;
    vae_params_zero_grad(p);
    int nz = 0;
    for (int64_t j = 0; j < vae_params_flat_len(p); j++)
        nz += ((float *)vae_params_grads(p))[j] != 0;
    CHECK(nz == 0);

    /* growth keeps the tensor pointers and the values, and re-points data */
    vae_set_flat(a, 7, 3.25);
    vae_set_flat(c, 7, -2.0);
    vae_tensor *big = NULL;
    for (int i = 0; i < 20; i++) {
        char nm[32];
        snprintf(nm, sizeof nm, "grow%d", i);
        big = vae_params_add(p, nm, VAE_SHAPE(100, 37), &err);
    }
    CHECK(big && vae_params_count(p) == 23);
    CHECK(vae_get_flat(a, 7) == 3.25 && vae_get_flat(c, 7) == -2.0 && vae_params_find(p, "a") == a);
    CHECK((char *)vae_tensor_ptr(a) == (char *)vae_params_values(p) + vae_params_offset(p, 0) * 4);
    CHECK((char *)vae_tensor_ptr(c->grad) ==
          (char *)vae_params_grads(p) + vae_params_offset(p, 2) * 4);

    /* state slots: created zeroed on demand, grow with the store */
    CHECK(vae_params_ensure_slots(p, 2, &err) == VAE_OK && vae_params_slots(p) == 2);
    CHECK(vae_params_ensure_slots(p, VAE_PARAMS_MAX_SLOTS + 1, &err) == VAE_ERR_ARG &&
          vae_params_slots(p) == 2);
    vae_error_clear(&err);
    ((float *)vae_params_slot(p, 1))[5] = 4.0f;
    vae_tensor *late = vae_params_add(p, "late", VAE_SHAPE(5000), &err);
    CHECK(late && ((float *)vae_params_slot(p, 1))[5] == 4.0f);
    float *s0 = vae_params_slot(p, 0);
    int64_t off = vae_params_offset(p, vae_params_index(p, "late"));
    CHECK(s0[off] == 0 && s0[off + 4999] == 0 && !vae_params_slot(p, 2));

    /* truncation rolls back and re-zeroes the tail */
    vae_set_flat(late, 0, 9.0);
    vae_params_truncate(p, 3);
    CHECK(vae_params_count(p) == 3 && vae_params_flat_len(p) == prev_end &&
          !vae_params_find(p, "late"));
    CHECK(vae_params_add(p, "again", VAE_SHAPE(5000), &err) != NULL);
    CHECK(vae_get_flat(vae_params_find(p, "again"), 0) == 0.0);
    vae_params_free(p);
    vae_params_free(NULL);
    CHECK(vae_params_new((vae_dtype)7) == NULL);
}

/* y = x @ W + b with x (4, 3): dL/dW[i][j] = sum_b x[b][i] for L = sum(y); dL/db = 4. */
static void test_backward_into_flat(void) {
    vae_error err = {0};
    vae_params *p = vae_params_new(VAE_F64);
    vae_linear l;
    CHECK(vae_linear_init(&l, p, "lin", 3, 2, 1, &err) == VAE_OK);
    CHECK(vae_params_count(p) == 2 && strcmp(l.w->name, "lin.weight") == 0 &&
          strcmp(l.b->name, "lin.bias") == 0);
    vae_rng rng;
    vae_rng_seed(&rng, 1);
    CHECK(vae_linear_reset(&l, &rng, &err) == VAE_OK);
    vae_ctx *ctx = vae_ctx_new(0);
    double xs[12];
    for (int i = 0; i < 12; i++) xs[i] = 0.25 * i - 1;
    for (int rep = 1; rep <= 2; rep++) { /* two steps without zero-grad accumulate */
        vae_ctx_reset(ctx);
        vae_tensor *x = vae_wrap(ctx, VAE_F64, VAE_SHAPE(4, 3), xs);
        vae_tensor *y = vae_linear_forward(ctx, &l, x, vae_act_default(VAE_ACT_IDENTITY));
        CHECK(vae_backward(ctx, vae_sum_all(ctx, y)) == VAE_OK);
        const double *g = vae_params_grads(p);
        int64_t ow = vae_params_offset(p, 0), ob = vae_params_offset(p, 1);
        for (int i = 0; i < 3; i++) {
            double colsum = 0;
            for (int b = 0; b < 4; b++) colsum += xs[b * 3 + i];
            for (int j = 0; j < 2; j++) CHECK_NEAR(g[ow + i * 2 + j], rep * colsum, 1e-12, 0);
        }
        CHECK(g[ob] == 4.0 * rep && g[ob + 1] == 4.0 * rep);
        CHECK(l.w->grad ==
              vae_params_find(p, "lin.weight")->grad); /* autograd used the store's buffer */
    }
    vae_params_zero_grad(p);
    CHECK(((double *)vae_params_grads(p))[vae_params_offset(p, 1)] == 0);

    /* wrong input width and wrong dtype are reported in ctx */
    vae_ctx_reset(ctx);
    CHECK(!vae_linear_forward(ctx, &l, vae_zeros(ctx, VAE_F64, VAE_SHAPE(4, 5)),
                              vae_act_default(VAE_ACT_RELU)));
    CHECK(vae_ctx_status(ctx) == VAE_ERR_SHAPE);
    vae_ctx_clear_error(ctx);
    CHECK(!vae_linear_forward(ctx, &l, vae_zeros(ctx, VAE_F32, VAE_SHAPE(4, 3)),
                              vae_act_default(VAE_ACT_RELU)));
    CHECK(vae_ctx_status(ctx) == VAE_ERR_DTYPE);
    /* a name already taken rolls back */
    vae_linear l2 = {0};
    vae_error_clear(&err);
    CHECK(vae_linear_init(&l2, p, "lin", 3, 2, 1, &err) == VAE_ERR_ARG && !l2.w &&
          vae_params_count(p) == 2);
    vae_ctx_free(ctx);
    vae_params_free(p);
}

typedef struct moments {
    double mean, var, min, max;
} moments;

static moments stats(const vae_tensor *t) {
    moments m = {0, 0, INFINITY, -INFINITY};
    int64_t n = vae_numel(t);
    for (int64_t i = 0; i < n; i++) {
        double v = vae_get_flat(t, i);
        m.mean += v;
        m.var += v * v;
        if (v < m.min) m.min = v;
        if (v > m.max) m.max = v;
    }
    m.mean /= (double)n;
    m.var = m.var / (double)n - m.mean * m.mean;
    return m;
}

/* Mean within 5 standard errors, variance within 3%. */
static void check_dist(const vae_tensor *t, double var, const char *what) {
    moments m = stats(t);
    double n = (double)vae_numel(t);
    CHECK_MSG(fabs(m.mean) < 5 * sqrt(var / n), "%s mean %g", what, m.mean);
    CHECK_MSG(fabs(m.var / var - 1) < 0.03, "%s var %g expected %g", what, m.var, var);
}

static void test_init(void) {
    vae_error err = {0};
    vae_params *p = vae_params_new(VAE_F32);
    const int64_t IN = 400, OUT = 300;
    vae_tensor *w = vae_params_add(p, "w", VAE_SHAPE(IN, OUT), &err);
    vae_tensor *b = vae_params_add(p, "b", VAE_SHAPE(OUT), &err);
    vae_tensor *v = vae_params_add(p, "v", VAE_SHAPE(50000), &err);
    vae_rng rng;
    vae_rng_seed(&rng, 42);

    CHECK(vae_init_linear_default(w, b, &rng, &err) == VAE_OK);
    double bound = 1 / sqrt((double)IN);
    moments mw = stats(w), mb = stats(b);
    CHECK(mw.min >= -bound && mw.max <= bound && mw.max > 0.99 * bound && mw.min < -0.99 * bound);
    CHECK(mb.min >= -bound && mb.max <= bound);
    check_dist(w, bound * bound / 3, "linear default");

    CHECK(vae_init_xavier_uniform(w, 1.0, &rng, &err) == VAE_OK);
    double xb = sqrt(6.0 / (IN + OUT));
    mw = stats(w);
    CHECK(mw.min >= -xb && mw.max <= xb && mw.max > 0.99 * xb);
    check_dist(w, xb * xb / 3, "xavier uniform");
    CHECK(vae_init_xavier_normal(w, 2.0, &rng, &err) == VAE_OK);
    check_dist(w, 4.0 * 2.0 / (IN + OUT), "xavier normal");
    CHECK(vae_init_kaiming_uniform(w, 0.0, &rng, &err) == VAE_OK);
    double kb = sqrt(3.0) * sqrt(2.0) / sqrt((double)IN);
    mw = stats(w);
    CHECK(mw.min >= -kb && mw.max <= kb && mw.max > 0.99 * kb);
    check_dist(w, 2.0 / IN, "kaiming uniform");
    CHECK(vae_init_kaiming_normal(w, 0.0, &rng, &err) == VAE_OK);
    check_dist(w, 2.0 / IN, "kaiming normal");
    CHECK_NEAR(vae_init_kaiming_gain(sqrt(5.0)), sqrt(1.0 / 3.0), 1e-15, 0);

    CHECK(vae_init_normal(v, 0.0, 0.01, &rng, &err) == VAE_OK);
    check_dist(v, 1e-4, "normal 0.01");
    CHECK(vae_init_uniform(v, -2.0, 4.0, &rng, &err) == VAE_OK);
    moments mv = stats(v);
    CHECK(mv.min >= -2 && mv.max < 4 && fabs(mv.mean - 1) < 5 * sqrt(3.0 / 50000));
    CHECK(vae_init_constant(b, 0.5, &err) == VAE_OK);
    mb = stats(b);
    CHECK(mb.min == 0.5f && mb.max == 0.5f);

    /* same seed, same values */
    vae_rng r1, r2;
    vae_rng_seed(&r1, 9);
    vae_rng_seed(&r2, 9);
    vae_init_normal(v, 0, 1, &r1, &err);
    double v0 = vae_get_flat(v, 123);
    vae_init_normal(v, 0, 1, &r2, &err);
    CHECK(vae_get_flat(v, 123) == v0);

    /* Burda's logit-mean bias: sigmoid(b) recovers the clamped means */
    float mean[300];
    for (int i = 0; i < 300; i++) mean[i] = (float)i / 299.0f;
    CHECK(vae_init_bias_logit_mean(b, mean, 1e-3, &err) == VAE_OK);
    CHECK_NEAR(1 / (1 + exp(-vae_get_flat(b, 150))), mean[150], 1e-6, 0);
    CHECK_NEAR(1 / (1 + exp(-vae_get_flat(b, 0))), 1e-3, 1e-7, 0);
    CHECK_NEAR(1 / (1 + exp(-vae_get_flat(b, 299))), 1 - 1e-3, 1e-6, 0);

    /* failures leave the tensor untouched */
    double keep = vae_get_flat(b, 3);
    CHECK(vae_init_xavier_uniform(b, 1.0, &rng, &err) == VAE_ERR_SHAPE);
    vae_error_clear(&err);
    CHECK(vae_init_normal(b, 0, -1, &rng, &err) == VAE_ERR_ARG);
    vae_error_clear(&err);
    CHECK(vae_init_bias_logit_mean(b, mean, 0.0, &err) == VAE_ERR_ARG);
    vae_error_clear(&err);
    CHECK(vae_init_uniform(b, 0, 1, NULL, &err) == VAE_ERR_NULL);
    vae_error_clear(&err);
    CHECK(vae_init_linear_default(w, v, &rng, &err) == VAE_ERR_SHAPE);
    vae_error_clear(&err);
    CHECK(vae_get_flat(b, 3) == keep);
    vae_params_free(p);
}

static void test_mlp_shapes(void) {
    vae_error err = {0};
    vae_params *p = vae_params_new(VAE_F32);
    vae_mlp m;
    const int64_t sizes[] = {5, 7, 3};
    CHECK(vae_mlp_init(&m, p, "enc", 3, sizes, vae_act_default(VAE_ACT_TANH), 0, &err) == VAE_OK);
    CHECK(m.nlayers == 2 && vae_params_count(p) == 4);
    const char *names[] = {"enc.0.weight", "enc.0.bias", "enc.1.weight", "enc.1.bias"};
    const int64_t shp[4][2] = {{5, 7}, {7, 0}, {7, 3}, {3, 0}};
    for (int i = 0; i < 4; i++) {
        vae_tensor *t = vae_params_get(p, i);
        CHECK(strcmp(t->name, names[i]) == 0 && t->ndim == (i % 2 ? 1 : 2) &&
              t->shape[0] == shp[i][0]);
        if (t->ndim == 2) CHECK(t->shape[1] == shp[i][1]);
    }
    vae_rng rng;
    vae_rng_seed(&rng, 3);
    CHECK(vae_mlp_reset(&m, &rng, &err) == VAE_OK);
    vae_ctx *ctx = vae_ctx_new(0);
    vae_tensor *y2 = vae_mlp_forward(ctx, &m, vae_randn(ctx, VAE_F32, VAE_SHAPE(4, 5)));
    vae_tensor *y3 =
        vae_mlp_forward(ctx, &m, vae_randn(ctx, VAE_F32, VAE_SHAPE(6, 4, 5))); /* (K, B, in) */
    vae_tensor *y1 = vae_mlp_forward(ctx, &m, vae_randn(ctx, VAE_F32, VAE_SHAPE(5)));
    CHECK(vae_ctx_status(ctx) == VAE_OK);
    CHECK(y2 && y2->ndim == 2 && y2->shape[0] == 4 && y2->shape[1] == 3);
    CHECK(y3 && y3->ndim == 3 && y3->shape[0] == 6 && y3->shape[1] == 4 && y3->shape[2] == 3);
    CHECK(y1 && y1->ndim == 1 && y1->shape[0] == 3);
    /* K particles of one batch give K copies of the batch's output */
    vae_ctx_reset(ctx);
    vae_tensor *xb = vae_randn(ctx, VAE_F32, VAE_SHAPE(4, 5));
    vae_tensor *yb = vae_mlp_forward(ctx, &m, xb);
    vae_tensor *yk =
        vae_mlp_forward(ctx, &m, vae_expand(ctx, vae_unsqueeze(ctx, xb, 0), VAE_SHAPE(3, 4, 5)));
    double d = 0;
    for (int64_t i = 0; yk && i < 36; i++)
        d = fmax(d, fabs(vae_get_flat(yk, i) - vae_get_flat(yb, i % 12)));
    CHECK(yk && d < 1e-6);
    /* act_last: sigmoid output in (0, 1) */
    vae_mlp ms;
    CHECK(vae_mlp_init(&ms, p, "dec", 3, sizes, vae_act_default(VAE_ACT_SIGMOID), 1, &err) ==
          VAE_OK);
    vae_mlp_reset(&ms, &rng, &err);
    vae_ctx_reset(ctx);
    moments mo = stats(vae_mlp_forward(
        ctx, &ms, vae_mul_scalar(ctx, vae_randn(ctx, VAE_F32, VAE_SHAPE(50, 5)), 10)));
    CHECK(mo.min > 0 && mo.max < 1);
    /* failures roll back the store */
    int n0 = vae_params_count(p);
    const int64_t bad[] = {5, 0, 3};
    CHECK(vae_mlp_init(&ms, p, "bad", 3, bad, vae_act_default(VAE_ACT_RELU), 0, &err) ==
          VAE_ERR_ARG);
    vae_error_clear(&err);
    const int64_t clash[] = {5, 4, 4, 3};
    vae_params_add(p, "x.2.bias", VAE_SHAPE(1), &err);
    n0 = vae_params_count(p);
    CHECK(vae_mlp_init(&ms, p, "x", 4, clash, vae_act_default(VAE_ACT_RELU), 0, &err) ==
          VAE_ERR_ARG);
    CHECK(vae_params_count(p) == n0 && !vae_params_find(p, "x.0.weight"));
    vae_error_clear(&err);
    CHECK(vae_act_from_name("leaky_relu") == VAE_ACT_LEAKY_RELU && vae_act_from_name("nope") == -1);
    CHECK(strcmp(vae_act_name(VAE_ACT_SOFTPLUS), "softplus") == 0);
    vae_ctx_free(ctx);
    vae_params_free(p);
}

/* ---- gradchecks: the parameters are the gradcheck's inputs, wrapped into layer structs ---- */

static vae_tensor *gc_linear(vae_ctx *c, vae_tensor *const *x, int n, void *u) {
    (void)n;
    vae_linear l = {x[0]->shape[x[0]->ndim - 1], x[1]->shape[1], x[1], x[2]};
    return vae_linear_forward(c, &l, x[0], *(const vae_activation *)u);
}

static vae_tensor *gc_mlp(vae_ctx *c, vae_tensor *const *x, int n, void *u) {
    (void)n;
    vae_mlp m = {.nlayers = 2, .act = *(const vae_activation *)u, .act_last = 1};
    for (int i = 0; i < 2; i++)
        m.layer[i] = (vae_linear){x[1 + 2 * i]->shape[0], x[1 + 2 * i]->shape[1], x[1 + 2 * i],
                                  x[2 + 2 * i]};
    return vae_mlp_forward(c, &m, x[0]);
}

static void fill_input(vae_gc_input *g, int ndim, const int64_t *shape, double *buf, vae_rng *r,
                       double scale) {
    memset(g, 0, sizeof *g);
    g->ndim = ndim;
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= (g->shape[i] = shape[i]);
    for (int64_t i = 0; i < n; i++) buf[i] = scale * (2 * vae_rng_uniform(r) - 1);
    g->data = buf;
    g->requires_grad = 1;
}

static void test_gradchecks(void) {
    vae_rng r;
    vae_rng_seed(&r, 7);
    static double bx[64], bw1[64], bb1[16], bw2[64], bb2[16];
    vae_gc_input in[5];
    vae_error err = {0};
    vae_gc_result res;

    /* Linear with (K, B, in) = (2, 3, 4) input: W's gradient sums over both leading dims */
    vae_activation tanh_act = vae_act_default(VAE_ACT_TANH);
    fill_input(&in[0], 3, (int64_t[]){2, 3, 4}, bx, &r, 1.0);
    fill_input(&in[1], 2, (int64_t[]){4, 5}, bw1, &r, 0.5);
    fill_input(&in[2], 1, (int64_t[]){5}, bb1, &r, 0.5);
    vae_status st = vae_gradcheck(gc_linear, &tanh_act, 3, in, 1e-6, 1e-7, 1e-5, &res, &err);
    CHECK_MSG(st == VAE_OK, "linear: %s", err.msg);
    vae_error_clear(&err);

    /* 2-layer MLP 4 -> 6 -> 3 on (3, 4), each activation after both layers */
    for (int k = 0; k < VAE_ACT_COUNT_; k++) {
        vae_activation a = vae_act_default((vae_act)k);
        if (k == VAE_ACT_ELU) a.alpha = 0.8;
        if (k == VAE_ACT_LEAKY_RELU) a.alpha = 0.2;
        fill_input(&in[0], 2, (int64_t[]){3, 4}, bx, &r, 1.0);
        fill_input(&in[1], 2, (int64_t[]){4, 6}, bw1, &r, 0.8);
        fill_input(&in[2], 1, (int64_t[]){6}, bb1, &r, 0.5);
        fill_input(&in[3], 2, (int64_t[]){6, 3}, bw2, &r, 0.8);
        fill_input(&in[4], 1, (int64_t[]){3}, bb2, &r, 0.5);
        st = vae_gradcheck(gc_mlp, &a, 5, in, 1e-6, 1e-7, 1e-5, &res, &err);
        CHECK_MSG(st == VAE_OK, "mlp %s: %s", vae_act_name(a.kind), err.msg);
        CHECK(res.checked == 12 + 24 + 6 + 18 + 3);
        vae_error_clear(&err);
    }
}

int main(void) {
    test_layout();
    test_backward_into_flat();
    test_init();
    test_mlp_shapes();
    test_gradchecks();
    return test_finish();
}
