/* op_table.h - every differentiable op, once: X(ENUM, "name", arity, backward function).
 *
 * Adding an op = one line here, a kernel in tensor/, a builder + backward in autograd/ops_*.c, and a gradcheck
 * row in tests/test_gradcheck.c (the meta-test fails until that row exists).
 */
#ifndef VAE_OP_TABLE_H
#define VAE_OP_TABLE_H

#define VAE_OPS(X)                                                                                 \
    /* unary elementwise (node->ip[0] = vae_unary, p[0..1] = scalar params) */                     \
    X(NEG, "neg", 1, vae__bw_unary)                                                                \
    X(EXP, "exp", 1, vae__bw_unary)                                                                \
    X(LOG, "log", 1, vae__bw_unary)                                                                \
    X(LOG1P, "log1p", 1, vae__bw_unary)                                                            \
    X(EXPM1, "expm1", 1, vae__bw_unary)                                                            \
    X(SQRT, "sqrt", 1, vae__bw_unary)                                                              \
    X(SQUARE, "square", 1, vae__bw_unary)                                                          \
    X(ABS, "abs", 1, vae__bw_unary)                                                                \
    X(TANH, "tanh", 1, vae__bw_unary)                                                              \
    X(SIGMOID, "sigmoid", 1, vae__bw_unary)                                                        \
    X(RELU, "relu", 1, vae__bw_unary)                                                              \
    X(SOFTPLUS, "softplus", 1, vae__bw_unary)                                                      \
    X(LOG_SIGMOID, "log_sigmoid", 1, vae__bw_unary)                                                \
    X(ELU, "elu", 1, vae__bw_unary)                                                                \
    X(LEAKY_RELU, "leaky_relu", 1, vae__bw_unary)                                                  \
    X(ADD_SCALAR, "add_scalar", 1, vae__bw_unary)                                                  \
    X(MUL_SCALAR, "mul_scalar", 1, vae__bw_unary)                                                  \
    X(POW_SCALAR, "pow_scalar", 1, vae__bw_unary)                                                  \
    X(CLAMP, "clamp", 1, vae__bw_unary)                                                            \
    /* binary elementwise with broadcasting (ip[0] = vae_binary) */                                \
    X(ADD, "add", 2, vae__bw_binary)                                                               \
    X(SUB, "sub", 2, vae__bw_binary)                                                               \
    X(MUL, "mul", 2, vae__bw_binary)                                                               \
    X(DIV, "div", 2, vae__bw_binary)                                                               \
    X(MAXIMUM, "maximum", 2, vae__bw_binary)                                                       \
    X(MINIMUM, "minimum", 2, vae__bw_binary)                                                       \
    X(WHERE, "where", 3, vae__bw_where)                                                            \
    /* identity forward, gradient times a constant s (ops_elementwise.c; DReG's weights) */        \
    X(GRAD_SCALE, "grad_scale", 2, vae__bw_grad_scale)                                             \
    /* reductions (ip[0] = vae_reduce, ip[1] = axes bit mask, saved = arg-max for max) */          \
    X(SUM, "sum", 1, vae__bw_reduce)                                                               \
    X(MEAN, "mean", 1, vae__bw_reduce)                                                             \
    X(MAX, "max", 1, vae__bw_reduce)                                                               \
    X(LOGSUMEXP, "logsumexp", 1, vae__bw_reduce)                                                   \
    /* linear algebra */                                                                           \
    X(MATMUL, "matmul", 2, vae__bw_matmul)                                                         \
    /* movement: views replay themselves on the gradient (ip = their arguments) */                 \
    X(RESHAPE, "reshape", 1, vae__bw_view)                                                         \
    X(PERMUTE, "permute", 1, vae__bw_view)                                                         \
    X(SLICE, "slice", 1, vae__bw_view)                                                             \
    X(EXPAND, "expand", 1, vae__bw_view)                                                           \
    X(SQUEEZE, "squeeze", 1, vae__bw_view)                                                         \
    X(UNSQUEEZE, "unsqueeze", 1, vae__bw_view)                                                     \
    X(CONTIGUOUS, "contiguous", 1, vae__bw_copy)                                                   \
    X(CAST, "cast", 1, vae__bw_copy)                                                               \
    X(CONCAT, "concat", -1, vae__bw_concat)                                                        \
    /* fused ops for the hot paths of VAE training (ops_fused.c) */                                \
    X(LINEAR, "linear", 3, vae__bw_linear)                                                         \
    X(BERNOULLI_LOGITS_LP, "bernoulli_logits_lp", 2, vae__bw_bernoulli_lp)                         \
    X(NORMAL_KL_STD, "normal_kl_std", 2, vae__bw_normal_kl_std)

typedef enum vae_op {
#define VAE_X_ENUM(e, name, arity, bw) VAE_OP_##e,
    VAE_OPS(VAE_X_ENUM)
#undef VAE_X_ENUM
        VAE_OP_COUNT_
} vae_op;

/* Name of an op ("matmul"), or "?" when out of range. */
const char *vae_op_name(int op);
/* Declared arity (-1 = variadic). */
int vae_op_arity(int op);

#endif
