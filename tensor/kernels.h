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

/* Unary functions y = f(x; p0, p1). */
typedef enum vae_unary {
    VAE_U_NEG,
    VAE_U_EXP,
    VAE_U_LOG,
    VAE_U_LOG1P,
    VAE_U_EXPM1,
    VAE_U_SQRT,
    VAE_U_SQUARE,
    VAE_U_ABS,
    VAE_U_TANH,
    VAE_U_SIGMOID,
    VAE_U_RELU,
    VAE_U_SOFTPLUS,
    VAE_U_LOG_SIGMOID,
    VAE_U_ELU,        /* x > 0 ? x : p0 * expm1(x) */
    VAE_U_LEAKY_RELU, /* x > 0 ? x : p0 * x */
    VAE_U_ADD_SCALAR, /* x + p0 */
    VAE_U_MUL_SCALAR, /* x * p0 */
    VAE_U_POW_SCALAR, /* x ^ p0 */
    VAE_U_CLAMP,      /* min(max(x, p0), p1) */
    VAE_U_COUNT_
} vae_unary;

typedef enum vae_binary {
    VAE_B_ADD,
    VAE_B_SUB,
    VAE_B_MUL,
    VAE_B_DIV,
    VAE_B_MAXIMUM,
    VAE_B_MINIMUM,
    VAE_B_COUNT_
} vae_binary;

typedef enum vae_reduce {
    VAE_R_SUM,
    VAE_R_MEAN,
    VAE_R_MAX,
    VAE_R_LOGSUMEXP,
    VAE_R_COUNT_
} vae_reduce;

/* y = f(x), y contiguous with x's shape. */
void vae_k_unary(vae_unary op, double p0, double p1, const vae_tensor *x, vae_tensor *y);
/* gx += gy * f'(x) elementwise (gx and gy contiguous, x's shape; y = f(x) as computed by forward). */
void vae_k_unary_grad(vae_unary op, double p0, double p1, const vae_tensor *x, const vae_tensor *y,
                      const vae_tensor *gy, vae_tensor *gx);

/* y = a op b with NumPy broadcasting; y has the broadcast shape. */
void vae_k_binary(vae_binary op, const vae_tensor *a, const vae_tensor *b, vae_tensor *y);
/* g = gy * d(a op b)/d(side) in y's shape (side 0 = a, 1 = b); g is written, not accumulated. */
void vae_k_binary_grad(vae_binary op, int side, const vae_tensor *a, const vae_tensor *b,
                       const vae_tensor *y, const vae_tensor *gy, vae_tensor *g);

/* y = mask != 0 ? a : b, broadcast; g = gy where the branch `side` (0 = a, 1 = b) was chosen, else 0. */
void vae_k_where(const vae_tensor *mask, const vae_tensor *a, const vae_tensor *b, vae_tensor *y);
void vae_k_where_grad(const vae_tensor *mask, int side, const vae_tensor *gy, vae_tensor *g);

/* Reduce x over the dims whose bit is set in `axes`; y is contiguous with those dims of size 1 (keepdim shape).
 * `aux`: for MAX, NULL or int64_t[numel(y)] receiving the row-major flat index into x of the first maximum of
 * each output; for LOGSUMEXP, required scratch of numel(y) elements of the dtype; unused otherwise.
 * LOGSUMEXP of a group that is all -inf is -inf. */
void vae_k_reduce(vae_reduce op, const vae_tensor *x, uint32_t axes, vae_tensor *y, void *aux);

/* dst += src elementwise, over src's shape; dst is a view of src's shape whose strides may be 0 (then several src
 * elements add into one dst element: the un-broadcasting sum of backward). Threads split a stride-0 destination
 * by columns only, so every element's summation order is the serial one (fixed, any thread count). */
void vae_k_accum(vae_tensor *dst, const vae_tensor *src);
/* dst = src over dst's shape (src broadcast to it), converting dtype when they differ. dst must not be a
 * broadcast view. */
void vae_k_copy(vae_tensor *dst, const vae_tensor *src);
/* Every element of dst = v. */
void vae_k_fill(vae_tensor *dst, double v);
/* Scale every element of dst by s (dst contiguous). */
void vae_k_scale(vae_tensor *dst, double s);
/* 1 when every element is finite. */
int vae_k_all_finite(const vae_tensor *x);

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
void vae_k_bias_act(vae_tensor *y, const vae_tensor *b, vae_kact act, double alpha);
/* g = gy * act'(pre), computed from the activation's OUTPUT y = act(pre); g, gy, y contiguous, one shape. */
void vae_k_act_grad(vae_kact act, double alpha, const vae_tensor *y, const vae_tensor *gy,
                    vae_tensor *g);
/* Bernoulli log-likelihood from logits: out = sum over the last dim of x*l - softplus(l), with l and x broadcast
 * to the shape (..., D) of which out (contiguous) is the leading part. */
void vae_k_bernoulli_lp(const vae_tensor *l, const vae_tensor *x, vae_tensor *out);
/* Its gradient with respect to the logits: g = gy[...] * (x - sigmoid(l)) over the broadcast shape (..., D); gy has
 * out's shape; g is contiguous (..., D) and is written (accumulate = 0) or added to (accumulate = 1). */
void vae_k_bernoulli_lp_grad(const vae_tensor *l, const vae_tensor *x, const vae_tensor *gy,
                             vae_tensor *g, int accumulate);

/* One Adam/AdamW step on n f32 elements of flat buffers, in float arithmetic, threaded over fixed chunks (same bits
 * for any thread count): x' = x*decay, g' = g + wd*x', m = b1*m + (1-b1)*g', v = b2*v + (1-b2)*g'^2,
 * x = x' - step_size * m / (sqrt(v) * inv_sqrt_bc2 + eps). */
typedef struct vae_k_adam {
    float b1, b2, wd, eps, step_size, inv_sqrt_bc2, decay;
} vae_k_adam;
void vae_k_adam_f32(float *x, float *m, float *v, const float *g, int64_t n, const vae_k_adam *a);

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
vae_status vae_simd_set_path(vae_simd_path p);
/* The variant calls use now; never VAE_SIMD_AUTO. */
vae_simd_path vae_simd_get_path(void);
/* "auto", "portable", "avx2", "avx512"; "unknown" for other values. Never NULL. */
const char *vae_simd_path_name(vae_simd_path p);

/* Batched matmul: C(..., M, N) = A(..., M, K) @ B(..., K, N) + beta * C. A and B are given with C's batch ndim:
 * their batch strides may be 0 (broadcast); C's batch strides may be 0 too when beta = 1 (accumulating the sum over
 * a broadcast batch into one matrix, in batch order). Any row/column strides (transposes are free). */
void vae_k_matmul(const vae_tensor *A, const vae_tensor *B, vae_tensor *C, double beta);

#endif
