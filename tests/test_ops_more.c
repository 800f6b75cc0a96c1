/* The ops of issue 11 (lgamma, digamma, comparisons, softmax / log_softmax / cumsum along an axis, triangular
 * masks) and the "beta" and "poisson" likelihoods: values and gradients against PyTorch and mpmath (read from
 * tests/reference/ops_more.txt, written by tests/reference/make_ops_more.py), in f64 and f32; gradcheck on
 * contiguous, transposed and broadcast inputs; stability, error paths, and the samplers' moments (fixed seeds). */
#include <stdlib.h>
#include <string.h>

#include "models/dist_builtin.h"
#include "models/likelihood.h"
#include "test.h"
#include "vae.h"

/* ---- the reference file: `NAME N v1 .. vN` per line ---- */

#define MAX_ARRAYS 128
static struct {
    char name[64];
    int n;
    double *v;
} refs[MAX_ARRAYS];
static int nrefs;

static int load_refs(void) {
    const char *root = getenv("VAE_SOURCE_ROOT");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/reference/ops_more.txt", root ? root : ".");
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0 && nrefs < MAX_ARRAYS) {
        if (line[0] == '#' || line[0] == '\n') continue;
        char *p = line, *end;
        int len = 0;
        if (sscanf(p, "%63s %d%n", refs[nrefs].name, &refs[nrefs].n, &len) != 2) continue;
        p += len;
        refs[nrefs].v = malloc(sizeof(double) * (size_t)refs[nrefs].n);
        for (int i = 0; i < refs[nrefs].n; i++, p = end) refs[nrefs].v[i] = strtod(p, &end);
        nrefs++;
    }
    free(line);
    fclose(f);
    return nrefs > 0;
}

static const double *ref(const char *name, int *n) {
    for (int i = 0; i < nrefs; i++)
        if (!strcmp(refs[i].name, name)) {
            if (n) *n = refs[i].n;
            return refs[i].v;
        }
    fprintf(stderr, "missing reference array %s\n", name);
    exit(1);
}

/* max over i of |got_i - want_i| / (atol + rtol |want_i|) (<= 1 passes); infinities and NaNs must match */
static double worst(const vae_tensor *got, const double *want, int n, double atol, double rtol,
                    int *at) {
    double w = 0;
    *at = -1;
    for (int i = 0; i < n; i++) {
        double g = vae_get_flat(got, i), e = want[i], r;
        if (g == e)
            r = 0;
        else if (isnan(e) || isinf(e))
            r = (isnan(e) ? isnan(g) : g == e) ? 0 : INFINITY;
        else
            r = fabs(g - e) / (atol + rtol * fabs(e));
        if (!(r <= w)) w = r, *at = i;
    }
    return w;
}

#define CHECK_ARRAY(got, want, n, atol, rtol, what)                                                \
    do {                                                                                           \
        int at_;                                                                                   \
        double w_ = worst(got, want, n, atol, rtol, &at_);                                         \
        CHECK_MSG(w_ <= 1, "%s: element %d: %.17g vs %.17g", what, at_,                            \
                  at_ >= 0 ? vae_get_flat(got, at_) : 0.0, at_ >= 0 ? (want)[at_] : 0.0);          \
    } while (0)

static const char *dtn(vae_dtype dt) {
    return dt == VAE_F64 ? "f64" : "f32";
}

/* ---- lgamma, digamma (and trigamma through digamma's gradient) ---- */

static void test_special(vae_ctx *c) {
    int n;
    const double *x = ref("special_x", &n);
    int npos = 0;
    while (npos < n && x[npos] > 0) npos++;
    const char *fn[3] = {"lgamma", "digamma", "trigamma"};
    /* f64: against 50-digit values to 1e-13 relative for x > 0 (plus 1e-15 absolute: digamma's root), 1e-12 for
     * x < 0; against PyTorch to 1e-12 */
    vae_ctx_reset(c);
    vae_tensor *t = vae_from_data(c, VAE_F64, 1, (int64_t[]){n}, VAE_F64, x);
    vae_requires_grad(c, t, 1);
    vae_tensor *lg = vae_lgamma(c, t), *dg = vae_digamma(c, t);
    CHECK(vae_backward(c, vae_sum_all(c, dg)) == VAE_OK);
    vae_tensor *got[3] = {lg, dg, t->grad};
    for (int k = 0; k < 3; k++) {
        char name[64];
        snprintf(name, sizeof name, "%s_mp", fn[k]);
        const double *mp = ref(name, NULL);
        CHECK_ARRAY(got[k], mp, npos, 1e-15, 1e-13, name);
        double rel = 0, ab = 0; /* the README's figures: relative error where |f| > 1e-3, else absolute */
        for (int i = 0; i < npos; i++) {
            double e = fabs(vae_get_flat(got[k], i) - mp[i]);
            if (fabs(mp[i]) > 1e-3)
                rel = fmax(rel, e / fabs(mp[i]));
            else
                ab = fmax(ab, e);
        }
        printf("%-8s vs mpmath, %d points x > 0: max rel err %.1e (|f| > 1e-3), max abs err %.1e (|f| <= 1e-3)\n",
               fn[k], npos, rel, ab);
        vae_tensor neg = *got[k];
        neg.offset += npos;
        neg.shape[0] = n - npos;
        CHECK_ARRAY(&neg, mp + npos, n - npos, 1e-13, 1e-12, name);
        snprintf(name, sizeof name, "%s_torch", fn[k]);
        const double *th = ref(name, NULL);
        /* PyTorch's own trigamma (polygamma(1, x)) is accurate to ~5e-10 only */
        CHECK_ARRAY(got[k], th, npos, 1e-15, k == 2 ? 1e-9 : 1e-12, name);
    }
    /* d lgamma = digamma: lgamma's gradient is the digamma op's value */
    vae_ctx_reset(c);
    t = vae_from_data(c, VAE_F64, 1, (int64_t[]){npos}, VAE_F64, x);
    vae_requires_grad(c, t, 1);
    CHECK(vae_backward(c, vae_sum_all(c, vae_lgamma(c, t))) == VAE_OK);
    CHECK_ARRAY(t->grad, ref("digamma_mp", NULL), npos, 1e-15, 1e-13, "d lgamma");
    /* f32: the f64 functions at the f32-rounded inputs, to f32 rounding */
    float xf[256];
    for (int i = 0; i < n; i++) xf[i] = (float)x[i];
    double want[3][256];
    for (int d = 0; d < 2;
         d++) { /* d = 0: f64 at the rounded inputs (the references); d = 1: f32 */
        vae_ctx_reset(c);
        vae_tensor *tf = vae_from_data(c, d ? VAE_F32 : VAE_F64, 1, (int64_t[]){n}, VAE_F32, xf);
        vae_requires_grad(c, tf, 1);
        vae_tensor *lgf = vae_lgamma(c, tf), *dgf = vae_digamma(c, tf);
        CHECK(vae_backward(c, vae_sum_all(c, dgf)) == VAE_OK);
        if (!d) {
            vae_tensor_to_f64(lgf, want[0]);
            vae_tensor_to_f64(dgf, want[1]);
            vae_tensor_to_f64(tf->grad, want[2]);
            continue;
        }
        CHECK(lgf->dtype == VAE_F32 && tf->grad->dtype == VAE_F32);
        CHECK_ARRAY(lgf, want[0], n, 1e-30, 1e-7, "lgamma f32");
        CHECK_ARRAY(dgf, want[1], n, 1e-30, 1e-7, "digamma f32");
        CHECK_ARRAY(tf->grad, want[2], n, 1e-30, 1e-7, "trigamma f32");
    }
    /* poles, as PyTorch: lgamma(0, -2) = inf; digamma(0) = -inf, digamma(-1) = NaN; trigamma(0) = inf */
    for (int d = 0; d < 2; d++) {
        vae_dtype dt = d ? VAE_F32 : VAE_F64;
        vae_ctx_reset(c);
        double pv[3] = {0, -2, -1};
        vae_tensor *p = vae_from_data(c, dt, 1, (int64_t[]){3}, VAE_F64, pv);
        vae_requires_grad(c, p, 1);
        vae_tensor *l = vae_lgamma(c, p), *g = vae_digamma(c, p);
        CHECK_MSG(vae_get_flat(l, 0) == INFINITY && vae_get_flat(l, 1) == INFINITY, "%s", dtn(dt));
        CHECK_MSG(vae_get_flat(g, 0) == -INFINITY && isnan(vae_get_flat(g, 2)), "%s", dtn(dt));
        CHECK(vae_backward_seeded(c, g, vae_ones(c, dt, 1, (int64_t[]){3})) == VAE_OK);
        CHECK_MSG(vae_get_flat(p->grad, 0) == INFINITY, "%s trigamma(0)", dtn(dt));
    }
}

/* ---- softmax, log_softmax, cumsum along each axis: forward and gradient of sum(w * y) vs PyTorch ---- */

static vae_tensor *axis_op(vae_ctx *c, int which, vae_tensor *x, int axis) {
    switch (which) {
    case 0:
        return vae_softmax(c, x, axis);
    case 1:
        return vae_log_softmax(c, x, axis);
    case 2:
        return vae_cumsum(c, x, axis, 0);
    default:
        return vae_cumsum(c, x, axis, 1);
    }
}

static void test_axis_ops(vae_ctx *c) {
    static const char *names[4] = {"softmax", "log_softmax", "cumsum", "cumsum_excl"};
    const double *x = ref("axis_x", NULL), *w = ref("axis_w", NULL);
    for (int d = 0; d < 2; d++) {
        vae_dtype dt = d ? VAE_F32 : VAE_F64;
        double tol = d ? 2e-6 : 1e-13;
        for (int which = 0; which < 4; which++)
            for (int axis = 0; axis < 3; axis++) {
                vae_ctx_reset(c);
                vae_tensor *t = vae_from_data(c, dt, VAE_SHAPE(2, 3, 4), VAE_F64, x);
                vae_tensor *wt = vae_from_data(c, dt, VAE_SHAPE(2, 3, 4), VAE_F64, w);
                vae_requires_grad(c, t, 1);
                /* the axis once as a positive index, once counted from the end */
                vae_tensor *y = axis_op(c, which, t, (axis & 1) ? axis - 3 : axis);
                CHECK(y && y->dtype == dt);
                CHECK(vae_backward_seeded(c, y, wt) == VAE_OK);
                char name[64], what[96];
                snprintf(name, sizeof name, "%s_a%d", names[which], axis);
                snprintf(what, sizeof what, "%s %s", name, dtn(dt));
                CHECK_ARRAY(y, ref(name, NULL), 24, tol, tol, what);
                snprintf(name, sizeof name, "grad_%s_a%d", names[which], axis);
                snprintf(what, sizeof what, "%s %s", name, dtn(dt));
                CHECK_ARRAY(t->grad, ref(name, NULL), 24, tol, tol, what);
            }
    }
    /* stability: huge logits, and -inf entries (a masked softmax) with a finite gradient */
    for (int d = 0; d < 2; d++) {
        vae_dtype dt = d ? VAE_F32 : VAE_F64;
        vae_ctx_reset(c);
        double big[6] = {1000, 1001, 1002, -INFINITY, 0.5, -INFINITY};
        vae_tensor *t = vae_from_data(c, dt, VAE_SHAPE(2, 3), VAE_F64, big);
        vae_requires_grad(c, t, 1);
        vae_tensor *s = vae_softmax(c, t, 1), *ls = vae_log_softmax(c, t, -1);
        double e2 = exp(-1) + exp(-2) + 1; /* softmax of (1000, 1001, 1002) = exp(-2, -1, 0) / e2 */
        CHECK_NEAR(vae_get_flat(s, 0), exp(-2) / e2, 1e-7, 1e-6);
        CHECK_NEAR(vae_get_flat(ls, 2), -log(e2), 1e-7, 1e-6);
        CHECK(vae_get_flat(s, 3) == 0 && vae_get_flat(s, 4) == 1 && vae_get_flat(ls, 4) == 0);
        CHECK(vae_get_flat(ls, 3) == -INFINITY);
        /* the gradient of softmax + log_softmax stays finite next to the -inf entries */
        CHECK(vae_backward_seeded(c, vae_add(c, s, ls), vae_ones(c, dt, VAE_SHAPE(2, 3))) ==
              VAE_OK);
        CHECK(t->grad && vae_k_all_finite(t->grad));
        CHECK(vae_ctx_status(c) == VAE_OK);
    }
    /* a whole -inf line gives NaN, as PyTorch */
    vae_ctx_reset(c);
    double allinf[3] = {-INFINITY, -INFINITY, -INFINITY};
    vae_tensor *ti = vae_from_data(c, VAE_F64, VAE_SHAPE(3), VAE_F64, allinf);
    CHECK(isnan(vae_get_flat(vae_softmax(c, ti, 0), 1)) &&
          isnan(vae_get_flat(vae_log_softmax(c, ti, 0), 0)));
    /* the same bits with 1 and 2 threads on a problem large enough to be split */
    int th0 = vae_threads_get();
    double *res[2];
    for (int r = 0; r < 2; r++) {
        vae_threads_set(r + 1);
        vae_ctx_reset(c);
        vae_ctx_seed(c, 5);
        vae_tensor *t = vae_randn(c, VAE_F32, VAE_SHAPE(300, 257));
        vae_requires_grad(c, t, 1);
        vae_tensor *y =
            vae_add(c, vae_log_softmax(c, t, 1), vae_cumsum(c, vae_softmax(c, t, 0), 0, 1));
        vae_tensor *seed = vae_randn(c, VAE_F32, VAE_SHAPE(300, 257));
        CHECK_MSG(vae_backward_seeded(c, y, seed) == VAE_OK, "%s", vae_ctx_message(c));
        if (!t->grad) break;
        res[r] = malloc(sizeof(double) * 2 * 300 * 257);
        vae_tensor_to_f64(y, res[r]);
        vae_tensor_to_f64(t->grad, res[r] + 300 * 257);
    }
    CHECK(memcmp(res[0], res[1], sizeof(double) * 2 * 300 * 257) == 0);
    free(res[0]);
    free(res[1]);
    vae_threads_set(th0);
}

/* ---- comparisons and masks ---- */

static void test_compare(vae_ctx *c) {
    for (int d = 0; d < 2; d++) {
        vae_dtype dt = d ? VAE_F32 : VAE_F64;
        vae_ctx_reset(c);
        double av[6] = {1, 2, 3, 4, 5, NAN}, bv[3] = {2, 2, 6};
        vae_tensor *a = vae_from_data(c, dt, VAE_SHAPE(2, 3), VAE_F64, av);
        vae_tensor *b = vae_from_data(c, dt, VAE_SHAPE(3), VAE_F64, bv);
        vae_requires_grad(c, a, 1);
        int64_t tape0 = vae_tape_length(c);
        vae_tensor *m[5] = {vae_gt(c, a, b), vae_lt(c, a, b), vae_ge(c, a, b), vae_le(c, a, b),
                            vae_eq(c, a, b)};
        /* a = (1 2 3 | 4 5 NaN) against b = (2 2 6) broadcast over rows; NaN compares false */
        static const double want[5][6] = {{0, 0, 0, 1, 1, 0},
                                          {1, 0, 1, 0, 0, 0},
                                          {0, 1, 0, 1, 1, 0},
                                          {1, 1, 1, 0, 0, 0},
                                          {0, 1, 0, 0, 0, 0}};
        for (int k = 0; k < 5; k++) {
            CHECK_MSG(m[k] && m[k]->dtype == dt && m[k]->ndim == 2 &&
                          !(m[k]->flags & VAE_TF_REQUIRES_GRAD),
                      "compare %d %s", k, dtn(dt));
            CHECK_ARRAY(m[k], want[k], 6, 0, 0, "compare");
        }
        CHECK(vae_tape_length(c) == tape0); /* constants: nothing recorded */
        /* a transposed operand */
        vae_tensor *at = vae_transpose(c, a, 0, 1),
                   *bt = vae_from_data(c, dt, VAE_SHAPE(3, 1), VAE_F64, bv);
        static const double wt[6] = {0, 1, 0,
                                     1, 0, 0}; /* a^T (3,2) = (1 4 | 2 5 | 3 NaN) > (2 | 2 | 6) */
        CHECK_ARRAY(vae_gt(c, at, bt), wt, 6, 0, 0, "gt transposed");
    }
    /* errors: dtypes, shapes, NULL */
    vae_ctx_reset(c);
    vae_tensor *a = vae_zeros(c, VAE_F64, VAE_SHAPE(2, 3)),
               *b = vae_zeros(c, VAE_F32, VAE_SHAPE(2, 3));
    CHECK(vae_gt(c, a, b) == NULL && vae_ctx_status(c) == VAE_ERR_DTYPE);
    vae_ctx_clear_error(c);
    CHECK(vae_eq(c, a, vae_zeros(c, VAE_F64, VAE_SHAPE(4))) == NULL &&
          vae_ctx_status(c) == VAE_ERR_SHAPE);
    CHECK(strstr(vae_ctx_message(c), "eq: (2,3) and (4,) do not broadcast") != NULL);
    vae_ctx_clear_error(c);
    CHECK(vae_lt(c, a, NULL) == NULL);
    vae_ctx_clear_error(c);

    /* triangular masks against torch.tril / torch.triu of ones */
    static const int64_t tri[5][3] = {{4, 4, 0}, {4, 4, -1}, {3, 5, 1}, {5, 3, -2}, {4, 6, 2}};
    for (int d = 0; d < 2; d++)
        for (int i = 0; i < 5; i++)
            for (int lower = 0; lower < 2; lower++) {
                vae_dtype dt = d ? VAE_F32 : VAE_F64;
                vae_ctx_reset(c);
                vae_tensor *m = vae_tri_mask(c, dt, tri[i][0], tri[i][1], tri[i][2], lower);
                char name[64];
                snprintf(name, sizeof name, "%s_%lld_%lld_%lld", lower ? "tril" : "triu",
                         (long long)tri[i][0], (long long)tri[i][1], (long long)tri[i][2]);
                CHECK_MSG(m && m->dtype == dt && m->shape[0] == tri[i][0] &&
                              m->shape[1] == tri[i][1],
                          "%s", name);
                if (m) CHECK_ARRAY(m, ref(name, NULL), (int)(tri[i][0] * tri[i][1]), 0, 0, name);
            }
    vae_ctx_reset(c);
    CHECK(vae_tri_mask(c, VAE_F64, -1, 3, 0, 1) == NULL && vae_ctx_status(c) == VAE_ERR_SHAPE);
    vae_ctx_clear_error(c);
    vae_tensor *e = vae_tri_mask(c, VAE_F32, 0, 3, 0, 1);
    CHECK(e && vae_numel(e) == 0);
}

/* ---- errors of the axis ops ---- */

static void test_axis_errors(vae_ctx *c) {
    vae_ctx_reset(c);
    vae_tensor *x = vae_zeros(c, VAE_F64, VAE_SHAPE(2, 3));
    CHECK(vae_softmax(c, x, 2) == NULL && vae_ctx_status(c) == VAE_ERR_ARG);
    CHECK(strstr(vae_ctx_message(c), "softmax: axis 2 is out of range for (2,3)") != NULL);
    vae_ctx_clear_error(c);
    CHECK(vae_log_softmax(c, x, -3) == NULL && vae_ctx_status(c) == VAE_ERR_ARG);
    CHECK(strstr(vae_ctx_message(c), "log_softmax") != NULL);
    vae_ctx_clear_error(c);
    CHECK(vae_cumsum(c, vae_scalar(c, VAE_F64, 1), 0, 0) == NULL &&
          vae_ctx_status(c) == VAE_ERR_ARG);
    CHECK(strstr(vae_ctx_message(c), "cumsum: axis 0 is out of range for ()") != NULL);
    vae_ctx_clear_error(c);
    CHECK(vae_cumsum(c, NULL, 0, 0) == NULL && vae_ctx_status(c) == VAE_ERR_NULL);
    vae_ctx_clear_error(c);
    /* an empty axis is fine */
    vae_tensor *e = vae_zeros(c, VAE_F32, VAE_SHAPE(2, 0));
    CHECK(vae_softmax(c, e, 1) && vae_cumsum(c, e, 1, 1) && vae_ctx_status(c) == VAE_OK);
}

/* ---- gradcheck rows (f64 central differences) on contiguous, transposed and broadcast inputs ---- */

static vae_tensor *g_lgamma(vae_ctx *c, vae_tensor *const *x, int n, void *u) {
    (void)n, (void)u;
    return vae_lgamma(c, x[0]);
}
static vae_tensor *g_digamma_neg(vae_ctx *c, vae_tensor *const *x, int n, void *u) {
    (void)n, (void)u;
    return vae_digamma(
        c, vae_add_scalar(c, x[0], -3.0)); /* x - 3 in (-2.8, -2.2): the reflection branch */
}
static vae_tensor *g_axis(vae_ctx *c, vae_tensor *const *x, int n, void *u) {
    (void)n;
    const int *a = u; /* which op, axis */
    return axis_op(c, a[0], x[0], a[1]);
}
/* where() with a mask made by gt from the input itself (a constant: no gradient through the mask) */
static vae_tensor *g_where_gt(vae_ctx *c, vae_tensor *const *x, int n, void *u) {
    (void)n, (void)u;
    vae_tensor *m = vae_gt(c, x[0], vae_scalar(c, VAE_F64, 0.0));
    return vae_where(c, m, vae_mul(c, x[0], x[1]), vae_square(c, x[1]));
}
/* the MADE pattern: (x @ (W * strictly-lower mask)) */
static vae_tensor *g_masked_matmul(vae_ctx *c, vae_tensor *const *x, int n, void *u) {
    (void)n, (void)u;
    vae_tensor *m = vae_tri_mask(c, VAE_F64, 4, 4, -1, 1);
    return vae_matmul(c, x[0], vae_mul(c, x[1], m));
}

static void gc(const char *name, vae_gradcheck_fn f, void *u, int nin, vae_gc_input *in, double lo,
               double hi, vae_rng *rng) {
    double *bufs[3] = {0};
    for (int i = 0; i < nin; i++) {
        int64_t cnt = 1;
        for (int d = 0; d < in[i].ndim; d++) cnt *= in[i].shape[d];
        bufs[i] = malloc(sizeof(double) * (size_t)cnt);
        for (int64_t j = 0; j < cnt; j++) bufs[i][j] = lo + (hi - lo) * vae_rng_uniform(rng);
        in[i].data = bufs[i];
    }
    vae_error err = {0};
    vae_gc_result res;
    vae_status s = vae_gradcheck(f, u, nin, in, 1e-6, 1e-6, 1e-6, &res, &err);
    CHECK_MSG(s == VAE_OK && res.checked > 0, "gradcheck %s: %s", name, err.msg);
    printf("%-26s max|err| %.2e over %lld elements\n", name, res.max_abs_err,
           (long long)res.checked);
    for (int i = 0; i < nin; i++) free(bufs[i]);
}

#define GIN(nd, ...)                                                                               \
    { .ndim = nd, .shape = {__VA_ARGS__}, .requires_grad = 1 }
#define GINT(nd, ...)                                                                              \
    { .ndim = nd, .shape = {__VA_ARGS__}, .requires_grad = 1, .layout = VAE_GC_TRANSPOSED }

static void test_gradchecks(void) {
    vae_rng rng;
    vae_rng_seed(&rng, 11);
    gc("lgamma small x", g_lgamma, NULL, 1, (vae_gc_input[]){GIN(2, 3, 4)}, 0.05, 0.6, &rng);
    gc("lgamma large x", g_lgamma, NULL, 1, (vae_gc_input[]){GINT(2, 3, 4)}, 5, 40, &rng);
    gc("lgamma x < 0", g_lgamma, NULL, 1, (vae_gc_input[]){GIN(1, 6)}, -2.8, -2.2, &rng);
    gc("digamma x < 0", g_digamma_neg, NULL, 1, (vae_gc_input[]){GIN(1, 6)}, 0.2, 0.8, &rng);
    for (int which = 0; which < 4; which++)
        for (int axis = 0; axis < 3; axis++) {
            int u[2] = {which, axis - (which & 1) * 3};
            char name[64];
            snprintf(name, sizeof name, "%s axis %d",
                     which == 0   ? "softmax"
                     : which == 1 ? "log_softmax"
                     : which == 2 ? "cumsum"
                                  : "cumsum excl",
                     u[1]);
            /* (2,3,4) stored with its last two dims swapped: every axis is strided */
            gc(name, g_axis, u, 1, (vae_gc_input[]){GINT(3, 2, 3, 4)}, -3, 3, &rng);
        }
    /* a broadcast (stride-0) input: across the lines (log_softmax) and along them (cumsum) */
    int ls1[2] = {1, 1}, cs0[2] = {3, 0};
    vae_gc_input ex = {.ndim = 2,
                       .shape = {1, 4},
                       .requires_grad = 1,
                       .layout = VAE_GC_EXPANDED,
                       .expand_ndim = 2,
                       .expand = {3, 4}};
    gc("log_softmax axis 1 bcast", g_axis, ls1, 1, &ex, -2, 2, &rng);
    gc("cumsum excl axis 0 bcast", g_axis, cs0, 1, &ex, -2, 2, &rng);
    gc("where(gt(x, 0), x*y, y^2)", g_where_gt, NULL, 2, (vae_gc_input[]){GIN(2, 3, 4), GIN(1, 4)},
       -2, 2, &rng);
    gc("matmul with tri_mask", g_masked_matmul, NULL, 2,
       (vae_gc_input[]){GIN(2, 3, 4), GIN(2, 4, 4)}, -1, 1, &rng);
}

/* ---- the "beta" and "poisson" likelihoods ---- */

/* log_prob (B) of the likelihood `lik` on decoder output o and data x, with d's mean and entropy */
static vae_tensor *lik_lp(vae_ctx *c, const char *lik, vae_tensor *o, vae_tensor *x,
                          const double *opts, vae_tensor **mean, vae_tensor **ent) {
    vae_dist *d = vae_likelihood_make(c, vae_likelihood_find(lik), o, opts);
    if (mean) *mean = vae_dist_mean(c, d);
    if (ent) *ent = vae_dist_entropy(c, d);
    return vae_dist_log_prob(c, d, x);
}

static void test_likelihoods_vs_torch(vae_ctx *c) {
    CHECK(vae_likelihood_find("beta") && vae_likelihood_find("beta")->params_per_dim == 2);
    CHECK(vae_likelihood_find("poisson") && vae_likelihood_find("poisson")->params_per_dim == 1);
    const double *w = ref("beta_w", NULL);
    for (int d = 0; d < 2; d++) {
        vae_dtype dt = d ? VAE_F32 : VAE_F64;
        double tol = d ? 1e-5 : 1e-12;
        char what[64];
        /* beta: o (3, 8) = raw a | raw b, x (3, 4) */
        vae_ctx_reset(c);
        vae_tensor *o = vae_from_data(c, dt, VAE_SHAPE(3, 8), VAE_F64, ref("beta_out", NULL));
        vae_tensor *x = vae_from_data(c, dt, VAE_SHAPE(3, 4), VAE_F64, ref("beta_x", NULL));
        vae_requires_grad(c, o, 1);
        vae_tensor *mean, *ent, *lp = lik_lp(c, "beta", o, x, NULL, &mean, &ent);
        CHECK_MSG(lp && lp->ndim == 1 && lp->shape[0] == 3, "beta %s: %s", dtn(dt),
                  vae_ctx_message(c));
        CHECK(vae_backward_seeded(c, lp, vae_from_data(c, dt, VAE_SHAPE(3), VAE_F64, w)) == VAE_OK);
        snprintf(what, sizeof what, "beta log_prob %s", dtn(dt));
        CHECK_ARRAY(lp, ref("beta_lp", NULL), 3, tol, tol, what);
        snprintf(what, sizeof what, "beta grad %s", dtn(dt));
        CHECK_ARRAY(o->grad, ref("beta_grad", NULL), 24, tol, tol, what);
        snprintf(what, sizeof what, "beta mean %s", dtn(dt));
        CHECK_ARRAY(mean, ref("beta_mean", NULL), 12, tol, tol, what);
        snprintf(what, sizeof what, "beta entropy %s", dtn(dt));
        CHECK_ARRAY(ent, ref("beta_entropy", NULL), 3, tol, tol, what);
        /* poisson: o (3, 4) = log-rate, x counts */
        vae_ctx_reset(c);
        o = vae_from_data(c, dt, VAE_SHAPE(3, 4), VAE_F64, ref("pois_out", NULL));
        x = vae_from_data(c, dt, VAE_SHAPE(3, 4), VAE_F64, ref("pois_x", NULL));
        vae_requires_grad(c, o, 1);
        lp = lik_lp(c, "poisson", o, x, NULL, &mean, NULL);
        CHECK(lp &&
              vae_backward_seeded(c, lp, vae_from_data(c, dt, VAE_SHAPE(3), VAE_F64, w)) == VAE_OK);
        snprintf(what, sizeof what, "poisson log_prob %s", dtn(dt));
        CHECK_ARRAY(lp, ref("pois_lp", NULL), 3, tol, tol, what);
        snprintf(what, sizeof what, "poisson grad %s", dtn(dt));
        CHECK_ARRAY(o->grad, ref("pois_grad", NULL), 12, tol, tol, what);
        snprintf(what, sizeof what, "poisson mean %s", dtn(dt));
        CHECK_ARRAY(mean, ref("pois_mean", NULL), 12, tol, tol, what);
    }
    /* binarized pixels (exact 0 and 1) stay finite through the clamp; eps outside (0, 1/2) is refused */
    vae_ctx_reset(c);
    double xb[4] = {0, 1, 1, 0}, ob[8] = {0.3, -1, 2, 0.5, 1, 0.2, -0.4, 3};
    vae_tensor *o = vae_from_data(c, VAE_F32, VAE_SHAPE(1, 8), VAE_F64, ob);
    vae_tensor *x = vae_from_data(c, VAE_F32, VAE_SHAPE(1, 4), VAE_F64, xb);
    vae_tensor *lp = lik_lp(c, "beta", o, x, NULL, NULL, NULL);
    CHECK(lp && isfinite(vae_get_flat(lp, 0)));
    double eps_bad[VAE_LIK_MAX_OPTS] = {0.7};
    CHECK(lik_lp(c, "beta", o, x, eps_bad, NULL, NULL) == NULL && vae_ctx_status(c) == VAE_ERR_ARG);
    CHECK(strstr(vae_ctx_message(c), "beta: eps 0.7") != NULL);
    vae_ctx_clear_error(c);
    CHECK(vae_likelihood_make(c, vae_likelihood_find("beta"),
                              vae_zeros(c, VAE_F64, VAE_SHAPE(2, 5)), NULL) == NULL &&
          vae_ctx_status(c) == VAE_ERR_SHAPE);
    vae_ctx_clear_error(c);
    /* a larger eps changes the value of a binary pixel's term: the clamp is applied */
    double eps2[VAE_LIK_MAX_OPTS] = {0.01};
    vae_tensor *lp2 = lik_lp(c, "beta", o, x, eps2, NULL, NULL);
    CHECK(lp2 && fabs(vae_get_flat(lp2, 0) - vae_get_flat(lp, 0)) > 1e-3);
}

/* gradcheck of log_prob w.r.t. the decoder output, with K particles broadcast against x (3, 4) */
static double lik_x[12];
static vae_tensor *g_lik(vae_ctx *c, vae_tensor *const *in, int n, void *u) {
    (void)n;
    vae_tensor *x = vae_from_data(c, VAE_F64, VAE_SHAPE(3, 4), VAE_F64, lik_x);
    return lik_lp(c, (const char *)u, in[0], x, NULL, NULL, NULL);
}
static void test_likelihood_gradcheck(void) {
    vae_rng rng;
    vae_rng_seed(&rng, 12);
    for (int i = 0; i < 12; i++) lik_x[i] = 0.03 + 0.94 * vae_rng_uniform(&rng);
    gc("beta log_prob (2,3,8)", g_lik, "beta", 1, (vae_gc_input[]){GIN(3, 2, 3, 8)}, -2, 2, &rng);
    gc("beta log_prob T", g_lik, "beta", 1, (vae_gc_input[]){GINT(2, 3, 8)}, -1, 3, &rng);
    for (int i = 0; i < 12; i++) lik_x[i] = (double)vae_rng_below(&rng, 7);
    gc("poisson log_prob (2,3,4)", g_lik, "poisson", 1, (vae_gc_input[]){GIN(3, 2, 3, 4)}, -2, 2,
       &rng);
}

/* samplers: the mean (and the variance) of many draws within 4.5 standard errors (fixed seed) */
static void test_samplers(vae_ctx *c) {
    const int64_t K = 20000;
    vae_ctx_reset(c);
    vae_ctx_seed(c, 3);
    double av[3] = {2.5, 0.3, 40}, bv[3] = {0.7, 4.0, 60};
    vae_dist *d = vae_beta(c, vae_from_data(c, VAE_F64, VAE_SHAPE(3), VAE_F64, av),
                           vae_from_data(c, VAE_F64, VAE_SHAPE(3), VAE_F64, bv));
    vae_tensor *s = vae_dist_sample(c, d, K);
    CHECK(s && s->ndim == 2 && s->shape[0] == K && s->shape[1] == 3);
    for (int j = 0; s && j < 3; j++) {
        double a = av[j], b = bv[j], m = a / (a + b), v = a * b / ((a + b) * (a + b) * (a + b + 1)),
               sum = 0;
        int inside = 1;
        for (int64_t i = 0; i < K; i++) {
            double xi = vae_get_flat(s, i * 3 + j);
            sum += xi;
            inside &= xi >= 0 && xi <= 1;
        }
        CHECK_MSG(inside && fabs(sum / K - m) < 4.5 * sqrt(v / K), "beta(%g, %g): mean %g vs %g", a,
                  b, sum / K, m);
    }
    double rates[3] = {0.5, 3.0, 40.0}; /* inversion, inversion, transformed rejection */
    double lr[3] = {log(rates[0]), log(rates[1]), log(rates[2])};
    d = vae_poisson_log_rate(c, vae_from_data(c, VAE_F32, VAE_SHAPE(3), VAE_F64, lr));
    s = vae_dist_sample(c, d, K);
    CHECK(s && s->dtype == VAE_F32 && s->shape[0] == K);
    for (int j = 0; s && j < 3; j++) {
        double mu = rates[j], sum = 0, sq = 0;
        int integral = 1;
        for (int64_t i = 0; i < K; i++) {
            double xi = vae_get_flat(s, i * 3 + j);
            sum += xi, sq += xi * xi;
            integral &= xi >= 0 && xi == floor(xi);
        }
        double m = sum / K, var = sq / K - m * m;
        CHECK_MSG(integral && fabs(m - mu) < 4.5 * sqrt(mu / K), "poisson(%g): mean %g", mu, m);
        CHECK_MSG(fabs(var - mu) < 0.06 * mu, "poisson(%g): variance %g", mu,
                  var); /* sd of var/mu ~ 1.4% */
    }
    CHECK(vae_ctx_status(c) == VAE_OK);
}

int main(void) {
    CHECK_MSG(load_refs(), "cannot read tests/reference/ops_more.txt (set VAE_SOURCE_ROOT)");
    if (!nrefs) return test_finish();
    vae_ctx *c = vae_ctx_new(0);
    test_special(c);
    test_axis_ops(c);
    test_compare(c);
    test_axis_errors(c);
    test_gradchecks();
    test_likelihoods_vs_torch(c);
    test_likelihood_gradcheck();
    test_samplers(c);
    vae_ctx_free(c);
    for (int i = 0; i < nrefs; i++) free(refs[i].v);
    return test_finish();
}
