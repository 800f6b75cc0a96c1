/* Data movement: strided copy with dtype conversion, accumulate (the un-broadcasting sum), fill, scale. */
#include <math.h>

#include "iter.h"
#include "kernels.h"
#include "view.h"

#define DEFINE_ACCUM(T)                                                                            \
    static void accum_##T(vae_tensor *dst, const vae_tensor *src) {                                \
        const int64_t *st[2] = {dst->stride, src->stride};                                         \
        int64_t base[2] = {dst->offset, src->offset};                                              \
        vae__iter it;                                                                              \
        vae__iter_init(&it, src->ndim, src->shape, 2, st, base);                                   \
        T *d = dst->data;                                                                          \
        const T *s = src->data;                                                                    \
        int64_t n = it.n, sd = it.inner[0], ss = it.inner[1];                                      \
        for (int64_t r = 0; r < it.rows; r++, vae__iter_next(&it)) {                               \
            T *o = d + it.off[0];                                                                  \
            const T *a = s + it.off[1];                                                            \
            if (sd == 0) { /* a whole row folds into one element: sum it first */                  \
                T acc = 0;                                                                         \
                for (int64_t i = 0; i < n; i++) acc += a[i * ss];                                  \
                o[0] += acc;                                                                       \
            } else if (sd == 1 && ss == 1) {                                                       \
                for (int64_t i = 0; i < n; i++) o[i] += a[i];                                      \
            } else {                                                                               \
                for (int64_t i = 0; i < n; i++) o[i * sd] += a[i * ss];                            \
            }                                                                                      \
        }                                                                                          \
    }

DEFINE_ACCUM(float)
DEFINE_ACCUM(double)

void vae_k_accum(vae_tensor *dst, const vae_tensor *src) {
    if (src->dtype == VAE_F64) accum_double(dst, src);
    else accum_float(dst, src);
}

#define DEFINE_COPY(TD, TS)                                                                        \
    static void copy_##TD##_##TS(vae_tensor *dst, const vae_tensor *src) {                         \
        int64_t ss[VAE_MAX_DIMS];                                                                  \
        vae_broadcast_strides(src, dst->ndim, dst->shape, ss);                                     \
        const int64_t *st[2] = {dst->stride, ss};                                                  \
        int64_t base[2] = {dst->offset, src->offset};                                              \
        vae__iter it;                                                                              \
        vae__iter_init(&it, dst->ndim, dst->shape, 2, st, base);                                   \
        TD *d = dst->data;                                                                         \
        const TS *s = src->data;                                                                   \
        int64_t n = it.n, sd = it.inner[0], sv = it.inner[1];                                      \
        for (int64_t r = 0; r < it.rows; r++, vae__iter_next(&it)) {                               \
            TD *o = d + it.off[0];                                                                 \
            const TS *a = s + it.off[1];                                                           \
            if (sd == 1 && sv == 1)                                                                \
                for (int64_t i = 0; i < n; i++) o[i] = (TD)a[i];                                   \
            else                                                                                   \
                for (int64_t i = 0; i < n; i++) o[i * sd] = (TD)a[i * sv];                         \
        }                                                                                          \
    }

DEFINE_COPY(float, float)
DEFINE_COPY(float, double)
DEFINE_COPY(double, float)
DEFINE_COPY(double, double)

void vae_k_copy(vae_tensor *dst, const vae_tensor *src) {
    if (dst->dtype == VAE_F64)
        (src->dtype == VAE_F64 ? copy_double_double : copy_double_float)(dst, src);
    else
        (src->dtype == VAE_F64 ? copy_float_double : copy_float_float)(dst, src);
}

void vae_k_fill(vae_tensor *dst, double v) {
    const int64_t *st[1] = {dst->stride};
    int64_t base[1] = {dst->offset};
    vae__iter it;
    vae__iter_init(&it, dst->ndim, dst->shape, 1, st, base);
    for (int64_t r = 0; r < it.rows; r++, vae__iter_next(&it)) {
        if (dst->dtype == VAE_F64) {
            double *o = (double *)dst->data + it.off[0];
            for (int64_t i = 0; i < it.n; i++) o[i * it.inner[0]] = v;
        } else {
            float *o = (float *)dst->data + it.off[0];
            for (int64_t i = 0; i < it.n; i++) o[i * it.inner[0]] = (float)v;
        }
    }
}

void vae_k_scale(vae_tensor *dst, double s) {
    int64_t n = vae_numel(dst);
    if (dst->dtype == VAE_F64) {
        double *o = vae_tensor_ptr(dst);
        for (int64_t i = 0; i < n; i++) o[i] *= s;
    } else {
        float *o = vae_tensor_ptr(dst), f = (float)s;
        for (int64_t i = 0; i < n; i++) o[i] *= f;
    }
}

int vae_k_all_finite(const vae_tensor *x) {
    int64_t n = vae_numel(x);
    if (vae_is_contiguous(x)) {
        if (x->dtype == VAE_F64) {
            const double *p = vae_tensor_ptr(x);
            for (int64_t i = 0; i < n; i++)
                if (!isfinite(p[i])) return 0;
        } else {
            const float *p = vae_tensor_ptr(x);
            for (int64_t i = 0; i < n; i++)
                if (!isfinite(p[i])) return 0;
        }
        return 1;
    }
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(vae_get_flat(x, i))) return 0;
    return 1;
}
