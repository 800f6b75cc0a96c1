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
 * Images go in blocks whose number and size depend only on the shapes (a memory budget, a multiple of LANES
 * blocks). On two threads each thread takes whole blocks (im2col, GEMM, scatter of one block on one core, in its
 * L2) rather than splitting each block's small GEMM (W4 on 2 threads, README "Performance"), and always a
 * contiguous range of them, so that it works on the same images in every op (run_tasks). Weight gradients
 * accumulate block after block into LANES fixed partial sums (lane l: a contiguous range of blocks, the GEMM never
 * splitting K), added in lane order; the bias gradient is summed in chunks of a fixed number of images: results
 * are bit-identical for any thread count, whether blocks or the GEMMs inside them go on the pool.
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
#define LANES       4 /* the weight gradients' partial sums (lanes_reduce), and the pool's share of blocks */

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

/* Blocks of images: nb images per block, nblk blocks. Both depend only on the shapes: at most BLOCK_ELEMS elements
 * of the larger scratch matrix (rows x nb*P) per block and, once the op moves enough data to go on the pool, a
 * multiple of LANES blocks (where there are that many images), so that up to LANES threads get equal shares. */
typedef struct plan {
    int64_t nb, nblk;
} plan;

static plan plan_make(const geom *g, int64_t rows) {
    int64_t per = rows * g->P; /* elements per image */
    int64_t nbmax = per > 0 && per < BLOCK_ELEMS ? BLOCK_ELEMS / per : 1;
    int64_t nblk = (g->N + nbmax - 1) / nbmax;
    if (nblk > 1 || g->N * per >= PAR_MIN) nblk = (nblk + LANES - 1) / LANES * LANES;
    if (nblk > g->N) nblk = g->N;
    plan pl = {(g->N + nblk - 1) / nblk, 0};
    pl.nblk = (g->N + pl.nb - 1) / pl.nb;
    return pl;
}

/* Run ntasks tasks (blocks, or lanes of blocks) on the pool, each with serial GEMMs and loops inside, when there is
 * a task for every thread; else one after the other with the pool inside each GEMM and loop (a few large images,
 * many threads). Either way every value is computed by the same operations in the same order: the same bits. A plan
 * of more than one block moves at least PAR_MIN elements (plan_make).
 * On the pool, thread share t runs the contiguous tasks [t*ntasks/nt, (t+1)*ntasks/nt): blocks and lanes are
 * contiguous in images, so a thread works on the same images in every layer, forward and backward, and their
 * activations stay in its core's caches (with tasks claimed one by one, the images changed cores from op to op). */
typedef struct share_ctx {
    task_fn fn;
    void *ctx;
    int64_t ntasks, nshares;
} share_ctx;

static void run_share(void *vs, int64_t t, int tid) {
    const share_ctx *s = vs;
    for (int64_t i = s->ntasks * t / s->nshares; i < s->ntasks * (t + 1) / s->nshares; i++)
        s->fn(s->ctx, i, tid);
}

/* fn over tasks [0, ntasks) on the pool, one contiguous share per thread, share t always on thread t (pinned). */
static void run_shares(task_fn fn, void *ctx, int64_t ntasks) {
    int64_t nt = vae_threads_get();
    share_ctx s = {fn, ctx, ntasks, nt < ntasks ? nt : ntasks};
    vae__parallel_pinned(s.nshares, run_share, &s);
}

static void run_tasks(task_fn fn, void *ctx, int64_t ntasks, const plan *pl) {
    int nt = vae_threads_get();
    if (nt > 1 && pl->nblk > 1 && ntasks >= nt)
        run_shares(fn, ctx, ntasks);
    else
        for (int64_t t = 0; t < ntasks; t++) fn(ctx, t, 0);
}

/* The weight gradients' lanes: min(nblk, LANES); lane l holds blocks [lane_b0(l), lane_b0(l + 1)), contiguous. */
static int64_t plan_lanes(const plan *pl) {
    return pl->nblk < LANES ? pl->nblk : LANES;
}
static int64_t lane_b0(const plan *pl, int64_t l) {
    return pl->nblk * l / plan_lanes(pl);
}

/* Images [n0, n0 + nb) of block b. */
static int64_t block_n0(const plan *pl, int64_t b) {
    return b * pl->nb;
}
static int64_t block_len(const plan *pl, const geom *g, int64_t b) {
    int64_t left = g->N - b * pl->nb;
    return left < pl->nb ? left : pl->nb;
}

/* The weight gradient's partial sums: the blocks of lane l (lane_b0) add into partial l (the first with beta = 0),
 * and the lanes are added into gw (contiguous, n elements) in lane order, in double: a fixed order of additions
 * for any thread count. part: LANES x n elements of the op's dtype, the calling thread's scratch slot 4. */
static void lanes_reduce(int f64, const void *part, int64_t lanes, int64_t n, void *gw) {
    for (int64_t i = 0; i < n; i++) {
        double acc = f64 ? ((double *)gw)[i] : ((float *)gw)[i];
        for (int64_t l = 0; l < lanes; l++)
            acc += f64 ? ((const double *)part)[l * n + i] : ((const float *)part)[l * n + i];
        if (f64)
            ((double *)gw)[i] = acc;
        else
            ((float *)gw)[i] = (float)acc;
    }
}

/* One conv op's work, shared by its block (forward) or lane (backward) tasks. */
typedef struct conv_ctx {
    const geom *g;
    plan pl;
    int f64;
    size_t es;
    int64_t ch;           /* O for conv2d, C for the transposed conv: the rows of the (ch, ld) matrix */
    const void *W;        /* the weight */
    img4 xv, gyv;         /* conv2d forward: xv = x; transposed forward: xv = x (gathered); grads: both */
    char *dst;            /* forward output (conv2d: y; transposed: y, col2im'd into) */
    char *keep;           /* conv2d forward: the kept im2col matrix (CK, N*P), or NULL */
    const char *kept;     /* conv2d backward: the forward's kept matrix, or NULL */
    const char *bias;     /* conv2d forward: bias per channel or NULL */
    int64_t bstride;
    char *gx, *part;      /* backward: gx (contiguous) or NULL; the lanes' partial dW or NULL */
    atomic_int err;       /* a task could not get its scratch */
} conv_ctx;

/* The calling thread's col (rows CK) and mat (rows ch) scratch for one block of c->pl.nb images; 0 on success. */
static int block_scratch(conv_ctx *c, int want_col, char **col, char **mat) {
    size_t cols = (size_t)(c->pl.nb * c->g->P);
    *col = want_col ? vae__thread_scratch(2, (size_t)c->g->CK * cols * c->es) : NULL;
    *mat = vae__thread_scratch(3, (size_t)c->ch * cols * c->es);
    if ((want_col && !*col) || !*mat) {
        atomic_store(&c->err, 1);
        return -1;
    }
    return 0;
}

/* A forward op: fn over the plan's blocks. -1 when a task could not get its scratch. */
static int run_blocks(conv_ctx *c, task_fn fn) {
    atomic_init(&c->err, 0);
    run_tasks(fn, c, c->pl.nblk, &c->pl);
    return atomic_load(&c->err) ? -1 : 0;
}

/* A backward op: fn over the lanes (min(nblk, LANES)), then, when gw is given, the lanes' partial sums (CK x cols
 * each, in the calling thread's scratch slot 4) added into gw. -1 when a scratch buffer could not be had. */
static int run_lanes(conv_ctx *c, task_fn fn, vae_tensor *gw, int64_t cols) {
    const int64_t n = c->g->CK * cols, lanes = plan_lanes(&c->pl);
    if (gw && !(c->part = vae__thread_scratch(4, (size_t)(LANES * n) * c->es))) return -1;
    atomic_init(&c->err, 0);
    run_tasks(fn, c, lanes, &c->pl);
    if (atomic_load(&c->err)) return -1;
    if (gw) lanes_reduce(c->f64, c->part, lanes, n, vae_tensor_ptr(gw));
    return 0;
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

/* conv2d forward, block b: col = im2col(x) (in keep, or scratch); mat (O, ld) = W (O, CK) @ col; y = mat (+ bias). */
static void conv2d_block(void *vc, int64_t b, int tid) {
    (void)tid;
    conv_ctx *c = vc;
    const geom *g = c->g;
    int64_t n0 = block_n0(&c->pl, b), nb = block_len(&c->pl, g, b), O = c->ch;
    char *col, *mat;
    if (block_scratch(c, !c->keep, &col, &mat)) return;
    /* the block's col: the scratch (CK, nb*P), or columns [n0*P, (n0+nb)*P) of keep (CK, N*P) */
    int64_t ldc = c->keep ? g->N * g->P : nb * g->P;
    if (c->keep) col = c->keep + (size_t)(n0 * g->P) * c->es;
    job j = {.g = g, .src = c->xv, .dst = c->dst, .mat = col, .bias = c->bias, .bstride = c->bstride,
             .n0 = n0, .ld = ldc, .ch = O};
    run_im2col(c->f64, &j, nb);
    j.ld = nb * g->P;
    gemm(c->f64, O, j.ld, g->CK, c->W, g->CK, 1, col, ldc, 1, 0.0, mat, j.ld, 1);
    j.mat = mat;
    per_image(tab()->scatter[c->f64], &j, nb, O * j.ld);
}

int vae__k_conv2d_keep(const vae_tensor *x, const vae_tensor *w, const vae_tensor *b, vae_tensor *y,
                       int64_t s, int64_t p, void *keep) {
    int64_t O = w->shape[0];
    geom g = geom_make(images(x), SPATIAL(x, 0), SPATIAL(x, 1), SPATIAL(x, 2), w->shape[2],
                       w->shape[3], s, p, SPATIAL(y, 1), SPATIAL(y, 2));
    if (g.N == 0 || g.P == 0 || O == 0) return 0;
    conv_ctx c = {.g = &g, .f64 = x->dtype == VAE_F64, .es = vae_dtype_size(x->dtype), .ch = O,
                  .W = vae_tensor_ptr(w), .xv = img_of(x), .dst = vae_tensor_ptr(y), .keep = keep};
    c.pl = plan_make(&g, keep ? O : (g.CK > O ? g.CK : O));
    if (b) c.bias = vae_tensor_ptr(b), c.bstride = b->stride[0];
    return run_blocks(&c, conv2d_block);
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
        run_shares(fn, &j, O * j.nch); /* tasks chunk-major: each thread sums its own images */
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

/* conv2d backward, lane l (its contiguous blocks): mat (O, ld) = gy's columns; dW^T (CK, O) partial += col @ mat^T
 * with col the forward's (kept) or recomputed; dcol (CK, ld) = W^T @ mat, gx += col2im(dcol). */
static void conv2d_grad_lane(void *vc, int64_t lane, int tid) {
    (void)tid;
    conv_ctx *c = vc;
    const geom *g = c->g;
    int64_t O = c->ch;
    const int64_t b0 = lane_b0(&c->pl, lane);
    for (int64_t b = b0; b < lane_b0(&c->pl, lane + 1); b++) {
        int64_t n0 = block_n0(&c->pl, b), nb = block_len(&c->pl, g, b);
        char *colbuf, *mat;
        if (block_scratch(c, c->gx || !c->kept, &colbuf, &mat)) return;
        job j = {.g = g, .src = c->gyv, .mat = mat, .n0 = n0, .ld = nb * g->P, .ch = O};
        per_image(tab()->gather[c->f64], &j, nb, O * j.ld);
        if (c->part) {
            const char *col = colbuf;
            int64_t ldc = j.ld;
            if (c->kept)
                col = c->kept + (size_t)(n0 * g->P) * c->es, ldc = g->N * g->P;
            else {
                j.src = c->xv, j.mat = colbuf;
                run_im2col(c->f64, &j, nb);
            }
            gemm(c->f64, g->CK, O, j.ld, col, ldc, 1, mat, 1, j.ld, b == b0 ? 0.0 : 1.0,
                 c->part + (size_t)(lane * g->CK * O) * c->es, 1, g->CK);
        }
        if (c->gx) {
            gemm(c->f64, g->CK, j.ld, O, c->W, 1, g->CK, mat, j.ld, 1, 0.0, colbuf, j.ld, 1);
            j.dst = c->gx, j.mat = colbuf;
            run_col2im(c->f64, &j, nb);
        }
    }
}

int vae__k_conv2d_grad_kept(const vae_tensor *x, const vae_tensor *w, const vae_tensor *gy,
                            vae_tensor *gx, vae_tensor *gw, vae_tensor *gb, int64_t s, int64_t p,
                            const void *kept) {
    int64_t O = w->shape[0];
    geom g = geom_make(images(x), SPATIAL(x, 0), SPATIAL(x, 1), SPATIAL(x, 2), w->shape[2],
                       w->shape[3], s, p, SPATIAL(gy, 1), SPATIAL(gy, 2));
    if (gb && bias_grad(gy, gb, g.N, O, g.P)) return -1;
    if ((!gx && !gw) || g.N == 0 || g.P == 0 || O == 0) return 0;
    conv_ctx c = {.g = &g, .f64 = x->dtype == VAE_F64, .es = vae_dtype_size(x->dtype), .ch = O,
                  .W = vae_tensor_ptr(w), .xv = img_of(x), .gyv = img_of(gy), .kept = kept};
    /* col scratch: for dcol, or for im2col when nothing was kept */
    c.pl = plan_make(&g, (gx || !kept) && g.CK > O ? g.CK : O);
    if (gx) c.gx = vae_tensor_ptr(gx);
    return run_lanes(&c, conv2d_grad_lane, gw, O);
}

int vae_k_conv2d_grad(const vae_tensor *x, const vae_tensor *w, const vae_tensor *gy,
                      vae_tensor *gx, vae_tensor *gw, vae_tensor *gb, int64_t s, int64_t p) {
    return vae__k_conv2d_grad_kept(x, w, gy, gx, gw, gb, s, p, NULL);
}

/* Images [n0, n0 + nb) of y (N, O, P) contiguous = b[o] (or 0), b (O,) of y's dtype with stride bs. In the
 * transposed conv's blocks, so that each thread fills the images it then adds into. */
static void fill_bias(int f64, char *y, const char *b, int64_t bs, int64_t n0, int64_t nb, int64_t O,
                      int64_t P) {
    for (int64_t n = n0; n < n0 + nb; n++)
        for (int64_t o = 0; o < O; o++) {
            if (f64) {
                double *r = (double *)y + (n * O + o) * P, v = b ? ((const double *)b)[o * bs] : 0;
                for (int64_t q = 0; q < P; q++) r[q] = v;
            } else {
                float *r = (float *)y + (n * O + o) * P, v = b ? ((const float *)b)[o * bs] : 0;
                for (int64_t q = 0; q < P; q++) r[q] = v;
            }
        }
}

/* conv_transpose2d forward, block b: mat (C, ld) = x's columns; col (O*kk, ld) = W^T (O*kk, C) @ mat; y +=
 * col2im(col). */
static void convt_block(void *vc, int64_t b, int tid) {
    (void)tid;
    conv_ctx *c = vc;
    const geom *g = c->g;
    int64_t n0 = block_n0(&c->pl, b), nb = block_len(&c->pl, g, b), C = c->ch;
    char *col, *mat;
    fill_bias(c->f64, c->dst, c->bias, c->bstride, n0, nb, g->Ci, g->Hi * g->Wi);
    if (block_scratch(c, 1, &col, &mat)) return;
    job j = {.g = g, .src = c->xv, .dst = c->dst, .mat = mat, .n0 = n0, .ld = nb * g->P, .ch = C};
    per_image(tab()->gather[c->f64], &j, nb, C * j.ld);
    gemm(c->f64, g->CK, j.ld, C, c->W, 1, g->CK, mat, j.ld, 1, 0.0, col, j.ld, 1);
    j.mat = col;
    run_col2im(c->f64, &j, nb);
}

int vae_k_conv_transpose2d(const vae_tensor *x, const vae_tensor *w, const vae_tensor *b,
                           vae_tensor *y, int64_t s, int64_t p) {
    int64_t C = w->shape[0], O = w->shape[1];
    geom g = geom_make(images(x), O, SPATIAL(y, 1), SPATIAL(y, 2), w->shape[2], w->shape[3], s, p,
                       SPATIAL(x, 1), SPATIAL(x, 2));
    conv_ctx c = {.g = &g, .f64 = x->dtype == VAE_F64, .es = vae_dtype_size(x->dtype), .ch = C,
                  .W = vae_tensor_ptr(w), .xv = img_of(x), .dst = vae_tensor_ptr(y)};
    if (b) c.bias = vae_tensor_ptr(b), c.bstride = b->stride[0];
    if (g.N == 0 || g.P == 0 || C == 0) { /* y = the bias alone */
        fill_bias(c.f64, c.dst, c.bias, c.bstride, 0, g.N, O, g.Hi * g.Wi);
        return 0;
    }
    c.pl = plan_make(&g, g.CK > C ? g.CK : C);
    return run_blocks(&c, convt_block);
}

/* conv_transpose2d backward, lane l: col (O*kk, ld) = patches of gy at x's positions; dW^T (O*kk, C) partial += col
 * @ x^T (x's columns gathered into mat); dx (C, ld) = W (C, O*kk) @ col, added into gx's images. */
static void convt_grad_lane(void *vc, int64_t lane, int tid) {
    (void)tid;
    conv_ctx *c = vc;
    const geom *g = c->g;
    int64_t C = c->ch;
    const int64_t b0 = lane_b0(&c->pl, lane);
    for (int64_t b = b0; b < lane_b0(&c->pl, lane + 1); b++) {
        int64_t n0 = block_n0(&c->pl, b), nb = block_len(&c->pl, g, b);
        char *col, *mat;
        if (block_scratch(c, 1, &col, &mat)) return;
        job j = {.g = g, .src = c->gyv, .mat = col, .n0 = n0, .ld = nb * g->P, .ch = C};
        run_im2col(c->f64, &j, nb);
        if (c->part) {
            j.src = c->xv, j.mat = mat;
            per_image(tab()->gather[c->f64], &j, nb, C * j.ld);
            gemm(c->f64, g->CK, C, j.ld, col, j.ld, 1, mat, 1, j.ld, b == b0 ? 0.0 : 1.0,
                 c->part + (size_t)(lane * g->CK * C) * c->es, 1, g->CK);
        }
        if (c->gx) {
            gemm(c->f64, C, j.ld, g->CK, c->W, g->CK, 1, col, j.ld, 1, 0.0, mat, j.ld, 1);
            j.dst = c->gx, j.mat = mat, j.add = 1;
            per_image(tab()->scatter[c->f64], &j, nb, C * j.ld);
        }
    }
}

int vae_k_conv_transpose2d_grad(const vae_tensor *x, const vae_tensor *w, const vae_tensor *gy,
                                vae_tensor *gx, vae_tensor *gw, vae_tensor *gb, int64_t s,
                                int64_t p) {
    int64_t C = w->shape[0], O = w->shape[1];
    geom g = geom_make(images(x), O, SPATIAL(gy, 1), SPATIAL(gy, 2), w->shape[2], w->shape[3], s, p,
                       SPATIAL(x, 1), SPATIAL(x, 2));
    if (gb && bias_grad(gy, gb, g.N, O, g.Hi * g.Wi)) return -1;
    if ((!gx && !gw) || g.N == 0 || g.P == 0 || C == 0) return 0;
    conv_ctx c = {.g = &g, .f64 = x->dtype == VAE_F64, .es = vae_dtype_size(x->dtype), .ch = C,
                  .W = vae_tensor_ptr(w), .xv = img_of(x), .gyv = img_of(gy)};
    c.pl = plan_make(&g, g.CK > C ? g.CK : C);
    if (gx) c.gx = vae_tensor_ptr(gx);
    return run_lanes(&c, convt_grad_lane, gw, C);
}
