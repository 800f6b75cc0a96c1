/* kernels_bench.h - GEMM throughput against this machine's measured FMA peak. */
#ifndef VAE_KERNELS_BENCH_H
#define VAE_KERNELS_BENCH_H

#include <stdio.h>

/* Measure the FP32 FMA peak (register-only loop, widest vector ISA) for 1 thread and
 * vae_threads_get() threads, then vae_sgemm GFLOP/s (median over repeats) and % of the peak with
 * the same thread count, for the reference shapes. Prints one JSON object on one line to `out`.
 * smoke != 0 runs a few ms per measurement. Returns 0, or 1 if memory could not be allocated
 * (nothing printed then). */
int vae_bench_kernels(FILE *out, int smoke);

#endif
