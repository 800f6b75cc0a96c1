/* Softmax, log-softmax and cumsum along one axis (kernels_axis.h).
 *
 * The iteration space is x's shape with the axis collapsed to 1: each of its elements is the start of one line,
 * and the run functions below walk that line with the operands' axis strides. vae__iter_parallel splits lines
 * over threads; a line is always computed whole by one thread. */
#include "kernels_axis.h"

#include <math.h>

#include "iter.h"

typedef struct {
    int flag_a, flag_b, flag_c; /* softmax: log; cumsum: exclusive, reverse, accumulate */
    int64_t n;                  /* line length */
    int64_t as[3];              /* each operand's stride along the axis */
    const void *p[2];
    void *out;
} line_ctx;

#define DEFINE_AXIS(T, EXP)                                                                        \
    /* off: x, y. y = softmax or log_softmax of each line */                                       \
    static void softmax_run_##T(void *vc, const vae__iter *it, const int64_t *off, int64_t len) {  \
        const line_ctx *c = vc;                                                                    \
        const int64_t n = c->n, sx = c->as[0], sy = c->as[1];                                      \
        for (int64_t l = 0; l < len; l++) {                                                        \
            const T *x = (const T *)c->p[0] + off[0] + l * it->inner[0];                           \
            T *y = (T *)c->out + off[1] + l * it->inner[1];                                        \
            double m = -INFINITY, s = 0;                                                           \
            for (int64_t j = 0; j < n; j++)                                                        \
                if (x[j * sx] > m) m = x[j * sx]; /* a NaN shows through exp(x - m) */             \
            if (c->flag_a) {                                                                       \
                for (int64_t j = 0; j < n; j++) s += exp((double)x[j * sx] - m);                   \
                const double ls = m + log(s);                                                      \
                for (int64_t j = 0; j < n; j++) y[j * sy] = (T)((double)x[j * sx] - ls);           \
            } else {                                                                               \
                for (int64_t j = 0; j < n; j++) {                                                  \
                    const T e = EXP((T)((double)x[j * sx] - m));                                   \
                    y[j * sy] = e;                                                                 \
                    s += e;                                                                        \
                }                                                                                  \
                for (int64_t j = 0; j < n; j++) y[j * sy] = (T)((double)y[j * sy] / s);            \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
    /* off: y, gy, gx. gx += the line's vector-Jacobian product */                                 \
    static void softmax_grad_run_##T(void *vc, const vae__iter *it, const int64_t *off,            \
                                     int64_t len) {                                                \
        const line_ctx *c = vc;                                                                    \
        const int64_t n = c->n, sy = c->as[0], sg = c->as[1], so = c->as[2];                       \
        for (int64_t l = 0; l < len; l++) {                                                        \
            const T *y = (const T *)c->p[0] + off[0] + l * it->inner[0];                           \
            const T *gy = (const T *)c->p[1] + off[1] + l * it->inner[1];                          \
            T *gx = (T *)c->out + off[2] + l * it->inner[2];                                       \
            double s = 0;                                                                          \
            if (c->flag_a) {                                                                       \
                for (int64_t j = 0; j < n; j++) s += gy[j * sg];                                   \
                for (int64_t j = 0; j < n; j++)                                                    \
                    gx[j * so] += (T)(gy[j * sg] - EXP(y[j * sy]) * s);                            \
            } else {                                                                               \
                for (int64_t j = 0; j < n; j++) s += (double)gy[j * sg] * y[j * sy];               \
                for (int64_t j = 0; j < n; j++)                                                    \
                    gx[j * so] += (T)(y[j * sy] * ((double)gy[j * sg] - s));                       \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
    /* off: x, y. y (+)= the running sum of each line, forward or from the end */                  \
    static void cumsum_run_##T(void *vc, const vae__iter *it, const int64_t *off, int64_t len) {   \
        const line_ctx *c = vc;                                                                    \
        const int64_t n = c->n, sx = c->as[0], sy = c->as[1];                                      \
        for (int64_t l = 0; l < len; l++) {                                                        \
            const T *x = (const T *)c->p[0] + off[0] + l * it->inner[0];                           \
            T *y = (T *)c->out + off[1] + l * it->inner[1];                                        \
            double acc = 0;                                                                        \
            for (int64_t t = 0; t < n; t++) {                                                      \
                const int64_t j = c->flag_b ? n - 1 - t : t;                                       \
                const double before = acc;                                                         \
                acc += x[j * sx];                                                                  \
                const T v = (T)(c->flag_a ? before : acc);                                         \
                if (c->flag_c)                                                                     \
                    y[j * sy] += v;                                                                \
                else                                                                               \
                    y[j * sy] = v;                                                                 \
            }                                                                                      \
        }                                                                                          \
    }

DEFINE_AXIS(float, expf)
DEFINE_AXIS(double, exp)

/* Run fn over the lines along `axis` of shape (ndim, shape) for nops operands t[0..nops). */
static void run_lines(int axis, int nops, const vae_tensor *const *t, line_ctx *c, double cost,
                      vae__run_fn fn) {
    const vae_tensor *x = t[0];
    int64_t shape[VAE_MAX_DIMS], base[3];
    const int64_t *st[3];
    for (int i = 0; i < x->ndim; i++) shape[i] = i == axis ? 1 : x->shape[i];
    for (int k = 0; k < nops; k++) {
        st[k] = t[k]->stride;
        base[k] = t[k]->offset;
        c->as[k] = t[k]->stride[axis];
    }
    c->n = x->shape[axis];
    if (c->n == 0) return;
    vae__iter it;
    vae__iter_init(&it, x->ndim, shape, nops, st, base);
    vae__iter_parallel(&it, cost * (double)c->n, fn, c);
}

void vae_k_softmax(const vae_tensor *x, int axis, int log, vae_tensor *y) {
    line_ctx c = {log, 0, 0, 0, {0}, {x->data, NULL}, y->data};
    const vae_tensor *t[2] = {x, y};
    run_lines(axis, 2, t, &c, 20, x->dtype == VAE_F64 ? softmax_run_double : softmax_run_float);
}

void vae_k_softmax_grad(int axis, int log, const vae_tensor *y, const vae_tensor *gy,
                        vae_tensor *gx) {
    line_ctx c = {log, 0, 0, 0, {0}, {y->data, gy->data}, gx->data};
    const vae_tensor *t[3] = {y, gy, gx};
    run_lines(axis, 3, t, &c, log ? 12 : 4,
              y->dtype == VAE_F64 ? softmax_grad_run_double : softmax_grad_run_float);
}

void vae_k_cumsum(const vae_tensor *x, int axis, int exclusive, int reverse, vae_tensor *y,
                  int accumulate) {
    line_ctx c = {exclusive, reverse, accumulate, 0, {0}, {x->data, NULL}, y->data};
    const vae_tensor *t[2] = {x, y};
    run_lines(axis, 2, t, &c, 2, x->dtype == VAE_F64 ? cumsum_run_double : cumsum_run_float);
}
