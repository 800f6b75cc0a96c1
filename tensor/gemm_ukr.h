/* gemm_ukr.h - private template: a register-blocked GEMM micro-kernel family (see gemm_kernels.h
 * for the packed layouts). Included by the ISA files once per element type, after defining:
 *   UKR_NAME       name of the dispatcher to define (a vae__?gemm_ukr)
 *   UKR_T, UKR_V   element and vector types; UKR_W lanes per vector; UKR_MR max rows (<= 12)
 *   UKR_ZERO() UKR_SET1(x) UKR_LOADU(p) UKR_STOREU(p, v) UKR_FMA(a, b, c) = a*b + c
 *   UKR_MUL(a, b), UKR_SFMA(a, b, c) scalar fused a*b + c
 *   optional UKR_DIRECT_A: also define UKR_NAME_da, the same kernels reading A unpacked (gemm_kernels.h, ukr_da)
 *   optional UKR_MASKED with UKR_MASK_T, UKR_MASK(rem) (first rem lanes), UKR_MLOADU(m, p),
 * UKR_MSTOREU(p, m, v) A tile is m rows x nv vectors of columns (nv = 1 or 2): m*nv accumulators,
 * plus nv B vectors and a broadcast, so 12x2 uses 27 of 32 zmm and 6x2 uses 15 of 16 ymm. Each (m,
 * nv) pair is its own function with fully unrolled loops, so the accumulators stay in registers for
 * every edge size and no tile computes padding rows.
 */
#define UKR_CAT_(a, b) a##b
#define UKR_CAT(a, b)  UKR_CAT_(a, b)
#define UKR_FN(m, nv)  UKR_CAT(UKR_NAME, UKR_CAT(_, UKR_CAT(m, UKR_CAT(x, nv))))

/* DA (a constant): A unpacked, A(i, k) = a[i*lda + k], instead of the packed a[k*MR + i]. */
static inline __attribute__((always_inline)) void
UKR_CAT(UKR_NAME, _body)(const int MR, const int NV, const int DA, int64_t kc, const UKR_T *restrict a,
                         int64_t lda, const UKR_T *restrict b, int64_t ldb, UKR_T *c, int64_t rsc,
                         int64_t csc, int n, UKR_T alpha, UKR_T beta) {
    UKR_V acc[12][2];
    _Pragma("GCC unroll 12") for (int i = 0; i < MR; i++) {
        acc[i][0] = UKR_ZERO();
        acc[i][1] = UKR_ZERO();
    }
#if defined(UKR_PREFETCH_C)
    /* Fetch the C tile now, ~kc iterations before the write-back needs it (it is usually in L3). */
    if (csc == 1) {
        _Pragma("GCC unroll 12") for (int i = 0; i < MR; i++) {
            UKR_PREFETCH_C(c + i * rsc);
            if (NV > 1) UKR_PREFETCH_C(c + i * rsc + UKR_W);
        }
    }
#endif
    for (int64_t k = 0; k < kc; k++) {
        const UKR_V b0 = UKR_LOADU(b), b1 = NV > 1 ? UKR_LOADU(b + UKR_W) : b0;
        _Pragma("GCC unroll 12") for (int i = 0; i < MR; i++) {
            const UKR_V ai = UKR_SET1(DA ? a[i * lda] : a[i]);
            acc[i][0] = UKR_FMA(ai, b0, acc[i][0]);
            if (NV > 1) acc[i][1] = UKR_FMA(ai, b1, acc[i][1]);
        }
        a += DA ? 1 : MR;
        b += ldb;
    }
    const UKR_V va = UKR_SET1(alpha), vb = UKR_SET1(beta);
#if defined(UKR_MASKED)
    if (csc == 1) {
        _Pragma("GCC unroll 12") for (int i = 0; i < MR; i++) {
            UKR_T *ci = c + i * rsc;
            _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++) {
                const int rem = n - v * UKR_W; /* >= 1: nv = ceil(n / W) */
                const UKR_MASK_T mk = UKR_MASK(rem < UKR_W ? rem : UKR_W);
                UKR_V t = UKR_MUL(acc[i][v], va);
                if (beta != 0) t = UKR_FMA(vb, UKR_MLOADU(mk, ci + v * UKR_W), t);
                UKR_MSTOREU(ci + v * UKR_W, mk, t);
            }
        }
        return;
    }
#else
    if (csc == 1 && n == NV * UKR_W) {
        _Pragma("GCC unroll 12") for (int i = 0; i < MR; i++) {
            UKR_T *ci = c + i * rsc;
            _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++) {
                UKR_V t = UKR_MUL(acc[i][v], va);
                if (beta != 0) t = UKR_FMA(vb, UKR_LOADU(ci + v * UKR_W), t);
                UKR_STOREU(ci + v * UKR_W, t);
            }
        }
        return;
    }
#endif
    /* Strided C or a partial vector without masks: go through a buffer, same arithmetic per
     * element. */
    UKR_T tmp[2 * UKR_W];
    const int nn = n < NV * UKR_W ? n : NV * UKR_W;
    _Pragma("GCC unroll 12") for (int i = 0; i < MR; i++) {
        UKR_STOREU(tmp, acc[i][0]);
        if (NV > 1) UKR_STOREU(tmp + UKR_W, acc[i][1]);
        for (int j = 0; j < nn; j++) {
            UKR_T *cij = c + i * rsc + j * csc;
            const UKR_T t = alpha * tmp[j];
            *cij = beta != 0 ? UKR_SFMA(beta, *cij, t) : t;
        }
    }
}

#define UKR_INST(m)                                                                                \
    static void UKR_FN(m, 1)(int64_t kc, const UKR_T *a, const UKR_T *b, int64_t ldb, UKR_T *c,    \
                             int64_t rsc, int64_t csc, int n, UKR_T alpha, UKR_T beta) {           \
        UKR_CAT(UKR_NAME, _body)(m, 1, 0, kc, a, 0, b, ldb, c, rsc, csc, n, alpha, beta);          \
    }                                                                                              \
    static void UKR_FN(m, 2)(int64_t kc, const UKR_T *a, const UKR_T *b, int64_t ldb, UKR_T *c,    \
                             int64_t rsc, int64_t csc, int n, UKR_T alpha, UKR_T beta) {           \
        UKR_CAT(UKR_NAME, _body)(m, 2, 0, kc, a, 0, b, ldb, c, rsc, csc, n, alpha, beta);          \
    }                                                                                              \
    UKR_INST_DA(m)

#if defined(UKR_DIRECT_A)
#define UKR_FN_DA(m, nv) UKR_CAT(UKR_NAME, UKR_CAT(_da_, UKR_CAT(m, UKR_CAT(x, nv))))
#define UKR_INST_DA(m)                                                                             \
    static void UKR_FN_DA(m, 1)(int64_t kc, const UKR_T *a, int64_t lda, const UKR_T *b,           \
                                int64_t ldb, UKR_T *c, int64_t rsc, int64_t csc, int n,            \
                                UKR_T alpha, UKR_T beta) {                                         \
        UKR_CAT(UKR_NAME, _body)(m, 1, 1, kc, a, lda, b, ldb, c, rsc, csc, n, alpha, beta);        \
    }                                                                                              \
    static void UKR_FN_DA(m, 2)(int64_t kc, const UKR_T *a, int64_t lda, const UKR_T *b,           \
                                int64_t ldb, UKR_T *c, int64_t rsc, int64_t csc, int n,            \
                                UKR_T alpha, UKR_T beta) {                                         \
        UKR_CAT(UKR_NAME, _body)(m, 2, 1, kc, a, lda, b, ldb, c, rsc, csc, n, alpha, beta);        \
    }
#else
#define UKR_INST_DA(m)
#endif

UKR_INST(1)
UKR_INST(2)
UKR_INST(3)
UKR_INST(4)
UKR_INST(5)
UKR_INST(6)
#if UKR_MR > 6
UKR_INST(7)
UKR_INST(8)
UKR_INST(9)
UKR_INST(10)
UKR_INST(11)
UKR_INST(12)
#endif

/* The dispatch table of one family: row m - 1 holds the m x 1 and m x 2 tiles. */
#define UKR_ROW(F, m) {F(m, 1), F(m, 2)}
#define UKR_ROWS6(F)                                                                               \
    UKR_ROW(F, 1), UKR_ROW(F, 2), UKR_ROW(F, 3), UKR_ROW(F, 4), UKR_ROW(F, 5), UKR_ROW(F, 6)
#if UKR_MR > 6
#define UKR_TABLE(F)                                                                               \
    {UKR_ROWS6(F), UKR_ROW(F, 7),  UKR_ROW(F, 8),  UKR_ROW(F, 9),                                  \
     UKR_ROW(F, 10), UKR_ROW(F, 11), UKR_ROW(F, 12)}
#else
#define UKR_TABLE(F) {UKR_ROWS6(F)}
#endif

static void UKR_NAME(int64_t kc, const UKR_T *a, const UKR_T *b, int64_t ldb, UKR_T *c, int64_t rsc,
                     int64_t csc, int m, int n, UKR_T alpha, UKR_T beta) {
    typedef void (*fn)(int64_t, const UKR_T *, const UKR_T *, int64_t, UKR_T *, int64_t, int64_t,
                       int, UKR_T, UKR_T);
    static const fn tab[UKR_MR][2] = UKR_TABLE(UKR_FN);
    tab[m - 1][n > UKR_W](kc, a, b, ldb, c, rsc, csc, n, alpha, beta);
}

#if defined(UKR_DIRECT_A)
static void UKR_CAT(UKR_NAME, _da)(int64_t kc, const UKR_T *a, int64_t lda, const UKR_T *b, int64_t ldb,
                                   UKR_T *c, int64_t rsc, int64_t csc, int m, int n, UKR_T alpha,
                                   UKR_T beta) {
    typedef void (*fn)(int64_t, const UKR_T *, int64_t, const UKR_T *, int64_t, UKR_T *, int64_t,
                       int64_t, int, UKR_T, UKR_T);
    static const fn tab[UKR_MR][2] = UKR_TABLE(UKR_FN_DA);
    tab[m - 1][n > UKR_W](kc, a, lda, b, ldb, c, rsc, csc, n, alpha, beta);
}
#undef UKR_FN_DA
#endif
#undef UKR_INST_DA

#undef UKR_TABLE
#undef UKR_ROWS6
#undef UKR_ROW
#undef UKR_INST
#undef UKR_FN
#undef UKR_CAT
#undef UKR_CAT_
