/* inflate.c - DEFLATE decoder (RFC 1951) with the zlib (RFC 1950) and gzip (RFC 1952) wrappers, and
 * whole-file helpers. Huffman codes are decoded with a 10-bit lookup table; longer codes fall back
 * to a canonical walk. */
#include "tensor/io/inflate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tensor/crc32.h"
#include "tensor/file_read.h"
#include "tensor/io/io_internal.h"

#define FAST_BITS 10
#define MAX_BITS  15

/* Growing output buffer that never passes `max` bytes. In prefix mode (vae__gunzip_prefix) reaching `max`
 * is not an error: the buffer is filled up to `max` exactly, `full` is set and decoding stops there. */
typedef struct obuf {
    uint8_t *p;
    size_t n, cap, max;
    int prefix, full;
} obuf;

/* 0 ok, -1 the cap would be passed, -2 malloc failed. */
static int obuf_reserve(obuf *o, size_t extra) {
    if (extra > o->max - o->n) return -1;
    size_t need = o->n + extra;
    if (need <= o->cap) return 0;
    size_t cap = o->cap < 4096 ? 4096 : o->cap;
    while (cap < need) cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
    if (cap > o->max) cap = o->max;
    uint8_t *p = realloc(o->p, cap);
    if (!p) return -2;
    o->p = p;
    o->cap = cap;
    return 0;
}

/* LSB-first bit reader over in[0..len). Bits past the end read as zero but may not be consumed. */
typedef struct bitreader {
    const uint8_t *in;
    size_t len, pos;
    uint64_t buf;
    int cnt;
} bitreader;

static inline void br_refill(bitreader *b) {
    while (b->cnt <= 56 && b->pos < b->len) {
        b->buf |= (uint64_t)b->in[b->pos++] << b->cnt;
        b->cnt += 8;
    }
}

/* Read n <= 24 bits into *v; -1 when the input ends first. */
static inline int br_bits(bitreader *b, int n, uint32_t *v) {
    if (b->cnt < n) br_refill(b);
    if (b->cnt < n) return -1;
    *v = (uint32_t)(b->buf & ((1u << n) - 1));
    b->buf >>= n;
    b->cnt -= n;
    return 0;
}

/* Drop the bits of a partial byte and hand the whole bytes still buffered back to the input. */
static void br_align_unread(bitreader *b) {
    int drop = b->cnt & 7;
    b->buf >>= drop;
    b->cnt -= drop;
    b->pos -= (size_t)(b->cnt / 8);
    b->buf = 0;
    b->cnt = 0;
}

/* Canonical Huffman code: fast[] maps the next FAST_BITS input bits to (len << 9 | sym), 0 = longer
 * or invalid. */
typedef struct huff {
    uint16_t fast[1 << FAST_BITS];
    uint16_t count[MAX_BITS + 1];
    uint16_t sym[288];
} huff;

/* Build from code lengths; returns 0 complete, 1 incomplete, -1 over-subscribed. */
static int huff_build(huff *h, const uint8_t *lens, int n) {
    uint16_t offs[MAX_BITS + 2];
    memset(h->count, 0, sizeof h->count);
    for (int i = 0; i < n; i++) h->count[lens[i]]++;
    h->count[0] = 0;
    int left = 1;
    for (int len = 1; len <= MAX_BITS; len++) {
        left = (left << 1) - h->count[len];
        if (left < 0) return -1;
    }
    offs[1] = 0;
    for (int len = 1; len <= MAX_BITS; len++) offs[len + 1] = (uint16_t)(offs[len] + h->count[len]);
    for (int i = 0; i < n; i++)
        if (lens[i]) h->sym[offs[lens[i]]++] = (uint16_t)i;
    memset(h->fast, 0, sizeof h->fast);
    unsigned code = 0, idx = 0;
    for (int len = 1; len <= FAST_BITS; len++, code <<= 1)
        for (int k = 0; k < h->count[len]; k++, code++) {
            unsigned rev = 0;
            for (int j = 0; j < len; j++) rev |= ((code >> j) & 1u) << (len - 1 - j);
            uint16_t e = (uint16_t)(len << 9 | h->sym[idx++]);
            for (unsigned r = rev; r < (1u << FAST_BITS); r += 1u << len) h->fast[r] = e;
        }
    return left > 0;
}

/* Number of symbols in an incomplete code that is a single 1-bit code (0 or 1), else 2. */
static int huff_used(const huff *h) {
    int used = 0;
    for (int len = 2; len <= MAX_BITS; len++) used += h->count[len];
    return used ? 2 : h->count[1];
}

/* Next symbol; -1 invalid code, -2 input ended. */
static inline int huff_decode(bitreader *b, const huff *h) {
    if (b->cnt < MAX_BITS) br_refill(b);
    unsigned e = h->fast[b->buf & ((1u << FAST_BITS) - 1)];
    if (e) {
        int len = (int)(e >> 9);
        if (len > b->cnt) return -2;
        b->buf >>= len;
        b->cnt -= len;
        return (int)(e & 511u);
    }
    uint64_t bits = b->buf;
    int code = 0, first = 0, index = 0;
    for (int len = 1; len <= MAX_BITS; len++) {
        code |= (int)(bits & 1u);
        bits >>= 1;
        int count = h->count[len];
        if (code - first < count) {
            if (len > b->cnt) return -2;
            b->buf >>= len;
            b->cnt -= len;
            return h->sym[index + code - first];
        }
        index += count;
        first = (first + count) << 1;
        code <<= 1;
    }
    return b->cnt >= MAX_BITS ? -1 : -2;
}

static const uint16_t len_base[29] = {3,  4,  5,  6,   7,   8,   9,   10,  11, 13,
                                      15, 17, 19, 23,  27,  31,  35,  43,  51, 59,
                                      67, 83, 99, 115, 131, 163, 195, 227, 258};
static const uint8_t len_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                      2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const uint16_t dist_base[30] = {
    1,   2,   3,   4,   5,   7,    9,    13,   17,   25,   33,   49,   65,    97,    129,
    193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
static const uint8_t dist_extra[30] = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                       6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

typedef struct inflate_state {
    bitreader br;
    obuf *out;
    size_t
        start; /* output offset where this stream began: back-references may not reach before it */
    huff lit, dist;
    const char *who;
    vae_error *err;
} inflate_state;

#define FAIL(code, ...) return vae_error_set(s->err, code, __VA_ARGS__)
#define TRUNC()                                                                                    \
    FAIL(VAE_ERR_FORMAT, "%s: truncated deflate stream (input ended at byte %zu)", s->who,         \
         s->br.pos)

/* Prefix mode: clip a copy of *len bytes to what fits below max (marking the buffer full when it is clipped). */
static void prefix_clip(obuf *o, size_t *len) {
    if (o->prefix && *len > o->max - o->n) {
        *len = o->max - o->n;
        o->full = 1;
    }
}

static vae_status out_fail(inflate_state *s, int rc) {
    if (rc == -1 && s->out->prefix) { /* the prefix is complete: stop, the caller checks `full` */
        s->out->full = 1;
        return VAE_ERR_OOM;
    }
    if (rc == -1)
        return vae_error_set(s->err, VAE_ERR_OOM, "%s: output exceeds the limit of %zu bytes",
                             s->who, s->out->max);
    return vae_error_set(s->err, VAE_ERR_OOM, "%s: out of memory", s->who);
}

static vae_status inflate_stored(inflate_state *s) {
    br_align_unread(&s->br);
    bitreader *b = &s->br;
    if (b->len - b->pos < 4) TRUNC();
    unsigned len = b->in[b->pos] | (unsigned)b->in[b->pos + 1] << 8;
    unsigned nlen = b->in[b->pos + 2] | (unsigned)b->in[b->pos + 3] << 8;
    b->pos += 4;
    if (len != (~nlen & 0xFFFFu))
        FAIL(VAE_ERR_FORMAT, "%s: stored block length %u does not match its complement %u", s->who,
             len, nlen);
    if (b->len - b->pos < len) TRUNC();
    size_t keep = len;
    prefix_clip(s->out, &keep);
    int rc = obuf_reserve(s->out, keep);
    if (rc) return out_fail(s, rc);
    if (keep) memcpy(s->out->p + s->out->n, b->in + b->pos, keep);
    s->out->n += keep;
    b->pos += len;
    if (s->out->full) return out_fail(s, -1);
    return VAE_OK;
}

static vae_status inflate_codes(inflate_state *s) {
    bitreader *b = &s->br;
    obuf *o = s->out;
    for (;;) {
        int sym = huff_decode(b, &s->lit);
        if (sym < 0) {
            if (sym == -2) TRUNC();
            FAIL(VAE_ERR_FORMAT, "%s: invalid literal/length code", s->who);
        }
        if (sym < 256) {
            if (o->n == o->cap) {
                int rc = obuf_reserve(o, 1);
                if (rc) return out_fail(s, rc);
            }
            o->p[o->n++] = (uint8_t)sym;
            continue;
        }
        if (sym == 256) return VAE_OK;
        sym -= 257;
        if (sym >= 29) FAIL(VAE_ERR_FORMAT, "%s: invalid length symbol %d", s->who, sym + 257);
        uint32_t extra, dextra;
        if (br_bits(b, len_extra[sym], &extra)) TRUNC();
        size_t len = len_base[sym] + extra;
        int dsym = huff_decode(b, &s->dist);
        if (dsym < 0) {
            if (dsym == -2) TRUNC();
            FAIL(VAE_ERR_FORMAT, "%s: invalid distance code", s->who);
        }
        if (dsym >= 30) FAIL(VAE_ERR_FORMAT, "%s: invalid distance symbol %d", s->who, dsym);
        if (br_bits(b, dist_extra[dsym], &dextra)) TRUNC();
        size_t dist = dist_base[dsym] + dextra;
        if (dist > o->n - s->start)
            FAIL(VAE_ERR_FORMAT, "%s: distance %zu too far back (only %zu bytes decoded)", s->who,
                 dist, o->n - s->start);
        prefix_clip(o, &len);
        int rc = obuf_reserve(o, len);
        if (rc) return out_fail(s, rc);
        uint8_t *d = o->p + o->n;
        const uint8_t *src = d - dist;
        if (dist >= len)
            memcpy(d, src, len);
        else
            for (size_t i = 0; i < len; i++)
                d[i] = src[i]; /* overlapping copy repeats the pattern */
        o->n += len;
        if (o->full) return out_fail(s, -1);
    }
}

static vae_status inflate_fixed_tables(inflate_state *s) {
    uint8_t lens[288];
    memset(lens, 8, 144);
    memset(lens + 144, 9, 112);
    memset(lens + 256, 7, 24);
    memset(lens + 280, 8, 8);
    huff_build(&s->lit, lens, 288);
    memset(lens, 5, 30);
    huff_build(&s->dist, lens, 30); /* symbols 30, 31 are left out; they are invalid anyway */
    return VAE_OK;
}

static vae_status inflate_dynamic_tables(inflate_state *s) {
    static const uint8_t order[19] = {16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                      11, 4,  12, 3, 13, 2, 14, 1, 15};
    bitreader *b = &s->br;
    uint32_t hlit, hdist, hclen, v;
    if (br_bits(b, 5, &hlit) || br_bits(b, 5, &hdist) || br_bits(b, 4, &hclen)) TRUNC();
    hlit += 257;
    hdist += 1;
    hclen += 4;
    if (hlit > 286 || hdist > 30)
        FAIL(VAE_ERR_FORMAT,
             "%s: dynamic block has too many codes (%u literal/length, %u distance)", s->who,
             (unsigned)hlit, (unsigned)hdist);
    uint8_t lens[286 + 30];
    memset(lens, 0, 19);
    for (uint32_t i = 0; i < hclen; i++) {
        if (br_bits(b, 3, &v)) TRUNC();
        lens[order[i]] = (uint8_t)v;
    }
    int rc = huff_build(&s->lit, lens, 19);
    if (rc != 0)
        FAIL(VAE_ERR_FORMAT, "%s: %s code-length code", s->who,
             rc < 0 ? "over-subscribed" : "incomplete");
    for (uint32_t i = 0; i < hlit + hdist;) {
        int sym = huff_decode(b, &s->lit);
        if (sym == -2) TRUNC();
        if (sym < 0) FAIL(VAE_ERR_FORMAT, "%s: invalid code-length code", s->who);
        if (sym < 16) {
            lens[i++] = (uint8_t)sym;
            continue;
        }
        uint8_t val = 0;
        uint32_t rep;
        if (sym == 16) {
            if (i == 0) FAIL(VAE_ERR_FORMAT, "%s: repeat code with no previous length", s->who);
            val = lens[i - 1];
            if (br_bits(b, 2, &rep)) TRUNC();
            rep += 3;
        } else if (sym == 17) {
            if (br_bits(b, 3, &rep)) TRUNC();
            rep += 3;
        } else {
            if (br_bits(b, 7, &rep)) TRUNC();
            rep += 11;
        }
        if (rep > hlit + hdist - i)
            FAIL(VAE_ERR_FORMAT, "%s: code-length repeat runs past the end", s->who);
        memset(lens + i, val, rep);
        i += rep;
    }
    if (lens[256] == 0) FAIL(VAE_ERR_FORMAT, "%s: dynamic block has no end-of-block code", s->who);
    /* Like zlib, an incomplete code is accepted only when it is a single 1-bit code (or, for
     * distances, empty). */
    rc = huff_build(&s->lit, lens, (int)hlit);
    if (rc < 0) FAIL(VAE_ERR_FORMAT, "%s: over-subscribed literal/length code", s->who);
    if (rc > 0 && huff_used(&s->lit) != 1)
        FAIL(VAE_ERR_FORMAT, "%s: incomplete literal/length code", s->who);
    rc = huff_build(&s->dist, lens + hlit, (int)hdist);
    if (rc < 0) FAIL(VAE_ERR_FORMAT, "%s: over-subscribed distance code", s->who);
    if (rc > 0 && huff_used(&s->dist) > 1)
        FAIL(VAE_ERR_FORMAT, "%s: incomplete distance code", s->who);
    return VAE_OK;
}

/* Decode one DEFLATE stream from in[0..len) appending to out; *used = bytes consumed (through the
 * final byte). */
static vae_status inflate_stream(const uint8_t *in, size_t len, obuf *out, size_t *used,
                                 const char *who, vae_error *err) {
    inflate_state *s = malloc(sizeof *s);
    if (!s) return vae_error_set(err, VAE_ERR_OOM, "%s: out of memory", who);
    memset(&s->br, 0, sizeof s->br);
    s->br.in = in;
    s->br.len = len;
    s->out = out;
    s->start = out->n;
    s->who = who;
    s->err = err;
    vae_status st = VAE_OK;
    uint32_t final = 0, type;
    while (!final && st == VAE_OK) {
        if (br_bits(&s->br, 1, &final) || br_bits(&s->br, 2, &type)) {
            st = vae_error_set(err, VAE_ERR_FORMAT,
                               "%s: truncated deflate stream (input ended at byte %zu)", who,
                               s->br.pos);
            break;
        }
        if (type == 0)
            st = inflate_stored(s);
        else if (type == 1)
            st = inflate_fixed_tables(s);
        else if (type == 2)
            st = inflate_dynamic_tables(s);
        else
            st = vae_error_set(err, VAE_ERR_FORMAT, "%s: invalid block type 3", who);
        if (st == VAE_OK && type != 0) st = inflate_codes(s);
    }
    if (st != VAE_OK && out->full) {
        *used = s->br.pos; /* prefix complete: the rest of the stream is not decoded */
        free(s);
        return VAE_OK;
    }
    if (st == VAE_OK) {
        br_align_unread(&s->br);
        *used = s->br.pos;
    }
    free(s);
    return st;
}

/* Hand a finished buffer to the caller (always non-NULL, trimmed). */
static vae_status obuf_finish(obuf *o, uint8_t **out, size_t *out_len, const char *who,
                              vae_error *err) {
    uint8_t *p = realloc(o->p, o->n ? o->n : 1);
    if (!p) p = o->p; /* a failed shrink keeps the old block */
    if (!p) return vae_error_set(err, VAE_ERR_OOM, "%s: out of memory", who);
    *out = p;
    *out_len = o->n;
    return VAE_OK;
}

static const uint8_t empty_input[1] = {0}; /* stands in for a NULL, empty input */

static int check_args(const void *in, size_t in_len, void *out, void *out_len, const char *who,
                      vae_error *err) {
    if ((!in && in_len) || !out || !out_len) {
        vae_error_set(err, VAE_ERR_NULL, "%s: NULL argument", who);
        return -1;
    }
    return 0;
}

vae_status vae_inflate(const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len,
                       size_t max_out, vae_error *err) {
    const char *who = "inflate";
    if (check_args(in, in_len, out, out_len, who, err)) return VAE_ERR_NULL;
    if (!in) in = empty_input;
    obuf o = {NULL, 0, 0, max_out ? max_out : VAE_INFLATE_DEFAULT_MAX, 0, 0};
    size_t used = 0;
    vae_status st = inflate_stream(in, in_len, &o, &used, who, err);
    if (st == VAE_OK && used != in_len)
        st = vae_error_set(err, VAE_ERR_FORMAT, "%s: %zu trailing bytes after the final block", who,
                           in_len - used);
    if (st) {
        free(o.p);
        return st;
    }
    return obuf_finish(&o, out, out_len, who, err);
}

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

vae_status vae_zlib_decompress(const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len,
                               size_t max_out, vae_error *err) {
    const char *who = "zlib";
    if (check_args(in, in_len, out, out_len, who, err)) return VAE_ERR_NULL;
    if (!in) in = empty_input;
    if (in_len < 2) return vae_error_set(err, VAE_ERR_FORMAT, "%s: truncated header", who);
    unsigned cmf = in[0], flg = in[1];
    if ((cmf & 15) != 8 || (cmf >> 4) > 7)
        return vae_error_set(err, VAE_ERR_FORMAT, "%s: not a deflate stream (CMF byte 0x%02x)", who,
                             cmf);
    if ((cmf * 256 + flg) % 31 != 0)
        return vae_error_set(err, VAE_ERR_FORMAT, "%s: header check bits are wrong", who);
    if (flg & 0x20)
        return vae_error_set(err, VAE_ERR_UNSUPPORTED, "%s: preset dictionaries are not supported",
                             who);
    obuf o = {NULL, 0, 0, max_out ? max_out : VAE_INFLATE_DEFAULT_MAX, 0, 0};
    size_t used = 0;
    vae_status st = inflate_stream(in + 2, in_len - 2, &o, &used, who, err);
    if (st == VAE_OK) {
        size_t rest = in_len - 2 - used;
        if (rest < 4)
            st = vae_error_set(err, VAE_ERR_FORMAT, "%s: truncated (missing Adler-32)", who);
        else if (rest > 4)
            st = vae_error_set(err, VAE_ERR_FORMAT, "%s: %zu trailing bytes after the stream", who,
                               rest - 4);
        else if (be32(in + 2 + used) != vae_adler32(1, o.p, o.n))
            st = vae_error_set(err, VAE_ERR_CORRUPT,
                               "%s: Adler-32 mismatch (stored %08x, computed %08x)", who,
                               be32(in + 2 + used), vae_adler32(1, o.p, o.n));
    }
    if (st) {
        free(o.p);
        return st;
    }
    return obuf_finish(&o, out, out_len, who, err);
}

/* One gzip member at in[0..len) appended to o; *used = its size in bytes. */
static vae_status gunzip_member(const uint8_t *in, size_t len, obuf *o, size_t *used,
                                const char *who, vae_error *err) {
    if (len < 10) return vae_error_set(err, VAE_ERR_FORMAT, "%s: truncated header", who);
    if (in[0] != 0x1f || in[1] != 0x8b)
        return vae_error_set(err, VAE_ERR_FORMAT, "%s: not gzip data (bad magic)", who);
    if (in[2] != 8)
        return vae_error_set(err, VAE_ERR_FORMAT, "%s: unknown compression method %u", who, in[2]);
    unsigned flg = in[3];
    if (flg & 0xE0)
        return vae_error_set(err, VAE_ERR_FORMAT, "%s: reserved header flags set (0x%02x)", who,
                             flg);
    size_t pos = 10;
    if (flg & 4) { /* FEXTRA */
        if (len - pos < 2)
            return vae_error_set(err, VAE_ERR_FORMAT, "%s: truncated header (FEXTRA)", who);
        size_t xlen = in[pos] | (size_t)in[pos + 1] << 8;
        pos += 2;
        if (len - pos < xlen)
            return vae_error_set(err, VAE_ERR_FORMAT, "%s: truncated header (FEXTRA)", who);
        pos += xlen;
    }
    for (unsigned bit = 8; bit <= 16;
         bit <<= 1) { /* FNAME, then FCOMMENT: zero-terminated strings */
        if (!(flg & bit)) continue;
        const uint8_t *z = memchr(in + pos, 0, len - pos);
        if (!z)
            return vae_error_set(err, VAE_ERR_FORMAT, "%s: truncated header (%s)", who,
                                 bit == 8 ? "FNAME" : "FCOMMENT");
        pos = (size_t)(z - in) + 1;
    }
    if (flg & 2) { /* FHCRC: low 16 bits of the CRC-32 of the header so far */
        if (len - pos < 2)
            return vae_error_set(err, VAE_ERR_FORMAT, "%s: truncated header (FHCRC)", who);
        unsigned want = in[pos] | (unsigned)in[pos + 1] << 8;
        if (want != (vae_crc32(0, in, pos) & 0xFFFFu))
            return vae_error_set(err, VAE_ERR_CORRUPT, "%s: header CRC mismatch", who);
        pos += 2;
    }
    size_t start = o->n, dused = 0;
    vae_status st = inflate_stream(in + pos, len - pos, o, &dused, who, err);
    if (st) return st;
    if (o->full) return VAE_OK; /* prefix mode: the member is not checked past the prefix */
    pos += dused;
    if (len - pos < 8)
        return vae_error_set(err, VAE_ERR_FORMAT, "%s: truncated (missing CRC-32/ISIZE trailer)",
                             who);
    uint32_t crc = o->p ? vae_crc32(0, o->p + start, o->n - start) : 0; /* empty: no buffer yet */
    if (le32(in + pos) != crc)
        return vae_error_set(err, VAE_ERR_CORRUPT,
                             "%s: CRC-32 mismatch (stored %08x, computed %08x)", who,
                             le32(in + pos), crc);
    if (le32(in + pos + 4) != (uint32_t)(o->n - start))
        return vae_error_set(err, VAE_ERR_CORRUPT,
                             "%s: ISIZE mismatch (stored %u, decoded %zu bytes)", who,
                             le32(in + pos + 4), o->n - start);
    *used = pos + 8;
    return VAE_OK;
}

static vae_status gunzip_into(const uint8_t *in, size_t in_len, obuf *op, uint8_t **out,
                              size_t *out_len, const char *who, vae_error *err);

vae_status vae_gunzip(const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len,
                      size_t max_out, vae_error *err) {
    const char *who = "gunzip";
    if (check_args(in, in_len, out, out_len, who, err)) return VAE_ERR_NULL;
    if (!in) in = empty_input;
    obuf o = {NULL, 0, 0, max_out ? max_out : VAE_INFLATE_DEFAULT_MAX, 0, 0};
    return gunzip_into(in, in_len, &o, out, out_len, who, err);
}

vae_status vae__gunzip_prefix(const uint8_t *in, size_t in_len, size_t max_out, uint8_t **out,
                              size_t *out_len, int *complete, vae_error *err) {
    const char *who = "gunzip";
    if (check_args(in, in_len, out, out_len, who, err) || !complete) return VAE_ERR_NULL;
    if (!in) in = empty_input;
    obuf o = {NULL, 0, 0, max_out, 1, 0};
    vae_status st = gunzip_into(in, in_len, &o, out, out_len, who, err);
    if (st == VAE_OK) *complete = !o.full;
    return st;
}

/* Decode every member of in[0..in_len) into o (stopping at once when a prefix-mode o is full). */
static vae_status gunzip_into(const uint8_t *in, size_t in_len, obuf *op, uint8_t **out,
                              size_t *out_len, const char *who, vae_error *err) {
    obuf o = *op;
    size_t pos = 0;
    vae_status st = VAE_OK;
    do {
        size_t used = 0;
        st = gunzip_member(in + pos, in_len - pos, &o, &used, who, err);
        pos += used;
        /* Another member follows only if its magic does; zero padding (tape blocks) is allowed at
         * the end. */
    } while (st == VAE_OK && !o.full && in_len - pos >= 2 && in[pos] == 0x1f &&
             in[pos + 1] == 0x8b);
    op->full = o.full;
    for (size_t i = pos; st == VAE_OK && !o.full && i < in_len; i++)
        if (in[i] != 0)
            st = vae_error_set(err, VAE_ERR_FORMAT, "%s: trailing garbage after the last member",
                               who);
    if (st) {
        free(o.p);
        return st;
    }
    return obuf_finish(&o, out, out_len, who, err);
}

/* ----------------------------------------------------------------------------------------------------------
 */
/* Whole-file helpers */

vae_status vae_read_file(const char *path, uint8_t **data, size_t *len, size_t max_len,
                         vae_error *err) {
    if (!path || !data || !len) return vae_error_set(err, VAE_ERR_NULL, "read_file: NULL argument");
    size_t cap = max_len ? max_len : VAE_INFLATE_DEFAULT_MAX;
    FILE *f = NULL;
    uint64_t fsz = 0;
    vae_status ost = vae__open_regular(path, "read_file", &f, &fsz, err);
    if (ost) return ost;
    /* A compressed file may legitimately be larger than its content only by header overhead; allow
     * some slack. */
    if (fsz > (uint64_t)cap + (cap / 8) + 1024 || fsz > SIZE_MAX - 1) {
        fclose(f);
        return vae_error_set(err, VAE_ERR_OOM, "%s: file size %llu exceeds the limit of %zu bytes",
                             path, (unsigned long long)fsz, cap);
    }
    size_t n = (size_t)fsz;
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) {
        fclose(f);
        return vae_error_set(err, VAE_ERR_OOM, "%s: out of memory for %zu bytes", path, n);
    }
    size_t got = fread(buf, 1, n, f);
    int bad = ferror(f) || got != n;
    fclose(f);
    if (bad) {
        free(buf);
        return vae_error_set(err, VAE_ERR_IO, "%s: read failed", path);
    }
    if (n >= 2 && buf[0] == 0x1f && buf[1] == 0x8b) {
        vae_error e = {0};
        uint8_t *plain;
        size_t plen;
        vae_status st = vae_gunzip(buf, n, &plain, &plen, cap, &e);
        free(buf);
        if (st) return vae_error_set(err, st, "%s: %s", path, e.msg);
        *data = plain;
        *len = plen;
        return VAE_OK;
    }
    if (n > cap) {
        free(buf);
        return vae_error_set(err, VAE_ERR_OOM, "%s: file size %zu exceeds the limit of %zu bytes",
                             path, n, cap);
    }
    *data = buf;
    *len = n;
    return VAE_OK;
}
