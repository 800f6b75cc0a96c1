/* Data movement: strided copy with dtype conversion, accumulate (the un-broadcasting sum), fill, scale. Threaded
 * over element ranges (iter.h), except the accumulate into a stride-0 destination, which is split over columns so
 * that every output keeps its serial summation order. */
#include <math.h>
#include <string.h>

#include "iter.h"
#include "kernels.h"
#include "scratch.h"
#include "threadpool.h"
#include "view.h"

typedef struct {
    const vae__iter *it;
    const void *src;
    void *dst;
    double v;
    int64_t ntasks;
} mv_ctx;

#define DEFINE_ACCUM(T)                                                                              \
    /* dst += src on a run whose dst elements are distinct (no stride-0 destination) */              \
    static void accum_run_##T(void *vc, const vae__iter *it, const int64_t *off, int64_t n) {        \
        const mv_ctx *c = vc;                                                                        \
        T *o = (T *)c->dst + off[0];                                                                 \
        const T *a = (const T *)c->src + off[1];                                                     \
        const int64_t sd = it->inner[0], ss = it->inner[1];                                          \
        if (sd == 1 && ss == 1)                                                                      \
            for (int64_t i = 0; i < n; i++) o[i] += a[i];                                            \
        else                                                                                         \
            for (int64_t i = 0; i < n; i++) o[i * sd] += a[i * ss];                                  \
    }                                                                                                \
    /* Columns [c0, c1) of the inner dim, over every row in order: each dst element receives its   \
     * terms in row order, as in the serial walk, whichever task owns the column. */ \
    static void accum_cols_##T(void *vc, int64_t task, int tid) {                                    \
        const mv_ctx *c = vc;                                                                        \
        vae__iter it = *c->it;                                                                       \
        int64_t c0, c1;                                                                              \
        (void)tid;                                                                                   \
        vae__split(it.n, c->ntasks, task, 16, &c0, &c1);                                             \
        T *d = c->dst;                                                                               \
        const T *s = c->src;                                                                         \
        const int64_t sd = it.inner[0], ss = it.inner[1];                                            \
        for (int64_t r = 0; r < it.rows; r++, vae__iter_next(&it)) {                                 \
            T *o = d + it.off[0];                                                                    \
            const T *a = s + it.off[1];                                                              \
            if (sd == 1 && ss == 1)                                                                  \
                for (int64_t i = c0; i < c1; i++) o[i] += a[i];                                      \
            else                                                                                     \
                for (int64_t i = c0; i < c1; i++) o[i * sd] += a[i * ss];                            \
        }                                                                                            \
    }                                                                                                \
    /* The serial walk for a dst with stride 0 along the inner dim (a row folds into one element). \
     */ \
    static void accum_serial_##T(vae__iter *it, T *d, const T *s) {                                  \
        const int64_t n = it->n, sd = it->inner[0], ss = it->inner[1];                               \
        for (int64_t r = 0; r < it->rows; r++, vae__iter_next(it)) {                                 \
            T *o = d + it->off[0];                                                                   \
            const T *a = s + it->off[1];                                                             \
            if (sd == 0) { /* a whole row folds into one element: sum it first */                    \
                T acc = 0;                                                                           \
                for (int64_t i = 0; i < n; i++) acc += a[i * ss];                                    \
                o[0] += acc;                                                                         \
            } else {                                                                                 \
                for (int64_t i = 0; i < n; i++) o[i * sd] += a[i * ss];                              \
            }                                                                                        \
        }                                                                                            \
    }

DEFINE_ACCUM(float)
DEFINE_ACCUM(double)

void vae_k_accum(vae_tensor *dst, const vae_tensor *src) {
    const int64_t *st[2] = {dst->stride, src->stride};
    int64_t base[2] = {dst->offset, src->offset};
    vae__iter it;
    vae__iter_init(&it, src->ndim, src->shape, 2, st, base);
    const int f64 = src->dtype == VAE_F64;
    mv_ctx c = {&it, src->data, dst->data, 0, 1};
    int folds = 0; /* several src elements add into one dst element */
    for (int i = 0; i < it.ndim; i++) folds |= it.stride[0][i] == 0 && it.shape[i] > 1;
    if (!folds) { /* plain elementwise += */
        vae__iter_parallel(&it, 1, f64 ? accum_run_double : accum_run_float, &c);
        return;
    }
    /* The un-broadcasting sum (e.g. a bias gradient: column sums of (rows, n)). Split over inner columns only, so
     * each output keeps its serial summation order; a stride-0 inner dim (row folds into one element) stays
     * serial. Counted at a quarter of an add per element: each task walks every row, and a W1 bias gradient
     * (100 x 400 or 100 x 784, rows written by both threads) took 3.8-10.8 us split in two against 3.2 us on the
     * calling thread alone, 7.4-22.7 us against 6.6 us (median of 2,000 calls, README, Performance, stop 26). */
    c.ntasks = it.inner[0] != 0 ? vae__par_tasks(0.25 * (double)(it.rows * it.n)) : 1;
    if (c.ntasks > it.n / 16) c.ntasks = it.n / 16 > 1 ? it.n / 16 : 1;
    if (c.ntasks > 1)
        vae_parallel_for(c.ntasks, f64 ? accum_cols_double : accum_cols_float, &c);
    else if (f64)
        accum_serial_double(&it, dst->data, src->data);
    else
        accum_serial_float(&it, dst->data, src->data);
}

#define DEFINE_COPY(TD, TS)                                                                        \
    static void copy_run_##TD##_##TS(void *vc, const vae__iter *it, const int64_t *off,            \
                                     int64_t n) {                                                  \
        const mv_ctx *c = vc;                                                                      \
        TD *o = (TD *)c->dst + off[0];                                                             \
        const TS *a = (const TS *)c->src + off[1];                                                 \
        const int64_t sd = it->inner[0], sv = it->inner[1];                                        \
        if (sd == 1 && sv == 1)                                                                    \
            for (int64_t i = 0; i < n; i++) o[i] = (TD)a[i];                                       \
        else                                                                                       \
            for (int64_t i = 0; i < n; i++) o[i * sd] = (TD)a[i * sv];                             \
    }

DEFINE_COPY(float, float)
DEFINE_COPY(float, double)
DEFINE_COPY(double, float)
DEFINE_COPY(double, double)

void vae_k_copy(vae_tensor *dst, const vae_tensor *src) {
    int64_t ss[VAE_MAX_DIMS];
    vae_broadcast_strides(src, dst->ndim, dst->shape, ss);
    const int64_t *st[2] = {dst->stride, ss};
    int64_t base[2] = {dst->offset, src->offset};
    vae__iter it;
    vae__iter_init(&it, dst->ndim, dst->shape, 2, st, base);
    mv_ctx c = {&it, src->data, dst->data, 0, 1};
    vae__run_fn fn = dst->dtype == VAE_F64
                         ? (src->dtype == VAE_F64 ? copy_run_double_double : copy_run_double_float)
                         : (src->dtype == VAE_F64 ? copy_run_float_double : copy_run_float_float);
    vae__iter_parallel(&it, 1, fn, &c);
}

/* o = v (fill) or o *= v (scale) */
#define DEFINE_FILL(T)                                                                             \
    static void fill_run_##T(void *vc, const vae__iter *it, const int64_t *off, int64_t n) {       \
        const mv_ctx *c = vc;                                                                      \
        T *o = (T *)c->dst + off[0], v = (T)c->v;                                                  \
        const int64_t so = it->inner[0];                                                           \
        if (so == 1)                                                                               \
            for (int64_t i = 0; i < n; i++) o[i] = v;                                              \
        else                                                                                       \
            for (int64_t i = 0; i < n; i++) o[i * so] = v;                                         \
    }                                                                                              \
    static void scale_run_##T(void *vc, const vae__iter *it, const int64_t *off, int64_t n) {      \
        const mv_ctx *c = vc;                                                                      \
        T *o = (T *)c->dst + off[0], v = (T)c->v;                                                  \
        (void)it;                                                                                  \
        for (int64_t i = 0; i < n; i++) o[i] *= v;                                                 \
    }

DEFINE_FILL(float)
DEFINE_FILL(double)

void vae_k_fill(vae_tensor *dst, double v) {
    const int64_t *st[1] = {dst->stride};
    int64_t base[1] = {dst->offset};
    vae__iter it;
    vae__iter_init(&it, dst->ndim, dst->shape, 1, st, base);
    mv_ctx c = {&it, NULL, dst->data, v, 1};
    vae__iter_parallel(&it, 1, dst->dtype == VAE_F64 ? fill_run_double : fill_run_float, &c);
}

void vae_k_scale(vae_tensor *dst, double s) {
    const int64_t n = vae_numel(dst), one = 1, base = 0;
    const int64_t *st[1] = {&one};
    vae__iter it;
    vae__iter_init(&it, 1, &n, 1, st, &base);
    mv_ctx c = {&it, NULL, vae_tensor_ptr(dst), s, 1};
    vae__iter_parallel(&it, 1, dst->dtype == VAE_F64 ? scale_run_double : scale_run_float, &c);
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

typedef struct zero_job {
    char *p;
    size_t elem;
} zero_job;

static void zero_range(void *ctx, int64_t i0, int64_t i1) {
    const zero_job *z = ctx;
    memset(z->p + (size_t)i0 * z->elem, 0, (size_t)(i1 - i0) * z->elem);
}

void vae_k_zero_shares(void *p, int64_t n, size_t elem_size, const vae_owner_map *own) {
    zero_job z = {p, elem_size};
    if (p && n > 0) vae__parallel_owned(n, own, zero_range, &z);
}
