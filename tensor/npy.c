/* npy.c - NumPy .npy reader and writer. Format reference: NEP 1 / numpy.lib.format:
 *   "\x93NUMPY" major minor, header length (u16 LE for 1.0, u32 LE for 2.0/3.0), a Python dict
 * literal
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), } padded with spaces and ended by
 * '\n', then the raw C-order data. */
#include "npy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tensor/atomic_file.h"
#include "tensor/file_read.h"
#include "tensor/io/io_internal.h"

static const char npy_magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

size_t vae_npy_dtype_size(vae_npy_dtype dtype) {
    switch (dtype) {
    case VAE_NPY_U1:
        return 1;
    case VAE_NPY_I8:
        return 8;
    case VAE_NPY_F4:
        return 4;
    case VAE_NPY_F8:
        return 8;
    default:
        return 0;
    }
}

const char *vae_npy_dtype_descr(vae_npy_dtype dtype) {
    switch (dtype) {
    case VAE_NPY_U1:
        return "|u1";
    case VAE_NPY_I8:
        return "<i8";
    case VAE_NPY_F4:
        return "<f4";
    case VAE_NPY_F8:
        return "<f8";
    default:
        return "?";
    }
}

static int host_is_le(void) {
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

static void swap_bytes(uint8_t *p, size_t count, size_t size) {
    for (size_t i = 0; i < count; i++, p += size)
        for (size_t a = 0, b = size - 1; a < b; a++, b--) {
            uint8_t t = p[a];
            p[a] = p[b];
            p[b] = t;
        }
}

/* numel and byte count of a shape; 0 on success, -1 on a negative dim, -2 on overflow. */
static int shape_size(int ndim, const int64_t *shape, size_t itemsize, int64_t *numel,
                      size_t *bytes) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) return -1;
        if (shape[i] != 0 && n > INT64_MAX / shape[i]) return -2;
        n *= shape[i];
    }
    if ((uint64_t)n > SIZE_MAX / itemsize) return -2;
    *numel = n;
    *bytes = (size_t)n * itemsize;
    return 0;
}

/* ----------------------------------------------------------------------------------------------------------
 */
/* Writer */

vae_status vae_npy_write(const char *path, vae_npy_dtype dtype, int ndim, const int64_t *shape,
                         const void *data, vae_error *err) {
    if (!path) return vae_error_set(err, VAE_ERR_NULL, "npy_write: NULL path");
    size_t isz = vae_npy_dtype_size(dtype);
    if (!isz)
        return vae_error_set(err, VAE_ERR_ARG, "npy_write %s: invalid dtype %d", path, (int)dtype);
    if (ndim < 0 || ndim > VAE_NPY_MAX_DIM)
        return vae_error_set(err, VAE_ERR_ARG, "npy_write %s: ndim %d not in 0..%d", path, ndim,
                             VAE_NPY_MAX_DIM);
    if (ndim > 0 && !shape)
        return vae_error_set(err, VAE_ERR_NULL, "npy_write %s: NULL shape", path);
    int64_t numel;
    size_t bytes;
    char sbuf[8 * 24 + 4];
    int rc = shape_size(ndim, shape, isz, &numel, &bytes);
    if (rc) {
        vae_shape_str(sbuf, (int)sizeof sbuf, ndim, shape);
        return vae_error_set(err, VAE_ERR_ARG, "npy_write %s: shape %s %s", path, sbuf,
                             rc == -1 ? "has a negative dimension"
                                      : "is too large (size overflows)");
    }
    if (bytes > 0 && !data)
        return vae_error_set(err, VAE_ERR_NULL, "npy_write %s: NULL data", path);

    /* Header: magic, version 1.0, u16 length, dict padded with spaces to a 64-byte boundary, '\n'.
     */
    char hdr[512];
    int n =
        snprintf(hdr + 10, sizeof hdr - 10, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                 vae_npy_dtype_descr(dtype));
    for (int i = 0; i < ndim; i++)
        n += snprintf(hdr + 10 + n, sizeof hdr - 10 - (size_t)n, i ? ", %lld" : "%lld",
                      (long long)shape[i]);
    n += snprintf(hdr + 10 + n, sizeof hdr - 10 - (size_t)n, "%s), }", ndim == 1 ? "," : "");
    size_t total = 10 + (size_t)n + 1;
    total = (total + 63) / 64 * 64;
    memset(hdr + 10 + n, ' ', total - 10 - (size_t)n);
    hdr[total - 1] = '\n';
    memcpy(hdr, npy_magic, 6);
    hdr[6] = 1;
    hdr[7] = 0;
    hdr[8] = (char)((total - 10) & 0xFF);
    hdr[9] = (char)((total - 10) >> 8);

    vae_atomic_file af;
    vae_error e = {0};
    if (vae_atomic_open(&af, path, &e)) return vae_error_set(err, e.code, "npy_write: %s", e.msg);
    /* A failed fwrite sets the stream's error flag, which vae_atomic_commit reports. */
    fwrite(hdr, 1, total, af.f);
    if (bytes > 0) {
        if (host_is_le() || isz == 1) {
            fwrite(data, 1, bytes, af.f);
        } else {
            uint8_t chunk[4096];
            const uint8_t *src = (const uint8_t *)data;
            for (size_t off = 0; off < bytes && !ferror(af.f); off += sizeof chunk) {
                size_t k = bytes - off < sizeof chunk ? bytes - off : sizeof chunk;
                memcpy(chunk, src + off, k);
                swap_bytes(chunk, k / isz, isz);
                fwrite(chunk, 1, k, af.f);
            }
        }
    }
    if (vae_atomic_commit(&af, &e)) return vae_error_set(err, e.code, "npy_write: %s", e.msg);
    return VAE_OK;
}

/* ----------------------------------------------------------------------------------------------------------
 */
/* Header parser: a tiny reader for the one Python dict literal NumPy writes. */

typedef struct npy_lex {
    const char *s;
    size_t n, i;
} npy_lex;

static void lex_ws(npy_lex *l) {
    while (l->i < l->n &&
           (l->s[l->i] == ' ' || l->s[l->i] == '\t' || l->s[l->i] == '\n' || l->s[l->i] == '\r'))
        l->i++;
}

static int lex_peek(npy_lex *l) {
    return l->i < l->n ? (unsigned char)l->s[l->i] : -1;
}

/* A quoted string without escapes into out[cap]; 0 on success. */
static int lex_string(npy_lex *l, char *out, size_t cap) {
    int q = lex_peek(l);
    if (q != '\'' && q != '"') return -1;
    size_t k = 0;
    for (l->i++; l->i < l->n; l->i++) {
        char c = l->s[l->i];
        if (c == (char)q) {
            l->i++;
            out[k] = 0;
            return 0;
        }
        if (c == '\\' || c == '\n' || c == '\0' || k + 1 >= cap)
            return -1; /* a NUL would cut the key */
        out[k++] = c;
    }
    return -1;
}

static int lex_word(npy_lex *l, const char *w) {
    size_t k = strlen(w);
    if (l->n - l->i < k || memcmp(l->s + l->i, w, k) != 0) return 0;
    l->i += k;
    return 1;
}

#define NPY_FAIL(code, ...) return vae_error_set(err, code, __VA_ARGS__)

/* Parse the dict text `s[n]` into dtype/ndim/shape. `who` prefixes messages. */
static vae_status npy_parse_dict(const char *s, size_t n, vae_npy *h, const char *who,
                                 vae_error *err) {
    npy_lex l = {s, n, 0};
    int have_descr = 0, have_fortran = 0, have_shape = 0, fortran = 0;
    char descr[32] = "";
    lex_ws(&l);
    if (lex_peek(&l) != '{')
        NPY_FAIL(VAE_ERR_FORMAT, "%s: header is not a dict (expected '{' at offset %zu)", who, l.i);
    l.i++;
    for (;;) {
        lex_ws(&l);
        if (lex_peek(&l) == '}') break;
        char key[32];
        size_t at = l.i;
        if (lex_string(&l, key, sizeof key))
            NPY_FAIL(VAE_ERR_FORMAT, "%s: header dict: expected a quoted key at offset %zu", who,
                     at);
        lex_ws(&l);
        if (lex_peek(&l) != ':')
            NPY_FAIL(VAE_ERR_FORMAT, "%s: header dict: expected ':' after '%s'", who, key);
        l.i++;
        lex_ws(&l);
        if (strcmp(key, "descr") == 0) {
            if (have_descr++)
                NPY_FAIL(VAE_ERR_FORMAT, "%s: header dict: duplicate key 'descr'", who);
            if (lex_peek(&l) == '[')
                NPY_FAIL(VAE_ERR_UNSUPPORTED, "%s: structured dtypes are not supported", who);
            if (lex_string(&l, descr, sizeof descr))
                NPY_FAIL(VAE_ERR_FORMAT, "%s: header dict: 'descr' is not a short quoted string",
                         who);
        } else if (strcmp(key, "fortran_order") == 0) {
            if (have_fortran++)
                NPY_FAIL(VAE_ERR_FORMAT, "%s: header dict: duplicate key 'fortran_order'", who);
            if (lex_word(&l, "True"))
                fortran = 1;
            else if (lex_word(&l, "False"))
                fortran = 0;
            else
                NPY_FAIL(VAE_ERR_FORMAT, "%s: header dict: 'fortran_order' is not True or False",
                         who);
        } else if (strcmp(key, "shape") == 0) {
            if (have_shape++)
                NPY_FAIL(VAE_ERR_FORMAT, "%s: header dict: duplicate key 'shape'", who);
            if (lex_peek(&l) != '(')
                NPY_FAIL(VAE_ERR_FORMAT, "%s: header dict: 'shape' is not a tuple", who);
            l.i++;
            h->ndim = 0;
            for (;;) {
                lex_ws(&l);
                if (lex_peek(&l) == ')') break;
                if (lex_peek(&l) == '-')
                    NPY_FAIL(VAE_ERR_FORMAT, "%s: shape has a negative dimension", who);
                if (lex_peek(&l) < '0' || lex_peek(&l) > '9')
                    NPY_FAIL(VAE_ERR_FORMAT,
                             "%s: header dict: bad character in 'shape' at offset %zu", who, l.i);
                int64_t v = 0;
                while (lex_peek(&l) >= '0' && lex_peek(&l) <= '9') {
                    int d = lex_peek(&l) - '0';
                    if (v > (INT64_MAX - d) / 10)
                        NPY_FAIL(VAE_ERR_FORMAT, "%s: shape dimension overflows int64", who);
                    v = v * 10 + d;
                    l.i++;
                }
                if (lex_peek(&l) == 'L') l.i++; /* Python 2 long literal */
                if (h->ndim == VAE_NPY_MAX_DIM)
                    NPY_FAIL(VAE_ERR_UNSUPPORTED, "%s: more than %d dimensions", who,
                             VAE_NPY_MAX_DIM);
                h->shape[h->ndim++] = v;
                lex_ws(&l);
                if (lex_peek(&l) == ',')
                    l.i++;
                else if (lex_peek(&l) != ')')
                    NPY_FAIL(VAE_ERR_FORMAT,
                             "%s: header dict: expected ',' or ')' in 'shape' at offset %zu", who,
                             l.i);
            }
            l.i++;
        } else {
            NPY_FAIL(VAE_ERR_FORMAT, "%s: header dict: unexpected key '%s'", who, key);
        }
        lex_ws(&l);
        if (lex_peek(&l) == ',')
            l.i++;
        else if (lex_peek(&l) != '}')
            NPY_FAIL(VAE_ERR_FORMAT, "%s: header dict: expected ',' or '}' at offset %zu", who,
                     l.i);
    }
    l.i++;
    lex_ws(&l);
    if (l.i != l.n)
        NPY_FAIL(VAE_ERR_FORMAT, "%s: header: unexpected text after the dict at offset %zu", who,
                 l.i);
    if (!have_descr || !have_fortran || !have_shape)
        NPY_FAIL(VAE_ERR_FORMAT, "%s: header dict: missing key '%s'", who,
                 !have_descr     ? "descr"
                 : !have_fortran ? "fortran_order"
                                 : "shape");

    if (!strcmp(descr, "|u1") || !strcmp(descr, "<u1"))
        h->dtype = VAE_NPY_U1;
    else if (!strcmp(descr, "<i8"))
        h->dtype = VAE_NPY_I8;
    else if (!strcmp(descr, "<f4"))
        h->dtype = VAE_NPY_F4;
    else if (!strcmp(descr, "<f8"))
        h->dtype = VAE_NPY_F8;
    else if (descr[0] == '>')
        NPY_FAIL(VAE_ERR_UNSUPPORTED,
                 "%s: big-endian dtype '%s' is not supported (only little-endian)", who, descr);
    else
        NPY_FAIL(VAE_ERR_UNSUPPORTED, "%s: dtype '%s' is not supported (only <f4, <f8, <i8, |u1)",
                 who, descr);
    if (fortran && h->ndim > 1)
        NPY_FAIL(VAE_ERR_UNSUPPORTED, "%s: Fortran-order arrays are not supported (only C order)",
                 who);
    return VAE_OK;
}

/* Parse preamble + header from the first `avail` bytes of a `total`-byte image. On success fills h
 * (dtype, ndim, shape, numel), *data_off and *bytes, having checked that exactly `bytes` data bytes
 * follow. */
static vae_status npy_parse_head(const uint8_t *p, size_t avail, uint64_t total, vae_npy *h,
                                 size_t *data_off, size_t *bytes, const char *who, vae_error *err) {
    if (avail < 10 || memcmp(p, npy_magic, 6) != 0) {
        if (avail >= 6 && memcmp(p, npy_magic, 6) == 0)
            NPY_FAIL(VAE_ERR_FORMAT, "%s: truncated header (%zu bytes)", who, avail);
        NPY_FAIL(VAE_ERR_FORMAT, "%s: not a .npy file (bad magic)", who);
    }
    int major = p[6], minor = p[7];
    size_t hlen, pre;
    if (major == 1 && minor == 0) {
        hlen = (size_t)p[8] | (size_t)p[9] << 8;
        pre = 10;
    } else if ((major == 2 || major == 3) && minor == 0) {
        if (avail < 12) NPY_FAIL(VAE_ERR_FORMAT, "%s: truncated header (%zu bytes)", who, avail);
        hlen = (size_t)p[8] | (size_t)p[9] << 8 | (size_t)p[10] << 16 | (size_t)p[11] << 24;
        pre = 12;
    } else {
        NPY_FAIL(VAE_ERR_VERSION, "%s: format version %d.%d is not supported (only 1.0, 2.0, 3.0)",
                 who, major, minor);
    }
    if (hlen > VAE_NPY_MAX_HEADER)
        NPY_FAIL(VAE_ERR_FORMAT, "%s: header length %zu is larger than the limit %d", who, hlen,
                 VAE_NPY_MAX_HEADER);
    if (pre + hlen > total)
        NPY_FAIL(VAE_ERR_FORMAT, "%s: header length %zu runs past the end of the file (%llu bytes)",
                 who, hlen, (unsigned long long)total);
    if (pre + hlen > avail) NPY_FAIL(VAE_ERR_FORMAT, "%s: truncated header", who);
    vae_status st = npy_parse_dict((const char *)p + pre, hlen, h, who, err);
    if (st) return st;
    char sbuf[8 * 24 + 4];
    int rc = shape_size(h->ndim, h->shape, vae_npy_dtype_size(h->dtype), &h->numel, bytes);
    if (rc) {
        vae_shape_str(sbuf, (int)sizeof sbuf, h->ndim, h->shape);
        NPY_FAIL(VAE_ERR_FORMAT, "%s: shape %s: element count overflows", who, sbuf);
    }
    uint64_t have = total - (pre + hlen);
    if (have != (uint64_t)*bytes) {
        vae_shape_str(sbuf, (int)sizeof sbuf, h->ndim, h->shape);
        NPY_FAIL(VAE_ERR_FORMAT, "%s: %s: shape %s of %s needs %zu data bytes, file has %llu", who,
                 have < *bytes ? "truncated data" : "trailing bytes after the data", sbuf,
                 vae_npy_dtype_descr(h->dtype), *bytes, (unsigned long long)have);
    }
    *data_off = pre + hlen;
    return VAE_OK;
}

vae_status vae_npy_parse(const void *buf, size_t len, vae_npy *out, vae_error *err) {
    if (!out) return vae_error_set(err, VAE_ERR_NULL, "npy_parse: NULL output");
    if (!buf && len) return vae_error_set(err, VAE_ERR_NULL, "npy_parse: NULL buffer");
    vae_npy h = {0};
    size_t off = 0, bytes = 0;
    vae_status st =
        npy_parse_head((const uint8_t *)buf, buf ? len : 0, len, &h, &off, &bytes, "npy", err);
    if (st) return st;
    h.data = malloc(bytes ? bytes : 1);
    if (!h.data) return vae_error_set(err, VAE_ERR_OOM, "npy: out of memory for %zu bytes", bytes);
    if (bytes) memcpy(h.data, (const uint8_t *)buf + off, bytes);
    if (!host_is_le()) swap_bytes(h.data, (size_t)h.numel, vae_npy_dtype_size(h.dtype));
    *out = h;
    return VAE_OK;
}

vae_status vae__npy_read_rows(const char *path, int64_t max_rows, size_t max_memory,
                              size_t extra_per_elem, vae_npy *out, vae_error *err) {
    if (!path) return vae_error_set(err, VAE_ERR_NULL, "npy_read: NULL path");
    if (!out) return vae_error_set(err, VAE_ERR_NULL, "npy_read %s: NULL output", path);
    FILE *f = NULL;
    uint64_t total = 0;
    vae_status st = vae__open_regular(path, "npy_read", &f, &total, err);
    if (st) return st;
    uint8_t *head = NULL;
    vae_npy h = {0};
    size_t avail = total < 12 + VAE_NPY_MAX_HEADER ? (size_t)total : 12 + VAE_NPY_MAX_HEADER;
    head = malloc(avail ? avail : 1);
    if (!head) {
        st = vae_error_set(err, VAE_ERR_OOM, "npy_read %s: out of memory", path);
        goto done;
    }
    if (fread(head, 1, avail, f) != avail) {
        st = vae_error_set(err, VAE_ERR_IO, "npy_read %s: read failed", path);
        goto done;
    }
    size_t off = 0, bytes = 0;
    char who[300];
    snprintf(who, sizeof who, "npy_read %s", path);
    st = npy_parse_head(head, avail, total, &h, &off, &bytes, who, err);
    if (st) goto done;
    /* keep only the first max_rows rows (of the leading dimension): read no further than them */
    if (max_rows > 0 && h.ndim > 0 && h.shape[0] > max_rows) {
        bytes = bytes / (size_t)h.shape[0] * (size_t)max_rows;
        h.numel = h.numel / h.shape[0] * max_rows;
        h.shape[0] = max_rows;
    }
    if (max_memory && ((size_t)h.numel > (SIZE_MAX - bytes) / (extra_per_elem + 1) ||
                       bytes + (size_t)h.numel * extra_per_elem > max_memory)) {
        st = vae_error_set(err, VAE_ERR_OOM,
                           "npy_read %s: %lld elements need an estimated %.1f MB, more than the "
                           "limit of %.1f MB",
                           path, (long long)h.numel,
                           ((double)bytes + (double)h.numel * (double)extra_per_elem) / 1e6,
                           (double)max_memory / 1e6);
        goto done;
    }
    h.data = malloc(bytes ? bytes : 1);
    if (!h.data) {
        st = vae_error_set(err, VAE_ERR_OOM, "npy_read %s: out of memory for %zu bytes", path,
                           bytes);
        goto done;
    }
    size_t in_head = avail - off; /* data bytes already read with the header */
    if (in_head > bytes) in_head = bytes;
    memcpy(h.data, head + off, in_head);
    if (bytes > in_head &&
        fread((uint8_t *)h.data + in_head, 1, bytes - in_head, f) != bytes - in_head) {
        st = vae_error_set(err, VAE_ERR_IO,
                           "npy_read %s: read failed (file changed while reading?)", path);
        goto done;
    }
    if (!host_is_le()) swap_bytes(h.data, (size_t)h.numel, vae_npy_dtype_size(h.dtype));
    *out = h;
    h.data = NULL;
done:
    free(h.data);
    free(head);
    fclose(f);
    return st;
}

vae_status vae_npy_read(const char *path, vae_npy *out, vae_error *err) {
    return vae__npy_read_rows(path, 0, 0, 0, out, err);
}

void vae_npy_free(vae_npy *a) {
    if (!a) return;
    free(a->data);
    memset(a, 0, sizeof *a);
}
