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
#define UKR_DIRECT_A      1
#include "gemm_ukr.h"
#undef UKR_DIRECT_A
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

/* Transpose the 8x8 block r[0..8) (rows) in registers: r[c] becomes column c. */
static inline void transpose8(__m256 r[8]) {
    __m256 t[8], u[8];
    for (int j = 0; j < 4; j++) {
        t[2 * j] = _mm256_unpacklo_ps(r[2 * j], r[2 * j + 1]);
        t[2 * j + 1] = _mm256_unpackhi_ps(r[2 * j], r[2 * j + 1]);
    }
    for (int g = 0; g < 2; g++) {
        u[4 * g] = _mm256_shuffle_ps(t[4 * g], t[4 * g + 2], 0x44);
        u[4 * g + 1] = _mm256_shuffle_ps(t[4 * g], t[4 * g + 2], 0xee);
        u[4 * g + 2] = _mm256_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0x44);
        u[4 * g + 3] = _mm256_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0xee);
    }
    for (int c = 0; c < 4; c++) {
        r[c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x20);
        r[4 + c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x31);
    }
}

/* Lanes [0, w) set, for masked loads of a partial row of 8 (w in 1..8). */
static inline __m256i lanes(int w) {
    static const int32_t ones[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256((const __m256i *)(ones + 8 - w));
}

/* Load rows [0, h) of an 8-wide block of a row-major matrix (row stride ld), w valid columns;
 * rows h..7 are zero. */
static inline void load_block(__m256 r[8], const float *src, int64_t ld, int h, int w) {
    const __m256i mk = lanes(w);
    for (int i = 0; i < 8; i++)
        r[i] = i >= h   ? _mm256_setzero_ps()
               : w == 8 ? _mm256_loadu_ps(src + i * ld)
                        : _mm256_maskload_ps(src + i * ld, mk);
}

/* Pack m <= 6 contiguous rows of A (csa == 1) into dst[k*m + i], 8 k at a time: an 8x8 register
 * transpose, then each column stored as 8 floats at dst + k*m. A store's lanes past m land on the
 * next column, which the next store (in increasing k) overwrites; the last one runs up to 8 floats
 * past the panel, which the driver allocates as slack (GEMM_PACK_SLACK). Replaces a scalar loop
 * with strided stores (~10% of a W1 step). */
static void pack_rows_s256(int m, int64_t kc, const float *A, int64_t rsa, float *dst) {
    for (int64_t k0 = 0; k0 < kc; k0 += 8) {
        const int w = kc - k0 < 8 ? (int)(kc - k0) : 8;
        __m256 r[8];
        load_block(r, A + k0, rsa, m, w);
        transpose8(r);
        for (int k = 0; k < w; k++) _mm256_storeu_ps(dst + (k0 + k) * m, r[k]);
    }
}

/* Pack n <= 16 columns of a B whose columns are contiguous (rsb == 1: B(k, j) = B[j*csb + k], the
 * W^T of dx = g W^T) into dst[k*npad + j], zeros for n <= j < npad: 8x8 register transposes
 * instead of a scalar gather. */
static void pack_cols_s256(int n, int npad, int64_t kc, const float *B, int64_t csb, float *dst) {
    for (int j0 = 0; j0 < npad; j0 += 8) {
        const int h = n - j0 < 8 ? (n - j0 > 0 ? n - j0 : 0) : 8;
        for (int64_t k0 = 0; k0 < kc; k0 += 8) {
            const int w = kc - k0 < 8 ? (int)(kc - k0) : 8;
            __m256 r[8];
            load_block(r, B + j0 * csb + k0, csb, h, w);
            transpose8(r);
            for (int k = 0; k < w; k++) _mm256_storeu_ps(dst + (k0 + k) * npad + j0, r[k]);
        }
    }
}

const vae__sgemm_kernel vae__sgemm_avx2 = {ukr_s256, pack_rows_s256, pack_cols_s256, 6, 16, 8, S_KC,
                                           S_NC, ukr_s256_da, NULL, NULL, NULL, NULL};
const vae__dgemm_kernel vae__dgemm_avx2 = {ukr_d256, NULL, NULL, 6, 8, 4, D_KC, D_NC, NULL, NULL, NULL, NULL, NULL};
