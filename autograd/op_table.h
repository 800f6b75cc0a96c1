/* op_table.h - every differentiable op, once: X(ENUM, "name", arity, backward), the backward function being
 * named after it by autograd/internal.h, which declares every backward from this column.
 *
 * The unary, binary and reduce rows come from the kernel lists of tensor/kernels.h (VAE_UNARY_OPS, ...), so a
 * kernel id and its op are one row: there is no second enum to keep in step.
 * Adding an elementwise op = one row of VAE_UNARY_OPS or VAE_BINARY_OPS (forward and derivative expressions side
 * by side), a one-line builder in autograd/ops_elementwise.c declared in autograd/ops.h, and a gradcheck row in
 * tests/test_gradcheck.c (the meta-test fails until that row exists). Any other op = one row here, a kernel in
 * tensor/, a builder with its backward next to it in autograd/ops_*.c, and the gradcheck row.
 */
#ifndef VAE_OP_TABLE_H
#define VAE_OP_TABLE_H

#include "tensor/kernels.h"

/* A row of tensor/kernels.h's unary, binary and reduce lists as a row of this table. */
#define VAE_ROW_UNARY_OP(X, e, name, ...)  X(e, name, 1, unary)
#define VAE_ROW_BINARY_OP(X, e, name, ...) X(e, name, 2, binary)
#define VAE_ROW_REDUCE_OP(X, e, name)      X(e, name, 1, reduce)

#define VAE_OPS(X)                                                                                                  \
    /* unary elementwise, one per row of VAE_UNARY_OPS (tensor/kernels.h): node->ip[0] = vae_unary, p[0..1] = its \
     * scalar params */ \
    VAE_UNARY_OPS(VAE_ROW_UNARY_OP, X)                                                                              \
    /* binary elementwise with broadcasting, one per row of VAE_BINARY_OPS (ip[0] = vae_binary) */                  \
    VAE_BINARY_OPS(VAE_ROW_BINARY_OP, X)                                                                            \
    X(WHERE, "where", 3, where)                                                                                     \
    /* identity forward, gradient times a constant s (ops_elementwise.c; DReG's weights) */                         \
    X(GRAD_SCALE, "grad_scale", 2, grad_scale)                                                                      \
    /* along one axis (ops_axis.c: ip[0] = axis, ip[1] = log / exclusive) */                                       \
    X(SOFTMAX, "softmax", 1, softmax)                                                                               \
    X(LOG_SOFTMAX, "log_softmax", 1, softmax)                                                                       \
    X(CUMSUM, "cumsum", 1, cumsum)                                                                                  \
    /* reductions, one per row of VAE_REDUCE_OPS (ip[0] = vae_reduce, ip[1] = axes bit mask, saved = arg-max \
     * for max) */      \
    VAE_REDUCE_OPS(VAE_ROW_REDUCE_OP, X)                                                                            \
    /* linear algebra */                                                                                            \
    X(MATMUL, "matmul", 2, matmul)                                                                                  \
    /* movement: views replay themselves on the gradient (ip = their arguments) */                                  \
    X(RESHAPE, "reshape", 1, view)                                                                                  \
    X(PERMUTE, "permute", 1, view)                                                                                  \
    X(SLICE, "slice", 1, view)                                                                                      \
    X(EXPAND, "expand", 1, view)                                                                                    \
    X(SQUEEZE, "squeeze", 1, view)                                                                                  \
    X(UNSQUEEZE, "unsqueeze", 1, view)                                                                              \
    X(CONTIGUOUS, "contiguous", 1, copy)                                                                            \
    X(CAST, "cast", 1, copy)                                                                                        \
    X(CONCAT, "concat", -1, concat)                                                                                 \
    /* fused ops for the hot paths of VAE training (ops_fused.c) */                                                 \
    X(LINEAR, "linear", 3, linear)                                                                                  \
    X(BERNOULLI_LOGITS_LP, "bernoulli_logits_lp", 2, bernoulli_lp)                                                  \
    X(NORMAL_KL_STD, "normal_kl_std", 2, normal_kl_std)                                                          \
    X(NORMAL_LOGPDF, "normal_logpdf", 3, normal_logpdf)                                                          \
    /* convolutions (ops_conv.c): in = x, w, b (b may be NULL); ip[0] = stride, ip[1] = padding, ip[2] = output \
     * padding */                                                                                                \
    X(CONV2D, "conv2d", 3, conv2d)                                                                                  \
    X(CONV_TRANSPOSE2D, "conv_transpose2d", 3, conv_transpose2d)

typedef enum vae_op {
#define VAE_X_ENUM(e, name, arity, bw) VAE_OP_##e,
    VAE_OPS(VAE_X_ENUM)
#undef VAE_X_ENUM
        VAE_OP_COUNT_
} vae_op;

/* Name of an op ("matmul"), or "?" when out of range. */
VAE_API const char *vae_op_name(int op);
/* Declared arity (-1 = variadic). */
VAE_API int vae_op_arity(int op);

#endif
