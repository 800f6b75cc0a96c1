/* Fault injection (built only with -Dfault_injection=true): walk N over every allocation, write and fsync of a
 * checkpoint save, a checkpoint load and each loader, and over the allocations of a short training step. Each
 * time the Nth one fails the call must return an error with a message, leak nothing (live allocations as before),
 * leave its outputs unchanged, leave no temporary or partial file, and leave the previous checkpoint intact. The
 * walk ends at the first N that the call no longer reaches. The training run (walk_train) is a user's program:
 * model, optimizer, three steps of an objective under an estimator, a checkpoint save, everything freed. The conv
 * walk (walk_conv) covers the conv ops' per-thread im2col and partial-sum buffers, forward and backward. */
#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tensor/crc32.h"
#include "tensor/fault.h"
#include "test.h"
#include "vae.h"

static char dir[64];

static char *path_in(const char *name) {
    static char buf[4][512];
    static int k;
    char *b = buf[k++ % 4];
    snprintf(b, sizeof buf[0], "%s/%s", dir, name);
    return b;
}

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)len + 1);
    *n = fread(b, 1, (size_t)len, f);
    fclose(f);
    return b;
}

/* Number of directory entries whose name contains ".tmp-" (a partial save left behind). */
static int temporaries(void) {
    DIR *d = opendir(dir);
    int k = 0;
    struct dirent *de;
    while ((de = readdir(d))) k += strstr(de->d_name, ".tmp-") != NULL;
    closedir(d);
    return k;
}

typedef struct model {
    vae_params *p;
    vae_mlp m;
    vae_optim o;
} model;

static void model_make(model *md) {
    vae_error err = {0};
    static const int64_t sizes[3] = {12, 8, 4};
    md->p = vae_params_new(VAE_F32);
    vae_mlp_init(&md->m, md->p, "enc", 3, sizes, vae_act_default(VAE_ACT_RELU), 0, &err);
    vae_rng rng;
    vae_rng_seed(&rng, 7);
    vae_mlp_reset(&md->m, &rng, &err);
    vae_optim_config c = vae_optim_defaults(VAE_OPTIM_ADAM, 0.01);
    vae_optim_init(&md->o, md->p, &c, &err);
    for (int i = 0; i < vae_params_count(md->p); i++) {
        vae_tensor *g = vae_params_get(md->p, i)->grad;
        for (int64_t j = 0; j < vae_numel(g); j++) vae_set_flat(g, j, vae_rng_normal(&rng));
    }
    vae_optim_step(&md->o, &err);
    CHECK(err.code == VAE_OK);
}

static void model_free(model *md) {
    vae_params_free(md->p);
}

/* ---- checkpoint save: every malloc, write and fsync ---- */
static void walk_save(void) {
    model md;
    model_make(&md);
    char *ck = path_in("ck.vae");
    vae_error err = {0};
    static const char meta[] = "meta";
    CHECK(vae_checkpoint_save(ck, md.p, &md.o, meta, 4, &err) == VAE_OK);
    size_t n0;
    unsigned char *before = slurp(ck, &n0);
    /* the next save has other values: a partial or wrong file would differ from `before` */
    vae_set_flat(vae_params_get(md.p, 0), 0, 123.0);
    int kinds[3] = {VAE__FAULT_MALLOC, VAE__FAULT_WRITE, VAE__FAULT_FSYNC};
    const char *names[3] = {"malloc", "write", "fsync"};
    for (int k = 0; k < 3; k++) {
        int walked = 0;
        for (long n = 1; n < 10000; n++) {
            long live = vae__fault_live();
            vae__fault_arm(kinds[k], n);
            err = (vae_error){0};
            vae_status st = vae_checkpoint_save(ck, md.p, &md.o, meta, 4, &err);
            int fired = vae__fault_fired(kinds[k]);
            vae__fault_arm(kinds[k], 0);
            if (!fired) {
                CHECK(st == VAE_OK);
                break;
            }
            walked++;
            if (st == VAE_OK) {
                /* a fault the save may tolerate (the best-effort directory fsync after the rename): the new
                 * checkpoint is then complete */
                CHECK_MSG(vae_checkpoint_read_info(ck, NULL, NULL, NULL, &err) == VAE_OK,
                          "save, %s %ld: tolerated, but the file is bad", names[k], n);
                CHECK(temporaries() == 0);
                vae_write_file_atomic(ck, before, n0, &err);
                continue;
            }
            CHECK_MSG(err.msg[0], "save, %s %ld: %s without a message", names[k], n,
                      vae_status_name(st));
            CHECK_MSG(vae__fault_live() == live, "save, %s %ld: %ld allocations leaked", names[k],
                      n, vae__fault_live() - live);
            CHECK_MSG(temporaries() == 0, "save, %s %ld: a temporary file is left", names[k], n);
            size_t n1;
            unsigned char *now = slurp(ck, &n1);
            CHECK_MSG(now && n1 == n0 && memcmp(now, before, n0) == 0,
                      "save, %s %ld: the previous checkpoint changed", names[k], n);
            free(now);
        }
        printf("checkpoint save: %d %s failures injected\n", walked, names[k]);
        CHECK(walked > 0);
        /* the successful save at the end of the walk wrote the new values: restore the old file */
        vae_write_file_atomic(ck, before, n0, &err);
    }
    free(before);
    model_free(&md);
}

/* ---- checkpoint load: every malloc; the store and the optimizer stay as they were ---- */
static void walk_load(void) {
    model src, dst;
    model_make(&src);
    model_make(&dst);
    vae_set_flat(vae_params_get(src.p, 0), 0, 42.0);
    src.o.step = 17;
    char *ck = path_in("load.vae");
    vae_error err = {0};
    CHECK(vae_checkpoint_save(ck, src.p, &src.o, "m", 1, &err) == VAE_OK);
    size_t fb = (size_t)vae_params_flat_len(dst.p) * sizeof(float);
    unsigned char *vals = malloc(fb);
    memcpy(vals, vae_params_values(dst.p), fb);
    int walked = 0;
    for (long n = 1; n < 10000; n++) {
        long live = vae__fault_live();
        void *meta = NULL;
        size_t mlen = 0;
        vae__fault_arm(VAE__FAULT_MALLOC, n);
        err = (vae_error){0};
        vae_status st = vae_checkpoint_load(ck, dst.p, &dst.o, &meta, &mlen, &err);
        int fired = vae__fault_fired(VAE__FAULT_MALLOC);
        vae__fault_arm(VAE__FAULT_MALLOC, 0);
        if (!fired) {
            CHECK(st == VAE_OK && dst.o.step == 17 && mlen == 1);
            free(meta);
            break;
        }
        walked++;
        CHECK_MSG(st != VAE_OK && err.msg[0], "load, malloc %ld: %s", n, vae_status_name(st));
        CHECK_MSG(vae__fault_live() == live, "load, malloc %ld: leak", n);
        CHECK_MSG(meta == NULL && mlen == 0 && dst.o.step == 1 &&
                      memcmp(vals, vae_params_values(dst.p), fb) == 0,
                  "load, malloc %ld: outputs changed", n);
    }
    printf("checkpoint load: %d malloc failures injected\n", walked);
    CHECK(walked > 0);
    free(vals);
    model_free(&src);
    model_free(&dst);
}

/* ---- loaders: every malloc of each; the data set stays zeroed ---- */
typedef vae_status (*load_fn)(const char *path, vae_dataset *out, vae_error *err);

static vae_status load_idx(const char *p, vae_dataset *o, vae_error *e) {
    return vae_dataset_load_idx(p, NULL, o, e);
}
static vae_status load_idx_n(const char *p, vae_dataset *o, vae_error *e) {
    return vae_dataset_load_idx_n(p, NULL, 2, 0, o, e);
}
static vae_status load_amat(const char *p, vae_dataset *o, vae_error *e) {
    return vae_dataset_load_amat(p, 0, o, e);
}

static void walk_loader(const char *what, load_fn fn, const char *path) {
    int walked = 0;
    for (long n = 1; n < 10000; n++) {
        long live = vae__fault_live();
        vae_dataset ds;
        memset(&ds, 0, sizeof ds);
        vae_error err = {0};
        vae__fault_arm(VAE__FAULT_MALLOC, n);
        vae_status st = fn(path, &ds, &err);
        int fired = vae__fault_fired(VAE__FAULT_MALLOC);
        vae__fault_arm(VAE__FAULT_MALLOC, 0);
        if (!fired) {
            CHECK_MSG(st == VAE_OK && ds.n > 0, "%s: %s", what, err.msg);
            vae_dataset_free(&ds);
            break;
        }
        walked++;
        if (st == VAE_OK) { /* tolerated (a buffer that could not be shrunk is kept as it is) */
            CHECK_MSG(ds.n > 0, "%s, malloc %ld: tolerated, but the set is empty", what, n);
            vae_dataset_free(&ds);
            CHECK_MSG(vae__fault_live() == live, "%s, malloc %ld: leak", what, n);
            continue;
        }
        CHECK_MSG(err.msg[0], "%s, malloc %ld: no message", what, n);
        CHECK_MSG(ds.x == NULL && ds.n == 0, "%s, malloc %ld: output changed", what, n);
        CHECK_MSG(vae__fault_live() == live, "%s, malloc %ld: %ld leaked", what, n,
                  vae__fault_live() - live);
    }
    printf("%s: %d malloc failures injected\n", what, walked);
    CHECK(walked > 0);
}

static void write_bytes(const char *path, const void *p, size_t n) {
    vae_error err = {0};
    CHECK(vae_write_file_atomic(path, p, n, &err) == VAE_OK);
}

static void walk_loaders(void) {
    /* IDX images (3, 2, 2), raw and gzip */
    uint8_t idx[16 + 12] = {0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2};
    for (int i = 0; i < 12; i++) idx[16 + i] = (uint8_t)(i * 20);
    write_bytes(path_in("im.idx"), idx, sizeof idx);
    /* a stored-block gzip of the same bytes */
    uint8_t gz[10 + 5 + sizeof idx + 8] = {
        0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, sizeof idx, 0, (uint8_t) ~sizeof idx, 0xff};
    memcpy(gz + 15, idx, sizeof idx);
    uint32_t crc = vae_crc32(0, idx, sizeof idx);
    for (int i = 0; i < 4; i++) gz[15 + sizeof idx + i] = (uint8_t)(crc >> (8 * i));
    gz[15 + sizeof idx + 4] = sizeof idx;
    write_bytes(path_in("im.idx.gz"), gz, sizeof gz);
    static const char amat[] = "0 1 1 0\n1 1 0 0\n0 0 0 1\n";
    write_bytes(path_in("b.amat"), amat, sizeof amat - 1);
    static const char csv[] = "a,b,c\n1,2,3\n4,5,6.5\n";
    write_bytes(path_in("d.csv"), csv, sizeof csv - 1);
    float arr[6] = {1, 2, 3, 4, 5, 6};
    vae_error err = {0};
    CHECK(vae_npy_write(path_in("d.npy"), VAE_NPY_F4, 2, (const int64_t[]){3, 2}, arr, &err) ==
          VAE_OK);
    walk_loader("idx", load_idx, path_in("im.idx"));
    walk_loader("idx.gz", load_idx, path_in("im.idx.gz"));
    walk_loader("idx.gz capped", load_idx_n, path_in("im.idx.gz"));
    walk_loader("amat", load_amat, path_in("b.amat"));
    walk_loader("csv", vae_dataset_load_csv, path_in("d.csv"));
    walk_loader("npy", vae_dataset_load_npy, path_in("d.npy"));
    const char *names[] = {"im.idx", "im.idx.gz", "b.amat", "d.csv", "d.npy"};
    for (int i = 0; i < 5; i++) unlink(path_in(names[i]));
}

/* ---- a short training run: build the model and the optimizer, three steps (objective, backward, Adam), save
 * the checkpoint; every malloc of all of it, and every write and fsync of its save ---- */
/* Two sizes: for the malloc walk, big enough that a step outgrows the arena's first 1 MB block (faults land inside
 * the objective and the backward pass too); for the write and fsync walks of the save, a small model (a save of
 * the big one is 7 MB, written and fsynced a few hundred times). */
enum { TR_N = 300, TR_D = 784, TR_B = 100, TR_STEPS = 3 };
typedef struct tr_size {
    int64_t d, h;
} tr_size;
static const tr_size TR_BIG = {TR_D, 400}, TR_SMALL = {16, 8};

/* The run, as a user's program writes it (README: "The C API in brief"). Returns VAE_OK, or the first failure
 * with its message in err and everything it allocated freed. */
static vae_status train_run(const char *ck, const float *x, tr_size sz, const char *objective,
                            const char *estimator, const char *baseline, vae_error *err) {
    vae_net net;
    vae_optim opt;
    memset(&net, 0, sizeof net);
    memset(&opt, 0, sizeof opt);
    vae_ctx *ctx = vae_ctx_new(0);
    if (!ctx) return vae_error_set(err, VAE_ERR_OOM, "train: no context (out of memory)");
    vae_net_cfg nc;
    vae_net_cfg_default(&nc);
    nc.x_dim = sz.d, nc.z_dim = 4, nc.nhidden = 1, nc.hidden[0] = sz.h;
    vae_rng rng;
    vae_rng_seed(&rng, 3);
    vae_optim_config oc = vae_optim_defaults(VAE_OPTIM_ADAM, 1e-3);
    vae_objective_cfg obj;
    vae_objective_cfg_default(&obj);
    vae_objective_state os = {0};
    vae_status st = vae_objective_parse_spec(&obj, objective, err);
    obj.estimator = (vae_estimator)vae_estimator_parse(estimator);
    obj.baseline = (vae_baseline)vae_baseline_parse(baseline);
    if (st == VAE_OK) st = vae_net_init(&net, &nc, &rng, err);
    if (st == VAE_OK) st = vae_optim_init(&opt, net.params, &oc, err);
    for (int step = 0; st == VAE_OK && step < TR_STEPS; step++) {
        vae_ctx_reset(ctx);
        vae_params_zero_grad(net.params);
        vae_objective_out out;
        const float *xb = x + (size_t)((step * TR_B) % TR_N) * (size_t)sz.d;
        vae_tensor *xt = vae_wrap(ctx, VAE_F32, VAE_SHAPE(TR_B, sz.d), (float *)xb);
        if (vae_objective(ctx, &net, xt, &obj, &os, &out) || vae_backward(ctx, out.loss)) {
            st = vae_ctx_status(ctx);
            vae_error_set(err, st ? st : VAE_ERR_STATE, "train step %d: %s", step + 1,
                          vae_ctx_message(ctx));
            break;
        }
        st = vae_optim_step(&opt, err);
    }
    if (st == VAE_OK) st = vae_checkpoint_save(ck, net.params, &opt, "trained", 7, err);
    vae_net_free(&net);
    vae_ctx_free(ctx);
    return st;
}

/* kinds: how many of malloc, write, fsync to walk (the save's writes are the same under every objective) */
static void walk_train_one(const char *objective, const char *estimator, const char *baseline,
                           int kinds_n) {
    static float x[TR_N * TR_D];
    vae_rng r;
    vae_rng_seed(&r, 11);
    for (int i = 0; i < TR_N * TR_D; i++) x[i] = vae_rng_uniform(&r) < 0.5 ? 0.0f : 1.0f;
    char *ck = path_in("train.vae");
    vae_error err = {0};
    /* the previous checkpoint: another run's file (its bytes differ from what this run writes); the first run
     * also starts whatever the library keeps for the process (the thread pool) before anything is counted */
    CHECK(train_run(ck, x, TR_BIG, objective, estimator, baseline, &err) == VAE_OK);
    {
        model md;
        model_make(&md);
        CHECK(vae_checkpoint_save(ck, md.p, &md.o, "previous", 8, &err) == VAE_OK);
        model_free(&md);
    }
    size_t n0;
    unsigned char *before = slurp(ck, &n0);
    int kinds[3] = {VAE__FAULT_MALLOC, VAE__FAULT_WRITE, VAE__FAULT_FSYNC};
    const char *names[3] = {"malloc", "write", "fsync"};
    for (int k = 0; k < kinds_n; k++) {
        int walked = 0;
        for (long n = 1; n < 100000; n++) {
            long live = vae__fault_live();
            err = (vae_error){0};
            vae__fault_arm(kinds[k], n);
            vae_status st = train_run(ck, x, kinds[k] == VAE__FAULT_MALLOC ? TR_BIG : TR_SMALL,
                                      objective, estimator, baseline, &err);
            int fired = vae__fault_fired(kinds[k]);
            vae__fault_arm(kinds[k], 0);
            CHECK_MSG(vae__fault_live() == live, "train %s, %s %ld: %ld allocations leaked",
                      objective, names[k], n, vae__fault_live() - live);
            CHECK_MSG(temporaries() == 0, "train %s, %s %ld: a temporary file is left", objective,
                      names[k], n);
            if (!fired) {
                CHECK_MSG(st == VAE_OK, "train %s: %s", objective, err.msg);
                break;
            }
            walked++;
            if (st ==
                VAE_OK) { /* tolerated (the best-effort directory fsync): the new checkpoint is whole */
                CHECK_MSG(vae_checkpoint_read_info(ck, NULL, NULL, NULL, &err) == VAE_OK,
                          "train %s, %s %ld: tolerated, but the checkpoint is bad", objective,
                          names[k], n);
            } else {
                if (getenv("VAE_FAULT_VERBOSE")) printf("  %s %ld: %s\n", names[k], n, err.msg);
                CHECK_MSG(err.msg[0], "train %s, %s %ld: %s without a message", objective, names[k],
                          n, vae_status_name(st));
                size_t n1;
                unsigned char *now = slurp(ck, &n1);
                CHECK_MSG(now && n1 == n0 && memcmp(now, before, n0) == 0,
                          "train %s, %s %ld: the previous checkpoint changed", objective, names[k],
                          n);
                free(now);
            }
            vae_write_file_atomic(ck, before, n0, &err);
        }
        printf("training run (%s, %s, %s; %d steps and a save): %d %s failures injected\n",
               objective, estimator, baseline, TR_STEPS, walked, names[k]);
        CHECK(walked > 0);
        vae_write_file_atomic(ck, before, n0, &err);
    }
    free(before);
    unlink(ck);
}

/* A conv2d -> ReLU -> conv_transpose2d chain and its backward, on a thread of its own: the conv ops' scratch
 * buffers belong to the thread that asked for them and are freed when it exits, so after the join every allocation
 * of the run is gone and the live count must be as before. x (8, 4, 16, 16) makes 4 blocks of images in every op
 * (the lanes of the weight gradients). Run with 1 thread: pool workers keep their buffers for the process. */
typedef struct conv_run {
    vae_status st;
    char msg[256];
    double gsum; /* sum of every gradient element: equal to the clean run's when the run succeeds */
} conv_run;

static void *conv_thread(void *p) {
    conv_run *r = p;
    vae_ctx *ctx = vae_ctx_new(0);
    r->st = VAE_ERR_OOM, r->gsum = 0;
    snprintf(r->msg, sizeof r->msg, "vae_ctx_new: out of memory");
    if (!ctx) return NULL;
    vae_tensor *t[5] = {
        vae_zeros(ctx, VAE_F32, VAE_SHAPE(8, 4, 16, 16)),
        vae_zeros(ctx, VAE_F32, VAE_SHAPE(8, 4, 4, 4)), vae_zeros(ctx, VAE_F32, VAE_SHAPE(8)),
        vae_zeros(ctx, VAE_F32, VAE_SHAPE(8, 4, 4, 4)), vae_zeros(ctx, VAE_F32, VAE_SHAPE(4))};
    for (int i = 0; i < 5 && t[i]; i++) {
        for (int64_t e = 0; e < vae_numel(t[i]); e++)
            vae_set_flat(t[i], e, 0.5 * sin(0.37 * (double)e + i));
        vae_requires_grad(ctx, t[i], 1);
    }
    vae_tensor *h = vae_relu(ctx, vae_conv2d(ctx, t[0], t[1], t[2], 2, 1));
    vae_tensor *y = vae_conv_transpose2d(ctx, h, t[3], t[4], 2, 1, 0);
    vae_tensor *loss = vae_sum_all(ctx, vae_mul(ctx, y, y));
    r->st = loss ? vae_backward(ctx, loss) : vae_ctx_status(ctx);
    snprintf(r->msg, sizeof r->msg, "%s", vae_ctx_message(ctx));
    for (int i = 0; r->st == VAE_OK && i < 5; i++)
        for (int64_t e = 0; e < vae_numel(t[i]); e++) r->gsum += vae_get_flat(t[i]->grad, e);
    vae_ctx_free(ctx);
    return NULL;
}

static void walk_conv(void) {
    int threads = vae_threads_get(), walked = 0, oom_msgs = 0, tolerated = 0;
    vae_threads_set(1);
    conv_run clean;
    pthread_t th;
    CHECK(pthread_create(&th, NULL, conv_thread, &clean) == 0 && pthread_join(th, NULL) == 0);
    CHECK_MSG(clean.st == VAE_OK, "conv chain: %s", clean.msg);
    for (long n = 1; n < 10000 && clean.st == VAE_OK; n++) {
        long live = vae__fault_live();
        conv_run r;
        vae__fault_arm(VAE__FAULT_MALLOC, n);
        int ok = pthread_create(&th, NULL, conv_thread, &r) == 0 && pthread_join(th, NULL) == 0;
        int fired = vae__fault_fired(VAE__FAULT_MALLOC);
        vae__fault_arm(VAE__FAULT_MALLOC, 0);
        CHECK(ok);
        if (!ok) break;
        CHECK_MSG(vae__fault_live() == live, "conv chain, malloc %ld: %ld leaked", n,
                  vae__fault_live() - live);
        if (!fired) {
            CHECK_MSG(r.st == VAE_OK && r.gsum == clean.gsum, "conv chain: %s", r.msg);
            break;
        }
        walked++;
        if (r.st == VAE_OK) {
            /* tolerated: the tape could not keep conv2d's im2col matrix (backward rebuilt it: the same bits), or a
             * GEMM could not grow its packing buffers and multiplied unpacked (tensor/gemm_driver.h: the same
             * values, summed without the K chunks' rounding steps, so not always the same bits) */
            CHECK_MSG(fabs(r.gsum - clean.gsum) <= 1e-6 * fabs(clean.gsum),
                      "conv chain, malloc %ld: gradients %.9g, clean run %.9g", n, r.gsum,
                      clean.gsum);
            tolerated += r.gsum != clean.gsum;
            continue;
        }
        CHECK_MSG(r.msg[0], "conv chain, malloc %ld: no message", n);
        if (strstr(r.msg, "im2col buffers") && !oom_msgs++)
            printf("conv chain, malloc %ld: %s\n", n, r.msg);
    }
    vae_threads_set(threads);
    printf("conv chain (forward and backward): %d malloc failures injected, %d of them in the "
           "im2col buffers, "
           "%d ran on with other rounding\n",
           walked, oom_msgs, tolerated);
    CHECK(walked > 0);
    CHECK(oom_msgs > 0); /* the walk reached the conv ops' scratch, forward or backward */
}

static void walk_train(void) {
    walk_train_one("vae", "reparam", "none", 3);
    walk_train_one("beta-vae:beta=4,warmup=2", "stl", "none", 1);
    walk_train_one("iwae:k=3", "dreg", "none", 1);
    walk_train_one("vae:l=2", "score", "vimco", 1);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/vae_test_fault_XXXXXX");
    if (!mkdtemp(dir)) return 1;
    walk_save();
    walk_load();
    walk_loaders();
    walk_train();
    walk_conv();
    unlink(path_in("ck.vae"));
    unlink(path_in("load.vae"));
    rmdir(dir);
    return test_finish();
}
