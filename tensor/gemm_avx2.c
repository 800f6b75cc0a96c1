/* AVX2 + FMA3 GEMM micro-kernels (compiled with -mavx2 -mfma; called only when
 * vae_cpu_has_avx2_fma()). f32 tile up to 6 x 16, f64 up to 6 x 8: 12 ymm accumulators + 2 B
 * vectors + 1 broadcast fill 15 of the 16 ymm registers. Partial-width tiles and strided C go
 * through a small buffer. */
#include "gemm_kernels.h"

#include <immintrin.h>

/* A micro-panel (6 x kc) in L1d, packed B block (kc x nc) in L2 (see gemm_avx512.c). */
enum { S_KC = 256, S_NC = 512, D_KC = 256, D_NC = 256 };

#define UKR_NAME          ukr_s256
#define UKR_T             float
#define UKR_V             __m256
#define UKR_W             8
#define UKR_MR            6
#define UKR_ZERO()        _mm256_setzero_ps()
#define UKR_SET1(x)       _mm256_set1_ps(x)
#define UKR_LOADU(p)      _mm256_loadu_ps(p)
#define UKR_STOREU(p, v)  _mm256_storeu_ps(p, v)
#define UKR_FMA(a, b, c)  _mm256_fmadd_ps(a, b, c)
#define UKR_MUL(a, b)     _mm256_mul_ps(a, b)
#define UKR_SFMA(a, b, c) __builtin_fmaf(a, b, c)
#include "gemm_ukr.h"
#undef UKR_NAME
#undef UKR_T
#undef UKR_V
#undef UKR_W
#undef UKR_MR
#undef UKR_ZERO
#undef UKR_SET1
#undef UKR_LOADU
#undef UKR_STOREU
#undef UKR_FMA
#undef UKR_MUL
#undef UKR_SFMA

#define UKR_NAME          ukr_d256
#define UKR_T             double
#define UKR_V             __m256d
#define UKR_W             4
#define UKR_MR            6
#define UKR_ZERO()        _mm256_setzero_pd()
#define UKR_SET1(x)       _mm256_set1_pd(x)
#define UKR_LOADU(p)      _mm256_loadu_pd(p)
#define UKR_STOREU(p, v)  _mm256_storeu_pd(p, v)
#define UKR_FMA(a, b, c)  _mm256_fmadd_pd(a, b, c)
#define UKR_MUL(a, b)     _mm256_mul_pd(a, b)
#define UKR_SFMA(a, b, c) __builtin_fma(a, b, c)
#include "gemm_ukr.h"

const vae__sgemm_kernel vae__sgemm_avx2 = {ukr_s256, NULL, 6, 16, 8, S_KC, S_NC};
const vae__dgemm_kernel vae__dgemm_avx2 = {ukr_d256, NULL, 6, 8, 4, D_KC, D_NC};
