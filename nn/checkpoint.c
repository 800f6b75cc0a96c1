/* Checkpoints: streaming atomic writer, whole-file validating reader. Format: see checkpoint.h. */
#include "checkpoint.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tensor/atomic_file.h"
#include "tensor/crc32.h"
#include "tensor/file_read.h"

static const unsigned char MAGIC[8] = {'V', 'A', 'E', 'C', 'K', 'P', 'T', '\n'};
enum { PREAMBLE = 32, HEADER_END = 128, NHYPER = 8 };

static int host_le(void) {
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

static void put_u32(unsigned char *b, uint32_t v) {
    for (int i = 0; i < 4; i++) b[i] = (unsigned char)(v >> (8 * i));
}
static void put_u64(unsigned char *b, uint64_t v) {
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get_u32(const unsigned char *b) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = v << 8 | b[i];
    return v;
}
static uint64_t get_u64(const unsigned char *b) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | b[i];
    return v;
}
static double get_f64(const unsigned char *b) {
    uint64_t u = get_u64(b);
    double d;
    memcpy(&d, &u, 8);
    return d;
}

/* Copy n elements of size es between host order and little-endian (the same operation both ways). */
static void copy_le(void *dst, const void *src, int64_t n, size_t es) {
    if (host_le()) {
        memcpy(dst, src, (size_t)n * es);
        return;
    }
    const unsigned char *s = src;
    unsigned char *d = dst;
    for (int64_t i = 0; i < n; i++)
        for (size_t k = 0; k < es; k++) d[(size_t)i * es + k] = s[(size_t)i * es + es - 1 - k];
}

/* ------------------------------------------------------------------------------------------------ writing */

typedef struct writer {
    FILE *f;
    uint32_t crc;
    int ok;
} writer;

static void w_bytes(writer *w, const void *p, size_t n) {
    if (!w->ok || n == 0) return;
    if (fwrite(p, 1, n, w->f) != n) w->ok = 0;
    w->crc = vae_crc32(w->crc, p, n);
}
static void w_u32(writer *w, uint32_t v) {
    unsigned char b[4];
    put_u32(b, v);
    w_bytes(w, b, 4);
}
static void w_u64(writer *w, uint64_t v) {
    unsigned char b[8];
    put_u64(b, v);
    w_bytes(w, b, 8);
}
static void w_f64(writer *w, double d) {
    uint64_t u;
    memcpy(&u, &d, 8);
    w_u64(w, u);
}
/* n elements of size es from src (NULL: zeros), little-endian, through a small staging buffer. */
static void w_data(writer *w, const void *src, int64_t n, size_t es) {
    unsigned char stage[4096];
    int64_t per = (int64_t)(sizeof stage / es);
    for (int64_t i = 0; i < n; i += per) {
        int64_t k = n - i < per ? n - i : per;
        if (src)
            copy_le(stage, (const char *)src + (size_t)i * es, k, es);
        else
            memset(stage, 0, (size_t)k * es);
        w_bytes(w, stage, (size_t)k * es);
    }
}

/* Total file length, or 0 when it would overflow. */
static uint64_t file_length(const vae_params *p, int nslots, size_t meta_len) {
    uint64_t len = HEADER_END, es = vae_dtype_size(vae_params_dtype(p));
    if (meta_len > UINT64_MAX / 2) return 0;
    len += meta_len + 4;
    for (int i = 0; i < vae_params_count(p); i++) {
        const vae_tensor *t = vae_params_get(p, i);
        uint64_t data = (uint64_t)vae_numel(t) * es * (uint64_t)(1 + nslots);
        len += 4 + strlen(t->name) + 8 + 8 * (uint64_t)t->ndim + data;
        if (len > UINT64_MAX / 4) return 0;
    }
    return len;
}

static void write_all(writer *w, const vae_params *p, const vae_optim *o, int nslots,
                      const void *meta, size_t meta_len, uint64_t len) {
    unsigned char pre[PREAMBLE] = {0};
    memcpy(pre, MAGIC, 8);
    put_u32(pre + 8, VAE_CHECKPOINT_VERSION);
    put_u64(pre + 16, len);
    put_u32(pre + 24, vae_crc32(0, pre, 24));
    w_bytes(w, pre, PREAMBLE);
    const vae_optim_config none = {0};
    const vae_optim_config *c = o ? &o->cfg : &none;
    w_u64(w, o ? (uint64_t)o->step : 0);
    w_u32(w, (uint32_t)c->kind);
    w_u32(w, (uint32_t)nslots);
    const double hyper[NHYPER] = {c->lr,    c->momentum, c->nesterov ? 1 : 0, c->beta1,
                                  c->beta2, c->eps,      c->weight_decay,     0};
    for (int i = 0; i < NHYPER; i++) w_f64(w, hyper[i]);
    vae_dtype dt = vae_params_dtype(p);
    size_t es = vae_dtype_size(dt);
    w_u32(w, (uint32_t)dt);
    w_u32(w, (uint32_t)vae_params_count(p));
    w_u64(w, meta_len);
    w_bytes(w, meta, meta_len);
    for (int i = 0; i < vae_params_count(p); i++) {
        const vae_tensor *t = vae_params_get(p, i);
        size_t nl = strlen(t->name);
        w_u32(w, (uint32_t)nl);
        w_bytes(w, t->name, nl);
        w_u32(w, (uint32_t)dt);
        w_u32(w, (uint32_t)t->ndim);
        for (int d = 0; d < t->ndim; d++) w_u64(w, (uint64_t)t->shape[d]);
        int64_t n = vae_numel(t), off = vae_params_offset(p, i);
        w_data(w, vae_tensor_ptr(t), n, es);
        for (int s = 0; s < nslots; s++) {
            const char *slot =
                vae_params_slot(p, s); /* a slot the config needs but never used: zeros */
            w_data(w, slot ? slot + (size_t)off * es : NULL, n, es);
        }
    }
    w_u32(w, w->crc);
}

vae_status vae_checkpoint_save(const char *path, const vae_params *p, const vae_optim *o,
                               const void *meta, size_t meta_len, vae_error *err) {
    if (!path || !p || (meta_len && !meta))
        return vae_error_set(err, VAE_ERR_NULL, "checkpoint_save: NULL argument");
    if (o && o->params != p)
        return vae_error_set(err, VAE_ERR_ARG,
                             "checkpoint_save: the optimizer is not set up on this store");
    int nslots = o ? vae_optim_slots(&o->cfg) : 0;
    uint64_t len = file_length(p, nslots, meta_len);
    if (!len)
        return vae_error_set(err, VAE_ERR_ARG,
                             "checkpoint_save: the checkpoint would be too large");
    vae_atomic_file af;
    vae_error e = {0};
    if (vae_atomic_open(&af, path, &e))
        return vae_error_set(err, e.code, "checkpoint_save: %s", e.msg);
    writer w = {af.f, 0, 1};
    /* A failed write stays in af.f's error flag, which the commit reports. */
    write_all(&w, p, o, nslots, meta, meta_len, len);
    if (vae_atomic_commit(&af, &e)) return vae_error_set(err, e.code, "checkpoint_save: %s", e.msg);
    return VAE_OK;
}

/* ------------------------------------------------------------------------------------------------ reading */

typedef struct record {
    const char *name; /* not NUL-terminated */
    uint32_t nlen;
    int ndim;
    int64_t shape[VAE_MAX_DIMS];
    int64_t numel;
    const unsigned char *data; /* values, then nslots state blocks */
} record;

typedef struct parsed {
    unsigned char *buf;
    size_t len;
    vae_checkpoint_info info;
    const unsigned char *meta;
    record *rec;
} parsed;

static void parsed_free(parsed *f) {
    free(f->buf);
    free(f->rec);
}

static vae_status read_file(const char *path, parsed *f, vae_error *err) {
    FILE *fp = NULL;
    uint64_t size = 0;
    vae_status st = vae__open_regular(path, "checkpoint", &fp, &size, err);
    if (st) return st;
    if (size > SIZE_MAX - 1) {
        fclose(fp);
        return vae_error_set(err, VAE_ERR_FORMAT, "checkpoint: '%s' is too large", path);
    }
    f->len = (size_t)size;
    f->buf = malloc(f->len ? f->len : 1);
    if (!f->buf) {
        fclose(fp);
        return vae_error_set(err, VAE_ERR_OOM, "checkpoint: out of memory reading %zu bytes",
                             f->len);
    }
    size_t got = fread(f->buf, 1, f->len, fp);
    int bad = ferror(fp);
    fclose(fp);
    if (bad) return vae_error_set(err, VAE_ERR_IO, "checkpoint: read error on '%s'", path);
    f->len = got; /* a file that shrank while being read is judged by what was read */
    return VAE_OK;
}

/* Bounds-checked cursor over the validated byte range. */
typedef struct cursor {
    const unsigned char *p, *end;
} cursor;

static const unsigned char *take(cursor *c, uint64_t n) {
    if (n > (uint64_t)(c->end - c->p)) return NULL;
    const unsigned char *q = c->p;
    c->p += n;
    return q;
}

/* Index of the first NaN or infinity among n little-endian elements at p, or -1. */
static int64_t first_nonfinite(const unsigned char *p, int64_t n, vae_dtype dt) {
    /* the exponent bits all set means inf or NaN, in either width */
    if (dt == VAE_F32) {
        for (int64_t i = 0; i < n; i++)
            if ((get_u32(p + 4 * i) & 0x7F800000u) == 0x7F800000u) return i;
    } else {
        for (int64_t i = 0; i < n; i++)
            if ((get_u64(p + 8 * i) & 0x7FF0000000000000ull) == 0x7FF0000000000000ull) return i;
    }
    return -1;
}

#define FORMAT_FAIL(...) return vae_error_set(err, VAE_ERR_FORMAT, __VA_ARGS__)

static vae_status parse(const char *path, parsed *f, vae_error *err) {
    vae_status st = read_file(path, f, err);
    if (st) return st;
    const unsigned char *b = f->buf;
    if (f->len >= 8 && memcmp(b, MAGIC, 8) != 0)
        FORMAT_FAIL("checkpoint: '%s' is not a checkpoint (bad magic)", path);
    if (f->len < PREAMBLE)
        FORMAT_FAIL("checkpoint: '%s' is truncated: %zu bytes, the preamble alone is %d", path,
                    f->len, PREAMBLE);
    if (vae_crc32(0, b, 24) != get_u32(b + 24))
        return vae_error_set(err, VAE_ERR_CORRUPT, "checkpoint: '%s': preamble checksum mismatch",
                             path);
    uint32_t version = get_u32(b + 8), flags = get_u32(b + 12);
    if (version != VAE_CHECKPOINT_VERSION || flags != 0)
        return vae_error_set(err, VAE_ERR_VERSION,
                             "checkpoint: '%s' has format version %u (flags %#x); this "
                             "library reads version %d",
                             path, version, flags, VAE_CHECKPOINT_VERSION);
    uint64_t declared = get_u64(b + 16);
    if (declared > f->len)
        FORMAT_FAIL("checkpoint: '%s' is truncated: %zu of %llu bytes", path, f->len,
                    (unsigned long long)declared);
    if (declared < f->len)
        FORMAT_FAIL("checkpoint: '%s' has %llu trailing bytes after the checkpoint", path,
                    (unsigned long long)(f->len - declared));
    if (f->len < HEADER_END + 4)
        FORMAT_FAIL("checkpoint: '%s': declared length %zu is too small", path, f->len);
    if (vae_crc32(0, b, f->len - 4) != get_u32(b + f->len - 4))
        return vae_error_set(err, VAE_ERR_CORRUPT,
                             "checkpoint: '%s': checksum mismatch (the file is damaged)", path);

    /* From here the bytes are what the writer wrote; the checks below still guard against a hostile file. */
    vae_checkpoint_info *in = &f->info;
    in->version = version;
    in->step = (int64_t)get_u64(b + 32);
    uint32_t kind = get_u32(b + 40), nslots = get_u32(b + 44), dtype = get_u32(b + 112),
             n = get_u32(b + 116);
    uint64_t meta_len = get_u64(b + 120);
    if (in->step < 0 || kind >= VAE_OPTIM_COUNT_ || nslots > VAE_PARAMS_MAX_SLOTS ||
        dtype > VAE_F64)
        FORMAT_FAIL("checkpoint: '%s': bad header (step %lld, optimizer %u, slots %u, dtype %u)",
                    path, (long long)in->step, kind, nslots, dtype);
    vae_optim_config *c = &in->cfg;
    memset(c, 0, sizeof *c);
    c->kind = (vae_optim_kind)kind;
    c->lr = get_f64(b + 48);
    c->momentum = get_f64(b + 56);
    c->nesterov = get_f64(b + 64) != 0;
    c->beta1 = get_f64(b + 72);
    c->beta2 = get_f64(b + 80);
    c->eps = get_f64(b + 88);
    c->weight_decay = get_f64(b + 96);
    if (kind != VAE_OPTIM_NONE &&
        (vae_optim_check(c, NULL) != VAE_OK || (int)nslots != vae_optim_slots(c)))
        FORMAT_FAIL("checkpoint: '%s': invalid %s configuration or %u state slots", path,
                    vae_optim_name(c->kind), nslots);
    if (kind == VAE_OPTIM_NONE && nslots)
        FORMAT_FAIL("checkpoint: '%s': state slots without optimizer", path);
    in->nslots = (int)nslots;
    in->dtype = (vae_dtype)dtype;
    cursor cur = {b + HEADER_END, b + f->len - 4};
    f->meta = take(&cur, meta_len);
    if (!f->meta)
        FORMAT_FAIL("checkpoint: '%s': metadata length %llu is absurd", path,
                    (unsigned long long)meta_len);
    in->meta_len = (size_t)meta_len;
    /* every record takes at least 13 bytes, which bounds the allocation below by the file size */
    if (n > (uint64_t)(cur.end - cur.p) / 13 || n > (uint32_t)INT32_MAX)
        FORMAT_FAIL("checkpoint: '%s': tensor count %u is absurd", path, n);
    in->ntensors = (int)n;
    f->rec = calloc(n ? n : 1, sizeof *f->rec);
    if (!f->rec) return vae_error_set(err, VAE_ERR_OOM, "checkpoint: out of memory");
    size_t es = vae_dtype_size(in->dtype);
    for (uint32_t i = 0; i < n; i++) {
        record *r = &f->rec[i];
        const unsigned char *q = take(&cur, 4);
        r->nlen = q ? get_u32(q) : 0;
        if (!q || r->nlen == 0 || r->nlen > VAE_PARAMS_MAX_NAME ||
            !(r->name = (const char *)take(&cur, r->nlen)) || memchr(r->name, 0, r->nlen))
            FORMAT_FAIL("checkpoint: '%s': tensor %u has a bad name", path, i);
        q = take(&cur, 8);
        if (!q || get_u32(q) != dtype || get_u32(q + 4) > VAE_MAX_DIMS)
            FORMAT_FAIL("checkpoint: '%s': tensor '%.*s' has a bad dtype or ndim", path,
                        (int)r->nlen, r->name);
        r->ndim = (int)get_u32(q + 4);
        for (int d = 0; d < r->ndim; d++) {
            q = take(&cur, 8);
            r->shape[d] = q ? (int64_t)get_u64(q) : -1;
        }
        if (!vae_shape_check(NULL, "checkpoint", r->ndim, r->shape, in->dtype, &r->numel) ||
            (uint64_t)r->numel > UINT64_MAX / es / (1 + nslots) ||
            !(r->data = take(&cur, (uint64_t)r->numel * es * (1 + nslots))))
            FORMAT_FAIL("checkpoint: '%s': tensor '%.*s' has an absurd shape or runs past the end",
                        path, (int)r->nlen, r->name);
    }
    if (cur.p != cur.end)
        FORMAT_FAIL("checkpoint: '%s': %td unaccounted bytes before the trailer", path,
                    cur.end - cur.p);
    /* A valid CRC says the bytes are the writer's, not that they are usable: a NaN or an infinity in the
     * weights or the optimizer state would silently poison every later step. */
    for (uint32_t i = 0; i < n; i++) {
        const record *r = &f->rec[i];
        int64_t bad = first_nonfinite(r->data, r->numel * (int64_t)(1 + nslots), in->dtype);
        if (bad >= 0)
            FORMAT_FAIL(
                "checkpoint: '%s': tensor '%.*s' holds a non-finite value (%s element %lld)", path,
                (int)r->nlen, r->name, bad < r->numel ? "value" : "optimizer state",
                (long long)(bad % (r->numel ? r->numel : 1)));
    }
    return VAE_OK;
}

static vae_status copy_meta(const parsed *f, void **meta, void **out, vae_error *err) {
    *out = NULL;
    if (!meta || f->info.meta_len == 0) return VAE_OK;
    *out = malloc(f->info.meta_len);
    if (!*out) return vae_error_set(err, VAE_ERR_OOM, "checkpoint: out of memory for metadata");
    memcpy(*out, f->meta, f->info.meta_len);
    return VAE_OK;
}

vae_status vae_checkpoint_read_info(const char *path, vae_checkpoint_info *info, void **meta,
                                    size_t *meta_len, vae_error *err) {
    if (!path || (meta && !meta_len))
        return vae_error_set(err, VAE_ERR_NULL, "checkpoint_read_info: NULL argument");
    parsed f = {0};
    void *m = NULL;
    vae_status st = parse(path, &f, err);
    if (!st) st = copy_meta(&f, meta, &m, err);
    if (!st) {
        if (info) *info = f.info;
        if (meta) *meta = m, *meta_len = f.info.meta_len;
    }
    parsed_free(&f);
    return st;
}

/* Every check against the store and optimizer; sets match[i] = the record of the store's parameter i. */
static vae_status match_store(const char *path, const parsed *f, const vae_params *p,
                              const vae_optim *o, int *match, vae_error *err) {
    const vae_checkpoint_info *in = &f->info;
    char b1[160], b2[160];
    if (in->dtype != vae_params_dtype(p))
        return vae_error_set(err, VAE_ERR_MISMATCH,
                             "checkpoint: '%s' holds %s tensors, the store is %s", path,
                             vae_dtype_name(in->dtype), vae_dtype_name(vae_params_dtype(p)));
    if (in->ntensors != vae_params_count(p))
        return vae_error_set(err, VAE_ERR_MISMATCH,
                             "checkpoint: '%s' holds %d tensors, the store has %d", path,
                             in->ntensors, vae_params_count(p));
    for (int i = 0; i < in->ntensors; i++) {
        const vae_tensor *t = vae_params_get(p, i);
        size_t nl = strlen(t->name);
        int j = -1;
        for (int k = 0; k < in->ntensors && j < 0; k++)
            if (f->rec[k].nlen == nl && memcmp(f->rec[k].name, t->name, nl) == 0) j = k;
        if (j < 0)
            return vae_error_set(err, VAE_ERR_MISMATCH, "checkpoint: '%s' has no tensor '%s'", path,
                                 t->name);
        const record *r = &f->rec[j];
        if (r->ndim != t->ndim ||
            memcmp(r->shape, t->shape, sizeof(int64_t) * (size_t)t->ndim) != 0)
            return vae_error_set(err, VAE_ERR_MISMATCH,
                                 "checkpoint: '%s': tensor '%s' is %s in the file, %s in "
                                 "the model",
                                 path, t->name, vae_shape_str(b1, sizeof b1, r->ndim, r->shape),
                                 vae_shape_str(b2, sizeof b2, t->ndim, t->shape));
        match[i] = j;
    }
    if (o) {
        if (o->params != p)
            return vae_error_set(err, VAE_ERR_ARG,
                                 "checkpoint_load: the optimizer is not set up on this store");
        if (in->cfg.kind != o->cfg.kind)
            return vae_error_set(err, VAE_ERR_MISMATCH,
                                 "checkpoint: '%s' holds %s state, the optimizer is %s", path,
                                 vae_optim_name(in->cfg.kind), vae_optim_name(o->cfg.kind));
    }
    return VAE_OK;
}

vae_status vae_checkpoint_load(const char *path, vae_params *p, vae_optim *o, void **meta,
                               size_t *meta_len, vae_error *err) {
    if (!path || !p || (meta && !meta_len))
        return vae_error_set(err, VAE_ERR_NULL, "checkpoint_load: NULL argument");
    parsed f = {0};
    void *m = NULL;
    int *match = NULL;
    vae_status st = parse(path, &f, err);
    if (!st && !(match = malloc(sizeof *match * (size_t)(f.info.ntensors + 1))))
        st = vae_error_set(err, VAE_ERR_OOM, "checkpoint: out of memory");
    if (!st) st = match_store(path, &f, p, o, match, err);
    /* everything that can fail (slot allocation, the metadata copy) happens before the first byte is copied */
    if (!st) st = copy_meta(&f, meta, &m, err);
    if (!st && o)
        st = vae_params_ensure_slots(p, f.info.nslots, err); /* all or nothing; zero slots only */
    if (st) {
        free(m);
        free(match);
        parsed_free(&f);
        return st;
    }
    size_t es = vae_dtype_size(f.info.dtype);
    for (int i = 0; i < f.info.ntensors; i++) {
        vae_tensor *t = vae_params_get(p, i);
        const record *r = &f.rec[match[i]];
        int64_t off = vae_params_offset(p, i);
        copy_le(vae_tensor_ptr(t), r->data, r->numel, es);
        for (int s = 0; o && s < f.info.nslots; s++)
            copy_le((char *)vae_params_slot(p, s) + (size_t)off * es,
                    r->data + (size_t)(s + 1) * (size_t)r->numel * es, r->numel, es);
    }
    if (o) {
        o->cfg = f.info.cfg;
        o->step = f.info.step;
    }
    if (meta) *meta = m, *meta_len = f.info.meta_len;
    free(match);
    parsed_free(&f);
    return VAE_OK;
}
