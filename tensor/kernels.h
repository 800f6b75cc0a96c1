/* kernels.h - numeric kernels on strided tensors, f32 and f64.
 *
 * Kernels do no validation and no allocation: autograd/ checks shapes and dtypes, allocates outputs in the arena
 * and calls these. Every kernel reads strided (and stride-0 broadcast) inputs through the iterator in iter.h and
 * has a contiguous fast path. Outputs named `y` are contiguous unless said otherwise; all operands of one call share
 * a dtype unless said otherwise.
 */
#ifndef VAE_KERNELS_H
#define VAE_KERNELS_H

#include "tensor/tensor.h"
#include "tensor/threadpool.h"

/* Every unary elementwise function once, its derivative beside it:
 *   X(NAME, "name", cost, f(v), f'(v, y))
 * v is the input element, y = f(v) (the forward's output, so exp, sqrt, tanh and sigmoid reuse it), p0 and p1 the
 * op's scalar parameters, all of the kernel's dtype T. The math calls (U_EXP, U_LOG, ...) are dtype-generic:
 * kernels_unary.c maps them to the approximations of vmath.h for f32 and to libm for f64. Float literals (0.5f)
 * keep f32 arithmetic in f32 and are exact in f64. cost: work per element in units of an add (the threading
 * threshold). The vae_unary enum below and the unary rows of autograd/op_table.h are made from this list. */
/* clang-format off */
#define VAE_UNARY_OPS(U, arg)                                                                      \
    U(arg, NEG, "neg", 1, -v, -1)                                                                  \
    U(arg, EXP, "exp", 8, U_EXP(v), y)                                                             \
    U(arg, LOG, "log", 8, U_LOG(v), 1 / v)                                                         \
    U(arg, LOG1P, "log1p", 8, U_LOG1P(v), 1 / (1 + v))                                             \
    U(arg, EXPM1, "expm1", 8, U_EXPM1(v), y + 1)                                                   \
    U(arg, SQRT, "sqrt", 8, U_SQRT(v), 0.5f / y)                                                   \
    U(arg, SQUARE, "square", 1, v * v, 2 * v)                                                       \
    U(arg, ABS, "abs", 1, U_FABS(v), v > 0 ? 1 : (v < 0 ? -1 : 0))                                 \
    U(arg, TANH, "tanh", 8, U_TANH(v), 1 - y * y)                                                  \
    U(arg, SIGMOID, "sigmoid", 8, U_SIGMOID(v), y * (1 - y))                                        \
    U(arg, RELU, "relu", 1, v > 0 ? v : 0, v > 0 ? 1 : 0)                                          \
    U(arg, SOFTPLUS, "softplus", 8, U_SOFTPLUS(v), U_SIGMOID(v))                                   \
    U(arg, LOG_SIGMOID, "log_sigmoid", 8, -U_SOFTPLUS(-v), U_SIGMOID(-v))                          \
    U(arg, ELU, "elu", 8, v > 0 ? v : p0 * U_EXPM1(v), v > 0 ? 1 : y + p0)  /* p0 = alpha */       \
    U(arg, LEAKY_RELU, "leaky_relu", 1, v > 0 ? v : p0 * v, v > 0 ? 1 : p0) /* p0 = slope */       \
    U(arg, ADD_SCALAR, "add_scalar", 1, v + p0, 1)                                                 \
    U(arg, MUL_SCALAR, "mul_scalar", 1, v * p0, p0)                                                 \
    U(arg, POW_SCALAR, "pow_scalar", 8, U_POW(v, p0), p0 == 0 ? 0 : p0 * U_POW(v, p0 - 1))         \
    U(arg, CLAMP, "clamp", 1, v < p0 ? p0 : (v > p1 ? p1 : v),                                     \
      (v >= p0 && v <= p1) ? 1 : 0) /* [p0, p1] */                                                  \
    U(arg, LGAMMA, "lgamma", 40, U_LGAMMA(v), U_DIGAMMA(v))     /* log|Gamma|; tensor/special.c */   \
    U(arg, DIGAMMA, "digamma", 40, U_DIGAMMA(v), U_TRIGAMMA(v)) /* d lgamma; its d is trigamma */

/* Every binary elementwise function with broadcasting once, its partial derivatives beside it:
 *   X(NAME, "name", cost, a op b, d/da, d/db)      (y = a op b; ties of maximum/minimum send the gradient to a) */
#define VAE_BINARY_OPS(B, arg)                                                                     \
    B(arg, ADD, "add", 1, a + b, 1, 1)                                                             \
    B(arg, SUB, "sub", 1, a - b, 1, -1)                                                            \
    B(arg, MUL, "mul", 1, a *b, b, a)                                                              \
    B(arg, DIV, "div", 4, a / b, 1 / b, -y / b)                                                    \
    B(arg, MAXIMUM, "maximum", 1, a >= b ? a : b, a >= b, a < b)                                   \
    B(arg, MINIMUM, "minimum", 1, a <= b ? a : b, a <= b, a > b)

/* Comparisons: the binary kernels' forward (broadcast, a 0/1 result of the inputs' dtype), with no gradient, so no
 * op-table rows: masks are constants (autograd/ops_compare.c). Same row layout as VAE_BINARY_OPS, the partials
 * 0. Their vae_binary ids follow the differentiable ones. */
#define VAE_COMPARE_OPS(B, arg)                                                                    \
    B(arg, GT, "gt", 1, a > b, 0, 0)                                                               \
    B(arg, LT, "lt", 1, a < b, 0, 0)                                                               \
    B(arg, GE, "ge", 1, a >= b, 0, 0)                                                              \
    B(arg, LE, "le", 1, a <= b, 0, 0)                                                              \
    B(arg, EQ, "eq", 1, a == b, 0, 0)

/* Every reduction once: R(NAME, "name"). Kernels in kernels_reduce.c, gradients in autograd/ops_reduce.c. */
#define VAE_REDUCE_OPS(R, arg)                                                                     \
    R(arg, SUM, "sum")                                                                             \
    R(arg, MEAN, "mean")                                                                           \
    R(arg, MAX, "max")                                                                             \
    R(arg, LOGSUMEXP, "logsumexp")

/* clang-format on */
#define VAE_ROW_UNARY_ENUM(arg, e, ...)  VAE_U_##e,
#define VAE_ROW_BINARY_ENUM(arg, e, ...) VAE_B_##e,
#define VAE_ROW_REDUCE_ENUM(arg, e, ...) VAE_R_##e,
typedef enum vae_unary { VAE_UNARY_OPS(VAE_ROW_UNARY_ENUM, ~) VAE_U_COUNT_ } vae_unary;
typedef enum vae_binary {
    VAE_BINARY_OPS(VAE_ROW_BINARY_ENUM, ~) VAE_COMPARE_OPS(VAE_ROW_BINARY_ENUM, ~) VAE_B_COUNT_
} vae_binary;
typedef enum vae_reduce { VAE_REDUCE_OPS(VAE_ROW_REDUCE_ENUM, ~) VAE_R_COUNT_ } vae_reduce;

/* y = f(x), y contiguous with x's shape. */
VAE_API void vae_k_unary(vae_unary op, double p0, double p1, const vae_tensor *x, vae_tensor *y);
/* gx += gy * f'(x) elementwise (gx and gy contiguous, x's shape; y = f(x) as computed by forward). */
VAE_API void vae_k_unary_grad(vae_unary op, double p0, double p1, const vae_tensor *x, const vae_tensor *y,
                      const vae_tensor *gy, vae_tensor *gx);

/* y = a op b with NumPy broadcasting; y has the broadcast shape. A comparison (VAE_B_GT ...) writes 1 or 0. */
VAE_API void vae_k_binary(vae_binary op, const vae_tensor *a, const vae_tensor *b, vae_tensor *y);
/* g = gy * d(a op b)/d(side) in y's shape (side 0 = a, 1 = b); g is written, not accumulated. */
VAE_API void vae_k_binary_grad(vae_binary op, int side, const vae_tensor *a, const vae_tensor *b,
                       const vae_tensor *y, const vae_tensor *gy, vae_tensor *g);

/* y = mask != 0 ? a : b, broadcast; g = gy where the branch `side` (0 = a, 1 = b) was chosen, else 0. */
VAE_API void vae_k_where(const vae_tensor *mask, const vae_tensor *a, const vae_tensor *b, vae_tensor *y);
VAE_API void vae_k_where_grad(const vae_tensor *mask, int side, const vae_tensor *gy, vae_tensor *g);

/* Reduce x over the dims whose bit is set in `axes`; y is contiguous with those dims of size 1 (keepdim shape).
 * `aux`: for MAX, NULL or int64_t[numel(y)] receiving the row-major flat index into x of the first maximum of
 * each output; for LOGSUMEXP, required scratch of numel(y) elements of the dtype; unused otherwise.
 * LOGSUMEXP of a group that is all -inf is -inf. */
VAE_API void vae_k_reduce(vae_reduce op, const vae_tensor *x, uint32_t axes, vae_tensor *y, void *aux);

/* dst += src elementwise, over src's shape; dst is a view of src's shape whose strides may be 0 (then several src
 * elements add into one dst element: the un-broadcasting sum of backward). Threads split a stride-0 destination
 * by columns only, so every element's summation order is the serial one (fixed, any thread count). */
VAE_API void vae_k_accum(vae_tensor *dst, const vae_tensor *src);
/* dst = src over dst's shape (src broadcast to it), converting dtype when they differ. dst must not be a
 * broadcast view. */
VAE_API void vae_k_copy(vae_tensor *dst, const vae_tensor *src);
/* Every element of dst = v. */
VAE_API void vae_k_fill(vae_tensor *dst, double v);
/* Scale every element of dst by s (dst contiguous). */
VAE_API void vae_k_scale(vae_tensor *dst, double s);
/* 1 when every element is finite. */
VAE_API int vae_k_all_finite(const vae_tensor *x);

/* Activations of the fused linear layer (autograd's vae_act uses the same values, checked there). */
typedef enum vae_kact {
    VAE_KACT_IDENTITY,
    VAE_KACT_RELU,
    VAE_KACT_TANH,
    VAE_KACT_SIGMOID,
    VAE_KACT_SOFTPLUS,
    VAE_KACT_ELU,
    VAE_KACT_LEAKY_RELU,
    VAE_KACT_COUNT_
} vae_kact;

/* y (rows, n) contiguous: y = act(y + b) in place; b (n,) contiguous, or NULL for no bias. alpha: ELU / leaky
 * slope. */
VAE_API void vae_k_bias_act(vae_tensor *y, const vae_tensor *b, vae_kact act, double alpha);
/* g = gy * act'(pre), computed from the activation's OUTPUT y = act(pre); g, gy, y contiguous, one shape. */
VAE_API void vae_k_act_grad(vae_kact act, double alpha, const vae_tensor *y, const vae_tensor *gy,
                    vae_tensor *g);
/* Bernoulli log-likelihood from logits: out = sum over the last dim of x*l - softplus(l), with l and x broadcast
 * to the shape (..., D) of which out (contiguous) is the leading part. */
VAE_API void vae_k_bernoulli_lp(const vae_tensor *l, const vae_tensor *x, vae_tensor *out);
/* Its gradient with respect to the logits: g = gy[...] * (x - sigmoid(l)) over the broadcast shape (..., D); gy has
 * out's shape; g is contiguous (..., D) and is written (accumulate = 0) or added to (accumulate = 1). */
VAE_API void vae_k_bernoulli_lp_grad(const vae_tensor *l, const vae_tensor *x, const vae_tensor *gy,
                             vae_tensor *g, int accumulate);

/* The diagonal Normal log-density, elementwise: y = -((x - mu) / e^s)^2 / 2 - s - log(2 pi) / 2, with x, mu and s
 * (the log-scale) broadcast to y's shape (y contiguous); the same operations in the same order as the composed ops
 * exp, sub, div, square, mul_scalar(-1/2), sub, add_scalar(-log(2 pi) / 2), so the same bits. */
VAE_API void vae_k_normal_lpdf(const vae_tensor *x, const vae_tensor *mu, const vae_tensor *s, vae_tensor *y);
/* Its partials times gy over gy's shape (gy, gx, gmu, gs contiguous, that shape; x, mu, s broadcast to it): with
 * r = (x - mu) / e^s, gmu = gy r / e^s, gx = -gmu, gs = gy (r^2 - 1). gmu and gs NULL: gx alone (the partials of
 * constant parameters are not wanted). */
VAE_API void vae_k_normal_lpdf_grad(const vae_tensor *x, const vae_tensor *mu, const vae_tensor *s,
                                    const vae_tensor *gy, vae_tensor *gx, vae_tensor *gmu, vae_tensor *gs);

/* One Adam/AdamW step on n f32 elements of flat buffers, in float arithmetic, one range per thread (the ranges of
 * `own` when it was built for n and this thread count, else an even split; threadpool.h; the same bits for any
 * split): x' = x*decay, g' = g + wd*x', m = b1*m + (1-b1)*g', v = b2*v + (1-b2)*g'^2,
 * x = x' - step_size * m / (sqrt(v) * inv_sqrt_bc2 + eps). When sumsq is not NULL it also receives the sum of
 * squares of g, the bits of vae_k_sumsq(g, n, 0): in the same pass when every range of `own` starts and ends on a
 * multiple of vae_k_sumsq_chunk(n) (or at n; the parameter store's maps do, nn/params.h) or on 1 thread, else by a
 * second pass. */
typedef struct vae_k_adam {
    float b1, b2, wd, eps, step_size, inv_sqrt_bc2, decay;
} vae_k_adam;
VAE_API void vae_k_adam_f32(float *x, float *m, float *v, const float *g, int64_t n, const vae_k_adam *a,
                            const vae_owner_map *own, double *sumsq);
/* Zero n elements of elem_size bytes at p, one range per thread, pinned, split as vae_k_adam_f32 splits its n with
 * the same `own` (the gradients before a step: each thread clears the gradients its Adam ranges read, in its own
 * cache). */
VAE_API void vae_k_zero_shares(void *p, int64_t n, size_t elem_size, const vae_owner_map *own);

/* Dynamic binarization by a counter-based generator (kernels_rng.c): out (m, d) row i, column j = 1 with
 * probability p[idx[i]*d + j] (p[i*d + j] when idx is NULL), else 0, from the SplitMix64 output at position
 * ctr0 + i*d + j + 1 of the stream seeded with key. Each element depends only on (key, its counter, p), so any split
 * over threads (rows per task) or calls (ctr0) gives the same bits. */
VAE_API void vae_k_bernoulli_keyed_f32(uint64_t key, uint64_t ctr0, const float *p, int64_t d,
                                       const int64_t *idx, int64_t m, float *out);

/* KL(N(mu, e^lv) || N(0, I)) of f32 rows: y[r] = 0.5 sum_j mu[r,j]^2 + expm1(lv[r,j]) - lv[r,j], with row r of mu at
 * mu + r*smu (unit stride along j), likewise lv; terms and sum in f64, left to right; y (rows,). The gradient adds
 * gy[r] mu to gm and gy[r] / 2 expm1(lv) to gl, both (rows, Z) contiguous and each may be NULL. Serial (small). */
VAE_API void vae_k_normal_kl_std_f32(const float *mu, int64_t smu, const float *lv, int64_t slv, int64_t rows,
                                     int64_t Z, float *y);
VAE_API void vae_k_normal_kl_std_grad_f32(const float *mu, int64_t smu, const float *lv, int64_t slv,
                                          const float *gy, int64_t rows, int64_t Z, float *gm, float *gl);

/* Sum of squares of n values (f32, or f64 when f64 != 0), accumulated in f64 in a fixed order: the same bits for
 * any thread count and ISA. 0 for n <= 0 or NULL. (The gradient norm, every training step.) The order: chunks of
 * vae_k_sumsq_chunk(n) elements, each summed in 32 interleaved lanes folded in a fixed tree, the chunk sums added
 * in order. */
VAE_API double vae_k_sumsq(const void *x, int64_t n, int f64);
/* vae_k_sumsq's chunk length for n values: max(ceil(n / 256), 4096). */
VAE_API int64_t vae_k_sumsq_chunk(int64_t n);

/* Which compiled variant runs the f32-heavy kernels above (unary and its gradient, bias_act, act_grad, the
 * Bernoulli pair, adam_f32): the same C source built for the baseline ISA, AVX2+FMA or AVX-512. Every variant gives
 * the same bits (a NaN may differ in sign or payload: IEEE 754 leaves that open), so this only changes speed. The
 * GEMM has its own switch (gemm.h). */
typedef enum vae_simd_path {
    VAE_SIMD_AUTO,     /* the widest this build and CPU support */
    VAE_SIMD_PORTABLE, /* baseline ISA (SSE2 on x86-64), every platform */
    VAE_SIMD_AVX2,     /* AVX2 + FMA3 (FMA unused: contraction is off) */
    VAE_SIMD_AVX512,   /* AVX-512 F/VL/BW/DQ */
    VAE_SIMD_PATH_COUNT_
} vae_simd_path;

/* Choose the variant for every later call (process-wide); VAE_SIMD_AUTO picks the widest available.
 * VAE_ERR_UNSUPPORTED if this build or CPU lacks it, VAE_ERR_ARG outside the enum; unchanged on error. Without a
 * call, the env variable VAE_SIMD=portable|avx2|avx512|auto is read at first use (unknown or unsupported: auto). */
VAE_API vae_status vae_simd_set_path(vae_simd_path p);
/* The variant calls use now; never VAE_SIMD_AUTO. */
VAE_API vae_simd_path vae_simd_get_path(void);
/* "auto", "portable", "avx2", "avx512"; "unknown" for other values. Never NULL. */
VAE_API const char *vae_simd_path_name(vae_simd_path p);

/* Batched matmul: C(..., M, N) = A(..., M, K) @ B(..., K, N) + beta * C. A and B are given with C's batch ndim:
 * their batch strides may be 0 (broadcast); C's batch strides may be 0 too when beta = 1 (accumulating the sum over
 * a broadcast batch into one matrix, in batch order). Any row/column strides (transposes are free). */
VAE_API void vae_k_matmul(const vae_tensor *A, const vae_tensor *B, vae_tensor *C, double beta);

/* ---- 2-d convolution (kernels_conv.c): im2col/col2im around the GEMM, in PyTorch's layouts ----
 * x (..., C, H, W) may have any strides (the leading dims are the images, flattened); w is contiguous; b (O,) has
 * any stride or is NULL; y and every gradient are contiguous. Gradients are added to (+=) and may each be NULL.
 * s = stride, p = zero padding, both dims alike. Bit-identical for any thread count. Each returns 0, or -1 when
 * its scratch buffers cannot be allocated (then outputs are partly written). */
/* y (..., O, OH, OW) = conv2d(x (..., C, H, W), w (O, C, kh, kw)) + b; OH, OW are read from y. */
VAE_API int vae_k_conv2d(const vae_tensor *x, const vae_tensor *w, const vae_tensor *b, vae_tensor *y, int64_t s,
                         int64_t p);
/* gx (x's shape) += dL/dx, gw (O, C, kh, kw) += dL/dw, gb (O,) += dL/db, given gy = dL/dy (y's shape). */
VAE_API int vae_k_conv2d_grad(const vae_tensor *x, const vae_tensor *w, const vae_tensor *gy, vae_tensor *gx,
                              vae_tensor *gw, vae_tensor *gb, int64_t s, int64_t p);
/* y (..., O, OH, OW) = conv_transpose2d(x (..., C, H, W), w (C, O, kh, kw)) + b; OH, OW (which carry the output
 * padding) are read from y. */
VAE_API int vae_k_conv_transpose2d(const vae_tensor *x, const vae_tensor *w, const vae_tensor *b, vae_tensor *y,
                                   int64_t s, int64_t p);
/* Its gradients, as vae_k_conv2d_grad (gw is (C, O, kh, kw)). */
VAE_API int vae_k_conv_transpose2d_grad(const vae_tensor *x, const vae_tensor *w, const vae_tensor *gy,
                                        vae_tensor *gx, vae_tensor *gw, vae_tensor *gb, int64_t s, int64_t p);

#endif
