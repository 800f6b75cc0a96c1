/* vmath.h - (private) f32 exp, expm1, log1p, tanh, sigmoid, softplus and log1p(e^-a) that gcc can vectorize.
 *
 * glibc's expf/tanhf/log1pf are scalar calls, so a loop over them runs one element at a time (tanhf: ~13 ns per
 * element here). These are branch-free (selects, integer bit tricks, no table lookups, no float-to-int
 * conversions), so loops over them vectorize at -O2/-O3 for whatever ISA the file is compiled for. They use no
 * fma(), and the project compiles with -std=c11 (no FP contraction), so a vector lane and the scalar tail give the
 * same bits: a kernel's result does not depend on where a thread's chunk starts.
 *
 * Accuracy against the correctly rounded result, measured by tests/test_vmath.c over a dense grid (max ulp):
 *   exp 1.2, expm1 1.4, log1p 0.7, tanh 2.5, sigmoid 2.5, softplus 2.6, log1p_expn 2.3 (the test enforces 1.5, 2,
 *   1, 3, 3, 3, 2.5). softplus was 1.6 through vae_vlog1pf; the division-free log1p_expn costs 1 ulp and halves its
 *   time (vae_bench_ew).
 * Special values: NaN in -> NaN out; exp/expm1 overflow to +inf and underflow gradually to subnormals / 0 / -1;
 * log1p(-1) = -inf, log1p(x < -1) = NaN, log1p(+inf) = +inf. f64 kernels keep libm.
 *
 * vmath_x16.h repeats exp, log1p_expn, tanh (with expm1), sigmoid and softplus in AVX-512 intrinsics, 8 vectors at a
 * time, for the AVX-512 kernels' hot loops: change a formula here and there together (tests/test_kernels_threads.c
 * fails when the AVX-512 path's bits differ from the baseline path's).
 */
#ifndef VAE_VMATH_H
#define VAE_VMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline uint32_t vae__asuint(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}
static inline float vae__asfloat(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* 2^n for n in [-150, 128] as two normal factors: s1 * s2 (apply one after the other so that a product that ends
 * subnormal is rounded once, and 2^128 need not be representable). */
static inline void vae__pow2_split(int32_t n, float *s1, float *s2) {
    const int32_t n1 = n / 2, n2 = n - n1;
    *s1 = vae__asfloat((uint32_t)(n1 + 127) << 23);
    *s2 = vae__asfloat((uint32_t)(n2 + 127) << 23);
}

/* Round x / ln2 to an integer n (|x| < 2^22) and reduce: x = n ln2 + r, |r| <= ln2 / 2 (+ rounding). Adding
 * 1.5 * 2^23 rounds to an integer held in the low mantissa bits, read back as an integer without a conversion. */
static inline float vae__reduce_ln2(float x, int32_t *n) {
    const float magic = 12582912.0f;
    const float t = x * 1.44269504088896341f + magic;
    const float nf = t - magic;
    *n = (int32_t)(vae__asuint(t) - vae__asuint(magic));
    /* ln2 = C1 + C2 with C1 = 355/512 exact in 9 bits, so nf * C1 is exact for |n| < 2^15 */
    return (x - nf * 0.693359375f) - nf * -2.12194440e-4f;
}

/* e^x. Taylor polynomial of degree 7 on |r| <= 0.35: truncation < 1e-8 relative. */
static inline float vae_vexpf(float x) {
    x = x < -104.0f ? -104.0f
                    : x;       /* e^-104 < half the smallest subnormal: the result rounds to 0 */
    x = x > 89.0f ? 89.0f : x; /* e^89 > FLT_MAX: +inf */
    int32_t n;
    const float r = vae__reduce_ln2(x, &n);
    float p = 1.0f / 5040;
    p = p * r + 1.0f / 720;
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    float s1, s2;
    vae__pow2_split(n, &s1, &s2);
    return p * s1 * s2;
}

/* e^x - 1 = 2^n (expm1(r) + 1) - 1, with expm1(r) = r + r^2 (1/2 + r/6 + ...) (degree 8) so that small |x|
 * (n = 0, r = x exactly) keeps full relative accuracy. */
static inline float vae_vexpm1f(float x) {
    x = x < -20.0f ? -20.0f : x; /* e^-20 - 1 rounds to -1 */
    x = x > 89.0f ? 89.0f : x;
    int32_t n;
    const float r = vae__reduce_ln2(x, &n);
    float p = 1.0f / 40320;
    p = p * r + 1.0f / 5040;
    p = p * r + 1.0f / 720;
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    const float q = r + r * r * p; /* expm1(r) */
    float s1, s2;
    vae__pow2_split(n, &s1, &s2);
    /* n <= 24: 2^n - 1 is exact, add q 2^n to it; larger n: the -1 is below the result's rounding */
    const int32_t nc = n > 24 ? 24 : n;
    const float s = vae__asfloat((uint32_t)(nc + 127) << 23);
    const float small = q * s + (s - 1.0f);
    const float big = (q + 1.0f) * s1 * s2 - 1.0f;
    return n > 24 ? big : small;
}

/* log(1 + x): u = 1 + x rounded, u = 2^k m with m in [sqrt(1/2), sqrt(2)), log m from f = m - 1 through
 * s = f / (2 + f) and a degree-8 odd series in s (the coefficients of the classic fdlibm/musl logf), plus the
 * first-order correction c / u for the rounding error c of 1 + x. */
static inline float vae_vlog1pf(float x) {
    const float u = 1.0f + x;
    const uint32_t iu = vae__asuint(u) + (0x3f800000u - 0x3f3504f3u);
    const int32_t k = (int32_t)(iu >> 23) - 127;
    float c = k >= 2 ? 1.0f - (u - x) : x - (u - 1.0f);
    c = c / u;
    const float f = vae__asfloat((iu & 0x007fffffu) + 0x3f3504f3u) - 1.0f;
    const float s = f / (2.0f + f), z = s * s, w = z * z;
    const float t1 = w * (0xccce13.0p-25f + w * 0xf89e26.0p-26f);
    const float t2 = z * (0xaaaaaa.0p-24f + w * 0x91e9ee.0p-25f);
    const float hfsq = 0.5f * f * f, dk = (float)k;
    float y =
        s * (hfsq + t1 + t2) + (dk * 9.0580006145e-06f + c) - hfsq + f + dk * 6.9313812256e-01f;
    y = x == -1.0f ? -__builtin_inff() : y;
    y = x < -1.0f ? __builtin_nanf("") : y;
    y = x == __builtin_inff() ? x : y;
    return y;
}

/* Sign bit of `sign` on |v|. */
static inline float vae__copysign(float v, float sign) {
    return vae__asfloat((vae__asuint(v) & 0x7fffffffu) | (vae__asuint(sign) & 0x80000000u));
}

/* tanh|x| = e / (e + 2) with e = expm1(2|x|) >= 0: this form does not amplify e's error (the factor is
 * 2 / (e + 2) <= 1). |x| is capped at 9.1, past which tanh rounds to 1 (and e would overflow). */
static inline float vae_vtanhf(float x) {
    float a = vae__asfloat(vae__asuint(x) & 0x7fffffffu);
    a = a > 9.1f ? 9.1f : a;
    const float e = vae_vexpm1f(2.0f * a);
    return vae__copysign(e / (e + 2.0f), x);
}

/* 1 / (1 + e^-x), from e = e^-|x| <= 1 so nothing overflows: x >= 0: 1 / (1 + e); x < 0: e / (1 + e). */
static inline float vae_vsigmoidf(float x) {
    const float e = vae_vexpf(-vae__asfloat(vae__asuint(x) & 0x7fffffffu));
    const float s = 1.0f / (1.0f + e);
    return x < 0 ? e * s : s;
}

/* log(1 + e^-a) for a >= 0 (softplus(-a); +inf -> 0, NaN -> NaN): e = e^-a in [0, 1], then
 * log1p(e) = e + e^2 R(e) with R of degree 9 fit to (log1p(e) - e) / e^2 on [0, 1] (Chebyshev fit, error 5e-9): no
 * range reduction and no division, half the work of vae_vlog1pf (the Bernoulli likelihood's and softplus's one
 * transcendental besides exp). e + (small) keeps the polynomial's rounding errors a third of the result's ulp. */
static inline float vae_vlog1p_expnf(float a) {
    const float e = vae_vexpf(-a);
    float p = 0.0028016419928f;
    p = p * e + -0.0171842669824f;
    p = p * e + 0.0493099734345f;
    p = p * e + -0.0913941377401f;
    p = p * e + 0.130333642382f;
    p = p * e + -0.163651528692f;
    p = p * e + 0.199567079523f;
    p = p * e + -0.249967599083f;
    p = p * e + 0.333332373462f;
    p = p * e + -0.499999995222f;
    return e + e * (e * p);
}

/* log(1 + e^x) = max(x, 0) + log1p(e^-|x|). */
static inline float vae_vsoftplusf(float x) {
    return (x > 0 ? x : 0.0f) + vae_vlog1p_expnf(vae__asfloat(vae__asuint(x) & 0x7fffffffu));
}

/* The f64 twins, on libm, in the same overflow-free forms (f64 kernels keep libm accuracy). */
static inline double vae_sigmoid_d(double x) {
    const double e = exp(-fabs(x)), s = 1 / (1 + e);
    return x < 0 ? e * s : s;
}
static inline double vae_softplus_d(double x) {
    return (x > 0 ? x : 0.0) + log1p(exp(-fabs(x)));
}

#endif
