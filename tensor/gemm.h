/* gemm.h - general-stride matrix multiply, the engine behind every matmul.
 *
 * C(i,j) = alpha * sum_k A(i,k) B(k,j) + beta * C(i,j), with A(i,k) = A[i*rsa + k*csa] and likewise for B and C
 * (BLIS-style strides: a transposed operand is just swapped strides). beta == 0 means C is not read.
 */
#ifndef VAE_GEMM_H
#define VAE_GEMM_H

#include <stdint.h>

void vae_sgemm(int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t rsa, int64_t csa,
               const float *B, int64_t rsb, int64_t csb, float beta, float *C, int64_t rsc, int64_t csc);
void vae_dgemm(int64_t M, int64_t N, int64_t K, double alpha, const double *A, int64_t rsa, int64_t csa,
               const double *B, int64_t rsb, int64_t csb, double beta, double *C, int64_t rsc,
               int64_t csc);

#endif
