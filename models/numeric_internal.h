/* numeric_internal.h - (not installed) scalar helpers the models' reporting loops share. */
#ifndef VAE_NUMERIC_INTERNAL_H
#define VAE_NUMERIC_INTERNAL_H

#include <math.h>

/* log(e^a + e^b) without overflow; -inf is the identity (an empty running sum) */
static inline double vae__logaddexp(double a, double b) {
    if (a == -INFINITY) return b;
    if (b == -INFINITY) return a;
    double m = a > b ? a : b;
    return m + log(exp(a - m) + exp(b - m));
}

#endif
