/* kernels_bench.h - GEMM throughput against this machine's measured FMA peak, and the pool's
 * wake-up cost. */
#ifndef VAE_KERNELS_BENCH_H
#define VAE_KERNELS_BENCH_H

#include <stdint.h>
#include <stdio.h>

#include "cores_bench.h"

enum { VAE_BENCH_NSHAPES = 5, VAE_BENCH_NCOUNTS = 2 };

/* Thread counts the benchmarks compare: 1 and vae_threads_get() (just 1 when that is 1). */
typedef struct vae_bench_counts {
    int n;                          /* 1 or 2 */
    int t[VAE_BENCH_NCOUNTS];       /* thread counts, t[0] == 1 */
    double peak[VAE_BENCH_NCOUNTS]; /* FMA peak with t[c] threads, GFLOP/s per CPU second of each
                                       thread, summed (kernels_bench.c says why) */
    double peak_wall[VAE_BENCH_NCOUNTS]; /* the same per wall second: lower on a busy machine */
    double window_s[VAE_BENCH_NCOUNTS];  /* length of each peak measurement window */
} vae_bench_counts;

typedef struct vae_bench_kernels_res {
    const char *gemm_path;
    int smoke;
    vae_bench_counts c;
    /* Round trip of vae_parallel_for over all threads with empty tasks that wait for each other (wake-up + barrier), median, microseconds:
     * hot = back to back (workers spinning), cold = after 5 ms idle (workers asleep). 0 with one
     * thread. */
    double wake_hot_us, wake_cold_us;
    vae_bench_cores cores; /* handing data between two cores (zero with one thread) */
    struct {
        int64_t M, K, N;
        int a_trans; /* A given as a K x M row-major buffer (the weight gradient x^T g) */
        double gflops[VAE_BENCH_NCOUNTS]; /* median, per thread count of c */
    } gemm[VAE_BENCH_NSHAPES];
} vae_bench_kernels_res;

/* Measure the FP32 FMA peak (register-only loop, widest vector ISA) for each thread count in
 * `c` (c->n, c->t set by the caller), each a best of several windows of >= 100 ms (a few ms with
 * smoke != 0). Raises c->peak (and sets c->window_s) where this call measures more than it holds
 * (zero it first): on a shared machine the peak is the best window seen, so a caller may call again
 * later in the run. Leaves the thread setting as it was. */
void vae_bench_peaks(vae_bench_counts *c, int smoke);

/* Peaks (unless c.peak is already filled by the caller: r->c.peak[0] > 0), wake-up cost and
 * sgemm GFLOP/s for the reference shapes, 1 and all threads interleaved, medians. Returns 0, or 1
 * if memory could not be allocated. */
int vae_bench_kernels_run(vae_bench_kernels_res *r, int smoke);

/* r as one JSON object (no newline). */
void vae_bench_kernels_json(FILE *out, const vae_bench_kernels_res *r);

/* Run and print the JSON object on one line (the `vae bench` command). 0, or 1 on OOM. */
int vae_bench_kernels(FILE *out, int smoke);

#endif
