/* gemm_ukr.h - private template: a register-blocked GEMM micro-kernel family (see gemm_kernels.h
 * for the packed layouts). Included by the ISA files once per element type, after defining:
 *   UKR_NAME       name of the dispatcher to define (a vae__?gemm_ukr)
 *   UKR_T, UKR_V   element and vector types; UKR_W lanes per vector; UKR_MR max rows (<= 12)
 *   UKR_ZERO() UKR_SET1(x) UKR_LOADU(p) UKR_STOREU(p, v) UKR_FMA(a, b, c) = a*b + c
 *   UKR_MUL(a, b), UKR_SFMA(a, b, c) scalar fused a*b + c
 *   optional UKR_DIRECT_A: also define UKR_NAME_da, the same kernels reading A unpacked (gemm_kernels.h, ukr_da)
 *   optional UKR_PREFETCH_B(p) with UKR_PFD: also define UKR_NAME_pf (and UKR_NAME_da_pf), the same kernels
 *     prefetching B's row k + UKR_PFD at step k (gemm_kernels.h, ukr_pf)
 *   optional UKR_MASKED with UKR_MASK_T, UKR_MASK(rem) (first rem lanes), UKR_MLOADU(m, p),
 * UKR_MSTOREU(p, m, v) A tile is m rows x nv vectors of columns (nv = 1 or 2): m*nv accumulators,
 * plus nv B vectors and a broadcast, so 12x2 uses 27 of 32 zmm and 6x2 uses 15 of 16 ymm. Each (m,
 * nv) pair is its own function with fully unrolled loops, so the accumulators stay in registers for
 * every edge size and no tile computes padding rows.
 */
#define UKR_CAT_(a, b) a##b
#define UKR_CAT(a, b)  UKR_CAT_(a, b)

/* DA (a constant): A unpacked, A(i, k) = a[i*lda + k], instead of the packed a[k*MR + i]. PF (a constant): prefetch
 * B's row k + UKR_PFD at step k (a B read in place from memory; no effect on the arithmetic). */
static inline __attribute__((always_inline)) void
UKR_CAT(UKR_NAME, _body)(const int MR, const int NV, const int DA, const int PF, int64_t kc, const UKR_T *restrict a,
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
#if defined(UKR_PREFETCH_B)
        if (PF) {
            UKR_PREFETCH_B(b + UKR_PFD * ldb);
            if (NV > 1) UKR_PREFETCH_B(b + UKR_PFD * ldb + UKR_W);
        }
#else
        (void)PF;
#endif
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

/* One function per (m, nv) and variant, named UKR_NAME<sfx><m>x<nv>: sfx _ (packed A), _da_ (A in place), _pf_ and
 * _da_pf_ (the same, prefetching B). */
#define UKR_FNX(sfx, m, nv) UKR_CAT(UKR_NAME, UKR_CAT(sfx, UKR_CAT(m, UKR_CAT(x, nv))))
#define UKR_DEF(sfx, PF, m, nv)                                                                                 \
    static void UKR_FNX(sfx, m, nv)(int64_t kc, const UKR_T *a, const UKR_T *b, int64_t ldb, UKR_T *c,         \
                                    int64_t rsc, int64_t csc, int n, UKR_T alpha, UKR_T beta) {                \
        UKR_CAT(UKR_NAME, _body)(m, nv, 0, PF, kc, a, 0, b, ldb, c, rsc, csc, n, alpha, beta);                 \
    }
#define UKR_DEF_DA(sfx, PF, m, nv)                                                                              \
    static void UKR_FNX(sfx, m, nv)(int64_t kc, const UKR_T *a, int64_t lda, const UKR_T *b, int64_t ldb,      \
                                    UKR_T *c, int64_t rsc, int64_t csc, int n, UKR_T alpha, UKR_T beta) {      \
        UKR_CAT(UKR_NAME, _body)(m, nv, 1, PF, kc, a, lda, b, ldb, c, rsc, csc, n, alpha, beta);               \
    }
#if defined(UKR_DIRECT_A)
#define UKR_INST_DA(sfx, PF, m) UKR_DEF_DA(sfx, PF, m, 1) UKR_DEF_DA(sfx, PF, m, 2)
#else
#define UKR_INST_DA(sfx, PF, m)
#endif
#if defined(UKR_PREFETCH_B)
#define UKR_INST_PF(m) UKR_DEF(_pf_, 1, m, 1) UKR_DEF(_pf_, 1, m, 2) UKR_INST_DA(_da_pf_, 1, m)
#else
#define UKR_INST_PF(m)
#endif
#define UKR_INST(m) UKR_DEF(_, 0, m, 1) UKR_DEF(_, 0, m, 2) UKR_INST_DA(_da_, 0, m) UKR_INST_PF(m)

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
#define UKR_ROW(sfx, m) {UKR_FNX(sfx, m, 1), UKR_FNX(sfx, m, 2)}
#define UKR_ROWS6(sfx)                                                                                          \
    UKR_ROW(sfx, 1), UKR_ROW(sfx, 2), UKR_ROW(sfx, 3), UKR_ROW(sfx, 4), UKR_ROW(sfx, 5), UKR_ROW(sfx, 6)
#if UKR_MR > 6
#define UKR_TABLE(sfx)                                                                                          \
    {UKR_ROWS6(sfx), UKR_ROW(sfx, 7), UKR_ROW(sfx, 8), UKR_ROW(sfx, 9), UKR_ROW(sfx, 10), UKR_ROW(sfx, 11),     \
     UKR_ROW(sfx, 12)}
#else
#define UKR_TABLE(sfx) {UKR_ROWS6(sfx)}
#endif

/* The dispatchers: the m x n tile of a family (gemm_kernels.h's vae__?gemm_ukr / _ukr_da signatures). */
#define UKR_DISPATCH(name, sfx)                                                                                 \
    static void name(int64_t kc, const UKR_T *a, const UKR_T *b, int64_t ldb, UKR_T *c, int64_t rsc,           \
                     int64_t csc, int m, int n, UKR_T alpha, UKR_T beta) {                                      \
        typedef void (*fn)(int64_t, const UKR_T *, const UKR_T *, int64_t, UKR_T *, int64_t, int64_t, int,     \
                           UKR_T, UKR_T);                                                                       \
        static const fn tab[UKR_MR][2] = UKR_TABLE(sfx);                                                        \
        tab[m - 1][n > UKR_W](kc, a, b, ldb, c, rsc, csc, n, alpha, beta);                                      \
    }
#define UKR_DISPATCH_DA(name, sfx)                                                                              \
    static void name(int64_t kc, const UKR_T *a, int64_t lda, const UKR_T *b, int64_t ldb, UKR_T *c,           \
                     int64_t rsc, int64_t csc, int m, int n, UKR_T alpha, UKR_T beta) {                         \
        typedef void (*fn)(int64_t, const UKR_T *, int64_t, const UKR_T *, int64_t, UKR_T *, int64_t, int64_t, \
                           int, UKR_T, UKR_T);                                                                  \
        static const fn tab[UKR_MR][2] = UKR_TABLE(sfx);                                                        \
        tab[m - 1][n > UKR_W](kc, a, lda, b, ldb, c, rsc, csc, n, alpha, beta);                                 \
    }

UKR_DISPATCH(UKR_NAME, _)
#if defined(UKR_DIRECT_A)
UKR_DISPATCH_DA(UKR_CAT(UKR_NAME, _da), _da_)
#endif
#if defined(UKR_PREFETCH_B)
UKR_DISPATCH(UKR_CAT(UKR_NAME, _pf), _pf_)
#if defined(UKR_DIRECT_A)
UKR_DISPATCH_DA(UKR_CAT(UKR_NAME, _da_pf), _da_pf_)
#endif
#endif

#undef UKR_DISPATCH
#undef UKR_DISPATCH_DA
#undef UKR_INST_DA
#undef UKR_INST_PF
#undef UKR_DEF
#undef UKR_DEF_DA
#undef UKR_FNX

#undef UKR_TABLE
#undef UKR_ROWS6
#undef UKR_ROW
#undef UKR_INST
#undef UKR_CAT
#undef UKR_CAT_
