#include "view.h"

#include <string.h>

/* Start a view: same storage, autograd fields cleared. */
static void view_init(vae_tensor *out, const vae_tensor *x) {
    vae_tensor v;
    memset(&v, 0, sizeof v);
    v.dtype = x->dtype;
    v.offset = x->offset;
    v.data = x->data;
    v.root = x->root ? x->root : (vae_tensor *)x;
    v.flags = x->flags & (VAE_TF_READONLY | VAE_TF_CALLER);
    *out = v;
}

int vae_norm_axis(int axis, int ndim) {
    if (axis < 0) axis += ndim;
    return (axis < 0 || axis >= ndim) ? -1 : axis;
}

vae_status vae_view_reshape(const vae_tensor *x, int ndim, const int64_t *shape, vae_tensor *out,
                            int64_t *resolved, vae_error *err) {
    char b1[160], b2[160];
    if (ndim < 0 || ndim > VAE_MAX_DIMS)
        return vae_error_set(err, VAE_ERR_SHAPE, "reshape: ndim %d is outside 0..%d", ndim,
                             VAE_MAX_DIMS);
    int64_t sh[VAE_MAX_DIMS], known = 1;
    int infer = -1;
    for (int i = 0; i < ndim; i++) {
        sh[i] = shape[i];
        if (sh[i] == -1 && infer < 0)
            infer = i;
        else if (sh[i] < 0)
            return vae_error_set(err, VAE_ERR_SHAPE, "reshape: %s -> %s: bad dimension",
                                 vae_shape_str(b1, sizeof b1, x->ndim, x->shape),
                                 vae_shape_str(b2, sizeof b2, ndim, shape));
        else if (sh[i] > 0 && known > INT64_MAX / sh[i])
            return vae_error_set(err, VAE_ERR_SHAPE, "reshape: target shape too large");
        else
            known *= sh[i];
    }
    int64_t n = vae_numel(x);
    if (infer >= 0) {
        if (known == 0 || n % known)
            return vae_error_set(err, VAE_ERR_SHAPE,
                                 "reshape: %s -> %s: cannot infer the -1 dimension",
                                 vae_shape_str(b1, sizeof b1, x->ndim, x->shape),
                                 vae_shape_str(b2, sizeof b2, ndim, shape));
        sh[infer] = n / known;
        known = n;
    }
    if (known != n)
        return vae_error_set(err, VAE_ERR_SHAPE, "reshape: %s -> %s: %lld elements != %lld",
                             vae_shape_str(b1, sizeof b1, x->ndim, x->shape),
                             vae_shape_str(b2, sizeof b2, ndim, sh), (long long)n,
                             (long long)known);
    if (resolved) memcpy(resolved, sh, sizeof(int64_t) * (size_t)ndim);
    /* Match groups of old dims to groups of new dims with equal products; a group is viewable when its old dims
     * are mutually contiguous (stride[i] == stride[i+1]*shape[i+1]). Size-1 dims are skipped. */
    int64_t st[VAE_MAX_DIMS];
    int i = 0, j = 0;
    while (i < x->ndim && x->shape[i] == 1) i++;
    while (j < ndim && sh[j] == 1) st[j++] = 0;
    while (i < x->ndim || j < ndim) {
        if (n == 0) break;
        int i0 = i, j0 = j;
        int64_t po = x->shape[i++], pn = sh[j++];
        while (po != pn) {
            if (po < pn)
                po *= x->shape[i++];
            else
                pn *= sh[j++];
        }
        /* old dims i0..i-1 (ignoring size 1) must be contiguous with each other */
        int last = -1;
        for (int k = i0; k < i; k++) {
            if (x->shape[k] == 1) continue;
            if (last >= 0 && x->stride[last] != x->stride[k] * x->shape[k])
                return VAE_ERR_UNSUPPORTED;
            last = k;
        }
        int64_t s = last >= 0 ? x->stride[last] : 1;
        for (int k = j - 1; k >= j0; k--) {
            st[k] = s;
            s *= sh[k];
        }
        while (i < x->ndim && x->shape[i] == 1) i++;
        while (j < ndim && sh[j] == 1) st[j++] = 0;
    }
    if (n == 0) vae_contiguous_strides(ndim, sh, st);
    vae_tensor v;
    view_init(&v, x);
    v.ndim = ndim;
    for (int k = 0; k < ndim; k++) {
        v.shape[k] = sh[k];
        v.stride[k] = sh[k] == 1 ? 0 : st[k];
    }
    /* size-1 dims get a harmless stride; keep them 0 only when that does not mark the view read-only */
    *out = v;
    return VAE_OK;
}

vae_status vae_view_permute(const vae_tensor *x, const int *perm, vae_tensor *out, vae_error *err) {
    int seen[VAE_MAX_DIMS] = {0};
    char b[160];
    for (int i = 0; i < x->ndim; i++) {
        int p = perm[i];
        if (p < 0 || p >= x->ndim || seen[p])
            return vae_error_set(err, VAE_ERR_ARG,
                                 "permute: %s: perm is not a permutation of 0..%d",
                                 vae_shape_str(b, sizeof b, x->ndim, x->shape), x->ndim - 1);
        seen[p] = 1;
    }
    vae_tensor v;
    view_init(&v, x);
    v.ndim = x->ndim;
    for (int i = 0; i < x->ndim; i++) {
        v.shape[i] = x->shape[perm[i]];
        v.stride[i] = x->stride[perm[i]];
    }
    *out = v;
    return VAE_OK;
}

vae_status vae_view_transpose(const vae_tensor *x, int d0, int d1, vae_tensor *out,
                              vae_error *err) {
    int a = vae_norm_axis(d0, x->ndim), c = vae_norm_axis(d1, x->ndim);
    if (a < 0 || c < 0) {
        char b[160];
        return vae_error_set(err, VAE_ERR_ARG, "transpose: axes (%d,%d) out of range for %s", d0,
                             d1, vae_shape_str(b, sizeof b, x->ndim, x->shape));
    }
    int perm[VAE_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++) perm[i] = i;
    perm[a] = c;
    perm[c] = a;
    return vae_view_permute(x, perm, out, err);
}

vae_status vae_view_slice(const vae_tensor *x, int axis, int64_t start, int64_t stop, int64_t step,
                          vae_tensor *out, vae_error *err) {
    char b[160];
    int ax = vae_norm_axis(axis, x->ndim);
    if (ax < 0)
        return vae_error_set(err, VAE_ERR_ARG, "slice: axis %d out of range for %s", axis,
                             vae_shape_str(b, sizeof b, x->ndim, x->shape));
    if (step < 1)
        return vae_error_set(err, VAE_ERR_ARG, "slice: %s: step %lld must be >= 1",
                             vae_shape_str(b, sizeof b, x->ndim, x->shape), (long long)step);
    int64_t n = x->shape[ax];
    if (start < 0) start += n;
    if (stop < 0) stop += n;
    if (start < 0) start = 0;
    if (start > n) start = n;
    if (stop < start) stop = start;
    if (stop > n) stop = n;
    vae_tensor v;
    view_init(&v, x);
    v.ndim = x->ndim;
    memcpy(v.shape, x->shape, sizeof v.shape);
    memcpy(v.stride, x->stride, sizeof v.stride);
    /* (stop - start + step - 1) / step would overflow for a huge step; so would stride * step, which only
     * matters when the slice has two or more elements (then step < n and the product stays in range) */
    v.shape[ax] = stop > start ? (stop - start - 1) / step + 1 : 0;
    v.stride[ax] = v.shape[ax] > 1 ? x->stride[ax] * step : x->stride[ax];
    v.offset = x->offset + start * x->stride[ax];
    *out = v;
    return VAE_OK;
}

vae_status vae_view_expand(const vae_tensor *x, int ndim, const int64_t *shape, vae_tensor *out,
                           vae_error *err) {
    char b1[160], b2[160];
    if (ndim > VAE_MAX_DIMS)
        return vae_error_set(err, VAE_ERR_SHAPE, "expand: %s -> %d dims",
                             vae_shape_str(b1, sizeof b1, x->ndim, x->shape), ndim);
    if (ndim < x->ndim) goto bad; /* the message names both shapes */
    vae_tensor v;
    view_init(&v, x);
    v.ndim = ndim;
    int lead = ndim - x->ndim;
    for (int i = 0; i < ndim; i++) {
        int64_t want = shape[i];
        if (i < lead) {
            if (want < 0) goto bad;
            v.shape[i] = want;
            v.stride[i] = 0;
            if (want > 1) v.flags |= VAE_TF_READONLY;
            continue;
        }
        int64_t have = x->shape[i - lead];
        if (want == -1 || want == have) {
            v.shape[i] = have;
            v.stride[i] = x->stride[i - lead];
        } else if (have == 1 && want >= 0) {
            v.shape[i] = want;
            v.stride[i] = 0;
            if (want > 1) v.flags |= VAE_TF_READONLY;
        } else
            goto bad;
    }
    *out = v;
    return VAE_OK;
bad:
    return vae_error_set(err, VAE_ERR_SHAPE, "expand: %s cannot broadcast to %s",
                         vae_shape_str(b1, sizeof b1, x->ndim, x->shape),
                         vae_shape_str(b2, sizeof b2, ndim, shape));
}

vae_status vae_view_squeeze(const vae_tensor *x, int axis, vae_tensor *out, vae_error *err) {
    char b[160];
    int ax = vae_norm_axis(axis, x->ndim);
    if (ax < 0 || x->shape[ax] != 1)
        return vae_error_set(err, VAE_ERR_ARG, "squeeze: axis %d of %s is not a size-1 dim", axis,
                             vae_shape_str(b, sizeof b, x->ndim, x->shape));
    vae_tensor v;
    view_init(&v, x);
    v.ndim = x->ndim - 1;
    for (int i = 0, k = 0; i < x->ndim; i++) {
        if (i == ax) continue;
        v.shape[k] = x->shape[i];
        v.stride[k++] = x->stride[i];
    }
    *out = v;
    return VAE_OK;
}

vae_status vae_view_unsqueeze(const vae_tensor *x, int axis, vae_tensor *out, vae_error *err) {
    char b[160];
    int ax = vae_norm_axis(axis, x->ndim + 1);
    if (ax < 0 || x->ndim >= VAE_MAX_DIMS)
        return vae_error_set(err, VAE_ERR_ARG, "unsqueeze: axis %d invalid for %s", axis,
                             vae_shape_str(b, sizeof b, x->ndim, x->shape));
    vae_tensor v;
    view_init(&v, x);
    v.ndim = x->ndim + 1;
    for (int i = 0, k = 0; i < v.ndim; i++) {
        if (i == ax) {
            v.shape[i] = 1;
            v.stride[i] = 0;
        } else {
            v.shape[i] = x->shape[k];
            v.stride[i] = x->stride[k++];
        }
    }
    *out = v;
    return VAE_OK;
}

int vae_broadcast_shape(int na, const int64_t *sa, int nb, const int64_t *sb, int *nout,
                        int64_t *out) {
    int n = na > nb ? na : nb;
    int64_t r[VAE_MAX_DIMS];
    if (n > VAE_MAX_DIMS) return 0;
    for (int i = 0; i < n; i++) {
        int ia = i - (n - na), ib = i - (n - nb);
        int64_t da = ia >= 0 ? sa[ia] : 1, db = ib >= 0 ? sb[ib] : 1;
        if (da == db || db == 1)
            r[i] = da;
        else if (da == 1)
            r[i] = db;
        else
            return 0;
    }
    *nout = n;
    memcpy(out, r, sizeof(int64_t) * (size_t)n);
    return 1;
}

void vae_broadcast_strides(const vae_tensor *x, int ndim, const int64_t *shape, int64_t *strides) {
    int lead = ndim - x->ndim;
    for (int i = 0; i < ndim; i++) {
        int k = i - lead;
        strides[i] = (k < 0 || (x->shape[k] == 1 && shape[i] != 1)) ? 0 : x->stride[k];
        if (k >= 0 && x->shape[k] == 1) strides[i] = 0;
    }
}
