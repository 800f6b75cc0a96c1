/* tensor/vmath.h: the vectorizable f32 exp, expm1, log1p, tanh, sigmoid and softplus against libm in double,
 * rounded: max error in ulps of the float result over a dense grid of each function's useful range, plus the
 * special values the header promises. */
#include <float.h>
#include <stdint.h>
#include <string.h>

#include "tensor/vmath.h"
#include "test.h"

typedef float (*approx_fn)(float);
typedef double (*ref_fn)(double);

static double ref_sigmoid(double x) {
    return x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x));
}
static double ref_softplus(double x) {
    return (x > 0 ? x : 0) + log1p(exp(-fabs(x)));
}
static double ref_log1p_expn(double a) {
    return log1p(exp(-a));
}

/* Error of a in ulps of the float nearest to the exact value r (ulps of the subnormal spacing below FLT_MIN). */
static double ulp_err(float a, double r) {
    if (isnan(r)) return isnan(a) ? 0 : INFINITY;
    float rf = (float)r;
    if (isinf(rf)) return a == rf ? 0 : INFINITY;
    double m = fabs((double)rf);
    double ulp = m < FLT_MIN ? 0x1p-149 : (double)nextafterf((float)m, INFINITY) - m;
    if (m >= FLT_MAX) ulp = 0x1p104;
    return fabs((double)a - r) / ulp;
}

/* Max ulp error over n points evenly spread in [lo, hi] plus every float of [lo2, hi2] around 0 (where the
 * relative accuracy of expm1/log1p/tanh is hardest). */
static double max_err(approx_fn f, ref_fn g, double lo, double hi, float *worst) {
    const int64_t n = 2000000;
    double m = 0;
    for (int64_t i = 0; i <= n; i++) {
        float x = (float)(lo + (hi - lo) * (double)i / (double)n);
        double e = ulp_err(f(x), g((double)x));
        if (e > m) m = e, *worst = x;
    }
    /* every float in [2^-30, 2^-2] with a stride of 7 in bit patterns, both signs */
    for (uint32_t b = 0x30800000u; b < 0x3e800000u; b += 7)
        for (int s = 0; s < 2; s++) {
            float x = vae__asfloat(b | (s ? 0x80000000u : 0));
            if (x < lo || x > hi) continue;
            double e = ulp_err(f(x), g((double)x));
            if (e > m) m = e, *worst = x;
        }
    return m;
}

int main(void) {
    struct {
        const char *name;
        approx_fn f;
        ref_fn g;
        double lo, hi, bound;
    } rows[] = {
        {"exp", vae_vexpf, exp, -110, 90, 1.5},
        {"expm1", vae_vexpm1f, expm1, -30, 90, 2.0},
        {"log1p", vae_vlog1pf, log1p, -0.999999, 1e6, 1.0},
        {"tanh", vae_vtanhf, tanh, -12, 12, 3.0},
        {"sigmoid", vae_vsigmoidf, ref_sigmoid, -110, 110, 3.0},
        {"softplus", vae_vsoftplusf, ref_softplus, -110, 110, 3.0},
        {"log1p_expn", vae_vlog1p_expnf, ref_log1p_expn, 0, 110, 2.5},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        float worst = 0;
        double e = max_err(rows[i].f, rows[i].g, rows[i].lo, rows[i].hi, &worst);
        printf("%-8s max error %.3f ulp (at %.9g)\n", rows[i].name, e, (double)worst);
        CHECK_MSG(e <= rows[i].bound, "%s: %.3f ulp at %.9g > %.1f", rows[i].name, e, (double)worst,
                  rows[i].bound);
    }
    /* special values */
    const float inf = INFINITY, nan = NAN;
    CHECK(isnan(vae_vexpf(nan)) && isnan(vae_vexpm1f(nan)) && isnan(vae_vlog1pf(nan)));
    CHECK(isnan(vae_vtanhf(nan)) && isnan(vae_vsigmoidf(nan)) && isnan(vae_vsoftplusf(nan)));
    CHECK(vae_vexpf(inf) == inf && vae_vexpf(-inf) == 0 && vae_vexpf(100) == inf &&
          vae_vexpf(0) == 1);
    CHECK(vae_vexpm1f(inf) == inf && vae_vexpm1f(-inf) == -1 && vae_vexpm1f(0) == 0);
    CHECK(vae_vlog1pf(-1) == -inf && isnan(vae_vlog1pf(-2)) && vae_vlog1pf(inf) == inf &&
          vae_vlog1pf(0) == 0);
    CHECK(vae_vtanhf(inf) == 1 && vae_vtanhf(-inf) == -1 && signbit(vae_vtanhf(-0.0f)));
    CHECK(vae_vsigmoidf(inf) == 1 && vae_vsigmoidf(-inf) == 0 && vae_vsigmoidf(0) == 0.5f);
    CHECK(vae_vsoftplusf(inf) == inf && vae_vsoftplusf(-inf) == 0);
    CHECK(vae_vlog1p_expnf(inf) == 0 && isnan(vae_vlog1p_expnf(nan)) && vae_vlog1p_expnf(0) == 0.693147182f);
    CHECK(vae_vexpf(-100) > 0 && vae_vexpf(-100) < FLT_MIN); /* gradual underflow, not flushed */
    return test_finish();
}
