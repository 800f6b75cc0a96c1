/* Binary elementwise kernels with broadcasting, their derivatives, and where(). Inputs are read with y's shape
 * through broadcast strides (0 where expanded); each kernel is a run function (iter.h) with a unit-stride loop
 * for the contiguous case, threaded over element ranges by vae__iter_parallel (same bits for any thread count). */
#include "iter.h"
#include "kernels.h"
#include "view.h"

typedef struct {
    int op, side;
    const void *a, *b, *c, *d;
    void *out;
} bin_ctx;

/* One case per row of VAE_BINARY_OPS and VAE_COMPARE_OPS (kernels.h): a unit-stride loop and a strided loop,
 * and the partials (of the differentiable rows). */
#define CONTIG_LOOP(T, e, name, cost, f, da, db)                                                   \
    case VAE_B_##e:                                                                                \
        for (int64_t i = 0; i < n; i++) {                                                          \
            const T a = x0[i], b = x1[i];                                                          \
            o[i] = (T)(f);                                                                         \
        }                                                                                          \
        return;
#define STRIDED_LOOP(T, e, name, cost, f, da, db)                                                  \
    case VAE_B_##e:                                                                                \
        for (int64_t i = 0; i < n; i++) {                                                          \
            const T a = x0[i * s0], b = x1[i * s1];                                                \
            o[i * so] = (T)(f);                                                                    \
        }                                                                                          \
        return;
#define DER_CASE(T, e, name, cost, f, da, db)                                                      \
    case VAE_B_##e:                                                                                \
        return side ? (T)(db) : (T)(da);

#define DEFINE_BINARY(T)                                                                           \
    /* o = x0 op x1 on one run; unit-stride operands get loops without strides (vectorized) */     \
    static void binary_run_##T(void *vc, const vae__iter *it, const int64_t *off, int64_t n) {     \
        const bin_ctx *c = vc;                                                                     \
        const T *x0 = (const T *)c->a + off[0], *x1 = (const T *)c->b + off[1];                    \
        T *o = (T *)c->out + off[2];                                                               \
        const int64_t s0 = it->inner[0], s1 = it->inner[1], so = it->inner[2];                     \
        if (so == 1 && s0 == 1 && s1 == 1) {                                                       \
            switch (c->op) {                                                                       \
                VAE_BINARY_OPS(CONTIG_LOOP, T)                                                     \
                VAE_COMPARE_OPS(CONTIG_LOOP, T)                                                    \
            }                                                                                      \
        }                                                                                          \
        switch (c->op) {                                                                           \
            VAE_BINARY_OPS(STRIDED_LOOP, T)                                                        \
            VAE_COMPARE_OPS(STRIDED_LOOP, T)                                                       \
        }                                                                                          \
    }                                                                                              \
    /* d(a op b)/da (side 0), d(a op b)/db (side 1) */                                             \
    static inline T der_##T(vae_binary op, int side, T a, T b, T y) {                              \
        (void)y;                                                                                   \
        switch (op) {                                                                              \
            VAE_BINARY_OPS(DER_CASE, T)                                                            \
        default:                                                                                   \
            return 0;                                                                              \
        }                                                                                          \
    }                                                                                              \
    static void binary_grad_run_##T(void *vc, const vae__iter *it, const int64_t *off,             \
                                    int64_t n) {                                                   \
        const bin_ctx *c = vc;                                                                     \
        const int op = c->op, side = c->side;                                                      \
        const T *x0 = (const T *)c->a + off[0], *x1 = (const T *)c->b + off[1];                    \
        const T *gg = (const T *)c->c + off[2];                                                    \
        T *o = (T *)c->out + off[3];                                                               \
        const int64_t s0 = it->inner[0], s1 = it->inner[1], s2 = it->inner[2], s3 = it->inner[3];  \
        if (op == VAE_B_ADD || (op == VAE_B_SUB && !side)) {                                       \
            for (int64_t i = 0; i < n; i++) o[i * s3] = gg[i * s2];                                \
        } else if (op == VAE_B_MUL) {                                                              \
            const T *other = side ? x0 : x1;                                                       \
            const int64_t so = side ? s0 : s1;                                                     \
            if (so == 1 && s2 == 1 && s3 == 1)                                                     \
                for (int64_t i = 0; i < n; i++) o[i] = gg[i] * other[i];                           \
            else                                                                                   \
                for (int64_t i = 0; i < n; i++) o[i * s3] = gg[i * s2] * other[i * so];            \
        } else {                                                                                   \
            for (int64_t i = 0; i < n; i++) {                                                      \
                T av = x0[i * s0], bv = x1[i * s1];                                                \
                T yv = op == VAE_B_DIV ? av / bv : 0;                                              \
                o[i * s3] = gg[i * s2] * der_##T((vae_binary)op, side, av, bv, yv);                \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
    /* y = m != 0 ? a : b */                                                                       \
    static void where_run_##T(void *vc, const vae__iter *it, const int64_t *off, int64_t n) {      \
        const bin_ctx *c = vc;                                                                     \
        const T *m = (const T *)c->a + off[0], *a = (const T *)c->b + off[1];                      \
        const T *b = (const T *)c->c + off[2];                                                     \
        T *o = (T *)c->out + off[3];                                                               \
        const int64_t s0 = it->inner[0], s1 = it->inner[1], s2 = it->inner[2], s3 = it->inner[3];  \
        if (s0 == 1 && s1 == 1 && s2 == 1 && s3 == 1)                                              \
            for (int64_t i = 0; i < n; i++) { /* both loads unconditional: a select, vectorized */ \
                const T av = a[i], bv = b[i];                                                      \
                o[i] = m[i] != 0 ? av : bv;                                                        \
            }                                                                                      \
        else                                                                                       \
            for (int64_t i = 0; i < n; i++) o[i * s3] = m[i * s0] != 0 ? a[i * s1] : b[i * s2];    \
    }                                                                                              \
    /* g = gy where branch `side` was taken, else 0 */                                             \
    static void where_grad_run_##T(void *vc, const vae__iter *it, const int64_t *off, int64_t n) { \
        const bin_ctx *c = vc;                                                                     \
        const T *m = (const T *)c->a + off[0], *gy = (const T *)c->b + off[1];                     \
        T *o = (T *)c->out + off[2];                                                               \
        const int64_t s0 = it->inner[0], s1 = it->inner[1], s2 = it->inner[2];                     \
        const int side = c->side;                                                                  \
        for (int64_t i = 0; i < n; i++) o[i * s2] = ((m[i * s0] != 0) == !side) ? gy[i * s1] : 0;  \
    }

DEFINE_BINARY(float)
DEFINE_BINARY(double)

static double binary_cost(vae_binary op) {
    static const double cost[VAE_B_COUNT_] = {
#define COST_ROW(arg, e, name, cost, f, da, db) [VAE_B_##e] = cost,
        VAE_BINARY_OPS(COST_ROW, ~) VAE_COMPARE_OPS(COST_ROW, ~)
#undef COST_ROW
    };
    return (unsigned)op < VAE_B_COUNT_ ? cost[op] : 4;
}

/* Run `fn` over y's shape with nops operands (broadcast strides for the inputs, y's own strides for the last). */
static void run_bcast(const vae_tensor *y, int nin, const vae_tensor *const *in, vae_tensor *out,
                      double cost, vae__run_fn fn, bin_ctx *c) {
    int64_t st[4][VAE_MAX_DIMS], base[4];
    const int64_t *sp[4];
    for (int k = 0; k < nin; k++) {
        vae_broadcast_strides(in[k], y->ndim, y->shape, st[k]);
        sp[k] = st[k];
        base[k] = in[k]->offset;
    }
    sp[nin] = out->stride;
    base[nin] = out->offset;
    vae__iter it;
    vae__iter_init(&it, y->ndim, y->shape, nin + 1, sp, base);
    vae__iter_parallel(&it, cost, fn, c);
}

void vae_k_binary(vae_binary op, const vae_tensor *a, const vae_tensor *b, vae_tensor *y) {
    bin_ctx c = {op, 0, a->data, b->data, NULL, NULL, y->data};
    const vae_tensor *in[2] = {a, b};
    run_bcast(y, 2, in, y, binary_cost(op),
              y->dtype == VAE_F64 ? binary_run_double : binary_run_float, &c);
}

void vae_k_binary_grad(vae_binary op, int side, const vae_tensor *a, const vae_tensor *b,
                       const vae_tensor *y, const vae_tensor *gy, vae_tensor *g) {
    bin_ctx c = {op, side, a->data, b->data, gy->data, NULL, g->data};
    const vae_tensor *in[3] = {a, b, gy};
    run_bcast(y, 3, in, g, binary_cost(op),
              y->dtype == VAE_F64 ? binary_grad_run_double : binary_grad_run_float, &c);
}

void vae_k_where(const vae_tensor *mask, const vae_tensor *a, const vae_tensor *b, vae_tensor *y) {
    bin_ctx c = {0, 0, mask->data, a->data, b->data, NULL, y->data};
    const vae_tensor *in[3] = {mask, a, b};
    run_bcast(y, 3, in, y, 1, y->dtype == VAE_F64 ? where_run_double : where_run_float, &c);
}

void vae_k_where_grad(const vae_tensor *mask, int side, const vae_tensor *gy, vae_tensor *g) {
    bin_ctx c = {0, side, mask->data, gy->data, NULL, NULL, g->data};
    const vae_tensor *in[2] = {mask, gy};
    run_bcast(gy, 2, in, g, 1, gy->dtype == VAE_F64 ? where_grad_run_double : where_grad_run_float,
              &c);
}
