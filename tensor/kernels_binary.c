/* Binary elementwise kernels with broadcasting, their derivatives, and where(). */
#include <tgmath.h>

#include "iter.h"
#include "kernels.h"
#include "view.h"

/* Read a and b with y's shape: broadcast strides, 0 where expanded. */
static void bstrides(const vae_tensor *x, const vae_tensor *y, int64_t *st) {
    vae_broadcast_strides(x, y->ndim, y->shape, st);
}

#define DEFINE_BINARY(T)                                                                           \
    static void binary_##T(vae_binary op, const vae_tensor *a, const vae_tensor *b, vae_tensor *y) { \
        int64_t sa[VAE_MAX_DIMS], sb[VAE_MAX_DIMS];                                                \
        bstrides(a, y, sa);                                                                        \
        bstrides(b, y, sb);                                                                        \
        const int64_t *st[3] = {sa, sb, y->stride};                                                \
        int64_t base[3] = {a->offset, b->offset, y->offset};                                       \
        vae__iter it;                                                                              \
        vae__iter_init(&it, y->ndim, y->shape, 3, st, base);                                       \
        const T *ap = a->data, *bp = b->data;                                                      \
        T *yp = y->data;                                                                           \
        int64_t n = it.n, s0 = it.inner[0], s1 = it.inner[1];                                      \
        for (int64_t r = 0; r < it.rows; r++, vae__iter_next(&it)) {                               \
            const T *x0 = ap + it.off[0], *x1 = bp + it.off[1];                                    \
            T *o = yp + it.off[2];                                                                 \
            switch (op) {                                                                          \
            case VAE_B_ADD:                                                                        \
                for (int64_t i = 0; i < n; i++) o[i] = x0[i * s0] + x1[i * s1];                    \
                break;                                                                             \
            case VAE_B_SUB:                                                                        \
                for (int64_t i = 0; i < n; i++) o[i] = x0[i * s0] - x1[i * s1];                    \
                break;                                                                             \
            case VAE_B_MUL:                                                                        \
                for (int64_t i = 0; i < n; i++) o[i] = x0[i * s0] * x1[i * s1];                    \
                break;                                                                             \
            case VAE_B_DIV:                                                                        \
                for (int64_t i = 0; i < n; i++) o[i] = x0[i * s0] / x1[i * s1];                    \
                break;                                                                             \
            case VAE_B_MAXIMUM:                                                                    \
                for (int64_t i = 0; i < n; i++)                                                    \
                    o[i] = x0[i * s0] >= x1[i * s1] ? x0[i * s0] : x1[i * s1];                     \
                break;                                                                             \
            case VAE_B_MINIMUM:                                                                    \
                for (int64_t i = 0; i < n; i++)                                                    \
                    o[i] = x0[i * s0] <= x1[i * s1] ? x0[i * s0] : x1[i * s1];                     \
                break;                                                                             \
            default: break;                                                                        \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
    /* d(a op b)/da, d(a op b)/db; ties of maximum/minimum send the gradient to a */                \
    static inline T der_##T(vae_binary op, int side, T a, T b, T y) {                              \
        switch (op) {                                                                              \
        case VAE_B_ADD: return 1;                                                                  \
        case VAE_B_SUB: return side ? -1 : 1;                                                      \
        case VAE_B_MUL: return side ? a : b;                                                       \
        case VAE_B_DIV: return side ? -y / b : 1 / b;                                              \
        case VAE_B_MAXIMUM: return side ? (T)(a < b) : (T)(a >= b);                                \
        case VAE_B_MINIMUM: return side ? (T)(a > b) : (T)(a <= b);                                \
        default: return 0;                                                                         \
        }                                                                                          \
    }                                                                                              \
    static void binary_grad_##T(vae_binary op, int side, const vae_tensor *a, const vae_tensor *b, \
                                const vae_tensor *y, const vae_tensor *gy, vae_tensor *g) {        \
        int64_t sa[VAE_MAX_DIMS], sb[VAE_MAX_DIMS];                                                \
        bstrides(a, y, sa);                                                                        \
        bstrides(b, y, sb);                                                                        \
        const int64_t *st[4] = {sa, sb, gy->stride, g->stride};                                    \
        int64_t base[4] = {a->offset, b->offset, gy->offset, g->offset};                           \
        vae__iter it;                                                                              \
        vae__iter_init(&it, y->ndim, y->shape, 4, st, base);                                       \
        const T *ap = a->data, *bp = b->data, *gp = gy->data;                                      \
        T *op_ = g->data;                                                                          \
        int64_t n = it.n, s0 = it.inner[0], s1 = it.inner[1], s2 = it.inner[2], s3 = it.inner[3];  \
        for (int64_t r = 0; r < it.rows; r++, vae__iter_next(&it)) {                               \
            const T *x0 = ap + it.off[0], *x1 = bp + it.off[1], *gg = gp + it.off[2];              \
            T *o = op_ + it.off[3];                                                                \
            if (op == VAE_B_ADD || (op == VAE_B_SUB && !side)) {                                   \
                for (int64_t i = 0; i < n; i++) o[i * s3] = gg[i * s2];                            \
            } else if (op == VAE_B_MUL) {                                                          \
                const T *other = side ? x0 : x1;                                                   \
                int64_t so = side ? s0 : s1;                                                       \
                for (int64_t i = 0; i < n; i++) o[i * s3] = gg[i * s2] * other[i * so];            \
            } else {                                                                               \
                for (int64_t i = 0; i < n; i++) {                                                  \
                    T av = x0[i * s0], bv = x1[i * s1];                                            \
                    T yv = op == VAE_B_DIV ? av / bv : 0;                                          \
                    o[i * s3] = gg[i * s2] * der_##T(op, side, av, bv, yv);                        \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
    static void where_##T(const vae_tensor *m, const vae_tensor *a, const vae_tensor *b,           \
                          vae_tensor *y) {                                                         \
        int64_t sm[VAE_MAX_DIMS], sa[VAE_MAX_DIMS], sb[VAE_MAX_DIMS];                              \
        bstrides(m, y, sm);                                                                        \
        bstrides(a, y, sa);                                                                        \
        bstrides(b, y, sb);                                                                        \
        const int64_t *st[4] = {sm, sa, sb, y->stride};                                            \
        int64_t base[4] = {m->offset, a->offset, b->offset, y->offset};                            \
        vae__iter it;                                                                              \
        vae__iter_init(&it, y->ndim, y->shape, 4, st, base);                                       \
        const T *mp = m->data, *ap = a->data, *bp = b->data;                                       \
        T *yp = y->data;                                                                           \
        for (int64_t r = 0; r < it.rows; r++, vae__iter_next(&it))                                 \
            for (int64_t i = 0; i < it.n; i++)                                                     \
                yp[it.off[3] + i * it.inner[3]] = mp[it.off[0] + i * it.inner[0]] != 0             \
                                                      ? ap[it.off[1] + i * it.inner[1]]            \
                                                      : bp[it.off[2] + i * it.inner[2]];           \
    }                                                                                              \
    static void where_grad_##T(const vae_tensor *m, int side, const vae_tensor *gy, vae_tensor *g) { \
        int64_t sm[VAE_MAX_DIMS];                                                                  \
        bstrides(m, gy, sm);                                                                       \
        const int64_t *st[3] = {sm, gy->stride, g->stride};                                        \
        int64_t base[3] = {m->offset, gy->offset, g->offset};                                      \
        vae__iter it;                                                                              \
        vae__iter_init(&it, gy->ndim, gy->shape, 3, st, base);                                     \
        const T *mp = m->data, *gp = gy->data;                                                     \
        T *op_ = g->data;                                                                          \
        for (int64_t r = 0; r < it.rows; r++, vae__iter_next(&it))                                 \
            for (int64_t i = 0; i < it.n; i++) {                                                   \
                int take = (mp[it.off[0] + i * it.inner[0]] != 0) == !side;                        \
                op_[it.off[2] + i * it.inner[2]] = take ? gp[it.off[1] + i * it.inner[1]] : 0;     \
            }                                                                                      \
    }

DEFINE_BINARY(float)
DEFINE_BINARY(double)

void vae_k_binary(vae_binary op, const vae_tensor *a, const vae_tensor *b, vae_tensor *y) {
    if (y->dtype == VAE_F64) binary_double(op, a, b, y);
    else binary_float(op, a, b, y);
}

void vae_k_binary_grad(vae_binary op, int side, const vae_tensor *a, const vae_tensor *b,
                       const vae_tensor *y, const vae_tensor *gy, vae_tensor *g) {
    if (y->dtype == VAE_F64) binary_grad_double(op, side, a, b, y, gy, g);
    else binary_grad_float(op, side, a, b, y, gy, g);
}

void vae_k_where(const vae_tensor *mask, const vae_tensor *a, const vae_tensor *b, vae_tensor *y) {
    if (y->dtype == VAE_F64) where_double(mask, a, b, y);
    else where_float(mask, a, b, y);
}

void vae_k_where_grad(const vae_tensor *mask, int side, const vae_tensor *gy, vae_tensor *g) {
    if (gy->dtype == VAE_F64) where_grad_double(mask, side, gy, g);
    else where_grad_float(mask, side, gy, g);
}
