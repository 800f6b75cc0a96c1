/* tensor.h - the strided tensor, its creation, element access and debug printing.
 *
 * A tensor is an open struct (NumPy/PyTorch layout): dtype, ndim <= 8, shape, ELEMENT strides (0 = broadcast),
 * an element offset, and a pointer to the root storage. Views never copy and never chain: a view of a view points at
 * the same root. Last dimension innermost.
 *
 * Lifetime rule: a tensor allocated in an arena is valid until that arena is reset or freed. Wrapped caller buffers
 * (vae_tensor_wrap) are never freed by the library.
 */
#ifndef VAE_TENSOR_H
#define VAE_TENSOR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tensor/arena.h"
#include "tensor/error.h"

#define VAE_MAX_DIMS 8

typedef enum vae_dtype { VAE_F32 = 0, VAE_F64 = 1 } vae_dtype;

/* Tensor flags. */
enum {
    VAE_TF_READONLY = 1u << 0,      /* a broadcast view: writes would alias */
    VAE_TF_REQUIRES_GRAD = 1u << 1, /* autograd tracks it */
    VAE_TF_PARAM = 1u << 2,         /* lives in a parameter store (model lifetime) */
    VAE_TF_CALLER = 1u << 3,        /* wraps a caller's buffer */
};

typedef struct vae_tensor {
    vae_dtype dtype;
    int ndim;
    int64_t shape[VAE_MAX_DIMS];
    int64_t stride[VAE_MAX_DIMS]; /* in elements; 0 = broadcast along that dim */
    int64_t offset;               /* element offset of index (0,...,0) from `data` */
    void *data;                   /* base of the root storage */
    struct vae_tensor *root;      /* tensor that owns the storage (itself for a root) */
    uint32_t flags;
    /* Autograd bookkeeping (used by autograd/, ignored here). */
    struct vae_tensor *grad; /* dL/dthis: contiguous, same shape; NULL until a gradient arrives */
    void *node;              /* tape node that produced it; NULL for a leaf */
    const char *name;        /* optional, for messages (parameters have names) */
    /* Which arena allocated this struct and in which of its generations (resets): 0, 0 for a tensor not made
     * by vae_tensor_alloc/_wrap/_view_of (parameters). Ops refuse a tensor of their context's arena whose
     * generation is not the current one: it was kept across a reset and its memory now holds other data. */
    uint32_t arena_id, arena_gen;
} vae_tensor;

/* Builds the (ndim, shape) argument pair from a literal list: vae_zeros(ctx, VAE_F32, VAE_SHAPE(3, 4)). */
#define VAE_SHAPE(...)                                                                             \
    (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (const int64_t[]) {                 \
        __VA_ARGS__                                                                                \
    }

/* Bytes per element of a dtype (4 or 8). */
VAE_API size_t vae_dtype_size(vae_dtype dt);
VAE_API const char *vae_dtype_name(vae_dtype dt);

/* Number of elements (1 for a 0-d tensor). */
VAE_API int64_t vae_numel(const vae_tensor *t);
/* 1 when the strides are the row-major contiguous ones (size-1 dims ignored). */
VAE_API int vae_is_contiguous(const vae_tensor *t);
/* 1 when both have the same ndim and shape. */
VAE_API int vae_same_shape(const vae_tensor *a, const vae_tensor *b);
/* Pointer to the element at logical index (0,...,0). */
VAE_API void *vae_tensor_ptr(const vae_tensor *t);

/* Validates ndim/shape (0 <= ndim <= 8, dims >= 0, element count and byte size without overflow); on failure sets
 * err (op name `op`) and returns 0, else returns 1 and stores the element count in *numel. */
VAE_API int vae_shape_check(vae_error *err, const char *op, int ndim, const int64_t *shape,
                            vae_dtype dt, int64_t *numel);

/* Fills `strides` with the row-major contiguous strides of `shape`. */
VAE_API void vae_contiguous_strides(int ndim, const int64_t *shape, int64_t *strides);

/* New contiguous tensor in arena `a`, contents uninitialized. NULL (error in err) on a bad shape or OOM. */
VAE_API vae_tensor *vae_tensor_alloc(vae_arena *a, vae_error *err, vae_dtype dt, int ndim,
                                     const int64_t *shape);
/* New tensor struct describing a caller's contiguous buffer (not copied, never freed). NULL on bad shape/OOM. */
VAE_API vae_tensor *vae_tensor_wrap(vae_arena *a, vae_error *err, vae_dtype dt, int ndim,
                                    const int64_t *shape, void *data);
/* New tensor struct sharing x's storage with the given geometry (a view); NULL on OOM. */
VAE_API vae_tensor *vae_tensor_view_of(vae_arena *a, vae_error *err, const vae_tensor *x, int ndim,
                                       const int64_t *shape, const int64_t *stride, int64_t offset);

/* Element at a flat row-major logical index, as double (no bounds check beyond an internal assert). */
VAE_API double vae_get_flat(const vae_tensor *t, int64_t i);
/* Store v (converted to the dtype) at a flat row-major logical index. */
VAE_API void vae_set_flat(vae_tensor *t, int64_t i, double v);
/* Element at a multi-index (ndim entries). */
VAE_API double vae_get(const vae_tensor *t, const int64_t *idx);
/* The single element of a tensor with numel 1, as double; NaN when t is NULL or not a single element. */
VAE_API double vae_item(const vae_tensor *t);
/* Copy all elements, in row-major logical order, into dst as double (dst has numel entries). */
VAE_API void vae_tensor_to_f64(const vae_tensor *t, double *dst);

/* Write a readable description ("tensor f32 (2,3) [[1, 2, 3], [4, 5, 6]]") to f, eliding after `max_items`
 * elements per dimension (0 = 6). Does nothing when f or t is NULL. */
VAE_API void vae_tensor_fprint(FILE *f, const vae_tensor *t, int max_items);

#endif
