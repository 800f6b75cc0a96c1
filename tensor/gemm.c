/* Placeholder reference GEMM (replaced by the packed SIMD implementation). */
#include "gemm.h"

#define DEFINE_GEMM(name, T)                                                                       \
    void name(int64_t M, int64_t N, int64_t K, T alpha, const T *A, int64_t rsa, int64_t csa,      \
              const T *B, int64_t rsb, int64_t csb, T beta, T *C, int64_t rsc, int64_t csc) {      \
        for (int64_t i = 0; i < M; i++)                                                            \
            for (int64_t j = 0; j < N; j++) {                                                      \
                T acc = 0;                                                                         \
                for (int64_t k = 0; k < K; k++) acc += A[i * rsa + k * csa] * B[k * rsb + j * csb]; \
                T *c = &C[i * rsc + j * csc];                                                      \
                *c = beta == 0 ? alpha * acc : alpha * acc + beta * *c;                            \
            }                                                                                      \
    }

DEFINE_GEMM(vae_sgemm, float)
DEFINE_GEMM(vae_dgemm, double)
