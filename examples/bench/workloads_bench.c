#include "workloads_bench.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "autograd/profile.h"
#include "nn/dataset.h"
#include "tensor/io/idx.h"
#include "models/objective.h"
#include "nn/optim.h"
#include "tensor/gemm.h"
#include "tensor/kernels.h"
#include "tensor/threadpool.h"

typedef struct workload {
    const char *name, *desc;
    int nhidden;
    int64_t hidden[2];
    int64_t z;
    vae_act act;
    int64_t batch;
    const char *model; /* objective name; samples is its k (iwae) or l (vae) */
    int64_t samples;
    const char *net; /* NULL: the MLP of nhidden/hidden; "conv": models/vae_net_conv.c on 28x28x1 with
                      * nhidden/hidden as its fc layers (conv_hidden) */
} workload;

static const workload W[VAE_BENCH_NWORKLOADS] = {
    {"W1", "784-400-(20) ReLU VAE, batch 100", 1, {400, 0}, 20, VAE_ACT_RELU, 100, "vae", 1, NULL},
    {"W2",
     "784-200-200-(50) tanh IWAE K=50, batch 20",
     2,
     {200, 200},
     50,
     VAE_ACT_TANH,
     20,
     "iwae",
     50,
     NULL},
    {"W3",
     "784-200-200-(50) tanh IWAE K=5, batch 20",
     2,
     {200, 200},
     50,
     VAE_ACT_TANH,
     20,
     "iwae",
     5,
     NULL},
    /* the conv VAE: conv(16) conv(32) 4x4 stride 2 -> linear (20+20); linear -> convT(16) convT(1), ReLU */
    {"W4",
     "conv 16-32 4x4/2 -(20) ReLU VAE, batch 100",
     0,
     {0, 0},
     20,
     VAE_ACT_RELU,
     100,
     "vae",
     1,
     "conv"},
    /* the same with a 256-unit fc layer each side, latent 10: --net conv --conv-hidden 256 --latent 10 */
    {"W5",
     "conv 16-32 -256-(10) ReLU VAE, batch 100",
     1,
     {256, 0},
     10,
     VAE_ACT_RELU,
     100,
     "vae",
     1,
     "conv"},
};

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof v[0], cmp);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

enum { PH_DATA, PH_FWD, PH_BWD, PH_OPT, PH_GEMM, PH_COUNT };

/* One workload's training state: each thread count continues the same run (results are
 * bit-identical for any thread count, so the switch changes nothing but speed). */
typedef struct run {
    const workload *w;
    const vae_dataset *data;
    vae_net net;
    vae_optim opt;
    vae_ctx *ctx;
    vae_objective_cfg cfg;
    vae_objective_state st;
    vae_rng rng;
    float *xb;
    int64_t *idx;
    vae_profile *prof; /* the timed segments' per-op profile of the current thread count, or NULL */
} run;

static FILE *g_profile_out; /* vae_bench_workloads_profile */

void vae_bench_workloads_profile(FILE *out) {
    g_profile_out = out;
}

/* `steps` training steps; adds the seconds of each phase to ph. */
static int segment(run *r, int steps, double ph[PH_COUNT], vae_error *err) {
    const workload *w = r->w;
    for (int s = 0; s < steps; s++) {
        const double t0 = now();
        for (int64_t i = 0; i < w->batch; i++)
            r->idx[i] = (int64_t)vae_rng_below(&r->rng, (uint64_t)r->data->n);
        if (vae_dataset_binarize_dynamic(r->data, r->xb, r->idx, w->batch, &r->rng, err)) return 1;
        const double t1 = now();
        vae_ctx_reset(r->ctx);
        vae_params_zero_grad(r->net.params);
        if (r->prof) vae_profile_add(r->prof, "(reset, zero grads)", (int64_t)(1e9 * (now() - t1)));
        vae_objective_out o;
        vae_tensor *x = vae_wrap(r->ctx, VAE_F32, VAE_SHAPE(w->batch, r->data->d), r->xb);
        if (vae_objective(r->ctx, &r->net, x, &r->cfg, &r->st, &o)) goto fail;
        const double t2 = now();
        if (vae_backward(r->ctx, o.loss)) goto fail;
        const double t3 = now();
        if (vae_optim_step(&r->opt, err)) return 1;
        const double t4 = now();
        if (r->prof) {
            vae_profile_add(r->prof, "(data)", (int64_t)(1e9 * (t1 - t0)));
            vae_profile_add(r->prof, "(optimizer)", (int64_t)(1e9 * (t4 - t3)));
        }
        ph[PH_DATA] += t1 - t0;
        ph[PH_FWD] += t2 - t1;
        ph[PH_BWD] += t3 - t2;
        ph[PH_OPT] += t4 - t3;
    }
    return 0;
fail:
    vae_error_set(err, vae_ctx_status(r->ctx), "%s", vae_ctx_message(r->ctx));
    return 1;
}

static void run_free(run *r) {
    free(r->xb);
    free(r->idx);
    vae_ctx_free(r->ctx);
    vae_net_free(&r->net);
}

static int run_init(run *r, const workload *w, const vae_dataset *data, vae_error *err) {
    memset(r, 0, sizeof *r);
    r->w = w;
    r->data = data;
    vae_net_cfg nc;
    vae_net_cfg_default(&nc);
    nc.x_dim = data->d;
    nc.z_dim = w->z;
    nc.nhidden = w->nhidden;
    memcpy(nc.hidden, w->hidden, sizeof w->hidden);
    nc.act = w->act;
    if (w->net) {
        snprintf(nc.net, sizeof nc.net, "%s", w->net);
        nc.img_h = data->h, nc.img_w = data->w, nc.img_c = data->c;
        nc.nconv_hidden = w->nhidden, nc.nhidden = 0; /* a conv net's fc layers */
        memcpy(nc.conv_hidden, w->hidden, sizeof w->hidden);
    }
    vae_rng_seed(&r->rng, 1);
    if (vae_net_init(&r->net, &nc, &r->rng, err)) return 1;
    vae_optim_config oc = vae_optim_defaults(VAE_OPTIM_ADAM, 1e-3);
    r->ctx = vae_ctx_new(0);
    r->xb = malloc(sizeof(float) * (size_t)(w->batch * data->d));
    r->idx = malloc(sizeof(int64_t) * (size_t)w->batch);
    if (!r->ctx || !r->xb || !r->idx) {
        vae_error_set(err, VAE_ERR_OOM, "out of memory");
        return 1;
    }
    if (vae_optim_init(&r->opt, r->net.params, &oc, err)) return 1;
    vae_objective_cfg_default(&r->cfg);
    int iwae = strcmp(w->model, "iwae") == 0;
    if (vae_objective_parse_spec(&r->cfg, w->model, err) ||
        vae_objective_set(&r->cfg, iwae ? "k" : "l", (double)w->samples, err))
        return 1;
    return 0;
}

enum { MAXREPS = 15 };

/* The per-op profiles of the thread counts side by side, ms per step, rows in the first count's order. */
static void profile_print(FILE *f, const workload *w, vae_profile *const *prof, const vae_bench_counts *c,
                          double steps) {
    enum { CAP = 128 };
    vae_profile_row rows[VAE_BENCH_NCOUNTS][CAP];
    int n[VAE_BENCH_NCOUNTS];
    for (int k = 0; k < c->n; k++) {
        n[k] = vae_profile_rows(prof[k], rows[k], CAP);
        if (n[k] > CAP) n[k] = CAP;
    }
    fprintf(f, "%s per-op profile, ms per step (means over the %.0f timed steps of each thread count)\n",
            w->name, steps);
    fprintf(f, "%-22s %10s", "op / phase", "calls/step");
    for (int k = 0; k < c->n; k++) fprintf(f, "   %2dt fwd   %2dt bwd", c->t[k], c->t[k]);
    if (c->n == 2) fprintf(f, "  %2dt/%dt", c->t[0], c->t[1]);
    fputc('\n', f);
    double tot[VAE_BENCH_NCOUNTS] = {0};
    for (int i = 0; i < n[0]; i++) {
        fprintf(f, "%-22s %10.2f", rows[0][i].name, (double)rows[0][i].calls / steps);
        double t[VAE_BENCH_NCOUNTS] = {0};
        for (int k = 0; k < c->n; k++) {
            const vae_profile_row *r = NULL;
            for (int j = 0; j < n[k] && !r; j++)
                if (!strcmp(rows[k][j].name, rows[0][i].name)) r = &rows[k][j];
            const double fw = r ? 1e-6 * (double)r->fwd_ns / steps : 0, bw = r ? 1e-6 * (double)r->bwd_ns / steps : 0;
            t[k] = fw + bw;
            tot[k] += t[k];
            fprintf(f, "  %8.4f  %8.4f", fw, bw);
        }
        if (c->n == 2) fprintf(f, "  %6.2f", t[1] > 0 ? t[0] / t[1] : 0.0);
        fputc('\n', f);
    }
    fprintf(f, "%-22s %10s", "total", "");
    for (int k = 0; k < c->n; k++) fprintf(f, "  %18.4f", tot[k]);
    if (c->n == 2) fprintf(f, "  %6.2f", tot[1] > 0 ? tot[0] / tot[1] : 0.0);
    fprintf(f, "\n\n");
}

/* Interleaved rounds: each times one segment per thread count, so both counts see the same
 * machine load; every figure is the median over rounds of a segment's per-step value. */
static int measure(const workload *w, const vae_dataset *data, const vae_bench_counts *c, int smoke,
                   vae_bench_wl_res *out, vae_error *err) {
    const int prev_threads = vae_threads_get();
    run r;
    int rc = 1;
    vae_profile *prof[VAE_BENCH_NCOUNTS] = {0};
    if (run_init(&r, w, data, err)) goto done;
    /* ~50 ms segments: long against the clock, short against the machine's load swings */
    const int steps = smoke                           ? 2
                      : w->net                        ? 4
                      : strcmp(w->model, "iwae") == 0 ? (w->samples >= 50 ? 10 : 40)
                                                      : 30;
    const int reps = smoke ? 1 : MAXREPS;
    for (int k = 0; g_profile_out && k < c->n; k++)
        if (!(prof[k] = vae_profile_new())) {
            vae_error_set(err, VAE_ERR_OOM, "out of memory");
            goto done;
        }
    double fig[VAE_BENCH_NCOUNTS][PH_COUNT + 1][MAXREPS];
    double warm[PH_COUNT] = {0};
    for (int k = 0; k < c->n; k++) { /* warm-up: arena growth, pool start, scratch, caches */
        vae_threads_set(c->t[k]);
        if (segment(&r, smoke ? 1 : steps, warm, err)) goto done;
    }
    vae_gemm_stats_enable(1);
    long mallocs = 0;
    for (int rep = 0; rep < reps; rep++)
        for (int k = 0; k < c->n; k++) {
            vae_threads_set(c->t[k]);
            r.prof = prof[k];
            vae_ctx_set_profile(r.ctx, prof[k]);
            double ph[PH_COUNT] = {0};
            vae_gemm_stats_reset();
            const long m0 = vae_bench_malloc_count ? vae_bench_malloc_count() : 0;
            const double t0 = now();
            if (segment(&r, steps, ph, err)) goto done;
            const double dt = now() - t0;
            mallocs += vae_bench_malloc_count ? vae_bench_malloc_count() - m0 : 0;
            const vae_gemm_stats gs = vae_gemm_stats_get();
            out->gemm_flops_per_step = gs.flops / steps;
            for (int p = 0; p < PH_GEMM; p++) fig[k][p][rep] = 1e3 * ph[p] / steps;
            /* GEMMs inside pool tasks (the conv ops' blocks) run several at once: their thread-seconds over the
             * threads are their share of the wall time */
            fig[k][PH_GEMM][rep] = (gs.seconds + gs.task_seconds / vae_threads_get()) / dt;
            fig[k][PH_COUNT][rep] = (double)(steps * w->batch) / dt;
        }
    vae_gemm_stats_enable(0);
    vae_ctx_set_profile(r.ctx, NULL);
    r.prof = NULL;
    if (g_profile_out) profile_print(g_profile_out, w, prof, c, (double)(steps * reps));
    out->name = w->name;
    out->desc = w->desc;
    out->batch = w->batch;
    out->samples = w->samples;
    for (int k = 0; k < c->n; k++) {
        vae_bench_wl_phase *p = &out->t[k];
        p->samples_per_s = median(fig[k][PH_COUNT], reps); /* sorts: the quartiles are read off */
        p->samples_per_s_q1 = fig[k][PH_COUNT][(reps - 1) / 4];
        p->samples_per_s_q3 = fig[k][PH_COUNT][3 * (reps - 1) / 4];
        p->ms_step = 1e3 * (double)w->batch / p->samples_per_s;
        p->ms_data = median(fig[k][PH_DATA], reps);
        p->ms_forward = median(fig[k][PH_FWD], reps);
        p->ms_backward = median(fig[k][PH_BWD], reps);
        p->ms_optim = median(fig[k][PH_OPT], reps);
        p->gemm_share = median(fig[k][PH_GEMM], reps);
    }
    out->malloc_per_step =
        vae_bench_malloc_count ? (double)mallocs / (double)(reps * c->n * steps) : -1;
    struct rusage ru;
    out->peak_rss_kb = getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1;
    rc = 0;
done:
    vae_gemm_stats_enable(0);
    for (int k = 0; k < VAE_BENCH_NCOUNTS; k++) vae_profile_free(prof[k]);
    vae_threads_set(prev_threads);
    run_free(&r);
    return rc;
}

/* Synthetic stand-in for MNIST: smooth blobs in [0, 1], 784 pixels. */
static int make_synthetic(vae_dataset *ds, vae_error *err) {
    if (vae_dataset_alloc(ds, 2000, 784, err)) return 1;
    vae_rng rng;
    vae_rng_seed(&rng, 3);
    for (int64_t i = 0; i < ds->n; i++) {
        double cx = 8 + 12 * vae_rng_uniform(&rng), cy = 8 + 12 * vae_rng_uniform(&rng);
        for (int p = 0; p < 784; p++) {
            double dx = p % 28 - cx, dy = p / 28 - cy;
            ds->x[i * 784 + p] = (float)(1.0 / (1.0 + (dx * dx + dy * dy) / 20.0));
        }
    }
    ds->h = ds->w = 28;
    ds->c = 1;
    return 0;
}

int vae_bench_workloads_run(vae_bench_wl_res *res, int *nres, unsigned mask,
                            const vae_bench_counts *c, const char *mnist_dir, int smoke,
                            int *synthetic) {
    vae_error err = {0};
    vae_dataset data = {0};
    *nres = 0;
    *synthetic = mnist_dir == NULL;
    if (mnist_dir) {
        char spec[4200];
        snprintf(spec, sizeof spec, "mnist:%s", mnist_dir);
        if (vae_dataset_load(spec, &data, NULL, &err)) {
            fprintf(stderr, "bench: %s\n", err.msg);
            return 1;
        }
    } else if (make_synthetic(&data, &err)) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    for (int i = 0; i < VAE_BENCH_NWORKLOADS; i++) {
        if (!(mask >> i & 1)) continue;
        memset(&res[*nres], 0, sizeof res[*nres]);
        if (measure(&W[i], &data, c, smoke, &res[*nres], &err)) {
            fprintf(stderr, "bench: %s: %s\n", W[i].name, err.msg);
            vae_dataset_free(&data);
            return 1;
        }
        ++*nres;
    }
    vae_dataset_free(&data);
    return 0;
}

double vae_bench_fma_limit(const vae_bench_wl_res *r, const vae_bench_counts *c, int k) {
    return c->peak[k] * 1e9 / (r->gemm_flops_per_step / (double)r->batch);
}

void vae_bench_workloads_json(FILE *out, const vae_bench_wl_res *res, int n,
                              const vae_bench_counts *c) {
    fprintf(out, "[");
    for (int i = 0; i < n; i++) {
        const vae_bench_wl_res *r = &res[i];
        fprintf(
            out,
            "%s{\"name\":\"%s\",\"model\":\"%s\",\"batch\":%lld,\"samples\":%lld,"
            "\"gemm_flops_per_step\":%.0f,\"gemm_flops_per_sample\":%.0f,\"malloc_per_step\":%.3f,"
            "\"peak_rss_kb\":%ld",
            i ? "," : "", r->name, r->desc, r->batch, r->samples, r->gemm_flops_per_step,
            r->gemm_flops_per_step / (double)r->batch, r->malloc_per_step, r->peak_rss_kb);
        for (int k = 0; k < c->n; k++) {
            const vae_bench_wl_phase *p = &r->t[k];
            fprintf(
                out,
                ",\"t%d\":{\"samples_per_s\":%.0f,\"samples_per_s_q1\":%.0f,\"samples_per_s_q3\":%.0f,"
                "\"ms_step\":%.4f,\"ms_data\":%.4f,"
                "\"ms_forward\":%.4f,\"ms_backward\":%.4f,\"ms_optim\":%.4f,\"gemm_share\":%.3f,"
                "\"fma_limit_samples_per_s\":%.0f}",
                c->t[k], p->samples_per_s, p->samples_per_s_q1, p->samples_per_s_q3, p->ms_step,
                p->ms_data, p->ms_forward, p->ms_backward, p->ms_optim, p->gemm_share,
                vae_bench_fma_limit(r, c, k));
        }
        fprintf(out, "}");
    }
    fprintf(out, "]");
}

int vae_bench_workloads(FILE *out, const char *mnist_dir, int smoke) {
    vae_bench_counts c = {0};
    const int all = vae_threads_get();
    c.n = all > 1 ? 2 : 1;
    c.t[0] = 1;
    c.t[1] = all;
    vae_bench_peaks(&c, smoke);
    vae_bench_wl_res res[VAE_BENCH_NWORKLOADS];
    int n, synth;
    if (vae_bench_workloads_run(res, &n, (1u << VAE_BENCH_NWORKLOADS) - 1, &c, mnist_dir, smoke,
                                &synth)) return 1;
    vae_bench_peaks(&c, smoke); /* the best window of the run (see kernels_bench.h) */
    fprintf(out,
            "{\"bench\":\"workloads\",\"data\":\"%s\",\"simd\":\"%s\",\"threads\":%d,\"smoke\":%s,"
            "\"workloads\":",
            synth ? "synthetic" : "mnist", vae_simd_path_name(vae_simd_get_path()), all,
            smoke ? "true" : "false");
    vae_bench_workloads_json(out, res, n, &c);
    fprintf(out, "}\n");
    fflush(out);
    return 0;
}
