#include "tensor/io/amat.h"

#include <stdlib.h>
#include <string.h>

#include "tensor/io/inflate.h"
#include "tensor/io/io_internal.h"

static vae_status amat_parse_n(const char *text, size_t len, const char *name, int64_t cols,
                               int64_t max_rows, vae_amat *out, vae_error *err);

static int is_blank(char ch) {
    return ch == ' ' || ch == '\t' || ch == '\r';
}

/* One line [p, e): count its tokens, and when `row` is non-NULL store them. Returns the token
 * count, or -1 after setting err for a bad token. */
static int64_t amat_line(const char *p, const char *e, uint8_t *row, int64_t cols, const char *name,
                         int64_t lineno, vae_error *err) {
    int64_t k = 0;
    while (p < e) {
        while (p < e && is_blank(*p)) p++;
        if (p == e) break;
        const char *t = p;
        while (p < e && !is_blank(*p)) p++;
        size_t tl = (size_t)(p - t);
        if (tl != 1 || (*t != '0' && *t != '1')) {
            int show = tl > 20 ? 20 : (int)tl;
            vae_error_set(err, VAE_ERR_FORMAT,
                          "amat: %s:%lld: column %lld: \"%.*s%s\" is not 0 or 1", name,
                          (long long)lineno, (long long)(k + 1), show, t, tl > 20 ? "..." : "");
            return -1;
        }
        if (row && k < cols) row[k] = *t == '1';
        k++;
    }
    return k;
}

vae_status vae_amat_parse(const char *text, size_t len, const char *name, int64_t cols,
                          vae_amat *out, vae_error *err) {
    return amat_parse_n(text, len, name, cols, 0, out, err);
}

/* vae_amat_parse keeping the first max_rows rows (0: all); lines after them are not read. */
static vae_status amat_parse_n(const char *text, size_t len, const char *name, int64_t cols,
                               int64_t max_rows, vae_amat *out, vae_error *err) {
    if (!text || !out) return vae_error_set(err, VAE_ERR_NULL, "amat: NULL argument");
    if (!name) name = "<memory>";
    if (cols < 0)
        return vae_error_set(err, VAE_ERR_ARG, "amat: cols must be >= 0, got %lld",
                             (long long)cols);
    if (memchr(text, '\0', len))
        return vae_error_set(err, VAE_ERR_FORMAT, "amat: %s: NUL byte in text (binary file?)",
                             name);
    const char *end = text + len;
    /* Pass 1: validate every line and count rows. */
    int64_t rows = 0, lineno = 0;
    for (const char *p = text; p < end && !(max_rows && rows == max_rows);) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        if (!e) e = end;
        lineno++;
        int64_t k = amat_line(p, e, NULL, 0, name, lineno, err);
        if (k < 0) return VAE_ERR_FORMAT;
        if (k > 0) {
            if (cols == 0) cols = k;
            if (k != cols)
                return vae_error_set(err, VAE_ERR_FORMAT,
                                     "amat: %s:%lld: %lld columns, expected %lld", name,
                                     (long long)lineno, (long long)k, (long long)cols);
            rows++;
        }
        p = e < end ? e + 1 : end;
    }
    if (rows == 0) return vae_error_set(err, VAE_ERR_FORMAT, "amat: %s: no data rows", name);
    /* rows * cols <= len: every cell took at least one byte of the text */
    uint8_t *data = malloc((size_t)(rows * cols));
    if (!data)
        return vae_error_set(err, VAE_ERR_OOM, "amat: %s: cannot allocate %lld x %lld cells", name,
                             (long long)rows, (long long)cols);
    /* Pass 2: fill. */
    int64_t r = 0;
    lineno = 0;
    for (const char *p = text; p < end && r < rows;) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        if (!e) e = end;
        lineno++;
        if (amat_line(p, e, data + r * cols, cols, name, lineno, err) > 0) r++;
        p = e < end ? e + 1 : end;
    }
    out->rows = rows;
    out->cols = cols;
    out->data = data;
    return VAE_OK;
}

vae_status vae_amat_read(const char *path, int64_t cols, vae_amat *out, vae_error *err) {
    return vae__amat_read_n(path, cols, 0, 0, out, err);
}

vae_status vae__amat_read_n(const char *path, int64_t cols, int64_t max_rows, size_t max_bytes,
                            vae_amat *out, vae_error *err) {
    if (!path || !out) return vae_error_set(err, VAE_ERR_NULL, "amat: NULL argument");
    uint8_t *buf = NULL;
    size_t len = 0;
    vae_status st = vae_read_file(path, &buf, &len, max_bytes /* 0: 1 GiB */, err);
    if (st != VAE_OK) return st;
    st = amat_parse_n((const char *)buf, len, path, cols, max_rows, out, err);
    free(buf);
    return st;
}

void vae_amat_free(vae_amat *a) {
    if (!a) return;
    free(a->data);
    memset(a, 0, sizeof *a);
}
