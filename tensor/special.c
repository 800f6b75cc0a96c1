/* lgamma, digamma and trigamma (special.h).
 *
 * For x >= 10 the asymptotic (Stirling) series; below, the recurrences shift x up to x + n >= 10:
 *   lgamma(x)  = lgamma(x + n) - log(x (x+1) ... (x+n-1))
 *   digamma(x) = digamma(x + n) - sum_{k<n} 1/(x+k)
 *   trigamma(x) = trigamma(x + n) + sum_{k<n} 1/(x+k)^2
 * lgamma has roots at 1 and 2, where the shifted difference would lose its relative accuracy; within 1/4 of them
 * the Taylor series about 1 is used instead (lgamma(2 + e) = lgamma(1 + e) + log1p(e)). For x < 0 the reflection
 * formulas, with sin(pi x) and tan(pi x) computed after an exact reduction of x to [-1/2, 1/2]:
 *   lgamma(x)   = log(pi / |sin(pi x)|) - lgamma(1 - x)
 *   digamma(x)  = digamma(1 - x) - pi / tan(pi x)
 *   trigamma(x) = pi^2 / sin^2(pi x) - trigamma(1 - x)
 */
#include "special.h"

#include <math.h>

#define PI          3.14159265358979323846
#define EULER_GAMMA 0.57721566490153286061
#define LN_SQRT_2PI 0.91893853320467274178
#define SHIFT_TO    10.0

/* x = n + r with n an integer and |r| <= 1/2, exactly (x - round(x) is exact in binary floating point); sets
 * *odd when n is odd. For |x| >= 2^52 x is an integer: r = 0. */
static double reduce_half(double x, int *odd) {
    double n = round(x);
    *odd = fmod(n, 2.0) != 0;
    return x - n;
}

/* sin(pi x), accurate near the integers (where the reflection formulas need it) */
static double sinpi(double x) {
    int odd;
    double s = sin(PI * reduce_half(x, &odd));
    return odd ? -s : s;
}

/* lgamma(1 + e), |e| <= 1/4: -gamma e + e - log1p(e) + sum_{k>=2} (-1)^k (zeta(k) - 1) e^k / k.
 * The terms fall like (e/2)^k / k: 17 of them leave < 1e-17 at |e| = 1/4. */
static double lgamma1p_series(double e) {
    static const double zm1[] = {
        0.64493406684822641,    0.20205690315959429,    0.082323233711138186,
        0.036927755143369927,   0.01734306198444914,    0.0083492773819228271,
        0.0040773561979443396,  0.0020083928260822143,  0.00099457512781808526,
        0.00049418860411946453, 0.00024608655330804832, 0.00012271334757848915,
        6.1248135058704828e-05, 3.0588236307020493e-05, 1.5282259408651871e-05,
        7.6371976378997626e-06, 3.8172932649998402e-06, 1.908212716553939e-06,
    }; /* zeta(k) - 1, k = 2..19 */
    const int nz = (int)(sizeof zm1 / sizeof zm1[0]);
    double s = 0; /* Horner in e over sum_{k>=2} (-1)^k zm1[k] e^(k-2) / k */
    for (int i = nz - 1; i >= 0; i--) {
        int k = i + 2;
        s = s * e + ((k & 1) ? -zm1[i] : zm1[i]) / k;
    }
    return -EULER_GAMMA * e + (e - log1p(e)) + s * e * e;
}

/* Stirling: (x - 1/2) log x - x + log sqrt(2 pi) + sum B_2k / (2k (2k-1) x^(2k-1)), x >= 10 */
static double lgamma_asym(double x) {
    double r = 1 / x, r2 = r * r;
    double s = r2 * (-691.0 / 360360 + r2 * (1.0 / 156));
    s = r2 * (-1.0 / 1680 + r2 * (1.0 / 1188 + s));
    s = r * (1.0 / 12 + r2 * (-1.0 / 360 + r2 * (1.0 / 1260 + s)));
    return (x - 0.5) * log(x) - x + LN_SQRT_2PI + s;
}

double vae__lgamma(double x) {
    if (isnan(x)) return x;
    if (isinf(x)) return INFINITY;
    if (x <= 0 && x == floor(x)) return INFINITY; /* poles */
    if (x < 0) return log(PI / fabs(sinpi(x))) - vae__lgamma(1 - x);
    if (fabs(x - 1) <= 0.25) return lgamma1p_series(x - 1);
    if (fabs(x - 2) <= 0.25) return lgamma1p_series(x - 2) + log1p(x - 2);
    if (x >= SHIFT_TO) return lgamma_asym(x);
    double p = 1;
    for (; x < SHIFT_TO; x += 1) p *= x;
    return lgamma_asym(x) - log(p);
}

/* log x - 1/(2x) - sum B_2k / (2k x^(2k)), x >= 10 */
static double digamma_asym(double x) {
    double r2 = 1 / (x * x);
    double s = r2 * (-1.0 / 240 + r2 * (1.0 / 132 + r2 * (-691.0 / 32760 + r2 * (1.0 / 12))));
    s = r2 * (1.0 / 12 + r2 * (-1.0 / 120 + r2 * (1.0 / 252 + s)));
    return log(x) - 0.5 / x - s;
}

double vae__digamma(double x) {
    if (isnan(x) || x == INFINITY) return x;
    if (x == 0) return -INFINITY;
    if (x < 0) {
        if (x == floor(x)) return NAN; /* x = -1, -2, ... and -inf */
        int odd;
        double r = reduce_half(x, &odd); /* tan has period pi: tan(pi x) = tan(pi r) */
        return vae__digamma(1 - x) - PI / tan(PI * r);
    }
    double acc = 0;
    for (; x < SHIFT_TO; x += 1) acc += 1 / x;
    return digamma_asym(x) - acc;
}

/* 1/x + 1/(2x^2) + sum B_2k / x^(2k+1), x >= 10 */
static double trigamma_asym(double x) {
    double r = 1 / x, r2 = r * r;
    double s = r2 * (5.0 / 66 + r2 * (-691.0 / 2730 + r2 * (7.0 / 6)));
    s = r2 * (1.0 / 6 + r2 * (-1.0 / 30 + r2 * (1.0 / 42 + r2 * (-1.0 / 30 + s))));
    return r + 0.5 * r2 + r * s;
}

double vae__trigamma(double x) {
    if (isnan(x)) return x;
    if (x == INFINITY) return 0;
    if (x <= 0 && x == floor(x)) return INFINITY; /* poles (and -inf) */
    if (x < 0) {
        double s = sinpi(x);
        return PI * PI / (s * s) - vae__trigamma(1 - x);
    }
    double acc = 0;
    for (; x < SHIFT_TO; x += 1) acc += 1 / (x * x);
    return trigamma_asym(x) + acc;
}
