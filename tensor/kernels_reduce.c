/* Reductions over any set of axes. x is walked once in its logical row-major order while a view of y with stride 0
 * on the reduced axes says where each element goes, so the summation order per output is fixed (reduced index
 * ascending) whatever the layout or thread count. */
#include <tgmath.h>

#include "iter.h"
#include "kernels.h"

/* y's contiguous (keepdim) strides with 0 on reduced axes, seen with x's shape. */
static void out_strides(const vae_tensor *y, uint32_t axes, int64_t *st) {
    for (int i = 0; i < y->ndim; i++) st[i] = (axes >> i & 1u) ? 0 : y->stride[i];
}

#define DEFINE_REDUCE(T)                                                                           \
    /* mode 0: y += x; 1: y = max(y, x) (+argmax, -1 for an all -inf group); 2: y += exp(x - m) */ \
    static void pass_##T(int mode, const vae_tensor *x, const int64_t *ys, T *y, const T *m,       \
                         int64_t *arg) {                                                           \
        const int64_t *st[2] = {x->stride, ys};                                                    \
        int64_t base[2] = {x->offset, 0};                                                          \
        vae__iter it;                                                                              \
        vae__iter_init(&it, x->ndim, x->shape, 2, st, base);                                       \
        const T *xp = x->data;                                                                     \
        int64_t n = it.n, sx = it.inner[0], sy = it.inner[1];                                      \
        for (int64_t r = 0; r < it.rows; r++, vae__iter_next(&it)) {                               \
            const T *a = xp + it.off[0];                                                           \
            T *o = y + it.off[1];                                                                  \
            int64_t flat = r * n;                                                                  \
            if (mode == 0) {                                                                       \
                if (sy == 0) {                                                                     \
                    T acc = 0;                                                                     \
                    for (int64_t i = 0; i < n; i++) acc += a[i * sx];                              \
                    o[0] += acc;                                                                   \
                } else                                                                             \
                    for (int64_t i = 0; i < n; i++) o[i * sy] += a[i * sx];                        \
            } else if (mode == 1) {                                                                \
                for (int64_t i = 0; i < n; i++) {                                                  \
                    T v = a[i * sx], *c = o + i * sy;                                              \
                    if (v > *c || (isnan(v) && !isnan(*c))) {                                      \
                        *c = v;                                                                    \
                        if (arg) arg[it.off[1] + i * sy] = flat + i;                               \
                    }                                                                              \
                }                                                                                  \
            } else {                                                                               \
                const T *mm = m + it.off[1];                                                       \
                for (int64_t i = 0; i < n; i++) {                                                  \
                    T mv = mm[i * sy];                                                             \
                    if (isfinite(mv)) o[i * sy] += exp(a[i * sx] - mv);                            \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
    static void reduce_##T(vae_reduce op, const vae_tensor *x, uint32_t axes, vae_tensor *yt,      \
                           void *aux) {                                                            \
        int64_t ys[VAE_MAX_DIMS], ny = vae_numel(yt), count = 1;                                   \
        out_strides(yt, axes, ys);                                                                 \
        for (int i = 0; i < x->ndim; i++)                                                          \
            if (axes >> i & 1u) count *= x->shape[i];                                              \
        T *y = vae_tensor_ptr(yt);                                                                 \
        if (op == VAE_R_SUM || op == VAE_R_MEAN) {                                                 \
            for (int64_t j = 0; j < ny; j++) y[j] = 0;                                             \
            pass_##T(0, x, ys, y, NULL, NULL);                                                     \
            if (op == VAE_R_MEAN)                                                                  \
                for (int64_t j = 0; j < ny; j++) y[j] /= (T)count;                                 \
            return;                                                                                \
        }                                                                                          \
        int64_t *arg = op == VAE_R_MAX ? aux : NULL;                                               \
        T *m = op == VAE_R_LOGSUMEXP ? aux : y;                                                    \
        for (int64_t j = 0; j < ny; j++) m[j] = -INFINITY;                                         \
        if (arg)                                                                                   \
            for (int64_t j = 0; j < ny; j++) arg[j] = -1;                                          \
        pass_##T(1, x, ys, m, NULL, arg);                                                          \
        if (op == VAE_R_MAX) return;                                                               \
        /* logsumexp = m + log(sum exp(x - m)); a group that is all -inf stays -inf */             \
        for (int64_t j = 0; j < ny; j++) y[j] = 0;                                                 \
        pass_##T(2, x, ys, y, m, NULL);                                                            \
        for (int64_t j = 0; j < ny; j++) y[j] = isfinite(m[j]) ? m[j] + log(y[j]) : m[j];          \
    }

DEFINE_REDUCE(float)
DEFINE_REDUCE(double)

void vae_k_reduce(vae_reduce op, const vae_tensor *x, uint32_t axes, vae_tensor *y, void *aux) {
    if (x->dtype == VAE_F64)
        reduce_double(op, x, axes, y, aux);
    else
        reduce_float(op, x, axes, y, aux);
}
