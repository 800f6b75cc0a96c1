/* Hardening: no hang, no memory bomb, nothing silently accepted.
 *
 *   fifo      every reader pointed at a FIFO returns VAE_ERR_IO "not a regular file" at once (alarm guard)
 *   bomb      a small .gz whose IDX header promises 1.3 M images: the default load is refused before inflating,
 *             a capped load inflates only what it keeps; peak memory (ru_maxrss of a child) stays small
 *   nonfinite a CRC-valid checkpoint with a NaN weight is refused with VAE_ERR_FORMAT naming the tensor
 *   npy_nul   a .npy header with a NUL byte inside a string is refused
 *   stale     an op given a tensor kept across vae_ctx_reset refuses it ("input 0 is stale")
 */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tensor/crc32.h"
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

static void on_alarm(int sig) {
    (void)sig;
    static const char m[] = "test_harden: a reader blocked on a FIFO (alarm fired)\n";
    if (write(2, m, sizeof m - 1) < 0) _exit(3);
    _exit(2);
}

static int refused_io(vae_status st, const vae_error *e) {
    return st == VAE_ERR_IO && strstr(e->msg, "not a regular file") != NULL;
}

static void test_fifo(void) {
    char *fifo = path_in("fifo");
    CHECK(mkfifo(fifo, 0600) == 0);
    /* an MNIST folder whose image file is a FIFO */
    char *mdir = path_in("mnist");
    CHECK(mkdir(mdir, 0700) == 0);
    char img[600];
    snprintf(img, sizeof img, "%s/train-images-idx3-ubyte", mdir);
    CHECK(mkfifo(img, 0600) == 0);
    char lab[600];
    snprintf(lab, sizeof lab, "%s/train-labels-idx1-ubyte", mdir);
    CHECK(mkfifo(lab, 0600) == 0);
    char spec[600];
    snprintf(spec, sizeof spec, "mnist:%s", mdir);

    signal(SIGALRM, on_alarm);
    alarm(20);
    vae_error e = {0};
    vae_idx idx;
    CHECK_MSG(refused_io(vae_idx_read(fifo, 3, &idx, &e), &e), "idx: %s", e.msg);
    e = (vae_error){0};
    vae_amat am;
    CHECK_MSG(refused_io(vae_amat_read(fifo, 0, &am, &e), &e), "amat: %s", e.msg);
    e = (vae_error){0};
    vae_csv csv;
    CHECK_MSG(refused_io(vae_csv_read(fifo, &csv, &e), &e), "csv: %s", e.msg);
    e = (vae_error){0};
    vae_npy npy;
    CHECK_MSG(refused_io(vae_npy_read(fifo, &npy, &e), &e), "npy: %s", e.msg);
    e = (vae_error){0};
    vae_png_image png;
    CHECK_MSG(refused_io(vae_png_read(fifo, &png, &e), &e), "png: %s", e.msg);
    e = (vae_error){0};
    CHECK_MSG(refused_io(vae_checkpoint_read_info(fifo, NULL, NULL, NULL, &e), &e), "ckpt: %s",
              e.msg);
    e = (vae_error){0};
    vae_params *p = vae_params_new(VAE_F32);
    vae_params_add(p, "w", VAE_SHAPE(2), &e);
    CHECK_MSG(refused_io(vae_checkpoint_load(fifo, p, NULL, NULL, NULL, &e), &e), "load: %s",
              e.msg);
    vae_params_free(p);
    e = (vae_error){0};
    vae_dataset tr = {0};
    CHECK_MSG(refused_io(vae_dataset_load(spec, &tr, NULL, &e), &e), "mnist dir: %s", e.msg);
    e = (vae_error){0};
    snprintf(spec, sizeof spec, "npy:%s", fifo);
    CHECK_MSG(refused_io(vae_dataset_load(spec, &tr, NULL, &e), &e), "npy spec: %s", e.msg);
    alarm(0);
    unlink(img);
    unlink(lab);
    rmdir(mdir);
    unlink(fifo);
}

/* ---- a gzip bomb: valid gzip framing, an IDX header for 1.3 M 28x28 images, then `zeros` zero bytes as
 * fixed-Huffman matches of 258 (13 bits each: ~1/160 of the content) ---- */

typedef struct bits {
    uint8_t *p;
    size_t n;
    uint64_t acc;
    int cnt;
} bits;

static void put(bits *b, uint32_t v, int n) {
    b->acc |= (uint64_t)v << b->cnt;
    b->cnt += n;
    while (b->cnt >= 8) {
        b->p[b->n++] = (uint8_t)b->acc;
        b->acc >>= 8;
        b->cnt -= 8;
    }
}
/* a Huffman code is sent most significant bit first */
static void put_code(bits *b, uint32_t code, int len) {
    uint32_t r = 0;
    for (int i = 0; i < len; i++) r |= ((code >> i) & 1u) << (len - 1 - i);
    put(b, r, len);
}
static void put_lit(bits *b, int lit) {
    if (lit < 144)
        put_code(b, 0x30u + (uint32_t)lit, 8);
    else
        put_code(b, 0x190u + (uint32_t)(lit - 144), 9);
}

static size_t make_bomb(const char *path, uint32_t n_images, size_t zeros) {
    size_t nmatch = zeros / 258, cap = 64 + nmatch * 2 + 64;
    uint8_t *buf = calloc(cap, 1);
    static const uint8_t gz[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
    memcpy(buf, gz, 10);
    bits b = {buf + 10, 0, 0, 0};
    put(&b, 1, 1); /* final block */
    put(&b, 1, 2); /* fixed Huffman */
    uint8_t hdr[16] = {0,
                       0,
                       8,
                       3,
                       (uint8_t)(n_images >> 24),
                       (uint8_t)(n_images >> 16),
                       (uint8_t)(n_images >> 8),
                       (uint8_t)n_images,
                       0,
                       0,
                       0,
                       28,
                       0,
                       0,
                       0,
                       28};
    for (int i = 0; i < 16; i++) put_lit(&b, hdr[i]);
    put_lit(&b, 0);
    for (size_t i = 0; i < nmatch; i++) {
        put_code(&b, 0xC5, 8); /* length symbol 285: 258, no extra bits */
        put_code(&b, 0, 5);    /* distance symbol 0: 1 */
    }
    put_code(&b, 0, 7); /* end of block */
    if (b.cnt) put(&b, 0, 8 - b.cnt);
    size_t len = 10 + b.n;
    memset(buf + len, 0,
           8); /* CRC-32 and ISIZE: never reached by a load that is refused or capped */
    len += 8;
    FILE *f = fopen(path, "wb");
    fwrite(buf, 1, len, f);
    fclose(f);
    free(buf);
    return len;
}

/* Run fn in a child; its peak RSS growth in KB, or -1 when the child's checks failed. */
static long child_peak_kb(int (*fn)(const char *), const char *path) {
    pid_t pid = fork();
    if (pid == 0) {
        struct rusage r0;
        getrusage(RUSAGE_SELF, &r0);
        int ok = fn(path);
        struct rusage r1;
        getrusage(RUSAGE_SELF, &r1);
        long grew = r1.ru_maxrss - r0.ru_maxrss;
        FILE *f = fopen(path_in("peak"), "w");
        fprintf(f, "%ld\n", grew);
        fclose(f);
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
    long kb = -1;
    FILE *f = fopen(path_in("peak"), "r");
    if (f && fscanf(f, "%ld", &kb) != 1) kb = -1;
    if (f) fclose(f);
    return kb;
}

static int load_default(const char *path) {
    vae_dataset ds = {0};
    vae_error e = {0};
    vae_status st = vae_dataset_load_idx(path, NULL, &ds, &e);
    int ok = st == VAE_ERR_OOM && strstr(e.msg, "estimated") != NULL && ds.x == NULL;
    if (!ok) fprintf(stderr, "default load of the bomb: %s %s\n", vae_status_name(st), e.msg);
    vae_dataset_free(&ds);
    return ok;
}

static int load_capped(const char *path) {
    vae_dataset ds = {0};
    vae_error e = {0};
    vae_status st = vae_dataset_load_idx_n(path, NULL, 2000, 0, &ds, &e);
    int ok = st == VAE_OK && ds.n == 2000 && ds.d == 784;
    if (!ok) fprintf(stderr, "capped load of the bomb: %s %s\n", vae_status_name(st), e.msg);
    vae_dataset_free(&ds);
    return ok;
}

static int load_spec_capped(const char *path) {
    (void)path;
    vae_dataset tr = {0};
    vae_error e = {0};
    char spec[600];
    snprintf(spec, sizeof spec, "mnist:%s", path_in("bombdir"));
    vae_load_limits lim = {2000, 0};
    vae_status st = vae_dataset_load_limited(spec, &lim, &tr, NULL, NULL, &e);
    /* there is no label file: the spec loader stops there, after the images were loaded capped */
    int ok = st == VAE_ERR_IO;
    if (!ok) fprintf(stderr, "spec load: %s %s\n", vae_status_name(st), e.msg);
    vae_dataset_free(&tr);
    return ok;
}

static int load_over_limit(const char *path) {
    vae_dataset ds = {0};
    vae_error e = {0};
    /* 2000 images need ~8 MB: a 1 MB budget refuses them, with the estimate */
    vae_status st = vae_dataset_load_idx_n(path, NULL, 2000, (size_t)1 << 20, &ds, &e);
    int ok = st == VAE_ERR_OOM && strstr(e.msg, "estimated") && strstr(e.msg, "MB");
    if (!ok) fprintf(stderr, "over the limit: %s %s\n", vae_status_name(st), e.msg);
    return ok;
}

static void test_bomb(void) {
    char bomb[600];
    snprintf(bomb, sizeof bomb, "%s", path_in("bomb-idx3-ubyte.gz"));
    size_t zeros = (size_t)96 << 20; /* 96 MB of content in ~600 KB */
    size_t len = make_bomb(bomb, 1300000, zeros);
    CHECK(len < ((size_t)1 << 20));
    long kb = child_peak_kb(load_default, bomb);
    CHECK_MSG(kb >= 0 && kb < 24 * 1024, "default load: peak grew by %ld KB", kb);
    kb = child_peak_kb(load_capped, bomb);
    CHECK_MSG(kb >= 0 && kb < 32 * 1024, "capped load: peak grew by %ld KB", kb);
    printf("bomb: %zu bytes of gzip; capped load grew the peak RSS by %ld KB\n", len, kb);
    CHECK(child_peak_kb(load_over_limit, bomb) >= 0);
    /* the same through the spec loader's max_train */
    CHECK(mkdir(path_in("bombdir"), 0700) == 0);
    char img[600];
    snprintf(img, sizeof img, "%s/train-images-idx3-ubyte.gz", path_in("bombdir"));
    CHECK(rename(bomb, img) == 0);
    kb = child_peak_kb(load_spec_capped, img);
    CHECK_MSG(kb >= 0 && kb < 32 * 1024, "spec load: peak grew by %ld KB", kb);
    unlink(img);
    rmdir(path_in("bombdir"));
    unlink(path_in("peak"));
}

/* ---- a checkpoint whose CRC is valid but whose weights hold a NaN ---- */
static void test_nonfinite(void) {
    vae_error e = {0};
    vae_params *p = vae_params_new(VAE_F32);
    vae_tensor *w = vae_params_add(p, "enc.w", VAE_SHAPE(3, 2), &e);
    vae_tensor *b = vae_params_add(p, "enc.b", VAE_SHAPE(2), &e);
    for (int i = 0; i < 6; i++) vae_set_flat(w, i, 0.5 * i);
    for (int i = 0; i < 2; i++) vae_set_flat(b, i, 1.0);
    char *ok = path_in("ok.vae"), *bad = path_in("nan.vae");
    CHECK(vae_checkpoint_save(ok, p, NULL, NULL, 0, &e) == VAE_OK);
    vae_set_flat(b, 1, NAN);
    CHECK(vae_checkpoint_save(bad, p, NULL, NULL, 0, &e) ==
          VAE_OK); /* written as it is, CRC and all */
    vae_set_flat(b, 1, 7.0);
    e = (vae_error){0};
    vae_status st = vae_checkpoint_load(bad, p, NULL, NULL, NULL, &e);
    CHECK_MSG(st == VAE_ERR_FORMAT && strstr(e.msg, "enc.b") && strstr(e.msg, "non-finite"),
              "%s %s", vae_status_name(st), e.msg);
    CHECK(vae_get_flat(b, 1) == 7.0 && vae_get_flat(w, 5) == 2.5); /* unchanged */
    e = (vae_error){0};
    CHECK(vae_checkpoint_read_info(bad, NULL, NULL, NULL, &e) == VAE_ERR_FORMAT);
    /* an infinity in f64 too */
    vae_params *q = vae_params_new(VAE_F64);
    vae_tensor *v = vae_params_add(q, "v", VAE_SHAPE(4), &e);
    vae_set_flat(v, 3, -INFINITY);
    e = (vae_error){0};
    CHECK(vae_checkpoint_save(bad, q, NULL, NULL, 0, &e) == VAE_OK);
    CHECK(vae_checkpoint_load(bad, q, NULL, NULL, NULL, &e) == VAE_ERR_FORMAT &&
          strstr(e.msg, "'v'"));
    e = (vae_error){0};
    CHECK(vae_checkpoint_load(ok, p, NULL, NULL, NULL, &e) == VAE_OK && vae_get_flat(b, 1) == 1.0);
    vae_params_free(p);
    vae_params_free(q);
    unlink(ok);
    unlink(bad);
}

/* ---- .npy: a NUL byte inside a quoted string of the header ---- */
static vae_status npy_with_dict(const char *dict, size_t dlen, vae_error *e) {
    uint8_t file[256];
    memcpy(file, "\x93NUMPY\x01\x00", 8);
    size_t hlen = dlen + 1; /* the dict, then '\n' */
    file[8] = (uint8_t)hlen;
    file[9] = 0;
    memcpy(file + 10, dict, dlen);
    file[10 + dlen] = '\n';
    memset(file + 10 + hlen, 0, 8); /* (2,) float32 */
    vae_npy a;
    vae_status st = vae_npy_parse(file, 10 + hlen + 8, &a, e);
    if (st == VAE_OK) vae_npy_free(&a);
    return st;
}

static void test_npy_nul(void) {
    static const char bad[] = "{'descr': '<f4\0', 'fortran_order': False, 'shape': (2,), }";
    static const char good[] = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
    vae_error e = {0};
    vae_status st = npy_with_dict(bad, sizeof bad - 1, &e);
    CHECK_MSG(st == VAE_ERR_FORMAT, "NUL in descr: %s %s", vae_status_name(st), e.msg);
    e = (vae_error){0};
    st = npy_with_dict(good, sizeof good - 1, &e);
    CHECK_MSG(st == VAE_OK, "%s %s", vae_status_name(st), e.msg);
}

/* ---- a tensor kept across vae_ctx_reset ---- */
static void test_stale(void) {
    vae_ctx *ctx = vae_ctx_new(0);
    vae_error pe = {0};
    vae_params *p = vae_params_new(VAE_F32);
    vae_tensor *w = vae_params_add(p, "w", VAE_SHAPE(4), &pe);
    vae_tensor *x = vae_zeros(ctx, VAE_F32, VAE_SHAPE(4));
    CHECK(vae_exp(ctx, x) != NULL && vae_add(ctx, w, x) != NULL);
    vae_ctx_reset(ctx);
    /* x's struct is still in place (nothing allocated since the reset): its stamp says which step made it */
    CHECK(vae_exp(ctx, x) == NULL);
    vae_error *e = vae_ctx_error(ctx);
    CHECK_MSG(e->code == VAE_ERR_STATE && strstr(e->msg, "exp: input 0 is stale") &&
                  strstr(e->msg, "vae_ctx_reset"),
              "%s", e->msg);
    vae_ctx_clear_error(ctx);
    CHECK(vae_add(ctx, w, x) == NULL); /* a parameter is never stale; the arena tensor is named */
    CHECK_MSG(strstr(vae_ctx_error(ctx)->msg, "input 1 is stale"), "%s", vae_ctx_error(ctx)->msg);
    vae_ctx_clear_error(ctx);
    /* fresh tensors work */
    vae_tensor *z = vae_zeros(ctx, VAE_F32, VAE_SHAPE(4));
    CHECK(vae_exp(ctx, z) != NULL && vae_add(ctx, w, z) != NULL);
    /* a tensor of another context's arena is not this arena's business */
    vae_ctx *other = vae_ctx_new(0);
    vae_tensor *o = vae_zeros(other, VAE_F32, VAE_SHAPE(4));
    CHECK(vae_exp(ctx, o) != NULL);
    CHECK(vae_ctx_error(ctx)->code == VAE_OK);
    vae_ctx_free(other);
    vae_ctx_free(ctx);
    vae_params_free(p);
}

/* ---- a capped load of the real MNIST (.gz): only the first examples, labels matching ---- */
static void test_mnist_capped(void) {
    const char *sd = getenv("VAE_SHARED_DATA");
    char spec[600];
    snprintf(spec, sizeof spec, "mnist:%s/mnist", sd ? sd : "/nonexistent");
    vae_dataset tr = {0}, all = {0}, te = {0};
    vae_error e = {0};
    vae_load_limits lim = {300, 0};
    if (vae_dataset_load_limited(spec, &lim, &tr, NULL, &te, &e) != VAE_OK) {
        printf("skip: MNIST not loadable (%s)\n", e.msg);
        return;
    }
    CHECK(tr.n == 300 && tr.d == 784 && tr.labels && te.n == 10000);
    CHECK(vae_dataset_load(spec, &all, NULL, &e) == VAE_OK && all.n == 60000);
    CHECK(memcmp(all.x, tr.x, sizeof(float) * 300 * 784) == 0 &&
          memcmp(all.labels, tr.labels, sizeof(int64_t) * 300) == 0);
    vae_dataset_free(&tr);
    vae_dataset_free(&te);
    vae_dataset_free(&all);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/vae_test_harden_XXXXXX");
    if (!mkdtemp(dir)) return 1;
    test_fifo();
    test_bomb();
    test_nonfinite();
    test_npy_nul();
    test_stale();
    test_mnist_capped();
    rmdir(dir);
    return test_finish();
}
