/* Parameter store: flat buffers that grow by doubling, stable per-parameter tensor structs re-pointed on growth. */
#include "params.h"

#include <stdlib.h>
#include <string.h>

#include "tensor/kernels.h"

#define PARAMS_ALIGN_BYTES 64

/* One parameter. Allocated on its own so that &value and &grad never move. */
typedef struct param_entry {
    vae_tensor value; /* views values[off .. off+numel) */
    vae_tensor grad;  /* views grads[off .. off+numel) */
    int64_t off;
    char name[]; /* NUL-terminated, <= VAE_PARAMS_MAX_NAME bytes */
} param_entry;

struct vae_params {
    vae_dtype dtype;
    int count, entries_cap;
    param_entry **entries;
    int64_t len; /* used elements (the end of the last parameter) */
    int64_t cap; /* allocated elements of every buffer; [len, cap) is always zero */
    void *values;
    void *grads;
    int nslots;
    void *slot[VAE_PARAMS_MAX_SLOTS];
    /* which pool thread updates and zeroes what (vae_params_owner_map): built for own.nthreads threads (0: to be
     * rebuilt); arrays of own_cap ranges */
    vae_owner_map own;
    int own_cap;
    int64_t *own_lo, *own_hi;
    int *own_who;
};

static size_t dsize(const vae_params *p) {
    return vae_dtype_size(p->dtype);
}

static void *alloc_zero(int64_t n, size_t es) {
    void *q = NULL;
    size_t bytes = (size_t)n * es;
    if (posix_memalign(&q, PARAMS_ALIGN_BYTES, bytes ? bytes : PARAMS_ALIGN_BYTES) != 0)
        return NULL;
    memset(q, 0, bytes);
    return q;
}

/* Point a parameter's tensors at its range of the current buffers. */
static void repoint(vae_params *p, param_entry *e) {
    size_t es = dsize(p);
    e->value.data = (char *)p->values + (size_t)e->off * es;
    e->grad.data = (char *)p->grads + (size_t)e->off * es;
}

vae_params *vae_params_new(vae_dtype dt) {
    if (dt != VAE_F32 && dt != VAE_F64) return NULL;
    vae_params *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->dtype = dt;
    return p;
}

void vae_params_free(vae_params *p) {
    if (!p) return;
    for (int i = 0; i < p->count; i++) free(p->entries[i]);
    free(p->entries);
    free(p->values);
    free(p->grads);
    for (int s = 0; s < p->nslots; s++) free(p->slot[s]);
    free(p->own_lo);
    free(p->own_hi);
    free(p->own_who);
    free(p);
}

/* Move every buffer to capacity new_cap (all or nothing). */
static int grow(vae_params *p, int64_t new_cap) {
    size_t es = dsize(p);
    void *nb[2 + VAE_PARAMS_MAX_SLOTS] = {0};
    void *old[2 + VAE_PARAMS_MAX_SLOTS] = {p->values, p->grads};
    for (int s = 0; s < p->nslots; s++) old[2 + s] = p->slot[s];
    int n = 2 + p->nslots;
    for (int k = 0; k < n; k++) {
        nb[k] = alloc_zero(new_cap, es);
        if (!nb[k]) {
            for (int j = 0; j < k; j++) free(nb[j]);
            return 0;
        }
        if (p->len) memcpy(nb[k], old[k], (size_t)p->len * es);
    }
    for (int k = 0; k < n; k++) free(old[k]);
    p->values = nb[0];
    p->grads = nb[1];
    for (int s = 0; s < p->nslots; s++) p->slot[s] = nb[2 + s];
    p->cap = new_cap;
    for (int i = 0; i < p->count; i++) repoint(p, p->entries[i]);
    return 1;
}

vae_tensor *vae_params_add(vae_params *p, const char *name, int ndim, const int64_t *shape,
                           vae_error *err) {
    if (!p) {
        vae_error_set(err, VAE_ERR_NULL, "params_add: NULL store");
        return NULL;
    }
    size_t nlen = name ? strlen(name) : 0;
    if (!name || nlen == 0 || nlen > VAE_PARAMS_MAX_NAME) {
        vae_error_set(err, VAE_ERR_ARG, "params_add: name must be 1..%d bytes",
                      VAE_PARAMS_MAX_NAME);
        return NULL;
    }
    if (vae_params_index(p, name) >= 0) {
        vae_error_set(err, VAE_ERR_ARG, "params_add: duplicate parameter name '%s'", name);
        return NULL;
    }
    int64_t numel;
    if (!vae_shape_check(err, "params_add", ndim, shape, p->dtype, &numel)) return NULL;
    int64_t align = PARAMS_ALIGN_BYTES / (int64_t)dsize(p);
    int64_t off = (p->len + align - 1) / align * align;
    if (numel > INT64_MAX / 4 - off || (uint64_t)(off + numel) > SIZE_MAX / 2 / dsize(p)) {
        vae_error_set(err, VAE_ERR_SHAPE, "params_add: '%s' does not fit in memory", name);
        return NULL;
    }
    int64_t end = off + numel;
    if (p->count == p->entries_cap) {
        int ncap = p->entries_cap ? 2 * p->entries_cap : 16;
        param_entry **ne = realloc(p->entries, sizeof *ne * (size_t)ncap);
        if (!ne) goto oom;
        p->entries = ne;
        p->entries_cap = ncap;
    }
    param_entry *e = calloc(1, sizeof *e + nlen + 1);
    if (!e) goto oom;
    if (end > p->cap || !p->values) {
        int64_t ncap = p->cap ? p->cap : 1024;
        while (ncap < end) ncap = ncap > INT64_MAX / 2 ? end : 2 * ncap;
        if (!grow(p, ncap)) {
            free(e);
            goto oom;
        }
    }
    memcpy(e->name, name, nlen + 1);
    e->off = off;
    vae_tensor *v = &e->value, *g = &e->grad;
    v->dtype = g->dtype = p->dtype;
    v->ndim = g->ndim = ndim;
    for (int i = 0; i < ndim; i++) v->shape[i] = g->shape[i] = shape[i];
    vae_contiguous_strides(ndim, shape, v->stride);
    memcpy(g->stride, v->stride, sizeof g->stride);
    v->root = v;
    g->root = g;
    v->flags = VAE_TF_PARAM | VAE_TF_REQUIRES_GRAD;
    g->flags = VAE_TF_PARAM;
    v->grad = g;
    v->name = g->name = e->name;
    repoint(p, e);
    p->entries[p->count++] = e;
    p->own.nthreads = 0; /* the owner map is rebuilt at its next use */
    p->len = end;
    return v;
oom:
    vae_error_set(err, VAE_ERR_OOM, "params_add: out of memory adding '%s'", name);
    return NULL;
}

void vae_params_truncate(vae_params *p, int n) {
    if (!p || n < 0 || n >= p->count) return;
    int64_t new_len = n ? p->entries[n - 1]->off + vae_numel(&p->entries[n - 1]->value) : 0;
    size_t es = dsize(p), bytes = (size_t)(p->len - new_len) * es;
    /* keep the invariant that everything past len is zero in every buffer */
    memset((char *)p->values + (size_t)new_len * es, 0, bytes);
    memset((char *)p->grads + (size_t)new_len * es, 0, bytes);
    for (int s = 0; s < p->nslots; s++) memset((char *)p->slot[s] + (size_t)new_len * es, 0, bytes);
    for (int i = n; i < p->count; i++) free(p->entries[i]);
    p->count = n;
    p->len = new_len;
    p->own.nthreads = 0;
}

vae_dtype vae_params_dtype(const vae_params *p) {
    return p ? p->dtype : VAE_F32;
}
int vae_params_count(const vae_params *p) {
    return p ? p->count : 0;
}
int64_t vae_params_flat_len(const vae_params *p) {
    return p ? p->len : 0;
}

int64_t vae_params_numel(const vae_params *p) {
    int64_t n = 0;
    for (int i = 0; p && i < p->count; i++) n += vae_numel(&p->entries[i]->value);
    return n;
}

vae_tensor *vae_params_get(const vae_params *p, int i) {
    return (p && i >= 0 && i < p->count) ? &p->entries[i]->value : NULL;
}

int64_t vae_params_offset(const vae_params *p, int i) {
    return (p && i >= 0 && i < p->count) ? p->entries[i]->off : -1;
}

int vae_params_index(const vae_params *p, const char *name) {
    if (!p || !name) return -1;
    for (int i = 0; i < p->count; i++)
        if (strcmp(p->entries[i]->name, name) == 0) return i;
    return -1;
}

vae_tensor *vae_params_find(const vae_params *p, const char *name) {
    return vae_params_get(p, vae_params_index(p, name));
}

void *vae_params_values(const vae_params *p) {
    return p && p->len ? p->values : NULL;
}
void *vae_params_grads(const vae_params *p) {
    return p && p->len ? p->grads : NULL;
}

/* A weight of at least this many elements is split by rows between the threads; a smaller parameter goes whole to
 * the thread with the fewest elements so far. */
#define OWN_ROWS_MIN 65536

/* Rows [r*t/nt, r*(t+1)/nt) of a (rows, cols) weight go to thread t: the rows that the linear op's GEMM tasks give
 * thread t (autograd/ops_fused.c: the forward's K halves, the weight gradient's row split, the input gradient's
 * column split, all pinned), so that a weight's cache lines stay with one core from the forward to Adam. Then every
 * range is snapped to whole chunks of the gradient's sum of squares (each chunk to the thread that owns its middle
 * element), so that Adam can form the gradient norm in the pass that reads the gradient (tensor/kernels.h,
 * vae_k_adam_f32): a row boundary moves by at most half a chunk, 2048 elements for stores of up to 1M (5 rows of
 * W1's 784x400 weights, whose halves are 392 rows). */
const vae_owner_map *vae_params_owner_map(vae_params *p) {
    const int nt = vae_threads_get();
    if (!p || !p->len || nt < 2 || nt > 64) return NULL;
    if (p->own.nthreads == nt) return &p->own; /* reset by vae_params_add and _truncate */
    const int need = 2 * p->count * nt; /* the row ranges in the upper half, the snapped ones below */
    if (need > p->own_cap) {
        int64_t *lo = malloc(sizeof *lo * (size_t)need), *hi = malloc(sizeof *hi * (size_t)need);
        int *who = malloc(sizeof *who * (size_t)need);
        if (!lo || !hi || !who) {
            free(lo), free(hi), free(who);
            return NULL; /* the passes then split evenly: slower on some machines, the same results */
        }
        free(p->own_lo), free(p->own_hi), free(p->own_who);
        p->own_lo = lo, p->own_hi = hi, p->own_who = who, p->own_cap = need;
    }
    int64_t load[64] = {0};
    int64_t *rlo = p->own_lo + p->count * nt, *rhi = p->own_hi + p->count * nt;
    int *rwho = p->own_who + p->count * nt;
    int c = 0;
    for (int i = 0; i < p->count; i++) {
        const param_entry *e = p->entries[i];
        /* a parameter's ranges run to the next one's offset (or the end): the padding goes with them */
        const int64_t off = i == 0 ? 0 : e->off, end = i + 1 < p->count ? p->entries[i + 1]->off : p->len;
        const vae_tensor *v = &e->value;
        const int64_t ne = vae_numel(v);
        if (v->ndim == 2 && ne >= OWN_ROWS_MIN && v->shape[0] >= nt) {
            const int64_t rows = v->shape[0], cols = v->shape[1];
            for (int t = 0; t < nt; t++) {
                rlo[c] = t == 0 ? off : e->off + rows * t / nt * cols;
                rhi[c] = t + 1 == nt ? end : e->off + rows * (t + 1) / nt * cols;
                rwho[c] = t;
                load[t] += rhi[c] - rlo[c];
                c++;
            }
        } else {
            int t = 0;
            for (int u = 1; u < nt; u++)
                if (load[u] < load[t]) t = u;
            rlo[c] = off, rhi[c] = end, rwho[c] = t;
            load[t] += end - off;
            c++;
        }
    }
    /* The row ranges cover [0, len) in order; a snapped range starts only where the owner changes, which needs a row
     * range boundary in between: at most c of them, in the lower half. */
    const int64_t chunk = vae_k_sumsq_chunk(p->len);
    int out = 0;
    for (int64_t c0 = 0, r = 0; c0 < p->len; c0 += chunk) {
        const int64_t c1 = c0 + chunk < p->len ? c0 + chunk : p->len, mid = c0 + (c1 - c0) / 2;
        while (rhi[r] <= mid) r++;
        if (out > 0 && p->own_who[out - 1] == rwho[r]) {
            p->own_hi[out - 1] = c1;
        } else {
            p->own_lo[out] = c0, p->own_hi[out] = c1, p->own_who[out] = rwho[r];
            out++;
        }
    }
    p->own = (vae_owner_map){nt, out, p->len, p->own_lo, p->own_hi, p->own_who};
    return &p->own;
}

void vae_params_zero_grad(vae_params *p) {
    if (p && p->len) vae_k_zero_shares(p->grads, p->len, dsize(p), vae_params_owner_map(p));
}

vae_status vae_params_ensure_slots(vae_params *p, int nslots, vae_error *err) {
    if (!p) return vae_error_set(err, VAE_ERR_NULL, "params_ensure_slots: NULL store");
    if (nslots < 0 || nslots > VAE_PARAMS_MAX_SLOTS)
        return vae_error_set(err, VAE_ERR_ARG, "params_ensure_slots: %d slots is outside 0..%d",
                             nslots, VAE_PARAMS_MAX_SLOTS);
    void *nb[VAE_PARAMS_MAX_SLOTS] = {0};
    for (int s = p->nslots; s < nslots; s++) {
        nb[s] = alloc_zero(p->cap, dsize(p));
        if (!nb[s]) {
            for (int j = p->nslots; j < s; j++) free(nb[j]);
            return vae_error_set(err, VAE_ERR_OOM,
                                 "params_ensure_slots: out of memory for %d slots", nslots);
        }
    }
    for (int s = p->nslots; s < nslots; s++) p->slot[s] = nb[s];
    if (nslots > p->nslots) p->nslots = nslots;
    return VAE_OK;
}

int vae_params_slots(const vae_params *p) {
    return p ? p->nslots : 0;
}

void *vae_params_slot(const vae_params *p, int slot) {
    return (p && p->len && slot >= 0 && slot < p->nslots) ? p->slot[slot] : NULL;
}

void vae_params_zero_slots(vae_params *p) {
    for (int s = 0; p && p->len && s < p->nslots; s++)
        memset(p->slot[s], 0, (size_t)p->len * dsize(p));
}
