#include "tensor.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "tensor/scratch.h"

size_t vae_dtype_size(vae_dtype dt) {
    return dt == VAE_F64 ? 8 : 4;
}
const char *vae_dtype_name(vae_dtype dt) {
    return dt == VAE_F64 ? "f64" : "f32";
}

int64_t vae_numel(const vae_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
    return n;
}

int vae_is_contiguous(const vae_tensor *t) {
    int64_t expect = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        if (t->shape[i] != 1 && t->stride[i] != expect) return 0;
        expect *= t->shape[i];
    }
    return 1;
}

int vae_same_shape(const vae_tensor *a, const vae_tensor *b) {
    if (a->ndim != b->ndim) return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i]) return 0;
    return 1;
}

void *vae_tensor_ptr(const vae_tensor *t) {
    return (char *)t->data + t->offset * (int64_t)vae_dtype_size(t->dtype);
}

int vae_shape_check(vae_error *err, const char *op, int ndim, const int64_t *shape, vae_dtype dt,
                    int64_t *numel) {
    if (ndim < 0 || ndim > VAE_MAX_DIMS) {
        vae_error_set(err, VAE_ERR_SHAPE, "%s: ndim %d is outside 0..%d", op, ndim, VAE_MAX_DIMS);
        return 0;
    }
    if (ndim > 0 && !shape) {
        vae_error_set(err, VAE_ERR_NULL, "%s: NULL shape with ndim %d", op, ndim);
        return 0;
    }
    if (dt != VAE_F32 && dt != VAE_F64) {
        vae_error_set(err, VAE_ERR_DTYPE, "%s: unknown dtype %d", op, (int)dt);
        return 0;
    }
    /* `span` (the product with zero dims counted as 1) bounds the contiguous strides, which must be representable
     * even when a zero dim makes the tensor empty: (0, 2^62, 2^62) would overflow them. */
    int64_t n = 1, span = 1;
    const int64_t limit = INT64_MAX / 8;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) {
            char b[160];
            vae_error_set(err, VAE_ERR_SHAPE, "%s: negative dimension in shape %s", op,
                          vae_shape_str(b, sizeof b, ndim, shape));
            return 0;
        }
        if (shape[i] > 0 && span > limit / shape[i]) {
            char b[160];
            vae_error_set(err, VAE_ERR_SHAPE, "%s: shape %s has too many elements", op,
                          vae_shape_str(b, sizeof b, ndim, shape));
            return 0;
        }
        n *= shape[i];
        span *= shape[i] > 0 ? shape[i] : 1;
    }
    if ((uint64_t)n > SIZE_MAX / vae_dtype_size(dt)) {
        vae_error_set(err, VAE_ERR_SHAPE, "%s: %" PRId64 " elements do not fit in memory", op, n);
        return 0;
    }
    *numel = n;
    return 1;
}

void vae_contiguous_strides(int ndim, const int64_t *shape, int64_t *strides) {
    int64_t s = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        strides[i] = s;
        s *= shape[i] > 0 ? shape[i] : 1;
    }
}

static vae_tensor *tensor_struct(vae_arena *a, vae_error *err, vae_dtype dt, int ndim,
                                 const int64_t *shape) {
    vae_tensor *t = vae_arena_alloc(a, sizeof *t, err);
    if (!t) return NULL;
    memset(t, 0, sizeof *t);
    t->dtype = dt;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->shape[i] = shape[i];
    vae_contiguous_strides(ndim, t->shape, t->stride);
    t->root = t;
    vae__arena_stamp(a, &t->arena_id, &t->arena_gen);
    return t;
}

vae_tensor *vae_tensor_alloc(vae_arena *a, vae_error *err, vae_dtype dt, int ndim,
                             const int64_t *shape) {
    int64_t n;
    if (!vae_shape_check(err, "alloc", ndim, shape, dt, &n)) return NULL;
    vae_tensor *t = tensor_struct(a, err, dt, ndim, shape);
    if (!t) return NULL;
    t->data = vae_arena_alloc(a, (size_t)n * vae_dtype_size(dt), err);
    return t->data ? t : NULL;
}

vae_tensor *vae_tensor_wrap(vae_arena *a, vae_error *err, vae_dtype dt, int ndim,
                            const int64_t *shape, void *data) {
    int64_t n;
    if (!vae_shape_check(err, "wrap", ndim, shape, dt, &n)) return NULL;
    if (!data && n > 0) {
        vae_error_set(err, VAE_ERR_NULL, "wrap: NULL data for %" PRId64 " elements", n);
        return NULL;
    }
    vae_tensor *t = tensor_struct(a, err, dt, ndim, shape);
    if (!t) return NULL;
    t->data = data;
    t->flags |= VAE_TF_CALLER;
    return t;
}

vae_tensor *vae_tensor_view_of(vae_arena *a, vae_error *err, const vae_tensor *x, int ndim,
                               const int64_t *shape, const int64_t *stride, int64_t offset) {
    vae_tensor *t = vae_arena_alloc(a, sizeof *t, err);
    if (!t) return NULL;
    memset(t, 0, sizeof *t);
    t->dtype = x->dtype;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) {
        t->shape[i] = shape[i];
        t->stride[i] = stride[i];
        if (stride[i] == 0 && shape[i] > 1) t->flags |= VAE_TF_READONLY;
    }
    t->offset = offset;
    vae__arena_stamp(a, &t->arena_id, &t->arena_gen);
    t->data = x->data;
    t->root = x->root ? x->root : (vae_tensor *)x;
    t->flags |= x->flags & (VAE_TF_READONLY | VAE_TF_CALLER);
    return t;
}

static int64_t flat_to_offset(const vae_tensor *t, int64_t i) {
    int64_t off = t->offset;
    for (int d = t->ndim - 1; d >= 0; d--) {
        int64_t n = t->shape[d];
        off += (i % n) * t->stride[d];
        i /= n;
    }
    return off;
}

double vae_get_flat(const vae_tensor *t, int64_t i) {
    assert(i >= 0 && i < vae_numel(t));
    int64_t off = flat_to_offset(t, i);
    return t->dtype == VAE_F64 ? ((const double *)t->data)[off] : ((const float *)t->data)[off];
}

void vae_set_flat(vae_tensor *t, int64_t i, double v) {
    assert(i >= 0 && i < vae_numel(t));
    int64_t off = flat_to_offset(t, i);
    if (t->dtype == VAE_F64)
        ((double *)t->data)[off] = v;
    else
        ((float *)t->data)[off] = (float)v;
}

double vae_get(const vae_tensor *t, const int64_t *idx) {
    int64_t off = t->offset;
    for (int d = 0; d < t->ndim; d++) off += idx[d] * t->stride[d];
    return t->dtype == VAE_F64 ? ((const double *)t->data)[off] : ((const float *)t->data)[off];
}

double vae_item(const vae_tensor *t) {
    if (!t || vae_numel(t) != 1) return NAN;
    return vae_get_flat(t, 0);
}

void vae_tensor_to_f64(const vae_tensor *t, double *dst) {
    int64_t n = vae_numel(t);
    for (int64_t i = 0; i < n; i++) dst[i] = vae_get_flat(t, i);
}

static void print_rec(FILE *f, const vae_tensor *t, int d, int64_t off, int max_items) {
    if (d == t->ndim) {
        double v =
            t->dtype == VAE_F64 ? ((const double *)t->data)[off] : ((const float *)t->data)[off];
        fprintf(f, "%.6g", v);
        return;
    }
    fputc('[', f);
    int64_t n = t->shape[d];
    for (int64_t i = 0; i < n; i++) {
        if (n > max_items && i == max_items / 2) {
            fputs("..., ", f);
            i = n - max_items / 2;
        }
        print_rec(f, t, d + 1, off + i * t->stride[d], max_items);
        if (i + 1 < n) fputs(", ", f);
    }
    fputc(']', f);
}

void vae_tensor_fprint(FILE *f, const vae_tensor *t, int max_items) {
    if (!f || !t) return;
    char b[160];
    fprintf(f, "tensor %s %s%s ", vae_dtype_name(t->dtype),
            vae_shape_str(b, sizeof b, t->ndim, t->shape),
            vae_is_contiguous(t) ? "" : " (strided)");
    print_rec(f, t, 0, t->offset, max_items > 1 ? max_items : 6);
    fputc('\n', f);
}
