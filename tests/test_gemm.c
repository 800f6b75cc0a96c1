/* vae_sgemm / vae_dgemm against a double-accumulating reference: odd, prime and blocking-crossing
 * sizes, every transpose combination and non-unit strides (via strides), alpha/beta cases, empty
 * dims, on every path the CPU has. C is embedded in a larger buffer whose gaps must stay untouched.
 */
#include "test.h"
#include "tensor/gemm.h"
#include "tensor/rng.h"
#include "tensor/threadpool.h"

#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SENTINEL 12345.0

/* A logical rows x cols operand inside a buffer: element (r,c) at r*rs + c*cs. trans =
 * column-major; step = 2 reads every second element; ld padding keeps rows apart. */
typedef struct {
    int64_t rs, cs, len;
} layout;

static layout make_layout(int64_t rows, int64_t cols, int trans, int step) {
    layout l;
    if (!trans) {
        l.cs = step;
        l.rs = cols * step + 3;
    } else {
        l.rs = step;
        l.cs = rows * step + 3;
    }
    l.len = (rows > 0 && cols > 0) ? (rows - 1) * l.rs + (cols - 1) * l.cs + 1 : 1;
    return l;
}

static vae_rng rng;

/* One product in precision `dbl` (0 = float); returns 1 if every element is within tolerance and
 * gaps intact. */
static int run_case(int dbl, int64_t M, int64_t N, int64_t K, int ta, int tb, int tc, int step,
                    double alpha, double beta) {
    layout la = make_layout(M, K, ta, step), lb = make_layout(K, N, tb, step),
           lc = make_layout(M, N, tc, step);
    double *a = malloc(sizeof(double) * (size_t)la.len),
           *b = malloc(sizeof(double) * (size_t)lb.len);
    double *c0 = malloc(sizeof(double) * (size_t)lc.len);
    /* calloc: with a zero-length layout nothing is written, and gcc -O2 -fsanitize warns on malloc'd memory */
    void *A = calloc((size_t)la.len + 1, 8), *B = calloc((size_t)lb.len + 1, 8),
         *C = calloc((size_t)lc.len + 1, 8);
    int ok = a && b && c0 && A && B && C;
    if (!ok) goto done;
    for (int64_t i = 0; i < la.len; i++) a[i] = 2 * vae_rng_uniform(&rng) - 1;
    for (int64_t i = 0; i < lb.len; i++) b[i] = 2 * vae_rng_uniform(&rng) - 1;
    for (int64_t i = 0; i < lc.len; i++) c0[i] = SENTINEL;
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++)
            c0[i * lc.rs + j * lc.cs] = beta == 0 ? NAN : 2 * vae_rng_uniform(&rng) - 1;
    for (int64_t i = 0; i < la.len; i++)
        dbl ? (((double *)A)[i] = a[i]) : (((float *)A)[i] = (float)a[i]);
    for (int64_t i = 0; i < lb.len; i++)
        dbl ? (((double *)B)[i] = b[i]) : (((float *)B)[i] = (float)b[i]);
    for (int64_t i = 0; i < lc.len; i++)
        dbl ? (((double *)C)[i] = c0[i]) : (((float *)C)[i] = (float)c0[i]);
    if (dbl)
        vae_dgemm(M, N, K, alpha, A, la.rs, la.cs, B, lb.rs, lb.cs, beta, C, lc.rs, lc.cs);
    else
        vae_sgemm(M, N, K, (float)alpha, A, la.rs, la.cs, B, lb.rs, lb.cs, (float)beta, C, lc.rs,
                  lc.cs);
    /* Reference on the values actually stored (floats rounded), accumulated in double. */
    if (!dbl) {
        for (int64_t i = 0; i < la.len; i++) a[i] = (float)a[i];
        for (int64_t i = 0; i < lb.len; i++) b[i] = (float)b[i];
    }
    const double eps = dbl ? DBL_EPSILON : FLT_EPSILON;
    double worst = 0;
    for (int64_t i = 0; i < M && ok; i++)
        for (int64_t j = 0; j < N; j++) {
            double s = 0, mag = 0;
            for (int64_t k = 0; k < K; k++) {
                const double p = a[i * la.rs + k * la.cs] * b[k * lb.rs + j * lb.cs];
                s += p;
                mag += fabs(p);
            }
            const double cold = dbl ? c0[i * lc.rs + j * lc.cs] : (float)c0[i * lc.rs + j * lc.cs];
            const double want = beta == 0 ? alpha * s : alpha * s + beta * cold;
            const double tol = 2 * (double)(K + 4) * eps *
                               (fabs(alpha) * mag + fabs(beta * (beta == 0 ? 0 : cold)));
            const int64_t at = i * lc.rs + j * lc.cs;
            const double got = dbl ? ((double *)C)[at] : ((float *)C)[at];
            const double err = fabs(got - want);
            if (!(err <= tol + 1e-300)) {
                fprintf(stderr, "  (%lld,%lld): got %.9g want %.9g (tol %.3g)\n", (long long)i,
                        (long long)j, got, want, tol);
                ok = 0;
                break;
            }
            if (err > worst) worst = err;
        }
    /* Gaps between C's elements are not written. */
    for (int64_t i = 0; i < lc.len && ok; i++) {
        const double got = dbl ? ((double *)C)[i] : ((float *)C)[i];
        if (c0[i] == SENTINEL && got != SENTINEL) {
            int inside = 0;
            for (int64_t r = 0; r < M && !inside; r++) {
                const int64_t off = i - r * lc.rs;
                if (off >= 0 && off % lc.cs == 0 && off / lc.cs < N) inside = 1;
            }
            if (!inside) ok = 0;
        }
    }
done:
    free(a), free(b), free(c0), free(A), free(B), free(C);
    return ok;
}

#define CASE(dbl, M, N, K, ta, tb, tc, step, alpha, beta)                                          \
    CHECK_MSG(run_case(dbl, M, N, K, ta, tb, tc, step, alpha, beta),                               \
              "%s path %s M=%d N=%d K=%d ta=%d tb=%d tc=%d step=%d alpha=%g beta=%g",              \
              dbl ? "dgemm" : "sgemm", vae_gemm_path_name(vae_gemm_get_path()), (int)(M),          \
              (int)(N), (int)(K), ta, tb, tc, step, (double)(alpha), (double)(beta))

static void suite(void) {
    static const int dims[] = {1, 2, 3, 7, 13, 17, 31, 33, 64, 97, 129};
    const int nd = (int)(sizeof dims / sizeof dims[0]);
    for (int dbl = 0; dbl < 2; dbl++) {
        /* Random small shapes, every transpose of A, B and C, unit and step-2 strides. */
        for (int t = 0; t < 48; t++) {
            const int M = dims[vae_rng_below(&rng, nd)], N = dims[vae_rng_below(&rng, nd)],
                      K = dims[vae_rng_below(&rng, nd)];
            const int ta = t & 1, tb = (t >> 1) & 1, tc = (t >> 2) & 1, step = 1 + ((t >> 3) & 1);
            CASE(dbl, M, N, K, ta, tb, tc, step, 1.0, 0.0);
        }
        /* Larger than every blocking size (kc, nc, mr-panels), all transposes of A and B. */
        for (int t = 0; t < 4; t++) CASE(dbl, 300, 517, 263, t & 1, t >> 1, 0, 1, 1.0, 0.0);
        CASE(dbl, 300, 517, 263, 1, 1, 1, 2, -0.75, 0.5);
        CASE(dbl, 129, 1100, 600, 0, 0, 0, 1, 1.0, 1.0);
        /* The VAE shapes: activations x weights, and the weight gradient x^T g. */
        CASE(dbl, 100, 400, 784, 0, 0, 0, 1, 1.0, 0.0);
        CASE(dbl, 784, 400, 100, 1, 0, 0, 1, 1.0, 1.0);
        /* alpha / beta variants (beta = 0 fills C with NaN, which must not leak). */
        const double ab[][2] = {{1, 0}, {1, 1}, {-0.5, 2}, {2.5, -1}, {0, 0}, {0, 0.5}, {0, 1}};
        for (int v = 0; v < 7; v++) {
            CASE(dbl, 33, 31, 97, 0, 1, 0, 1, ab[v][0], ab[v][1]);
            CASE(dbl, 17, 64, 13, 1, 0, 1, 2, ab[v][0], ab[v][1]);
        }
        /* Empty dims: K = 0 gives beta*C (zero for beta = 0 even over NaN), M or N = 0 touches
         * nothing. */
        for (int v = 0; v < 4; v++) {
            const double beta = v == 0 ? 0.0 : v == 1 ? 1.0 : v == 2 ? -2.0 : 0.5;
            CASE(dbl, 7, 5, 0, 0, 0, 0, 1, 1.0, beta);
            CASE(dbl, 0, 5, 3, 0, 0, 0, 1, 1.0, beta);
            CASE(dbl, 7, 0, 3, 0, 0, 0, 1, 1.0, beta);
        }
    }
}

/* N <= 32 (one micro-panel) reads a row-major A in place instead of packing it (ukr_da): the same arithmetic, so
 * column j of A @ B1 (N = 20, in place) must equal column j of A @ [B1 B2] (N = 60, packed) bit for bit, over K
 * long enough for several K chunks, with and without beta. On 1 thread: with more, each thread's half of the N = 60
 * product would fit one micro-panel too. (Only the AVX-512 f32 kernel has the in-place path; on the others this
 * compares two packed products.) */
static void test_direct_a(void) {
    enum { M = 50, K = 1300, N1 = 20, N2 = 60 };
    float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N2);
    float *C1 = malloc(sizeof(float) * M * N1), *C2 = malloc(sizeof(float) * M * N2);
    CHECK(A && B && C1 && C2);
    if (!A || !B || !C1 || !C2) return;
    for (int64_t i = 0; i < (int64_t)M * K; i++) A[i] = (float)(vae_rng_uniform(&rng) - 0.5);
    for (int64_t i = 0; i < (int64_t)K * N2; i++) B[i] = (float)(vae_rng_uniform(&rng) - 0.5);
    const int threads = vae_threads_get();
    vae_threads_set(1);
    for (int beta = 0; beta < 2; beta++) {
        for (int64_t i = 0; i < (int64_t)M * N1; i++) C1[i] = 0.25f * (float)(i % 7);
        for (int64_t i = 0; i < (int64_t)M * N2; i++)
            C2[i] = 0.25f * (float)((i / N2 * N1 + i % N2) % 7);
        /* B1 = the first N1 columns of B (row stride N2) */
        vae_sgemm(M, N1, K, 1.0f, A, K, 1, B, N2, 1, (float)beta, C1, N1, 1);
        vae_sgemm(M, N2, K, 1.0f, A, K, 1, B, N2, 1, (float)beta, C2, N2, 1);
        int same = 1;
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N1; j++)
                same &= memcmp(&C1[i * N1 + j], &C2[i * N2 + j], sizeof(float)) == 0;
        CHECK_MSG(same, "in-place A (N = %d) and packed A (N = %d) differ, beta = %d", N1, N2,
                  beta);
    }
    vae_threads_set(threads);
    free(A), free(B), free(C1), free(C2);
}

int main(void) {
    vae_rng_seed(&rng, 20240601);
    const vae_gemm_path paths[] = {VAE_GEMM_PORTABLE, VAE_GEMM_AVX2, VAE_GEMM_AVX512};
    for (int p = 0; p < 3; p++) {
        const vae_status st = vae_gemm_set_path(paths[p]);
        if (st == VAE_ERR_UNSUPPORTED) {
            fprintf(stderr, "skipping path %s: not supported by this build or CPU\n",
                    vae_gemm_path_name(paths[p]));
            continue;
        }
        CHECK(st == VAE_OK);
        CHECK(vae_gemm_get_path() == paths[p]);
        suite();
        test_direct_a();
    }
    /* Path API. */
    const vae_gemm_path before = vae_gemm_get_path();
    CHECK(vae_gemm_set_path((vae_gemm_path)99) == VAE_ERR_ARG);
    CHECK(vae_gemm_get_path() == before);
    CHECK(vae_gemm_set_path(VAE_GEMM_AUTO) == VAE_OK);
    CHECK(vae_gemm_get_path() != VAE_GEMM_AUTO);
    CHECK(strcmp(vae_gemm_path_name(VAE_GEMM_AVX512), "avx512") == 0);
    CHECK(strcmp(vae_gemm_path_name((vae_gemm_path)-1), "unknown") == 0);
    return test_finish();
}
