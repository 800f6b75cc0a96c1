/* AVX-512 GEMM micro-kernels (compiled with -mavx512f -mavx512vl -mavx512bw -mavx512dq; called only
 * when vae_cpu_has_avx512f()). f32 tile up to 12 x 32, f64 up to 12 x 16: 24 zmm accumulators cover
 * the 4-cycle FMA latency on two FMA pipes three times over, and each k step loads 2 B vectors for
 * 24 FMAs. Edges in N use masks. */
#include "gemm_kernels.h"

#include <immintrin.h>

/* Blocking for Zen 5 (L1d 48 KiB, L2 1 MiB): the A micro-panel (12 x kc) stays in L1d, the packed B
 * block (kc x nc) in L2 while A micro-panels sweep over it. f32: 24 KiB + 768 KiB, measured best on
 * 1024^3 (kc 256..512, nc 256..768 tried); a long kc also halves the passes over C. */
enum { S_KC = 512, S_NC = 384, D_KC = 192, D_NC = 384 };

#define UKR_NAME             ukr_s512
#define UKR_T                float
#define UKR_V                __m512
#define UKR_W                16
#define UKR_MR               12
#define UKR_ZERO()           _mm512_setzero_ps()
#define UKR_SET1(x)          _mm512_set1_ps(x)
#define UKR_LOADU(p)         _mm512_loadu_ps(p)
#define UKR_STOREU(p, v)     _mm512_storeu_ps(p, v)
#define UKR_FMA(a, b, c)     _mm512_fmadd_ps(a, b, c)
#define UKR_MUL(a, b)        _mm512_mul_ps(a, b)
#define UKR_SFMA(a, b, c)    __builtin_fmaf(a, b, c)
#define UKR_MASKED           1
#define UKR_PREFETCH_C(p)    _mm_prefetch((const char *)(p), _MM_HINT_T0)
#define UKR_MASK_T           __mmask16
#define UKR_MASK(rem)        ((__mmask16)((1u << (rem)) - 1u))
#define UKR_MLOADU(m, p)     _mm512_maskz_loadu_ps(m, p)
#define UKR_MSTOREU(p, m, v) _mm512_mask_storeu_ps(p, m, v)
#define UKR_DIRECT_A         1
#define UKR_PREFETCH_B(p)    _mm_prefetch((const char *)(p), _MM_HINT_T0)
#define UKR_PFD              16
#include "gemm_ukr.h"
#undef UKR_DIRECT_A
#undef UKR_PREFETCH_B
#undef UKR_PFD
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
#undef UKR_PREFETCH_C
#undef UKR_MASK_T
#undef UKR_MASK
#undef UKR_MLOADU
#undef UKR_MSTOREU

#define UKR_NAME             ukr_d512
#define UKR_T                double
#define UKR_V                __m512d
#define UKR_W                8
#define UKR_MR               12
#define UKR_ZERO()           _mm512_setzero_pd()
#define UKR_SET1(x)          _mm512_set1_pd(x)
#define UKR_LOADU(p)         _mm512_loadu_pd(p)
#define UKR_STOREU(p, v)     _mm512_storeu_pd(p, v)
#define UKR_FMA(a, b, c)     _mm512_fmadd_pd(a, b, c)
#define UKR_MUL(a, b)        _mm512_mul_pd(a, b)
#define UKR_SFMA(a, b, c)    __builtin_fma(a, b, c)
#define UKR_MASK_T           __mmask8
#define UKR_MASK(rem)        ((__mmask8)((1u << (rem)) - 1u))
#define UKR_MLOADU(m, p)     _mm512_maskz_loadu_pd(m, p)
#define UKR_MSTOREU(p, m, v) _mm512_mask_storeu_pd(p, m, v)
#include "gemm_ukr.h"

/* Transpose 16 x 16 floats in registers: on return r[k] holds element k of every input row (row i
 * in lane i). 4 rounds of 16 shuffles. */
static inline void transpose16(__m512 r[16]) {
    __m512 a[16], b[16];
    /* a[2j], a[2j+1]: rows 2j, 2j+1 interleaved; per 128-bit lane L: elements 4L+{0,1} and
     * 4L+{2,3}. */
    for (int j = 0; j < 8; j++) {
        a[2 * j] = _mm512_unpacklo_ps(r[2 * j], r[2 * j + 1]);
        a[2 * j + 1] = _mm512_unpackhi_ps(r[2 * j], r[2 * j + 1]);
    }
    /* b[4g+c], lane L: rows 4g..4g+3 at element 4L+c. */
    for (int g = 0; g < 4; g++) {
        const __m512d x0 = _mm512_castps_pd(a[4 * g]), x1 = _mm512_castps_pd(a[4 * g + 1]);
        const __m512d x2 = _mm512_castps_pd(a[4 * g + 2]), x3 = _mm512_castps_pd(a[4 * g + 3]);
        b[4 * g] = _mm512_castpd_ps(_mm512_unpacklo_pd(x0, x2));
        b[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(x0, x2));
        b[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(x1, x3));
        b[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(x1, x3));
    }
    /* Column 4L+c = lane L of b[c], b[4+c], b[8+c], b[12+c]: a 4x4 transpose of 128-bit lanes. */
    for (int c = 0; c < 4; c++) {
        const __m512 u0 = _mm512_shuffle_f32x4(b[c], b[4 + c], 0x44),
                     u1 = _mm512_shuffle_f32x4(b[c], b[4 + c], 0xee);
        const __m512 u2 = _mm512_shuffle_f32x4(b[8 + c], b[12 + c], 0x44);
        const __m512 u3 = _mm512_shuffle_f32x4(b[8 + c], b[12 + c], 0xee);
        r[c] = _mm512_shuffle_f32x4(u0, u2, 0x88);
        r[4 + c] = _mm512_shuffle_f32x4(u0, u2, 0xdd);
        r[8 + c] = _mm512_shuffle_f32x4(u1, u3, 0x88);
        r[12 + c] = _mm512_shuffle_f32x4(u1, u3, 0xdd);
    }
}

/* Pack m <= 12 contiguous rows of A (csa == 1) into dst[k*m + i], 16 k at a time: load up to 16
 * rows of 16 floats, transpose 16x16 in registers, store the first m lanes of each column.
 * Replaces a scalar loop whose strided stores cost ~1.5 cycles per element.
 */
static void pack_rows_s512(int m, int64_t kc, const float *A, int64_t rsa, float *dst) {
    const __mmask16 mrow = (__mmask16)((1u << m) - 1u);
    for (int64_t k0 = 0; k0 < kc; k0 += 16) {
        const int w = kc - k0 < 16 ? (int)(kc - k0) : 16;
        const __mmask16 mk = (__mmask16)((1u << w) - 1u);
        __m512 r[16];
        for (int i = 0; i < 16; i++)
            r[i] = i < m ? _mm512_maskz_loadu_ps(mk, A + i * rsa + k0) : _mm512_setzero_ps();
        transpose16(r);
        for (int k = 0; k < w; k++) _mm512_mask_storeu_ps(dst + (k0 + k) * m, mrow, r[k]);
    }
}

/* Pack n <= 32 columns of a B whose columns are contiguous (rsb == 1: B(k, j) = B[j*csb + k], the
 * W^T of dx = g W^T) into dst[k*npad + j], zeros for n <= j < npad: 16x16 register transposes
 * instead of the driver's scalar loop of strided stores (~5% of a W1 training step). */
static void pack_cols_s512(int n, int npad, int64_t kc, const float *B, int64_t csb, float *dst) {
    for (int j0 = 0; j0 < npad; j0 += 16) {
        const int h = n - j0 < 16 ? (n - j0 > 0 ? n - j0 : 0) : 16;
        for (int64_t k0 = 0; k0 < kc; k0 += 16) {
            const int w = kc - k0 < 16 ? (int)(kc - k0) : 16;
            const __mmask16 mk = (__mmask16)((1u << w) - 1u);
            __m512 r[16];
            for (int i = 0; i < 16; i++)
                r[i] = i < h ? _mm512_maskz_loadu_ps(mk, B + (j0 + i) * csb + k0)
                             : _mm512_setzero_ps();
            transpose16(r);
            for (int k = 0; k < w; k++) _mm512_storeu_ps(dst + (k0 + k) * npad + j0, r[k]);
        }
    }
}

/* The row-by-row packers below read one short run per row of a matrix whose rows lie far apart (an activation
 * or a gradient, usually in L3 or memory): they prefetch the row PACK_PFD ahead. Each replaces a memcpy call
 * per row (48 or 128 bytes), which `perf` put at ~8% of W2's GEMM time. */
enum { PACK_PFD = 16 }; /* rows; 4 and 32 were slower on W2's products */

/* dst[k*m + i] = A[k*csa + i], i < m <= 16: one masked vector per k. */
static void pack_cols_a_s512(int m, int64_t kc, const float *A, int64_t csa, float *dst) {
    const __mmask16 mk = (__mmask16)((1u << m) - 1u);
    for (int64_t k = 0; k < kc; k++, A += csa, dst += m) {
        _mm_prefetch((const char *)(A + PACK_PFD * csa), _MM_HINT_T0);
        _mm512_mask_storeu_ps(dst, mk, _mm512_maskz_loadu_ps(mk, A));
    }
}

/* dst[k*npad + j] = B[k*rsb + j] for j < n <= 32, zeros up to npad: two masked vectors per k. */
static void pack_b_rows_s512(int n, int npad, int64_t kc, const float *B, int64_t rsb, float *dst) {
    const __mmask16 m0 = (__mmask16)(n >= 16 ? 0xffffu : (1u << n) - 1u);
    const __mmask16 m1 = (__mmask16)(n >= 32 ? 0xffffu : n > 16 ? (1u << (n - 16)) - 1u : 0u);
    for (int64_t k = 0; k < kc; k++, B += rsb, dst += npad) {
        _mm_prefetch((const char *)(B + PACK_PFD * rsb), _MM_HINT_T0);
        if (n > 16) _mm_prefetch((const char *)(B + PACK_PFD * rsb + 16), _MM_HINT_T0);
        _mm512_storeu_ps(dst, _mm512_maskz_loadu_ps(m0, B));
        if (npad > 16) _mm512_storeu_ps(dst + 16, _mm512_maskz_loadu_ps(m1, B + 16));
    }
}

const vae__sgemm_kernel vae__sgemm_avx512 = {
    ukr_s512, pack_rows_s512, pack_cols_s512, 12, 32, 16, S_KC, S_NC, ukr_s512_da, ukr_s512_pf, ukr_s512_da_pf,
    pack_cols_a_s512, pack_b_rows_s512};
const vae__dgemm_kernel vae__dgemm_avx512 = {ukr_d512, NULL, NULL, 12, 16, 8, D_KC, D_NC, NULL, NULL, NULL, NULL, NULL};
