/* The counter-based Bernoulli draws of dynamic binarization (vae_k_bernoulli_keyed_f32, vae_rng_bernoulli_rows_f32,
 * vae_dataset_binarize_dynamic) and the f32 Gaussian KL kernels (vae_k_normal_kl_std_f32 and its gradient):
 * values against a scalar reference written here from the documented formula, the same bits for 1-4 threads and
 * every ISA variant this CPU runs, and (fixed seed) the mean, variance and correlations of the draws. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/kernels.h"
#include "tensor/threadpool.h"
#include "test.h"
#include "vae.h"

/* The stream as kernels.h defines it: SplitMix64 seeded with key, output number c + 1, top 31 bits vs p 2^31. */
static float ref_draw(uint64_t key, uint64_t c, float p) {
    uint64_t z = key + (c + 1) * 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 33) < (double)p * 2147483648.0 ? 1.0f : 0.0f;
}

/* SplitMix64 seeded with 0 is also vae_rng_seed's expander: its first output is the published 0xe220a8397b1dcdaf,
 * so key 0, counter 0 draws u = 0xe220a8397b1dcdaf >> 33: a p just above u 2^-31 gives 1, one at or below 0. */
static void test_reference_value(void) {
    const uint64_t first = 0xe220a8397b1dcdafULL >> 33;
    float lo = (float)((double)first / 2147483648.0);
    if ((double)lo * 2147483648.0 > (double)first) lo = nextafterf(lo, 0); /* lo 2^31 <= u */
    const float p[2] = {lo, nextafterf(lo, 1)}; /* the next float is 128 units of 2^-31 above */
    float out[2];
    vae_k_bernoulli_keyed_f32(0, 0, p, 1, NULL, 1, out);
    vae_k_bernoulli_keyed_f32(0, 0, p + 1, 1, NULL, 1, out + 1);
    CHECK(out[0] == 0 && out[1] == 1);
    CHECK(out[0] == ref_draw(0, 0, p[0]) && out[1] == ref_draw(0, 0, p[1]));
}

enum { M = 300, D = 784, N = 64 }; /* M x D is above the threading threshold */

/* Every (ISA, thread count) gives the reference's bits, through an index list, and a split of the counter range
 * over two calls gives the same as one call. */
static void test_keyed_bits(void) {
    float *p = malloc(sizeof(float) * N * D), *out = malloc(sizeof(float) * M * D),
          *want = malloc(sizeof(float) * M * D);
    int64_t idx[M];
    vae_rng r;
    vae_rng_seed(&r, 5);
    for (int64_t i = 0; i < (int64_t)N * D; i++) p[i] = (float)(1.2 * vae_rng_uniform(&r) - 0.1);
    p[0] = NAN, p[1] = 0, p[2] = 1, p[3] = INFINITY, p[4] = -INFINITY, p[5] = 1e-30f;
    for (int i = 0; i < M; i++) idx[i] = (int64_t)vae_rng_below(&r, N);
    const uint64_t key = 0x0123456789abcdefULL, c0 = 1000;
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < D; j++)
            want[i * D + j] = ref_draw(key, c0 + (uint64_t)(i * D + j), p[idx[i] * D + j]);
    int ok = 1, paths = 0;
    for (int pa = VAE_SIMD_PORTABLE; pa < VAE_SIMD_PATH_COUNT_; pa++) {
        if (vae_simd_set_path((vae_simd_path)pa) != VAE_OK) continue;
        paths++;
        for (int nt = 1; nt <= 4; nt++) {
            vae_threads_set(nt);
            memset(out, 0x7f, sizeof(float) * M * D);
            vae_k_bernoulli_keyed_f32(key, c0, p, D, idx, M, out);
            CHECK_MSG(memcmp(out, want, sizeof(float) * M * D) == 0, "path %d threads %d", pa, nt);
            ok &= memcmp(out, want, sizeof(float) * M * D) == 0;
            /* rows [0, 7) and [7, M) in two calls with the counter carried on */
            memset(out, 0x7f, sizeof(float) * M * D);
            vae_k_bernoulli_keyed_f32(key, c0, p, D, idx, 7, out);
            vae_k_bernoulli_keyed_f32(key, c0 + 7 * D, p, D, idx + 7, M - 7, out + 7 * D);
            CHECK(memcmp(out, want, sizeof(float) * M * D) == 0);
        }
    }
    vae_simd_set_path(VAE_SIMD_AUTO);
    vae_threads_set(0);
    CHECK(ok && paths >= 1);
    /* special probabilities: NaN and p <= 0 never, p >= 1 always */
    CHECK(want[0 * D] == 0 || idx[0] != 0);
    for (int i = 0; i < M; i++)
        if (idx[i] == 0)
            CHECK(want[i * D] == 0 && want[i * D + 1] == 0 && want[i * D + 2] == 1 &&
                  want[i * D + 3] == 1 && want[i * D + 4] == 0);
    /* idx NULL: consecutive rows of p */
    vae_k_bernoulli_keyed_f32(key, 0, p, D, NULL, 2, out);
    int same = 1;
    for (int64_t i = 0; i < 2 * D; i++) same &= out[i] == ref_draw(key, (uint64_t)i, p[i]);
    CHECK(same);
    free(p), free(out), free(want);
}

/* vae_rng_bernoulli_rows_f32 takes exactly one u64 from the state as the key (none for an empty batch), and
 * vae_dataset_binarize_dynamic is that call on the data set's rows. */
static void test_rows_and_dataset(void) {
    vae_error err = {0};
    vae_dataset ds = {0};
    CHECK(vae_dataset_alloc(&ds, N, D, &err) == VAE_OK);
    vae_rng r, s;
    vae_rng_seed(&r, 11);
    for (int64_t i = 0; i < (int64_t)N * D; i++) ds.x[i] = (float)vae_rng_uniform(&r);
    int64_t idx[M];
    for (int i = 0; i < M; i++) idx[i] = (i * 7) % N;
    float *a = malloc(sizeof(float) * M * D), *b = malloc(sizeof(float) * M * D);
    vae_rng_seed(&r, 12);
    s = r;
    const uint64_t key = vae_rng_u64(&s);
    vae_k_bernoulli_keyed_f32(key, 0, ds.x, D, idx, M, b);
    for (int nt = 1; nt <= 4; nt++) {
        vae_threads_set(nt);
        vae_rng t = r;
        CHECK(vae_dataset_binarize_dynamic(&ds, a, idx, M, &t, &err) == VAE_OK);
        CHECK(memcmp(a, b, sizeof(float) * M * D) == 0);
        CHECK(memcmp(t.s, s.s, sizeof s.s) == 0); /* one draw taken */
    }
    vae_threads_set(0);
    vae_rng t = r;
    vae_rng_bernoulli_rows_f32(&t, ds.x, D, idx, 0, a);
    CHECK(memcmp(t.s, r.s, sizeof r.s) == 0);
    free(a), free(b);
    vae_dataset_free(&ds);
}

/* Fixed seed: for p in {0.01, 0.3, 0.5, 0.9}, the mean of 2^20 draws within 4 standard errors, the variance of row
 * sums (rows of 256, independent draws: 256 p (1 - p)) within 5 of its standard errors, and the correlation of
 * neighbours along a row and across consecutive calls (keys) within 4 / sqrt(n) of 0. */
static void test_statistics(void) {
    enum { R = 4096, C = 256 };
    const double ps[4] = {0.01, 0.3, 0.5, 0.9};
    float *p = malloc(sizeof(float) * C), *x = malloc(sizeof(float) * R * C),
          *y = malloc(sizeof(float) * R * C);
    vae_rng r;
    vae_rng_seed(&r, 2026);
    for (int k = 0; k < 4; k++) {
        const double q = ps[k], n = (double)R * C;
        for (int j = 0; j < C; j++) p[j] = (float)q;
        const double pf = (double)p[0];
        int64_t *idx = calloc(R, sizeof *idx); /* every row reads p */
        vae_rng_bernoulli_rows_f32(&r, p, C, idx, R, x);
        vae_rng_bernoulli_rows_f32(&r, p, C, idx, R, y);
        double sum = 0, s2 = 0, lag = 0, cross = 0;
        for (int i = 0; i < R; i++) {
            double rs = 0;
            for (int j = 0; j < C; j++) {
                const double v = x[i * C + j] - pf, w = y[i * C + j] - pf;
                rs += x[i * C + j];
                if (j + 1 < C) lag += v * (x[i * C + j + 1] - pf);
                cross += v * w;
            }
            sum += rs;
            s2 += (rs - C * pf) * (rs - C * pf);
        }
        const double var1 = pf * (1 - pf), mean = sum / n, se = sqrt(var1 / n);
        CHECK_MSG(fabs(mean - pf) <= 4 * se, "p=%g mean=%g se=%g", pf, mean, se);
        /* row-sum variance: sample of R values, sd of the estimate ~ var sqrt(2 / R) (near-normal sums) */
        const double vr = s2 / R, want = C * var1;
        CHECK_MSG(fabs(vr - want) <= 5 * want * sqrt(2.0 / R) + 5 * C * var1 / R,
                  "p=%g row-sum var %g want %g", pf, vr, want);
        const double rl = lag / ((double)R * (C - 1) * var1), rc = cross / (n * var1);
        CHECK_MSG(fabs(rl) <= 4 / sqrt((double)R * (C - 1)), "p=%g lag-1 corr %g", pf, rl);
        CHECK_MSG(fabs(rc) <= 4 / sqrt(n), "p=%g cross-call corr %g", pf, rc);
        free(idx);
    }
    free(p), free(x), free(y);
}

/* The f32 KL kernels against f64 libm: y = 0.5 sum mu^2 + expm1(lv) - lv; gm += gy mu; gl += gy/2 expm1(lv). */
static void test_kl(void) {
    enum {
        B = 37,
        Z = 70,
        LD = 2 * Z + 3
    }; /* Z spans two KL_CHUNKs; rows strided like a column slice */
    float *buf = malloc(sizeof(float) * B * LD), gy[B], y[B], y2[B];
    float *gm = malloc(sizeof(float) * B * Z), *gl = malloc(sizeof(float) * B * Z);
    float *gm2 = malloc(sizeof(float) * B * Z), *gl2 = malloc(sizeof(float) * B * Z);
    vae_rng r;
    vae_rng_seed(&r, 8);
    for (int i = 0; i < B * LD; i++) buf[i] = (float)(3 * vae_rng_normal(&r));
    for (int i = 0; i < B; i++) gy[i] = (float)vae_rng_normal(&r);
    buf[0 * LD + Z] = 1e-6f, buf[1 * LD + Z] = -3e-5f, buf[2 * LD + Z] = 60.0f,
                 buf[3 * LD + Z] = -90.0f;
    const float *mu = buf, *lv = buf + Z;
    int ok = 1, paths = 0;
    for (int pa = VAE_SIMD_PORTABLE; pa < VAE_SIMD_PATH_COUNT_; pa++) {
        if (vae_simd_set_path((vae_simd_path)pa) != VAE_OK) continue;
        for (int i = 0; i < B * Z; i++) gm[i] = gl[i] = 0.25f;
        vae_k_normal_kl_std_f32(mu, LD, lv, LD, B, Z, y);
        vae_k_normal_kl_std_grad_f32(mu, LD, lv, LD, gy, B, Z, gm, gl);
        if (paths++ == 0) {
            memcpy(y2, y, sizeof y), memcpy(gm2, gm, sizeof(float) * B * Z);
            memcpy(gl2, gl, sizeof(float) * B * Z);
        } else {
            ok &= memcmp(y, y2, sizeof y) == 0 && memcmp(gm, gm2, sizeof(float) * B * Z) == 0 &&
                  memcmp(gl, gl2, sizeof(float) * B * Z) == 0;
        }
        double worst = 0, worstg = 0;
        for (int b = 0; b < B; b++) {
            double acc = 0, mag = 0;
            for (int j = 0; j < Z; j++) {
                const double m = mu[b * LD + j], v = lv[b * LD + j], t = m * m + (expm1(v) - v);
                acc += t, mag += fabs(t);
                const double wm = (float)(0.25 + (double)gy[b] * m),
                             wl = (float)(0.25 + (double)gy[b] * 0.5 * expm1(v));
                const double em = fabs(gm[b * Z + j] - wm) / (fabs(wm) + 1e-30),
                             el = fabs(gl[b * Z + j] - wl) / (fabs(wl) + 1e-30);
                worstg = fmax(worstg, fmax(em, el));
            }
            worst = fmax(worst, fabs(y[b] - 0.5 * acc) / (0.5 * mag));
        }
        CHECK_MSG(worst <= 1.2e-7 && worstg <= 1.2e-7, "path %d: kl rel err %g, grad %g", pa, worst,
                  worstg);
    }
    vae_simd_set_path(VAE_SIMD_AUTO);
    CHECK(ok && paths >= 1);
    /* NULL gradients are skipped */
    vae_k_normal_kl_std_grad_f32(mu, LD, lv, LD, gy, B, Z, NULL, gl);
    vae_k_normal_kl_std_grad_f32(mu, LD, lv, LD, gy, B, Z, gm, NULL);
    free(buf), free(gm), free(gl), free(gm2), free(gl2);
}

/* The op on a column slice (the kernel's strided rows) equals the op on a contiguous copy, forward and backward, and
 * its f32 value agrees with f64 on the same numbers. */
static void test_kl_op(void) {
    vae_ctx *c = vae_ctx_new(0);
    vae_ctx_seed(c, 9);
    vae_tensor *h = vae_randn(c, VAE_F32, VAE_SHAPE(6, 8));
    CHECK(vae_requires_grad(c, h, 1) == VAE_OK);
    vae_tensor *mu = vae_slice(c, h, 1, 0, 4, 1), *lv = vae_slice(c, h, 1, 4, 8, 1);
    vae_tensor *mc = vae_contiguous(c, mu), *lc = vae_contiguous(c, lv);
    vae_tensor *a = vae_normal_kl_std(c, mu, lv), *b = vae_normal_kl_std(c, mc, lc);
    CHECK(a && b && vae_ctx_status(c) == VAE_OK);
    int same = 1;
    for (int i = 0; i < 6; i++) same &= vae_get_flat(a, i) == vae_get_flat(b, i);
    CHECK(same);
    vae_tensor *a64 = vae_normal_kl_std(c, vae_cast(c, mu, VAE_F64), vae_cast(c, lv, VAE_F64));
    for (int i = 0; i < 6; i++) CHECK_NEAR(vae_get_flat(a, i), vae_get_flat(a64, i), 1e-6, 1e-6);
    CHECK(vae_backward(c, vae_sum_all(c, a)) == VAE_OK);
    /* d/dmu = mu, d/dlv = expm1(lv) / 2 */
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 8; j++) {
            const double x = vae_get(h, (int64_t[]){i, j});
            const double g = vae_get(h->grad, (int64_t[]){i, j});
            CHECK_NEAR(g, j < 4 ? x : 0.5 * expm1(x), 1e-6, 1e-6);
        }
    vae_ctx_free(c);
}

int main(void) {
    test_reference_value();
    test_keyed_bits();
    test_rows_and_dataset();
    test_statistics();
    test_kl();
    test_kl_op();
    return test_finish();
}
