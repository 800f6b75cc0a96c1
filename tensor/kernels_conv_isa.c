/* The per-image loops of the conv kernels (kernels_conv_isa.h), compiled once per ISA.
 *
 * im2col and col2im go through "phase planes" when they fit: with stride s, padding p, image row r = s*u + a - p
 * and column s*v + b - p is element (u, v) of phase plane (a, b) (a, b < s; 0 where the row or column is padding),
 * so kernel tap (ki, kj) = (s*di + a, s*dj + b) at position (ph, pw) reads plane (a, b) at (ph + di, pw + dj): every
 * row of col is a window of one plane, Pw contiguous elements per position row. One strided pass splits a channel
 * into its planes (about the channel's size; a 4x4 stride-2 tap set reads it 4 times over); the copies that follow
 * are unit-stride and vectorize, where reading the image directly costs a gather or a stride-s load per element.
 * col2im does the reverse: the planes start as the destination image's values, every tap adds its window in tap
 * order, and the planes are written back; a pixel gets its sums in the same order (image value first, then the
 * taps (ki, kj) in order) as adding straight into the image, so the result is bit for bit the row loops'.
 * Geometries whose planes exceed VAE__CONV_PHASE_MAX take the row loops. With AVX-512 (f32), stride 2 and rows of
 * up to 16 positions (images up to 32 wide: 28x28 and 32x32) take a path without planes, below: im2col_s2_float and
 * col2im_s2_float: there the planes alone gained little on this project's Zen VM, as a masked or narrow store read
 * back at once by a wider load stalls store-to-load forwarding (README, conv section). */
#include <string.h>

#include "kernels_conv_isa.h"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

/* The copies below are a few elements long (a row of positions: 7 or 14 for 28x28 images); as memcpy/memset calls
 * (gcc's loop distribution) they cost more than the copy. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-tree-loop-distribute-patterns")
#endif

/* d[0..n) = s[0..n) and d[0..n) += s[0..n): AVX-512 in 16-lane masked steps (a row in one step), else a loop. The
 * adds are the same IEEE adds lane by lane in every variant. */
static inline void row_copy_float(float *restrict d, const float *restrict s, int64_t n) {
#if defined(__AVX512F__)
    for (; n >= 16; n -= 16, d += 16, s += 16) _mm512_storeu_ps(d, _mm512_loadu_ps(s));
    if (n > 0) {
        __mmask16 m = (__mmask16)((1u << n) - 1);
        _mm512_mask_storeu_ps(d, m, _mm512_maskz_loadu_ps(m, s));
    }
#else
    for (int64_t i = 0; i < n; i++) d[i] = s[i];
#endif
}
static inline void row_add_float(float *restrict d, const float *restrict s, int64_t n) {
#if defined(__AVX512F__)
    for (; n >= 16; n -= 16, d += 16, s += 16)
        _mm512_storeu_ps(d, _mm512_add_ps(_mm512_loadu_ps(d), _mm512_loadu_ps(s)));
    if (n > 0) {
        __mmask16 m = (__mmask16)((1u << n) - 1);
        _mm512_mask_storeu_ps(
            d, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, d), _mm512_maskz_loadu_ps(m, s)));
    }
#else
    for (int64_t i = 0; i < n; i++) d[i] += s[i];
#endif
}
static inline void row_copy_double(double *restrict d, const double *restrict s, int64_t n) {
    for (int64_t i = 0; i < n; i++) d[i] = s[i];
}
static inline void row_add_double(double *restrict d, const double *restrict s, int64_t n) {
    for (int64_t i = 0; i < n; i++) d[i] += s[i];
}

static int64_t img_off(const vae__img4 *v, int64_t n) {
    int64_t off = 0;
    for (int d = v->nlead - 1; d >= 0; d--) {
        off += (n % v->lshape[d]) * v->lstride[d];
        n /= v->lshape[d];
    }
    return off;
}

/* The positions pw in [*lo, *hi) whose input column pw*s - p + kj lies in [0, W). */
static void valid_range(int64_t Pw, int64_t W, int64_t s, int64_t p, int64_t kj, int64_t *lo,
                        int64_t *hi) {
    int64_t a = p - kj; /* pw*s >= a */
    int64_t l = a <= 0 ? 0 : (a + s - 1) / s;
    int64_t b = W - 1 + p - kj; /* pw*s <= b */
    int64_t h = b < 0 ? 0 : b / s + 1;
    *lo = l < Pw ? l : Pw;
    *hi = h < Pw ? (h > *lo ? h : *lo) : Pw;
}

typedef vae__conv_geom geom;

#if defined(__AVX512F__)
/* col2im's taps over one channel's phase planes pl, in registers: each plane row (16 lanes at a time) is loaded
 * once, gets the taps of its phase in tap order (ki, kj) (a masked add: a lane no tap reaches stays unchanged) and
 * is stored once. Adding window after window into memory instead reloads what the previous tap's masked store
 * wrote one element over, which stalls store-to-load forwarding (2x slower than the scalar loops). */
static int phase_acc_float(const geom *g, const float *col, int64_t ld, int64_t c, int64_t Hq,
                           int64_t Wq, float *pl) {
    const int64_t s = g->s, Pw = g->Pw;
    enum { TAPS = 64 };
    if (Wq > 16 || (g->kh + s - 1) / s * ((g->kw + s - 1) / s) > TAPS) return 0;
    const __mmask16 mn = (__mmask16)((1u << Wq) - 1);
    for (int64_t a = 0; a < s; a++)
        for (int64_t b = 0; b < s; b++) {
            /* the phase's taps in tap order: row di of the window, lanes [dj, dj + Pw), col row at sp - dj */
            const float *tp[TAPS];
            int64_t tdi[TAPS];
            __mmask16 tm[TAPS];
            int nt = 0;
            for (int64_t ki = a; ki < g->kh; ki += s)
                for (int64_t kj = b; kj < g->kw; kj += s, nt++) {
                    tdi[nt] = ki / s;
                    tm[nt] = (__mmask16)((((1u << Pw) - 1) << (kj / s)) & mn);
                    tp[nt] = col + ((c * g->kh + ki) * g->kw + kj) * ld - kj / s;
                }
            float *d = pl + (a * s + b) * Hq * Wq;
            for (int64_t u = 0; u < Hq; u++, d += Wq) {
                __m512 acc = _mm512_maskz_loadu_ps(mn, d);
                for (int t = 0; t < nt; t++) {
                    int64_t ph = u - tdi[t];
                    if (ph < 0 || ph >= g->Ph) continue;
                    /* lane v reads position pw = v - dj of row ph; the masked-off lanes read nothing */
                    acc = _mm512_mask_add_ps(acc, tm[t], acc,
                                             _mm512_maskz_loadu_ps(tm[t], tp[t] + ph * Pw));
                }
                _mm512_mask_storeu_ps(d, mn, acc);
            }
        }
    return 1;
}
#define PHASE_ACC_FLOAT 1
#endif
typedef vae__conv_job job;
typedef vae__conv_bias_job bias_job;

#define BG_CHUNK VAE__CONV_BG_CHUNK

/* PHASE_ACC_T(...): 1 when the register path above did col2im's taps (AVX-512 float, planes up to 16 wide), else
 * 0 (the loops do) */
#if defined(PHASE_ACC_FLOAT)
#define PHASE_ACC_float(g, col, ld, c, Hq, Wq, pl) phase_acc_float(g, col, ld, c, Hq, Wq, pl)
#else
#define PHASE_ACC_float(g, col, ld, c, Hq, Wq, pl) 0
#endif
#define PHASE_ACC_double(g, col, ld, c, Hq, Wq, pl) 0

#if defined(__AVX512F__)
/* Stride 2, rows of up to 16 positions (images up to 32 wide), f32, unit-stride image rows: each row of col for
 * one position row is the even lanes of two 16-lane loads of the image row, and col2im loads each image row once
 * as its two phases (even and odd columns), adds every tap of each phase in tap order (a masked add: lanes no tap
 * reaches stay unchanged) and stores the row once. A pixel gets the same adds in the same order as in the loops
 * (its value, then the taps (ki, kj) in order), so the bits are the loops'. Lanes outside the image are masked off:
 * they read nothing (zeros) and write nothing. */
static const int32_t EVEN[16] = {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30};
static const int32_t INTER_LO[16] = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23};
static const int32_t INTER_HI[16] = {8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};

/* Lanes [lo, hi) of a 32-lane window, clamped, as two 16-lane masks. */
static void mask32(int64_t lo, int64_t hi, __mmask16 *m0, __mmask16 *m1) {
    lo = lo < 0 ? 0 : lo > 32 ? 32 : lo;
    hi = hi < lo ? lo : hi > 32 ? 32 : hi;
    uint64_t m = ((hi >= 64 ? ~0ull : (1ull << hi) - 1)) & ~((1ull << lo) - 1);
    *m0 = (__mmask16)(m & 0xffff);
    *m1 = (__mmask16)((m >> 16) & 0xffff);
}

static int im2col_s2_float(const geom *g, const float *img, int64_t sc, int64_t sh, int64_t sw,
                           float *col, int64_t ld) {
    if (g->s != 2 || sw != 1 || g->Pw > 16) return 0;
    /* the geometry in locals: the stores below go through float pointers that could alias *g, so the compiler
     * would reload g->Ph after every masked store (the loop's hottest instruction in a profile) */
    const int64_t Pw = g->Pw, p = g->p, Ph = g->Ph, Hi = g->Hi, Wi = g->Wi, Ci = g->Ci, kh = g->kh, kw = g->kw;
    const __m512i ev = _mm512_loadu_si512(EVEN);
    const __mmask16 mp = (__mmask16)((1u << Pw) - 1);
    for (int64_t c = 0; c < Ci; c++)
        for (int64_t ki = 0; ki < kh; ki++)
            for (int64_t kj = 0; kj < kw; kj++) {
                float *d = col + ((c * kh + ki) * kw + kj) * ld;
                const int64_t c0 =
                    kj - p; /* image column of lane 0 of the window: position pw reads c0 + 2 pw */
                __mmask16 m0, m1;
                mask32(-c0, Wi - c0, &m0, &m1);
                for (int64_t ph = 0; ph < Ph; ph++, d += Pw) {
                    const int64_t r = 2 * ph + ki - p;
                    if (r < 0 || r >= Hi) {
                        _mm512_mask_storeu_ps(d, mp, _mm512_setzero_ps());
                        continue;
                    }
                    const float *rp =
                        img + c * sc + r * sh + c0; /* lanes before column 0 are masked off */
                    __m512 lo = _mm512_maskz_loadu_ps(m0, rp),
                           hi = m1 ? _mm512_maskz_loadu_ps(m1, rp + 16) : _mm512_setzero_ps();
                    _mm512_mask_storeu_ps(d, mp, _mm512_permutex2var_ps(lo, ev, hi));
                }
            }
    return 1;
}

static int col2im_s2_float(const geom *g, float *img, const float *col, int64_t ld) {
    const int64_t Hq = g->Ph - 1 + (g->kh + 1) / 2, Wq = g->Pw - 1 + (g->kw + 1) / 2, Pw = g->Pw,
                  p = g->p, Ph = g->Ph, Hi = g->Hi, Wi = g->Wi; /* in locals: see im2col_s2_float */
    enum { TAPS = 64 };
    if (g->s != 2 || Wq > 16 || (g->kh + 1) / 2 * ((g->kw + 1) / 2) > TAPS) return 0;
    const __m512i ev = _mm512_loadu_si512(EVEN), il = _mm512_loadu_si512(INTER_LO),
                  ih = _mm512_loadu_si512(INTER_HI), one = _mm512_set1_epi32(1);
    const __m512i od = _mm512_add_epi32(ev, one);
    __mmask16 m0, m1; /* the window of image columns -p .. -p + 31 that lie in the image */
    mask32(p, p + Wi, &m0, &m1);
    const __mmask16 mq = (__mmask16)((1u << Wq) - 1);
    for (int64_t c = 0; c < g->Ci; c++)
        for (int64_t a = 0; a < 2; a++) {
            /* phase (a, b)'s taps in tap order: window row di, lanes [dj, dj + Pw) read col row tp - dj */
            const float *tp[2][TAPS];
            int64_t tdi[2][TAPS];
            __mmask16 tm[2][TAPS];
            int nt[2] = {0, 0};
            for (int64_t ki = a; ki < g->kh; ki += 2)
                for (int64_t kj = 0; kj < g->kw; kj++) {
                    int b = (int)(kj & 1), t = nt[b]++;
                    tdi[b][t] = ki / 2;
                    tm[b][t] = (__mmask16)((((1u << Pw) - 1) << (kj / 2)) & mq);
                    tp[b][t] = col + ((c * g->kh + ki) * g->kw + kj) * ld - kj / 2;
                }
            for (int64_t u = 0; u < Hq; u++) {
                const int64_t r = 2 * u + a - p;
                if (r < 0 || r >= Hi) continue; /* padding rows: their sums are dropped */
                float *rp = img + (c * Hi + r) * Wi - p;
                __m512 lo = _mm512_maskz_loadu_ps(m0, rp),
                       hi = m1 ? _mm512_maskz_loadu_ps(m1, rp + 16) : _mm512_setzero_ps();
                /* the two phases in two registers (an array indexed by b would live on the stack) */
                __m512 acc0 = _mm512_permutex2var_ps(lo, ev, hi),
                       acc1 = _mm512_permutex2var_ps(lo, od, hi);
                for (int t = 0; t < nt[0]; t++) {
                    const int64_t ph = u - tdi[0][t];
                    if (ph >= 0 && ph < Ph)
                        acc0 =
                            _mm512_mask_add_ps(acc0, tm[0][t], acc0,
                                               _mm512_maskz_loadu_ps(tm[0][t], tp[0][t] + ph * Pw));
                }
                for (int t = 0; t < nt[1]; t++) {
                    const int64_t ph = u - tdi[1][t];
                    if (ph >= 0 && ph < Ph)
                        acc1 =
                            _mm512_mask_add_ps(acc1, tm[1][t], acc1,
                                               _mm512_maskz_loadu_ps(tm[1][t], tp[1][t] + ph * Pw));
                }
                _mm512_mask_storeu_ps(rp, m0, _mm512_permutex2var_ps(acc0, il, acc1));
                if (m1) _mm512_mask_storeu_ps(rp + 16, m1, _mm512_permutex2var_ps(acc0, ih, acc1));
            }
        }
    return 1;
}
#define S2_FLOAT 1
#endif

/* IM2COL_S2_T / COL2IM_S2_T: 1 when the stride-2 AVX-512 path above did the image (f32 only), else 0 */
#if defined(S2_FLOAT)
#define IM2COL_S2_float(g, img, sc, sh, sw, col, ld) im2col_s2_float(g, img, sc, sh, sw, col, ld)
#define COL2IM_S2_float(g, img, col, ld)             col2im_s2_float(g, img, col, ld)
#else
#define IM2COL_S2_float(g, img, sc, sh, sw, col, ld) 0
#define COL2IM_S2_float(g, img, col, ld)             0
#endif
#define IM2COL_S2_double(g, img, sc, sh, sw, col, ld) 0
#define COL2IM_S2_double(g, img, col, ld)             0

#define DEFINE_CONV(T)                                                                                                  \
    /* The s*s phase planes (Hq, Wq) of one channel (rows sh, columns sw apart from src) into pl: plane (a, b) row u  \
     * holds pixels (s*u + a - p, s*v + b - p), zeros outside the image. (Plain loads and stores only: a masked       \
     * store read back at once by an overlapping load stalls store-to-load forwarding.) */ \
    static void phase_split_##T(const geom *g, const T *src, int64_t sh, int64_t sw, int64_t Hq,                        \
                                int64_t Wq, T *restrict pl) {                                                           \
        const int64_t s = g->s, p = g->p;                                                                               \
        for (int64_t a = 0; a < s; a++)                                                                                 \
            for (int64_t u = 0; u < Hq; u++) {                                                                          \
                const int64_t r = s * u + a - p;                                                                        \
                const int in = r >= 0 && r < g->Hi;                                                                     \
                const T *sr = src + (in ? r * sh : 0);                                                                  \
                for (int64_t b = 0; b < s; b++) {                                                                       \
                    T *restrict d = pl + ((a * s + b) * Hq + u) * Wq;                                                   \
                    int64_t lo = Wq, hi = Wq;                                                                           \
                    if (in) valid_range(Wq, g->Wi, s, p, b, &lo, &hi);                                                  \
                    const int64_t c0 = b - p; /* column of v: s*v + c0, >= 0 from v = lo on */                          \
                    for (int64_t v = 0; v < lo; v++) d[v] = 0;                                                          \
                    if (s == 2 && sw == 1)                                                                              \
                        for (int64_t v = lo; v < hi; v++) d[v] = sr[2 * v + c0];                                        \
                    else                                                                                                \
                        for (int64_t v = lo; v < hi; v++) d[v] = sr[(s * v + c0) * sw];                                 \
                    for (int64_t v = hi; v < Wq; v++) d[v] = 0;                                                         \
                }                                                                                                       \
            }                                                                                                           \
    }                                                                                                                   \
    /* The reverse for a contiguous channel (Hi, Wi): the planes' image pixels back into img (padding dropped). */      \
    static void phase_merge_##T(const geom *g, const T *restrict pl, int64_t Hq, int64_t Wq,                            \
                                T *restrict img) {                                                                      \
        const int64_t s = g->s;                                                                                         \
        for (int64_t a = 0; a < s; a++)                                                                                 \
            for (int64_t u = 0; u < Hq; u++) {                                                                          \
                int64_t r = s * u + a - g->p;                                                                           \
                if (r < 0 || r >= g->Hi) continue;                                                                      \
                for (int64_t b = 0; b < s; b++) {                                                                       \
                    const T *d = pl + ((a * s + b) * Hq + u) * Wq;                                                      \
                    int64_t lo, hi;                                                                                     \
                    valid_range(Wq, g->Wi, s, g->p, b, &lo, &hi);                                                       \
                    const int64_t i0 = r * g->Wi + b - g->p; /* >= 0 from v = lo on */                                  \
                    for (int64_t v = lo; v < hi; v++) img[i0 + v * s] = d[v];                                           \
                }                                                                                                       \
            }                                                                                                           \
    }                                                                                                                   \
    /* col rows (c,i,j), columns of image n: the patches of image n0 + t */                                             \
    void VAE__EW(vae__conv_im2col_##T)(void *vj, int64_t t, int tid) {                                                  \
        const job *j = vj;                                                                                              \
        const geom *g = j->g;                                                                                           \
        (void)tid;                                                                                                      \
        const T *img = (const T *)(const void *)j->src.base + img_off(&j->src, j->n0 + t);                              \
        T *col = (T *)(void *)j->mat + t * g->P;                                                                        \
        if (j->phase) {                                                                                                 \
            if (j->phase == 1 &&                                                                                        \
                IM2COL_S2_##T(g, img, j->src.sc, j->src.sh, j->src.sw, col, j->ld))                                     \
                return;                                                                                                 \
            T pl[VAE__CONV_PHASE_MAX];                                                                                  \
            const int64_t s = g->s, Hq = g->Ph - 1 + (g->kh + s - 1) / s,                                               \
                          Wq = g->Pw - 1 + (g->kw + s - 1) / s, Pw = g->Pw;                                             \
            for (int64_t c = 0; c < g->Ci; c++) {                                                                       \
                phase_split_##T(g, img + c * j->src.sc, j->src.sh, j->src.sw, Hq, Wq, pl);                              \
                for (int64_t ki = 0; ki < g->kh; ki++)                                                                  \
                    for (int64_t kj = 0; kj < g->kw; kj++) {                                                            \
                        const T *sp = pl + (((ki % s) * s + kj % s) * Hq + ki / s) * Wq + kj / s;                       \
                        T *restrict d = col + ((c * g->kh + ki) * g->kw + kj) * j->ld;                                  \
                        for (int64_t ph = 0; ph < g->Ph; ph++, d += Pw, sp += Wq)                                       \
                            row_copy_##T(d, sp, Pw);                                                                    \
                    }                                                                                                   \
            }                                                                                                           \
            return;                                                                                                     \
        }                                                                                                               \
        const int64_t step = g->s * j->src.sw;                                                                          \
        /* one pass per row with the zeros inline: short zero runs as memset calls cost more than the copy */           \
        for (int64_t kj = 0; kj < g->kw; kj++) {                                                                        \
            int64_t lo, hi;                                                                                             \
            valid_range(g->Pw, g->Wi, g->s, g->p, kj, &lo, &hi);                                                        \
            for (int64_t c = 0; c < g->Ci; c++)                                                                         \
                for (int64_t ki = 0; ki < g->kh; ki++) {                                                                \
                    T *d = col + ((c * g->kh + ki) * g->kw + kj) * j->ld;                                               \
                    for (int64_t ph = 0; ph < g->Ph; ph++, d += g->Pw) {                                                \
                        int64_t ih = ph * g->s - g->p + ki;                                                             \
                        int in = ih >= 0 && ih < g->Hi;                                                                 \
                        /* pixel (ih, pw*s - p + kj) at off + pw*step, read only where valid */                         \
                        const int64_t off =                                                                             \
                            c * j->src.sc + (in ? ih : 0) * j->src.sh + (kj - g->p) * j->src.sw;                        \
                        int64_t l = in ? lo : g->Pw, h = in ? hi : g->Pw;                                               \
                        for (int64_t pw = 0; pw < g->Pw; pw++)                                                          \
                            d[pw] = pw >= l && pw < h ? img[off + pw * step] : (T)0;                                    \
                    }                                                                                                   \
                }                                                                                                       \
        }                                                                                                               \
    }                                                                                                                   \
    /* image n0 + t (contiguous (Ci, Hi, Wi)) += the patches of its columns; each pixel in tap order */                 \
    void VAE__EW(vae__conv_col2im_##T)(void *vj, int64_t t, int tid) {                                                  \
        const job *j = vj;                                                                                              \
        const geom *g = j->g;                                                                                           \
        (void)tid;                                                                                                      \
        T *img = (T *)(void *)j->dst + (j->n0 + t) * g->Ci * g->Hi * g->Wi;                                             \
        const T *col = (const T *)(const void *)j->mat + t * g->P;                                                      \
        if (j->phase) {                                                                                                 \
            if (j->phase == 1 && COL2IM_S2_##T(g, img, col, j->ld)) return;                                             \
            T pl[VAE__CONV_PHASE_MAX];                                                                                  \
            const int64_t s = g->s, Hq = g->Ph - 1 + (g->kh + s - 1) / s,                                               \
                          Wq = g->Pw - 1 + (g->kw + s - 1) / s, Pw = g->Pw;                                             \
            for (int64_t c = 0; c < g->Ci; c++) {                                                                       \
                T *ic = img + c * g->Hi * g->Wi;                                                                        \
                phase_split_##T(g, ic, g->Wi, 1, Hq, Wq, pl);                                                           \
                if (PHASE_ACC_##T(g, col, j->ld, c, Hq, Wq, pl)) {                                                      \
                    phase_merge_##T(g, pl, Hq, Wq, ic);                                                                 \
                    continue;                                                                                           \
                }                                                                                                       \
                for (int64_t ki = 0; ki < g->kh; ki++)                                                                  \
                    for (int64_t kj = 0; kj < g->kw; kj++) {                                                            \
                        T *restrict d =                                                                                 \
                            pl + (((ki % s) * s + kj % s) * Hq + ki / s) * Wq + kj / s;                                 \
                        const T *sp = col + ((c * g->kh + ki) * g->kw + kj) * j->ld;                                    \
                        for (int64_t ph = 0; ph < g->Ph; ph++, d += Wq, sp += Pw)                                       \
                            row_add_##T(d, sp, Pw);                                                                     \
                    }                                                                                                   \
                phase_merge_##T(g, pl, Hq, Wq, ic);                                                                     \
            }                                                                                                           \
            return;                                                                                                     \
        }                                                                                                               \
        for (int64_t c = 0; c < g->Ci; c++)                                                                             \
            for (int64_t ki = 0; ki < g->kh; ki++)                                                                      \
                for (int64_t kj = 0; kj < g->kw; kj++) {                                                                \
                    int64_t lo, hi;                                                                                     \
                    valid_range(g->Pw, g->Wi, g->s, g->p, kj, &lo, &hi);                                                \
                    const int64_t iw0 = lo * g->s - g->p + kj;                                                          \
                    const T *sp = col + ((c * g->kh + ki) * g->kw + kj) * j->ld;                                        \
                    for (int64_t ph = 0; ph < g->Ph; ph++, sp += g->Pw) {                                               \
                        int64_t ih = ph * g->s - g->p + ki;                                                             \
                        if (ih < 0 || ih >= g->Hi) continue;                                                            \
                        T *r = img + (c * g->Hi + ih) * g->Wi + iw0;                                                    \
                        for (int64_t pw = lo; pw < hi; pw++) r[(pw - lo) * g->s] += sp[pw];                             \
                    }                                                                                                   \
                }                                                                                                       \
    }                                                                                                                   \
    /* mat (ch, ld) columns of image n0 + t = src image (ch, Ph, Pw) */                                                 \
    void VAE__EW(vae__conv_gather_##T)(void *vj, int64_t t, int tid) {                                                  \
        const job *j = vj;                                                                                              \
        const geom *g = j->g;                                                                                           \
        (void)tid;                                                                                                      \
        const T *img = (const T *)(const void *)j->src.base + img_off(&j->src, j->n0 + t);                              \
        T *m = (T *)(void *)j->mat + t * g->P;                                                                          \
        if (j->src.sw == 1 && j->src.sh == g->Pw) { /* contiguous channels: one copy of P each */                       \
            for (int64_t c = 0; c < j->ch; c++) {                                                                       \
                T *restrict d = m + c * j->ld;                                                                          \
                const T *sp = img + c * j->src.sc;                                                                      \
                for (int64_t q = 0; q < g->P; q++) d[q] = sp[q];                                                        \
            }                                                                                                           \
            return;                                                                                                     \
        }                                                                                                               \
        for (int64_t c = 0; c < j->ch; c++)                                                                             \
            for (int64_t ph = 0; ph < g->Ph; ph++)                                                                      \
                for (int64_t pw = 0; pw < g->Pw; pw++)                                                                  \
                    m[c * j->ld + ph * g->Pw + pw] =                                                                    \
                        img[c * j->src.sc + ph * j->src.sh + pw * j->src.sw];                                           \
    }                                                                                                                   \
    /* contiguous dst image n0 + t (ch, P) = (or +=) mat's columns (+ bias[c]) */                                       \
    void VAE__EW(vae__conv_scatter_##T)(void *vj, int64_t t, int tid) {                                                 \
        const job *j = vj;                                                                                              \
        const geom *g = j->g;                                                                                           \
        (void)tid;                                                                                                      \
        T *o = (T *)(void *)j->dst + (j->n0 + t) * j->ch * g->P;                                                        \
        const T *m = (const T *)(const void *)j->mat + t * g->P;                                                        \
        for (int64_t c = 0; c < j->ch; c++, o += g->P) {                                                                \
            T *restrict oc = o;                                                                                         \
            const T *r = m + c * j->ld;                                                                                 \
            T bc = j->bias ? ((const T *)(const void *)j->bias)[c * j->bstride] : 0;                                    \
            if (j->add)                                                                                                 \
                for (int64_t q = 0; q < g->P; q++) oc[q] += r[q];                                                       \
            else                                                                                                        \
                for (int64_t q = 0; q < g->P; q++) oc[q] = r[q] + bc;                                                   \
        }                                                                                                               \
    }                                                                                                                   \
    /* part[o, chunk] = sum of gy (N, O, P) contiguous over channel o of images [chunk*BG_CHUNK, ...) and all   \
     * positions, in 8 double lanes combined in a fixed order (the same for any thread count and ISA) */       \
    void VAE__EW(vae__conv_bias_part_##T)(void *vj, int64_t t, int tid) {                                               \
        const bias_job *j = vj;                                                                                         \
        (void)tid;                                                                                                      \
        /* chunk-major, so that a thread's share of the tasks is a range of images */                                   \
        int64_t o = t % j->O, ch = t / j->O, P = j->P;                                                                  \
        int64_t n1 = (ch + 1) * BG_CHUNK < j->N ? (ch + 1) * BG_CHUNK : j->N;                                           \
        double a[8] = {0, 0, 0, 0, 0, 0, 0, 0};                                                                         \
        for (int64_t n = ch * BG_CHUNK; n < n1; n++) {                                                                  \
            const T *r = (const T *)j->gy + (n * j->O + o) * P;                                                         \
            int64_t q = 0;                                                                                              \
            for (; q + 8 <= P; q += 8)                                                                                  \
                for (int l = 0; l < 8; l++) a[l] += (double)r[q + l];                                                   \
            for (; q < P; q++) a[q - (P & ~(int64_t)7)] += (double)r[q];                                                \
        }                                                                                                               \
        j->part[o * j->nch + ch] =                                                                                      \
            ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));                                          \
    }

DEFINE_CONV(float)
DEFINE_CONV(double)
