/* AVX-512 GEMM micro-kernels (compiled with -mavx512f -mavx512vl -mavx512bw -mavx512dq; called only when
 * vae_cpu_has_avx512f()). f32 tile up to 12 x 32, f64 up to 12 x 16: 24 zmm accumulators cover the 4-cycle FMA
 * latency on two FMA pipes three times over, and each k step loads 2 B vectors for 24 FMAs. Edges in N use masks. */
#include "gemm_kernels.h"

#include <immintrin.h>

/* Blocking for Zen 5 (L1d 48 KiB, L2 1 MiB): the A micro-panel (12 x kc) stays in L1d, the packed B block
 * (kc x nc) in L2 while A micro-panels sweep over it. */
enum { S_KC = 256, S_NC = 512, D_KC = 192, D_NC = 384 };

#define UKR_NAME ukr_s512
#define UKR_T float
#define UKR_V __m512
#define UKR_W 16
#define UKR_MR 12
#define UKR_ZERO() _mm512_setzero_ps()
#define UKR_SET1(x) _mm512_set1_ps(x)
#define UKR_LOAD(p) _mm512_load_ps(p)
#define UKR_LOADU(p) _mm512_loadu_ps(p)
#define UKR_STOREU(p, v) _mm512_storeu_ps(p, v)
#define UKR_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define UKR_MUL(a, b) _mm512_mul_ps(a, b)
#define UKR_SFMA(a, b, c) __builtin_fmaf(a, b, c)
#define UKR_MASKED 1
#define UKR_MASK_T __mmask16
#define UKR_MASK(rem) ((__mmask16)((1u << (rem)) - 1u))
#define UKR_MLOADU(m, p) _mm512_maskz_loadu_ps(m, p)
#define UKR_MSTOREU(p, m, v) _mm512_mask_storeu_ps(p, m, v)
#include "gemm_ukr.h"
#undef UKR_NAME
#undef UKR_T
#undef UKR_V
#undef UKR_W
#undef UKR_MR
#undef UKR_ZERO
#undef UKR_SET1
#undef UKR_LOAD
#undef UKR_LOADU
#undef UKR_STOREU
#undef UKR_FMA
#undef UKR_MUL
#undef UKR_SFMA
#undef UKR_MASK_T
#undef UKR_MASK
#undef UKR_MLOADU
#undef UKR_MSTOREU

#define UKR_NAME ukr_d512
#define UKR_T double
#define UKR_V __m512d
#define UKR_W 8
#define UKR_MR 12
#define UKR_ZERO() _mm512_setzero_pd()
#define UKR_SET1(x) _mm512_set1_pd(x)
#define UKR_LOAD(p) _mm512_load_pd(p)
#define UKR_LOADU(p) _mm512_loadu_pd(p)
#define UKR_STOREU(p, v) _mm512_storeu_pd(p, v)
#define UKR_FMA(a, b, c) _mm512_fmadd_pd(a, b, c)
#define UKR_MUL(a, b) _mm512_mul_pd(a, b)
#define UKR_SFMA(a, b, c) __builtin_fma(a, b, c)
#define UKR_MASK_T __mmask8
#define UKR_MASK(rem) ((__mmask8)((1u << (rem)) - 1u))
#define UKR_MLOADU(m, p) _mm512_maskz_loadu_pd(m, p)
#define UKR_MSTOREU(p, m, v) _mm512_mask_storeu_pd(p, m, v)
#include "gemm_ukr.h"

const vae__sgemm_kernel vae__sgemm_avx512 = {ukr_s512, 12, 32, 16, S_KC, S_NC};
const vae__dgemm_kernel vae__dgemm_avx512 = {ukr_d512, 12, 16, 8, D_KC, D_NC};
