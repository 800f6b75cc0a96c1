/* special.h - (private) lgamma, digamma and trigamma for the unary kernels, in double precision.
 *
 * libm's lgamma writes the global `signgam`, so two threads of one kernel would race on it; these are pure
 * functions. f32 kernels evaluate in double and round once (the *f forms). Accuracy in f64 (tests/test_ops_more.c
 * against PyTorch/libm and against mpmath values): relative error below 1e-13 for x > 0, except within about
 * 1e-3 of the positive root of digamma (x0 = 1.46163...) where the error stays below 1e-15 absolute.
 * Poles: lgamma(0, -1, -2, ...) = +inf; digamma(0) = -inf and digamma(-1, -2, ...) = NaN (as PyTorch);
 * trigamma(0, -1, ...) = +inf.
 */
#ifndef VAE_SPECIAL_H
#define VAE_SPECIAL_H

/* log |Gamma(x)|. */
double vae__lgamma(double x);
/* psi(x) = d/dx lgamma(x). */
double vae__digamma(double x);
/* psi'(x) = d/dx digamma(x). */
double vae__trigamma(double x);

static inline float vae__lgammaf(float x) {
    return (float)vae__lgamma(x);
}
static inline float vae__digammaf(float x) {
    return (float)vae__digamma(x);
}
static inline float vae__trigammaf(float x) {
    return (float)vae__trigamma(x);
}

#endif
