/* deflate.c - a small zlib encoder (declared in inflate.h): one fixed-Huffman DEFLATE block fed by
 * a hash-chain LZ77 matcher (greedy, 32 KiB window), or stored blocks when those come out smaller
 * (random data). Good enough for PNGs of sample grids, which are mostly flat. */
#include <stdlib.h>
#include <string.h>

#include "tensor/io/inflate.h"
#include "tensor/crc32.h"

#define WBITS     15
#define WSIZE     (1 << WBITS)
#define HASH_BITS 15
#define MAX_CHAIN 48
#define MIN_MATCH 3
#define MAX_MATCH 258

static const uint16_t enc_len_base[29] = {3,  4,  5,  6,   7,   8,   9,   10,  11, 13,
                                          15, 17, 19, 23,  27,  31,  35,  43,  51, 59,
                                          67, 83, 99, 115, 131, 163, 195, 227, 258};
static const uint8_t enc_len_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                          2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};

/* LSB-first bit writer into a growing buffer; `fail` latches an allocation failure. */
typedef struct bitwriter {
    uint8_t *p;
    size_t n, cap;
    uint64_t acc;
    int cnt, fail;
} bitwriter;

static int bw_grow(bitwriter *w, size_t extra) {
    if (w->fail) return -1;
    if (extra <= w->cap - w->n) return 0;
    if (extra > SIZE_MAX / 2 - w->n) return w->fail = 1, -1;
    size_t cap = w->cap ? w->cap : 1024;
    while (cap - w->n < extra) cap *= 2;
    uint8_t *p = realloc(w->p, cap);
    if (!p) return w->fail = 1, -1;
    w->p = p;
    w->cap = cap;
    return 0;
}

static void bw_put(bitwriter *w, uint32_t bits, int n) {
    w->acc |= (uint64_t)bits << w->cnt;
    w->cnt += n;
    if (w->cnt >= 32) {
        if (bw_grow(w, 8)) return;
        for (; w->cnt >= 8; w->cnt -= 8, w->acc >>= 8) w->p[w->n++] = (uint8_t)w->acc;
    }
}

static void bw_flush(bitwriter *w) {
    if (bw_grow(w, 8)) return;
    for (; w->cnt > 0; w->cnt -= 8, w->acc >>= 8) w->p[w->n++] = (uint8_t)w->acc;
    w->cnt = 0;
    w->acc = 0;
}

static void bw_bytes(bitwriter *w, const void *src, size_t k) {
    if (bw_grow(w, k)) return;
    if (k) memcpy(w->p + w->n, src, k);
    w->n += k;
}

static uint32_t reverse_bits(uint32_t code, int len) {
    uint32_t r = 0;
    for (int i = 0; i < len; i++) r |= ((code >> i) & 1u) << (len - 1 - i);
    return r;
}

/* Fixed literal/length code of RFC 1951 3.2.6, bit-reversed for the LSB-first writer. */
static void put_fixed_sym(bitwriter *w, int sym) {
    if (sym < 144)
        bw_put(w, reverse_bits(0x30u + (uint32_t)sym, 8), 8);
    else if (sym < 256)
        bw_put(w, reverse_bits(0x190u + (uint32_t)(sym - 144), 9), 9);
    else if (sym < 280)
        bw_put(w, reverse_bits((uint32_t)(sym - 256), 7), 7);
    else
        bw_put(w, reverse_bits(0xC0u + (uint32_t)(sym - 280), 8), 8);
}

static void put_match(bitwriter *w, const uint8_t *len_sym, size_t len, size_t dist) {
    int ls = len_sym[len];
    put_fixed_sym(w, 257 + ls);
    if (enc_len_extra[ls]) bw_put(w, (uint32_t)(len - enc_len_base[ls]), enc_len_extra[ls]);
    uint32_t d = (uint32_t)dist - 1, code, nextra = 0, base;
    if (d < 4) {
        code = d;
        base = d + 1;
    } else {
        int lg = 31 - __builtin_clz(d);
        code = 2u * (uint32_t)lg + ((d >> (lg - 1)) & 1u);
        nextra = (uint32_t)lg - 1;
        base = (1u << lg | (code & 1u) << (lg - 1)) + 1;
    }
    bw_put(w, reverse_bits(code, 5), 5);
    if (nextra) bw_put(w, (uint32_t)dist - base, (int)nextra);
}

static uint32_t hash3(const uint8_t *p) {
    return (((uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2]) * 2654435761u) >> (32 - HASH_BITS);
}

/* One final fixed-Huffman block for in[0..n). Returns 0, or -1 on allocation failure. */
static int deflate_fixed(bitwriter *w, const uint8_t *in, size_t n) {
    int64_t *head = malloc(sizeof(int64_t) * (1u << HASH_BITS));
    int64_t *prev = malloc(sizeof(int64_t) * WSIZE);
    if (!head || !prev) {
        free(head);
        free(prev);
        return -1;
    }
    for (size_t i = 0; i < (1u << HASH_BITS); i++) head[i] = -1;
    uint8_t len_sym[MAX_MATCH + 1];
    for (int s = 0, len = MIN_MATCH; len <= MAX_MATCH; len++) {
        while (s < 28 && enc_len_base[s + 1] <= len) s++;
        len_sym[len] = (uint8_t)s;
    }
    bw_put(w, 1u | 1u << 1, 3); /* BFINAL = 1, BTYPE = 01 (fixed) */
    size_t i = 0;
    while (i < n && !w->fail) {
        size_t best = 0, bestd = 0;
        if (n - i >= MIN_MATCH) {
            uint32_t h = hash3(in + i);
            size_t maxlen = n - i < MAX_MATCH ? n - i : MAX_MATCH;
            int64_t cand = head[h];
            for (int chain = MAX_CHAIN;
                 cand >= 0 && (size_t)(i - (size_t)cand) <= WSIZE && chain > 0; chain--) {
                const uint8_t *a = in + i, *b = in + cand;
                size_t k = 0;
                while (k < maxlen && a[k] == b[k]) k++;
                if (k > best) {
                    best = k;
                    bestd = i - (size_t)cand;
                    if (k == maxlen) break;
                }
                cand = prev[cand & (WSIZE - 1)];
            }
            prev[i & (WSIZE - 1)] = head[h];
            head[h] = (int64_t)i;
        }
        if (best >= MIN_MATCH) {
            put_match(w, len_sym, best, bestd);
            for (size_t j = i + 1; j < i + best && n - j >= MIN_MATCH; j++) {
                uint32_t h = hash3(in + j);
                prev[j & (WSIZE - 1)] = head[h];
                head[h] = (int64_t)j;
            }
            i += best;
        } else {
            put_fixed_sym(w, in[i]);
            i++;
        }
    }
    put_fixed_sym(w, 256);
    bw_flush(w);
    free(head);
    free(prev);
    return w->fail ? -1 : 0;
}

static void deflate_stored(bitwriter *w, const uint8_t *in, size_t n) {
    size_t off = 0;
    do {
        size_t k = n - off < 65535 ? n - off : 65535;
        uint8_t hdr[5] = {(uint8_t)(off + k == n), (uint8_t)k, (uint8_t)(k >> 8), (uint8_t)~k,
                          (uint8_t)(~k >> 8)};
        bw_bytes(w, hdr, 5);
        bw_bytes(w, in + off, k);
        off += k;
    } while (off < n);
}

vae_status vae_zlib_compress(const uint8_t *in, size_t n, uint8_t **out, size_t *out_len,
                             vae_error *err) {
    if ((!in && n) || !out || !out_len)
        return vae_error_set(err, VAE_ERR_NULL, "zlib_compress: NULL argument");
    bitwriter w = {0};
    static const uint8_t zhdr[2] = {
        0x78, 0x9C}; /* deflate, 32 KiB window, default level; check bits ok */
    bw_bytes(&w, zhdr, 2);
    int rc = deflate_fixed(&w, in, n);
    size_t stored = n + 5 * (n / 65535 + 1);
    if (rc == 0 && w.n - 2 > stored) { /* incompressible: start over with stored blocks */
        w.n = 2;
        deflate_stored(&w, in, n);
    }
    uint32_t a = vae_adler32(1, in, n);
    uint8_t trailer[4] = {(uint8_t)(a >> 24), (uint8_t)(a >> 16), (uint8_t)(a >> 8), (uint8_t)a};
    bw_bytes(&w, trailer, 4);
    if (rc || w.fail) {
        free(w.p);
        return vae_error_set(err, VAE_ERR_OOM, "zlib_compress: out of memory (%zu input bytes)", n);
    }
    *out = w.p;
    *out_len = w.n;
    return VAE_OK;
}
