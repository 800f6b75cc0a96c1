#include "tensor/io/idx.h"

#include <stdlib.h>
#include <string.h>

#include "tensor/io/inflate.h"

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

vae_status vae_idx_parse(const uint8_t *buf, size_t len, const char *name, int want_ndim,
                         vae_idx *out, vae_error *err) {
    if (!buf || !out) return vae_error_set(err, VAE_ERR_NULL, "idx: NULL argument");
    if (!name) name = "<memory>";
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
    int64_t shape[3] = {0, 0, 0};
    uint64_t numel = 1;
    int overflow = 0;
    for (int i = 0; i < ndim; i++) {
        uint32_t dim = be32(buf + 4 + 4 * (size_t)i);
        if (dim == 0) return vae_error_set(err, VAE_ERR_FORMAT, "idx: %s: dim %d is 0", name, i);
        shape[i] = dim;
        if (numel > UINT64_MAX / dim)
            overflow = 1;
        else
            numel *= dim;
    }
    char sbuf[64];
    vae_shape_str(sbuf, sizeof sbuf, ndim, shape);
    size_t have = len - header;
    if (overflow || numel > SIZE_MAX || numel > (uint64_t)INT64_MAX)
        return vae_error_set(err, VAE_ERR_FORMAT,
                             "idx: %s: absurd dims %s (element count overflows)", name, sbuf);
    if ((uint64_t)have < numel)
        return vae_error_set(err, VAE_ERR_FORMAT,
                             "idx: %s: truncated: dims %s need %llu data bytes, file has %zu", name,
                             sbuf, (unsigned long long)numel, have);
    if ((uint64_t)have > numel)
        return vae_error_set(err, VAE_ERR_FORMAT, "idx: %s: %llu trailing bytes after %s data",
                             name, (unsigned long long)((uint64_t)have - numel), sbuf);
    uint8_t *data = malloc((size_t)numel);
    if (!data)
        return vae_error_set(err, VAE_ERR_OOM, "idx: %s: cannot allocate %llu bytes", name,
                             (unsigned long long)numel);
    memcpy(data, buf + header, (size_t)numel);
    out->ndim = ndim;
    for (int i = 0; i < 3; i++) out->shape[i] = i < ndim ? shape[i] : 0;
    out->numel = (int64_t)numel;
    out->data = data;
    return VAE_OK;
}

vae_status vae_idx_read(const char *path, int want_ndim, vae_idx *out, vae_error *err) {
    if (!path || !out) return vae_error_set(err, VAE_ERR_NULL, "idx: NULL argument");
    uint8_t *buf = NULL;
    size_t len = 0;
    vae_status st = vae_read_file(path, &buf, &len, 0 /* 1 GiB */, err);
    if (st != VAE_OK) return st;
    st = vae_idx_parse(buf, len, path, want_ndim, out, err);
    free(buf);
    return st;
}

void vae_idx_free(vae_idx *x) {
    if (!x) return;
    free(x->data);
    memset(x, 0, sizeof *x);
}
