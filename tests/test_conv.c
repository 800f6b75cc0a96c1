/* conv2d and conv_transpose2d: forward values and gradients against PyTorch (tests/reference/conv.txt, from
 * make_conv.py), gradcheck over strides, paddings, batch, channels, odd sizes and leading dims, strided inputs,
 * blocks of images, the definition's loops on images small and large (the kernels' fast paths and their row
 * loops) with the forward's kept im2col matrix and a recomputed one, bit-identical results for 1 and 2 threads,
 * and the error messages. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/kernels.h"
#include "test.h"
#include "vae.h"

#define REF_PATH "tests/reference/conv.txt"

/* ---- the PyTorch references ---- */

typedef struct arr {
    char name[8];
    int ndim;
    int64_t shape[VAE_MAX_DIMS];
    int64_t n;
    double *v;
} arr;

typedef struct refcase {
    char op[16], name[32];
    int s, p, op_pad;
    int narr;
    arr a[8];
} refcase;

static const arr *find(const refcase *c, const char *name) {
    for (int i = 0; i < c->narr; i++)
        if (!strcmp(c->a[i].name, name)) return &c->a[i];
    return NULL;
}

static void case_free(refcase *c) {
    for (int i = 0; i < c->narr; i++) free(c->a[i].v);
    c->narr = 0;
}

/* One "case ... end" record; 0 at the end of the file or on a malformed record (counted as a failure). */
static int read_case(FILE *f, refcase *c) {
    char tok[64];
    memset(c, 0, sizeof *c);
    while (fscanf(f, "%63s", tok) == 1) {
        if (tok[0] == '#') { /* comment line */
            int ch;
            while ((ch = fgetc(f)) != EOF && ch != '\n') {
            }
            continue;
        }
        if (strcmp(tok, "case") != 0) break;
        if (fscanf(f, "%15s %31s %d %d %d", c->op, c->name, &c->s, &c->p, &c->op_pad) != 5) break;
        while (fscanf(f, "%63s", tok) == 1 && strcmp(tok, "end") != 0) {
            if (c->narr == 8) return 0;
            arr *a = &c->a[c->narr++];
            snprintf(a->name, sizeof a->name, "%.7s", tok);
            if (fscanf(f, "%d", &a->ndim) != 1 || a->ndim < 0 || a->ndim > VAE_MAX_DIMS) return 0;
            a->n = 1;
            for (int d = 0; d < a->ndim; d++) {
                long long v;
                if (fscanf(f, "%lld", &v) != 1) return 0;
                a->shape[d] = v;
                a->n *= v;
            }
            a->v = malloc(sizeof(double) * (size_t)a->n);
            for (int64_t i = 0; i < a->n; i++)
                if (fscanf(f, "%lf", &a->v[i]) != 1) return 0;
        }
        return 1;
    }
    return 0;
}

static vae_tensor *from_arr(vae_ctx *ctx, vae_dtype dt, const arr *a, int grad) {
    if (!a) return NULL;
    vae_tensor *t = vae_from_data(ctx, dt, a->ndim, a->shape, VAE_F64, a->v);
    if (t && grad) vae_requires_grad(ctx, t, 1);
    return t;
}

/* max |t - ref| / (1 + |ref|) over every element, or 1e30 for a NULL tensor or a shape mismatch */
static double max_err(const vae_tensor *t, const arr *ref) {
    if (!t || !ref || vae_numel(t) != ref->n || t->ndim != ref->ndim) return 1e30;
    double e = 0;
    for (int64_t i = 0; i < ref->n; i++) {
        double d = fabs(vae_get_flat(t, i) - ref->v[i]) / (1 + fabs(ref->v[i]));
        if (!(d <= e)) e = d;
    }
    return e;
}

static vae_tensor *apply(vae_ctx *ctx, const refcase *c, vae_tensor *x, vae_tensor *w,
                         vae_tensor *b) {
    return !strcmp(c->op, "conv2d") ? vae_conv2d(ctx, x, w, b, c->s, c->p)
                                    : vae_conv_transpose2d(ctx, x, w, b, c->s, c->p, c->op_pad);
}

/* y and the gradients of sum(r * y) against PyTorch, in dtype dt with tolerance tol. */
static void run_ref(vae_ctx *ctx, const refcase *c, vae_dtype dt, double tol) {
    vae_ctx_reset(ctx);
    vae_ctx_clear_error(ctx);
    vae_tensor *x = from_arr(ctx, dt, find(c, "x"), 1), *w = from_arr(ctx, dt, find(c, "w"), 1);
    vae_tensor *b = from_arr(ctx, dt, find(c, "b"), 1), *r = from_arr(ctx, dt, find(c, "r"), 0);
    vae_tensor *y = apply(ctx, c, x, w, b);
    CHECK_MSG(y != NULL, "%s %s: %s", c->op, c->name, vae_ctx_message(ctx));
    if (!y) return;
    const char *dn = dt == VAE_F64 ? "f64" : "f32";
    double ey = max_err(y, find(c, "y"));
    CHECK_MSG(ey <= tol, "%s %s %s: y differs from PyTorch by %g", c->op, c->name, dn, ey);
    CHECK(vae_backward_seeded(ctx, y, r) == VAE_OK);
    double ex = max_err(x->grad, find(c, "gx")), ew = max_err(w->grad, find(c, "gw"));
    double eb = b ? max_err(b->grad, find(c, "gb")) : 0;
    CHECK_MSG(ex <= tol && ew <= tol && eb <= tol, "%s %s %s: gradients differ by %g %g %g", c->op,
              c->name, dn, ex, ew, eb);
    printf("%-7s %-16s %s: max rel err y %.1e dx %.1e dw %.1e db %.1e\n", c->op, c->name, dn, ey,
           ex, ew, eb);
}

/* The same conv2d case with x read through a permuted (N, H, W, C) buffer: strided input, no copy. */
static void run_ref_strided(vae_ctx *ctx, const refcase *c) {
    const arr *xa = find(c, "x");
    if (strcmp(c->op, "conv2d") || xa->ndim != 4) return;
    vae_ctx_reset(ctx);
    vae_ctx_clear_error(ctx);
    int64_t N = xa->shape[0], C = xa->shape[1], H = xa->shape[2], W = xa->shape[3];
    double *nhwc = malloc(sizeof(double) * (size_t)xa->n);
    for (int64_t n = 0; n < N; n++)
        for (int64_t ch = 0; ch < C; ch++)
            for (int64_t h = 0; h < H; h++)
                for (int64_t w = 0; w < W; w++)
                    nhwc[((n * H + h) * W + w) * C + ch] = xa->v[((n * C + ch) * H + h) * W + w];
    vae_tensor *xs = vae_from_data(ctx, VAE_F64, VAE_SHAPE(N, H, W, C), VAE_F64, nhwc);
    free(nhwc);
    vae_requires_grad(ctx, xs, 1);
    vae_tensor *x = vae_permute(ctx, xs, (int[]){0, 3, 1, 2});
    CHECK(x && (C == 1 || !vae_is_contiguous(x)));
    vae_tensor *y = apply(ctx, c, x, from_arr(ctx, VAE_F64, find(c, "w"), 1),
                          from_arr(ctx, VAE_F64, find(c, "b"), 1));
    CHECK_MSG(max_err(y, find(c, "y")) <= 1e-12, "%s %s: permuted x", c->op, c->name);
    CHECK(vae_backward_seeded(ctx, y, from_arr(ctx, VAE_F64, find(c, "r"), 0)) == VAE_OK);
    CHECK_MSG(max_err(x->grad, find(c, "gx")) <= 1e-12, "%s %s: permuted x's gradient", c->op,
              c->name);
}

static void test_reference(void) {
    const char *root = getenv("VAE_SOURCE_ROOT");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root ? root : ".", REF_PATH);
    FILE *f = fopen(path, "r");
    CHECK_MSG(f != NULL, "cannot open %s (set VAE_SOURCE_ROOT)", path);
    if (!f) return;
    vae_ctx *ctx = vae_ctx_new(0);
    refcase c;
    int ncases = 0, nconvt = 0;
    while (read_case(f, &c)) {
        CHECK_MSG(find(&c, "x") && find(&c, "w") && find(&c, "r") && find(&c, "y"),
                  "case %s lacks an array", c.name);
        run_ref(ctx, &c, VAE_F64, 1e-12);
        run_ref(ctx, &c, VAE_F32, 2e-5);
        run_ref_strided(ctx, &c);
        ncases++;
        nconvt += !strcmp(c.op, "convt");
        case_free(&c);
    }
    case_free(&c);
    fclose(f);
    CHECK_MSG(ncases == 10 && nconvt == 5, "read %d cases (%d transposed); want 10 (5)", ncases,
              nconvt);
    vae_ctx_free(ctx);
}

/* ---- gradcheck ---- */

typedef struct gc_row {
    const char *name;
    int transposed, s, p, op_pad, bias;
    vae_gc_input in[3];
} gc_row;

static vae_tensor *gc_fn(vae_ctx *ctx, vae_tensor *const *x, int n, void *u) {
    const gc_row *r = u;
    vae_tensor *b = n > 2 ? x[2] : NULL;
    return r->transposed ? vae_conv_transpose2d(ctx, x[0], x[1], b, r->s, r->p, r->op_pad)
                         : vae_conv2d(ctx, x[0], x[1], b, r->s, r->p);
}

#define IN(nd, ...)                                                                                \
    { .ndim = nd, .shape = {__VA_ARGS__}, .requires_grad = 1 }
#define INT(nd, ...)                                                                               \
    { .ndim = nd, .shape = {__VA_ARGS__}, .requires_grad = 1, .layout = VAE_GC_TRANSPOSED }

static gc_row gc_rows[] = {
    {"conv s1 p0", 0, 1, 0, 0, 1, {IN(4, 2, 3, 5, 4), IN(4, 2, 3, 3, 3), IN(1, 2)}},
    {"conv s1 p1", 0, 1, 1, 0, 1, {IN(4, 2, 2, 5, 5), IN(4, 3, 2, 3, 3), IN(1, 3)}},
    {"conv s2 p0 odd", 0, 2, 0, 0, 1, {IN(4, 3, 2, 7, 5), IN(4, 2, 2, 3, 2), IN(1, 2)}},
    {"conv s2 p1 k4", 0, 2, 1, 0, 0, {IN(4, 2, 2, 6, 6), IN(4, 3, 2, 4, 4)}},
    {"conv s2 p1 x^T", 0, 2, 1, 0, 1, {INT(4, 2, 2, 5, 6), IN(4, 2, 2, 3, 3), IN(1, 2)}},
    {"conv K,B lead", 0, 1, 1, 0, 1, {IN(5, 2, 2, 2, 4, 3), IN(4, 2, 2, 2, 2), IN(1, 2)}},
    {"convT s1 p0", 1, 1, 0, 0, 1, {IN(4, 2, 3, 3, 4), IN(4, 3, 2, 3, 3), IN(1, 2)}},
    {"convT s1 p1", 1, 1, 1, 0, 1, {IN(4, 2, 2, 4, 3), IN(4, 2, 3, 3, 3), IN(1, 3)}},
    {"convT s2 p0 odd", 1, 2, 0, 1, 1, {IN(4, 3, 2, 3, 2), IN(4, 2, 2, 3, 2), IN(1, 2)}},
    {"convT s2 p1 k4", 1, 2, 1, 0, 0, {IN(4, 2, 3, 3, 3), IN(4, 3, 2, 4, 4)}},
    {"convT s2 p1 op1", 1, 2, 1, 1, 1, {INT(4, 2, 2, 3, 4), IN(4, 2, 2, 3, 3), IN(1, 2)}},
    {"convT K,B lead", 1, 2, 1, 0, 1, {IN(5, 2, 2, 2, 3, 2), IN(4, 2, 2, 4, 4), IN(1, 2)}},
};

static void test_gradcheck(void) {
    vae_rng rng;
    vae_rng_seed(&rng, 11);
    int seen_conv = 0, seen_convt = 0;
    for (size_t r = 0; r < sizeof gc_rows / sizeof gc_rows[0]; r++) {
        gc_row *R = &gc_rows[r];
        int nin = R->bias ? 3 : 2;
        double *bufs[3] = {0};
        for (int i = 0; i < nin; i++) {
            int64_t n = 1;
            for (int d = 0; d < R->in[i].ndim; d++) n *= R->in[i].shape[d];
            bufs[i] = malloc(sizeof(double) * (size_t)n);
            for (int64_t j = 0; j < n; j++) bufs[i][j] = -1 + 2 * vae_rng_uniform(&rng);
            R->in[i].data = bufs[i];
        }
        vae_error err = {0};
        vae_gc_result res;
        vae_status s = vae_gradcheck(gc_fn, R, nin, R->in, 1e-6, 1e-7, 1e-6, &res, &err);
        CHECK_MSG(s == VAE_OK, "gradcheck %s: %s", R->name, err.msg);
        CHECK_MSG(res.checked > 0, "gradcheck %s checked nothing", R->name);
        printf("gradcheck %-16s max|err| %.2e over %lld elements\n", R->name, res.max_abs_err,
               (long long)res.checked);
        seen_conv |= (int)(res.ops[VAE_OP_CONV2D / 64] >> (VAE_OP_CONV2D % 64) & 1u);
        seen_convt |=
            (int)(res.ops[VAE_OP_CONV_TRANSPOSE2D / 64] >> (VAE_OP_CONV_TRANSPOSE2D % 64) & 1u);
        for (int i = 0; i < nin; i++) free(bufs[i]);
    }
    CHECK(seen_conv && seen_convt);
}

/* ---- blocks of images, threads ---- */

/* Fill t (contiguous) with a fixed pattern. */
static void fill(vae_tensor *t, double scale, double phase) {
    for (int64_t i = 0; i < vae_numel(t); i++) vae_set_flat(t, i, scale * sin(0.37 * i + phase));
}

/* ---- against the definition ---- */

/* The definition's loops, f64 contiguous, one tap at a time: conv2d (w (O, C, k, k)) y[n,o,ph,pw] += x[n,c,ih,iw]
 * w[o,c,i,j] at ih = ph*s - p + i, iw = pw*s - p + j; conv_transpose2d (w (C, O, k, k)) is the same sum with x and
 * y swapped (x at the positions, y the image side). With gy given, gx += gy * w and gw += gy * x over the same taps
 * (the adjoint), gb[o] += sum of gy. */
typedef struct naive {
    int64_t N, C, O, k, s, p, H, W, OH, OW; /* x (N, C, H, W), y (N, O, OH, OW) */
    int transposed;
} naive;

static void naive_run(const naive *g, const double *x, const double *w, const double *gy, double *y,
                      double *gx, double *gw) {
    for (int64_t n = 0; n < g->N; n++)
        for (int64_t o = 0; o < g->O; o++)
            for (int64_t c = 0; c < g->C; c++)
                for (int64_t i = 0; i < g->k; i++)
                    for (int64_t j = 0; j < g->k; j++) {
                        double wv = g->transposed ? w[((c * g->O + o) * g->k + i) * g->k + j]
                                                  : w[((o * g->C + c) * g->k + i) * g->k + j];
                        /* positions: y's for conv2d, x's for the transposed conv */
                        int64_t PH = g->transposed ? g->H : g->OH,
                                PW = g->transposed ? g->W : g->OW;
                        int64_t IH = g->transposed ? g->OH : g->H,
                                IW = g->transposed ? g->OW : g->W;
                        for (int64_t ph = 0; ph < PH; ph++)
                            for (int64_t pw = 0; pw < PW; pw++) {
                                int64_t ih = ph * g->s - g->p + i, iw = pw * g->s - g->p + j;
                                if (ih < 0 || ih >= IH || iw < 0 || iw >= IW) continue;
                                int64_t xi = g->transposed
                                                 ? ((n * g->C + c) * g->H + ph) * g->W + pw
                                                 : ((n * g->C + c) * g->H + ih) * g->W + iw;
                                int64_t yi = g->transposed
                                                 ? ((n * g->O + o) * g->OH + ih) * g->OW + iw
                                                 : ((n * g->O + o) * g->OH + ph) * g->OW + pw;
                                y[yi] += x[xi] * wv;
                                gx[xi] += gy[yi] * wv;
                                gw[g->transposed ? ((c * g->O + o) * g->k + i) * g->k + j
                                                 : ((o * g->C + c) * g->k + i) * g->k + j] +=
                                    gy[yi] * x[xi];
                            }
                    }
}

static double maxdiff(const vae_tensor *t, const double *ref) {
    double e = t ? 0 : INFINITY;
    for (int64_t i = 0; t && i < vae_numel(t); i++) e = fmax(e, fabs(vae_get_flat(t, i) - ref[i]));
    return e;
}

/* y, gx, gw, gb of one geometry three ways: autograd (conv2d keeps its im2col matrix for backward), the kernels'
 * gradient called directly (conv2d: im2col recomputed), and the definition. Small images go through the kernels'
 * offset table, large ones (kh*kw*positions > 8192) through their row loops. */
static void check_naive(const naive *g) {
    vae_ctx *ctx = vae_ctx_new(0);
    vae_tensor *x = vae_zeros(ctx, VAE_F64, VAE_SHAPE(g->N, g->C, g->H, g->W));
    vae_tensor *w = g->transposed ? vae_zeros(ctx, VAE_F64, VAE_SHAPE(g->C, g->O, g->k, g->k))
                                  : vae_zeros(ctx, VAE_F64, VAE_SHAPE(g->O, g->C, g->k, g->k));
    vae_tensor *b = vae_zeros(ctx, VAE_F64, VAE_SHAPE(g->O));
    vae_tensor *r = vae_zeros(ctx, VAE_F64, VAE_SHAPE(g->N, g->O, g->OH, g->OW)); /* = dL/dy */
    fill(x, 1, 0.3), fill(w, 0.2, 1.1), fill(b, 0.5, 2.0), fill(r, 1, 0.9);
    vae_tensor *all[3] = {x, w, b};
    for (int i = 0; i < 3; i++) vae_requires_grad(ctx, all[i], 1);
    int64_t nx = vae_numel(x), nw = vae_numel(w), ny = vae_numel(r);
    double *ref = calloc((size_t)(ny + nx + nw + g->O), sizeof(double));
    double *gx = ref + ny, *gw = gx + nx, *gb = gw + nw;
    naive_run(g, vae_tensor_ptr(x), vae_tensor_ptr(w), vae_tensor_ptr(r), ref, gx, gw);
    for (int64_t i = 0; i < ny; i++) { /* + b[o]; gb[o] = sum of gy over images and positions */
        int64_t o = i / (g->OH * g->OW) % g->O;
        ref[i] += vae_get_flat(b, o);
        gb[o] += vae_get_flat(r, i);
    }
    vae_tensor *y = g->transposed ? vae_conv_transpose2d(ctx, x, w, b, (int)g->s, (int)g->p, 0)
                                  : vae_conv2d(ctx, x, w, b, (int)g->s, (int)g->p);
    CHECK(y && vae_numel(y) == ny && vae_backward(ctx, vae_sum_all(ctx, vae_mul(ctx, y, r))) == 0);
    vae_tensor *kx = vae_zeros(ctx, VAE_F64, VAE_SHAPE(g->N, g->C, g->H, g->W));
    vae_tensor *kw = g->transposed ? vae_zeros(ctx, VAE_F64, VAE_SHAPE(g->C, g->O, g->k, g->k))
                                   : vae_zeros(ctx, VAE_F64, VAE_SHAPE(g->O, g->C, g->k, g->k));
    vae_tensor *kb = vae_zeros(ctx, VAE_F64, VAE_SHAPE(g->O));
    int rc = g->transposed ? vae_k_conv_transpose2d_grad(x, w, r, kx, kw, kb, g->s, g->p)
                           : vae_k_conv2d_grad(x, w, r, kx, kw, kb, g->s, g->p);
    CHECK(rc == 0);
    double e[7] = {maxdiff(y, ref),      maxdiff(x->grad, gx), maxdiff(w->grad, gw),
                   maxdiff(b->grad, gb), maxdiff(kx, gx),      maxdiff(kw, gw),
                   maxdiff(kb, gb)};
    for (int i = 0; i < 7; i++)
        CHECK_MSG(e[i] < 1e-10,
                  "%s %lldx%lld k%lld s%lld p%lld: %s differs from the definition by %g",
                  g->transposed ? "conv_transpose2d" : "conv2d", (long long)g->H, (long long)g->W,
                  (long long)g->k, (long long)g->s, (long long)g->p,
                  (const char *[]){"y", "gx", "gw", "gb", "kernel gx", "kernel gw", "kernel gb"}[i],
                  e[i]);
    free(ref);
    vae_ctx_free(ctx);
}

static void test_naive(void) {
    /* conv2d: 9x9 -> 4x4 (stride 2); 40x40 -> 41x41 (stride 1, phase planes); test_conv_paths.c compares each path
     * with the row loops bit for bit */
    naive c1 = {3, 2, 3, 4, 2, 1, 9, 9, 4, 4, 0}, c2 = {2, 2, 3, 4, 1, 2, 40, 40, 41, 41, 0};
    /* conv_transpose2d: positions are x's: 5x5 -> 10x10; 30x30 -> 60x60 */
    naive t1 = {3, 2, 3, 4, 2, 1, 5, 5, 10, 10, 1}, t2 = {2, 2, 3, 4, 2, 1, 30, 30, 60, 60, 1};
    check_naive(&c1), check_naive(&c2), check_naive(&t1), check_naive(&t2);
}

/* A batch big enough to be cut into several blocks (the kernel's budget is 2^17 elements of col) gives the
 * values of the images done one at a time. */
static void test_blocks(void) {
    vae_ctx *ctx = vae_ctx_new(0);
    const int64_t N = 70, C = 64, H = 16;
    vae_tensor *x = vae_zeros(ctx, VAE_F64, VAE_SHAPE(N, C, H, H));
    vae_tensor *w = vae_zeros(ctx, VAE_F64, VAE_SHAPE(8, C, 4, 4));   /* col: 1024 x 64 per image */
    vae_tensor *wt = vae_zeros(ctx, VAE_F64, VAE_SHAPE(C, 16, 4, 4)); /* col: 256 x 256 */
    fill(x, 1, 0.1), fill(w, 0.1, 0.7), fill(wt, 0.1, 1.3);
    vae_tensor *y = vae_conv2d(ctx, x, w, NULL, 2, 1);
    vae_tensor *yt = vae_conv_transpose2d(ctx, x, wt, NULL, 2, 1, 0);
    CHECK(y && yt);
    double e = 0, et = 0;
    for (int64_t n = 0; n < N && y && yt; n += 23) {
        vae_tensor *xn = vae_slice(ctx, x, 0, n, n + 1, 1);
        vae_tensor *y1 = vae_conv2d(ctx, xn, w, NULL, 2, 1);
        vae_tensor *yt1 = vae_conv_transpose2d(ctx, xn, wt, NULL, 2, 1, 0);
        int64_t m = vae_numel(y1), mt = vae_numel(yt1);
        for (int64_t i = 0; i < m; i++)
            e = fmax(e, fabs(vae_get_flat(y, n * m + i) - vae_get_flat(y1, i)));
        for (int64_t i = 0; i < mt; i++)
            et = fmax(et, fabs(vae_get_flat(yt, n * mt + i) - vae_get_flat(yt1, i)));
    }
    CHECK_MSG(e < 1e-12 && et < 1e-12, "blocks: batched differs from one image at a time by %g, %g",
              e, et);
    vae_ctx_free(ctx);
}

/* Forward and every gradient of a conv -> relu -> convT chain, f32, for 1 to 5 threads: the same bits. 64 images of
 * 16 channels: the kernels split them into 8 blocks, two per weight-gradient lane (kernels_conv.c), which run as
 * pool tasks for 2-4 threads and one after the other with the pool inside each GEMM and loop for 5. */
enum { CH_N = 64, CH_C = 16, CH_H = 14 };

/* conv -> ReLU -> convT, the ReLU separate (fused 0) or fused into the conv (vae_conv2d_act) */
static void chain(int threads, int fused, float *out, int64_t nout) {
    vae_threads_set(threads);
    vae_ctx *ctx = vae_ctx_new(0);
    vae_tensor *x = vae_zeros(ctx, VAE_F32, VAE_SHAPE(CH_N, CH_C, CH_H, CH_H));
    vae_tensor *w = vae_zeros(ctx, VAE_F32, VAE_SHAPE(16, CH_C, 4, 4)),
               *b = vae_zeros(ctx, VAE_F32, VAE_SHAPE(16));
    vae_tensor *wt = vae_zeros(ctx, VAE_F32, VAE_SHAPE(16, CH_C, 4, 4)),
               *bt = vae_zeros(ctx, VAE_F32, VAE_SHAPE(CH_C));
    vae_tensor *all[5] = {x, w, b, wt, bt};
    for (int i = 0; i < 5; i++) {
        fill(all[i], 0.5, i);
        vae_requires_grad(ctx, all[i], 1);
    }
    vae_tensor *h = fused ? vae_conv2d_act(ctx, x, w, b, 2, 1, VAE_ACT_RELU, 0)
                          : vae_relu(ctx, vae_conv2d(ctx, x, w, b, 2, 1));
    vae_tensor *y = vae_conv_transpose2d(ctx, h, wt, bt, 2, 1, 0);
    vae_tensor *loss = vae_sum_all(ctx, vae_square(ctx, y));
    CHECK(loss && vae_backward(ctx, loss) == VAE_OK);
    int64_t k = 0;
    for (int64_t i = 0; y && i < vae_numel(y) && k < nout; i++)
        out[k++] = (float)vae_get_flat(y, i);
    for (int t = 0; t < 5; t++)
        for (int64_t i = 0; all[t]->grad && i < vae_numel(all[t]) && k < nout; i++)
            out[k++] = (float)vae_get_flat(all[t]->grad, i);
    vae_ctx_free(ctx);
    vae_threads_set(0);
}

static void test_threads(void) {
    enum { NOUT = CH_N * CH_C * CH_H * CH_H * 2 + 16 * CH_C * 16 * 2 + 16 + CH_C };
    float *a = calloc(NOUT, sizeof(float)), *b = calloc(NOUT, sizeof(float));
    chain(1, 0, a, NOUT);
    for (int threads = 2; threads <= 5; threads++) {
        chain(threads, 0, b, NOUT);
        CHECK_MSG(memcmp(a, b, sizeof(float) * NOUT) == 0, "1 and %d threads give different bits",
                  threads);
    }
    /* the fused ReLU: the same bits as the separate op (max(0, y) and the mask y > 0 either way) */
    for (int threads = 1; threads <= 3; threads += 2) {
        chain(threads, 1, b, NOUT);
        CHECK_MSG(memcmp(a, b, sizeof(float) * NOUT) == 0,
                  "fused conv + ReLU on %d threads differs from conv then ReLU", threads);
    }
    int nonzero = 0;
    for (int i = 0; i < NOUT; i++) nonzero += a[i] != 0;
    CHECK(nonzero > NOUT / 2);
    free(a);
    free(b);
}

/* ---- errors ---- */

static void expect_err(vae_ctx *ctx, vae_tensor *y, vae_status code, const char *a, const char *b) {
    CHECK(y == NULL);
    CHECK_MSG(vae_ctx_status(ctx) == code, "status %d, want %d (%s)", (int)vae_ctx_status(ctx),
              (int)code, vae_ctx_message(ctx));
    CHECK_MSG(strstr(vae_ctx_message(ctx), a) && (!b || strstr(vae_ctx_message(ctx), b)),
              "message \"%s\" lacks \"%s\" / \"%s\"", vae_ctx_message(ctx), a, b ? b : "");
    vae_ctx_clear_error(ctx);
}

static void test_errors(void) {
    vae_ctx *ctx = vae_ctx_new(0);
    vae_tensor *x = vae_zeros(ctx, VAE_F32, VAE_SHAPE(2, 3, 5, 5));
    vae_tensor *w = vae_zeros(ctx, VAE_F32, VAE_SHAPE(4, 2, 3, 3));
    vae_tensor *w3 = vae_zeros(ctx, VAE_F32, VAE_SHAPE(4, 3, 3, 3));
    vae_tensor *b5 = vae_zeros(ctx, VAE_F32, VAE_SHAPE(5));
    vae_tensor *x64 = vae_zeros(ctx, VAE_F64, VAE_SHAPE(2, 3, 5, 5));
    expect_err(ctx, vae_conv2d(ctx, x, w, NULL, 1, 0), VAE_ERR_SHAPE,
               "conv2d: x (2,3,5,5) and w (4,2,3,3)", "3 channels but w takes 2");
    expect_err(ctx, vae_conv_transpose2d(ctx, x, w, NULL, 1, 0, 0), VAE_ERR_SHAPE,
               "conv_transpose2d: x (2,3,5,5) and w (4,2,3,3)", "3 channels but w takes 4");
    expect_err(ctx, vae_conv2d(ctx, x, w3, b5, 1, 0), VAE_ERR_SHAPE, "bias (5,)", "w (4,3,3,3)");
    expect_err(ctx, vae_conv2d(ctx, x, w3, NULL, 0, 0), VAE_ERR_ARG, "stride 0", NULL);
    expect_err(ctx, vae_conv2d(ctx, x, w3, NULL, 1, -1), VAE_ERR_ARG, "padding -1", NULL);
    expect_err(
        ctx,
        vae_conv_transpose2d(ctx, x, vae_zeros(ctx, VAE_F32, VAE_SHAPE(3, 2, 3, 3)), NULL, 2, 0, 2),
        VAE_ERR_ARG, "output_padding 2", "< stride");
    expect_err(ctx, vae_conv2d(ctx, vae_zeros(ctx, VAE_F32, VAE_SHAPE(1, 3, 2, 5)), w3, NULL, 1, 0),
               VAE_ERR_SHAPE, "output would be 0x3", "x (1,3,2,5)");
    expect_err(ctx, vae_conv2d(ctx, vae_zeros(ctx, VAE_F32, VAE_SHAPE(3, 5)), w3, NULL, 1, 0),
               VAE_ERR_SHAPE, "x must be (..., C, H, W)", "(3,5)");
    expect_err(ctx, vae_conv2d(ctx, x, vae_zeros(ctx, VAE_F32, VAE_SHAPE(4, 3, 3)), NULL, 1, 0),
               VAE_ERR_SHAPE, "w must be (O, C, kh, kw)", "(4,3,3)");
    expect_err(ctx, vae_conv2d(ctx, x64, w3, NULL, 1, 0), VAE_ERR_DTYPE, "conv2d", NULL);
    expect_err(ctx, vae_conv2d_act(ctx, x, w3, NULL, 1, 0, VAE_ACT_ELU, 0), VAE_ERR_ARG,
               "conv2d: bad activation", "alpha 0");
    expect_err(ctx, vae_conv_transpose2d_act(ctx, x, w, NULL, 1, 0, 0, (vae_act)99, 1), VAE_ERR_ARG,
               "conv_transpose2d: bad activation 99", NULL);
    /* a NULL input: NULL out, VAE_ERR_NULL naming the op */
    expect_err(ctx, vae_conv2d(ctx, NULL, w3, NULL, 1, 0), VAE_ERR_NULL, "conv2d", NULL);
    /* the good call after all those */
    vae_tensor *y = vae_conv2d(ctx, x, w3, NULL, 2, 1);
    CHECK(y && y->ndim == 4 && y->shape[1] == 4 && y->shape[2] == 3 && y->shape[3] == 3);
    vae_ctx_free(ctx);
}

/* conv2d's weight gradient on 2 threads from the main thread after another user thread asked for larger partial sums
 * (128 x 128 x 3 x 3 weights): the main thread's partial sums live in its own scratch while its blocks, larger than
 * any before, run on the pool and raise the pool's high-water marks; the pool must not then regrow (free) the
 * caller's buffers at the end of the job (under AddressSanitizer that is a use after free: it was, before the pool
 * stopped levelling its callers' scratch). */
static int grad_run(int threads, int64_t N, int64_t C, int64_t O, int64_t H, float *gw_out) {
    vae_threads_set(threads);
    vae_ctx *ctx = vae_ctx_new(0);
    vae_tensor *x = vae_zeros(ctx, VAE_F32, VAE_SHAPE(N, C, H, H));
    vae_tensor *w = vae_zeros(ctx, VAE_F32, VAE_SHAPE(O, C, 3, 3));
    vae_tensor *gy = vae_zeros(ctx, VAE_F32, VAE_SHAPE(N, O, H, H));
    vae_tensor *gw = vae_zeros(ctx, VAE_F32, VAE_SHAPE(O, C, 3, 3));
    int rc = -1;
    if (x && w && gy && gw) {
        fill(x, 0.5, 0.1), fill(w, 0.5, 0.2), fill(gy, 0.5, 0.3);
        rc = vae_k_conv2d_grad(x, w, gy, NULL, gw, NULL, 1, 1);
        for (int64_t i = 0; rc == 0 && gw_out && i < vae_numel(gw); i++)
            gw_out[i] = (float)vae_get_flat(gw, i);
    }
    vae_ctx_free(ctx);
    vae_threads_set(0);
    return rc;
}

static void *big_grad(void *arg) {
    *(int *)arg = grad_run(2, 8, 128, 128, 2, NULL); /* 4 lanes of 1152 x 128 partial sums */
    return NULL;
}

static void test_caller_scratch(void) {
    pthread_t th;
    int rc_big = -1;
    CHECK(pthread_create(&th, NULL, big_grad, &rc_big) == 0 && pthread_join(th, NULL) == 0);
    CHECK(rc_big == 0);
    enum { NW = 8 * 4 * 9 };
    float a[NW], b[NW];
    CHECK(grad_run(2, 64, 4, 8, 32, a) == 0); /* 24 blocks of 3 images of 36 x 3072 col, 4 lanes */
    CHECK(grad_run(1, 64, 4, 8, 32, b) == 0);
    CHECK_MSG(memcmp(a, b, sizeof a) == 0, "weight gradient on 2 threads differs from 1 thread");
}

int main(void) {
    test_caller_scratch(); /* first: while the main thread's scratch is still small */
    test_reference();
    test_gradcheck();
    test_naive();
    test_blocks();
    test_threads();
    test_errors();
    return test_finish();
}
