/* iter.h - (private) the one strided N-d iterator behind every elementwise kernel.
 *
 * Up to 4 operands share one logical shape; each has its own element strides (0 = broadcast). Dims that are
 * contiguous for every operand are merged and size-1 dims dropped, so a fully contiguous problem becomes one row
 * of numel elements (the fast path). Kernels then loop over rows: the inner dimension has length `n` and per-
 * operand strides `inner[k]`; `off[k]` is each operand's element offset at the start of the current row.
 */
#ifndef VAE_ITER_H
#define VAE_ITER_H

#include <stdint.h>

#include "tensor/tensor.h"

typedef struct vae__iter {
    int ndim; /* >= 1 after coalescing */
    int nops;
    int64_t shape[VAE_MAX_DIMS];
    int64_t stride[4][VAE_MAX_DIMS];
    int64_t rows; /* product of all dims but the last */
    int64_t n;    /* length of the last (inner) dim */
    int64_t inner[4];
    /* running state */
    int64_t idx[VAE_MAX_DIMS];
    int64_t off[4];
    int64_t base[4]; /* per-operand element offsets of the first element, as given to init */
} vae__iter;

static inline void vae__iter_init(vae__iter *it, int ndim, const int64_t *shape, int nops,
                                  const int64_t *const *strides, const int64_t *base) {
    int d = 0;
    it->nops = nops;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] == 1) continue;
        if (d > 0) {
            int merge = 1;
            for (int k = 0; k < nops; k++)
                if (it->stride[k][d - 1] != strides[k][i] * shape[i]) merge = 0;
            if (merge) {
                it->shape[d - 1] *= shape[i];
                for (int k = 0; k < nops; k++) it->stride[k][d - 1] = strides[k][i];
                continue;
            }
        }
        it->shape[d] = shape[i];
        for (int k = 0; k < nops; k++) it->stride[k][d] = strides[k][i];
        d++;
    }
    if (d == 0) {
        it->shape[0] = 1;
        for (int k = 0; k < nops; k++) it->stride[k][0] = 0;
        d = 1;
    }
    for (int i = 0; i < ndim; i++)
        if (shape[i] == 0) it->shape[0] = 0; /* empty: zero rows or zero length */
    it->ndim = d;
    it->n = it->shape[d - 1];
    it->rows = 1;
    for (int i = 0; i < d - 1; i++) it->rows *= it->shape[i];
    if (it->n == 0) it->rows = 0;
    for (int k = 0; k < nops; k++) {
        it->inner[k] = it->stride[k][d - 1];
        it->off[k] = it->base[k] = base[k];
    }
    for (int i = 0; i < d; i++) it->idx[i] = 0;
}

/* Position the iterator at row r (0 <= r < rows); base offsets as given to init. */
static inline void vae__iter_seek(vae__iter *it, int64_t r, const int64_t *base) {
    for (int k = 0; k < it->nops; k++) it->off[k] = base[k];
    for (int i = it->ndim - 2; i >= 0; i--) {
        int64_t q = r % it->shape[i];
        r /= it->shape[i];
        it->idx[i] = q;
        for (int k = 0; k < it->nops; k++) it->off[k] += q * it->stride[k][i];
    }
}

/* Advance to the next row. */
static inline void vae__iter_next(vae__iter *it) {
    for (int i = it->ndim - 2; i >= 0; i--) {
        if (++it->idx[i] < it->shape[i]) {
            for (int k = 0; k < it->nops; k++) it->off[k] += it->stride[k][i];
            return;
        }
        it->idx[i] = 0;
        for (int k = 0; k < it->nops; k++) it->off[k] -= it->stride[k][i] * (it->shape[i] - 1);
    }
}

/* A run: `len` consecutive elements of one row; off[k] is operand k's element offset of the run's first element
 * and it->inner[k] its stride within the run. */
typedef void (*vae__run_fn)(void *ctx, const vae__iter *it, const int64_t *off, int64_t len);

/* Call fn, in order, on the runs that cover the flat (row-major) elements [lo, hi) of the iteration space. `it` is
 * not modified (a copy walks). */
static inline void vae__iter_runs(const vae__iter *it0, int64_t lo, int64_t hi, vae__run_fn fn,
                                  void *ctx) {
    if (lo >= hi) return;
    vae__iter it = *it0;
    int64_t c = lo % it.n;
    vae__iter_seek(&it, lo / it.n, it.base);
    while (lo < hi) {
        int64_t len = it.n - c < hi - lo ? it.n - c : hi - lo, off[4];
        for (int k = 0; k < it.nops; k++) off[k] = it.off[k] + c * it.inner[k];
        fn(ctx, &it, off, len);
        lo += len;
        c = 0;
        vae__iter_next(&it);
    }
}

/* Below this much work (elements x the per-element cost of the kernel, in units of one add), a kernel runs on
 * the calling thread: waking a worker costs about as much as streaming 32k floats. */
#define VAE__PAR_WORK 32768

/* Number of tasks to split `work` units into (1 = run serially): at most 4 per thread, so a thread slowed down
 * by a noisy neighbour leaves its share to the others, and at least VAE__PAR_WORK / 2 units each. */
int64_t vae__par_tasks(double work);

/* Elementwise driver: fn over every element of the iteration space, split over threads in flat element ranges
 * (boundaries on multiples of 64 elements) when rows x n x cost >= VAE__PAR_WORK. Every element is computed by
 * the same code whatever the split, so the result is the same for any thread count; fn must write only the
 * elements of its run. */
void vae__iter_parallel(const vae__iter *it, double cost, vae__run_fn fn, void *ctx);

/* Split [0, total) into `parts` near-equal pieces with boundaries on multiples of `align`; piece `idx`. */
static inline void vae__split(int64_t total, int64_t parts, int64_t idx, int64_t align, int64_t *lo,
                              int64_t *hi) {
    const int64_t units = (total + align - 1) / align;
    const int64_t a = units * idx / parts * align, b = units * (idx + 1) / parts * align;
    *lo = a < total ? a : total;
    *hi = b < total ? b : total;
}

#endif
