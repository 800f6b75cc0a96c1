/* workloads_bench.h - training throughput (samples/s) on the reference workloads of DESIGN §9:
 *   W1: 784-400-(20) ReLU VAE, batch 100, one sample, Bernoulli likelihood, Adam
 *   W2: 784-200-200-(50) tanh IWAE, batch 20, K = 50, Bernoulli likelihood, Adam
 *   W3: 784-200-200-(50) tanh IWAE, batch 20, K = 5 (Burda et al.'s architecture), Adam
 *   W4: the conv VAE (models/vae_net_conv.c): conv 16, 32 (4x4, stride 2) -> (20) ReLU, batch 100, Adam
 *   W5: the same conv net with a 256-unit fc layer -> (10) (--net conv --conv-hidden 256 --latent 10: the model of
 *       the README's Model families that beats the MLPs), batch 100, Adam
 * on dynamically binarized MNIST (or synthetic data of the same shape when no data is given). A step is
 * everything a training loop does: gather + binarize the batch, reset, objective, backward, Adam.
 */
#ifndef VAE_WORKLOADS_BENCH_H
#define VAE_WORKLOADS_BENCH_H

#include <stdio.h>

#include "kernels_bench.h"

enum { VAE_BENCH_NWORKLOADS = 5 };

/* One thread count's figures: medians over interleaved timed segments of whole steps. */
typedef struct vae_bench_wl_phase {
    double samples_per_s;
    double samples_per_s_q1, samples_per_s_q3; /* quartiles over the rounds: this VM's run-to-run spread */
    double ms_step, ms_data, ms_forward, ms_backward,
        ms_optim;      /* per step; data = indices + binarization */
    double gemm_share; /* GEMM wall time / step time */
    double fma_limit;  /* samples/s if every GEMM flop ran at the FMA peak of this thread count */
} vae_bench_wl_phase;

typedef struct vae_bench_wl_res {
    const char *name, *desc;
    long long batch, samples;
    double gemm_flops_per_step; /* counted in vae_sgemm calls */
    vae_bench_wl_phase t[VAE_BENCH_NCOUNTS];
    double malloc_per_step; /* steady state, over the timed steps; -1 when not counted */
    long peak_rss_kb;       /* the process's peak RSS after this workload (getrusage) */
} vae_bench_wl_res;

/* Run the workloads whose bit is set in `mask` (bit i = W(i+1)) for each thread count of c (c->peak
 * filled: it gives the FMA limits), writing res[0..*nres). mnist_dir: a folder with
 * train-images-idx3-ubyte[.gz], or NULL for synthetic data; *synthetic says which was used. smoke != 0 runs a few
 * steps. Returns 0, or 1 on failure (a message on stderr). */
int vae_bench_workloads_run(vae_bench_wl_res *res, int *nres, unsigned mask,
                            const vae_bench_counts *c, const char *mnist_dir, int smoke,
                            int *synthetic);

/* Print each workload's per-op profile (autograd/profile.h) for every thread count, side by side, to out while
 * the workloads run (NULL: off, the default). The profile costs two clock reads per op. */
void vae_bench_workloads_profile(FILE *out);

/* Samples/s if every GEMM flop of r ran at the FMA peak of thread count c->t[k]. */
double vae_bench_fma_limit(const vae_bench_wl_res *r, const vae_bench_counts *c, int k);

/* res[0..n) as a JSON array (no newline). */
void vae_bench_workloads_json(FILE *out, const vae_bench_wl_res *res, int n,
                              const vae_bench_counts *c);

/* Peaks, W1-W4 with 1 and vae_threads_get() threads, one JSON object on one line to out (the `vae bench
 * --workloads` command). Returns 0, or 1 on failure (a message on stderr, nothing on out). */
int vae_bench_workloads(FILE *out, const char *mnist_dir, int smoke);

/* Steady-state malloc counting: a program that interposes malloc/calloc/realloc defines this to return the count
 * so far (vae_bench does); without it the figure is reported as not measured. */
long vae_bench_malloc_count(void) __attribute__((weak));

#endif
