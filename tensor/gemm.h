/* gemm.h - general matrix multiply on general-stride operands, single and double precision.
 *
 * Every operand is addressed by a row stride and a column stride (in elements), so transposed,
 * strided or column-major views are passed as they are: A(i,k) = A[i*rsa + k*csa], and A^T is the
 * same buffer with the two strides swapped. Operands are packed into cache-sized panels internally,
 * so callers never copy.
 *
 * Results are bit-identical for any thread count (work is split over rows and columns of C, never
 * over K), and for a given path identical from run to run. Different paths (portable, AVX2,
 * AVX-512) may differ in the last bits.
 */
#ifndef VAE_GEMM_H
#define VAE_GEMM_H

#include <stdint.h>

#include "error.h"

/* C(i,j) = alpha * sum_k A(i,k) B(k,j) + beta * C(i,j) for i < M, j < N, k < K, with A(i,k) =
 * A[i*rsa + k*csa], B(k,j) = B[k*rsb + j*csb], C(i,j) = C[i*rsc + j*csc]. As in BLAS: beta == 0
 * means C is not read (NaNs in C are overwritten); alpha == 0 or K == 0 means A and B are not read
 * and C becomes beta*C (zeroed when beta == 0, untouched when beta == 1); a NULL A or B counts as
 * alpha == 0. M <= 0 or N <= 0 (or a NULL C) does nothing. C must not overlap A or B. Runs on the
 * pool (see threadpool.h) when the product is large enough. Never fails: if scratch memory cannot
 * be allocated it computes with a slow unpacked loop instead. */
VAE_API void vae_sgemm(int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t rsa,
                       int64_t csa, const float *B, int64_t rsb, int64_t csb, float beta, float *C,
                       int64_t rsc, int64_t csc);

/* Double-precision vae_sgemm, same contract. */
VAE_API void vae_dgemm(int64_t M, int64_t N, int64_t K, double alpha, const double *A, int64_t rsa,
                       int64_t csa, const double *B, int64_t rsb, int64_t csb, double beta,
                       double *C, int64_t rsc, int64_t csc);

typedef enum vae_gemm_path {
    VAE_GEMM_AUTO,     /* the fastest path this CPU supports */
    VAE_GEMM_PORTABLE, /* plain C, every platform */
    VAE_GEMM_AVX2,     /* AVX2 + FMA3 micro-kernels */
    VAE_GEMM_AVX512,   /* AVX-512 F/VL/BW/DQ micro-kernels */
    VAE_GEMM_PATH_COUNT_
} vae_gemm_path;

/* Choose the kernel path for every later call (process-wide). VAE_GEMM_AUTO picks the fastest
 * available. VAE_ERR_UNSUPPORTED if this build or this CPU lacks the path, VAE_ERR_ARG for a value
 * outside the enum; the path is unchanged on error. Without a call, the env variable
 * VAE_GEMM_PATH=portable|avx2|avx512|auto is read at first use (an unknown or unsupported value
 * means auto). */
VAE_API vae_status vae_gemm_set_path(vae_gemm_path p);

/* The path calls use now; never VAE_GEMM_AUTO. */
VAE_API vae_gemm_path vae_gemm_get_path(void);

/* "auto", "portable", "avx2", "avx512"; "unknown" for other values. Never NULL. */
VAE_API const char *vae_gemm_path_name(vae_gemm_path p);

/* GEMM accounting, for benchmarks that report the GEMM share of a training step. */
typedef struct vae_gemm_stats {
    int64_t calls;  /* vae_sgemm/vae_dgemm calls with M, N, K > 0 */
    double flops;   /* sum of 2*M*N*K */
    double seconds; /* sum of the wall times of calls made outside pool tasks, pool wake-up and barrier included */
    double task_seconds; /* sum of the times of calls made inside pool tasks (serial, several at once: thread-seconds;
                          * divided by the thread count, a share of the wall time) */
} vae_gemm_stats;

/* Switch accounting on (on != 0) or off, process-wide; off by default. While on, each call adds to the totals:
 * calls and flops always, its time to seconds, or to task_seconds when it runs inside a pool task (the conv ops
 * run blocks of images as tasks, each with serial GEMMs). It costs two clock reads per call. Never fails. */
VAE_API void vae_gemm_stats_enable(int on);

/* The totals since the last reset. Never fails. */
VAE_API vae_gemm_stats vae_gemm_stats_get(void);

/* Zero the totals. Not synchronized with calls in flight on other threads. Never fails. */
VAE_API void vae_gemm_stats_reset(void);

#endif
