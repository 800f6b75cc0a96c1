/* vae_bench_ew: elementwise, reduction, accumulate and fused kernels at the reference workloads' sizes, timed with
 * 1 thread and with N threads (default 2), one JSON line on stdout.
 *
 *   W1: 784-400-(20) ReLU MLP, batch 100            -> tensors (100,784), (100,400)
 *   W2: 784-200-200-(50) tanh, batch 20, IWAE K=50  -> tensors (50,20,784), (50,20,200)
 *
 * Per case: median ns per call over repeats (the machine is shared; the median ignores the noisy tail) and the
 * GB/s that time gives for the bytes the kernel must read and write once. f32, the workloads' dtype. VAE_SIMD picks
 * the ISA variant of the f32 kernels (the JSON says which ran), so one binary compares them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tensor/kernels.h"
#include "tensor/rng.h"
#include "tensor/threadpool.h"
#include "tensor/view.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Tensors of one workload: a, b, c are (rows, D) inputs, o/g outputs; bias (D,); xb 0/1 data of shape (tail, D)
 * broadcast over the leading K axis for W2 (not broadcast for W1). */
typedef struct {
    const char *name;
    int ndim;
    int64_t shape[3];  /* big activation shape */
    int64_t hshape[3]; /* hidden activation shape (last dim 400 or 200) */
    vae_tensor *a, *b, *o, *g, *x01, *lp, *glp, *h, *hg, *hb, *ho, *bias, *dbias, *mask;
} work;

typedef enum {
    C_ADD,
    C_MUL,
    C_MUL_BCAST,
    C_WHERE,
    C_COPY,
    C_FILL,
    C_EXP,
    C_TANH,
    C_SIGMOID,
    C_SOFTPLUS,
    C_RELU,
    C_TANH_GRAD,
    C_SOFTPLUS_GRAD,
    C_SUM_LAST,
    C_LSE_LAST,
    C_ACCUM,
    C_ACCUM_BIAS,
    C_BIAS_RELU,
    C_BIAS_TANH,
    C_ACT_GRAD_RELU,
    C_ACT_GRAD_TANH,
    C_BERN_FWD,
    C_BERN_BWD,
    C_COUNT
} case_id;

static const char *const case_name[C_COUNT] = {"add",
                                               "mul",
                                               "mul_bcast",
                                               "where",
                                               "copy",
                                               "fill",
                                               "exp",
                                               "tanh",
                                               "sigmoid",
                                               "softplus",
                                               "relu",
                                               "tanh_grad",
                                               "softplus_grad",
                                               "sum_last",
                                               "logsumexp_last",
                                               "accum",
                                               "accum_bias",
                                               "bias_relu",
                                               "bias_tanh",
                                               "act_grad_relu",
                                               "act_grad_tanh",
                                               "bernoulli_lp_fwd",
                                               "bernoulli_lp_bwd"};

static vae_tensor *xb_view(const work *w, vae_tensor *v) {
    /* x data (..., D) read with the full shape: stride 0 over the particle axis for W2 */
    vae_broadcast_strides(w->x01, w->ndim, w->shape, v->stride);
    v->ndim = w->ndim;
    memcpy(v->shape, w->shape, sizeof w->shape);
    return v;
}

/* One call of a case; returns the bytes it moves (each operand read or written once). */
static double run_case(case_id c, work *w, void *scratch) {
    vae_tensor v = *w->x01, bv = *w->bias;
    const double E = (double)vae_numel(w->a) * 4, H = (double)vae_numel(w->h) * 4;
    const double X =
        (double)vae_numel(w->x01) * 4; /* the 0/1 data, read once even when broadcast */
    switch (c) {
    case C_ADD:
        vae_k_binary(VAE_B_ADD, w->a, w->b, w->o);
        return 3 * E;
    case C_MUL:
        vae_k_binary(VAE_B_MUL, w->a, w->b, w->o);
        return 3 * E;
    case C_MUL_BCAST:
        vae_k_binary(VAE_B_MUL, w->a, w->x01, w->o);
        return 2 * E + X;
    case C_WHERE:
        vae_k_where(w->mask, w->a, w->b, w->o);
        return 4 * E;
    case C_COPY:
        vae_k_copy(w->o, xb_view(w, &v));
        return E + X;
    case C_FILL:
        vae_k_fill(w->o, 0.5);
        return E;
    case C_EXP:
        vae_k_unary(VAE_U_EXP, 0, 0, w->a, w->o);
        return 2 * E;
    case C_TANH:
        vae_k_unary(VAE_U_TANH, 0, 0, w->a, w->o);
        return 2 * E;
    case C_SIGMOID:
        vae_k_unary(VAE_U_SIGMOID, 0, 0, w->a, w->o);
        return 2 * E;
    case C_SOFTPLUS:
        vae_k_unary(VAE_U_SOFTPLUS, 0, 0, w->a, w->o);
        return 2 * E;
    case C_RELU:
        vae_k_unary(VAE_U_RELU, 0, 0, w->a, w->o);
        return 2 * E;
    case C_TANH_GRAD:
        vae_k_unary_grad(VAE_U_TANH, 0, 0, w->a, w->b, w->b, w->g);
        return 4 * E;
    case C_SOFTPLUS_GRAD:
        vae_k_unary_grad(VAE_U_SOFTPLUS, 0, 0, w->a, w->b, w->b, w->g);
        return 4 * E;
    case C_SUM_LAST:
        vae_k_reduce(VAE_R_SUM, w->a, 1u << (w->ndim - 1), w->lp, NULL);
        return E;
    case C_LSE_LAST:
        vae_k_reduce(VAE_R_LOGSUMEXP, w->a, 1u << (w->ndim - 1), w->lp, scratch);
        return E;
    case C_ACCUM:
        vae_k_accum(w->g, w->a);
        return 3 * E;
    case C_ACCUM_BIAS: /* dbias += column sums of the hidden gradient: dst broadcast with stride 0 */
        bv = *w->dbias;
        vae_broadcast_strides(w->dbias, w->ndim, w->hshape, bv.stride);
        bv.ndim = w->ndim;
        memcpy(bv.shape, w->hshape, sizeof w->hshape);
        vae_k_accum(&bv, w->hg);
        return H;
    case C_BIAS_RELU:
        vae_k_bias_act(w->ho, w->bias, VAE_KACT_RELU, 0);
        return 2 * H;
    case C_BIAS_TANH:
        vae_k_bias_act(w->ho, w->bias, VAE_KACT_TANH, 0);
        return 2 * H;
    case C_ACT_GRAD_RELU:
        vae_k_act_grad(VAE_KACT_RELU, 0, w->h, w->hg, w->hb);
        return 3 * H;
    case C_ACT_GRAD_TANH:
        vae_k_act_grad(VAE_KACT_TANH, 0, w->h, w->hg, w->hb);
        return 3 * H;
    case C_BERN_FWD:
        vae_k_bernoulli_lp(w->a, w->x01, w->lp);
        return E + X;
    case C_BERN_BWD:
        vae_k_bernoulli_lp_grad(w->a, w->x01, w->glp, w->g, 0);
        return 2 * E + X;
    default:
        return 0;
    }
}

static vae_tensor *randn(vae_arena *ar, vae_rng *r, int nd, const int64_t *shape, double scale) {
    vae_tensor *t = vae_tensor_alloc(ar, NULL, VAE_F32, nd, shape);
    if (!t) return NULL;
    float *p = t->data;
    for (int64_t i = 0; i < vae_numel(t); i++) p[i] = (float)(scale * vae_rng_normal(r));
    return t;
}

static int work_init(work *w, vae_arena *ar, vae_rng *r) {
    const int nd = w->ndim;
    int64_t bshape[1] = {w->hshape[nd - 1]}, lshape[3]; /* per-row outputs, keepdim: (..., 1) */
    memcpy(lshape, w->shape, sizeof lshape);
    lshape[nd - 1] = 1;
    w->a = randn(ar, r, nd, w->shape, 3);
    w->b = randn(ar, r, nd, w->shape, 1);
    w->o = randn(ar, r, nd, w->shape, 1);
    w->g = randn(ar, r, nd, w->shape, 1);
    w->mask = randn(ar, r, nd, w->shape, 1);
    const int bc = nd == 3; /* W2's data (20,784) is shared by the K particles; W1's is (100,784) */
    w->x01 = randn(ar, r, nd - bc, w->shape + bc, 1);
    w->lp = randn(ar, r, nd, lshape, 1);
    w->glp = randn(ar, r, nd, lshape, 1);
    w->h = randn(ar, r, nd, w->hshape, 1);
    w->hg = randn(ar, r, nd, w->hshape, 1);
    w->hb = randn(ar, r, nd, w->hshape, 1);
    w->ho = randn(ar, r, nd, w->hshape, 1);
    w->bias = randn(ar, r, 1, bshape, 0.1);
    w->dbias = randn(ar, r, 1, bshape, 0.1);
    if (!w->a || !w->b || !w->o || !w->g || !w->mask || !w->x01 || !w->lp || !w->glp || !w->h ||
        !w->hg || !w->hb || !w->ho || !w->bias || !w->dbias)
        return 0;
    float *m = w->mask->data, *x = w->x01->data;
    for (int64_t i = 0; i < vae_numel(w->mask); i++) m[i] = m[i] > 0 ? 1.0f : 0.0f;
    for (int64_t i = 0; i < vae_numel(w->x01); i++) x[i] = x[i] > 0 ? 1.0f : 0.0f;
    return 1;
}

/* Median ns per call with nt threads. The bias_act case works in place, so it is re-run on the same buffer:
 * values stay bounded (relu/tanh of bounded values plus a small bias). */
static double measure(case_id c, work *w, void *scratch, int nt, int smoke, double *bytes) {
    enum { MAXREP = 2001 };
    static double t[MAXREP];
    vae_threads_set(nt);
    *bytes = run_case(c, w, scratch); /* warm-up: pool, caches */
    const double budget = smoke ? 0.002 : 0.15;
    int n = 0;
    const double start = now_s();
    while (n < MAXREP && (n < 5 || now_s() - start < budget)) {
        const double t0 = now_s();
        run_case(c, w, scratch);
        t[n++] = (now_s() - t0) * 1e9;
        if (c == C_BIAS_RELU || c == C_BIAS_TANH)
            memcpy(w->ho->data, w->h->data, (size_t)vae_numel(w->h) * 4);
    }
    qsort(t, (size_t)n, sizeof t[0], cmp_double);
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

int main(int argc, char **argv) {
    int smoke = 0, nt = 2;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--smoke") == 0)
            smoke = 1;
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            nt = atoi(argv[++i]);
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            only = argv[++i];
        else {
            fprintf(stderr,
                    "usage: vae_bench_ew [--smoke] [--threads N (default 2)] [--only CASE]\n");
            return strcmp(argv[i], "--help") == 0 ? 0 : 2;
        }
    }
    if (nt < 1 || nt > VAE_THREADS_MAX) {
        fprintf(stderr, "vae_bench_ew: --threads wants 1..%d\n", VAE_THREADS_MAX);
        return 2;
    }
    work ws[2] = {{.name = "W1", .ndim = 2, .shape = {100, 784}, .hshape = {100, 400}},
                  {.name = "W2", .ndim = 3, .shape = {50, 20, 784}, .hshape = {50, 20, 200}}};
    vae_arena *ar = vae_arena_new(0);
    vae_rng r;
    vae_rng_seed(&r, 1);
    void *scratch = malloc(sizeof(float) * 50 * 20);
    if (!ar || !scratch || !work_init(&ws[0], ar, &r) || !work_init(&ws[1], ar, &r)) {
        fprintf(stderr, "vae_bench_ew: out of memory\n");
        return 1;
    }
    printf("{\"bench\":\"ew\",\"dtype\":\"f32\",\"simd\":\"%s\",\"threads\":[1,%d],\"smoke\":%s,"
           "\"cases\":[",
           vae_simd_path_name(vae_simd_get_path()), nt, smoke ? "true" : "false");
    int first = 1;
    for (int k = 0; k < 2; k++)
        for (int c = 0; c < C_COUNT; c++) {
            if (only && strcmp(only, case_name[c]) != 0) continue;
            double bytes, t1 = measure((case_id)c, &ws[k], scratch, 1, smoke, &bytes);
            double tn = measure((case_id)c, &ws[k], scratch, nt, smoke, &bytes);
            printf(
                "%s{\"w\":\"%s\",\"kernel\":\"%s\",\"t1_ns\":%.0f,\"t%d_ns\":%.0f,\"t1_gbs\":%.2f,"
                "\"t%d_gbs\":%.2f}",
                first ? "" : ",", ws[k].name, case_name[c], t1, nt, tn, bytes / t1, nt, bytes / tn);
            first = 0;
        }
    printf("]}\n");
    vae_threads_set(0);
    free(scratch);
    vae_arena_free(ar);
    return 0;
}
