#include "workloads_bench.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nn/dataset.h"
#include "tensor/io/idx.h"
#include "models/objective.h"
#include "nn/optim.h"
#include "tensor/kernels.h"
#include "tensor/threadpool.h"

typedef struct workload {
    const char *name;
    int nhidden;
    int64_t hidden[2];
    int64_t z;
    vae_act act;
    int64_t batch;
    const char *model; /* objective name; samples is its l (vae) or k (iwae) */
    int64_t samples;
} workload;

static const workload W[2] = {
    {"W1", 1, {400, 0}, 20, VAE_ACT_RELU, 100, "vae", 1},
    {"W2", 2, {200, 200}, 50, VAE_ACT_TANH, 20, "iwae", 50},
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

/* Median samples/s over `reps` timed segments of `steps` training steps each. */
static int measure(const workload *w, const vae_dataset *data, int smoke, double *sps,
                   vae_error *err) {
    vae_net_cfg nc;
    vae_net_cfg_default(&nc);
    nc.x_dim = data->d;
    nc.z_dim = w->z;
    nc.nhidden = w->nhidden;
    memcpy(nc.hidden, w->hidden, sizeof w->hidden);
    nc.act = w->act;
    vae_rng rng;
    vae_rng_seed(&rng, 1);
    vae_net net;
    if (vae_net_init(&net, &nc, &rng, err)) return 1;
    vae_optim opt;
    vae_optim_config oc = vae_optim_defaults(VAE_OPTIM_ADAM, 1e-3);
    vae_ctx *ctx = vae_ctx_new(0);
    float *xb = malloc(sizeof(float) * (size_t)(w->batch * data->d));
    int64_t *idx = malloc(sizeof(int64_t) * (size_t)w->batch);
    int rc = 1;
    if (!ctx || !xb || !idx || vae_optim_init(&opt, net.params, &oc, err)) goto done;
    vae_objective_cfg cfg;
    vae_objective_cfg_default(&cfg);
    if (vae_objective_parse_spec(&cfg, w->model, err) ||
        vae_objective_set(&cfg, strcmp(w->model, "iwae") == 0 ? "k" : "l", (double)w->samples, err))
        goto done;
    vae_objective_state st = {0};
    int steps = smoke ? 2 : (strcmp(w->model, "iwae") == 0 ? 40 : 100), reps = smoke ? 1 : 7;
    double t[16];
    for (int r = -1; r < reps; r++) { /* r = -1: warm-up (arena growth, pool start, caches) */
        double t0 = now();
        for (int s = 0; s < steps; s++) {
            for (int64_t i = 0; i < w->batch; i++)
                idx[i] = (int64_t)vae_rng_below(&rng, (uint64_t)data->n);
            if (vae_dataset_binarize_dynamic(data, xb, idx, w->batch, &rng, err)) goto done;
            vae_ctx_reset(ctx);
            vae_params_zero_grad(net.params);
            vae_objective_out o;
            vae_tensor *x = vae_wrap(ctx, VAE_F32, VAE_SHAPE(w->batch, data->d), xb);
            if (vae_objective(ctx, &net, x, &cfg, &st, &o) || vae_backward(ctx, o.loss)) {
                vae_error_set(err, vae_ctx_status(ctx), "%s", vae_ctx_message(ctx));
                goto done;
            }
            if (vae_optim_step(&opt, err)) goto done;
        }
        if (r >= 0) t[r] = (double)(steps * w->batch) / (now() - t0);
    }
    qsort(t, (size_t)reps, sizeof t[0], cmp);
    *sps = t[reps / 2];
    rc = 0;
done:
    free(xb);
    free(idx);
    vae_ctx_free(ctx);
    vae_net_free(&net);
    return rc;
}

/* Synthetic stand-in for MNIST: smooth blobs in [0, 1], 784 pixels. */
static int synthetic(vae_dataset *ds, vae_error *err) {
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

int vae_bench_workloads(FILE *out, const char *mnist_dir, int smoke) {
    vae_error err = {0};
    vae_dataset data = {0};
    int synth = mnist_dir == NULL;
    if (!synth) {
        char spec[4200];
        snprintf(spec, sizeof spec, "mnist:%s", mnist_dir);
        if (vae_dataset_load(spec, &data, NULL, &err)) {
            fprintf(stderr, "bench: %s\n", err.msg);
            return 1;
        }
    } else if (synthetic(&data, &err)) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    int all = vae_threads_get();
    double r[2][2];
    for (int i = 0; i < 2; i++)
        for (int t = 0; t < 2; t++) {
            vae_threads_set(t ? all : 1);
            if (measure(&W[i], &data, smoke, &r[i][t], &err)) {
                fprintf(stderr, "bench: %s: %s\n", W[i].name, err.msg);
                vae_threads_set(all);
                vae_dataset_free(&data);
                return 1;
            }
        }
    vae_threads_set(all);
    fprintf(out,
            "{\"bench\":\"workloads\",\"data\":\"%s\",\"simd\":\"%s\",\"threads\":%d,\"smoke\":%s",
            synth ? "synthetic" : "mnist", vae_simd_path_name(vae_simd_get_path()), all,
            smoke ? "true" : "false");
    for (int i = 0; i < 2; i++)
        fprintf(
            out,
            ",\"%s\":{\"model\":\"%s\",\"batch\":%lld,\"samples\":%lld,\"t1_samples_per_s\":%.0f,"
            "\"t%d_samples_per_s\":%.0f}",
            W[i].name, W[i].model, (long long)W[i].batch, (long long)W[i].samples, r[i][0], all,
            r[i][1]);
    fprintf(out, "}\n");
    vae_dataset_free(&data);
    return 0;
}
