#include "tensor/io/csv.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/io/inflate.h"
#include "tensor/io/io_internal.h"

#define CSV_CELL_MAX 128 /* longest cell text parsed as a number */

static int is_space(char ch) {
    return ch == ' ' || ch == '\t' || ch == '\r';
}

/* Classify a trimmed cell: 0 = finite number (stored in *v), 1 = not a number, 2 = NaN/inf, 3 = out
 * of range, 4 = empty. */
static int cell_value(const char *s, size_t n, double *v) {
    if (n == 0) return 4;
    if (n >= CSV_CELL_MAX) return 1;
    char buf[CSV_CELL_MAX];
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *endp = NULL;
    errno = 0;
    double x = strtod(buf, &endp);
    if (endp != buf + n || endp == buf) return 1;
    if (isnan(x)) return 2;
    if (isinf(x)) return errno == ERANGE ? 3 : 2;
    *v = x;
    return 0;
}

/* Next cell of the line [*p, e): trimmed bounds in [*cs, *ce); advances *p past the comma. Returns
 * 0 when the line is exhausted. */
static int next_cell(const char **p, const char *e, int *done, const char **cs, const char **ce) {
    if (*done) return 0;
    const char *s = *p;
    const char *c = memchr(s, ',', (size_t)(e - s));
    const char *stop = c ? c : e;
    const char *a = s, *b = stop;
    while (a < b && is_space(*a)) a++;
    while (b > a && is_space(b[-1])) b--;
    *cs = a;
    *ce = b;
    if (c)
        *p = c + 1;
    else
        *done = 1;
    return 1;
}

static int line_blank(const char *p, const char *e) {
    for (; p < e; p++)
        if (!is_space(*p)) return 0;
    return 1;
}

static void free_header(char **h, int64_t n) {
    if (!h) return;
    for (int64_t i = 0; i < n; i++) free(h[i]);
    free(h);
}

vae_status vae_csv_parse(const char *text, size_t len, const char *name, vae_csv *out,
                         vae_error *err) {
    if (!text || !out) return vae_error_set(err, VAE_ERR_NULL, "csv: NULL argument");
    if (!name) name = "<memory>";
    if (memchr(text, '\0', len))
        return vae_error_set(err, VAE_ERR_FORMAT, "csv: %s: NUL byte in text (binary file?)", name);
    const char *end = text + len;
    if (len >= 3 && (unsigned char)text[0] == 0xEF && (unsigned char)text[1] == 0xBB &&
        (unsigned char)text[2] == 0xBF)
        text += 3; /* UTF-8 byte-order mark */

    /* Pass 1: the first non-blank line decides the column count and whether it is a header; count
     * lines. */
    int64_t cols = 0, nonblank = 0, first_line = 0;
    int has_header = 0;
    int64_t lineno = 0;
    for (const char *p = text; p < end;) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        if (!e) e = end;
        lineno++;
        if (!line_blank(p, e)) {
            if (nonblank == 0) {
                first_line = lineno;
                const char *q = p, *cs, *ce;
                int done = 0;
                while (next_cell(&q, e, &done, &cs, &ce)) {
                    double v;
                    int k = cell_value(cs, (size_t)(ce - cs), &v);
                    if (k == 1 || k == 4) has_header = 1;
                    cols++;
                }
            }
            nonblank++;
        }
        p = e < end ? e + 1 : end;
    }
    int64_t rows = nonblank - has_header;
    if (nonblank == 0)
        return vae_error_set(err, VAE_ERR_FORMAT, "csv: %s: empty file (no rows)", name);
    if (rows == 0)
        return vae_error_set(err, VAE_ERR_FORMAT, "csv: %s:%lld: header row but no data rows", name,
                             (long long)first_line);
    if (cols < 1 || rows > INT64_MAX / cols || (uint64_t)(rows * cols) > SIZE_MAX / sizeof(double))
        return vae_error_set(err, VAE_ERR_FORMAT, "csv: %s: %lld x %lld cells is too large", name,
                             (long long)rows, (long long)cols);
    double *data = malloc((size_t)(rows * cols) * sizeof *data);
    char **header = has_header ? calloc((size_t)cols, sizeof *header) : NULL;
    if (!data || (has_header && !header)) {
        free(data);
        free(header);
        return vae_error_set(err, VAE_ERR_OOM, "csv: %s: cannot allocate %lld x %lld cells", name,
                             (long long)rows, (long long)cols);
    }

    /* Pass 2: parse and check every cell. */
    vae_status st = VAE_OK;
    int64_t r = 0;
    int seen_first = 0;
    lineno = 0;
    for (const char *p = text; p < end && st == VAE_OK;) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        if (!e) e = end;
        lineno++;
        if (!line_blank(p, e)) {
            int is_header = has_header && !seen_first;
            seen_first = 1;
            const char *q = p, *cs, *ce;
            int done = 0;
            int64_t k = 0;
            while (st == VAE_OK && next_cell(&q, e, &done, &cs, &ce)) {
                k++;
                if (k > cols) break;
                size_t n = (size_t)(ce - cs);
                if (is_header) {
                    if (n >= 2 && cs[0] == '"' && ce[-1] == '"') {
                        cs++;
                        n -= 2;
                    }
                    header[k - 1] = malloc(n + 1);
                    if (!header[k - 1]) {
                        st = vae_error_set(err, VAE_ERR_OOM, "csv: %s: out of memory", name);
                        break;
                    }
                    memcpy(header[k - 1], cs, n);
                    header[k - 1][n] = '\0';
                    continue;
                }
                double v = 0;
                int kind = cell_value(cs, n, &v);
                int show = n > 40 ? 40 : (int)n;
                const char *more = n > 40 ? "..." : "";
                if (kind == 1)
                    st = vae_error_set(err, VAE_ERR_FORMAT,
                                       "csv: %s:%lld:%lld: \"%.*s%s\" is not a number", name,
                                       (long long)lineno, (long long)k, show, cs, more);
                else if (kind == 2)
                    st = vae_error_set(
                        err, VAE_ERR_FORMAT,
                        "csv: %s:%lld:%lld: \"%.*s%s\" is NaN or infinite (not allowed)", name,
                        (long long)lineno, (long long)k, show, cs, more);
                else if (kind == 3)
                    st = vae_error_set(err, VAE_ERR_FORMAT,
                                       "csv: %s:%lld:%lld: \"%.*s%s\" is out of double range", name,
                                       (long long)lineno, (long long)k, show, cs, more);
                else if (kind == 4)
                    st = vae_error_set(err, VAE_ERR_FORMAT, "csv: %s:%lld:%lld: empty cell", name,
                                       (long long)lineno, (long long)k);
                else
                    data[r * cols + k - 1] = v;
            }
            if (st != VAE_OK) break;
            if (k != cols) {
                /* count the whole row for the message */
                if (k > cols) {
                    while (next_cell(&q, e, &done, &cs, &ce)) k++;
                }
                st = vae_error_set(err, VAE_ERR_FORMAT,
                                   "csv: %s:%lld: ragged row: %lld cells, expected %lld "
                                   "(as on line %lld)",
                                   name, (long long)lineno, (long long)k, (long long)cols,
                                   (long long)first_line);
                break;
            }
            if (!is_header) r++;
        }
        p = e < end ? e + 1 : end;
    }
    if (st != VAE_OK) {
        free(data);
        free_header(header, cols);
        return st;
    }
    out->rows = rows;
    out->cols = cols;
    out->data = data;
    out->header = header;
    return VAE_OK;
}

vae_status vae_csv_read(const char *path, vae_csv *out, vae_error *err) {
    return vae__csv_read_limited(path, 0, out, err);
}

vae_status vae__csv_read_limited(const char *path, size_t max_bytes, vae_csv *out, vae_error *err) {
    if (!path || !out) return vae_error_set(err, VAE_ERR_NULL, "csv: NULL argument");
    uint8_t *buf = NULL;
    size_t len = 0;
    vae_status st = vae_read_file(path, &buf, &len, max_bytes /* 0: 1 GiB */, err);
    if (st != VAE_OK) return st;
    st = vae_csv_parse((const char *)buf, len, path, out, err);
    free(buf);
    return st;
}

void vae_csv_free(vae_csv *c) {
    if (!c) return;
    free(c->data);
    free_header(c->header, c->cols);
    memset(c, 0, sizeof *c);
}
