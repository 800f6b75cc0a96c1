/* bench.h - the kernel benchmark behind `vae bench`.
 *
 * Provided by examples/bench/ (branch `gemm`): measures the FP32 FMA peak and vae_sgemm GFLOP/s for
 * the reference shapes and prints one JSON object on one line to `out`; smoke != 0 runs a few ms
 * per measurement. Returns 0, or 1 when it could not run (nothing printed then). Until
 * examples/bench/ is in the tree, bench_stub.c stands in.
 */
#ifndef VAE_CLI_BENCH_H
#define VAE_CLI_BENCH_H

#include <stdio.h>

int vae_bench_kernels(FILE *out, int smoke);
/* Training samples/s on the reference workloads W1 and W2 (DESIGN section 9) on MNIST in mnist_dir (NULL:
 * synthetic data of the same shape), one JSON line; same return convention. */
int vae_bench_workloads(FILE *out, const char *mnist_dir, int smoke);

#endif
