/* test_loaders.c - IDX, .amat, CSV and .npy loaders on the shared data and on damaged files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tensor/io/amat.h"
#include "tensor/io/csv.h"
#include "nn/dataset.h"
#include "tensor/io/idx.h"
#include "tensor/npy.h"
#include "test.h"

static char tmpdir[256];

static const char *tmp_path(const char *name) {
    static char buf[64][512];
    static int k;
    k = (k + 1) % 64;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static const char *write_tmp(const char *name, const void *data, size_t n) {
    const char *p = tmp_path(name);
    FILE *f = fopen(p, "wb");
    if (f) {
        if (n) fwrite(data, 1, n, f);
        fclose(f);
    }
    return p;
}

static int file_exists(const char *p) {
    FILE *f = fopen(p, "rb");
    if (!f) return 0;
    fclose(f);
    return 1;
}

static void shared_path(char *buf, size_t cap, const char *rel) {
    const char *root = getenv("VAE_SHARED_DATA");
    snprintf(buf, cap, "%s/%s", root ? root : "../shared/data", rel);
}

/* ---- the shared data ---- */

static void test_mnist(void) {
    char dir[512], probe[600];
    shared_path(dir, sizeof dir, "mnist");
    snprintf(probe, sizeof probe, "%s/train-images-idx3-ubyte.gz", dir);
    if (!file_exists(probe)) {
        printf("skip: MNIST not found at %s\n", dir);
        return;
    }
    char spec[600];
    snprintf(spec, sizeof spec, "mnist:%s", dir);
    vae_error err = {0};
    vae_dataset tr = {0}, te = {0};
    CHECK_MSG(vae_dataset_load(spec, &tr, &te, &err) == VAE_OK, "%s", err.msg);
    if (!tr.x || !te.x) return;
    CHECK(tr.n == 60000 && tr.d == 784 && tr.h == 28 && tr.w == 28 && tr.c == 1);
    CHECK(te.n == 10000 && te.d == 784);
    CHECK(strcmp(tr.name, "mnist") == 0 && !tr.binary && !tr.factors);
    CHECK(tr.labels && tr.labels[0] == 5 && tr.labels[1] == 0 && tr.labels[2] == 4);
    CHECK(te.labels && te.labels[0] == 7 && te.labels[1] == 2 && te.labels[2] == 1 &&
          te.labels[3] == 0 && te.labels[4] == 4);
    /* image 0, row 14: a run of ink in columns 13..18 (81 240 253 253 119 25), nothing else */
    const float *row = tr.x + 14 * 28;
    int run_ok = 1;
    for (int j = 0; j < 28; j++)
        if ((row[j] != 0) != (j >= 13 && j <= 18)) run_ok = 0;
    CHECK(run_ok);
    CHECK(row[13] == 81.0f / 255.0f && row[14] == 240.0f / 255.0f && row[18] == 25.0f / 255.0f);
    /* image 0: 166 nonzero pixels summing to 27525 / 255 */
    int nz = 0;
    double sum = 0;
    for (int i = 0; i < 784; i++) {
        nz += tr.x[i] != 0;
        sum += tr.x[i];
    }
    CHECK(nz == 166);
    CHECK_NEAR(sum, 27525.0 / 255.0, 1e-3, 0);
    float lo = 1, hi = 0;
    for (size_t i = 0; i < (size_t)tr.n * 784; i++) {
        if (tr.x[i] < lo) lo = tr.x[i];
        if (tr.x[i] > hi) hi = tr.x[i];
    }
    CHECK(lo == 0.0f && hi == 1.0f);
    int lab_ok = 1;
    for (int64_t i = 0; i < tr.n; i++)
        if (tr.labels[i] < 0 || tr.labels[i] > 9) lab_ok = 0;
    CHECK(lab_ok);
    vae_dataset_free(&tr);
    vae_dataset_free(&te);

    /* the label file on its own */
    vae_idx lb = {0};
    snprintf(probe, sizeof probe, "%s/t10k-labels-idx1-ubyte.gz", dir);
    CHECK(vae_idx_read(probe, 1, &lb, &err) == VAE_OK);
    CHECK(lb.ndim == 1 && lb.shape[0] == 10000 && lb.data[0] == 7 && lb.data[4] == 4);
    vae_idx_free(&lb);
    /* reading labels as images fails cleanly */
    CHECK(vae_idx_read(probe, 3, &lb, &err) == VAE_ERR_FORMAT && lb.data == NULL);
    CHECK(strstr(err.msg, "1 dims, expected 3") != NULL);
}

static void test_binarized(void) {
    char dir[512], p[600];
    shared_path(dir, sizeof dir, "binarized_mnist");
    snprintf(p, sizeof p, "%s/binarized_mnist_test.amat.gz", dir);
    if (!file_exists(p)) {
        printf("skip: binarized MNIST not found at %s\n", dir);
        return;
    }
    vae_error err = {0};
    vae_dataset te = {0};
    CHECK_MSG(vae_dataset_load_amat(p, 784, &te, &err) == VAE_OK, "%s", err.msg);
    if (!te.x) return;
    CHECK(te.n == 10000 && te.d == 784 && te.binary == 1 && te.h == 28 && te.w == 28);
    int binary = 1;
    double ones0 = 0, ones1 = 0;
    for (size_t i = 0; i < (size_t)te.n * 784; i++)
        if (te.x[i] != 0.0f && te.x[i] != 1.0f) binary = 0;
    for (int j = 0; j < 784; j++) {
        ones0 += te.x[j];
        ones1 += te.x[784 + j];
    }
    CHECK(binary);
    CHECK(ones0 == 147 && ones1 == 116); /* counted with python3 gzip from the same file */
    vae_dataset_free(&te);

    /* the spec: the standard 50000 / 10000 / 10000 split, valid rows from their own file */
    char spec[600];
    snprintf(spec, sizeof spec, "binarized-mnist:%s", dir);
    vae_dataset tr = {0}, va = {0};
    CHECK_MSG(vae_dataset_load_splits(spec, &tr, &va, &te, &err) == VAE_OK, "%s", err.msg);
    CHECK(tr.n == 50000 && va.n == 10000 && te.n == 10000 && tr.binary && va.binary && te.binary &&
          tr.labels == NULL && va.d == 784 && va.h == 28);
    CHECK(strcmp(tr.name, "binarized-mnist") == 0 && strcmp(va.name, "binarized-mnist") == 0);
    vae_dataset_free(&tr);
    vae_dataset_free(&va);
    vae_dataset_free(&te);
    /* without a valid output, train is still the 50000 training rows */
    CHECK_MSG(vae_dataset_load(spec, &tr, NULL, &err) == VAE_OK, "%s", err.msg);
    CHECK(tr.n == 50000);
    vae_dataset_free(&tr);
}

static void test_frey(void) {
    char p[600], spec[700];
    shared_path(p, sizeof p, "frey/frey_rawface.npy");
    if (!file_exists(p)) {
        printf("skip: Frey faces not found at %s\n", p);
        return;
    }
    vae_npy a = {0};
    vae_error err = {0};
    CHECK(vae_npy_read(p, &a, &err) == VAE_OK);
    CHECK(a.dtype == VAE_NPY_U1 && a.ndim == 3 && a.shape[0] == 1965 && a.shape[1] == 28 &&
          a.shape[2] == 20);
    vae_npy_free(&a);
    snprintf(spec, sizeof spec, "npy:%s", p);
    vae_dataset tr = {0}, te = {0};
    te.n = 99; /* single-file specs zero the test set */
    CHECK_MSG(vae_dataset_load(spec, &tr, &te, &err) == VAE_OK, "%s", err.msg);
    CHECK(tr.n == 1965 && tr.d == 560 && tr.h == 28 && tr.w == 20 && tr.c == 1);
    CHECK(te.n == 0 && te.x == NULL);
    double lo, hi;
    vae_dataset_range(&tr, &lo, &hi);
    CHECK_NEAR(lo, 8.0 / 255, 1e-6, 0);
    CHECK_NEAR(hi, 238.0 / 255, 1e-6, 0);
    vae_dataset_free(&tr);
}

/* ---- damaged files ---- */

static size_t idx_header(uint8_t *b, uint8_t type, int ndim, const uint32_t *dims) {
    b[0] = 0;
    b[1] = 0;
    b[2] = type;
    b[3] = (uint8_t)ndim;
    for (int i = 0; i < ndim; i++) {
        b[4 + 4 * i] = (uint8_t)(dims[i] >> 24);
        b[5 + 4 * i] = (uint8_t)(dims[i] >> 16);
        b[6 + 4 * i] = (uint8_t)(dims[i] >> 8);
        b[7 + 4 * i] = (uint8_t)dims[i];
    }
    return 4 + 4 * (size_t)ndim;
}

/* Expect `code` and a message containing `needle`, with the output untouched. */
#define EXPECT_FAIL(call, code_, needle, untouched)                                                \
    do {                                                                                           \
        vae_error e_ = {0};                                                                        \
        vae_status s_ = (call);                                                                    \
        (void)e_;                                                                                  \
        CHECK_MSG(s_ == (code_) && e_.code == (code_) && strstr(e_.msg, (needle)) && (untouched),  \
                  "got %s \"%s\", want %s with \"%s\"", vae_status_name(s_), e_.msg,               \
                  vae_status_name(code_), needle);                                                 \
    } while (0)

static void test_idx_damage(void) {
    uint8_t buf[4096];
    uint32_t dims[3] = {3, 4, 5};
    size_t h = idx_header(buf, 0x08, 3, dims);
    for (int i = 0; i < 60; i++) buf[h + i] = (uint8_t)(i * 4);
    vae_idx x = {0};
    vae_error err = {0};
    /* a good one first */
    const char *good = write_tmp("good.idx", buf, h + 60);
    CHECK(vae_idx_read(good, 3, &x, &err) == VAE_OK && x.shape[0] == 3 && x.shape[2] == 5 &&
          x.data[59] == 236);
    vae_idx_free(&x);
    uint8_t lab[16];
    uint32_t ld[1] = {3};
    size_t lh = idx_header(lab, 0x08, 1, ld);
    lab[lh] = 1;
    lab[lh + 1] = 2;
    lab[lh + 2] = 9;
    const char *labels3 = write_tmp("labels3.idx", lab, lh + 3);
    vae_dataset ds = {0};
    CHECK(vae_dataset_load_idx(good, labels3, &ds, &err) == VAE_OK && ds.n == 3 && ds.d == 20 &&
          ds.h == 4 && ds.w == 5 && ds.labels[2] == 9 && ds.x[1] == 4.0f / 255.0f);
    vae_dataset_free(&ds);
    CHECK(err.code == VAE_OK);

    x.ndim = 42; /* sentinel: must survive every failure */
    EXPECT_FAIL(vae_idx_read(write_tmp("trunc.idx", buf, h + 59), 3, &x, &e_), VAE_ERR_FORMAT,
                "truncated", x.ndim == 42);
    EXPECT_FAIL(vae_idx_read(write_tmp("trunchdr.idx", buf, 9), 3, &x, &e_), VAE_ERR_FORMAT,
                "truncated header", x.ndim == 42);
    EXPECT_FAIL(vae_idx_read(write_tmp("tiny.idx", buf, 2), 3, &x, &e_), VAE_ERR_FORMAT,
                "too short", x.ndim == 42);
    EXPECT_FAIL(vae_idx_read(write_tmp("empty.idx", buf, 0), 3, &x, &e_), VAE_ERR_FORMAT,
                "too short", x.ndim == 42);
    EXPECT_FAIL(vae_idx_read(write_tmp("trail.idx", buf, h + 61), 3, &x, &e_), VAE_ERR_FORMAT,
                "trailing", x.ndim == 42);
    uint8_t bad[64];
    memcpy(bad, buf, 64);
    bad[0] = 'P';
    bad[1] = 'K';
    EXPECT_FAIL(vae_idx_read(write_tmp("magic.idx", bad, 64), 3, &x, &e_), VAE_ERR_FORMAT,
                "bad magic", x.ndim == 42);
    memcpy(bad, buf, 64);
    bad[2] = 0x42;
    EXPECT_FAIL(vae_idx_read(write_tmp("type.idx", bad, 64), 3, &x, &e_), VAE_ERR_FORMAT, "0x42",
                x.ndim == 42);
    bad[2] = 0x0D;
    EXPECT_FAIL(vae_idx_read(write_tmp("float.idx", bad, 64), 3, &x, &e_), VAE_ERR_UNSUPPORTED,
                "float32", x.ndim == 42);
    uint32_t absurd[3] = {1u << 31, 1u << 31, 28};
    size_t ah = idx_header(bad, 0x08, 3, absurd);
    EXPECT_FAIL(vae_idx_read(write_tmp("absurd.idx", bad, ah + 10), 3, &x, &e_), VAE_ERR_FORMAT,
                "absurd", x.ndim == 42);
    uint32_t big[3] = {1u << 31, 1u << 31, 1};
    ah = idx_header(bad, 0x08, 3, big);
    EXPECT_FAIL(vae_idx_read(write_tmp("big.idx", bad, ah + 10), 3, &x, &e_), VAE_ERR_FORMAT,
                "truncated", x.ndim == 42);
    uint32_t zero[3] = {3, 0, 5};
    ah = idx_header(bad, 0x08, 3, zero);
    EXPECT_FAIL(vae_idx_read(write_tmp("zero.idx", bad, ah), 3, &x, &e_), VAE_ERR_FORMAT, "is 0",
                x.ndim == 42);
    EXPECT_FAIL(vae_idx_read(tmp_path("missing.idx"), 3, &x, &e_), VAE_ERR_IO, "missing.idx",
                x.ndim == 42);
    /* label / image count mismatch */
    uint32_t l4[1] = {4};
    lh = idx_header(lab, 0x08, 1, l4);
    const char *labels4 = write_tmp("labels4.idx", lab, lh + 4);
    ds.n = 1234;
    EXPECT_FAIL(vae_dataset_load_idx(good, labels4, &ds, &e_), VAE_ERR_MISMATCH, "4 labels",
                ds.n == 1234);
    /* truncated gzip: the reader reports it, no crash */
    char gz[600];
    shared_path(gz, sizeof gz, "mnist/t10k-labels-idx1-ubyte.gz");
    FILE *f = fopen(gz, "rb");
    if (f) {
        uint8_t g[6000];
        size_t n = fread(g, 1, sizeof g, f);
        fclose(f);
        vae_error e = {0};
        CHECK(vae_idx_read(write_tmp("cut.gz", g, n / 2), 1, &x, &e) != VAE_OK && x.ndim == 42 &&
              e.msg[0]);
        g[n / 2] ^= 0x55; /* flip bits in the middle of the stream */
        vae_error_clear(&e);
        CHECK(vae_idx_read(write_tmp("flip.gz", g, n), 1, &x, &e) != VAE_OK && x.ndim == 42 &&
              e.msg[0]);
    }
}

static void test_amat_damage(void) {
    vae_error err = {0};
    vae_amat ds = {0};
    const char *ok = "0 1 1\r\n1 0 0\n\n0 0 1\n";
    CHECK(vae_amat_parse(ok, strlen(ok), "ok", 0, &ds, &err) == VAE_OK);
    CHECK(ds.rows == 3 && ds.cols == 3 && ds.data[1] == 1 && ds.data[3] == 1 && ds.data[8] == 1 &&
          ds.data[0] == 0);
    vae_amat_free(&ds);
    CHECK(err.code == VAE_OK);
    /* the data-set view of the same file: 0/1 floats, binary, no image geometry for 3 columns */
    vae_dataset dd = {0};
    CHECK(vae_dataset_load_amat(write_tmp("ok.amat", ok, strlen(ok)), 0, &dd, &err) == VAE_OK);
    CHECK(dd.n == 3 && dd.d == 3 && dd.binary && dd.x[1] == 1 && dd.x[3] == 1 && dd.x[8] == 1 &&
          dd.h == 0);
    vae_dataset_free(&dd);
    ds.rows = 555;
    const char *cols = "0 1 1\n1 0\n0 0 1\n";
    EXPECT_FAIL(vae_amat_parse(cols, strlen(cols), "cols.amat", 0, &ds, &e_), VAE_ERR_FORMAT,
                "cols.amat:2: 2 columns, expected 3", ds.rows == 555);
    EXPECT_FAIL(vae_amat_parse(ok, strlen(ok), "want784.amat", 784, &ds, &e_), VAE_ERR_FORMAT,
                "want784.amat:1: 3 columns, expected 784", ds.rows == 555);
    const char *tok = "0 1 1\n1 0 1\n0 2 1\n";
    EXPECT_FAIL(vae_amat_parse(tok, strlen(tok), "tok.amat", 3, &ds, &e_), VAE_ERR_FORMAT,
                "tok.amat:3: column 2: \"2\" is not 0 or 1", ds.rows == 555);
    const char *tok2 = "0 1 0.5\n";
    EXPECT_FAIL(vae_amat_parse(tok2, strlen(tok2), "half", 3, &ds, &e_), VAE_ERR_FORMAT, "\"0.5\"",
                ds.rows == 555);
    EXPECT_FAIL(vae_amat_parse("", 0, "empty", 0, &ds, &e_), VAE_ERR_FORMAT, "no data rows",
                ds.rows == 555);
    EXPECT_FAIL(vae_amat_parse("0 1\0 1\n", 7, "nul", 0, &ds, &e_), VAE_ERR_FORMAT, "NUL",
                ds.rows == 555);
    const char *p = write_tmp("bad.amat", tok, strlen(tok));
    EXPECT_FAIL(vae_amat_read(p, 3, &ds, &e_), VAE_ERR_FORMAT, "bad.amat:3:", ds.rows == 555);
    EXPECT_FAIL(vae_amat_read(tmp_path("none.amat"), 3, &ds, &e_), VAE_ERR_IO, "none.amat",
                ds.rows == 555);
}

static void test_csv(void) {
    vae_error err = {0};
    vae_csv c = {0};
    const char *ok = "\xEF\xBB\xBF"
                     "height, \"weight\",age\r\n 1.5, 60 ,30\r\n\r\n1.75,-8.5e1,\t41\r\n";
    CHECK_MSG(vae_csv_parse(ok, strlen(ok), "ok.csv", &c, &err) == VAE_OK, "%s", err.msg);
    CHECK(c.rows == 2 && c.cols == 3 && c.header);
    if (c.header) CHECK(strcmp(c.header[0], "height") == 0 && strcmp(c.header[1], "weight") == 0);
    if (c.data) CHECK(c.data[0] == 1.5 && c.data[1] == 60 && c.data[4] == -85 && c.data[5] == 41);
    vae_csv_free(&c);
    const char *nohdr = "1,2\n3,4";
    CHECK(vae_csv_parse(nohdr, strlen(nohdr), "n", &c, &err) == VAE_OK && c.rows == 2 &&
          !c.header && c.data[3] == 4);
    vae_csv_free(&c);
    CHECK(err.code == VAE_OK);

    c.rows = 777;
    const char *nan_ = "a,b,c\n1,2,3\n4,abc,6\n";
    EXPECT_FAIL(vae_csv_parse(nan_, strlen(nan_), "data.csv", &c, &e_), VAE_ERR_FORMAT,
                "csv: data.csv:3:2: \"abc\" is not a number", c.rows == 777);
    const char *rag = "1,2,3\n4,5\n";
    EXPECT_FAIL(vae_csv_parse(rag, strlen(rag), "rag.csv", &c, &e_), VAE_ERR_FORMAT,
                "rag.csv:2: ragged row: 2 cells, expected 3", c.rows == 777);
    const char *rag2 = "x,y\n1,2\n4,5,6,7\n";
    EXPECT_FAIL(vae_csv_parse(rag2, strlen(rag2), "rag2.csv", &c, &e_), VAE_ERR_FORMAT,
                "4 cells, expected 2", c.rows == 777);
    EXPECT_FAIL(vae_csv_parse("", 0, "empty.csv", &c, &e_), VAE_ERR_FORMAT, "empty", c.rows == 777);
    EXPECT_FAIL(vae_csv_parse("\n \r\n", 4, "blank.csv", &c, &e_), VAE_ERR_FORMAT, "empty",
                c.rows == 777);
    EXPECT_FAIL(vae_csv_parse("a,b\n", 4, "hdr.csv", &c, &e_), VAE_ERR_FORMAT, "no data rows",
                c.rows == 777);
    const char *nn = "1,2\n3,nan\n";
    EXPECT_FAIL(vae_csv_parse(nn, strlen(nn), "nan.csv", &c, &e_), VAE_ERR_FORMAT,
                "nan.csv:2:2: \"nan\" is NaN", c.rows == 777);
    const char *inf = "1,-inf\n";
    EXPECT_FAIL(vae_csv_parse(inf, strlen(inf), "inf.csv", &c, &e_), VAE_ERR_FORMAT, "inf.csv:1:2",
                c.rows == 777);
    const char *huge = "1,2\n1e999,3\n";
    EXPECT_FAIL(vae_csv_parse(huge, strlen(huge), "huge.csv", &c, &e_), VAE_ERR_FORMAT,
                "out of double range", c.rows == 777);
    const char *empty_cell = "1,2\n3,\n";
    EXPECT_FAIL(vae_csv_parse(empty_cell, strlen(empty_cell), "ec.csv", &c, &e_), VAE_ERR_FORMAT,
                "ec.csv:2:2: empty cell", c.rows == 777);
    const char *trail = "1,2\n3,4x\n";
    EXPECT_FAIL(vae_csv_parse(trail, strlen(trail), "t.csv", &c, &e_), VAE_ERR_FORMAT,
                "\"4x\" is not a number", c.rows == 777);

    /* through the spec; float32 overflow */
    const char *file = write_tmp("data.csv", ok, strlen(ok));
    char spec[600];
    snprintf(spec, sizeof spec, "csv:%s", file);
    vae_dataset tr = {0}, te = {0};
    CHECK(vae_dataset_load(spec, &tr, &te, &err) == VAE_OK && tr.n == 2 && tr.d == 3 && tr.h == 0 &&
          tr.x[4] == -85.0f && te.n == 0 && strcmp(tr.name, "csv") == 0);
    vae_dataset_free(&tr);
    const char *f32 = write_tmp("f32.csv", "1,1e300\n", 8);
    tr.n = 31;
    EXPECT_FAIL(vae_dataset_load_csv(f32, &tr, &e_), VAE_ERR_FORMAT, "float32", tr.n == 31);
    snprintf(spec, sizeof spec, "csv:%s", tmp_path("nope.csv"));
    EXPECT_FAIL(vae_dataset_load(spec, &tr, &te, &e_), VAE_ERR_IO, "nope.csv", tr.n == 31);
}

static void test_npy_damage(void) {
    vae_error err = {0};
    /* int16 is rejected by the reader, int64 by the data loader */
    const char hdr[] = "{'descr': '<i2', 'fortran_order': False, 'shape': (2, 3), }";
    uint8_t buf[256];
    memset(buf, ' ', sizeof buf);
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    size_t hl = 118; /* 10 + 118 = 128 */
    buf[8] = (uint8_t)hl;
    buf[9] = 0;
    memcpy(buf + 10, hdr, sizeof hdr - 1);
    buf[10 + hl - 1] = '\n';
    memset(buf + 128, 0, 12);
    const char *i2 = write_tmp("i2.npy", buf, 140);
    vae_dataset ds = {0};
    ds.n = 4321;
    EXPECT_FAIL(vae_dataset_load_npy(i2, &ds, &e_), VAE_ERR_UNSUPPORTED, "i2", ds.n == 4321);
    int64_t shp[2] = {2, 3}, iv[6] = {1, 2, 3, 4, 5, 6};
    const char *i8 = tmp_path("i8.npy");
    CHECK(vae_npy_write(i8, VAE_NPY_I8, 2, shp, iv, &err) == VAE_OK);
    EXPECT_FAIL(vae_dataset_load_npy(i8, &ds, &e_), VAE_ERR_UNSUPPORTED, "dtype", ds.n == 4321);
    float fv[6] = {1, 2, 3, 4, NAN, 6};
    const char *fn = tmp_path("nan.npy");
    CHECK(vae_npy_write(fn, VAE_NPY_F4, 2, shp, fv, &err) == VAE_OK);
    EXPECT_FAIL(vae_dataset_load_npy(fn, &ds, &e_), VAE_ERR_FORMAT, "element 4", ds.n == 4321);
    int64_t one[1] = {6};
    const char *f1 = tmp_path("1d.npy");
    CHECK(vae_npy_write(f1, VAE_NPY_F4, 1, one, fv, &err) == VAE_OK);
    EXPECT_FAIL(vae_dataset_load_npy(f1, &ds, &e_), VAE_ERR_SHAPE, "1 dims", ds.n == 4321);
    int64_t z[3] = {0, 2, 2};
    const char *fz = tmp_path("zero.npy");
    CHECK(vae_npy_write(fz, VAE_NPY_U1, 3, z, NULL, &err) == VAE_OK);
    EXPECT_FAIL(vae_dataset_load_npy(fz, &ds, &e_), VAE_ERR_SHAPE, "dim 0", ds.n == 4321);
    EXPECT_FAIL(vae_dataset_load_npy(write_tmp("cut.npy", buf, 100), &ds, &e_), VAE_ERR_FORMAT,
                "cut.npy", ds.n == 4321);
    /* float64 tabular and uint8 (n,h,w,c) images work */
    double dv[6] = {0.5, -1, 2, 3, 4, 5};
    const char *f8 = tmp_path("f8.npy");
    CHECK(vae_npy_write(f8, VAE_NPY_F8, 2, shp, dv, &err) == VAE_OK);
    CHECK(vae_dataset_load_npy(f8, &ds, &err) == VAE_OK && ds.n == 2 && ds.d == 3 && ds.h == 0 &&
          ds.x[1] == -1.0f);
    vae_dataset_free(&ds);
    uint8_t uv[24];
    for (int i = 0; i < 24; i++) uv[i] = (uint8_t)(i * 10);
    int64_t s4[4] = {2, 2, 2, 3};
    const char *u4 = tmp_path("u4.npy");
    CHECK(vae_npy_write(u4, VAE_NPY_U1, 4, s4, uv, &err) == VAE_OK);
    CHECK(vae_dataset_load_npy(u4, &ds, &err) == VAE_OK && ds.n == 2 && ds.d == 12 && ds.h == 2 &&
          ds.w == 2 && ds.c == 3 && ds.x[23] == 230.0f / 255.0f);
    vae_dataset_free(&ds);
    CHECK_MSG(err.code == VAE_OK, "%s", err.msg);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/vae_test_loaders_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        fprintf(stderr, "cannot create a temporary directory\n");
        return 1;
    }
    test_mnist();
    test_binarized();
    test_frey();
    test_idx_damage();
    test_amat_damage();
    test_csv();
    test_npy_damage();
    /* clean up the temporary files */
    static const char *names[] = {
        "good.idx",  "labels3.idx", "trunc.idx", "trunchdr.idx", "tiny.idx",   "empty.idx",
        "trail.idx", "magic.idx",   "type.idx",  "float.idx",    "absurd.idx", "big.idx",
        "zero.idx",  "labels4.idx", "cut.gz",    "flip.gz",      "bad.amat",   "data.csv",
        "f32.csv",   "i2.npy",      "i8.npy",    "nan.npy",      "1d.npy",     "zero.npy",
        "cut.npy",   "f8.npy",      "u4.npy"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) remove(tmp_path(names[i]));
    rmdir(tmpdir);
    return test_finish();
}
