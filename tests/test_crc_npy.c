/* CRC-32 / Adler-32 known values, and .npy: round trips for every dtype and odd shapes, hand-made
 * v1/v2/v3 headers, and damaged files that must each fail with their own error (and leave the
 * output untouched). */
#include "test.h"
#include "tensor/crc32.h"
#include "tensor/npy.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[64];

/* python3: zlib.adler32 / zlib.crc32 of bytes(i % 251 for i in range(100000)) */
#define ADLER_100K 0x84CBA994u
#define CRC_100K   0xB353B8FAu

static void test_checksums(void) {
    CHECK(vae_crc32(0, "123456789", 9) == 0xCBF43926u);
    CHECK(vae_crc32(0, NULL, 0) == 0);
    CHECK(vae_crc32(vae_crc32(0, "12345", 5), "6789", 4) == 0xCBF43926u);
    CHECK(vae_adler32(1, "Wikipedia", 9) == 0x11E60398u);
    CHECK(vae_adler32(1, NULL, 0) == 1);
    /* long input exercises the deferred modulo and the 4-byte CRC loop */
    size_t n = 100000;
    uint8_t *b = malloc(n);
    for (size_t i = 0; i < n; i++) b[i] = (uint8_t)(i % 251);
    CHECK(vae_adler32(1, b, n) == ADLER_100K);
    CHECK(vae_crc32(0, b, n) == CRC_100K);
    CHECK(vae_adler32(vae_adler32(1, b, 777), b + 777, n - 777) == ADLER_100K);
    free(b);
}

/* A .npy image with the given version, dict text and data; header padded to 64 bytes like NumPy
 * does. */
static size_t make_npy(uint8_t *buf, int major, const char *dict, const void *data, size_t dlen) {
    size_t pre = major == 1 ? 10 : 12, dl = strlen(dict);
    size_t total = (pre + dl + 1 + 63) / 64 * 64, hlen = total - pre;
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (uint8_t)major;
    buf[7] = 0;
    for (size_t i = 0; i < pre - 8; i++) buf[8 + i] = (uint8_t)(hlen >> (8 * i));
    memcpy(buf + pre, dict, dl);
    memset(buf + pre + dl, ' ', hlen - dl - 1);
    buf[total - 1] = '\n';
    memcpy(buf + total, data, dlen);
    return total + dlen;
}

static void expect_parse_fail(const uint8_t *buf, size_t n, vae_status want, const char *needle,
                              const char *what) {
    vae_npy a;
    memset(&a, 0x5A, sizeof a);
    vae_error e = {0};
    vae_status st = vae_npy_parse(buf, n, &a, &e);
    CHECK_MSG(st == want && (!needle || strstr(e.msg, needle)), "%s: got %s '%s', want %s '%s'",
              what, vae_status_name(st), e.msg, vae_status_name(want), needle ? needle : "");
    const unsigned char *p = (const unsigned char *)&a;
    int untouched = 1;
    for (size_t i = 0; i < sizeof a; i++) untouched &= p[i] == 0x5A;
    CHECK_MSG(untouched, "%s: output changed on failure", what);
    if (st == VAE_OK) vae_npy_free(&a);
}

static void roundtrip(vae_npy_dtype dt, int ndim, const int64_t *shape) {
    char path[128];
    snprintf(path, sizeof path, "%s/a.npy", tmpdir);
    int64_t numel = 1;
    for (int i = 0; i < ndim; i++) numel *= shape[i];
    size_t isz = vae_npy_dtype_size(dt), bytes = (size_t)numel * isz;
    uint8_t *src = malloc(bytes ? bytes : 1);
    for (size_t i = 0; i < (size_t)numel; i++) {
        if (dt == VAE_NPY_U1)
            src[i] = (uint8_t)(i * 7);
        else if (dt == VAE_NPY_I8)
            ((int64_t *)src)[i] = (int64_t)i * -1234567890123ll;
        else if (dt == VAE_NPY_F4)
            ((float *)src)[i] = (float)i * 0.25f - 3.0f;
        else
            ((double *)src)[i] = (double)i / 3.0;
    }
    vae_error e = {0};
    CHECK_MSG(vae_npy_write(path, dt, ndim, shape, src, &e) == VAE_OK, "%s", e.msg);
    char tmp[140];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    CHECK(access(tmp, F_OK) != 0);
    /* header: version 1.0, padded to 64, '\n'-terminated, C order */
    uint8_t head[128];
    FILE *f = fopen(path, "rb");
    size_t got = f ? fread(head, 1, sizeof head, f) : 0;
    if (f) fclose(f);
    size_t hl = got >= 10 ? (size_t)head[8] | (size_t)head[9] << 8 : 0;
    CHECK(got >= 10 && head[6] == 1 && head[7] == 0 && (10 + hl) % 64 == 0);
    CHECK(10 + hl <= got && head[10 + hl - 1] == '\n');
    CHECK(got >= 64 && strstr((const char *)head + 10, "'fortran_order': False") != NULL);
    vae_npy a = {0};
    CHECK_MSG(vae_npy_read(path, &a, &e) == VAE_OK, "%s", e.msg);
    CHECK(a.dtype == dt && a.ndim == ndim && a.numel == numel && a.data != NULL);
    for (int i = 0; i < ndim && i < a.ndim; i++) CHECK(a.shape[i] == shape[i]);
    CHECK(bytes == 0 || (a.data && memcmp(a.data, src, bytes) == 0));
    vae_npy_free(&a);
    CHECK(a.data == NULL && a.ndim == 0);
    free(src);
    remove(path);
}

static void test_roundtrip(void) {
    static const int64_t s1[] = {5}, s2[] = {2, 3}, s0[] = {0}, s3[] = {3, 0, 2},
                         s8[] = {1, 2, 1, 3, 1, 1, 2, 1}, sb[] = {70, 33};
    for (int dt = 0; dt < VAE_NPY_DTYPE_COUNT_; dt++) {
        roundtrip((vae_npy_dtype)dt, 0, NULL);
        roundtrip((vae_npy_dtype)dt, 1, s1);
        roundtrip((vae_npy_dtype)dt, 2, s2);
        roundtrip((vae_npy_dtype)dt, 1, s0);
        roundtrip((vae_npy_dtype)dt, 3, s3);
        roundtrip((vae_npy_dtype)dt, 8, s8);
        roundtrip((vae_npy_dtype)dt, 2, sb);
    }
    vae_npy z = {0};
    vae_npy_free(&z);
    vae_npy_free(NULL);
}

static void test_headers(void) {
    uint8_t buf[512];
    float fd[2] = {1.5f, -2.0f};
    double dd[2] = {0.5, 7.0};
    for (int major = 1; major <= 3; major++) {
        size_t n = make_npy(buf, major, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
                            fd, 8);
        vae_npy a = {0};
        vae_error e = {0};
        CHECK_MSG(vae_npy_parse(buf, n, &a, &e) == VAE_OK, "v%d: %s", major, e.msg);
        CHECK(a.dtype == VAE_NPY_F4 && a.ndim == 1 && a.shape[0] == 2 && a.numel == 2);
        CHECK(a.data && ((float *)a.data)[0] == 1.5f && ((float *)a.data)[1] == -2.0f);
        vae_npy_free(&a);
    }
    /* other key order, double quotes, no trailing comma, a 1-d Fortran array (same as C order),
     * '<u1' */
    size_t n = make_npy(buf, 1, "{\"shape\": (2, 1), \"fortran_order\": False, \"descr\": \"<f8\"}",
                        dd, 16);
    vae_npy a = {0};
    vae_error e = {0};
    CHECK_MSG(vae_npy_parse(buf, n, &a, &e) == VAE_OK, "%s", e.msg);
    CHECK(a.dtype == VAE_NPY_F8 && a.ndim == 2 && a.shape[0] == 2 && a.shape[1] == 1 &&
          ((double *)a.data)[1] == 7.0);
    vae_npy_free(&a);
    n = make_npy(buf, 1, "{'descr': '<u1', 'fortran_order': True, 'shape': (3,), }", "abc", 3);
    CHECK_MSG(vae_npy_parse(buf, n, &a, &e) == VAE_OK, "%s", e.msg);
    CHECK(a.dtype == VAE_NPY_U1 && a.numel == 3 && memcmp(a.data, "abc", 3) == 0);
    vae_npy_free(&a);
    n = make_npy(buf, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }", dd, 8);
    CHECK_MSG(vae_npy_parse(buf, n, &a, &e) == VAE_OK, "%s", e.msg);
    CHECK(a.ndim == 0 && a.numel == 1 && ((double *)a.data)[0] == 0.5);
    vae_npy_free(&a);
}

static void test_damaged(void) {
    uint8_t buf[512], tmp[512];
    float fd[6] = {0};
    const char *good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    size_t n = make_npy(buf, 1, good, fd, 24);
    for (size_t k = 0; k < n; k++) { /* every truncation fails */
        vae_npy a;
        vae_error e = {0};
        if (vae_npy_parse(buf, k, &a, &e) == VAE_OK) {
            CHECK_MSG(0, "truncation to %zu bytes parsed", k);
            vae_npy_free(&a);
        }
    }
    expect_parse_fail(buf, n - 1, VAE_ERR_FORMAT, "truncated data", "truncated data");
    expect_parse_fail(buf, 50, VAE_ERR_FORMAT, "past the end", "header length past EOF");
    memcpy(tmp, buf, n);
    tmp[1] = 'X';
    expect_parse_fail(tmp, n, VAE_ERR_FORMAT, "magic", "bad magic");
    memcpy(tmp, buf, n);
    tmp[6] = 4;
    expect_parse_fail(tmp, n, VAE_ERR_VERSION, "4.0", "version 4.0");
    memcpy(tmp, buf, n);
    tmp[8] = 0xFF, tmp[9] = 0xFF;
    expect_parse_fail(tmp, n, VAE_ERR_FORMAT, "header length", "header length past EOF (v1)");
    memcpy(tmp, buf, n);
    tmp[n] = 0;
    expect_parse_fail(tmp, n + 1, VAE_ERR_FORMAT, "trailing", "trailing bytes");

    static const struct {
        const char *dict;
        vae_status want;
        const char *needle;
    } cases[] = {
        {"{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", VAE_ERR_UNSUPPORTED,
         "big-endian"},
        {"{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", VAE_ERR_UNSUPPORTED,
         "Fortran"},
        {"{'descr': '<i2', 'fortran_order': False, 'shape': (2, 3), }", VAE_ERR_UNSUPPORTED,
         "'<i2'"},
        {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2, 3), }",
         VAE_ERR_UNSUPPORTED, "structured"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }",
         VAE_ERR_FORMAT, "overflow"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }",
         VAE_ERR_FORMAT, "overflow"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000000000,), }",
         VAE_ERR_FORMAT, "truncated"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 3), }", VAE_ERR_FORMAT,
         "negative"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,6), }",
         VAE_ERR_UNSUPPORTED, "dimensions"},
        {"{'descr': '<f4' 'fortran_order': False, 'shape': (2, 3), }", VAE_ERR_FORMAT,
         "expected ','"},
        {"{'descr': '<f4', 'fortran_order': False, }", VAE_ERR_FORMAT, "missing key 'shape'"},
        {"{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2, 3), }", VAE_ERR_FORMAT,
         "True or False"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3], }", VAE_ERR_FORMAT, "tuple"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'extra': 1}", VAE_ERR_FORMAT,
         "unexpected key"},
        {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}",
         VAE_ERR_FORMAT, "duplicate"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } x", VAE_ERR_FORMAT,
         "after the dict"},
        {"{'descr': '<f4, 'fortran_order': False, 'shape': (2, 3), }", VAE_ERR_FORMAT, NULL},
        {"['descr', '<f4']", VAE_ERR_FORMAT, "not a dict"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3", VAE_ERR_FORMAT, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t m = make_npy(tmp, 1, cases[i].dict, fd, 24);
        expect_parse_fail(tmp, m, cases[i].want, cases[i].needle, cases[i].dict);
    }
    expect_parse_fail(NULL, 0, VAE_ERR_FORMAT, "magic", "empty buffer");

    /* read/write errors name the path and leave nothing behind */
    vae_npy a;
    memset(&a, 0x5A, sizeof a);
    vae_error e = {0};
    CHECK(vae_npy_read("/nonexistent/dir/x.npy", &a, &e) == VAE_ERR_IO &&
          strstr(e.msg, "/nonexistent/dir/x.npy"));
    CHECK(((unsigned char *)&a)[0] == 0x5A);
    vae_error_clear(&e);
    int64_t sh[2] = {2, 3};
    CHECK(vae_npy_write("/nonexistent/dir/x.npy", VAE_NPY_F4, 2, sh, fd, &e) == VAE_ERR_IO);
    vae_error_clear(&e);
    char path[128];
    snprintf(path, sizeof path, "%s/bad.npy", tmpdir);
    CHECK(vae_npy_write(path, VAE_NPY_F4, 9, sh, fd, &e) == VAE_ERR_ARG);
    vae_error_clear(&e);
    int64_t neg[2] = {2, -3};
    CHECK(vae_npy_write(path, VAE_NPY_F4, 2, neg, fd, &e) == VAE_ERR_ARG);
    vae_error_clear(&e);
    CHECK(vae_npy_write(path, (vae_npy_dtype)42, 2, sh, fd, &e) == VAE_ERR_ARG);
    CHECK(access(path, F_OK) != 0);
    /* a damaged file on disk gives the parser's error with the path in the message */
    FILE *f = fopen(path, "wb");
    fwrite(buf, 1, n - 5, f);
    fclose(f);
    vae_error_clear(&e);
    CHECK(vae_npy_read(path, &a, &e) == VAE_ERR_FORMAT && strstr(e.msg, path) &&
          strstr(e.msg, "truncated"));
    remove(path);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/vae_test_npy_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_checksums();
    test_roundtrip();
    test_headers();
    test_damaged();
    rmdir(tmpdir);
    return test_finish();
}
