/* gemm_kernels.h - private: the micro-kernel interface between the GEMM driver (gemm.c) and the
 * ISA-specific files (gemm_avx2.c, gemm_avx512.c, each compiled with its own -m flags).
 *
 * Packed layouts the driver produces:
 *   A micro-panel: m x kc rows of A, m <= mr, stored k-major: a[k*m + i]   (one column of m values
 * per k) B micro-panel: kc x n columns of B, n <= nr, padded with zeros to npad = roundup(n,
 * nr_pad): b[k*npad + j], ldb = npad. Or, for a full-width panel (n == nr) of a row-major B, B
 * itself: ldb = its row stride (saves packing B when few rows of A share it). No alignment is
 * assumed. The kernel computes the m x n tile  C = alpha * (a . b) + beta * C  (beta == 0: C not
 * read), accumulating every element with one multiply-add chain in k order, so the value of an
 * element does not depend on m, n or the tile it falls in. It must handle any 1 <= m <= mr, 1 <= n
 * <= nr and any strides of C.
 */
#ifndef VAE_GEMM_KERNELS_H
#define VAE_GEMM_KERNELS_H

#include <stdint.h>

typedef void (*vae__sgemm_ukr)(int64_t kc, const float *a, const float *b, int64_t ldb, float *c,
                               int64_t rsc, int64_t csc, int m, int n, float alpha, float beta);
typedef void (*vae__dgemm_ukr)(int64_t kc, const double *a, const double *b, int64_t ldb, double *c,
                               int64_t rsc, int64_t csc, int m, int n, double alpha, double beta);

/* Optional micro-kernel reading A unpacked, row-major: A(i, k) = a[i*lda + k] (same arithmetic, same bits). The
 * driver uses it when N fits one micro-panel: then every A panel meets exactly one B panel, and packing A would only
 * copy it (the conv ops' weight gradients dW^T = col @ gy^T, col being thousands of columns long). */
typedef void (*vae__sgemm_ukr_da)(int64_t kc, const float *a, int64_t lda, const float *b, int64_t ldb, float *c,
                                  int64_t rsc, int64_t csc, int m, int n, float alpha, float beta);
typedef void (*vae__dgemm_ukr_da)(int64_t kc, const double *a, int64_t lda, const double *b, int64_t ldb,
                                  double *c, int64_t rsc, int64_t csc, int m, int n, double alpha, double beta);

/* Optional fast packing of an A micro-panel whose rows are contiguous (csa == 1): dst[k*m + i] =
 * A[i*rsa + k]. It may write up to GEMM_PACK_SLACK elements past dst + kc*m (the driver's buffers
 * have that slack; the panel packed next overwrites them). */
typedef void (*vae__sgemm_pack_rows)(int m, int64_t kc, const float *A, int64_t rsa, float *dst);
typedef void (*vae__dgemm_pack_rows)(int m, int64_t kc, const double *A, int64_t rsa, double *dst);

/* Optional fast packing of a B micro-panel whose columns are contiguous (rsb == 1): dst[k*npad + j]
 * = B[j*csb + k] for j < n, zero for n <= j < npad. */
typedef void (*vae__sgemm_pack_cols)(int n, int npad, int64_t kc, const float *B, int64_t csb,
                                     float *dst);
typedef void (*vae__dgemm_pack_cols)(int n, int npad, int64_t kc, const double *B, int64_t csb,
                                     double *dst);

/* Optional fast packing of an A micro-panel whose columns are contiguous (rsa == 1: the x^T of a weight gradient
 * x^T g): dst[k*m + i] = A[k*csa + i] for i < m, k < kc. */
typedef void (*vae__sgemm_pack_cols_a)(int m, int64_t kc, const float *A, int64_t csa, float *dst);
typedef void (*vae__dgemm_pack_cols_a)(int m, int64_t kc, const double *A, int64_t csa, double *dst);
/* Optional fast packing of a B micro-panel whose rows are contiguous (csb == 1): dst[k*npad + j] =
 * B[k*rsb + j] for j < n, zero for n <= j < npad. */
typedef void (*vae__sgemm_pack_b_rows)(int n, int npad, int64_t kc, const float *B, int64_t rsb,
                                       float *dst);
typedef void (*vae__dgemm_pack_b_rows)(int n, int npad, int64_t kc, const double *B, int64_t rsb,
                                       double *dst);

/* A kernel and the blocking that suits it: kc = largest K chunk (A micro-panel mr x kc stays in
 * L1d), nc = N block (packed B block kc x nc stays in L2). nc is a multiple of nr, nr a multiple of
 * nr_pad. ukr_pf / ukr_da_pf (optional, same contract and bits as ukr / ukr_da): the kernels that also prefetch
 * B a few rows ahead, for the first sweep over a B read in place, which then usually comes from L3 or memory
 * (gemm_driver.h). */
typedef struct vae__sgemm_kernel {
    vae__sgemm_ukr ukr;
    vae__sgemm_pack_rows pack_a_rows; /* NULL: generic C packing */
    vae__sgemm_pack_cols pack_b_cols; /* NULL: generic C packing */
    int mr, nr, nr_pad, kc, nc;
    vae__sgemm_ukr_da ukr_da; /* NULL: A always packed */
    vae__sgemm_ukr ukr_pf;    /* NULL: ukr */
    vae__sgemm_ukr_da ukr_da_pf;
    vae__sgemm_pack_cols_a pack_a_cols; /* NULL: generic C packing */
    vae__sgemm_pack_b_rows pack_b_rows; /* NULL: generic C packing (a memcpy per row) */
} vae__sgemm_kernel;

typedef struct vae__dgemm_kernel {
    vae__dgemm_ukr ukr;
    vae__dgemm_pack_rows pack_a_rows;
    vae__dgemm_pack_cols pack_b_cols;
    int mr, nr, nr_pad, kc, nc;
    vae__dgemm_ukr_da ukr_da;
    vae__dgemm_ukr ukr_pf;
    vae__dgemm_ukr_da ukr_da_pf;
    vae__dgemm_pack_cols_a pack_a_cols;
    vae__dgemm_pack_b_rows pack_b_rows;
} vae__dgemm_kernel;

#if defined(VAE_HAVE_AVX2)
extern const vae__sgemm_kernel vae__sgemm_avx2;
extern const vae__dgemm_kernel vae__dgemm_avx2;
#endif
#if defined(VAE_HAVE_AVX512)
extern const vae__sgemm_kernel vae__sgemm_avx512;
extern const vae__dgemm_kernel vae__dgemm_avx512;
#endif

#endif
