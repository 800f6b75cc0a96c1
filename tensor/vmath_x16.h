/* vmath_x16.h - (private) vmath.h's f32 exp, log1p(e^-a), tanh, sigmoid and softplus on several AVX-512 vectors
 * at once, for the AVX-512 variant of the elementwise kernels (ew_isa.h; include only where __AVX512F__ is
 * defined).
 *
 * Why: each vmath.h function is one chain of ~30 dependent operations. gcc vectorizes a loop over it one vector per
 * iteration, and the core does not look far enough ahead to overlap many iterations, so the chain's latency sets
 * the pace: the Bernoulli likelihood's forward ran at ~30 cycles per vector of 16 (W2's 1000 x 784 logits: 0.66
 * ms on 1 thread). Here each step is applied to nu independent vectors before the next step starts (v[0..nu)), so
 * nu chains are in flight at once; call with a constant nu so that the arrays stay in registers.
 *
 * Same bits: the operations, their order and constants are exactly vmath.h's (no fma; the -ffp-contract=off build
 * does not fuse intrinsics either), and max/min reproduce vmath.h's clamps including NaN (MAXPS returns its second
 * operand when either is NaN). So a lane here equals the scalar function, and the AVX-512 kernels give the same
 * bits as the AVX2 and baseline variants (tests/test_kernels_threads.c, tests/test_vmath.c). */
#ifndef VAE_VMATH_X16_H
#define VAE_VMATH_X16_H

#include <immintrin.h>
#include <stdint.h>

#define VAE__X16_INLINE static inline __attribute__((always_inline))

/* -v (flips the sign bit, as the scalar negation does) */
VAE__X16_INLINE __m512 vae__x16_neg(__m512 v) {
    return _mm512_castsi512_ps(
        _mm512_xor_si512(_mm512_castps_si512(v), _mm512_set1_epi32((int)0x80000000u)));
}

/* How many vectors the kernels pass at once; every function below takes nu <= VAE__X16_U. */
#define VAE__X16_U 8

/* 2^n for -126 <= n <= 127 (n + 127 in the exponent field) */
VAE__X16_INLINE __m512 vae__x16_pow2(__m512i n) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(n, _mm512_set1_epi32(127)), 23));
}

/* p 2^n as (p 2^n1) 2^n2, n1 = n / 2 rounded toward 0, n2 = n - n1 (vae__pow2_split) */
VAE__X16_INLINE __m512 vae__x16_scale(__m512 p, __m512i n) {
    const __m512i n1 = _mm512_srai_epi32(_mm512_add_epi32(n, _mm512_srli_epi32(n, 31)), 1);
    return _mm512_mul_ps(_mm512_mul_ps(p, vae__x16_pow2(n1)),
                         vae__x16_pow2(_mm512_sub_epi32(n, n1)));
}

/* x = n ln2 + r, |r| <= ln2 / 2 (vae__reduce_ln2; x already clamped) */
VAE__X16_INLINE __m512 vae__x16_reduce_ln2(__m512 x, __m512i *n) {
    const __m512 magic = _mm512_set1_ps(12582912.0f);
    const __m512 t = _mm512_add_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)), magic);
    const __m512 nf = _mm512_sub_ps(t, magic);
    *n = _mm512_sub_epi32(_mm512_castps_si512(t), _mm512_castps_si512(magic));
    return _mm512_sub_ps(_mm512_sub_ps(x, _mm512_mul_ps(nf, _mm512_set1_ps(0.693359375f))),
                         _mm512_mul_ps(nf, _mm512_set1_ps(-2.12194440e-4f)));
}

/* v[u] = vae_vexpf(v[u]) for u < nu */
VAE__X16_INLINE void vae__x16_exp(__m512 *v, int nu) {
    static const float poly[7] = {1.0f / 720, 1.0f / 120, 1.0f / 24, 1.0f / 6, 0.5f, 1.0f, 1.0f};
    __m512 r[VAE__X16_U], p[VAE__X16_U];
    __m512i n[VAE__X16_U];
    for (int u = 0; u < nu; u++) { /* clamp to [-104, 89] */
        const __m512 x = _mm512_max_ps(_mm512_set1_ps(-104.0f), v[u]);
        r[u] = vae__x16_reduce_ln2(_mm512_min_ps(_mm512_set1_ps(89.0f), x), &n[u]);
    }
    for (int u = 0; u < nu; u++) p[u] = _mm512_mul_ps(_mm512_set1_ps(1.0f / 5040), r[u]);
    for (int k = 0; k < 7; k++) {
        const __m512 c = _mm512_set1_ps(poly[k]);
        for (int u = 0; u < nu; u++) {
            p[u] = _mm512_add_ps(p[u], c);
            if (k < 6) p[u] = _mm512_mul_ps(p[u], r[u]);
        }
    }
    for (int u = 0; u < nu; u++) v[u] = vae__x16_scale(p[u], n[u]);
}

/* v[u] = vae_vlog1p_expnf(v[u]) = log(1 + e^-v[u]) for u < nu (v >= 0) */
VAE__X16_INLINE void vae__x16_log1p_expn(__m512 *v, int nu) {
    static const float poly[9] = {-0.0171842669824f, 0.0493099734345f, -0.0913941377401f,
                                  0.130333642382f,   -0.163651528692f, 0.199567079523f,
                                  -0.249967599083f,  0.333332373462f,  -0.499999995222f};
    __m512 p[VAE__X16_U];
    for (int u = 0; u < nu; u++) v[u] = vae__x16_neg(v[u]);
    vae__x16_exp(v, nu); /* e = e^-a */
    for (int u = 0; u < nu; u++) p[u] = _mm512_mul_ps(_mm512_set1_ps(0.0028016419928f), v[u]);
    for (int k = 0; k < 9; k++) {
        const __m512 c = _mm512_set1_ps(poly[k]);
        for (int u = 0; u < nu; u++) {
            p[u] = _mm512_add_ps(p[u], c);
            if (k < 8) p[u] = _mm512_mul_ps(p[u], v[u]);
        }
    }
    for (int u = 0; u < nu; u++) /* e + e (e p) */
        v[u] = _mm512_add_ps(v[u], _mm512_mul_ps(v[u], _mm512_mul_ps(v[u], p[u])));
}

/* v[u] = vae_vtanhf(v[u]) for u < nu: e = expm1(2|x|) (vae_vexpm1f), then e / (e + 2) with x's sign */
VAE__X16_INLINE void vae__x16_tanh(__m512 *v, int nu) {
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512i sign = _mm512_set1_epi32((int)0x80000000u);
    static const float poly[6] = {1.0f / 5040, 1.0f / 720, 1.0f / 120, 1.0f / 24, 1.0f / 6, 0.5f};
    __m512 r[VAE__X16_U], p[VAE__X16_U];
    __m512i n[VAE__X16_U];
    for (int u = 0; u < nu; u++) { /* x = 2 min(|v|, 9.1), then expm1's clamp to [-20, 89] */
        __m512 x = _mm512_castsi512_ps(_mm512_andnot_si512(sign, _mm512_castps_si512(v[u])));
        x = _mm512_mul_ps(_mm512_set1_ps(2.0f), _mm512_min_ps(_mm512_set1_ps(9.1f), x));
        x = _mm512_min_ps(_mm512_set1_ps(89.0f), _mm512_max_ps(_mm512_set1_ps(-20.0f), x));
        r[u] = vae__x16_reduce_ln2(x, &n[u]);
    }
    for (int u = 0; u < nu; u++) p[u] = _mm512_mul_ps(_mm512_set1_ps(1.0f / 40320), r[u]);
    for (int k = 0; k < 6; k++) {
        const __m512 c = _mm512_set1_ps(poly[k]);
        for (int u = 0; u < nu; u++) {
            p[u] = _mm512_add_ps(p[u], c);
            if (k < 5) p[u] = _mm512_mul_ps(p[u], r[u]);
        }
    }
    for (int u = 0; u < nu; u++) {
        const __m512 q = _mm512_add_ps(r[u], _mm512_mul_ps(_mm512_mul_ps(r[u], r[u]), p[u]));
        /* expm1: n <= 24: q 2^n + (2^n - 1); larger n: (q + 1) 2^n - 1 */
        const __m512 s = vae__x16_pow2(_mm512_min_epi32(n[u], _mm512_set1_epi32(24)));
        const __m512 small = _mm512_add_ps(_mm512_mul_ps(q, s), _mm512_sub_ps(s, one));
        const __m512 big = _mm512_sub_ps(vae__x16_scale(_mm512_add_ps(q, one), n[u]), one);
        const __m512 e =
            _mm512_mask_mov_ps(small, _mm512_cmpgt_epi32_mask(n[u], _mm512_set1_epi32(24)), big);
        const __m512 th = _mm512_div_ps(e, _mm512_add_ps(e, _mm512_set1_ps(2.0f)));
        v[u] =
            _mm512_castsi512_ps(_mm512_or_si512(/* vae__copysign(th, v) */
                                                _mm512_andnot_si512(sign, _mm512_castps_si512(th)),
                                                _mm512_and_si512(sign, _mm512_castps_si512(v[u]))));
    }
}

/* v[u] = vae_vsigmoidf(v[u]) for u < nu: e = e^-|x|, s = 1 / (1 + e), x < 0 ? e s : s */
VAE__X16_INLINE void vae__x16_sigmoid(__m512 *v, int nu) {
    const __m512 one = _mm512_set1_ps(1.0f);
    __m512 e[VAE__X16_U];
    for (int u = 0; u < nu; u++)
        e[u] = _mm512_castsi512_ps(
            _mm512_or_si512(_mm512_castps_si512(v[u]), _mm512_set1_epi32((int)0x80000000u)));
    vae__x16_exp(e, nu);
    for (int u = 0; u < nu; u++) {
        const __m512 s = _mm512_div_ps(one, _mm512_add_ps(one, e[u]));
        v[u] = _mm512_mask_mov_ps(s, _mm512_cmp_ps_mask(v[u], _mm512_setzero_ps(), _CMP_LT_OQ),
                                  _mm512_mul_ps(e[u], s));
    }
}

/* v[u] = vae_vsoftplusf(v[u]) = max(x, 0) + log(1 + e^-|x|) for u < nu */
VAE__X16_INLINE void vae__x16_softplus(__m512 *v, int nu) {
    __m512 t[VAE__X16_U];
    for (int u = 0; u < nu; u++)
        t[u] = _mm512_castsi512_ps(
            _mm512_and_si512(_mm512_castps_si512(v[u]), _mm512_set1_epi32(0x7fffffff)));
    vae__x16_log1p_expn(t, nu);
    for (int u = 0; u < nu; u++)
        v[u] = _mm512_add_ps(_mm512_max_ps(v[u], _mm512_setzero_ps()), t[u]);
}

/* vae__x16_map_f(a, o, n): o = f(a) (o may be a) on the leading whole vectors of a[0..n), VAE__X16_U vectors at a
 * time, then one at a time; returns how many elements it did (the caller's scalar loop does the rest). */
#define VAE__X16_DEFINE_MAP(f)                                                                     \
    static inline int64_t vae__x16_map_##f(const float *a, float *o, int64_t n) {                  \
        int64_t i = 0;                                                                             \
        for (; i + 16 * VAE__X16_U <= n; i += 16 * VAE__X16_U) {                                   \
            __m512 v[VAE__X16_U];                                                                  \
            for (int u = 0; u < VAE__X16_U; u++) v[u] = _mm512_loadu_ps(a + i + 16 * u);           \
            vae__x16_##f(v, VAE__X16_U);                                                           \
            for (int u = 0; u < VAE__X16_U; u++) _mm512_storeu_ps(o + i + 16 * u, v[u]);           \
        }                                                                                          \
        for (; i + 16 <= n; i += 16) {                                                             \
            __m512 v = _mm512_loadu_ps(a + i);                                                     \
            vae__x16_##f(&v, 1);                                                                   \
            _mm512_storeu_ps(o + i, v);                                                            \
        }                                                                                          \
        return i;                                                                                  \
    }
VAE__X16_DEFINE_MAP(exp)
VAE__X16_DEFINE_MAP(tanh)
VAE__X16_DEFINE_MAP(sigmoid)
VAE__X16_DEFINE_MAP(softplus)

#endif
