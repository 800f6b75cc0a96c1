/* png.c - PNG encoder/decoder (ISO/IEC 15948): signature, IHDR, IDAT..., IEND, each chunk with a
 * CRC-32 over its type and data; image data is a zlib stream of rows, each prefixed by its filter
 * type. */
#include "tensor/io/png.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/io/inflate.h"
#include "tensor/atomic_file.h"
#include "tensor/crc32.h"

static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
static const uint8_t color_type_of[5] = {0, 0, 4, 2, 6}; /* by channel count */
#define IDAT_CHUNK ((size_t)1 << 20)

static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static uint32_t get32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Append one chunk at out + *pos (space already reserved). */
static void put_chunk(uint8_t *out, size_t *pos, const char *type, const uint8_t *data,
                      size_t len) {
    uint8_t *p = out + *pos;
    put32(p, (uint32_t)len);
    memcpy(p + 4, type, 4);
    if (len) memcpy(p + 8, data, len);
    put32(p + 8 + len, vae_crc32(0, p + 4, len + 4));
    *pos += len + 12;
}

static int abs_sum(const uint8_t *row, size_t n) {
    int s = 0;
    for (size_t i = 0; i < n; i++) s += row[i] < 128 ? row[i] : 256 - row[i];
    return s;
}

/* Check width/height/channels and return the raw (filtered) size h * (1 + w * c), or 0 if too
 * large. */
static size_t raw_size(int w, int h, int c) {
    size_t row = (size_t)w * (size_t)c;
    if (row > VAE_PNG_MAX_BYTES / (size_t)h) return 0;
    return (size_t)h * (row + 1);
}

vae_status vae_png_encode(const uint8_t *pixels, int width, int height, int channels, uint8_t **out,
                          size_t *out_len, vae_error *err) {
    if (!pixels || !out || !out_len)
        return vae_error_set(err, VAE_ERR_NULL, "png_encode: NULL argument");
    if (width < 1 || height < 1 || width > VAE_PNG_MAX_DIM || height > VAE_PNG_MAX_DIM ||
        channels < 1 || channels > 4)
        return vae_error_set(err, VAE_ERR_ARG, "png_encode: bad image %dx%d with %d channels",
                             width, height, channels);
    size_t rawn = raw_size(width, height, channels), stride = (size_t)width * (size_t)channels;
    if (!rawn)
        return vae_error_set(err, VAE_ERR_ARG, "png_encode: image %dx%dx%d too large", width,
                             height, channels);
    uint8_t *raw = malloc(rawn), *cand = malloc(2 * stride);
    if (!raw || !cand) {
        free(raw);
        free(cand);
        return vae_error_set(err, VAE_ERR_OOM, "png_encode: out of memory");
    }
    size_t bpp = (size_t)channels;
    for (int y = 0; y < height; y++) {
        const uint8_t *row = pixels + (size_t)y * stride, *up = y ? row - stride : NULL;
        uint8_t *dst = raw + (size_t)y * (stride + 1);
        uint8_t *sub = cand, *upf = cand + stride;
        for (size_t i = 0; i < stride; i++) {
            sub[i] = (uint8_t)(row[i] - (i >= bpp ? row[i - bpp] : 0));
            upf[i] = (uint8_t)(row[i] - (up ? up[i] : 0));
        }
        int s0 = abs_sum(row, stride), s1 = abs_sum(sub, stride), s2 = abs_sum(upf, stride);
        int f = s0 <= s1 && s0 <= s2 ? 0 : s1 <= s2 ? 1 : 2;
        dst[0] = (uint8_t)f;
        memcpy(dst + 1, f == 0 ? row : f == 1 ? sub : upf, stride);
    }
    free(cand);
    uint8_t *z = NULL;
    size_t zn = 0;
    vae_status st = vae_zlib_compress(raw, rawn, &z, &zn, err);
    free(raw);
    if (st) return st;
    size_t nidat = zn / IDAT_CHUNK + 1, total = 8 + 25 + zn + 12 * nidat + 12;
    uint8_t *png = malloc(total);
    if (!png) {
        free(z);
        return vae_error_set(err, VAE_ERR_OOM, "png_encode: out of memory");
    }
    uint8_t ihdr[13];
    put32(ihdr, (uint32_t)width);
    put32(ihdr + 4, (uint32_t)height);
    ihdr[8] = 8; /* bit depth */
    ihdr[9] = color_type_of[channels];
    ihdr[10] = ihdr[11] = ihdr[12] = 0; /* deflate, adaptive filtering, no interlace */
    size_t pos = 8;
    memcpy(png, png_sig, 8);
    put_chunk(png, &pos, "IHDR", ihdr, 13);
    for (size_t off = 0; off < zn || off == 0; off += IDAT_CHUNK) {
        size_t k = zn - off < IDAT_CHUNK ? zn - off : IDAT_CHUNK;
        put_chunk(png, &pos, "IDAT", z + off, k);
        if (off + k >= zn) break;
    }
    put_chunk(png, &pos, "IEND", NULL, 0);
    free(z);
    *out = png;
    *out_len = pos;
    return VAE_OK;
}

vae_status vae_png_write(const char *path, const uint8_t *pixels, int width, int height,
                         int channels, vae_error *err) {
    if (!path) return vae_error_set(err, VAE_ERR_NULL, "png_write: NULL path");
    uint8_t *png;
    size_t n;
    vae_error e = {0};
    vae_status st = vae_png_encode(pixels, width, height, channels, &png, &n, &e);
    if (st) return vae_error_set(err, st, "%s: %s", path, e.msg);
    st = vae_write_file_atomic(path, png, n, err);
    free(png);
    return st;
}

static uint8_t paeth(int a, int b, int c) {
    int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    return (uint8_t)(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
}

/* Undo the row filters of raw (h rows of 1 + stride bytes) into pix (h * stride). -1 on a bad
 * filter type. */
static int unfilter(const uint8_t *raw, uint8_t *pix, size_t h, size_t stride, size_t bpp,
                    int *bad_row) {
    for (size_t y = 0; y < h; y++) {
        const uint8_t *src = raw + y * (stride + 1) + 1;
        uint8_t *row = pix + y * stride;
        const uint8_t *up = y ? row - stride : NULL;
        int f = src[-1];
        for (size_t i = 0; i < stride; i++) {
            int a = i >= bpp ? row[i - bpp] : 0, b = up ? up[i] : 0,
                c = (up && i >= bpp) ? up[i - bpp] : 0;
            switch (f) {
            case 0:
                row[i] = src[i];
                break;
            case 1:
                row[i] = (uint8_t)(src[i] + a);
                break;
            case 2:
                row[i] = (uint8_t)(src[i] + b);
                break;
            case 3:
                row[i] = (uint8_t)(src[i] + ((a + b) >> 1));
                break;
            case 4:
                row[i] = (uint8_t)(src[i] + paeth(a, b, c));
                break;
            default:
                *bad_row = (int)y;
                return -1;
            }
        }
    }
    return 0;
}

#define PFAIL(code, ...) vae_error_set(err, code, __VA_ARGS__)

vae_status vae_png_decode(const uint8_t *buf, size_t len, vae_png_image *out, vae_error *err) {
    if ((!buf && len) || !out) return vae_error_set(err, VAE_ERR_NULL, "png: NULL argument");
    if (len < 8 || memcmp(buf, png_sig, 8) != 0)
        return PFAIL(VAE_ERR_FORMAT, "png: not a PNG file (bad signature)");
    size_t pos = 8, zcap = 0, zn = 0;
    uint8_t *z = NULL;
    int have_ihdr = 0, have_iend = 0,
        idat_state = 0; /* 0 none yet, 1 in the IDAT run, 2 after it */
    uint32_t w = 0, h = 0;
    int channels = 0;
    vae_status st = VAE_OK;
    while (!have_iend && st == VAE_OK) {
        if (len - pos < 12) {
            st = PFAIL(VAE_ERR_FORMAT, "png: truncated (chunk header at byte %zu, file has %zu)",
                       pos, len);
            break;
        }
        uint32_t clen = get32(buf + pos);
        const uint8_t *type = buf + pos + 4, *data = buf + pos + 8;
        char tname[5] = {0};
        for (int i = 0; i < 4; i++)
            tname[i] = (type[i] >= 'A' && type[i] <= 'z') ? (char)type[i] : '?';
        if (clen > 0x7FFFFFFFu || clen > len - pos - 12) {
            st = PFAIL(VAE_ERR_FORMAT, "png: chunk '%s' length %u runs past the end of the file",
                       tname, clen);
            break;
        }
        if (get32(data + clen) != vae_crc32(0, type, (size_t)clen + 4)) {
            st = PFAIL(VAE_ERR_CORRUPT, "png: CRC mismatch in chunk '%s' at byte %zu", tname, pos);
            break;
        }
        pos += (size_t)clen + 12;
        if (!have_ihdr && memcmp(type, "IHDR", 4) != 0) {
            st = PFAIL(VAE_ERR_FORMAT, "png: first chunk is '%s', not IHDR", tname);
        } else if (memcmp(type, "IHDR", 4) == 0) {
            if (have_ihdr++)
                st = PFAIL(VAE_ERR_FORMAT, "png: duplicate IHDR");
            else if (clen != 13)
                st = PFAIL(VAE_ERR_FORMAT, "png: IHDR length %u != 13", clen);
            else {
                w = get32(data);
                h = get32(data + 4);
                int depth = data[8], ct = data[9];
                channels = ct == 0 ? 1 : ct == 2 ? 3 : ct == 4 ? 2 : ct == 6 ? 4 : 0;
                if (w == 0 || h == 0 || w > VAE_PNG_MAX_DIM || h > VAE_PNG_MAX_DIM)
                    st = PFAIL(VAE_ERR_FORMAT, "png: bad or too large size %ux%u (limit %d)", w, h,
                               VAE_PNG_MAX_DIM);
                else if (ct == 3)
                    st = PFAIL(VAE_ERR_UNSUPPORTED, "png: palette images are not supported");
                else if (!channels)
                    st = PFAIL(VAE_ERR_FORMAT, "png: invalid colour type %d", ct);
                else if (depth != 8)
                    st = PFAIL(VAE_ERR_UNSUPPORTED, "png: bit depth %d is not supported (only 8)",
                               depth);
                else if (data[10] != 0 || data[11] != 0)
                    st = PFAIL(VAE_ERR_FORMAT, "png: unknown compression or filter method");
                else if (data[12] == 1)
                    st = PFAIL(VAE_ERR_UNSUPPORTED, "png: interlaced images are not supported");
                else if (data[12] != 0)
                    st = PFAIL(VAE_ERR_FORMAT, "png: invalid interlace method %d", data[12]);
                else if (!raw_size((int)w, (int)h, channels))
                    st = PFAIL(VAE_ERR_UNSUPPORTED, "png: image %ux%ux%d is too large", w, h,
                               channels);
            }
        } else if (memcmp(type, "IDAT", 4) == 0) {
            if (idat_state == 2) st = PFAIL(VAE_ERR_FORMAT, "png: IDAT chunks are not consecutive");
            idat_state = 1;
            if (st == VAE_OK && clen > zcap - zn) {
                size_t cap = zcap ? zcap : 65536;
                while (cap - zn < clen) cap *= 2; /* total <= len, so no overflow */
                uint8_t *p = realloc(z, cap);
                if (!p)
                    st = PFAIL(VAE_ERR_OOM, "png: out of memory");
                else
                    z = p, zcap = cap;
            }
            if (st == VAE_OK && clen) {
                memcpy(z + zn, data, clen);
                zn += clen;
            }
        } else if (memcmp(type, "IEND", 4) == 0) {
            have_iend = 1;
        } else if (!(type[0] & 0x20)) { /* uppercase first letter: critical */
            st = PFAIL(VAE_ERR_UNSUPPORTED, "png: unknown critical chunk '%s'", tname);
        }
        if (idat_state == 1 && memcmp(type, "IDAT", 4) != 0) idat_state = 2;
    }
    if (st == VAE_OK && !zn) st = PFAIL(VAE_ERR_FORMAT, "png: no image data (IDAT)");
    uint8_t *raw = NULL, *pix = NULL;
    size_t rawn = 0, stride = (size_t)w * (size_t)channels;
    if (st == VAE_OK) {
        size_t want = raw_size((int)w, (int)h, channels);
        vae_error e = {0};
        st = vae_zlib_decompress(z, zn, &raw, &rawn, want, &e);
        if (st == VAE_ERR_OOM && strstr(e.msg, "limit"))
            st = VAE_ERR_FORMAT; /* more data than the size says */
        if (st)
            PFAIL(st, "png: image data: %s", e.msg);
        else if (rawn != want)
            st = PFAIL(VAE_ERR_FORMAT, "png: image data has %zu bytes, %ux%u needs %zu", rawn, w, h,
                       want);
    }
    if (st == VAE_OK) {
        pix = malloc(stride * h);
        int bad_row = 0;
        if (!pix)
            st = PFAIL(VAE_ERR_OOM, "png: out of memory");
        else if (unfilter(raw, pix, h, stride, (size_t)channels, &bad_row))
            st = PFAIL(VAE_ERR_FORMAT, "png: invalid filter type %d in row %d",
                       raw[(size_t)bad_row * (stride + 1)], bad_row);
    }
    free(z);
    free(raw);
    if (st) {
        free(pix);
        return st;
    }
    out->width = (int)w;
    out->height = (int)h;
    out->channels = channels;
    out->pixels = pix;
    return VAE_OK;
}

vae_status vae_png_read(const char *path, vae_png_image *out, vae_error *err) {
    if (!path || !out) return vae_error_set(err, VAE_ERR_NULL, "png_read: NULL argument");
    uint8_t *buf;
    size_t n;
    vae_status st = vae_read_file(path, &buf, &n, VAE_PNG_MAX_BYTES, err);
    if (st) return st;
    vae_error e = {0};
    st = vae_png_decode(buf, n, out, &e);
    free(buf);
    if (st) vae_error_set(err, st, "%s: %s", path, e.msg);
    return st;
}

void vae_png_free(vae_png_image *img) {
    if (!img) return;
    free(img->pixels);
    memset(img, 0, sizeof *img);
}

vae_status vae_png_write_grid(const char *path, const float *imgs, int n, int h, int w, int c,
                              int ncols, int pad, vae_error *err) {
    if (!path || !imgs) return vae_error_set(err, VAE_ERR_NULL, "png_write_grid: NULL argument");
    if (n < 1 || h < 1 || w < 1 || (c != 1 && c != 3) || pad < 0 || pad > 1024)
        return vae_error_set(err, VAE_ERR_ARG,
                             "png_write_grid %s: bad arguments n=%d h=%d w=%d c=%d pad=%d", path, n,
                             h, w, c, pad);
    if (ncols <= 0) {
        ncols = (int)ceil(sqrt((double)n));
        while ((int64_t)ncols * ncols < n) ncols++;
    }
    if (ncols > n) ncols = n;
    int nrows = (n + ncols - 1) / ncols;
    int64_t gw = (int64_t)ncols * w + (int64_t)(ncols + 1) * pad,
            gh = (int64_t)nrows * h + (int64_t)(nrows + 1) * pad;
    if (gw > VAE_PNG_MAX_DIM || gh > VAE_PNG_MAX_DIM || !raw_size((int)gw, (int)gh, c))
        return vae_error_set(err, VAE_ERR_ARG, "png_write_grid %s: grid %lldx%lld is too large",
                             path, (long long)gw, (long long)gh);
    size_t stride = (size_t)gw * (size_t)c, cell = (size_t)h * (size_t)w * (size_t)c;
    uint8_t *pix = malloc(stride * (size_t)gh);
    if (!pix) return vae_error_set(err, VAE_ERR_OOM, "png_write_grid %s: out of memory", path);
    memset(pix, 128, stride * (size_t)gh);
    for (int i = 0; i < n; i++) {
        const float *src = imgs + (size_t)i * cell;
        size_t x0 = (size_t)pad + (size_t)(i % ncols) * (size_t)(w + pad);
        size_t y0 = (size_t)pad + (size_t)(i / ncols) * (size_t)(h + pad);
        for (int y = 0; y < h; y++) {
            uint8_t *dst = pix + (y0 + (size_t)y) * stride + x0 * (size_t)c;
            for (size_t k = 0; k < (size_t)w * (size_t)c; k++) {
                float v = src[(size_t)y * (size_t)w * (size_t)c + k];
                v = v > 0.0f ? (v < 1.0f ? v : 1.0f) : 0.0f; /* NaN fails the first test -> 0 */
                dst[k] = (uint8_t)(v * 255.0f + 0.5f);
            }
        }
    }
    vae_status st = vae_png_write(path, pix, (int)gw, (int)gh, c, err);
    free(pix);
    return st;
}
