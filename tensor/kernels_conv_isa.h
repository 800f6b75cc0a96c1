/* kernels_conv_isa.h - (private) the per-image loops of the conv kernels (im2col, col2im, gather, scatter, the
 * bias gradient's partial sums), shared by kernels_conv.c (the drivers: blocks, GEMMs, the pool) and
 * kernels_conv_isa.c, which is compiled once per ISA like the elementwise kernels (ew_isa.h: portable, AVX2,
 * AVX-512, names suffixed by VAE__EW) so that gcc vectorizes the copies and sums 4, 8 or 16 lanes wide.
 *
 * Every loop only moves data, or adds in the same order in every variant (col2im: per pixel in tap order; the bias
 * sums: 8 fixed double lanes), with -ffp-contract=off: all variants give the same bits. */
#ifndef VAE_KERNELS_CONV_ISA_H
#define VAE_KERNELS_CONV_ISA_H

#include <stdint.h>

#include "ew_isa.h"
#include "tensor.h"

/* A 4-d view (images, channels, rows, cols) of a tensor (..., C, H, W): image n's offset unravels n over the
 * leading dims, so (K, B, C, H, W) particles or a permuted NHWC buffer are read without a copy. */
typedef struct vae__img4 {
    char *base; /* element (0,...,0) */
    int nlead;
    int64_t lshape[VAE_MAX_DIMS], lstride[VAE_MAX_DIMS];
    int64_t sc, sh, sw;
} vae__img4;

/* One geometry for both ops (kernels_conv.c, top): the "image side" (Ci, Hi, Wi) is what im2col reads and col2im
 * writes, the kernel (kh, kw) is applied at the positions (Ph, Pw) with stride s and padding p. */
typedef struct vae__conv_geom {
    int64_t N, Ci, Hi, Wi, kh, kw, s, p, Ph, Pw;
    int64_t CK, P; /* Ci*kh*kw rows of col; Ph*Pw positions per image */
} vae__conv_geom;

/* Elements of one channel's phase planes (kernels_conv_isa.c): s*s planes of Hq x Wq, Hq = Ph - 1 + ceil(kh/s).
 * Up to PHASE_MAX of them (one buffer on the task's stack) im2col/col2im take the phase loops, else row loops. */
#define VAE__CONV_PHASE_MAX 8192
static inline int64_t vae__conv_phase_elems(const vae__conv_geom *g) {
    int64_t hq = g->Ph - 1 + (g->kh + g->s - 1) / g->s, wq = g->Pw - 1 + (g->kw + g->s - 1) / g->s;
    return g->s * g->s * hq * wq;
}

/* One call's work for the per-image tasks: images [n0, n0 + nb) of a block; ld = nb * P columns. */
typedef struct vae__conv_job {
    const vae__conv_geom *g;
    vae__img4 src;    /* strided input (im2col, gather) */
    char *dst;        /* contiguous (N, ch, P) output (col2im, scatter) */
    char *mat;        /* col or the (ch, ld) matrix */
    const char *bias; /* scatter: optional bias per channel, stride bstride */
    int64_t bstride;
    int64_t n0, ld, ch; /* ch: channels of gather/scatter */
    int add;            /* scatter: += instead of = */
    int phase; /* im2col/col2im: 0 row loops; 1 the stride-2 registers where they apply, else the phase planes
                * (vae__conv_phase_elems fits); 2 the phase planes only (tests) */
} vae__conv_job;

#define VAE__CONV_BG_CHUNK                                                                         \
    16 /* images per partial sum of the bias gradient: fixed, so sums do not depend on threads */

typedef struct vae__conv_bias_job {
    const void *gy;
    int64_t N, O, P, nch;
    double *part; /* (O, nch) */
} vae__conv_bias_job;

/* The tasks of one variant, each for vae_parallel_for (ctx = a job, task = an image of the block, or for
 * bias_part an (o, chunk) pair): im2col_T (col columns of image n0 + t), col2im_T (image n0 + t += its columns),
 * gather_T, scatter_T, bias_part_T; T float or double. */
#define VAE__CONV_ISA_PROTOS(sfx)                                                                  \
    void vae__conv_im2col_float_##sfx(void *, int64_t, int);                                       \
    void vae__conv_col2im_float_##sfx(void *, int64_t, int);                                       \
    void vae__conv_gather_float_##sfx(void *, int64_t, int);                                       \
    void vae__conv_scatter_float_##sfx(void *, int64_t, int);                                      \
    void vae__conv_bias_part_float_##sfx(void *, int64_t, int);                                    \
    void vae__conv_im2col_double_##sfx(void *, int64_t, int);                                      \
    void vae__conv_col2im_double_##sfx(void *, int64_t, int);                                      \
    void vae__conv_gather_double_##sfx(void *, int64_t, int);                                      \
    void vae__conv_scatter_double_##sfx(void *, int64_t, int);                                     \
    void vae__conv_bias_part_double_##sfx(void *, int64_t, int);

VAE__CONV_ISA_PROTOS(portable)
VAE__CONV_ISA_PROTOS(avx2)
VAE__CONV_ISA_PROTOS(avx512)

#endif
