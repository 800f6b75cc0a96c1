/* The conv kernels' im2col/col2im paths (tensor/kernels_conv_isa.c) give the same bits: the row loops (the
 * reference), the phase planes and the stride-2 AVX-512 path, in every ISA variant this CPU runs, on 1 and 2
 * threads, f32, for conv2d and conv_transpose2d forward and all their gradients, on geometries that take each path
 * (4x4 stride 2 on 28x28 and 32x32, odd kernels and sizes, stride 1 and 3, an NHWC input read through a permuted
 * view). The row loops themselves are checked against the definition in test_conv.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/kernels.h"
#include "tensor/kernels_conv_internal.h"
#include "test.h"
#include "vae.h"

typedef struct geo {
    int64_t N, C, O, H, W, k, s, p;
    int nhwc; /* x read through a permuted (N, H, W, C) buffer */
} geo;

static void fill(vae_tensor *t, double phase) {
    for (int64_t i = 0; i < vae_numel(t); i++) vae_set_flat(t, i, sin(0.37 * (double)i + phase));
}

static int64_t out_size(int64_t n, const geo *g, int transposed) {
    return transposed ? (n - 1) * g->s - 2 * g->p + g->k : (n + 2 * g->p - g->k) / g->s + 1;
}

/* y, then gx, gw, gb of loss sum(y * r), of conv2d (transposed 0) or conv_transpose2d into out (f32); returns the
 * number of values written (at most cap). */
static int64_t run(const geo *g, int transposed, float *out, int64_t cap) {
    vae_ctx *ctx = vae_ctx_new(0);
    /* x (N, C, H, W), or the same values laid out (N, H, W, C) and viewed as (N, C, H, W) */
    vae_tensor *xb = g->nhwc ? vae_zeros(ctx, VAE_F32, VAE_SHAPE(g->N, g->H, g->W, g->C))
                             : vae_zeros(ctx, VAE_F32, VAE_SHAPE(g->N, g->C, g->H, g->W));
    vae_tensor *x = g->nhwc ? vae_permute(ctx, xb, (int[]){0, 3, 1, 2}) : xb;
    int64_t OH = out_size(g->H, g, transposed), OW = out_size(g->W, g, transposed);
    vae_tensor *w = transposed ? vae_zeros(ctx, VAE_F32, VAE_SHAPE(g->C, g->O, g->k, g->k))
                               : vae_zeros(ctx, VAE_F32, VAE_SHAPE(g->O, g->C, g->k, g->k));
    vae_tensor *b = vae_zeros(ctx, VAE_F32, VAE_SHAPE(g->O));
    vae_tensor *y = vae_zeros(ctx, VAE_F32, VAE_SHAPE(g->N, g->O, OH, OW));
    vae_tensor *r = vae_zeros(ctx, VAE_F32, VAE_SHAPE(g->N, g->O, OH, OW));
    vae_tensor *gx = vae_zeros(ctx, VAE_F32, VAE_SHAPE(g->N, g->C, g->H, g->W));
    vae_tensor *gw = vae_zeros(ctx, VAE_F32, VAE_SHAPE(w->shape[0], w->shape[1], g->k, g->k));
    vae_tensor *gb = vae_zeros(ctx, VAE_F32, VAE_SHAPE(g->O));
    CHECK(x && w && b && y && r && gx && gw && gb);
    int64_t n = 0;
    if (x && w && b && y && r && gx && gw && gb) {
        for (int64_t i = 0; i < vae_numel(x); i++) { /* element i of (N, C, H, W) */
            int64_t nn = i / (g->C * g->H * g->W), c = i / (g->H * g->W) % g->C,
                    h = i / g->W % g->H, ww = i % g->W;
            vae_set_flat(xb, g->nhwc ? ((nn * g->H + h) * g->W + ww) * g->C + c : i,
                         sin(0.37 * (double)i + 0.3));
        }
        fill(w, 1.1), fill(b, 2.0), fill(r, 0.9);
        int rc = transposed ? vae_k_conv_transpose2d(x, w, b, y, g->s, g->p) ||
                                  vae_k_conv_transpose2d_grad(x, w, r, gx, gw, gb, g->s, g->p)
                            : vae_k_conv2d(x, w, b, y, g->s, g->p) ||
                                  vae_k_conv2d_grad(x, w, r, gx, gw, gb, g->s, g->p);
        CHECK(rc == 0);
        const vae_tensor *res[4] = {y, gx, gw, gb};
        for (int t = 0; t < 4; t++)
            for (int64_t i = 0; i < vae_numel(res[t]) && n < cap; i++)
                out[n++] = (float)vae_get_flat(res[t], i);
    }
    vae_ctx_free(ctx);
    return n;
}

/* Every path x ISA variant x thread count against the row loops on the portable variant and 1 thread. */
static void check_geo(const geo *g) {
    enum { CAP = 1 << 20 };
    float *ref = malloc(sizeof(float) * CAP), *got = malloc(sizeof(float) * CAP);
    for (int transposed = 0; transposed < 2; transposed++) {
        vae_simd_set_path(VAE_SIMD_PORTABLE);
        vae__k_conv_set_path(1);
        vae_threads_set(1);
        int64_t n = run(g, transposed, ref, CAP);
        int nonzero = 0;
        for (int64_t i = 0; i < n; i++) nonzero += ref[i] != 0;
        CHECK(n > 0 && nonzero > n / 2);
        for (int simd = VAE_SIMD_PORTABLE; simd < VAE_SIMD_PATH_COUNT_; simd++) {
            if (vae_simd_set_path((vae_simd_path)simd) != VAE_OK) continue;
            for (int path = 0; path < 3; path++)
                for (int threads = 1; threads <= 2; threads++) {
                    vae__k_conv_set_path(path);
                    vae_threads_set(threads);
                    int64_t m = run(g, transposed, got, CAP);
                    CHECK_MSG(m == n && memcmp(ref, got, sizeof(float) * (size_t)n) == 0,
                              "%s %lldx%lldx%lld k%lld s%lld p%lld%s: path %d, %s, %d threads: "
                              "other bits than the row loops",
                              transposed ? "conv_transpose2d" : "conv2d", (long long)g->C,
                              (long long)g->H, (long long)g->W, (long long)g->k, (long long)g->s,
                              (long long)g->p, g->nhwc ? " (NHWC view)" : "", path,
                              vae_simd_path_name((vae_simd_path)simd), threads);
                }
        }
    }
    vae__k_conv_set_path(0);
    vae_simd_set_path(VAE_SIMD_AUTO);
    vae_threads_set(0);
    free(ref);
    free(got);
}

static void test_paths(void) {
    const geo gs[] = {
        {6, 1, 16, 28, 28, 4, 2, 1, 1}, /* the conv VAE's first layer on MNIST, read from NHWC */
        {6, 16, 8, 14, 14, 4, 2, 1, 0}, /* its second layer */
        {4, 3, 4, 32, 32, 4, 2, 1, 1},  /* 32x32x3 (NHWC: not unit-stride rows, the phase planes) */
        {4, 2, 4, 32, 32, 4, 2, 1, 0},  /* 16 positions a row: the widest the stride-2 path takes */
        {5, 2, 3, 9, 11, 3, 2, 0, 0},   /* odd kernel and sizes, no padding */
        {5, 2, 3, 10, 10, 5, 2, 2, 0},  /* 5x5, padding 2 */
        {5, 2, 3, 12, 12, 3, 1, 1, 0},  /* stride 1 */
        {5, 2, 3, 13, 13, 4, 3, 1, 0},  /* stride 3 */
    };
    for (size_t i = 0; i < sizeof gs / sizeof gs[0]; i++) check_geo(&gs[i]);
}

int main(void) {
    test_paths();
    return test_finish();
}
