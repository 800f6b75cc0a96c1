/* cpu.h - run-time detection of the x86 vector ISAs the GEMM kernels use.
 *
 * A feature counts as present only when the CPU reports it (CPUID) AND the OS saves its register
 * state on context switches (XGETBV), so a kernel chosen from these answers never faults. Results
 * are computed once and cached; every function is thread-safe and never fails. On non-x86 builds
 * every answer is 0.
 */
#ifndef VAE_CPU_H
#define VAE_CPU_H

#include "tensor/error.h"

/* 1 if AVX2 and FMA3 are usable (CPU + OS ymm state), else 0. */
VAE_API int vae_cpu_has_avx2_fma(void);

/* 1 if AVX-512 F, VL, BW and DQ are usable (CPU + OS opmask/zmm state), else 0. The AVX-512 kernels
 * are compiled with all four, so this asks for all four. */
VAE_API int vae_cpu_has_avx512f(void);

#endif
