#include "tensor/io/idx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/file_read.h"
#include "tensor/io/inflate.h"
#include "tensor/io/io_internal.h"

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static const char *idx_type_name(uint8_t t) {
    switch (t) {
    case 0x08:
        return "uint8";
    case 0x09:
        return "int8";
    case 0x0B:
        return "int16";
    case 0x0C:
        return "int32";
    case 0x0D:
        return "float32";
    case 0x0E:
        return "float64";
    default:
        return NULL;
    }
}

/* Check the magic and dims at buf[0..len) (len >= the header, or an error says it is truncated): the shape, the
 * element count and the header size. */
static vae_status idx_header(const uint8_t *buf, size_t len, const char *name, int want_ndim,
                             int64_t shape[3], uint64_t *numel_out, size_t *header_out,
                             vae_error *err) {
    if (want_ndim != 1 && want_ndim != 3)
        return vae_error_set(err, VAE_ERR_ARG, "idx: want_ndim must be 1 or 3, got %d", want_ndim);
    if (len < 4)
        return vae_error_set(err, VAE_ERR_FORMAT,
                             "idx: %s: %zu bytes, too short for the 4-byte magic", name, len);
    if (buf[0] != 0 || buf[1] != 0)
        return vae_error_set(
            err, VAE_ERR_FORMAT,
            "idx: %s: bad magic %02x %02x %02x %02x (not an IDX file; expected 00 00 08 0%d)", name,
            buf[0], buf[1], buf[2], buf[3], want_ndim);
    const char *tname = idx_type_name(buf[2]);
    if (!tname)
        return vae_error_set(err, VAE_ERR_FORMAT, "idx: %s: bad magic: unknown type byte 0x%02x",
                             name, buf[2]);
    if (buf[2] != 0x08)
        return vae_error_set(err, VAE_ERR_UNSUPPORTED,
                             "idx: %s: element type %s is not supported (uint8 only)", name, tname);
    int ndim = buf[3];
    if (ndim != want_ndim)
        return vae_error_set(err, VAE_ERR_FORMAT, "idx: %s: %d dims, expected %d (%s)", name, ndim,
                             want_ndim, want_ndim == 1 ? "labels" : "images");
    size_t header = 4 + 4 * (size_t)ndim;
    if (len < header)
        return vae_error_set(err, VAE_ERR_FORMAT, "idx: %s: truncated header (%zu of %zu bytes)",
                             name, len, header);
    uint64_t numel = 1;
    int overflow = 0;
    for (int i = 0; i < 3; i++) shape[i] = 0;
    for (int i = 0; i < ndim; i++) {
        uint32_t dim = be32(buf + 4 + 4 * (size_t)i);
        if (dim == 0) return vae_error_set(err, VAE_ERR_FORMAT, "idx: %s: dim %d is 0", name, i);
        shape[i] = dim;
        if (numel > UINT64_MAX / dim)
            overflow = 1;
        else
            numel *= dim;
    }
    if (overflow || numel > SIZE_MAX - header || numel > (uint64_t)INT64_MAX) {
        char sbuf[64];
        vae_shape_str(sbuf, sizeof sbuf, ndim, shape);
        return vae_error_set(err, VAE_ERR_FORMAT,
                             "idx: %s: absurd dims %s (element count overflows)", name, sbuf);
    }
    *numel_out = numel;
    *header_out = header;
    return VAE_OK;
}

/* The error for `have` data bytes where the header promises `numel`. */
static vae_status idx_size_error(const char *name, int ndim, const int64_t *shape, uint64_t numel,
                                 uint64_t have, vae_error *err) {
    char sbuf[64];
    vae_shape_str(sbuf, sizeof sbuf, ndim, shape);
    if (have < numel)
        return vae_error_set(err, VAE_ERR_FORMAT,
                             "idx: %s: truncated: dims %s need %llu data bytes, file has %llu",
                             name, sbuf, (unsigned long long)numel, (unsigned long long)have);
    return vae_error_set(err, VAE_ERR_FORMAT, "idx: %s: %llu trailing bytes after %s data", name,
                         (unsigned long long)(have - numel), sbuf);
}

vae_status vae_idx_parse(const uint8_t *buf, size_t len, const char *name, int want_ndim,
                         vae_idx *out, vae_error *err) {
    if (!buf || !out) return vae_error_set(err, VAE_ERR_NULL, "idx: NULL argument");
    if (!name) name = "<memory>";
    int64_t shape[3];
    uint64_t numel = 0;
    size_t header = 0;
    vae_status st = idx_header(buf, len, name, want_ndim, shape, &numel, &header, err);
    if (st) return st;
    if ((uint64_t)(len - header) != numel)
        return idx_size_error(name, want_ndim, shape, numel, len - header, err);
    uint8_t *data = malloc((size_t)numel);
    if (!data)
        return vae_error_set(err, VAE_ERR_OOM, "idx: %s: cannot allocate %llu bytes", name,
                             (unsigned long long)numel);
    memcpy(data, buf + header, (size_t)numel);
    out->ndim = want_ndim;
    for (int i = 0; i < 3; i++) out->shape[i] = shape[i];
    out->numel = (int64_t)numel;
    out->data = data;
    return VAE_OK;
}

/* Read the first `want` bytes of the content of an open file (gunzipped when it starts with 1f 8b) into a new
 * buffer; *total = the content's size when it is known to be <= want (gzip: decoded completely; raw: always
 * known), else UINT64_MAX ("more than want"). Decoding stops at `want`: memory never exceeds what is asked. */
static vae_status idx_read_prefix(FILE *f, uint64_t fsz, const char *path, size_t want,
                                  int header_pass, int may_cut, uint8_t **out, size_t *out_len,
                                  uint64_t *total, int *gz, vae_error *err) {
    uint8_t magic[2] = {0, 0};
    size_t m = fread(magic, 1, 2, f);
    *gz = m == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    if (*gz) {
        /* the header pass inflates a few bytes: the start of the file is enough */
        if (header_pass && fsz > ((uint64_t)1 << 18)) fsz = (uint64_t)1 << 18;
        /* `want` bytes of content take at most about as many compressed bytes (stored blocks) plus the gzip
         * header: when only a prefix is wanted, read no more of the file than that */
        uint64_t enough = (uint64_t)want + want / 8 + (1u << 20);
        if (may_cut && fsz > enough) fsz = enough;
        /* a compressed file is larger than its content only by header overhead */
        if (fsz > enough || fsz > SIZE_MAX - 1)
            return vae_error_set(err, VAE_ERR_FORMAT,
                                 "idx: %s: %llu compressed bytes for at most %zu bytes of content",
                                 path, (unsigned long long)fsz, want);
        uint8_t *z = malloc((size_t)fsz);
        if (!z) return vae_error_set(err, VAE_ERR_OOM, "idx: %s: out of memory", path);
        memcpy(z, magic, 2);
        if (fread(z + 2, 1, (size_t)fsz - 2, f) != (size_t)fsz - 2) {
            free(z);
            return vae_error_set(err, VAE_ERR_IO, "idx: %s: read failed", path);
        }
        int complete = 0;
        vae_error e = {0};
        vae_status st = vae__gunzip_prefix(z, (size_t)fsz, want, out, out_len, &complete, &e);
        free(z);
        if (st) return vae_error_set(err, st, "idx: %s: %s", path, e.msg);
        *total = complete ? *out_len : UINT64_MAX;
        return VAE_OK;
    }
    size_t n = fsz < want ? (size_t)fsz : want;
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) return vae_error_set(err, VAE_ERR_OOM, "idx: %s: out of memory", path);
    memcpy(buf, magic, m < n ? m : n);
    if (n > m && fread(buf + m, 1, n - m, f) != n - m) {
        free(buf);
        return vae_error_set(err, VAE_ERR_IO, "idx: %s: read failed", path);
    }
    *out = buf;
    *out_len = n;
    *total = fsz;
    return VAE_OK;
}

static vae_status idx_read_impl(const char *path, int want_ndim, int64_t max_items,
                                size_t max_bytes, int header_only, vae_idx *out, vae_error *err) {
    if (!path || !out) return vae_error_set(err, VAE_ERR_NULL, "idx: NULL argument");
    if (want_ndim != 1 && want_ndim != 3)
        return vae_error_set(err, VAE_ERR_ARG, "idx: want_ndim must be 1 or 3, got %d", want_ndim);
    if (max_items < 0)
        return vae_error_set(err, VAE_ERR_ARG, "idx: max_items must be >= 0, got %lld",
                             (long long)max_items);
    if (max_bytes == 0) max_bytes = VAE_INFLATE_DEFAULT_MAX;
    size_t header = 4 + 4 * (size_t)want_ndim;
    FILE *f = NULL;
    uint64_t fsz = 0;
    vae_status st = vae__open_regular(path, "idx", &f, &fsz, err);
    if (st) return st;
    uint8_t *buf = NULL;
    size_t len = 0;
    uint64_t total = 0;
    /* pass 1: the header alone (a few bytes, whatever the file claims) */
    int gz = 0;
    st = idx_read_prefix(f, fsz, path, header, 1, 0, &buf, &len, &total, &gz, err);
    int64_t shape[3];
    uint64_t numel = 0;
    if (!st) st = idx_header(buf, len, path, want_ndim, shape, &numel, &header, err);
    free(buf);
    buf = NULL;
    /* a raw file's size is known: check it against the header before reading anything more */
    if (!st && !gz && fsz != header + numel)
        st = idx_size_error(path, want_ndim, shape, numel, fsz < header ? 0 : fsz - header, err);
    if (st || header_only) {
        fclose(f);
        if (!st) {
            memset(out, 0, sizeof *out);
            out->ndim = want_ndim;
            for (int i = 0; i < 3; i++) out->shape[i] = shape[i];
            out->numel = (int64_t)numel;
        }
        return st;
    }
    /* pass 2: only the items that will be used, and never past the limit */
    uint64_t row = numel / (uint64_t)shape[0];
    uint64_t items = max_items && (uint64_t)max_items < (uint64_t)shape[0] ? (uint64_t)max_items
                                                                           : (uint64_t)shape[0];
    uint64_t need = items * row;
    if (need > max_bytes) {
        fclose(f);
        return vae_error_set(err, VAE_ERR_OOM,
                             "idx: %s: %llu items of %llu bytes need %llu bytes, more than the "
                             "limit of %zu bytes",
                             path, (unsigned long long)items, (unsigned long long)row,
                             (unsigned long long)need, max_bytes);
    }
    if (fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return vae_error_set(err, VAE_ERR_IO, "idx: %s: seek failed", path);
    }
    st = idx_read_prefix(f, fsz, path, header + (size_t)need, 0, items < (uint64_t)shape[0], &buf,
                         &len, &total, &gz, err);
    fclose(f);
    if (st) return st;
    /* the whole content must be what the header promises; a decode that would run past it stopped above */
    uint64_t full = header + numel;
    if (total != full && !(items < (uint64_t)shape[0] && total == UINT64_MAX)) {
        free(buf);
        if (total == UINT64_MAX)
            return vae_error_set(err, VAE_ERR_FORMAT,
                                 "idx: %s: the content is longer than the %llu bytes its header "
                                 "promises",
                                 path, (unsigned long long)full);
        return idx_size_error(path, want_ndim, shape, numel, total - header, err);
    }
    if (len <
        header + need) { /* a shorter prefix than asked (a truncated file with items capped) */
        free(buf);
        return idx_size_error(path, want_ndim, shape, numel, len - header, err);
    }
    memmove(buf, buf + header, (size_t)need);
    uint8_t *data = realloc(buf, need ? (size_t)need : 1);
    if (!data) data = buf;
    out->ndim = want_ndim;
    shape[0] = (int64_t)items;
    for (int i = 0; i < 3; i++) out->shape[i] = shape[i];
    out->numel = (int64_t)need;
    out->data = data;
    return VAE_OK;
}

vae_status vae_idx_read_n(const char *path, int want_ndim, int64_t max_items, size_t max_bytes,
                          vae_idx *out, vae_error *err) {
    return idx_read_impl(path, want_ndim, max_items, max_bytes, 0, out, err);
}

vae_status vae_idx_read(const char *path, int want_ndim, vae_idx *out, vae_error *err) {
    return idx_read_impl(path, want_ndim, 0, 0, 0, out, err);
}

vae_status vae_idx_read_header(const char *path, int want_ndim, vae_idx *out, vae_error *err) {
    return idx_read_impl(path, want_ndim, 0, 0, 1, out, err);
}

void vae_idx_free(vae_idx *x) {
    if (!x) return;
    free(x->data);
    memset(x, 0, sizeof *x);
}
