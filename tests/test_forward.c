/* Forward values of every op in autograd/ops.h against closed forms or naive loops, in f32 and f64.
 * Inputs are chosen exactly representable in f32 so both dtypes see the same arguments; the tolerance is per dtype. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "vae.h"

static double rtol_of(vae_dtype dt) {
    return dt == VAE_F32 ? 3e-6 : 1e-13;
}
static double atol_of(vae_dtype dt) {
    return dt == VAE_F32 ? 1e-6 : 1e-14;
}

/* One check: t has n elements and each matches want[i] (NaN matches NaN, inf matches the same inf). */
static void expect_vals(const vae_tensor *t, int64_t n, const double *want, double atol,
                        double rtol, const char *what) {
    if (!t) {
        CHECK_MSG(t != NULL, "%s: got NULL", what);
        return;
    }
    if (vae_numel(t) != n) {
        CHECK_MSG(vae_numel(t) == n, "%s: numel %lld != %lld", what, (long long)vae_numel(t),
                  (long long)n);
        return;
    }
    for (int64_t i = 0; i < n; i++) {
        double g = vae_get_flat(t, i), w = want[i];
        int ok =
            (isnan(w) && isnan(g)) || (isinf(w) && g == w) || fabs(g - w) <= atol + rtol * fabs(w);
        if (!ok) {
            CHECK_MSG(ok, "%s: element %lld is %.10g, want %.10g", what, (long long)i, g, w);
            return;
        }
    }
    CHECK(1);
}

static void expect_shape(const vae_tensor *t, int nd, const int64_t *sh, const char *what) {
    int ok = t && t->ndim == nd;
    for (int i = 0; ok && i < nd; i++) ok = t->shape[i] == sh[i];
    CHECK_MSG(ok, "%s: wrong shape", what);
}

static vae_tensor *from(vae_ctx *c, vae_dtype dt, int nd, const int64_t *sh, const double *v) {
    return vae_from_data(c, dt, nd, sh, VAE_F64, v);
}

/* ---- unary ---- */

typedef vae_tensor *(*unary_op)(vae_ctx *, vae_tensor *);
static vae_tensor *op_elu(vae_ctx *c, vae_tensor *x) {
    return vae_elu(c, x, 0.5);
}
static vae_tensor *op_leaky(vae_ctx *c, vae_tensor *x) {
    return vae_leaky_relu(c, x, 0.125);
}
static vae_tensor *op_adds(vae_ctx *c, vae_tensor *x) {
    return vae_add_scalar(c, x, 1.5);
}
static vae_tensor *op_muls(vae_ctx *c, vae_tensor *x) {
    return vae_mul_scalar(c, x, -2.0);
}
static vae_tensor *op_pow25(vae_ctx *c, vae_tensor *x) {
    return vae_pow_scalar(c, x, 2.5);
}
static vae_tensor *op_pow2(vae_ctx *c, vae_tensor *x) {
    return vae_pow_scalar(c, x, 2.0);
}
static vae_tensor *op_clamp(vae_ctx *c, vae_tensor *x) {
    return vae_clamp(c, x, -0.5, 1.0);
}

static double r_neg(double v) {
    return -v;
}
static double r_square(double v) {
    return v * v;
}
static double r_sigmoid(double v) {
    return 1 / (1 + exp(-v));
}
static double r_relu(double v) {
    return v > 0 ? v : 0;
}
static double r_softplus(double v) {
    return log(1 + exp(v));
}
static double r_log_sigmoid(double v) {
    return -log(1 + exp(-v));
}
static double r_elu(double v) {
    return v > 0 ? v : 0.5 * (exp(v) - 1);
}
static double r_leaky(double v) {
    return v > 0 ? v : 0.125 * v;
}
static double r_adds(double v) {
    return v + 1.5;
}
static double r_muls(double v) {
    return v * -2.0;
}
static double r_pow25(double v) {
    return pow(v, 2.5);
}
static double r_pow2(double v) {
    return v * v;
}
static double r_clamp(double v) {
    return v < -0.5 ? -0.5 : (v > 1 ? 1 : v);
}

typedef struct urow {
    const char *name;
    unary_op op;
    double (*ref)(double);
    int positive; /* domain needs x > 0 */
} urow;

static const urow unary_rows[] = {
    {"neg", vae_neg, r_neg, 0},
    {"exp", vae_exp, exp, 0},
    {"log", vae_log, log, 1},
    {"log1p", vae_log1p, log1p, 0},
    {"expm1", vae_expm1, expm1, 0},
    {"sqrt", vae_sqrt, sqrt, 1},
    {"square", vae_square, r_square, 0},
    {"abs", vae_abs, fabs, 0},
    {"tanh", vae_tanh, tanh, 0},
    {"sigmoid", vae_sigmoid, r_sigmoid, 0},
    {"relu", vae_relu, r_relu, 0},
    {"softplus", vae_softplus, r_softplus, 0},
    {"log_sigmoid", vae_log_sigmoid, r_log_sigmoid, 0},
    {"elu", op_elu, r_elu, 0},
    {"leaky_relu", op_leaky, r_leaky, 0},
    {"add_scalar", op_adds, r_adds, 0},
    {"mul_scalar", op_muls, r_muls, 0},
    {"pow_scalar 2.5", op_pow25, r_pow25, 1},
    {"pow_scalar 2", op_pow2, r_pow2, 0},
    {"clamp", op_clamp, r_clamp, 0},
};

static void test_unary(vae_ctx *c, vae_dtype dt) {
    /* (2,3), read both contiguously and through a transpose (a strided input) */
    static const double any[6] = {-2, -0.75, 0, 0.25, 1.75, 3};
    static const double pos[6] = {0.125, 0.5, 1, 1.5, 2.25, 7};
    for (size_t r = 0; r < sizeof unary_rows / sizeof unary_rows[0]; r++) {
        const urow *R = &unary_rows[r];
        const double *in = R->positive ? pos : any;
        char what[96];
        vae_tensor *x = from(c, dt, VAE_SHAPE(2, 3), in);
        double want[6], wantT[6];
        for (int i = 0; i < 6; i++) want[i] = R->ref(in[i]);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 2; j++) wantT[i * 2 + j] = want[j * 3 + i];
        snprintf(what, sizeof what, "%s %s", R->name, vae_dtype_name(dt));
        expect_vals(R->op(c, x), 6, want, atol_of(dt), rtol_of(dt), what);
        snprintf(what, sizeof what, "%s %s transposed", R->name, vae_dtype_name(dt));
        expect_vals(R->op(c, vae_transpose(c, x, 0, 1)), 6, wantT, atol_of(dt), rtol_of(dt), what);
    }
    /* stability edge cases: no overflow, no NaN, tiny values keep their relative accuracy */
    double ex[4] = {100, -100, 50, -50};
    vae_tensor *x = from(c, dt, VAE_SHAPE(4), ex);
    vae_requires_grad(c, x, 1);
    double sp[4] = {100, 3.720075976020836e-44, 50, 1.9287498479639178e-22};
    double ls[4] = {-3.720075976020836e-44, -100, -1.9287498479639178e-22, -50};
    double sg[4] = {1, 3.720075976020836e-44, 1, 1.9287498479639178e-22};
    vae_tensor *ysp = vae_softplus(c, x), *yls = vae_log_sigmoid(c, x), *ysg = vae_sigmoid(c, x);
    /* f32 keeps exp(-100) only as a denormal: check it absolutely there */
    double tiny_atol = dt == VAE_F32 ? 1e-44 : 1e-300;
    expect_vals(ysp, 4, sp, tiny_atol, rtol_of(dt), "softplus(+-100, +-50)");
    expect_vals(yls, 4, ls, tiny_atol, rtol_of(dt), "log_sigmoid(+-100, +-50)");
    expect_vals(ysg, 4, sg, tiny_atol, rtol_of(dt), "sigmoid(+-100, +-50)");
    vae_tensor *L = vae_sum_all(c, vae_add(c, vae_add(c, ysp, yls), ysg));
    CHECK(vae_backward(c, L) == VAE_OK);
    /* d/dx [softplus + log_sigmoid + sigmoid] = sigmoid(x) + sigmoid(-x) + sigmoid'(x) = 1 + s(1-s) */
    double gw[4];
    for (int i = 0; i < 4; i++) gw[i] = 1 + sg[i] * (1 - sg[i]);
    expect_vals(x->grad, 4, gw, atol_of(dt), rtol_of(dt), "gradient at +-100 is finite and exact");
    vae_ctx_reset(c);
    /* domain edges give the IEEE answers, not crashes */
    double dom[3] = {-1, 0, -1};
    vae_tensor *d = from(c, dt, VAE_SHAPE(3), dom);
    expect_vals(vae_log(c, d), 3, (double[]){NAN, -INFINITY, NAN}, 0, 0, "log of -1, 0");
    expect_vals(vae_sqrt(c, d), 3, (double[]){NAN, 0, NAN}, 0, 0, "sqrt of -1, 0");
    expect_vals(vae_log1p(c, d), 3, (double[]){-INFINITY, 0, -INFINITY}, 0, 0, "log1p(-1)");
}

/* ---- binary and where ---- */

static void test_binary(vae_ctx *c, vae_dtype dt) {
    double av[3] = {1, -2, 4}, bv[4] = {0.5, 1, -3, 8};
    vae_tensor *a = from(c, dt, VAE_SHAPE(3, 1), av), *b = from(c, dt, VAE_SHAPE(4), bv);
    double w_add[12], w_sub[12], w_mul[12], w_div[12], w_max[12], w_min[12];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++) {
            double x = av[i], y = bv[j];
            w_add[i * 4 + j] = x + y;
            w_sub[i * 4 + j] = x - y;
            w_mul[i * 4 + j] = x * y;
            w_div[i * 4 + j] = x / y;
            w_max[i * 4 + j] = x > y ? x : y;
            w_min[i * 4 + j] = x < y ? x : y;
        }
    vae_tensor *y = vae_add(c, a, b);
    expect_shape(y, VAE_SHAPE(3, 4), "(3,1)+(4,) shape");
    expect_vals(y, 12, w_add, atol_of(dt), rtol_of(dt), "(3,1)+(4,)");
    expect_vals(vae_sub(c, a, b), 12, w_sub, atol_of(dt), rtol_of(dt), "(3,1)-(4,)");
    expect_vals(vae_mul(c, a, b), 12, w_mul, atol_of(dt), rtol_of(dt), "(3,1)*(4,)");
    expect_vals(vae_div(c, a, b), 12, w_div, atol_of(dt), rtol_of(dt), "(3,1)/(4,)");
    expect_vals(vae_maximum(c, a, b), 12, w_max, atol_of(dt), rtol_of(dt), "maximum (3,1),(4,)");
    expect_vals(vae_minimum(c, a, b), 12, w_min, atol_of(dt), rtol_of(dt), "minimum (3,1),(4,)");
    /* reversed operand order broadcasts the same way */
    vae_tensor *yr = vae_sub(c, b, a);
    double w_rsub[12];
    for (int i = 0; i < 12; i++) w_rsub[i] = -w_sub[i];
    expect_vals(yr, 12, w_rsub, atol_of(dt), rtol_of(dt), "(4,)-(3,1)");

    /* (2,1,4) * (3,1) -> (2,3,4) */
    double p[8], q[3] = {1, -1, 0.5}, w[24];
    for (int i = 0; i < 8; i++) p[i] = i * 0.25 - 1;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++) w[(i * 3 + j) * 4 + k] = p[i * 4 + k] * q[j];
    vae_tensor *P = from(c, dt, VAE_SHAPE(2, 1, 4), p), *Q = from(c, dt, VAE_SHAPE(3, 1), q);
    y = vae_mul(c, P, Q);
    expect_shape(y, VAE_SHAPE(2, 3, 4), "(2,1,4)*(3,1) shape");
    expect_vals(y, 24, w, atol_of(dt), rtol_of(dt), "(2,1,4)*(3,1)");
    /* a 0-d operand and a transposed operand */
    vae_tensor *s = vae_scalar(c, dt, 2);
    double m[6] = {1, 2, 3, 4, 5, 6}, wt[6] = {3, 6, 4, 7, 5, 8}; /* m^T + 2 */
    vae_tensor *M = from(c, dt, VAE_SHAPE(2, 3), m);
    expect_vals(vae_add(c, vae_transpose(c, M, 0, 1), s), 6, wt, atol_of(dt), rtol_of(dt),
                "M^T + scalar");
    /* maximum/minimum ties keep the value */
    double t1[2] = {1, 2}, t2[2] = {1, 3};
    vae_tensor *T1 = from(c, dt, VAE_SHAPE(2), t1), *T2 = from(c, dt, VAE_SHAPE(2), t2);
    expect_vals(vae_maximum(c, T1, T2), 2, (double[]){1, 3}, 0, 0, "maximum ties");

    /* where with a (3,1) mask, (1,4) a and 0-d b */
    double mk[3] = {1, 0, 1}, ar[4] = {10, 11, 12, 13}, wwh[12];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++) wwh[i * 4 + j] = mk[i] != 0 ? ar[j] : -1;
    vae_tensor *MK = from(c, dt, VAE_SHAPE(3, 1), mk), *A = from(c, dt, VAE_SHAPE(1, 4), ar);
    y = vae_where(c, MK, A, vae_scalar(c, dt, -1));
    expect_shape(y, VAE_SHAPE(3, 4), "where shape");
    expect_vals(y, 12, wwh, 0, 0, "where broadcast");
}

/* ---- reductions ---- */

/* naive reduction of a (2,3,4) array over the axes in mask, keepdim layout */
static void naive_reduce(const double *x, unsigned mask, int kind, double *out, int64_t *nout) {
    int64_t sh[3] = {2, 3, 4}, os[3];
    for (int d = 0; d < 3; d++) os[d] = (mask >> d & 1u) ? 1 : sh[d];
    int64_t n = os[0] * os[1] * os[2], cnt = 24 / n;
    for (int64_t o = 0; o < n; o++) out[o] = kind == 2 ? -INFINITY : 0;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++) {
                int64_t ii = os[0] == 1 ? 0 : i, jj = os[1] == 1 ? 0 : j, kk = os[2] == 1 ? 0 : k;
                int64_t o = (ii * os[1] + jj) * os[2] + kk;
                double v = x[(i * 3 + j) * 4 + k];
                if (kind == 2)
                    out[o] = v > out[o] ? v : out[o];
                else if (kind == 3)
                    out[o] += exp(v);
                else
                    out[o] += v;
            }
    for (int64_t o = 0; o < n; o++) {
        if (kind == 1) out[o] /= (double)cnt;
        if (kind == 3) out[o] = log(out[o]);
    }
    *nout = n;
}

static void test_reduce(vae_ctx *c, vae_dtype dt) {
    double xv[24];
    for (int i = 0; i < 24; i++) xv[i] = ((i * 7) % 24) * 0.25 - 2.5; /* distinct, unordered */
    vae_tensor *x = from(c, dt, VAE_SHAPE(2, 3, 4), xv);
    typedef vae_tensor *(*red)(vae_ctx *, vae_tensor *, int, const int *, int);
    red fns[4] = {vae_sum, vae_mean, vae_max, vae_logsumexp};
    const char *names[4] = {"sum", "mean", "max", "logsumexp"};
    struct {
        int n;
        int axes[3];
        unsigned mask;
    } sets[] = {
        {1, {1}, 2u},     {1, {-1}, 4u},      {2, {0, 2}, 5u},
        {2, {-1, 0}, 5u}, {3, {0, 1, 2}, 7u}, {0, {0}, 7u},
    };
    for (int k = 0; k < 4; k++)
        for (size_t s = 0; s < sizeof sets / sizeof sets[0]; s++)
            for (int keep = 0; keep < 2; keep++) {
                double want[24];
                int64_t n;
                naive_reduce(xv, sets[s].mask, k, want, &n);
                vae_tensor *y = fns[k](c, x, sets[s].n, sets[s].axes, keep);
                char what[96];
                snprintf(what, sizeof what, "%s set %zu keepdim %d %s", names[k], s, keep,
                         vae_dtype_name(dt));
                expect_vals(y, n, want, atol_of(dt) * 10, rtol_of(dt), what);
                int nd = 0;
                int64_t sh[3], full[3] = {2, 3, 4};
                for (int d = 0; d < 3; d++)
                    if (keep || !(sets[s].mask >> d & 1u))
                        sh[nd++] = (sets[s].mask >> d & 1u) ? 1 : full[d];
                expect_shape(y, nd, sh, what);
            }
    /* the shorthands and a strided input */
    double w1[8];
    int64_t n1;
    naive_reduce(xv, 2u, 1, w1, &n1);
    expect_vals(vae_mean_axis(c, x, 1, 0), n1, w1, atol_of(dt), rtol_of(dt), "mean_axis");
    naive_reduce(xv, 2u, 0, w1, &n1);
    expect_vals(vae_sum_axis(c, x, -2, 1), n1, w1, atol_of(dt), rtol_of(dt), "sum_axis -2");
    vae_tensor *xp =
        vae_permute(c, x, (int[]){2, 0, 1}); /* (4,2,3): sum over its axis 2 = x's axis 1 */
    double wp[8];
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < 2; i++) wp[k * 2 + i] = w1[i * 4 + k];
    expect_vals(vae_sum_axis(c, xp, 2, 0), 8, wp, atol_of(dt), rtol_of(dt),
                "sum over a permuted input");
    double tot = 0;
    for (int i = 0; i < 24; i++) tot += xv[i];
    vae_tensor *all = vae_sum_all(c, x);
    CHECK(all && all->ndim == 0);
    CHECK_NEAR(vae_item(all), tot, atol_of(dt) * 10, rtol_of(dt));

    /* max: ties send the gradient to the FIRST maximum */
    double mv[6] = {1, 3, 3, 2, 2, 0};
    vae_tensor *m = from(c, dt, VAE_SHAPE(2, 3), mv);
    vae_requires_grad(c, m, 1);
    vae_tensor *mx = vae_max(c, m, 1, (int[]){1}, 0);
    expect_vals(mx, 2, (double[]){3, 2}, 0, 0, "max with ties");
    CHECK(vae_backward(c, vae_sum_all(c, mx)) == VAE_OK);
    expect_vals(m->grad, 6, (double[]){0, 1, 0, 1, 0, 0}, 0, 0,
                "max gradient to the first arg-max");
    vae_ctx_reset(c);

    /* logsumexp: huge values, an all -inf row (-inf, gradient 0) and a row with one -inf */
    double lv[6] = {1000, 1000, 999, -INFINITY, -INFINITY, -INFINITY};
    double lv2[3] = {-INFINITY, 0, 0};
    vae_tensor *l = from(c, dt, VAE_SHAPE(2, 3), lv), *l2 = from(c, dt, VAE_SHAPE(1, 3), lv2);
    vae_requires_grad(c, l, 1);
    vae_requires_grad(c, l2, 1);
    vae_tensor *ly = vae_logsumexp(c, l, 1, (int[]){1}, 0),
               *ly2 = vae_logsumexp(c, l2, 1, (int[]){-1}, 1);
    double big = 1000 + log(2 + exp(-1.0));
    expect_vals(ly, 2, (double[]){big, -INFINITY}, 0, dt == VAE_F32 ? 1e-6 : 1e-14,
                "logsumexp huge / all -inf");
    expect_vals(ly2, 1, (double[]){log(2.0)}, atol_of(dt), rtol_of(dt),
                "logsumexp with a -inf entry");
    /* the loss is finite only for finite rows: seed the -inf row's gradient with 1 explicitly */
    vae_tensor *both = vae_concat(c, 2, (vae_tensor *[]){ly, vae_reshape(c, ly2, VAE_SHAPE(1))}, 0);
    CHECK(vae_backward_seeded(c, both, vae_ones(c, dt, VAE_SHAPE(3))) == VAE_OK);
    double e1 = exp(-1.0), z = 2 + e1;
    expect_vals(l->grad, 6, (double[]){1 / z, 1 / z, e1 / z, 0, 0, 0}, atol_of(dt), rtol_of(dt),
                "logsumexp gradient: softmax, 0 (finite) for the all -inf row");
    expect_vals(l2->grad, 3, (double[]){0, 0.5, 0.5}, atol_of(dt), rtol_of(dt),
                "logsumexp grad with -inf");
    vae_ctx_reset(c);
}

/* ---- matmul ---- */

static void naive_mm(const vae_tensor *a, const vae_tensor *b, int64_t M, int64_t K, int64_t N,
                     double *out) {
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double s = 0;
            for (int64_t k = 0; k < K; k++)
                s += vae_get(a, (int64_t[]){i, k}) * vae_get(b, (int64_t[]){k, j});
            out[i * N + j] = s;
        }
}

static void fill_rand(vae_rng *r, double *v, int64_t n, vae_dtype dt) {
    for (int64_t i = 0; i < n; i++) {
        v[i] = 2 * vae_rng_uniform(r) - 1;
        if (dt == VAE_F32) v[i] = (float)v[i];
    }
}

static void test_matmul(vae_ctx *c, vae_dtype dt) {
    vae_rng r;
    vae_rng_seed(&r, 11);
    double av[60], bv[60], want[60], got_tol = dt == VAE_F32 ? 1e-5 : 1e-13;
    fill_rand(&r, av, 60, dt);
    fill_rand(&r, bv, 60, dt);
    /* 2-D */
    vae_tensor *a = from(c, dt, VAE_SHAPE(3, 4), av), *b = from(c, dt, VAE_SHAPE(4, 5), bv);
    naive_mm(a, b, 3, 4, 5, want);
    vae_tensor *y = vae_matmul(c, a, b);
    expect_shape(y, VAE_SHAPE(3, 5), "matmul 2-D shape");
    expect_vals(y, 15, want, got_tol, got_tol, "matmul 2-D");
    /* transposed A (stored (4,3)) and a strided B (every other column of (4,10)) */
    vae_tensor *at = vae_transpose(c, from(c, dt, VAE_SHAPE(4, 3), av), 0, 1);
    vae_tensor *bs = vae_slice(c, from(c, dt, VAE_SHAPE(4, 10), bv), 1, 1, 10, 2);
    naive_mm(at, bs, 3, 4, 5, want);
    expect_vals(vae_matmul(c, at, bs), 15, want, got_tol, got_tol, "matmul A^T x strided B");
    /* a (1,4) row times a B^T view */
    vae_tensor *row = vae_slice(c, a, 0, 1, 2, 1);
    vae_tensor *bt = vae_transpose(c, from(c, dt, VAE_SHAPE(5, 4), bv), -1, -2);
    naive_mm(row, bt, 1, 4, 5, want);
    expect_vals(vae_matmul(c, row, bt), 5, want, got_tol, got_tol, "matmul row x B^T");
    /* batched with a shared B: (2,3,4) x (4,5) */
    vae_tensor *A3 = from(c, dt, VAE_SHAPE(2, 3, 4), av);
    y = vae_matmul(c, A3, b);
    expect_shape(y, VAE_SHAPE(2, 3, 5), "batched shape");
    for (int t = 0; t < 2; t++) {
        vae_tensor *at2 = vae_squeeze(c, vae_slice(c, A3, 0, t, t + 1, 1), 0);
        naive_mm(at2, b, 3, 4, 5, want);
        expect_vals(vae_squeeze(c, vae_slice(c, y, 0, t, t + 1, 1), 0), 15, want, got_tol, got_tol,
                    "batched, shared B");
    }
    /* broadcast leading dims on both sides: (2,1,3,4) x (3,4,2) -> (2,3,3,2), B transposed in storage */
    vae_tensor *A4 = from(c, dt, VAE_SHAPE(2, 1, 3, 4), av);
    vae_tensor *B3 = vae_transpose(c, from(c, dt, VAE_SHAPE(3, 2, 4), bv), 1, 2);
    y = vae_matmul(c, A4, B3);
    expect_shape(y, VAE_SHAPE(2, 3, 3, 2), "broadcast batch shape");
    int ok = y != NULL;
    for (int i = 0; ok && i < 2; i++)
        for (int j = 0; ok && j < 3; j++)
            for (int m = 0; m < 3; m++)
                for (int n = 0; n < 2; n++) {
                    double s = 0;
                    for (int k = 0; k < 4; k++)
                        s += vae_get(A4, (int64_t[]){i, 0, m, k}) *
                             vae_get(B3, (int64_t[]){j, k, n});
                    double g = vae_get(y, (int64_t[]){i, j, m, n});
                    if (fabs(g - s) > got_tol * (1 + fabs(s))) ok = 0;
                }
    CHECK_MSG(ok, "matmul with broadcast batch dims %s", vae_dtype_name(dt));
    /* K = 0 gives zeros */
    y = vae_matmul(c, vae_zeros(c, dt, VAE_SHAPE(2, 0)), vae_zeros(c, dt, VAE_SHAPE(0, 3)));
    expect_vals(y, 6, (double[]){0, 0, 0, 0, 0, 0}, 0, 0, "matmul with K = 0");
}

/* ---- movement, creation, cast ---- */

static void test_join(vae_ctx *c, vae_dtype dt) {
    double av[6] = {1, 2, 3, 4, 5, 6}, bv[2] = {7, 8}, cv[3] = {9, 10, 11};
    vae_tensor *a = from(c, dt, VAE_SHAPE(2, 3), av), *b = from(c, dt, VAE_SHAPE(2, 1), bv);
    vae_tensor *r = from(c, dt, VAE_SHAPE(1, 3), cv);
    vae_tensor *y = vae_concat(c, 2, (vae_tensor *[]){a, b}, 1);
    expect_shape(y, VAE_SHAPE(2, 4), "concat axis 1 shape");
    expect_vals(y, 8, (double[]){1, 2, 3, 7, 4, 5, 6, 8}, 0, 0, "concat axis 1");
    y = vae_concat(c, 3, (vae_tensor *[]){r, a, r}, -2);
    expect_shape(y, VAE_SHAPE(4, 3), "concat axis -2 shape");
    expect_vals(y, 12, (double[]){9, 10, 11, 1, 2, 3, 4, 5, 6, 9, 10, 11}, 0, 0, "concat axis 0");
    /* a transposed part */
    y = vae_concat(c, 2, (vae_tensor *[]){vae_transpose(c, a, 0, 1), vae_transpose(c, r, 0, 1)}, 1);
    expect_vals(y, 9, (double[]){1, 4, 9, 2, 5, 10, 3, 6, 11}, 0, 0, "concat of transposed views");
    vae_tensor *a2 = vae_mul_scalar(c, a, 10);
    y = vae_stack(c, 2, (vae_tensor *[]){a, a2}, 0);
    expect_shape(y, VAE_SHAPE(2, 2, 3), "stack axis 0 shape");
    expect_vals(y, 12, (double[]){1, 2, 3, 4, 5, 6, 10, 20, 30, 40, 50, 60}, 0, 0, "stack axis 0");
    y = vae_stack(c, 2, (vae_tensor *[]){a, a2}, 1);
    expect_shape(y, VAE_SHAPE(2, 2, 3), "stack axis 1 shape");
    expect_vals(y, 12, (double[]){1, 2, 3, 10, 20, 30, 4, 5, 6, 40, 50, 60}, 0, 0, "stack axis 1");
    y = vae_stack(c, 2, (vae_tensor *[]){a, a2}, -1);
    expect_shape(y, VAE_SHAPE(2, 3, 2), "stack axis -1 shape");
    expect_vals(y, 12, (double[]){1, 10, 2, 20, 3, 30, 4, 40, 5, 50, 6, 60}, 0, 0, "stack axis 2");
}

static void test_create(vae_ctx *c, vae_dtype dt) {
    expect_vals(vae_arange(c, dt, 0, 5, 1), 5, (double[]){0, 1, 2, 3, 4}, 0, 0, "arange(0,5,1)");
    expect_vals(vae_arange(c, dt, 1, 0, -0.25), 4, (double[]){1, 0.75, 0.5, 0.25}, 0, 0,
                "arange step -1/4");
    expect_vals(vae_arange(c, dt, 0, 1, 0.375), 3, (double[]){0, 0.375, 0.75}, 0, 0,
                "arange(0,1,.375)");
    vae_tensor *e = vae_arange(c, dt, 3, 1, 1);
    CHECK(e && vae_numel(e) == 0);
    vae_tensor *f = vae_full(c, dt, VAE_SHAPE(2, 2), -1.5);
    expect_vals(f, 4, (double[]){-1.5, -1.5, -1.5, -1.5}, 0, 0, "full");
    expect_vals(vae_zeros(c, dt, VAE_SHAPE(3)), 3, (double[]){0, 0, 0}, 0, 0, "zeros");
    expect_vals(vae_ones(c, dt, VAE_SHAPE(1, 2)), 2, (double[]){1, 1}, 0, 0, "ones");
    vae_tensor *s = vae_scalar(c, dt, 2.5);
    CHECK(s && s->ndim == 0 && vae_item(s) == 2.5 && s->dtype == dt);
    CHECK(f && f->dtype == dt && vae_is_contiguous(f) && f->root == f &&
          !(f->flags & VAE_TF_REQUIRES_GRAD));
    float src32[3] = {0.5f, -1.25f, 3.0f};
    double src64[3] = {0.1, 0.2, 0.3};
    expect_vals(vae_from_data(c, dt, VAE_SHAPE(3), VAE_F32, src32), 3, (double[]){0.5, -1.25, 3}, 0,
                0, "from_data from f32");
    double want64[3] = {0.1, 0.2, 0.3};
    if (dt == VAE_F32)
        for (int i = 0; i < 3; i++) want64[i] = (float)want64[i];
    expect_vals(vae_from_data(c, dt, VAE_SHAPE(3), VAE_F64, src64), 3, want64, 0, 0,
                "from_data from f64");
    /* wrap: the caller's buffer, not a copy */
    double buf64[4] = {1, 2, 3, 4};
    float buf32[4] = {1, 2, 3, 4};
    void *buf = dt == VAE_F64 ? (void *)buf64 : (void *)buf32;
    vae_tensor *w = vae_wrap(c, dt, VAE_SHAPE(2, 2), buf);
    CHECK(w && w->data == buf && (w->flags & VAE_TF_CALLER));
    if (dt == VAE_F64)
        buf64[3] = 9;
    else
        buf32[3] = 9;
    CHECK(w && vae_get_flat(w, 3) == 9);
    /* cast both ways */
    double third = 1.0 / 3.0;
    vae_tensor *t = vae_full(c, dt, VAE_SHAPE(2), third);
    vae_dtype other = dt == VAE_F32 ? VAE_F64 : VAE_F32;
    vae_tensor *tc = vae_cast(c, t, other);
    CHECK(tc && tc->dtype == other && tc != t);
    CHECK(tc && vae_get_flat(tc, 1) == (double)(float)third);
    CHECK(vae_cast(c, t, dt) == t);
    vae_tensor *back = vae_cast(
        c, vae_cast(c, vae_transpose(c, vae_ones(c, dt, VAE_SHAPE(2, 3)), 0, 1), other), dt);
    CHECK(back && back->dtype == dt && back->shape[0] == 3 && vae_get_flat(back, 5) == 1);
}

static void test_random(vae_ctx *c, vae_dtype dt) {
    const int64_t n = 200000;
    vae_ctx_seed(c, 123);
    vae_tensor *z = vae_randn(c, dt, VAE_SHAPE(n));
    vae_tensor *u = vae_rand(c, dt, VAE_SHAPE(n / 2, 2));
    vae_tensor *p = vae_full(c, dt, VAE_SHAPE(n), 0.3);
    vae_tensor *bb = vae_bernoulli(c, p);
    CHECK(z && u && bb && z->dtype == dt && u->dtype == dt && bb->dtype == dt);
    if (!z || !u || !bb) return;
    double sz = 0, szz = 0, su = 0, suu = 0, sb = 0, umin = 1, umax = 0;
    int binary = 1;
    for (int64_t i = 0; i < n; i++) {
        double a = vae_get_flat(z, i), v = vae_get_flat(u, i), b = vae_get_flat(bb, i);
        sz += a;
        szz += a * a;
        su += v;
        suu += v * v;
        sb += b;
        umin = v < umin ? v : umin;
        umax = v > umax ? v : umax;
        if (b != 0 && b != 1) binary = 0;
    }
    double mz = sz / n, vz = szz / n - mz * mz, mu = su / n, vu = suu / n - mu * mu, fb = sb / n;
    CHECK_NEAR(mz, 0, 4 / sqrt((double)n), 0);
    CHECK_NEAR(vz, 1, 4 * sqrt(2.0 / n), 0);
    CHECK_NEAR(mu, 0.5, 4 * sqrt(1.0 / 12 / n), 0);
    CHECK_NEAR(vu, 1.0 / 12, 4 * sqrt(1.0 / 180 / n),
               0); /* se of a sample variance: sqrt((mu4 - s^4)/n), 1/80 - 1/144 = 1/180 */
    CHECK_NEAR(fb, 0.3, 4 * sqrt(0.3 * 0.7 / n), 0);
    CHECK(umin >= 0 && umax < 1 && binary);
    /* the same seed replays the same draws */
    double first = vae_get_flat(z, 0);
    vae_ctx_seed(c, 123);
    vae_tensor *z2 = vae_randn(c, dt, VAE_SHAPE(1));
    CHECK(z2 && vae_get_flat(z2, 0) == first);
    /* bernoulli with p = 0 and 1 is deterministic */
    vae_tensor *pp = from(c, dt, VAE_SHAPE(4), (double[]){0, 1, 0, 1});
    expect_vals(vae_bernoulli(c, pp), 4, (double[]){0, 1, 0, 1}, 0, 0, "bernoulli p in {0,1}");
}

int main(void) {
    vae_ctx *c = vae_ctx_new(0);
    CHECK(c != NULL);
    if (!c) return test_finish();
    for (int d = 0; d < 2; d++) {
        vae_dtype dt = d ? VAE_F64 : VAE_F32;
        void (*groups[])(vae_ctx *, vae_dtype) = {test_unary, test_binary, test_reduce, test_matmul,
                                                  test_join,  test_create, test_random};
        for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
            vae_ctx_reset(c);
            groups[g](c, dt);
            CHECK_MSG(vae_ctx_status(c) == VAE_OK, "group %zu %s left an error: %s", g,
                      vae_dtype_name(dt), vae_ctx_message(c));
            vae_ctx_clear_error(c);
        }
    }
    vae_ctx_free(c);
    return test_finish();
}
