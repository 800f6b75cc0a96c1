/* Checkpoints: exact round trip; truncated, bit-flipped, wrong-magic, wrong-version, absurd, wrong-shape/name/
 * dtype/optimizer files each give their own error and leave the model byte-for-byte unchanged; atomic save under
 * failures and under SIGKILL at random moments; .npy export files parse. */
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "tensor/crc32.h"
#include "tensor/npy.h"
#include "vae.h"

static char dir[64];

static char *path_in(const char *name) {
    static char buf[4][512];
    static int k;
    char *b = buf[k++ % 4];
    snprintf(b, sizeof buf[0], "%s/%s", dir, name);
    return b;
}

/* A model: MLP 20-16-4 plus a scalar "temp", with Adam state after a few steps of random gradients. */
typedef struct model {
    vae_params *p;
    vae_mlp m;
    vae_optim o;
} model;

static void model_make(model *md, vae_dtype dt, const int64_t *sizes, const char *extra,
                       vae_optim_kind kind, int steps, uint64_t seed) {
    vae_error err = {0};
    md->p = vae_params_new(dt);
    vae_mlp_init(&md->m, md->p, "enc", 3, sizes, vae_act_default(VAE_ACT_RELU), 0, &err);
    vae_params_add(md->p, extra, VAE_SHAPE(1), &err);
    vae_rng rng;
    vae_rng_seed(&rng, seed);
    vae_mlp_reset(&md->m, &rng, &err);
    vae_optim_config c = vae_optim_defaults(kind, 0.01);
    if (kind == VAE_OPTIM_SGD) c.momentum = 0.9;
    vae_optim_init(&md->o, md->p, &c, &err);
    for (int s = 0; s < steps; s++) {
        for (int i = 0; i < vae_params_count(md->p); i++) {
            vae_tensor *g = vae_params_get(md->p, i)->grad;
            for (int64_t j = 0; j < vae_numel(g); j++) vae_set_flat(g, j, vae_rng_normal(&rng));
        }
        vae_optim_step(&md->o, &err);
    }
    CHECK(err.code == VAE_OK);
}

static const int64_t SIZES[3] = {20, 16, 4};

/* Byte image of everything a load may change: flat values, every state slot, step, config. */
typedef struct snapshot {
    unsigned char *bytes;
    size_t n;
} snapshot;

static snapshot snap(const model *md) {
    size_t fb = (size_t)vae_params_flat_len(md->p) * vae_dtype_size(vae_params_dtype(md->p));
    int ns = vae_params_slots(md->p);
    const vae_optim_config *c = &md->o.cfg;
    /* the optimizer field by field (its struct has padding and a pointer to its own store) */
    double o[9] = {(double)md->o.step, (double)c->kind, c->lr,  c->momentum,    c->nesterov,
                   c->beta1,           c->beta2,        c->eps, c->weight_decay};
    snapshot s = {malloc(fb * (size_t)(1 + ns) + sizeof o), fb * (size_t)(1 + ns) + sizeof o};
    memcpy(s.bytes, vae_params_values(md->p), fb);
    for (int k = 0; k < ns; k++)
        memcpy(s.bytes + fb * (size_t)(1 + k), vae_params_slot(md->p, k), fb);
    memcpy(s.bytes + fb * (size_t)(1 + ns), o, sizeof o);
    return s;
}

static int snap_equal(snapshot a, snapshot b) {
    return a.n == b.n && memcmp(a.bytes, b.bytes, a.n) == 0;
}

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(*n + 1);
    if (fread(b, 1, *n, f) != *n) *n = 0;
    fclose(f);
    return b;
}

static void spit(const char *path, const unsigned char *b, size_t n) {
    FILE *f = fopen(path, "wb");
    fwrite(b, 1, n, f);
    fclose(f);
}

static void put32(unsigned char *b, uint32_t v) {
    for (int i = 0; i < 4; i++) b[i] = (unsigned char)(v >> (8 * i));
}

/* Recompute the preamble CRC and the trailer CRC after an edit (a well-formed file with a bad field). */
static void fix_crcs(unsigned char *b, size_t n) {
    put32(b + 24, vae_crc32(0, b, 24));
    put32(b + n - 4, vae_crc32(0, b, n - 4));
}

/* Load `path` into md and expect `code` with the model, optimizer and outputs untouched. */
static void expect_fail(model *md, const char *path, vae_status code, const char *what) {
    snapshot before = snap(md);
    vae_error err = {0};
    void *meta = (void *)&err;
    size_t meta_len = 12345;
    vae_status st = vae_checkpoint_load(path, md->p, &md->o, &meta, &meta_len, &err);
    snapshot after = snap(md);
    CHECK_MSG(st == code, "%s: got %s (%s), want %s", what, vae_status_name(st), err.msg,
              vae_status_name(code));
    CHECK_MSG(snap_equal(before, after), "%s: model changed", what);
    CHECK(meta == (void *)&err && meta_len == 12345 && err.msg[0] != 0);
    free(before.bytes);
    free(after.bytes);
}

static void test_round_trip(void) {
    model a, b;
    model_make(&a, VAE_F32, SIZES, "temp", VAE_OPTIM_ADAM, 5, 1);
    model_make(&b, VAE_F32, SIZES, "temp", VAE_OPTIM_ADAM, 0, 2);
    const char meta[] = "{\"latent\": 4}\0binary\x01\x02\xff";
    vae_error err = {0};
    a.o.cfg.lr = 0.0025; /* a schedule moved it: must come back */
    CHECK(vae_checkpoint_save(path_in("a.ckpt"), a.p, &a.o, meta, sizeof meta, &err) == VAE_OK);
    void *m = NULL;
    size_t ml = 0;
    CHECK_MSG(vae_checkpoint_load(path_in("a.ckpt"), b.p, &b.o, &m, &ml, &err) == VAE_OK, "%s",
              err.msg);
    snapshot sa = snap(&a), sb = snap(&b);
    CHECK(snap_equal(sa, sb)); /* values, m, v, step, config: bit-exact */
    CHECK(b.o.step == 5 && b.o.cfg.lr == 0.0025 && b.o.cfg.kind == VAE_OPTIM_ADAM);
    CHECK(ml == sizeof meta && m && memcmp(m, meta, ml) == 0);
    free(m);
    free(sa.bytes);
    free(sb.bytes);

    vae_checkpoint_info info;
    m = NULL;
    CHECK(vae_checkpoint_read_info(path_in("a.ckpt"), &info, &m, &ml, &err) == VAE_OK);
    CHECK(info.version == 1 && info.step == 5 && info.ntensors == 5 && info.nslots == 2 &&
          info.dtype == VAE_F32);
    CHECK(info.meta_len == sizeof meta && memcmp(m, meta, ml) == 0);
    free(m);

    /* weights only: no optimizer on either side, no metadata */
    model c;
    model_make(&c, VAE_F32, SIZES, "temp", VAE_OPTIM_SGD, 0, 3);
    CHECK(vae_checkpoint_save(path_in("w.ckpt"), a.p, NULL, NULL, 0, &err) == VAE_OK);
    m = (void *)1;
    CHECK(vae_checkpoint_load(path_in("w.ckpt"), c.p, NULL, &m, &ml, &err) == VAE_OK && m == NULL &&
          ml == 0);
    size_t fb = (size_t)vae_params_flat_len(a.p) * 4;
    CHECK(memcmp(vae_params_values(a.p), vae_params_values(c.p), fb) == 0);
    /* ...but asking for optimizer state from a weights-only file is a mismatch */
    expect_fail(&c, path_in("w.ckpt"), VAE_ERR_MISMATCH, "weights-only file into an optimizer");

    /* f64 and SGD momentum */
    model d, e;
    model_make(&d, VAE_F64, SIZES, "temp", VAE_OPTIM_SGD, 3, 4);
    model_make(&e, VAE_F64, SIZES, "temp", VAE_OPTIM_SGD, 0, 5);
    CHECK(vae_checkpoint_save(path_in("d.ckpt"), d.p, &d.o, NULL, 0, &err) == VAE_OK);
    CHECK(vae_checkpoint_load(path_in("d.ckpt"), e.p, &e.o, NULL, NULL, &err) == VAE_OK);
    sa = snap(&d);
    sb = snap(&e);
    CHECK(snap_equal(sa, sb) && e.o.step == 3);
    free(sa.bytes);
    free(sb.bytes);
    CHECK(err.code == VAE_OK);

    /* the store and the optimizer must match the file */
    expect_fail(&b, path_in("d.ckpt"), VAE_ERR_MISMATCH, "f64 file into f32 store");
    expect_fail(&d, path_in("a.ckpt"), VAE_ERR_MISMATCH, "f32 file into f64 store");
    expect_fail(&c, path_in("a.ckpt"), VAE_ERR_MISMATCH, "adam file into sgd optimizer");
    model f;
    const int64_t other[3] = {20, 17, 4};
    model_make(&f, VAE_F32, other, "temp", VAE_OPTIM_ADAM, 1, 6);
    expect_fail(&f, path_in("a.ckpt"), VAE_ERR_MISMATCH, "wrong shape");
    model g;
    model_make(&g, VAE_F32, SIZES, "temperature", VAE_OPTIM_ADAM, 1, 7);
    expect_fail(&g, path_in("a.ckpt"), VAE_ERR_MISMATCH, "wrong name");
    vae_params_add(g.p, "one_more", VAE_SHAPE(2), &err);
    expect_fail(&g, path_in("a.ckpt"), VAE_ERR_MISMATCH, "wrong count");
    expect_fail(&b, path_in("missing.ckpt"), VAE_ERR_IO, "missing file");
    vae_params_free(a.p);
    vae_params_free(b.p);
    vae_params_free(c.p);
    vae_params_free(d.p);
    vae_params_free(e.p);
    vae_params_free(f.p);
    vae_params_free(g.p);
}

static void test_damaged(void) {
    model a, b;
    model_make(&a, VAE_F32, SIZES, "temp", VAE_OPTIM_ADAM, 2, 11);
    model_make(&b, VAE_F32, SIZES, "temp", VAE_OPTIM_ADAM, 3, 12);
    vae_error err = {0};
    CHECK(vae_checkpoint_save(path_in("good.ckpt"), a.p, &a.o, "meta", 4, &err) == VAE_OK);
    size_t n;
    unsigned char *good = slurp(path_in("good.ckpt"), &n), *bad = malloc(n + 16);
    CHECK(good && n > 1000);
    char *bp = path_in("bad.ckpt");

    const size_t cuts[] = {0, 5, 8, 20, 31, 32, 100, 135, n / 2, n - 5, n - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        spit(bp, good, cuts[i]);
        char what[64];
        snprintf(what, sizeof what, "truncated at %zu", cuts[i]);
        expect_fail(&b, bp, VAE_ERR_FORMAT, what);
    }
    /* a flipped bit anywhere past the magic: version, length, header, metadata, a name, values, state, trailer */
    const size_t flips[] = {9,   17,  26,  33,    41,    50,      113,
                            118, 129, 140, n / 3, n / 2, n - 100, n - 2};
    for (size_t i = 0; i < sizeof flips / sizeof flips[0]; i++) {
        memcpy(bad, good, n);
        bad[flips[i]] ^= (unsigned char)(1u << (i % 8));
        spit(bp, bad, n);
        char what[64];
        snprintf(what, sizeof what, "bit flip at %zu", flips[i]);
        expect_fail(&b, bp, VAE_ERR_CORRUPT, what);
    }
    memcpy(bad, good, n);
    memcpy(bad, "NOTACKPT", 8);
    spit(bp, bad, n);
    expect_fail(&b, bp, VAE_ERR_FORMAT, "wrong magic");
    memcpy(bad, good, n);
    put32(bad + 8, 2);
    fix_crcs(bad, n);
    spit(bp, bad, n);
    expect_fail(&b, bp, VAE_ERR_VERSION, "wrong version");
    memcpy(bad, good, n);
    memcpy(bad + n, "junk", 4);
    spit(bp, bad, n + 4);
    expect_fail(&b, bp, VAE_ERR_FORMAT, "trailing bytes");

    /* well-formed checksums around absurd fields: the parser must not trust them */
    memcpy(bad, good, n);
    put32(bad + 120, 0xFFFFFFF0u); /* metadata length */
    put32(bad + 124, 0x7FFFFFFFu);
    fix_crcs(bad, n);
    spit(bp, bad, n);
    expect_fail(&b, bp, VAE_ERR_FORMAT, "absurd metadata length");
    memcpy(bad, good, n);
    put32(bad + 116, 0xFFFFFFFFu); /* tensor count */
    fix_crcs(bad, n);
    spit(bp, bad, n);
    expect_fail(&b, bp, VAE_ERR_FORMAT, "absurd tensor count");
    /* first record starts at 128 + 4 (metadata): name length, "enc.0.weight" (12), dtype, ndim, dims */
    size_t r0 = 132;
    CHECK(memcmp(good + r0 + 4, "enc.0.weight", 12) == 0);
    memcpy(bad, good, n);
    put32(bad + r0 + 4 + 12 + 4, 200); /* ndim */
    fix_crcs(bad, n);
    spit(bp, bad, n);
    expect_fail(&b, bp, VAE_ERR_FORMAT, "absurd ndim");
    memcpy(bad, good, n);
    put32(bad + r0 + 4 + 12 + 8 + 4, 0x40000000u); /* dim 0 = 2^62 */
    fix_crcs(bad, n);
    spit(bp, bad, n);
    expect_fail(&b, bp, VAE_ERR_FORMAT, "absurd dim");
    memcpy(bad, good, n);
    put32(bad + r0, 100000); /* name length */
    fix_crcs(bad, n);
    spit(bp, bad, n);
    expect_fail(&b, bp, VAE_ERR_FORMAT, "absurd name length");
    memcpy(bad, good, n);
    put32(bad + 40, 77); /* optimizer kind */
    fix_crcs(bad, n);
    spit(bp, bad, n);
    expect_fail(&b, bp, VAE_ERR_FORMAT, "bad optimizer kind");
    vae_checkpoint_info info = {0};
    CHECK(vae_checkpoint_read_info(bp, &info, NULL, NULL, &err) == VAE_ERR_FORMAT &&
          info.version == 0);
    free(good);
    free(bad);
    vae_params_free(a.p);
    vae_params_free(b.p);
}

static int count_tmp_files(void) {
    DIR *d = opendir(dir);
    int k = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        if (strstr(e->d_name, ".tmp")) k++;
    if (d) closedir(d);
    return k;
}

static void remove_tmp_files(void) {
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));)
        if (strstr(e->d_name, ".tmp")) unlink(path_in(e->d_name));
    if (d) closedir(d);
}

static void test_atomic(void) {
    vae_error err = {0};
    model a;
    model_make(&a, VAE_F32, SIZES, "temp", VAE_OPTIM_ADAM, 1, 21);
    /* the target is a directory: the rename fails, the directory and its contents stay, no temp file remains */
    mkdir(path_in("isdir"), 0755);
    spit(path_in("isdir/keep"), (const unsigned char *)"x", 1);
    CHECK(vae_checkpoint_save(path_in("isdir"), a.p, &a.o, NULL, 0, &err) == VAE_ERR_IO);
    struct stat sb;
    CHECK(stat(path_in("isdir/keep"), &sb) == 0 && count_tmp_files() == 0);
    vae_error_clear(&err);
    CHECK(vae_checkpoint_save(path_in("no/such/dir/x.ckpt"), a.p, &a.o, NULL, 0, &err) ==
          VAE_ERR_IO);
    vae_error_clear(&err);
    /* a failed save leaves the previous checkpoint in place */
    CHECK(vae_checkpoint_save(path_in("keep.ckpt"), a.p, &a.o, NULL, 0, &err) == VAE_OK);
    CHECK(vae_checkpoint_save(path_in("keep.ckpt"), a.p, &a.o, NULL, 1, &err) == VAE_ERR_NULL);
    vae_error_clear(&err);
    CHECK(vae_checkpoint_read_info(path_in("keep.ckpt"), NULL, NULL, NULL, &err) == VAE_OK);
    vae_params_free(a.p);

    /* SIGKILL a child at various moments while it saves a 32 MB checkpoint over an existing one: the target is
     * always a complete, valid checkpoint (the old one or the new one) */
    vae_params *big = vae_params_new(VAE_F32);
    vae_tensor *t = vae_params_add(big, "big", VAE_SHAPE(8 * 1024 * 1024), &err);
    CHECK(t != NULL);
    char target[512];
    snprintf(target, sizeof target, "%s", path_in("big.ckpt"));
    CHECK(vae_checkpoint_save(target, big, NULL, "old", 3, &err) == VAE_OK);
    const int delays_us[] = {0, 200, 1000, 3000, 8000, 15000, 30000, 60000};
    int interrupted = 0;
    for (size_t i = 0; i < sizeof delays_us / sizeof delays_us[0]; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            ((float *)vae_params_values(big))[0] = (float)(i + 1);
            vae_error e2 = {0};
            vae_status st = vae_checkpoint_save(target, big, NULL, "new", 3, &e2);
            _exit(st == VAE_OK ? 0 : 1);
        }
        CHECK(pid > 0);
        struct timespec ts = {0, (long)delays_us[i] * 1000};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status = 0;
        waitpid(pid, &status, 0);
        if (WIFSIGNALED(status)) interrupted++;
        char *m = NULL;
        size_t ml = 0;
        vae_status st = vae_checkpoint_read_info(target, NULL, (void **)&m, &ml, &err);
        CHECK_MSG(st == VAE_OK, "after kill at %d us: %s", delays_us[i], err.msg);
        CHECK(ml == 3 && m && (memcmp(m, "old", 3) == 0 || memcmp(m, "new", 3) == 0));
        free(m);
        vae_error_clear(&err);
        remove_tmp_files(); /* a killed save may leave its temp file; never the target */
    }
    printf("kill test: %d of 8 saves were interrupted by SIGKILL\n", interrupted);
    CHECK(interrupted >= 1);
    ((float *)vae_params_values(big))[0] = 42.0f; /* an uninterrupted save replaces the file */
    CHECK(vae_checkpoint_save(target, big, NULL, "new", 3, &err) == VAE_OK);
    ((float *)vae_params_values(big))[0] = 0.0f;
    CHECK(vae_checkpoint_load(target, big, NULL, NULL, NULL, &err) == VAE_OK);
    CHECK(((float *)vae_params_values(big))[0] == 42.0f && count_tmp_files() == 0);
    unlink(target);
    vae_params_free(big);
}

static void check_npy(const char *path, const vae_tensor *t, const char *shape_str) {
    size_t n = 0;
    unsigned char *b = slurp(path, &n);
    CHECK_MSG(b != NULL, "%s missing", path);
    if (!b) return;
    CHECK(n > 10 && memcmp(b, "\x93NUMPY", 6) == 0 && b[6] == 1 && b[7] == 0);
    size_t hl = (size_t)b[8] | (size_t)b[9] << 8, data = 10 + hl;
    CHECK(data % 16 == 0 && b[data - 1] == '\n');
    char *hdr = calloc(hl + 1, 1);
    memcpy(hdr, b + 10, hl);
    const char *descr = t->dtype == VAE_F64 ? "'descr': '<f8'" : "'descr': '<f4'";
    CHECK_MSG(strstr(hdr, descr) && strstr(hdr, "'fortran_order': False") && strstr(hdr, shape_str),
              "header %s", hdr);
    size_t bytes = (size_t)vae_numel(t) * vae_dtype_size(t->dtype);
    CHECK(n == data + bytes && memcmp(b + data, vae_tensor_ptr(t), bytes) == 0);
    vae_npy arr = {0};
    vae_error err = {0};
    CHECK(vae_npy_read(path, &arr, &err) == VAE_OK && arr.ndim == t->ndim &&
          arr.shape[0] == t->shape[0]);
    vae_npy_free(&arr);
    free(hdr);
    free(b);
}

static void test_export(void) {
    model a;
    model_make(&a, VAE_F32, SIZES, "odd/name x", VAE_OPTIM_ADAM, 1, 31);
    vae_error err = {0};
    char *out = path_in("npy");
    CHECK_MSG(vae_params_export_npy(a.p, out, &err) == VAE_OK, "%s", err.msg);
    check_npy(path_in("npy/enc.0.weight.npy"), vae_params_find(a.p, "enc.0.weight"),
              "'shape': (20, 16)");
    check_npy(path_in("npy/enc.1.bias.npy"), vae_params_find(a.p, "enc.1.bias"), "'shape': (4,)");
    check_npy(path_in("npy/odd_name_x.npy"), vae_params_find(a.p, "odd/name x"), "'shape': (1,)");
    char safe[32];
    vae_export_safe_name("../etc/passwd", safe, sizeof safe);
    CHECK(strcmp(safe, "_._etc_passwd") == 0);
    vae_params *d = vae_params_new(VAE_F64);
    vae_tensor *x = vae_params_add(d, "x", VAE_SHAPE(2, 3), &err);
    for (int i = 0; i < 6; i++) vae_set_flat(x, i, i * 0.5);
    CHECK(vae_params_export_npy(d, path_in("npy64"), &err) == VAE_OK);
    check_npy(path_in("npy64/x.npy"), x, "'shape': (2, 3)");
    vae_params_add(d, "a/b", VAE_SHAPE(1), &err);
    vae_params_add(d, "a_b", VAE_SHAPE(1), &err);
    CHECK(vae_params_export_npy(d, path_in("npy_clash"), &err) == VAE_ERR_ARG);
    struct stat sb;
    CHECK(stat(path_in("npy_clash"), &sb) != 0); /* nothing written */
    vae_params_free(d);
    vae_params_free(a.p);
}

static void rm_rf(const char *p) {
    struct stat sb;
    if (lstat(p, &sb) != 0) return;
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(p);
        for (struct dirent *e; d && (e = readdir(d));) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char sub[1024];
            snprintf(sub, sizeof sub, "%s/%s", p, e->d_name);
            rm_rf(sub);
        }
        if (d) closedir(d);
        rmdir(p);
    } else
        unlink(p);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/vae_ckpt_test_XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_round_trip();
    test_damaged();
    test_atomic();
    test_export();
    rm_rf(dir);
    return test_finish();
}
