/* 2-d convolution and transposed convolution, forward and backward, as im2col/col2im around one GEMM per block of
 * images (PyTorch's layouts: x (N, C, H, W), conv weight (O, C, kh, kw), transposed-conv weight (C, O, kh, kw)).
 *
 * One geometry serves both ops. The "image side" (Ci, Hi, Wi) is what im2col reads and col2im writes; the
 * "positions" (Ph, Pw) are where the kernel is applied: col (Ci*kh*kw, nb*Ph*Pw), row (c, i, j), column
 * (image, ph, pw), col[(c,i,j), (n,ph,pw)] = img[n, c, ph*s - p + i, pw*s - p + j] (0 outside the image).
 *   conv2d:           image side = x,  positions = y's (OH, OW):  Yt (O, cols) = Wm (O, CK) @ col
 *   conv_transpose2d: image side = y,  positions = x's (H, W):    col = Wm^T (O*kk, C) @ Xt (C, cols), col2im -> y
 * so the transposed conv's forward is the conv's input gradient and vice versa.
 *
 * Images go in blocks whose size depends only on the shapes (a memory budget), im2col/col2im/gather/scatter are
 * split over images (each writes its own columns or its own image), weight gradients accumulate block after
 * block with beta = 1 and the GEMM never splits K, the bias gradient is summed in chunks of a fixed number of
 * images: results are bit-identical for any thread count.
 *
 * Where the time goes (W4, README "Performance"): the GEMMs, then im2col/col2im. So conv2d's forward can leave its
 * col for backward (vae__k_conv2d_keep, kernels_conv_internal.h) instead of backward rebuilding it; weight
 * gradients are computed as dW^T (CK, O) = col (CK, cols) @ gy^T, which packs col as the GEMM's A rows (as
 * dW = gy @ col^T the GEMM gathered col column by column as a transposed B: as slow as the multiply); and the
 * per-image loops (im2col/col2im, gather/scatter, the bias sums) live in kernels_conv_isa.c, compiled per ISA and
 * chosen with the elementwise kernels' vae_simd_path: im2col/col2im go through phase planes (unit-stride copies) or,
 * for stride 2 with AVX-512, two loads and a permute per row of positions, with the row loops' bits. */
#include <stdatomic.h>
#include <string.h>

#include "gemm.h"
#include "kernels_conv_internal.h"
#include "kernels_conv_isa.h"
#include "kernels.h"
#include "scratch.h"
#include "threadpool.h"

/* Elements of the larger scratch matrix per block: 512 KiB in f32, half the L2 of this project's Zen VM, so that
 * im2col -> GEMM and GEMM -> col2im hand col over in L2 (with 16 MB blocks col2im waited on memory for most of its
 * time in a training run; README, conv section). */
#define BLOCK_ELEMS (INT64_C(1) << 17)
#define PAR_MIN     (INT64_C(1) << 15) /* elements moved below which the per-image loops stay serial */

typedef vae__img4 img4;
typedef vae__conv_geom geom;
typedef vae__conv_job job;
typedef vae__conv_bias_job bias_job;
#define BG_CHUNK VAE__CONV_BG_CHUNK

static img4 img_of(const vae_tensor *t) {
    img4 v;
    memset(&v, 0, sizeof v);
    v.base = (char *)t->data + t->offset * (int64_t)vae_dtype_size(t->dtype);
    v.nlead = t->ndim - 3;
    for (int d = 0; d < v.nlead; d++) v.lshape[d] = t->shape[d], v.lstride[d] = t->stride[d];
    v.sc = t->stride[t->ndim - 3];
    v.sh = t->stride[t->ndim - 2];
    v.sw = t->stride[t->ndim - 1];
    return v;
}

static geom geom_make(int64_t N, int64_t Ci, int64_t Hi, int64_t Wi, int64_t kh, int64_t kw,
                      int64_t s, int64_t p, int64_t Ph, int64_t Pw) {
    geom g = {N, Ci, Hi, Wi, kh, kw, s, p, Ph, Pw, Ci * kh * kw, Ph * Pw};
    return g;
}

typedef void (*task_fn)(void *, int64_t, int);

/* The per-image tasks of one ISA variant (kernels_conv_isa.c), [0] float, [1] double. */
typedef struct conv_table {
    task_fn im2col[2], col2im[2], gather[2], scatter[2], bias_part[2];
} conv_table;

#define CONV_TABLE(sfx)                                                                            \
    {                                                                                              \
        {vae__conv_im2col_float_##sfx, vae__conv_im2col_double_##sfx},                             \
            {vae__conv_col2im_float_##sfx, vae__conv_col2im_double_##sfx},                         \
            {vae__conv_gather_float_##sfx, vae__conv_gather_double_##sfx},                         \
            {vae__conv_scatter_float_##sfx, vae__conv_scatter_double_##sfx},                       \
            {vae__conv_bias_part_float_##sfx, vae__conv_bias_part_double_##sfx},                   \
    }

/* Indexed by vae_simd_path (the same choice as the elementwise kernels, ew_dispatch.c). */
static const conv_table tables[VAE_SIMD_PATH_COUNT_] = {
    CONV_TABLE(portable),
    CONV_TABLE(portable),
#if defined(VAE_HAVE_AVX2)
    CONV_TABLE(avx2),
#else
    CONV_TABLE(portable),
#endif
#if defined(VAE_HAVE_AVX512)
    CONV_TABLE(avx512),
#else
    CONV_TABLE(portable),
#endif
};

static const conv_table *tab(void) {
    return &tables[vae_simd_get_path()];
}

/* fn over the nb images of a block: on the pool when the block moves enough data. */
static void per_image(task_fn fn, job *j, int64_t nb, int64_t elems) {
    if (elems >= PAR_MIN && nb > 1)
        vae_parallel_for(nb, fn, j);
    else
        for (int64_t t = 0; t < nb; t++) fn(j, t, 0);
}

static void gemm(int f64, int64_t M, int64_t N, int64_t K, const void *A, int64_t rsa, int64_t csa,
                 const void *B, int64_t rsb, int64_t csb, double beta, void *C, int64_t rsc,
                 int64_t csc) {
    if (f64)
        vae_dgemm(M, N, K, 1.0, A, rsa, csa, B, rsb, csb, beta, C, rsc, csc);
    else
        vae_sgemm(M, N, K, 1.0f, A, rsa, csa, B, rsb, csb, (float)beta, C, rsc, csc);
}

static atomic_int g_path; /* vae__k_conv_set_path: 0 auto, 1 row loops, 2 phase planes only */

void vae__k_conv_set_path(int path) {
    atomic_store(&g_path, path);
}

/* j->phase for im2col/col2im (kernels_conv_isa.h): the fast loops unless the phase planes do not fit. */
static int phase_mode(const geom *g) {
    int path = atomic_load_explicit(&g_path, memory_order_relaxed);
    if (path == 1 || vae__conv_phase_elems(g) > VAE__CONV_PHASE_MAX) return 0;
    return path == 2 ? 2 : 1;
}

/* im2col / col2im over the nb images of j's block. */
static void run_im2col(int f64, job *j, int64_t nb) {
    j->phase = phase_mode(j->g);
    per_image(tab()->im2col[f64], j, nb, j->g->CK * nb * j->g->P);
}

static void run_col2im(int f64, job *j, int64_t nb) {
    j->phase = phase_mode(j->g);
    per_image(tab()->col2im[f64], j, nb, j->g->CK * nb * j->g->P);
}

/* The block's images and its two scratch matrices: col (rows_col, nb*P) and mat (rows_mat, nb*P). NULL buffers on
 * OOM (after trying one image per block). */
typedef struct blocks {
    int64_t nb; /* images per block */
    void *col, *mat;
} blocks;

static int blocks_make(const geom *g, int64_t rows_col, int64_t rows_mat, size_t es, blocks *b) {
    int64_t per = (rows_col > rows_mat ? rows_col : rows_mat) * g->P;
    int64_t nb = per > 0 ? BLOCK_ELEMS / per : g->N;
    if (nb < 1) nb = 1;
    if (nb > g->N) nb = g->N;
    for (;;) {
        b->nb = nb;
        b->col = rows_col ? vae__thread_scratch(2, (size_t)(rows_col * nb * g->P) * es) : NULL;
        b->mat = rows_mat ? vae__thread_scratch(3, (size_t)(rows_mat * nb * g->P) * es) : NULL;
        if ((!rows_col || b->col) && (!rows_mat || b->mat)) return 0;
        if (nb == 1) return -1;
        nb = 1;
    }
}

static int64_t images(const vae_tensor *t) {
    int64_t n = 1;
    for (int d = 0; d < t->ndim - 3; d++) n *= t->shape[d];
    return n;
}

#define SPATIAL(t, k) ((t)->shape[(t)->ndim - 3 + (k)])

int64_t vae__k_conv2d_col_elems(const vae_tensor *x, const vae_tensor *w, const vae_tensor *y) {
    return images(x) * SPATIAL(x, 0) * w->shape[2] * w->shape[3] * SPATIAL(y, 1) * SPATIAL(y, 2);
}

int vae__k_conv2d_keep(const vae_tensor *x, const vae_tensor *w, const vae_tensor *b, vae_tensor *y,
                       int64_t s, int64_t p, void *keep) {
    int f64 = x->dtype == VAE_F64;
    size_t es = vae_dtype_size(x->dtype);
    int64_t O = w->shape[0];
    geom g = geom_make(images(x), SPATIAL(x, 0), SPATIAL(x, 1), SPATIAL(x, 2), w->shape[2],
                       w->shape[3], s, p, SPATIAL(y, 1), SPATIAL(y, 2));
    if (g.N == 0 || g.P == 0 || O == 0) return 0;
    blocks bl;
    if (blocks_make(&g, keep ? 0 : g.CK, O, es, &bl)) return -1;
    job j = {.g = &g, .src = img_of(x), .dst = vae_tensor_ptr(y), .ch = O};
    if (b) j.bias = vae_tensor_ptr(b), j.bstride = b->stride[0];
    const void *W = vae_tensor_ptr(w);
    for (int64_t n0 = 0; n0 < g.N; n0 += bl.nb) {
        int64_t nb = g.N - n0 < bl.nb ? g.N - n0 : bl.nb;
        /* the block's col: the scratch (CK, nb*P), or columns [n0*P, (n0+nb)*P) of keep (CK, N*P) */
        int64_t ldc = keep ? g.N * g.P : nb * g.P;
        char *col = keep ? (char *)keep + (size_t)(n0 * g.P) * es : bl.col;
        j.n0 = n0, j.ld = ldc, j.mat = col;
        run_im2col(f64, &j, nb);
        j.ld = nb * g.P;
        gemm(f64, O, j.ld, g.CK, W, g.CK, 1, col, ldc, 1, 0.0, bl.mat, j.ld, 1);
        j.mat = bl.mat;
        per_image(tab()->scatter[f64], &j, nb, O * j.ld);
    }
    return 0;
}

int vae_k_conv2d(const vae_tensor *x, const vae_tensor *w, const vae_tensor *b, vae_tensor *y,
                 int64_t s, int64_t p) {
    return vae__k_conv2d_keep(x, w, b, y, s, p, NULL);
}

/* gb[o] += sum of gy (N, O, P) contiguous over images and positions: partial sums per (o, chunk of images) on the
 * pool, added in chunk order. -1 when the partial sums' scratch cannot be allocated. */
static int bias_grad(const vae_tensor *gy, vae_tensor *gb, int64_t N, int64_t O, int64_t P) {
    bias_job j = {vae_tensor_ptr(gy), N, O, P, (N + BG_CHUNK - 1) / BG_CHUNK, NULL};
    if (N == 0 || O == 0) return 0;
    j.part = vae__thread_scratch(2, sizeof(double) * (size_t)(O * j.nch));
    if (!j.part) return -1;
    task_fn fn = tab()->bias_part[gy->dtype == VAE_F64];
    if (N * O * P >= PAR_MIN && O * j.nch > 1)
        vae_parallel_for(O * j.nch, fn, &j);
    else
        for (int64_t t = 0; t < O * j.nch; t++) fn(&j, t, 0);
    for (int64_t o = 0; o < O; o++) {
        double acc = 0;
        for (int64_t c = 0; c < j.nch; c++) acc += j.part[o * j.nch + c];
        if (gy->dtype == VAE_F64)
            ((double *)vae_tensor_ptr(gb))[o * gb->stride[0]] += acc;
        else
            ((float *)vae_tensor_ptr(gb))[o * gb->stride[0]] += (float)acc;
    }
    return 0;
}

int vae__k_conv2d_grad_kept(const vae_tensor *x, const vae_tensor *w, const vae_tensor *gy,
                            vae_tensor *gx, vae_tensor *gw, vae_tensor *gb, int64_t s, int64_t p,
                            const void *kept) {
    int f64 = x->dtype == VAE_F64;
    size_t es = vae_dtype_size(x->dtype);
    int64_t O = w->shape[0];
    geom g = geom_make(images(x), SPATIAL(x, 0), SPATIAL(x, 1), SPATIAL(x, 2), w->shape[2],
                       w->shape[3], s, p, SPATIAL(gy, 1), SPATIAL(gy, 2));
    if (gb && bias_grad(gy, gb, g.N, O, g.P)) return -1;
    if ((!gx && !gw) || g.N == 0 || g.P == 0 || O == 0) return 0;
    blocks bl; /* col scratch: for dcol, or for im2col when nothing was kept */
    if (blocks_make(&g, gx || !kept ? g.CK : 0, O, es, &bl)) return -1;
    job j = {.g = &g, .ch = O};
    img4 gyv = img_of(gy), xv = img_of(x);
    const void *W = vae_tensor_ptr(w);
    for (int64_t n0 = 0; n0 < g.N; n0 += bl.nb) {
        int64_t nb = g.N - n0 < bl.nb ? g.N - n0 : bl.nb;
        j.n0 = n0, j.ld = nb * g.P;
        j.src = gyv, j.mat = bl.mat; /* mat (O, ld) = gy's columns */
        per_image(tab()->gather[f64], &j, nb, O * j.ld);
        if (gw) { /* dW (O, CK) += gy (O, ld) @ col^T, col the forward's (kept) or recomputed */
            const char *col = bl.col;
            int64_t ldc = j.ld;
            if (kept)
                col = (const char *)kept + (size_t)(n0 * g.P) * es, ldc = g.N * g.P;
            else {
                j.src = xv, j.mat = bl.col;
                run_im2col(f64, &j, nb);
            }
            gemm(f64, g.CK, O, j.ld, col, ldc, 1, bl.mat, 1, j.ld, 1.0, vae_tensor_ptr(gw), 1,
                 g.CK);
        }
        if (gx) { /* dcol (CK, ld) = W^T @ gy; dx += col2im(dcol) */
            gemm(f64, g.CK, j.ld, O, W, 1, g.CK, bl.mat, j.ld, 1, 0.0, bl.col, j.ld, 1);
            j.dst = vae_tensor_ptr(gx), j.mat = bl.col;
            run_col2im(f64, &j, nb);
        }
    }
    return 0;
}

int vae_k_conv2d_grad(const vae_tensor *x, const vae_tensor *w, const vae_tensor *gy,
                      vae_tensor *gx, vae_tensor *gw, vae_tensor *gb, int64_t s, int64_t p) {
    return vae__k_conv2d_grad_kept(x, w, gy, gx, gw, gb, s, p, NULL);
}

/* y (N, O, P) contiguous = b[o] (or 0) */
static void fill_bias(vae_tensor *y, const vae_tensor *b, int64_t N, int64_t O, int64_t P) {
    if (!b) {
        memset(vae_tensor_ptr(y), 0, (size_t)(N * O * P) * vae_dtype_size(y->dtype));
        return;
    }
    for (int64_t n = 0; n < N; n++)
        for (int64_t o = 0; o < O; o++) {
            double v = vae_get(b, (int64_t[]){o});
            if (y->dtype == VAE_F64) {
                double *r = (double *)vae_tensor_ptr(y) + (n * O + o) * P;
                for (int64_t q = 0; q < P; q++) r[q] = v;
            } else {
                float *r = (float *)vae_tensor_ptr(y) + (n * O + o) * P;
                for (int64_t q = 0; q < P; q++) r[q] = (float)v;
            }
        }
}

int vae_k_conv_transpose2d(const vae_tensor *x, const vae_tensor *w, const vae_tensor *b,
                           vae_tensor *y, int64_t s, int64_t p) {
    int f64 = x->dtype == VAE_F64;
    size_t es = vae_dtype_size(x->dtype);
    int64_t C = w->shape[0], O = w->shape[1];
    geom g = geom_make(images(x), O, SPATIAL(y, 1), SPATIAL(y, 2), w->shape[2], w->shape[3], s, p,
                       SPATIAL(x, 1), SPATIAL(x, 2));
    fill_bias(y, b, g.N, O, g.Hi * g.Wi);
    if (g.N == 0 || g.P == 0 || C == 0) return 0;
    blocks bl;
    if (blocks_make(&g, g.CK, C, es, &bl)) return -1;
    job j = {.g = &g, .src = img_of(x), .dst = vae_tensor_ptr(y), .ch = C};
    const void *W = vae_tensor_ptr(w);
    for (int64_t n0 = 0; n0 < g.N; n0 += bl.nb) {
        int64_t nb = g.N - n0 < bl.nb ? g.N - n0 : bl.nb;
        j.n0 = n0, j.ld = nb * g.P, j.mat = bl.mat;
        per_image(tab()->gather[f64], &j, nb, C * j.ld);
        /* col (O*kk, ld) = W^T (O*kk, C) @ x (C, ld) */
        gemm(f64, g.CK, j.ld, C, W, 1, g.CK, bl.mat, j.ld, 1, 0.0, bl.col, j.ld, 1);
        j.mat = bl.col;
        run_col2im(f64, &j, nb);
    }
    return 0;
}

int vae_k_conv_transpose2d_grad(const vae_tensor *x, const vae_tensor *w, const vae_tensor *gy,
                                vae_tensor *gx, vae_tensor *gw, vae_tensor *gb, int64_t s,
                                int64_t p) {
    int f64 = x->dtype == VAE_F64;
    size_t es = vae_dtype_size(x->dtype);
    int64_t C = w->shape[0], O = w->shape[1];
    geom g = geom_make(images(x), O, SPATIAL(gy, 1), SPATIAL(gy, 2), w->shape[2], w->shape[3], s, p,
                       SPATIAL(x, 1), SPATIAL(x, 2));
    if (gb && bias_grad(gy, gb, g.N, O, g.Hi * g.Wi)) return -1;
    if ((!gx && !gw) || g.N == 0 || g.P == 0 || C == 0) return 0;
    blocks bl;
    if (blocks_make(&g, g.CK, C, es, &bl)) return -1;
    job j = {.g = &g, .ch = C};
    img4 gyv = img_of(gy), xv = img_of(x);
    const void *W = vae_tensor_ptr(w);
    for (int64_t n0 = 0; n0 < g.N; n0 += bl.nb) {
        int64_t nb = g.N - n0 < bl.nb ? g.N - n0 : bl.nb;
        j.n0 = n0, j.ld = nb * g.P;
        j.src = gyv, j.mat = bl.col; /* col (O*kk, ld) = patches of gy at x's positions */
        run_im2col(f64, &j, nb);
        if (gw) { /* dW (C, O*kk) += x (C, ld) @ col^T */
            j.src = xv, j.mat = bl.mat;
            per_image(tab()->gather[f64], &j, nb, C * j.ld);
            gemm(f64, g.CK, C, j.ld, bl.col, j.ld, 1, bl.mat, 1, j.ld, 1.0, vae_tensor_ptr(gw), 1,
                 g.CK);
        }
        if (gx) { /* dx (C, ld) = W (C, O*kk) @ col, added into gx's images */
            gemm(f64, C, j.ld, g.CK, W, g.CK, 1, bl.col, j.ld, 1, 0.0, bl.mat, j.ld, 1);
            j.dst = vae_tensor_ptr(gx), j.mat = bl.mat, j.add = 1;
            per_image(tab()->scatter[f64], &j, nb, C * j.ld);
        }
    }
    return 0;
}
